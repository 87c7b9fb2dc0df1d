/**
 * Accuracy per model call: mean abs error and mean squared error vs exact Shapley values
 * at budgets 256..4096 for every estimator, 10 seeds, medians — on three kinds of game
 * (a linear model, the bundled MLP ONNX model, a model with strong interactions) at
 * N = 10, 16, 20 players, 50 background rows.
 *
 * Baseline: a faithful port of shap's KernelExplainer (benchmarks/baselines/shap-kernel.ts).
 * Run: npm run bench -- accuracy [--quick]
 */

import type { Players } from '../src/data/players.js';
import { interventionalGame } from '../src/games/interventional-game.js';
import type { Model } from '../src/index.js';
import { definePlayers, exactShapley, fromFunction, kernelShap, loadOnnx, permutationShap, Rng } from '../src/index.js';
import { shapKernelBaseline } from './baselines/shap-kernel.js';
import {
  context,
  DEMO,
  fmt,
  loadDemo,
  median,
  mergePlayers,
  mulberry32,
  printTable,
  saveResult,
} from './lib/common.js';

const quick = process.argv.includes('--quick');
const SEEDS = quick ? 3 : 10;
const BUDGETS = quick ? [256, 1024, 4096] : [256, 512, 1024, 2048, 4096];
const SIZES = [10, 16, 20];
const NB = 50;
const ESTIMATORS = [
  'shap-baseline',
  'kernel:shap',
  'kernel:kernel',
  'kernel:leverage',
  'kernel:msr',
  'kernel:decomposed',
  'permutation',
] as const;
type EstimatorName = (typeof ESTIMATORS)[number];

interface GameSpec {
  kind: string;
  n: number;
  model: Model;
  nColumns: number;
  background: Float64Array;
  x: Float64Array;
  players: Players;
}

function gaussian(rng: Rng, len: number, scale = 1): Float64Array {
  return Float64Array.from({ length: len }, () => rng.normal() * scale);
}

function linearGame(n: number): GameSpec {
  const rng = Rng.fromSeed(100 + n);
  const w = gaussian(rng, n);
  const model = fromFunction(
    (rows: Float64Array, k: number) => {
      const out = new Float64Array(k);
      for (let r = 0; r < k; r++) {
        let s = 0.5;
        for (let i = 0; i < n; i++) s += w[i] * rows[r * n + i];
        out[r] = s;
      }
      return out;
    },
    { nInputs: n, batched: true },
  );
  const names = Array.from({ length: n }, (_, i) => `x${i}`);
  return {
    kind: 'linear',
    n,
    model,
    nColumns: n,
    background: gaussian(rng, NB * n),
    x: gaussian(rng, n, 1.5),
    players: definePlayers(names),
  };
}

function interactionGame(n: number): GameSpec {
  const rng = Rng.fromSeed(200 + n);
  const terms = Array.from({ length: 2 * n }, () => {
    const size = 2 + rng.int(3);
    const set = new Set<number>();
    while (set.size < size) set.add(rng.int(n));
    return { idx: [...set], c: rng.normal() };
  });
  const main = gaussian(rng, n, 0.3);
  const model = fromFunction(
    (rows: Float64Array, k: number) => {
      const out = new Float64Array(k);
      const t = new Float64Array(n);
      for (let r = 0; r < k; r++) {
        for (let i = 0; i < n; i++) t[i] = Math.tanh(rows[r * n + i]);
        let s = 0;
        for (let i = 0; i < n; i++) s += main[i] * t[i];
        for (const term of terms) {
          let p = term.c;
          for (const i of term.idx) p *= t[i];
          s += p;
        }
        out[r] = s;
      }
      return out;
    },
    { nInputs: n, batched: true },
  );
  const names = Array.from({ length: n }, (_, i) => `x${i}`);
  return {
    kind: 'interactions',
    n,
    model,
    nColumns: n,
    background: gaussian(rng, NB * n),
    x: gaussian(rng, n, 1.5),
    players: definePlayers(names),
  };
}

async function mlpGame(n: number, model: Model): Promise<GameSpec> {
  const { train, applicants, groups } = await loadDemo();
  const base = definePlayers(train.columns, groups);
  const players = mergePlayers(base, train.columns, n);
  const d = train.columns.length;
  return {
    kind: 'mlp-onnx',
    n,
    model,
    nColumns: d,
    background: train.data.slice(0, NB * d),
    x: applicants.data.slice(0, d),
    players,
  };
}

