/**
 * Local sensitivity methods (`npm run bench -- sensitivity [--quick]`):
 * 1. cost per method — model rows and ms per explained row — on the credit demo MLP
 *    (datasets/credit-demo/model.onnx, 61 inputs, 20 attribute players, 50 k-means background
 *    rows) and on the sequence CNN fixture (test/fixtures/seq-cnn.onnx, 60 × 4 one-hot, 60
 *    position players), interleaved repetitions, medians, side by side with exact and Kernel SHAP;
 * 2. the completeness gap of integrated gradients vs steps and rule;
 * 3. agreement with exact Shapley values on the credit MLP: Spearman correlation of
 *    |attribution| over the 20 attribute players, per row.
 * One thread (the machine is shared). Writes benchmarks/results/sensitivity.json.
 */
import { readFileSync } from 'node:fs';
import { playersFromIndices } from '../src/data/players.js';
import type { Explanation } from '../src/explanation/explanation.js';
import { explanationToJSON } from '../src/explanation/explanation.js';
import {
  createBackground,
  explain,
  gradient,
  gradientInput,
  integratedGradients,
  loadOnnx,
  occlusion,
  Rng,
  smoothGrad,
  summarizeBackground,
} from '../src/index.js';
import { fmt, head, loadDemo, median, printTable, ROOT, saveResult } from './lib/common.js';

const quick = process.argv.includes('--quick');
const REPS = quick ? 2 : 5;
const N_CREDIT = quick ? 5 : 20;

type Run = () => Promise<Explanation>;

/** Runs every configuration REPS times, interleaved; returns median ms per row and the last explanation. */
async function timeAll(configs: [string, Run][], nRows: number) {
  const times = new Map<string, number[]>(configs.map(([k]) => [k, []]));
  const last = new Map<string, Explanation>();
  for (const [k, run] of configs) last.set(k, await run()); // warm-up
  for (let rep = 0; rep < REPS; rep++)
    for (const [k, run] of configs) {
      const t = performance.now();
      last.set(k, await run());
      times.get(k)?.push((performance.now() - t) / nRows);
    }
  return configs.map(([k]) => {
    const e = last.get(k) as Explanation;
    return { name: k, msPerRow: median(times.get(k) ?? []), modelRowsPerRow: e.modelRows / nRows, e };
  });
}

/** Ranks with ties averaged. */
function ranks(v: number[]): number[] {
  const idx = v.map((_, i) => i).sort((a, b) => v[a] - v[b]);
  const r = new Array<number>(v.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && v[idx[j + 1]] === v[idx[i]]) j++;
    for (let k = i; k <= j; k++) r[idx[k]] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}

function spearman(a: number[], b: number[]): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const ma = ra.reduce((s, x) => s + x, 0) / ra.length;
  const mb = rb.reduce((s, x) => s + x, 0) / rb.length;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i] - ma) * (rb[i] - mb);
    da += (ra[i] - ma) ** 2;
    db += (rb[i] - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}

// ---------------------------------------------------------------- credit MLP
const { train, groups } = await loadDemo();
const credit = await loadOnnx(`${ROOT}datasets/credit-demo/model.onnx`, { select: [1] });
const background = summarizeBackground(createBackground(train), Rng.fromSeed(3), { method: 'kmeans', rows: 50 });
const rows = { columns: train.columns, data: head(train, N_CREDIT), nRows: N_CREDIT };
// per-column scales (background sd) to aggregate per-column gradients into attribute players
const d = train.columns.length;
const sd = new Float64Array(d);
{
  const { data, nRows, weights } = background;
  for (let c = 0; c < d; c++) {
    let m = 0;
    for (let r = 0; r < nRows; r++) m += weights[r] * data[r * d + c];
    let v = 0;
    for (let r = 0; r < nRows; r++) v += weights[r] * (data[r * d + c] - m) ** 2;
    sd[c] = Math.sqrt(v);
  }
}

