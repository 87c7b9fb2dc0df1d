import { assertFinite } from '../data/dataset.js';
import { DataError, InvalidOptionError, ShapeError } from '../errors.js';
import { predictInChunks, resolveBatchRows } from '../games/evaluator.js';
import type { Model } from '../models/model.js';
import { checkModel, resolveOutput } from '../models/model.js';
import type { Tree, TreeTask } from '../numerics/cart.js';
import { fitTree, treePredict, treeShape } from '../numerics/cart.js';
import { pruneTree, pruningPath } from '../numerics/tree-pruning.js';
import { Rng, randomSeed } from '../sampling/rng.js';
import { VERSION } from '../version.js';

/** Rows for {@link surrogateTree}: a dataset, or a bare row-major buffer. */
export type SurrogateRows =
  | { readonly columns: readonly string[]; readonly data: Float64Array; readonly nRows: number }
  | { readonly data: Float64Array; readonly nRows: number };

/** Options of {@link surrogateTree}. */
export interface SurrogateTreeOptions {
  /**
   * `'regression'` fits the model's output (one output: pick it with `output`);
   * `'classification'` fits the argmax over the model's outputs (class = output name).
   * @defaultValue 'classification' when the model has several outputs, else 'regression'
   */
  task?: TreeTask;
  /** The output a regression tree fits (index or name). @defaultValue 0 when the model has one output */
  output?: number | string;
  /**
   * Deepest split level, or `'auto'`: grow to depth {@link AUTO_MAX_DEPTH} and prune by
   * cost-complexity, choosing α by `folds`-fold cross-validation on the training rows (the
   * largest α within one standard error of the best, Breiman's 1-SE rule), so the tree is as
   * deep as its fidelity on unseen rows supports.
   * @defaultValue 4
   */
  maxDepth?: number | 'auto';
  /** Prune the fitted tree at this cost-complexity α (sklearn's `ccp_alpha`; with a numeric maxDepth). @defaultValue 0 (no pruning) */
  ccpAlpha?: number;
  /** Folds of the cross-validation of `maxDepth: 'auto'`. @defaultValue 5 */
  folds?: number;
  /**
   * Add this many model-labelled synthetic rows to the training rows (never to the held-out
   * rows): each is a random training row with each column, with probability 0.25, taken from
   * another random training row (columns named `attribute=level` move together, so one-hot
   * groups stay one-hot). The result reports the held-out fidelity without them too.
   * @defaultValue 0
   */
  augment?: number;
  /**
   * Regression on a probability: also report how often the tree and the model fall on the same
   * side of this threshold (the surrogate's decision agreement).
   * @defaultValue 0.5 when every target lies in [0, 1], else none
   */
  threshold?: number;
  /** Fewest rows per leaf. @defaultValue 1 */
  minSamplesLeaf?: number;
  /** A weight per given row (≥ 0), used by the fit. @defaultValue uniform */
  sampleWeights?: ArrayLike<number>;
  /** Use a random subset of this many of the given rows (without replacement). @defaultValue all rows */
  sampleRows?: number;
  /** Fraction of the rows held out to measure fidelity (0 = measure on the training rows only). @defaultValue 0.2 */
  holdout?: number;
  /** Seed of the subset and the holdout split. @defaultValue a random seed (recorded) */
  seed?: number;
  /** Rows per model call. @defaultValue 4096 */
  batchRows?: number;
  /** Feature names for rules. @defaultValue the rows' columns, the model's input names, or x0, x1, ... */
  featureNames?: readonly string[];
  signal?: AbortSignal;
}

/** How well the tree reproduces the model on some rows (unweighted). */
export interface SurrogateFidelity {
  readonly rows: number;
  /** Regression: R² of the tree's predictions against the model's outputs (1 = identical). */
  readonly r2?: number;
  /** Regression: root mean squared difference. */
  readonly rmse?: number;
  /** Classification: share of rows where the tree's class is the model's argmax. */
  readonly accuracy?: number;
  /**
   * Classification, per class of the model: rows the model puts in it (`support`), the share
   * of those the tree puts there too (`agreement`, recall) and the share of the tree's rows
   * of that class the model agrees with (`precision`; 0 when the tree never predicts it).
   */
  /** Regression: share of rows where tree and model fall on the same side of `threshold` (with `threshold`). */
  readonly decision?: { readonly threshold: number; readonly agreement: number; readonly modelAbove: number };
  readonly perClass?: readonly {
    readonly class: string;
    readonly support: number;
    readonly agreement: number;
    readonly precision: number;
  }[];
}

