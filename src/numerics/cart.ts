import { DataError, InvalidOptionError, ShapeError } from '../errors.js';

/** What a CART tree predicts: a number (`'regression'`, MSE splits) or a class (`'classification'`, Gini splits). */
export type TreeTask = 'regression' | 'classification';

/** Options of {@link fitTree}. */
export interface FitTreeOptions {
  /** @defaultValue 'regression' */
  task?: TreeTask;
  /** Number of classes (classification; targets are class indices 0..nClasses-1). @defaultValue max target + 1 */
  nClasses?: number;
  /** Deepest level of a split (the root is depth 0; a depth-d tree has at most 2^d leaves). @defaultValue 4 */
  maxDepth?: number;
  /** Fewest rows in a leaf. @defaultValue 1 */
  minSamplesLeaf?: number;
  /** Fewest rows in a node that may be split. @defaultValue 2 */
  minSamplesSplit?: number;
  /** A weight per row (≥ 0, finite). @defaultValue 1 for every row */
  sampleWeights?: ArrayLike<number>;
}

/** CART defaults. */
export const TREE_DEFAULTS = { task: 'regression', maxDepth: 4, minSamplesLeaf: 1, minSamplesSplit: 2 } as const;

/**
 * A fitted binary tree in flat arrays (node 0 is the root). Internal node i sends a row
 * with `x[feature[i]] <= threshold[i]` to `left[i]`, else to `right[i]`; a leaf has
 * `feature[i] = -1`. `value[i * nValues + k]`: the node's weighted mean (regression,
 * nValues = 1) or its class probabilities (classification, nValues = nClasses).
 */
export interface Tree {
  readonly task: TreeTask;
  readonly nFeatures: number;
  readonly nValues: number;
  readonly nNodes: number;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly value: Float64Array;
  /** Rows and total weight reaching each node; impurity (weighted MSE or Gini) of each node. */
  readonly samples: Int32Array;
  readonly weight: Float64Array;
  readonly impurity: Float64Array;
  /** Depth of each node (root 0). */
  readonly depth: Int32Array;
  /** Impurity decrease per feature, normalised to sum 1 (all 0 for a single leaf). */
  readonly importance: Float64Array;
}

/**
 * Fits a CART tree (Breiman et al. 1984; splits as sklearn's `DecisionTreeRegressor` /
 * `DecisionTreeClassifier` with `splitter='best'`: the split that most decreases weighted
 * impurity, threshold halfway between consecutive distinct values, `x <= t` goes left).
 *
 * Every feature is sorted once; each node keeps, per feature, its rows as a contiguous,
 * sorted segment of an index array, partitioned stably in place when the node splits — a
 * level costs O(rows × features) and nothing is re-sorted. Ties between candidate splits go
 * to the lower feature index, then the lower threshold (deterministic).
 *
 * @param X - rows, row-major `nRows × nFeatures`, finite.
 * @param y - targets: numbers (regression) or class indices (classification).
 * @throws {ShapeError} / {@link DataError} for mismatched or non-finite inputs,
 *   {@link InvalidOptionError} for bad options.
 */
