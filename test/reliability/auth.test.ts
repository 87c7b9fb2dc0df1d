/**
 * Deny by default: every request that reaches a /v1 handler without the bearer token gets 401,
 * however its target is spelled (percent-encoded, double-encoded, absolute-form, trailing
 * slash, case, dot segments) — sent as raw bytes, since fetch normalises URLs. Tokens never
 * reach the log.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Explainer } from '../../src/explainer.js';
import { createExplainer } from '../../src/explainer.js';
import { fromFunction } from '../../src/models/function-model.js';
import type { WhyboxService } from '../../src/service/server.js';
import { createService } from '../../src/service/server.js';
import { rawGet, rawRequest } from './raw.js';

const TOKEN = 's3cret-token-42';
let service: WhyboxService;
let port: number;
let log = '';

async function sumExplainer(): Promise<Explainer> {
  return createExplainer({
    model: fromFunction((x: Float64Array) => x[0] + 2 * x[1], { nInputs: 2 }),
    background: { data: Float64Array.from([0, 0, 1, 1]), nRows: 2 },
    threads: 1,
  });
}

beforeAll(async () => {
  const stream = new Writable({
    write(chunk, _enc, done) {
      log += String(chunk);
      done();
    },
  });
  service = await createService({
    models: { credit: await sumExplainer() },
    token: TOKEN,
    logger: { level: 'info', stream },
  });
  port = Number(new URL(await service.listen({ port: 0, host: '127.0.0.1' })).port);
});

afterAll(async () => {
  await service?.close();
});

/** Spellings of GET /v1/models. */
const LIST_TARGETS = [
  '/v1/models',
  '/%76%31/models',
  '/v%31/models',
  '/%76%31/%6d%6f%64%65%6c%73',
  '/%2576%2531/models',
  '/v1/models/',
  '/V1/models',
  '/v1/MODELS',
  '/v1/models?x=1',
  '/v1/models#x',
  '//v1/models',
  '/./v1/models',
  '/v1/./models',
  '/x/../v1/models',
  '/v1%2fmodels',
  '/v1/models%00',
  '/v1/models%20',
  'http://x/v1/models',
  'http://127.0.0.1/v1/models',
  'https://x/%76%31/models',
  'http://x:1/v1/models?y',
];

/** Spellings of POST /v1/models/credit/explain (and predict). */
const POST_TARGETS = [
  '/v1/models/credit/explain',
  '/v%31/models/credit/explain',
  '/%76%31/models/%63redit/explain',
  '/v1/models/credit/explain/',
  '/v1/models/credit/%65xplain',
  'http://x/v1/models/credit/explain',
  '/v1/models/credit/predict',
  '/v1/models/cr%65dit/predict',
  'http://x/v%31/models/credit/predict',
];

describe('auth on the matched route', () => {
  it.each(LIST_TARGETS)('GET %s without the token -> 401; with it, never 401', async (target) => {
    const none = await rawGet(port, target);
    expect(none.status).toBe(401);
    expect(none.body).not.toMatch(/"players"/);
    const wrong = await rawGet(port, target, ['Authorization: Bearer nope']);
    expect(wrong.status).toBe(401);
    const right = await rawGet(port, target, [`Authorization: Bearer ${TOKEN}`]);
    expect(right.status).not.toBe(401);
  });

  it('the canonical spellings that route answer 200 with the token', async () => {
    for (const target of ['/v1/models', '/%76%31/models', 'http://x/v1/models'])
      expect((await rawGet(port, target, [`Authorization: Bearer ${TOKEN}`])).status).toBe(200);
  });

  it.each(POST_TARGETS)('POST %s without the token -> 401', async (target) => {
    const body = JSON.stringify({ rows: [[1, 2]], method: 'exact' });
    const head = [`POST ${target} HTTP/1.1`, 'Host: x', 'Content-Type: application/json'];
    const none = await rawRequest(port, head.join('\r\n'), body);
    expect(none.status).toBe(401);
    expect(none.body).not.toMatch(/values|predictions/);
    const right = await rawRequest(port, [...head, `Authorization: Bearer ${TOKEN}`].join('\r\n'), body);
    expect(right.status).not.toBe(401);
  });

  it('probes stay open', async () => {
    for (const target of ['/healthz', '/readyz', '/metrics', '/openapi.json'])
      expect((await rawGet(port, target)).status).toBe(200);
  });

  it('a token in the query string or a header is not logged', async () => {
    await rawGet(port, `/v1/models?access_token=${TOKEN}&x=1`);
    await rawGet(port, `/v1/models?token=${TOKEN}`, [`Authorization: Bearer ${TOKEN}`]);
    await rawGet(port, `/healthz?${TOKEN}`);
    await new Promise((r) => setTimeout(r, 50));
    expect(log).toMatch(/access_token=/);
    expect(log).not.toContain(TOKEN);
  });
});