/** A fitted global surrogate: the tree, what it fits, and its measured fidelity. */
export interface SurrogateTree {
  readonly tree: Tree;
  readonly task: TreeTask;
  readonly featureNames: readonly string[];
  /** What the tree predicts: the output name (regression) or `argmax(...)` (classification). */
  readonly target: string;
  /** Class names (the model's output names), classification only. */
  readonly classes?: readonly string[];
  /** Fidelity on the held-out rows (on the training rows when `holdout` is 0). */
  readonly fidelity: SurrogateFidelity;
  /** Fidelity on the rows the tree was fitted on. */
  readonly trainFidelity: SurrogateFidelity;
  readonly trainRows: number;
  readonly holdoutRows: number;
  readonly maxDepth: number | 'auto';
  readonly minSamplesLeaf: number;
  /** Cost-complexity pruning applied: α, and for `maxDepth: 'auto'` the cross-validated candidates. */
  readonly pruning?: {
    readonly alpha: number;
    readonly method: 'cross-validation' | 'given';
    readonly candidates?: readonly { alpha: number; leaves: number; cvError: number; cvSe: number }[];
  };
  /** With `augment`: the synthetic rows added and the held-out fidelity of the same fit without them. */
  readonly augmentation?: { readonly rows: number; readonly fidelityWithout: SurrogateFidelity };
  /** A sentence when the held-out fidelity is weak (see {@link FIDELITY_THRESHOLDS}); absent when fine. */
  readonly warning?: string;
  readonly modelRows: number;
  readonly seconds: number;
  readonly seed: number;
}

/**
 * Fits a global surrogate: a CART tree trained on a model's predictions over `rows` (or a
 * seeded subset), regression on one output or classification on the argmax, and measures
 * its fidelity on held-out rows (R², or accuracy with per-class agreement).
 *
 * @example
 * const s = await surrogateTree(model, train, { maxDepth: 3, seed: 1 });
 * s.fidelity.r2;          // e.g. 0.93
 * surrogateRulesText(s);  // "if duration > 24.5 and ... then 0.41 (n = 120, 15.0%)"
 * @throws {InvalidOptionError} for bad options, {@link DataError} / {@link ShapeError} for
 *   bad rows, `ModelError` when the model fails.
 */