export function fitTree(
  X: Float64Array,
  nRows: number,
  nFeatures: number,
  y: ArrayLike<number>,
  options: FitTreeOptions = {},
): Tree {
  const task = options.task ?? TREE_DEFAULTS.task;
  if (task !== 'regression' && task !== 'classification')
    throw new InvalidOptionError('task', "'regression' or 'classification'", task);
  const maxDepth = options.maxDepth ?? TREE_DEFAULTS.maxDepth;
  if (!Number.isInteger(maxDepth) || maxDepth < 0 || maxDepth > 64)
    throw new InvalidOptionError('maxDepth', 'an integer in 0..64', maxDepth);
  const minLeaf = options.minSamplesLeaf ?? TREE_DEFAULTS.minSamplesLeaf;
  if (!Number.isInteger(minLeaf) || minLeaf < 1)
    throw new InvalidOptionError('minSamplesLeaf', 'a positive integer', minLeaf);
  const minSplit = options.minSamplesSplit ?? TREE_DEFAULTS.minSamplesSplit;
  if (!Number.isInteger(minSplit) || minSplit < 2)
    throw new InvalidOptionError('minSamplesSplit', 'an integer >= 2', minSplit);
  const n = nRows;
  const d = nFeatures;
  if (!Number.isInteger(n) || n < 1) throw new DataError(`a tree needs at least one row; got ${n}`);
  if (!Number.isInteger(d) || d < 1) throw new ShapeError(`a tree needs at least one feature; got ${d}`);
  if (X.length !== n * d) throw new ShapeError(`X holds ${X.length} values; ${n} rows of ${d} features need ${n * d}`);
  if (y.length !== n) throw new ShapeError(`y holds ${y.length} targets for ${n} rows`);
  for (let i = 0; i < X.length; i++)
    if (!Number.isFinite(X[i]))
      throw new DataError(
        `X value is ${X[i]} (row ${Math.floor(i / d)}, feature ${i % d}); a tree needs finite inputs`,
      );
  const w = new Float64Array(n);
  if (options.sampleWeights !== undefined) {
    if (options.sampleWeights.length !== n)
      throw new ShapeError(`sampleWeights holds ${options.sampleWeights.length} weights for ${n} rows`);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const v = options.sampleWeights[i];
      if (!Number.isFinite(v) || v < 0)
        throw new InvalidOptionError('sampleWeights', 'finite weights >= 0', v, `row ${i}`);
      w[i] = v;
      total += v;
    }
    if (!(total > 0)) throw new InvalidOptionError('sampleWeights', 'weights with a positive sum', 0);
  } else w.fill(1);
  let K = 1;
  const cls = new Int32Array(n);
  if (task === 'classification') {
    let maxC = 0;
    for (let i = 0; i < n; i++) {
      const c = y[i];
      if (!Number.isInteger(c) || c < 0)
        throw new DataError(`class target ${c} at row ${i}: classes must be integers >= 0`);
      cls[i] = c;
      if (c > maxC) maxC = c;
    }
    K = options.nClasses ?? maxC + 1;
    if (!Number.isInteger(K) || K < 1 || K <= maxC)
      throw new InvalidOptionError('nClasses', `an integer > the largest class (${maxC})`, K);
  } else {
    for (let i = 0; i < n; i++)
      if (!Number.isFinite(y[i])) throw new DataError(`target is ${y[i]} at row ${i}; a tree needs finite targets`);
  }
  const yv = Float64Array.from(y);

  // presort once: per feature f, positions f*n .. f*n+n-1 hold the rows sorted by x_f, with
  // the row's value, target and weight alongside, so that every scan reads memory in order
  const order = new Int32Array(n * d);
  const vals = new Float64Array(n * d);
  const ys = new Float64Array(n * d);
  const ws = new Float64Array(n * d);
  const col = new Float64Array(n);
  for (let f = 0; f < d; f++) {
    for (let i = 0; i < n; i++) col[i] = X[i * d + f];
    const sorted = argsortStable(col);
    const base = f * n;
    for (let k = 0; k < n; k++) {
      const i = sorted[k];
      order[base + k] = i;
      vals[base + k] = col[i];
      ys[base + k] = task === 'regression' ? yv[i] : cls[i];
      ws[base + k] = w[i];
    }
  }

  const nodes = {
    feature: [] as number[],
    threshold: [] as number[],
    left: [] as number[],
    right: [] as number[],
    value: [] as number[],
    samples: [] as number[],
    weight: [] as number[],
    impurity: [] as number[],
    depth: [] as number[],
  };
  const importance = new Float64Array(d);
  const goLeft = new Uint8Array(n);
  const sOrder = new Int32Array(n);
  const sVals = new Float64Array(n);
  const sYs = new Float64Array(n);
  const sWs = new Float64Array(n);
  const cL = new Float64Array(K);
  const cT = new Float64Array(K);
  const regression = task === 'regression';

  /** Node statistics over the node's segment (of feature 0; every feature holds the same rows). */
  const stats = (start: number, end: number) => {
    let W = 0;
    let S = 0;
    let Q = 0;
    cT.fill(0);
    for (let k = start; k < end; k++) {
      const wi = ws[k];
      W += wi;
      if (regression) {
        S += wi * ys[k];
        Q += wi * ys[k] * ys[k];
      } else cT[ys[k]] += wi;
    }
    let impurity = 0;
    const value: number[] = [];
    if (regression) {
      const mean = W > 0 ? S / W : 0;
      impurity = W > 0 ? Math.max(0, Q / W - mean * mean) : 0;
      value.push(mean);
    } else {
      let g = 1;
      for (let c = 0; c < K; c++) {
        const p = W > 0 ? cT[c] / W : 0;
        g -= p * p;
        value.push(p);
      }
      impurity = Math.max(0, g);
    }
    return { W, S, impurity, value };
  };

  const stack: { start: number; end: number; depth: number; parent: number; isLeft: boolean }[] = [
    { start: 0, end: n, depth: 0, parent: -1, isLeft: false },
  ];
  while (stack.length > 0) {
    const job = stack.pop() as (typeof stack)[number];
    const { start, end, depth } = job;
    const id = nodes.feature.length;
    if (job.parent >= 0) {
      if (job.isLeft) nodes.left[job.parent] = id;
      else nodes.right[job.parent] = id;
    }
    const st = stats(start, end);
    nodes.feature.push(-1);
    nodes.threshold.push(0);
    nodes.left.push(-1);
    nodes.right.push(-1);
    nodes.value.push(...st.value);
    nodes.samples.push(end - start);
    nodes.weight.push(st.W);
    nodes.impurity.push(st.impurity);
    nodes.depth.push(depth);
    const count = end - start;
    const pure = regression ? st.impurity <= 1e-14 * (1 + st.value[0] * st.value[0]) : st.impurity <= 1e-15;
    if (depth >= maxDepth || count < minSplit || count < 2 * minLeaf || pure) continue;

    // best split: maximise the proxy Σ_side (Σw y)²/Σw (regression) or Σ_side Σ_c (w_c)²/Σw (Gini)
    const W = st.W;
    let parentProxy = 0;
    if (regression) parentProxy = W > 0 ? (st.S * st.S) / W : 0;
    else for (let c = 0; c < K; c++) parentProxy += W > 0 ? (cT[c] * cT[c]) / W : 0;
    const totals = Float64Array.from(cT);
    let bestGain = 1e-12 * Math.abs(parentProxy) + 1e-300;
    let bestF = -1;
    let bestPos = -1;
    let bestT = 0;
    const firstK = start + minLeaf - 1; // last left position must leave minLeaf rows on each side
    const lastK = end - minLeaf - 1;
    for (let f = 0; f < d; f++) {
      const base = f * n;
      let wl = 0;
      let sl = 0;
      cL.fill(0);
      for (let k = start; k <= lastK; k++) {
        const at = base + k;
        const wi = ws[at];
        wl += wi;
        if (regression) sl += wi * ys[at];
        else cL[ys[at]] += wi;
        if (k < firstK) continue;
        const xi = vals[at];
        const xn = vals[at + 1];
        if (xn <= xi) continue; // no threshold between equal values
        const wr = W - wl;
        if (!(wl > 0 && wr > 0)) continue;
        let proxy: number;
        if (regression) {
          const sr = st.S - sl;
          proxy = (sl * sl) / wl + (sr * sr) / wr;
        } else {
          let a = 0;
          let b = 0;
          for (let c = 0; c < K; c++) {
            a += cL[c] * cL[c];
            const r = totals[c] - cL[c];
            b += r * r;
          }
          proxy = a / wl + b / wr;
        }
        const gain = proxy - parentProxy;
        if (gain > bestGain) {
          bestGain = gain;
          bestF = f;
          bestPos = k;
          bestT = xi + (xn - xi) / 2;
          if (bestT >= xn) bestT = xi; // the midpoint rounded up to the right value
        }
      }
    }
    if (bestF < 0) continue;

    // mark the rows going left, then partition every other feature's segment stably
    const bBase = bestF * n;
    for (let k = start; k < end; k++) goLeft[order[bBase + k]] = k <= bestPos ? 1 : 0;
    const nLeft = bestPos - start + 1;
    for (let f = 0; f < d; f++) {
      if (f === bestF) continue;
      const base = f * n;
      let l = base + start;
      let r = 0;
      for (let at = base + start; at < base + end; at++) {
        const i = order[at];
        if (goLeft[i]) {
          order[l] = i;
          vals[l] = vals[at];
          ys[l] = ys[at];
          ws[l] = ws[at];
          l++;
        } else {
          sOrder[r] = i;
          sVals[r] = vals[at];
          sYs[r] = ys[at];
          sWs[r] = ws[at];
          r++;
        }
      }
      order.set(sOrder.subarray(0, r), l);
      vals.set(sVals.subarray(0, r), l);
      ys.set(sYs.subarray(0, r), l);
      ws.set(sWs.subarray(0, r), l);
    }
    nodes.feature[id] = bestF;
    nodes.threshold[id] = bestT;
    // the proxy gain is the weighted impurity decrease W·imp − W_L·imp_L − W_R·imp_R (MSE and Gini)
    importance[bestF] += bestGain;
    const mid = start + nLeft;
    // push right first so the left subtree is numbered first (depth-first, left to right)
    stack.push({ start: mid, end, depth: depth + 1, parent: id, isLeft: false });
    stack.push({ start, end: mid, depth: depth + 1, parent: id, isLeft: true });
  }
  let totalImp = 0;
  for (let f = 0; f < d; f++) totalImp += importance[f];
  if (totalImp > 0) for (let f = 0; f < d; f++) importance[f] /= totalImp;
  return {
    task,
    nFeatures: d,
    nValues: K,
    nNodes: nodes.feature.length,
    feature: Int32Array.from(nodes.feature),
    threshold: Float64Array.from(nodes.threshold),
    left: Int32Array.from(nodes.left),
    right: Int32Array.from(nodes.right),
    value: Float64Array.from(nodes.value),
    samples: Int32Array.from(nodes.samples),
    weight: Float64Array.from(nodes.weight),
    impurity: Float64Array.from(nodes.impurity),
    depth: Int32Array.from(nodes.depth),
    importance,
  };
}

