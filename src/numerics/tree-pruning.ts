/**
 * Minimal cost-complexity pruning of a CART tree (Breiman et al. 1984, ch. 3; sklearn's
 * `ccp_alpha`): R_α(T) = R(T) + α·|leaves(T)|, with R the weighted impurity of the leaves
 * (per unit of total weight). The weakest-link sequence gives the effective α at which each
 * internal node collapses; pruning at α collapses every node whose effective α ≤ α.
 */
import { InvalidOptionError } from '../errors.js';
import type { Tree } from './cart.js';

/** One step of the pruning path: at `alpha` the subtree under `node` collapses into a leaf. */
export interface PruningStep {
  readonly alpha: number;
  readonly node: number;
  /** Leaves of the whole tree after this step. */
  readonly leaves: number;
}

/**
 * The weakest-link pruning path of `tree`: the internal nodes in the order they collapse, each
 * with its effective α (non-decreasing), down to the root.
 */
export function pruningPath(tree: Tree): PruningStep[] {
  const n = tree.nNodes;
  const total = tree.weight[0] > 0 ? tree.weight[0] : 1;
  const risk = Float64Array.from({ length: n }, (_, i) => (tree.impurity[i] * tree.weight[i]) / total);
  const collapsed = new Uint8Array(n);
  const parent = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++)
    if (tree.feature[i] >= 0) {
      parent[tree.left[i]] = i;
      parent[tree.right[i]] = i;
    }
  // per node: leaves and risk of its (current) subtree
  const leaves = new Float64Array(n);
  const subRisk = new Float64Array(n);
  const fill = (i: number): void => {
    if (tree.feature[i] < 0 || collapsed[i]) {
      leaves[i] = 1;
      subRisk[i] = risk[i];
      return;
    }
    fill(tree.left[i]);
    fill(tree.right[i]);
    leaves[i] = leaves[tree.left[i]] + leaves[tree.right[i]];
    subRisk[i] = subRisk[tree.left[i]] + subRisk[tree.right[i]];
  };
  fill(0);
  const steps: PruningStep[] = [];
  let lastAlpha = 0;
  while (tree.feature[0] >= 0 && !collapsed[0]) {
    let best = -1;
    let bestG = Number.POSITIVE_INFINITY;
    const visit = (i: number): void => {
      if (tree.feature[i] < 0 || collapsed[i]) return;
      const g = (risk[i] - subRisk[i]) / (leaves[i] - 1);
      if (g < bestG - 1e-15) {
        bestG = g;
        best = i;
      }
      visit(tree.left[i]);
      visit(tree.right[i]);
    };
    visit(0);
    collapsed[best] = 1;
    // update the ancestors' counts
    const dl = leaves[best] - 1;
    const dr = subRisk[best] - risk[best];
    leaves[best] = 1;
    subRisk[best] = risk[best];
    for (let a = parent[best]; a >= 0; a = parent[a]) {
      leaves[a] -= dl;
      subRisk[a] -= dr;
    }
    lastAlpha = Math.max(lastAlpha, bestG);
    steps.push({ alpha: lastAlpha, node: best, leaves: leaves[0] });
  }
  return steps;
}

/**
 * `tree` pruned at complexity `alpha` (≥ 0): every node whose effective α ≤ `alpha` becomes a
 * leaf (its value, samples and impurity kept); nodes renumbered depth-first, importances
 * recomputed from the remaining splits.
 * @throws {InvalidOptionError} for a negative or non-finite alpha.
 */
export function pruneTree(tree: Tree, alpha: number, path: readonly PruningStep[] = pruningPath(tree)): Tree {
  if (!Number.isFinite(alpha) || alpha < 0) throw new InvalidOptionError('ccpAlpha', 'a finite number >= 0', alpha);
  const cut = new Uint8Array(tree.nNodes);
  for (const s of path) if (s.alpha <= alpha * (1 + 1e-12) + 1e-15) cut[s.node] = 1;
  const keep: number[] = [];
  const walk = (i: number): void => {
    keep.push(i);
    if (tree.feature[i] >= 0 && !cut[i]) {
      walk(tree.left[i]);
      walk(tree.right[i]);
    }
  };
  walk(0);
  const m = keep.length;
  const newId = new Int32Array(tree.nNodes).fill(-1);
  keep.forEach((old, k) => {
    newId[old] = k;
  });
  const K = tree.nValues;
  const feature = new Int32Array(m);
  const threshold = new Float64Array(m);
  const left = new Int32Array(m).fill(-1);
  const right = new Int32Array(m).fill(-1);
  const value = new Float64Array(m * K);
  const samples = new Int32Array(m);
  const weight = new Float64Array(m);
  const impurity = new Float64Array(m);
  const depth = new Int32Array(m);
  const importance = new Float64Array(tree.nFeatures);
  keep.forEach((old, k) => {
    const split = tree.feature[old] >= 0 && !cut[old];
    feature[k] = split ? tree.feature[old] : -1;
    threshold[k] = split ? tree.threshold[old] : 0;
    if (split) {
      left[k] = newId[tree.left[old]];
      right[k] = newId[tree.right[old]];
      const l = tree.left[old];
      const r = tree.right[old];
      importance[tree.feature[old]] +=
        tree.weight[old] * tree.impurity[old] - tree.weight[l] * tree.impurity[l] - tree.weight[r] * tree.impurity[r];
    }
    value.set(tree.value.subarray(old * K, old * K + K), k * K);
    samples[k] = tree.samples[old];
    weight[k] = tree.weight[old];
    impurity[k] = tree.impurity[old];
    depth[k] = tree.depth[old];
  });
  let sum = 0;
  for (let f = 0; f < importance.length; f++) {
    importance[f] = Math.max(0, importance[f]);
    sum += importance[f];
  }
  if (sum > 0) for (let f = 0; f < importance.length; f++) importance[f] /= sum;
  return {
    task: tree.task,
    nFeatures: tree.nFeatures,
    nValues: K,
    nNodes: m,
    feature,
    threshold,
    left,
    right,
    value,
    samples,
    weight,
    impurity,
    depth,
    importance,
  };
}
