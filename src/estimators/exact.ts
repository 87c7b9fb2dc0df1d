import { BudgetError, throwIfAborted } from '../errors.js';
import type { Game } from '../games/game.js';
import type { InterventionalGame } from '../games/interventional-game.js';
import { isInterventional } from '../games/interventional-game.js';
import { shapleyFromTable } from '../games/shapley-table.js';
import { enforceEfficiency } from '../numerics/linear-algebra.js';
import { popcount } from '../sampling/masking.js';
import type { EstimatorContext, PartEstimate, PartedGame, PartSpec, ShapleyEstimate } from './estimate.js';
import { balancedGroups, partsFor } from './estimate.js';

/**
 * Most players `exact` accepts. The value table takes 2^n × outputs × 8 bytes (128 MiB
 * per output at 24 players) and the model rows grow as Σ_b 2^|D_b|.
 */
export const MAX_EXACT_PLAYERS = 24;

/** Coalitions per `game.values` call when a game has no `allValues` fast path. */
const ENUMERATION_BATCH = 1 << 14;

/**
 * Exact Shapley values from all 2^n coalition values:
 * φ_i = Σ_{S∋i} p_{|S|−1} v(S) − Σ_{S∌i} p_{|S|} v(S), with p_k = k!(n−k−1)!/n!.
 *
 * Interventional games use their exact fast path: every distinct masked row (b, S ∩ D_b)
 * is evaluated once, streamed per background row (memory bounded by the 2^n table, never
 * 2^n × |background| rows), and φ = Σ_b w_b φ(g_b) by linearity — small background-row
 * games solved from their own tables, the rest through the 2^n table of v(S). Other games
 * are enumerated in batches, each v(S) computed once.
 *
 * @throws {BudgetError} when the game has more than {@link MAX_EXACT_PLAYERS} players.
 */
export async function exactShapley(game: Game, ctx: Partial<EstimatorContext> = {}): Promise<ShapleyEstimate> {
  const n = game.nPlayers;
  const nOut = game.nOutputs;
  if (n > MAX_EXACT_PLAYERS)
    throw new BudgetError(
      `method 'exact' needs all 2^${n} coalition values, above its limit of ${MAX_EXACT_PLAYERS} players; use method 'kernel' or 'permutation' (sampled, with standard errors), or group columns into fewer players`,
    );
  const size = 2 ** n;
  if (game.exactShapley && isInterventional(game)) {
    const values = await game.exactShapley(ctx.signal, ctx.onProgress);
    const baseValue = game.baseValue.slice();
    const fullValue = game.prediction.slice();
    const total = fullValue.map((f, o) => f - baseValue[o]);
    return { values: enforceEfficiency(values, n, nOut, total), baseValue, fullValue, evaluations: size, exact: true };
  }
  const table = game.allValues ? await game.allValues(ctx.signal, ctx.onProgress) : await enumerate(game, ctx);
  const values = shapleyFromTable(table, n, nOut);
  const baseValue = table.slice(0, nOut);
  const fullValue = table.slice((size - 1) * nOut, size * nOut);
  const total = fullValue.map((f, o) => f - baseValue[o]);
  return {
    values: enforceEfficiency(values, n, nOut, total),
    baseValue,
    fullValue,
    evaluations: size,
    exact: true,
  };
}

/** Most parts one row's exact values are split into (groups of background rows). */
export const EXACT_PARTS = 4;

/**
 * Parts of each row's exact estimate: groups of background rows (φ = Σ_b w_b φ(g_b)), one
 * per `PART_ROWS` of the 2^n × background rows it may cost, at most {@link EXACT_PARTS}, for
 * games of at most {@link MAX_SPLIT_EXACT_PLAYERS} players. A function of the game's shape only.
 */
export function exactParts(nPlayers: number, nBackground: number): number {
  return nPlayers <= MAX_SPLIT_EXACT_PLAYERS ? partsFor(2 ** nPlayers * nBackground, nBackground, EXACT_PARTS) : 1;
}

