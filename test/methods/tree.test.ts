/**
 * Method 'tree' through every front door: explain(), the Explainer, the CLI (also with
 * --schema / --reasons) and the HTTP service. The reference is whybox's `exact` method on
 * the ensemble's margin computed in float64 (a function model over predictMargin).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCsv } from '../../src/data/csv.js';
import { sliceRows } from '../../src/data/dataset.js';
import { parseGroupsJson } from '../../src/data/players.js';
import { InvalidOptionError, ModelError } from '../../src/errors.js';
import { explain } from '../../src/explain.js';
import { createExplainer } from '../../src/explainer.js';
import { treesOfModel } from '../../src/explainers/tree.js';
import { type ExplanationJSON, efficiencyGap, explanationToJSON } from '../../src/explanation/explanation.js';
import { fromFunction } from '../../src/models/function-model.js';
import { loadOnnx, type OnnxModel } from '../../src/models/onnx-model.js';
import { predictMargin } from '../../src/models/tree-ensemble.js';
import { Rng } from '../../src/sampling/rng.js';
import { createService } from '../../src/service/server.js';
import { maxAbsDiff } from '../helpers/brute-force.js';
import { run } from '../helpers/cli.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

const TREES = fileURLToPath(new URL('../fixtures/trees/', import.meta.url));
const DEMO = fileURLToPath(new URL('../../datasets/credit-demo/', import.meta.url));
const BINARY = `${TREES}gbdt-binary-v3.onnx`;
const D = 6;
const columns = Array.from({ length: D }, (_, i) => `x${i}`);
const groups = { x2x3: ['x2', 'x3'] };
const rng = Rng.fromSeed(12);
const draw = (n: number) => ({ columns, data: Float64Array.from({ length: n * D }, () => rng.normal()), nRows: n });
const rows = draw(3);
const background = draw(12);

let model: OnnxModel;
let tmp: TempDir;
beforeAll(async () => {
  model = await loadOnnx(BINARY, { select: [1] });
  tmp = await makeTempDir('whybox-tree-');
});
afterAll(async () => {
  await model.close();
  await tmp.remove();
});

/** `exact` on the float64 margin of the same trees: the reference. */
async function exactOnMargin(options: Record<string, unknown> = {}) {
  const { ensemble } = await treesOfModel(model);
  const margin = fromFunction((rs: Float64Array, n: number) => predictMargin(ensemble, rs, n), {
    nInputs: D,
    batched: true,
    outputNames: ['margin[1]'],
  });
  return explain(margin, rows, { background, groups, method: 'exact', seed: 1, threads: 1, ...options });
}

const csv = (ds: { columns: string[]; data: Float64Array; nRows: number }) =>
  `${ds.columns.join(',')}\n${Array.from({ length: ds.nRows }, (_, r) => Array.from(ds.data.subarray(r * D, (r + 1) * D)).join(',')).join('\n')}\n`;

