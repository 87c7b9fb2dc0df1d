import { BudgetError, InvalidOptionError, throwIfAborted } from '../errors.js';
import { CoalitionCache } from '../games/coalition-cache.js';
import type { Game } from '../games/game.js';
import { edgeMasks } from '../games/game.js';
import type { InterventionalGame } from '../games/interventional-game.js';
import { isInterventional } from '../games/interventional-game.js';
import { normalEquations, solveEfficient, symmetrize } from '../numerics/linear-algebra.js';
import { center, fitPaired, normalMatrices, sparseResolve } from '../numerics/regression.js';
import { PairedSampler, shapKernelDesign } from '../sampling/coalitions.js';
import { popcount } from '../sampling/masking.js';
import type { DecomposedShapOptions } from './decomposed.js';
import { decomposedPart, decomposedShap } from './decomposed.js';
import type { EstimatorContext, PartEstimate, PartSpec, ShapleyEstimate } from './estimate.js';
import { convergenceRatio, PART_ROWS, partsFor } from './estimate.js';
import { msrFit } from './msr.js';

/**
 * Regression estimators of Shapley values (the Kernel SHAP family):
 * - `'decomposed'` — whybox's default for interventional (background) games: one
 *   Leverage-SHAP regression per background row, each with its own sample, exact where a
 *   background row differs from x in few players (see `decomposedShap`). Other games use
 *   `'leverage'`.
 * - `'leverage'` — Leverage SHAP (Musco & Witter, ICLR 2025): coalition sizes sampled
 *   uniformly (leverage scores), paired, without replacement, Horvitz–Thompson weights.
 * - `'kernel'` — the same machinery with the Shapley-kernel size distribution 1/(s(n−s)).
 * - `'msr'` — regression-adjusted Monte Carlo (Witter, Liu & Musco 2025): a boosted-tree
 *   surrogate of the game, its exact Shapley values, plus a Horvitz–Thompson estimate of the
 *   residual game's Shapley values (maximum sample reuse), on the leverage sample.
 * - `'shap'` — shap's KernelExplainer sample (with replacement, merged duplicates), kept
 *   as the reference it is compared with.
 */
export type KernelVariant = 'decomposed' | 'leverage' | 'kernel' | 'msr' | 'shap';

/** Variants, for option validation and help texts. */
export const KERNEL_VARIANTS: readonly KernelVariant[] = ['decomposed', 'leverage', 'kernel', 'msr', 'shap'];

/** Options of {@link kernelShap}. */
export interface KernelShapOptions {
  /**
   * Most coalition values v(S) per row (including ∅ and N), or `'auto'`: grow the sample
   * (doubling, nested) until max standard error / (max value − min value) < `tolerance`
   * or `maxBudget` is reached. @defaultValue 2 · nPlayers + 2048
   */
  budget?: number | 'auto';
  /** Estimator variant. @defaultValue 'decomposed' */
  variant?: KernelVariant;
  /** Stopping threshold of `budget: 'auto'`. @defaultValue 0.01 */
  tolerance?: number;
  /** Budget cap of `budget: 'auto'`. @defaultValue 65536 */
  maxBudget?: number;
  /**
   * Sparse mode: keep the `topK` players with the largest |value| and re-solve with the
   * others fixed at 0 (efficiency still exact), like shap's `l1_reg="num_features(k)"`.
   * Not with `'decomposed'` (use `'leverage'`). @defaultValue all players
   */
  topK?: number;
}

/** Defaults of {@link KernelShapOptions}. */
export const KERNEL_DEFAULTS = { variant: 'decomposed', tolerance: 0.01, maxBudget: 65536, autoStart: 512 } as const;

/** The default budget: 2 · nPlayers + 2048, as shap's KernelExplainer. */
export function defaultBudget(nPlayers: number): number {
  return 2 * nPlayers + 2048;
}

/**
 * The smallest budget the regression variants accept: 2 · nPlayers + 2 (n − 1 coalition pairs
 * beyond ∅ and N can identify n values), or every coalition when that is fewer.
 */
export function minimumBudget(nPlayers: number): number {
  return Math.min(2 * nPlayers + 2, 2 ** nPlayers);
}

/**
 * The smallest budget for `'decomposed'` on this game: every background row b needs about
 * |D_b| coalition pairs (fewer when its whole game is smaller) for its regression to be
 * identified, out of `(budget − 2) × |background| / 2` pairs in all.
 */
