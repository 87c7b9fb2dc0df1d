import { describe, expect, it } from 'vitest';
import { createDataset } from '../../src/data/dataset.js';
import { DataError, InvalidOptionError, ShapeError } from '../../src/errors.js';
import {
  surrogateRules,
  surrogateRulesText,
  surrogateToJSON,
  surrogateTree,
} from '../../src/explainers/surrogate-tree.js';
import { fromFunction } from '../../src/models/function-model.js';
import { argsortStable, fitTree, treePredict, treeShape } from '../../src/numerics/cart.js';
import { Rng } from '../../src/sampling/rng.js';

/** Rows on a grid: every feature a multiple of 0.1 in [0, 0.9] (thresholds fall between grid values). */
function gridRows(n: number, d: number, seed: number) {
  const rng = Rng.fromSeed(seed);
  const data = new Float64Array(n * d);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(10) / 10;
  return createDataset(
    Array.from({ length: d }, (_, j) => `f${j}`),
    data,
  );
}

/** A depth-3 tree as a model (greedy CART can find it: each split is the largest variance reduction). */
const truthTree = (x: Float64Array) =>
  x[0] <= 0.45
    ? x[1] <= 0.25
      ? x[3] <= 0.55
        ? 0
        : 1
      : x[4] <= 0.45
        ? 4
        : 5
    : x[2] <= 0.65
      ? x[3] <= 0.15
        ? 10
        : 11
      : x[5] <= 0.55
        ? 14
        : 15;
const treeModel = fromFunction(truthTree, { nInputs: 6 });

