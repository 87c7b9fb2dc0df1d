/**
 * The output file of a batch: one JSON line per row, appended in whole lines and fsynced
 * chunk by chunk, so a killed run leaves complete lines and at most one partial last line.
 * {@link scanJsonl} reads such a file back for `--resume` (truncating the partial line) and
 * {@link mergeJsonl} joins the files of `--shard I/N` runs.
 */
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, stat, truncate } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { describeFsError } from '../data/csv.js';
import { DataError } from '../errors.js';

/** A set of row indices as a growable bitset (one bit per row: flat in memory for millions of rows). */
export class RowSet {
  private bits = new Uint8Array(1024);
  size = 0;

  has(i: number): boolean {
    return i >> 3 < this.bits.length && (this.bits[i >> 3] & (1 << (i & 7))) !== 0;
  }

  add(i: number): boolean {
    if (i >> 3 >= this.bits.length) {
      const grown = new Uint8Array(Math.max(this.bits.length * 2, (i >> 3) + 1));
      grown.set(this.bits);
      this.bits = grown;
    }
    if (this.has(i)) return false;
    this.bits[i >> 3] |= 1 << (i & 7);
    this.size++;
    return true;
  }
}

/** What {@link scanJsonl} found. */
export interface JsonlScan {
  /** Indices of the complete lines. */
  readonly done: RowSet;
  /** Complete lines. */
  readonly lines: number;
  /** Bytes of the complete lines (the file is cut there). */
  readonly bytes: number;
  /** Bytes of a partial last line that were cut off (0 when the file ended with a newline). */
  readonly cut: number;
}

/**
 * Reads a batch's JSONL file: the index of every complete line; a last line without its
 * newline (a write cut by a crash) is truncated away when `repair` is set.
 * @throws {DataError} when a complete line is not a JSON object with an integer "index", or
 *   an index appears twice (not a batch output, or edited by hand).
 */
export async function scanJsonl(path: string, repair = false): Promise<JsonlScan> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return { done: new RowSet(), lines: 0, bytes: 0, cut: 0 };
    throw new DataError(describeFsError(error, path), {}, { cause: error });
  }
  const done = new RowSet();
  let bytes = 0;
  let lines = 0;
  if (size > 0) {
    // the partial tail: bytes after the last newline
    const handle = await open(path, 'r');
    let end = size;
    try {
      const buf = Buffer.alloc(65536);
      let lastNewline = -1;
      for (let pos = size; pos > 0 && lastNewline < 0; ) {
        const n = Math.min(buf.length, pos);
        pos -= n;
        await handle.read(buf, 0, n, pos);
        const at = buf.subarray(0, n).lastIndexOf(10);
        if (at >= 0) lastNewline = pos + at;
      }
      end = lastNewline + 1;
    } finally {
      await handle.close();
    }
    bytes = end;
    if (end > 0) {
      const rl = createInterface({
        input: createReadStream(path, { end: end - 1 }),
        crlfDelay: Number.POSITIVE_INFINITY,
      });
      for await (const line of rl) {
        lines++;
        let index: unknown;
        try {
          index = (JSON.parse(line) as { index?: unknown }).index;
        } catch {
          index = undefined;
        }
        if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0)
          throw new DataError(
            'is not the output of whybox batch: every line must be a JSON object with an integer "index" (choose another --out, or delete the file)',
            { file: path, line: lines },
          );
        if (!done.add(index))
          throw new DataError(`holds row ${index} twice: the file was not written by one whybox batch run`, {
            file: path,
            line: lines,
          });
      }
    }
  }
  const cut = size - bytes;
  if (repair && cut > 0) await truncate(path, bytes);
  return { done, lines, bytes, cut };
}

/** Appends whole lines and fsyncs after each {@link JsonlWriter.append}. */
export class JsonlWriter {
  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
  ) {}

  /** Opens `path` for appending (created when missing). */
  static async open(path: string): Promise<JsonlWriter> {
    try {
      return new JsonlWriter(await open(path, 'a'), path);
    } catch (error) {
      throw new DataError(describeFsError(error, path, true), {}, { cause: error });
    }
  }

  /** Writes `lines` (each without its newline) in one write, then fsyncs. */
  async append(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    try {
      await this.handle.write(`${lines.join('\n')}\n`);
      await this.handle.sync();
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new DataError(
        code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG'
          ? `${this.path}: cannot be written (the disk is full or the file size limit was reached); the lines written so far are intact: free space and rerun with --resume`
          : describeFsError(error, this.path, true),
        {},
        { cause: error },
      );
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

async function* jsonlLines(path: string): AsyncGenerator<{ index: number; line: string }> {
  let n = 0;
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of rl) {
      n++;
      if (line === '') continue;
      let index: unknown;
      try {
        index = (JSON.parse(line) as { index?: unknown }).index;
      } catch {
        index = undefined;
      }
      if (typeof index !== 'number' || !Number.isSafeInteger(index))
        throw new DataError('is not the output of whybox batch: a line is not a JSON object with an integer "index"', {
          file: path,
          line: n,
        });
      yield { index, line };
    }
  } catch (error) {
    if (error instanceof DataError) throw error;
    throw new DataError(describeFsError(error, path), {}, { cause: error });
  }
}

/**
 * Joins the JSONL files of `--shard I/N` runs into one file in index order (a k-way merge:
 * each file is in index order; memory is one line per file). Every index must appear once.
 * @returns the number of rows written.
 * @throws {DataError} for a row found twice, a file out of order, or a gap in the indices
 *   (a shard missing or unfinished).
 */
export async function mergeJsonl(
  inputs: readonly string[],
  write: (lines: string[]) => Promise<void>,
): Promise<number> {
  const its = inputs.map((p) => jsonlLines(p)[Symbol.asyncIterator]());
  const heads = await Promise.all(its.map((it) => it.next()));
  const last = inputs.map(() => -1);
  let expected = 0;
  let buffer: string[] = [];
  while (true) {
    let best = -1;
    for (let k = 0; k < heads.length; k++) {
      const h = heads[k];
      if (h.done) continue;
      if (best < 0 || h.value.index < (heads[best].value as { index: number }).index) best = k;
    }
    if (best < 0) break;
    const { index, line } = heads[best].value as { index: number; line: string };
    if (index <= last[best])
      throw new DataError(
        `rows are not in index order (row ${index} after row ${last[best]}): not one shard's output`,
        {
          file: inputs[best],
        },
      );
    last[best] = index;
    if (index < expected)
      throw new DataError(`holds row ${index}, which another input holds too: give each shard's file once`, {
        file: inputs[best],
      });
    if (index > expected)
      throw new DataError(
        `rows ${expected}${index - 1 > expected ? `..${index - 1}` : ''} are in none of the inputs: a shard is missing or unfinished (rerun it with --resume)`,
        { file: inputs[best] },
      );
    buffer.push(line);
    expected++;
    if (buffer.length >= 1024) {
      await write(buffer);
      buffer = [];
    }
    heads[best] = await its[best].next();
  }
  await write(buffer);
  return expected;
}
