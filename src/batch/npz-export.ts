/**
 * TF-MoDISco's `.npz` inputs from a finished sequence batch: streams the JSON lines of
 * `whybox batch --sequences` (or of `whybox batch merge`) into `ohe.npz` and `attr.npz`
 * without holding the arrays in memory (`whybox batch npz`, `whybox batch --npz DIR`).
 */
import { mkdir } from 'node:fs/promises';
import { describeFsError } from '../data/csv.js';
import { DataError } from '../errors.js';
import type { NpzOptions } from '../explanation/npz.js';
import { fillModiscoRow, ModiscoWriter } from '../explanation/sequence-export.js';
import { lineTrack, readSequenceBatch, sequenceBatchLines } from './sequence-jsonl.js';

/** Options of {@link writeModiscoFromJsonl}. */
export interface JsonlNpzOptions extends NpzOptions {
  /** Called with the number of lines read so far (every 64 lines and at the end). */
  onProgress?: (rows: number) => void;
}

/** What {@link writeModiscoFromJsonl} wrote. */
export interface JsonlNpzResult {
  /** File names in the directory: `ohe.npz`, then `attr.npz` or `attr.NAME.npz` per output. */
  readonly files: readonly string[];
  /** Sequences (N): row r of every array is the r-th line of the JSONL (index order). */
  readonly rows: number;
  /** True when the attributions are per-letter hypothetical contributions (ISM). */
  readonly perLetter: boolean;
}

/**
 * Writes `ohe.npz` and the `attr*.npz` archives (the layout of {@link modiscoFiles}: `(N, 4, L)`
 * float32, `arr_0` / `hypothetical` / `actual`) into `dir` from a complete sequence batch
 * output `jsonl` and its `jsonl.meta.json`. Row r of each array is the r-th line (lines are in
 * index order; with `--rows` only those rows are present, in order).
 *
 * @throws {DataError} when the metadata is missing, the run is unfinished or tabular, or a line
 *   does not match the run's sequence length, letters or outputs.
 */
export async function writeModiscoFromJsonl(
  jsonl: string,
  dir: string,
  options: JsonlNpzOptions = {},
): Promise<JsonlNpzResult> {
  const batch = await readSequenceBatch(jsonl, 'ohe.npz / attr.npz');
  const { sequence: seq, outputs, rows: N } = batch;
  const L = seq.length;
  const A = seq.letters.length;
  const nOut = outputs.length;
  await mkdir(dir, { recursive: true }).catch((error) => {
    throw new DataError(describeFsError(error, dir, true), {}, { cause: error });
  });

  let writer: ModiscoWriter | undefined;
  let perLetter = false;
  let rows = 0;
  const ohe = new Float32Array(A * L);
  const hyp = Array.from({ length: nOut }, () => new Float32Array(A * L));
  const act = Array.from({ length: nOut }, () => new Float32Array(A * L));
  const track = new Float64Array(L);
  try {
    for await (const { row, where } of sequenceBatchLines(batch, options.onProgress)) {
      if (!writer) {
        perLetter = row.hypothetical !== undefined;
        writer = await ModiscoWriter.open(dir, { ...options, count: N, letters: A, length: L, outputs, perLetter });
      }
      const data = row.data;
      if (!Array.isArray(data) || data.length !== L * A)
        throw new DataError(`"data" holds ${data?.length} values, not ${L} positions × ${A} letters`, where);
      const values = row.values;
      if (perLetter !== (row.hypothetical !== undefined))
        throw new DataError('has "hypothetical" where the first line has not (or the other way round)', where);
      const H = row.hypothetical;
      if (H && H.length !== L) throw new DataError(`"hypothetical" holds ${H.length} positions, not ${L}`, where);
      for (let o = 0; o < nOut; o++) {
        if (!H) lineTrack(seq.spans, values, o, track);
        fillModiscoRow(
          seq.layout,
          L,
          A,
          data,
          H ? (p, c) => H[p][c][o] : undefined,
          H ? undefined : track,
          ohe,
          hyp[o],
          act[o],
        );
      }
      await writer.add(ohe, hyp, act);
      rows++;
    }
    if (!writer)
      writer = await ModiscoWriter.open(dir, { ...options, count: 0, letters: A, length: L, outputs, perLetter });
  } catch (error) {
    await writer?.abort();
    throw error;
  }
  return { files: await writer.close(), rows, perLetter };
}
