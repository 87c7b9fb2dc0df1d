/**
 * Streamed inputs of `whybox batch`: CSV files (numeric model columns, or raw records with a
 * schema) and sequence files, read record by record and cut into chunks of consecutive global
 * row indices. Nothing here holds more than one chunk.
 *
 * Sequence formats sit behind {@link SequenceReader}: a reader says from a file's first line
 * whether it reads it, and yields records. FASTA, CSV/TSV tables with a sequence column and
 * one-sequence-per-line readers are built in; more are added with {@link registerSequenceReader}.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import type { CsvRecord } from '../data/csv.js';
import { describeFsError } from '../data/csv.js';
import type { SequenceRecord } from '../data/sequence-records.js';
import { readSequenceRecords } from '../data/sequence-records.js';
import { DataError, InvalidOptionError } from '../errors.js';

/** Rows of a table input (CSV cells as trimmed strings), consecutive from global row `start`. */
export interface TableChunk {
  readonly kind: 'table';
  /** Global index of the first row. */
  readonly start: number;
  readonly source: string;
  readonly header: readonly string[];
  readonly cells: readonly (readonly string[])[];
  /** 1-based line of each record. */
  readonly lines: readonly number[];
}

/** Sequences, consecutive from global row `start`. */
export interface SequenceChunk {
  readonly kind: 'sequences';
  readonly start: number;
  readonly source: string;
  readonly ids: readonly string[];
  readonly sequences: readonly string[];
  readonly labels?: readonly string[];
  readonly lines: readonly number[];
}

/** A chunk of input rows: plain JSON, so it can travel in a queue job. */
export type BatchChunk = TableChunk | SequenceChunk;

export type { SequenceRecord };

/** Options a sequence reader receives. */
export interface SequenceReaderOptions {
  /** Name used in messages. @defaultValue the path */
  readonly source?: string;
  /** Reader-specific settings (e.g. a CSV sequence column), as given by the caller. */
  readonly [setting: string]: unknown;
}

/** A streamed sequence format. */
export interface SequenceReader {
  /** The format's name (`'fasta'`, `'lines'`, ...), accepted as `format`. */
  readonly name: string;
  /** Whether this reader reads a file whose first non-blank, non-comment line is `firstLine`. */
  detect(firstLine: string, path: string): boolean;
  /** The file's records, in order, read as they are consumed. */
  read(path: string, options: SequenceReaderOptions): AsyncIterable<SequenceRecord>;
}

/** A comment or blank line of a sequence file. */
function skipLine(l: string): boolean {
  return l === '' || l.startsWith('#') || l.startsWith(';');
}

async function* fileLines(path: string): AsyncGenerator<[string, number]> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const rl = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  try {
    for await (const raw of rl) {
      n++;
      yield [n === 1 ? raw.replace(/^\uFEFF/, '') : raw, n];
    }
  } catch (error) {
    throw new DataError(describeFsError(error, path), {}, { cause: error });
  } finally {
    rl.close();
    stream.destroy();
  }
}

/**
 * A built-in format, streamed by the library's record reader (`readSequenceRecords`, the
 * reader `loadSequences` and `whybox explain --sequences` use), so a file reads the same
 * records in a batch as in one explanation. Table readers take `sequenceColumn`, `idColumn`
 * and `labelColumn` settings.
 */
function builtin(name: 'fasta' | 'lines' | 'csv' | 'tsv', detect: SequenceReader['detect']): SequenceReader {
  return {
    name,
    detect,
    read: (path, options) =>
      readSequenceRecords(path, {
        format: name,
        source: options.source ?? path,
        sequenceColumn: options.sequenceColumn as string | undefined,
        idColumn: options.idColumn as string | undefined,
        labelColumn: options.labelColumn as string | undefined,
        onInfo: options.onInfo as ((m: string) => void) | undefined,
      }),
  };
}

/** FASTA (`>id` lines, sequences over one or more lines). */
export const FASTA_READER = builtin('fasta', (first) => first.trimStart().startsWith('>'));
/** CSV tables with a sequence column (a `.csv` file, or a first line of comma-separated cells). */
export const CSV_READER = builtin('csv', (first, path) => /\.csv$/i.test(path) || first.split(',').length >= 3);
/** TSV tables with a sequence column (a `.tsv` file, or a first line of tab-separated cells). */
export const TSV_READER = builtin('tsv', (first, path) => /\.tsv$/i.test(path) || first.split('\t').length >= 3);
/** One sequence per line, optionally `sequence<TAB, comma or spaces>label`. */
export const LINES_READER = builtin('lines', () => true);

const SEQUENCE_READERS: SequenceReader[] = [FASTA_READER, CSV_READER, TSV_READER, LINES_READER];

/**
 * Adds a sequence format, tried before the built-in ones (FASTA, then one per line, which
 * takes anything). A reader with the name of an existing one replaces it.
 */
export function registerSequenceReader(reader: SequenceReader): void {
  const at = SEQUENCE_READERS.findIndex((r) => r.name === reader.name);
  if (at >= 0) SEQUENCE_READERS.splice(at, 1);
  SEQUENCE_READERS.unshift(reader);
}

/** The registered sequence formats, in the order they are tried. */
export function sequenceReaders(): readonly SequenceReader[] {
  return [...SEQUENCE_READERS];
}

