import { InvalidOptionError, throwIfAborted } from '../errors.js';
import { CoalitionCache } from '../games/coalition-cache.js';
import type { Game } from '../games/game.js';
import { edgeMasks } from '../games/game.js';
import type { CoalitionDesign } from '../sampling/coalitions.js';
import { PairedSampler, shapKernelDesign } from '../sampling/coalitions.js';
import type { EstimatorContext, ShapleyEstimate } from './estimate.js';
import { convergenceRatio } from './estimate.js';
import { enforceEfficiency, luSolve, normalEquations, solveEfficient, svdSolve, symmetrize } from './linear-algebra.js';

/**
 * Regression estimators of Shapley values ("Kernel SHAP" family):
 * - `'leverage'` — Leverage SHAP (Musco & Witter, ICLR 2025): coalition sizes sampled
 *   uniformly (leverage scores), paired, without replacement, Horvitz–Thompson weights.
 * - `'kernel'` — the same machinery with the Shapley-kernel size distribution 1/(s(n−s)).
 * - `'msr'` — regression-adjusted Monte Carlo (Witter, Liu & Musco 2025): a quadratic
 *   (pairwise) surrogate fitted on the sample, its exact Shapley values, plus an unbiased
 *   Horvitz–Thompson estimate of the Shapley values of the residual game (maximum sample reuse).
 * - `'shap'` — shap's KernelExplainer sampling (with replacement, merged duplicates), kept
 *   for comparison.
 */
export type KernelVariant = 'leverage' | 'kernel' | 'msr' | 'shap';

/** Variants, for option validation and help texts. */
export const KERNEL_VARIANTS: readonly KernelVariant[] = ['leverage', 'kernel', 'msr', 'shap'];

/** Options of {@link kernelShap}. */
export interface KernelShapOptions {
  /**
   * Most coalition values v(S) per row (including ∅ and N), or `'auto'`: grow the sample
   * (doubling, nested) until max standard error / (max value − min value) < `tolerance`
   * or `maxBudget` is reached. @defaultValue 2 · nPlayers + 2048
   */
  budget?: number | 'auto';
  /** Estimator variant. @defaultValue 'leverage' */
  variant?: KernelVariant;
  /** Stopping threshold of `budget: 'auto'`. @defaultValue 0.01 */
  tolerance?: number;
  /** Budget cap of `budget: 'auto'`. @defaultValue 65536 */
  maxBudget?: number;
  /**
   * Sparse mode: keep the `topK` players with the largest |value| and re-solve with the
   * others fixed at 0 (efficiency still exact), like shap's `l1_reg="num_features(k)"`.
   * @defaultValue all players
   */
  topK?: number;
}

/** Defaults of {@link KernelShapOptions}. */
export const KERNEL_DEFAULTS = { variant: 'leverage', tolerance: 0.01, maxBudget: 65536, autoStart: 512 } as const;

/** The default budget: 2 · nPlayers + 2048, as shap's KernelExplainer. */
export function defaultBudget(nPlayers: number): number {
  return 2 * nPlayers + 2048;
}

/** Validates a budget option (an integer ≥ 2). */
export function resolveBudget(budget: unknown, nPlayers: number, option = 'budget'): number {
  const b = budget ?? defaultBudget(nPlayers);
  if (typeof b !== 'number' || !Number.isInteger(b) || b < 2)
    throw new InvalidOptionError(option, "an integer >= 2 (coalition values per row) or 'auto'", budget);
  return b;
}

/**
 * Kernel SHAP: Shapley values as the solution of a weighted least-squares problem over
 * sampled coalitions, with the efficiency constraint Σφ = v(N) − v(∅) solved exactly
 * (KKT system). Standard errors by a delete-a-group jackknife over the sampled pairs.
 */
