import { InvalidOptionError, ShapeError, throwIfAborted } from '../errors.js';

/** What a game has cost so far. */
export interface GameCost {
  /** Coalition values v(S) computed. */
  evaluations: number;
  /** Rows sent to the model. */
  modelRows: number;
}

/** Progress of a long computation: `done` of `total` units (coalitions or model rows). */
export interface Progress {
  readonly done: number;
  readonly total: number;
}

/**
 * A cooperative game: a value function v over coalitions of `nPlayers` players, with
 * `nOutputs` values per coalition (multi-output models are explained in one pass).
 *
 * Coalitions are passed as a `count × nPlayers` matrix of 0/1 bytes (row-major); values
 * come back as `count × nOutputs` (row-major).
 */
export interface Game {
  readonly nPlayers: number;
  readonly nOutputs: number;
  values(masks: Uint8Array, count: number, signal?: AbortSignal): Promise<Float64Array>;
  /**
   * Optional fast path for exact methods: v(S) of all 2^n coalitions, index = bit mask with
   * bit `j` set when player `j` is in S; `2^n × nOutputs` values.
   */
  allValues?(signal?: AbortSignal, onProgress?: (p: Progress) => void): Promise<Float64Array>;
  /**
   * Optional fast path: the exact Shapley values (`nPlayers × nOutputs`), computed however
   * the game can do it best (interventional games: by linearity over background rows).
   * Counts 2^n evaluations.
   */
  exactShapley?(
    signal?: AbortSignal,
    onProgress?: (p: Progress) => void,
    /** Interventional games: only these background rows' share Σ_{b ∈ rows} w_b φ(g_b) (parts of a split estimate). */
    rows?: Uint8Array,
  ): Promise<Float64Array>;
  readonly cost: GameCost;
}

/**
 * A game from a plain value function, for tests, custom value functions and games that are
 * not built from a model (for example a precomputed table).
 *
 * @example
 * // the glove game: v(S) = 1 when S holds a left and a right glove
 * const game = functionGame(3, 1, (m) => (m[0] && (m[1] || m[2]) ? 1 : 0));
 */
export function functionGame(
  nPlayers: number,
  nOutputs: number,
  fn: (mask: Uint8Array) => number | ArrayLike<number>,
): Game {
  if (!Number.isInteger(nPlayers) || nPlayers < 1)
    throw new InvalidOptionError('nPlayers', 'a positive integer', nPlayers);
  if (!Number.isInteger(nOutputs) || nOutputs < 1)
    throw new InvalidOptionError('nOutputs', 'a positive integer', nOutputs);
  const cost: GameCost = { evaluations: 0, modelRows: 0 };
  return {
    nPlayers,
    nOutputs,
    cost,
    async values(masks, count, signal) {
      throwIfAborted(signal);
      const out = new Float64Array(count * nOutputs);
      for (let s = 0; s < count; s++) {
        const v = fn(masks.subarray(s * nPlayers, (s + 1) * nPlayers));
        if (typeof v === 'number') {
          if (nOutputs !== 1) throw new ShapeError(`value function returned 1 value; expected ${nOutputs}`);
          out[s] = v;
        } else {
          if (v.length !== nOutputs)
            throw new ShapeError(`value function returned ${v.length} values; expected ${nOutputs}`);
          for (let o = 0; o < nOutputs; o++) out[s * nOutputs + o] = v[o];
        }
      }
      cost.evaluations += count;
      return out;
    },
  };
}

/** Masks of the empty and the grand coalition (`2 × n` bytes: row 0 = ∅, row 1 = N). */
export function edgeMasks(n: number): Uint8Array {
  const masks = new Uint8Array(2 * n);
  masks.fill(1, n);
  return masks;
}