describe('surrogateTree: regression', () => {
  const rows = gridRows(6000, 6, 1);

  it('recovers a model that is a depth-3 tree exactly (holdout R² = 1, same splits)', async () => {
    const s = await surrogateTree(treeModel, rows, { maxDepth: 3, seed: 2 });
    expect(s.fidelity.r2).toBe(1);
    expect(s.fidelity.rmse).toBe(0);
    expect(s.holdoutRows).toBe(1200);
    const t = s.tree;
    expect(treeShape(t)).toEqual({ depth: 3, leaves: 8 });
    // root, then left and right children, with thresholds halfway between grid values
    expect(s.featureNames[t.feature[0]]).toBe('f0');
    expect(t.threshold[0]).toBeCloseTo(0.45, 12);
    expect(s.featureNames[t.feature[t.left[0]]]).toBe('f1');
    expect(s.featureNames[t.feature[t.right[0]]]).toBe('f2');
    const rules = surrogateRules(s);
    expect(rules.map((r) => r.prediction)).toEqual([0, 1, 4, 5, 10, 11, 14, 15]);
    expect(rules[0].conditions).toEqual(['f0 <= 0.45', 'f1 <= 0.25', 'f3 <= 0.55']);
    expect(rules[7].conditions).toEqual(['f0 > 0.45', 'f2 > 0.65', 'f5 > 0.55']);
    // every training row lands in a leaf with its exact value: importance only on used features
    const imp = Array.from(t.importance);
    expect(imp.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(imp[0]).toBeGreaterThan(imp[1]);
    expect(surrogateRulesText(s)).toMatch(
      /if f0 <= 0\.45 and f1 <= 0\.25 and f3 <= 0\.55 then output = 0 {2}\(n = \d+/,
    );
  });

  it('fidelity drops when the depth is capped below the truth', async () => {
    const r2 = [];
    for (const maxDepth of [1, 2, 3]) {
      const s = await surrogateTree(treeModel, rows, { maxDepth, seed: 2 });
      r2.push(s.fidelity.r2 as number);
    }
    expect(r2[0]).toBeLessThan(r2[1]);
    expect(r2[1]).toBeLessThan(0.999);
    expect(r2[2]).toBe(1);
  });

  it('JSON: nodes, rules, importance, fidelity', async () => {
    const s = await surrogateTree(treeModel, rows, { maxDepth: 2, seed: 3, sampleRows: 3000, holdout: 0.25 });
    const j = surrogateToJSON(s);
    expect(j.rows).toEqual({ train: 2250, holdout: 750 });
    expect(j.nodes).toHaveLength(7);
    expect(j.nodes[0]).toMatchObject({ leaf: false, feature: 'f0', featureIndex: 0, samples: 2250 });
    expect(j.rules).toHaveLength(4);
    expect(j.importance[0].feature).toBe('f0');
    expect(j.fidelity.holdout?.rows).toBe(750);
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
  });
});

describe('surrogateTree: classification on the argmax', () => {
  const rows = gridRows(4000, 6, 4);
  // three class scores; the winner is decided by a depth-2 rule
  const cls = (x: Float64Array) => (x[0] <= 0.45 ? (x[1] <= 0.25 ? 0 : 1) : x[2] <= 0.65 ? 2 : 0);
  const model = fromFunction(
    (x: Float64Array) => {
      const c = cls(x);
      return [c === 0 ? 0.7 : 0.1, c === 1 ? 0.8 : 0.15, c === 2 ? 0.6 : 0.2];
    },
    { nInputs: 6, outputNames: ['low', 'mid', 'high'] },
  );

  it('accuracy 1 and per-class agreement 1 at the true depth; lower when capped', async () => {
    const s = await surrogateTree(model, rows, { maxDepth: 2, seed: 5 });
    expect(s.task).toBe('classification');
    expect(s.fidelity.accuracy).toBe(1);
    for (const c of s.fidelity.perClass ?? []) expect(c.agreement).toBe(1);
    expect(s.fidelity.perClass?.map((c) => c.class)).toEqual(['low', 'mid', 'high']);
    expect(surrogateRules(s).map((r) => r.prediction)).toEqual(['low', 'mid', 'high', 'low']);
    const capped = await surrogateTree(model, rows, { maxDepth: 1, seed: 5 });
    expect(capped.fidelity.accuracy).toBeLessThan(0.9);
    const per = capped.fidelity.perClass ?? [];
    expect(per.reduce((a, c) => a + c.support, 0)).toBe(capped.holdoutRows);
    // the tree's errors show up as a class with agreement < 1
    expect(Math.min(...per.map((c) => c.agreement))).toBeLessThan(1);
    expect(surrogateRulesText(capped)).toMatch(/then class \w+ \(p = /);
  });
});

describe('fitTree against brute force', () => {
  it('the radix argsort equals a stable comparison sort (negatives, ties, ±0, extremes)', () => {
    const rng = Rng.fromSeed(9);
    const v = Float64Array.from({ length: 5000 }, (_, i) =>
      i % 7 === 0 ? Math.round(rng.normal() * 3) : i % 11 === 0 ? (i % 2 ? -0 : 0) : rng.normal() * 10 ** rng.int(12),
    );
    v[3] = Number.MAX_VALUE;
    v[4] = -Number.MAX_VALUE;
    v[5] = Number.MIN_VALUE;
    const expected = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[a] - v[b] || a - b);
    expect(Array.from(argsortStable(v))).toEqual(expected);
  });

  it('the root split minimises the weighted squared error over every feature and threshold', () => {
    const rng = Rng.fromSeed(6);
    const n = 60;
    const d = 3;
    const X = Float64Array.from({ length: n * d }, () => Math.round(rng.float() * 20) / 2);
    const y = Float64Array.from({ length: n }, (_, i) => X[i * d] * 0.3 + Math.sin(X[i * d + 1]) + rng.normal());
    const w = Float64Array.from({ length: n }, () => 0.5 + rng.float());
    const t = fitTree(X, n, d, y, { maxDepth: 1, sampleWeights: w });
    // brute force: every feature, every threshold between distinct values
    let best = Number.POSITIVE_INFINITY;
    let bestF = -1;
    let bestT = 0;
    for (let f = 0; f < d; f++) {
      const vals = [...new Set(Array.from({ length: n }, (_, i) => X[i * d + f]))].sort((a, b) => a - b);
      for (let k = 0; k + 1 < vals.length; k++) {
        const thr = (vals[k] + vals[k + 1]) / 2;
        let sse = 0;
        for (const side of [true, false]) {
          let sw = 0;
          let sy = 0;
          for (let i = 0; i < n; i++)
            if (X[i * d + f] <= thr === side) {
              sw += w[i];
              sy += w[i] * y[i];
            }
          const m = sy / sw;
          for (let i = 0; i < n; i++) if (X[i * d + f] <= thr === side) sse += w[i] * (y[i] - m) ** 2;
        }
        if (sse < best - 1e-9) {
          best = sse;
          bestF = f;
          bestT = thr;
        }
      }
    }
    expect(t.feature[0]).toBe(bestF);
    expect(t.threshold[0]).toBe(bestT);
  });

  it('zero weights act as absent rows; minSamplesLeaf holds in every leaf', () => {
    const rng = Rng.fromSeed(7);
    const n = 400;
    const d = 4;
    const X = Float64Array.from({ length: n * d }, () => rng.float());
    const y = Float64Array.from({ length: n }, (_, i) => (X[i * d] > 0.5 ? 1 : 0) + X[i * d + 2] + 0.1 * rng.normal());
    const keep = Array.from({ length: n }, (_, i) => i % 3 !== 0);
    const w = keep.map((k) => (k ? 1 : 0));
    const sub = keep.flatMap((k, i) => (k ? [i] : []));
    const Xs = Float64Array.from(sub.flatMap((i) => Array.from(X.subarray(i * d, (i + 1) * d))));
    const ys = Float64Array.from(sub.map((i) => y[i]));
    // min leaf 1 (as sklearn, zero-weight rows still count as rows, so compare with leaf size 1)
    const a = fitTree(X, n, d, y, { maxDepth: 3, sampleWeights: w });
    const b = fitTree(Xs, sub.length, d, ys, { maxDepth: 3 });
    expect(Array.from(treePredict(a, Xs, sub.length))).toEqual(Array.from(treePredict(b, Xs, sub.length)));
    const c = fitTree(X, n, d, y, { maxDepth: 8, minSamplesLeaf: 25 });
    for (let i = 0; i < c.nNodes; i++) if (c.feature[i] < 0) expect(c.samples[i]).toBeGreaterThanOrEqual(25);
  });
});

describe('surrogateTree: bad input gets clear errors', () => {
  const rows = gridRows(100, 6, 8);
  const two = fromFunction((x: Float64Array) => [x[0], x[1]], { nInputs: 6, outputNames: ['a', 'b'] });
  const cases: [string, () => Promise<unknown>, new (...a: never[]) => Error, RegExp][] = [
    [
      'maxDepth -1',
      () => surrogateTree(treeModel, rows, { maxDepth: -1 }),
      InvalidOptionError,
      /maxDepth must be an integer in 1..64 or 'auto'; got -1/,
    ],
    [
      'minSamplesLeaf 0',
      () => surrogateTree(treeModel, rows, { minSamplesLeaf: 0 }),
      InvalidOptionError,
      /minSamplesLeaf must be a positive integer/,
    ],
    [
      'holdout 1',
      () => surrogateTree(treeModel, rows, { holdout: 1 }),
      InvalidOptionError,
      /holdout must be a fraction in \[0, 1\); got 1/,
    ],
    ['holdout too small', () => surrogateTree(treeModel, rows, { holdout: 0.001 }), DataError, /holds out no row/],
    [
      'classification of one output',
      () => surrogateTree(treeModel, rows, { task: 'classification' }),
      InvalidOptionError,
      /at least two/,
    ],
    [
      'regression of two outputs',
      () => surrogateTree(two, rows, { task: 'regression' }),
      InvalidOptionError,
      /output must be one of \["a","b"\]/,
    ],
    [
      'unknown output',
      () => surrogateTree(two, rows, { task: 'regression', output: 'c' }),
      InvalidOptionError,
      /output must be one of/,
    ],
    [
      'sampleRows',
      () => surrogateTree(treeModel, rows, { sampleRows: 1000 }),
      InvalidOptionError,
      /sampleRows must be an integer in 2..100/,
    ],
    [
      'weights length',
      () => surrogateTree(treeModel, rows, { sampleWeights: [1, 2] }),
      ShapeError,
      /sampleWeights holds 2 weights for 100 rows/,
    ],
    [
      'negative weight',
      () => surrogateTree(treeModel, rows, { sampleWeights: new Float64Array(100).fill(-1) }),
      InvalidOptionError,
      /sampleWeights must be finite weights >= 0/,
    ],
    [
      'NaN row',
      () => surrogateTree(treeModel, { data: Float64Array.of(1, 2, 3, 4, 5, Number.NaN, 1, 2, 3, 4, 5, 6), nRows: 2 }),
      DataError,
      /NaN/,
    ],
    ['wrong width', () => surrogateTree(treeModel, { data: new Float64Array(10), nRows: 2 }), ShapeError, /12/],
  ];
  for (const [name, f, cls, msg] of cases)
    it(name, async () => {
      const p = f();
      await expect(p).rejects.toBeInstanceOf(cls);
      await expect(p).rejects.toThrow(msg);
    });
});
