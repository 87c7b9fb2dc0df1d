import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, unlink } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import type { SequenceLayout } from '../data/sequences.js';
import { columnOf } from '../data/sequences.js';
import { DataError, InvalidOptionError, ShapeError } from '../errors.js';
import type { NpzOptions } from './npz.js';
import { npzBytes, writeNpzFile } from './npz.js';
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

/** The index of an output by name or number (of an explanation, or of a batch's metadata). @throws {InvalidOptionError} */
export function outputIndex(
  e: { readonly outputs: readonly string[] },
  output: number | string | undefined,
  option = 'output',
): number {
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
  const ohe = new Float32Array(N * A * L);
  const hyp = new Float32Array(N * A * L);
  const act = new Float32Array(N * A * L);
  for (let r = 0; r < N; r++) {
    const at = r * A * L;
    modiscoRow(e, r, o, ohe.subarray(at, at + A * L), hyp.subarray(at, at + A * L), act.subarray(at, at + A * L));
  }
  return { shape: [N, A, L], ohe, hypothetical: hyp, actual: act, perLetter: info.hypothetical !== undefined };
}

/** Sequence `r` of an explanation as rows `(A, L)` of {@link modiscoArrays} (to output `o`). */
function modiscoRow(
  e: SequenceExplanation,
  r: number,
  o: number,
  ohe: Float32Array,
  hyp: Float32Array,
  act: Float32Array,
): void {
  const info = e.sequence;
  const L = info.length;
  const A = info.letters.length;
  const nOut = e.outputs.length;
  const H = info.hypothetical;
  const track = H ? undefined : positionValues(e, r, o);
  fillModiscoRow(
    info.layout,
    L,
    A,
    e.data.subarray(r * L * A, (r + 1) * L * A),
    H ? (p, c) => H[((r * L + p) * A + c) * nOut + o] : undefined,
    track,
    ohe,
    hyp,
    act,
  );
}

/**
 * Fills one sequence's `(A, L)` rows of the TF-MoDISco arrays from its model input `x` (in
 * `layout`) and either per-letter hypothetical contributions `h(p, c)` (ISM) or a per-position
 * track (the Shapley methods: its value on the observed letter, as actual and hypothetical).
 */
export function fillModiscoRow(
  layout: SequenceLayout,
  L: number,
  A: number,
  x: ArrayLike<number>,
  h: ((p: number, c: number) => number) | undefined,
  track: ArrayLike<number> | undefined,
  ohe: Float32Array,
  hyp: Float32Array,
  act: Float32Array,
): void {
  for (let p = 0; p < L; p++)
    for (let c = 0; c < A; c++) {
      const v = x[columnOf(layout, L, A, p, c)];
      const at = c * L + p;
      ohe[at] = v;
      const hv = h ? h(p, c) : (track as ArrayLike<number>)[p] * v;
      hyp[at] = hv;
      act[at] = h ? hv * v : hv;
    }
}

/** What {@link ModiscoWriter.open} needs to know of the arrays it streams. */
export interface ModiscoWriterOptions extends NpzOptions {
  /** Sequences that will be added (N). */
  readonly count: number;
  /** Letters per position (A, 4 for DNA). */
  readonly letters: number;
  /** Positions (L). */
  readonly length: number;
  /** Output names: one `attr.npz` (one output) or `attr.NAME.npz` per output. */
  readonly outputs: readonly string[];
  /** Per-letter hypothetical contributions (ISM); else the hypothetical arrays repeat the actual ones. */
  readonly perLetter: boolean;
}

/**
 * Streams the `.npz` files of `--format npz` (see {@link modiscoFiles}) into a directory, one
 * sequence at a time, for runs too large to hold three `(N, 4, L)` arrays in memory: rows go
 * to raw temporary files in the directory (plain appends), and {@link ModiscoWriter.close}
 * streams them into `ohe.npz` and the `attr*.npz` archives ({@link writeNpzFile}; zip64 past
 * 4 GiB) and deletes them. Memory is one sequence plus 1 MiB of buffer per array.
 */
export class ModiscoWriter {
  private added = 0;
  private constructor(
    private readonly dir: string,
    private readonly options: ModiscoWriterOptions,
    /** [file name, handle, pending bytes] for ohe, then per output hypothetical (and actual when per letter). */
    private readonly sinks: { path: string; fh: FileHandle; parts: Uint8Array[]; bytes: number }[],
  ) {}

