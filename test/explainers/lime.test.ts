import { describe, expect, it } from 'vitest';
import { createDataset } from '../../src/data/dataset.js';
import { DataError, InvalidOptionError, ShapeError } from '../../src/errors.js';
import { explain } from '../../src/explain.js';
import { lime } from '../../src/explainers/lime.js';
import { explanationToJSON } from '../../src/explanation/explanation.js';
import { fromFunction } from '../../src/models/function-model.js';
import { Rng } from '../../src/sampling/rng.js';

/** Training rows: column j ~ N(means[j], sds[j]²), seeded. */
function gaussianTraining(n: number, means: number[], sds: number[], seed = 7) {
  const rng = Rng.fromSeed(seed);
  const d = means.length;
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = means[j] + sds[j] * rng.normal();
  return createDataset(
    means.map((_, j) => `x${j}`),
    data,
  );
}

/** Population mean and std of column j (what lime's StandardScaler uses). */
function colStats(ds: { data: Float64Array; nRows: number; columns: readonly string[] }, j: number) {
  const d = ds.columns.length;
  let m = 0;
  for (let i = 0; i < ds.nRows; i++) m += ds.data[i * d + j];
  m /= ds.nRows;
  let v = 0;
  for (let i = 0; i < ds.nRows; i++) v += (ds.data[i * d + j] - m) ** 2;
  return { mean: m, std: Math.sqrt(v / ds.nRows) };
}

const slopes = [2, -3, 0.5, 0];
const linear = fromFunction((x: Float64Array) => 1 + slopes.reduce((a, b, j) => a + b * x[j], 0), { nInputs: 4 });
const train = gaussianTraining(400, [10, -5, 0, 3], [2, 0.5, 4, 1]);
const instance = { data: Float64Array.of(12, -4, 1, 2), nRows: 1 };

describe('lime: Gaussian sampling on a linear model', () => {
  // Closed form: lime regresses f on z_j = (x_j − mean_j)/std_j, and f = 1 + Σ b_j (mean_j + std_j z_j)
  // is exactly linear in z, so the weights are b_j·std_j, the intercept 1 + Σ b_j mean_j, R² = 1.
  const stats = slopes.map((_, j) => colStats(train, j));
  const truth = slopes.map((b, j) => b * stats[j].std);
  const intercept = 1 + slopes.reduce((a, b, j) => a + b * stats[j].mean, 0);

  it('recovers b_j · std_j exactly with alpha 0, R² = 1, local prediction = f(x)', async () => {
    const e = await lime(linear, instance, {
      training: train,
      discretizer: 'none',
      featureSelection: 'none',
      alpha: 0,
      numSamples: 2000,
      seed: 1,
    });
    for (let j = 0; j < 4; j++) expect(e.values[j]).toBeCloseTo(truth[j], 8);
    expect(e.lime?.intercept[0]).toBeCloseTo(intercept, 8);
    expect(e.lime?.score[0]).toBeCloseTo(1, 10);
    const fx = 1 + 2 * 12 - 3 * -4 + 0.5 * 1;
    expect(e.predictions[0]).toBeCloseTo(fx, 10);
    expect(e.lime?.localPrediction[0]).toBeCloseTo(fx, 8);
    expect(e.lime?.conditions[0]).toEqual(['x0', 'x1', 'x2', 'x3']);
  });

  it('with the default ridge (alpha 1) the weights are shrunk by well under 1%', async () => {
    const e = await lime(linear, instance, { training: train, discretizer: 'none', seed: 2 });
    for (let j = 0; j < 3; j++) expect(Math.abs(e.values[j] / truth[j] - 1)).toBeLessThan(0.01);
    expect(Math.abs(e.values[3])).toBeLessThan(1e-3); // the ignored feature (ridge couples it only through sampling noise)
    expect(e.lime?.score[0]).toBeGreaterThan(0.9999);
  });
});

