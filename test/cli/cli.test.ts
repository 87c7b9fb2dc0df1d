import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOnnx } from '../../src/models/onnx-model.js';
import { type Run, run } from '../helpers/cli.js';
import { fixtureExpected, fixturePath } from '../helpers/fixtures.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/whybox.js');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The `--format json` contract. */
interface JsonOut {
  method: string;
  players: string[];
  outputs: string[];
  baseValues: number[];
  rows: { index: number; prediction: number[]; values: number[][]; stderr?: number[][] }[];
  evaluations: number;
  modelRows: number;
  seconds: number;
  meta?: Record<string, unknown>;
  seed: number;
  threads: number;
}

function parseJson(r: Run): JsonOut {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as JsonOut;
}

/** Checks the documented shape of the JSON output and efficiency (Σ values = prediction − base). */
function checkContract(j: JsonOut): void {
  expect(typeof j.method).toBe('string');
  expect(Array.isArray(j.players) && j.players.every((p) => typeof p === 'string')).toBe(true);
  expect(Array.isArray(j.outputs) && j.outputs.length > 0).toBe(true);
  expect(j.baseValues).toHaveLength(j.outputs.length);
  expect(Number.isInteger(j.evaluations) && j.evaluations > 0).toBe(true);
  expect(Number.isInteger(j.modelRows) && j.modelRows > 0).toBe(true);
  expect(typeof j.seconds).toBe('number');
  expect(j.seconds).toBeGreaterThanOrEqual(0);
  expect(j.rows.length).toBeGreaterThan(0);
  for (const row of j.rows) {
    expect(Number.isInteger(row.index)).toBe(true);
    expect(row.prediction).toHaveLength(j.outputs.length);
    expect(row.values).toHaveLength(j.players.length);
    for (const v of row.values) expect(v).toHaveLength(j.outputs.length);
    if (row.stderr !== undefined) {
      expect(row.stderr).toHaveLength(j.players.length);
      for (const s of row.stderr) expect(s).toHaveLength(j.outputs.length);
    }
    for (let o = 0; o < j.outputs.length; o++) {
      const sum = row.values.reduce((acc, v) => acc + v[o], 0);
      expect(Math.abs(sum - (row.prediction[o] - j.baseValues[o]))).toBeLessThan(1e-9);
    }
  }
}

/** A usage/input error: exit code 2, nothing on stdout, exactly one line on stderr, no stack. */
function expectUsageError(r: Run, ...patterns: (RegExp | string)[]): void {
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^whybox: [^\n]+\n$/);
  expect(r.stderr).not.toMatch(/\bat .*:\d+:\d+/);
  expect(r.stderr).not.toMatch(/internal error/);
  for (const p of patterns) {
    if (typeof p === 'string') expect(r.stderr).toContain(p);
    else expect(r.stderr).toMatch(p);
  }
  expect(r.code).toBe(2);
}

const csv = (header: string[], rows: number[][]) => `${header.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`;

const LIN = fixturePath('linear');
const LOG = fixturePath('logistic');
const linNames = Array.from({ length: 10 }, (_, i) => `f${i}`);
const logNames = Array.from({ length: 20 }, (_, i) => `c${i}`);
const lin = fixtureExpected('linear');
const logi = fixtureExpected('logistic');
const linRows = lin.rows.slice(0, 4);
const linBg = lin.rows.slice(4, 7);

let tmp: TempDir;
const files: Record<string, string> = {};
/** Weights and bias of linear.onnx (read by probing it with unit rows). */
let weights: number[];
let bias: number;

