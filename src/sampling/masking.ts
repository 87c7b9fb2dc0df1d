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
  /**
   * When every player's columns are one contiguous range: player j owns columns
   * `starts[j] .. starts[j] + (offsets[j+1] − offsets[j]) − 1` (a faster masking loop).
   */
  readonly starts?: Int32Array;
  /** With `starts`: one past the last column of each player. */
  readonly ends?: Int32Array;
}

/** The layout of a set of players. */
export function maskingLayout(players: Players): MaskingLayout {
  const n = players.names.length;
  const { offsets, columns } = players;
  let contiguous = true;
  for (let j = 0; j < n && contiguous; j++)
    for (let k = offsets[j] + 1; k < offsets[j + 1]; k++) if (columns[k] !== columns[k - 1] + 1) contiguous = false;
  return {
    nColumns: players.nColumns,
    nPlayers: n,
    words: wordsFor(n),
    offsets,
    columns,
    starts: contiguous ? Int32Array.from({ length: n }, (_, j) => columns[offsets[j]]) : undefined,
    ends: contiguous
      ? Int32Array.from({ length: n }, (_, j) => columns[offsets[j]] + offsets[j + 1] - offsets[j])
      : undefined,
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
export interface ExplicitRows {
  readonly kind?: 'rows';
  readonly nRows: number;
  readonly bg: Int32Array;
  readonly keys: Uint32Array;
}

/**
 * Rows given by enumeration, built where they are evaluated (a worker needs only this
 * descriptor): a list of segments, segment i being background row `b[i]` with the
 * coalitions t = t0[i] .. t0[i] + count[i] − 1 of its differing players, coalition t holding
 * `positions[offsets[i] + j]` when bit j of t is set (at most 30 positions per segment).
 */
export interface EnumeratedRows {
  readonly kind: 'enumerate';
  readonly nRows: number;
  readonly b: Int32Array;
  readonly t0: Int32Array;
  readonly count: Int32Array;
  readonly offsets: Int32Array;
  readonly positions: Int32Array;
}

/** Masked rows to evaluate: explicit, or enumerated subsets of one background row's players. */
export type MaskedRowsJob = ExplicitRows | EnumeratedRows;

/** Rows `start..end-1` of a job as explicit arrays (subarray views for explicit jobs). */
export function jobRows(job: MaskedRowsJob, words: number, start: number, end: number): ExplicitRows {
  if (job.kind !== 'enumerate')
    return { nRows: end - start, bg: job.bg.subarray(start, end), keys: job.keys.subarray(start * words, end * words) };
  const n = end - start;
  const bg = new Int32Array(n);
  const keys = new Uint32Array(n * words);
  // find the segment holding `start`
  let seg = 0;
  let first = 0;
  while (first + job.count[seg] <= start) first += job.count[seg++];
  let r = 0;
  while (r < n) {
    const take = Math.min(n - r, first + job.count[seg] - (start + r));
    const t0 = job.t0[seg] + (start + r - first);
    depositSegment(job, seg, words, t0, take, keys, r);
    bg.fill(job.b[seg], r, r + take);
    r += take;
    if (r < n) first += job.count[seg++];
  }
  return { nRows: n, bg, keys };
}

/**
 * Keys of coalitions t0 .. t0 + take − 1 of segment `seg`: the bits of t spread onto the
 * segment's player positions, one 256-entry table per byte of t for long runs.
 */
function depositSegment(
  job: EnumeratedRows,
  seg: number,
  words: number,
  t0: number,
  take: number,
  keys: Uint32Array,
  at: number,
): void {
  const from = job.offsets[seg];
  const k = job.offsets[seg + 1] - from;
  const pos = job.positions;
  if (take < 512) {
    for (let r = 0; r < take; r++) {
      const t = t0 + r;
      for (let i = 0; i < k; i++)
        if ((t >>> i) & 1) keys[(at + r) * words + (pos[from + i] >> 5)] |= 1 << (pos[from + i] & 31);
    }
    return;
  }
  const bytes = Math.ceil(k / 8);
  const table = new Uint32Array(bytes * 256 * words);
  for (let c = 0; c < bytes; c++)
    for (let v = 1; v < 256; v++)
      for (let i = 0; i < 8 && c * 8 + i < k; i++)
        if ((v >>> i) & 1) {
          const p = pos[from + c * 8 + i];
          table[(c * 256 + v) * words + (p >> 5)] |= 1 << (p & 31);
        }
  for (let r = 0; r < take; r++) {
    const t = t0 + r;
    const o = (at + r) * words;
    for (let c = 0; c < bytes; c++) {
      const v = (t >>> (8 * c)) & 0xff;
      if (v === 0) continue;
      const base = (c * 256 + v) * words;
      for (let w = 0; w < words; w++) keys[o + w] |= table[base + w];
    }
  }
}

/** An enumeration job from segments `[b, t0, count, positions]`. */
export function enumeration(
  segments: readonly (readonly [number, number, number, readonly number[]])[],
): EnumeratedRows {
  const m = segments.length;
  const offsets = new Int32Array(m + 1);
  segments.forEach(([, , , pos], i) => {
    offsets[i + 1] = offsets[i] + pos.length;
  });
  const positions = new Int32Array(offsets[m]);
  segments.forEach(([, , , pos], i) => {
    positions.set(pos, offsets[i]);
  });
  const count = Int32Array.from(segments, (s) => s[2]);
  return {
    kind: 'enumerate',
    nRows: count.reduce((a, c) => a + c, 0),
    b: Int32Array.from(segments, (s) => s[0]),
    t0: Int32Array.from(segments, (s) => s[1]),
    count,
    offsets,
    positions,
  };
}

/**
 * Writes rows `start..end-1` of `job` into `out` (row-major, starting at `out[0]`).
 * `background` and `x` may be float32 or float64; `out` takes the model's input type so no
 * conversion pass is needed later. This is the inner loop of every explanation.
 *
 * Rows of a run with the same background row b start from one copy of b, replicated by
 * doubling `copyWithin` (memcpy speed). The run then lists, per player, only the columns
 * where x differs from b (a one-hot group of any width differs in two), and a row takes x's
 * value on those columns of its coalition's players — the fewest writes that give the row.
 * Jobs are planned background-row-major, so runs are long.
 */
export function fillMaskedRows(
  out: Float32Array | Float64Array,
  layout: MaskingLayout,
  x: Float32Array | Float64Array,
  background: Float32Array | Float64Array,
  job: ExplicitRows,
  start: number,
  end: number,
): void {
  const d = layout.nColumns;
  const { bg } = job;
  const diff = new DiffColumns(layout, out instanceof Float32Array);
  let r = start;
  while (r < end) {
    const b = bg[r];
    let e = r + 1;
    while (e < end && bg[e] === b) e++;
    const o0 = (r - start) * d;
    const bRow = b * d;
    out.set(background.subarray(bRow, bRow + d), o0);
    for (let filled = 1; filled < e - r; ) {
      const m = Math.min(filled, e - r - filled);
      out.copyWithin(o0 + filled * d, o0, o0 + m * d);
      filled += m;
    }
    diff.load(x, background, bRow);
    if (layout.words === 1) diff.fillOneWord(out, job.keys, r, e, o0);
    else diff.fill(out, job.keys, r, e, o0);
    r = e;
  }
}

/**
 * The columns where x differs from one background row, grouped by player (CSR over the
 * players), with x's values: what a masked row of that background row has to overwrite.
 * A column differs when the values are not identical (`!==`, and 0 vs −0), so the rows
 * carry exactly x's values on the coalition and b's elsewhere.
 */
class DiffColumns {
  private readonly layout: MaskingLayout;
  private readonly offsets: Int32Array;
  private readonly columns: Int32Array;
  private readonly values: Float32Array | Float64Array;
  /** Players with at least one differing column, as a bit set. */
  private readonly players: Uint32Array;

  constructor(layout: MaskingLayout, float32: boolean) {
    this.layout = layout;
    this.offsets = new Int32Array(layout.nPlayers + 1);
    this.columns = new Int32Array(layout.columns.length);
    this.values = float32 ? new Float32Array(layout.columns.length) : new Float64Array(layout.columns.length);
    this.players = new Uint32Array(layout.words);
  }

  load(x: Float32Array | Float64Array, background: Float32Array | Float64Array, bRow: number): void {
    const { offsets: po, columns: pc, nPlayers } = this.layout;
    const { offsets, columns, values, players } = this;
    players.fill(0);
    let nd = 0;
    for (let j = 0; j < nPlayers; j++) {
      offsets[j] = nd;
      for (let k = po[j], ke = po[j + 1]; k < ke; k++) {
        const c = pc[k];
        const xv = x[c];
        const bv = background[bRow + c];
        if (xv !== bv || (xv === 0 && 1 / xv !== 1 / bv)) {
          columns[nd] = c;
          values[nd] = xv;
          nd++;
        }
      }
      if (nd > offsets[j]) players[j >> 5] |= 1 << (j & 31);
    }
    offsets[nPlayers] = nd;
  }

  /** Rows r..e−1 (one key word each) written from `out[o0]` on. */
  fillOneWord(out: Float32Array | Float64Array, keys: Uint32Array, r: number, e: number, o0: number): void {
    const { offsets, columns, values } = this;
    const d = this.layout.nColumns;
    const live = this.players[0];
    for (let t = r, o = o0; t < e; t++, o += d) {
      let bits = keys[t] & live;
      while (bits !== 0) {
        const low = bits & -bits;
        const j = 31 - Math.clz32(low);
        bits ^= low;
        for (let k = offsets[j], ke = offsets[j + 1]; k < ke; k++) out[o + columns[k]] = values[k];
      }
    }
  }

  /** As {@link fillOneWord} for keys of any number of words. */
  fill(out: Float32Array | Float64Array, keys: Uint32Array, r: number, e: number, o0: number): void {
    const { offsets, columns, values, players } = this;
    const d = this.layout.nColumns;
    const W = this.layout.words;
    for (let t = r, o = o0; t < e; t++, o += d)
      for (let w = 0; w < W; w++) {
        let bits = keys[t * W + w] & players[w];
        while (bits !== 0) {
          const low = bits & -bits;
          const j = (w << 5) + 31 - Math.clz32(low);
          bits ^= low;
          for (let k = offsets[j], ke = offsets[j + 1]; k < ke; k++) out[o + columns[k]] = values[k];
        }
      }
  }
}

/** Number of set bits of a 32-bit integer. */
export function popcount(x: number): number {
  let v = x >>> 0;
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
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
