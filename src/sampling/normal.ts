import type { Rng } from './rng.js';

/**
 * The standard normal CDF Φ(x), from the complementary error function (W. J. Cody's
 * rational approximations as in Numerical Recipes' `erfcc`, refined by one step below;
 * relative error under 1e-7, enough to place a draw inside a bin).
 * @internal
 */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** Complementary error function (Numerical Recipes `erfcc`, |relative error| < 1.2e-7). @internal */
export function erfc(x: number): number {
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

// Acklam's coefficients (module constants: the quantile runs once per drawn value)
const A0 = -39.69683028665376;
const A1 = 220.9460984245205;
const A2 = -275.9285104469687;
const A3 = 138.357751867269;
const A4 = -30.66479806614716;
const A5 = 2.506628277459239;
const B0 = -54.47609879822406;
const B1 = 161.5858368580409;
const B2 = -155.6989798598866;
const B3 = 66.80131188771972;
const B4 = -13.28068155288572;
const C0 = -0.007784894002430293;
const C1 = -0.3223964580411365;
const C2 = -2.400758277161838;
const C3 = -2.549732539343734;
const C4 = 4.374664141464968;
const C5 = 2.938163982698783;
const D0 = 0.007784695709041462;
const D1 = 0.3224671290700398;
const D2 = 2.445134137142996;
const D3 = 3.754408661907416;

/**
 * The standard normal quantile Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation
 * followed (unless `refine` is false) by one Halley step on {@link normalCdf}.
 * @internal
 */
export function normalQuantile(p: number, refine = true): number {
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return Number.POSITIVE_INFINITY;
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((C0 * q + C1) * q + C2) * q + C3) * q + C4) * q + C5) / ((((D0 * q + D1) * q + D2) * q + D3) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((A0 * r + A1) * r + A2) * r + A3) * r + A4) * r + A5) * q) /
      (((((B0 * r + B1) * r + B2) * r + B3) * r + B4) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((C0 * q + C1) * q + C2) * q + C3) * q + C4) * q + C5) / ((((D0 * q + D1) * q + D2) * q + D3) * q + 1);
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
export interface TruncatedNormal {
  readonly mean: number;
  readonly sd: number;
  readonly lo: number;
  readonly hi: number;
  readonly a: number;
  readonly b: number;
  readonly pa: number;
  readonly pb: number;
  readonly flip: boolean;
}

/** Prepares {@link drawTruncatedNormal} for N(mean, sd²) on [lo, hi], lo < hi. @internal */
export function truncatedNormalOf(mean: number, sd: number, lo: number, hi: number): TruncatedNormal {
  let a = (lo - mean) / sd;
  let b = (hi - mean) / sd;
  const flip = a > 0;
  if (flip) {
    const t = a;
    a = -b;
    b = -t;
  }
  return { mean, sd, lo, hi, a, b, pa: normalCdf(a), pb: normalCdf(b), flip };
}

/**
 * A draw from a prepared truncated normal by inverting the CDF between Φ(a) and Φ(b) — the
 * distribution scipy's `truncnorm.rvs` samples (python lime's per-bin draw). When the
 * interval's probability underflows (far in a tail) the draw is uniform on [lo, hi].
 * @internal
 */
export function drawTruncatedNormal(rng: Rng, t: TruncatedNormal): number {
  return truncatedNormalAt(t, rng.float());
}

/**
 * The truncated normal's value at the uniform `u` in [0, 1) (its inverse CDF, see
 * {@link drawTruncatedNormal}): a deterministic transform, for samplers that supply their own
 * uniforms.
 * @internal
 */
export function truncatedNormalAt(t: TruncatedNormal, u: number): number {
  let z: number;
  const width = t.pb - t.pa;
  if (width > 1e-300) {
    z = normalQuantile(t.pa + u * width, false);
    z = Number.isFinite(z) ? Math.min(t.b, Math.max(t.a, z)) : t.a + u * (t.b - t.a);
  } else z = t.a + u * (t.b - t.a);
  const x = t.mean + t.sd * (t.flip ? -z : z);
  return Math.min(t.hi, Math.max(t.lo, x));
}

/** One draw from N(mean, sd²) truncated to [lo, hi] (lo < hi). @internal */
export function truncatedNormal(rng: Rng, mean: number, sd: number, lo: number, hi: number): number {
  return drawTruncatedNormal(rng, truncatedNormalOf(mean, sd, lo, hi));
}
