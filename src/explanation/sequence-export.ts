import { columnOf } from '../data/sequences.js';
import { DataError, InvalidOptionError } from '../errors.js';
import type { NpzOptions } from './npz.js';
import { npzBytes } from './npz.js';
import { positionValues } from './plots/sequence-plots.js';
import type { SequenceExplanation } from './sequence-explanation.js';

/** The arrays TF-MoDISco reads, each `(N, A, L)` float32 in C order (channel-major, as `modisco motifs` expects). */
export interface ModiscoArrays {
  readonly shape: readonly [number, number, number];
  /** The one-hot sequences (ambiguous letters as their fractions, N = 0.25 each). */
  readonly ohe: Float32Array;
  /**
   * Hypothetical contributions: for ISM, the mean-centred effect of every letter at every
   * position (the L × A matrix); for the Shapley methods (one value per position) the actual
   * contributions, as no per-letter values exist.
   */
  readonly hypothetical: Float32Array;
  /** Actual contributions: hypothetical × one-hot (non-zero at the observed letter only). */
  readonly actual: Float32Array;
  /** True when `hypothetical` holds per-letter values (ISM), false when it repeats `actual`. */
  readonly perLetter: boolean;
}

/** The index of an output by name or number. @throws {InvalidOptionError} */
export function outputIndex(e: SequenceExplanation, output: number | string | undefined, option = 'output'): number {
  if (output === undefined) return 0;
  const i = typeof output === 'number' ? output : e.outputs.indexOf(output);
  if (!Number.isInteger(i) || i < 0 || i >= e.outputs.length)
    throw new InvalidOptionError(option, `an output of ${JSON.stringify(e.outputs)} or its index`, output);
  return i;
}

/**
 * The one-hot sequences and the attributions to output `output` in TF-MoDISco's layout
 * `(N, 4, L)` (`modisco motifs -s ohe.npz -a attr.npz` reads `arr_0` of each and casts to float32).
 */
export function modiscoArrays(e: SequenceExplanation, output?: number | string): ModiscoArrays {
  const o = outputIndex(e, output);
  const info = e.sequence;
  const L = info.length;
  const A = info.letters.length;
  const N = e.nRows;
  const nOut = e.outputs.length;
  const ohe = new Float32Array(N * A * L);
  const hyp = new Float32Array(N * A * L);
  const act = new Float32Array(N * A * L);
  const H = info.hypothetical;
  for (let r = 0; r < N; r++) {
    const track = H ? undefined : positionValues(e, r, o);
    for (let p = 0; p < L; p++)
      for (let c = 0; c < A; c++) {
        const x = e.data[r * L * A + columnOf(info.layout, L, A, p, c)];
        const at = (r * A + c) * L + p;
        ohe[at] = x;
        const h = H ? H[((r * L + p) * A + c) * nOut + o] : (track as Float64Array)[p] * x;
        hyp[at] = h;
        act[at] = H ? h * x : h;
      }
  }
  return { shape: [N, A, L], ohe, hypothetical: hyp, actual: act, perLetter: H !== undefined };
}

/** File name of an output's attribution archive: `attr.npz`, or `attr.NAME.npz` with several outputs. */
export function attrFileName(e: SequenceExplanation, o: number): string {
  if (e.outputs.length === 1) return 'attr.npz';
  return `attr.${e.outputs[o].replace(/[^A-Za-z0-9._-]+/g, '_')}.npz`;
}

/**
 * The `.npz` files of `--format npz`: `ohe.npz` (`arr_0` = one-hot) and, per output, `attr.npz`
 * (`arr_0` = hypothetical contributions, `hypothetical` = the same, `actual` = actual
 * contributions), every array `(N, 4, L)` float32. Returns file name → bytes.
 */
export function modiscoFiles(e: SequenceExplanation, options: NpzOptions = {}): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  let shape: readonly number[] = [];
  for (let o = 0; o < e.outputs.length; o++) {
    const m = modiscoArrays(e, o);
    shape = m.shape;
    if (o === 0) files.set('ohe.npz', npzBytes({ arr_0: { data: m.ohe, shape } }, options));
    files.set(
      attrFileName(e, o),
      npzBytes(
        {
          arr_0: { data: m.hypothetical, shape },
          hypothetical: { data: m.hypothetical, shape },
          actual: { data: m.actual, shape },
        },
        options,
      ),
    );
  }
  return files;
}

