/**
 * Overhead: wall time of `explain` divided by the time the model alone needs for the same
 * number of model rows, measured side by side in one run (target <= 1.3 for the MLP fixture
 * with 50 background rows). "Model alone" = loadOnnx().predict on ready float32 rows in
 * batches of 4096 — everything else (masking, sampling, regression) is overhead.
 * Run: npm run bench -- overhead
 */
import type { ExplainOptions, Method } from '../src/index.js';
import { explain, loadOnnx } from '../src/index.js';
import { fmt, head, loadDemo, median, printTable, ROOT, saveResult } from './lib/common.js';

const REPEATS = 5;
const { train, applicants, groups } = await loadDemo();
const model = await loadOnnx(`${ROOT}test/fixtures/mlp.onnx`, { select: [1], intraOpThreads: 1 });
const d = train.columns.length;
const background = { data: head(train, 50), nRows: 50 };

async function modelAlone(nRows: number): Promise<number> {
  const batch = 4096;
  const rows = new Float32Array(batch * d);
  for (let r = 0; r < batch; r++)
    rows.set(train.data.subarray((r % train.nRows) * d, ((r % train.nRows) + 1) * d), r * d);
  const t0 = performance.now();
  for (let done = 0; done < nRows; done += batch) await model.predict(rows, Math.min(batch, nRows - done));
  return performance.now() - t0;
}

const out: Record<string, unknown>[] = [];
const table: (string | number)[][] = [];
const runs: [string, Method, Partial<ExplainOptions>][] = [
  ['kernel (decomposed, default)', 'kernel', {}],
  ['kernel (leverage)', 'kernel', { variant: 'leverage' }],
  ['permutation', 'permutation', {}],
  ['exact', 'exact', {}],
];
for (const [label, method, extra] of runs) {
  const ratios: number[] = [];
  const times: number[] = [];
  let modelRows = 0;
  for (let rep = 0; rep < REPEATS + 1; rep++) {
    const t0 = performance.now();
    const e = await explain(model, applicants, { background, groups, method, seed: rep, threads: 1, ...extra });
    const te = performance.now() - t0;
    const tm = await modelAlone(e.modelRows);
    if (rep === 0) continue; // warm-up
    ratios.push(te / tm);
    times.push(te);
    modelRows = e.modelRows;
  }
  const r = median(ratios);
  table.push([label, modelRows, fmt(median(times) / applicants.nRows, 1), fmt(r, 2)]);
  out.push({ label, method, modelRows, msPerRow: median(times) / applicants.nRows, ratio: r, ratios });
}
console.log(
  `MLP fixture (61 inputs), 50 background rows, 20 attribute players, ${applicants.nRows} rows per explain, 1 thread`,
);
printTable(['method', 'model rows', 'ms per explained row', 'explain / model alone'], table);
saveResult('overhead', out);
await model.close();
