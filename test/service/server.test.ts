/**
 * The HTTP service on a real socket (127.0.0.1, ephemeral port, real HTTP with fetch): every
 * route, a table of bad inputs, 50 concurrent explanations equal to the library's, deadlines
 * and disconnects that stop the model, a bounded queue, crashed workers, auth, shutdown.
 * Workers load dist/: run `npm run build` first.
 */
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCsv } from '../../src/data/csv.js';
import type { Dataset } from '../../src/data/dataset.js';
import { sliceRows } from '../../src/data/dataset.js';
import { parseGroupsJson } from '../../src/data/players.js';
import type { Explainer } from '../../src/explainer.js';
import { createExplainer } from '../../src/explainer.js';
import type { ExplanationJSON } from '../../src/explanation/explanation.js';
import { explanationToJSON } from '../../src/explanation/explanation.js';
import { fromFunction, fromModule } from '../../src/models/function-model.js';
import { loadOnnx } from '../../src/models/onnx-model.js';
import type { WhyboxService } from '../../src/service/server.js';
import { createService } from '../../src/service/server.js';
import type { TempDir } from '../helpers/tmp.js';
import { makeTempDir } from '../helpers/tmp.js';

const DEMO = fileURLToPath(new URL('../../datasets/credit-demo/', import.meta.url));
const MODULE = `
// exits (worker thread) or throws on masked rows only: x0 from x (> 100), x1 from a background row (0)
export function quitter(row) {
  if (row[0] > 100 && row[1] === 0) process.exit(7);
  return row[0] + row[1] + row[2];
}
export function thrower(row) {
  if (row[0] > 100 && row[1] === 0) throw new Error('thrower refuses this row');
  return row[0] + row[1] + row[2];
}
`;

let tmp: TempDir;
let train: Dataset;
let applicants: Dataset;
let credit: Explainer;
let crash: Explainer;
let slow: Explainer;
let service: WhyboxService;
let base: string;
/** Calls of the slow model (it runs on the main thread, so the test sees every call). */
let slowCalls = 0;

const LIMITS = { rowsPerRequest: 5, maxBudget: 4096, maxExactPlayers: 10, bodyBytes: 64 * 1024, concurrency: 2 };

/**
 * f = x0·x1 + x2 − x3 (+ the sum of the other columns), 2 ms per call of 8 rows, on the main
 * thread. With 4 inputs every game is small (16 coalitions); with 16, a budget of 4096 takes
 * thousands of calls (seconds).
 */
async function slowExplainer(d = 4): Promise<Explainer> {
  const bg = [
    [0, 0, 0, 0],
    [1, 1, 1, 1],
    [2, 0, 1, 0],
    [0, 3, 0, 1],
  ].map((r) => [...r, ...Array.from({ length: d - 4 }, (_, c) => (c * 7 + r[0]) % 3)]);
  return createExplainer({
    model: fromFunction(
      async (rows: Float64Array, n: number) => {
        slowCalls++;
        await new Promise((r) => setTimeout(r, 2));
        return Array.from({ length: n }, (_, i) => {
          const x = rows.subarray(i * d, (i + 1) * d);
          let y = x[0] * x[1] + x[2] - x[3];
          for (let c = 4; c < d; c++) y += x[c];
          return y;
        });
      },
      { nInputs: d, batched: true },
    ),
    background: { data: Float64Array.from(bg.flat()), nRows: 4 },
    batchRows: 8,
    threads: 1,
  });
}
const X16 = Array.from({ length: 16 }, (_, c) => c + 1);

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json: json as Record<string, unknown> };
}

const row = (i: number) => Array.from(applicants.data.subarray(i * 61, (i + 1) * 61));
const noSeconds = (j: ExplanationJSON) => ({ ...j, seconds: 0 });

beforeAll(async () => {
  tmp = await makeTempDir('whybox-service-');
  const modulePath = await tmp.write('models.mjs', MODULE);
  train = sliceRows(await loadCsv(`${DEMO}train.csv`), 0, 30);
  applicants = await loadCsv(`${DEMO}applicants.csv`);
  const { readFile } = await import('node:fs/promises');
  const groups = parseGroupsJson(await readFile(`${DEMO}groups.json`, 'utf8'));
  credit = await createExplainer({
    modelPath: `${DEMO}model.onnx`,
    background: train,
    groups,
    output: 'probabilities[1]',
    threads: 2,
  });
  crash = await createExplainer({
    model: await fromModule(modulePath, 'quitter', { nInputs: 3 }),
    background: { data: Float64Array.from([0, 0, 0, 1, 0, 1]), nRows: 2 },
    threads: 2,
  });
  const thrower = await createExplainer({
    model: await fromModule(modulePath, 'thrower', { nInputs: 3 }),
    background: { data: Float64Array.from([0, 0, 0, 1, 0, 1]), nRows: 2 },
    threads: 1,
  });
  slow = await slowExplainer();
  const slow16 = await slowExplainer(16);
  service = await createService({ models: { credit, crash, thrower, slow, slow16 }, limits: LIMITS, logger: false });
  base = await service.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await service?.close();
  await tmp?.remove();
});