export async function surrogateTree(
  model: Model,
  rows: SurrogateRows,
  options: SurrogateTreeOptions = {},
): Promise<SurrogateTree> {
  const started = performance.now();
  checkModel(model);
  if (!options || typeof options !== 'object') throw new InvalidOptionError('options', 'an object', options);
  const maxDepth = options.maxDepth ?? 4;
  const auto = maxDepth === 'auto';
  // depth 0 is a constant: no split, no rule, fidelity 0 (sklearn also wants max_depth >= 1)
  if (!auto && (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > 64))
    throw new InvalidOptionError(
      'maxDepth',
      "an integer in 1..64 or 'auto'",
      maxDepth,
      'depth 0 would be a constant, with no rules',
    );
  const ccpAlpha = options.ccpAlpha ?? 0;
  if (typeof ccpAlpha !== 'number' || !Number.isFinite(ccpAlpha) || ccpAlpha < 0)
    throw new InvalidOptionError('ccpAlpha', 'a finite number >= 0', options.ccpAlpha);
  if (auto && options.ccpAlpha !== undefined)
    throw new InvalidOptionError(
      'ccpAlpha',
      "unset with maxDepth 'auto' (which chooses α by cross-validation)",
      options.ccpAlpha,
    );
  const folds = options.folds ?? 5;
  if (!Number.isInteger(folds) || folds < 2 || folds > 20)
    throw new InvalidOptionError('folds', 'an integer in 2..20', options.folds);
  const augment = options.augment ?? 0;
  if (!Number.isInteger(augment) || augment < 0 || augment > 1_000_000)
    throw new InvalidOptionError('augment', 'an integer in 0..1000000', options.augment);
  if (options.threshold !== undefined && !Number.isFinite(options.threshold))
    throw new InvalidOptionError('threshold', 'a finite number', options.threshold);
  const d = model.nInputs;
  if (!rows || !(rows.data instanceof Float64Array) || !Number.isInteger(rows.nRows))
    throw new InvalidOptionError('rows', 'a Dataset or { data: Float64Array, nRows }', rows);
  if ('columns' in rows && rows.columns.length !== d)
    throw new ShapeError(`rows have ${rows.columns.length} columns but the model takes ${d} inputs`);
  if (rows.data.length !== rows.nRows * d)
    throw new ShapeError(
      `rows hold ${rows.data.length} values; ${rows.nRows} rows of ${d} inputs need ${rows.nRows * d}`,
    );
  if (rows.nRows < 2) throw new DataError(`a surrogate tree needs at least 2 rows; got ${rows.nRows}`);
  assertFinite(rows.data, 'columns' in rows ? rows.columns : d, { what: 'rows value' });
  const featureNames = options.featureNames
    ? [...options.featureNames]
    : 'columns' in rows
      ? [...rows.columns]
      : (model.inputNames ?? Array.from({ length: d }, (_, i) => `x${i}`));
  if (featureNames.length !== d)
    throw new InvalidOptionError('featureNames', `${d} names (one per model input)`, featureNames);
  const nOut = model.outputNames.length;
  const task = options.task ?? (nOut > 1 ? 'classification' : 'regression');
  if (task !== 'regression' && task !== 'classification')
    throw new InvalidOptionError('task', "'regression' or 'classification'", task);
  if (task === 'classification' && options.output !== undefined)
    throw new InvalidOptionError(
      'output',
      "unset for task 'classification' (it uses the argmax over all outputs)",
      options.output,
    );
  if (task === 'classification' && nOut < 2)
    throw new InvalidOptionError(
      'task',
      "'regression' for a model with one output",
      task,
      "classification fits the argmax over the model's outputs, which needs at least two (e.g. class probabilities)",
    );
  let outIndex = 0;
  if (task === 'regression') {
    if (options.output !== undefined) outIndex = resolveOutput(model.outputNames, options.output);
    else if (nOut > 1)
      throw new InvalidOptionError(
        'output',
        `one of ${JSON.stringify(model.outputNames)} (or an index) for a regression tree on a model with ${nOut} outputs`,
        undefined,
        "or use task 'classification' for the argmax",
      );
  }
  const holdout = options.holdout ?? 0.2;
  if (typeof holdout !== 'number' || !(holdout >= 0 && holdout < 1))
    throw new InvalidOptionError('holdout', 'a fraction in [0, 1)', holdout);
  const seed = options.seed ?? randomSeed();
  const rng = Rng.fromSeed(seed);
  const batchRows = resolveBatchRows(options.batchRows);
  let weights: Float64Array | undefined;
  if (options.sampleWeights !== undefined) {
    if (options.sampleWeights.length !== rows.nRows)
      throw new ShapeError(`sampleWeights holds ${options.sampleWeights.length} weights for ${rows.nRows} rows`);
    weights = Float64Array.from(options.sampleWeights);
  }

  // which rows: a seeded subset, then a seeded holdout split
  let index = Int32Array.from({ length: rows.nRows }, (_, i) => i);
  if (options.sampleRows !== undefined) {
    const k = options.sampleRows;
    if (!Number.isInteger(k) || k < 2 || k > rows.nRows)
      throw new InvalidOptionError('sampleRows', `an integer in 2..${rows.nRows} (the rows given)`, k);
    index = rng.shuffle(index).slice(0, k);
  }
  const n = index.length;
  const nHold = Math.floor(n * holdout);
  if (holdout > 0 && nHold < 1)
    throw new DataError(
      `holdout ${holdout} of ${n} rows holds out no row; give more rows or a larger holdout (or 0 to measure fidelity on the training rows)`,
    );
  if (n - nHold < 1) throw new DataError(`holdout ${holdout} of ${n} rows leaves no row to fit the tree on`);
  if (nHold > 0) rng.shuffle(index);
  const X = new Float64Array(n * d);
  for (let k = 0; k < n; k++) X.set(rows.data.subarray(index[k] * d, (index[k] + 1) * d), k * d);

  const out = await predictInChunks(model, X, n, batchRows, options.signal);
  const y = new Float64Array(n);
  for (let k = 0; k < n; k++) y[k] = targetOf(out, k, nOut, task, outIndex);
  // rows 0..nHold-1 are held out, the rest train the tree
  const nTrain = n - nHold;
  const Xtrain = X.subarray(nHold * d);
  const ytrain = y.subarray(nHold);
  const wTrain = weights ? Float64Array.from(index.subarray(nHold), (i) => (weights as Float64Array)[i]) : undefined;
  const minSamplesLeaf = options.minSamplesLeaf ?? 1;
  const fitOptions = {
    task,
    nClasses: task === 'classification' ? nOut : undefined,
    maxDepth: auto ? AUTO_MAX_DEPTH : maxDepth,
    minSamplesLeaf,
  };
  let threshold = options.threshold;
  if (threshold === undefined && task === 'regression' && y.every((v) => v >= 0 && v <= 1)) threshold = 0.5;
  if (task === 'classification') threshold = undefined;
  const cvRng = rng.split();
  const plain = fitPruned(Xtrain, ytrain, wTrain, nTrain, d, fitOptions, { auto, alpha: ccpAlpha, folds, rng: cvRng });
  let { tree } = plain;
  let { pruning } = plain;
  const classes = task === 'classification' ? [...model.outputNames] : undefined;
  const Xhold = X.subarray(0, nHold * d);
  const yhold = y.subarray(0, nHold);
  let augmentation: SurrogateTree['augmentation'];
  if (augment > 0) {
    const synth = perturbRows(Xtrain, nTrain, d, augment, featureNames, rng);
    const sout = await predictInChunks(model, synth.X, augment, batchRows, options.signal);
    const X2 = new Float64Array((nTrain + augment) * d);
    X2.set(Xtrain);
    X2.set(synth.X, nTrain * d);
    const y2 = new Float64Array(nTrain + augment);
    y2.set(ytrain);
    for (let k = 0; k < augment; k++) y2[nTrain + k] = targetOf(sout, k, nOut, task, outIndex);
    const w2 = wTrain
      ? Float64Array.from(
          { length: nTrain + augment },
          (_, i) => (wTrain as Float64Array)[i < nTrain ? i : synth.parent[i - nTrain]],
        )
      : undefined;
    const withAug = fitPruned(X2, y2, w2, nTrain, d, fitOptions, {
      auto,
      alpha: ccpAlpha,
      folds,
      rng: cvRng,
      parent: synth.parent,
    });
    augmentation = {
      rows: augment,
      fidelityWithout: fidelityOf(
        tree,
        nHold > 0 ? Xhold : Xtrain,
        nHold > 0 ? yhold : ytrain,
        nHold > 0 ? nHold : nTrain,
        classes,
        threshold,
      ),
    };
    tree = withAug.tree;
    pruning = withAug.pruning;
  }
  // training fidelity on the real training rows (synthetic rows are not the model's data)
  const trainFidelity = fidelityOf(tree, Xtrain, ytrain, nTrain, classes, threshold);
  const fidelity = nHold > 0 ? fidelityOf(tree, Xhold, yhold, nHold, classes, threshold) : trainFidelity;
  const warning = fidelityWarning(task, fidelity, nHold > 0, y.subarray(0, nHold > 0 ? nHold : n), {
    auto,
    augment: augment > 0,
  });
  return {
    tree,
    task,
    featureNames,
    target: task === 'regression' ? model.outputNames[outIndex] : `argmax(${model.outputNames.join(', ')})`,
    classes,
    fidelity,
    trainFidelity,
    trainRows: nTrain,
    holdoutRows: nHold,
    maxDepth,
    minSamplesLeaf,
    ...(pruning ? { pruning } : {}),
    ...(augmentation ? { augmentation } : {}),
    ...(warning ? { warning } : {}),
    modelRows: n + augment,
    seconds: (performance.now() - started) / 1000,
    seed,
  };
}

