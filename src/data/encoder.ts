import { DataError, type DataLocation, describe, InvalidOptionError } from '../errors.js';
import { parseCsvRecords, readTextFile } from './csv.js';
import type { Dataset } from './dataset.js';
import { createDataset } from './dataset.js';
import { closest } from './players.js';
import type { Attribute, EncodePolicy, Schema } from './schema.js';
import { POLICY_VALUES } from './schema.js';

/** One raw value: a number, a category string (numbers and booleans match categories by `String(v)`), or missing. */
export type RawValue = string | number | boolean | null | undefined;

/** One raw record: attribute name → raw value (extra fields such as ids are allowed by default). */
export type RawRecord = Readonly<Record<string, RawValue>>;

/** Raw records read from a CSV file (cells as trimmed strings), with their source lines. */
export interface RawTable {
  /** Header names, in file order. */
  readonly header: readonly string[];
  readonly records: readonly Readonly<Record<string, string>>[];
  /** 1-based line of each record in the file. */
  readonly lines: readonly number[];
  /** 1-based line of the header. */
  readonly headerLine?: number;
  readonly source: string;
}

/** Options of {@link parseRawCsv} / {@link loadRawCsv}. */
export interface RawCsvOptions {
  /** Field delimiter. @defaultValue `','` */
  delimiter?: string;
  /** Name used in error messages. @defaultValue the path, or `'CSV'` */
  source?: string;
}

/** Options of {@link encodeRecords}: the schema's policy, overridden field by field. */
export interface EncodeOptions extends Partial<EncodePolicy> {
  /** Strings that mean "missing" (besides `null`, `undefined` and the empty string). @defaultValue [] */
  missingValues?: readonly string[];
  /** Name used in error messages for records given as objects. @defaultValue 'records' */
  source?: string;
}

/**
 * Reads a CSV file of raw records: a header row of attribute names, then one record per
 * line with numbers and category strings. Cells are trimmed; empty cells are missing.
 * @throws {DataError} for an unreadable file, invalid CSV, a missing or duplicate header,
 *   ragged rows or no data rows.
 */
export async function loadRawCsv(path: string, options: RawCsvOptions = {}): Promise<RawTable> {
  return parseRawCsv(await readTextFile(path), { ...options, source: options.source ?? path });
}

