import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCsv } from '../../src/data/csv.js';
import type { Dataset } from '../../src/data/dataset.js';
import { createDataset, selectRows } from '../../src/data/dataset.js';
import { encodeRecords, loadRawCsv } from '../../src/data/encoder.js';
import type { Schema } from '../../src/data/schema.js';
import { loadSchema, parseSchema, schemaPlayers } from '../../src/data/schema.js';
import { InvalidOptionError } from '../../src/errors.js';
import type { RowsInput } from '../../src/explain.js';
import { explain } from '../../src/explain.js';
import { certifyReasons, explainReasons } from '../../src/explanation/certify.js';
import type { ReasonTemplates } from '../../src/explanation/reasons.js';
import { loadReasonTemplates, parseReasonTemplates, reasonCodes } from '../../src/explanation/reasons.js';
import { fromFunction } from '../../src/models/function-model.js';
import type { Model } from '../../src/models/model.js';
import { loadOnnx } from '../../src/models/onnx-model.js';
import type { Background } from '../../src/sampling/background.js';
import { createBackground, summarizeBackground } from '../../src/sampling/background.js';
import { Rng } from '../../src/sampling/rng.js';

const DEMO = 'datasets/credit-demo';

describe('certified reasons on the credit demo (MLP)', () => {
  let schema: Schema;
  let templates: ReasonTemplates;
  let model: Model & { close(): Promise<void> };
  let rows: Dataset;
  let background: Background;
  beforeAll(async () => {
    schema = await loadSchema(`${DEMO}/schema.json`);
    templates = await loadReasonTemplates(`${DEMO}/reasons.json`, schema);
    model = (await loadOnnx(`${DEMO}/model.onnx`, { select: [1] })) as Model & { close(): Promise<void> };
    const all = encodeRecords(schema, await loadRawCsv(`${DEMO}/applicants-many-raw.csv`));
    const s = await model.predict(all.data, all.nRows);
    const adverse = Array.from(s.keys()).filter((i) => s[i] > 0.5);
    rows = selectRows(all, adverse.slice(0, 8));
    const train = await loadCsv(`${DEMO}/train.csv`, { expectColumns: schema.columns });
    background = summarizeBackground(createBackground(train), Rng.fromSeed(3), { method: 'kmeans', rows: 6 });
  });
  afterAll(async () => {
    await model?.close();
  });

  const topSets = (decisions: { reasons: { attribute: string }[] }[]) =>
    decisions.map((d) =>
      d.reasons
        .map((x) => x.attribute)
        .sort()
        .join(','),
    );

  it('across 20 seeds, the certified top-4 sets agree wherever reasonsStable is true (uncertified, a small budget does not)', async () => {
    const players = schemaPlayers(schema);
    const start = 64; // small on purpose: certification has to raise it
    const certified: { sets: string[]; stable: boolean[]; budgets: number[] }[] = [];
    const plain: string[][] = [];
    for (let seed = 0; seed < 20; seed++) {
      const res = await certifyReasons(
        (r, budget) => explain(model, r, { background, players, seed, budget, threads: 1 }),
        rows,
        { schema, templates, background, budget: start },
      );
      const cert = res.certification ?? [];
      certified.push({
        sets: topSets(res.report.decisions),
        stable: cert.map((c) => c.reasonsStable),
        budgets: cert.map((c) => c.budget),
      });
      const e = await explain(model, rows, { background, players, seed, budget: start, threads: 1 });
      plain.push(topSets(reasonCodes(e, { schema, templates, background }).decisions));
    }
    let stable = 0;
    let raised = 0;
    let plainDisagree = 0;
    for (let r = 0; r < rows.nRows; r++) {
      const sets = certified.filter((c) => c.stable[r]).map((c) => c.sets[r]);
      stable += sets.length;
      expect(new Set(sets).size).toBeLessThanOrEqual(1);
      raised += certified.filter((c) => c.budgets[r] > start).length;
      if (new Set(plain.map((p) => p[r])).size > 1) plainDisagree++;
    }
    expect(stable).toBeGreaterThanOrEqual(0.8 * 20 * rows.nRows);
    expect(raised).toBeGreaterThan(0); // the budget was doubled where needed
    expect(plainDisagree).toBeGreaterThan(0); // without certification, the sets do change with the seed
  }, 120_000);

  it('explainReasons: certify false is explain + reasonCodes; certify true adds per-row certification', async () => {
    const players = schemaPlayers(schema);
    const opts = { background, players, seed: 5, threads: 1 };
    const plain = await explainReasons(model, rows, { ...opts, reasons: { schema, templates } });
    const e = await explain(model, rows, opts);
    expect(plain.certification).toBeUndefined();
    expect(plain.report.decisions.map((d) => d.reasons)).toEqual(
      reasonCodes(e, { schema, templates, background }).decisions.map((d) => d.reasons),
    );
    const cert = await explainReasons(model, rows, { ...opts, reasons: { schema, templates, certify: true } });
    expect(cert.certification).toHaveLength(rows.nRows);
    for (const c of cert.certification ?? []) {
      expect(c.budget).toBeGreaterThanOrEqual(2 * 20 + 2048);
      expect(['separated', 'tie', 'exact']).toContain(c.stability);
      expect(c.reasonsStable).toBe(c.stability !== 'tie');
    }
    await expect(
      explainReasons(model, rows, { ...opts, reasons: { schema, templates, z: 2 } as never }),
    ).rejects.toThrow(/reasons.z must be unset without certify/);
  });
});

