/**
 * Tiny tree learners for the tree-ensemble fixtures and the tree benchmark: a greedy
 * regression tree (squared error, thresholds halfway between consecutive float32 values,
 * rounded to float32, NaN rows sent to whichever side fits better), gradient boosting for
 * regression / binary / multi-class, and a bagged forest. Deterministic given the Random.
 */
import type { Random } from './random.js';

/** A binary tree: internal nodes have `feature >= 0`; `x <= threshold` (or NaN when `missingLeft`) goes left. */
export interface SimpleTree {
  readonly feature: number[];
  readonly threshold: number[];
  readonly left: number[];
  readonly right: number[];
  readonly missingLeft: boolean[];
  /** Leaf values, `nValues` per node (internal nodes hold their mean too). */
  readonly value: number[][];
}

/** Options of {@link fitRegressionTree}. */
export interface TreeFitOptions {
  readonly maxDepth: number;
  readonly minLeaf?: number;
  /** Columns tried per split (all when undefined). */
  readonly maxFeatures?: number;
  /** Leaf value from the rows' targets (default: mean of targets[0]). */
  readonly leafValue?: (rows: readonly number[]) => number[];
}

/**
 * Fits a regression tree on `targets` (the split criterion uses `targets`; leaf values come
 * from `leafValue`).
 */
export function fitRegressionTree(
  X: Float64Array,
  nFeatures: number,
  rows: readonly number[],
  targets: ArrayLike<number>,
  options: TreeFitOptions,
  rng: Random,
): SimpleTree {
  const minLeaf = options.minLeaf ?? 2;
  const leafValue =
    options.leafValue ?? ((rs: readonly number[]) => [rs.reduce((a, r) => a + targets[r], 0) / Math.max(1, rs.length)]);
  const tree: SimpleTree = { feature: [], threshold: [], left: [], right: [], missingLeft: [], value: [] };
  const grow = (rs: readonly number[], depth: number): number => {
    const id = tree.feature.length;
    tree.feature.push(-1);
    tree.threshold.push(0);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.missingLeft.push(false);
    tree.value.push(leafValue(rs));
    if (depth >= options.maxDepth || rs.length < 2 * minLeaf) return id;
    const best = bestSplit(X, nFeatures, rs, targets, minLeaf, options.maxFeatures, rng);
    if (!best) return id;
    const l: number[] = [];
    const r: number[] = [];
    for (const i of rs) {
      const v = X[i * nFeatures + best.feature];
      if (Number.isNaN(v) ? best.missingLeft : v <= best.threshold) l.push(i);
      else r.push(i);
    }
    tree.feature[id] = best.feature;
    tree.threshold[id] = best.threshold;
    tree.missingLeft[id] = best.missingLeft;
    const li = grow(l, depth + 1);
    const ri = grow(r, depth + 1);
    tree.left[id] = li;
    tree.right[id] = ri;
    return id;
  };
  grow(rows, 0);
  return tree;
}

function bestSplit(
  X: Float64Array,
  d: number,
  rows: readonly number[],
  y: ArrayLike<number>,
  minLeaf: number,
  maxFeatures: number | undefined,
  rng: Random,
): { feature: number; threshold: number; missingLeft: boolean } | undefined {
  let features = Array.from({ length: d }, (_, j) => j);
  if (maxFeatures !== undefined && maxFeatures < d)
    features = rng
      .shuffle(features)
      .slice(0, maxFeatures)
      .sort((a, b) => a - b);
  let best: { feature: number; threshold: number; missingLeft: boolean } | undefined;
  let bestGain = 1e-12;
  for (const f of features) {
    const present = rows.filter((i) => !Number.isNaN(X[i * d + f])).sort((a, b) => X[a * d + f] - X[b * d + f]);
    const missing = rows.filter((i) => Number.isNaN(X[i * d + f]));
    let mSum = 0;
    for (const i of missing) mSum += y[i];
    let total = mSum;
    for (const i of present) total += y[i];
    const n = rows.length;
    let lSum = 0;
    for (let k = 0; k < present.length - 1; k++) {
      lSum += y[present[k]];
      const a = X[present[k] * d + f];
      const b = X[present[k + 1] * d + f];
      if (a === b) continue;
      const t = Math.fround((a + b) / 2);
      if (!(t >= a && t < b)) continue; // float32 rounding must keep the split between a and b
      for (const missingLeft of missing.length > 0 ? [true, false] : [false]) {
        const nl = k + 1 + (missingLeft ? missing.length : 0);
        const nr = n - nl;
        if (nl < minLeaf || nr < minLeaf) continue;
        const sl = lSum + (missingLeft ? mSum : 0);
        const sr = total - sl;
        const gain = (sl * sl) / nl + (sr * sr) / nr - (total * total) / n;
        if (gain > bestGain) {
          bestGain = gain;
          best = { feature: f, threshold: t, missingLeft };
        }
      }
    }
  }
  return best;
}

