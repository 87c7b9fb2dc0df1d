/**
 * `whybox serve` as a child process: the same request gives the same JSON from the CLI
 * (`explain --format json`), the library and the service; a config file with a schema (raw
 * records), inline groups, limits and auth; fail-fast start-up errors; SIGTERM lets the
 * request in flight finish and exits 0. Runs bin/whybox.js (dist/): `npm run build` first.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadCsv } from '../../src/data/csv.js';
import type { Dataset } from '../../src/data/dataset.js';
import { sliceRows } from '../../src/data/dataset.js';
import { parseGroupsJson } from '../../src/data/players.js';
import { createExplainer } from '../../src/explainer.js';
import type { ExplanationJSON } from '../../src/explanation/explanation.js';
import { explanationToJSON } from '../../src/explanation/explanation.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/whybox.js');
const DEMO = join(ROOT, 'datasets/credit-demo/');

interface Server {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  stdout: () => string;
  exit: Promise<number | null>;
}

/** Starts `whybox serve ARGS` and waits for its "serving ... on URL" line. */
function serve(args: string[], env: Record<string, string> = {}): Promise<Server> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 20_000);
    child.stderr?.on('data', (d) => {
      err += d;
      const m = /serving .* on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], stderr: () => err, stdout: () => out, exit });
      }
    });
    exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${err}`));
    });
  });
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function runCli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
  });
  return { code, stdout, stderr };
}

const noSeconds = (j: ExplanationJSON) => ({ ...j, seconds: 0 });

let tmp: TempDir;
let bgPath: string;
let applicants: Dataset;
let background: Dataset;

beforeAll(async () => {
  tmp = await makeTempDir('whybox-serve-');
  const train = await loadCsv(`${DEMO}train.csv`);
  background = sliceRows(train, 0, 25);
  const lines = (await readFile(`${DEMO}train.csv`, 'utf8')).split('\n');
  bgPath = await tmp.write('bg.csv', `${lines.slice(0, 26).join('\n')}\n`);
  applicants = await loadCsv(`${DEMO}applicants.csv`);
});

afterAll(async () => {
  await tmp?.remove();
});

describe('whybox serve', () => {
  it('the CLI, the library and the service give the same JSON for the same request', async () => {
    const server = await serve([
      '--model',
      `credit=${DEMO}model.onnx`,
      '--background',
      bgPath,
      '--groups',
      `${DEMO}groups.json`,
      '--port',
      '0',
      '--threads',
      '1',
      '--log-level',
      'silent',
    ]);
    try {
      const rows = Array.from({ length: applicants.nRows }, (_, r) =>
        Array.from(applicants.data.subarray(r * 61, (r + 1) * 61)),
      );
      for (const request of [
        { seed: 5, budget: 512 },
        { seed: 9, budget: 300, method: 'permutation' as const, output: 'probabilities[1]' },
      ]) {
        const res = await post(`${server.url}/v1/models/credit/explain`, { rows, ...request });
        expect(res.status).toBe(200);
        const flags = ['--seed', String(request.seed), '--budget', String(request.budget)];
        if (request.method) flags.push('--method', request.method);
        if (request.output) flags.push('--output', request.output);
        const cli = await runCli(
          'explain',
          '--model',
          `${DEMO}model.onnx`,
          '--data',
          `${DEMO}applicants.csv`,
          '--background',
          bgPath,
          '--groups',
          `${DEMO}groups.json`,
          '--format',
          'json',
          '--threads',
          '1',
          '--quiet',
          ...flags,
        );
        expect(cli.code).toBe(0);
        const ex = await createExplainer({
          modelPath: `${DEMO}model.onnx`,
          background,
          groups: parseGroupsJson(await readFile(`${DEMO}groups.json`, 'utf8')),
          threads: 1,
        });
        const lib = explanationToJSON(await ex.explain(rows, request));
        await ex.close();
        const fromCli = JSON.parse(cli.stdout) as ExplanationJSON;
        const fromService = res.json as unknown as ExplanationJSON;
        expect(noSeconds(fromService)).toEqual(noSeconds(fromCli));
        expect(noSeconds(fromService)).toEqual(noSeconds(lib));
        expect(fromService.rows).toHaveLength(5);
        expect(fromService.threads).toBe(1);
      }
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exit).toBe(0);
    }
  });

  it('credit decisions: the CLI (--schema --reasons --top) and the service (records, top) give the same JSON', async () => {
    const configPath = await tmp.write(
      'credit.config.json',
      JSON.stringify({
        models: {
          credit: {
            onnx: `${DEMO}model.onnx`,
            schema: `${DEMO}schema.json`,
            reasons: `${DEMO}reasons.json`,
            background: bgPath,
            output: 'probabilities[1]',
            threshold: 0.3,
          },
        },
        threads: 1,
        logLevel: 'silent',
      }),
    );
    const server = await serve(['--config', configPath, '--port', '0']);
    try {
      const { loadRawCsv } = await import('../../src/data/encoder.js');
      const table = await loadRawCsv(`${DEMO}applicants-raw.csv`);
      const res = await post(`${server.url}/v1/models/credit/explain`, {
        records: table.records,
        seed: 4,
        budget: 300,
        top: 3,
      });
      expect(res.status).toBe(200);
      const cli = await runCli(
        'explain',
        '--schema',
        `${DEMO}schema.json`,
        '--reasons',
        `${DEMO}reasons.json`,
        '--data',
        `${DEMO}applicants-raw.csv`,
        '--model',
        `${DEMO}model.onnx`,
        '--background',
        bgPath,
        '--threshold',
        '0.3',
        '--top',
        '3',
        '--seed',
        '4',
        '--budget',
        '300',
        '--threads',
        '1',
        '--format',
        'json',
        '--quiet',
      );
      expect(cli.stderr).toBe('');
      const fromCli = JSON.parse(cli.stdout) as ExplanationJSON;
      const fromService = res.json as unknown as ExplanationJSON;
      expect(noSeconds(fromService)).toEqual(noSeconds(fromCli));
      const rows = fromService.rows as unknown as { reasons: unknown[] }[];
      expect(rows.some((r) => r.reasons.length > 0)).toBe(true);
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exit).toBe(0);
    }
  });

  it('a config file: schema (raw records and background), reason codes, limits, bearer auth', async () => {
    // linear.onnx: 10 inputs; a schema of 10 standardised numeric attributes, a raw background
    const lin = join(ROOT, 'test/fixtures/linear.onnx');
    const attrs = Array.from({ length: 10 }, (_, i) => ({ name: `f${i}`, type: 'numeric', mean: i, std: 2 }));
    await tmp.write('lin-schema.json', JSON.stringify({ attributes: attrs }));
    const raw = (k: number) => Object.fromEntries(attrs.map((a, i) => [a.name, i + k]));
    await tmp.write(
      'lin-bg.csv',
      // raw records (an id column besides the attributes: not the model's columns, so encoded with the schema)
      `id,${attrs.map((a) => a.name).join(',')}\n${[0, 1, 2].map((k) => [`r${k}`, ...attrs.map((_, i) => i * k)].join(',')).join('\n')}\n`,
    );
    const configPath = await tmp.write(
      'lin.config.json',
      JSON.stringify({
        models: {
          lin: {
            onnx: lin,
            schema: 'lin-schema.json',
            background: 'lin-bg.csv',
            defaults: { method: 'exact' },
            reasons: { default: '{label} is {value}', reasons: { f7: { code: 'R07', text: 'f7 is high ({value})' } } },
            threshold: -1000,
          },
        },
        limits: { rowsPerRequest: 3, maxExactPlayers: 10 },
        auth: { tokenEnv: 'WHYBOX_TEST_TOKEN' },
        threads: 1,
        logLevel: 'silent',
      }),
    );
    const server = await serve(['--config', configPath, '--port', '0'], { WHYBOX_TEST_TOKEN: 'tok-123' });
    try {
      const auth = { authorization: 'Bearer tok-123' };
      expect((await post(`${server.url}/v1/models/lin/explain`, { records: [raw(1)] })).status).toBe(401);
      const byRecord = await post(`${server.url}/v1/models/lin/explain`, { records: [raw(1)], seed: 1 }, auth);
      expect(byRecord.status).toBe(200);
      const encoded = attrs.map((a, i) => (i + 1 - a.mean) / a.std);
      const byRow = await post(`${server.url}/v1/models/lin/explain`, { rows: [encoded], seed: 1 }, auth);
      expect(byRow.status).toBe(200);
      const j = byRecord.json as unknown as ExplanationJSON;
      expect(j.players).toEqual(attrs.map((a) => a.name));
      expect(j.method).toBe('exact');
      expect(noSeconds(j)).toEqual(noSeconds(byRow.json as unknown as ExplanationJSON));
      const bad = await post(`${server.url}/v1/models/lin/explain`, { records: [{ ...raw(1), f3: 'abc' }] }, auth);
      expect(bad.status).toBe(400);
      const error = (bad.json as { error: { field: string; message: string } }).error;
      expect(error.field).toBe('records[0].f3');
      expect(error.message).toMatch(/"abc" is not a number/);
      const missing = await post(`${server.url}/v1/models/lin/explain`, { records: [{ f0: 1 }] }, auth);
      expect(missing.status).toBe(400);
      expect((missing.json as { error: { message: string } }).error.message).toMatch(/missing/);
      // reason codes: the linear model's exact values are w_i (z_i - mean of the background's z_i);
      // the weights are read off the model through /predict with unit rows
      const unit = (i: number) => attrs.map((_, k) => (k === i ? 1 : 0));
      const weights: number[] = [];
      for (let i = 0; i < attrs.length; i += 2) {
        const p = await post(
          `${server.url}/v1/models/lin/predict`,
          { rows: [attrs.map(() => 0), unit(i), unit(i + 1)] }, // 3 rows: the limit
          auth,
        );
        const ys = (p.json as { predictions: number[][] }).predictions.map((r) => r[0]);
        for (let k = 1; k < ys.length; k++) weights.push(ys[k] - ys[0]);
      }
      const bgMean = attrs.map((a, i) => ([0, 1, 2].reduce((s, k) => s + i * k, 0) / 3 - a.mean) / a.std);
      const phi = encoded.map((z, i) => weights[i] * (z - bgMean[i]));
      const withReasons = await post(
        `${server.url}/v1/models/lin/explain`,
        { records: [raw(1)], seed: 1, top: 3 },
        auth,
      );
      expect(withReasons.status).toBe(200);
      const wr = withReasons.json as unknown as {
        rows: {
          values: number[][];
          decision: string;
          reasons: { attribute: string; contribution: number; statement: string; code?: string }[];
        }[];
        reasonOptions: { top: number };
        importance: { players: string[] };
      };
      wr.rows[0].values.forEach((v, i) => {
        expect(v[0]).toBeCloseTo(phi[i], 5);
      });
      const expected = phi
        .map((v, i) => ({ v, name: attrs[i].name }))
        .filter((e) => e.v > 0)
        .sort((a, b) => b.v - a.v)
        .slice(0, 3);
      expect(wr.rows[0].decision).toBe('adverse');
      expect(wr.rows[0].reasons.map((r) => r.attribute)).toEqual(expected.map((e) => e.name));
      wr.rows[0].reasons.forEach((r, k) => {
        expect(r.contribution).toBeCloseTo(expected[k].v, 5);
        if (r.attribute === 'f7') expect(r.statement).toBe('f7 is high (8)');
        else expect(r.statement).toBe(`${r.attribute} is ${attrs.findIndex((a) => a.name === r.attribute) + 1}`);
      });
      expect(wr.reasonOptions.top).toBe(3);
      expect(wr.importance.players).toHaveLength(10);
      expect(JSON.stringify(wr)).not.toMatch(/\/tmp\/|\/work\//); // audit names the model file, not its path
      const list = await fetch(`${server.url}/v1/models`, { headers: auth });
      const info = ((await list.json()) as { models: { attributes: { name: string }[] }[] }).models[0];
      expect(info.attributes.map((a) => a.name)).toEqual(attrs.map((a) => a.name));
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exit).toBe(0);
    }
  });

  it('SIGTERM: the request in flight finishes, then the process exits 0', async () => {
    const server = await serve([
      '--model',
      `credit=${DEMO}model.onnx`,
      '--background',
      `${DEMO}train.csv`,
      '--port',
      '0',
      '--threads',
      '1',
    ]);
    const rows = [Array.from(applicants.data.subarray(0, 61))];
    // 1000 background rows x budget 600 (about 0.6M model rows): still running at the SIGTERM
    const pending = post(`${server.url}/v1/models/credit/explain`, { rows, budget: 600, seed: 1 });
    await new Promise((r) => setTimeout(r, 400));
    server.child.kill('SIGTERM');
    const res = await pending;
    expect(res.status).toBe(200);
    expect((res.json as unknown as ExplanationJSON).rows).toHaveLength(1);
    expect((res.json as unknown as ExplanationJSON).seconds).toBeGreaterThan(0.4); // running at the SIGTERM
    expect(await server.exit).toBe(0);
    expect(server.stderr()).toMatch(/SIGTERM: finishing the requests in flight/);
    expect(server.stderr()).toMatch(/whybox: stopped/);
    // structured logs: pino JSON lines
    const logs = server
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; level: number });
    expect(logs.some((l) => l.msg === 'request completed')).toBe(true);
  });

  it('fails fast with one clear line (exit 2) on bad flags, configs and models', async () => {
    const cfg = (o: unknown) => tmp.write(`c${Math.random().toString(36).slice(2)}.json`, JSON.stringify(o));
    const cases: [string[], RegExp][] = [
      [[], /missing --config FILE or --model NAME=FILE\.onnx/],
      [['--model', 'credit'], /--model must be NAME=FILE\.onnx/],
      [['--model', 'a/b=x.onnx'], /must match pattern/],
      [['--model', 'x=/nonexistent/m.onnx'], /model "x": .*nonexistent\/m\.onnx/],
      [['--model', `x=${DEMO}model.onnx`, '--background', '/nonexistent/bg.csv'], /bg\.csv/],
      [['--model', `x=${DEMO}model.onnx`, '--port', 'http'], /--port must be an integer/],
      [['--config', '/nonexistent/whybox.config.json'], /whybox\.config\.json/],
      [['--config', await tmp.write('bad.json', '{"models": ')], /not valid JSON/],
      [['--config', await cfg({ models: {} })], /\/models: .*(1|minProperties)/i],
      [['--config', await cfg({ models: { a: { onnx: 'm.onnx', budgett: 5 } } })], /\/models\/a/],
      [
        ['--config', await cfg({ models: { a: { onnx: `${DEMO}model.onnx` } }, limits: { queue: -1 } })],
        /\/limits\/queue/,
      ],
      [
        [
          '--config',
          await cfg({ models: { a: { onnx: `${DEMO}model.onnx` } }, auth: { tokenEnv: 'WHYBOX_UNSET_VAR' } }),
        ],
        /WHYBOX_UNSET_VAR, which is not set/,
      ],
      [
        ['--config', await cfg({ models: { a: { onnx: `${DEMO}model.onnx`, groups: { g: ['nope'] } } } })],
        /model "a": .*"nope"/,
      ],
      [['--config', 'x.json', '--model', 'a=b.onnx'], /--model is a shorthand/],
      [['--config', await cfg({ models: { a: { background: 'bg.csv' } } })], /give exactly one of "onnx".*or "module"/],
      [
        ['--config', await cfg({ models: { a: { onnx: `${DEMO}model.onnx`, module: 'm.mjs', inputs: 2 } } })],
        /give exactly one of "onnx"/,
      ],
      [['--config', await cfg({ models: { a: { module: 'm.mjs' } } })], /"module" needs "inputs"/],
      [
        ['--config', await cfg({ models: { a: { onnx: `${DEMO}model.onnx`, inputs: 3 } } })],
        /"inputs" is for "module"/,
      ],
      [
        ['--config', await cfg({ models: { a: { module: '/nonexistent/m.mjs', inputs: 3 } } })],
        /model "a": cannot import model module/,
      ],
      [
        ['--config', await cfg({ models: { a: { onnx: `${DEMO}model.onnx`, reasons: { reasons: {} } } } })],
        /model "a": reasons needs a schema/,
      ],
      [
        [
          '--config',
          await cfg({
            models: {
              a: { onnx: `${DEMO}model.onnx`, schema: `${DEMO}schema.json`, groups: `${DEMO}groups.json` },
            },
          }),
        ],
        /model "a": groups cannot be combined with a schema/,
      ],
      [
        [
          '--config',
          await cfg({
            models: {
              a: {
                onnx: `${DEMO}model.onnx`,
                schema: `${DEMO}schema.json`,
                background: `${DEMO}applicants-raw.csv`,
                reasons: `${DEMO}reasons.json`,
              },
            },
          }),
        ],
        /model "a": reason codes need one explained output .*set "output", e.g. "probabilities\[1\]"/,
      ],
    ];
    const help = await runCli('serve', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: whybox serve --config whybox\.config\.json/);
    expect(help.stdout).toMatch(/POST \/v1\/models\/NAME\/explain/);
    for (const [args, message] of cases) {
      const r = await runCli('serve', ...args);
      expect(r.stderr).toMatch(/^whybox: [^\n]+\n$/);
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(2);
    }
  });
});
