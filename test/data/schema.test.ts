import { createHash } from 'node:crypto';
import { fc, test as fcTest } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawRecord } from '../../src/data/encoder.js';
import { decodeRows, encodeRecords, loadRawCsv, parseRawCsv } from '../../src/data/encoder.js';
import type { SchemaFile } from '../../src/data/schema.js';
import { loadSchema, parseSchema, schemaGroups, schemaPlayers } from '../../src/data/schema.js';
import { DataError, InvalidOptionError } from '../../src/errors.js';
import { explain } from '../../src/explain.js';
import { fromFunction } from '../../src/models/function-model.js';
import { bruteForceShapley, interventionalValue, maxAbsDiff } from '../helpers/brute-force.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

let tmp: TempDir;
beforeAll(async () => {
  tmp = await makeTempDir('whybox-schema-');
});
afterAll(async () => {
  await tmp.remove();
});

/** A schema with every feature: standardisation, ranges, integers, dummy coding, custom column order. */
const FILE: SchemaFile = {
  name: 'toy',
  attributes: [
    { name: 'duration', type: 'numeric', min: 4, max: 72, integer: true },
    { name: 'income', type: 'numeric', mean: 3, std: 2, label: 'Income (k)' },
    { name: 'housing', type: 'categorical', categories: ['rent', 'own', 'free'] },
    { name: 'rate', type: 'categorical', categories: [1, 2, 3], reference: 1, columns: ['rate_2', 'rate_3'] },
    { name: 'age', type: 'numeric', protected: true, min: 18 },
  ],
  columns: ['income', 'housing=rent', 'duration', 'housing=own', 'housing=free', 'rate_2', 'rate_3', 'age'],
};

const schema = parseSchema(FILE, 'toy.json');

function dataError(f: () => unknown): DataError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('expected a DataError');
}

describe('parseSchema', () => {
  it('resolves columns, indices, defaults and the hash', () => {
    expect(schema.columns).toEqual(FILE.columns);
    const [duration, income, housing, rate, age] = schema.attributes;
    expect(duration).toMatchObject({ type: 'numeric', column: 'duration', mean: 0, std: 1, integer: true });
    expect(duration.columnIndices).toEqual([2]);
    expect(income).toMatchObject({ label: 'Income (k)', mean: 3, std: 2, impute: 3 });
    expect(housing.columnIndices).toEqual([1, 3, 4]);
    expect(housing).toMatchObject({ columns: ['housing=rent', 'housing=own', 'housing=free'] });
    expect(rate).toMatchObject({ categories: ['1', '2', '3'], reference: '1', categoryColumn: [-1, 0, 1] });
    expect(age.protected).toBe(true);
    expect(schema.policy).toEqual({
      unknownCategory: 'error',
      missing: 'error',
      outOfRange: 'error',
      extraAttributes: 'ignore',
    });
    const text = JSON.stringify(FILE, null, 2);
    expect(parseSchema(text).sha256).toBe(createHash('sha256').update(text).digest('hex'));
  });

  it('defaults the column order to the attribute order', () => {
    const s = parseSchema({ ...FILE, columns: undefined });
    expect(s.columns).toEqual([
      'duration',
      'income',
      'housing=rent',
      'housing=own',
      'housing=free',
      'rate_2',
      'rate_3',
      'age',
    ]);
  });

  it('loads a file and names it in errors', async () => {
    const path = await tmp.write('schema.json', JSON.stringify(FILE));
    expect((await loadSchema(path)).columns).toEqual(FILE.columns);
    const bad = await tmp.write('bad.json', '{"attributes": [');
    await expect(loadSchema(bad)).rejects.toThrow(/bad\.json: not valid JSON/);
    await expect(loadSchema(`${tmp.path}/nope.json`)).rejects.toThrow(/file not found/);
  });

  const bad: [string, unknown, RegExp][] = [
    ['not an object', [1, 2], /the schema must be a JSON object/],
    ['no attributes', { attributes: [] }, /attributes must be a non-empty array/],
    [
      'unknown top-level field',
      { attributes: FILE.attributes, colums: [] },
      /unknown field "colums" \(did you mean "columns"\?\)/,
    ],
    [
      'bad type',
      { attributes: [{ name: 'a', type: 'number' }] },
      /attributes\[0\] \("a"\)\.type must be "numeric" or "categorical"; got "number"/,
    ],
    [
      'duplicate attribute',
      {
        attributes: [
          { name: 'a', type: 'numeric' },
          { name: 'a', type: 'numeric' },
        ],
      },
      /attributes\[1\] \("a"\) repeats an attribute name/,
    ],
    ['std 0', { attributes: [{ name: 'a', type: 'numeric', std: 0 }] }, /std must be > 0/],
    ['min > max', { attributes: [{ name: 'a', type: 'numeric', min: 3, max: 1 }] }, /min 3 above max 1/],
    [
      'string mean',
      { attributes: [{ name: 'a', type: 'numeric', mean: '3' }] },
      /mean must be a finite number; got "3"/,
    ],
    [
      'no categories',
      { attributes: [{ name: 'c', type: 'categorical', categories: [] }] },
      /categories must be a non-empty array/,
    ],
    [
      'duplicate category',
      { attributes: [{ name: 'c', type: 'categorical', categories: ['x', 'x'] }] },
      /lists "x" twice/,
    ],
    [
      'reference not a category',
      { attributes: [{ name: 'c', type: 'categorical', categories: ['x', 'y'], reference: 'z' }] },
      /reference must be one of its categories "x", "y"; got "z"/,
    ],
    [
      'column count',
      { attributes: [{ name: 'c', type: 'categorical', categories: ['x', 'y'], columns: ['c_x'] }] },
      /has 1 names but the attribute has 2 categories/,
    ],
    [
      'shared column',
      {
        attributes: [
          { name: 'a', type: 'numeric', column: 'c=x' },
          { name: 'c', type: 'categorical', categories: ['x'] },
        ],
      },
      /names column "c=x", which attribute "a" already uses/,
    ],
    [
      'unknown column in order',
      { attributes: [{ name: 'age', type: 'numeric' }], columns: ['agee'] },
      /lists "agee", which is no attribute's column \(did you mean "age"\?\)/,
    ],
    [
      'column missing from order',
      {
        attributes: [
          { name: 'a', type: 'numeric' },
          { name: 'b', type: 'numeric' },
        ],
        columns: ['a'],
      },
      /columns misses "b" \(of attribute "b"\)/,
    ],
    [
      'bad policy',
      { attributes: [{ name: 'a', type: 'numeric' }], policy: { missing: 'zero' } },
      /policy\.missing must be "error" or "impute"; got "zero"/,
    ],
    [
      'protected not boolean',
      { attributes: [{ name: 'a', type: 'numeric', protected: 'yes' }] },
      /protected must be true or false/,
    ],
  ];
  for (const [what, json, message] of bad)
    it(`rejects a schema with ${what}`, () => {
      const e = dataError(() => parseSchema(json, 's.json'));
      expect(e.message).toMatch(/^s\.json: /);
      expect(e.message).toMatch(message);
    });
});

