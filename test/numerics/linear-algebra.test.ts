import { describe, expect, it } from 'vitest';
import { cholesky, choleskySolver, efficientSolver, kktSolver } from '../../src/numerics/linear-algebra.js';
import { Rng } from '../../src/sampling/rng.js';

/** Σ z zᵀ over `rows` random 0/1 rows (density 0.3) plus their complements: a paired Gram matrix. */
function pairedGram(n: number, rows: number, rng: Rng): Float64Array {
  const A = new Float64Array(n * n);
  const z = new Uint8Array(n);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < n; j++) z[j] = rng.float() < 0.3 ? 1 : 0;
    const w = 0.5 + rng.float();
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] += w * (z[i] * z[j] + (1 - z[i]) * (1 - z[j]));
  }
  return A;
}

describe('constrained regression solves', () => {
  it('Cholesky reproduces A (blocked, sizes around the block width)', () => {
    const rng = Rng.fromSeed(1);
    for (const n of [1, 2, 7, 95, 96, 97, 193]) {
      const A = pairedGram(n, 2 * n + 3, rng);
      const L = cholesky(A, n) as Float64Array;
      expect(L).toBeDefined();
      let err = 0;
      let scale = 0;
      for (let i = 0; i < n; i++)
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let p = 0; p <= j; p++) s += L[i * n + p] * L[j * n + p];
          err = Math.max(err, Math.abs(s - A[i * n + j]));
          scale = Math.max(scale, Math.abs(A[i * n + j]));
        }
      expect(err).toBeLessThan(1e-12 * scale * n);
    }
  });

  it('the Cholesky solve equals the KKT (LU) solve, with Σφ = total exactly', () => {
    const rng = Rng.fromSeed(2);
    for (const n of [3, 40, 130]) {
      const A = pairedGram(n, 3 * n, rng);
      const nOut = 3;
      const B = Float64Array.from({ length: n * nOut }, () => rng.normal());
      const total = [1, -2, 0.5];
      const a = (choleskySolver(A, n) as NonNullable<ReturnType<typeof choleskySolver>>)(B, nOut, total);
      const b = kktSolver(A, n)(B, nOut, total);
      for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 9);
      for (let o = 0; o < nOut; o++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += a[i * nOut + o];
        expect(s).toBeCloseTo(total[o], 12);
      }
    }
  });

  it('falls back to the KKT solve when A is singular', () => {
    // players 0 and 1 always together: A is singular, the KKT system still has a
    // minimum-norm solution, which efficientSolver must return
    const rng = Rng.fromSeed(3);
    const n = 6;
    const A = pairedGram(n, 20, rng);
    for (let j = 0; j < n; j++) {
      A[1 * n + j] = A[0 * n + j];
      A[j * n + 1] = A[j * n + 0];
    }
    A[1 * n + 1] = A[0];
    expect(cholesky(A, n)).toBeUndefined();
    const B = Float64Array.from({ length: n }, () => rng.normal());
    B[1] = B[0];
    const a = efficientSolver(A, n)(B, 1, [2]);
    const b = kktSolver(A, n)(B, 1, [2]);
    for (let i = 0; i < n; i++) expect(a[i]).toBeCloseTo(b[i], 9);
    expect(a[0]).toBeCloseTo(a[1], 9);
  });
});
