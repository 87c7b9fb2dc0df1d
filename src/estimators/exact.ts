import { BudgetError, throwIfAborted } from '../errors.js';
import type { Game } from '../games/game.js';
import type { EstimatorContext, ShapleyEstimate } from './estimate.js';
import { shapleyWeights } from './estimate.js';
import { enforceEfficiency } from './linear-algebra.js';

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
 * Each v(S) is computed once. Interventional games supply the whole table through their
 * streamed fast path (memory bounded by the table, never 2^n × |background| rows);
 * other games are enumerated in batches.
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
  let table: Float64Array;
  if (game.allValues) table = await game.allValues(ctx.signal, ctx.onProgress);
  else table = await enumerate(game, ctx);
  const size = 2 ** n;
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

/**
 * Shapley values (`n × nOut`) from a table of all 2^n coalition values (index = bit mask).
 * Uses φ_i = Σ_{S∋i} (p_{|S|−1} + p_{|S|}) v(S) − Σ_S p_{|S|} v(S), summed with
 * contiguous strides (n · 2^(n−1) additions per output).
 */
export function shapleyFromTable(table: Float64Array, n: number, nOut: number): Float64Array {
  const size = 2 ** n;
  const p = shapleyWeights(n);
  const phi = new Float64Array(n * nOut);
  const d = new Float64Array(size);
  const pop = new Uint8Array(size);
  for (let s = 1; s < size; s++) pop[s] = pop[s >> 1] + (s & 1);
  for (let o = 0; o < nOut; o++) {
    let common = 0;
    for (let s = 0; s < size; s++) {
      const v = table[s * nOut + o];
      const k = pop[s];
      const out = k < n ? p[k] * v : 0;
      common += out;
      d[s] = (k > 0 ? p[k - 1] * v : 0) + out;
    }
    for (let i = 0; i < n; i++) {
      const half = 2 ** i;
      let acc = 0;
      for (let block = 0; block < size; block += 2 * half)
        for (let t = block + half, e = block + 2 * half; t < e; t++) acc += d[t];
      phi[i * nOut + o] = acc - common;
    }
  }
  return phi;
}
