import { Matrix, SingularValueDecomposition } from 'ml-matrix';

/**
 * Small dense linear algebra for the regression estimators. Matrices are row-major
 * `Float64Array`s; ml-matrix is used only for the factorisations.
 * @internal
 */

/** Normal equations of a weighted regression on 0/1 coalition features. */
export interface NormalEquations {
  /** `n × n`, Σ w z zᵀ. */
  readonly A: Float64Array;
  /** `n × nOutputs`, Σ w z yᵀ. */
  readonly B: Float64Array;
}

/**
 * Accumulates Σ w_s z_s z_sᵀ (upper triangle) and Σ w_s z_s y_sᵀ over coalitions `s`,
 * visiting only the set bits of each mask (cost ∝ |S|² per coalition).
 */
export function normalEquations(
  masks: Uint8Array,
  count: number,
  n: number,
  weights: ArrayLike<number>,
  y: Float64Array,
  nOut: number,
): NormalEquations {
  const A = new Float64Array(n * n);
  const B = new Float64Array(n * nOut);
  const idx = new Int32Array(n);
  for (let s = 0; s < count; s++) {
    const w = weights[s];
    if (w === 0) continue;
    let k = 0;
    const row = s * n;
    for (let j = 0; j < n; j++) if (masks[row + j] !== 0) idx[k++] = j;
    for (let a = 0; a < k; a++) {
      const i = idx[a];
      const ri = i * n;
      for (let b = a; b < k; b++) A[ri + idx[b]] += w;
      for (let o = 0; o < nOut; o++) B[i * nOut + o] += w * y[s * nOut + o];
    }
  }
  return { A, B };
}

/** Copies the upper triangle of a square matrix onto its lower triangle. */
export function symmetrize(A: Float64Array, n: number): Float64Array {
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) A[j * n + i] = A[i * n + j];
  return A;
}

/**
 * Solves min Σ w (y − zᵀφ)² subject to Σ_i φ_i = total (per output), given the normal
 * equations, through the KKT system [[A, 1], [1ᵀ, 0]] [φ; λ] = [B; total] (LU, or the
 * minimum-norm SVD solution when too few coalitions identify every player). The constraint
 * is then exact to rounding. `A` must be symmetric (see {@link symmetrize}).
 */
export function solveEfficient(
  A: Float64Array,
  B: Float64Array,
  n: number,
  nOut: number,
  total: ArrayLike<number>,
): Float64Array {
  return efficientSolver(A, n)(B, nOut, total);
}

/** A factorised square system, reusable for many right-hand sides. */
export interface Factorization {
  /** Solves M X = R for `R` (`m × k`, row-major); returns a new array. */
  solve(R: Float64Array, k: number): Float64Array;
}

/**
 * Factorises M (`m × m`, row-major, not modified) by LU with partial pivoting, or — when it
 * is numerically singular — by its SVD pseudo-inverse (minimum-norm least squares).
 */
export function factorize(M: Float64Array, m: number): Factorization {
  const lu = M.slice();
  const piv = Int32Array.from({ length: m }, (_, i) => i);
  let scale = 0;
  for (let i = 0; i < lu.length; i++) scale = Math.max(scale, Math.abs(lu[i]));
  const tol = scale * 1e-12;
  let singular = false;
  for (let c = 0; c < m && !singular; c++) {
    let p = c;
    let best = Math.abs(lu[c * m + c]);
    for (let r = c + 1; r < m; r++) {
      const v = Math.abs(lu[r * m + c]);
      if (v > best) {
        best = v;
        p = r;
      }
    }
    if (!(best > tol)) {
      singular = true;
      break;
    }
    if (p !== c) {
      for (let j = 0; j < m; j++) {
        const t = lu[c * m + j];
        lu[c * m + j] = lu[p * m + j];
        lu[p * m + j] = t;
      }
      const t = piv[c];
      piv[c] = piv[p];
      piv[p] = t;
    }
    const d = lu[c * m + c];
    for (let r = c + 1; r < m; r++) {
      const f = (lu[r * m + c] /= d);
      if (f !== 0) for (let j = c + 1; j < m; j++) lu[r * m + j] -= f * lu[c * m + j];
    }
  }
  if (singular) {
    const pinv = new SingularValueDecomposition(toMatrix(M, m), { autoTranspose: true }).inverse();
    const P = new Float64Array(m * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) P[i * m + j] = pinv.get(i, j);
    return {
      solve(R, k) {
        const X = new Float64Array(m * k);
        for (let i = 0; i < m; i++)
          for (let j = 0; j < m; j++) {
            const a = P[i * m + j];
            if (a !== 0) for (let o = 0; o < k; o++) X[i * k + o] += a * R[j * k + o];
          }
        return X;
      },
    };
  }
  return {
    solve(R, k) {
      const X = new Float64Array(m * k);
      for (let i = 0; i < m; i++) for (let o = 0; o < k; o++) X[i * k + o] = R[piv[i] * k + o];
      for (let i = 1; i < m; i++)
        for (let j = 0; j < i; j++) {
          const f = lu[i * m + j];
          if (f !== 0) for (let o = 0; o < k; o++) X[i * k + o] -= f * X[j * k + o];
        }
      for (let i = m - 1; i >= 0; i--) {
        for (let j = i + 1; j < m; j++) {
          const f = lu[i * m + j];
          if (f !== 0) for (let o = 0; o < k; o++) X[i * k + o] -= f * X[j * k + o];
        }
        const d = lu[i * m + i];
        for (let o = 0; o < k; o++) X[i * k + o] /= d;
      }
      return X;
    },
  };
}