async function runEstimator(
  name: EstimatorName,
  spec: GameSpec,
  ctx: Awaited<ReturnType<typeof context>>,
  budget: number,
  seed: number,
) {
  const game = await interventionalGame(ctx, spec.x);
  const t0 = performance.now();
  let values: Float64Array;
  let evaluations: number;
  if (name === 'shap-baseline') {
    const r = await shapKernelBaseline(
      spec.n,
      (m, c) => game.values(m, c),
      budget - 2,
      mulberry32(seed * 7919 + budget),
    );
    values = r.phi;
    evaluations = r.evaluations;
  } else if (name === 'permutation') {
    const r = await permutationShap(game, { budget }, { rng: Rng.fromSeed(seed) });
    values = r.values;
    evaluations = r.evaluations;
  } else {
    const variant = name.split(':')[1] as 'shap';
    const r = await kernelShap(game, { budget, variant }, { rng: Rng.fromSeed(seed) });
    values = r.values;
    evaluations = r.evaluations;
  }
  return { values, evaluations, modelRows: game.cost.modelRows, ms: performance.now() - t0 };
}

async function main() {
  const onnx = await loadOnnx(`${DEMO}/model.onnx`, { select: [1] });
  const specs: GameSpec[] = [];
  for (const n of SIZES) specs.push(linearGame(n), await mlpGame(n, onnx), interactionGame(n));
  const results: Record<string, unknown>[] = [];
  const summary: (string | number)[][] = [];
  for (const spec of specs) {
    const ctx = await context(spec.model, spec.background, spec.nColumns, spec.players);
    const refGame = await interventionalGame(ctx, spec.x);
    const t0 = performance.now();
    const exact = await exactShapley(refGame);
    const exactMs = performance.now() - t0;
    const truth = exact.values;
    console.log(
      `\n## ${spec.kind}, N=${spec.n} (exact: ${refGame.cost.modelRows} model rows, ${(exactMs / 1000).toFixed(1)} s; |φ| mean ${fmt(truth.reduce((a, v) => a + Math.abs(v), 0) / spec.n)})`,
    );
    const mse: Record<string, number[]> = {};
    const rows: (string | number)[][] = [];
    for (const name of ESTIMATORS) {
      const line: (string | number)[] = [name];
      mse[name] = [];
      for (const budget of BUDGETS) {
        const abs: number[] = [];
        const sq: number[] = [];
        const rowsUsed: number[] = [];
        const ms: number[] = [];
        for (let seed = 1; seed <= SEEDS; seed++) {
          const r = await runEstimator(name, spec, ctx, budget, seed);
          let a = 0;
          let s = 0;
          for (let i = 0; i < spec.n; i++) {
            a += Math.abs(r.values[i] - truth[i]);
            s += (r.values[i] - truth[i]) ** 2;
          }
          abs.push(a / spec.n);
          sq.push(s / spec.n);
          rowsUsed.push(r.modelRows);
          ms.push(r.ms);
        }
        const res = {
          game: spec.kind,
          n: spec.n,
          estimator: name,
          budget,
          medianMAE: median(abs),
          medianMSE: median(sq),
          medianModelRows: median(rowsUsed),
          medianMs: median(ms),
        };
        results.push(res);
        mse[name].push(res.medianMSE);
        line.push(`${fmt(res.medianMAE)} (${fmt(res.medianMSE)})`);
      }
      rows.push(line);
    }
    printTable(['median MAE (MSE)', ...BUDGETS.map(String)], rows);
    // both at rounding level (1e-20) means both exact there: a ratio of rounding noise says nothing
    const ratios = BUDGETS.map((_, i) =>
      mse['shap-baseline'][i] < 1e-20 && mse['kernel:decomposed'][i] < 1e-20
        ? 'both exact'
        : fmt(mse['kernel:decomposed'][i] / mse['shap-baseline'][i]),
    );
    summary.push([`${spec.kind} N=${spec.n}`, ...ratios]);
  }
  console.log('\n## default (kernel: decomposed) MSE / shap-baseline MSE, medians over seeds (target <= 0.25)');
  printTable(['game', ...BUDGETS.map(String)], summary);
  saveResult('accuracy', { seeds: SEEDS, budgets: BUDGETS, background: NB, results });
  await onnx.close();
}

await main();
