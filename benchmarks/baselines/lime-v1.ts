/**
 * The first LIME implementation (main at 5383178, before the perf-lime rewrite), kept
 * verbatim for the `lime-surrogate` benchmark's before/after phase breakdown: sampling
 * (`limeSampleV1`), kernel weights, weighted moments, feature selection and the final
 * ridge fit. It shares only the training statistics (`LimeStats`, unchanged) and the small
 * LU/SVD `factorize` with src/. Not used by the library.
 */
import { InvalidOptionError } from '../../src/errors.js';
import type { ResolvedLimeSettings } from '../../src/explainers/lime.js';
import type { FeatureSelection } from '../../src/explainers/lime-fit.js';
import { FEATURE_SELECTIONS } from '../../src/explainers/lime-fit.js';
import { factorize } from '../../src/numerics/linear-algebra.js';
import type { LimeFeature, LimeSample, LimeStats } from '../../src/sampling/lime-sampler.js';
import { binOf } from '../../src/sampling/lime-sampler.js';
import type { Rng } from '../../src/sampling/rng.js';

function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** Complementary error function (Numerical Recipes `erfcc`, |relative error| < 1.2e-7). @internal */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/**
 * The standard normal quantile Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation
 * followed (unless `refine` is false) by one Halley step on {@link normalCdf}.
 * @internal
 */