async function firstContentLine(path: string): Promise<string | undefined> {
  for await (const [raw] of fileLines(path)) {
    const l = raw.trim();
    if (!skipLine(l)) return l;
  }
  return undefined;
}

/**
 * The records of a sequence file, in a registered format (`format`, or the first reader
 * whose `detect` accepts the file's first line).
 * @throws {DataError} for an unreadable or empty file; {@link InvalidOptionError} for an unknown format.
 */
export async function openSequences(
  path: string,
  options: SequenceReaderOptions & { format?: string } = {},
): Promise<AsyncIterable<SequenceRecord>> {
  await checkReadable(path);
  const file = options.source ?? path;
  const first = await firstContentLine(path);
  if (first === undefined)
    throw new DataError('is empty: it needs FASTA records (">id" then the sequence) or one sequence per line', {
      file,
    });
  let reader: SequenceReader | undefined;
  if (options.format !== undefined && options.format !== 'auto') {
    reader = SEQUENCE_READERS.find((r) => r.name === options.format);
    if (!reader)
      throw new InvalidOptionError(
        'format',
        `one of auto, ${SEQUENCE_READERS.map((r) => r.name).join(', ')}`,
        options.format,
      );
  } else reader = SEQUENCE_READERS.find((r) => r.detect(first, path));
  return (reader ?? LINES_READER).read(path, { ...options, source: file });
}

async function checkReadable(path: string): Promise<void> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
  } catch (error) {
    throw new DataError(describeFsError(error, path), {}, { cause: error });
  }
}

/** A CSV file opened for streaming: its header, then its records as they are read. */
export interface CsvStream {
  readonly header: readonly string[];
  readonly headerLine: number;
  readonly source: string;
  readonly records: AsyncIterable<CsvRecord>;
}

/**
 * Opens a CSV file for streaming (csv-parse's stream parser: BOM and blank lines skipped,
 * cells trimmed, ragged rows passed on for the caller's checks).
 * @throws {DataError} for an unreadable file, invalid CSV or an empty file.
 */
export async function openCsv(path: string, options: { delimiter?: string; source?: string } = {}): Promise<CsvStream> {
  await checkReadable(path);
  const file = options.source ?? path;
  const parser = createReadStream(path).pipe(
    parse({
      info: true,
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      delimiter: options.delimiter ?? ',',
    }),
  );
  const it = (parser as AsyncIterable<CsvRecord>)[Symbol.asyncIterator]();
  const wrap = (error: unknown) => {
    const e = error as { message?: string; lines?: number };
    return new DataError(`not valid CSV: ${e.message ?? String(error)}`, { file, line: e.lines }, { cause: error });
  };
  let head: IteratorResult<CsvRecord>;
  try {
    head = await it.next();
  } catch (error) {
    throw wrap(error);
  }
  if (head.done) throw new DataError('is empty: it needs a header row and at least one data row', { file });
  const records: AsyncIterable<CsvRecord> = {
    async *[Symbol.asyncIterator]() {
      try {
        while (true) {
          const r = await it.next();
          if (r.done) return;
          yield r.value;
        }
      } catch (error) {
        throw error instanceof DataError ? error : wrap(error);
      } finally {
        parser.destroy();
      }
    },
  };
  return { header: head.value.record, headerLine: head.value.info.lines, source: file, records };
}

/** Items with their global row index, grouped into chunks of consecutive rows. */
export interface Indexed<T> {
  readonly index: number;
  readonly item: T;
}

/**
 * Numbers `items` 0, 1, 2, ... and groups them into the aligned blocks
 * `[k · size, (k + 1) · size)` of global indices, keeping only the items `keep` accepts; a
 * block's kept items are split where indices are not consecutive. Yields `(block k, runs)`.
 */
export async function* alignedRuns<T>(
  items: AsyncIterable<T>,
  size: number,
  keep: (index: number, block: number) => boolean = () => true,
): AsyncGenerator<{ block: number; runs: Indexed<T>[][] }> {
  let index = 0;
  let block = 0;
  let runs: Indexed<T>[][] = [];
  let run: Indexed<T>[] = [];
  const close = () => {
    if (run.length > 0) runs.push(run);
    run = [];
  };
  for await (const item of items) {
    const b = Math.floor(index / size);
    if (b !== block) {
      close();
      if (runs.length > 0) yield { block, runs };
      runs = [];
      block = b;
    }
    if (keep(index, b)) {
      if (run.length > 0 && run[run.length - 1].index !== index - 1) close();
      run.push({ index, item });
    } else close();
    index++;
  }
  close();
  if (runs.length > 0) yield { block, runs };
}

/** Counts the records of a file cheaply (lines for tables and plain sequences, `>` lines for FASTA), for progress. */
export async function countRecords(path: string, kind: 'table' | 'sequences'): Promise<number> {
  let lines = 0;
  let headers = 0;
  let fasta: boolean | undefined;
  for await (const [raw] of fileLines(path)) {
    const l = raw.trim();
    if (l === '') continue;
    if (kind === 'sequences' && (l.startsWith('#') || l.startsWith(';'))) continue;
    fasta ??= l.startsWith('>');
    if (l.startsWith('>')) headers++;
    lines++;
  }
  if (kind === 'table') return Math.max(0, lines - 1);
  return fasta ? headers : lines;
}
