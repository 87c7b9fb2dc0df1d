import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCsv, parseCsv } from '../../src/data/csv.js';
import { DataError } from '../../src/errors.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

let tmp: TempDir;
beforeAll(async () => {
  tmp = await makeTempDir('whybox-csv-');
});
afterAll(async () => {
  await tmp.remove();
});

/** Loads `content` from a fresh file and returns the DataError it must raise. */
async function loadError(name: string, content: string): Promise<{ error: DataError; file: string }> {
  const file = await tmp.write(name, content);
  const error = await loadCsv(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DataError);
  return { error: error as DataError, file };
}

function parseError(text: string, options: Parameters<typeof parseCsv>[1] = {}): DataError {
  try {
    parseCsv(text, { source: 'rows.csv', ...options });
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('parseCsv accepted bad input');
}

describe('loadCsv: a good file', () => {
  it('reads columns, nRows and row-major values', async () => {
    const file = await tmp.write('good.csv', 'age,income,score\n30,2.5,-1\n41,3.125,1e3\n0,-0.5,7\n');
    const ds = await loadCsv(file);
    expect(ds.columns).toEqual(['age', 'income', 'score']);
    expect(ds.nRows).toBe(3);
    expect(ds.data).toBeInstanceOf(Float64Array);
    expect(Array.from(ds.data)).toEqual([30, 2.5, -1, 41, 3.125, 1000, 0, -0.5, 7]);
  });

  it('trims spaces, skips blank lines, accepts CRLF, a BOM and quoted numbers', async () => {
    const file = await tmp.write('messy.csv', '\ufeff a , b \r\n1, 2\r\n\r\n"3",4.5\r\n');
    const ds = await loadCsv(file);
    expect(ds.columns).toEqual(['a', 'b']);
    expect(ds.nRows).toBe(2);
    expect(Array.from(ds.data)).toEqual([1, 2, 3, 4.5]);
  });

  it('parseCsv honours a custom delimiter', () => {
    const ds = parseCsv('x;y\n1;2\n3;4\n', { delimiter: ';' });
    expect(ds.columns).toEqual(['x', 'y']);
    expect(Array.from(ds.data)).toEqual([1, 2, 3, 4]);
  });

  it('accepts a header that matches expectColumns', () => {
    const ds = parseCsv('a,b,c\n1,2,3\n', { expectColumns: ['a', 'b', 'c'] });
    expect(ds.nRows).toBe(1);
    expect(Array.from(ds.data)).toEqual([1, 2, 3]);
  });
});

describe('loadCsv: file-level errors', () => {
  it('missing file (ENOENT): names the path and says to check it', async () => {
    const file = join(tmp.path, 'does-not-exist.csv');
    const error = await loadCsv(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    const message = (error as DataError).message;
    expect(message).toContain(file);
    expect(message).toMatch(/not found/);
    expect(message).toMatch(/check the path/);
    expect((error as DataError).code).toBe('DATA');
  });

  it('a directory: names the path and says it is a directory', async () => {
    const dir = join(tmp.path, 'a-directory.csv');
    await mkdir(dir);
    const error = await loadCsv(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message).toContain(dir);
    expect((error as DataError).message).toMatch(/directory/);
  });

  it('an empty file: names the file and asks for a header and a data row', async () => {
    const { error, file } = await loadError('empty.csv', '');
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/empty/);
    expect(error.message).toMatch(/header/);
    expect(error.location.file).toBe(file);
  });

  it('a file of blank lines counts as empty', async () => {
    const { error } = await loadError('blank.csv', '\n\n   \n');
    expect(error.message).toMatch(/empty/);
  });

  it('header only: names the file and line 1 and says there are no data rows', async () => {
    const { error, file } = await loadError('header-only.csv', 'a,b,c\n');
    expect(error.message).toContain(`${file}, line 1`);
    expect(error.message).toMatch(/no data rows/);
    expect(error.location).toMatchObject({ file, line: 1 });
  });

  it('a header-less file (first row all numbers) asks for a header row', async () => {
    const { error, file } = await loadError('no-header.csv', '1,2,3\n4,5,6\n');
    expect(error.message).toContain(`${file}, line 1`);
    expect(error.message).toMatch(/all numbers/);
    expect(error.message).toMatch(/needs a header row/);
  });

  it('duplicate column names: names the file, line 1 and the duplicated name', async () => {
    const { error, file } = await loadError('dup.csv', 'a,b,a\n1,2,3\n');
    expect(error.message).toContain(`${file}, line 1`);
    expect(error.message).toContain('"a"');
    expect(error.message).toMatch(/twice|duplicate/);
    expect(error.message).toMatch(/unique/);
  });

  it('an empty header name names its column', () => {
    const error = parseError('a,,c\n1,2,3\n');
    expect(error.location).toMatchObject({ file: 'rows.csv', line: 1, column: 2 });
    expect(error.message).toMatch(/name every column/);
  });

  it('an unclosed quote is reported as invalid CSV with the file', () => {
    const error = parseError('a,b\n1,"2\n');
    expect(error.message).toContain('rows.csv');
    expect(error.message).toMatch(/not valid CSV/);
  });
});

describe('loadCsv: row and cell errors name file, 1-based line and column', () => {
  it('a ragged row: line of the row, its field count and the header count', async () => {
    const { error, file } = await loadError('ragged.csv', 'a,b,c\n1,2,3\n4,5\n');
    expect(error.message).toContain(`${file}, line 3`);
    expect(error.message).toMatch(/2 fields/);
    expect(error.message).toMatch(/header has 3/);
    expect(error.message).toMatch(/one value per column/);
    expect(error.location).toMatchObject({ file, line: 3 });
  });

  it('a row with too many fields', () => {
    const error = parseError('a,b\n1,2,3\n');
    expect(error.location).toMatchObject({ line: 2 });
    expect(error.message).toMatch(/3 fields but the header has 2/);
  });

  it('an empty cell: line, column number and name, and the fix', async () => {
    const { error, file } = await loadError('empty-cell.csv', 'a,b,c\n1,2,3\n4,,6\n');
    expect(error.message).toContain(`${file}, line 3, column 2 ("b")`);
    expect(error.message).toMatch(/empty cell/);
    expect(error.message).toMatch(/impute or drop/);
    expect(error.location).toEqual({ file, line: 3, column: 2, columnName: 'b' });
  });

  it('a whitespace-only cell is an empty cell', () => {
    const error = parseError('a,b\n1,   \n');
    expect(error.location).toMatchObject({ line: 2, column: 2, columnName: 'b' });
    expect(error.message).toMatch(/empty cell/);
  });

  it('a non-numeric cell ("abc"): line, column and the one-hot hint', async () => {
    const { error, file } = await loadError('abc.csv', 'x,y,z\n1,2,3\n4,5,6\n7,8,abc\n');
    expect(error.message).toContain(`${file}, line 4, column 3 ("z")`);
    expect(error.message).toContain('"abc" is not a number');
    expect(error.message).toMatch(/one-hot/);
    expect(error.location).toEqual({ file, line: 4, column: 3, columnName: 'z' });
  });

  it('line numbers count the physical lines, including skipped blank lines and CRLF', () => {
    const error = parseError('a,b\r\n1,2\r\n\r\n\r\n3,oops\r\n');
    expect(error.location).toMatchObject({ line: 5, column: 2, columnName: 'b' });
  });

  it.each(['NaN', 'nan', '-NaN'])('a %s cell is reported as not finite', (cell) => {
    const error = parseError(`a,b\n1,2\n${cell},4\n`);
    expect(error.message).toContain(`rows.csv, line 3, column 1 ("a")`);
    expect(error.message).toContain(`"${cell}" is not finite`);
    expect(error.message).toMatch(/finite number/);
  });

  // numpy / pandas write infinities as "inf" / "-inf"; they are numbers, just not finite,
  // so the message must not send the user off to one-hot encode a category.
  it.each(['Infinity', '-Infinity', 'inf', '-inf', '+inf'])('an %s cell is reported as not finite', (cell) => {
    const error = parseError(`a,b\n1,${cell}\n`);
    expect(error.location).toEqual({ file: 'rows.csv', line: 2, column: 2, columnName: 'b' });
    expect(error.message).toContain(`"${cell}" is not finite`);
    expect(error.message).not.toMatch(/one-hot/);
  });
});

describe('expectColumns', () => {
  it('lists missing columns', () => {
    const error = parseError('a,b\n1,2\n', { expectColumns: ['a', 'b', 'c'] });
    expect(error.message).toContain('rows.csv, line 1');
    expect(error.message).toMatch(/3 inputs/);
    expect(error.message).toContain('missing "c"');
    expect(error.message).not.toMatch(/unexpected/);
    expect(error.message).toMatch(/in order/);
  });

  it('lists extra columns', () => {
    const error = parseError('a,b,zz\n1,2,3\n', { expectColumns: ['a', 'b'] });
    expect(error.message).toContain('unexpected "zz"');
    expect(error.message).not.toMatch(/missing/);
  });

  it('lists both missing and extra columns', () => {
    const error = parseError('a,B\n1,2\n', { expectColumns: ['a', 'b'] });
    expect(error.message).toContain('missing "b"');
    expect(error.message).toContain('unexpected "B"');
  });

  it('names the first misplaced column when the same names are in another order', () => {
    const error = parseError('a,c,b\n1,2,3\n', { expectColumns: ['a', 'b', 'c'] });
    expect(error.message).toContain('column 2 is "c" but the model expects "b" there');
  });

  it('shortens long lists ("and N more")', () => {
    const expected = Array.from({ length: 8 }, (_, i) => `m${i}`);
    const error = parseError('a\n1\n', { expectColumns: expected });
    expect(error.message).toContain('missing "m0", "m1", "m2", "m3", "m4" and 3 more');
  });
});
