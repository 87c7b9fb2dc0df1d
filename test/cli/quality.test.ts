/**
 * `whybox check` and `whybox evaluate`: the JSON contract, exit codes, formats, and results
 * that follow from the fixtures (linear.onnx, logistic.onnx).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOnnx } from '../../src/models/onnx-model.js';
import { type Run, run } from '../helpers/cli.js';
import { fixtureExpected, fixturePath } from '../helpers/fixtures.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function expectUsageError(r: Run, pattern: RegExp): void {
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^whybox: [^\n]+\n$/);
  expect(r.stderr).toMatch(pattern);
  expect(r.code).toBe(2);
}

const csv = (header: string[], rows: number[][]) => `${header.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`;
const LIN = fixturePath('linear');
const LOG = fixturePath('logistic');
const linNames = Array.from({ length: 10 }, (_, i) => `f${i}`);
const logNames = Array.from({ length: 20 }, (_, i) => `c${i}`);
const lin = fixtureExpected('linear');
const logi = fixtureExpected('logistic');

let tmp: TempDir;
const files: Record<string, string> = {};
/** A column linear.onnx reads (largest |weight|), found by probing the model. */
let readColumn: string;

beforeAll(async () => {
  tmp = await makeTempDir();
  files.linData = await tmp.write('lin.csv', csv(linNames, lin.rows.slice(0, 5)));
  files.linBg = await tmp.write('lin-bg.csv', csv(linNames, lin.rows.slice(5)));
  files.logData = await tmp.write('log.csv', csv(logNames, logi.rows.slice(0, 4)));
  files.logBg = await tmp.write('log-bg.csv', csv(logNames, logi.rows.slice(4)));
  const groups: Record<string, string[]> = {};
  for (let g = 0; g < 5; g++) groups[`g${g}`] = logNames.slice(4 * g, 4 * g + 4);
  files.logGroups = await tmp.write('log-groups.json', JSON.stringify(groups));
  const model = await loadOnnx(LIN);
  const probe = new Float32Array(11 * 10);
  for (let j = 0; j < 10; j++) probe[(j + 1) * 10 + j] = 1;
  const out = await model.predict(probe, 11);
  await model.close();
  const w = Array.from({ length: 10 }, (_, j) => out[j + 1] - out[0]);
  readColumn = linNames[w.reduce((best, x, j) => (Math.abs(x) > Math.abs(w[best]) ? j : best), 0)];
  expect(Math.abs(w[linNames.indexOf(readColumn)])).toBeGreaterThan(0.1);
});
afterAll(() => tmp.remove());

const CONTRACT = [
  'method',
  'rows',
  'deletionAuc',
  'insertionAuc',
  'randomDeletionAuc',
  'randomInsertionAuc',
  'infidelity',
];

describe('whybox evaluate', () => {
  it('--format json: the contract fields first, means over the rows; exact beats random orders', async () => {
    const r = await run(
      'evaluate',
      '--model',
      LIN,
      '--data',
      files.linData,
      '--background',
      files.linBg,
      '--method',
      'exact',
      '--format',
      'json',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j).slice(0, CONTRACT.length)).toEqual(CONTRACT);
    expect(j.method).toBe('exact');
    expect(j.rows).toBe(5);
    for (const k of CONTRACT.slice(2)) expect(typeof j[k]).toBe('number');
    expect(j.deletionAuc).toBeLessThan(j.randomDeletionAuc);
    expect(j.insertionAuc).toBeGreaterThan(j.randomInsertionAuc);
    // a linear model is additive: exact values add up over any removed set
    expect(j.infidelity).toBeLessThan(1e-9);
    expect(j.perRow).toHaveLength(5);
    expect(j.curves.deletion).toHaveLength(11);
  });

  it('kernel with --groups, --budget and --seed is reproducible, and beats random orders', async () => {
    const args = [
      'evaluate',
      '--model',
      LOG,
      '--data',
      files.logData,
      '--background',
      files.logBg,
      '--groups',
      files.logGroups,
      '--method',
      'kernel',
      '--budget',
      '20',
      '--seed',
      '5',
      '--output',
      'probabilities[1]',
      '--format',
      'json',
    ];
    const a = await run(...args);
    const b = await run(...args);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const j = JSON.parse(a.stdout);
    expect(j.method).toBe('kernel');
    expect(j.players).toEqual(['g0', 'g1', 'g2', 'g3', 'g4']);
    expect(j.outputs).toEqual(['probabilities[1]']);
    expect(j.budget).toBe(20);
    expect(j.seed).toBe(5);
    expect(j.deletionAuc).toBeLessThan(j.randomDeletionAuc);
  });

  it('--format svg and html render the curves; table is the default', async () => {
    const base = ['evaluate', '--model', LIN, '--data', files.linData, '--method', 'exact'];
    const svg = await run(...base, '--format', 'svg');
    expect(svg.stdout).toMatch(/^<svg [\s\S]*<\/svg>\n$/);
    const html = await run(...base, '--format', 'html');
    expect(html.stdout).toMatch(/^<!doctype html>[\s\S]*deletion AUC[\s\S]*<svg [\s\S]*<\/html>\n$/);
    const table = await run(...base);
    expect(table.stdout).toMatch(/deletion AUC/);
    expect(table.stdout).toMatch(/infidelity/);
  });

  it('bad input: exit 2 and one line', async () => {
    expectUsageError(await run('evaluate', '--data', files.linData), /missing --model/);
    expectUsageError(
      await run('evaluate', '--model', LIN, '--data', files.linData, '--format', 'xml'),
      /--format must be json, table, html or svg/,
    );
    expectUsageError(
      await run('evaluate', '--model', LIN, '--data', files.linData, '--method', 'lime', '--budget', '10'),
      /--budget must be unset for method 'lime'.*--num-samples/,
    );
    expectUsageError(
      await run('evaluate', '--model', LIN, '--data', files.linData, '--num-samples', '100'),
      /--num-samples must be unset for method 'kernel'.*--method lime/,
    );
    expectUsageError(
      await run('evaluate', '--model', LIN, '--data', files.linData, '--method', 'exact', '--budget', '10'),
      /--budget must be unset for method 'exact'/,
    );
    expectUsageError(
      await run('evaluate', '--model', LIN, '--data', files.logData),
      /has 20 columns but the model takes 10/,
    );
    expectUsageError(await run('evaluate', '--frobnicate'), /unknown option '--frobnicate'.*whybox evaluate --help/);
    const help = await run('evaluate', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/deletionAuc/);
  });
});

