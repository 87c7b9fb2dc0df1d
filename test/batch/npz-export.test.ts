import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeModiscoFromJsonl } from '../../src/batch/npz-export.js';
import { DataError } from '../../src/errors.js';
import { run } from '../helpers/cli.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let tmp: TempDir;
let jsonl: string;
let lines: string[];
beforeAll(async () => {
  tmp = await makeTempDir();
  jsonl = join(tmp.path, 'ism.jsonl');
  const r = await run(
    'batch',
    '--model',
    join(ROOT, 'datasets/motifs/model.onnx'),
    '--sequences',
    join(ROOT, 'datasets/motifs/single.fa'),
    '--method',
    'ism',
    '--output',
    '1',
    '--out',
    jsonl,
    '--quiet',
  );
  expect(r.code, r.stderr).toBe(0);
  lines = (await readFile(jsonl, 'utf8')).trim().split('\n');
});
afterAll(() => tmp?.remove());

/** A copy of the run with its lines changed by `edit`. */
async function edited(name: string, edit: (l: string[]) => string[]): Promise<string> {
  const p = join(tmp.path, name);
  await writeFile(p, `${edit([...lines]).join('\n')}\n`);
  await writeFile(`${p}.meta.json`, await readFile(`${jsonl}.meta.json`));
  return p;
}

describe('writeModiscoFromJsonl', () => {
  it('one output: attr.npz; row r is line r; progress reaches every row', async () => {
    const seen: number[] = [];
    const res = await writeModiscoFromJsonl(jsonl, join(tmp.path, 'ok'), { onProgress: (n) => seen.push(n) });
    expect(res).toEqual({ files: ['ohe.npz', 'attr.npz'], rows: 40, perLetter: true });
    expect(seen.at(-1)).toBe(40);
  });
  it('refuses lines out of index order or of another shape, naming the line', async () => {
    const swapped = await edited('swap.jsonl', (l) => [l[1], l[0], ...l.slice(2)]);
    const dir = join(tmp.path, 'bad');
    await expect(writeModiscoFromJsonl(swapped, dir)).rejects.toThrow(DataError);
    await expect(writeModiscoFromJsonl(swapped, dir)).rejects.toThrow(/line 2: has index 0 after 1/);
    const short = await edited('short.jsonl', (l) => {
      const row = JSON.parse(l[3]);
      row.data = row.data.slice(4);
      l[3] = JSON.stringify(row);
      return l;
    });
    await expect(writeModiscoFromJsonl(short, dir)).rejects.toThrow(
      /line 4: "data" holds 396 values, not 100 positions × 4 letters/,
    );
    const extra = await edited('extra.jsonl', (l) => [...l, l[39].replace('"index":39', '"index":40')]);
    await expect(writeModiscoFromJsonl(extra, dir)).rejects.toThrow(/more lines than the 40 rows/);
    expect(await readdir(dir)).toEqual([]);
    await expect(writeModiscoFromJsonl(join(tmp.path, 'none.jsonl'), dir)).rejects.toThrow(/none\.jsonl/);
  });
});