const creditConfigs: [string, Run][] = [
  ['exact Shapley', () => explain(credit, rows, { method: 'exact', background, groups, seed: 1 })],
  ['kernel SHAP (default)', () => explain(credit, rows, { background, groups, seed: 1 })],
  ['gradient', () => gradient(credit, rows, { background })],
  ['smoothgrad (50 samples)', () => smoothGrad(credit, rows, { background, seed: 1 })],
  ['gradient-input (mean)', () => gradientInput(credit, rows, { background, groups, baseline: 'mean' })],
  ['IG (mean, 50 steps)', () => integratedGradients(credit, rows, { background, groups })],
  [
    'IG (50 bg rows, 16 steps)',
    () => integratedGradients(credit, rows, { background, groups, baseline: 'background', steps: 16 }),
  ],
  ['occlusion (mean)', () => occlusion(credit, rows, { background, groups })],
  ['occlusion (50 bg rows)', () => occlusion(credit, rows, { background, groups, baseline: 'background' })],
];
console.log(
  `credit MLP: ${N_CREDIT} rows of train.csv, 61 inputs, 20 attribute players (groups.json), background ${background.summary}, ${REPS} interleaved reps`,
);
const creditResults = await timeAll(creditConfigs, N_CREDIT);
const exactE = creditResults[0].e;
const nP = exactE.players.length;
/** |attribution| per attribute player of row r (per-column methods: Σ over the player's columns of |∂f/∂x_i| · sd_i). */
function playerMagnitudes(e: Explanation, r: number): number[] {
  if (e.players.length === nP) return Array.from(e.values.subarray(r * nP, (r + 1) * nP), Math.abs);
  return exactE.playerColumns.map((cols) => cols.reduce((s, c) => s + Math.abs(e.values[r * d + c]) * sd[c], 0));
}
const creditTable = creditResults.map((res) => {
  const rho = Array.from({ length: N_CREDIT }, (_, r) =>
    spearman(playerMagnitudes(res.e, r), playerMagnitudes(exactE, r)),
  );
  const json = explanationToJSON(res.e);
  const gaps = json.rows.map((row) => row.efficiencyGap).filter((g): g is number => g !== undefined);
  return {
    method: res.name,
    modelRowsPerRow: res.modelRowsPerRow,
    msPerRow: res.msPerRow,
    spearmanMedian: median(rho),
    spearmanMin: Math.min(...rho),
    gapMedian: gaps.length > 0 ? median(gaps) : undefined,
  };
});
printTable(
  ['method', 'model rows / row', 'ms / row', 'Spearman |φ| vs exact (median)', '(min)', 'median |gap|'],
  creditTable.map((t) => [
    t.method,
    Math.round(t.modelRowsPerRow),
    fmt(t.msPerRow, 2),
    fmt(t.spearmanMedian),
    fmt(t.spearmanMin),
    t.gapMedian === undefined ? '—' : fmt(t.gapMedian),
  ]),
);

// ---------------------------------------------------------------- IG completeness vs steps
const STEPS = quick ? [8, 32, 128] : [4, 8, 16, 32, 64, 128, 256, 1024];
const RULES = ['gauss-legendre', 'riemann-middle', 'riemann-trapezoid', 'riemann-left'] as const;
const gapRows: { rule: string; steps: number; medianGap: number; maxGap: number; medianRelative: number }[] = [];
for (const rule of RULES)
  for (const steps of STEPS) {
    if (rule === 'riemann-trapezoid' && steps < 2) continue;
    const e = await integratedGradients(credit, rows, { background, groups, steps, rule });
    const json = explanationToJSON(e);
    const gaps = json.rows.map((row) => row.efficiencyGap ?? Number.NaN);
    const rel = json.rows.map(
      (row, r) => (row.efficiencyGap ?? Number.NaN) / Math.abs(e.predictions[r] - e.baseValues[0]),
    );
    gapRows.push({ rule, steps, medianGap: median(gaps), maxGap: Math.max(...gaps), medianRelative: median(rel) });
  }
console.log('\nIG completeness gap |Σφ − (f(x) − f(mean))| on the credit MLP (P(bad)), per rule and steps:');
printTable(
  ['rule', 'steps', 'median |gap|', 'max |gap|', 'median |gap| / |f(x) − f(b)|'],
  gapRows.map((g) => [g.rule, g.steps, fmt(g.medianGap), fmt(g.maxGap), fmt(g.medianRelative)]),
);
await credit.close();

