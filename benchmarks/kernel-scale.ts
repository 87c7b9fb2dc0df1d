/**
 * Kernel SHAP (default variant 'decomposed') vs the number of players: seconds per explained
 * row for a function model of n = 100, 300, 1000 inputs (every input a player), 4 background
 * rows each differing from x in ~75% of the players (as dinucleotide-shuffled sequences do),
 * default budget 2n + 2048, 1 thread; and the small-budget case n = 200 at budgets 400 and
 * 800 (budget 400 used to hit a singular jackknife replicate and an SVD). The model is
 * cheap, so the times are the estimator's regression work. Permutation SHAP at the same
 * budget is timed alongside as a yardstick.
 *
 * Side by side in one run: the regression's factorisation step (the hot spot) for one design
 * of k = 75, 225, 750 players (a background row differing in 75% of n = 100, 300, 1000) and
 * n + 1023 pairs, whybox's `PairedRegression` (Cholesky) vs the previous code (LU of the KKT
 * matrices, benchmarks/baselines/paired-regression-lu.ts), interleaved repeats, medians, and
 * the largest difference of their fitted values on random coalition values.
 *
 * Run: npm run bench -- kernel-scale [--quick]   (--quick: 2 background rows, no n = 1000)
 */

import { explain, fromFunction, Rng } from '../src/index.js';
import { PairedRegression } from '../src/numerics/regression.js';
import { PairedSampler } from '../src/sampling/coalitions.js';
import { factorizeLu } from './baselines/paired-regression-lu.js';
import { fmt, median, printTable, saveResult } from './lib/common.js';

const quick = process.argv.includes('--quick');
const nBackground = quick ? 2 : 4;

function problem(n: number) {
  const rng = Rng.fromSeed(n);
  const w = Float64Array.from({ length: n }, () => rng.normal());
  // a smooth additive part and sparse pairwise interactions
  const model = fromFunction(
    (x: ArrayLike<number>) => {
      let a = 0;
      for (let i = 0; i < n; i++) a += w[i] * x[i];
      let b = 0;
      for (let i = 0; i + 1 < n; i += 7) b += x[i] * x[i + 1];
      return [Math.tanh(a / Math.sqrt(n)) + 0.1 * b];
    },
    { nInputs: n },
  );
  const x = Float64Array.from({ length: n }, () => rng.int(4));
  const bg = new Float64Array(nBackground * n);
  for (let b = 0; b < nBackground; b++)
    for (let j = 0; j < n; j++) bg[b * n + j] = rng.float() < 0.75 ? (x[j] + 1 + rng.int(3)) % 4 : x[j];
  return { model, rows: { data: x, nRows: 1 }, background: { data: bg, nRows: nBackground } };
}

const cases: { n: number; budget?: number }[] = [
  { n: 100 },
  { n: 300 },
  ...(quick ? [] : [{ n: 1000 }]),
  { n: 200, budget: 400 },
  { n: 200, budget: 800 },
];
const table: (string | number)[][] = [];
const out: Record<string, unknown>[] = [];
for (const c of cases) {
  const p = problem(c.n);
  const time = async (method: 'kernel' | 'permutation') => {
    const t0 = performance.now();
    const e = await explain(p.model, p.rows, {
      background: p.background,
      method,
      budget: c.budget,
      seed: 1,
      threads: 1,
    });
    return { sec: (performance.now() - t0) / 1000, e };
  };
  const k = await time('kernel');
  const perm = await time('permutation');
  const budget = c.budget ?? 2 * c.n + 2048;
  const rec = {
    players: c.n,
    budget,
    backgroundRows: nBackground,
    kernelSeconds: k.sec,
    permutationSeconds: perm.sec,
    kernelMaxStderr: Math.max(...(k.e.stderr ?? [])),
  };
  out.push(rec);
  table.push([c.n, budget, fmt(k.sec, 3), fmt(perm.sec, 3), fmt(k.sec / perm.sec, 3), fmt(rec.kernelMaxStderr, 3)]);
}
console.log(`\nKernel SHAP (decomposed) vs players, ${nBackground} background rows, 1 thread`);
printTable(['players', 'budget', 'kernel s/row', 'permutation s/row', 'kernel/perm', 'kernel max SE'], table);

// the factorisation step side by side
const solveRows: (string | number)[][] = [];
const solveOut: Record<string, unknown>[] = [];
for (const n of quick ? [100, 300] : [100, 300, 1000]) {
  const k = Math.round(0.75 * n);
  const pairs = n + 1023;
  const design = new PairedSampler(k, () => 1, Rng.fromSeed(k)).design(2 * pairs + 2, { bytes: false });
  const times = { cholesky: [] as number[], lu: [] as number[] };
  let reg: PairedRegression | undefined;
  let lu: ReturnType<typeof factorizeLu> | undefined;
  for (let rep = 0; rep < (n >= 1000 ? 1 : 3); rep++) {
    let t0 = performance.now();
    reg = new PairedRegression(design);
    times.cholesky.push((performance.now() - t0) / 1000);
    t0 = performance.now();
    lu = factorizeLu(design);
    times.lu.push((performance.now() - t0) / 1000);
  }
  // same fitted values (full fit) on random coalition values
  const rng = Rng.fromSeed(7);
  const y = Float64Array.from({ length: design.count }, () => rng.normal());
  const fit = (reg as PairedRegression).fit(y, 1, [1]);
  // the old fit: B from the same pairs, solved by the LU factorisation of the full fit
  const refB = new Float64Array(k);
  const viaOld = (lu as ReturnType<typeof factorizeLu>)[0];
  // B = Σ_pairs w (z y_S + z̄ y_S̄): rebuild it from the design directly
  const W = Math.ceil(k / 32);
  for (let s2 = 0; s2 < design.count; s2++) {
    const wt = ((k - 1) / (design.sizes[s2] * (k - design.sizes[s2]))) * design.unit[s2];
    for (let j = 0; j < k; j++) if ((design.bits[s2 * W + (j >> 5)] >>> (j & 31)) & 1) refB[j] += wt * y[s2];
  }
  const old = viaOld(refB, 1, [1]);
  let diff = 0;
  let scale = 0;
  for (let j = 0; j < k; j++) {
    diff = Math.max(diff, Math.abs(old[j] - fit.values[j]));
    scale = Math.max(scale, Math.abs(old[j]));
  }
  const c = median(times.cholesky);
  const l = median(times.lu);
  solveOut.push({
    players: k,
    pairs,
    groups: design.groups,
    choleskySeconds: c,
    luSeconds: l,
    maxDiff: diff,
    maxValue: scale,
  });
  solveRows.push([k, pairs, fmt(l, 3), fmt(c, 3), fmt(l / c, 3), fmt(diff / scale, 3)]);
}
console.log('\nFactorisations of one design (full fit + 8 jackknife replicates), before vs now, same run');
printTable(['players k', 'pairs', 'LU (before) s', 'Cholesky (now) s', 'speed-up', 'max |Δφ| / max |φ|'], solveRows);
saveResult(quick ? 'kernel-scale-quick' : 'kernel-scale', {
  backgroundRows: nBackground,
  cases: out,
  factorisation: solveOut,
});
