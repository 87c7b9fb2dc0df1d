import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { DataError } from '../errors.js';
import type { Dataset } from './dataset.js';
import { findDuplicateKey } from './json-keys.js';

/** Options of {@link loadCsv} and {@link parseCsv}. */
export interface CsvOptions {
  /**
   * Column names the file must have, in this order (for example a model's input columns).
   * A mismatch is a {@link DataError} that lists the missing, extra or misplaced columns.
   * @defaultValue no check
   */
  expectColumns?: readonly string[];
  /** Field delimiter. @defaultValue `','` */
  delimiter?: string;
  /** Name used in error messages. @defaultValue the path for {@link loadCsv}, `'CSV'` otherwise */
  source?: string;
  /**
   * The values feed a float32 model: a value beyond the float32 range (it would become ±Infinity)
   * is refused like NaN, with its line and column.
   * @defaultValue false
   */
  float32?: boolean;
}

/** Other delimiters recognised in a one-column header, for the error's hint. */
const OTHER_DELIMITERS: readonly [string, string][] = [
  [';', 'semicolons'],
  ['\t', 'tabs'],
  ['|', 'vertical bars'],
];

/**
 * Reads a numeric CSV file with a header row into a {@link Dataset}.
 * Every cell must be a finite number; blank lines are skipped.
 *
 * @throws {DataError} with file, line and column for an unreadable file, a missing header,
 *   ragged rows, empty or non-numeric cells, NaN/Infinity, or columns that differ from
 *   `expectColumns`.
 * @example
 * const rows = await loadCsv('applicants.csv', { expectColumns: model.inputNames });
 */
export async function loadCsv(path: string, options: CsvOptions = {}): Promise<Dataset> {
  return parseCsv(await readTextFile(path), { ...options, source: options.source ?? path });
}

/** Parses numeric CSV text (header row first). Same rules and errors as {@link loadCsv}. */
export function parseCsv(text: string, options: CsvOptions = {}): Dataset {
  const file = options.source ?? 'CSV';
  const records = parseCsvRecords(text, file, options.delimiter);
  if (records.length === 0)
    throw new DataError('is empty: it needs a header row of column names and at least one data row', { file });
  const header = records[0].record;
  const headerLine = records[0].info.lines;
  checkCsvHeader(header, headerLine, { ...options, source: file });
  const nRows = records.length - 1;
  if (nRows === 0) throw new DataError('has a header but no data rows', { file, line: headerLine });
  return { columns: header, data: csvNumbers(header, records.slice(1), { ...options, source: file }), nRows };
}

/**
 * Checks a numeric CSV's header (what {@link parseCsv} refuses: one column of another
 * delimiter, all numbers, empty or duplicate names, columns other than `expectColumns`).
 * Streaming readers (`whybox batch`) use it on the first record.
 * @throws {DataError} naming the file and line.
 */
export function checkCsvHeader(header: readonly string[], headerLine: number, options: CsvOptions = {}): void {
  const file = options.source ?? 'CSV';
  const delimiter = options.delimiter ?? ',';
  if (header.length === 1) {
    const other = OTHER_DELIMITERS.find(([d]) => d !== delimiter && header[0].includes(d));
    if (other)
      throw new DataError(
        `the header is one column ${JSON.stringify(header[0].length > 60 ? `${header[0].slice(0, 57)}...` : header[0])}: the file looks separated by ${other[1]}, but whybox reads ${delimiter === ',' ? 'comma' : JSON.stringify(delimiter)}-separated values; convert it (replace ${JSON.stringify(other[0])} with "${delimiter}", and decimal commas with points)`,
        { file, line: headerLine },
      );
  }
  if (header.every(isNumeric))
    throw new DataError('the first row is all numbers: the file needs a header row naming the columns', {
      file,
      line: headerLine,
    });
  const blank = header.indexOf('');
  if (blank >= 0)
    throw new DataError('header has an empty column name: name every column', {
      file,
      line: headerLine,
      column: blank + 1,
    });
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup !== undefined)
    throw new DataError(`header names column ${JSON.stringify(dup)} twice: column names must be unique`, {
      file,
      line: headerLine,
    });
  if (options.expectColumns) checkColumns(header, options.expectColumns, file, headerLine);
}

/**
 * The numbers of data records (after the header), row-major, with {@link parseCsv}'s checks
 * of each cell (line and column in the error). Streaming readers use it chunk by chunk.
 * @throws {DataError} for ragged rows, empty, non-numeric or non-finite cells.
 */