beforeAll(async () => {
  tmp = await makeTempDir('whybox-cli-');
  files.lin = await tmp.write('lin.csv', csv(linNames, linRows));
  files.linBg = await tmp.write('lin-bg.csv', csv(linNames, linBg));
  files.log = await tmp.write('log.csv', csv(logNames, logi.rows.slice(0, 4)));
  files.logBg = await tmp.write('log-bg.csv', csv(logNames, logi.rows.slice(4, 10)));
  files.headerOnly = await tmp.write('header-only.csv', `${logNames.join(',')}\n`);
  files.narrow = await tmp.write('narrow.csv', csv(['a', 'b', 'c'], [[1, 2, 3]]));
  const bad = (cell: string) => {
    const rows = logi.rows.slice(0, 2).map((r) => r.map(String));
    rows[1][3] = cell; // line 3, column 4
    return `${logNames.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`;
  };
  files.abc = await tmp.write('abc.csv', bad('abc'));
  files.empty = await tmp.write('empty-cell.csv', bad(''));
  files.nan = await tmp.write('nan.csv', bad('NaN'));
  files.notOnnx = await tmp.write('model.onnx', 'definitely not a protobuf\n');
  files.groupsUnknown = await tmp.write('groups-unknown.json', JSON.stringify({ first: ['c0', 'duration'] }));
  files.groupsBad = await tmp.write('groups-bad.json', '{"first": ["c0", ');
  files.groupsLin = await tmp.write('groups-lin.json', JSON.stringify({ first3: ['f0', 'f1', 'f2'] }));

  const model = await loadOnnx(LIN);
  try {
    const probe = new Float64Array(11 * 10);
    for (let i = 0; i < 10; i++) probe[(i + 1) * 10 + i] = 1;
    const out = await model.predict(probe, 11);
    bias = out[0];
    weights = Array.from({ length: 10 }, (_, i) => out[i + 1] - bias);
  } finally {
    await model.close();
  }
  // the probe reproduces the fixture exactly (multiples of 1/8: float32 arithmetic is exact)
  lin.rows.forEach((r, k) => {
    expect(r.reduce((acc, v, i) => acc + v * weights[i], bias)).toBe(lin.outputs.y[k][0]);
  });
});

afterAll(async () => {
  await tmp.remove();
});

/** Closed form of interventional SHAP for a linear model: φ_i = w_i (x_i − mean_b b_i). */
function linearShap(x: number[], background: number[][]): number[] {
  return x.map((xi, i) => weights[i] * (xi - background.reduce((acc, b) => acc + b[i], 0) / background.length));
}