/**
 * Most players whose exact values are split into parts: a part hands back its share of the
 * 2^n coalition-value table (8 MiB per output at 20 players), summed and solved once.
 */
export const MAX_SPLIT_EXACT_PLAYERS = 20;

/**
 * Part `part` of the exact values of an interventional game: the background rows in
 * order, grouped by their model rows (2^|D_b|) into `part.count` groups; this part's share
 * Σ_{b in the group} w_b φ(g_b). {@link combineExact} adds the parts up.
 */
export async function exactPart(
  game: InterventionalGame,
  ctx: Partial<EstimatorContext>,
  part: PartSpec,
): Promise<PartEstimate> {
  const n = game.nPlayers;
  if (n > MAX_EXACT_PLAYERS)
    throw new BudgetError(
      `method 'exact' needs all 2^${n} coalition values, above its limit of ${MAX_EXACT_PLAYERS} players; use method 'kernel' or 'permutation' (sampled, with standard errors), or group columns into fewer players`,
    );
  if (!game.exactShares) throw new Error('internal: exact parts need the interventional fast path');
  const d = game.decomposition;
  const nb = d.nBackground;
  const costs = new Float64Array(nb);
  for (let b = 0; b < nb; b++) {
    let k = 0;
    for (let w = 0; w < d.words; w++) k += popcount(d.diff[b * d.words + w]);
    costs[b] = 2 ** k;
  }
  const groups = balancedGroups(costs, part.count);
  const rows = Uint8Array.from(groups, (g) => (g === part.index ? 1 : 0));
  const before = game.cost.modelRows;
  const { phi, table } = await game.exactShares(ctx.signal, ctx.onProgress, rows);
  return { values: phi, table, rowsSpent: game.cost.modelRows - before, exact: true };
}

/**
 * The exact values from their parts (in part order): their own shares added, their tables
 * added and solved once, efficiency enforced on the sum.
 */
export function combineExact(parts: readonly PartEstimate[], game: PartedGame): ShapleyEstimate {
  const n = game.nPlayers;
  const nOut = game.prediction.length;
  const values = new Float64Array(n * nOut);
  let table: Float64Array | undefined;
  for (const p of parts) {
    for (let i = 0; i < values.length; i++) values[i] += p.values[i];
    if (p.table) {
      if (!table) table = p.table.slice();
      else for (let i = 0; i < table.length; i++) table[i] += p.table[i];
    }
  }
  if (table) {
    const rest = shapleyFromTable(table, n, nOut);
    for (let i = 0; i < values.length; i++) values[i] += rest[i];
  }
  const baseValue = game.baseValue.slice();
  const fullValue = game.prediction.slice();
  const total = fullValue.map((f, o) => f - baseValue[o]);
  return { values: enforceEfficiency(values, n, nOut, total), baseValue, fullValue, evaluations: 2 ** n, exact: true };
}

async function enumerate(game: Game, ctx: Partial<EstimatorContext>): Promise<Float64Array> {
  const n = game.nPlayers;
  const nOut = game.nOutputs;
  const size = 2 ** n;
  const table = new Float64Array(size * nOut);
  for (let s0 = 0; s0 < size; s0 += ENUMERATION_BATCH) {
    throwIfAborted(ctx.signal);
    const s1 = Math.min(size, s0 + ENUMERATION_BATCH);
    const masks = new Uint8Array((s1 - s0) * n);
    for (let s = s0; s < s1; s++) for (let j = 0; j < n; j++) masks[(s - s0) * n + j] = (s >>> j) & 1;
    table.set(await game.values(masks, s1 - s0, ctx.signal), s0 * nOut);
    ctx.onProgress?.({ done: s1, total: size });
  }
  return table;
}

export { shapleyFromTable } from '../games/shapley-table.js';
