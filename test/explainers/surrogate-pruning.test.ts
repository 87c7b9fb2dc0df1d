import { describe, expect, it } from 'vitest';
import { createDataset } from '../../src/data/dataset.js';
import { InvalidOptionError } from '../../src/errors.js';
import {
  FIDELITY_THRESHOLDS,
  perturbRows,
  surrogateToJSON,
  surrogateTree,
} from '../../src/explainers/surrogate-tree.js';
import { fromFunction } from '../../src/models/function-model.js';
import type { Tree } from '../../src/numerics/cart.js';
import { fitTree, treePredict, treeShape } from '../../src/numerics/cart.js';
import { pruneTree, pruningPath } from '../../src/numerics/tree-pruning.js';
import { Rng } from '../../src/sampling/rng.js';

function randomRows(n: number, d: number, seed: number) {
  const rng = Rng.fromSeed(seed);
  const data = new Float64Array(n * d);
  for (let i = 0; i < data.length; i++) data[i] = rng.float();
  return createDataset(
    Array.from({ length: d }, (_, j) => `f${j}`),
    data,
  );
}

/** Every pruned subtree of `tree` (rooted at the root), as the set of nodes kept as leaves: brute force. */
function allPrunings(tree: Tree, node = 0): number[][] {
  if (tree.feature[node] < 0) return [[node]];
  const out: number[][] = [[node]];
  for (const l of allPrunings(tree, tree.left[node]))
    for (const r of allPrunings(tree, tree.right[node])) out.push([...l, ...r]);
  return out;
}

/** Cost-complexity R(T) + α |leaves| of a pruning, R per unit of total weight. */
function cost(tree: Tree, leaves: number[], alpha: number): number {
  return leaves.reduce((s, i) => s + (tree.impurity[i] * tree.weight[i]) / tree.weight[0], 0) + alpha * leaves.length;
}

describe('cost-complexity pruning', () => {
  const ds = randomRows(300, 4, 3);
  const y = Float64Array.from({ length: 300 }, (_, i) => {
    const x = ds.data.subarray(i * 4, i * 4 + 4);
    return Math.sin(6 * x[0]) + (x[1] > 0.5 ? 1 : 0) + 0.3 * Math.sin(97 * x[2]);
  });
  const tree = fitTree(ds.data, 300, 4, y, { maxDepth: 4 });

  it('prunes to the smallest subtree of least cost R(T) + α|T| (brute force over all 1+ prunings)', () => {
    const all = allPrunings(tree);
    expect(all.length).toBeGreaterThan(100);
    const path = pruningPath(tree);
    // effective alphas are non-decreasing and end at the root
    for (let k = 1; k < path.length; k++) expect(path[k].alpha).toBeGreaterThanOrEqual(path[k - 1].alpha);
    expect(path[path.length - 1].leaves).toBe(1);
    for (const alpha of [0, 1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 1]) {
      const pruned = pruneTree(tree, alpha, path);
      const leaves = treeShape(pruned).leaves;
      const best = Math.min(...all.map((p) => cost(tree, p, alpha)));
      const prunedLeafRisk = Array.from({ length: pruned.nNodes }, (_, i) => i)
        .filter((i) => pruned.feature[i] < 0)
        .reduce((s, i) => s + (pruned.impurity[i] * pruned.weight[i]) / pruned.weight[0], 0);
      expect(prunedLeafRisk + alpha * leaves).toBeCloseTo(best, 10);
      // the smallest minimiser
      const minimisers = all.filter((p) => cost(tree, p, alpha) <= best + 1e-12);
      expect(leaves).toBe(Math.min(...minimisers.map((p) => p.length)));
      let s = 0;
      for (const v of pruned.importance) s += v;
      expect(s === 0 || Math.abs(s - 1) < 1e-12).toBe(true);
    }
  });

  it('α = 0 keeps the predictions; a huge α leaves the root; a bad α is refused', () => {
    const same = pruneTree(tree, 0);
    expect(Array.from(treePredict(same, ds.data, 300))).toEqual(Array.from(treePredict(tree, ds.data, 300)));
    const root = pruneTree(tree, 1e9);
    expect(root.nNodes).toBe(1);
    expect(root.value[0]).toBeCloseTo(y.reduce((a, b) => a + b, 0) / 300, 12);
    expect(() => pruneTree(tree, -1)).toThrow(InvalidOptionError);
  });
});