describe('routes', () => {
  it('GET /healthz, /readyz, /v1/models', async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: 'ready' });
    const list = (await (await fetch(`${base}/v1/models`)).json()) as { models: Record<string, unknown>[] };
    expect(list.models.map((m) => m.name)).toEqual(['credit', 'crash', 'thrower', 'slow', 'slow16']);
    const c = list.models[0];
    expect(c.inputs).toBe(61);
    expect(c.columns).toEqual(train.columns);
    expect(c.players).toEqual([...credit.players.names]);
    expect((c.players as string[]).length).toBe(20);
    expect(c.outputs).toEqual(['probabilities[1]']);
    expect(c.allOutputs).toEqual(['probabilities[0]', 'probabilities[1]']);
    expect(c.background).toEqual({ rows: 30, summary: '30 rows' });
  });

  it('POST explain answers with the library explanation (explanationToJSON), efficiency holds', async () => {
    const body = { rows: [row(0), row(1)], seed: 11, budget: 512 };
    const res = await post(`${base}/v1/models/credit/explain`, body);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const lib = explanationToJSON(await credit.explain(body.rows, { seed: 11, budget: 512 }));
    expect(noSeconds(res.json as unknown as ExplanationJSON)).toEqual(noSeconds(lib));
    const j = res.json as unknown as ExplanationJSON;
    expect(j.players.length).toBe(20);
    expect(j.threads).toBe(2);
    for (const r of j.rows) {
      const sum = r.values.reduce((s, v) => s + v[0], 0);
      expect(Math.abs(sum - (r.prediction[0] - j.baseValues[0]))).toBeLessThan(1e-9);
    }
  });

  it('POST explain: exact and permutation, an output by name', async () => {
    const slowExact = await post(`${base}/v1/models/slow/explain`, { rows: [[1, 2, 3, 4]], method: 'exact' });
    expect(slowExact.status).toBe(200);
    // f = x0·x1 + x2 − x3 over the 4 background rows: exact values in closed form
    const bg = [
      [0, 0, 0, 0],
      [1, 1, 1, 1],
      [2, 0, 1, 0],
      [0, 3, 0, 1],
    ];
    const x = [1, 2, 3, 4];
    const mean = (f: (b: number[]) => number) => bg.reduce((s, b) => s + f(b), 0) / bg.length;
    const phi0 = mean((b) => (x[0] * x[1] - b[0] * x[1] + x[0] * b[1] - b[0] * b[1]) / 2);
    const phi2 = mean((b) => x[2] - b[2]);
    const j = slowExact.json as unknown as ExplanationJSON;
    expect(j.method).toBe('exact');
    expect(j.rows[0].values[0][0]).toBeCloseTo(phi0, 12);
    expect(j.rows[0].values[2][0]).toBeCloseTo(phi2, 12);
    const perm = await post(`${base}/v1/models/credit/explain`, {
      rows: [row(2)],
      method: 'permutation',
      budget: 400,
      seed: 3,
      output: 'probabilities[0]',
    });
    expect(perm.status).toBe(200);
    const pj = perm.json as unknown as ExplanationJSON;
    expect(pj.outputs).toEqual(['probabilities[0]']);
    const lib = explanationToJSON(
      await credit.explain([row(2)], { method: 'permutation', budget: 400, seed: 3, output: 'probabilities[0]' }),
    );
    expect(noSeconds(pj)).toEqual(noSeconds(lib));
  });

  it('POST predict equals the ONNX model run directly', async () => {
    const res = await post(`${base}/v1/models/credit/predict`, { rows: [row(0), row(3)] });
    expect(res.status).toBe(200);
    const onnx = await loadOnnx(`${DEMO}model.onnx`);
    try {
      const direct = await onnx.predict(Float32Array.from([...row(0), ...row(3)]), 2);
      expect(res.json).toEqual({
        model: 'credit',
        outputs: ['probabilities[1]'],
        predictions: [[direct[1]], [direct[3]]],
      });
    } finally {
      await onnx.close();
    }
  });

  it('GET /openapi.json documents every route with its schemas', async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ['/v1/models/{name}/explain', '/v1/models/{name}/predict', '/v1/models', '/healthz', '/readyz'])
      expect(Object.keys(doc.paths)).toContain(p);
    const schema = doc.paths['/v1/models/{name}/explain'].post.requestBody?.content['application/json'].schema as {
      properties: Record<string, { maxItems?: number; anyOf?: { maximum?: number }[] }>;
    };
    expect(schema.properties.rows.maxItems).toBe(5);
    expect(schema.properties.budget.anyOf?.[0].maximum).toBe(4096);
  });

  it('GET /metrics: Prometheus text with requests, latency histogram, queue depth and model rows/s', async () => {
    const exp = await post(`${base}/v1/models/credit/explain`, { rows: [row(4)], seed: 1, budget: 256 });
    const modelRows = (exp.json as unknown as ExplanationJSON).modelRows;
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const count = Number(
      /whybox_http_requests_total\{route="\/v1\/models\/:name\/explain",method="POST",status="200"\} (\d+)/.exec(
        text,
      )?.[1],
    );
    expect(count).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/# TYPE whybox_http_request_duration_seconds histogram/);
    // label order carries no meaning in the exposition format (prom-client writes le first)
    expect(text).toMatch(
      /^whybox_http_request_duration_seconds_bucket\{(?=[^}]*route="\/v1\/models\/:name\/explain")(?=[^}]*le="\+Inf")[^}]*\} \d+$/m,
    );
    expect(text).toMatch(/^whybox_queue_depth 0$/m);
    expect(Number(/whybox_model_rows_total\{model="credit"\} (\d+)/.exec(text)?.[1])).toBeGreaterThanOrEqual(modelRows);
    expect(Number(/whybox_model_rows_per_second\{model="credit"\} ([\d.e+]+)/.exec(text)?.[1])).toBeGreaterThan(0);
  });
});

