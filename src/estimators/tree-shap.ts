/**
 * Interventional TreeSHAP: exact Shapley values of a tree ensemble's margin under the
 * interventional value function of every whybox method,
 *
 *   v(S) = Σ_b w_b · m(x_S, b_rest)        (m: the ensemble margin, b: background rows),
 *
 * with players = columns or groups of columns ({@link Players}).
 *
 * By linearity φ(v) = Σ_b w_b Σ_trees φ(g_{b,tree}), g_{b,tree}(S) = tree(x_S, b_rest). For one
 * background row and one tree, walk from the root keeping two disjoint sets of players: A
 * (players whose values were taken from x on the way) and B (taken from b). At a node on
 * player p: if p is in A follow x, if in B follow b; if p is in neither and x and b go the
 * same way, follow it; otherwise branch both ways, with p added to A (x's side) or to B
 * (b's side). A player may be tested several times on a path; the sets keep every later
 * test consistent with the first. Leaf value u is reached exactly for coalitions S with
 * A ⊆ S and B ∩ S = ∅, a game whose Shapley values are
 *
 *   φ_i = u · (|A|−1)! |B|! / (|A|+|B|)!   for i ∈ A,
 *   φ_i = −u · |A|! (|B|−1)! / (|A|+|B|)!   for i ∈ B,   0 otherwise.
 *
 * (Sum over i: u·[B = ∅] − u·[A = ∅] = game(N) − game(∅), so efficiency holds leaf by leaf.)
 * Each (background row, tree) walk visits each node at most once: cost per row
 * O(background rows × Σ_trees nodes × depth) at worst, far less when x and b agree.
 *
 * References: Lundberg et al. 2020, "From local explanations to global understanding with
 * explainable AI for trees" (Nature MI), interventional TreeSHAP; the leaf formula is the
 * Shapley value of the game u·1[A ⊆ S, B ∩ S = ∅].
 */
import type { Players } from '../data/players.js';
import { InvalidOptionError, ShapeError } from '../errors.js';
import { goesTrue, predictMargin, splitValue, type TreeEnsemble } from '../models/tree-ensemble.js';
import type { Background } from '../sampling/background.js';

/** Options of {@link treeShap}. */
export interface TreeShapOptions {
  /**
   * Value function. Only `'interventional'` (the whybox value function against the
   * background) is implemented. @defaultValue 'interventional'
   */
  featurePerturbation?: 'interventional';
}

/** TreeSHAP defaults. */
export const TREE_SHAP_DEFAULTS = { featurePerturbation: 'interventional' } as const;

/** Shapley values of one row. */
export interface TreeShapResult {
  /** `nPlayers × nTargets`, row-major (player-major). */
  readonly values: Float64Array;
  /** v(∅) = Σ_b w_b margin(b), per target. */
  readonly baseValue: Float64Array;
  /** v(N) = margin(x), per target. */
  readonly prediction: Float64Array;
}

/** An ensemble, a background and players prepared once for many rows (see {@link prepareTreeShap}). */
export interface TreeShapContext {
  readonly ensemble: TreeEnsemble;
  readonly background: Background;
  readonly players: Players;
  /** Player of each input column. */
  readonly playerOf: Int32Array;
  /** Player tested by each internal node. */
  readonly nodePlayer: Int32Array;
  /** `nRows(background) × nInternalNodes`: 1 when background row b goes to the true branch. */
  readonly backgroundDirections: Uint8Array;
  readonly baseValue: Float64Array;
  /** `coefA[a * stride + b]` = (a−1)! b! / (a+b)!, `coefB[a * stride + b]` = a! (b−1)! / (a+b)!. */
  readonly coefA: Float64Array;
  readonly coefB: Float64Array;
  readonly stride: number;
}

/**
 * Checks shapes and precomputes what every row shares: each background row's direction at
 * every node, the base value, and the leaf coefficients.
 *
 * @throws {ShapeError} when the background or the players do not have the ensemble's
 *   number of input columns.
 */
