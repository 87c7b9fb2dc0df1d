import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { playersFromIndices } from '../../../src/data/players.js';
import { occlusion, occlusionWindows } from '../../../src/explainers/sensitivity/occlusion.js';
import { occludeSequences, positionPlayers } from '../../../src/explainers/sensitivity/sequences.js';
import { explanationToJSON } from '../../../src/explanation/explanation.js';
import { fromFunction } from '../../../src/models/function-model.js';
import type { OnnxModel } from '../../../src/models/onnx-model.js';
import { loadOnnx } from '../../../src/models/onnx-model.js';
import { FIXTURES, fixtureRows } from './helpers.js';

const d = 6;
const f = (x: ArrayLike<number>) => [
  Math.tanh(x[0] * x[1]) + x[2] ** 2 - x[3] * x[4] + Math.sin(x[5]),
  x[0] + 2 * x[5],
];
const model = fromFunction((x: Float64Array) => f(x), { nInputs: d, outputNames: ['a', 'b'] });
const x = Float64Array.of(0.5, -1.5, 2, 0.7, -0.3, 1.1);
const bg = Float64Array.of(0, 0, 0, 0, 0, 0, 1, 1, -1, 0.5, 0.2, -2, -0.4, 0.8, 0.3, 0.1, 1.5, 0.6);

/** f(x with `cols` set to row b). */
function occluded(b: ArrayLike<number>, cols: readonly number[]): number[] {
  const z = Array.from(x);
  for (const c of cols) z[c] = b[c];
  return f(z);
}

describe('occlusion', () => {
  it('window 1: f(x) − f(x with the player at the baseline), brute force, every output', async () => {
    const b = [0.1, 0.2, -0.3, 0.4, 0.5, -0.6];
    const groups = { ab: ['x0', 'x1'], de: ['x3', 'x4'] };
    const e = await occlusion(model, { data: x, nRows: 1 }, { baseline: b, groups });
    expect(e.players).toEqual(['ab', 'x2', 'de', 'x5']);
    const fx = f(x);
    e.playerColumns.forEach((cols, p) => {
      const fo = occluded(b, cols);
      for (let o = 0; o < 2; o++) expect(e.values[p * 2 + o]).toBeCloseTo(fx[o] - fo[o], 14);
    });
    expect(e.baseValues[0]).toBeCloseTo(f(b)[0], 14);
    expect(e.modelRows).toBe(1 + 1 + 4);
    // output b = x0 + 2 x5 is additive: leave-one-out is complete (gap 0)
    let sum = 0;
    for (let p = 0; p < 4; p++) sum += e.values[p * 2 + 1];
    expect(sum).toBeCloseTo(fx[1] - f(b)[1], 14);
  });

  it('sliding windows: each player gets the mean drop of the windows covering it', async () => {
    expect(occlusionWindows(6, 3, 2)).toEqual([0, 2, 3]);
    expect(occlusionWindows(7, 3, 2)).toEqual([0, 2, 4]);
    expect(occlusionWindows(5, 5, 1)).toEqual([0]);
    const b = new Float64Array(d);
    const e = await occlusion(model, { data: x, nRows: 1 }, { baseline: 'zeros', window: 3, stride: 2 });
    const fx = f(x);
    const starts = [0, 2, 3];
    for (let p = 0; p < d; p++) {
      const covering = starts.filter((s) => s <= p && p < s + 3);
      const want = covering.reduce((acc, s) => acc + fx[0] - occluded(b, [s, s + 1, s + 2])[0], 0) / covering.length;
      expect(e.values[p * 2]).toBeCloseTo(want, 14);
    }
    expect(e.sensitivity).toMatchObject({ window: 3, stride: 2, baseline: 'zeros' });
  });

  it("with the 'background' baseline is leave-one-out of the interventional game, v(N) − v(N ∖ p)", async () => {
    const weights = [0.5, 0.25, 0.25];
    const e = await occlusion(
      model,
      { data: x, nRows: 1 },
      { background: { data: bg, nRows: 3 }, backgroundWeights: weights, baseline: 'background' },
    );
    const fx = f(x);
    for (let p = 0; p < d; p++) {
      let v = 0;
      for (let k = 0; k < 3; k++) v += weights[k] * occluded(bg.subarray(k * d, (k + 1) * d), [p])[0];
      expect(e.values[p * 2]).toBeCloseTo(fx[0] - v, 14);
    }
    const gap = explanationToJSON(e).rows[0].efficiencyGap;
    expect(gap).toBeGreaterThan(1e-3); // tanh and the product are not additive: occlusion is not complete
  });

  it('refuses bad windows and strides', async () => {
    const rows = { data: x, nRows: 1 };
    await expect(occlusion(model, rows, { baseline: 'zeros', window: 7 })).rejects.toThrow(
      /window must be an integer in 1\.\.6/,
    );
    await expect(occlusion(model, rows, { baseline: 'zeros', window: 2, stride: 3 })).rejects.toThrow(
      /stride must be an integer in 1\.\.2/,
    );
    await expect(occlusion(model, rows, { baseline: 9 })).rejects.toThrow(
      /baseline must be a background row index with a background/,
    );
  });
});