describe('bad inputs', () => {
  const ok = () => Array<number>(61).fill(0.5);
  const cases: [string, string, unknown, number, RegExp][] = [
    ['malformed JSON', 'credit/explain', '{"rows": [[1, 2]', 400, /not valid JSON/],
    ['empty body', 'credit/explain', '', 400, /body|JSON/],
    ['rows not an array', 'credit/explain', { rows: 'all' }, 400, /^rows must be of type array; got "all"/],
    ['a string in a row', 'credit/explain', { rows: [[1, 'x', 3]] }, 400, /^rows\[0\]\[1\] must be a number; got "x"/],
    ['"NaN" as a string', 'credit/explain', { rows: [[1, 'NaN']] }, 400, /^rows\[0\]\[1\] must be a number; got "NaN"/],
    ['null in a row', 'credit/explain', { rows: [[null, 1]] }, 400, /^rows\[0\]\[0\] must be a number; got null/],
    [
      'a number beyond double range',
      'credit/explain',
      '{"rows": [[1e999]]}',
      400,
      /^rows\[0\]\[0\] must be a number; got Infinity/,
    ],
    ['wrong row length', 'credit/explain', { rows: [[1, 2, 3]] }, 400, /^rows\[0\] has 3 values; the model takes 61/],
    ['no rows', 'credit/explain', { seed: 1 }, 400, /^rows is required/],
    ['too many rows', 'credit/explain', { rows: Array(6).fill([0]) }, 400, /^rows must NOT have more than 5 items/],
    ['unknown field', 'credit/explain', { rows: [[1]], budgett: 5 }, 400, /^unknown field "budgett"/],
    [
      'unknown method',
      'credit/explain',
      { rows: [[1]], method: 'shapley' },
      400,
      /^method must be "kernel" or .*got "shapley"/,
    ],
    [
      'huge budget',
      'credit/explain',
      { rows: [[1]], budget: 1e9 },
      400,
      /^budget must be <= 4096 or must be "auto"; got 1000000000/,
    ],
    [
      'budget of the wrong type',
      'credit/explain',
      { rows: [[1]], budget: '512' },
      400,
      /^budget must be of type integer/,
    ],
    ['fractional seed', 'credit/explain', { rows: [[1]], seed: 1.5 }, 400, /^seed must be of type integer; got 1.5/],
    ['exact over the player limit', 'credit/explain', { rows: [ok()], method: 'exact' }, 400, /at most 10 players/],
    [
      'budget with exact',
      'slow/explain',
      { rows: [[1, 2, 3, 4]], method: 'exact', budget: 8 },
      400,
      /budget must be unset for method 'exact'/,
    ],
    [
      'unknown output',
      'credit/explain',
      { rows: [ok()], output: 'nope' },
      400,
      /^output must be one of \["probabilities\[0\]","probabilities\[1\]"\]/,
    ],
    ['budget below the minimum', 'credit/explain', { rows: [ok()], budget: 4 }, 400, /budget/],
    [
      'unknown model',
      'nope/explain',
      { rows: [[1]] },
      404,
      /^no model named "nope"; configured models: credit, crash, thrower, slow, slow16/,
    ],
    ['model name that is not a name', '..%2F..%2Fetc/explain', { rows: [[1]] }, 400, /^name must match pattern/],
    ['__proto__ as a model name', '__proto__/explain', { rows: [[1]] }, 400, /^name must match pattern/],
    ['a __proto__ key', 'credit/explain', '{"rows": [[1]], "__proto__": {"x": 1}}', 400, /"__proto__"/],
    ['a nested __proto__ key', 'credit/explain', '{"rows": [[1]], "a": {"__proto__": {"x": 1}}}', 400, /"__proto__"/],
    [
      'constructor.prototype',
      'credit/explain',
      '{"constructor": {"prototype": {"x": 1}}}',
      400,
      /constructor\.prototype/,
    ],
    [
      'oversized body',
      'credit/explain',
      { rows: [Array(20_000).fill(0.123456789)] },
      413,
      /larger than this server's limit of 65536 bytes/,
    ],
    ['predict: wrong types', 'credit/predict', { rows: [[true]] }, 400, /^rows\[0\]\[0\] must be a number; got true/],
    ['predict: top is not a predict field', 'credit/predict', { rows: [ok()], top: 3 }, 400, /^unknown field "top"/],
  ];
  for (const [label, path, body, status, message] of cases) {
    it(`${label} -> ${status}`, async () => {
      const res = await post(`${base}/v1/models/${path}`, body);
      expect(res.status).toBe(status);
      const error = (res.json as { error: { message: string; code: string } }).error;
      expect(error.message).toMatch(message);
      expect(res.text).not.toMatch(/\s{2}at |node_modules|\/work\/|\/tmp\/|\.[cm]?[jt]s\b/);
    });
  }

  it('wrong content type -> 415; unknown route -> 404 JSON', async () => {
    const res = await fetch(`${base}/v1/models/credit/explain`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'rows',
    });
    expect(res.status).toBe(415);
    const nf = await fetch(`${base}/v2/anything`);
    expect(nf.status).toBe(404);
    expect(((await nf.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });

  it('a model that throws -> 422 with its message; the server goes on', async () => {
    const res = await post(`${base}/v1/models/thrower/explain`, { rows: [[200, 1, 1]], method: 'exact' });
    expect(res.status).toBe(422);
    expect((res.json as { error: { message: string } }).error.message).toMatch(/thrower refuses this row/);
    expect((await post(`${base}/v1/models/thrower/explain`, { rows: [[1, 1, 1]], method: 'exact' })).status).toBe(200);
  });
});

describe('concurrency', () => {
  it('50 concurrent explain requests all answer the library result for their rows and seed', async () => {
    const jobs = Array.from({ length: 50 }, (_, i) => ({
      rows: [row(i % 5), row((i + 2) % 5)].slice(0, 1 + (i % 2)),
      seed: 1000 + i,
      budget: 256 + 16 * (i % 4),
    }));
    const answers = await Promise.all(jobs.map((j) => post(`${base}/v1/models/credit/explain`, j)));
    for (const [i, j] of jobs.entries()) {
      expect(answers[i].status).toBe(200);
      const lib = explanationToJSON(await credit.explain(j.rows, { seed: j.seed, budget: j.budget }));
      expect(noSeconds(answers[i].json as unknown as ExplanationJSON)).toEqual(noSeconds(lib));
    }
  });

  it('a full queue answers 503 with Retry-After', async () => {
    const s = await createService({
      models: { slow: await slowExplainer(16) },
      limits: { concurrency: 1, queue: 1 },
      logger: false,
    });
    const url = `${await s.listen({ port: 0, host: '127.0.0.1' })}/v1/models/slow/explain`;
    try {
      const body = { rows: [X16], budget: 4096, seed: 1, timeoutMs: 1500 };
      const first = post(url, body);
      const second = post(url, body);
      await until(() => s.queueDepth === 1);
      const third = await post(url, body);
      expect(third.status).toBe(503);
      expect(third.headers.get('retry-after')).toBe('1');
      expect((third.json as { error: { code: string } }).error.code).toBe('BUSY');
      expect((await first).status).toBe(504);
      expect((await second).status).toBe(504);
    } finally {
      await s.close();
    }
  });
});

describe('cancellation', () => {
  it('a request past its deadline gets 504 and its work stops', async () => {
    const before = slowCalls;
    const t0 = performance.now();
    const res = await post(`${base}/v1/models/slow16/explain`, { rows: [X16], budget: 4096, timeoutMs: 300 });
    const elapsed = performance.now() - t0;
    expect(res.status).toBe(504);
    const error = (res.json as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('DEADLINE');
    expect(error.message).toMatch(/did not finish within its deadline of 300 ms/);
    expect(elapsed).toBeLessThan(1500);
    expect(slowCalls - before).toBeGreaterThan(10); // it was running
    await settled(() => slowCalls);
    const stopped = slowCalls;
    await sleep(300);
    expect(slowCalls).toBe(stopped); // and it stopped: no model call after the deadline
    expect(slowCalls - before).toBeLessThan(4096 / 2); // far from the whole explanation
  });

  it('a client that disconnects cancels its work', async () => {
    const before = slowCalls;
    const body = JSON.stringify({ rows: [X16], budget: 4096 });
    const url = new URL(`${base}/v1/models/slow16/explain`);
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('error', () => undefined);
    req.end(body);
    await until(() => slowCalls - before > 20);
    req.destroy();
    await settled(() => slowCalls);
    const stopped = slowCalls;
    await sleep(300);
    expect(slowCalls).toBe(stopped);
    expect(slowCalls - before).toBeLessThan(4096 / 2);
    expect(service.inFlight).toBe(0);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/route="\/v1\/models\/:name\/explain",method="POST",status="499"\} 1/);
  });

  it('a worker that exits does not take the server down; the pool replaces it', async () => {
    const res = await post(`${base}/v1/models/crash/explain`, { rows: [[200, 1, 1]], method: 'exact' });
    expect(res.status).toBe(500);
    const error = (res.json as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toMatch(/^internal error \(request req-\w+\); see the server log$/);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const again = await post(`${base}/v1/models/crash/explain`, { rows: [[1, 1, 1]], method: 'exact' });
    expect(again.status).toBe(200);
    expect((again.json as unknown as ExplanationJSON).rows[0].values.map((v) => v[0])).toEqual([0.5, 1, 0.5]); // f = x0 + x1 + x2, background (0,0,0), (1,0,1)
    expect((await post(`${base}/v1/models/credit/predict`, { rows: [row(0)] })).status).toBe(200);
  });
});

describe('auth', () => {
  it('with a token, /v1 routes need the bearer token; probes stay open', async () => {
    const s = await createService({ models: { slow: await slowExplainer() }, token: 's3cret-token', logger: false });
    const url = await s.listen({ port: 0, host: '127.0.0.1' });
    try {
      const none = await fetch(`${url}/v1/models`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(((await none.json()) as { error: { message: string } }).error.message).toMatch(/Authorization: Bearer/);
      const wrong = await post(
        `${url}/v1/models/slow/predict`,
        { rows: [[1, 2, 3, 4]] },
        { authorization: 'Bearer nope' },
      );
      expect(wrong.status).toBe(401);
      expect(wrong.text).not.toMatch(/s3cret/);
      const right = await post(
        `${url}/v1/models/slow/predict`,
        { rows: [[1, 2, 3, 4]] },
        { authorization: 'Bearer s3cret-token' },
      );
      expect(right.status).toBe(200);
      expect(right.json).toEqual({ model: 'slow', outputs: ['output'], predictions: [[1 * 2 + 3 - 4]] });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('without a token, no header is needed', async () => {
    expect((await post(`${base}/v1/models/slow/predict`, { rows: [[1, 1, 1, 1]] })).status).toBe(200);
  });
});

describe('shutdown', () => {
  it('close() lets the request in flight finish, refuses new ones, and closes the models', async () => {
    const ex = await slowExplainer(16);
    const s = await createService({ models: { slow: ex }, logger: false });
    const url = await s.listen({ port: 0, host: '127.0.0.1' });
    const inFlight = post(`${url}/v1/models/slow/explain`, { rows: [X16], budget: 200, seed: 2 });
    await until(() => s.inFlight === 1);
    const closing = s.close();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect((res.json as unknown as ExplanationJSON).rows.length).toBe(1);
    await closing;
    expect(ex.isClosed).toBe(true);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for a condition');
    await sleep(5);
  }
}

/** Waits until a counter has not moved for 50 ms (the calls in flight at the abort finish). */
async function settled(counter: () => number): Promise<void> {
  let last = counter();
  for (;;) {
    await sleep(50);
    if (counter() === last) return;
    last = counter();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
