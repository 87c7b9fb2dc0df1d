/**
 * TreeSHAP on ONNX tree ensembles (`npm run bench -- tree [--quick]`).
 *
 * A gradient-boosted ensemble (100 trees, depth 6, log-loss, scripts/lib/gbdt.ts) trained on
 * the bundled credit data (1000 rows, 61 one-hot columns, 20 attribute players) and written
 * as an ONNX TreeEnsembleRegressor (the margin, so that the black-box methods explain the
 * same function). Background: the first 100 training rows. Explained: the 5 applicants.
 *
 * 1. tree vs `exact` (the ONNX model as a black box): max |difference| and time per row,
 *    interleaved repeats, medians;
 * 2. tree vs `kernel` at budget 2048: error of kernel against tree, time per row;
 * 3. tree time per row vs trees (25..200), depth (3, 6, 8) and background rows (25..400).
 *
 * Writes benchmarks/results/tree.json.
 */
import { readFileSync } from 'node:fs';
import { boost, type SimpleTree } from '../scripts/lib/gbdt.js';
import { valueInfo } from '../scripts/lib/onnx-builder.js';
import { createRandom } from '../scripts/lib/random.js';
import { buildTreeModel, fromSimpleTree, treeNodeV3 } from '../scripts/lib/tree-onnx.js';
import { prepareTreeShap, treeShapRows } from '../src/estimators/tree-shap.js';
import { createBackground, definePlayers, explain, loadOnnx, parseGroupsJson } from '../src/index.js';
import { readTreeEnsemble, type TreeEnsemble } from '../src/models/tree-ensemble.js';
import { DEMO, fmt, loadDemo, median, printTable, saveResult } from './lib/common.js';

const quick = process.argv.includes('--quick');
const { train, applicants } = await loadDemo();
const groups = parseGroupsJson(readFileSync(`${DEMO}/groups.json`, 'utf8'));
const labels = readFileSync(`${DEMO}/labels.csv`, 'utf8').trim().split('\n').slice(1).map(Number);
const columns = train.columns;
const d = columns.length;
const players = definePlayers(columns, groups);
const X = Float64Array.from(train.data, (v) => Math.fround(v));

/** Trains `rounds` boosting rounds of depth `depth`, seeded. */
function train_(rounds: number, depth: number): { trees: SimpleTree[]; base: number } {
  const b = boost(X, train.nRows, d, labels, 'binary', { rounds, maxDepth: depth, learningRate: 0.1 }, createRandom(9));
  return { trees: b.trees.map((r) => r[0]), base: b.base[0] };
}
/** The margin model of the first `k` trees as ONNX bytes (TreeEnsembleRegressor, opset 3). */
function onnxBytes(m: { trees: SimpleTree[]; base: number }, k = m.trees.length): Uint8Array {
  const wtrees = m.trees.slice(0, k).map((t) => fromSimpleTree(t, (v) => [[0, v[0]]]));
  return buildTreeModel({
    name: 'bench-gbdt',
    inputs: [valueInfo('x', 'float', ['batch', d])],
    outputs: [valueInfo('margin', 'float', ['batch', 1])],
    nodes: [treeNodeV3('regressor', wtrees, 'x', ['margin'], { nTargets: 1, baseValues: [m.base] })],
    mlOpset: 3,
  });
}
const leaves = (e: TreeEnsemble) => e.leafWeight.length;

const t0 = performance.now();
const main = train_(quick ? 100 : 200, 6);
const trainSeconds = (performance.now() - t0) / 1000;
const bytes = onnxBytes(main, 100);
const ens = await readTreeEnsemble(bytes);
const bgRows = (n: number) => ({ data: X.slice(0, n * d), nRows: n, nColumns: d });
const bg100 = createBackground(bgRows(100));
const rows = { columns, data: applicants.data, nRows: applicants.nRows };

/** TreeSHAP seconds per row (prepare included, amortised over the rows), median of `reps`. */
function timeTree(e: TreeEnsemble, bg: ReturnType<typeof createBackground>, reps: number): number {
  const times: number[] = [];
  treeShapRows(prepareTreeShap(e, bg, players), rows.data, rows.nRows); // warm-up (JIT)
  for (let r = 0; r < reps; r++) {
    (globalThis as { gc?: () => void }).gc?.();
    const s = performance.now();
    treeShapRows(prepareTreeShap(e, bg, players), rows.data, rows.nRows);
    times.push((performance.now() - s) / 1000 / rows.nRows);
  }
  return median(times);
}

