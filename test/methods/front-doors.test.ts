/**
 * For every registered tabular method, the library, the CLI and the service give the same
 * JSON for the same request — with a background summary too (one documented summary seed,
 * recorded in `meta.background.seed`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCsv } from '../../src/data/csv.js';
import { explain } from '../../src/explain.js';
import { createExplainer } from '../../src/explainer.js';
import type { ExplanationJSON } from '../../src/explanation/explanation.js';
import { explanationToJSON } from '../../src/explanation/explanation.js';
import { METHODS } from '../../src/methods/registry.js';
import type { OnnxModel } from '../../src/models/onnx-model.js';
import { loadOnnx } from '../../src/models/onnx-model.js';
import { SUMMARY_SEED } from '../../src/sampling/background.js';
import type { WhyboxService } from '../../src/service/server.js';
import { createService } from '../../src/service/server.js';
import { run } from '../helpers/cli.js';
import { fixturePath, fixtureRows } from '../helpers/fixtures.js';
import type { TempDir } from '../helpers/tmp.js';
import { makeTempDir } from '../helpers/tmp.js';

const D = 10;
const names = Array.from({ length: D }, (_, i) => `x${i}`);
const csv = (data: Float64Array, n: number) =>
  `${names.join(',')}\n${Array.from({ length: n }, (_, r) => Array.from(data.subarray(r * D, (r + 1) * D)).join(',')).join('\n')}\n`;
const all = fixtureRows('linear');
const groups = { g01: ['x0', 'x1'], g23: ['x2', 'x3'] };

let tmp: TempDir;
let files: { data: string; bg: string; groups: string };
let service: WhyboxService;
let onnx: OnnxModel;
beforeAll(async () => {
  tmp = await makeTempDir('whybox-doors-');
  files = {
    data: await tmp.write('data.csv', csv(all, 3)),
    bg: await tmp.write('bg.csv', csv(all, 12)),
    groups: await tmp.write('groups.json', JSON.stringify(groups)),
  };
  const explainer = await createExplainer({
    modelPath: fixturePath('linear'),
    background: await loadCsv(files.bg),
    summarize: { method: 'kmeans', rows: 5 },
    groups,
    threads: 1,
  });
  const ungrouped = await createExplainer({
    modelPath: fixturePath('linear'),
    background: await loadCsv(files.bg),
    summarize: { method: 'kmeans', rows: 5 },
    threads: 1,
  });
  service = await createService({ models: { lin: explainer, lin1: ungrouped }, logger: false });
  onnx = await loadOnnx(fixturePath('linear'));
});
afterAll(async () => {
  await service.close();
  await onnx.close();
  await tmp.remove();
});

const noSeconds = (j: ExplanationJSON) => ({ ...j, seconds: 0 });

describe.each(METHODS.filter((m) => m.inputs.includes('tabular') && !m.requires).map((m) => [m.name, m]))(
  '%s: library = CLI = service',
  (name, method) => {
    it('gives the same JSON', async () => {
      const budget = method.options.some((o) => o.name === 'budget');
      const shapley = method.shared.includes('interventional');
      const lime = name === 'lime';
      const single = method.singleColumnPlayers === true;
      const flags = [
        ...['--method', name, '--seed', '3', '--format', 'json'],
        ...(budget ? ['--budget', '64'] : []),
        ...(lime ? ['--num-samples', '200'] : []),
        ...(shapley ? ['--summarize', '5', '--threads', '1'] : []),
      ];
      const cli = await run(
        'explain',
        ...['--model', fixturePath('linear'), '--data', files.data, '--background', files.bg],
        ...(single ? [] : ['--groups', files.groups]),
        ...flags,
      );
      expect(cli.stderr).toBe('');
      expect(cli.code).toBe(0);
      const fromCli = JSON.parse(cli.stdout) as ExplanationJSON;

      const body = {
        rows: Array.from({ length: 3 }, (_, r) => Array.from(all.subarray(r * D, (r + 1) * D))),
        method: name,
        seed: 3,
        ...(budget ? { budget: 64 } : {}),
        ...(lime ? { numSamples: 200 } : {}),
      };
      const res = await service.app.inject({
        method: 'POST',
        url: `/v1/models/${single ? 'lin1' : 'lin'}/explain`,
        payload: body,
      });
      expect(res.statusCode, res.body).toBe(200);
      const fromService = res.json() as ExplanationJSON;

      const lib = explanationToJSON(
        await explain(onnx, await loadCsv(files.data), {
          background: await loadCsv(files.bg),
          ...(single ? {} : { groups }),
          method: name,
          seed: 3,
          ...(budget ? { budget: 64 } : {}),
          ...(lime ? { numSamples: 200 } : {}),
          ...(shapley ? { summarize: { method: 'kmeans', rows: 5 }, threads: 1 } : {}),
        }),
      );
      expect(noSeconds(fromService)).toEqual(noSeconds(fromCli));
      expect(noSeconds(lib)).toEqual(noSeconds(fromCli));
      expect(fromCli.meta?.method).toBe(name);
      if (shapley) expect(fromCli.meta?.background.seed).toBe(SUMMARY_SEED);
    });
  },
);
