/**
 * The tree ensemble behind a whybox {@link Model}: method `'tree'` reads it out of the ONNX
 * file the model was loaded from and explains the margins that correspond to the model's
 * selected outputs.
 */
import { definePlayers, type GroupSpec, type Players } from '../data/players.js';
import { checkRows, columnsOf, defaultNames, type RowsInput, sameNames, toBackground } from '../data/rows.js';
import { DataError, InvalidOptionError, ModelError, ShapeError, throwIfAborted } from '../errors.js';
import { prepareTreeShap, treeShapRow } from '../estimators/tree-shap.js';
import { createExplanation, type Explanation, playerColumnLists } from '../explanation/explanation.js';
import type { Model } from '../models/model.js';
import { readTreeEnsemble, type TreeEnsemble } from '../models/tree-ensemble.js';
import type { Background } from '../sampling/background.js';
import { VERSION } from '../version.js';

/** A model's tree ensemble restricted (and signed) to the margins of its selected outputs. */
export interface ModelTrees {
  /** The ensemble, its targets reduced to the explained margins (`nTargets` = outputs). */
  readonly ensemble: TreeEnsemble;
  /** Output names (`margin[k]`). */
  readonly outputNames: readonly string[];
  /** What the model's own outputs are, for reports: the margin's transform. */
  readonly note: string;
}

const cache = new WeakMap<Model, Promise<ModelTrees>>();

/**
 * Reads the tree ensemble of an ONNX model (`loadOnnx`) once per model object.
 *
 * The margins follow the model's output selection: a multi-target or multi-class model's
 * `select: [k]` explains `margin[k]`; a binary classifier scored by one margin m (its
 * probabilities are σ(−m), σ(m)) explains m for class 1 and −m (named `margin[0]`) for class 0.
 *
 * @throws {ModelError} for a model that is not an ONNX model (a JavaScript function: use
 *   `exact` or `kernel`) and for graphs {@link readTreeEnsemble} refuses; {@link ShapeError}
 *   when the model's input width differs from the ensemble's; {@link InvalidOptionError} for
 *   `link: 'logit'` unless the margin is the logit of the model's output.
 */
export function treesOfModel(model: Model): Promise<ModelTrees> {
  let p = cache.get(model);
  if (!p) {
    p = read(model);
    cache.set(model, p);
    p.catch(() => cache.delete(model));
  }
  return p;
}

async function read(model: Model): Promise<ModelTrees> {
  const spec = model.spec;
  if (spec?.kind !== 'onnx')
    throw new ModelError(
      "method 'tree' reads the tree ensemble out of an ONNX model (loadOnnx, or --model FILE.onnx); this model is not an ONNX model — use method 'exact' (up to 24 players) or 'kernel'",
    );
  const label = typeof spec.source === 'string' ? spec.source : 'the ONNX model';
  const e = await readTreeEnsemble(spec.source);
  if (e.nFeatures !== model.nInputs)
    throw new ShapeError(
      `${label}: the tree ensemble reads ${e.nFeatures} columns but the model has ${model.nInputs} inputs`,
    );
  const select = spec.options.select as readonly number[] | undefined;
  // the model's output columns before selection
  const binary = e.nTargets === 1 && e.outputNames[0] === 'margin[1]';
  const width = binary ? 2 : e.nTargets;
  const chosen =
    select ?? (binary && model.outputNames.length === 2 ? [0, 1] : Array.from({ length: e.nTargets }, (_, k) => k));
  if (select === undefined && !binary && model.outputNames.length !== e.nTargets)
    throw new ModelError(
      `${label}: the model explains ${model.outputNames.length} outputs but its tree ensemble has ${e.nTargets} margins; select the outputs to explain (select / --output)`,
    );
  const margins: { target: number; sign: number; name: string }[] = [];
  for (const k of chosen) {
    if (!Number.isInteger(k) || k < 0 || k >= width)
      throw new ModelError(`${label}: output ${k} has no margin in the tree ensemble (margins 0..${width - 1})`);
    margins.push(
      binary
        ? { target: 0, sign: k === 1 ? 1 : -1, name: `margin[${k}]` }
        : { target: k, sign: 1, name: e.outputNames[k] },
    );
  }
  const link = spec.options.link;
  const logitOfOutput =
    (binary && e.postTransform === 'LOGISTIC' && e.after.every((op) => op === 'ZipMap')) ||
    (e.nTargets === 1 && e.postTransform === 'NONE' && e.after.length === 1 && e.after[0] === 'Sigmoid');
  if (link === 'logit' && !logitOfOutput)
    throw new InvalidOptionError(
      'link',
      "'identity' for method 'tree'",
      link,
      "method 'tree' explains the ensemble's margins, which are the log-odds of the output only for a binary classifier with a LOGISTIC transform or a Sigmoid after the ensemble",
    );
  return {
    ensemble: restrict(e, margins),
    outputNames: margins.map((m) => m.name),
    note: describeTransform(e),
  };
}

