/**
 * bedGraph tracks from a finished sequence batch: the JSON lines of `whybox batch --sequences`
 * (or of `whybox batch merge`) into one `OUTPUT.bedGraph` per output, the bytes of
 * `whybox explain --sequences --format bedgraph`, without holding the tracks in memory
 * (`whybox batch bedgraph`, `whybox batch --bedgraph DIR`).
 *
 * Two passes. The first reads the lines in order (each JSON line parsed once) and appends, per
 * sequence whose id has coordinates, the values of its placed bases to a raw temporary file in
 * the output directory, in genomic order, keeping only a small index entry (chromosome, first
 * and last base, row, offset). The second sorts the index and sweeps each chromosome base by
 * base, reading the sequences that cover the base from the temporary file, in row order: the
 * order `bedGraph` sorts its lines in (chromosome, start, then the rows' order for overlapping
 * intervals). A sequence's values are read in slices of at most `bufferValues / (overlap ×
 * outputs)` bases, so memory stays bounded even where thousands of intervals overlap.
 */
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describeFsError } from '../data/csv.js';
import { DataError, InvalidOptionError } from '../errors.js';
import {
  bedGraphFileName,
  bedGraphLine,
  bedGraphTrackLine,
  noCoordinatesError,
  outputIndex,
  parseInterval,
} from '../explanation/sequence-export.js';
import { lineTrack, readSequenceBatch, sequenceBatchLines } from './sequence-jsonl.js';

/** Options of {@link writeBedGraphFromJsonl}. */
export interface JsonlBedGraphOptions {
  /** The output to write a track for (index or name). @defaultValue every output, one file each */
  output?: number | string;
  /** Called once, before the tracks are written, with the number of ids without coordinates (skipped) and the first. */
  onSkipped?: (count: number, first: string) => void;
  /** Called with the number of lines read so far (every 64 lines and at the end of the first pass). */
  onProgress?: (rows: number) => void;
  /**
   * Attribution values (8 bytes each) the second pass holds at once: where `d` intervals overlap,
   * each is read in slices of `bufferValues / (d × outputs)` bases (a sequence of L bases is read
   * in one piece while `d × L × outputs` fits). Speed and memory only: the bytes do not change.
   * @defaultValue 4,194,304 (32 MiB)
   */
  bufferValues?: number;
}

/** What {@link writeBedGraphFromJsonl} wrote. */
export interface JsonlBedGraphResult {
  /** File names in the directory: `OUTPUT.bedGraph` per output written, in output order. */
  readonly files: readonly string[];
  /** Lines (sequences) read. */
  readonly rows: number;
  /** Sequences whose id has no `chrom:start-end` coordinates (not in the tracks). */
  readonly skipped: number;
  /** Base lines in each track (the track line not counted). */
  readonly lines: number;
}

/** A sequence's placed bases: `lo..hi` on `chrom`, values in genomic order at `base` (in values) of the temporary file. */
interface Entry {
  readonly chrom: number;
  readonly lo: number;
  readonly hi: number;
  readonly row: number;
  readonly base: number;
}

const DEFAULT_BUFFER_VALUES = 1 << 22;
/** Values the first pass collects before appending them to the temporary file (1 MiB). */
const WRITE_VALUES = 1 << 17;
/** Bytes of track lines collected per file before a write. */
const WRITE_BYTES = 1 << 20;

/**
 * Writes the bedGraph tracks of `--format bedgraph` ({@link bedGraph}: one `OUTPUT.bedGraph`
 * per output, or the one of `options.output`) into `dir` from a complete sequence batch output
 * `jsonl` and its `jsonl.meta.json`: the same bytes as `whybox explain --sequences --format
 * bedgraph` for the same sequences and options. Ids without coordinates are skipped
 * (`onSkipped`). Memory does not grow with the number of sequences beyond a small index entry
 * per sequence with coordinates; the temporary file in `dir` takes 8 bytes per placed base and
 * output written, and is deleted at the end. Returns what was written.
 *
 * @throws {DataError} when the metadata is missing, the run is unfinished or tabular, the file
 *   is cut, a line is not a sequence line of the run (naming the line), or no id has coordinates.
 * @throws {InvalidOptionError} for an `output` the run does not have, or a bad `bufferValues`.
 */
