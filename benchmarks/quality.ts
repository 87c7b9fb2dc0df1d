/**
 * Cost of whybox/testing's checks, measured side by side with `explain` on the same rows:
 * evaluateFaithfulness (deletion/insertion curves, 10 random orders, 50 infidelity draws)
 * and sanityChecks (dummy column, randomisation, 10-seed stability) divided by the time of
 * one `explain` of the same rows and method (1 thread). Also the throughput of the axiom
 * properties (fast-check runs per second, no failure so no shrinking).
 * Run: npm run bench -- quality
 */
import fc from 'fast-check';
import { explain, loadOnnx } from '../src/index.js';
import {
  efficiencyProperty,
  evaluateFaithfulness,
  exactnessProperty,
  sanityChecks,
  shapleyMethod,
} from '../src/testing/index.js';
import { fmt, head, loadDemo, median, printTable, ROOT, saveResult } from './lib/common.js';

const REPEATS = 3;
const { train, applicants, groups } = await loadDemo();
const model = await loadOnnx(`${ROOT}test/fixtures/mlp.onnx`, { select: [1], intraOpThreads: 1 });
const background = { data: head(train, 50), nRows: 50 };

const out: Record<string, unknown>[] = [];
const table: (string | number)[][] = [];
for (const method of ['kernel', 'exact', 'permutation'] as const) {
  const te: number[] = [];
  const tf: number[] = [];
  const ts: number[] = [];
  for (let rep = 0; rep < REPEATS + 1; rep++) {
    let t0 = performance.now();
    await explain(model, applicants, { background, groups, method, seed: rep, threads: 1 });
    const e = performance.now() - t0;
    t0 = performance.now();
    await evaluateFaithfulness(model, applicants, { background, groups, method: shapleyMethod(method), seed: rep });
    const f = performance.now() - t0;
    t0 = performance.now();
    await sanityChecks(model, applicants, { background, groups, method: shapleyMethod(method), seed: rep });
    const s = performance.now() - t0;
    if (rep === 0) continue; // warm-up
    te.push(e);
    tf.push(f);
    ts.push(s);
  }
  const row = {
    method,
    explainMs: median(te),
    evaluateMs: median(tf),
    checkMs: median(ts),
    evaluateRatio: median(tf.map((f, k) => f / te[k])),
    checkRatio: median(ts.map((s, k) => s / te[k])),
  };
  out.push(row);
  table.push([
    method,
    fmt(row.explainMs, 0),
    fmt(row.evaluateMs, 0),
    fmt(row.evaluateRatio, 2),
    fmt(row.checkMs, 0),
    fmt(row.checkRatio, 2),
  ]);
}
console.log(`MLP fixture (61 inputs), 50 background rows, 20 attribute players, ${applicants.nRows} rows, 1 thread`);
printTable(['method', 'explain ms', 'evaluate ms', 'evaluate / explain', 'check ms', 'check / explain'], table);

const props: (string | number)[][] = [];
for (const [label, property, runs] of [
  ['efficiency, exact (games and models, ≤ 6 players)', efficiencyProperty(shapleyMethod('exact')), 200],
  ['efficiency, kernel (default budget)', efficiencyProperty(shapleyMethod('kernel')), 200],
  ['exactness, kernel (default budget)', exactnessProperty(shapleyMethod('kernel')), 200],
] as const) {
  const t0 = performance.now();
  await fc.assert(property, { numRuns: runs, seed: 1 });
  const ms = performance.now() - t0;
  props.push([label, runs, fmt(ms, 0), fmt((runs * 1000) / ms, 0)]);
  out.push({ property: label, runs, ms });
}
printTable(['property', 'runs', 'ms', 'runs / s'], props);
saveResult('quality', out);
await model.close();
