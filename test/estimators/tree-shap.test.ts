import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { definePlayers, type Players, playersFromIndices } from '../../src/data/players.js';
import { InvalidOptionError, ShapeError } from '../../src/errors.js';
import { prepareTreeShap, treeShap, treeShapRow, treeShapRows } from '../../src/estimators/tree-shap.js';
import { explain } from '../../src/explain.js';
import { fromFunction } from '../../src/models/function-model.js';
import { predictMargin, readTreeEnsemble, type TreeEnsemble } from '../../src/models/tree-ensemble.js';
import type { Background } from '../../src/sampling/background.js';
import { Rng } from '../../src/sampling/rng.js';
import { bruteForceShapley, interventionalValue, maxAbsDiff } from '../helpers/brute-force.js';

const DIR = fileURLToPath(new URL('../fixtures/trees/', import.meta.url));

/**
 * Each fixture with a grouping of its columns into players: some players hold several
 * columns, so one player is tested several times on a path through different columns.
 */
const CASES: Record<string, { groups: number[][]; categorical?: number; nan?: boolean }> = {
  'gbdt-regressor-v3': { groups: [[0], [1, 3], [2], [4]], nan: true },
  'gbdt-regressor-v5': { groups: [[0, 2], [1], [3], [4]], nan: true },
  'gbdt-binary-v3': { groups: [[0], [1], [2, 3], [4], [5]], nan: true },
  'gbdt-multiclass-v3': { groups: [[0], [1], [2], [3], [4]] },
  'forest-v3': { groups: [[0], [1], [2], [3]] },
  'gbdt-sigmoid-v3': { groups: [[0, 1], [2], [3]] },
  'random-v5': { groups: [[0], [1], [2], [3]], categorical: 3, nan: true },
  'binary2-v3': { groups: [[0], [1]], nan: true },
};

function draw(rng: Rng, d: number, n: number, categorical?: number, nan = false): Float64Array {
  return Float64Array.from({ length: n * d }, (_, i) =>
    nan && rng.float() < 0.15 ? Number.NaN : i % d === categorical ? rng.int(5) : rng.normal(),
  );
}

/** A background with unequal weights (summing to 1), built directly so it may hold NaN. */
function background(data: Float64Array, nRows: number, nColumns: number, rng: Rng): Background {
  const raw = Array.from({ length: nRows }, () => 0.2 + rng.float());
  const s = raw.reduce((a, b) => a + b, 0);
  return { data, nRows, nColumns, weights: Float64Array.from(raw, (w) => w / s), summary: 'test' };
}

/** Brute-force interventional Shapley values of the margin (every permutation, rows built one by one). */
function reference(e: TreeEnsemble, x: Float64Array, bg: Background, groups: number[][]): number[][] {
  const f = (row: number[]) => Array.from(predictMargin(e, row, 1));
  const rows = Array.from({ length: bg.nRows }, (_, b) =>
    Array.from(bg.data.subarray(b * bg.nColumns, (b + 1) * bg.nColumns)),
  );
  return bruteForceShapley(
    (mask) => interventionalValue(f, Array.from(x), rows, Array.from(bg.weights), groups, mask),
    groups.length,
  );
}