export async function kernelShap(
  game: Game,
  options: KernelShapOptions,
  ctx: EstimatorContext,
): Promise<ShapleyEstimate> {
  const n = game.nPlayers;
  const nOut = game.nOutputs;
  const variant = options.variant ?? KERNEL_DEFAULTS.variant;
  if (!KERNEL_VARIANTS.includes(variant))
    throw new InvalidOptionError('variant', `one of ${KERNEL_VARIANTS.join(', ')}`, variant);
  const auto = options.budget === 'auto';
  const tolerance = options.tolerance ?? KERNEL_DEFAULTS.tolerance;
  if (!(tolerance > 0)) throw new InvalidOptionError('tolerance', 'a number > 0', tolerance);
  const maxBudget = resolveBudget(options.maxBudget ?? KERNEL_DEFAULTS.maxBudget, n, 'maxBudget');
  const budget = auto
    ? Math.min(maxBudget, Math.max(KERNEL_DEFAULTS.autoStart, 2 * n + 2))
    : resolveBudget(options.budget, n);
  const topK = options.topK;
  if (topK !== undefined && (!Number.isInteger(topK) || topK < 1))
    throw new InvalidOptionError('topK', 'a positive integer', topK);
  if (auto && variant === 'shap')
    throw new InvalidOptionError('budget', "a number with variant 'shap' (it has no standard errors)", 'auto');

  const cache = new CoalitionCache(game);
  const edges = await cache.values(edgeMasks(n), 2, ctx.signal);
  const v0 = edges.slice(0, nOut);
  const v1 = edges.slice(nOut, 2 * nOut);
  const total = v1.map((v, o) => v - v0[o]);
  const done = (values: Float64Array, exact: boolean, stderr?: Float64Array, converged?: boolean): ShapleyEstimate => ({
    values,
    stderr,
    baseValue: v0,
    fullValue: v1,
    evaluations: cache.evaluations,
    exact,
    converged,
  });
  if (n === 1) return done(total.slice(), true, new Float64Array(nOut), auto ? true : undefined);

  if (variant === 'shap') {
    const d = shapKernelDesign(n, budget, ctx.rng);
    const y = await cache.values(d.masks, d.count, ctx.signal);
    center(y, v0, nOut);
    const eq = normalEquations(d.masks, d.count, n, d.weights, y, nOut);
    symmetrize(eq.A, n);
    let phi = solveEfficient(eq.A, eq.B, n, nOut, total);
    if (topK !== undefined && topK < n) phi = sparseResolve(phi, eq.A, eq.B, n, nOut, total, topK);
    ctx.onProgress?.({ done: cache.evaluations, total: budget });
    return done(phi, d.complete);
  }

  const mass = variant === 'kernel' ? (s: number) => 1 / (s * (n - s)) : () => 1;
  const sampler = new PairedSampler(n, mass, ctx.rng);
  let b = budget;
  for (;;) {
    throwIfAborted(ctx.signal);
    const design = sampler.design(b);
    const y = await cache.values(design.masks, design.count, ctx.signal);
    center(y, v0, nOut);
    const fit = variant === 'msr' ? fitMsr(design, y, nOut, total) : fitKernel(design, y, nOut, total);
    ctx.onProgress?.({ done: cache.evaluations, total: auto ? maxBudget : budget });
    const exact = design.complete;
    const stderr = exact ? new Float64Array(n * nOut) : fit.stderr;
    if (!auto) {
      let phi = fit.values;
      if (topK !== undefined && topK < n) {
        const eq = kernelEquations(design, y, nOut);
        phi = sparseResolve(phi, eq.A, eq.B, n, nOut, total, topK);
        return done(phi, exact);
      }
      return done(phi, exact, stderr);
    }
    const ratio = stderr ? convergenceRatio(fit.values, stderr, n, nOut) : 0;
    const converged = exact || ratio < tolerance;
    if (converged || b >= maxBudget || design.count + 2 >= 2 ** n) return done(fit.values, exact, stderr, converged);
    b = Math.min(maxBudget, 2 * b);
  }
}

function center(y: Float64Array, v0: Float64Array, nOut: number): void {
  for (let i = 0; i < y.length; i++) y[i] -= v0[i % nOut];
}

/** Shapley-kernel regression weight per design coalition: (n−1)/(s(n−s)) · unit(S). */
function kernelWeights(design: CoalitionDesign): Float64Array {
  const n = design.n;
  return Float64Array.from(design.unit, (u, s) => ((n - 1) / (design.sizes[s] * (n - design.sizes[s]))) * u);
}