/** Depth `maxDepth: 'auto'` grows to before pruning. */
export const AUTO_MAX_DEPTH = 10;

/**
 * Below these held-out fidelities a surrogate warns that its rules do not describe the
 * model: regression R² < `r2` (the tree explains less than half the variance of the model's
 * output) or, on a probability, decision agreement < `agreement`; classification accuracy <
 * `accuracy`, or an error rate above `errorVsMajority` × that of always answering the most
 * frequent class (the tree adds little to the base rate), or a class (with ≥ 5 rows) of
 * which the tree finds fewer than `classAgreement` of the model's rows.
 */
export const FIDELITY_THRESHOLDS = {
  r2: 0.5,
  agreement: 0.8,
  accuracy: 0.8,
  errorVsMajority: 0.5,
  classAgreement: 0.5,
} as const;

function targetOf(out: Float64Array | Float32Array, k: number, nOut: number, task: TreeTask, outIndex: number): number {
  if (task === 'regression') return out[k * nOut + outIndex];
  let best = 0;
  for (let o = 1; o < nOut; o++) if (out[k * nOut + o] > out[k * nOut + best]) best = o;
  return best;
}

/** The fidelity warning (a sentence), or undefined when the fidelity is fine. */
export function fidelityWarning(
  task: TreeTask,
  f: SurrogateFidelity,
  heldOut: boolean,
  targets: ArrayLike<number>,
  tried: { auto?: boolean; augment?: boolean } = {},
): string | undefined {
  const where = heldOut ? 'held-out' : 'training (no rows held out, so this is optimistic)';
  const problems: string[] = [];
  if (task === 'regression') {
    if ((f.r2 as number) < FIDELITY_THRESHOLDS.r2)
      problems.push(`its ${where} R² is ${fmt(f.r2 as number, 3)} (below ${FIDELITY_THRESHOLDS.r2})`);
    if (f.decision && f.decision.agreement < FIDELITY_THRESHOLDS.agreement)
      problems.push(
        `it agrees with the model on the side of ${f.decision.threshold} for only ${(100 * f.decision.agreement).toFixed(1)}% of the ${where} rows`,
      );
  } else {
    const counts = new Map<number, number>();
    for (let i = 0; i < targets.length; i++) counts.set(targets[i], (counts.get(targets[i]) ?? 0) + 1);
    const majority = Math.max(...counts.values()) / Math.max(1, targets.length);
    const acc = f.accuracy as number;
    if (acc < FIDELITY_THRESHOLDS.accuracy)
      problems.push(`its ${where} accuracy is ${fmt(acc, 3)} (below ${FIDELITY_THRESHOLDS.accuracy})`);
    if (1 - acc > FIDELITY_THRESHOLDS.errorVsMajority * (1 - majority) + 1e-12)
      problems.push(
        `its error rate ${fmt(1 - acc, 3)} is more than ${FIDELITY_THRESHOLDS.errorVsMajority} × that of always answering the most frequent class (${fmt(1 - majority, 3)})`,
      );
    for (const c of f.perClass ?? [])
      if (c.support >= 5 && c.agreement < FIDELITY_THRESHOLDS.classAgreement)
        problems.push(
          `it puts only ${(100 * c.agreement).toFixed(1)}% of the ${c.support} rows the model calls ${c.class} in that class`,
        );
  }
  if (problems.length === 0) return undefined;
  const tips = [
    ...(tried.auto ? [] : ["maxDepth 'auto' (--max-depth auto)"]),
    'more rows',
    ...(tried.augment ? [] : ['synthetic rows (--augment N)']),
  ];
  return `The surrogate tree does not describe the model well: ${problems.join('; ')}. Its rules are not a faithful account of the model; try ${tips.join(', ')}.`;
}

