/**
 * The sensitivity methods through the registry: explain(), the CLI (--method, their flags,
 * exit 2 on a bad value) and the HTTP service give the explainers' own results.
 */
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCsv } from '../../src/data/csv.js';
import type { Dataset } from '../../src/data/dataset.js';
import { sliceRows } from '../../src/data/dataset.js';
import { InvalidOptionError } from '../../src/errors.js';
import { explain } from '../../src/explain.js';
import { createExplainer } from '../../src/explainer.js';
import { gradient, smoothGrad } from '../../src/explainers/sensitivity/gradient.js';
import { integratedGradients } from '../../src/explainers/sensitivity/integrated-gradients.js';
import { occlusion } from '../../src/explainers/sensitivity/occlusion.js';
import type { ExplanationJSON } from '../../src/explanation/explanation.js';
import { explanationToJSON } from '../../src/explanation/explanation.js';
import { getMethod } from '../../src/methods/registry.js';
import { fromFunction } from '../../src/models/function-model.js';
import type { WhyboxService } from '../../src/service/server.js';
import { createService } from '../../src/service/server.js';
import { claimedProperties, registeredMethods } from '../../src/testing/index.js';
import { run } from '../helpers/cli.js';
import type { TempDir } from '../helpers/tmp.js';
import { makeTempDir } from '../helpers/tmp.js';

const DEMO = fileURLToPath(new URL('../../datasets/credit-demo/', import.meta.url));
const f = (x: ArrayLike<number>) => Math.tanh(x[0] * x[1]) + x[2] ** 2 - 0.5 * x[3];
const model = fromFunction((x: Float64Array) => f(x), { nInputs: 4, inputNames: ['a', 'b', 'c', 'd'] });
const rows = { data: Float64Array.of(0.5, -1, 2, 0.3, 1, 1, -1, 2), nRows: 2 };
const background = { data: Float64Array.of(0, 0, 0, 0, 1, -1, 0.5, 2, -0.5, 0.3, 1, 1), nRows: 3 };
const strip = (j: ExplanationJSON) => ({ ...j, seconds: 0, meta: undefined });

describe('explain() with the sensitivity methods', () => {
  it('integrated-gradients, occlusion, gradient, smoothgrad: the same values as the explainers', async () => {
    const ig = await explain(model, rows, {
      method: 'integrated-gradients',
      background,
      steps: 64,
      baseline: 'background',
    });
    const igLib = await integratedGradients(model, rows, { background, steps: 64, baseline: 'background' });
    expect(Array.from(ig.values)).toEqual(Array.from(igLib.values));
    expect(ig.method).toBe('integrated-gradients');
    expect(ig.meta.params).toEqual({ steps: 64, baseline: 'background' });
    const occ = await explain(model, rows, {
      method: 'occlusion',
      background,
      baselineRow: 1,
      groups: { ab: ['a', 'b'] },
    });
    const occLib = await occlusion(model, rows, { background, baseline: 1, groups: { ab: ['a', 'b'] } });
    expect(Array.from(occ.values)).toEqual(Array.from(occLib.values));
    const g = await explain(model, rows, { method: 'gradient', background });
    expect(Array.from(g.values)).toEqual(Array.from((await gradient(model, rows, { background })).values));
    const sg = await explain(model, rows, { method: 'smoothgrad', background, seed: 5, samples: 10 });
    expect(Array.from(sg.values)).toEqual(
      Array.from((await smoothGrad(model, rows, { background, seed: 5, samples: 10 })).values),
    );
  });

  it('refuses options the method does not take, and two baselines', async () => {
    await expect(explain(model, rows, { method: 'gradient', background, steps: 8 })).rejects.toThrow(
      /steps must be unset for method 'gradient'.*option of 'integrated-gradients'/,
    );
    await expect(explain(model, rows, { method: 'occlusion', background, budget: 100 })).rejects.toThrow(
      InvalidOptionError,
    );
    await expect(
      explain(model, rows, { method: 'integrated-gradients', background, baseline: 'zeros', baselineRow: 0 }),
    ).rejects.toThrow(/baselineRow must be unset when baseline is given/);
    await expect(explain(model, rows, { method: 'integrated-gradients', background, steps: 0 })).rejects.toThrow(
      /steps must be an integer in 1\.\./,
    );
  });

  it('declares claims by baseline', () => {
    const ig = getMethod('integrated-gradients');
    expect(ig.claims({})).toEqual(['dummy', 'symmetry', 'linearity']);
    expect(ig.claims({ baseline: 'background' })).toEqual(['efficiency', 'dummy', 'symmetry', 'linearity']);
    expect(ig.claims({ baselineRow: 2 })).toEqual(['dummy', 'linearity']);
    expect(getMethod('occlusion').claims({ window: 3 })).toEqual([]);
    for (const m of ['gradient', 'gradient-input', 'smoothgrad']) expect(getMethod(m).claims({})).toEqual([]);
  });
});