describe('lime: quartile discretisation', () => {
  const nonlinear = fromFunction((x: Float64Array) => x[0] + 3 * Math.sin(x[1]) + (x[2] > 0 ? 2 : 0), { nInputs: 4 });

  it('gives a feature the model ignores a weight ~ 0 and the others clear weights', async () => {
    const e = await lime(nonlinear, instance, { training: train, numSamples: 5000, seed: 3 });
    const w = Array.from(e.values);
    const big = Math.max(...w.map(Math.abs));
    expect(Math.abs(w[3])).toBeLessThan(0.03 * big);
    expect(Math.abs(w[0])).toBeGreaterThan(0.3 * big);
    expect(Math.abs(w[2])).toBeGreaterThan(10 * Math.abs(w[3]));
    // readable conditions from the training quartiles
    const cond = e.lime?.conditions[0] ?? [];
    expect(cond[0]).toMatch(/^x0 > [\d.]+$/);
    expect(cond[3]).toMatch(/^x3 <= [\d.]+$/); // x3 = 2 is below the first quartile (~2.3) of N(3, 1)
  });

  it('reports readable conditions for bins and one-hot groups, and the JSON extras', async () => {
    const rows: number[] = [];
    for (let i = 0; i < 100; i++) rows.push(i + 1, i % 3 === 0 ? 1 : 0, i % 3 === 1 ? 1 : 0, i % 3 === 2 ? 1 : 0);
    const ds = createDataset(['duration', 'purpose=car', 'purpose=tv', 'purpose=radio'], Float64Array.from(rows));
    const model = fromFunction((x: Float64Array) => 0.01 * x[0] + 0.5 * x[1] - 0.2 * x[2], { nInputs: 4 });
    const e = await lime(
      model,
      { data: Float64Array.of(90, 1, 0, 0), nRows: 1 },
      {
        training: ds,
        groups: { purpose: ['purpose=car', 'purpose=tv', 'purpose=radio'] },
        seed: 4,
      },
    );
    // numpy percentile(1..100, 75) = 75.25
    expect(e.lime?.conditions[0]).toEqual(['duration > 75.25', 'purpose = car']);
    expect(e.players).toEqual(['duration', 'purpose']);
    const json = explanationToJSON(e);
    expect(json.method).toBe('lime');
    const row = json.rows[0];
    expect(row.values).toHaveLength(2);
    expect(row.intercept).toHaveLength(1);
    expect(row.localPrediction).toHaveLength(1);
    expect(row.score?.[0]).toBeGreaterThan(0.5);
    expect(row.efficiencyGap).toBeUndefined();
    expect(row.conditions).toEqual(['duration > 75.25', 'purpose = car']);
    expect(json.lime?.numSamples).toBe(5000);
    // intercept + Σ weights (every binary feature is 1 at the instance) = local prediction
    expect((row.intercept?.[0] ?? 0) + row.values[0][0] + row.values[1][0]).toBeCloseTo(
      row.localPrediction?.[0] ?? 0,
      10,
    );
  });
});