/**
 * Model-labelled synthetic rows near the real ones: each copies a random row of `X` and
 * replaces each column (one-hot groups, `attribute=level` columns, together) with probability
 * 0.25 by the same column(s) of another random row.
 */
export function perturbRows(
  X: Float64Array,
  n: number,
  d: number,
  count: number,
  names: readonly string[],
  rng: Rng,
): { X: Float64Array; parent: Int32Array } {
  // column groups: columns sharing the prefix before '=' move together
  const groupOf = new Map<string, number[]>();
  names.forEach((name, c) => {
    const eq = name.indexOf('=');
    const key = eq > 0 ? `g:${name.slice(0, eq)}` : `c:${c}`;
    const g = groupOf.get(key) ?? [];
    g.push(c);
    groupOf.set(key, g);
  });
  const groups = [...groupOf.values()];
  const out = new Float64Array(count * d);
  const parent = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    const a = rng.int(n);
    parent[k] = a;
    out.set(X.subarray(a * d, (a + 1) * d), k * d);
    for (const g of groups)
      if (rng.float() < 0.25) {
        const b = rng.int(n);
        for (const c of g) out[k * d + c] = X[b * d + c];
      }
  }
  return { X: out, parent };
}

/**
 * Fits a tree on rows 0..n-1 of X (the real rows, then any synthetic rows whose real parent
 * is `parent[k]`), pruned at `alpha`, or — `auto` — at the α chosen by K-fold cross-validation
 * over the real rows (synthetic rows train only in the folds their parent trains in): the
 * largest α whose mean validation error is within one standard error of the smallest.
 */
