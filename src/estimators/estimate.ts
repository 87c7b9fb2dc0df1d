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
  /**
   * Plans shared by the parts of one row that run on this thread (see {@link RowPlanMemo}):
   * a split estimator whose parts all plan the same walks plans them once per thread.
   */
  readonly rowPlans?: RowPlanMemo;
}

/**
 * Row plans kept for the other parts of the same row on this thread: a split estimator whose
 * every part first computes the same plan of its row (a pure function of the game, the
 * options and the row's stream) computes it once here, and each part then evaluates and
 * solves only its own share. Entries are found by a tag and the row's stream state and are
 * used only when every number of their key matches (the game's shape and options), so a
 * stale entry is never used; at most {@link RowPlanMemo.MAX_ENTRIES} plans and
 * {@link RowPlanMemo.MAX_BYTES} bytes are kept, most recent first.
 */
export class RowPlanMemo {
  static readonly MAX_ENTRIES = 4;
  static readonly MAX_BYTES = 64 * 1024 * 1024;
  private readonly entries = new Map<
    string,
    { key: readonly ArrayLike<number>[]; value: Promise<{ bytes: number }>; bytes: number }
  >();
  private bytes = 0;

  /**
   * The plan of `key`, made by `make` unless an equal key is kept. A plan whose making failed
   * (an abort of another run sharing it) is made again unless this caller's own signal is
   * aborted.
   */
  async get<P extends { bytes: number }>(
    tag: string,
    key: readonly ArrayLike<number>[],
    make: () => Promise<P>,
    signal?: AbortSignal,
  ): Promise<P> {
    const id = `${tag}:${Array.from(key[0]).join(',')}`;
    const hit = this.entries.get(id);
    if (hit && sameKey(hit.key, key)) {
      this.entries.delete(id);
      this.entries.set(id, hit);
      try {
        return (await hit.value) as P;
      } catch (error) {
        if (signal?.aborted) throw error;
        this.drop(id);
      }
    } else if (hit) this.drop(id);
    const value = make();
    const entry = { key: key.map((k) => Array.from(k)), value: value as Promise<{ bytes: number }>, bytes: 0 };
    this.entries.set(id, entry);
    try {
      const plan = await value;
      if (this.entries.get(id) === entry) {
        entry.bytes = plan.bytes;
        this.bytes += plan.bytes;
        if (plan.bytes > RowPlanMemo.MAX_BYTES) this.drop(id);
        while (this.entries.size > RowPlanMemo.MAX_ENTRIES || this.bytes > RowPlanMemo.MAX_BYTES)
          this.drop(this.entries.keys().next().value as string);
      }
      return plan;
    } catch (error) {
      if (this.entries.get(id) === entry) this.drop(id);
      throw error;
    }
  }

  /** Plans kept. */
  get size(): number {
    return this.entries.size;
  }

  private drop(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.bytes -= e.bytes;
    this.entries.delete(id);
  }
}

function sameKey(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (!Object.is(x[j], y[j])) return false;
  }
  return true;
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

/**
 * Parts `first.index` .. `first.index + span − 1` of one game, on this thread and in part order
 * (`ctx(j)` is the j-th one's context, each from the row's stream): their estimates or, when
 * they are every part of the row, the combined estimate — the same function on the same parts
 * in the same order as on the thread that schedules them, so the same bits.
 */
export async function estimateSpan<G>(
  split: SplitEstimator<G>,
  game: G,
  options: Record<string, unknown>,
  ctx: (j: number) => EstimatorContext,
  first: PartSpec,
  span: number,
  parted: PartedGame,
): Promise<{ estimate: ShapleyEstimate } | { parts: PartEstimate[] }> {
  const parts: PartEstimate[] = [];
  for (let j = 0; j < span; j++)
    parts.push(await split.estimatePart(game, options, ctx(j), { index: first.index + j, count: first.count }));
  if (first.index === 0 && span === first.count) return { estimate: split.combine(parts, parted, options) };
  return { parts };
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
 * games dealt to `part.count` parts by longest-processing-time first — in order of
 * decreasing cost (ties by size, then background row), each to the part with the least cost
 * so far (ties to the lowest part) — so that parts cost about the same and the costliest
 * games open the first parts (which run first). A pure function of the games and their
 * costs: parts must not depend on where they run. Every game when `part` is undefined or
 * whole.
 */
export function partMembers(
  games: readonly { readonly k: number; readonly b: number }[],
  cost: (i: number) => number,
  part: PartSpec | undefined,
): Uint8Array {
  const inPart = new Uint8Array(games.length).fill(1);
  if (!part || part.count <= 1) return inPart;
  const costs = games.map((_, i) => cost(i));
  const order = games
    .map((_, i) => i)
    .sort((a, b) => costs[b] - costs[a] || games[a].k - games[b].k || games[a].b - games[b].b);
  const load = new Float64Array(part.count);
  for (const i of order) {
    let best = 0;
    for (let g = 1; g < part.count; g++) if (load[g] < load[best]) best = g;
    inPart[i] = best === part.index ? 1 : 0;
    load[best] += costs[i];
  }
  return inPart;
}