function describeTransform(e: TreeEnsemble): string {
  const parts: string[] = [];
  if (e.postTransform !== 'NONE') parts.push(`post_transform ${e.postTransform}`);
  if (e.after.length > 0) parts.push(`then ${e.after.join(', ')}`);
  return `margins (raw scores) of ${e.operator}; the model's outputs apply ${parts.length > 0 ? parts.join(', ') : 'nothing more'}`;
}

/** The ensemble with targets re-indexed to the chosen margins (weights negated for a class-0 margin). */
function restrict(e: TreeEnsemble, margins: readonly { target: number; sign: number; name: string }[]): TreeEnsemble {
  const identity = margins.length === e.nTargets && margins.every((m, i) => m.target === i && m.sign === 1);
  if (identity) return e;
  const nLeaves = e.leafOffsets.length - 1;
  const offsets = new Int32Array(nLeaves + 1);
  const target: number[] = [];
  const weight: number[] = [];
  for (let l = 0; l < nLeaves; l++) {
    for (let j = e.leafOffsets[l]; j < e.leafOffsets[l + 1]; j++)
      margins.forEach((m, i) => {
        if (m.target === e.leafTarget[j]) {
          target.push(i);
          weight.push(m.sign * e.leafWeight[j]);
        }
      });
    offsets[l + 1] = target.length;
  }
  return {
    ...e,
    nTargets: margins.length,
    leafOffsets: offsets,
    leafTarget: Int32Array.from(target),
    leafWeight: Float64Array.from(weight),
    baseValues: Float64Array.from(margins, (m) => m.sign * e.baseValues[m.target]),
    outputNames: margins.map((m) => m.name),
  };
}

/** What {@link explainTree} needs besides the model and the rows. */
export interface ExplainTreeOptions {
  /** Background rows (a prebuilt {@link Background} keeps its weights). */
  readonly background: RowsInput | Background;
  /** Groups of columns as players. @defaultValue every column a player */
  readonly groups?: GroupSpec;
  /** Players (instead of groups). */
  readonly players?: Players;
  /** Recorded in `meta.seed` (TreeSHAP draws nothing). @defaultValue 0 */
  readonly seed?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { rowsDone: number; rows: number; done: number; total: number }) => void;
}

/**
 * Interventional TreeSHAP of an ONNX tree-ensemble model's margins ({@link treesOfModel})
 * for `rows`, as an {@link Explanation}: exact Shapley values of
 * v(S) = Σ_b w_b margin(x_S, b_rest); outputs `margin[k]`, base values Σ_b w_b margin(b),
 * predictions the margins of the rows. The model is never run (`modelRows` 0).
 *
 * @throws {ModelError} / {@link InvalidOptionError} as {@link treesOfModel};
 *   {@link ShapeError} / {@link DataError} for rows, background or players that do not fit.
 */
export async function explainTree(model: Model, rows: RowsInput, options: ExplainTreeOptions): Promise<Explanation> {
  const started = performance.now();
  const d = model.nInputs;
  checkRows(rows, d, 'rows');
  const columns = columnsOf(rows) ?? (model.inputNames ? [...model.inputNames] : defaultNames(d));
  if (model.inputNames && 'columns' in rows && !sameNames(model.inputNames, rows.columns))
    throw new DataError("the rows' columns do not match the model's input names");
  const players = options.players ?? definePlayers(columns, options.groups);
  if (players.nColumns !== d || players.columns.length !== d)
    throw new ShapeError(
      `players cover ${players.columns.length} of ${players.nColumns} columns; the model takes ${d} and every column must belong to exactly one player`,
    );
  const background = toBackground(options.background, undefined, d);
  const trees = await treesOfModel(model);
  const ctx = prepareTreeShap(trees.ensemble, background, players);
  const nRows = rows.nRows;
  const P = players.names.length;
  const T = trees.ensemble.nTargets;
  const values = new Float64Array(nRows * P * T);
  const predictions = new Float64Array(nRows * T);
  for (let r = 0; r < nRows; r++) {
    throwIfAborted(options.signal);
    const res = treeShapRow(ctx, rows.data.subarray(r * d, (r + 1) * d));
    values.set(res.values, r * P * T);
    predictions.set(res.prediction, r * T);
    options.onProgress?.({ rowsDone: r + 1, rows: nRows, done: 1, total: 1 });
  }
  return createExplanation({
    method: 'tree',
    players: players.names,
    outputs: [...trees.outputNames],
    columns,
    playerColumns: playerColumnLists(players),
    nRows,
    data: rows.data.slice(0, nRows * d),
    baseValues: ctx.baseValue,
    predictions,
    values,
    evaluations: 0,
    modelRows: 0,
    seconds: (performance.now() - started) / 1000,
    meta: {
      version: VERSION,
      seed: options.seed ?? 0,
      budget: 2 ** P,
      background: { rows: background.nRows, summary: background.summary },
      threads: 1,
    },
  });
}