describe('encodeRecords / decodeRows', () => {
  const records: RawRecord[] = [
    { duration: 24, income: 5, housing: 'own', rate: 2, age: 41, id: 'A-1' },
    { duration: '6', income: '-1.5', housing: 'rent', rate: '1', age: '18' },
    { duration: 72, income: 3, housing: 'free', rate: 3, age: 90 },
  ];

  it('encodes numbers standardised and categories one-hot / dummy, in the model column order', () => {
    const ds = encodeRecords(schema, records);
    expect(ds.columns).toEqual(schema.columns);
    // income, housing=rent, duration, housing=own, housing=free, rate_2, rate_3, age
    expect(Array.from(ds.data)).toEqual([
      1, 0, 24, 1, 0, 1, 0, 41, -2.25, 1, 6, 0, 0, 0, 0, 18, 0, 0, 72, 0, 1, 0, 1, 90,
    ]);
  });

  it('round-trips (decode ∘ encode = identity on valid records)', () => {
    const back = decodeRows(schema, encodeRecords(schema, records));
    expect(back).toEqual([
      { duration: 24, income: 5, housing: 'own', rate: '2', age: 41 },
      { duration: 6, income: -1.5, housing: 'rent', rate: '1', age: 18 },
      { duration: 72, income: 3, housing: 'free', rate: '3', age: 90 },
    ]);
  });

  fcTest.prop(
    [
      fc.array(
        fc.record({
          duration: fc.integer({ min: 4, max: 72 }),
          income: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
          housing: fc.constantFrom('rent', 'own', 'free'),
          rate: fc.constantFrom('1', '2', '3'),
          age: fc.integer({ min: 18, max: 100 }),
        }),
        { minLength: 1, maxLength: 20 },
      ),
    ],
    { numRuns: 50 },
  )('round-trips random records (numbers to 1e-9 relative)', (recs) => {
    const back = decodeRows(schema, encodeRecords(schema, recs));
    back.forEach((b, r) => {
      const a = recs[r];
      expect({ ...b, income: 0 }).toEqual({ ...a, income: 0 });
      expect(Math.abs((b.income as number) - a.income)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(a.income)));
    });
  });

  it('reads raw CSV with line numbers and trimmed cells', async () => {
    const path = await tmp.write(
      'raw.csv',
      'id,duration,income,housing,rate,age\nA, 24 ,5,own,2,41\n\nB,6,-1.5,rent,1,18\n',
    );
    const table = await loadRawCsv(path);
    expect(table.lines).toEqual([2, 4]);
    const ds = encodeRecords(schema, table);
    expect(decodeRows(schema, ds)).toEqual([
      { duration: 24, income: 5, housing: 'own', rate: '2', age: 41 },
      { duration: 6, income: -1.5, housing: 'rent', rate: '1', age: 18 },
    ]);
  });

  const ok = { duration: 24, income: 5, housing: 'own', rate: 2, age: 41 };
  const badRows: [string, RawRecord, RegExp][] = [
    [
      'an unknown category',
      { ...ok, housing: 'owned' },
      /record 0, attribute "housing": unknown category "owned" \(did you mean "own"\?\): housing is one of "rent", "own", "free"/,
    ],
    ['a missing value', { ...ok, income: null }, /attribute "income": value is missing/],
    [
      'an absent field (typo)',
      { duration: 24, incme: 5, housing: 'own', rate: 2, age: 41 },
      /attribute "income": value is missing \(the record has "incme": a typo\?\)/,
    ],
    ['a value above max', { ...ok, duration: 80 }, /80 is out of range \[4, 72\] for duration/],
    ['a value below min', { ...ok, age: 17 }, /17 is out of range \[18, inf\] for age/],
    ['a non-integer', { ...ok, duration: 24.5 }, /24\.5 is not an integer/],
    ['a non-number', { ...ok, income: 'high' }, /"high" is not a number: income is a numeric attribute/],
    ['NaN', { ...ok, income: Number.NaN }, /NaN is not finite/],
    ['a string NaN', { ...ok, income: 'NaN' }, /"NaN" is not a number.*must be finite/],
  ];
  for (const [what, rec, message] of badRows)
    it(`rejects ${what} by default, naming the record and attribute`, () => {
      const e = dataError(() => encodeRecords(schema, [ok, ok, rec].slice(2)));
      expect(e.message).toMatch(message);
      expect(e.location.row).toBe(0);
    });

  it('names the CSV file, line and column of a bad cell', () => {
    const table = parseRawCsv('duration,income,housing,rate,age\n24,5,own,2,41\n24,5,villa,2,41\n', {
      source: 'apps.csv',
    });
    const e = dataError(() => encodeRecords(schema, table));
    expect(e.message).toMatch(/^apps\.csv, line 3, column 3 \("housing"\): unknown category "villa"/);
    expect(e.location).toMatchObject({ file: 'apps.csv', line: 3, row: 1, columnName: 'housing' });
  });

  it('rejects a CSV without an attribute column, suggesting the rename', () => {
    const table = parseRawCsv('duration,incme,housing,rate,age\n24,5,own,2,41\n', { source: 'a.csv' });
    expect(dataError(() => encodeRecords(schema, table)).message).toMatch(
      /header lacks 1 attribute of the schema: "income" \(rename "incme" -> "income"\?\)/,
    );
  });

  it('rejects empty CSV cells (missing) by default', () => {
    const table = parseRawCsv('duration,income,housing,rate,age\n24,,own,2,41\n', { source: 'a.csv' });
    expect(dataError(() => encodeRecords(schema, table)).message).toMatch(
      /line 2, column 2 \("income"\): value is missing/,
    );
  });

  it('applies the configurable policies', () => {
    const imputed = encodeRecords(schema, [{ ...ok, income: null }], { missing: 'impute' });
    expect(imputed.data[0]).toBe(0); // income imputed with its mean 3 -> standardised 0
    expect(dataError(() => encodeRecords(schema, [{ ...ok, duration: null }], { missing: 'impute' })).message).toMatch(
      /no "impute" value in the schema \(nor a "mean"\)/,
    );
    const zeros = encodeRecords(schema, [{ ...ok, housing: 'boat' }], { unknownCategory: 'zeros' });
    expect([zeros.data[1], zeros.data[3], zeros.data[4]]).toEqual([0, 0, 0]);
    expect(decodeRows(schema, zeros)[0].housing).toBeNull();
    const clipped = encodeRecords(schema, [{ ...ok, duration: 99.4, age: 3 }], { outOfRange: 'clip' });
    expect([clipped.data[2], clipped.data[7]]).toEqual([72, 18]);
    const allowed = encodeRecords(schema, [{ ...ok, duration: 99.4 }], { outOfRange: 'allow' });
    expect(allowed.data[2]).toBe(99.4);
    const tokens = encodeRecords(schema, [{ ...ok, income: 'NA' }], { missing: 'impute', missingValues: ['NA'] });
    expect(tokens.data[0]).toBe(0);
    expect(dataError(() => encodeRecords(schema, [{ ...ok, id: 1 }], { extraAttributes: 'error' })).message).toMatch(
      /field "id" is no schema attribute/,
    );
    // the schema file's policy is the default, options override it
    const lenient = parseSchema({ ...FILE, policy: { unknownCategory: 'zeros' } });
    expect(encodeRecords(lenient, [{ ...ok, housing: 'boat' }]).data[3]).toBe(0);
    expect(() => encodeRecords(lenient, [{ ...ok, housing: 'boat' }], { unknownCategory: 'error' })).toThrow(
      /unknown category "boat"/,
    );
  });

  it('rejects bad options', () => {
    expect(() => encodeRecords(schema, [ok], { missing: 'zero' as never })).toThrow(InvalidOptionError);
    expect(() => encodeRecords(schema, [ok], { unknown: 'x' } as never)).toThrow(InvalidOptionError);
    expect(() => encodeRecords(schema, [])).toThrow(/holds no records/);
  });

  it('refuses to decode columns that are not one-hot', () => {
    const ds = encodeRecords(schema, [ok]);
    ds.data[1] = 1; // housing=rent and housing=own both 1
    expect(dataError(() => decodeRows(schema, ds)).message).toMatch(
      /record 0, attribute "housing": columns .* are not one-hot/,
    );
  });
});

