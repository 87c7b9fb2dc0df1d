/**
 * Soak: 1,000 explanations through one shared worker pool (4 at a time), with heap and RSS
 * sampled every 100; the pool must end with no growth trend and close cleanly.
 * Run: npm run bench -- soak
 */
import { createWorkerPool, explain, loadOnnx } from '../src/index.js';
import { head, loadDemo, printTable, ROOT, saveResult } from './lib/common.js';

const { train, applicants, groups } = await loadDemo();
const model = await loadOnnx(`${ROOT}test/fixtures/mlp.onnx`, { select: [1] });
const pool = createWorkerPool({ threads: 2 });
const background = { data: head(train, 20), nRows: 20 };
const one = { columns: [...train.columns], data: applicants.data.slice(0, 61), nRows: 1 };
const samples: { done: number; heapMB: number; rssMB: number }[] = [];
const gc = (globalThis as { gc?: () => void }).gc;
const t0 = performance.now();
let done = 0;
const worker = async () => {
  while (done < 1000) {
    const i = done++;
    await explain(model, one, { background, groups, budget: 256, seed: i, pool });
    if ((i + 1) % 100 === 0) {
      gc?.();
      const m = process.memoryUsage();
      samples.push({ done: i + 1, heapMB: m.heapUsed / 2 ** 20, rssMB: m.rss / 2 ** 20 });
    }
  }
};
await Promise.all([worker(), worker(), worker(), worker()]);
const seconds = (performance.now() - t0) / 1000;
await pool.close();
await model.close();
samples.sort((a, b) => a.done - b.done);
printTable(
  ['explanations', 'heap MB', 'RSS MB'],
  samples.map((s) => [s.done, s.heapMB.toFixed(1), s.rssMB.toFixed(1)]),
);
const first = samples[1] ?? samples[0];
const last = samples[samples.length - 1];
console.log(
  `1000 explanations in ${seconds.toFixed(1)} s; heap ${first.heapMB.toFixed(1)} -> ${last.heapMB.toFixed(1)} MB, RSS ${first.rssMB.toFixed(1)} -> ${last.rssMB.toFixed(1)} MB (from 200 to 1000)${gc ? '' : ' (run with node --expose-gc for exact heap figures)'}`,
);
saveResult('soak', { seconds, samples });
