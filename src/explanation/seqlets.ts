import { InvalidOptionError, ShapeError } from '../errors.js';
import { dinucleotideShuffle } from '../sampling/dinucleotide-shuffle.js';
import { indexedStreams } from '../sampling/rng.js';
import { positionValues } from './plots/sequence-plots.js';
import type { SequenceExplanation } from './sequence-explanation.js';
import { outputIndex, parseInterval } from './sequence-export.js';

/** A contiguous high-attribution segment of one sequence. */
export interface Seqlet {
  /** Row of the sequence in the explanation. */
  readonly row: number;
  readonly id: string;
  readonly output: string;
  /** 0-based first position, end exclusive (window positions). */
  readonly start: number;
  readonly end: number;
  /** Sum of the per-position attribution over [start, end). */
  readonly score: number;
  /**
   * Empirical p-value of the seqlet's window sum against the null (window sums of the same
   * width on the attributions of shuffled sequences): (1 + #{null |sum| ≥ |sum|}) / (1 + #null).
   */
  readonly pValue: number;
  readonly letters: string;
  /** Genomic coordinates (0-based, end exclusive) when the id carries them. */
  readonly chrom?: string;
  readonly chromStart?: number;
  readonly chromEnd?: number;
}

/** Options of {@link findSeqlets}. */
export interface SeqletOptions {
  /** Output(s) to scan, by name or index. @defaultValue every output */
  output?: number | string;
  /** Width of the scanning window. @defaultValue 10 */
  width?: number;
  /** Most seqlets per sequence and output. @defaultValue 3 */
  maxPerSequence?: number;
  /** Keep seqlets with a p-value at most this. @defaultValue 0.05 */
  maxP?: number;
  /** A window is trimmed at both ends to the positions with |a| ≥ trim · (its largest |a|) and the window's sign. @defaultValue 0.1 */
  trim?: number;
}

/** The raw scan: per-sequence tracks against null tracks of the same length. */
export interface TrackSeqlet {
  readonly row: number;
  readonly start: number;
  readonly end: number;
  readonly score: number;
  readonly pValue: number;
}

function windowSums(track: Float64Array, w: number): Float64Array {
  const n = Math.max(0, track.length - w + 1);
  const out = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < track.length; i++) {
    acc += track[i];
    if (i >= w) acc -= track[i - w];
    if (i >= w - 1) out[i - w + 1] = acc;
  }
  return out;
}

function checkOptions(options: SeqletOptions): Required<Omit<SeqletOptions, 'output'>> {
  const width = options.width ?? 10;
  const maxPerSequence = options.maxPerSequence ?? 3;
  const maxP = options.maxP ?? 0.05;
  const trim = options.trim ?? 0.1;
  if (!Number.isInteger(width) || width < 1) throw new InvalidOptionError('width', 'an integer >= 1', width);
  if (!Number.isInteger(maxPerSequence) || maxPerSequence < 1)
    throw new InvalidOptionError('maxPerSequence', 'an integer >= 1', maxPerSequence);
  if (!(maxP > 0 && maxP <= 1)) throw new InvalidOptionError('maxP', 'a number in (0, 1]', maxP);
  if (!(trim >= 0 && trim < 1)) throw new InvalidOptionError('trim', 'a number in [0, 1)', trim);
  return { width, maxPerSequence, maxP, trim };
}

/**
 * Seqlets of per-position tracks: greedily the window of `width` with the largest |sum| that
 * overlaps no seqlet already taken, while its empirical p-value against the null windows (every
 * window of every null track) is at most `maxP`; each window is then trimmed at its ends to
 * the positions that carry its sign with |a| ≥ trim · max |a|.
 */
export function seqletsFromTracks(
  tracks: readonly Float64Array[],
  nulls: readonly Float64Array[],
  options: SeqletOptions = {},
): TrackSeqlet[] {
  const { width, maxPerSequence, maxP, trim } = checkOptions(options);
  const pool: number[] = [];
  for (const t of nulls) for (const s of windowSums(t, width)) pool.push(Math.abs(s));
  if (pool.length === 0)
    throw new ShapeError(
      `the null tracks have no window of width ${width}: pass shuffled sequences at least that long`,
    );
  const sorted = Float64Array.from(pool).sort();
  const M = sorted.length;
  // p = (1 + #{null >= s}) / (1 + M)
  const pOf = (s: number) => {
    let lo = 0;
    let hi = M;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] < s) lo = mid + 1;
      else hi = mid;
    }
    return (1 + (M - lo)) / (1 + M);
  };
  const out: TrackSeqlet[] = [];
  tracks.forEach((track, row) => {
    const sums = windowSums(track, width);
    const taken: [number, number][] = [];
    const order = Array.from(sums.keys()).sort((a, b) => Math.abs(sums[b]) - Math.abs(sums[a]) || a - b);
    for (const i of order) {
      if (taken.length >= maxPerSequence) break;
      if (taken.some(([a, b]) => i < b && i + width > a)) continue;
      const p = pOf(Math.abs(sums[i]));
      if (p > maxP) break; // the rest have smaller |sum|, so larger p
      taken.push([i, i + width]);
      const sign = Math.sign(sums[i]) || 1;
      let peak = 0;
      for (let q = i; q < i + width; q++) peak = Math.max(peak, sign * track[q]);
      let a = i;
      let b = i + width;
      while (a < b - 1 && sign * track[a] < trim * peak) a++;
      while (b > a + 1 && sign * track[b - 1] < trim * peak) b--;
      let score = 0;
      for (let q = a; q < b; q++) score += track[q];
      out.push({ row, start: a, end: b, score, pValue: p });
    }
  });
  return out;
}

