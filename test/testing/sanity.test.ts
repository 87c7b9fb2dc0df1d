/**
 * Sanity checks: the dummy check passes for a column the model never reads and flags one it
 * reads; the randomisation check flags a method that ignores the model and passes exact
 * Shapley; the stability check measures the spread over seeds (0 for exact).
 */
import { describe, expect, it } from 'vitest';
import { createDataset } from '../../src/data/dataset.js';
import { fromFunction } from '../../src/models/function-model.js';
import {
  defineMethod,
  dummyCheck,
  randomizationCheck,
  randomizedModel,
  sanityChecks,
  shapleyMethod,
  spearman,
  stabilityCheck,
} from '../../src/testing/index.js';
import { randomRows } from '../helpers/games.js';

const cols = ['a', 'b', 'c', 'd', 'noise'];
const rows = createDataset(cols, randomRows(4, 5, 11).flat());
const background = createDataset(cols, randomRows(12, 5, 12).flat());
/** Reads a..d only. */
const honest = fromFunction((r: Float64Array) => Math.tanh(r[0] + 2 * r[1]) + r[2] * r[3] - 0.5 * r[3], {
  nInputs: 5,
  inputNames: cols,
});
/** Also reads the column that should be ignored. */
const leaky = fromFunction((r: Float64Array) => Math.tanh(r[0] + 2 * r[1]) + r[2] * r[3] + 0.8 * r[4], {
  nInputs: 5,
  inputNames: cols,
});
const exact = shapleyMethod('exact');

describe('dummy check', () => {
  it('a synthetic noise column gets exactly 0 with exact Shapley (and ~0 with sampled kernel)', async () => {
    const r = await dummyCheck(honest, rows, { background, method: exact });
    expect(r.passed).toBe(true);
    expect(r.synthetic).toBe(true);
    expect(r.maxAbs).toBeLessThan(1e-12);
    const k = await dummyCheck(honest, rows, { background, method: shapleyMethod('kernel', { budget: 20 }) });
    expect(k.passed).toBe(true);
  });

  it('a named column the model ignores passes; a model that reads it is flagged', async () => {
    const ok = await dummyCheck(honest, rows, { background, method: exact, dummyColumn: 'noise' });
    expect(ok.passed).toBe(true);
    expect(ok.maxShare).toBeLessThan(1e-12);
    const bad = await dummyCheck(leaky, rows, { background, method: exact, dummyColumn: 'noise' });
    expect(bad.passed).toBe(false);
    expect(bad.column).toBe('noise');
    expect(bad.maxShare).toBeGreaterThan(0.05);
  });

  it('a method that leaks attribution into the dummy is flagged', async () => {
    const leakyMethod = defineMethod('uniform split', [], async ({ game }) => {
      const n = game.nPlayers;
      const masks = new Uint8Array(2 * n).fill(1, n);
      const v = await game.values(masks, 2);
      return { values: new Float64Array(n).fill((v[1] - v[0]) / n) };
    });
    const r = await dummyCheck(honest, rows, { background, method: leakyMethod });
    expect(r.passed).toBe(false);
    expect(r.maxShare).toBeCloseTo(1 / 6, 12); // 5 columns + the dummy
  });

  it('refuses a dummy column inside a group', async () => {
    await expect(
      dummyCheck(honest, rows, { background, method: exact, dummyColumn: 'noise', groups: { g: ['d', 'noise'] } }),
    ).rejects.toThrow(/dummyColumn must be a column that is a player of its own.*group "g"/);
  });
});

