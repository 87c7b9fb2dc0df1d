/**
 * The factorisation step of whybox's paired Kernel SHAP regression as it was before the
 * kernel-scale work (commit 5383178): per block (enumerated sizes, each jackknife group)
 * Σ w z zᵀ in full, every normal matrix summed from all G + 1 blocks, and each of the
 * G + 1 KKT systems [[A, 1], [1ᵀ, 0]] factorised by LU (SVD when singular). Kept to time
 * against `new PairedRegression(design)` on the same design (benchmarks/kernel-scale.ts).
 */
import { kktSolver } from '../../src/numerics/linear-algebra.js';
import { kernelWeight } from '../../src/numerics/regression.js';
import type { CoalitionDesign } from '../../src/sampling/coalitions.js';
import { wordsFor } from '../../src/sampling/masking.js';

export function factorizeLu(
  design: CoalitionDesign,
): ((B: Float64Array, nOut: number, total: ArrayLike<number>) => Float64Array)[] {
  const { n, count } = design;
  const pairs = count >> 1;
  const weight = kernelWeight(design);
  const G = design.groups;
  const zz = Array.from({ length: G + 1 }, () => new Float64Array(n * n));
  const z = Array.from({ length: G + 1 }, () => new Float64Array(n));
  const w = new Float64Array(G + 1);
  const idx = new Int32Array(n);
  const Wn = wordsFor(n);
  for (let p = 0; p < pairs; p++) {
    const s = 2 * p;
    const a = design.sizes[s] <= design.sizes[s + 1] ? s : s + 1;
    const wp = weight(a);
    const blk = design.group[s] + 1;
    let k = 0;
    for (let wd = 0; wd < Wn; wd++) {
      let word = design.bits[a * Wn + wd];
      while (word !== 0) {
        const low = word & -word;
        idx[k++] = (wd << 5) + 31 - Math.clz32(low);
        word ^= low;
      }
    }
    w[blk] += wp;
    for (let q = 0; q < k; q++) {
      const i = idx[q];
      z[blk][i] += wp;
      for (let r = q; r < k; r++) zz[blk][i * n + idx[r]] += wp;
    }
  }
  const toA = (f: ArrayLike<number>) => {
    const A = new Float64Array(n * n);
    for (let b = 0; b <= G; b++) {
      const fb = f[b];
      if (fb === 0) continue;
      for (let i = 0; i < n; i++)
        for (let j = i; j < n; j++) A[i * n + j] += fb * (2 * zz[b][i * n + j] - z[b][i] - z[b][j] + w[b]);
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) A[i * n + j] = A[j * n + i];
    return A;
  };
  const factors = (g: number) => {
    const f = new Float64Array(G + 1).fill(g < 0 ? 1 : G / (G - 1));
    f[0] = 1;
    if (g >= 0) f[g + 1] = 0;
    return f;
  };
  const solvers = [kktSolver(toA(factors(-1)), n)];
  if (G >= 2) for (let g = 0; g < G; g++) solvers.push(kktSolver(toA(factors(g)), n));
  return solvers;
}
