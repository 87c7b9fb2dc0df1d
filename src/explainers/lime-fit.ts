import { InvalidOptionError } from '../errors.js';
import { factorize } from '../numerics/linear-algebra.js';

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

/** Reusable scratch buffers for {@link weightedMoments} (one per explained-row loop). @internal */
export interface MomentsWorkspace {
  /** Centred columns, column-major (`P × n`), and the same times the weights. */
  zc: Float64Array;
  wzc: Float64Array;
  yc: Float64Array;
  /** One row's non-zero entries (sparse path). */
  idx: Int32Array;
  val: Float64Array;
}

/** A workspace for {@link weightedMoments}; pass the same one for every row. @internal */
export function momentsWorkspace(): MomentsWorkspace {
  return {
    zc: new Float64Array(0),
    wzc: new Float64Array(0),
    yc: new Float64Array(0),
    idx: new Int32Array(0),
    val: new Float64Array(0),
  };
}

/**
 * Computes {@link WeightedMoments} in one or two passes over the rows, in plain typed-array
 * loops (no n × P matrices are formed):
 * - mostly-zero designs (LIME's binned and categorical features are 0/1, about a quarter of
 *   them 1): per row only its non-zero entries, Σ w z zᵀ and Σ w z y accumulated over their
 *   pairs, then centred with the weighted means (G = Σ w z zᵀ − Σw · z̄ z̄ᵀ; the entries are
 *   bounded by Σw, so the subtraction loses no more than a digit or two);
 * - dense designs (Gaussian sampling): the centred columns transposed once (column-major),
 *   every entry of G and C then a contiguous dot product over the rows, four at a time.
 * @param ws - scratch buffers reused across calls (see {@link momentsWorkspace}).
 * @internal
 */
export function weightedMoments(
  Z: Float64Array,
  Y: Float64Array,
  w: Float64Array,
  n: number,
  P: number,
  k: number,
  ws: MomentsWorkspace = momentsWorkspace(),
): WeightedMoments {
  let sw = 0;
  let nnz = 0;
  const zMean = new Float64Array(P);
  const yMean = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    sw += wi;
    const row = i * P;
    for (let j = 0; j < P; j++) {
      const v = Z[row + j];
      if (v !== 0) {
        nnz++;
        zMean[j] += wi * v;
      }
    }
    for (let o = 0; o < k; o++) yMean[o] += wi * Y[i * k + o];
  }
  for (let j = 0; j < P; j++) zMean[j] /= sw;
  for (let o = 0; o < k; o++) yMean[o] /= sw;
  const G = new Float64Array(P * P);
  const C = new Float64Array(P * k);
  const syy = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    for (let o = 0; o < k; o++) {
      const v = Y[i * k + o] - yMean[o];
      syy[o] += wi * v * v;
    }
  }
  if (nnz <= 0.4 * n * P) sparseMoments(Z, Y, w, n, P, k, ws, zMean, yMean, sw, G, C);
  else denseMoments(Z, Y, w, n, P, k, ws, zMean, yMean, G, C);
  for (let a = 0; a < P; a++) for (let b = 0; b < a; b++) G[a * P + b] = G[b * P + a];
  return { n, P, k, sw, zMean, yMean, G, C, syy };
}

function sparseMoments(
  Z: Float64Array,
  Y: Float64Array,
  w: Float64Array,
  n: number,
  P: number,
  k: number,
  ws: MomentsWorkspace,
  zMean: Float64Array,
  yMean: Float64Array,
  sw: number,
  G: Float64Array,
  C: Float64Array,
): void {
  if (ws.idx.length < P) {
    ws.idx = new Int32Array(P);
    ws.val = new Float64Array(P);
  }
  const idx = ws.idx;
  const val = ws.val;
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    if (wi === 0) continue;
    const row = i * P;
    let m = 0;
    for (let j = 0; j < P; j++) {
      const v = Z[row + j];
      if (v !== 0) {
        idx[m] = j;
        val[m++] = v;
      }
    }
    for (let x = 0; x < m; x++) {
      const a = idx[x];
      const wa = wi * val[x];
      const ra = a * P;
      for (let y = x; y < m; y++) G[ra + idx[y]] += wa * val[y];
      for (let o = 0; o < k; o++) C[a * k + o] += wa * Y[i * k + o];
    }
  }
  for (let a = 0; a < P; a++) {
    const ma = sw * zMean[a];
    for (let b = a; b < P; b++) G[a * P + b] -= ma * zMean[b];
    for (let o = 0; o < k; o++) C[a * k + o] -= ma * yMean[o];
  }
}