describe('surrogate trees that tell the truth about themselves', () => {
  // a step in f0 plus high-frequency "noise" in f1 that no shallow tree can learn
  const noisy = fromFunction((x: Float64Array) => (x[0] > 0.5 ? 1 : 0) + 0.25 * Math.sin(2000 * x[1]), { nInputs: 4 });
  const rows = randomRows(600, 4, 11);

  it("maxDepth 'auto' prunes the noise away: few leaves, the step found, held-out R² at least the deep tree's", async () => {
    const deep = await surrogateTree(noisy, rows, { maxDepth: 10, seed: 2 });
    const auto = await surrogateTree(noisy, rows, { maxDepth: 'auto', seed: 2 });
    expect(treeShape(deep.tree).leaves).toBeGreaterThan(50);
    expect(treeShape(auto.tree).leaves).toBeLessThanOrEqual(8);
    expect(auto.tree.feature[0]).toBe(0);
    expect(Math.abs(auto.tree.threshold[0] - 0.5)).toBeLessThan(0.02);
    expect(auto.fidelity.r2 as number).toBeGreaterThanOrEqual((deep.fidelity.r2 as number) - 1e-9);
    expect(auto.pruning?.method).toBe('cross-validation');
    expect(auto.pruning?.candidates?.length).toBeGreaterThan(3);
    // deep trees fit the training rows far better than the held-out ones
    expect((deep.trainFidelity.r2 as number) - (deep.fidelity.r2 as number)).toBeGreaterThan(0.1);
  });

  it('warns (text and JSON fidelity.warning) when held-out fidelity is weak, and not when it is fine', async () => {
    const pureNoise = fromFunction((x: Float64Array) => Math.sin(2000 * x[1]), { nInputs: 4 });
    const bad = await surrogateTree(pureNoise, rows, { maxDepth: 3, seed: 1 });
    expect(bad.fidelity.r2 as number).toBeLessThan(FIDELITY_THRESHOLDS.r2);
    expect(bad.warning).toMatch(/does not describe the model well: its held-out R² is/);
    expect(surrogateToJSON(bad).fidelity.warning).toBe(bad.warning);
    const step = fromFunction((x: Float64Array) => (x[0] > 0.5 ? 1 : 0), { nInputs: 4 });
    const good = await surrogateTree(step, rows, { maxDepth: 2, seed: 1 });
    expect(good.fidelity.r2).toBe(1);
    expect(good.warning).toBeUndefined();
    expect('warning' in surrogateToJSON(good).fidelity).toBe(false);
  });

  it('a classifier tree that only learns the base rate is flagged even at an accuracy above 0.8', async () => {
    // class 1 on ~14% of the rows, by a rule no shallow tree can learn
    const rare = fromFunction((x: Float64Array) => (Math.sin(2000 * x[1]) > 0.9 ? [0, 1] : [1, 0]), {
      nInputs: 4,
      outputNames: ['p0', 'p1'],
    });
    const s = await surrogateTree(rare, rows, { maxDepth: 2, seed: 1 });
    expect(s.task).toBe('classification');
    expect(s.fidelity.accuracy as number).toBeGreaterThan(FIDELITY_THRESHOLDS.accuracy);
    expect(s.warning).toMatch(/error rate [\d.]+ is more than 0.5 × that of always answering the most frequent class/);
    expect(s.warning).toMatch(/of the \d+ rows the model calls p1 in that class/);
    expect(s.warning).toMatch(/try maxDepth 'auto'/);
  });

  it('decision agreement for a probability: the share of held-out rows on the same side of 0.5 (brute force)', async () => {
    const prob = fromFunction((x: Float64Array) => 1 / (1 + Math.exp(-8 * (x[0] + x[1] - 1))), { nInputs: 4 });
    const s = await surrogateTree(prob, rows, { maxDepth: 2, seed: 4, holdout: 0.5 });
    const dec = s.fidelity.decision;
    expect(dec?.threshold).toBe(0.5);
    // held-out (300) and training (300) rows partition the 600: their agreements add up to the brute-force count
    const pred = treePredict(s.tree, rows.data, 600);
    const truth = await prob.predict(rows.data, 600);
    let sameAll = 0;
    for (let i = 0; i < 600; i++) if (pred[i] >= 0.5 === truth[i] >= 0.5) sameAll++;
    expect(s.holdoutRows).toBe(300);
    const trainAgree = s.trainFidelity.decision?.agreement as number;
    expect((trainAgree * 300 + (dec?.agreement as number) * 300) / 600).toBeCloseTo(sameAll / 600, 10);
  });

  it('augmented rows: one-hot groups stay one-hot, and the result reports the same fit without them', async () => {
    const names = ['a=x', 'a=y', 'a=z', 'b', 'c'];
    const rng = Rng.fromSeed(3);
    const n = 50;
    const X = new Float64Array(n * 5);
    for (let i = 0; i < n; i++) {
      X[i * 5 + rng.int(3)] = 1;
      X[i * 5 + 3] = rng.float();
      X[i * 5 + 4] = rng.float();
    }
    const { X: S, parent } = perturbRows(X, n, 5, 400, names, Rng.fromSeed(9));
    let changed = 0;
    for (let k = 0; k < 400; k++) {
      const hot = [0, 1, 2].filter((c) => S[k * 5 + c] === 1);
      expect(hot.length).toBe(1);
      expect(S[k * 5] + S[k * 5 + 1] + S[k * 5 + 2]).toBe(1);
      // every value comes from some real row's same column
      for (const c of [3, 4]) {
        let found = false;
        for (let i = 0; i < n && !found; i++) found = X[i * 5 + c] === S[k * 5 + c];
        expect(found).toBe(true);
      }
      for (let c = 0; c < 5; c++) if (S[k * 5 + c] !== X[parent[k] * 5 + c]) changed++;
    }
    expect(changed).toBeGreaterThan(0);

    const model = fromFunction((x: Float64Array) => x[0] * 2 + (x[3] > 0.3 ? 1 : 0) * x[4], {
      nInputs: 5,
      inputNames: names,
    });
    const ds = createDataset(names, X);
    const plain = await surrogateTree(model, ds, { maxDepth: 3, seed: 6 });
    const aug = await surrogateTree(model, ds, { maxDepth: 3, seed: 6, augment: 300 });
    expect(aug.augmentation?.rows).toBe(300);
    expect(aug.augmentation?.fidelityWithout).toEqual(plain.fidelity);
    expect(aug.modelRows).toBe(plain.modelRows + 300);
    expect(aug.tree.samples[0]).toBe(plain.tree.samples[0] + 300);
  });

  it('refuses bad pruning and augmentation options', async () => {
    await expect(surrogateTree(noisy, rows, { maxDepth: 'auto', ccpAlpha: 0.1 })).rejects.toThrow(/ccpAlpha/);
    await expect(surrogateTree(noisy, rows, { ccpAlpha: -1 })).rejects.toThrow(InvalidOptionError);
    await expect(surrogateTree(noisy, rows, { augment: 1.5 })).rejects.toThrow(/augment/);
    await expect(surrogateTree(noisy, rows, { maxDepth: 'deep' as never })).rejects.toThrow(/'auto'/);
  });
});
