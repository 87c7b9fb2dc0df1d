/**
 * Reading a finished sequence batch back for the downstream exports (`whybox batch npz`,
 * `whybox batch bedgraph`): its metadata (`FILE.jsonl.meta.json`: complete, of a sequence run)
 * and its JSON lines, one at a time, checked against the metadata (index order, players, count).
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { describeFsError } from '../data/csv.js';
import type { SequenceLayout } from '../data/sequences.js';
import type { DataLocation } from '../errors.js';
import { DataError } from '../errors.js';

/** The `sequence` part of a sequence batch's metadata that the exports read. */
export interface SequenceBatchHead {
  readonly length: number;
  readonly letters: string;
  readonly layout: SequenceLayout;
  /** Per player: its positions `[start, end)` in the model's window. */
  readonly spans: readonly (readonly [number, number])[];
}

/** A complete sequence batch output, as its metadata describes it. */
export interface SequenceBatch {
  readonly jsonl: string;
  /** Lines (sequences) the file holds. */
  readonly rows: number;
  readonly method: string;
  readonly outputs: readonly string[];
  readonly sequence: SequenceBatchHead;
}

/** One line of a sequence batch (the fields the exports read). */
export interface SequenceBatchLine {
  readonly index: number;
  readonly id?: unknown;
  readonly origin?: unknown;
  readonly data?: number[];
  /** Per player, per output. */
  readonly values: number[][];
  readonly hypothetical?: number[][][];
}

/**
 * Reads the metadata of `jsonl` for an export that writes `files` (named in messages).
 * @throws {DataError} when `jsonl` or its metadata is missing, the run is unfinished, or it is
 *   a tabular batch.
 */
export async function readSequenceBatch(jsonl: string, files: string): Promise<SequenceBatch> {
  await stat(jsonl).catch((error) => {
    throw new DataError(describeFsError(error, jsonl), {}, { cause: error });
  });
  const metaPath = `${jsonl}.meta.json`;
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(await readFile(metaPath, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new DataError(
      (error as { code?: string }).code === 'ENOENT'
        ? `is missing: the export of ${files} reads the metadata whybox batch writes next to its output`
        : `cannot be read as JSON (${(error as Error).message})`,
      { file: metaPath },
      { cause: error },
    );
  }
  if (meta.status !== 'complete')
    throw new DataError(
      'records an unfinished run: finish it with whybox batch --resume (shards: whybox batch merge), then export',
      { file: metaPath },
    );
  const exp = meta.explanation as { method?: string; outputs?: string[]; sequence?: SequenceBatchHead } | undefined;
  const sequence = exp?.sequence;
  const outputs = exp?.outputs;
  if (!sequence || !outputs)
    throw new DataError(`is the output of a tabular batch: ${files} are for sequence runs (whybox batch --sequences)`, {
      file: metaPath,
    });
  return { jsonl, rows: meta.rows as number, method: String(exp.method), outputs, sequence };
}

/**
 * The lines of a sequence batch in order, each with where it sits (file and 1-based line).
 * Checks each is a JSON object with a rising `index` and one `values` entry per player, holding
 * one number per output, and that the file holds the metadata's number of rows; reports
 * progress (lines read so far) every 64 lines and at the end.
 * @throws {DataError} naming the line.
 */
export async function* sequenceBatchLines(
  batch: SequenceBatch,
  onProgress?: (rows: number) => void,
): AsyncGenerator<{ row: SequenceBatchLine; where: DataLocation }> {
  const { jsonl, rows: N } = batch;
  const players = batch.sequence.spans.length;
  const nOut = batch.outputs.length;
  const lines = createInterface({ input: createReadStream(jsonl), crlfDelay: Number.POSITIVE_INFINITY });
  let rows = 0;
  let line = 0;
  let last = -1;
  try {
    for await (const text of lines) {
      line++;
      if (text.trim() === '') continue;
      const where = { file: jsonl, line };
      let row: SequenceBatchLine;
      try {
        row = JSON.parse(text);
      } catch {
        throw new DataError('is not a JSON line (a batch output is cut or edited?)', where);
      }
      if (!(row !== null && typeof row === 'object' && typeof row.index === 'number' && row.index > last))
        throw new DataError(`has index ${row?.index} after ${last}: lines must be in index order`, where);
      last = row.index;
      const values = row.values;
      if (!Array.isArray(values) || values.length !== players)
        throw new DataError(`"values" holds ${values?.length} players, not the run's ${players}`, where);
      for (let p = 0; p < players; p++) {
        const v = values[p];
        if (!Array.isArray(v) || v.length !== nOut || v.some((x) => typeof x !== 'number'))
          throw new DataError(`"values" of player ${p + 1} is not ${nOut} numbers (one per output)`, where);
      }
      if (rows >= N) throw new DataError(`holds more lines than the ${N} rows its metadata records`, { file: jsonl });
      rows++;
      yield { row, where };
      if (rows % 64 === 0) onProgress?.(rows);
    }
  } catch (error) {
    if (error instanceof DataError) throw error;
    throw new DataError(describeFsError(error, jsonl), {}, { cause: error });
  } finally {
    lines.close();
  }
  if (rows !== N)
    throw new DataError(`holds ${rows} lines but its metadata records ${N} rows: is it cut?`, { file: jsonl });
  onProgress?.(rows);
}

/**
 * The per-position track of output `o` of a line into `out` (length L): each player's value
 * spread over its positions, the numbers `positionValues` gives for the explanation's row.
 */
export function lineTrack(
  spans: SequenceBatchHead['spans'],
  values: readonly (readonly number[])[],
  o: number,
  out: Float64Array,
): Float64Array {
  out.fill(0);
  spans.forEach(([a, b], p) => {
    const v = values[p][o] / (b - a);
    for (let i = a; i < b; i++) out[i] += v;
  });
  return out;
}