function denseMoments(
  Z: Float64Array,
  Y: Float64Array,
  w: Float64Array,
  n: number,
  P: number,
  k: number,
  ws: MomentsWorkspace,
  zMean: Float64Array,
  yMean: Float64Array,
  G: Float64Array,
  C: Float64Array,
): void {
  if (ws.zc.length < P * n) {
    ws.zc = new Float64Array(P * n);
    ws.wzc = new Float64Array(P * n);
  }
  if (ws.yc.length < k * n) ws.yc = new Float64Array(k * n);
  const zc = ws.zc;
  const wzc = ws.wzc;
  const yc = ws.yc;
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    const row = i * P;
    for (let j = 0; j < P; j++) {
      const v = Z[row + j] - zMean[j];
      zc[j * n + i] = v;
      wzc[j * n + i] = wi * v;
    }
    for (let o = 0; o < k; o++) yc[o * n + i] = Y[i * k + o] - yMean[o];
  }
  for (let a = 0; a < P; a++) {
    const ra = a * n;
    // four columns per pass: four independent sums, one weighted-column load each step
    let b = a;
    for (; b + 3 < P; b += 4) {
      const r0 = b * n;
      const r1 = r0 + n;
      const r2 = r1 + n;
      const r3 = r2 + n;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let i = 0; i < n; i++) {
        const wa = wzc[ra + i];
        s0 += wa * zc[r0 + i];
        s1 += wa * zc[r1 + i];
        s2 += wa * zc[r2 + i];
        s3 += wa * zc[r3 + i];
      }
      G[a * P + b] = s0;
      G[a * P + b + 1] = s1;
      G[a * P + b + 2] = s2;
      G[a * P + b + 3] = s3;
    }
    for (; b < P; b++) {
      const rb = b * n;
      let s0 = 0;
      for (let i = 0; i < n; i++) s0 += wzc[ra + i] * zc[rb + i];
      G[a * P + b] = s0;
    }
    for (let o = 0; o < k; o++) {
      const yo = o * n;
      let s0 = 0;
      for (let i = 0; i < n; i++) s0 += wzc[ra + i] * yc[yo + i];
      C[a * k + o] = s0;
    }
  }
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
  if (resolved === 'forward_selection') return forwardSelection(m, o, kEff);
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

/**
 * Forward selection on the moments (python lime's `forward_selection`: at each step add the
 * feature whose unpenalised least-squares fit together with the features chosen so far has
 * the highest weighted R², ties to the lowest index). Instead of refitting every candidate
 * set, the Gram matrix is swept: after choosing S, `Gr = G − G·S G_SS⁻¹ GS·` and
 * `cr = c − G·S G_SS⁻¹ c_S` are the moments of the residuals on S, and adding j lowers the
 * residual sum of squares by `cr_j² / Gr_jj` exactly (0 when j is collinear with S, where a
 * least-squares refit gains nothing either). O(k·P²) instead of O(k·P·k³).
 */
function forwardSelection(m: WeightedMoments, o: number, kEff: number): number[] {
  const P = m.P;
  const Gr = m.G.slice();
  const cr = column(m.C, m.k, o);
  const syy = m.syy[o];
  let ssr = syy;
  const diag0 = new Float64Array(P);
  for (let j = 0; j < P; j++) diag0[j] = m.G[j * P + j];
  const free = new Uint8Array(P).fill(1);
  const used: number[] = [];
  for (let step = 0; step < kEff; step++) {
    let best = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < P; j++) {
      if (!free[j]) continue;
      const gjj = Gr[j * P + j];
      const after = gjj > 1e-12 * diag0[j] && gjj > 0 ? ssr - (cr[j] * cr[j]) / gjj : ssr;
      const score = syy > 0 ? 1 - Math.max(0, after) / syy : 1;
      if (score > bestScore) {
        bestScore = score;
        best = j;
      }
    }
    used.push(best);
    free[best] = 0;
    const gbb = Gr[best * P + best];
    if (!(gbb > 1e-12 * diag0[best] && gbb > 0)) continue; // collinear: the residuals do not change
    // project every column's residual off the chosen one (rank-1 update of Gr and cr)
    const rowB = Gr.slice(best * P, best * P + P);
    const cb = cr[best];
    ssr -= (cb * cb) / gbb;
    for (let u = 0; u < P; u++) {
      const f = rowB[u] / gbb;
      if (f === 0) continue;
      const ru = u * P;
      for (let v = 0; v < P; v++) Gr[ru + v] -= f * rowB[v];
      cr[u] -= f * cb;
    }
  }
  return used;
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