/** Parses CSV text of raw records; same rules as {@link loadRawCsv}. */
export function parseRawCsv(text: string, options: RawCsvOptions = {}): RawTable {
  const file = options.source ?? 'CSV';
  const rows = parseCsvRecords(text, file, options.delimiter);
  if (rows.length === 0)
    throw new DataError('is empty: it needs a header row of attribute names and at least one record', { file });
  const header = rows[0].record;
  const headerLine = rows[0].info.lines;
  const blank = header.indexOf('');
  if (blank >= 0)
    throw new DataError('header has an empty column name: name every column after its attribute', {
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
  if (rows.length === 1) throw new DataError('has a header but no records', { file, line: headerLine });
  const records: Record<string, string>[] = [];
  const lines: number[] = [];
  for (let r = 1; r < rows.length; r++) {
    const { record, info } = rows[r];
    if (record.length !== header.length)
      throw new DataError(
        `has ${record.length} fields but the header has ${header.length}: every record needs one value per column (leave a cell empty for a missing value)`,
        { file, line: info.lines },
      );
    const rec: Record<string, string> = {};
    header.forEach((h, c) => {
      rec[h] = record[c];
    });
    records.push(rec);
    lines.push(info.lines);
  }
  return { header, records, lines, headerLine, source: file };
}

/**
 * Encodes raw records into the model's input rows (`schema.columns`, in order): numeric
 * attributes standardised as `(x − mean) / std`, categorical ones one-hot (or dummy) coded.
 *
 * Problem values follow the policy (the schema's `policy`, overridden by `options`): by
 * default an unknown category, a missing value or an out-of-range number is a
 * {@link DataError} naming the record (CSV line), the attribute and the value.
 *
 * @example
 * const schema = await loadSchema('schema.json');
 * const rows = encodeRecords(schema, [{ duration_months: 24, housing: 'own', age: 41 }]);
 * rows.columns; // schema.columns
 */
export function encodeRecords(
  schema: Schema,
  input: readonly RawRecord[] | RawTable,
  options: EncodeOptions = {},
): Dataset {
  const policy = resolvePolicy(schema, options);
  const table = Array.isArray(input) ? undefined : (input as RawTable);
  const records = table ? table.records : (input as readonly RawRecord[]);
  if (!Array.isArray(records))
    throw new InvalidOptionError('records', 'an array of records or a RawTable from loadRawCsv', input);
  const file = table ? table.source : (options.source ?? 'records');
  if (records.length === 0) throw new DataError('holds no records', { file });
  const names = schema.attributes.map((a) => a.name);
  const missingTokens = new Set(options.missingValues ?? []);
  if (table) {
    const absent = names.filter((n) => !table.header.includes(n));
    if (absent.length > 0) {
      const extra = table.header.filter((h) => !names.includes(h));
      const hints = absent
        .map((n) => [n, closest(n, extra)] as const)
        .filter(([, near]) => near !== undefined)
        .map(([n, near]) => `${JSON.stringify(near)} -> ${JSON.stringify(n)}?`);
      throw new DataError(
        `header lacks ${absent.length} attribute${absent.length > 1 ? 's' : ''} of the schema: ${listOf(absent)}${hints.length > 0 ? ` (rename ${hints.join(', ')})` : ''}: the header must name every schema attribute (leave cells empty for missing values)`,
        { file, line: table.headerLine ?? 1 },
      );
    }
    if (policy.extraAttributes === 'error') {
      const extra = table.header.filter((h) => !names.includes(h));
      if (extra.length > 0)
        throw new DataError(
          `header has column${extra.length > 1 ? 's' : ''} ${listOf(extra)} that no schema attribute names (policy extraAttributes: 'error'; use 'ignore' to allow ids and notes)`,
          { file, line: table.headerLine ?? 1 },
        );
    }
  }
  const d = schema.columns.length;
  const data = new Float64Array(records.length * d);
  const known = new Set(names);
  const catIndex = schema.attributes.map((a) =>
    a.type === 'categorical' ? new Map(a.categories.map((c, k) => [c, k])) : undefined,
  );
  for (let r = 0; r < records.length; r++) {
    const rec = records[r];
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec))
      throw new DataError(`must be an object {attribute: value}; got ${describe(rec)}`, { file, row: r });
    if (!table && policy.extraAttributes === 'error')
      for (const k of Object.keys(rec))
        if (!known.has(k)) {
          const near = closest(k, names);
          throw new DataError(
            `field ${JSON.stringify(k)} is no schema attribute${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''} (policy extraAttributes: 'error')`,
            { file, row: r },
          );
        }
    const base = r * d;
    schema.attributes.forEach((a, ai): void => {
      const at: DataLocation = table
        ? { file, line: table.lines[r], columnName: a.name, column: table.header.indexOf(a.name) + 1, row: r }
        : { file, row: r, attribute: a.name };
      let v: RawValue = (rec as RawRecord)[a.name];
      if (typeof v === 'string') v = v.trim();
      const isMissing = v === undefined || v === null || v === '' || (typeof v === 'string' && missingTokens.has(v));
      if (isMissing) {
        if (policy.missing === 'impute' && a.impute !== undefined) v = a.impute;
        else {
          const hint = !table && v === undefined ? missingFieldHint(rec as RawRecord, a.name, known) : '';
          throw new DataError(
            policy.missing === 'impute'
              ? `value is missing and the attribute has no "impute" value in the schema${a.type === 'numeric' ? ' (nor a "mean")' : ''}: add one, or supply the value`
              : `value is missing${hint}: supply it, or encode with missing: 'impute' and an "impute" value in the schema`,
            at,
          );
        }
      }
      if (a.type === 'numeric') {
        let x: number;
        if (typeof v === 'number') x = v;
        else if (typeof v === 'string' && DECIMAL.test(v)) x = Number(v);
        else
          throw new DataError(
            `${describe(v)} is not a number: ${a.name} is a numeric attribute${typeof v === 'string' && /^[-+]?(nan|inf(inity)?)$/i.test(v) ? ' (values must be finite)' : ''}`,
            at,
          );
        if (!Number.isFinite(x)) throw new DataError(`${describe(x)} is not finite: values must be finite numbers`, at);
        x = checkRange(a, x, policy, at);
        data[base + a.columnIndices[0]] = (x - a.mean) / a.std;
      } else {
        const key = String(v);
        const k = (catIndex[ai] as Map<string, number>).get(key);
        if (k === undefined) {
          if (policy.unknownCategory === 'zeros') return; // every column of the attribute stays 0
          const near = closest(key, a.categories);
          throw new DataError(
            `unknown category ${describe(v)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}: ${a.name} is one of ${listOf(a.categories)} (or encode with unknownCategory: 'zeros')`,
            at,
          );
        }
        const col = a.categoryColumn[k];
        if (col >= 0) data[base + a.columnIndices[col]] = 1;
      }
    });
  }
  return createDataset(schema.columns, data, { file });
}

/**
 * Decodes model input rows (columns in `schema.columns` order) back to raw records: numbers
 * un-standardised (`x · std + mean`, rounded to 15 significant digits, integers for
 * `integer` attributes), one-hot columns back to their category. All-zero one-hot columns
 * give the reference category, or `null` (an unknown category encoded with `'zeros'`).
 * @throws {DataError} when a categorical attribute's columns are not one-hot (a 1 and 0s).
 */
