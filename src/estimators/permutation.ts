import { BudgetError, InvalidOptionError, throwIfAborted } from '../errors.js';
import type { Game } from '../games/game.js';
import type { InterventionalGame } from '../games/interventional-game.js';
import { isInterventional } from '../games/interventional-game.js';
import { shapleyFromTable } from '../games/shapley-table.js';
import { enforceEfficiency } from '../numerics/linear-algebra.js';
import { maskKey } from '../sampling/coalitions.js';
import {
  combinePermutationParts,
  decomposedPermutationPart,
  decomposedPermutationShap,
} from './decomposed-permutation.js';
import type { EstimatorContext, PartEstimate, PartedGame, PartSpec, ShapleyEstimate } from './estimate.js';
import { partsFor } from './estimate.js';
import { resolveBudget } from './kernel.js';
import { checkMemory } from './memory.js';

/** Options of {@link permutationShap}. */
export interface PermutationShapOptions {
  /** Most coalition values per row, including ∅ and N. @defaultValue 2 · nPlayers + 2048 */
  budget?: number;
  /** Walk each permutation forward and reversed (antithetic pairs). @defaultValue true */
  antithetic?: boolean;
  /**
   * `'decomposed'`: on an interventional game, walks per background row over the players
   * where that row differs from x ({@link decomposedPermutationShap}); `'shared'`: walks over
   * every player of v itself (Castro et al.). Games without a background, budgets that
   * cannot give every background row one walk, and budgets of 2^n or more (the exact values
   * from every coalition) use `'shared'`. @defaultValue 'decomposed'
   */
  variant?: 'decomposed' | 'shared';
}

/** Defaults of {@link PermutationShapOptions}. */
export const PERMUTATION_DEFAULTS = { antithetic: true } as const;

/**
 * Permutation sampling of Shapley values (Castro et al. 2009) with antithetic pairs: each
 * random order π is walked forward and reversed, and a player's value is the mean of its
 * marginal contributions v(prefix ∪ {i}) − v(prefix). v(∅) and v(N) are shared; repeated
 * coalitions across permutations are computed once, so the budget buys as many
 * permutations as fit in `budget` distinct coalition values. Every walk telescopes to
 * v(N) − v(∅), so efficiency is exact. Standard errors from the spread of the pair means.
 *
 * @throws {BudgetError} when the budget cannot pay for one walk (2·nPlayers with pairs).
 */
/** Most parts one row's decomposed permutation estimate is split into (groups of background rows). */
export const PERMUTATION_PARTS = 8;

/**
 * Parts of each row's permutation estimate: the decomposed variant (the default) splits over
 * groups of background rows, one per `PART_ROWS` model rows, at most {@link PERMUTATION_PARTS}; `'shared'`, and budgets that
 * pay for all 2^n coalitions, are one part.
 */
export function permutationParts(options: PermutationShapOptions, nPlayers: number, nBackground: number): number {
  const budget = typeof options.budget === 'number' ? options.budget : 2 * nPlayers + 2048;
  // a budget for every coalition keeps the shared walk's exact table (one part)
  const affordsAll = nPlayers <= 30 && budget >= 2 ** nPlayers;
  return (options.variant ?? 'decomposed') === 'decomposed' && !affordsAll
    ? partsFor(budget * nBackground, nBackground, PERMUTATION_PARTS)
    : 1;
}

/**
 * Part `part` of the permutation estimate of an interventional game (validated as
 * {@link permutationShap}). When the budget cannot give every background row one walk, part
 * 0 computes the whole estimate with shared walks (`whole`) and the other parts are empty.
 */
export async function permutationShapPart(
  game: InterventionalGame,
  options: PermutationShapOptions,
  ctx: EstimatorContext,
  part: PartSpec,
): Promise<PartEstimate> {
  const budget = resolveBudget(options.budget, game.nPlayers);
  const antithetic = options.antithetic ?? PERMUTATION_DEFAULTS.antithetic;
  if (typeof antithetic !== 'boolean') throw new InvalidOptionError('antithetic', 'a boolean', antithetic);
  const est = await decomposedPermutationPart(game, { budget, antithetic }, ctx, part);
  if (est) return est;
  const empty = { values: new Float64Array(game.nPlayers * game.nOutputs), rowsSpent: 0, exact: true };
  if (part.index !== 0) return empty;
  return { ...empty, whole: await permutationShap(game, { ...options, variant: 'shared' }, ctx) };
}

