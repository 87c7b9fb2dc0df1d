import { fileURLToPath } from 'node:url';
import { fc, test } from '@fast-check/vitest';
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

/** A random ensemble (every mode, NaN tracking, 1–2 targets) from a seed, built directly in flat arrays. */
function randomEnsemble(seed: number, d: number, nTargets: number): TreeEnsemble {
  const rng = Rng.fromSeed(seed);
  const feature: number[] = [];
  const threshold: number[] = [];
  const mode: number[] = [];
  const trueChild: number[] = [];
  const falseChild: number[] = [];
  const missingTrue: number[] = [];
  const memberOffsets = [0];
  const memberValues: number[] = [];
  const leafOffsets = [0];
  const leafTarget: number[] = [];
  const leafWeight: number[] = [];
  const grow = (depth: number): number => {
    if (depth >= 4 || (depth > 0 && rng.float() < 0.3)) {
      for (let t = 0; t < nTargets; t++)
        if (t === 0 || rng.float() < 0.5) {
          leafTarget.push(t);
          leafWeight.push(rng.normal());
        }
      leafOffsets.push(leafTarget.length);
      return -(leafOffsets.length - 1);
    }
    const k = feature.length;
    feature.push(rng.int(d));
    const m = rng.int(7);
    mode.push(m);
    threshold.push(m >= 4 ? rng.int(3) : rng.int(3) - 0.5 + (rng.float() < 0.5 ? 0.5 : 0));
    missingTrue.push(rng.float() < 0.5 ? 1 : 0);
    if (m === 6) for (let v = 0; v < 3; v++) if (rng.float() < 0.5) memberValues.push(v);
    memberOffsets.push(memberValues.length);
    trueChild.push(0);
    falseChild.push(0);
    trueChild[k] = grow(depth + 1);
    falseChild[k] = grow(depth + 1);
    return k;
  };
  const roots = Array.from({ length: 1 + rng.int(4) }, () => grow(0));
  return {
    nFeatures: d,
    nTargets,
    roots: Int32Array.from(roots),
    feature: Int32Array.from(feature),
    threshold: Float64Array.from(threshold),
    mode: Uint8Array.from(mode),
    trueChild: Int32Array.from(trueChild),
    falseChild: Int32Array.from(falseChild),
    missingTrue: Uint8Array.from(missingTrue),
    memberOffsets: Int32Array.from(memberOffsets),
    memberValues: Float64Array.from(memberValues),
    leafOffsets: Int32Array.from(leafOffsets),
    leafTarget: Int32Array.from(leafTarget),
    leafWeight: Float64Array.from(leafWeight),
    baseValues: Float64Array.from({ length: nTargets }, () => rng.normal()),
    splitPrecision: 'float64',
    outputNames: Array.from({ length: nTargets }, (_, t) => `margin[${t}]`),
    postTransform: 'NONE',
    operator: 'random',
    opset: 0,
    after: [],
    folded: [],
  };
}

describe('treeShap on random ensembles (property)', () => {
  test.prop(
    [fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 2 }), fc.integer(), fc.integer({ min: 1, max: 5 })],
    {
      numRuns: 60,
      seed: 23,
    },
  )(
    'equals brute force on random trees, groups, weighted backgrounds with ties and NaN (1e-9)',
    (d, nTargets, seed, nb) => {
      const e = randomEnsemble(seed, d, nTargets);
      const rng = Rng.fromSeed(seed ^ 0x5bd1e995);
      // values on a small grid (ties with thresholds and set members) plus NaN
      const value = () => (rng.float() < 0.15 ? Number.NaN : rng.int(4) - 0.5 * rng.int(2));
      const bg = background(Float64Array.from({ length: nb * d }, value), nb, d, rng);
      // random partition of the columns into players
      const nPlayers = 1 + rng.int(d);
      const groups: number[][] = Array.from({ length: nPlayers }, (_, p) => [p]);
      for (let c = nPlayers; c < d; c++) groups[rng.int(nPlayers)].push(c);
      const x = Float64Array.from({ length: d }, value);
      const res = treeShap(e, x, bg, playersFromIndices(d, groups));
      expect(maxAbsDiff(res.values, reference(e, x, bg, groups).flat())).toBeLessThan(1e-9);
    },
  );
});
