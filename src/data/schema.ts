import { createHash } from 'node:crypto';
import { DataError, describe } from '../errors.js';
import { parseJsonText, readTextFile } from './csv.js';
import type { GroupSpec, Players } from './players.js';
import { closest, definePlayers } from './players.js';

/**
 * A schema describes a model's *raw* attributes (what an applicant record holds: numbers and
 * category strings) and how they become the model's numeric input columns. It is read from a
 * JSON file (see README "Schema format"):
 *
 * ```json
 * {
 *   "name": "credit-demo",
 *   "attributes": [
 *     { "name": "duration_months", "type": "numeric", "min": 4, "max": 72, "integer": true },
 *     { "name": "income", "type": "numeric", "mean": 3.2, "std": 1.1, "label": "Income (k€)" },
 *     { "name": "housing", "type": "categorical", "categories": ["rent", "own", "for_free"] },
 *     { "name": "age", "type": "numeric", "protected": true }
 *   ],
 *   "columns": ["duration_months", "income", "housing=rent", "housing=own", "housing=for_free", "age"],
 *   "policy": { "unknownCategory": "error", "missing": "error", "outOfRange": "error" }
 * }
 * ```
 *
 * Every attribute is one player of the explanation game (its columns are grouped).
 */
export interface SchemaFile {
  name?: string;
  attributes: AttributeFile[];
  /** The model's input columns in order (every attribute column exactly once). @defaultValue the attributes' columns in attribute order */
  columns?: string[];
  /** Default encoding policy (options passed to the encoder override it). */
  policy?: Partial<EncodePolicy>;
}

/** An attribute as written in the schema file. */
export type AttributeFile =
  | {
      name: string;
      type: 'numeric';
      /** Model input column. @defaultValue the attribute name */
      column?: string;
      /** Standardisation: the model sees (x − mean) / std. @defaultValue 0 */
      mean?: number;
      /** @defaultValue 1 */
      std?: number;
      /** Allowed raw range (inclusive). */
      min?: number;
      max?: number;
      /** Values must be integers. @defaultValue false */
      integer?: boolean;
      /** Value used for a missing cell under `missing: 'impute'`. @defaultValue `mean` when given */
      impute?: number;
      protected?: boolean;
      label?: string;
      /** Recourse may change it (a `protected` attribute never is). @defaultValue true */
      mutable?: boolean;
      /** Recourse: which way it may change. @defaultValue 'any' */
      direction?: 'increase' | 'decrease' | 'any';
      /** Recourse: changes are multiples of this. @defaultValue 1 for `integer` attributes, else (max − min) / 100, else `std` / 10 */
      step?: number;
      /** Recourse: the cost of a change is |to − from| / scale. @defaultValue the background's median absolute deviation (as DiCE), else `std` */
      scale?: number;
    }
  | {
      name: string;
      type: 'categorical';
      /** Category values, or `{ "value", "label" }` objects (the label is shown in reason statements and reports). */
      categories: (string | number | boolean | { value: string | number | boolean; label: string })[];
      /**
       * One-hot columns, one per category in order (or per non-reference category).
       * @defaultValue `"<name>=<category>"`
       */
      columns?: string[];
      /** Dummy coding: this category has no column (all the attribute's columns are 0). */
      reference?: string | number | boolean;
      /** Category used for a missing cell under `missing: 'impute'`. */
      impute?: string | number | boolean;
      protected?: boolean;
      label?: string;
      /** Recourse may change it (a `protected` attribute never is). @defaultValue true */
      mutable?: boolean;
    };

/**
 * How the encoder treats problem values. The default of every policy is `'error'`: a
 * {@link DataError} naming the row and attribute — never a silent 0.
 */
export interface EncodePolicy {
  /**
   * A category not in the schema: `'error'`, or `'zeros'` (every one-hot column of the
   * attribute 0, as scikit-learn's `handle_unknown='ignore'`; the decoder gives back `null`).
   * @defaultValue 'error'
   */
  unknownCategory: 'error' | 'zeros';
  /**
   * A missing value (`null`, `undefined`, an empty CSV cell or one of `missingValues`):
   * `'error'`, or `'impute'` (the attribute's `impute` value; numeric attributes fall back
   * to their `mean`; an attribute with neither is still an error).
   * @defaultValue 'error'
   */
  missing: 'error' | 'impute';
  /** A number outside `[min, max]` or a non-integer for an `integer` attribute: `'error'`, `'clip'` (to the range; rounds integers), or `'allow'`. @defaultValue 'error' */
  outOfRange: 'error' | 'clip' | 'allow';
  /** Record fields / CSV columns that are no attribute (ids, notes): `'ignore'` or `'error'`. @defaultValue 'ignore' */
  extraAttributes: 'ignore' | 'error';
}

