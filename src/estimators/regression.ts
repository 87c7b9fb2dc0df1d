import type { CoalitionDesign } from '../sampling/coalitions.js';
import { solveEfficient } from './linear-algebra.js';

/**
 * The constrained, Shapley-kernel-weighted regression shared by the Kernel SHAP variants,
 * for paired designs (rows 2t and 2t+1 of a design are a coalition and its complement).
 * @internal
 */

/** Values (`n × nOut`) and, when the design is sampled, jackknife standard errors. */
export interface RegressionFit {
  readonly values: Float64Array;
  readonly stderr?: Float64Array;
}

/** Subtracts v(∅) from every coalition value (per output). */
export function center(y: Float64Array, v0: ArrayLike<number>, nOut: number): void {
  for (let i = 0; i < y.length; i++) y[i] -= v0[i % nOut];
}

/**
 * Sufficient statistics of one block of pairs, accumulated on the smaller side z of each
 * pair (S, N∖S) with weight w:
 * z zᵀ + z̄ z̄ᵀ = 2 z zᵀ − 1zᵀ − z1ᵀ + 11ᵀ and z y_S + z̄ y_S̄ = z (y_S − y_S̄) + 1 y_S̄,
 * so each pair costs |z|²/2 with |z| ≤ n/2.
 */
interface PairBlock {
  zz: Float64Array; // n × n upper triangle, Σ w z zᵀ
  z: Float64Array; // Σ w z
  w: number; // Σ w
  bz: Float64Array; // n × nOut, Σ w z (y_S − y_S̄)
  b1: Float64Array; // nOut, Σ w y_S̄
}

function emptyBlock(n: number, nOut: number): PairBlock {
  return {
    zz: new Float64Array(n * n),
    z: new Float64Array(n),
    w: 0,
    bz: new Float64Array(n * nOut),
    b1: new Float64Array(nOut),
  };
}

/**
 * Accumulates the design's pairs into blocks: block 0 = fully enumerated sizes, block
 * g + 1 = jackknife group g. `weight(s)` is the regression weight of coalition s (equal
 * within a pair).
 */
export function pairBlocks(
  design: CoalitionDesign,
  y: Float64Array,
  nOut: number,
  weight: (s: number) => number,
): PairBlock[] {
  const { n, bits, count } = design;
  const Wn = Math.ceil(n / 32);
  const blocks = Array.from({ length: design.groups + 1 }, () => emptyBlock(n, nOut));
  const idx = new Int32Array(n);
  for (let s = 0; s < count; s += 2) {
    // the smaller side of the pair is z
    const a = design.sizes[s] <= design.sizes[s + 1] ? s : s + 1;
    const c = a === s ? s + 1 : s;
    const w = weight(a);
    if (w === 0) continue;
    const blk = blocks[design.group[s] + 1];
    let k = 0;
    for (let w = 0; w < Wn; w++) {
      let word = bits[a * Wn + w];
      while (word !== 0) {
        const low = word & -word;
        idx[k++] = (w << 5) + 31 - Math.clz32(low);
        word ^= low;
      }
    }
    blk.w += w;
    for (let o = 0; o < nOut; o++) blk.b1[o] += w * y[c * nOut + o];
    for (let p = 0; p < k; p++) {
      const i = idx[p];
      blk.z[i] += w;
      const ri = i * n;
      for (let q = p; q < k; q++) blk.zz[ri + idx[q]] += w;
      for (let o = 0; o < nOut; o++) blk.bz[i * nOut + o] += w * (y[a * nOut + o] - y[c * nOut + o]);
    }
  }
  return blocks;
}

/** A (symmetric, `n × n`) and B (`n × nOut`) from blocks scaled by `factor[b]`. */
export function assemble(blocks: PairBlock[], factor: ArrayLike<number>, n: number, nOut: number) {
  const zz = new Float64Array(n * n);
  const z = new Float64Array(n);
  const bz = new Float64Array(n * nOut);
  const b1 = new Float64Array(nOut);
  let w = 0;
  blocks.forEach((blk, b) => {
    const f = b < factor.length ? factor[b] : 0;
    if (f === 0) return;
    for (let i = 0; i < zz.length; i++) zz[i] += f * blk.zz[i];
    for (let i = 0; i < n; i++) z[i] += f * blk.z[i];
    for (let i = 0; i < bz.length; i++) bz[i] += f * blk.bz[i];
    for (let o = 0; o < nOut; o++) b1[o] += f * blk.b1[o];
    w += f * blk.w;
  });
  const A = new Float64Array(n * n);
  const B = new Float64Array(n * nOut);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = (i === j ? 2 * zz[i * n + i] : 2 * zz[i * n + j]) - z[i] - z[j] + w;
      A[i * n + j] = v;
      A[j * n + i] = v;
    }
    for (let o = 0; o < nOut; o++) B[i * nOut + o] = bz[i * nOut + o] + b1[o];
  }
  return { A, B };
}