describe('certification: ties and exact values', () => {
  // 14 attributes; a and b have exactly the same effect, so their contributions tie
  const names = ['a', 'b', ...Array.from({ length: 12 }, (_, i) => `n${i}`)];
  const schema = parseSchema({ attributes: names.map((name) => ({ name, type: 'numeric' })) });
  const templates = parseReasonTemplates({ default: '{label}: {value}', reasons: {} }, 'generic', schema);
  const w = [1, 1, 0.5, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01, 0, 0, 0, 0, 0];
  const model = fromFunction(
    (x: Float64Array) => {
      let s = 0;
      for (let i = 0; i < w.length; i++) s += w[i] * x[i] + (i > 2 ? 0.01 * x[i] * x[i - 1] : 0);
      return s;
    },
    { nInputs: 14 },
  );
  const rows = createDataset(schema.columns, new Float64Array(14).fill(1));
  const background = createDataset(schema.columns, new Float64Array(14));
  const players = schemaPlayers(schema);

  it('an exact tie between the 1st and 2nd reasons is reported, not broken silently; the budget stops at the cap', async () => {
    const res = await certifyReasons(
      (r, budget) => explain(model, r, { background, players, seed: 1, budget, threads: 1 }),
      rows,
      { schema, templates, threshold: 0, background, budget: 200, maxBudget: 800 },
    );
    const [c] = res.certification ?? [];
    expect(res.report.decisions[0].decision).toBe('adverse');
    expect(c.reasonsStable).toBe(false);
    expect(c.stability).toBe('tie');
    expect(c.tie?.slice(0, 2).sort()).toEqual(['a', 'b']);
    expect(c.budget).toBe(800);
  });

  it('exact values are stable by construction and say so (the exact tie is still listed)', async () => {
    const small = parseSchema({ attributes: ['a', 'b', 'c'].map((name) => ({ name, type: 'numeric' })) });
    const f = fromFunction((x: Float64Array) => x[0] + x[1] + 0.5 * x[2], { nInputs: 3 });
    const res = await certifyReasons(
      (r) =>
        explain(f, r, {
          background: createDataset(small.columns, new Float64Array(3)),
          method: 'exact',
          players: schemaPlayers(small),
        }),
      createDataset(small.columns, new Float64Array([1, 1, 1])),
      {
        schema: small,
        templates: parseReasonTemplates({ default: '{label}', reasons: {} }, 'g', small),
        threshold: 0,
        method: 'exact',
      },
    );
    const [c] = res.certification ?? [];
    expect(c).toMatchObject({ reasonsStable: true, stability: 'exact', budget: 8, tie: ['a', 'b'] });
  });

  it('refuses what it cannot certify, with typed errors', async () => {
    const run = (r: RowsInput, budget: number | undefined) =>
      explain(model, r, { background, players, seed: 1, budget, threads: 1 });
    const base = { schema, templates, threshold: 0, background };
    await expect(certifyReasons(run, rows, { ...base, budget: 'auto' })).rejects.toThrow(InvalidOptionError);
    await expect(certifyReasons(run, rows, { ...base, method: 'lime' })).rejects.toThrow(/no standard errors/);
    await expect(certifyReasons(run, rows, { ...base, z: 0 })).rejects.toThrow(/z must be a number > 0/);
    await expect(certifyReasons(run, rows, { ...base, budget: 400, maxBudget: 200 })).rejects.toThrow(/maxBudget/);
  });
});