describe('lime: kernel, distances, categorical columns', () => {
  const model = fromFunction((x: Float64Array) => x[0] + 2 * x[1] - x[2], { nInputs: 4 });

  it('binary features: Manhattan distance = features outside the instance bin = squared Euclidean distance', async () => {
    for (const distance of ['manhattan', 'euclidean'] as const) {
      const seen: number[] = [];
      const e = await lime(model, instance, {
        training: train,
        distance,
        numSamples: 300,
        seed: 1,
        kernel: (dist, width) => {
          seen.push(dist);
          expect(width).toBeCloseTo(0.75 * Math.sqrt(4), 12); // default width 0.75·√players
          return Math.exp(-dist);
        },
      });
      expect(e.lime?.kernelWidth).toBeCloseTo(1.5, 12);
      expect(seen).toHaveLength(300);
      expect(seen[0]).toBe(0); // the instance itself
      for (const dist of seen) {
        const k = distance === 'manhattan' ? dist : dist * dist;
        expect(Math.abs(k - Math.round(k))).toBeLessThan(1e-9);
        expect(k).toBeLessThanOrEqual(4 + 1e-9);
      }
    }
  });

  it('cosine distances lie in [0, 2]; a kernel so narrow that only the instance keeps weight is refused', async () => {
    const seen: number[] = [];
    await lime(model, instance, {
      training: train,
      distance: 'cosine',
      numSamples: 50,
      seed: 2,
      kernel: (d) => {
        seen.push(d);
        return 1;
      },
    });
    expect(seen).toHaveLength(50);
    for (const d of seen) expect(d >= 0 && d <= 2).toBe(true);
    const p = lime(model, instance, { training: train, kernelWidth: 1e-300, numSamples: 50, seed: 1 });
    await expect(p).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(p).rejects.toThrow(/kernelWidth .* at least two samples/);
  });

  it("a categorical column is resampled from its values and reported as 'name = value'", async () => {
    const rows: number[] = [];
    for (let i = 0; i < 90; i++) rows.push(i % 3, i / 10, 0, 0);
    const ds = createDataset(['grade', 'x1', 'x2', 'x3'], Float64Array.from(rows));
    const g = fromFunction((x: Float64Array) => x[0] + 0.1 * x[1], { nInputs: 4 });
    const e = await lime(
      g,
      { data: Float64Array.of(2, 4, 0, 0), nRows: 1 },
      { training: ds, categorical: ['grade'], seed: 3 },
    );
    expect(e.lime?.conditions[0][0]).toBe('grade = 2');
    expect(e.lime?.conditions[0][1]).toBe('2.23 < x1 <= 4.45');
    // the kernel is a product over features, so the binary features stay independent: the weight
    // of "grade = 2" is E[grade | grade = 2] − E[grade | grade ≠ 2] = 2 − (0 + 1)/2 = 1.5
    expect(e.values[0]).toBeCloseTo(1.5, 1);
  });
});

describe('lime: feature selection', () => {
  // 8 features, a planted model with three strong effects of different size
  const d = 8;
  const train8 = gaussianTraining(
    300,
    Array.from({ length: d }, () => 0),
    Array.from({ length: d }, () => 1),
    11,
  );
  const b = [0, 5, 0, -3, 0, 0, 1.5, 0.05];
  const model8 = fromFunction((x: Float64Array) => b.reduce((a, bj, j) => a + bj * x[j] + 0.01 * x[j] * x[j], 0), {
    nInputs: d,
  });
  const x8 = { data: Float64Array.from({ length: d }, (_, j) => 1 + 0.1 * j), nRows: 1 };

  for (const featureSelection of ['forward_selection', 'highest_weights', 'auto', 'lasso_path'] as const)
    it(`${featureSelection} returns exactly numFeatures = 3: the planted ones`, async () => {
      const e = await lime(model8, x8, {
        training: train8,
        discretizer: 'none',
        featureSelection,
        numFeatures: 3,
        numSamples: 2000,
        seed: 5,
      });
      const nonzero = Array.from(e.values)
        .map((v, j) => (v !== 0 ? j : -1))
        .filter((j) => j >= 0);
      expect(nonzero).toEqual([1, 3, 6]);
      expect(e.lime?.selected[0][0]).toEqual([1, 3, 6]); // largest |weight| first
    });

  it("'none' keeps every feature; numFeatures above the feature count keeps all", async () => {
    const e = await lime(model8, x8, { training: train8, discretizer: 'none', featureSelection: 'none', seed: 5 });
    expect(e.lime?.selected[0][0]).toHaveLength(d);
    const f = await lime(model8, x8, {
      training: train8,
      featureSelection: 'forward_selection',
      numFeatures: 20,
      seed: 5,
    });
    expect(f.lime?.selected[0][0]).toHaveLength(d);
  });
});

