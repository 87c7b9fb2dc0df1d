/**
 * Permutation SHAP accuracy at equal model rows, side by side with a faithful port of shap's
 * PermutationExplainer (benchmarks/baselines/shap-permutation.ts, delta masking counted as
 * shap evaluates it):
 *
 * - splice CNN (datasets/splice/model.onnx, 60 positions = players, 20 background sequences from
 *   ../shared/datasets/splice.csv, P(EI) explained, 6 explained sequences), reference = the mean
 *   of whybox kernel (decomposed) at budget 60,000 and whybox permutation (shared walks) at
 *   150,000 — their disagreement is printed as the reference noise;
 * - German credit MLP (benchmarks/fixtures/german-mlp.onnx, 20 attributes = players, 20
 *   background rows, P(bad)), reference = exact Shapley values (every subset of every D_b).
 *
 * shap's port runs at max_evals = 2000 (splice) / 1000 (credit); each whybox estimator gets the
 * budget whose model rows do not exceed the port's. MAE over players, medians over seeds and rows.
 * Run: npm run bench -- permutation [--quick]
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { playersFromIndices } from '../src/data/players.js';
import { loadSequences, oneHot } from '../src/data/sequences.js';
import { exactShapley } from '../src/estimators/exact.js';
import { kernelShap } from '../src/estimators/kernel.js';
import { permutationShap } from '../src/estimators/permutation.js';
import { interventionalGame } from '../src/games/interventional-game.js';
import type { Model } from '../src/index.js';
import { loadOnnx, Rng, selectOutputs } from '../src/index.js';
import { shapPermutationBaseline } from './baselines/shap-permutation.js';
import { context, fmt, median, mulberry32, printTable, ROOT, saveResult } from './lib/common.js';
import { GERMAN_ATTRIBUTES, loadGerman } from './lib/german.js';

const quick = process.argv.includes('--quick');
const SEEDS = quick ? 2 : 4;
const shared = ['../../shared/datasets/', '../../../shared/datasets/']
  .map((p) => fileURLToPath(new URL(p, import.meta.url)))
  .find((p) => existsSync(`${p}splice.csv`));
const result: Record<string, unknown> = {};

interface Case {
  name: string;
  model: Model;
  background: Float64Array;
  nb: number;
  rows: Float64Array[];
  groups: number[][];
  maxEvals: number;
  reference: (x: Float64Array) => Promise<{ values: Float64Array; noise?: number }>;
}

const mae = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
};

async function runCase(c: Case): Promise<void> {
  const d = c.rows[0].length;
  const players = playersFromIndices(
    d,
    c.groups,
    c.groups.map((_, j) => `p${j}`),
  );
  const ctx = await context(c.model, c.background, d, players);
  const errs: Record<string, number[]> = { shap: [], shared: [], decomposed: [], kernel: [] };
  const rowsUsed: Record<string, number[]> = { shap: [], shared: [], decomposed: [], kernel: [] };
  const noise: number[] = [];
  const f = async (rows: Float64Array, n: number) => c.model.predict(rows, n);
  for (const [r, x] of c.rows.entries()) {
    const ref = await c.reference(x);
    if (ref.noise !== undefined) noise.push(ref.noise);
    for (let seed = 1; seed <= SEEDS; seed++) {
      const shap = await shapPermutationBaseline(
        f,
        x,
        c.background,
        c.nb,
        c.groups,
        c.maxEvals,
        mulberry32(seed * 977 + r),
      );
      errs.shap.push(mae(shap.phi, ref.values));
      rowsUsed.shap.push(shap.modelRows);
      const R = shap.modelRows;
      const fair = Math.floor((R - 1) / c.nb) + 2; // (budget − 2)·nb + 1 ≤ R
      for (const name of ['decomposed', 'kernel'] as const) {
        const game = await interventionalGame(ctx, x);
        const est =
          name === 'kernel'
            ? await kernelShap(game, { budget: fair }, { rng: Rng.fromSeed(seed) })
            : await permutationShap(game, { budget: fair }, { rng: Rng.fromSeed(seed) });
        errs[name].push(mae(est.values, ref.values));
        rowsUsed[name].push(game.cost.modelRows);
      }
      // shared walks: the largest budget (steps of 2 %) within the port's rows
      let lo = 2 * c.groups.length + 2;
      let best: { e: number; rows: number } | undefined;
      for (let b = c.maxEvals; b >= lo; b = Math.floor(b * 0.9)) {
        const game = await interventionalGame(ctx, x);
        const est = await permutationShap(game, { budget: b, variant: 'shared' }, { rng: Rng.fromSeed(seed) });
        if (game.cost.modelRows <= R) {
          best = { e: mae(est.values, ref.values), rows: game.cost.modelRows };
          break;
        }
        lo = Math.min(lo, b);
      }
      if (best) {
        errs.shared.push(best.e);
        rowsUsed.shared.push(best.rows);
      }
    }
  }
  const base = median(errs.shap);
  const rows = Object.keys(errs).map((k) => [
    k === 'shap'
      ? `shap PermutationExplainer (port, max_evals ${c.maxEvals})`
      : k === 'kernel'
        ? 'whybox kernel (decomposed, default)'
        : `whybox permutation (${k})`,
    fmt(median(errs[k]), 4),
    fmt(median(errs[k]) / base, 3),
    Math.round(median(rowsUsed[k])),
  ]);
  console.log(
    `\n## ${c.name}: ${c.rows.length} rows × ${SEEDS} seeds${noise.length ? `, reference noise (MAE between the two references) ${fmt(median(noise), 4)}` : ''}`,
  );
  printTable(['estimator', 'median MAE', 'ratio to shap', 'model rows'], rows);
  result[c.name] = Object.fromEntries(
    Object.keys(errs).map((k) => [
      k,
      { mae: median(errs[k]), ratio: median(errs[k]) / base, modelRows: median(rowsUsed[k]) },
    ]),
  );
}

if (!shared)
  console.log('skipping: ../shared/datasets/splice.csv not found (shared data sets are not part of a checkout)');
else {
  // splice CNN
  const onnx = await loadOnnx(`${ROOT}datasets/splice/model.onnx`);
  const model = selectOutputs(onnx, [0]);
  const set = await loadSequences(`${shared}splice.csv`);
  const clean = set.sequences.map((s, i) => ({ s, label: set.labels?.[i] })).filter((r) => /^[ACGT]{60}$/.test(r.s));
  const bgSeqs = clean
    .filter((_, i) => i % 97 === 5)
    .slice(0, 20)
    .map((r) => r.s);
  const explained = ['EI', 'IE', 'N'].flatMap((l) =>
    clean
      .filter((r) => r.label === l)
      .slice(3, quick ? 4 : 5)
      .map((r) => r.s),
  );
  const bg = oneHot(bgSeqs);
  const xs = oneHot(explained);
  const groups = Array.from({ length: 60 }, (_, p) => [0, 1, 2, 3].map((c) => p * 4 + c));
  const players = playersFromIndices(
    240,
    groups,
    groups.map((_, j) => `p${j}`),
  );
  const ctx = await context(model, bg.data, 240, players);
  await runCase({
    name: 'splice CNN (60 positions, 20 background sequences, P(EI))',
    model,
    background: bg.data,
    nb: 20,
    rows: Array.from({ length: xs.nRows }, (_, r) => xs.data.slice(r * 240, (r + 1) * 240)),
    groups,
    maxEvals: 2000,
    reference: async (x) => {
      const a = await kernelShap(
        await interventionalGame(ctx, x),
        { budget: quick ? 8000 : 60000 },
        { rng: Rng.fromSeed(99) },
      );
      const b = await permutationShap(
        await interventionalGame(ctx, x),
        { budget: quick ? 20000 : 150000, variant: 'shared' },
        { rng: Rng.fromSeed(98) },
      );
      return { values: a.values.map((v, i) => (v + b.values[i]) / 2), noise: mae(a.values, b.values) };
    },
  });
  await onnx.close();
}

const germanDir = ['../../shared/datasets/', '../../../shared/datasets/']
  .map((p) => fileURLToPath(new URL(p, import.meta.url)))
  .find((p) => existsSync(`${p}german.data`));
if (!germanDir) console.log('skipping the credit case: ../shared/datasets/german.data not found');
else {
  const g = loadGerman(germanDir);
  const onnx = await loadOnnx(`${ROOT}benchmarks/fixtures/german-mlp.onnx`, { select: [1] });
  const d = g.columns.length;
  const groups: number[][] = [];
  for (const a of GERMAN_ATTRIBUTES) {
    const cols = g.columns.map((c, i) => (c === a.name || c.startsWith(`${a.name}=`) ? i : -1)).filter((i) => i >= 0);
    groups.push(cols);
  }
  const pick = (k: number, step: number, off: number) =>
    Array.from({ length: k }, (_, i) =>
      g.data.slice(((off + i * step) % 1000) * d, (((off + i * step) % 1000) + 1) * d),
    );
  const bgRows = pick(20, 37, 11);
  const bg = Float64Array.from(bgRows.flatMap((r) => Array.from(r)));
  const players = playersFromIndices(
    d,
    groups,
    GERMAN_ATTRIBUTES.map((a) => a.name),
  );
  const ctx = await context(onnx, bg, d, players);
  await runCase({
    name: 'German credit MLP (20 attributes, 20 background rows, P(bad))',
    model: onnx,
    background: bg,
    nb: 20,
    rows: pick(quick ? 3 : 6, 53, 500),
    groups,
    maxEvals: 1000,
    reference: async (x) => ({ values: (await exactShapley(await interventionalGame(ctx, x))).values }),
  });
  await onnx.close();
}
saveResult('permutation', result);