describe('treeShap (interventional)', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: equals brute-force exact Shapley values to 1e-9, every output; efficiency`, async () => {
      const e = await readTreeEnsemble(`${DIR}${name}.onnx`);
      const d = e.nFeatures;
      const rng = Rng.fromSeed(31);
      const nb = 7;
      const bg = background(draw(rng, d, nb, c.categorical, c.nan), nb, d, rng);
      const players = playersFromIndices(d, c.groups);
      const ctx = prepareTreeShap(e, bg, players);
      for (let r = 0; r < 4; r++) {
        const x = draw(rng, d, 1, c.categorical, c.nan);
        const res = treeShapRow(ctx, x);
        const ref = reference(e, x, bg, c.groups);
        expect(maxAbsDiff(res.values, ref.flat())).toBeLessThan(1e-9);
        const v0 = interventionalValue(
          (row) => Array.from(predictMargin(e, row, 1)),
          Array.from(x),
          Array.from({ length: nb }, (_, b) => Array.from(bg.data.subarray(b * d, (b + 1) * d))),
          Array.from(bg.weights),
          c.groups,
          0,
        );
        expect(maxAbsDiff(res.baseValue, v0)).toBeLessThan(1e-12);
        expect(maxAbsDiff(res.prediction, predictMargin(e, x, 1))).toBe(0);
        for (let t = 0; t < e.nTargets; t++) {
          let sum = 0;
          for (let p = 0; p < c.groups.length; p++) sum += res.values[p * e.nTargets + t];
          expect(Math.abs(sum - (res.prediction[t] - res.baseValue[t]))).toBeLessThan(1e-12);
        }
      }
    });
  }

  it("equals whybox's exact method on the margin (a function model, one player per column, 12 rows of background)", async () => {
    const e = await readTreeEnsemble(`${DIR}gbdt-multiclass-v3.onnx`);
    const d = e.nFeatures;
    const rng = Rng.fromSeed(8);
    const columns = Array.from({ length: d }, (_, i) => `x${i}`);
    const bgData = draw(rng, d, 12);
    const rows = { columns, data: draw(rng, d, 3), nRows: 3 };
    const model = fromFunction((rs, n) => predictMargin(e, rs, n), {
      nInputs: d,
      batched: true,
      outputNames: e.outputNames,
    });
    const ex = await explain(model, rows, {
      background: { columns, data: bgData, nRows: 12 },
      method: 'exact',
      seed: 1,
    });
    const bg: Background = {
      data: bgData,
      nRows: 12,
      nColumns: d,
      weights: new Float64Array(12).fill(1 / 12),
      summary: '',
    };
    const ctx = prepareTreeShap(e, bg, definePlayers(columns));
    const t = treeShapRows(ctx, rows.data, 3);
    expect(maxAbsDiff(t.values, ex.values)).toBeLessThan(1e-9);
    expect(maxAbsDiff(t.predictions, ex.predictions)).toBeLessThan(1e-12);
  });

  it('handles a player tested twice on a path through two of its columns (hand-made tree)', () => {
    // root: x0 <= 0 ? (x1 <= 0 ? 1 : 2) : (x0 <= 1 ? 4 : 8); players {x0, x1} together and x2 alone
    const e: TreeEnsemble = {
      nFeatures: 3,
      nTargets: 1,
      roots: Int32Array.of(0),
      feature: Int32Array.of(0, 1, 0),
      threshold: Float64Array.of(0, 0, 1),
      mode: Uint8Array.of(0, 0, 0),
      trueChild: Int32Array.of(1, -1, -3),
      falseChild: Int32Array.of(2, -2, -4),
      missingTrue: new Uint8Array(3),
      memberOffsets: new Int32Array(4),
      memberValues: new Float64Array(0),
      leafOffsets: Int32Array.of(0, 1, 2, 3, 4),
      leafTarget: new Int32Array(4),
      leafWeight: Float64Array.of(1, 2, 4, 8),
      baseValues: new Float64Array(1),
      splitPrecision: 'float64',
      outputNames: ['margin[0]'],
      postTransform: 'NONE',
      operator: 'test',
      opset: 0,
      after: [],
      folded: [],
    };
    const groups = [[0, 1], [2]];
    const players: Players = playersFromIndices(3, groups);
    const bg: Background = {
      data: Float64Array.of(-1, 1, 0, 0.5, -1, 0, 2, 2, 0),
      nRows: 3,
      nColumns: 3,
      weights: Float64Array.of(0.5, 0.25, 0.25),
      summary: '',
    };
    const x = Float64Array.of(-1, -1, 5);
    const res = treeShap(e, x, bg, players);
    const ref = reference(e, x, bg, groups);
    expect(maxAbsDiff(res.values, ref.flat())).toBeLessThan(1e-12);
    // x2 is never tested: its value is 0; the {x0, x1} player takes all of f(x) - E f(b)
    expect(res.values[1]).toBe(0);
    expect(res.values[0]).toBeCloseTo(1 - (0.5 * 2 + 0.25 * 4 + 0.25 * 8), 12);
  });

  it('refuses shapes that do not match the ensemble and unknown options', async () => {
    const e = await readTreeEnsemble(`${DIR}forest-v3.onnx`);
    const bg: Background = {
      data: new Float64Array(6),
      nRows: 2,
      nColumns: 3,
      weights: Float64Array.of(0.5, 0.5),
      summary: '',
    };
    expect(() => prepareTreeShap(e, bg, playersFromIndices(3, [[0], [1], [2]]))).toThrow(ShapeError);
    const ok: Background = { ...bg, data: new Float64Array(8), nColumns: 4 };
    expect(() => treeShap(e, new Float64Array(2), ok, playersFromIndices(4, [[0], [1], [2], [3]]))).toThrow(ShapeError);
    expect(() =>
      treeShap(e, new Float64Array(4), ok, playersFromIndices(4, [[0], [1], [2], [3]]), {
        featurePerturbation: 'tree_path_dependent' as 'interventional',
      }),
    ).toThrow(InvalidOptionError);
  });
});