// ---------------------------------------------------------------- sequence CNN
const cnn = await loadOnnx(`${ROOT}test/fixtures/seq-cnn.onnx`);
const seqRows: number[][] = JSON.parse(readFileSync(`${ROOT}test/fixtures/seq-cnn.expected.json`, 'utf8')).rows;
const N_SEQ = quick ? 4 : seqRows.length;
const L = 60;
const A = 4;
const seq = { data: Float64Array.from(seqRows.slice(0, N_SEQ).flat()), nRows: N_SEQ };
const positions = playersFromIndices(
  L * A,
  Array.from({ length: L }, (_, p) => [0, 1, 2, 3].map((c) => p * A + c)),
  Array.from({ length: L }, (_, p) => String(p + 1)),
);
const uniform = new Float64Array(L * A).fill(0.25);
const seqBackground = createBackground({ data: seq.data, nRows: N_SEQ, nColumns: L * A });
const seqConfigs: [string, Run][] = [
  ['kernel SHAP (default)', () => explain(cnn, seq, { background: seqBackground, players: positions, seed: 1 })],
  ['gradient (240 columns)', () => gradient(cnn, seq)],
  ['smoothgrad (50 samples)', () => smoothGrad(cnn, seq, { seed: 1 })],
  ['gradient-input (uniform)', () => gradientInput(cnn, seq, { players: positions, baseline: uniform })],
  ['IG (uniform, 50 steps)', () => integratedGradients(cnn, seq, { players: positions, baseline: uniform })],
  ['occlusion (uniform, window 1)', () => occlusion(cnn, seq, { players: positions, baseline: uniform })],
  [
    'occlusion (uniform, window 5)',
    () => occlusion(cnn, seq, { players: positions, baseline: uniform, window: 5, stride: 1 }),
  ],
];
console.log(
  `\nsequence CNN (seq-cnn.onnx): ${N_SEQ} sequences of 60 nt, 3 outputs, 60 position players; kernel SHAP with the ${N_SEQ} sequences as background`,
);
const seqResults = await timeAll(seqConfigs, N_SEQ);
const seqTable = seqResults.map((res) => {
  const json = explanationToJSON(res.e);
  const gaps = json.rows.map((row) => row.efficiencyGap).filter((g): g is number => g !== undefined);
  return {
    method: res.name,
    modelRowsPerRow: res.modelRowsPerRow,
    msPerRow: res.msPerRow,
    gapMedian: gaps.length > 0 ? median(gaps) : undefined,
  };
});
printTable(
  ['method', 'model rows / row', 'ms / row', 'median |gap| (max over outputs)'],
  seqTable.map((t) => [
    t.method,
    Math.round(t.modelRowsPerRow),
    fmt(t.msPerRow, 2),
    t.gapMedian === undefined ? '—' : fmt(t.gapMedian),
  ]),
);
const seqGaps: { steps: number; medianGap: number; maxGap: number }[] = [];
for (const steps of quick ? [8, 64] : [8, 16, 32, 64, 128, 256]) {
  const e = await integratedGradients(cnn, seq, { players: positions, baseline: uniform, steps });
  const gaps = explanationToJSON(e).rows.map((row) => row.efficiencyGap ?? Number.NaN);
  seqGaps.push({ steps, medianGap: median(gaps), maxGap: Math.max(...gaps) });
}
console.log('\nIG completeness gap on the CNN (uniform baseline, Gauss–Legendre), max over the 3 outputs:');
printTable(
  ['steps', 'median |gap|', 'max |gap|'],
  seqGaps.map((g) => [g.steps, fmt(g.medianGap), fmt(g.maxGap)]),
);
await cnn.close();

saveResult('sensitivity', {
  quick,
  reps: REPS,
  credit: creditTable,
  igGaps: gapRows,
  sequence: seqTable,
  sequenceIgGaps: seqGaps,
});
