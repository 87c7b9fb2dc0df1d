import type { CoalitionDesign } from '../sampling/coalitions.js';
import { enforceEfficiency } from './linear-algebra.js';
import type { RegressionFit } from './regression.js';

/** Boosting settings of the `'msr'` surrogate (XGBoost's defaults: 100 rounds, depth 6, η 0.3, λ 1). */
export const MSR_TREES = { rounds: 100, depth: 6, learningRate: 0.3, lambda: 1, minLeaf: 2 } as const;

/**
 * Regression-adjusted Monte Carlo with maximum sample reuse (Witter, Liu & Musco 2025;
 * shapiq's RegressionMSR): fit a surrogate g of the game on the sampled coalitions, take
 * its exact Shapley values, and add a Horvitz–Thompson estimate of the residual game's:
 *
 *   φ_i = φ_i(g) + Σ_S r(S) c_i(S) / π(S),  r = v − g,  c_i(S) = p_{|S|−1} (i ∈ S), −p_{|S|} (i ∉ S)
 *
 * The surrogate is a gradient-boosted ensemble of regression trees on the 0/1 coalition
 * features (as the paper's XGBoost); a tree leaf "features A on, B off" is the game
 * Π_A z Π_B (1−z), whose Shapley values are closed-form. (A linear or pairwise surrogate
 * would give back paired Kernel SHAP exactly: its residuals are orthogonal to the
 * correction's weights.) ∅ and N enter with π = 1, and Σ_i c_i(S) = 0 for 0 < |S| < n,
 * so efficiency is exact.
 *
 * No standard errors: the surrogate is fitted on the same sample it corrects, so the
 * residuals (and any jackknife of the correction with g fixed) understate the error —
 * measured 50–70× too small. Honest errors would need cross-fitting (one surrogate per fold).
 *
 * `y` holds v(S) − v(∅) per design coalition; `total` = v(N) − v(∅).
 */
export function msrFit(
  design: CoalitionDesign,
  y: Float64Array,
  nOut: number,
  total: ArrayLike<number>,
): RegressionFit {
  const { n, count, masks, sizes, unit } = design;
  const values = new Float64Array(n * nOut);

  // training data: the design plus ∅ (value 0) and N (value total)
  const m = count + 2;
  const X = new Uint8Array(m * n);
  X.set(masks.subarray(0, count * n));
  X.fill(1, (count + 1) * n, (count + 2) * n);
  const target = new Float64Array(m);
  for (let o = 0; o < nOut; o++) {
    for (let s = 0; s < count; s++) target[s] = y[s * nOut + o];
    target[count] = 0;
    target[count + 1] = total[o];
    const ensemble = boost(X, m, n, target);
    const fitted = ensemble.predictions;
    const phiG = ensemble.shapley;
    for (let i = 0; i < n; i++) values[i * nOut + o] = phiG[i];
    // ∅ and N: r(N)·p_{n−1} − r(∅)·p_0 = (r(N) − r(∅)) / n for every player
    const edge = (total[o] - fitted[count + 1] - (0 - fitted[count])) / n;
    for (let i = 0; i < n; i++) values[i * nOut + o] += edge;
    for (let s = 0; s < count; s++) {
      const r = target[s] - fitted[s];
      const inS = (unit[s] / sizes[s]) * r;
      const outS = (-unit[s] / (n - sizes[s])) * r;
      for (let i = 0; i < n; i++) values[i * nOut + o] += masks[s * n + i] !== 0 ? inS : outS;
    }
  }
  return { values: enforceEfficiency(values, n, nOut, total) };
}

/**
 * Gradient boosting (squared loss) of depth-limited trees on 0/1 features; returns the
 * in-sample predictions and the exact Shapley values of S ↦ F(1_S).
 */
function boost(X: Uint8Array, m: number, n: number, y: Float64Array) {
  const { rounds, depth, learningRate, lambda, minLeaf } = MSR_TREES;
  let mean = 0;
  for (let s = 0; s < m; s++) mean += y[s] / m;
  const F = new Float64Array(m).fill(mean);
  const resid = new Float64Array(m);
  const shapley = new Float64Array(n);
  const all = Int32Array.from({ length: m }, (_, s) => s);
  const on = new Int8Array(n); // path state: 1 = required on, -1 = required off, 0 = free
  const fact = [1];
  for (let k = 1; k <= depth + 1; k++) fact.push(fact[k - 1] * k);

  const leaf = (idx: Int32Array, len: number, nOn: number, nOff: number) => {
    let sum = 0;
    for (let t = 0; t < len; t++) sum += resid[idx[t]];
    const value = (learningRate * sum) / (len + lambda);
    for (let t = 0; t < len; t++) F[idx[t]] += value;
    // Shapley values of value · Π_A z Π_B (1 − z): +v (|A|−1)!|B|!/(|A|+|B|)! for i ∈ A, −v |A|!(|B|−1)!/(|A|+|B|)! for i ∈ B
    const a = nOn;
    const b = nOff;
    if (a + b === 0) return;
    const inA = a > 0 ? (value * fact[a - 1] * fact[b]) / fact[a + b] : 0;
    const inB = b > 0 ? (-value * fact[a] * fact[b - 1]) / fact[a + b] : 0;
    for (let i = 0; i < n; i++)
      if (on[i] === 1) shapley[i] += inA;
      else if (on[i] === -1) shapley[i] += inB;
  };

  const grow = (idx: Int32Array, len: number, level: number, nOn: number, nOff: number) => {
    if (level === depth || len < 2 * minLeaf) return leaf(idx, len, nOn, nOff);
    let sum = 0;
    for (let t = 0; t < len; t++) sum += resid[idx[t]];
    let bestGain = 1e-12;
    let best = -1;
    for (let j = 0; j < n; j++) {
      if (on[j] !== 0) continue;
      let s1 = 0;
      let c1 = 0;
      for (let t = 0; t < len; t++) {
        const s = idx[t];
        if (X[s * n + j] !== 0) {
          s1 += resid[s];
          c1++;
        }
      }
      const c0 = len - c1;
      if (c1 < minLeaf || c0 < minLeaf) continue;
      const s0 = sum - s1;
      const gain = (s1 * s1) / (c1 + lambda) + (s0 * s0) / (c0 + lambda) - (sum * sum) / (len + lambda);
      if (gain > bestGain) {
        bestGain = gain;
        best = j;
      }
    }
    if (best < 0) return leaf(idx, len, nOn, nOff);
    const left = new Int32Array(len);
    const right = new Int32Array(len);
    let nl = 0;
    let nr = 0;
    for (let t = 0; t < len; t++) {
      const s = idx[t];
      if (X[s * n + best] !== 0) right[nr++] = s;
      else left[nl++] = s;
    }
    on[best] = 1;
    grow(right, nr, level + 1, nOn + 1, nOff);
    on[best] = -1;
    grow(left, nl, level + 1, nOn, nOff + 1);
    on[best] = 0;
  };

  for (let r = 0; r < rounds; r++) {
    for (let s = 0; s < m; s++) resid[s] = y[s] - F[s];
    grow(all, m, 0, 0, 0);
  }
  return { predictions: F, shapley };
}