export function prepareTreeShap(ensemble: TreeEnsemble, background: Background, players: Players): TreeShapContext {
  const d = ensemble.nFeatures;
  if (background.nColumns !== d)
    throw new ShapeError(`the background has ${background.nColumns} columns but the tree ensemble reads ${d}`);
  if (players.nColumns !== d)
    throw new ShapeError(`the players cover ${players.nColumns} columns but the tree ensemble reads ${d}`);
  const playerOf = new Int32Array(d).fill(-1);
  for (let p = 0; p < players.names.length; p++)
    for (let k = players.offsets[p]; k < players.offsets[p + 1]; k++) playerOf[players.columns[k]] = p;
  const nNodes = ensemble.feature.length;
  const nodePlayer = new Int32Array(nNodes);
  for (let k = 0; k < nNodes; k++) {
    nodePlayer[k] = playerOf[ensemble.feature[k]];
    if (nodePlayer[k] < 0) throw new ShapeError(`column ${ensemble.feature[k]} belongs to no player`);
  }
  const nb = background.nRows;
  const dirs = new Uint8Array(nb * nNodes);
  for (let b = 0; b < nb; b++) {
    const o = b * d;
    for (let k = 0; k < nNodes; k++)
      dirs[b * nNodes + k] = goesTrue(ensemble, k, splitValue(ensemble, background.data[o + ensemble.feature[k]]))
        ? 1
        : 0;
  }
  const margins = predictMargin(ensemble, background.data, nb);
  const T = ensemble.nTargets;
  const baseValue = new Float64Array(T);
  for (let b = 0; b < nb; b++) for (let t = 0; t < T; t++) baseValue[t] += background.weights[b] * margins[b * T + t];
  // a path holds at most min(depth, players) distinct players
  const stride = Math.min(maxDepth(ensemble), players.names.length) + 2;
  const coefA = new Float64Array(stride * stride);
  const coefB = new Float64Array(stride * stride);
  for (let a = 0; a < stride; a++)
    for (let c = 0; c < stride; c++) {
      // (a−1)! c! / (a+c)! = 1 / (a · C(a+c, a))
      const binom = binomial(a + c, a);
      if (a > 0) coefA[a * stride + c] = 1 / (a * binom);
      if (c > 0) coefB[a * stride + c] = 1 / (c * binom);
    }
  return {
    ensemble,
    background,
    players,
    playerOf,
    nodePlayer,
    backgroundDirections: dirs,
    baseValue,
    coefA,
    coefB,
    stride,
  };
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

function maxDepth(e: TreeEnsemble): number {
  let best = 0;
  const stack: number[] = [];
  for (const r of e.roots) {
    if (r < 0) continue;
    stack.push(r, 1);
    while (stack.length > 0) {
      const depth = stack.pop() as number;
      const k = stack.pop() as number;
      best = Math.max(best, depth);
      if (e.trueChild[k] >= 0) stack.push(e.trueChild[k], depth + 1);
      if (e.falseChild[k] >= 0) stack.push(e.falseChild[k], depth + 1);
    }
  }
  return best;
}

/**
 * Interventional TreeSHAP values of one row `x` (its first `nFeatures` values).
 *
 * @returns values (`nPlayers × nTargets`), base value and prediction; Σ_i values[i][t] =
 *   prediction[t] − baseValue[t] to rounding.
 * @throws {ShapeError} for mismatched widths; {@link InvalidOptionError} for a bad option.
 * @example
 * const players = columnPlayers(['a', 'b', 'c']);
 * const r = treeShap(ensemble, Float64Array.of(1, 2, 3), background, players);
 * r.values; // Float64Array [3 × nTargets]
 */
export function treeShap(
  ensemble: TreeEnsemble,
  x: ArrayLike<number>,
  background: Background,
  players: Players,
  options: TreeShapOptions = {},
): TreeShapResult {
  resolveTreeShapOptions(options);
  return treeShapRow(prepareTreeShap(ensemble, background, players), x);
}

/** Validates {@link TreeShapOptions}. @internal */
export function resolveTreeShapOptions(options: TreeShapOptions): Required<TreeShapOptions> {
  const fp = options.featurePerturbation ?? TREE_SHAP_DEFAULTS.featurePerturbation;
  if (fp !== 'interventional')
    throw new InvalidOptionError(
      'featurePerturbation',
      "'interventional'",
      fp,
      'whybox explains every method against the background (interventional value function)',
    );
  return { featurePerturbation: fp };
}

/** {@link treeShap} for one row on a prepared context (shares the background work across rows). */
export function treeShapRow(ctx: TreeShapContext, x: ArrayLike<number>): TreeShapResult {
  const e = ctx.ensemble;
  const d = e.nFeatures;
  if (x.length < d) throw new ShapeError(`the row holds ${x.length} values but the tree ensemble reads ${d}`);
  const nNodes = e.feature.length;
  const nPlayers = ctx.players.names.length;
  const T = e.nTargets;
  const phi = new Float64Array(nPlayers * T);
  const xDir = new Uint8Array(nNodes);
  for (let k = 0; k < nNodes; k++) xDir[k] = goesTrue(e, k, splitValue(e, x[e.feature[k]])) ? 1 : 0;
  const state = new Uint8Array(nPlayers); // 0: undecided, 1: in A (from x), 2: in B (from b)
  const listA = new Int32Array(ctx.stride);
  const listB = new Int32Array(ctx.stride);
  let nA = 0;
  let nB = 0;
  let weight = 0;
  let bOffset = 0;
  const { trueChild, falseChild, leafOffsets, leafTarget, leafWeight } = e;
  const { nodePlayer, coefA, coefB, stride } = ctx;
  const dirs = ctx.backgroundDirections;

  const leaf = (c: number) => {
    if (nA === 0 && nB === 0) return;
    const l = -c - 1;
    const ca = weight * coefA[nA * stride + nB];
    const cb = weight * coefB[nA * stride + nB];
    for (let j = leafOffsets[l]; j < leafOffsets[l + 1]; j++) {
      const t = leafTarget[j];
      const u = leafWeight[j];
      for (let i = 0; i < nA; i++) phi[listA[i] * T + t] += u * ca;
      for (let i = 0; i < nB; i++) phi[listB[i] * T + t] -= u * cb;
    }
  };
  const walk = (c: number): void => {
    while (c >= 0) {
      const p = nodePlayer[c];
      const s = state[p];
      const xd = xDir[c];
      if (s === 1) c = xd ? trueChild[c] : falseChild[c];
      else {
        const bd = dirs[bOffset + c];
        if (s === 2 || xd === bd) c = bd ? trueChild[c] : falseChild[c];
        else {
          // x and b part ways on an undecided player: both branches
          state[p] = 1;
          listA[nA++] = p;
          walk(xd ? trueChild[c] : falseChild[c]);
          nA--;
          state[p] = 2;
          listB[nB++] = p;
          walk(bd ? trueChild[c] : falseChild[c]);
          nB--;
          state[p] = 0;
          return;
        }
      }
    }
    leaf(c);
  };
  const bg = ctx.background;
  for (let b = 0; b < bg.nRows; b++) {
    weight = bg.weights[b];
    bOffset = b * nNodes;
    for (const root of e.roots) walk(root);
  }
  return { values: phi, baseValue: ctx.baseValue.slice(), prediction: predictMargin(e, x, 1) };
}

/** TreeSHAP of many rows: values `nRows × nPlayers × nTargets`, predictions `nRows × nTargets`. */
export function treeShapRows(
  ctx: TreeShapContext,
  rows: ArrayLike<number>,
  nRows: number,
): { values: Float64Array; predictions: Float64Array; baseValue: Float64Array } {
  const d = ctx.ensemble.nFeatures;
  const T = ctx.ensemble.nTargets;
  const P = ctx.players.names.length;
  if (rows.length < nRows * d)
    throw new ShapeError(`rows holds ${rows.length} values but ${nRows} rows of ${d} features need ${nRows * d}`);
  const values = new Float64Array(nRows * P * T);
  const predictions = new Float64Array(nRows * T);
  const row = new Float64Array(d);
  for (let r = 0; r < nRows; r++) {
    for (let c = 0; c < d; c++) row[c] = rows[r * d + c];
    const res = treeShapRow(ctx, row);
    values.set(res.values, r * P * T);
    predictions.set(res.prediction, r * T);
  }
  return { values, predictions, baseValue: ctx.baseValue.slice() };
}