function fitPruned(
  X: Float64Array,
  y: Float64Array,
  w: Float64Array | undefined,
  nReal: number,
  d: number,
  fit: { task: TreeTask; nClasses?: number; maxDepth: number; minSamplesLeaf: number },
  how: { auto: boolean; alpha: number; folds: number; rng: Rng; parent?: Int32Array },
): { tree: Tree; pruning?: SurrogateTree['pruning'] } {
  const nAll = y.length;
  const tree = fitTree(X, nAll, d, y, { ...fit, sampleWeights: w });
  if (!how.auto) {
    if (how.alpha > 0) return { tree: pruneTree(tree, how.alpha), pruning: { alpha: how.alpha, method: 'given' } };
    return { tree };
  }
  const path = pruningPath(tree);
  const alphas = [0, ...new Set(path.map((p) => p.alpha))];
  // Breiman: evaluate each subtree at the geometric mean of its α interval
  const cands = alphas.map((a, k) => (k + 1 < alphas.length ? Math.sqrt(a * alphas[k + 1]) : a));
  const leavesAt = alphas.map((a) => {
    let leaves = treeShape(tree).leaves;
    for (const p of path) if (p.alpha <= a) leaves = p.leaves;
    return leaves;
  });
  const K = Math.min(how.folds, nReal);
  if (K < 2) return { tree, pruning: { alpha: 0, method: 'cross-validation' } };
  const perm = how.rng.shuffle(Int32Array.from({ length: nReal }, (_, i) => i));
  const fold = new Int32Array(nReal);
  perm.forEach((r, i) => {
    fold[r] = i % K;
  });
  const foldOf = (i: number) => (i < nReal ? fold[i] : fold[(how.parent as Int32Array)[i - nReal]]);
  const sum = new Float64Array(cands.length);
  const sumSq = new Float64Array(cands.length);
  for (let k = 0; k < K; k++) {
    const train: number[] = [];
    const valid: number[] = [];
    for (let i = 0; i < nAll; i++) {
      if (foldOf(i) !== k) train.push(i);
      else if (i < nReal) valid.push(i);
    }
    const Xk = new Float64Array(train.length * d);
    train.forEach((i, j) => {
      Xk.set(X.subarray(i * d, (i + 1) * d), j * d);
    });
    const yk = Float64Array.from(train, (i) => y[i]);
    const wk = w ? Float64Array.from(train, (i) => (w as Float64Array)[i]) : undefined;
    const tk = fitTree(Xk, train.length, d, yk, { ...fit, sampleWeights: wk });
    const pk = pruningPath(tk);
    const Xv = new Float64Array(valid.length * d);
    valid.forEach((i, j) => {
      Xv.set(X.subarray(i * d, (i + 1) * d), j * d);
    });
    cands.forEach((a, c) => {
      const pred = treePredict(pruneTree(tk, a, pk), Xv, valid.length);
      valid.forEach((i, j) => {
        const e = fit.task === 'regression' ? (pred[j] - y[i]) ** 2 : pred[j] === y[i] ? 0 : 1;
        sum[c] += e;
        sumSq[c] += e * e;
      });
    });
  }
  const mean = Array.from(sum, (v) => v / nReal);
  const se = mean.map((m, c) => Math.sqrt(Math.max(0, sumSq[c] / nReal - m * m) / nReal));
  let best = 0;
  for (let c = 1; c < cands.length; c++) if (mean[c] < mean[best]) best = c;
  let chosen = best;
  for (let c = cands.length - 1; c > best; c--)
    if (mean[c] <= mean[best] + se[best]) {
      chosen = c;
      break;
    }
  const alpha = alphas[chosen];
  return {
    tree: pruneTree(tree, alpha, path),
    pruning: {
      alpha,
      method: 'cross-validation',
      candidates: alphas.map((a, c) => ({ alpha: a, leaves: leavesAt[c], cvError: mean[c], cvSe: se[c] })),
    },
  };
}

/** Fidelity of `tree` against targets `y` (model outputs or classes) on `n` rows. */
export function fidelityOf(
  tree: Tree,
  X: Float64Array,
  y: ArrayLike<number>,
  n: number,
  classes?: readonly string[],
  threshold?: number,
): SurrogateFidelity {
  const pred = treePredict(tree, X, n);
  if (tree.task === 'regression') {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += y[i];
    mean /= n;
    let sse = 0;
    let sst = 0;
    for (let i = 0; i < n; i++) {
      sse += (y[i] - pred[i]) ** 2;
      sst += (y[i] - mean) ** 2;
    }
    // sklearn's r2_score convention for constant targets (constant up to rounding): 1 if fitted exactly, else 0
    const scale = n * (mean * mean + 1e-300);
    const r2 = sst <= 1e-24 * scale ? (sse <= 1e-20 * scale ? 1 : 0) : 1 - sse / sst;
    if (threshold === undefined) return { rows: n, r2, rmse: Math.sqrt(sse / n) };
    let same = 0;
    let above = 0;
    for (let i = 0; i < n; i++) {
      if (pred[i] >= threshold === y[i] >= threshold) same++;
      if (y[i] >= threshold) above++;
    }
    return {
      rows: n,
      r2,
      rmse: Math.sqrt(sse / n),
      decision: { threshold, agreement: same / n, modelAbove: above / n },
    };
  }
  const K = tree.nValues;
  const support = new Float64Array(K);
  const predicted = new Float64Array(K);
  const hit = new Float64Array(K);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    support[y[i]]++;
    predicted[pred[i]]++;
    if (pred[i] === y[i]) {
      correct++;
      hit[y[i]]++;
    }
  }
  return {
    rows: n,
    accuracy: correct / n,
    perClass: Array.from({ length: K }, (_, c) => ({
      class: classes?.[c] ?? String(c),
      support: support[c],
      agreement: support[c] > 0 ? hit[c] / support[c] : 1,
      precision: predicted[c] > 0 ? hit[c] / predicted[c] : 0,
    })),
  };
}