/** Genomic coordinates parsed from a sequence name. */
export interface GenomicInterval {
  readonly chrom: string;
  /** 0-based start (BED), end exclusive. */
  readonly start: number;
  readonly end: number;
  readonly strand: '+' | '-';
}

/**
 * Reads `chrom:start-end` (optionally `(+)` / `(-)` or `:+` / `:-` after it) from a sequence id,
 * the names `bedtools getfasta` gives: start is 0-based as in BED, end exclusive. Commas in
 * numbers are accepted. Undefined when the id carries no coordinates.
 */
export function parseInterval(id: string): GenomicInterval | undefined {
  const m = /^([^\s:]+):([\d,]+)-([\d,]+)(?:\(([+-])\)|:([+-]))?$/.exec(id.trim());
  if (!m) return undefined;
  const start = Number(m[2].replace(/,/g, ''));
  const end = Number(m[3].replace(/,/g, ''));
  if (!(end > start)) return undefined;
  return { chrom: m[1], start, end, strand: (m[4] ?? m[5] ?? '+') as '+' | '-' };
}

/** Options of {@link bedGraph}. */
export interface BedGraphOptions {
  /** Output explained in the track. @defaultValue 0 */
  output?: number | string;
  /** Track name. @defaultValue 'whybox OUTPUT' */
  name?: string;
  /** Called with the ids that carry no coordinates (skipped). */
  onSkipped?: (ids: readonly string[]) => void;
}

/**
 * A bedGraph track of the projected attribution (one value per position: the player's value
 * spread over its positions, the ISM track for ISM) of every sequence whose id carries
 * coordinates (`chr1:1000-3114`, {@link parseInterval}); padded positions are left out and a
 * cropped window is placed where it sits in the interval (`sequence.origins`); `(-)` strand
 * intervals are mirrored. Lines are sorted by chromosome and start (as bedGraphToBigWig needs).
 *
 * @throws {DataError} when no sequence id carries coordinates.
 */
export function bedGraph(e: SequenceExplanation, options: BedGraphOptions = {}): string {
  const o = outputIndex(e, options.output);
  const info = e.sequence;
  const L = info.length;
  const lines: { chrom: string; start: number; value: number }[] = [];
  const skipped: string[] = [];
  for (let r = 0; r < e.nRows; r++) {
    const iv = parseInterval(info.ids[r]);
    if (!iv) {
      skipped.push(info.ids[r]);
      continue;
    }
    const origin = info.origins?.[r] ?? 0;
    const v = positionValues(e, r, o);
    for (let p = 0; p < L; p++) {
      const q = p + origin; // index in the original sequence
      if (q < 0 || q >= iv.end - iv.start) continue;
      const start = iv.strand === '+' ? iv.start + q : iv.end - 1 - q;
      lines.push({ chrom: iv.chrom, start, value: v[p] });
    }
  }
  if (lines.length === 0 && skipped.length > 0)
    throw new DataError(
      `bedGraph tracks need sequence names with coordinates, e.g. "chr1:1000-3114" (bedtools getfasta names; 0-based start); none of the ${skipped.length} sequence ids has them (first: ${JSON.stringify(skipped[0])})`,
    );
  if (skipped.length > 0) options.onSkipped?.(skipped);
  lines.sort((a, b) => (a.chrom < b.chrom ? -1 : a.chrom > b.chrom ? 1 : a.start - b.start));
  const name = options.name ?? `whybox ${e.outputs[o]}`;
  const out = [`track type=bedGraph name="${name.replace(/"/g, "'")}" description="${e.method} attribution"`];
  for (const l of lines) out.push(`${l.chrom}\t${l.start}\t${l.start + 1}\t${Number(l.value.toPrecision(6))}`);
  return `${out.join('\n')}\n`;
}