/** The default {@link EncodePolicy}: every problem value is an error; extra fields are ignored. */
export const DEFAULT_POLICY: Readonly<EncodePolicy> = Object.freeze({
  unknownCategory: 'error',
  missing: 'error',
  outOfRange: 'error',
  extraAttributes: 'ignore',
});

/** A numeric attribute of a parsed {@link Schema}. */
export interface NumericAttribute {
  readonly name: string;
  readonly type: 'numeric';
  readonly label: string;
  readonly protected: boolean;
  /** Its model input column. */
  readonly column: string;
  readonly mean: number;
  readonly std: number;
  readonly min?: number;
  readonly max?: number;
  readonly integer: boolean;
  readonly impute?: number;
  /** Recourse may change it: the file's `mutable` (default true), and never when `protected`. */
  readonly mutable: boolean;
  /** Recourse: which way it may change. */
  readonly direction: 'increase' | 'decrease' | 'any';
  /** Recourse: granularity of changes, when the schema gives one. */
  readonly step?: number;
  /** Recourse: cost scale of changes, when the schema gives one. */
  readonly scale?: number;
  /** Index of its column in `schema.columns`. */
  readonly columnIndices: readonly number[];
}

/** A categorical attribute of a parsed {@link Schema} (one-hot or dummy coded). */
export interface CategoricalAttribute {
  readonly name: string;
  readonly type: 'categorical';
  readonly label: string;
  readonly protected: boolean;
  /** Categories as strings (numbers and booleans in the file are stringified). */
  readonly categories: readonly string[];
  /** Display label per category (the category itself unless the schema gives a label). */
  readonly categoryLabels: readonly string[];
  /** Recourse may change it: the file's `mutable` (default true), and never when `protected`. */
  readonly mutable: boolean;
  /** The model columns of the attribute (one per category, or per non-reference category). */
  readonly columns: readonly string[];
  /** Per category: index into `columns`, or -1 for the reference category. */
  readonly categoryColumn: readonly number[];
  readonly reference?: string;
  readonly impute?: string;
  /** Index of each of `columns` in `schema.columns`. */
  readonly columnIndices: readonly number[];
}

export type Attribute = NumericAttribute | CategoricalAttribute;

/** A validated schema (from {@link parseSchema} or {@link loadSchema}). */
export interface Schema {
  readonly name?: string;
  readonly attributes: readonly Attribute[];
  /** The model's input columns, in order. */
  readonly columns: readonly string[];
  /** Default policy of the encoder (the file's `policy` over {@link DEFAULT_POLICY}). */
  readonly policy: Readonly<EncodePolicy>;
  /** SHA-256 (hex) of the schema text (or of its JSON for an object), for audit records. */
  readonly sha256: string;
  /** Where it came from, for messages. */
  readonly source: string;
}

/**
 * Reads and validates a schema file.
 * @throws {DataError} naming the file and the faulty entry (`attributes[2].categories ...`).
 * @example
 * const schema = await loadSchema('datasets/credit-demo/schema.json');
 * const rows = encodeRecords(schema, await loadRawCsv('applicants-raw.csv'));
 */
export async function loadSchema(path: string): Promise<Schema> {
  return parseSchema(await readTextFile(path), path);
}

/**
 * Validates a schema given as JSON text or as a parsed object.
 * @throws {DataError} for invalid JSON, unknown fields, missing or wrongly typed entries,
 *   duplicate attribute, category or column names, and `columns` that do not list every
 *   attribute column exactly once.
 */