  /** Creates the temporary files in `dir` (which must exist). */
  static async open(dir: string, options: ModiscoWriterOptions): Promise<ModiscoWriter> {
    if (!(Number.isInteger(options.count) && options.count >= 0))
      throw new InvalidOptionError('count', 'a whole number of sequences, 0 or more', options.count);
    const tag = `.whybox-npz.${process.pid}.${Date.now()}`;
    const names = ['ohe'];
    options.outputs.forEach((_, o) => {
      names.push(`hyp${o}`);
      if (options.perLetter) names.push(`act${o}`);
    });
    const sinks: { path: string; fh: FileHandle; parts: Uint8Array[]; bytes: number }[] = [];
    try {
      for (const n of names) {
        const path = join(dir, `${tag}.${n}.tmp`);
        sinks.push({ path, fh: await open(path, 'wx', 0o600), parts: [], bytes: 0 });
      }
    } catch (error) {
      for (const s of sinks) await s.fh.close().catch(() => undefined);
      for (const s of sinks) await unlink(s.path).catch(() => undefined);
      throw new DataError(describeError(error, dir), {}, { cause: error });
    }
    return new ModiscoWriter(dir, options, sinks);
  }

  /**
   * Adds the next sequence: its one-hot `(A, L)` and, per output, its hypothetical and actual
   * `(A, L)` rows ({@link fillModiscoRow}). The arrays are copied.
   */
  async add(ohe: Float32Array, hypothetical: readonly Float32Array[], actual: readonly Float32Array[]): Promise<void> {
    const { letters: A, length: L, outputs, perLetter, count } = this.options;
    if (this.added >= count) throw new ShapeError(`the npz writer was opened for ${count} sequences; got more`);
    const rows = [ohe];
    for (let o = 0; o < outputs.length; o++) {
      rows.push(hypothetical[o]);
      if (perLetter) rows.push(actual[o]);
    }
    for (let k = 0; k < rows.length; k++) {
      if (rows[k]?.length !== A * L)
        throw new ShapeError(`an npz row holds ${A} × ${L} = ${A * L} values; got ${rows[k]?.length}`);
      const s = this.sinks[k];
      s.parts.push(leBytes(rows[k]));
      s.bytes += A * L * 4;
      if (s.bytes >= 1 << 20) await flush(s);
    }
    this.added++;
  }

  /** Writes the archives (every sequence must have been added); returns their file names. */
  async close(): Promise<string[]> {
    const { letters: A, length: L, outputs, perLetter, count } = this.options;
    try {
      if (this.added !== count)
        throw new ShapeError(`the npz writer was opened for ${count} sequences; ${this.added} were added`);
      for (const s of this.sinks) {
        await flush(s);
        await s.fh.close();
      }
      const shape = [count, A, L];
      const from = (path: string) => () => createReadStream(path, { highWaterMark: 1 << 20 });
      const written = ['ohe.npz'];
      await writeNpzFile(
        join(this.dir, 'ohe.npz'),
        [{ name: 'arr_0', shape, dtype: 'f4', bytes: from(this.sinks[0].path) }],
        this.options,
      );
      const step = perLetter ? 2 : 1;
      for (let o = 0; o < outputs.length; o++) {
        const hyp = this.sinks[1 + o * step].path;
        const act = this.sinks[1 + o * step + step - 1].path;
        const name = attrName(outputs, o);
        await writeNpzFile(
          join(this.dir, name),
          [
            { name: 'arr_0', shape, dtype: 'f4', bytes: from(hyp) },
            { name: 'hypothetical', shape, dtype: 'f4', bytes: from(hyp) },
            { name: 'actual', shape, dtype: 'f4', bytes: from(act) },
          ],
          this.options,
        );
        written.push(name);
      }
      return written;
    } finally {
      await this.abort();
    }
  }

  /** Deletes the temporary files (after {@link close}, or to give up). */
  async abort(): Promise<void> {
    for (const s of this.sinks) {
      await s.fh.close().catch(() => undefined);
      await unlink(s.path).catch(() => undefined);
    }
  }
}

