/**
 * Low-severity input defects, each with its regression: float32 overflow refused like NaN
 * (file, line, column), a delimiter hint for `;`/tab CSVs, `--rows ""` refused, duplicate
 * keys in JSON inputs refused with their position, and "did you mean" suggestions bounded
 * in time whatever the input length.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/data/csv.js';
import { encodeRecords } from '../../src/data/encoder.js';
import { findDuplicateKey } from '../../src/data/json-keys.js';
import { closest, parseGroupsJson, SUGGEST_MAX_LENGTH } from '../../src/data/players.js';
import { parseSchema } from '../../src/data/schema.js';
import { DataError } from '../../src/errors.js';
import { run } from '../helpers/cli.js';
import { fixtureExpected, fixturePath } from '../helpers/fixtures.js';
import type { TempDir } from '../helpers/tmp.js';
import { makeTempDir } from '../helpers/tmp.js';

const LOG = fixturePath('logistic');
const DEMO = fileURLToPath(new URL('../../datasets/credit-demo/', import.meta.url));
const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
const rows = fixtureExpected('logistic').rows.slice(0, 3);
let tmp: TempDir;

beforeAll(async () => {
  tmp = await makeTempDir('whybox-inputs-');
});
afterAll(async () => {
  await tmp?.remove();
});

const csv = (cells: (string | number)[][], sep = ',') =>
  `${names.join(sep)}\n${cells.map((r) => r.join(sep)).join('\n')}\n`;

function expectOneLine(r: { code: number; stderr: string }, ...patterns: (string | RegExp)[]) {
  expect(r.code).toBe(2);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  for (const p of patterns) expect(r.stderr).toMatch(p);
}

describe('float32 range', () => {
  it.each(['3.5e38', '-1e39', '1e300'])('%s in a float32 model input -> exit 2 with line and column', async (cell) => {
    const cells: (string | number)[][] = rows.map((r) => [...r]);
    cells[1][3] = cell; // line 3, column 4
    const data = await tmp.write(`f32-${cell}.csv`, csv(cells));
    const r = await run('explain', '--model', LOG, '--data', data, '--threads', '1');
    expectOneLine(r, 'line 3, column 4 ("c3")', /beyond the float32 range/);
  });

  it('the largest float32 passes; float64 readers keep the full range', async () => {
    const cells: (string | number)[][] = rows.map((r) => [...r]);
    cells[0][0] = '3.4028234e38';
    expect(
      (await run('explain', '--model', LOG, '--data', await tmp.write('max.csv', csv(cells)), '--threads', '1')).code,
    ).toBe(0);
    expect(parseCsv('a\n1e300\n').data[0]).toBe(1e300);
    expect(() => parseCsv('a\n1e300\n', { float32: true })).toThrow(/CSV, line 2, column 1 \("a"\).*float32/);
  });
});

describe('delimiter hint', () => {
  it.each([
    [';', /separated by semicolons/],
    ['\t', /separated by tabs/],
  ])('a %j-separated CSV -> exit 2 naming the delimiter', async (sep, hint) => {
    const data = await tmp.write(`sep-${sep === ';' ? 'semi' : 'tab'}.csv`, csv(rows, sep));
    const r = await run('explain', '--model', LOG, '--data', data, '--threads', '1');
    expectOneLine(r, 'line 1', hint, /reads comma-separated values/);
  });
});

describe('--rows', () => {
  it.each(['', ' ', ',', '2-1'])('--rows %j -> exit 2', async (spec) => {
    const data = await tmp.write('rows.csv', csv(rows));
    const r = await run('explain', '--model', LOG, '--data', data, '--threads', '1', '--rows', spec);
    expectOneLine(r, /--rows must be/);
  });
});

describe('duplicate JSON keys', () => {
  it('a groups file with a key twice -> exit 2 with its line and column', async () => {
    const groups = await tmp.write('groups.json', '{\n  "a": ["c0", "c1"],\n  "b": ["c2"],\n  "a": ["c3"]\n}\n');
    const data = await tmp.write('dup.csv', csv(rows));
    const r = await run('explain', '--model', LOG, '--data', data, '--threads', '1', '--groups', groups);
    expectOneLine(r, 'groups.json, line 4, column 3', /the key "a" appears twice/);
  });

  it('keys are per object; escaped and nested keys count; arrays and string values do not', () => {
    expect(findDuplicateKey('{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}], "c": "a"}')).toBeUndefined();
    expect(findDuplicateKey('{"a\\u0062": 1, "ab": 2}')).toEqual({ key: 'ab', line: 1, column: 16 });
    expect(findDuplicateKey('[{"x": 1, "y": {"q": 1, "q": 2}}]')).toMatchObject({ key: 'q' });
    expect(findDuplicateKey('{"s": "a \\" , \\"s\\": 1", "t": 1}')).toBeUndefined();
    expect(() => parseGroupsJson('{"g": ["a"], "g": ["b"]}', 'G.json')).toThrow(DataError);
  });
});

describe('"did you mean" is bounded', () => {
  it('still suggests for short typos', () => {
    expect(closest('incme', ['age', 'income'])).toBe('income');
    expect(closest('x'.repeat(SUGGEST_MAX_LENGTH + 1), ['x'.repeat(SUGGEST_MAX_LENGTH)])).toBeUndefined();
  });

  it('a 1 MB unknown category costs milliseconds, not a second', async () => {
    const schema = parseSchema(await readFile(`${DEMO}schema.json`, 'utf8'));
    const record = Object.fromEntries(
      schema.attributes.map((a) => [a.name, a.type === 'numeric' ? (a.min ?? 1) : a.categories[0]]),
    );
    const big = { ...record, [schema.attributes[0].name]: 'x'.repeat(1 << 20) };
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) expect(() => encodeRecords(schema, [big])).toThrow(/unknown category/);
    expect((performance.now() - t0) / 5).toBeLessThan(200); // before: 0.81 s a record
    const longNames = Array.from({ length: 20_000 }, (_, i) => `category-${i}`);
    const t1 = performance.now();
    closest('y'.repeat(64), longNames);
    expect(performance.now() - t1).toBeLessThan(200);
  });
});