export function parseSchema(json: string | SchemaFile | unknown, source = 'schema'): Schema {
  let raw: unknown = json;
  const text = typeof json === 'string' ? json : JSON.stringify(json);
  if (typeof json === 'string') raw = parseJsonText(json, source);
  const fail = (path: string, message: string): never => {
    throw new DataError(`${path} ${message}`, { file: source });
  };
  if (!isObject(raw))
    fail(
      'the schema',
      `must be a JSON object {"attributes": [...], "columns": [...]}; got ${describe(raw)}. See README "Schema format"`,
    );
  const file = raw as Record<string, unknown>;
  checkKeys(file, ['name', 'attributes', 'columns', 'policy', 'description', 'version', '$schema'], 'the schema', fail);
  if (file.name !== undefined && typeof file.name !== 'string')
    fail('name', `must be a string; got ${describe(file.name)}`);
  if (!Array.isArray(file.attributes) || file.attributes.length === 0)
    fail('attributes', `must be a non-empty array of attributes; got ${describe(file.attributes)}`);
  const attrsIn = file.attributes as unknown[];

  type Partial0 = Omit<NumericAttribute, 'columnIndices'> | Omit<CategoricalAttribute, 'columnIndices'>;
  const partial: Partial0[] = [];
  const names = new Set<string>();
  const columnOwner = new Map<string, string>();
  attrsIn.forEach((a, i) => {
    const at = `attributes[${i}]`;
    if (!isObject(a)) fail(at, `must be an object {"name", "type", ...}; got ${describe(a)}`);
    const o = a as Record<string, unknown>;
    if (typeof o.name !== 'string' || o.name === '')
      fail(`${at}.name`, `must be a non-empty string; got ${describe(o.name)}`);
    const name = o.name as string;
    const here = `${at} (${JSON.stringify(name)})`;
    if (names.has(name)) fail(here, 'repeats an attribute name: attribute names must be unique');
    names.add(name);
    if (o.protected !== undefined && typeof o.protected !== 'boolean')
      fail(`${here}.protected`, `must be true or false; got ${describe(o.protected)}`);
    if (o.label !== undefined && typeof o.label !== 'string')
      fail(`${here}.label`, `must be a string; got ${describe(o.label)}`);
    if (o.mutable !== undefined && typeof o.mutable !== 'boolean')
      fail(`${here}.mutable`, `must be true or false; got ${describe(o.mutable)}`);
    if (o.mutable === true && o.protected === true)
      fail(
        `${here}.mutable`,
        'is true but the attribute is protected: recourse never changes a protected attribute; drop "mutable" or set it to false',
      );
    const common = {
      name,
      label: (o.label as string | undefined) ?? name,
      protected: o.protected === true,
      mutable: o.mutable !== false && o.protected !== true,
    };
    const claim = (col: string, field: string) => {
      const prev = columnOwner.get(col);
      if (prev !== undefined)
        fail(
          `${here}.${field}`,
          `names column ${JSON.stringify(col)}, which attribute ${JSON.stringify(prev)} already uses: every model column belongs to one attribute`,
        );
      columnOwner.set(col, name);
    };
    if (o.type === 'numeric') {
      checkKeys(
        o,
        [
          'name',
          'type',
          'column',
          'mean',
          'std',
          'min',
          'max',
          'integer',
          'impute',
          'protected',
          'label',
          'description',
          'mutable',
          'direction',
          'step',
          'scale',
        ],
        here,
        fail,
      );
      const numField = (k: string): number | undefined => {
        const v = o[k];
        if (v === undefined) return undefined;
        if (typeof v !== 'number' || !Number.isFinite(v))
          fail(`${here}.${k}`, `must be a finite number; got ${describe(v)}`);
        return v as number;
      };
      if (o.column !== undefined && (typeof o.column !== 'string' || o.column === ''))
        fail(`${here}.column`, `must be a non-empty string; got ${describe(o.column)}`);
      if (o.integer !== undefined && typeof o.integer !== 'boolean')
        fail(`${here}.integer`, `must be true or false; got ${describe(o.integer)}`);
      const mean = numField('mean') ?? 0;
      const std = numField('std') ?? 1;
      if (std <= 0) fail(`${here}.std`, `must be > 0 (the model sees (x - mean) / std); got ${std}`);
      const min = numField('min');
      const max = numField('max');
      if (min !== undefined && max !== undefined && min > max) fail(here, `has min ${min} above max ${max}`);
      const impute = numField('impute') ?? (o.mean !== undefined ? mean : undefined);
      if (o.direction !== undefined && !['increase', 'decrease', 'any'].includes(o.direction as string))
        fail(`${here}.direction`, `must be "increase", "decrease" or "any"; got ${describe(o.direction)}`);
      const step = numField('step');
      if (step !== undefined && !(step > 0))
        fail(`${here}.step`, `must be > 0 (the granularity of changes); got ${step}`);
      if (step !== undefined && o.integer === true && !Number.isInteger(step))
        fail(`${here}.step`, `must be a whole number for an integer attribute; got ${step}`);
      const scale = numField('scale');
      if (scale !== undefined && !(scale > 0))
        fail(`${here}.scale`, `must be > 0 (a change costs |to - from| / scale); got ${scale}`);
      const column = (o.column as string | undefined) ?? name;
      claim(column, 'column');
      partial.push({
        ...common,
        type: 'numeric',
        column,
        mean,
        std,
        min,
        max,
        integer: o.integer === true,
        impute,
        direction: (o.direction as 'increase' | 'decrease' | 'any' | undefined) ?? 'any',
        ...(step !== undefined ? { step } : {}),
        ...(scale !== undefined ? { scale } : {}),
      });
    } else if (o.type === 'categorical') {
      checkKeys(
        o,
        [
          'name',
          'type',
          'categories',
          'columns',
          'reference',
          'impute',
          'protected',
          'label',
          'description',
          'mutable',
        ],
        here,
        fail,
      );
      if (!Array.isArray(o.categories) || o.categories.length === 0)
        fail(`${here}.categories`, `must be a non-empty array of category names; got ${describe(o.categories)}`);
      const isValue = (c: unknown) =>
        typeof c === 'string' || typeof c === 'boolean' || (typeof c === 'number' && Number.isFinite(c));
      const categoryLabels: string[] = [];
      const categories = (o.categories as unknown[]).map((c, k) => {
        if (isObject(c)) {
          const e = c as Record<string, unknown>;
          checkKeys(e, ['value', 'label'], `${here}.categories[${k}]`, fail);
          if (!isValue(e.value))
            fail(`${here}.categories[${k}].value`, `must be a string (or a number/boolean); got ${describe(e.value)}`);
          if (typeof e.label !== 'string' || e.label === '')
            fail(`${here}.categories[${k}].label`, `must be a non-empty string; got ${describe(e.label)}`);
          categoryLabels.push(e.label as string);
          return String(e.value);
        }
        if (!isValue(c))
          fail(
            `${here}.categories[${k}]`,
            `must be a string (or a number/boolean, or {"value", "label"}); got ${describe(c)}`,
          );
        categoryLabels.push(String(c));
        return String(c);
      });
      const dup = categories.find((c, k) => categories.indexOf(c) !== k);
      if (dup !== undefined) fail(`${here}.categories`, `lists ${JSON.stringify(dup)} twice`);
      const catField = (k: 'reference' | 'impute'): string | undefined => {
        const v = o[k];
        if (v === undefined) return undefined;
        const s = String(v);
        if (!categories.includes(s))
          fail(`${here}.${k}`, `must be one of its categories ${listOf(categories)}; got ${describe(v)}`);
        return s;
      };
      const reference = catField('reference');
      const impute = catField('impute');
      const coded = categories.filter((c) => c !== reference);
      let columns: string[];
      if (o.columns === undefined) columns = coded.map((c) => `${name}=${c}`);
      else {
        if (!Array.isArray(o.columns) || o.columns.some((c) => typeof c !== 'string' || c === ''))
          fail(`${here}.columns`, `must be an array of non-empty column names; got ${describe(o.columns)}`);
        columns = o.columns as string[];
        if (columns.length !== coded.length)
          fail(
            `${here}.columns`,
            `has ${columns.length} names but the attribute has ${coded.length} ${reference !== undefined ? 'non-reference ' : ''}categories: one column per category, in the order of "categories"`,
          );
      }
      if (coded.length === 0)
        fail(here, 'has a single category that is also the reference: it would have no model column');
      columns.forEach((c) => {
        claim(c, 'columns');
      });
      let k = 0;
      const categoryColumn = categories.map((c) => (c === reference ? -1 : k++));
      partial.push({
        ...common,
        type: 'categorical',
        categories,
        categoryLabels,
        columns,
        categoryColumn,
        reference,
        impute,
      });
    } else fail(`${here}.type`, `must be "numeric" or "categorical"; got ${describe(o.type)}`);
  });

  const attributeColumns = partial.flatMap((a) => (a.type === 'numeric' ? [a.column] : [...a.columns]));
  let columns: string[];
  if (file.columns === undefined) columns = attributeColumns;
  else {
    if (!Array.isArray(file.columns) || file.columns.some((c) => typeof c !== 'string'))
      fail('columns', `must be an array of the model's input column names; got ${describe(file.columns)}`);
    columns = file.columns as string[];
    const seen = new Set<string>();
    for (const c of columns) {
      if (seen.has(c)) fail('columns', `lists ${JSON.stringify(c)} twice`);
      seen.add(c);
      if (!columnOwner.has(c)) {
        const near = closest(c, attributeColumns);
        fail(
          'columns',
          `lists ${JSON.stringify(c)}, which is no attribute's column${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}; numeric attributes own "column" (default: their name), categorical ones "columns" (default: "<name>=<category>")`,
        );
      }
    }
    const missing = attributeColumns.filter((c) => !seen.has(c));
    if (missing.length > 0)
      fail(
        'columns',
        `misses ${listOf(missing)} (of attribute ${JSON.stringify(columnOwner.get(missing[0]))}): list every attribute column once, in the model's input order`,
      );
  }
  const index = new Map(columns.map((c, i) => [c, i]));
  const attributes = partial.map((a): Attribute => {
    const cols = a.type === 'numeric' ? [a.column] : a.columns;
    return { ...a, columnIndices: cols.map((c) => index.get(c) as number) } as Attribute;
  });

  const policy = { ...DEFAULT_POLICY };
  if (file.policy !== undefined) {
    if (!isObject(file.policy)) fail('policy', `must be an object; got ${describe(file.policy)}`);
    Object.assign(policy, checkPolicy(file.policy as Record<string, unknown>, 'policy', fail));
  }
  return {
    name: file.name as string | undefined,
    attributes,
    columns,
    policy: Object.freeze(policy),
    sha256: createHash('sha256').update(text).digest('hex'),
    source,
  };
}

