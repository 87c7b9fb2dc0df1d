import type { Players } from '../data/players.js';

/**
 * How coalitions map to columns, in the compact form worker threads receive: players as
 * CSR column lists and coalitions as bit sets of `words = ceil(nPlayers / 32)` 32-bit words
 * (player `j` is bit `j % 32` of word `j >> 5`).
 */
export interface MaskingLayout {
  readonly nColumns: number;
  readonly nPlayers: number;
  readonly words: number;
  readonly offsets: Int32Array;
  readonly columns: Int32Array;
}

/** The layout of a set of players. */
export function maskingLayout(players: Players): MaskingLayout {
  return {
    nColumns: players.nColumns,
    nPlayers: players.names.length,
    words: wordsFor(players.names.length),
    offsets: players.offsets,
    columns: players.columns,
  };
}

/** 32-bit words needed for a bit set of `n` players. */
export function wordsFor(n: number): number {
  return Math.max(1, Math.ceil(n / 32));
}

/**
 * A batch of masked rows to evaluate: row `r` is background row `bg[r]` with the columns of
 * the players in bit set `keys[r*words .. r*words+words-1]` replaced by the explained row's
 * values (interventional masking: x on S, background elsewhere).
 */
export interface MaskedRowsJob {
  readonly nRows: number;
  readonly bg: Int32Array;
  readonly keys: Uint32Array;
}

/**
 * Writes rows `start..end-1` of `job` into `out` (row-major, starting at `out[0]`).
 * `background` and `x` may be float32 or float64; `out` takes the model's input type so no
 * conversion pass is needed later. This is the inner loop of every explanation.
 *
 * Rows of a run with the same background row start from one copy of it, replicated by
 * doubling `copyWithin` (memcpy speed), then only the coalition's players are overwritten
 * with x. Jobs are planned background-row-major, so runs are long.
 */
export function fillMaskedRows(
  out: Float32Array | Float64Array,
  layout: MaskingLayout,
  x: Float32Array | Float64Array,
  background: Float32Array | Float64Array,
  job: MaskedRowsJob,
  start: number,
  end: number,
): void {
  const d = layout.nColumns;
  const W = layout.words;
  const { offsets, columns } = layout;
  const { bg, keys } = job;
  let r = start;
  while (r < end) {
    const b = bg[r];
    let e = r + 1;
    while (e < end && bg[e] === b) e++;
    const o0 = (r - start) * d;
    out.set(background.subarray(b * d, b * d + d), o0);
    for (let filled = 1; filled < e - r; ) {
      const m = Math.min(filled, e - r - filled);
      out.copyWithin(o0 + filled * d, o0, o0 + m * d);
      filled += m;
    }
    for (let t = r; t < e; t++) {
      const o = (t - start) * d;
      for (let w = 0; w < W; w++) {
        let bits = keys[t * W + w];
        while (bits !== 0) {
          const low = bits & -bits;
          const j = (w << 5) + 31 - Math.clz32(low);
          bits ^= low;
          for (let k = offsets[j], ke = offsets[j + 1]; k < ke; k++) {
            const c = columns[k];
            out[o + c] = x[c];
          }
        }
      }
    }
    r = e;
  }
}

/** Packs a `count × n` 0/1 byte matrix into bit sets of {@link wordsFor}(n) words per row. */
export function packMasks(masks: Uint8Array, count: number, n: number): Uint32Array {
  const W = wordsFor(n);
  const out = new Uint32Array(count * W);
  for (let s = 0; s < count; s++) {
    const row = s * n;
    for (let j = 0; j < n; j++) if (masks[row + j] !== 0) out[s * W + (j >> 5)] |= 1 << (j & 31);
  }
  return out;
}

/**
 * Players on which each background row differs from `x` (bit set per background row): only
 * those players can change a masked row, so `S ∩ D_b` identifies row (b, S) exactly.
 */
export function differingPlayers(
  layout: MaskingLayout,
  x: ArrayLike<number>,
  background: ArrayLike<number>,
  nBackground: number,
): Uint32Array {
  const d = layout.nColumns;
  const W = layout.words;
  const out = new Uint32Array(nBackground * W);
  for (let b = 0; b < nBackground; b++)
    for (let j = 0; j < layout.nPlayers; j++)
      for (let k = layout.offsets[j]; k < layout.offsets[j + 1]; k++) {
        const c = layout.columns[k];
        if (background[b * d + c] !== x[c]) {
          out[b * W + (j >> 5)] |= 1 << (j & 31);
          break;
        }
      }
  return out;
}