function kernelEquations(design: CoalitionDesign, y: Float64Array, nOut: number) {
  const eq = normalEquations(design.masks, design.count, design.n, kernelWeights(design), y, nOut);
  symmetrize(eq.A, design.n);
  return eq;
}

interface Fit {
  values: Float64Array;
  stderr?: Float64Array;
}

/**
 * Constrained weighted least squares on the design, plus delete-a-group jackknife
 * standard errors: group g's pairs are left out and the other sampled pairs reweighted by
 * G/(G−1).
 */
function fitKernel(design: CoalitionDesign, y: Float64Array, nOut: number, total: Float64Array): Fit {
  const { n, groups } = design;
  const w = kernelWeights(design);
  const enumEq = normalEquations(design.masks, design.count, n, w, y, nOut, (s) => design.group[s] < 0);
  const groupEq = Array.from({ length: groups }, (_, g) =>
    normalEquations(design.masks, design.count, n, w, y, nOut, (s) => design.group[s] === g),
  );
  const A = enumEq.A.slice();
  const B = enumEq.B.slice();
  for (const eq of groupEq) {
    addInto(A, eq.A, 1);
    addInto(B, eq.B, 1);
  }
  const values = solveEfficient(symmetrize(A, n), B, n, nOut, total);
  if (groups < 2) return { values };
  const f = groups / (groups - 1);
  const replicates = groupEq.map((left) => {
    const Ag = enumEq.A.slice();
    const Bg = enumEq.B.slice();
    for (const eq of groupEq)
      if (eq !== left) {
        addInto(Ag, eq.A, f);
        addInto(Bg, eq.B, f);
      }
    return solveEfficient(symmetrize(Ag, n), Bg, n, nOut, total);
  });
  return { values, stderr: jackknife(replicates, n * nOut) };
}

/**
 * Regression-adjusted Monte Carlo (MSR): φ = φ(g) + Σ_S r(S) c_i(S) / π(S), where g is a
 * pairwise (2-additive) surrogate fitted by kernel-weighted least squares with g(∅) = 0 and
 * g(N) = v(N) − v(∅), φ_i(g) = β_i + ½ Σ_j γ_ij, r = v − g, and c_i(S) = p_{|S|−1} for i ∈ S,
 * −p_{|S|} otherwise. Σ_i c_i(S) = 0 for every 0 < |S| < n, so efficiency holds exactly.
 * Games with more than {@link MSR_MAX_PAIRWISE_PLAYERS} players use a linear surrogate
 * (the estimate then equals `'kernel'`'s regression).
 */