/** The allowed values of each policy field. */
export const POLICY_VALUES: Readonly<Record<keyof EncodePolicy, readonly string[]>> = {
  unknownCategory: ['error', 'zeros'],
  missing: ['error', 'impute'],
  outOfRange: ['error', 'clip', 'allow'],
  extraAttributes: ['ignore', 'error'],
};

/** Validates a (partial) policy object; `fail(path, message)` throws. */
export function checkPolicy(
  p: Record<string, unknown>,
  at: string,
  fail: (path: string, message: string) => never,
): Partial<EncodePolicy> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) {
    if (v === undefined) continue;
    const allowed = POLICY_VALUES[k as keyof EncodePolicy];
    if (!allowed) fail(`${at}.${k}`, `is not a policy; use ${Object.keys(POLICY_VALUES).join(', ')}`);
    if (typeof v !== 'string' || !allowed.includes(v))
      fail(`${at}.${k}`, `must be ${allowed.map((s) => JSON.stringify(s)).join(' or ')}; got ${describe(v)}`);
    out[k] = v as string;
  }
  return out as Partial<EncodePolicy>;
}

/** The schema's groups: each attribute → its model columns (the `--groups` format). */
export function schemaGroups(schema: Schema): GroupSpec {
  return Object.fromEntries(schema.attributes.map((a) => [a.name, a.type === 'numeric' ? [a.column] : [...a.columns]]));
}