/** One if/then rule of a surrogate: the conditions on the path to a leaf and the leaf's prediction. */
export interface SurrogateRule {
  /** Readable conditions, one per feature on the path (`duration > 24.5`, `12 < age <= 30`); empty for a single leaf. */
  readonly conditions: readonly string[];
  /** Regression: the leaf mean. Classification: the leaf's class name. */
  readonly prediction: number | string;
  /** Classification: the leaf's class probabilities (weighted shares of training rows). */
  readonly probabilities?: Readonly<Record<string, number>>;
  readonly samples: number;
  readonly weight: number;
  readonly leaf: number;
}

/** The leaves of the tree as if/then rules, left to right (intervals merged per feature). */
export function surrogateRules(s: SurrogateTree): SurrogateRule[] {
  const t = s.tree;
  const rules: SurrogateRule[] = [];
  const walk = (node: number, bounds: Map<number, { lo?: number; hi?: number }>) => {
    const f = t.feature[node];
    if (f < 0) {
      // features in the order the path first tests them (root first)
      const conds = [...bounds.entries()].map(([feat, b]) => {
        const name = s.featureNames[feat];
        if (b.lo !== undefined && b.hi !== undefined) return `${num(b.lo)} < ${name} <= ${num(b.hi)}`;
        if (b.hi !== undefined) return `${name} <= ${num(b.hi)}`;
        return `${name} > ${num(b.lo as number)}`;
      });
      const K = t.nValues;
      const v = t.value.subarray(node * K, node * K + K);
      if (t.task === 'regression')
        rules.push({
          conditions: conds,
          prediction: v[0],
          samples: t.samples[node],
          weight: t.weight[node],
          leaf: node,
        });
      else {
        let best = 0;
        for (let c = 1; c < K; c++) if (v[c] > v[best]) best = c;
        const names = s.classes ?? Array.from({ length: K }, (_, c) => String(c));
        rules.push({
          conditions: conds,
          prediction: names[best],
          probabilities: Object.fromEntries(names.map((c, k) => [c, v[k]])),
          samples: t.samples[node],
          weight: t.weight[node],
          leaf: node,
        });
      }
      return;
    }
    const thr = t.threshold[node];
    const left = new Map(bounds);
    const l = { ...(left.get(f) ?? {}) };
    l.hi = l.hi === undefined ? thr : Math.min(l.hi, thr);
    left.set(f, l);
    walk(t.left[node], left);
    const right = new Map(bounds);
    const r = { ...(right.get(f) ?? {}) };
    r.lo = r.lo === undefined ? thr : Math.max(r.lo, thr);
    right.set(f, r);
    walk(t.right[node], right);
  };
  walk(0, new Map());
  return rules;
}

