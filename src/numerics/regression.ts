import type { CoalitionDesign } from '../sampling/coalitions.js';
import { wordsFor } from '../sampling/masking.js';
import { efficientSolver, normalEquations, solveEfficient, symmetrize } from './linear-algebra.js';

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
 * The regression of a paired design, split into what depends only on the design (the
 * normal matrices A of the full fit and of every jackknife replicate, factorised once) and
 * what depends on the coalition values (B, linear in the values). Per pair (S, N∖S) with
 * weight w, accumulated on the smaller side z:
 *   z zᵀ + z̄ z̄ᵀ = 2 z zᵀ − 1zᵀ − z1ᵀ + 11ᵀ   and   z y_S + z̄ y_S̄ = z (y_S − y_S̄) + 1 y_S̄,
 * so A costs |z|²/2 per pair once per design and B costs |z| per pair per fit. Block 0
 * holds the fully enumerated sizes, block g + 1 jackknife group g.
 *
 * One design can be fitted to many value vectors: the decomposed estimator fits every
 * background row whose game has the same size to relabelled copies of one design.
 */
export class PairedRegression {
  readonly design: CoalitionDesign;
  private readonly weights: Float64Array; // per pair
  private readonly small: Int32Array; // per pair: row of the smaller side
  private readonly solvers: ((B: Float64Array, nOut: number, total: ArrayLike<number>) => Float64Array)[];
  /** Approximate bytes held by the factorisations. */
  readonly bytes: number;