export function csvNumbers(
  header: readonly string[],
  records: readonly CsvRecord[],
  options: CsvOptions = {},
): Float64Array {
  const file = options.source ?? 'CSV';
  const nCols = header.length;
  const nRows = records.length;
  const data = new Float64Array(nRows * nCols);
  for (let r = 0; r < nRows; r++) {
    const { record, info } = records[r];
    if (record.length !== nCols)
      throw new DataError(
        `has ${record.length} fields but the header has ${nCols}: every row needs one value per column`,
        { file, line: info.lines },
      );
    for (let c = 0; c < nCols; c++) {
      const cell = record[c];
      const at = { file, line: info.lines, column: c + 1, columnName: header[c] };
      if (cell === '')
        throw new DataError('empty cell: every cell must hold a number (impute or drop missing values)', at);
      if (!DECIMAL.test(cell))
        throw new DataError(
          /^[-+]?(nan|inf(inity)?)$/i.test(cell)
            ? `${JSON.stringify(cell)} is not finite: every input value must be a finite number (impute or drop it)`
            : `${JSON.stringify(cell)} is not a number: model inputs must be decimal numbers (encode categories first, e.g. one-hot)`,
          at,
        );
      const v = Number(cell);
      if (!Number.isFinite(v))
        throw new DataError(`${JSON.stringify(cell)} overflows: every input value must be a finite number`, at);
      if (options.float32 && !Number.isFinite(Math.fround(v)))
        throw new DataError(
          `${JSON.stringify(cell)} is beyond the float32 range of the model's inputs (about ±3.4e38; it would become ${v > 0 ? '' : '-'}Infinity): every input value must be a finite float32`,
          at,
        );
      data[r * nCols + c] = v;
    }
  }
  return data;
}

/** A plain decimal number: optional sign, digits with an optional point, optional exponent. */
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function isNumeric(s: string): boolean {
  return DECIMAL.test(s);
}

function checkColumns(header: readonly string[], expected: readonly string[], file: string, line: number): void {
  if (header.length === expected.length && header.every((h, i) => h === expected[i])) return;
  const missing = expected.filter((c) => !header.includes(c));
  const extra = header.filter((c) => !expected.includes(c));
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`missing ${listNames(missing)}`);
  if (extra.length > 0) parts.push(`unexpected ${listNames(extra)}`);
  if (parts.length === 0) {
    const i = header.findIndex((h, k) => h !== expected[k]);
    parts.push(
      `column ${i + 1} is ${JSON.stringify(header[i])} but the model expects ${JSON.stringify(expected[i])} there`,
    );
  }
  throw new DataError(
    `columns do not match the model's ${expected.length} inputs: ${parts.join('; ')}. The header must list the model's input columns in order`,
    { file, line },
  );
}

function listNames(names: readonly string[]): string {
  const shown = names.slice(0, 5).map((n) => JSON.stringify(n));
  return `${shown.join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''}`;
}

/** One CSV record and the line it ends on. */
export interface CsvRecord {
  record: string[];
  info: { lines: number };
}

/**
 * Splits CSV text into trimmed records (BOM and blank lines skipped, rows may be ragged);
 * invalid CSV is a {@link DataError} naming `file` and the line.
 */
export function parseCsvRecords(text: string, file: string, delimiter = ','): CsvRecord[] {
  try {
    return parse(text, {
      info: true,
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      delimiter,
    }) as unknown as CsvRecord[];
  } catch (error) {
    const e = error as { message?: string; lines?: number };
    throw new DataError(`not valid CSV: ${e.message ?? String(error)}`, { file, line: e.lines }, { cause: error });
  }
}

/** A text file's contents (UTF-8); an unreadable file is a {@link DataError} saying why. */
export async function readTextFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new DataError(describeFsError(error, path), {}, { cause: error });
  }
}

/** Parses JSON text; invalid JSON is a {@link DataError} naming `source`. */
export function parseJsonText(text: string, source: string): unknown {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DataError(`not valid JSON (${(error as Error).message})`, { file: source }, { cause: error });
  }
  const dup = findDuplicateKey(text);
  if (dup)
    throw new DataError(
      `the key ${JSON.stringify(dup.key.length > 60 ? `${dup.key.slice(0, 57)}...` : dup.key)} appears twice in one object (JSON would keep only the last); merge or rename them`,
      { file: source, line: dup.line, column: dup.column },
    );
  return json;
}

/** A one-line, actionable description of a file-system error (`writing` for output files). */
export function describeFsError(error: unknown, path: string, writing = false): string {
  const code = (error as { code?: string }).code;
  if (writing && code === 'ENOENT') return `${path}: cannot be written: its directory does not exist (create it first)`;
  if (writing && code === 'EISDIR') return `${path}: cannot be written: it is a directory`;
  switch (code) {
    case 'ENOENT':
      return `${path}: file not found (check the path; relative paths start from ${process.cwd()})`;
    case 'EACCES':
    case 'EPERM':
      return `${path}: permission denied (make the file ${writing ? 'writable' : 'readable'})`;
    case 'EISDIR':
      return `${path}: is a directory, not a file`;
    default:
      return `${path}: cannot be ${writing ? 'written' : 'read'} (${(error as Error).message ?? String(error)})`;
  }
}