/**
 * The players of an explanation over the schema's model columns: one per attribute, in
 * attribute order, each owning its columns (the one-hot columns of a categorical attribute
 * are one player).
 */
export function schemaPlayers(schema: Schema): Players {
  const players = definePlayers(schema.columns, schemaGroups(schema), schema.source);
  // definePlayers orders players by their first column; reorder to the attribute order
  const order = schema.attributes.map((a) => players.names.indexOf(a.name));
  const offsets = new Int32Array(order.length + 1);
  const columns = new Int32Array(players.columns.length);
  order.forEach((p, k) => {
    const cols = players.columns.subarray(players.offsets[p], players.offsets[p + 1]);
    columns.set(cols, offsets[k]);
    offsets[k + 1] = offsets[k] + cols.length;
  });
  return { names: schema.attributes.map((a) => a.name), nColumns: players.nColumns, offsets, columns };
}

/** The attribute with this name, or a DataError suggesting a close name. */
export function schemaAttribute(schema: Schema, name: string): Attribute {
  const a = schema.attributes.find((x) => x.name === name);
  if (a) return a;
  const near = closest(
    name,
    schema.attributes.map((x) => x.name),
  );
  throw new DataError(
    `has no attribute ${JSON.stringify(name)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}`,
    { file: schema.source },
  );
}

function isObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function checkKeys(
  o: Record<string, unknown>,
  allowed: readonly string[],
  at: string,
  fail: (path: string, message: string) => never,
): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k)) {
      const near = closest(k, allowed);
      fail(
        at,
        `has an unknown field ${JSON.stringify(k)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}; allowed: ${allowed.join(', ')}`,
      );
    }
}

function listOf(names: readonly string[]): string {
  const shown = names.slice(0, 6).map((n) => JSON.stringify(n));
  return `${shown.join(', ')}${names.length > 6 ? ` and ${names.length - 6} more` : ''}`;
}
