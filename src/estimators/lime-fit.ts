import { InvalidOptionError } from '../errors.js';
import { factorize } from './linear-algebra.js';

/**
 * How LIME picks the features of its local model (python `lime`'s `feature_selection`):
 * - `'none'`: every feature;
 * - `'forward_selection'`: greedily add the feature that most raises the weighted R² of an
 *   unpenalised least-squares fit;
 * - `'highest_weights'`: the k largest |coefficient × instance value| of a ridge fit
 *   (alpha 0.01) on all features;
 * - `'lasso_path'`: walk the LARS-lasso path from its end (least penalty) back to the last
 *   point with at most k non-zero coefficients (so it may return fewer than k);
 * - `'auto'`: forward selection when k ≤ 6, else highest weights (k = min(numFeatures,
 *   features), so every problem with at most 6 features uses forward selection).
 */
export type FeatureSelection = 'none' | 'forward_selection' | 'highest_weights' | 'lasso_path' | 'auto';

/** Valid {@link FeatureSelection} values. */
export const FEATURE_SELECTIONS: readonly FeatureSelection[] = [
  'none',
  'forward_selection',
  'highest_weights',
  'lasso_path',
  'auto',
];

/**
 * Weighted, centred second moments of a design `Z` (`n × P`) and targets `Y` (`n × k`):
 * everything a ridge fit with an unpenalised intercept needs (sklearn's `Ridge` with
 * `sample_weight` centres with weighted means, then solves on √w-scaled rows).
 * @internal
 */
export interface WeightedMoments {
  readonly n: number;
  readonly P: number;
  readonly k: number;
  /** Σw. */
  readonly sw: number;
  /** Weighted means of the columns of Z (P) and of Y (k). */
  readonly zMean: Float64Array;
  readonly yMean: Float64Array;
  /** Σ w (z − z̄)(z − z̄)ᵀ (P × P). */
  readonly G: Float64Array;
  /** Σ w (z − z̄)(y − ȳ)ᵀ (P × k). */
  readonly C: Float64Array;
  /** Σ w (y − ȳ)² (k). */
  readonly syy: Float64Array;
}

/** Computes {@link WeightedMoments}. @internal */
export function weightedMoments(
  Z: Float64Array,
  Y: Float64Array,
  w: Float64Array,
  n: number,
  P: number,
  k: number,
): WeightedMoments {
  let sw = 0;
  const zMean = new Float64Array(P);
  const yMean = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    sw += wi;
    for (let j = 0; j < P; j++) zMean[j] += wi * Z[i * P + j];
    for (let o = 0; o < k; o++) yMean[o] += wi * Y[i * k + o];
  }
  for (let j = 0; j < P; j++) zMean[j] /= sw;
  for (let o = 0; o < k; o++) yMean[o] /= sw;
  const G = new Float64Array(P * P);
  const C = new Float64Array(P * k);
  const syy = new Float64Array(k);
  const zc = new Float64Array(P);
  const yc = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    if (wi === 0) continue;
    for (let j = 0; j < P; j++) zc[j] = Z[i * P + j] - zMean[j];
    for (let o = 0; o < k; o++) {
      yc[o] = Y[i * k + o] - yMean[o];
      syy[o] += wi * yc[o] * yc[o];
    }
    for (let a = 0; a < P; a++) {
      const wa = wi * zc[a];
      if (wa === 0) continue;
      for (let b = a; b < P; b++) G[a * P + b] += wa * zc[b];
      for (let o = 0; o < k; o++) C[a * k + o] += wa * yc[o];
    }
  }
  for (let a = 0; a < P; a++) for (let b = 0; b < a; b++) G[a * P + b] = G[b * P + a];
  return { n, P, k, sw, zMean, yMean, G, C, syy };
}

/** Ridge coefficients (|S| × k) on the features `S` with penalty `alpha`. @internal */
export function ridgeOn(m: WeightedMoments, S: readonly number[], alpha: number): Float64Array {
  const s = S.length;
  const k = m.k;
  if (s === 0) return new Float64Array(0);
  const A = new Float64Array(s * s);
  const R = new Float64Array(s * k);
  for (let a = 0; a < s; a++) {
    for (let b = 0; b < s; b++) A[a * s + b] = m.G[S[a] * m.P + S[b]];
    A[a * s + a] += alpha;
    for (let o = 0; o < k; o++) R[a * k + o] = m.C[S[a] * k + o];
  }
  return factorize(A, s).solve(R, k);
}

/** Weighted R² of coefficients `beta` on `S` for output `o`, from the moments. @internal */
export function r2From(m: WeightedMoments, S: readonly number[], beta: Float64Array, o: number): number {
  const s = S.length;
  const k = m.k;
  let ssr = m.syy[o];
  for (let a = 0; a < s; a++) {
    const ba = beta[a * k + o];
    ssr -= 2 * ba * m.C[S[a] * k + o];
    for (let b = 0; b < s; b++) ssr += ba * m.G[S[a] * m.P + S[b]] * beta[b * k + o];
  }
  return m.syy[o] > 0 ? 1 - Math.max(0, ssr) / m.syy[o] : 1;
}

/**
 * The features LIME's `feature_selection` picks for output `o` (see {@link FeatureSelection}),
 * in the order picked (forward selection) or ranked (highest weights); lasso_path in index order.
 * @param z0 - the instance's interpretable row (for `'highest_weights'`).
 */