export function decodeRows(
  schema: Schema,
  rows: Dataset | { readonly data: Float64Array; readonly nRows: number },
): Record<string, string | number | null>[] {
  const d = schema.columns.length;
  if (rows.data.length !== rows.nRows * d)
    throw new DataError(
      `rows hold ${rows.data.length} values; ${rows.nRows} rows of the schema's ${d} columns need ${rows.nRows * d}`,
    );
  const out: Record<string, string | number | null>[] = [];
  for (let r = 0; r < rows.nRows; r++) {
    const rec: Record<string, string | number | null> = {};
    for (const a of schema.attributes) rec[a.name] = decodeValue(a, rows.data, r * d, r);
    out.push(rec);
  }
  return out;
}

/** The raw value of one attribute of the row starting at `base` in `data` (see {@link decodeRows}). */
export function decodeValue(a: Attribute, data: ArrayLike<number>, base: number, row = 0): string | number | null {
  if (a.type === 'numeric') {
    const x = data[base + a.columnIndices[0]] * a.std + a.mean;
    const tidy = Number(x.toPrecision(15));
    return a.integer && Math.abs(tidy - Math.round(tidy)) < 1e-6 ? Math.round(tidy) : tidy;
  }
  let hot = -1;
  for (let c = 0; c < a.columnIndices.length; c++) {
    const v = data[base + a.columnIndices[c]];
    if (v === 1 && hot < 0) hot = c;
    else if (v !== 0)
      throw new DataError(
        `columns ${a.columns.map((n) => JSON.stringify(n)).join(', ')} are not one-hot (a single 1, else 0): cannot decode a category`,
        { row, attribute: a.name },
      );
  }
  if (hot < 0) return a.reference ?? null;
  return a.categories[a.categoryColumn.indexOf(hot)];
}

function resolvePolicy(schema: Schema, options: EncodeOptions): EncodePolicy {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', 'an object', options);
  const { missingValues, source, ...rest } = options;
  if (
    missingValues !== undefined &&
    (!Array.isArray(missingValues) || missingValues.some((s) => typeof s !== 'string'))
  )
    throw new InvalidOptionError('missingValues', 'an array of strings', missingValues);
  void source;
  const overrides: Partial<EncodePolicy> = {};
  for (const [k, v] of Object.entries(rest)) {
    if (v === undefined) continue;
    const allowed = POLICY_VALUES[k as keyof EncodePolicy];
    if (!allowed)
      throw new InvalidOptionError(
        k,
        `an encoder option (${[...Object.keys(POLICY_VALUES), 'missingValues', 'source'].join(', ')})`,
        v,
      );
    if (typeof v !== 'string' || !allowed.includes(v))
      throw new InvalidOptionError(k, allowed.map((a) => JSON.stringify(a)).join(' or '), v);
    (overrides as Record<string, string>)[k] = v;
  }
  return { ...schema.policy, ...overrides };
}

function checkRange(a: Attribute & { type: 'numeric' }, x: number, policy: EncodePolicy, at: DataLocation): number {
  const low = a.min !== undefined && x < a.min;
  const high = a.max !== undefined && x > a.max;
  const frac = a.integer && !Number.isInteger(x);
  if (!low && !high && !frac) return x;
  if (policy.outOfRange === 'allow') return x;
  if (policy.outOfRange === 'clip') {
    let y = a.integer ? Math.round(x) : x;
    if (a.min !== undefined && y < a.min) y = a.min;
    if (a.max !== undefined && y > a.max) y = a.max;
    return y;
  }
  const range = `[${a.min ?? '-inf'}, ${a.max ?? 'inf'}]`;
  throw new DataError(
    frac && !low && !high
      ? `${x} is not an integer: ${a.name} takes whole numbers (or encode with outOfRange: 'clip' to round)`
      : `${x} is out of range ${range} for ${a.name} (or encode with outOfRange: 'clip' or 'allow')`,
    at,
  );
}

function missingFieldHint(rec: RawRecord, name: string, known: ReadonlySet<string>): string {
  const extra = Object.keys(rec).filter((k) => !known.has(k));
  const near = closest(name, extra);
  return near ? ` (the record has ${JSON.stringify(near)}: a typo?)` : ' (no such field in the record)';
}

/** A plain decimal number: optional sign, digits with an optional point, optional exponent. */
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function listOf(names: readonly string[]): string {
  const shown = names.slice(0, 8).map((n) => JSON.stringify(n));
  return `${shown.join(', ')}${names.length > 8 ? ` and ${names.length - 8} more` : ''}`;
}