/** The leaf each row reaches. */
export function treeLeaves(tree: Tree, X: ArrayLike<number>, nRows: number): Int32Array {
  const d = tree.nFeatures;
  const out = new Int32Array(nRows);
  for (let r = 0; r < nRows; r++) {
    let node = 0;
    while (tree.feature[node] >= 0)
      node = X[r * d + tree.feature[node]] <= tree.threshold[node] ? tree.left[node] : tree.right[node];
    out[r] = node;
  }
  return out;
}

/** Predictions: the leaf mean (regression) or the leaf's most probable class (classification; ties to the lower class). */
export function treePredict(tree: Tree, X: ArrayLike<number>, nRows: number): Float64Array {
  const leaves = treeLeaves(tree, X, nRows);
  const out = new Float64Array(nRows);
  const K = tree.nValues;
  for (let r = 0; r < nRows; r++) {
    const at = leaves[r] * K;
    if (tree.task === 'regression') out[r] = tree.value[at];
    else {
      let best = 0;
      for (let c = 1; c < K; c++) if (tree.value[at + c] > tree.value[at + best]) best = c;
      out[r] = best;
    }
  }
  return out;
}

/** Depth of the tree (0 for a single leaf) and its number of leaves. */
export function treeShape(tree: Tree): { depth: number; leaves: number } {
  let depth = 0;
  let leaves = 0;
  for (let i = 0; i < tree.nNodes; i++) {
    if (tree.depth[i] > depth) depth = tree.depth[i];
    if (tree.feature[i] < 0) leaves++;
  }
  return { depth, leaves };
}

