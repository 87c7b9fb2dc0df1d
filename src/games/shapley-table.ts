/** Shapley weights p_k = k!(n−k−1)!/n! for k = 0..n−1 (by the ratio p_k/p_{k−1} = k/(n−k)). */
export function shapleyWeights(n: number): Float64Array {
  const p = new Float64Array(Math.max(1, n));
  p[0] = 1 / n;
  for (let k = 1; k < n; k++) p[k] = (p[k - 1] * k) / (n - k);
  return p;
}

/**
 * Shapley values (`n × nOut`) from a table of all 2^n coalition values (index = bit mask).
 * Uses φ_i = Σ_{S∋i} (p_{|S|−1} + p_{|S|}) v(S) − Σ_S p_{|S|} v(S), summed with
 * contiguous strides (n · 2^(n−1) additions per output).
 */
export function shapleyFromTable(table: Float64Array, n: number, nOut: number): Float64Array {
  const size = 2 ** n;
  const p = shapleyWeights(n);
  const phi = new Float64Array(n * nOut);
  const d = new Float64Array(size);
  const pop = new Uint8Array(size);
  for (let s = 1; s < size; s++) pop[s] = pop[s >> 1] + (s & 1);
  for (let o = 0; o < nOut; o++) {
    let common = 0;
    for (let s = 0; s < size; s++) {
      const v = table[s * nOut + o];
      const k = pop[s];
      const out = k < n ? p[k] * v : 0;
      common += out;
      d[s] = (k > 0 ? p[k - 1] * v : 0) + out;
    }
    for (let i = 0; i < n; i++) {
      const half = 2 ** i;
      let acc = 0;
      for (let block = 0; block < size; block += 2 * half)
        for (let t = block + half, e = block + 2 * half; t < e; t++) acc += d[t];
      phi[i * nOut + o] = acc - common;
    }
  }
  return phi;
}
