import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../src/errors.js';
import {
  centralGradients,
  columnScales,
  directionalDerivatives,
  FINITE_DIFFERENCE_DEFAULTS,
  modelPredictor,
  playerDirections,
  resolveRelativeStep,
  stepSizes,
} from '../../../src/explainers/sensitivity/finite-difference.js';
import { fromFunction } from '../../../src/models/function-model.js';
import type { OnnxModel } from '../../../src/models/onnx-model.js';
import { loadOnnx } from '../../../src/models/onnx-model.js';
import { createBackground } from '../../../src/sampling/background.js';
import { FIXTURES, fixtureRows, onnxInitializers, relError } from './helpers.js';

// logistic.onnx: p1 = sigmoid(x·w + b); its weights read from the file are the truth:
// ∂p1/∂x = p1 (1 − p1) w.
const init = onnxInitializers(`${FIXTURES}logistic.onnx`);
const w = init.w;
const b0 = init.b[0];
const rows = fixtureRows('logistic').map((r) => Float64Array.from(r));
const sigmoid = (x: ArrayLike<number>) => {
  let s = b0;
  for (let i = 0; i < w.length; i++) s += w[i] * x[i];
  return 1 / (1 + Math.exp(-s));
};
const truth = (x: Float64Array) => {
  const p = sigmoid(x);
  return w.map((wi) => p * (1 - p) * wi);
};
const ones = new Float64Array(20).fill(1);

let onnx: OnnxModel;
beforeAll(async () => {
  onnx = await loadOnnx(`${FIXTURES}logistic.onnx`, { select: [1] });
});
afterAll(async () => {
  await onnx.close();
});

/** Mean relative gradient error over the fixture rows at one relative step. */
async function meanError(model: Parameters<typeof modelPredictor>[0], rel: number): Promise<number> {
  const pred = modelPredictor(model);
  let sum = 0;
  for (const x of rows) sum += relError((await centralGradients(pred, x, 1, stepSizes(x, ones, rel))).values, truth(x));
  return sum / rows.length;
}

describe('central differences: error against the closed-form logistic gradient', () => {
  it('float64 model: error ∝ h² until float64 rounding (floor near h = 1e-5, the default)', async () => {
    const js = fromFunction((x: Float64Array) => sigmoid(x), { nInputs: 20 });
    const e = new Map<number, number>();
    for (const rel of [1e-1, 1e-2, 1e-3, 1e-5, 1e-7]) e.set(rel, await meanError(js, rel));
    // truncation regime: 10× smaller step, ~100× smaller error (measured 1.85e-4 → 1.85e-6 → 1.85e-8)
    expect(e.get(1e-1)! / e.get(1e-2)!).toBeGreaterThan(80);
    expect(e.get(1e-2)! / e.get(1e-3)!).toBeGreaterThan(80);
    // floor (measured 4.5e-11 at 1e-5), then rounding grows as 1/h (4.4e-9 at 1e-7)
    expect(e.get(1e-5)!).toBeLessThan(2e-10);
    expect(e.get(1e-7)!).toBeGreaterThan(10 * e.get(1e-5)!);
    expect(FINITE_DIFFERENCE_DEFAULTS.relativeStepFloat64).toBe(1e-5);
  });

  it('float32 ONNX model: h² down to h ≈ 1e-2 (the default), then float32 rounding dominates as 1/h', async () => {
    const e = new Map<number, number>();
    for (const rel of [3e-1, 1e-1, 1e-2, 1e-4, 1e-6]) e.set(rel, await meanError(onnx, rel));
    // measured: 1.7e-3 (0.3), 1.9e-4 (0.1), 2.0e-5 (0.01), 2.3e-3 (1e-4), 1.8e-1 (1e-6)
    expect(e.get(3e-1)! / e.get(1e-1)!).toBeGreaterThan(6); // (3)² = 9 in theory
    expect(e.get(1e-2)!).toBeLessThan(5e-5);
    expect(e.get(1e-2)!).toBeLessThan(e.get(1e-1)! / 4);
    expect(e.get(1e-4)!).toBeGreaterThan(20 * e.get(1e-2)!);
    expect(e.get(1e-6)! / e.get(1e-4)!).toBeGreaterThan(20); // ~1/h: 100× in theory
    expect(resolveRelativeStep(undefined, 'float32')).toBe(1e-2);
  });

  it('is exact for a linear float64 model and costs 2d rows per point', async () => {
    const a = Float64Array.from({ length: 7 }, (_, i) => (i - 3) * 0.7 + 0.1);
    let calls = 0;
    const lin = fromFunction(
      (xs, n) => {
        calls++;
        return Float64Array.from({ length: n }, (_, r) => a.reduce((s, ai, i) => s + ai * xs[r * 7 + i], 2));
      },
      { nInputs: 7, batched: true },
    );
    const pts = Float64Array.from({ length: 21 }, (_, i) => Math.sin(i) * 3);
    const g = await centralGradients(modelPredictor(lin, { batchRows: 28 }), pts, 3, stepSizes(pts, ones, 1e-5));
    expect(g.modelRows).toBe(3 * 14);
    expect(calls).toBe(2); // 2 points fill one 28-row call, the third its own
    for (let k = 0; k < 3; k++) for (let i = 0; i < 7; i++) expect(g.values[k * 7 + i]).toBeCloseTo(a[i], 8);
  });
});