describe('LIME (--method lime, through explain)', () => {
  it('evaluate: LIME weights of a linear model beat random orders; check reports its seed spread', async () => {
    const common = ['--model', LIN, '--data', files.linData, '--background', files.linBg, '--method', 'lime'];
    const r = await run('evaluate', ...common, '--num-samples', '400', '--format', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.method).toBe('lime');
    expect(j.rows).toBe(5);
    expect(j.deletionAuc).toBeLessThan(j.randomDeletionAuc);
    const c = await run('check', ...common, '--num-samples', '200', '--seeds', '3', '--format', 'json');
    expect([0, 3]).toContain(c.code);
    const k = JSON.parse(c.stdout);
    expect(k.method).toBe('lime');
    expect(k.stability.spread).toHaveLength(10);
    // LIME samples: its weights move with the seed (exact Shapley values do not)
    expect(Math.max(...k.stability.spread)).toBeGreaterThan(0);
  });
});

describe('whybox check', () => {
  it('passes for exact Shapley with a synthetic dummy column', async () => {
    const r = await run(
      'check',
      '--model',
      LIN,
      '--data',
      files.linData,
      '--background',
      files.linBg,
      '--method',
      'exact',
      '--seeds',
      '3',
      '--format',
      'json',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.passed).toBe(true);
    expect(j.method).toBe('exact');
    expect(j.dummy.synthetic).toBe(true);
    expect(j.dummy.maxAbs).toBeLessThan(1e-9);
    expect(j.stability.players).toEqual(linNames);
    expect(j.stability.spread).toHaveLength(10);
  });

  it('flags a --dummy-column the model reads: exit 3', async () => {
    const r = await run(
      'check',
      '--model',
      LIN,
      '--data',
      files.linData,
      '--background',
      files.linBg,
      '--method',
      'exact',
      '--seeds',
      '2',
      '--dummy-column',
      readColumn,
      '--format',
      'json',
    );
    expect(r.code).toBe(3);
    const j = JSON.parse(r.stdout);
    expect(j.passed).toBe(false);
    expect(j.dummy.passed).toBe(false);
    expect(j.dummy.column).toBe(readColumn);
    const table = await run(
      'check',
      '--model',
      LIN,
      '--data',
      files.linData,
      '--method',
      'exact',
      '--seeds',
      '2',
      '--dummy-column',
      readColumn,
    );
    expect(table.code).toBe(3);
    expect(table.stdout).toMatch(/FAIL {2}dummy column/);
  });

  it('bad input: exit 2 and one line', async () => {
    expectUsageError(await run('check', '--model', LIN), /missing --data/);
    expectUsageError(
      await run('check', '--model', LIN, '--data', files.linData, '--randomization', 'flip'),
      /--randomization must be shuffle or random-weights/,
    );
    expectUsageError(
      await run('check', '--model', LIN, '--data', files.linData, '--dummy-column', 'nope'),
      /dummyColumn must be a column name or index/,
    );
    expect((await run('check', '--help')).stdout).toMatch(/Exit codes: 0 every check passed, 3 a check failed/);
  });
});

it('the installed bin dispatches check and evaluate (dist/)', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [
    join(ROOT, 'bin/whybox.js'),
    'evaluate',
    '--model',
    LIN,
    '--data',
    files.linData,
    '--method',
    'exact',
    '--format',
    'json',
  ]);
  expect(JSON.parse(stdout).rows).toBe(5);
});