function fitMsr(design: CoalitionDesign, y: Float64Array, nOut: number, total: Float64Array): Fit {
  const { n, count, masks, sizes, unit, groups } = design;
  if (n > MSR_MAX_PAIRWISE_PLAYERS) return fitKernel(design, y, nOut, total);
  const p = n + (n * (n - 1)) / 2;
  const w = kernelWeights(design);
  // normal equations over features [z_i, z_i z_j (i<j)]
  const A = new Float64Array(p * p);
  const B = new Float64Array(p * nOut);
  const feat = new Int32Array(p);
  const pairIndex = (i: number, j: number) => n + (i * (2 * n - i - 1)) / 2 + (j - i - 1);
  const featuresOf = (s: number): number => {
    let k = 0;
    const row = s * n;
    const on: number[] = [];
    for (let j = 0; j < n; j++) if (masks[row + j] !== 0) on.push(j);
    for (const j of on) feat[k++] = j;
    for (let a = 0; a < on.length; a++) for (let b = a + 1; b < on.length; b++) feat[k++] = pairIndex(on[a], on[b]);
    return k;
  };
  for (let s = 0; s < count; s++) {
    const k = featuresOf(s);
    const ws = w[s];
    for (let a = 0; a < k; a++) {
      const fa = feat[a] * p;
      for (let b = a; b < k; b++) A[fa + feat[b]] += ws;
      for (let o = 0; o < nOut; o++) B[feat[a] * nOut + o] += ws * y[s * nOut + o];
    }
  }
  symmetrize(A, p);
  // light ridge on the pairwise terms keeps the fit defined when pairs outnumber coalitions
  let meanDiag = 0;
  for (let i = 0; i < n; i++) meanDiag += A[i * p + i] / n;
  for (let i = n; i < p; i++) A[i * p + i] += 1e-6 * meanDiag;
  // KKT: Σ_all θ = total (g(N), where every feature is 1)
  const m = p + 1;
  const K = new Float64Array(m * m);
  const R = new Float64Array(m * nOut);
  for (let i = 0; i < p; i++) {
    K.set(A.subarray(i * p, i * p + p), i * m);
    K[i * m + p] = 1;
    K[p * m + i] = 1;
    for (let o = 0; o < nOut; o++) R[i * nOut + o] = B[i * nOut + o];
  }
  for (let o = 0; o < nOut; o++) R[p * nOut + o] = total[o];
  const theta = luSolve(K.slice(), R.slice(), m, nOut) ?? svdSolve(K, R, m, nOut);
  // exact Shapley values of the surrogate
  const phiG = new Float64Array(n * nOut);
  for (let i = 0; i < n; i++) for (let o = 0; o < nOut; o++) phiG[i * nOut + o] = theta[i * nOut + o];
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++)
      for (let o = 0; o < nOut; o++) {
        const half = theta[pairIndex(i, j) * nOut + o] / 2;
        phiG[i * nOut + o] += half;
        phiG[j * nOut + o] += half;
      }
  // Horvitz–Thompson estimate of the residual game's Shapley values, per jackknife group
  const parts = Array.from({ length: groups + 1 }, () => new Float64Array(n * nOut)); // [enumerated, g0..]
  const r = new Float64Array(nOut);
  for (let s = 0; s < count; s++) {
    const k = featuresOf(s);
    for (let o = 0; o < nOut; o++) {
      let g = 0;
      for (let a = 0; a < k; a++) g += theta[feat[a] * nOut + o];
      r[o] = y[s * nOut + o] - g;
    }
    const size = sizes[s];
    const inS = unit[s] / size;
    const outS = -unit[s] / (n - size);
    const part = parts[design.group[s] + 1];
    for (let i = 0; i < n; i++) {
      const c = masks[s * n + i] !== 0 ? inS : outS;
      for (let o = 0; o < nOut; o++) part[i * nOut + o] += c * r[o];
    }
  }
  const combine = (skip: number, f: number) => {
    const phi = phiG.slice();
    addInto(phi, parts[0], 1);
    for (let g = 0; g < groups; g++) if (g !== skip) addInto(phi, parts[g + 1], f);
    return enforceEfficiency(phi, n, nOut, total);
  };
  const values = combine(-1, 1);
  if (groups < 2) return { values };
  const replicates = Array.from({ length: groups }, (_, g) => combine(g, groups / (groups - 1)));
  return { values, stderr: jackknife(replicates, n * nOut) };
}

/** Players above which `'msr'` falls back to a linear surrogate (pairwise terms grow as n²/2). */
export const MSR_MAX_PAIRWISE_PLAYERS = 32;

/** Delete-a-group jackknife standard error: sqrt((G−1)/G · Σ_g (θ_(g) − θ̄)²). */
function jackknife(replicates: Float64Array[], len: number): Float64Array {
  const G = replicates.length;
  const mean = new Float64Array(len);
  for (const r of replicates) for (let i = 0; i < len; i++) mean[i] += r[i] / G;
  const se = new Float64Array(len);
  for (const r of replicates) for (let i = 0; i < len; i++) se[i] += (r[i] - mean[i]) ** 2;
  for (let i = 0; i < len; i++) se[i] = Math.sqrt(((G - 1) / G) * se[i]);
  return se;
}

function addInto(dst: Float64Array, src: Float64Array, f: number): void {
  for (let i = 0; i < dst.length; i++) dst[i] += f * src[i];
}

/**
 * Keeps the `k` players with the largest |φ| (per output) and re-solves the constrained
 * regression over them only; the others get exactly 0.
 */
function sparseResolve(
  phi: Float64Array,
  A: Float64Array,
  B: Float64Array,
  n: number,
  nOut: number,
  total: Float64Array,
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