// 1 + 2: tree vs exact vs kernel, interleaved
const model = await loadOnnx(bytes);
const exactRows = quick ? 1 : 2;
const exactInput = { columns, data: rows.data.slice(0, exactRows * d), nRows: exactRows };
const times: Record<string, number[]> = { tree: [], exact: [], kernel: [] };
let exactDiff = 0;
let kernelMax = 0;
let kernelMae = 0;
let exactModelRows = 0;
const reps = quick ? 1 : 3;
const treeRef = treeShapRows(prepareTreeShap(ens, bg100, players), rows.data, rows.nRows);
const P = players.names.length;
for (let rep = 0; rep < reps; rep++) {
  let s = performance.now();
  treeShapRows(prepareTreeShap(ens, bg100, players), rows.data, rows.nRows);
  times.tree.push((performance.now() - s) / 1000 / rows.nRows);
  s = performance.now();
  const ex = await explain(model, exactInput, { background: bg100, groups, method: 'exact', seed: 1, threads: 1 });
  times.exact.push((performance.now() - s) / 1000 / exactRows);
  exactModelRows = ex.modelRows;
  exactDiff = 0;
  for (let i = 0; i < exactRows * P; i++) exactDiff = Math.max(exactDiff, Math.abs(ex.values[i] - treeRef.values[i]));
  s = performance.now();
  const ke = await explain(model, rows, {
    background: bg100,
    groups,
    method: 'kernel',
    budget: 2048,
    seed: 1 + rep,
    threads: 1,
  });
  times.kernel.push((performance.now() - s) / 1000 / rows.nRows);
  kernelMax = 0;
  kernelMae = 0;
  for (let i = 0; i < rows.nRows * P; i++) {
    const e = Math.abs(ke.values[i] - treeRef.values[i]);
    kernelMax = Math.max(kernelMax, e);
    kernelMae += e / (rows.nRows * P);
  }
}
await model.close();
const sTree = median(times.tree);
const sExact = median(times.exact);
const sKernel = median(times.kernel);
console.log(
  `ensemble: 100 trees, depth 6, ${leaves(ens)} leaves; ${P} players over ${d} columns; 100 background rows; trained in ${fmt(trainSeconds, 1)} s (${main.trees.length} rounds)`,
);
printTable(
  ['method', 's/row', 'tree faster by', 'max |φ − φ_tree|', 'MAE vs tree'],
  [
    ['tree', fmt(sTree, 4), '1', '0', '0'],
    ['exact (ONNX black box)', fmt(sExact, 3), `${Math.round(sExact / sTree)}x`, fmt(exactDiff), '-'],
    ['kernel, budget 2048', fmt(sKernel, 3), `${Math.round(sKernel / sTree)}x`, fmt(kernelMax), fmt(kernelMae)],
  ],
);

// 3: scaling of tree: every configuration timed once per round, rounds interleaved, medians
type Config = { what: string; value: number; e: TreeEnsemble; bg: ReturnType<typeof createBackground> };
const configs: Config[] = [];
for (const k of [25, 50, 100, 200])
  if (k <= main.trees.length)
    configs.push({ what: 'trees', value: k, e: await readTreeEnsemble(onnxBytes(main, k)), bg: bg100 });
for (const depth of quick ? [3, 8] : [3, 6, 8]) {
  const e = depth === 6 ? ens : await readTreeEnsemble(onnxBytes(train_(100, depth)));
  configs.push({ what: 'depth', value: depth, e, bg: bg100 });
}
for (const n of [25, 50, 100, 200, 400])
  configs.push({ what: 'background rows', value: n, e: ens, bg: createBackground(bgRows(n)) });
const configTimes = configs.map(() => [] as number[]);
for (let round = 0; round < (quick ? 1 : 9); round++)
  configs.forEach((c, i) => {
    configTimes[i].push(timeTree(c.e, c.bg, 1));
  });
const scaling = configs.map((c, i) => ({
  what: c.what,
  value: c.value,
  leaves: leaves(c.e),
  seconds: median(configTimes[i]),
  runs: configTimes[i],
}));
printTable(
  ['varied', 'value', 'leaves', 'ms/row', 'µs per leaf × bg row'],
  scaling.map((s) => {
    const nb = s.what === 'background rows' ? s.value : 100;
    return [s.what, s.value, s.leaves, fmt(s.seconds * 1000, 2), fmt((s.seconds * 1e6) / (s.leaves * nb), 4)];
  }),
);
saveResult('tree', {
  quick,
  trainSeconds,
  leaves: leaves(ens),
  players: P,
  secondsPerRow: { tree: sTree, exact: sExact, kernel2048: sKernel },
  runs: times,
  exactModelRows,
  exactMaxDiff: exactDiff,
  kernel2048: { maxAbsDiff: kernelMax, mae: kernelMae },
  scaling,
});