  constructor(design: CoalitionDesign) {
    this.design = design;
    const { n, count } = design;
    const pairs = count >> 1;
    const weight = kernelWeight(design);
    this.weights = new Float64Array(pairs);
    this.small = new Int32Array(pairs);
    const G = design.groups;
    // per block: Σ w z zᵀ (lower triangle), Σ w z, Σ w
    const zz = Array.from({ length: G + 1 }, () => new Float64Array(n * n));
    const z = Array.from({ length: G + 1 }, () => new Float64Array(n));
    const w = new Float64Array(G + 1);
    const idx = new Int32Array(n);
    for (let p = 0; p < pairs; p++) {
      const s = 2 * p;
      const a = design.sizes[s] <= design.sizes[s + 1] ? s : s + 1;
      const wp = weight(a);
      this.weights[p] = wp;
      this.small[p] = a;
      const blk = design.group[s] + 1;
      const k = setBits(design, a, idx);
      w[blk] += wp;
      const M = zz[blk];
      const zb = z[blk];
      for (let q = 0; q < k; q++) {
        const ri = idx[q] * n;
        zb[idx[q]] += wp;
        for (let r = 0; r <= q; r++) M[ri + idx[r]] += wp;
      }
    }
    // block b's normal matrix, in place: 2 Σ w z zᵀ − (Σ w z) 1ᵀ − 1 (Σ w z)ᵀ + Σ w (lower)
    for (let b = 0; b <= G; b++) {
      const M = zz[b];
      const zb = z[b];
      const wb = w[b];
      for (let i = 0; i < n; i++) {
        const ri = i * n;
        const zi = zb[i];
        for (let j = 0; j <= i; j++) M[ri + j] = 2 * M[ri + j] - zi - zb[j] + wb;
      }
    }
    // the full fit (every block) and jackknife replicate g: blocks weighted 1 (enumerated),
    // 0 (group g) and G/(G−1) (other groups) = c · full − (c − 1) · enumerated − c · group g
    const full = new Float64Array(n * n);
    for (let b = 0; b <= G; b++) {
      const M = zz[b];
      for (let i = 0; i < n; i++) {
        const ri = i * n;
        for (let j = 0; j <= i; j++) full[ri + j] += M[ri + j];
      }
    }
    const replicate = (g: number) => {
      const c = G / (G - 1);
      const A = new Float64Array(n * n);
      const E = zz[0];
      const Mg = zz[g + 1];
      for (let i = 0; i < n; i++) {
        const ri = i * n;
        for (let j = 0; j <= i; j++) A[ri + j] = c * (full[ri + j] - Mg[ri + j]) - (c - 1) * E[ri + j];
      }
      return A;
    };
    const solver = (A: Float64Array) => {
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) A[i * n + j] = A[j * n + i];
      return efficientSolver(A, n);
    };
    this.solvers = [solver(full)];
    if (G >= 2) for (let g = 0; g < G; g++) this.solvers.push(solver(replicate(g)));
    this.bytes = this.solvers.length * n * n * 8;
  }

  /**
   * Fits coalition values `y` (design order, v(S) − v(∅), `count × nOut`): values with
   * Σφ = total, and jackknife standard errors when the design is sampled.
   */
  fit(y: Float64Array, nOut: number, total: ArrayLike<number>): RegressionFit {
    const { n, groups: G } = this.design;
    const pairs = this.weights.length;
    const bz = Array.from({ length: G + 1 }, () => new Float64Array(n * nOut));
    const b1 = Array.from({ length: G + 1 }, () => new Float64Array(nOut));
    const idx = new Int32Array(n);
    for (let p = 0; p < pairs; p++) {
      const wp = this.weights[p];
      if (wp === 0) continue;
      const a = this.small[p];
      const c = a ^ 1; // the other row of the pair (rows 2p, 2p + 1)
      const blk = this.design.group[2 * p] + 1;
      const k = setBits(this.design, a, idx);
      for (let o = 0; o < nOut; o++) {
        const yc = y[c * nOut + o];
        b1[blk][o] += wp * yc;
        const d = wp * (y[a * nOut + o] - yc);
        for (let q = 0; q < k; q++) bz[blk][idx[q] * nOut + o] += d;
      }
    }
    const toB = (f: ArrayLike<number>) => {
      const B = new Float64Array(n * nOut);
      for (let b = 0; b <= G; b++) {
        const fb = f[b];
        if (fb === 0) continue;
        for (let i = 0; i < n; i++)
          for (let o = 0; o < nOut; o++) B[i * nOut + o] += fb * (bz[b][i * nOut + o] + b1[b][o]);
      }
      return B;
    };
    const values = this.solvers[0](toB(new Float64Array(G + 1).fill(1)), nOut, total);
    if (G < 2) return { values };
    const replicates = Array.from({ length: G }, (_, g) =>
      this.solvers[g + 1](toB(replicateFactors(G, g)), nOut, total),
    );
    return { values, stderr: jackknife(replicates, n * nOut) };
  }
}

/** Block factors of jackknife replicate g: enumerated 1, group g 0, the other groups G/(G−1). */
function replicateFactors(G: number, g: number): Float64Array {
  const f = new Float64Array(G + 1).fill(G / (G - 1));
  f[0] = 1;
  f[g + 1] = 0;
  return f;
}

/** Writes the players of design row s into `idx`; returns how many. */
function setBits(design: CoalitionDesign, s: number, idx: Int32Array): number {
  const Wn = wordsFor(design.n);
  let k = 0;
  for (let w = 0; w < Wn; w++) {
    let word = design.bits[s * Wn + w];
    while (word !== 0) {
      const low = word & -word;
      idx[k++] = (w << 5) + 31 - Math.clz32(low);
      word ^= low;
    }
  }
  return k;
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
  return new PairedRegression(design).fit(y, nOut, total);
}

/** A (`n × n`, symmetric) and B (`n × nOut`) of the full fit of a design, for sparse re-solves. */
export function normalMatrices(design: CoalitionDesign, y: Float64Array, nOut: number) {
  const weight = kernelWeight(design);
  const w = Float64Array.from({ length: design.count }, (_, s) => weight(s));
  const eq = normalEquations(design.masks, design.count, design.n, w, y, nOut);
  symmetrize(eq.A, design.n);
  return eq;
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
