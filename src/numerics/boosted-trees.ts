/**
 * Gradient-boosted regression trees on 0/1 features (squared loss, XGBoost's gain and leaf
 * weights), used as the surrogate of the `'msr'` Kernel SHAP variant. A learner of its own,
 * beside the CART of `cart.ts`, because its inputs are coalition bits: a split is a count over
 * the rows (no sort), and each leaf "features A on, B off" has closed-form Shapley values that
 * are accumulated while the tree grows.
 */

/** Settings of {@link boostBinary}. */
export interface BoostSettings {
  readonly rounds: number;
  readonly depth: number;
  readonly learningRate: number;
  readonly lambda: number;
  readonly minLeaf: number;
}

/** Boosting settings of the `'msr'` surrogate (XGBoost's defaults: 100 rounds, depth 6, η 0.3, λ 1). */
export const MSR_TREES: BoostSettings = { rounds: 100, depth: 6, learningRate: 0.3, lambda: 1, minLeaf: 2 };

/**
 * Gradient boosting (squared loss) of depth-limited trees on 0/1 features; returns the
 * in-sample predictions and the exact Shapley values of S ↦ F(1_S).
 */
export function boostBinary(
  X: Uint8Array,
  m: number,
  n: number,
  y: Float64Array,
  settings: BoostSettings,
): { predictions: Float64Array; shapley: Float64Array } {
  const { rounds, depth, learningRate, lambda, minLeaf } = settings;
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