/**
 * Indices that sort `values` ascending, ties by index (stable): an LSD radix sort on the
 * IEEE-754 bits mapped to unsigned order (four 16-bit passes), O(n) with no comparator calls.
 * @internal
 */
export function argsortStable(values: Float64Array): Int32Array {
  const n = values.length;
  const bits = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  // sortable keys: flip all bits of negatives, the sign bit of positives (−0 sorts with +0 as −0 < +0: equal values compare equal below)
  const lo = new Uint32Array(n);
  const hi = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let h = bits[2 * i + 1];
    let l = bits[2 * i];
    if (values[i] === 0) {
      h = 0;
      l = 0; // −0 and +0 are the same value for splits
    }
    if (h & 0x80000000) {
      h = ~h >>> 0;
      l = ~l >>> 0;
    } else h = (h | 0x80000000) >>> 0;
    hi[i] = h;
    lo[i] = l;
  }
  let idx = Int32Array.from({ length: n }, (_, i) => i);
  let tmp = new Int32Array(n);
  const count = new Int32Array(65537);
  for (let pass = 0; pass < 4; pass++) {
    const key = pass < 2 ? lo : hi;
    const shift = (pass & 1) * 16;
    count.fill(0);
    for (let k = 0; k < n; k++) count[((key[idx[k]] >>> shift) & 0xffff) + 1]++;
    for (let b = 0; b < 65536; b++) count[b + 1] += count[b];
    for (let k = 0; k < n; k++) {
      const i = idx[k];
      tmp[count[(key[i] >>> shift) & 0xffff]++] = i;
    }
    const t = idx;
    idx = tmp;
    tmp = t;
  }
  return idx;
}
