/**
 * Baselines (reference inputs) of the path and occlusion methods: the background mean, a
 * background row, every background row (weighted, as interventional Shapley values
 * average over them), zeros, or a given vector.
 */
import { assertFinite } from '../../data/dataset.js';
import { InvalidOptionError } from '../../errors.js';
import type { Background } from '../../sampling/background.js';
import type { Predictor } from './finite-difference.js';

/**
 * Which baseline:
 * - `'mean'`: the background's weighted mean row (for one-hot columns: the category
 *   frequencies, a point between categories);
 * - `'background'`: every background row, results averaged with the background weights
 *   (cost × background rows; then `baseValue` = Σ_b w_b f(b) = v(∅) of the interventional
 *   game, so the completeness of integrated gradients is the Shapley efficiency equation);
 * - a number k: background row k;
 * - `'zeros'`: the all-zero row;
 * - an array of nInputs numbers: that row.
 */
export type BaselineSpec = 'mean' | 'background' | 'zeros' | number | ArrayLike<number>;

/** Resolved baselines: `nRows × d` rows with weights summing to 1. */
export interface Baselines {
  readonly rows: Float64Array;
  readonly nRows: number;
  readonly weights: Float64Array;
  /** For reports: `'background mean'`, `'background row 3'`, `'each of 50 background rows'`, ... */
  readonly description: string;
}

/**
 * Resolves a {@link BaselineSpec} for rows of `d` columns.
 * @throws {InvalidOptionError} when the spec needs a background that was not given, names a
 *   row out of range, or is a vector of the wrong length or with non-finite values.
 */
export function resolveBaseline(
  spec: BaselineSpec,
  d: number,
  background?: Background,
  option = 'baseline',
): Baselines {
  const needBackground = (what: string) => {
    if (!background)
      throw new InvalidOptionError(
        option,
        `${what} with a background`,
        spec,
        "pass background rows, or baseline: 'zeros' or an explicit row of numbers",
      );
    return background;
  };
  if (spec === 'zeros')
    return { rows: new Float64Array(d), nRows: 1, weights: Float64Array.of(1), description: 'zeros' };
  if (spec === 'mean') {
    const bg = needBackground("'mean'");
    const row = new Float64Array(d);
    for (let r = 0; r < bg.nRows; r++) for (let c = 0; c < d; c++) row[c] += bg.weights[r] * bg.data[r * d + c];
    return { rows: row, nRows: 1, weights: Float64Array.of(1), description: `mean of ${bg.summary}` };
  }
  if (spec === 'background') {
    const bg = needBackground("'background'");
    return {
      rows: bg.data,
      nRows: bg.nRows,
      weights: bg.weights,
      description: `each of ${bg.nRows} background rows (${bg.summary}), weighted`,
    };
  }
  if (typeof spec === 'number') {
    const bg = needBackground('a background row index');
    if (!Number.isInteger(spec) || spec < 0 || spec >= bg.nRows)
      throw new InvalidOptionError(option, `a background row index in 0..${bg.nRows - 1}`, spec);
    return {
      rows: bg.data.slice(spec * d, (spec + 1) * d),
      nRows: 1,
      weights: Float64Array.of(1),
      description: `background row ${spec}`,
    };
  }
  if (spec && typeof spec === 'object' && typeof (spec as ArrayLike<number>).length === 'number') {
    if (spec.length !== d) throw new InvalidOptionError(option, `a row of ${d} numbers (one per model input)`, spec);
    const row = Float64Array.from(spec);
    assertFinite(row, d, { what: `${option} value` });
    return { rows: row, nRows: 1, weights: Float64Array.of(1), description: 'given row' };
  }
  throw new InvalidOptionError(
    option,
    "'mean', 'background', 'zeros', a background row index or a row of numbers",
    spec,
  );
}

/** The baselines' model outputs (`nRows × nOutputs`) and their weighted mean (the base value). */
export interface BaselineOutputs {
  readonly outputs: Float64Array;
  readonly mean: Float64Array;
  readonly modelRows: number;
}

/** Evaluates the baselines once (shared by every explained row). */
export async function baselineOutputs(pred: Predictor, b: Baselines): Promise<BaselineOutputs> {
  const nOut = pred.nOutputs;
  const outputs = await pred.predict(b.rows, b.nRows);
  const mean = new Float64Array(nOut);
  for (let r = 0; r < b.nRows; r++) for (let o = 0; o < nOut; o++) mean[o] += b.weights[r] * outputs[r * nOut + o];
  return { outputs, mean, modelRows: b.nRows };
}
