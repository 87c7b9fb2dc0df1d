import { availableParallelism } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedWorkers, startPool } from '../../src/engine/scheduler.js';
import { loadOnnx } from '../../src/models/onnx-model.js';
import type { WorkerPool } from '../../src/parallel/pool.js';

afterAll(async () => {
  await closeSharedWorkers();
});

describe('a run’s own workers', () => {
  it('share the cores with this thread: onnxruntime intra-op threads = max(1, floor(cores / (workers + 1)))', async () => {
    const model = await loadOnnx(new URL('../fixtures/seq-cnn.onnx', import.meta.url).pathname);
    for (const workers of [1, 2]) {
      const own = await startPool(model, workers);
      const pool = own.provider as WorkerPool;
      expect(pool.threads).toBe(workers);
      // this thread computes too: workers + 1 threads, never more busy onnxruntime threads than cores
      expect(pool.intraOpThreads).toBe(Math.max(1, Math.floor(availableParallelism() / (workers + 1))));
      expect(pool.intraOpThreads * workers + 1).toBeLessThanOrEqual(Math.max(availableParallelism(), workers + 1));
    }
  });
});