/** Boosted trees: `trees[round][k]` for output k (one output for regression and binary). */
export interface Boosted {
  readonly trees: SimpleTree[][];
  readonly base: number[];
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/**
 * Gradient boosting: squared error (`'regression'`), log-loss (`'binary'`, one margin, the
 * log-odds of class 1) or softmax (`'multiclass'`, one margin per class). Leaf values are
 * Newton steps times `learningRate`, rounded to float32 (what the ONNX file stores).
 */
export function boost(
  X: Float64Array,
  nRows: number,
  nFeatures: number,
  y: ArrayLike<number>,
  task: 'regression' | 'binary' | 'multiclass',
  options: { rounds: number; maxDepth: number; learningRate: number; nClasses?: number; maxFeatures?: number },
  rng: Random,
): Boosted {
  const K = task === 'multiclass' ? (options.nClasses ?? 3) : 1;
  const rows = Array.from({ length: nRows }, (_, i) => i);
  const base = new Array<number>(K).fill(0);
  if (task === 'regression') base[0] = Math.fround(Array.from(y).reduce((a, b) => a + b, 0) / nRows);
  if (task === 'binary') {
    const p = Math.min(0.99, Math.max(0.01, Array.from(y).reduce((a, b) => a + b, 0) / nRows));
    base[0] = Math.fround(Math.log(p / (1 - p)));
  }
  const F = Array.from({ length: K }, (_, k) => new Float64Array(nRows).fill(base[k]));
  const trees: SimpleTree[][] = [];
  for (let round = 0; round < options.rounds; round++) {
    const probs: Float64Array[] = [];
    if (task === 'multiclass') {
      for (let k = 0; k < K; k++) probs.push(new Float64Array(nRows));
      for (let i = 0; i < nRows; i++) {
        let m = -Infinity;
        for (let k = 0; k < K; k++) m = Math.max(m, F[k][i]);
        let s = 0;
        for (let k = 0; k < K; k++) s += Math.exp(F[k][i] - m);
        for (let k = 0; k < K; k++) probs[k][i] = Math.exp(F[k][i] - m) / s;
      }
    }
    const roundTrees: SimpleTree[] = [];
    for (let k = 0; k < K; k++) {
      const g = new Float64Array(nRows);
      const h = new Float64Array(nRows);
      for (let i = 0; i < nRows; i++) {
        if (task === 'regression') {
          g[i] = y[i] - F[0][i];
          h[i] = 1;
        } else if (task === 'binary') {
          const p = sigmoid(F[0][i]);
          g[i] = y[i] - p;
          h[i] = Math.max(p * (1 - p), 1e-6);
        } else {
          const p = probs[k][i];
          g[i] = (y[i] === k ? 1 : 0) - p;
          h[i] = Math.max(p * (1 - p), 1e-6);
        }
      }
      const tree = fitRegressionTree(
        X,
        nFeatures,
        rows,
        g,
        {
          maxDepth: options.maxDepth,
          maxFeatures: options.maxFeatures,
          leafValue: (rs) => {
            let sg = 0;
            let sh = 0;
            for (const i of rs) {
              sg += g[i];
              sh += h[i];
            }
            return [Math.fround((options.learningRate * sg) / (sh + 1))];
          },
        },
        rng,
      );
      for (let i = 0; i < nRows; i++) F[k][i] += predictSimple(tree, X, i, nFeatures)[0];
      roundTrees.push(tree);
    }
    trees.push(roundTrees);
  }
  return { trees, base };
}

/** The leaf values a row reaches. */
export function predictSimple(tree: SimpleTree, X: ArrayLike<number>, row: number, d: number): number[] {
  let c = 0;
  while (tree.feature[c] >= 0) {
    const v = Math.fround(X[row * d + tree.feature[c]]);
    c = (Number.isNaN(v) ? tree.missingLeft[c] : v <= tree.threshold[c]) ? tree.left[c] : tree.right[c];
  }
  return tree.value[c];
}

/**
 * A bagged forest of regression trees on `targets[0]` whose leaves carry the mean of every
 * target (a multi-target forest), leaf values rounded to float32.
 */
export function forest(
  X: Float64Array,
  nRows: number,
  nFeatures: number,
  targets: readonly Float64Array[],
  options: { trees: number; maxDepth: number; maxFeatures?: number },
  rng: Random,
): SimpleTree[] {
  const out: SimpleTree[] = [];
  for (let t = 0; t < options.trees; t++) {
    const rows = Array.from({ length: nRows }, () => rng.int(0, nRows - 1));
    out.push(
      fitRegressionTree(
        X,
        nFeatures,
        rows,
        targets[0],
        {
          maxDepth: options.maxDepth,
          maxFeatures: options.maxFeatures,
          leafValue: (rs) => targets.map((y) => Math.fround(rs.reduce((a, r) => a + y[r], 0) / Math.max(1, rs.length))),
        },
        rng,
      ),
    );
  }
  return out;
}
