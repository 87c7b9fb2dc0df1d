/**
 * Reason codes against the planted effects of the synthetic credit data: the ground-truth
 * model (datasets/credit-demo/scorecard.onnx, log-odds additive but for one interaction)
 * has Shapley values known in closed form, so the top-2 reasons of every denied applicant are
 * known. Raw records in, reason codes out, through the ONNX model.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCsv } from '../../src/data/csv.js';
import type { Dataset } from '../../src/data/dataset.js';
import { selectRows, sliceRows } from '../../src/data/dataset.js';
import { decodeRows, encodeRecords, loadRawCsv } from '../../src/data/encoder.js';
import type { Schema } from '../../src/data/schema.js';
import { loadSchema, schemaPlayers } from '../../src/data/schema.js';
import { explain } from '../../src/explain.js';
import type { Explanation } from '../../src/explanation/explanation.js';
import type { ReasonTemplates } from '../../src/explanation/reasons.js';
import { loadReasonTemplates, reasonCodes } from '../../src/explanation/reasons.js';
import type { OnnxModel } from '../../src/models/onnx-model.js';
import { loadOnnx } from '../../src/models/onnx-model.js';

const DIR = fileURLToPath(new URL('../../datasets/credit-demo/', import.meta.url));

interface Truth {
  intercept: number;
  levelEffects: Record<string, Record<string, number>>;
  duration: { center: number; scale: number; coef: number };
  amount: { reference: number; coef: number };
  interaction: number;
  young: { below: number; coef: number };
  installment: { center: number; coef: number };
}
const truth = JSON.parse(readFileSync(`${DIR}truth.json`, 'utf8')) as Truth;
type Raw = Record<string, string | number | null>;

/** Closed-form interventional Shapley values of the ground-truth log-odds (uniform background). */
function truePhi(x: Raw, bg: Raw[]): Record<string, number> {
  const mean = (f: (r: Raw) => number) => bg.reduce((s, r) => s + f(r), 0) / bg.length;
  const phi: Record<string, number> = {};
  for (const [a, eff] of Object.entries(truth.levelEffects))
    phi[a] = (eff[x[a] as string] ?? 0) - mean((r) => eff[r[a] as string] ?? 0);
  const d = (r: Raw) => ((r.duration_months as number) - truth.duration.center) / truth.duration.scale;
  const m = (r: Raw) => Math.log2((r.credit_amount as number) / truth.amount.reference);
  const c = truth.interaction;
  const Ed = mean(d);
  const Em = mean(m);
  const Edm = mean((r) => d(r) * m(r));
  phi.duration_months =
    truth.duration.coef * (d(x) - Ed) + (c / 2) * (d(x) * Em - Edm) + (c / 2) * (d(x) * m(x) - Ed * m(x));
  phi.credit_amount =
    truth.amount.coef * (m(x) - Em) + (c / 2) * (Ed * m(x) - Edm) + (c / 2) * (d(x) * m(x) - d(x) * Em);
  const young = (r: Raw) => truth.young.coef * Math.max(0, truth.young.below - (r.age as number));
  phi.age = young(x) - mean(young);
  const inst = (r: Raw) => truth.installment.coef * ((r.installment_rate as number) - truth.installment.center);
  phi.installment_rate = inst(x) - mean(inst);
  return phi;
}

let schema: Schema;
let templates: ReasonTemplates;
let model: OnnxModel;
let exp: Explanation;
let bgRaw: Raw[];
let bg: Dataset;
let denied: number;

beforeAll(async () => {
  schema = await loadSchema(`${DIR}schema.json`);
  templates = await loadReasonTemplates(`${DIR}reasons.json`, schema);
  const rows = encodeRecords(schema, await loadRawCsv(`${DIR}applicants-many-raw.csv`));
  bg = sliceRows(await loadCsv(`${DIR}train.csv`, { expectColumns: schema.columns }), 0, 30);
  bgRaw = decodeRows(schema, bg);
  model = await loadOnnx(`${DIR}scorecard.onnx`, { select: [1], link: 'logit' });
  // the denied applicants: log-odds of bad above 0 (P(bad) > 0.5)
  const scores = await model.predict(rows.data, rows.nRows);
  const idx = Array.from(scores.keys()).filter((i) => scores[i] > 0);
  denied = idx.length;
  exp = await explain(model, selectRows(rows, idx), {
    background: bg,
    players: schemaPlayers(schema),
    budget: 256,
    seed: 7,
    threads: 1,
  });
});
afterAll(async () => {
  await model?.close();
});

describe('reason codes on the synthetic credit data (planted effects)', () => {
  it('explains the denied applicants with the closed-form Shapley values', () => {
    expect(denied).toBeGreaterThan(50);
    const raw = decodeRows(schema, { data: exp.data, nRows: exp.nRows });
    let worst = 0;
    raw.forEach((x, r) => {
      const phi = truePhi(x, bgRaw);
      exp.players.forEach((p, k) => {
        worst = Math.max(worst, Math.abs(exp.values[r * exp.players.length + k] - (phi[p] ?? 0)));
      });
    });
    // float32 model arithmetic and the kernel estimate: far below the reasons' margins
    expect(worst).toBeLessThan(2e-3);
  });

  it('finds the planted top-2 adverse attributes as the top-2 reasons for >= 95% of denied applicants', () => {
    const report = reasonCodes(exp, { schema, templates, threshold: 0, background: bg });
    const raw = decodeRows(schema, { data: exp.data, nRows: exp.nRows });
    let sameSet = 0;
    let sameOrder = 0;
    report.decisions.forEach((dec, r) => {
      expect(dec.decision).toBe('adverse');
      const phi = truePhi(raw[r], bgRaw);
      const planted = Object.entries(phi)
        .filter(([a, v]) => v > 0 && !schema.attributes.find((x) => x.name === a)?.protected)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 2)
        .map(([a]) => a);
      const got = dec.reasons.slice(0, 2).map((x) => x.attribute);
      if (got.length === 2 && planted.every((a) => got.includes(a))) sameSet++;
      if (got.join() === planted.join()) sameOrder++;
      // never protected, at most 4, ranked by contribution
      expect(dec.reasons.length).toBeLessThanOrEqual(4);
      for (const x of dec.reasons) expect(['personal_status', 'age', 'foreign_worker']).not.toContain(x.attribute);
      for (let k = 1; k < dec.reasons.length; k++)
        expect(dec.reasons[k].contribution).toBeLessThanOrEqual(dec.reasons[k - 1].contribution);
    });
    const n = report.decisions.length;
    expect(sameSet / n).toBeGreaterThanOrEqual(0.95);
    expect(sameOrder / n).toBeGreaterThanOrEqual(0.95);
  });
});

describe('the bundled raw records', () => {
  it('encode through schema.json to exactly the rows of applicants.csv', async () => {
    const s = await loadSchema(`${DIR}schema.json`);
    const raw = encodeRecords(s, await loadRawCsv(`${DIR}applicants-raw.csv`));
    const encoded = await loadCsv(`${DIR}applicants.csv`, { expectColumns: s.columns });
    expect(Array.from(raw.data)).toEqual(Array.from(encoded.data));
  });
});