describe('lime: determinism, explain routing, multi-output', () => {
  const two = fromFunction((x: Float64Array) => [x[0] * x[1], Math.exp(0.1 * x[2])], {
    nInputs: 4,
    outputNames: ['a', 'b'],
  });
  const rows = { data: Float64Array.of(12, -4, 1, 2, 9, -5, 0, 3), nRows: 2 };

  it('same seed, same output; another seed, other samples', async () => {
    const a = await lime(two, rows, { training: train, seed: 9, numSamples: 500 });
    const b = await lime(two, rows, { training: train, seed: 9, numSamples: 500 });
    const c = await lime(two, rows, { training: train, seed: 10, numSamples: 500 });
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
    expect(Array.from(a.lime?.score ?? [])).toEqual(Array.from(b.lime?.score ?? []));
    expect(Array.from(a.values)).not.toEqual(Array.from(c.values));
    expect(a.values).toHaveLength(2 * 4 * 2);
    expect(a.evaluations).toBe(1000);
  });

  it('a constant model: weights 0, intercept = the constant, score 1 (sklearn r2 convention)', async () => {
    const flat = fromFunction(() => 7, { nInputs: 4 });
    for (const featureSelection of ['forward_selection', 'lasso_path', 'none'] as const) {
      const e = await lime(flat, instance, { training: train, featureSelection, numSamples: 200, seed: 1 });
      for (const v of e.values) expect(Math.abs(v)).toBeLessThan(1e-12);
      expect(e.lime?.intercept[0]).toBeCloseTo(7, 12);
      expect(e.lime?.score[0]).toBe(1);
    }
  });

  it("explain(..., { method: 'lime' }) is lime() with the background as training data", async () => {
    const a = await explain(two, rows, { background: train, method: 'lime', seed: 9, lime: { numSamples: 500 } });
    const b = await lime(two, rows, { training: train, seed: 9, numSamples: 500 });
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
    expect(a.method).toBe('lime');
  });
});

describe('lime: bad input gets typed errors', () => {
  const opts = { training: train, seed: 1 };
  const cases: [string, Record<string, unknown>, new (...a: never[]) => Error, RegExp][] = [
    ['numSamples 1', { numSamples: 1 }, InvalidOptionError, /numSamples must be an integer >= 2; got 1/],
    ['numFeatures 0', { numFeatures: 0 }, InvalidOptionError, /numFeatures must be a positive integer; got 0/],
    ['featureSelection', { featureSelection: 'best' }, InvalidOptionError, /featureSelection must be one of none/],
    ['kernelWidth', { kernelWidth: -1 }, InvalidOptionError, /kernelWidth must be a finite number > 0; got -1/],
    ['discretizer', { discretizer: 'octile' }, InvalidOptionError, /discretizer must be one of quartile/],
    ['distance', { distance: 'hamming' }, InvalidOptionError, /distance must be one of euclidean/],
    ['alpha', { alpha: Number.NaN }, InvalidOptionError, /alpha must be a finite number >= 0; got NaN/],
    [
      'categorical',
      { categorical: ['x9'] },
      InvalidOptionError,
      /categorical must be names of the data columns; got "x9"/,
    ],
    ['kernel', { kernel: () => Number.NaN }, InvalidOptionError, /kernel must be a function returning finite weights/],
    ['training columns', { training: { data: new Float64Array(6), nRows: 2 } }, ShapeError, /training hold 6 values/],
    ['training NaN', { training: { data: Float64Array.of(1, 2, Number.NaN, 4), nRows: 1 } }, DataError, /NaN/],
  ];
  for (const [name, extra, cls, msg] of cases)
    it(name, async () => {
      const p = lime(linear, instance, { ...opts, ...extra } as never);
      await expect(p).rejects.toBeInstanceOf(cls);
      await expect(p).rejects.toThrow(msg);
    });

  it('explain refuses Shapley-only options with method lime, and lime settings with other methods', async () => {
    await expect(explain(linear, instance, { background: train, method: 'lime', budget: 100 })).rejects.toThrow(
      /budget must be unset for method 'lime'.*numSamples/,
    );
    await expect(explain(linear, instance, { background: train, lime: { numSamples: 10 } })).rejects.toThrow(
      InvalidOptionError,
    );
  });
});
