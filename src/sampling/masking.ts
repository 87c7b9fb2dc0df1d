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
 * doubling `copyWithin` (memcpy speed). A row then takes x's values on its coalition's
 * players — or, when the coalition holds most of the players where b differs from x,
 * starts from x and takes b's values on the few others. Jobs are planned
 * background-row-major, so runs are long.
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
    if (layout.words === 1 && layout.starts && layout.ends)
      fillRunOneWord(out, layout.nPlayers, d, layout.starts, layout.ends, x, background, job, start, r, e);
    else fillRunGeneric(out, layout, x, background, job, start, r, e);
    r = e;
  }
}

/** Players in at most 32, each on a contiguous column range: no indirection, one word per key. */
function fillRunOneWord(
  out: Float32Array | Float64Array,
  nPlayers: number,
  d: number,
  starts: Int32Array,
  ends: Int32Array,
  x: Float32Array | Float64Array,
  background: Float32Array | Float64Array,
  job: ExplicitRows,
  start: number,
  r: number,
  e: number,
): void {
  const keys = job.keys;
  const bRow = job.bg[r] * d;
  // players where this background row differs from x: the only ones a key can change
  let diff = 0;
  for (let j = 0; j < nPlayers; j++)
    for (let c = starts[j], ce = ends[j]; c < ce; c++)
      if (background[bRow + c] !== x[c]) {
        diff |= 1 << j;
        break;
      }
  const nDiff = popcount(diff);
  for (let t = r; t < e; t++) {
    const o = (t - start) * d;
    let bits = keys[t];
    if (2 * popcount(bits) <= nDiff) {
      // from b: x on the key's players
      while (bits !== 0) {
        const low = bits & -bits;
        const j = 31 - Math.clz32(low);
        bits ^= low;
        for (let c = starts[j], ce = ends[j]; c < ce; c++) out[o + c] = x[c];
      }
    } else {
      // from x: b on the differing players outside the key
      out.set(x, o);
      bits = diff & ~bits;
      while (bits !== 0) {
        const low = bits & -bits;
        const j = 31 - Math.clz32(low);
        bits ^= low;
        for (let c = starts[j], ce = ends[j]; c < ce; c++) out[o + c] = background[bRow + c];
      }
    }
  }
}

/** Any number of players, any column sets. */
function fillRunGeneric(
  out: Float32Array | Float64Array,
  layout: MaskingLayout,
  x: Float32Array | Float64Array,
  background: Float32Array | Float64Array,
  job: ExplicitRows,
  start: number,
  r: number,
  e: number,
): void {
  const d = layout.nColumns;
  const W = layout.words;
  const { offsets, columns } = layout;
  const keys = job.keys;
  const bRow = job.bg[r] * d;
  const diff = new Uint32Array(W);
  let nDiff = 0;
  for (let j = 0; j < layout.nPlayers; j++)
    for (let k = offsets[j], ke = offsets[j + 1]; k < ke; k++) {
      const c = columns[k];
      if (background[bRow + c] !== x[c]) {
        diff[j >> 5] |= 1 << (j & 31);
        nDiff++;
        break;
      }
    }
  for (let t = r; t < e; t++) {
    const o = (t - start) * d;
    let nKey = 0;
    for (let w = 0; w < W; w++) nKey += popcount(keys[t * W + w]);
    const fromX = 2 * nKey > nDiff;
    if (fromX) out.set(x, o);
    for (let w = 0; w < W; w++) {
      // from b: x on the key's players; from x: b on the differing players outside the key
      let bits = fromX ? diff[w] & ~keys[t * W + w] : keys[t * W + w];
      const src = fromX ? background : x;
      const base = fromX ? bRow : 0;
      while (bits !== 0) {
        const low = bits & -bits;
        const j = (w << 5) + 31 - Math.clz32(low);
        bits ^= low;
        for (let k = offsets[j], ke = offsets[j + 1]; k < ke; k++) {
          const c = columns[k];
          out[o + c] = src[base + c];
        }
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
