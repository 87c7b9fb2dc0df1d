/**
 * Why Kernel SHAP keeps its own normal equations + Cholesky solve instead of ml-regression's
 * MultivariateLinearRegression (figures quoted in the README's "Dependencies" section):
 * `npx tsx scripts/measure-ml-regression.ts`.
 *
 * A Kernel-SHAP-sized weighted least squares problem (2048 sampled coalitions of 60 players,
 * Shapley-kernel-like weights, 2 outputs). ml-regression has no sample weights, so the rows are
 * scaled by √w (the same solution); whybox accumulates Σ w z zᵀ over the set bits of each 0/1
 * mask and solves by Cholesky. Interleaved runs, medians.
 */
import MLR from 'ml-regression-multivariate-linear';
import { cholesky, choleskySolve, normalEquations, symmetrize } from '../src/numerics/linear-algebra.js';
import { Rng } from '../src/sampling/rng.js';

const n = 60;
const count = 2048;
const nOut = 2;
const rng = Rng.fromSeed(1);
const masks = new Uint8Array(count * n);
const weights = new Float64Array(count);
const y = new Float64Array(count * nOut);
for (let s = 0; s < count; s++) {
  const size = 1 + rng.int(n - 1);
  for (let j = 0; j < n; j++) masks[s * n + j] = rng.float() < size / n ? 1 : 0;
  weights[s] = 1 / (size * (n - size));
  for (let o = 0; o < nOut; o++) y[s * nOut + o] = rng.float();
}

function whybox(): Float64Array {
  const { A, B } = normalEquations(masks, count, n, weights, y, nOut);
  const L = cholesky(symmetrize(A, n), n);
  if (!L) throw new Error('not positive definite');
  return choleskySolve(L, n, B, nOut);
}
function mlRegression(): Float64Array {
  const x: number[][] = [];
  const t: number[][] = [];
  for (let s = 0; s < count; s++) {
    const r = Math.sqrt(weights[s]);
    x.push(Array.from(masks.subarray(s * n, (s + 1) * n), (v) => v * r));
    t.push(Array.from(y.subarray(s * nOut, (s + 1) * nOut), (v) => v * r));
  }
  const fit = new MLR(x, t, { intercept: false, statistics: false });
  return Float64Array.from((fit.weights as number[][]).flat());
}

const a = whybox();
const b = mlRegression();
let diff = 0;
for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(a[i])));
const times: [number[], number[]] = [[], []];
for (let round = 0; round < 15; round++)
  for (const [k, f] of [whybox, mlRegression].entries()) {
    const t0 = performance.now();
    f();
    times[k].push(performance.now() - t0);
  }
const median = (v: number[]) => v.sort((p, q) => p - q)[v.length >> 1];
console.log(
  `weighted least squares ${count} x ${n}, ${nOut} outputs: whybox ${median(times[0]).toFixed(2)} ms, ml-regression ${median(times[1]).toFixed(2)} ms (median of 15, interleaved); largest relative coefficient difference ${diff.toExponential(1)}`,
);