async function flush(s: { fh: FileHandle; parts: Uint8Array[]; bytes: number }): Promise<void> {
  if (s.parts.length === 0) return;
  const b = Buffer.concat(s.parts);
  s.parts = [];
  s.bytes = 0;
  let done = 0;
  while (done < b.length) done += (await s.fh.write(b, done, b.length - done)).bytesWritten;
}

/** A float32 array's values as little-endian bytes (a copy). */
function leBytes(a: Float32Array): Uint8Array {
  const out = new Uint8Array(a.length * 4);
  if (endianness() === 'LE') out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  else {
    const v = new DataView(out.buffer);
    for (let i = 0; i < a.length; i++) v.setFloat32(i * 4, a[i], true);
  }
  return out;
}

function describeError(error: unknown, dir: string): string {
  const code = (error as { code?: string }).code;
  return `cannot write the npz files' temporary data in ${dir}${code ? ` (${code})` : ''}: give an --out directory you can write to`;
}

/**
 * Writes the `.npz` files of `--format npz` ({@link modiscoFiles}) for an explanation into
 * `dir` through a {@link ModiscoWriter}: the same bytes as `modiscoFiles` for archives under
 * 4 GiB, without holding the arrays in memory. Returns the file names.
 */
export async function writeModiscoFiles(
  e: SequenceExplanation,
  dir: string,
  options: NpzOptions = {},
): Promise<string[]> {
  const L = e.sequence.length;
  const A = e.sequence.letters.length;
  const nOut = e.outputs.length;
  const w = await ModiscoWriter.open(dir, {
    ...options,
    count: e.nRows,
    letters: A,
    length: L,
    outputs: e.outputs,
    perLetter: e.sequence.hypothetical !== undefined,
  });
  try {
    const ohe = new Float32Array(A * L);
    const hyp = Array.from({ length: nOut }, () => new Float32Array(A * L));
    const act = Array.from({ length: nOut }, () => new Float32Array(A * L));
    for (let r = 0; r < e.nRows; r++) {
      for (let o = 0; o < nOut; o++) modiscoRow(e, r, o, ohe, hyp[o], act[o]);
      await w.add(ohe, hyp, act);
    }
  } catch (error) {
    await w.abort();
    throw error;
  }
  return w.close();
}

/** File name of an output's attribution archive: `attr.npz`, or `attr.NAME.npz` with several outputs. */
export function attrFileName(e: SequenceExplanation, o: number): string {
  return attrName(e.outputs, o);
}

function attrName(outputs: readonly string[], o: number): string {
  if (outputs.length === 1) return 'attr.npz';
  return `attr.${outputs[o].replace(/[^A-Za-z0-9._-]+/g, '_')}.npz`;
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
  if (lines.length === 0 && skipped.length > 0) throw noCoordinatesError(skipped.length, skipped[0]);
  if (skipped.length > 0) options.onSkipped?.(skipped);
  lines.sort((a, b) => (a.chrom < b.chrom ? -1 : a.chrom > b.chrom ? 1 : a.start - b.start));
  const out = [bedGraphTrackLine(options.name ?? `whybox ${e.outputs[o]}`, e.method)];
  for (const l of lines) out.push(bedGraphLine(l.chrom, l.start, l.value));
  return `${out.join('\n')}\n`;
}

/** The first line of a bedGraph track (without its newline). */
export function bedGraphTrackLine(name: string, method: string): string {
  return `track type=bedGraph name="${name.replace(/"/g, "'")}" description="${method} attribution"`;
}

/** One base of a bedGraph track (without its newline): the value to 6 significant digits. */
export function bedGraphLine(chrom: string, start: number, value: number): string {
  return `${chrom}\t${start}\t${start + 1}\t${Number(value.toPrecision(6))}`;
}

/** File name of an output's track in `--format bedgraph`: `OUTPUT.bedGraph` (the name made file-safe). */
export function bedGraphFileName(outputs: readonly string[], o: number): string {
  return `${outputs[o].replace(/[^A-Za-z0-9._-]+/g, '_')}.bedGraph`;
}

/** The error of a bedGraph export where no sequence id has coordinates (`count` ids, the first `first`). */
export function noCoordinatesError(count: number, first: string): DataError {
  return new DataError(
    `bedGraph tracks need sequence names with coordinates, e.g. "chr1:1000-3114" (bedtools getfasta names; 0-based start); none of the ${count} sequence ids has them (first: ${JSON.stringify(first)})`,
  );
}
