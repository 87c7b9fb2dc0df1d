import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/errors.js';
import { loadOnnx, type OnnxModel } from '../../src/models/onnx-model.js';
import { decodeOnnxGraph } from '../../src/models/onnx-protobuf.js';
import { predictMargin, readTreeEnsemble, type TreeEnsemble } from '../../src/models/tree-ensemble.js';
import { Rng } from '../../src/sampling/rng.js';

const DIR = fileURLToPath(new URL('../fixtures/trees/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const softmax = (m: number[]) => {
  const mx = Math.max(...m);
  const e = m.map((v) => Math.exp(v - mx));
  const s = e.reduce((a, v) => a + v, 0);
  return e.map((v) => v / s);
};

/** What onnxruntime outputs, from the margin (the ensemble's post transform or the node after it). */
const CASES: Record<string, { transform: (m: number[]) => number[]; categorical?: number }> = {
  'gbdt-regressor-v3': { transform: (m) => m },
  'gbdt-regressor-v5': { transform: (m) => m },
  'gbdt-binary-v3': { transform: ([m]) => [sigmoid(-m), sigmoid(m)] },
  'gbdt-multiclass-v3': { transform: softmax },
  'forest-v3': { transform: (m) => m },
  'gbdt-sigmoid-v3': { transform: ([m]) => [sigmoid(m)] },
  'random-v5': { transform: (m) => m, categorical: 3 },
  'binary2-v3': { transform: softmax },
};

/**
 * Random rows plus rows on every split: each threshold t itself, t ± 1e-12 (the same float32
 * as t, so a float64 comparison would disagree with onnxruntime's float32 one), the float32
 * neighbours of t, and NaN.
 */
function testRows(e: TreeEnsemble, seed: number, categorical?: number): { data: Float64Array; nRows: number } {
  const rng = Rng.fromSeed(seed);
  const d = e.nFeatures;
  const rows: number[][] = [];
  const random = () =>
    Array.from({ length: d }, (_, c) =>
      rng.float() < 0.05 ? Number.NaN : c === categorical ? rng.int(6) : rng.normal(),
    );
  for (let i = 0; i < 150; i++) rows.push(random());
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  for (let k = 0; k < e.feature.length; k++) {
    const t = e.threshold[k];
    f32[0] = t;
    u32[0] += 1;
    const up = f32[0];
    f32[0] = t;
    u32[0] -= 1;
    const down = f32[0];
    for (const v of [t, t + 1e-12, t - 1e-12, up, down, Number.NaN]) {
      const r = random();
      r[e.feature[k]] = v;
      rows.push(r);
    }
  }
  return { data: Float64Array.from(rows.flat()), nRows: rows.length };
}

const models: OnnxModel[] = [];
afterAll(async () => {
  for (const m of models) await m.close();
});

describe('readTreeEnsemble + predictMargin', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: margins, transformed as the graph does, equal onnxruntime's outputs (random rows and rows on every split)`, async () => {
      const e = await readTreeEnsemble(`${DIR}${name}.onnx`);
      const model = await loadOnnx(`${DIR}${name}.onnx`);
      models.push(model);
      const { data, nRows } = testRows(e, 17, c.categorical);
      const margins = predictMargin(e, data, nRows);
      const ort = await model.predict(model.inputType === 'float32' ? Float32Array.from(data) : data, nRows);
      const width = model.outputNames.length;
      let max = 0;
      for (let r = 0; r < nRows; r++) {
        const m = Array.from(margins.subarray(r * e.nTargets, (r + 1) * e.nTargets));
        const want = c.transform(m);
        expect(want.length).toBe(width);
        for (let k = 0; k < width; k++) max = Math.max(max, Math.abs(want[k] - ort[r * width + k]));
      }
      // onnxruntime sums in float32: agreement to float32 rounding, never a different leaf
      expect(max).toBeLessThan(2e-6);
    });
  }

  it('a row value that equals a threshold only in float32 goes where onnxruntime sends it', async () => {
    const e = await readTreeEnsemble(`${DIR}gbdt-regressor-v3.onnx`);
    // the root split: x[f] = t + 1e-12 is > t in float64 but == t in float32
    const root = e.roots[0];
    const row = new Float64Array(e.nFeatures);
    row[e.feature[root]] = e.threshold[root] + 1e-12;
    expect(Math.fround(row[e.feature[root]])).toBe(e.threshold[root]);
    const f64: TreeEnsemble = { ...e, splitPrecision: 'float64' };
    // some leaf differs between the two semantics on this row or on one of its neighbours
    const model = await loadOnnx(`${DIR}gbdt-regressor-v3.onnx`);
    models.push(model);
    const ort = await model.predict(Float32Array.from(row), 1);
    expect(Math.abs(predictMargin(e, row, 1)[0] - ort[0])).toBeLessThan(2e-6);
    expect(e.splitPrecision).toBe('float32');
    expect(predictMargin(f64, row, 1)[0]).not.toBe(predictMargin(e, row, 1)[0]);
  });

  it('opset 3 and opset 5 encodings of the same trees give the same margins', async () => {
    const a = await readTreeEnsemble(`${DIR}gbdt-regressor-v3.onnx`);
    const b = await readTreeEnsemble(readFileSync(`${DIR}gbdt-regressor-v5.onnx`));
    const { data, nRows } = testRows(a, 5);
    const ma = predictMargin(a, data, nRows);
    const mb = predictMargin(b, data, nRows);
    for (let i = 0; i < ma.length; i++) expect(Math.abs(ma[i] - mb[i])).toBeLessThan(1e-12);
    expect(a.opset).toBe(3);
    expect(b.opset).toBe(5);
    expect(b.operator).toBe('ai.onnx.ml.TreeEnsemble');
  });

  it('describes the graph around the ensemble: margins, transforms after it, folded casts', async () => {
    const bin = await readTreeEnsemble(`${DIR}gbdt-binary-v3.onnx`);
    expect(bin.outputNames).toEqual(['margin[1]']);
    expect(bin.postTransform).toBe('LOGISTIC');
    const multi = await readTreeEnsemble(`${DIR}gbdt-multiclass-v3.onnx`);
    expect(multi.outputNames).toEqual(['margin[0]', 'margin[1]', 'margin[2]']);
    expect(multi.folded).toEqual(['Cast(to=float)']);
    expect(multi.splitPrecision).toBe('float32');
    const sig = await readTreeEnsemble(`${DIR}gbdt-sigmoid-v3.onnx`);
    expect(sig.after).toEqual(['Sigmoid']);
    const forest = await readTreeEnsemble(`${DIR}forest-v3.onnx`);
    expect(forest.nTargets).toBe(2);
    expect(forest.roots.length).toBe(8);
  });

  it('refuses an operator before the ensemble, naming it and suggesting exact/kernel', async () => {
    const err = await readTreeEnsemble(`${DIR}scaled-v3.onnx`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/operator Scaler/);
    expect((err as Error).message).toMatch(/'exact'.*'kernel'/);
  });

  it('refuses MIN/MAX aggregates (not additive) instead of approximating them', async () => {
    const err = await readTreeEnsemble(`${DIR}max-v3.onnx`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/aggregate_function MAX is not additive/);
  });

  it('refuses a binary classifier scoring both classes with two base_values (onnxruntime does not add them per class)', async () => {
    const err = await readTreeEnsemble(`${DIR}binary2-base-v3.onnx`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/two base_values/);
    const ok = await readTreeEnsemble(`${DIR}binary2-v3.onnx`);
    expect(ok.outputNames).toEqual(['margin[0]', 'margin[1]']);
  });

  it('refuses a model without a tree ensemble, and bytes that are not ONNX', async () => {
    const err = await readTreeEnsemble(`${FIXTURES}logistic.onnx`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/no ai\.onnx\.ml tree-ensemble node \(operators: MatMul/);
    const bad = await readTreeEnsemble(Uint8Array.of(0x0a, 0xff, 0x01)).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ModelError);
    const missing = await readTreeEnsemble(`${DIR}nope.onnx`).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ModelError);
  });

  it('decodes graph inputs and outputs of an ONNX file', () => {
    const g = decodeOnnxGraph(readFileSync(`${DIR}gbdt-binary-v3.onnx`));
    expect(g.inputs.map((i) => [i.name, i.elemType, i.dims])).toEqual([['x', 1, ['batch', 6]]]);
    expect(g.outputs.map((o) => o.name)).toEqual(['label', 'probabilities']);
    expect(g.opsets.get('ai.onnx.ml')).toBe(3);
  });
});
