/**
 * Exact Shapley values on the logistic fixture (20 inputs) with 50 continuous background
 * rows: N = 16 players (the first 8 inputs paired) and N = 20 (one per input). Every
 * background row differs from x in every player here, so exact needs all 2^N × 50 model
 * rows. 1 thread vs a pool of 2 workers, interleaved repeats, medians.
 * Run: npm run bench -- exact
 */
import { createWorkerPool, definePlayers, explain, loadOnnx, Rng } from '../src/index.js';
import { fmt, median, printTable, ROOT, saveResult } from './lib/common.js';

const model = await loadOnnx(`${ROOT}test/fixtures/logistic.onnx`, { select: [1], intraOpThreads: 1 });
const rng = Rng.fromSeed(3);
const d = 20;
const columns = Array.from({ length: d }, (_, i) => `x${i}`);
const background = { data: Float64Array.from({ length: 50 * d }, () => rng.normal()), nRows: 50 };
const rows = { columns, data: Float64Array.from({ length: d }, () => rng.normal() * 1.5), nRows: 1 };
const table: (string | number)[][] = [];
const out: Record<string, unknown>[] = [];
for (const n of [16, 20]) {
  const groups: Record<string, string[]> = {};
  for (let p = 0; p < d - n; p++) groups[`x${2 * p}+x${2 * p + 1}`] = [`x${2 * p}`, `x${2 * p + 1}`];
  const players = definePlayers(columns, groups);
  const pool = createWorkerPool({ threads: 2 });
  const times: Record<number, number[]> = { 1: [], 2: [] };
  let modelRows = 0;
  // interleaved repeats (this machine's speed drifts), medians
  for (let rep = 0; rep < (n === 16 ? 5 : 3); rep++)
    for (const threads of [1, 2]) {
      const t0 = performance.now();
      const e = await explain(model, rows, {
        background,
        players,
        method: 'exact',
        seed: 1,
        threads: 1,
        pool: threads > 1 ? pool : undefined,
      });
      times[threads].push((performance.now() - t0) / 1000);
      modelRows = e.modelRows;
    }
  await pool.close();
  for (const threads of [1, 2]) {
    const s = median(times[threads]);
    table.push([n, threads, modelRows.toLocaleString('en'), fmt(s, 2), Math.round(modelRows / s).toLocaleString('en')]);
    out.push({ n, threads, modelRows, seconds: s, runs: times[threads] });
  }
}
printTable(['N', 'threads', 'model rows', 'seconds', 'model rows/s'], table);
saveResult('exact', out);
await model.close();
