import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../src/errors.js';
import { integratedGradients, pathRule } from '../../../src/explainers/sensitivity/integrated-gradients.js';
import { explanationToJSON } from '../../../src/explanation/explanation.js';
import { fromFunction } from '../../../src/models/function-model.js';
import type { OnnxModel } from '../../../src/models/onnx-model.js';
import { loadOnnx } from '../../../src/models/onnx-model.js';
import { FIXTURES, fixtureRows } from './helpers.js';

// f(x) = xᵀAx + w·x + 1 (A symmetric) and g = −f/2 + x0: along the path b + α(x − b),
// ∂f/∂x_i = w_i + 2(A(b + α(x − b)))_i is linear in α, so
// IG_i = (x_i − b_i) (w_i + (A(x + b))_i) exactly (closed form).
const d = 4;
const A = [
  [1, 0.5, -0.3, 0],
  [0.5, -2, 0.2, 0.7],
  [-0.3, 0.2, 0.8, -0.1],
  [0, 0.7, -0.1, 1.5],
];
const w = [0.4, -1, 2, 0.3];
const quad = (x: ArrayLike<number>) => {
  let s = 1;
  for (let i = 0; i < d; i++) {
    s += w[i] * x[i];
    for (let j = 0; j < d; j++) s += x[i] * A[i][j] * x[j];
  }
  return s;
};
const model = fromFunction((x: Float64Array) => [quad(x), -quad(x) / 2 + x[0]], {
  nInputs: d,
  outputNames: ['f', 'g'],
});
const closedForm = (x: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from({ length: d }, (_, i) => {
    let axb = 0;
    for (let j = 0; j < d; j++) axb += A[i][j] * (x[j] + b[j]);
    const f = (x[i] - b[i]) * (w[i] + axb);
    return [f, -f / 2 + (i === 0 ? x[0] - b[0] : 0)];
  });
const xs = Float64Array.of(1, -0.5, 2, 0.3, -1.2, 0.8, 0.1, 1.1);
const base = [0.2, 0.1, -0.4, 0.5];

describe('integrated gradients', () => {
  it('equals the closed form on a quadratic model (Gauss–Legendre and midpoint are exact for a linear integrand)', async () => {
    for (const [rule, steps] of [
      ['gauss-legendre', 1],
      ['gauss-legendre', 7],
      ['riemann-middle', 3],
      ['riemann-trapezoid', 2],
    ] as const) {
      const e = await integratedGradients(model, { data: xs, nRows: 2 }, { baseline: base, rule, steps });
      for (let r = 0; r < 2; r++) {
        const want = closedForm(xs.subarray(r * d, (r + 1) * d), base);
        for (let i = 0; i < d; i++)
          for (let o = 0; o < 2; o++) expect(e.values[(r * d + i) * 2 + o]).toBeCloseTo(want[i][o], 8);
        expect(explanationToJSON(e).rows[r].efficiencyGap).toBeLessThan(1e-8);
      }
      expect(e.baseValues[0]).toBeCloseTo(quad(base), 14);
      expect(e.modelRows).toBe(1 + 2 * (1 + 2 * steps * d));
    }
  });

  it('left and right Riemann sums converge as 1/steps (the error halves when steps double)', async () => {
    const x = xs.subarray(0, d);
    const want = closedForm(x, base);
    const err = async (rule: 'riemann-left' | 'riemann-right', steps: number) => {
      const e = await integratedGradients(model, { data: x, nRows: 1 }, { baseline: base, rule, steps });
      return Math.max(...want.map((v, i) => Math.abs(e.values[i * 2] - v[0])));
    };
    for (const rule of ['riemann-left', 'riemann-right'] as const) {
      const e8 = await err(rule, 8);
      const e16 = await err(rule, 16);
      expect(e8 / e16).toBeGreaterThan(1.9);
      expect(e8 / e16).toBeLessThan(2.1);
    }
  });

  it('gives a group the sum of its columns, and averages over every background row with weights', async () => {
    const x = xs.subarray(0, d);
    const e = await integratedGradients(model, { data: x, nRows: 1 }, { baseline: base, groups: { ab: ['x0', 'x2'] } });
    const want = closedForm(x, base);
    expect(e.players).toEqual(['ab', 'x1', 'x3']);
    expect(e.values[0]).toBeCloseTo(want[0][0] + want[2][0], 8);
    const bg = Float64Array.of(0, 0, 0, 0, 1, 1, -1, 0.5, 0.3, -0.2, 0.9, 2);
    const weights = [1, 2, 1];
    const eb = await integratedGradients(
      model,
      { data: x, nRows: 1 },
      { background: { data: bg, nRows: 3 }, backgroundWeights: weights, baseline: 'background', steps: 3 },
    );
    for (let i = 0; i < d; i++) {
      let avg = 0;
      for (let k = 0; k < 3; k++) avg += (weights[k] / 4) * closedForm(x, bg.subarray(k * d, (k + 1) * d))[i][0];
      expect(eb.values[i * 2]).toBeCloseTo(avg, 8);
    }
    let fb = 0;
    for (let k = 0; k < 3; k++) fb += (weights[k] / 4) * quad(bg.subarray(k * d, (k + 1) * d));
    expect(eb.baseValues[0]).toBeCloseTo(fb, 12);
    expect(eb.sensitivity?.baseline).toMatch(/each of 3 background rows/);
  });

  it('points and weights of the rules', () => {
    expect(Array.from(pathRule('riemann-left', 4).nodes)).toEqual([0, 0.25, 0.5, 0.75]);
    expect(Array.from(pathRule('riemann-right', 2).nodes)).toEqual([0.5, 1]);
    expect(Array.from(pathRule('riemann-trapezoid', 3).weights)).toEqual([0.25, 0.5, 0.25]);
    expect(pathRule('gauss-legendre', 5).weights.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 15);
  });

  it('refuses bad options instead of ignoring them', async () => {
    const rows = { data: xs, nRows: 2 };
    await expect(integratedGradients(model, rows)).rejects.toThrow(/baseline must be 'mean' with a background/);
    await expect(integratedGradients(model, rows, { baseline: [1, 2] })).rejects.toThrow(/a row of 4 numbers/);
    await expect(integratedGradients(model, rows, { baseline: 'zeros', maxSteps: 64 })).rejects.toThrow(
      /maxSteps must be unset without a tolerance/,
    );
    await expect(integratedGradients(model, rows, { baseline: 'zeros', rule: 'simpson' as never })).rejects.toThrow(
      InvalidOptionError,
    );
    await expect(
      integratedGradients(model, rows, { baseline: 'zeros', rule: 'riemann-trapezoid', steps: 1 }),
    ).rejects.toThrow(/steps must be an integer in 2\.\./);
    await expect(integratedGradients(model, rows, { baseline: 'zeros', tolerance: 0 })).rejects.toThrow(
      /tolerance must be a positive number/,
    );
  });
});

describe('integrated gradients on the MLP fixture (float32 ONNX, ReLU)', () => {
  let mlp: OnnxModel;
  beforeAll(async () => {
    mlp = await loadOnnx(`${FIXTURES}mlp.onnx`, { select: [1] });
  });
  afterAll(async () => {
    await mlp.close();
  });
  const all = fixtureRows('mlp');
  const rows = { data: Float64Array.from(all.slice(0, 4).flat()), nRows: 4 };
  const background = { data: Float64Array.from(all.slice(4).flat()), nRows: all.length - 4 };

  // |f(x) − f(mean)| is 0.37–0.59 on these rows. Measured max gap over the 4 rows (Gauss–Legendre,
  // default step 1e-2): 3.5e-2 at 16 steps, 7.5e-3 at 64, 4.8e-4 at 256, 4.8e-4 at 1024 (the
  // float32 finite-difference floor); the ReLU kinks make the integrand only piecewise smooth,
  // so Gauss–Legendre converges like the midpoint rule here (1.7e-3 at 64, 4.7e-4 at 256).
  it('is complete within 1e-3 at 256 Gauss–Legendre steps from the background mean, and the gap shrinks with steps', async () => {
    const gaps = async (steps: number) =>
      explanationToJSON(await integratedGradients(mlp, rows, { background, steps })).rows.map(
        (r) => r.efficiencyGap ?? Number.NaN,
      );
    const fine = await gaps(256);
    for (const g of fine) expect(g).toBeLessThan(1e-3);
    const coarse = await gaps(16);
    expect(Math.max(...coarse)).toBeGreaterThan(5 * Math.max(...fine));
  });

  it('refines steps until the completeness gap is below the tolerance', async () => {
    const e = await integratedGradients(mlp, rows, { background, steps: 4, tolerance: 1e-3 });
    expect(e.converged).toEqual([true, true, true, true]);
    const json = explanationToJSON(e);
    for (const r of json.rows) {
      expect(r.efficiencyGap).toBeLessThanOrEqual(1e-3);
      expect(r.steps).toBeGreaterThanOrEqual(4);
    }
    expect(json.sensitivity).toMatchObject({ steps: 4, rule: 'gauss-legendre', tolerance: 1e-3 });
  });
});

describe('integrated gradients with schema attributes as players (credit demo MLP)', () => {
  it("gives each attribute the sum of its one-hot columns' values, and is complete", async () => {
    const { loadCsv } = await import('../../../src/data/csv.js');
    const { loadSchema, schemaPlayers } = await import('../../../src/data/schema.js');
    const demo = `${FIXTURES}../../datasets/credit-demo`;
    const schema = await loadSchema(`${demo}/schema.json`);
    const credit = await loadOnnx(`${demo}/model.onnx`, { select: [1] });
    try {
      const train = await loadCsv(`${demo}/train.csv`);
      const rows = await loadCsv(`${demo}/applicants.csv`);
      const background = { data: train.data.slice(0, 100 * 61), nRows: 100 };
      const players = schemaPlayers(schema);
      const byAttr = await integratedGradients(credit, rows, { background, players, steps: 64 });
      const byColumn = await integratedGradients(credit, rows, { background, steps: 64 });
      expect(byAttr.players).toEqual(schema.attributes.map((a) => a.name));
      const n = byAttr.players.length;
      for (let r = 0; r < rows.nRows; r++) {
        byAttr.playerColumns.forEach((cols, p) => {
          const sum = cols.reduce((s, c) => s + byColumn.values[r * 61 + c], 0);
          // one derivative along the attribute's move vs one per column: equal up to finite-difference error
          expect(Math.abs(byAttr.values[r * n + p] - sum)).toBeLessThan(1e-4); // measured up to 2.5e-5
        });
        // measured at 64 steps: 7.0e-4, 1.9e-4, 2.2e-7, 1.2e-7, 4.1e-5 (|f(x) − f(b)| up to ~0.5)
        expect(explanationToJSON(byAttr).rows[r].efficiencyGap).toBeLessThan(1e-3);
      }
      // one derivative per moving attribute instead of per moving column
      expect(byAttr.modelRows).toBeLessThan(byColumn.modelRows);
    } finally {
      await credit.close();
    }
  });
});