describe('directional derivatives', () => {
  it('equal ∇f · v for each player direction (float64 and float32)', async () => {
    const x = rows[0];
    const base = rows[1];
    const players = [[0, 1, 2], [3], [4, 5, 6, 7, 8, 9], [10], [11, 12, 13, 14, 15, 16, 17, 18, 19]];
    const g = truth(x);
    const expected = players.map((cols) => cols.reduce((s, c) => s + g[c] * (x[c] - base[c]), 0));
    const js = fromFunction((r: Float64Array) => sigmoid(r), { nInputs: 20 });
    for (const [model, rel, tol] of [
      [js, 1e-5, 1e-8],
      [onnx, 1e-2, 2e-4],
    ] as const) {
      const h = stepSizes(x, ones, rel);
      const dirs = playerDirections(x, base, players, h);
      const fd = await directionalDerivatives(modelPredictor(model), x, 1, dirs);
      expect(fd.modelRows).toBe(2 * players.length);
      expect(relError(fd.values, expected)).toBeLessThan(tol);
    }
  });

  it('skips players equal to the baseline (0, no rows)', async () => {
    const x = Float64Array.of(1, 2, 3);
    const dirs = playerDirections(x, Float64Array.of(1, 0, 3), [[0], [1], [2]], stepSizes(x, [1, 1, 1], 1e-5));
    const f = fromFunction((r: Float64Array) => r[0] * r[1] * r[2], { nInputs: 3 });
    const fd = await directionalDerivatives(modelPredictor(f), x, 1, dirs);
    expect(fd.modelRows).toBe(2);
    expect(fd.values[0]).toBe(0);
    expect(fd.values[2]).toBe(0);
    expect(fd.values[1]).toBeCloseTo(3 * 2, 8); // ∂f/∂x1 · (x1 − b1) = x0 x2 · 2
  });
});

describe('step rule and validation', () => {
  it('scales steps by the background standard deviation and |x|', () => {
    const bg = createBackground({ data: Float64Array.of(0, 5, 2, 5, 4, 5), nRows: 3, nColumns: 2 });
    const s = columnScales(2, bg);
    expect(s[0]).toBeCloseTo(Math.sqrt(8 / 3), 12); // population sd of 0, 2, 4
    expect(s[1]).toBe(1); // constant column
    const h = stepSizes(Float64Array.of(0.1, -30), s, 1e-3);
    expect(h[0]).toBeCloseTo(1e-3 * Math.sqrt(8 / 3), 15);
    expect(h[1]).toBeCloseTo(3e-2, 15);
  });

  it('refuses bad steps and scales, and a step that float32 rounds away', async () => {
    expect(() => resolveRelativeStep(0, 'float64')).toThrow(InvalidOptionError);
    expect(() => resolveRelativeStep(2, 'float64')).toThrow(/relativeStep must be a number in \(0, 1\]/);
    expect(() => columnScales(2, undefined, [1])).toThrow(/scale must be 2 positive numbers/);
    expect(() => columnScales(2, undefined, [1, -1])).toThrow(/scale\[1\]/);
    const x = rows[0];
    await expect(centralGradients(modelPredictor(onnx), x, 1, stepSizes(x, ones, 1e-9))).rejects.toThrow(
      /x \+ h and x − h round to the same number/,
    );
  });
});