describe('whybox/testing: registeredMethods() claims of the sensitivity methods hold', () => {
  it('through explain() with the default options (IG and occlusion: dummy, symmetry, linearity)', async () => {
    const mine = registeredMethods().filter((m) =>
      ['gradient', 'gradient-input', 'smoothgrad', 'integrated-gradients', 'occlusion'].includes(m.name),
    );
    expect(mine.map((m) => [m.name, m.claims])).toEqual([
      ['gradient', []],
      ['gradient-input', []],
      ['smoothgrad', []],
      ['integrated-gradients', ['dummy', 'symmetry', 'linearity']],
      ['occlusion', ['dummy', 'symmetry', 'linearity']],
    ]);
    for (const m of mine)
      for (const [claim, property] of Object.entries(claimedProperties(m)))
        await fc.assert(property, { numRuns: 10, seed: claim.length });
  });
});

describe('CLI and service', () => {
  let tmp: TempDir;
  let train: Dataset;
  beforeAll(async () => {
    tmp = await makeTempDir('whybox-sens-');
    train = await loadCsv(`${DEMO}train.csv`);
  });
  afterAll(async () => {
    await tmp?.remove();
  });

  it('whybox explain --method occlusion / integrated-gradients --steps, JSON equal to the library', async () => {
    const bgPath = await tmp.write(
      'bg.csv',
      `${train.columns.join(',')}\n${Array.from({ length: 20 }, (_, r) =>
        Array.from(train.data.subarray(r * 61, (r + 1) * 61)).join(','),
      ).join('\n')}\n`,
    );
    const args = ['explain', '--model', `${DEMO}model.onnx`, '--data', `${DEMO}applicants.csv`, '--background', bgPath];
    const common = ['--groups', `${DEMO}groups.json`, '--output', 'probabilities[1]', '--format', 'json', '--quiet'];
    const occ = await run(...args, ...common, '--method', 'occlusion', '--baseline', 'background');
    expect(occ.stderr).toBe('');
    expect(occ.code).toBe(0);
    const occJson = JSON.parse(occ.stdout) as ExplanationJSON;
    expect(occJson.method).toBe('occlusion');
    expect(occJson.players.length).toBe(20);
    const ig = await run(
      ...args,
      ...common,
      '--method',
      'integrated-gradients',
      '--steps',
      '16',
      '--rule',
      'riemann-middle',
    );
    expect(ig.code).toBe(0);
    const igJson = JSON.parse(ig.stdout) as ExplanationJSON;
    expect(igJson.sensitivity).toMatchObject({ steps: 16, rule: 'riemann-middle' });
    for (const r of igJson.rows) expect(r.efficiencyGap).toBeLessThan(1e-2);
    const bad = await run(...args, ...common, '--method', 'integrated-gradients', '--steps', '0');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/--steps/);
    const wrong = await run(...args, ...common, '--method', 'gradient', '--window', '3');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--window must be unset for method 'gradient'/);
  });

  it('POST /v1/models/:name/explain with method integrated-gradients answers as the Explainer', async () => {
    const bg = sliceRows(train, 0, 10);
    const credit = await createExplainer({
      modelPath: `${DEMO}model.onnx`,
      background: bg,
      output: 'probabilities[1]',
      threads: 1,
    });
    let service: WhyboxService | undefined;
    try {
      service = await createService({ models: { credit }, logger: false });
      const base = await service.listen({ port: 0, host: '127.0.0.1' });
      const x = Array.from(train.data.subarray(100 * 61, 101 * 61));
      const body = { rows: [x], method: 'integrated-gradients', steps: 8, baseline: 'mean', seed: 3 };
      const res = await fetch(`${base}/v1/models/credit/explain`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as ExplanationJSON;
      expect(res.status).toBe(200);
      const lib = explanationToJSON(
        await credit.explain([x], { method: 'integrated-gradients', steps: 8, baseline: 'mean', seed: 3 }),
      );
      expect(strip(json)).toEqual(strip(lib));
      expect(json.method).toBe('integrated-gradients');
    } finally {
      await service?.close();
      await credit.close?.();
    }
  });
});