/** The rules as text, one `if ... then ...` line per leaf, plus a header with the fidelity and importances. */
export function surrogateRulesText(s: SurrogateTree, digits = 4): string {
  const shape = treeShape(s.tree);
  const total = s.tree.samples[0];
  const f = s.fidelity;
  const fid =
    s.task === 'regression'
      ? `R² ${fmt(f.r2 as number, digits)}, RMSE ${fmt(f.rmse as number, digits)}${f.decision ? `; same side of ${f.decision.threshold} as the model: ${(100 * f.decision.agreement).toFixed(1)}% of rows` : ''}`
      : `accuracy ${fmt(f.accuracy as number, digits)}; per class: ${(f.perClass ?? [])
          .map((c) => `${c.class} ${fmt(c.agreement, 3)} of ${c.support}`)
          .join(', ')}`;
  const lines = [
    `whybox surrogate: ${s.task} tree of ${s.target}, depth ${shape.depth} (max ${s.maxDepth}), ${shape.leaves} leaves, fitted on ${s.trainRows} rows (seed ${s.seed}), ${s.seconds.toFixed(2)} s`,
    `fidelity on ${s.holdoutRows > 0 ? `${s.holdoutRows} held-out rows` : `the ${s.trainRows} training rows (no holdout)`}: ${fid}`,
    `fidelity on the ${s.trainRows} training rows: ${s.task === 'regression' ? `R² ${fmt(s.trainFidelity.r2 as number, digits)}` : `accuracy ${fmt(s.trainFidelity.accuracy as number, digits)}`}`,
  ];
  if (s.pruning)
    lines.push(
      s.pruning.method === 'given'
        ? `pruned at cost-complexity α ${fmt(s.pruning.alpha, 3)}`
        : `depth chosen by ${s.pruning.candidates?.length ?? 0}-candidate cross-validated cost-complexity pruning (1-SE rule): α ${fmt(s.pruning.alpha, 3)}`,
    );
  if (s.augmentation) {
    const w = s.augmentation.fidelityWithout;
    lines.push(
      `augmented with ${s.augmentation.rows} model-labelled synthetic rows; without them the same fit scores ${s.task === 'regression' ? `R² ${fmt(w.r2 as number, digits)}` : `accuracy ${fmt(w.accuracy as number, digits)}`} on the same rows`,
    );
  }
  if (s.warning) lines.push(`WARNING: ${s.warning}`);
  lines.push('', 'Rules:');
  for (const r of surrogateRules(s)) {
    const cond = r.conditions.length > 0 ? r.conditions.join(' and ') : 'always';
    const then =
      typeof r.prediction === 'number'
        ? `${s.target} = ${fmt(r.prediction, digits)}`
        : `class ${r.prediction} (p = ${fmt(r.probabilities?.[r.prediction] ?? 0, 3)})`;
    lines.push(`  if ${cond} then ${then}  (n = ${r.samples}, ${((100 * r.samples) / total).toFixed(1)}%)`);
  }
  lines.push('', 'Feature importance (impurity decrease):');
  const imp = surrogateImportance(s).filter((e) => e.importance > 0);
  if (imp.length === 0) lines.push('  (none: the tree is a single leaf)');
  const w = Math.max(...imp.map((e) => e.feature.length), 7);
  for (const e of imp) lines.push(`  ${e.feature.padEnd(w)}  ${e.importance.toFixed(4)}`);
  return `${lines.join('\n')}\n`;
}

/** Features by decreasing importance (normalised impurity decrease). */
export function surrogateImportance(s: SurrogateTree): { feature: string; importance: number }[] {
  return s.featureNames
    .map((feature, f) => ({ feature, importance: s.tree.importance[f] }))
    .sort((a, b) => b.importance - a.importance || a.feature.localeCompare(b.feature));
}

/** The JSON form of a surrogate (`whybox surrogate --format json`). */
export function surrogateToJSON(s: SurrogateTree) {
  const t = s.tree;
  const K = t.nValues;
  const shape = treeShape(t);
  const nodes = Array.from({ length: t.nNodes }, (_, i) => {
    const v = Array.from(t.value.subarray(i * K, i * K + K));
    const common = {
      id: i,
      depth: t.depth[i],
      samples: t.samples[i],
      weight: t.weight[i],
      impurity: t.impurity[i],
      value: t.task === 'regression' ? v[0] : v,
    };
    return t.feature[i] < 0
      ? { ...common, leaf: true }
      : {
          ...common,
          leaf: false,
          feature: s.featureNames[t.feature[i]],
          featureIndex: t.feature[i],
          threshold: t.threshold[i],
          left: t.left[i],
          right: t.right[i],
        };
  });
  return {
    task: s.task,
    target: s.target,
    ...(s.classes ? { classes: [...s.classes] } : {}),
    features: [...s.featureNames],
    maxDepth: s.maxDepth,
    minSamplesLeaf: s.minSamplesLeaf,
    depth: shape.depth,
    leaves: shape.leaves,
    fidelity: {
      holdout: s.holdoutRows > 0 ? s.fidelity : null,
      train: s.trainFidelity,
      ...(s.warning ? { warning: s.warning } : {}),
    },
    ...(s.pruning ? { pruning: s.pruning } : {}),
    ...(s.augmentation ? { augmentation: s.augmentation } : {}),
    rows: { train: s.trainRows, holdout: s.holdoutRows },
    rules: surrogateRules(s),
    importance: surrogateImportance(s),
    nodes,
    modelRows: s.modelRows,
    seconds: s.seconds,
    seed: s.seed,
    version: VERSION,
  };
}

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}

function fmt(v: number, digits: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return v.toExponential(digits - 1);
  return String(Number(v.toPrecision(digits)));
}
