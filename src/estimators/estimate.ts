import type { Game, Progress } from '../games/game.js';
import type { Rng } from '../sampling/rng.js';

/** Shapley values of one game (one explained row) and what they cost. */
export interface ShapleyEstimate {
  /** `nPlayers × nOutputs`, row-major. */
  readonly values: Float64Array;
  /** Standard error per value (`nPlayers × nOutputs`), when the method estimates one. */
  readonly stderr?: Float64Array;
  /** v(∅) per output. */
  readonly baseValue: Float64Array;
  /** v(N) per output. */
  readonly fullValue: Float64Array;
  /** Coalition values computed for this game. */
  readonly evaluations: number;
  /** True when the values are exact (every coalition was used). */
  readonly exact: boolean;
  /** For `budget: 'auto'`: whether the stopping rule was met before the cap. */
  readonly converged?: boolean;
  /** The variant that produced the estimate (kernel family). */
  readonly variant?: string;
}

/** What every estimator receives besides the game and its own options. */
export interface EstimatorContext {
  /** The row's random stream (unused by exact methods). */
  readonly rng: Rng;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
  /**
   * Sampled designs shared by the rows of one explanation (the decomposed Kernel SHAP draws
   * them from `seed`, so each is sampled and factorised once per explanation).
   */
  readonly designs?: { readonly seed: number; readonly shapes: Map<string, unknown> };
}

/**
 * Max over outputs of (max standard error) / (max value − min value): the convergence
 * ratio of Covert & Lee (2021). 0 when every standard error is 0.
 */
export function convergenceRatio(values: Float64Array, stderr: Float64Array, n: number, nOut: number): number {
  let worst = 0;
  for (let o = 0; o < nOut; o++) {
    let maxSe = 0;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      maxSe = Math.max(maxSe, stderr[i * nOut + o]);
      lo = Math.min(lo, values[i * nOut + o]);
      hi = Math.max(hi, values[i * nOut + o]);
    }
    if (maxSe === 0) continue;
    worst = Math.max(worst, hi > lo ? maxSe / (hi - lo) : Number.POSITIVE_INFINITY);
  }
  return worst;
}

/** Part `index` of `count` of one row's estimate (see {@link SplitEstimator}). */
export interface PartSpec {
  readonly index: number;
  readonly count: number;
}

/**
 * One part of a split estimate: a share of the values (the parts add up to the estimate)
 * and of its variance. Plain typed arrays and numbers, so it crosses to and from workers.
 */
export interface PartEstimate {
  /** `nPlayers × nOutputs`: this part's share of the values. */
  readonly values: Float64Array;
  /** `nPlayers × nOutputs`: this part's share of the variance (independent parts add). */
  readonly variance?: Float64Array;
  /** Model rows (beyond f(x)) this part's share of the coalition values cost. */
  readonly rowsSpent: number;
  readonly exact: boolean;
  /**
   * Exact values: this part's share of the 2^n coalition-value table of the background rows
   * it did not solve on their own (combined: tables added, then solved once).
   */
  readonly table?: Float64Array;
  /**
   * Set when this part computed the whole estimate itself (a method's fallback that does not
   * split, in part 0; the other parts are then empty): combining returns it.
   */
  readonly whole?: ShapleyEstimate;
}

/**
 * An estimator whose work on one game splits into independent parts that add up — for the
 * interventional game, typically groups of background rows (φ = Σ_b w_b φ(g_b)). The engine
 * runs the parts anywhere (this thread, worker threads) and combines them in part order, so
 * the result is bit-identical whatever runs where. The number of parts depends only on the
 * options and the game's shape, never on the thread count.
 */
export interface SplitEstimator<G = unknown> {
  /** Parts of each row's game (1: not split). */
  parts(options: Record<string, unknown>, nPlayers: number, nBackground: number): number;
  /** Part `part` of the estimate of `game`; `ctx.rng` is the row's stream (every part sees the same). */
  estimatePart(game: G, options: Record<string, unknown>, ctx: EstimatorContext, part: PartSpec): Promise<PartEstimate>;
  /** The estimate from all parts, in part order. */
  combine(parts: readonly PartEstimate[], game: PartedGame, options: Record<string, unknown>): ShapleyEstimate;
}

/** What combining parts needs of the game (known on the thread that schedules the parts). */
export interface PartedGame {
  readonly nPlayers: number;
  readonly nBackground: number;
  /** f(x) per output. */
  readonly prediction: Float64Array;
  /** v(∅) per output. */
  readonly baseValue: Float64Array;
}

/**
 * Model rows a part of a row should cost at least: below that, a task's fixed cost (cloning
 * its request, dispatch, combining) would show next to its work (16,384 rows are ~10 ms of a
 * small MLP), and a service's event loop would spend more on scheduling than needed.
 */
export const PART_ROWS = 16_384;

/**
 * Parts of a row's split estimate expected to cost `modelRows`: one per {@link PART_ROWS}
 * rows, at most `max` and never more than the background rows. A function of the options
 * and the game's shape only (never of threads), so results do not depend on where parts run.
 */
export function partsFor(modelRows: number, nBackground: number, max: number): number {
  return Math.max(1, Math.min(max, nBackground, Math.floor(modelRows / PART_ROWS)));
}

/**
 * Splits items with costs into `count` contiguous groups of about equal cost, in the given
 * order: `group[i]` for item i. A pure function of its inputs (parts must not depend on
 * where they run).
 */
export function balancedGroups(costs: ArrayLike<number>, count: number): Int32Array {
  const group = new Int32Array(costs.length);
  let total = 0;
  for (let i = 0; i < costs.length; i++) total += costs[i];
  if (count <= 1 || total <= 0) return group;
  let before = 0;
  for (let i = 0; i < costs.length; i++) {
    // the group of an item is where the middle of its cost falls
    group[i] = Math.min(count - 1, Math.floor(((before + costs[i] / 2) * count) / total));
    before += costs[i];
  }
  return group;
}

/** The estimator of one row's game (a registered game method's `run.estimate`). */
export type GameEstimator = (
  game: Game,
  options: Record<string, unknown>,
  ctx: EstimatorContext,
) => Promise<ShapleyEstimate>;

/**
 * Which background-row games belong to part `part` of a split estimate (1 = in it): the
 * games ordered by (size, background row) and cut into `part.count` groups of about equal
 * cost by {@link balancedGroups}. Every game when `part` is undefined or whole.
 */
export function partMembers(
  games: readonly { readonly k: number; readonly b: number }[],
  cost: (i: number) => number,
  part: PartSpec | undefined,
): Uint8Array {
  const inPart = new Uint8Array(games.length).fill(1);
  if (!part || part.count <= 1) return inPart;
  const order = games.map((_, i) => i).sort((a, b) => games[a].k - games[b].k || games[a].b - games[b].b);
  const groups = balancedGroups(
    order.map((i) => cost(i)),
    part.count,
  );
  order.forEach((i, t) => {
    inPart[i] = groups[t] === part.index ? 1 : 0;
  });
  return inPart;
}