export function selectFeatures(
  m: WeightedMoments,
  o: number,
  numFeatures: number,
  method: FeatureSelection,
  z0: Float64Array,
): number[] {
  const P = m.P;
  const all = Array.from({ length: P }, (_, j) => j);
  const kEff = Math.min(numFeatures, P);
  const resolved = method === 'auto' ? (kEff <= 6 ? 'forward_selection' : 'highest_weights') : method;
  if (resolved === 'none') return all;
  if (resolved === 'highest_weights') {
    const single = { ...m, k: 1, C: column(m.C, m.k, o), syy: Float64Array.of(m.syy[o]) };
    const beta = ridgeOn(single, all, 0.01);
    return all
      .map((j) => ({ j, v: Math.abs(beta[j] * z0[j]) }))
      .sort((a, b) => b.v - a.v || a.j - b.j)
      .slice(0, kEff)
      .map((e) => e.j);
  }
  if (resolved === 'forward_selection') {
    const single = { ...m, k: 1, C: column(m.C, m.k, o), syy: Float64Array.of(m.syy[o]) };
    const used: number[] = [];
    const free = new Set(all);
    for (let step = 0; step < kEff; step++) {
      let best = -1;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (const j of free) {
        const S = [...used, j];
        const score = r2From(single, S, ridgeOn(single, S, 0), 0);
        if (score > bestScore) {
          bestScore = score;
          best = j;
        }
      }
      used.push(best);
      free.delete(best);
    }
    return used;
  }
  if (resolved === 'lasso_path') {
    const path = larsLassoPath(m.G, column(m.C, m.k, o), P);
    let chosen: number[] = [];
    for (let i = path.length - 1; i >= 1; i--) {
      chosen = nonzero(path[i]);
      if (chosen.length <= kEff) break;
    }
    return chosen;
  }
  throw new InvalidOptionError('featureSelection', `one of ${FEATURE_SELECTIONS.join(', ')}`, method);
}

function column(C: Float64Array, k: number, o: number): Float64Array {
  const P = C.length / k;
  const out = new Float64Array(P);
  for (let j = 0; j < P; j++) out[j] = C[j * k + o];
  return out;
}

function nonzero(beta: Float64Array): number[] {
  const out: number[] = [];
  for (let j = 0; j < beta.length; j++) if (beta[j] !== 0) out.push(j);
  return out;
}

/**
 * The LARS-lasso path (Efron et al. 2004, with the lasso modification: a coefficient that
 * crosses zero leaves the active set) from the Gram matrix G = XᵀX (P × P) and c = Xᵀy of
 * centred, √w-scaled data — what sklearn's `lars_path(method='lasso')` computes. Returns the
 * coefficients at every breakpoint, the first all zeros.
 * @internal
 */
export function larsLassoPath(G: Float64Array, c0: Float64Array, P: number): Float64Array[] {
  const beta = new Float64Array(P);
  const c = c0.slice();
  const path: Float64Array[] = [beta.slice()];
  const active: number[] = [];
  const inActive = new Uint8Array(P);
  let scale = 0;
  for (let j = 0; j < P; j++) scale = Math.max(scale, Math.abs(c[j]));
  const eps = scale * 1e-12;
  let C = 0;
  let next = -1;
  for (let j = 0; j < P; j++)
    if (Math.abs(c[j]) > C) {
      C = Math.abs(c[j]);
      next = j;
    }
  if (next < 0 || C <= eps) return path;
  active.push(next);
  inActive[next] = 1;
  const sign = new Float64Array(P);
  for (let iter = 0; iter < 8 * P + 8; iter++) {
    const s = active.length;
    for (const j of active) sign[j] = c[j] >= 0 ? 1 : -1;
    const A = new Float64Array(s * s);
    const R = new Float64Array(s);
    for (let a = 0; a < s; a++) {
      for (let b = 0; b < s; b++) A[a * s + b] = G[active[a] * P + active[b]];
      R[a] = sign[active[a]];
    }
    const q = factorize(A, s).solve(R, 1);
    let sq = 0;
    for (let a = 0; a < s; a++) sq += R[a] * q[a];
    if (!(sq > 0)) break;
    const AA = 1 / Math.sqrt(sq);
    const w = q.map((v) => v * AA);
    const aVec = new Float64Array(P);
    for (let j = 0; j < P; j++) {
      let v = 0;
      for (let b = 0; b < s; b++) v += G[j * P + active[b]] * w[b];
      aVec[j] = v;
    }
    let gamma = C / AA;
    let add = -1;
    for (let j = 0; j < P; j++) {
      if (inActive[j]) continue;
      const g1 = (C - c[j]) / (AA - aVec[j]);
      const g2 = (C + c[j]) / (AA + aVec[j]);
      if (g1 > 1e-15 && g1 < gamma) {
        gamma = g1;
        add = j;
      }
      if (g2 > 1e-15 && g2 < gamma) {
        gamma = g2;
        add = j;
      }
    }
    let drop = -1;
    for (let b = 0; b < s; b++) {
      const j = active[b];
      const g = -beta[j] / w[b];
      if (g > 1e-15 && g < gamma) {
        gamma = g;
        drop = b;
        add = -1;
      }
    }
    for (let b = 0; b < s; b++) beta[active[b]] += gamma * w[b];
    for (let j = 0; j < P; j++) c[j] -= gamma * aVec[j];
    C -= gamma * AA;
    if (drop >= 0) {
      const j = active[drop];
      beta[j] = 0;
      active.splice(drop, 1);
      inActive[j] = 0;
    }
    path.push(beta.slice());
    if (add >= 0) {
      active.push(add);
      inActive[add] = 1;
    } else if (drop < 0) break; // the least-squares end of the path
    if (C <= eps || active.length === 0) break;
  }
  return path;
}