/** Shapley-kernel regression weight of design coalition s: (n−1)/(s(n−s)) · unit(S). */
export function kernelWeight(design: CoalitionDesign): (s: number) => number {
  const n = design.n;
  return (s) => ((n - 1) / (design.sizes[s] * (n - design.sizes[s]))) * design.unit[s];
}

/**
 * Constrained weighted least squares on a paired design (Σφ = total exactly), with
 * delete-a-group jackknife standard errors: leaving group g out, the other sampled pairs
 * are reweighted by G/(G−1).
 */
export function fitPaired(
  design: CoalitionDesign,
  y: Float64Array,
  nOut: number,
  total: ArrayLike<number>,
): RegressionFit {
  const n = design.n;
  const G = design.groups;
  const blocks = pairBlocks(design, y, nOut, kernelWeight(design));
  const ones = new Float64Array(G + 1).fill(1);
  const full = assemble(blocks, ones, n, nOut);
  const values = solveEfficient(full.A, full.B, n, nOut, total);
  if (G < 2) return { values };
  // A and B are linear in the blocks: replicate g = enumerated + G/(G−1) · (sampled − block g)
  const enumerated = assemble(blocks, Float64Array.of(1), n, nOut);
  const sampled = { A: full.A.map((v, i) => v - enumerated.A[i]), B: full.B.map((v, i) => v - enumerated.B[i]) };
  const f = G / (G - 1);
  const one = new Float64Array(G + 1);
  const replicates = Array.from({ length: G }, (_, g) => {
    one.fill(0);
    one[g + 1] = 1;
    const left = assemble(blocks, one, n, nOut);
    const A = enumerated.A.map((v, i) => v + f * (sampled.A[i] - left.A[i]));
    const B = enumerated.B.map((v, i) => v + f * (sampled.B[i] - left.B[i]));
    return solveEfficient(A, B, n, nOut, total);
  });
  return { values, stderr: jackknife(replicates, n * nOut) };
}

/** Delete-a-group jackknife standard error: sqrt((G−1)/G · Σ_g (θ_(g) − θ̄)²). */
export function jackknife(replicates: Float64Array[], len: number): Float64Array {
  const G = replicates.length;
  const mean = new Float64Array(len);
  for (const r of replicates) for (let i = 0; i < len; i++) mean[i] += r[i] / G;
  const se = new Float64Array(len);
  for (const r of replicates) for (let i = 0; i < len; i++) se[i] += (r[i] - mean[i]) ** 2;
  for (let i = 0; i < len; i++) se[i] = Math.sqrt(((G - 1) / G) * se[i]);
  return se;
}

/**
 * Sparse mode: keeps the `k` players with the largest |φ| (per output) and re-solves the
 * constrained regression over them only; the others get exactly 0.
 */
export function sparseResolve(
  phi: Float64Array,
  A: Float64Array,
  B: Float64Array,
  n: number,
  nOut: number,
  total: ArrayLike<number>,
  k: number,
): Float64Array {
  const out = new Float64Array(n * nOut);
  for (let o = 0; o < nOut; o++) {
    const keep = Array.from({ length: n }, (_, i) => i)
      .sort((a, b) => Math.abs(phi[b * nOut + o]) - Math.abs(phi[a * nOut + o]) || a - b)
      .slice(0, k)
      .sort((a, b) => a - b);
    const As = new Float64Array(k * k);
    const Bs = new Float64Array(k);
    keep.forEach((i, a) => {
      keep.forEach((j, b) => {
        As[a * k + b] = A[i * n + j];
      });
      Bs[a] = B[i * nOut + o];
    });
    const sol = solveEfficient(As, Bs, k, 1, [total[o]]);
    keep.forEach((i, a) => {
      out[i * nOut + o] = sol[a];
    });
  }
  return out;
}
