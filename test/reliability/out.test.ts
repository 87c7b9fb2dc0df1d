/**
 * `--out` safety: an --out that resolves to an input file (same path, another spelling, a
 * symlink, a hard link) is refused with exit 2 before any work, and a write that fails midway
 * (the file size limit of `ulimit -f`, in a child process) leaves the previous output intact.
 */
import { execFile } from 'node:child_process';
import { link, readdir, readFile, symlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../helpers/cli.js';
import { fixtureExpected, fixturePath } from '../helpers/fixtures.js';
import type { TempDir } from '../helpers/tmp.js';
import { makeTempDir } from '../helpers/tmp.js';

const LOG = fixturePath('logistic');
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let tmp: TempDir;
let data: string;
let original: string;

beforeAll(async () => {
  tmp = await makeTempDir('whybox-out-');
  const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
  original = `${names.join(',')}\n${fixtureExpected('logistic')
    .rows.slice(0, 4)
    .map((r) => r.join(','))
    .join('\n')}\n`;
  data = await tmp.write('log.csv', original);
  await symlink(data, join(tmp.path, 'alias.csv'));
  await link(data, join(tmp.path, 'hard.csv'));
});

afterAll(async () => {
  await tmp?.remove();
});

const explain = (...extra: string[]) =>
  run('explain', '--model', LOG, '--data', data, '--threads', '1', '--format', 'json', ...extra);

function expectOneLine(r: { code: number; stderr: string }, pattern: RegExp) {
  expect(r.code).toBe(2);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
}

describe('--out never overwrites an input', () => {
  it.each([
    ['the --data path', () => data],
    ['the --data path spelled relatively', () => relative(process.cwd(), data)],
    ['the --data path with ./ and ..', () => join(tmp.path, '.', 'x', '..', 'log.csv')],
    ['a symlink to --data', () => join(tmp.path, 'alias.csv')],
    ['a hard link to --data', () => join(tmp.path, 'hard.csv')],
  ])('--out = %s -> exit 2, the data intact', async (_label, out) => {
    const r = await explain('--out', out());
    expectOneLine(r, /--out must be a file that is not an input.*--data file/);
    expect(await readFile(data, 'utf8')).toBe(original);
  });

  it('--out = the --model file -> exit 2, the model intact', async () => {
    const copy = await tmp.write('model.onnx', await readFile(LOG));
    const before = await readFile(copy);
    const r = await run('explain', '--model', copy, '--data', data, '--threads', '1', '--out', copy);
    expectOneLine(r, /--model file/);
    expect(Buffer.compare(await readFile(copy), before)).toBe(0);
  });

  it('a new --out file is written, and rewritten, with no temporary file left', async () => {
    const out = join(tmp.path, 'new.json');
    expect((await explain('--out', out)).code).toBe(0);
    const first = JSON.parse(await readFile(out, 'utf8'));
    expect(first.rows).toHaveLength(4);
    expect((await explain('--out', out)).code).toBe(0);
    expect(JSON.parse(await readFile(out, 'utf8')).rows).toHaveLength(4);
    expect((await readdir(tmp.path)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('a write that fails midway', () => {
  it('leaves the previous output intact (ulimit -f 4: 4 KB)', async () => {
    const out = join(tmp.path, 'kept.json');
    expect((await explain('--out', out)).code).toBe(0);
    const good = await readFile(out, 'utf8');
    expect(good.length).toBeGreaterThan(8192); // larger than the limit, so the write must fail
    const script = `const { main } = await import(${JSON.stringify(MAIN)}); process.exitCode = await main(process.argv.slice(1));`;
    const args = ['explain', '--model', LOG, '--data', data, '--threads', '1', '--format', 'json', '--out', out];
    const child = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        'bash',
        ['-c', 'ulimit -f 4; exec node --import tsx --input-type=module -e "$0" "$@"', script, ...args],
        { cwd: ROOT, timeout: 60_000 },
        (error, _stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stderr }),
      );
    });
    expectOneLine(child, /kept\.json: cannot be written \(the file size limit was reached\); the previous file/);
    expect(await readFile(out, 'utf8')).toBe(good);
    expect((await readdir(tmp.path)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 60_000);
});