describe('model randomisation check', () => {
  it('exact Shapley values of a randomised model no longer match (shuffle and random weights)', async () => {
    for (const randomization of ['shuffle', 'random-weights'] as const) {
      const r = await randomizationCheck(honest, rows, { background, method: exact, randomization });
      expect(r.passed).toBe(true);
      expect(r.meanRankCorrelation as number).toBeLessThan(0.5);
    }
  });

  it('flags a method that ignores the model (values from the inputs only)', async () => {
    const inputsOnly = defineMethod(
      'input deviation',
      [],
      async ({ model }) => {
        const m = model as NonNullable<typeof model>;
        const d = m.x.length;
        const values = new Float64Array(d);
        for (let j = 0; j < d; j++) {
          let mean = 0;
          for (let b = 0; b < m.background.nRows; b++) mean += m.background.weights[b] * m.background.data[b * d + j];
          values[j] = m.x[j] - mean;
        }
        return { values };
      },
      { needsModel: true },
    );
    const r = await randomizationCheck(honest, rows, { background, method: inputsOnly });
    expect(r.meanRankCorrelation).toBeCloseTo(1, 12);
    expect(r.passed).toBe(false);
  });

  it('the shuffled surrogate returns background outputs, the random-weights one matches their mean and spread', async () => {
    const bg = { data: background.data, nRows: background.nRows };
    const f = await honest.predict(background.data, background.nRows);
    const shuffled = await randomizedModel(honest, bg, 'shuffle', 1);
    const out = await shuffled.predict(rows.data, rows.nRows);
    for (const v of out) expect(Array.from(f)).toContain(v);
    const rw = await randomizedModel(honest, bg, 'random-weights', 1);
    const g = await rw.predict(background.data, background.nRows);
    const mean = (a: ArrayLike<number>) => Array.from(a).reduce((x, y) => x + y, 0) / a.length;
    const sd = (a: ArrayLike<number>) => Math.sqrt(mean(Array.from(a, (v) => (v - mean(a)) ** 2)));
    expect(mean(g)).toBeCloseTo(mean(f), 10);
    expect(sd(g)).toBeCloseTo(sd(f), 10);
  });

  it('spearman: ties get average ranks, constants give null', () => {
    expect(spearman([1, 2, 3], [10, 20, 30])).toBeCloseTo(1, 15);
    expect(spearman([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 15);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNull();
    expect(spearman([1, 2, 2, 3], [1, 2, 2, 3])).toBeCloseTo(1, 15);
    // midranks [1,1,1,3,4] and [1,1,1,4,3]: Pearson 7 / sqrt(8 * 8) (scipy.stats.spearmanr gives 0.875)
    expect(spearman([0, 0, 0, 1, 2], [0, 0, 0, 2, 1])).toBeCloseTo(0.875, 14);
    expect(spearman([0, 0, 0, 2, 1], [0, 0, 0, 1, 2])).toBeCloseTo(0.875, 14); // order of ties does not matter
  });
});

describe('stability across seeds', () => {
  it('exact: zero spread; sampled kernel at a small budget: a positive spread for every player', async () => {
    const e = await stabilityCheck(honest, rows, { background, method: exact, seeds: 3 });
    expect(e.spread.every((s) => s === 0)).toBe(true);
    expect(e.passed).toBe(true);
    const k = await stabilityCheck(honest, rows, {
      background,
      method: shapleyMethod('permutation', { budget: 10 }),
    });
    expect(k.seeds).toBe(10);
    expect(k.players).toEqual(cols);
    // the never-read column is a dummy: permutation sampling gives it 0 every time (up to rounding)
    expect(k.spread[4]).toBeLessThan(1e-12);
    expect(Math.min(...k.spread.slice(0, 4))).toBeGreaterThan(0);
  });

  it('flags a noisy method', async () => {
    const noisy = defineMethod('noise', [], async ({ game }, { seed }) => {
      const values = new Float64Array(game.nPlayers);
      for (let i = 0; i < values.length; i++) values[i] = 1 + Math.sin(seed * 12.9898 + i * 78.233);
      return { values };
    });
    const r = await stabilityCheck(honest, rows, { background, method: noisy });
    expect(r.passed).toBe(false);
    expect(r.maxRelativeSpread).toBeGreaterThan(0.1);
  });
});

it('sanityChecks runs all three', async () => {
  const r = await sanityChecks(honest, rows, { background, method: exact, seeds: 2 });
  expect(r.passed).toBe(true);
  expect(r.method).toBe('exact');
  expect(r.rows).toBe(4);
});