describe('occlusion of sequences (seq-cnn fixture, windows of positions)', () => {
  let cnn: OnnxModel;
  beforeAll(async () => {
    cnn = await loadOnnx(`${FIXTURES}seq-cnn.onnx`);
  });
  afterAll(async () => {
    await cnn.close();
  });

  it('matches direct model calls on every window of 5 positions', async () => {
    const L = 60;
    const A = 4;
    const seqs = fixtureRows('seq-cnn').slice(0, 2);
    const data = Float64Array.from(seqs.flat());
    // NLC layout: position p owns columns 4p..4p+3
    const players = playersFromIndices(
      L * A,
      Array.from({ length: L }, (_, p) => [0, 1, 2, 3].map((c) => p * A + c)),
      Array.from({ length: L }, (_, p) => String(p + 1)),
    );
    const uniform = new Float64Array(L * A).fill(0.25);
    const e = await occlusion(cnn, { data, nRows: 2 }, { players, baseline: uniform, window: 5, stride: 1 });
    expect(e.players.length).toBe(L);
    const nOut = cnn.outputNames.length;
    const starts = Array.from({ length: L - 4 }, (_, s) => s);
    expect(e.modelRows).toBe(1 + 2 * (1 + starts.length));
    for (let r = 0; r < 2; r++) {
      const row = data.subarray(r * L * A, (r + 1) * L * A);
      const batch = new Float32Array((1 + starts.length) * L * A);
      batch.set(row);
      starts.forEach((s, k) => {
        const z = batch.subarray((1 + k) * L * A, (2 + k) * L * A);
        z.set(row);
        z.fill(0.25, s * A, (s + 5) * A);
      });
      const out = await cnn.predict(batch, 1 + starts.length);
      for (const p of [0, 3, 30, 59]) {
        const covering = starts.filter((s) => s <= p && p < s + 5);
        for (let o = 0; o < nOut; o++) {
          const want = covering.reduce((acc, s) => acc + out[o] - out[(1 + s) * nOut + o], 0) / covering.length;
          expect(e.values[(r * L + p) * nOut + o]).toBeCloseTo(want, 6);
        }
      }
    }
  });

  it('occludeSequences gives the same track from the one-hot shape, in either layout', async () => {
    const seqs = fixtureRows('seq-cnn').slice(0, 2);
    const data = Float64Array.from(seqs.flat());
    const players = positionPlayers(60, 4, 'NLC');
    const viaRows = await occlusion(
      cnn,
      { data, nRows: 2 },
      { players, baseline: new Float64Array(240).fill(0.25), window: 3 },
    );
    const viaSeq = await occludeSequences(
      cnn,
      { data, nRows: 2, length: 60, channels: 4, layout: 'NLC' },
      { window: 3 },
    );
    expect(Array.from(viaSeq.track)).toEqual(Array.from(viaRows.values));
    expect(Array.from(viaSeq.predictions)).toEqual(Array.from(viaRows.predictions));
    expect(viaSeq.modelRows).toBe(viaRows.modelRows);
    const ncl = positionPlayers(5, 4, 'NCL');
    expect(Array.from(ncl.columns.subarray(ncl.offsets[2], ncl.offsets[3]))).toEqual([2, 7, 12, 17]);
    await expect(
      occludeSequences(cnn, { data, nRows: 2, length: 60, channels: 4, layout: 'NLC' }, { reference: 'gc' as never }),
    ).rejects.toThrow(/reference must be 'zeros' or 'uniform'/);
  });
});
