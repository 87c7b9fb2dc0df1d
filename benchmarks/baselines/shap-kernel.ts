/**
 * A faithful port of shap's KernelExplainer (shap 0.4x, `shap/explainers/_kernel.py`,
 * `allocate`/`sampling loop`/`solve`, with `l1_reg=False`) — the baseline whybox is compared
 * with. It shares no code with src/ on purpose: a change to whybox cannot move the baseline.
 *
 * Sampling: size weights (M−1)/(s(M−s)), doubled for paired sizes; sizes enumerated from
 * the outside in while `samplesLeft · w_s / nsubsets ≥ 1 − 1e-8`; the rest drawn with
 * replacement (size from the renormalised remaining weights, then a uniform subset), each
 * with its complement; duplicates merged by incrementing their weight; the random block
 * rescaled to the remaining kernel mass. Solve: eliminate the last player to enforce
 * efficiency, then weighted least squares by the normal equations.
 */
import { Matrix, solve } from 'ml-matrix';

/** A coalition value function: masks (count × M bytes) → values (count). */
export type ValueFn = (masks: Uint8Array, count: number) => Promise<Float64Array>;

/** shap-style Kernel SHAP with `nsamples` coalition evaluations (excluding ∅ and N). */
export async function shapKernelBaseline(
  M: number,
  v: ValueFn,
  nsamples: number,
  random: () => number,
): Promise<{ phi: Float64Array; evaluations: number }> {
  const edges = new Uint8Array(2 * M);
  edges.fill(1, M);
  const e = await v(edges, 2);
  const fnull = e[0];
  const fx = e[1];
  const maxSamples = M <= 30 ? 2 ** M - 2 : 2 ** 30;
  nsamples = Math.min(nsamples, maxSamples);
  const numSubsetSizes = Math.ceil((M - 1) / 2);
  const numPaired = Math.floor((M - 1) / 2);
  const weightVector = Array.from({ length: numSubsetSizes }, (_, i) => (M - 1) / ((i + 1) * (M - i - 1)));
  for (let i = 0; i < numPaired; i++) weightVector[i] *= 2;
  const ws = weightVector.reduce((a, b) => a + b, 0);
  for (let i = 0; i < numSubsetSizes; i++) weightVector[i] /= ws;
  const masks: Uint8Array[] = [];
  const kernelWeights: number[] = [];
  const add = (m: Uint8Array, w: number) => {
    masks.push(m);
    kernelWeights.push(w);
  };
  let numFull = 0;
  let numSamplesLeft = nsamples;
  const remaining = weightVector.slice();
  for (let size = 1; size <= numSubsetSizes; size++) {
    let nsubsets = binom(M, size);
    if (size <= numPaired) nsubsets *= 2;
    if ((numSamplesLeft * remaining[size - 1]) / nsubsets >= 1 - 1e-8) {
      numFull++;
      numSamplesLeft -= nsubsets;
      if (remaining[size - 1] < 1) {
        const r = remaining[size - 1];
        for (let i = 0; i < remaining.length; i++) remaining[i] /= 1 - r;
      }
      let w = weightVector[size - 1] / binom(M, size);
      if (size <= numPaired) w /= 2;
      combinations(M, size, (c) => {
        const m = new Uint8Array(M);
        for (const j of c) m[j] = 1;
        add(m, w);
        if (size <= numPaired)
          add(
            m.map((b) => 1 - b),
            w,
          );
      });
    } else break;
  }
  const nfixed = masks.length;
  let samplesLeft = nsamples - nfixed;
  if (numFull !== numSubsetSizes) {
    const rw = weightVector.slice();
    for (let i = 0; i < numPaired; i++) rw[i] /= 2;
    const tail = rw.slice(numFull);
    const ts = tail.reduce((a, b) => a + b, 0);
    for (let i = 0; i < tail.length; i++) tail[i] /= ts;
    const used = new Map<string, number>();
    const draws = 4 * samplesLeft;
    for (let d = 0; d < draws && samplesLeft > 0; d++) {
      let u = random();
      let si = 0;
      while (si < tail.length - 1 && u >= tail[si]) u -= tail[si++];
      const size = si + numFull + 1;
      const perm = Array.from({ length: M }, (_, i) => i);
      for (let i = M - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [perm[i], perm[j]] = [perm[j], perm[i]];
      }
      const m = new Uint8Array(M);
      for (let t = 0; t < size; t++) m[perm[t]] = 1;
      const key = m.join('');
      const at = used.get(key);
      const isNew = at === undefined;
      if (isNew) {
        used.set(key, masks.length);
        add(m, 1);
        samplesLeft--;
      } else kernelWeights[at] += 1;
      if (samplesLeft > 0 && size <= numPaired) {
        if (isNew) {
          add(
            m.map((b) => 1 - b),
            1,
          );
          samplesLeft--;
        } else kernelWeights[(at as number) + 1] += 1;
      }
    }
    const weightLeft = weightVector.slice(numFull).reduce((a, b) => a + b, 0);
    let s = 0;
    for (let i = nfixed; i < kernelWeights.length; i++) s += kernelWeights[i];
    for (let i = nfixed; i < kernelWeights.length; i++) kernelWeights[i] *= weightLeft / s;
  }
  const n = masks.length;
  const flat = new Uint8Array(n * M);
  masks.forEach((m, i) => {
    flat.set(m, i * M);
  });
  const ey = await v(flat, n);
  // solve: eliminate the last player (efficiency), weighted least squares (normal equations)
  const total = fx - fnull;
  const X = new Matrix(n, M - 1);
  const y = new Matrix(n, 1);
  for (let i = 0; i < n; i++) {
    const last = masks[i][M - 1];
    for (let j = 0; j < M - 1; j++) X.set(i, j, masks[i][j] - last);
    y.set(i, 0, ey[i] - fnull - last * total);
  }
  const WX = X.clone();
  for (let i = 0; i < n; i++) for (let j = 0; j < M - 1; j++) WX.set(i, j, WX.get(i, j) * kernelWeights[i]);
  const w = solve(X.transpose().mmul(WX), WX.transpose().mmul(y));
  const phi = new Float64Array(M);
  let sum = 0;
  for (let j = 0; j < M - 1; j++) {
    phi[j] = w.get(j, 0);
    sum += phi[j];
  }
  phi[M - 1] = total - sum;
  return { phi, evaluations: n + 2 };
}

function binom(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

function combinations(n: number, k: number, fn: (c: number[]) => void): void {
  const c = Array.from({ length: k }, (_, i) => i);
  for (;;) {
    fn(c);
    let i = k - 1;
    while (i >= 0 && c[i] === n - k + i) i--;
    if (i < 0) return;
    c[i]++;
    for (let j = i + 1; j < k; j++) c[j] = c[j - 1] + 1;
  }
}
