/**
 * Reference implementations for checking estimators: they follow the textbook definitions
 * directly and share no code with whybox's estimators (src/estimators) or masker
 * (src/sampling, src/games), so an estimator cannot agree with them by sharing a bug.
 */

/**
 * Shapley values by the subset formula φ_i = Σ_{S∌i} |S|!(n−|S|−1)!/n! (v(S ∪ i) − v(S)),
 * from a value function over bit masks (bit j set = player j in S). Returns `n × nOut`
 * row-major. O(n·2^n) value look-ups; meant for n ≤ 16.
 */
export function referenceShapley(value: (mask: number) => ArrayLike<number>, n: number): Float64Array {
  const size = 2 ** n;
  const table: ArrayLike<number>[] = new Array(size);
  for (let m = 0; m < size; m++) table[m] = value(m);
  const nOut = table[0].length;
  const fact = [1];
  for (let k = 1; k <= n; k++) fact.push(fact[k - 1] * k);
  const phi = new Float64Array(n * nOut);
  for (let m = 0; m < size; m++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += (m >>> j) & 1;
    if (s === n) continue;
    const w = (fact[s] * fact[n - s - 1]) / fact[n];
    for (let i = 0; i < n; i++) {
      if ((m >>> i) & 1) continue;
      const withI = table[m | (1 << i)];
      const without = table[m];
      for (let o = 0; o < nOut; o++) phi[i * nOut + o] += w * (withI[o] - without[o]);
    }
  }
  return phi;
}

/**
 * Shapley values by the permutation definition (mean over all n! orders of marginal
 * contributions); n ≤ 8. A second, independent definition to cross-check
 * {@link referenceShapley}.
 */
export function permutationDefinitionShapley(value: (mask: number) => ArrayLike<number>, n: number): Float64Array {
  const cache = new Map<number, ArrayLike<number>>();
  const v = (m: number) => {
    let r = cache.get(m);
    if (!r) {
      r = value(m);
      cache.set(m, r);
    }
    return r;
  };
  const nOut = v(0).length;
  const phi = new Float64Array(n * nOut);
  let count = 0;
  const perm = Array.from({ length: n }, (_, i) => i);
  const permute = (k: number) => {
    if (k === n) {
      let mask = 0;
      for (const i of perm) {
        const before = v(mask);
        mask |= 1 << i;
        const after = v(mask);
        for (let o = 0; o < nOut; o++) phi[i * nOut + o] += after[o] - before[o];
      }
      count++;
      return;
    }
    for (let i = k; i < n; i++) {
      [perm[k], perm[i]] = [perm[i], perm[k]];
      permute(k + 1);
      [perm[k], perm[i]] = [perm[i], perm[k]];
    }
  };
  permute(0);
  for (let i = 0; i < phi.length; i++) phi[i] /= count;
  return phi;
}

/**
 * The interventional value v(S) = Σ_b w_b f(x_S, b_rest), built row by row: `groups[p]`
 * lists the columns of player p; bit p of `mask` = player p in S. Weights are normalised
 * (uniform when absent).
 */
export function interventionalValue(
  f: (row: number[]) => ArrayLike<number>,
  x: readonly number[],
  background: readonly (readonly number[])[],
  weights: readonly number[] | undefined,
  groups: readonly (readonly number[])[],
  mask: number,
): number[] {
  const wsum = weights ? weights.reduce((a, b) => a + b, 0) : background.length;
  let acc: number[] | undefined;
  background.forEach((b, k) => {
    const row = b.slice();
    groups.forEach((cols, p) => {
      if ((mask >>> p) & 1) for (const c of cols) row[c] = x[c];
    });
    const out = f(row);
    const w = (weights ? weights[k] : 1) / wsum;
    acc ??= new Array<number>(out.length).fill(0);
    for (let o = 0; o < out.length; o++) acc[o] += w * out[o];
  });
  return acc as number[];
}