/**
 * The efficiency-constrained regression solve as a reusable factorisation of the KKT matrix
 * [[A, 1], [1ᵀ, 0]]: `solve(B, total)` returns φ (`n × nOut`) with Σφ = total exactly.
 */
export function efficientSolver(
  A: Float64Array,
  n: number,
): (B: Float64Array, nOut: number, total: ArrayLike<number>) => Float64Array {
  return choleskySolver(A, n) ?? kktSolver(A, n);
}

/**
 * The efficiency-constrained solve through a Cholesky factor of A (when A is positive
 * definite, as the normal matrix of a paired design that identifies every player is):
 * φ = A⁻¹B − A⁻¹1 · (1ᵀA⁻¹B − total) / (1ᵀA⁻¹1), the KKT solution, at a third of the
 * flops of LU on the bordered matrix. `undefined` when A is not (numerically) positive
 * definite; then {@link kktSolver} applies.
 */
export function choleskySolver(
  A: Float64Array,
  n: number,
): ((B: Float64Array, nOut: number, total: ArrayLike<number>) => Float64Array) | undefined {
  const L = cholesky(A, n);
  if (!L) return undefined;
  const ones = new Float64Array(n).fill(1);
  const u = choleskySolve(L, n, ones, 1);
  let uSum = 0;
  for (let i = 0; i < n; i++) uSum += u[i];
  if (!(uSum > 0)) return undefined;
  return (B, nOut, total) => {
    const X = choleskySolve(L, n, B.subarray(0, n * nOut), nOut);
    for (let o = 0; o < nOut; o++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += X[i * nOut + o];
      const lambda = (sum - total[o]) / uSum;
      for (let i = 0; i < n; i++) X[i * nOut + o] -= lambda * u[i];
    }
    return enforceEfficiency(X, n, nOut, total);
  };
}

/**
 * Cholesky factor L (lower triangle, row-major `n × n`; the strict upper triangle is left
 * zero) of a symmetric matrix, or `undefined` when a pivot is below 1e-11 of the largest
 * diagonal entry (not numerically positive definite). Left-looking by rows, in column
 * blocks so that the rows in use stay in cache.
 */