/**
 * Seqlets of an explanation: per sequence and output, contiguous high-attribution segments with
 * an empirical p-value from `nullExplanation`, the same method run on shuffled copies of the
 * sequences (see {@link shuffledCopies}).
 *
 * @throws {ShapeError} when the null explanation has other outputs or length.
 */
export function findSeqlets(
  e: SequenceExplanation,
  nullExplanation: SequenceExplanation,
  options: SeqletOptions = {},
): Seqlet[] {
  if (nullExplanation.sequence.length !== e.sequence.length || nullExplanation.outputs.length !== e.outputs.length)
    throw new ShapeError('the null explanation must have the same sequence length and outputs');
  const outs = options.output === undefined ? e.outputs.map((_, o) => o) : [outputIndex(e, options.output)];
  const result: Seqlet[] = [];
  for (const o of outs) {
    const tracks = Array.from({ length: e.nRows }, (_, r) => positionValues(e, r, o));
    const nulls = Array.from({ length: nullExplanation.nRows }, (_, r) => positionValues(nullExplanation, r, o));
    for (const s of seqletsFromTracks(tracks, nulls, options)) {
      const id = e.sequence.ids[s.row];
      const iv = parseInterval(id);
      const origin = e.sequence.origins?.[s.row] ?? 0;
      const genomic =
        iv === undefined
          ? {}
          : iv.strand === '+'
            ? { chrom: iv.chrom, chromStart: iv.start + s.start + origin, chromEnd: iv.start + s.end + origin }
            : { chrom: iv.chrom, chromStart: iv.end - (s.end + origin), chromEnd: iv.end - (s.start + origin) };
      result.push({
        row: s.row,
        id,
        output: e.outputs[o],
        start: s.start,
        end: s.end,
        score: s.score,
        pValue: s.pValue,
        letters: e.sequence.sequences[s.row].slice(s.start, s.end),
        ...genomic,
      });
    }
  }
  return result.sort((a, b) => a.row - b.row || a.start - b.start || a.output.localeCompare(b.output));
}

/**
 * `k` dinucleotide-shuffled copies of each sequence (ids `ID#shuffleJ`), seeded by the
 * sequence's index (the same copies whatever the other sequences): the null for {@link findSeqlets}.
 */
export function shuffledCopies(
  ids: readonly string[],
  sequences: readonly string[],
  k: number,
  seed: number,
): { ids: string[]; sequences: string[]; lines: number[] } {
  if (!Number.isInteger(k) || k < 1) throw new InvalidOptionError('nullShuffles', 'an integer >= 1', k);
  const streams = indexedStreams(
    seed ^ 0x5eed1e75,
    Array.from(sequences, (_, i) => i),
  );
  const out = { ids: [] as string[], sequences: [] as string[], lines: [] as number[] };
  sequences.forEach((s, i) => {
    for (let j = 0; j < k; j++) {
      out.ids.push(`${ids[i]}#shuffle${j + 1}`);
      out.sequences.push(dinucleotideShuffle(s, streams[i]));
    }
  });
  return out;
}

/** Seqlets as TSV: a header, then one line per seqlet (0-based start, end exclusive). */
export function seqletsToTsv(seqlets: readonly Seqlet[]): string {
  const head = ['id', 'output', 'start', 'end', 'score', 'p_value', 'letters', 'chrom', 'chrom_start', 'chrom_end'];
  const lines = seqlets.map((s) =>
    [
      s.id,
      s.output,
      s.start,
      s.end,
      Number(s.score.toPrecision(6)),
      Number(s.pValue.toPrecision(4)),
      s.letters,
      s.chrom ?? '',
      s.chromStart ?? '',
      s.chromEnd ?? '',
    ].join('\t'),
  );
  return `${[head.join('\t'), ...lines].join('\n')}\n`;
}
