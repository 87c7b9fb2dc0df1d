/**
 * Kernel SHAP (default variant 'decomposed') vs the number of players: seconds per explained
 * row for a function model of n = 100, 300, 1000 inputs (every input a player), 4 background
 * rows each differing from x in ~75% of the players (as dinucleotide-shuffled sequences do),
 * default budget 2n + 2048, 1 thread; and the small-budget case n = 200 at budgets 400 and
 * 800 (budget 400 used to hit a singular jackknife replicate and an SVD). The model is
 * cheap, so the times are the estimator's regression work. Permutation SHAP at the same
 * budget is timed alongside as a yardstick.
 *
 * Run: npm run bench -- kernel-scale [--quick]   (--quick: 2 background rows, no n = 1000)
 */
import { explain, fromFunction, Rng } from '../src/index.js';
import { fmt, printTable, saveResult } from './lib/common.js';

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
saveResult(quick ? 'kernel-scale-quick' : 'kernel-scale', { backgroundRows: nBackground, cases: out });
