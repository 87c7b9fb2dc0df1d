import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../src/errors.js';
import { gradient, gradientInput, smoothGrad } from '../../../src/explainers/sensitivity/gradient.js';
import { explanationToJSON } from '../../../src/explanation/explanation.js';
import { fromFunction } from '../../../src/models/function-model.js';
import type { OnnxModel } from '../../../src/models/onnx-model.js';
import { loadOnnx } from '../../../src/models/onnx-model.js';
import { FIXTURES, fixtureRows, onnxInitializers, relError } from './helpers.js';

// A logistic model with two outputs (p, 1 − p): ∂p/∂x = p (1 − p) w, ∂(1 − p)/∂x = −p (1 − p) w.
const wl = Float64Array.of(0.8, -1.2, 0.3, 2.0, -0.5);
const logistic = (x: Float64Array) => {
  let s = 0.2;
  for (let i = 0; i < 5; i++) s += wl[i] * x[i];
  const p = 1 / (1 + Math.exp(-s));
  return [p, 1 - p];
};
const logisticModel = fromFunction(logistic, { nInputs: 5, outputNames: ['p', 'q'] });
const rows5 = Float64Array.from({ length: 15 }, (_, i) => Math.sin(1.7 * i) * 1.5);

/** f = P(class 1) of mlp.onnx in float64 from its weights, and its exact gradient (backprop through the ReLUs). */
function mlpReference() {
  const w = onnxInitializers(`${FIXTURES}mlp.onnx`);
  const sizes = [61, 64, 32, 2];
  const layers = [
    { W: w.W1, b: w.b1 },
    { W: w.W2, b: w.b2 },
    { W: w.W3, b: w.b3 },
  ];
  return (x: ArrayLike<number>) => {
    const acts: Float64Array[] = [Float64Array.from(x)];
    const masks: Uint8Array[] = [];
    let h = acts[0];
    layers.forEach(({ W, b }, l) => {
      const nIn = sizes[l];
      const nOut = sizes[l + 1];
      const z = new Float64Array(nOut);
      for (let j = 0; j < nOut; j++) {
        let s = b[j];
        for (let i = 0; i < nIn; i++) s += h[i] * W[i * nOut + j];
        z[j] = s;
      }
      if (l < 2) {
        masks.push(z.map((v) => (v > 0 ? 1 : 0)) as unknown as Uint8Array);
        h = z.map((v) => Math.max(0, v));
      } else h = z;
      acts.push(h);
    });
    const [z0, z1] = h;
    const p = 1 / (1 + Math.exp(z0 - z1));
    // dp/dz = p(1-p)·[-1, 1]; back through the layers
    let g = Float64Array.of(-p * (1 - p), p * (1 - p));
    for (let l = 2; l >= 0; l--) {
      const nIn = sizes[l];
      const nOut = sizes[l + 1];
      if (l < 2) g = g.map((v, j) => v * masks[l][j]);
      const gi = new Float64Array(nIn);
      for (let i = 0; i < nIn; i++) {
        let s = 0;
        for (let j = 0; j < nOut; j++) s += layers[l].W[i * nOut + j] * g[j];
        gi[i] = s;
      }
      g = gi;
    }
    return { p, grad: g };
  };
}

let mlp: OnnxModel;
let linear: OnnxModel;
beforeAll(async () => {
  mlp = await loadOnnx(`${FIXTURES}mlp.onnx`, { select: [1] });
  linear = await loadOnnx(`${FIXTURES}linear.onnx`);
});
afterAll(async () => {
  await mlp.close();
  await linear.close();
});

describe('gradient', () => {
  it('equals the closed-form logistic gradient for every output (float64 model)', async () => {
    const e = await gradient(logisticModel, { data: rows5, nRows: 3 });
    expect(e.method).toBe('gradient');
    expect(e.players).toEqual(['x0', 'x1', 'x2', 'x3', 'x4']);
    for (let r = 0; r < 3; r++) {
      const [p] = logistic(rows5.subarray(r * 5, r * 5 + 5));
      for (let i = 0; i < 5; i++) {
        expect(e.values[(r * 5 + i) * 2]).toBeCloseTo(p * (1 - p) * wl[i], 9);
        expect(e.values[(r * 5 + i) * 2 + 1]).toBeCloseTo(-p * (1 - p) * wl[i], 9);
      }
      expect(e.predictions[r * 2]).toBeCloseTo(p, 15);
    }
    expect(e.modelRows).toBe(3 * (2 * 5 + 1));
    expect(Array.from(e.baseValues)).toEqual([0, 0]);
    const json = explanationToJSON(e);
    expect(json.rows[0].efficiencyGap).toBeUndefined();
    expect(json.sensitivity).toEqual({ relativeStep: 1e-5 });
  });

  it('matches backpropagation through the MLP fixture (float32 ONNX, default step)', async () => {
    const ref = mlpReference();
    const rows = fixtureRows('mlp').slice(0, 6);
    const data = Float64Array.from(rows.flat());
    const e = await gradient(mlp, { data, nRows: rows.length });
    const errors = rows.map((x, r) => relError(e.values.subarray(r * 61, (r + 1) * 61), ref(x).grad));
    // measured relative errors: 8.7e-5 1.9e-2 1.2e-4 7.7e-5 1.3e-3 5.6e-5 — row 1 has a ReLU kink
    // within one step of x; with relativeStep 1e-3 every row is ~1e-3 (float32 rounding)
    errors.sort((a, b) => a - b);
    expect(errors[3]).toBeLessThan(3e-4);
    expect(errors[5]).toBeLessThan(5e-2);
  });

  it('refuses grouped players (a one-hot group has no single derivative)', async () => {
    await expect(gradient(logisticModel, { data: rows5, nRows: 3 }, { groups: { g: ['x0', 'x1'] } })).rejects.toThrow(
      /groups must be unset for method 'gradient'.*has no single derivative; use 'gradient-input' or 'integrated-gradients'/,
    );
    await expect(smoothGrad(logisticModel, { data: rows5, nRows: 3 }, { groups: { g: ['x0', 'x1'] } })).rejects.toThrow(
      InvalidOptionError,
    );
  });
});