/** The permutation estimate from its parts (see {@link permutationShapPart}). */
export function combinePermutation(parts: readonly PartEstimate[], game: PartedGame): ShapleyEstimate {
  const whole = parts.find((p) => p.whole)?.whole;
  return whole ?? combinePermutationParts(parts, game);
}

export async function permutationShap(
  game: Game,
  options: PermutationShapOptions,
  ctx: EstimatorContext,
): Promise<ShapleyEstimate> {
  const n = game.nPlayers;
  const nOut = game.nOutputs;
  const budget = resolveBudget(options.budget, n);
  const antithetic = options.antithetic ?? PERMUTATION_DEFAULTS.antithetic;
  if (typeof antithetic !== 'boolean') throw new InvalidOptionError('antithetic', 'a boolean', antithetic);
  const variant = options.variant ?? 'decomposed';
  if (variant !== 'decomposed' && variant !== 'shared')
    throw new InvalidOptionError('variant', "'decomposed' or 'shared'", variant);
  const walks = antithetic ? 2 : 1;
  // a budget for every coalition: the shared walk's table gives the exact values directly
  const affordsAll = n <= 30 && budget >= 2 ** n;
  if (variant === 'decomposed' && isInterventional(game) && !affordsAll) {
    const est = await decomposedPermutationShap(game, { budget, antithetic }, ctx);
    if (est) return est;
  }
  const minBudget = 2 + walks * (n - 1);
  if (budget < minBudget)
    throw new BudgetError(
      `method 'permutation' needs a budget of at least ${minBudget} for ${n} players (one ${antithetic ? 'antithetic pair of walks' : 'walk'}); got ${budget}`,
    );

  // every coalition is known after at most 2^n distinct values: more walks cost no model
  // evaluations, so the walk stops there (and the values are exact from the full table)
  const all = n <= 30 ? 2 ** n : Number.POSITIVE_INFINITY;
  const coalitions = Math.min(budget, all);
  // per coalition: its n-byte row, ~100 bytes in the index, nOut values and model output; per
  // walk: the order and prefix ids (8 bytes a player)
  checkMemory(
    `method 'permutation' with a budget of ${budget} for ${n} players`,
    coalitions * (n + 100 + 16 * nOut) + (coalitions / Math.max(1, n - 1)) * walks * 8 * (n + 1),
    'pass a smaller budget',
  );

  // coalitions: 0 = ∅, 1 = N, then every distinct prefix (rows of one growable byte matrix)
  const index = new Map<number | string, number>();
  let store = new Uint8Array(Math.min(budget, 1024) * n);
  let count = 0;
  const add = (prefixes: Uint8Array, k: number, key: number | string): number => {
    let at = index.get(key);
    if (at === undefined) {
      at = count++;
      index.set(key, at);
      if (count * n > store.length) {
        const next = new Uint8Array(Math.min(budget, 2 * count) * n);
        next.set(store);
        store = next;
      }
      store.set(prefixes.subarray(k * n, (k + 1) * n), at * n);
    }
    return at;
  };
  const edges = new Uint8Array(2 * n).fill(1, n);
  add(edges, 0, maskKey(edges, 0, n));
  add(edges, 1, maskKey(edges, n, n));
  const orders: Int32Array[] = [];
  const prefixIds: Int32Array[] = []; // per walk: coalition id of each prefix 0..n
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  const walkPrefixes = Array.from({ length: walks }, () => new Uint8Array((n + 1) * n));
  const walkKeys = Array.from({ length: walks }, () => new Array<number | string>(n + 1));
  // once every coalition is known, further walks are free: cap the walks at the budget
  const maxUnits = Math.max(1, Math.floor(budget / walks));
  let yielded = performance.now();
  while (orders.length / walks < maxUnits && count < all) {
    throwIfAborted(ctx.signal);
    if (performance.now() - yielded > 20) {
      // a long walk loop lets the event loop run (abort signals, Ctrl-C, timers)
      await new Promise<void>((resolve) => setImmediate(resolve));
      throwIfAborted(ctx.signal);
      yielded = performance.now();
    }
    const order = ctx.rng.shuffle(perm.slice());
    const candidate = antithetic ? [order, order.slice().reverse()] : [order];
    // count the coalitions this unit would add before committing it
    const fresh = new Set<number | string>();
    candidate.forEach((o, w) => {
      prefixes(o, n, walkPrefixes[w], walkKeys[w]);
      for (let k = 1; k < n; k++) if (!index.has(walkKeys[w][k])) fresh.add(walkKeys[w][k]);
    });
    if (count + fresh.size > budget) break;
    candidate.forEach((o, w) => {
      orders.push(o);
      prefixIds.push(Int32Array.from({ length: n + 1 }, (_, k) => add(walkPrefixes[w], k, walkKeys[w][k])));
    });
  }
  const flat = store.subarray(0, count * n);
  const v = await game.values(flat, count, ctx.signal);
  ctx.onProgress?.({ done: count, total: budget });

  if (count === all) {
    // the full table is known: the mean over every order, i.e. the exact Shapley values
    const table = new Float64Array(all * nOut);
    for (const [key, id] of index) table.set(v.subarray(id * nOut, (id + 1) * nOut), (key as number) * nOut);
    const total = v.slice(nOut, 2 * nOut).map((x, q) => x - v[q]);
    return {
      values: enforceEfficiency(shapleyFromTable(table, n, nOut), n, nOut, total),
      stderr: new Float64Array(n * nOut),
      baseValue: v.slice(0, nOut),
      fullValue: v.slice(nOut, 2 * nOut),
      evaluations: count,
      exact: true,
    };
  }
  const units = orders.length / walks;
  const unitEst = new Float64Array(units * n * nOut);
  for (let w = 0; w < orders.length; w++) {
    const o = orders[w];
    const ids = prefixIds[w];
    const u = Math.floor(w / walks);
    for (let k = 0; k < n; k++) {
      const player = o[k];
      for (let q = 0; q < nOut; q++)
        unitEst[(u * n + player) * nOut + q] += (v[ids[k + 1] * nOut + q] - v[ids[k] * nOut + q]) / walks;
    }
  }
  const values = new Float64Array(n * nOut);
  for (let u = 0; u < units; u++) for (let i = 0; i < n * nOut; i++) values[i] += unitEst[u * n * nOut + i] / units;
  const v0 = v.slice(0, nOut);
  const v1 = v.slice(nOut, 2 * nOut);
  const total = v1.map((x, q) => x - v0[q]);
  let stderr: Float64Array | undefined;
  if (units >= 2) {
    stderr = new Float64Array(n * nOut);
    for (let u = 0; u < units; u++)
      for (let i = 0; i < n * nOut; i++) stderr[i] += (unitEst[u * n * nOut + i] - values[i]) ** 2;
    for (let i = 0; i < n * nOut; i++) stderr[i] = Math.sqrt(stderr[i] / (units - 1) / units);
  }
  return {
    values: enforceEfficiency(values, n, nOut, total),
    stderr,
    baseValue: v0,
    fullValue: v1,
    evaluations: count,
    exact: false,
  };
}

/**
 * The prefix coalitions 0..n of an order, written as rows of `out` (`(n + 1) × n` bytes),
 * with their keys (as {@link maskKey} gives them; built incrementally for n ≤ 52).
 */
function prefixes(order: Int32Array, n: number, out: Uint8Array, keys: (number | string)[]): void {
  out.fill(0, 0, n);
  keys[0] = maskKey(out, 0, n);
  for (let k = 1; k <= n; k++) {
    out.copyWithin(k * n, (k - 1) * n, k * n);
    out[k * n + order[k - 1]] = 1;
    keys[k] = n <= 52 ? (keys[k - 1] as number) + 2 ** order[k - 1] : maskKey(out, k * n, n);
  }
}
