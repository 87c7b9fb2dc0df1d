/**
 * `explainBatch`: explains a whole file (CSV rows, raw credit records or sequences) streamed
 * chunk by chunk, yielding one JSON line per row in index order. Row r's random numbers come
 * from (seed, r) (`firstRowIndex`), so its line is the same bytes whatever the chunk size,
 * thread count, shard or resume point. The background is summarised once per run.
 */
import { availableParallelism } from 'node:os';
import { checkCsvHeader } from '../data/csv.js';
import type { Dataset } from '../data/dataset.js';
import type { GroupSpec, Players } from '../data/players.js';
import { definePlayers } from '../data/players.js';
import type { RowsInput } from '../data/rows.js';
import { toBackground } from '../data/rows.js';
import { schemaPlayers } from '../data/schema.js';
import type { SequenceSet } from '../data/sequences.js';
import { DataError, InvalidOptionError, ShapeError } from '../errors.js';
import type { EvaluatorProvider } from '../explain.js';
import { getMethod } from '../methods/registry.js';
import type { Model } from '../models/model.js';
import type { Background, SummarizeOptions } from '../sampling/background.js';
import { summarizeSeeded } from '../sampling/background.js';
import { randomSeed } from '../sampling/rng.js';
import type { BatchContext, BatchCredit, BatchLine, ChunkResult } from './chunk.js';
import { explainChunk } from './chunk.js';
import type { BatchChunk, SequenceRecord } from './source.js';
import { alignedRuns, openCsv, openSequences } from './source.js';

/** What a batch explains: a CSV file, a sequence file, or rows in memory. */
export type BatchSource =
  | { readonly csv: string; readonly delimiter?: string }
  | { readonly sequences: string; readonly format?: string; readonly readerOptions?: Record<string, unknown> }
  | { readonly rows: Dataset };

/** Progress of a batch, after each chunk. */
export interface BatchProgress {
  /** Rows explained so far in this run. */
  readonly rowsDone: number;
  /** Rows read from the input so far (explained, skipped as done, or in other shards). */
  readonly rowsRead: number;
}

/** Options of {@link explainBatch}: those of `explain` (or `explainSequences` for sequences), plus the batch's. */
export interface ExplainBatchOptions {
  /** Rows per chunk (one `explain` call). Changes speed and memory, never the output. @defaultValue 256 */
  chunkRows?: number;
  /** Rows to leave out (already in the output: `--resume`). @defaultValue none */
  skip?: (index: number) => boolean;
  /** Explain only chunks k with k mod count = index (`--shard I/N`). @defaultValue every chunk */
  shard?: { readonly index: number; readonly count: number };
  /** Credit decisions (raw records in, reasons out): the schema and reason settings. */
  credit?: BatchCredit;
  /** Sequence sources: names for the explained outputs. */
  outputNames?: readonly string[];
  /** Called after each chunk with its result (the first one's `head` is the run's metadata). */
  onChunk?: (result: ChunkResult, progress: BatchProgress) => void;
  /** Called once the whole input was read and explained. */
  onDone?: (progress: BatchProgress) => void;
  /** Tabular: background rows (required) — or, for sequences, background sequences. */
  background?: RowsInput | Background | SequenceSet | readonly string[];
  backgroundWeights?: ArrayLike<number>;
  summarize?: SummarizeOptions | false;
  groups?: GroupSpec;
  players?: Players | unknown;
  method?: string;
  seed?: number;
  threads?: number;
  pool?: EvaluatorProvider;
  signal?: AbortSignal;
  onWarning?: (message: string) => void;
  /** Any other option of `explain` / `explainSequences` (budget, variant, ...). */
  [option: string]: unknown;
}

/** Options that {@link explainBatch} resolves once per run (not passed to each chunk). */
const RUN_LEVEL = new Set([
  'chunkRows',
  'skip',
  'shard',
  'credit',
  'outputNames',
  'onChunk',
  'onDone',
  'background',
  'backgroundWeights',
  'summarize',
  'groups',
  'players',
  'threads',
  'pool',
  'signal',
  'onWarning',
  'onProgress',
  'firstRowIndex',
]);

/** The context of a run, and what to close at its end. */
export interface PreparedBatch {
  readonly context: BatchContext;
  readonly seed: number;
  close(): Promise<void>;
}

/** Warnings said once per run, not once per chunk. */
function onceEach(warn: ((m: string) => void) | undefined): (m: string) => void {
  const said = new Set<string>();
  const out = warn ?? ((m: string) => process.emitWarning(m, 'WhyboxWarning'));
  return (m) => {
    if (said.has(m)) return;
    said.add(m);
    out(m);
  };
}

/**
 * Resolves what every chunk shares: the seed (drawn once when not given), the background
 * summarised once, the players, and one worker pool for the run.
 * @internal (used by explainBatch and the queue's workers)
 */