export async function writeBedGraphFromJsonl(
  jsonl: string,
  dir: string,
  options: JsonlBedGraphOptions = {},
): Promise<JsonlBedGraphResult> {
  const bufferValues = options.bufferValues ?? DEFAULT_BUFFER_VALUES;
  if (!(Number.isSafeInteger(bufferValues) && bufferValues >= 1))
    throw new InvalidOptionError('bufferValues', 'a whole number of values, 1 or more', bufferValues);
  const batch = await readSequenceBatch(jsonl, 'bedGraph tracks');
  const outs = options.output === undefined ? batch.outputs.map((_, o) => o) : [outputIndex(batch, options.output)];
  const K = outs.length;
  const L = batch.sequence.length;
  const spans = batch.sequence.spans;
  await mkdir(dir, { recursive: true }).catch((error) => {
    throw new DataError(describeFsError(error, dir, true), {}, { cause: error });
  });
  const tag = `.whybox-bedgraph.${process.pid}.${Date.now()}`;
  const temps: string[] = [];
  const handles: FileHandle[] = [];
  const create = async (name: string, mode: number): Promise<FileHandle> => {
    const path = join(dir, name);
    let fh: FileHandle;
    try {
      fh = await open(path, 'wx+', mode);
    } catch (error) {
      throw new DataError(describeFsError(error, path, true), {}, { cause: error });
    }
    temps.push(path);
    handles.push(fh);
    return fh;
  };
  try {
    // first pass: the placed bases of each sequence, in genomic order, to the temporary file
    const values = await create(`${tag}.values.tmp`, 0o600);
    const chromIds = new Map<string, number>();
    const entries: Entry[] = [];
    const pending = new Float64Array(WRITE_VALUES);
    let held = 0;
    let written = 0; // values in the file and pending
    let rows = 0;
    let skipped = 0;
    let firstSkipped = '';
    let lines = 0;
    const tracks = outs.map(() => new Float64Array(L));
    for await (const { row, where } of sequenceBatchLines(batch, options.onProgress)) {
      const r = rows++;
      const id = row.id;
      if (typeof id !== 'string')
        throw new DataError('has no sequence "id": not a line of whybox batch --sequences', where);
      const origin = row.origin ?? 0;
      if (!Number.isSafeInteger(origin))
        throw new DataError(`has "origin" ${JSON.stringify(origin)}, not a whole number`, where);
      const iv = parseInterval(id);
      if (!iv) {
        if (skipped++ === 0) firstSkipped = id;
        continue;
      }
      // window position p is base q = p + origin of the interval (bedGraph)
      const o0 = origin as number;
      const pa = Math.max(0, -o0);
      const pb = Math.min(L - 1, iv.end - iv.start - 1 - o0);
      if (pa > pb) continue;
      for (let k = 0; k < K; k++) lineTrack(spans, row.values, outs[k], tracks[k]);
      const n = pb - pa + 1;
      const plus = iv.strand === '+';
      let chrom = chromIds.get(iv.chrom);
      if (chrom === undefined) chromIds.set(iv.chrom, (chrom = chromIds.size));
      const lo = plus ? iv.start + pa + o0 : iv.end - 1 - pb - o0;
      entries.push({ chrom, lo, hi: lo + n - 1, row: r, base: written });
      for (let j = 0; j < n; j++) {
        const p = plus ? pa + j : pb - j;
        for (let k = 0; k < K; k++) {
          pending[held++] = tracks[k][p];
          if (held === WRITE_VALUES) {
            await writeAll(values, pending, held);
            held = 0;
          }
        }
      }
      written += n * K;
      lines += n;
    }
    await writeAll(values, pending, held);
    if (lines === 0 && skipped > 0) throw noCoordinatesError(skipped, firstSkipped);
    if (skipped > 0) options.onSkipped?.(skipped, firstSkipped);

    // second pass: per chromosome (sorted as bedGraph sorts them), base by base
    const names = outs.map((o) => bedGraphFileName(batch.outputs, o));
    const sinks: LineSink[] = [];
    for (const [k, o] of outs.entries()) {
      const fh = await create(`${tag}.${k}.bedGraph.tmp`, 0o666);
      const sink = new LineSink(fh, join(dir, names[k]));
      sink.add(bedGraphTrackLine(`whybox ${batch.outputs[o]}`, batch.method));
      sinks.push(sink);
    }
    const chroms = [...chromIds.keys()];
    const rank = new Int32Array(chroms.length);
    chroms
      .map((c, i) => [c, i] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .forEach(([, i], at) => {
        rank[i] = at;
      });
    entries.sort((a, b) => rank[a.chrom] - rank[b.chrom] || a.lo - b.lo || a.row - b.row);
    for (let from = 0; from < entries.length; ) {
      let to = from;
      while (to < entries.length && entries[to].chrom === entries[from].chrom) to++;
      await sweep(entries.slice(from, to), chroms[entries[from].chrom], values, K, bufferValues, sinks);
      from = to;
    }
    for (const s of sinks) {
      await s.flush(true);
      await s.fh.sync();
    }
    for (const fh of handles.splice(0)) await fh.close();
    // the temporaries become the tracks (in output order: the last of two equal names wins, as in explain)
    for (const [k, s] of sinks.entries()) {
      await rename(temps[k + 1], s.path).catch((error) => {
        throw new DataError(describeFsError(error, s.path, true), {}, { cause: error });
      });
      temps[k + 1] = '';
    }
    return { files: names, rows, skipped, lines };
  } finally {
    for (const fh of handles) await fh.close().catch(() => undefined);
    for (const t of temps) if (t) await unlink(t).catch(() => undefined);
  }
}

/** Lines of one track, encoded into 1 MiB buffers that are written when full (and reused). */
class LineSink {
  private buf: Buffer = Buffer.allocUnsafe(WRITE_BYTES);
  private used = 0;
  private readonly filled: { buf: Buffer; used: number }[] = [];
  private readonly spare: Buffer[] = [];
  constructor(
    readonly fh: FileHandle,
    /** Where the track goes once complete. */
    readonly path: string,
  ) {}

  /** Adds a line (without its newline). */
  add(line: string): void {
    const most = 3 * line.length + 1; // UTF-8 bytes of a UTF-16 string, at most
    if (this.used + most > this.buf.length) {
      this.filled.push({ buf: this.buf, used: this.used });
      this.buf = (most <= WRITE_BYTES && this.spare.pop()) || Buffer.allocUnsafe(Math.max(WRITE_BYTES, most));
      this.used = 0;
    }
    this.used += this.buf.write(line, this.used);
    this.buf[this.used++] = 10;
  }

  /** True when a buffer is full (then {@link flush}). */
  get full(): boolean {
    return this.filled.length > 0;
  }

  /** Writes the full buffers (and with `all`, the current one). */
  async flush(all = false): Promise<void> {
    if (all && this.used > 0) {
      this.filled.push({ buf: this.buf, used: this.used });
      this.buf = this.spare.pop() ?? Buffer.allocUnsafe(WRITE_BYTES);
      this.used = 0;
    }
    for (const f of this.filled.splice(0)) {
      await writeBytes(this.fh, f.buf.subarray(0, f.used), this.path);
      if (f.buf.length === WRITE_BYTES) this.spare.push(f.buf);
    }
  }
}

/** A sequence whose interval covers the sweep's base, with a slice of its values (bases `from..to`). */
interface Covering {
  readonly e: Entry;
  readonly buf: Float64Array;
  from: number;
  to: number;
}

/**
 * Writes the lines of one chromosome's entries (sorted by first base, then row): at each base
 * covered, one line per covering sequence in row order.
 */
async function sweep(
  entries: readonly Entry[],
  chrom: string,
  values: FileHandle,
  K: number,
  bufferValues: number,
  sinks: readonly LineSink[],
): Promise<void> {
  // the most intervals covering one base: at some interval's first base
  const ends = Float64Array.from(entries, (e) => e.hi).sort();
  let depth = 1;
  for (let i = 0, j = 0; i < entries.length; i++) {
    while (ends[j] < entries[i].lo) j++;
    depth = Math.max(depth, i + 1 - j);
  }
  const slice = Math.max(1, Math.floor(bufferValues / (depth * K)));
  const covering: Covering[] = [];
  let next = 0;
  let s = entries[0].lo;
  while (next < entries.length || covering.length > 0) {
    if (covering.length === 0) s = entries[next].lo;
    for (; next < entries.length && entries[next].lo <= s; next++) {
      const e = entries[next];
      const c = { e, buf: new Float64Array(Math.min(slice, e.hi - e.lo + 1) * K), from: 0, to: -1 };
      // in row order (entries come by first base)
      let at = covering.length;
      while (at > 0 && covering[at - 1].e.row > e.row) at--;
      covering.splice(at, 0, c);
    }
    let kept = 0;
    for (const c of covering) {
      if (s > c.to) await readSlice(values, c, s, K);
      const at = (s - c.from) * K;
      for (let k = 0; k < K; k++) sinks[k].add(bedGraphLine(chrom, s, c.buf[at + k]));
      if (c.e.hi > s) covering[kept++] = c;
    }
    covering.length = kept;
    for (const sink of sinks) if (sink.full) await sink.flush();
    s++;
  }
}

/** Reads the values of bases `s..` (as many as `c.buf` holds, up to the interval's end) into `c.buf`. */
async function readSlice(values: FileHandle, c: Covering, s: number, K: number): Promise<void> {
  const bases = Math.min(c.buf.length / K, c.e.hi - s + 1);
  const bytes = new Uint8Array(c.buf.buffer, 0, bases * K * 8);
  const position = (c.e.base + (s - c.e.lo) * K) * 8;
  for (let done = 0; done < bytes.length; ) {
    const { bytesRead } = await values.read(bytes, done, bytes.length - done, position + done);
    if (bytesRead === 0) throw new DataError('the temporary values file of the bedGraph export ended early');
    done += bytesRead;
  }
  c.from = s;
  c.to = s + bases - 1;
}

async function writeAll(fh: FileHandle, a: Float64Array, n: number): Promise<void> {
  if (n > 0) await writeBytes(fh, new Uint8Array(a.buffer, 0, n * 8), 'the temporary values file');
}

async function writeBytes(fh: FileHandle, b: Uint8Array, path: string): Promise<void> {
  try {
    for (let done = 0; done < b.length; ) done += (await fh.write(b, done, b.length - done)).bytesWritten;
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new DataError(
      code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG'
        ? `${path}: cannot be written (the disk is full or the file size limit was reached): free space on the --out directory's disk`
        : describeFsError(error, path, true),
      {},
      { cause: error },
    );
  }
}