describe('schema groups', () => {
  it('makes one player per attribute, in attribute order, owning its columns', () => {
    expect(schemaGroups(schema)).toEqual({
      duration: ['duration'],
      income: ['income'],
      housing: ['housing=rent', 'housing=own', 'housing=free'],
      rate: ['rate_2', 'rate_3'],
      age: ['age'],
    });
    const p = schemaPlayers(schema);
    expect(p.names).toEqual(['duration', 'income', 'housing', 'rate', 'age']);
    const cols = p.names.map((_, k) => Array.from(p.columns.subarray(p.offsets[k], p.offsets[k + 1])));
    expect(cols).toEqual([[2], [0], [1, 3, 4], [5, 6], [7]]);
  });

  it('gives the exact Shapley values of the hand-grouped game', async () => {
    // a model with interactions inside and across attributes
    const f = (r: ArrayLike<number>): number[] => [
      0.7 * r[0] + 0.05 * r[2] * (1 + r[3]) - 0.8 * r[4] * r[0] + 0.3 * r[5] - 0.6 * r[6] + 0.01 * r[7] * r[1],
    ];
    const model = fromFunction((r: Float64Array) => f(r), { nInputs: 8 });
    const bgRecords: RawRecord[] = [
      { duration: 12, income: 2, housing: 'rent', rate: 1, age: 25 },
      { duration: 36, income: 6, housing: 'own', rate: 3, age: 50 },
      { duration: 48, income: 1, housing: 'free', rate: 2, age: 33 },
    ];
    const rows = encodeRecords(schema, records0());
    const bg = encodeRecords(schema, bgRecords);
    const exp = await explain(model, rows, {
      background: bg,
      players: schemaPlayers(schema),
      method: 'exact',
      threads: 1,
    });
    expect(exp.players).toEqual(['duration', 'income', 'housing', 'rate', 'age']);
    // hand-grouped: players listed by hand from the column order
    const hand = [[2], [0], [1, 3, 4], [5, 6], [7]];
    const bgRows = Array.from({ length: bg.nRows }, (_, b) => Array.from(bg.data.subarray(b * 8, b * 8 + 8)));
    for (let r = 0; r < rows.nRows; r++) {
      const x = Array.from(rows.data.subarray(r * 8, r * 8 + 8));
      const truth = bruteForceShapley((m) => interventionalValue(f, x, bgRows, undefined, hand, m), 5).map((v) => v[0]);
      expect(maxAbsDiff(exp.values.subarray(r * 5, r * 5 + 5), truth)).toBeLessThan(1e-12);
    }
  });
});

function records0(): RawRecord[] {
  return [
    { duration: 24, income: 5, housing: 'own', rate: 2, age: 41 },
    { duration: 6, income: -1.5, housing: 'rent', rate: 1, age: 18 },
  ];
}
