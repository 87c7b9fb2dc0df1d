/**
 * Independent reference implementations for tests. They follow the textbook definitions
 * directly (every permutation; masked rows built one at a time) and share no code with src/.
 */

/** Shapley values by the permutation definition: mean over all n! orders of marginal contributions. */
export function bruteForceShapley(value: (mask: number) => number[], n: number): number[][] {
  const cache = new Map<number, number[]>();
  const v = (m: number) => {
    let r = cache.get(m);
    if (!r) {
      r = value(m);
      cache.set(m, r);
    }
    return r;
  };
  const nOut = v(0).length;
  const phi = Array.from({ length: n }, () => new Array<number>(nOut).fill(0));
  let count = 0;
  const perm = Array.from({ length: n }, (_, i) => i);
  const visit = (order: number[]) => {
    let mask = 0;
    for (const i of order) {
      const before = v(mask);
      mask |= 1 << i;
      const after = v(mask);
      for (let o = 0; o < nOut; o++) phi[i][o] += after[o] - before[o];
    }
    count++;
  };
  const permute = (k: number) => {
    if (k === n) return visit(perm);
    for (let i = k; i < n; i++) {
      [perm[k], perm[i]] = [perm[i], perm[k]];
      permute(k + 1);
      [perm[k], perm[i]] = [perm[i], perm[k]];
    }
  };
  permute(0);
  return phi.map((row) => row.map((x) => x / count));
}

/**
 * The interventional value v(S) = Σ_b w_b f(x_S, b_rest), built row by row. `groups[p]` lists
 * the columns of player p; `mask` bit p = player p in S.
 */
export function interventionalValue(
  f: (row: number[]) => number[],
  x: number[],
  background: number[][],
  weights: number[] | undefined,
  groups: number[][],
  mask: number,
): number[] {
  const wsum = weights ? weights.reduce((a, b) => a + b, 0) : background.length;
  let acc: number[] | undefined;
  background.forEach((b, k) => {
    const row = b.slice();
    groups.forEach((cols, p) => {
      if ((mask >> p) & 1) for (const c of cols) row[c] = x[c];
    });
    const out = f(row);
    const w = (weights ? weights[k] : 1) / wsum;
    acc ??= new Array(out.length).fill(0);
    for (let o = 0; o < out.length; o++) acc[o] += w * out[o];
  });
  return acc as number[];
}

/** Max |a − b| over nested arrays / typed arrays of equal shape. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
