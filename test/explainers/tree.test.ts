import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidOptionError, ModelError } from '../../src/errors.js';
import { treesOfModel } from '../../src/explainers/tree.js';
import { fromFunction } from '../../src/models/function-model.js';
import { loadOnnx, type OnnxModel } from '../../src/models/onnx-model.js';
import { predictMargin } from '../../src/models/tree-ensemble.js';
import { Rng } from '../../src/sampling/rng.js';

const DIR = fileURLToPath(new URL('../fixtures/trees/', import.meta.url));
const models: OnnxModel[] = [];
afterAll(async () => {
  for (const m of models) await m.close();
});
const load = async (name: string, options = {}) => {
  const m = await loadOnnx(`${DIR}${name}.onnx`, options);
  models.push(m);
  return m;
};
const rows = (d: number, n: number) => {
  const rng = Rng.fromSeed(4);
  return Float64Array.from({ length: n * d }, () => rng.normal());
};
const logit = (p: number) => Math.log(p / (1 - p));

describe('treesOfModel', () => {
  it("binary classifier: the margins of the selected classes are the log-odds of the model's probabilities", async () => {
    for (const select of [undefined, [1], [0]]) {
      const model = await load('gbdt-binary-v3', select ? { select } : {});
      const t = await treesOfModel(model);
      expect(t.outputNames).toEqual((select ?? [0, 1]).map((k) => `margin[${k}]`));
      const x = rows(6, 40);
      const p = await model.predict(Float32Array.from(x), 40);
      const m = predictMargin(t.ensemble, x, 40);
      for (let i = 0; i < p.length; i++) expect(Math.abs(logit(p[i]) - m[i])).toBeLessThan(1e-4);
    }
  });

  it('multi-class: select [2] explains margin[2]; link logit refused (margins are not log-odds of softmax outputs)', async () => {
    const model = await load('gbdt-multiclass-v3', { select: [2] });
    const t = await treesOfModel(model);
    expect(t.outputNames).toEqual(['margin[2]']);
    expect(t.note).toMatch(/SOFTMAX/);
    const logitModel = await load('gbdt-multiclass-v3', { select: [2], link: 'logit' });
    await expect(treesOfModel(logitModel)).rejects.toBeInstanceOf(InvalidOptionError);
    const binLogit = await load('gbdt-binary-v3', { select: [1], link: 'logit' });
    expect((await treesOfModel(binLogit)).outputNames).toEqual(['margin[1]']);
  });

  it('refuses a model that is not an ONNX model', async () => {
    const f = fromFunction((x: ArrayLike<number>) => x[0], { nInputs: 2 });
    await expect(treesOfModel(f)).rejects.toBeInstanceOf(ModelError);
    await expect(treesOfModel(f)).rejects.toThrow(/not an ONNX model.*'exact'/);
  });
});
