/**
 * TF-MoDISco's `.npz` inputs from a finished sequence batch: streams the JSON lines of
 * `whybox batch --sequences` (or of `whybox batch merge`) into `ohe.npz` and `attr.npz`
 * without holding the arrays in memory (`whybox batch npz`, `whybox batch --npz DIR`).
 */
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { describeFsError } from '../data/csv.js';
import type { SequenceLayout } from '../data/sequences.js';
import { DataError } from '../errors.js';
import type { NpzOptions } from '../explanation/npz.js';
import { fillModiscoRow, ModiscoWriter } from '../explanation/sequence-export.js';

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

interface SequenceHead {
  length: number;
  letters: string;
  layout: SequenceLayout;
  spans: [number, number][];
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
        ? 'is missing: the npz export reads the metadata whybox batch writes next to its output'
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
  const exp = meta.explanation as { outputs?: string[]; sequence?: SequenceHead } | undefined;
  const seq = exp?.sequence;
  const outputs = exp?.outputs;
  if (!seq || !outputs)
    throw new DataError(
      'is the output of a tabular batch: ohe.npz / attr.npz are for sequence runs (whybox batch --sequences)',
      { file: metaPath },
    );
  const N = meta.rows as number;
  const L = seq.length;
  const A = seq.letters.length;
  const nOut = outputs.length;
  await mkdir(dir, { recursive: true }).catch((error) => {
    throw new DataError(describeFsError(error, dir, true), {}, { cause: error });
  });

  const lines = createInterface({ input: createReadStream(jsonl), crlfDelay: Number.POSITIVE_INFINITY });
  let writer: ModiscoWriter | undefined;
  let perLetter = false;
  let rows = 0;
  let last = -1;
  const ohe = new Float32Array(A * L);
  const hyp = Array.from({ length: nOut }, () => new Float32Array(A * L));
  const act = Array.from({ length: nOut }, () => new Float32Array(A * L));
  const track = new Float64Array(L);
  try {
    for await (const text of lines) {
      if (text.trim() === '') continue;
      const where = { file: jsonl, line: rows + 1 };
      let row: { index?: number; data?: number[]; values?: number[][]; hypothetical?: number[][][] };
      try {
        row = JSON.parse(text);
      } catch {
        throw new DataError('is not a JSON line (a batch output is cut or edited?)', where);
      }
      if (!(typeof row.index === 'number' && row.index > last))
        throw new DataError(`has index ${row.index} after ${last}: lines must be in index order`, where);
      last = row.index;
      if (!writer) {
        perLetter = row.hypothetical !== undefined;
        writer = await ModiscoWriter.open(dir, { ...options, count: N, letters: A, length: L, outputs, perLetter });
      }
      const data = row.data;
      if (!Array.isArray(data) || data.length !== L * A)
        throw new DataError(`"data" holds ${data?.length} values, not ${L} positions × ${A} letters`, where);
      const values = row.values;
      if (!Array.isArray(values) || values.length !== seq.spans.length)
        throw new DataError(`"values" holds ${values?.length} players, not the run's ${seq.spans.length}`, where);
      if (perLetter !== (row.hypothetical !== undefined))
        throw new DataError('has "hypothetical" where the first line has not (or the other way round)', where);
      const H = row.hypothetical;
      if (H && H.length !== L) throw new DataError(`"hypothetical" holds ${H.length} positions, not ${L}`, where);
      for (let o = 0; o < nOut; o++) {
        if (!H) {
          // the per-position track: each player's value spread over its positions
          track.fill(0);
          seq.spans.forEach(([a, b], p) => {
            const v = values[p][o] / (b - a);
            for (let i = a; i < b; i++) track[i] += v;
          });
        }
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
      if (rows >= N) throw new DataError(`holds more lines than the ${N} rows its metadata records`, { file: jsonl });
      await writer.add(ohe, hyp, act);
      rows++;
      if (rows % 64 === 0) options.onProgress?.(rows);
    }
    if (rows !== N)
      throw new DataError(`holds ${rows} lines but its metadata records ${N} rows: is it cut?`, { file: jsonl });
    options.onProgress?.(rows);
    if (!writer)
      writer = await ModiscoWriter.open(dir, { ...options, count: 0, letters: A, length: L, outputs, perLetter });
  } catch (error) {
    await writer?.abort();
    throw error;
  } finally {
    lines.close();
  }
  return { files: await writer.close(), rows, perLetter };
}