/**
 * The float32 model's outputs (~10) carry rounding errors of ~1e-5 (a 10-term float32 dot
 * product), divided by a 2 % step: up to ~5e-4 absolute.
 */
function near(got: number, want: number): void {
  expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-4 * Math.abs(want) + 5e-4);
}

describe('gradient × input', () => {
  const wlin = onnxInitializers(`${FIXTURES}linear.onnx`);
  const rows = fixtureRows('linear').slice(0, 4);
  const data = Float64Array.from(rows.flat());

  it('is w ⊙ x for a linear model with the zero baseline, with completeness gap ≈ 0', async () => {
    const e = await gradientInput(linear, { data, nRows: 4 });
    expect(e.baseValues[0]).toBeCloseTo(wlin.b[0], 6);
    for (let r = 0; r < 4; r++) {
      for (let i = 0; i < 10; i++) near(e.values[r * 10 + i], wlin.W[i] * rows[r][i]);
      expect(explanationToJSON(e).rows[r].efficiencyGap).toBeLessThan(2e-3);
    }
  });

  it('is w ⊙ (x − b) against a background row, summed over groups', async () => {
    const bg = Float64Array.from(fixtureRows('linear').slice(6).flat());
    const groups = { a: ['x0', 'x1', 'x2'], b: ['x5', 'x9'] };
    const e = await gradientInput(
      linear,
      { data, nRows: 4 },
      { background: { data: bg, nRows: 6 }, baseline: 2, groups },
    );
    const b = fixtureRows('linear')[8];
    expect(e.players).toEqual(['a', 'x3', 'x4', 'b', 'x6', 'x7', 'x8']);
    const n = e.players.length;
    for (let r = 0; r < 4; r++) {
      e.playerColumns.forEach((cols, p) => {
        const want = cols.reduce((s, c) => s + wlin.W[c] * (rows[r][c] - b[c]), 0);
        near(e.values[r * n + p], want);
      });
    }
    expect(e.sensitivity?.baseline).toBe('background row 2');
  });
});

describe('SmoothGrad', () => {
  // f = Σ c_i x_i³: ∇f(x + ε)_i = 3 c_i (x_i + ε_i)², whose mean over ε ~ N(0, σ²) is 3 c_i (x_i² + σ_i²)
  const c = Float64Array.of(1, -2, 0.5);
  const cubic = fromFunction((x: Float64Array) => c[0] * x[0] ** 3 + c[1] * x[1] ** 3 + c[2] * x[2] ** 3, {
    nInputs: 3,
  });
  const x = Float64Array.of(0.5, -1, 2);

  it('averages to the closed-form expected gradient within Monte Carlo error', async () => {
    const samples = 4000;
    const noise = 0.3; // scales are 1 without a background, so σ = 0.3
    const e = await smoothGrad(cubic, { data: x, nRows: 1 }, { noise, samples, seed: 7 });
    for (let i = 0; i < 3; i++) {
      const want = 3 * c[i] * (x[i] ** 2 + noise ** 2);
      const sd = Math.sqrt((9 * c[i] ** 2 * (4 * x[i] ** 2 * noise ** 2 + 2 * noise ** 4)) / samples);
      expect(Math.abs(e.values[i] - want)).toBeLessThan(4 * sd);
    }
    expect(e.modelRows).toBe(2 * 3 * samples + 1);
    expect(e.meta.seed).toBe(7);
  });

  it('is seeded, and equals the gradient without noise', async () => {
    const a = await smoothGrad(cubic, { data: x, nRows: 1 }, { samples: 20, seed: 3 });
    const b = await smoothGrad(cubic, { data: x, nRows: 1 }, { samples: 20, seed: 3 });
    const other = await smoothGrad(cubic, { data: x, nRows: 1 }, { samples: 20, seed: 4 });
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
    expect(Array.from(a.values)).not.toEqual(Array.from(other.values));
    const quiet = await smoothGrad(cubic, { data: x, nRows: 1 }, { samples: 2, noise: 0, seed: 1 });
    for (let i = 0; i < 3; i++) expect(quiet.values[i]).toBeCloseTo(3 * c[i] * x[i] ** 2, 8);
  });

  it('refuses bad noise and sample counts', async () => {
    await expect(smoothGrad(cubic, { data: x, nRows: 1 }, { noise: -1 })).rejects.toThrow(
      /noise must be a finite number >= 0/,
    );
    await expect(smoothGrad(cubic, { data: x, nRows: 1 }, { samples: 0 })).rejects.toThrow(
      /samples must be an integer in 1\.\./,
    );
  });
});
