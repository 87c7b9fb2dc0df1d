/**
 * Fuzz: fast-check mutates valid explain and predict bodies (types swapped, fields dropped or
 * added, huge and non-finite numbers, long strings, deep nesting, prototype keys, raw text) and
 * sends them through the whole fastify pipeline (inject). Every answer is 200 or a 4xx/503/504
 * in the one error shape — never a 5xx internal error — and the service stays healthy.
 * Workers load dist/: run `npm run build` first.
 */

import { fileURLToPath } from 'node:url';
import { fc } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRawCsv } from '../../src/data/encoder.js';
import { createExplainer } from '../../src/explainer.js';
import { fromFunction } from '../../src/models/function-model.js';
import { serviceFromConfig } from '../../src/service/from-config.js';
import type { WhyboxService } from '../../src/service/server.js';
import { createService } from '../../src/service/server.js';

const DEMO = fileURLToPath(new URL('../../datasets/credit-demo/', import.meta.url));
let credit: WhyboxService;
let plain: WhyboxService;
let record: Record<string, unknown>;

beforeAll(async () => {
  credit = await serviceFromConfig(
    {
      models: {
        credit: {
          onnx: `${DEMO}model.onnx`,
          schema: `${DEMO}schema.json`,
          reasons: `${DEMO}reasons.json`,
          background: `${DEMO}train.csv`,
          summarize: 8,
          output: 'probabilities[1]',
        },
      },
      threads: 2,
      limits: { maxBudget: 512, timeoutMs: 5000 },
      logLevel: 'silent',
    },
    { onWarning: () => undefined },
  );
  const sum = await createExplainer({
    model: fromFunction((x: Float64Array) => x[0] * x[1] + x[2], { nInputs: 3 }),
    background: { data: Float64Array.from([0, 0, 0, 1, 2, 3]), nRows: 2 },
    threads: 1,
  });
  plain = await createService({ models: { sum }, limits: { maxBudget: 512 }, logger: false });
  const table = await loadRawCsv(`${DEMO}applicants-raw.csv`);
  record = { ...(table.records[0] as Record<string, unknown>) };
  delete record.id;
}, 60_000);

afterAll(async () => {
  await credit?.close();
  await plain?.close();
});

/** Any JSON-ish value, nasty ones weighted in. */
const nasty = fc.oneof(
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -0,
    1e308,
    -1e308,
    3.5e38,
    1e-320,
    2 ** 53 + 1,
    '',
    'NaN',
    'Infinity',
    '__proto__',
  ),
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 20 }),
  fc.constantFrom('x'.repeat(5000), 'é'.repeat(2000), '\u0000\ud800', 'constructor'),
  fc.array(fc.double(), { maxLength: 8 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.integer(), fc.string({ maxLength: 8 })), { maxKeys: 4 }),
  fc.constant({ __proto__: { polluted: 1 } }),
  fc.constant(JSON.parse('{"constructor": {"prototype": {"x": 1}}}')),
  fc.constant(Array.from({ length: 50 }, () => [[[[1]]]])),
);

const FIELDS = ['rows', 'records', 'method', 'variant', 'budget', 'seed', 'output', 'top', 'timeoutMs', 'extra'];

/** A valid body, then up to 3 mutations: a field set to a nasty value, a field dropped, a row cell replaced. */
function bodies(valid: Record<string, unknown>) {
  return fc
    .tuple(
      fc.array(fc.tuple(fc.constantFrom(...FIELDS), nasty, fc.nat(4)), { maxLength: 3 }),
      fc.boolean(),
      fc.constantFrom('json', 'json', 'json', 'truncated', 'text', 'nested'),
    )
    .map(([mutations, dropRows, form]) => {
      const body: Record<string, unknown> = structuredClone(valid);
      if (dropRows) delete body.rows;
      for (const [field, value, cell] of mutations) {
        if (field === 'rows' && Array.isArray(body.rows) && Array.isArray(body.rows[0]) && cell < 3) {
          const rows = body.rows as unknown[][];
          rows[0] = [...rows[0]];
          rows[0][cell % rows[0].length] = value;
        } else if (
          field === 'records' &&
          Array.isArray(body.records) &&
          typeof body.records[0] === 'object' &&
          body.records[0] !== null &&
          cell < 3
        ) {
          const recs = body.records as Record<string, unknown>[];
          const keys = Object.keys(recs[0]);
          recs[0] = { ...recs[0], [keys[cell % keys.length]]: value };
        } else body[field] = value;
      }
      const text = JSON.stringify(body);
      if (form === 'truncated') return text.slice(0, Math.max(1, text.length - 3));
      if (form === 'text') return text.replace(/[{}]/g, '');
      if (form === 'nested') return `${'['.repeat(5000)}${']'.repeat(5000)}`;
      return text;
    });
}

interface Tally {
  requests: number;
  ok: number;
  client: number;
  server: number;
  statuses: Record<number, number>;
}

async function fuzz(service: WhyboxService, url: string, valid: Record<string, unknown>, runs: number, tally: Tally) {
  await fc.assert(
    fc.asyncProperty(bodies(valid), fc.boolean(), async (payload, wrongType) => {
      const res = await service.app.inject({
        method: 'POST',
        url,
        payload,
        headers: { 'content-type': wrongType && payload.length % 7 === 0 ? 'text/plain' : 'application/json' },
      });
      tally.requests++;
      tally.statuses[res.statusCode] = (tally.statuses[res.statusCode] ?? 0) + 1;
      if (res.statusCode < 400) {
        tally.ok++;
        expect(res.statusCode).toBe(200);
        return;
      }
      if (res.statusCode >= 500) tally.server++;
      else tally.client++;
      expect([400, 404, 413, 415, 422, 503, 504]).toContain(res.statusCode);
      const body = JSON.parse(res.body) as { error: { code: string; message: string } };
      expect(Object.keys(body)).toEqual(['error']);
      expect(body.error.message.length).toBeGreaterThan(5);
      expect(body.error.message.length).toBeLessThan(2000);
      expect(body.error.message).not.toMatch(/\/work\/|node_modules|at .*\.js:\d+/);
    }),
    { numRuns: runs, seed: 16 },
  );
}

describe('fuzzed request bodies', () => {
  it('no internal errors, one error shape, the service stays up', async () => {
    const tally: Tally = { requests: 0, ok: 0, client: 0, server: 0, statuses: {} };
    const t0 = performance.now();
    await fuzz(plain, '/v1/models/sum/explain', { rows: [[1, 2, 3]], method: 'exact', seed: 1 }, 1500, tally);
    await fuzz(plain, '/v1/models/sum/predict', { rows: [[1, 2, 3]] }, 500, tally);
    await fuzz(credit, '/v1/models/credit/explain', { records: [record], budget: 64, seed: 1, top: 2 }, 600, tally);
    await fuzz(credit, '/v1/models/credit/predict', { records: [record] }, 400, tally);
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `fuzz: ${tally.requests} requests in ${seconds.toFixed(1)} s: ${tally.ok} 200, ${tally.client} 4xx, ${tally.server} 5xx; statuses ${JSON.stringify(tally.statuses)}`,
    );
    expect(tally.server).toBe(0);
    expect(tally.ok).toBeGreaterThan(50); // the mutations leave some bodies valid
    for (const s of [plain, credit]) {
      expect((await s.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect((await s.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    }
  }, 120_000);
});
