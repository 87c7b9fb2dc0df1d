/**
 * The service's explain route with `certify` and `recourse` for a schema model (in-process,
 * fastify's inject: no socket): counterfactuals re-score favourable through /predict, and the
 * certified answer carries per-row stability.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCsv } from '../../src/data/csv.js';
import { sliceRows } from '../../src/data/dataset.js';
import { loadRawCsv } from '../../src/data/encoder.js';
import type { Schema } from '../../src/data/schema.js';
import { loadSchema } from '../../src/data/schema.js';
import type { Explainer } from '../../src/explainer.js';
import { createExplainer } from '../../src/explainer.js';
import { loadReasonTemplates } from '../../src/explanation/reasons.js';
import type { ServedModel } from '../../src/service/models.js';
import type { WhyboxService } from '../../src/service/server.js';
import { createService } from '../../src/service/server.js';

const DEMO = fileURLToPath(new URL('../../datasets/credit-demo/', import.meta.url));

let schema: Schema;
let ex: Explainer;
let service: WhyboxService;
let records: Record<string, string>[];

beforeAll(async () => {
  schema = await loadSchema(`${DEMO}schema.json`);
  const train = sliceRows(await loadCsv(`${DEMO}train.csv`, { expectColumns: schema.columns }), 0, 20);
  ex = await createExplainer({
    modelPath: `${DEMO}scorecard.onnx`,
    schema,
    background: train,
    output: 'probabilities[1]',
    threads: 1,
  });
  const served: ServedModel = {
    name: 'credit',
    explainer: ex,
    reasons: { templates: await loadReasonTemplates(`${DEMO}reasons.json`, schema), threshold: 0.5, adverse: 'higher' },
  };
  service = await createService({ models: new Map([['credit', served]]), logger: false });
  records = (await loadRawCsv(`${DEMO}applicants-raw.csv`)).records.map(({ id: _id, ...r }) => r);
});
afterAll(async () => {
  await service?.close();
});

const post = async (path: string, body: unknown) => {
  const res = await service.app.inject({ method: 'POST', url: path, payload: body as Record<string, unknown> });
  return { status: res.statusCode, json: JSON.parse(res.body) };
};

describe('POST /v1/models/{name}/explain with certify and recourse', () => {
  it('recourse: verified counterfactuals per adverse row; each re-scores favourable through /predict', async () => {
    const res = await post('/v1/models/credit/explain', {
      records: records.slice(0, 3),
      seed: 2,
      budget: 256,
      top: 4,
      recourse: { count: 2, maxChanges: 2 },
    });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json.recourseOptions).toMatchObject({ count: 2, maxChanges: 2 });
    let checked = 0;
    for (const [r, row] of (
      res.json.rows as {
        decision: string;
        recourse: { changes: { attribute: string; to: unknown }[]; score: number }[];
        recourseStatus: string;
      }[]
    ).entries()) {
      if (row.decision !== 'adverse') {
        expect(row.recourseStatus).toBe('not-needed');
        continue;
      }
      expect(row.recourseStatus).toBe('found');
      for (const cf of row.recourse) {
        const rec: Record<string, unknown> = { ...records[r] };
        for (const ch of cf.changes) rec[ch.attribute] = ch.to;
        const p = await post('/v1/models/credit/predict', { records: [rec] });
        expect(p.status).toBe(200);
        const s = (p.json.predictions as number[][])[0][0];
        expect(s).toBeCloseTo(cf.score, 9);
        expect(s).toBeLessThanOrEqual(0.5);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('certify: per-row reasonsStable and budget; refused without top', async () => {
    const res = await post('/v1/models/credit/explain', {
      records: records.slice(0, 2),
      seed: 2,
      budget: 256,
      top: 4,
      certify: true,
    });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    for (const row of res.json.rows as {
      decision: string;
      reasonsStable: boolean;
      stability: string;
      reasonsBudget: number;
    }[]) {
      expect(typeof row.reasonsStable).toBe('boolean');
      expect(row.reasonsBudget).toBeGreaterThanOrEqual(256);
      if (row.decision === 'favorable') expect(row.stability).toBe('no-reasons');
    }
    const bad = await post('/v1/models/credit/explain', { records: records.slice(0, 1), certify: true });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/certify and recourse need top/);
    const bad2 = await post('/v1/models/credit/explain', {
      records: records.slice(0, 1),
      top: 2,
      recourse: { count: 0 },
    });
    expect(bad2.status).toBe(400);
  });
});