export function cholesky(A: Float64Array, n: number): Float64Array | undefined {
  const L = new Float64Array(n * n);
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, A[i * n + i]);
  if (!(scale > 0)) return undefined;
  const tol = scale * 1e-11;
  const diag = new Float64Array(n);
  // lower triangle of A into L
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) L[i * n + j] = A[i * n + j];
  const NB = 96;
  for (let j0 = 0; j0 < n; j0 += NB) {
    const j1 = Math.min(n, j0 + NB);
    // diagonal block: finish columns j0..j1 of rows j0..j1 (earlier blocks already applied)
    for (let i = j0; i < j1; i++) {
      const ri = i * n;
      for (let j = j0; j <= i; j++) {
        const rj = j * n;
        let s = L[ri + j];
        for (let p = j0; p < j; p++) s -= L[ri + p] * L[rj + p];
        if (j < i) L[ri + j] = s / diag[j];
        else {
          if (!(s > tol)) return undefined;
          diag[i] = Math.sqrt(s);
          L[ri + i] = diag[i];
        }
      }
    }
    // panel below: rows j1..n, columns j0..j1
    for (let i = j1; i < n; i++) {
      const ri = i * n;
      for (let j = j0; j < j1; j++) {
        const rj = j * n;
        let s = L[ri + j];
        for (let p = j0; p < j; p++) s -= L[ri + p] * L[rj + p];
        L[ri + j] = s / diag[j];
      }
    }
    // trailing update: rows/columns ≥ j1 minus the contribution of columns j0..j1, two rows
    // by four columns at a time (each loaded element feeds two or four dot products)
    let i = j1;
    for (; i + 1 < n; i += 2) {
      const ra = i * n;
      const rb = ra + n;
      let j = j1;
      for (; j + 3 <= i; j += 4) {
        const r0 = j * n;
        const r1 = r0 + n;
        const r2 = r1 + n;
        const r3 = r2 + n;
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        let b0 = 0;
        let b1 = 0;
        let b2 = 0;
        let b3 = 0;
        for (let p = j0; p < j1; p++) {
          const x = L[ra + p];
          const y = L[rb + p];
          const l0 = L[r0 + p];
          const l1 = L[r1 + p];
          const l2 = L[r2 + p];
          const l3 = L[r3 + p];
          a0 += x * l0;
          a1 += x * l1;
          a2 += x * l2;
          a3 += x * l3;
          b0 += y * l0;
          b1 += y * l1;
          b2 += y * l2;
          b3 += y * l3;
        }
        L[ra + j] -= a0;
        L[ra + j + 1] -= a1;
        L[ra + j + 2] -= a2;
        L[ra + j + 3] -= a3;
        L[rb + j] -= b0;
        L[rb + j + 1] -= b1;
        L[rb + j + 2] -= b2;
        L[rb + j + 3] -= b3;
      }
      for (; j <= i + 1; j++) {
        const rj = j * n;
        let a = 0;
        let b = 0;
        for (let p = j0; p < j1; p++) {
          const l = L[rj + p];
          a += L[ra + p] * l;
          b += L[rb + p] * l;
        }
        if (j <= i) L[ra + j] -= a;
        L[rb + j] -= b;
      }
    }
    for (; i < n; i++) {
      const ri = i * n;
      for (let j = j1; j <= i; j++) {
        const rj = j * n;
        let s = 0;
        for (let p = j0; p < j1; p++) s += L[ri + p] * L[rj + p];
        L[ri + j] -= s;
      }
    }
  }
  return L;
}

/** Solves L Lᵀ X = R for `R` (`n × k`, row-major); returns a new array. */
export function choleskySolve(L: Float64Array, n: number, R: ArrayLike<number>, k: number): Float64Array {
  const X = Float64Array.from(R);
  // forward: L Y = R
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j < i; j++) {
      const f = L[ri + j];
      if (f !== 0) for (let o = 0; o < k; o++) X[i * k + o] -= f * X[j * k + o];
    }
    const d = L[ri + i];
    for (let o = 0; o < k; o++) X[i * k + o] /= d;
  }
  // backward: Lᵀ X = Y
  for (let i = n - 1; i >= 0; i--) {
    const d = L[i * n + i];
    for (let o = 0; o < k; o++) X[i * k + o] /= d;
    for (let j = 0; j < i; j++) {
      const f = L[i * n + j];
      if (f !== 0) for (let o = 0; o < k; o++) X[j * k + o] -= f * X[i * k + o];
    }
  }
  return X;
}

/** The efficiency-constrained solve by LU (or SVD) of the bordered KKT matrix [[A, 1], [1ᵀ, 0]]. */
export function kktSolver(
  A: Float64Array,
  n: number,
): (B: Float64Array, nOut: number, total: ArrayLike<number>) => Float64Array {
  const m = n + 1;
  const K = new Float64Array(m * m);
  for (let i = 0; i < n; i++) {
    K.set(A.subarray(i * n, i * n + n), i * m);
    K[i * m + n] = 1;
    K[n * m + i] = 1;
  }
  const f = factorize(K, m);
  return (B, nOut, total) => {
    const R = new Float64Array(m * nOut);
    R.set(B.subarray(0, n * nOut));
    for (let o = 0; o < nOut; o++) R[n * nOut + o] = total[o];
    const X = f.solve(R, nOut);
    return enforceEfficiency(X.slice(0, n * nOut), n, nOut, total);
  };
}

function toMatrix(M: Float64Array, m: number): Matrix {
  const out = new Matrix(m, m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) out.set(i, j, M[i * m + j]);
  return out;
}

/** Shifts every φ_i by the same amount so that Σ_i φ_i equals `total` (per output). */
export function enforceEfficiency(phi: Float64Array, n: number, nOut: number, total: ArrayLike<number>): Float64Array {
  for (let o = 0; o < nOut; o++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += phi[i * nOut + o];
    const gap = (total[o] - sum) / n;
    if (gap !== 0) for (let i = 0; i < n; i++) phi[i * nOut + o] += gap;
  }
  return phi;
}
