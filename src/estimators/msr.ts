import { enforceEfficiency } from '../numerics/linear-algebra.js';
import { boostBinary, MSR_TREES } from '../numerics/boosted-trees.js';
import type { RegressionFit } from '../numerics/regression.js';
import type { CoalitionDesign } from '../sampling/coalitions.js';

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
    const ensemble = boostBinary(X, m, n, target, MSR_TREES);
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