export async function prepareBatch(
  model: Model,
  mode: BatchContext['mode'],
  columns: readonly string[] | undefined,
  options: ExplainBatchOptions,
): Promise<PreparedBatch> {
  const seed = options.seed ?? randomSeed();
  const perChunk: Record<string, unknown> = { seed };
  for (const [k, v] of Object.entries(options))
    if (!RUN_LEVEL.has(k) && v !== undefined && k !== 'seed') perChunk[k] = v;
  const method = getMethod(
    options.method ?? (mode === 'sequences' && options.players === 'hierarchy' ? 'partition' : 'kernel'),
    mode === 'sequences' ? 'sequences' : 'tabular',
  );
  perChunk.method = method.name;
  const onWarning = onceEach(options.onWarning);
  let pool = options.pool;
  let ownPool: { close(): Promise<void> } | undefined;
  if (!pool && method.shared.includes('parallel') && model.spec) {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1)
      throw new InvalidOptionError('threads', 'a positive integer', threads);
    if (threads > 1) {
      const { createWorkerPool } = await import('../parallel/pool.js');
      const p = createWorkerPool({ threads });
      pool = p;
      ownPool = p;
    } else perChunk.threads = 1; // else each chunk's explain would start a pool of its own
  } else if (options.threads !== undefined && !options.pool) perChunk.threads = options.threads;
  const close = async () => {
    await ownPool?.close();
  };
  try {
    if (mode === 'sequences') {
      if (options.players !== undefined) perChunk.players = options.players;
      const bg = options.background as SequenceSet | readonly string[] | undefined;
      const sequenceBackground = bg
        ? Array.isArray(bg)
          ? { ids: bg.map((_, i) => `bg${i + 1}`), sequences: bg as string[], lines: bg.map((_, i) => i + 1) }
          : (bg as SequenceSet)
        : undefined;
      return {
        seed,
        close,
        context: {
          model,
          mode,
          options: perChunk,
          sequenceBackground,
          outputNames: options.outputNames,
          pool,
          signal: options.signal,
          onWarning,
        },
      };
    }
    if (options.background === undefined)
      throw new InvalidOptionError('background', 'background rows (the reference of the explanation)', undefined);
    let background = toBackground(
      options.background as RowsInput | Background,
      options.backgroundWeights,
      model.nInputs,
    );
    if (options.summarize) background = summarizeSeeded(background, options.summarize);
    let players: Players;
    if (mode === 'credit') {
      if (!options.credit) throw new InvalidOptionError('credit', 'the schema and reason templates', undefined);
      if (options.groups !== undefined)
        throw new InvalidOptionError(
          'groups',
          'unset with a schema',
          options.groups,
          'the schema groups each attribute’s columns',
        );
      players = schemaPlayers(options.credit.schema);
    } else {
      const cols = columns ?? (model.inputNames ? [...model.inputNames] : undefined);
      if (!cols) throw new InvalidOptionError('columns', 'column names (a CSV header)', undefined);
      players = (options.players as Players | undefined) ?? definePlayers(cols, options.groups);
    }
    if (players.nColumns !== model.nInputs)
      throw new ShapeError(`players cover ${players.nColumns} columns; the model takes ${model.nInputs}`);
    return {
      seed,
      close,
      context: {
        model,
        mode,
        options: perChunk,
        players,
        background,
        credit: options.credit,
        pool,
        signal: options.signal,
        onWarning,
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** An opened source: its columns (tables), then its chunks. @internal */
export interface OpenedSource {
  readonly columns?: readonly string[];
  /** Chunks of the aligned runs that `keep` leaves; `onRead` gets the rows read so far. */
  chunks(
    chunkRows: number,
    keep: (index: number, block: number) => boolean,
    onRead?: (rowsRead: number) => void,
  ): AsyncGenerator<BatchChunk>;
}

/** Opens a source (reads a CSV header and checks it against the model or schema). @internal */
export async function openSource(
  model: Model,
  source: BatchSource,
  mode: BatchContext['mode'],
  schemaAttributes?: readonly string[],
): Promise<OpenedSource> {
  if ('rows' in source) {
    const ds = source.rows;
    const d = ds.columns.length;
    const header = [...ds.columns];
    return {
      columns: header,
      async *chunks(chunkRows, keep, onRead) {
        async function* rows() {
          for (let r = 0; r < ds.nRows; r++) yield Array.from(ds.data.subarray(r * d, (r + 1) * d), (v) => String(v));
        }
        for await (const { block, runs } of alignedRuns(rows(), chunkRows, keep)) {
          onRead?.(Math.min(ds.nRows, (block + 1) * chunkRows));
          for (const run of runs)
            yield {
              kind: 'table',
              start: run[0].index,
              source: 'rows',
              header,
              cells: run.map((x) => x.item),
              lines: run.map((x) => x.index + 1),
            };
        }
        onRead?.(ds.nRows);
      },
    };
  }
  if ('csv' in source) {
    const csv = await openCsv(source.csv, { delimiter: source.delimiter });
    if (mode === 'table') {
      checkCsvHeader(csv.header, csv.headerLine, { source: csv.source, delimiter: source.delimiter });
      if (csv.header.length !== model.nInputs)
        throw new DataError(
          `has ${csv.header.length} columns but the model takes ${model.nInputs} inputs: the header must list the model's ${model.nInputs} input columns in order`,
          { file: csv.source, line: csv.headerLine },
        );
    } else if (schemaAttributes) {
      const missing = schemaAttributes.filter((c) => !csv.header.includes(c));
      if (missing.length > 0)
        throw new DataError(
          `lacks the schema's attribute column${missing.length > 1 ? 's' : ''} ${missing
            .slice(0, 5)
            .map((m) => JSON.stringify(m))
            .join(', ')}: the header must name every attribute`,
          { file: csv.source, line: csv.headerLine },
        );
    }
    return {
      columns: mode === 'table' ? csv.header : undefined,
      async *chunks(chunkRows, keep, onRead) {
        let read = 0;
        async function* cells() {
          for await (const r of csv.records) {
            read++;
            yield r;
          }
        }
        for await (const { runs } of alignedRuns(cells(), chunkRows, keep)) {
          onRead?.(read);
          for (const run of runs)
            yield {
              kind: 'table',
              start: run[0].index,
              source: csv.source,
              header: csv.header,
              cells: run.map((x) => x.item.record),
              lines: run.map((x) => x.item.info.lines),
            };
        }
        onRead?.(read);
      },
    };
  }
  const records = await openSequences(source.sequences, { format: source.format, ...(source.readerOptions ?? {}) });
  return {
    async *chunks(chunkRows, keep, onRead) {
      let read = 0;
      async function* counted(): AsyncGenerator<SequenceRecord> {
        for await (const r of records) {
          read++;
          yield r;
        }
      }
      for await (const { runs } of alignedRuns(counted(), chunkRows, keep)) {
        onRead?.(read);
        for (const run of runs) {
          const labelled = run.some((x) => x.item.label !== undefined);
          yield {
            kind: 'sequences',
            start: run[0].index,
            source: source.sequences,
            ids: run.map((x) => x.item.id),
            sequences: run.map((x) => x.item.sequence),
            ...(labelled ? { labels: run.map((x) => x.item.label ?? '') } : {}),
            lines: run.map((x) => x.item.line),
          };
        }
      }
      onRead?.(read);
    },
  };
}

/** The mode of a source with these options. @internal */
export function modeOf(source: BatchSource, options: { credit?: unknown }): BatchContext['mode'] {
  if ('sequences' in source) return 'sequences';
  return options.credit ? 'credit' : 'table';
}

/** Checks `chunkRows` and `shard`. @internal */
export function checkBatchOptions(options: ExplainBatchOptions): number {
  const chunkRows = options.chunkRows ?? 256;
  if (!Number.isSafeInteger(chunkRows) || chunkRows < 1)
    throw new InvalidOptionError('chunkRows', 'a positive integer', chunkRows);
  const s = options.shard;
  if (
    s !== undefined &&
    !(Number.isInteger(s.count) && s.count >= 1 && Number.isInteger(s.index) && s.index >= 0 && s.index < s.count)
  )
    throw new InvalidOptionError('shard', '{ index, count } with 0 <= index < count', s);
  return chunkRows;
}

/**
 * Explains every row of `source`, chunk by chunk (streamed: memory does not grow with the
 * input), yielding each row's JSON line in index order as chunks complete. A line holds the
 * fields of a `rows[]` entry of the JSON explanation (`index`, `id` when the input has one,
 * `prediction`, `values`, `stderr`...; `decision` and `reasons` with `credit`).
 *
 * @example
 * for await (const { index, line } of explainBatch(model, { csv: 'applicants.csv' }, { background: train, seed: 1 }))
 *   out.write(`${line}\n`);
 * @throws as `explain` / `explainSequences` do, and {@link DataError} for a bad input row
 *   (with its line).
 */
export async function* explainBatch(
  model: Model,
  source: BatchSource,
  options: ExplainBatchOptions,
): AsyncGenerator<BatchLine> {
  if (!options || typeof options !== 'object')
    throw new InvalidOptionError('options', 'an object with at least { background }', options);
  const chunkRows = checkBatchOptions(options);
  const mode = modeOf(source, options);
  const opened = await openSource(
    model,
    source,
    mode,
    options.credit?.schema.attributes.map((a) => a.name),
  );
  const prepared = await prepareBatch(model, mode, opened.columns, options);
  const skip = options.skip;
  const shard = options.shard;
  const keep = (index: number, block: number) =>
    (shard === undefined || block % shard.count === shard.index) && !(skip?.(index) ?? false);
  let rowsRead = 0;
  let rowsDone = 0;
  try {
    for await (const chunk of opened.chunks(chunkRows, keep, (n) => {
      rowsRead = n;
    })) {
      const result = await explainChunk(prepared.context, chunk);
      rowsDone += result.lines.length;
      options.onChunk?.(result, { rowsDone, rowsRead });
      yield* result.lines;
    }
    options.onDone?.({ rowsDone, rowsRead });
  } finally {
    await prepared.close();
  }
}