function normalQuantile(p: number, refine = true): number {
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return Number.POSITIVE_INFINITY;
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
      (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x =
      -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (!refine) return x; // Acklam alone: relative error < 1.2e-9, plenty for sampling
  // one Halley step
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  const refined = x - u / (1 + (x * u) / 2);
  return Number.isFinite(refined) ? refined : x;
}

/**
 * N(mean, sd²) truncated to [lo, hi], prepared for repeated draws: the standardised bounds
 * and their CDF values are computed once (bounds in the upper tail are mirrored into the
 * lower tail, where Φ keeps its relative precision).
 * @internal
 */

/**
 * A draw from a prepared truncated normal by inverting the CDF between Φ(a) and Φ(b) — the
 * distribution scipy's `truncnorm.rvs` samples (python lime's per-bin draw). When the
 * interval's probability underflows (far in a tail) the draw is uniform on [lo, hi].
 * @internal
 */
function drawTruncatedNormal(rng: Rng, t: TruncatedNormalV1): number {
  let z: number;
  if (t.pb - t.pa > 1e-300) {
    z = normalQuantile(t.pa + rng.float() * (t.pb - t.pa), false);
    z = Number.isFinite(z) ? Math.min(t.b, Math.max(t.a, z)) : t.a + rng.float() * (t.b - t.a);
  } else z = t.a + rng.float() * (t.b - t.a);
  const x = t.mean + t.sd * (t.flip ? -z : z);
  return Math.min(t.hi, Math.max(t.lo, x));
}

type TruncatedNormalV1 = {
  mean: number;
  sd: number;
  lo: number;
  hi: number;
  a: number;
  b: number;
  pa: number;
  pb: number;
  flip: boolean;
};
/** Index of the training pattern equal to the instance's values, or -1. */
function patternIndex(f: Extract<LimeFeature, { kind: 'categorical' }>, x: Float64Array): number {
  const k = f.columns.length;
  const levels = f.freq.length;
  outer: for (let i = 0; i < levels; i++) {
    for (let j = 0; j < k; j++) if (f.patterns[i * k + j] !== x[f.columns[j]]) continue outer;
    return i;
  }
  return -1;
}
/** Draws an index with the given probabilities (cumulative search). */
function choose(rng: Rng, freq: Float64Array): number {
  const u = rng.float();
  let acc = 0;
  for (let i = 0; i < freq.length; i++) {
    acc += freq[i];
    if (u < acc) return i;
  }
  return freq.length - 1;
}

/**
 * LIME's neighbourhood of instance `x` (python `lime`'s `__data_inverse`): `n` rows, row 0
 * the instance. Per feature, column by column:
 * - continuous (`'none'`): z ~ N(0, 1), value = z·std + mean (or + x with
 *   `aroundInstance`); interpretable value (value − mean) / std;
 * - binned: a bin drawn with its training frequency, interpretable value 1 when it is the
 *   instance's bin (else 0), value drawn from N(bin mean, bin std²) truncated to the bin's
 *   bounds (a one-point bin gives its bound);
 * - categorical / group: a training pattern drawn with its frequency, interpretable value 1
 *   when it equals the instance's, the pattern written to the model row.
 */
export function limeSampleV1(
  stats: LimeStats,
  x: Float64Array,
  n: number,
  rng: Rng,
  aroundInstance = false,
): LimeSample {
  const d = stats.nColumns;
  const P = stats.features.length;
  const rows = new Float64Array(n * d);
  const z = new Float64Array(n * P);
  rows.set(x.subarray(0, d), 0);
  for (let p = 0; p < P; p++) {
    const f = stats.features[p];
    if (f.kind === 'continuous') {
      const c = f.column;
      const center = aroundInstance ? x[c] : f.mean;
      z[p] = (x[c] - f.mean) / f.std;
      for (let i = 1; i < n; i++) {
        const v = rng.normal() * f.std + center;
        rows[i * d + c] = v;
        z[i * P + p] = (v - f.mean) / f.std;
      }
    } else if (f.kind === 'binned') {
      const c = f.column;
      const own = binOf(f.edges, x[c]);
      z[p] = 1;
      for (let i = 1; i < n; i++) {
        const b = choose(rng, f.freq);
        z[i * P + p] = b === own ? 1 : 0;
        const t = f.draw[b];
        rows[i * d + c] = t ? drawTruncatedNormal(rng, t) : f.lo[b];
      }
    } else {
      const own = patternIndex(f, x);
      const k = f.columns.length;
      z[p] = 1;
      for (let i = 1; i < n; i++) {
        const l = choose(rng, f.freq);
        z[i * P + p] = l === own ? 1 : 0;
        for (let j = 0; j < k; j++) rows[i * d + f.columns[j]] = f.patterns[l * k + j];
      }
    }
  }
  return { rows, z, n };
}
interface WeightedMoments {
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
export function weightedMomentsV1(
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
function ridgeOn(m: WeightedMoments, S: readonly number[], alpha: number): Float64Array {
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
function r2From(m: WeightedMoments, S: readonly number[], beta: Float64Array, o: number): number {
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
export function selectFeaturesV1(
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
function larsLassoPath(G: Float64Array, c0: Float64Array, P: number): Float64Array[] {
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
export function kernelWeightsV1(z: Float64Array, n: number, P: number, s: ResolvedLimeSettings, w: Float64Array): void {
  let norm0 = 0;
  for (let j = 0; j < P; j++) norm0 += z[j] * z[j];
  norm0 = Math.sqrt(norm0);
  let positive = 0;
  for (let i = 0; i < n; i++) {
    let dist = 0;
    if (s.distance === 'euclidean') {
      for (let j = 0; j < P; j++) dist += (z[i * P + j] - z[j]) ** 2;
      dist = Math.sqrt(dist);
    } else if (s.distance === 'manhattan') {
      for (let j = 0; j < P; j++) dist += Math.abs(z[i * P + j] - z[j]);
    } else {
      let dot = 0;
      let nn = 0;
      for (let j = 0; j < P; j++) {
        dot += z[i * P + j] * z[j];
        nn += z[i * P + j] ** 2;
      }
      // sklearn's cosine distance treats a zero vector as having norm 1
      dist = 1 - dot / ((Math.sqrt(nn) || 1) * (norm0 || 1));
      if (dist < 0) dist = 0;
    }
    const k = s.kernel(dist, s.kernelWidth);
    if (typeof k !== 'number' || !Number.isFinite(k) || k < 0)
      throw new InvalidOptionError(
        'kernel',
        'a function returning finite weights >= 0',
        k,
        `it returned this for distance ${dist}`,
      );
    w[i] = k;
    if (k > 0) positive++;
  }
  if (positive < 2)
    throw new InvalidOptionError(
      'kernelWidth',
      'wide enough that at least two samples get a positive kernel weight',
      s.kernelWidth,
      `${positive} of ${n} samples have weight > 0: raise kernelWidth`,
    );
}

/**
 * Final weighted ridge on features `S` for output `o`, solved from the row's full moments
 * (the selected block of G and C), with the weighted R² from the residuals.
 */
export function ridgeFitV1(
  Z: Float64Array,
  Y: Float64Array,
  w: Float64Array,
  m: WeightedMoments,
  o: number,
  S: readonly number[],
  alpha: number,
): { beta: Float64Array; intercept: number; score: number } {
  const { n, P, k } = m;
  const s = S.length;
  const beta1 =
    s > 0
      ? ridgeOn({ ...m, k: 1, C: columnOf(m.C, k, o), syy: Float64Array.of(m.syy[o]) }, S, alpha)
      : new Float64Array(0);
  let intercept = m.yMean[o];
  for (let a = 0; a < s; a++) intercept -= m.zMean[S[a]] * beta1[a];
  let ssr = 0;
  for (let i = 0; i < n; i++) {
    let pred = intercept;
    for (let a = 0; a < s; a++) pred += beta1[a] * Z[i * P + S[a]];
    ssr += w[i] * (Y[i * k + o] - pred) ** 2;
  }
  const syy = m.syy[o];
  // sklearn's r2_score for constant targets: 1 when fitted exactly, else 0; "constant" up to
  // rounding relative to the targets' size (a constant model's outputs may differ in the last bit)
  const scale = m.sw * (m.yMean[o] * m.yMean[o] + 1e-300);
  const constant = syy <= 1e-24 * scale;
  const score = constant ? (ssr <= 1e-20 * scale ? 1 : 0) : 1 - ssr / syy;
  return { beta: beta1, intercept, score };
}

function columnOf(C: Float64Array, k: number, o: number): Float64Array {
  const P = C.length / k;
  const out = new Float64Array(P);
  for (let j = 0; j < P; j++) out[j] = C[j * k + o];
  return out;
}
