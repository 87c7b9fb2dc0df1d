import { availableParallelism } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedWorkers, schedule, startPool } from '../../src/engine/scheduler.js';
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

describe('schedule: the cost model', () => {
  /** Runs tasks of `ms` each on this thread (sleeps) and says whether workers were started. */
  async function started(ms: number[], weights: number[] | undefined, minParallelMs: number): Promise<boolean> {
    let didStart = false;
    await schedule({
      tasks: ms.length,
      placement: { threads: 2, canStart: true, minParallelMs },
      signal: new AbortController().signal,
      start: async () => {
        didStart = true;
        return {
          provider: {} as never,
          ready: Promise.resolve(),
          close: async () => undefined,
        };
      },
      here: (i) => new Promise((r) => setTimeout(r, ms[i])),
      there: async () => undefined,
      ...(weights ? { weight: (i: number) => weights[i] } : {}),
    });
    return didStart;
  }

  it('projects the rest of the job by task weight: a whole row left after two parts starts workers', async () => {
    // part, part (40 ms), then one task of 16 parts: ~640 ms projected, above 300
    expect(await started([40, 40, 640], [1, 1, 16], 300)).toBe(true);
    // unweighted, the same tasks project 40 ms: serial
    expect(await started([40, 40, 640], undefined, 300)).toBe(false);
    // a small rest stays serial with weights too
    expect(await started([40, 40, 40], [1, 1, 1], 300)).toBe(false);
  });
});