describe("method 'tree'", () => {
  it("explain(): equals 'exact' on the margin (1e-9), also with background weights and a k-means summary", async () => {
    const t = await explain(model, rows, { background, groups, method: 'tree', seed: 1 });
    const e = await exactOnMargin();
    expect(t.method).toBe('tree');
    expect(t.outputs).toEqual(['margin[1]']);
    expect(t.players).toEqual(e.players);
    expect(maxAbsDiff(t.values, e.values)).toBeLessThan(1e-9);
    expect(maxAbsDiff(t.baseValues, e.baseValues)).toBeLessThan(1e-12);
    expect(maxAbsDiff(t.predictions, e.predictions)).toBe(0);
    for (let r = 0; r < 3; r++) expect(efficiencyGap(t, r)).toBeLessThan(1e-12);
    expect(t.modelRows).toBe(0);
    const weights = Array.from({ length: 12 }, (_, i) => 1 + (i % 3));
    const summarize = { method: 'kmeans' as const, rows: 4 };
    for (const extra of [{ backgroundWeights: weights }, { summarize }]) {
      const tw = await explain(model, rows, { background, groups, method: 'tree', seed: 1, ...extra });
      const ew = await exactOnMargin(extra);
      expect(maxAbsDiff(tw.values, ew.values)).toBeLessThan(1e-9);
      expect(tw.meta.background.rows).toBe(ew.meta.background.rows);
    }
  });

  it('refuses a model that is not a tree ensemble, and options it does not take', async () => {
    const f = fromFunction((x: ArrayLike<number>) => x[0], { nInputs: D });
    await expect(explain(f, rows, { background, method: 'tree' })).rejects.toBeInstanceOf(ModelError);
    const mlp = await loadOnnx(fileURLToPath(new URL('../fixtures/logistic.onnx', import.meta.url)));
    try {
      const d = mlp.nInputs;
      const r = { data: new Float64Array(d), nRows: 1 };
      await expect(explain(mlp, r, { background: r, method: 'tree' })).rejects.toThrow(/no ai\.onnx\.ml tree-ensemble/);
    } finally {
      await mlp.close();
    }
    for (const bad of [{ budget: 100 }, { threads: 2 }, { dedupe: false }])
      await expect(explain(model, rows, { background, method: 'tree', ...bad })).rejects.toBeInstanceOf(
        InvalidOptionError,
      );
  });

  it('the Explainer gives what explain() gives', async () => {
    const ex = await createExplainer({
      modelPath: BINARY,
      background,
      groups,
      output: 'probabilities[1]',
      threads: 1,
    });
    try {
      const a = await ex.explain(rows, { method: 'tree', seed: 1 });
      const b = await explain(model, rows, { background, groups, method: 'tree', seed: 1 });
      expect(Array.from(a.values)).toEqual(Array.from(b.values));
      expect(a.outputs).toEqual(['margin[1]']);
    } finally {
      await ex.close();
    }
  });

  it('whybox explain --method tree: the library values; --budget refused with exit 2', async () => {
    const data = await tmp.write('rows.csv', csv(rows));
    const bg = await tmp.write('bg.csv', csv(background));
    const g = await tmp.write('groups.json', JSON.stringify(groups));
    const args = ['explain', '--model', BINARY, '--data', data, '--background', bg, '--groups', g, '--method', 'tree'];
    const r = await run(...args, '--output', '1', '--format', 'json', '--quiet');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as ExplanationJSON;
    expect(j.method).toBe('tree');
    expect(j.outputs).toEqual(['margin[1]']);
    const lib = explanationToJSON(await explain(model, rows, { background, groups, method: 'tree', seed: 1 }));
    expect(j.rows.map((x) => x.values)).toEqual(lib.rows.map((x) => x.values));
    const bad = await run(...args, '--budget', '100', '--quiet');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/budget/);
  });

  it('whybox explain --method tree --schema --reasons --link logit: decisions and reasons on a credit GBDT', async () => {
    const lines = readFileSync(`${DEMO}train.csv`, 'utf8').split('\n');
    const bg = await tmp.write('credit-bg.csv', `${lines.slice(0, 41).join('\n')}\n`);
    const args = [
      'explain',
      '--schema',
      `${DEMO}schema.json`,
      '--reasons',
      `${DEMO}reasons.json`,
      '--data',
      `${DEMO}applicants-raw.csv`,
      '--model',
      `${TREES}credit-gbdt-v3.onnx`,
      '--background',
      bg,
      '--method',
      'tree',
      '--quiet',
    ];
    const r = await run(...args, '--link', 'logit', '--format', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as {
      outputs: string[];
      players: string[];
      baseline: { baseValue: number };
      rows: { prediction: number[]; values: number[][]; decision: string; reasons: { attribute: string }[] }[];
    };
    expect(j.outputs).toEqual(['margin[1]']);
    expect(j.players).toHaveLength(20);
    // the library on the same encoded rows: the margins are log-odds of P(bad)
    const credit = await loadOnnx(`${TREES}credit-gbdt-v3.onnx`, { select: [1] });
    try {
      const applicants = await loadCsv(`${DEMO}applicants.csv`);
      const p = await credit.predict(Float32Array.from(applicants.data), applicants.nRows);
      j.rows.forEach((row, i) => {
        expect(Math.abs(row.prediction[0] - Math.log(p[i] / (1 - p[i])))).toBeLessThan(1e-5);
        const sum = row.values.reduce((s, v) => s + v[0], 0);
        expect(Math.abs(sum - (row.prediction[0] - j.baseline.baseValue))).toBeLessThan(1e-9);
        expect(row.decision).toBe(p[i] > 0.5 ? 'adverse' : 'favorable');
        if (row.decision === 'adverse') expect(row.reasons.length).toBeGreaterThan(0);
      });
    } finally {
      await credit.close();
    }
    // without --link logit the decision threshold would be on the wrong scale: refused
    const bad = await run(...args);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--link must be logit with --method tree and --schema/);
  });

  it("POST /v1/models/NAME/explain with method 'tree' answers the library explanation", async () => {
    const train = sliceRows(await loadCsv(`${DEMO}train.csv`), 0, 30);
    const demoGroups = parseGroupsJson(readFileSync(`${DEMO}groups.json`, 'utf8'));
    const ex = await createExplainer({
      modelPath: `${TREES}credit-gbdt-v3.onnx`,
      background: train,
      groups: demoGroups,
      output: 'probabilities[1]',
      threads: 1,
    });
    const service = await createService({ models: { gbdt: ex }, logger: false });
    try {
      const base = await service.listen({ port: 0, host: '127.0.0.1' });
      const applicants = await loadCsv(`${DEMO}applicants.csv`);
      const body = {
        rows: [0, 1].map((i) => Array.from(applicants.data.subarray(i * 61, (i + 1) * 61))),
        method: 'tree',
      };
      const res = await fetch(`${base}/v1/models/gbdt/explain`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      const j = (await res.json()) as ExplanationJSON;
      const lib = explanationToJSON(await ex.explain(body.rows, { method: 'tree' }));
      expect(j.method).toBe('tree');
      expect(j.rows.map((r) => r.values)).toEqual(lib.rows.map((r) => r.values));
      const refused = await fetch(`${base}/v1/models/gbdt/explain`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, budget: 100 }),
      });
      expect(refused.status).toBe(400);
    } finally {
      await service.close();
    }
  });
});