export function decomposedMinimumBudget(game: InterventionalGame): number {
  const d = game.decomposition;
  const nb = d.nBackground;
  let need = 0;
  for (let b = 0; b < nb; b++) {
    let k = 0;
    for (let w = 0; w < d.words; w++) k += popcount(d.diff[b * d.words + w]);
    if (k >= 2) need += Math.min(k, 2 ** Math.min(k, 30) / 2 - 1);
  }
  return Math.ceil((2 * need) / nb) + 2;
}

/** Validates a budget option (an integer ≥ 2). */
export function resolveBudget(budget: unknown, nPlayers: number, option = 'budget'): number {
  const b = budget ?? defaultBudget(nPlayers);
  if (typeof b !== 'number' || !Number.isInteger(b) || b < 2)
    throw new InvalidOptionError(option, "an integer >= 2 (coalition values per row) or 'auto'", budget);
  return b;
}

/**
 * Kernel SHAP: Shapley values as the solution of a Shapley-kernel weighted least-squares
 * problem over sampled coalitions, with the efficiency constraint Σφ = v(N) − v(∅) solved
 * exactly (KKT system). Standard errors by a delete-a-group jackknife over sampled pairs.
 */
export async function kernelShap(
  game: Game,
  options: KernelShapOptions,
  ctx: EstimatorContext,
): Promise<ShapleyEstimate> {
  const k = resolveKernel(game, options);
  if (k.decomposed) return decomposedShap(game as InterventionalGame, k.decomposed, ctx);
  return sampledKernel(game, options, k, ctx);
}

/**
 * Parts of each row's Kernel SHAP estimate ({@link kernelShapPart}): the decomposed variant
 * with a numeric budget splits over groups of background rows — one part per
 * {@link PART_ROWS} model rows, at most {@link KERNEL_PARTS}, never more than the background
 * rows; everything else is one part. Depends only on the options and the game's shape.
 */
export function kernelParts(options: KernelShapOptions, nPlayers: number, nBackground: number): number {
  const variant = options.variant ?? KERNEL_DEFAULTS.variant;
  if (variant !== 'decomposed' || options.budget === 'auto' || options.topK !== undefined) return 1;
  const budget = typeof options.budget === 'number' ? options.budget : defaultBudget(nPlayers);
  return partsFor(budget * nBackground, nBackground, KERNEL_PARTS);
}

/** Most parts one row's decomposed estimate is split into (enough for 8 threads on one row). */
export const KERNEL_PARTS = 8;

/** Part `part` of the decomposed Kernel SHAP estimate of an interventional game (validated as {@link kernelShap}). */
export async function kernelShapPart(
  game: InterventionalGame,
  options: KernelShapOptions,
  ctx: EstimatorContext,
  part: PartSpec,
): Promise<PartEstimate> {
  const k = resolveKernel(game, options);
  if (!k.decomposed || k.decomposed.budget === 'auto')
    throw new Error('internal: only the decomposed variant with a numeric budget is split into parts');
  return decomposedPart(game, k.decomposed, ctx, part);
}

interface ResolvedKernel {
  readonly variant: KernelVariant;
  readonly auto: boolean;
  readonly budget: number;
  readonly tolerance: number;
  readonly maxBudget: number;
  readonly topK: number | undefined;
  /** Set when the decomposed estimator runs, with its options. */
  readonly decomposed?: DecomposedShapOptions;
}