describe('whybox --help / --version', () => {
  it.each([[], ['--help'], ['-h'], ['help']])('%j prints the usage and exits 0', async (...argv) => {
    const r = await run(...argv);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`whybox ${VERSION}`);
    expect(r.stdout).toMatch(/whybox explain --model FILE\.onnx --data ROWS\.csv/);
    expect(r.stdout).toMatch(/whybox demo/);
  });

  it('explain --help lists the options', async () => {
    const r = await run('explain', '--help');
    expect(r.code).toBe(0);
    for (const flag of ['--model', '--data', '--background', '--groups', '--method', '--seed', '--output', '--format'])
      expect(r.stdout).toContain(flag);
  });

  it('--version prints the package version', async () => {
    const r = await run('--version');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${VERSION}\n`);
  });
});

describe('whybox demo', () => {
  it('--format json follows the contract, with efficiency to 1e-9', async () => {
    const j = parseJson(await run('demo', '--format', 'json', '--threads', '1', '--quiet'));
    checkContract(j);
    expect(j.method).toBe('kernel');
    expect(j.players).toHaveLength(20); // the 20 attributes of groups.json
    expect(j.outputs).toEqual(['probabilities[1]']);
    expect(j.rows.map((r) => r.index)).toEqual([0, 1, 2, 3, 4]);
    expect(j.seed).toBe(42);
    for (const row of j.rows) expect(row.prediction[0] >= 0 && row.prediction[0] <= 1).toBe(true);
  });

  it('--method lime: conditions on quartile bins and one-hot groups of the training rows', async () => {
    const r = await run('demo', '--method', 'lime', '--num-features', '5', '--num-samples', '2000', '--quiet');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/whybox lime: 5 row\(s\), 20 players, 10000 samples/);
    const j = parseJson(
      await run(
        'demo',
        '--method',
        'lime',
        '--num-features',
        '5',
        '--num-samples',
        '2000',
        '--format',
        'json',
        '--quiet',
      ),
    ) as JsonOut & { rows: { conditions: string[]; selected: number[][]; score: number[] }[] };
    expect(j.method).toBe('lime');
    const conds = j.rows[0].conditions;
    expect(conds).toHaveLength(20);
    // applicant 0: a 66-month loan (training quartiles of duration_months: ..., 24) and a one-hot level
    expect(conds[j.players.indexOf('duration_months')]).toBe('duration_months > 24');
    expect(conds[j.players.indexOf('credit_history')]).toMatch(/^credit_history = \S/);
    for (const row of j.rows) {
      expect(row.selected[0]).toHaveLength(5);
      expect(row.score[0] > 0 && row.score[0] <= 1).toBe(true);
    }
  });
});

describe('whybox explain: successful runs', () => {
  it.each(['exact', 'kernel', 'permutation'])(
    '--method %s on the linear model gives φ_i = w_i (x_i − mean background)',
    async (method) => {
      const j = parseJson(
        await run(
          'explain',
          '--model',
          LIN,
          '--data',
          files.lin,
          '--background',
          files.linBg,
          '--method',
          method,
          '--threads',
          '1',
          '--seed',
          '3',
          '--format',
          'json',
        ),
      );
      checkContract(j);
      expect(j.method).toBe(method);
      expect(j.players).toEqual(linNames);
      expect(j.outputs).toEqual(['y']);
      expect(j.rows.map((r) => r.index)).toEqual([0, 1, 2, 3]);
      const meanBg = linBg.reduce((acc, b) => acc + b.reduce((s, v, i) => s + v * weights[i], bias), 0) / linBg.length;
      expect(j.baseValues[0]).toBeCloseTo(meanBg, 9);
      j.rows.forEach((row, k) => {
        // the prediction is v(N) = Σ_b w_b f(x): a weighted mean of equal values, exact up to rounding
        expect(Math.abs(row.prediction[0] - lin.outputs.y[k][0])).toBeLessThan(1e-12);
        const phi = linearShap(linRows[k], linBg);
        row.values.forEach((v, i) => {
          expect(Math.abs(v[0] - phi[i])).toBeLessThan(1e-8);
        });
      });
    },
  );

  it('without --background the data rows are the background', async () => {
    const j = parseJson(
      await run(
        'explain',
        '--model',
        LIN,
        '--data',
        files.lin,
        '--method',
        'exact',
        '--threads',
        '1',
        '--format',
        'json',
      ),
    );
    const phi = linearShap(linRows[1], linRows);
    j.rows[1].values.forEach((v, i) => {
      expect(Math.abs(v[0] - phi[i])).toBeLessThan(1e-9);
    });
  });

  it('--groups makes one player of a group, whose value is the sum of its columns’ values', async () => {
    const j = parseJson(
      await run(
        'explain',
        ...['--model', LIN, '--data', files.lin, '--background', files.linBg, '--groups', files.groupsLin],
        ...['--method', 'exact', '--threads', '1', '--format', 'json'],
      ),
    );
    expect(j.players).toEqual(['first3', ...linNames.slice(3)]);
    const phi = linearShap(linRows[2], linBg);
    expect(j.rows[2].values[0][0]).toBeCloseTo(phi[0] + phi[1] + phi[2], 9);
    expect(j.rows[2].values[1][0]).toBeCloseTo(phi[3], 9);
  });

  it('--method lime --discretizer none: weights = slope × training std, with the LIME JSON fields', async () => {
    files.linAll ??= await tmp.write('lin-all.csv', csv(linNames, lin.rows));
    const r = await run(
      'explain',
      ...['--model', LIN, '--data', files.lin, '--background', files.linAll, '--rows', '1'],
      ...['--method', 'lime', '--discretizer', 'none', '--feature-selection', 'none', '--num-samples', '3000'],
      ...['--seed', '3', '--format', 'json'],
    );
    const j = parseJson(r) as JsonOut & {
      rows: { intercept: number[]; localPrediction: number[]; score: number[]; conditions: string[] }[];
      lime: { numSamples: number };
    };
    expect(j.method).toBe('lime');
    expect(j.lime.numSamples).toBe(3000);
    const std = linNames.map((_, i) => {
      const col = lin.rows.map((row) => row[i]);
      const m = col.reduce((a, b) => a + b, 0) / col.length;
      return Math.sqrt(col.reduce((a, b) => a + (b - m) ** 2, 0) / col.length);
    });
    const row = j.rows[0];
    expect(row.index).toBe(1);
    row.values.forEach((v, i) => {
      expect(Math.abs(v[0] - weights[i] * std[i])).toBeLessThan(0.02 * Math.abs(weights[i] * std[i]) + 1e-9);
    });
    expect(row.score[0]).toBeGreaterThan(0.999);
    expect(row.localPrediction[0]).toBeCloseTo(row.prediction[0], 1);
    expect(row.conditions).toEqual(linNames);
    expect(row.intercept).toHaveLength(1);
  });

  it('--method lime table shows quartile conditions; LIME flags with another method are refused', async () => {
    const r = await run(
      'explain',
      ...['--model', LIN, '--data', files.lin, '--background', files.linBg, '--rows', '0'],
      ...['--method', 'lime', '--num-features', '2', '--num-samples', '500', '--seed', '1'],
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/local model: intercept .* weighted R²/);
    expect(r.stdout).toMatch(/f\d (<=|>) -?[\d.]+/);
    expectUsageError(
      await run('explain', '--model', LIN, '--data', files.lin, '--num-samples', '10'),
      /--num-samples/,
      /--method lime/,
    );
  });

  it('--rows 0,2 explains two rows with indices 0 and 2', async () => {
    const j = parseJson(
      await run(
        'explain',
        ...['--model', LIN, '--data', files.lin, '--background', files.linBg, '--rows', '0,2'],
        ...['--method', 'exact', '--threads', '1', '--format', 'json'],
      ),
    );
    expect(j.rows.map((r) => r.index)).toEqual([0, 2]);
    expect(Math.abs(j.rows[0].prediction[0] - lin.outputs.y[0][0])).toBeLessThan(1e-12);
    expect(Math.abs(j.rows[1].prediction[0] - lin.outputs.y[2][0])).toBeLessThan(1e-12);
    const phi2 = linearShap(linRows[2], linBg);
    j.rows[1].values.forEach((v, i) => {
      expect(Math.abs(v[0] - phi2[i])).toBeLessThan(1e-9);
    });
  });

  it('--rows accepts ranges (1-3)', async () => {
    const j = parseJson(
      await run(
        'explain',
        '--model',
        LIN,
        '--data',
        files.lin,
        '--rows',
        '1-3',
        '--method',
        'exact',
        '--threads',
        '1',
        '--format',
        'json',
      ),
    );
    expect(j.rows.map((r) => r.index)).toEqual([1, 2, 3]);
  });

  it('--format html writes an HTML document', async () => {
    const r = await run(
      'explain',
      '--model',
      LIN,
      '--data',
      files.lin,
      '--method',
      'exact',
      '--threads',
      '1',
      '--format',
      'html',
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.startsWith('<!doctype html>')).toBe(true);
    expect(r.stdout).toMatch(/<\/html>\s*$/);
    expect(r.stdout).toContain('f0');
  });

  it('the default table format names the players', async () => {
    const r = await run(
      'explain',
      '--model',
      LIN,
      '--data',
      files.lin,
      '--method',
      'exact',
      '--threads',
      '1',
      '--rows',
      '0',
    );
    expect(r.code).toBe(0);
    for (const name of linNames) expect(r.stdout).toContain(name);
    expect(r.stdout).toMatch(/exact/);
  });

  it('--out FILE writes the output there and prints nothing on stdout', async () => {
    const out = join(tmp.path, 'out.json');
    const r = await run(
      'explain',
      ...['--model', LIN, '--data', files.lin, '--background', files.linBg],
      ...['--method', 'exact', '--threads', '1', '--format', 'json', '--out', out],
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
    expect(existsSync(out)).toBe(true);
    const j = JSON.parse(await readFile(out, 'utf8')) as JsonOut;
    checkContract(j);
    expect(j.rows).toHaveLength(4);
  });

  it.each([
    ['probabilities[1]', 1],
    ['1', 1],
    ['0', 0],
  ])('--output %s explains one probability column', async (output, column) => {
    const j = parseJson(
      await run(
        'explain',
        ...['--model', LOG, '--data', files.log, '--background', files.logBg, '--output', output],
        ...['--threads', '1', '--seed', '1', '--format', 'json'],
      ),
    );
    checkContract(j);
    expect(j.outputs).toEqual([`probabilities[${column}]`]);
    j.rows.forEach((row, k) => {
      expect(row.prediction).toHaveLength(1);
      expect(Math.abs(row.prediction[0] - logi.outputs.probabilities[k][column])).toBeLessThan(1e-6);
    });
  });

  it('--output probabilities (a tensor name) explains both columns', async () => {
    const j = parseJson(
      await run(
        'explain',
        ...['--model', LOG, '--data', files.log, '--background', files.logBg, '--output', 'probabilities'],
        ...['--threads', '1', '--seed', '1', '--format', 'json'],
      ),
    );
    checkContract(j);
    expect(j.outputs).toEqual(['probabilities[0]', 'probabilities[1]']);
    j.rows.forEach((row, k) => {
      expect(Math.abs(row.prediction[0] - logi.outputs.probabilities[k][0])).toBeLessThan(1e-6);
      expect(Math.abs(row.prediction[1] - logi.outputs.probabilities[k][1])).toBeLessThan(1e-6);
    });
  });

  it('--link logit explains log-odds', async () => {
    const j = parseJson(
      await run(
        'explain',
        ...['--model', LOG, '--data', files.log, '--background', files.logBg, '--output', '1', '--link', 'logit'],
        ...['--threads', '1', '--seed', '1', '--format', 'json'],
      ),
    );
    j.rows.forEach((row, k) => {
      const p = logi.outputs.probabilities[k][1];
      expect(Math.abs(row.prediction[0] - Math.log(p / (1 - p)))).toBeLessThan(1e-4);
    });
  });

  it('--seed 5 twice gives identical values (kernel, sampled: 20 players)', async () => {
    const args = ['explain', '--model', LOG, '--data', files.log, '--background', files.logBg];
    const opts = ['--method', 'kernel', '--budget', '200', '--threads', '1', '--seed', '5', '--format', 'json'];
    const a = parseJson(await run(...args, ...opts));
    const b = parseJson(await run(...args, ...opts));
    expect(a.seed).toBe(5);
    expect(b.rows).toEqual(a.rows);
    expect(b.baseValues).toEqual(a.baseValues);
    // and a different seed samples other coalitions
    const c = parseJson(await run(...args, ...opts.slice(0, -3), '6', '--format', 'json'));
    expect(c.seed).toBe(6);
    expect(c.rows.map((r) => r.values)).not.toEqual(a.rows.map((r) => r.values));
  });

  it('--threads 2 gives bit-identical JSON to --threads 1 for the same seed', async () => {
    expect(existsSync(join(ROOT, 'dist/parallel/worker.js')), 'run `npm run build` first').toBe(true);
    const args = ['explain', '--model', LOG, '--data', files.log, '--background', files.logBg];
    const opts = ['--method', 'permutation', '--budget', '120', '--seed', '9', '--format', 'json', '--quiet'];
    const one = parseJson(await run(...args, ...opts, '--threads', '1'));
    // --min-parallel-ms 0: workers even for this small job (the cost model would keep it on one thread)
    const two = parseJson(await run(...args, ...opts, '--threads', '2', '--min-parallel-ms', '0'));
    const auto = parseJson(await run(...args, ...opts, '--threads', '2'));
    expect(one.threads).toBe(1);
    expect(two.threads).toBe(2);
    expect(auto.threads).toBe(1);
    expect(auto.rows.map((r) => r.values)).toEqual(one.rows.map((r) => r.values));
    const strip = ({ seconds: _s, threads: _t, meta, ...rest }: JsonOut) => ({
      ...rest,
      meta: { ...meta, threads: 0 },
    });
    expect(strip(two)).toEqual(strip(one));
  });
});

describe('whybox: usage and input errors exit 2 with one line on stderr', () => {
  const explainLog = (...extra: string[]) =>
    run('explain', '--model', LOG, '--data', files.log, '--threads', '1', ...extra);

  it('unknown command', async () => {
    expectUsageError(await run('frobnicate'), 'unknown command "frobnicate"', /whybox --help/);
  });

  it('unknown flag', async () => {
    expectUsageError(await explainLog('--frobnicate'), /unknown option '--frobnicate'/);
  });

  it('missing --model', async () => {
    expectUsageError(await run('explain', '--data', files.log), /missing --model/);
  });

  it('missing --data', async () => {
    expectUsageError(await run('explain', '--model', LOG), /missing --data/);
  });

  it('a missing model file', async () => {
    const path = join(tmp.path, 'nope.onnx');
    expectUsageError(await run('explain', '--model', path, '--data', files.log), path, /not found/);
  });

  it('a model file that is not ONNX', async () => {
    expectUsageError(
      await run('explain', '--model', files.notOnnx, '--data', files.log),
      files.notOnnx,
      /not a loadable ONNX model/,
    );
  });

  it('a CSV whose column count differs from the model inputs (names the file)', async () => {
    expectUsageError(
      await run('explain', '--model', LOG, '--data', files.narrow),
      files.narrow,
      /3 columns/,
      /20 inputs/,
    );
  });

  it('a background CSV with the wrong column count', async () => {
    expectUsageError(await explainLog('--background', files.lin), files.lin, /10 columns/, /--background/);
  });

  it('a non-numeric cell (names the line and column)', async () => {
    expectUsageError(
      await run('explain', '--model', LOG, '--data', files.abc),
      files.abc,
      'line 3, column 4 ("c3")',
      /"abc"/,
    );
  });

  it('an empty cell', async () => {
    expectUsageError(await run('explain', '--model', LOG, '--data', files.empty), 'line 3, column 4', /empty cell/);
  });

  it('a NaN cell', async () => {
    expectUsageError(
      await run('explain', '--model', LOG, '--data', files.nan),
      'line 3, column 4',
      /"NaN" is not finite/,
    );
  });

  it('--groups naming an unknown column', async () => {
    expectUsageError(await explainLog('--groups', files.groupsUnknown), /group "first"/, /"duration"/, /not a column/);
  });

  it('--groups with invalid JSON', async () => {
    expectUsageError(await explainLog('--groups', files.groupsBad), files.groupsBad, /not valid JSON/);
  });

  it('--groups file missing', async () => {
    const path = join(tmp.path, 'no-groups.json');
    expectUsageError(await explainLog('--groups', path), path, /not found/);
  });

  it('a background CSV with a header only (empty background)', async () => {
    expectUsageError(await explainLog('--background', files.headerOnly), files.headerOnly, /no data rows/);
  });

  it('--method lime with --budget points to --num-samples', async () => {
    const r = await run('explain', '--model', LOG, '--data', files.log, '--method', 'lime', '--budget', '100');
    expectUsageError(r, /budget/, /lime/, /num-samples/);
  });

  it('--method foo', async () => {
    expectUsageError(await explainLog('--method', 'foo'), /"foo"/, /kernel, exact, permutation, partition, lime/);
  });

  it('--budget 1', async () => {
    expectUsageError(await explainLog('--budget', '1'), /--budget/, /"1"/);
  });

  it('--budget with method exact', async () => {
    expectUsageError(await explainLog('--method', 'exact', '--budget', '10'), /budget/, /exact/);
  });

  it('--format xml', async () => {
    expectUsageError(await explainLog('--format', 'xml'), /--format/, /json, table or html/, /"xml"/);
  });

  it('--link probit', async () => {
    expectUsageError(await explainLog('--link', 'probit'), /--link/, /identity/, /logit/, /"probit"/);
  });

  it('--output 7 out of range', async () => {
    expectUsageError(await explainLog('--output', '7'), /--output/, /0\.\.1/, /"7"/);
  });

  it('--output naming no output', async () => {
    expectUsageError(await explainLog('--output', 'scores'), /--output/, /"scores"/, /probabilities\[1\]/);
  });

  it('--rows out of range', async () => {
    expectUsageError(await explainLog('--rows', '0,9'), /--rows/, /4 rows/);
  });

  it('--threads 0', async () => {
    expectUsageError(await explainLog('--threads', '0'), /--threads/);
  });

  it('--seed abc', async () => {
    expectUsageError(await explainLog('--seed', 'abc'), /--seed/, /"abc"/);
  });

  it('demo refuses --model', async () => {
    expectUsageError(await run('demo', '--model', LOG), /--model is fixed by the demo/);
  });
});

describe('bin/whybox.js end to end', () => {
  const exec = promisify(execFile);
  const node = (...args: string[]) =>
    exec(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8' }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  beforeAll(() => {
    expect(existsSync(join(ROOT, 'dist/cli/main.js')), 'run `npm run build` first').toBe(true);
  });

  it('--help exits 0', async () => {
    const r = await node('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`whybox ${VERSION}`);
  });

  it('demo exits 0 and prints the applicants’ predictions', async () => {
    const r = await node('demo', '--threads', '1', '--quiet');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('P(bad)');
    expect(r.stdout).toMatch(/applicant 4/);
  });

  it('a bad input exits 2 with one line on stderr', async () => {
    const r = await node('explain', '--model', join(tmp.path, 'missing.onnx'), '--data', files.log);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^whybox: [^\n]*not found[^\n]*\n$/);
  });
});