/** Validates the options and picks the variant (throws the typed errors of {@link kernelShap}). */
function resolveKernel(game: Game, options: KernelShapOptions): ResolvedKernel {
  const n = game.nPlayers;
  const requested = options.variant ?? KERNEL_DEFAULTS.variant;
  if (!KERNEL_VARIANTS.includes(requested))
    throw new InvalidOptionError('variant', `one of ${KERNEL_VARIANTS.join(', ')}`, requested);
  const auto = options.budget === 'auto';
  const tolerance = options.tolerance ?? KERNEL_DEFAULTS.tolerance;
  if (typeof tolerance !== 'number' || !(tolerance > 0))
    throw new InvalidOptionError('tolerance', 'a number > 0', tolerance);
  const maxBudget = resolveBudget(options.maxBudget ?? KERNEL_DEFAULTS.maxBudget, n, 'maxBudget');
  const budget = auto
    ? Math.min(maxBudget, Math.max(KERNEL_DEFAULTS.autoStart, 2 * n + 2))
    : resolveBudget(options.budget, n);
  const topK = options.topK;
  if (topK !== undefined && (!Number.isInteger(topK) || topK < 1))
    throw new InvalidOptionError('topK', 'a positive integer', topK);
  if (auto && topK !== undefined)
    throw new InvalidOptionError('topK', "used with a numeric budget (sparse mode has no 'auto' stopping rule)", topK);
  if (auto && (requested === 'shap' || requested === 'msr'))
    throw new InvalidOptionError('budget', `a number with variant '${requested}' (it has no standard errors)`, 'auto');
  if (topK !== undefined && requested === 'decomposed' && options.variant !== undefined)
    throw new InvalidOptionError('topK', "used with variant 'leverage', 'kernel' or 'shap'", topK);
  // 'decomposed' needs an interventional game; sparse mode needs one shared regression
  const variant: KernelVariant =
    requested === 'decomposed' && (!isInterventional(game) || topK !== undefined) ? 'leverage' : requested;
  if (variant === 'decomposed' && isInterventional(game)) {
    const min = decomposedMinimumBudget(game);
    if (budget < min && (!auto || maxBudget < min))
      throw new BudgetError(
        `${auto ? `maxBudget ${maxBudget}` : `a budget of ${budget}`} is too small for variant 'decomposed' here: its background rows need at least ${min} coalition values per row (about one pair per differing player each); raise it`,
      );
    return {
      variant,
      auto,
      budget,
      tolerance,
      maxBudget,
      topK,
      decomposed: {
        budget: auto ? 'auto' : budget,
        autoStart: Math.max(budget, min),
        tolerance,
        maxBudget,
        sizeMass: 'leverage',
      },
    };
  }
  if (n >= 2 && budget < minimumBudget(n))
    throw new BudgetError(
      `${auto ? `maxBudget ${maxBudget}` : `a budget of ${budget}`} cannot identify ${n} players' values by regression: method 'kernel' needs at least ${minimumBudget(n)} coalition values (2 × players + 2); raise it or use 'permutation'`,
    );
  return { variant, auto, budget, tolerance, maxBudget, topK };
}

async function sampledKernel(
  game: Game,
  _options: KernelShapOptions,
  k: ResolvedKernel,
  ctx: EstimatorContext,
): Promise<ShapleyEstimate> {
  const n = game.nPlayers;
  const nOut = game.nOutputs;
  const { variant, auto, budget, tolerance, maxBudget, topK } = k;

  const cache = new CoalitionCache(game);
  const edges = await cache.values(edgeMasks(n), 2, ctx.signal);
  const v0 = edges.slice(0, nOut);
  const v1 = edges.slice(nOut, 2 * nOut);
  const total = v1.map((v, o) => v - v0[o]);
  const result = (values: Float64Array, exact: boolean, stderr?: Float64Array, converged?: boolean) => ({
    values,
    stderr,
    baseValue: v0,
    fullValue: v1,
    evaluations: cache.evaluations,
    exact,
    converged,
    variant,
  });
  if (n === 1) return result(total.slice(), true, new Float64Array(nOut), auto ? true : undefined);

  if (variant === 'shap') {
    const d = shapKernelDesign(n, budget, ctx.rng);
    const y = await cache.values(d.masks, d.count, ctx.signal);
    center(y, v0, nOut);
    const eq = normalEquations(d.masks, d.count, n, d.weights, y, nOut);
    symmetrize(eq.A, n);
    let phi = solveEfficient(eq.A, eq.B, n, nOut, total);
    if (topK !== undefined && topK < n) phi = sparseResolve(phi, eq.A, eq.B, n, nOut, total, topK);
    ctx.onProgress?.({ done: cache.evaluations, total: budget });
    return result(phi, d.complete);
  }

  const mass = variant === 'kernel' ? (s: number) => 1 / (s * (n - s)) : () => 1;
  const sampler = new PairedSampler(n, mass, ctx.rng);
  let b = budget;
  for (;;) {
    throwIfAborted(ctx.signal);
    const design = sampler.design(b);
    const y = await cache.values(design.masks, design.count, ctx.signal);
    center(y, v0, nOut);
    const fit = variant === 'msr' ? msrFit(design, y, nOut, total) : fitPaired(design, y, nOut, total);
    ctx.onProgress?.({ done: cache.evaluations, total: auto ? maxBudget : budget });
    const exact = design.complete;
    const stderr = exact ? new Float64Array(n * nOut) : fit.stderr;
    if (!auto) {
      if (topK !== undefined && topK < n) {
        const eq = normalMatrices(design, y, nOut);
        return result(sparseResolve(fit.values, eq.A, eq.B, n, nOut, total, topK), exact);
      }
      return result(fit.values, exact, stderr);
    }
    const converged = exact || (stderr !== undefined && convergenceRatio(fit.values, stderr, n, nOut) < tolerance);
    if (converged || b >= maxBudget) return result(fit.values, exact, stderr, converged);
    b = Math.min(maxBudget, 2 * b);
  }
}
