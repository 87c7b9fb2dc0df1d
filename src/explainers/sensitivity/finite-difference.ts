/**
 * Central finite differences of a black-box model, batched: the step rule, per-column
 * gradients (2d model rows per point) and directional derivatives along players' columns
 * (2 rows per player and point). Every row goes through {@link predictInChunks}, so ONNX
 * models get float32 rows in `batchRows` chunks like every other whybox method.
 */
import { InvalidOptionError } from '../../errors.js';
import { predictInChunks, resolveBatchRows } from '../../games/evaluator.js';
import type { InputType, Model } from '../../models/model.js';
import type { Background } from '../../sampling/background.js';

/**
 * A model as the sensitivity methods use it: plain rows in (float64; converted to the
 * model's input type in chunks), outputs out (`nRows × nOutputs`).
 */
export interface Predictor {
  readonly nInputs: number;
  readonly nOutputs: number;
  readonly inputType: InputType;
  /** Rows per model call; the helpers build at most about this many rows at a time. */
  readonly batchRows: number;
  predict(rows: Float64Array, nRows: number): Promise<Float64Array>;
}

/** Options of {@link modelPredictor}. */
export interface PredictorOptions {
  /** Rows per model call. @defaultValue 4096 */
  batchRows?: number;
  signal?: AbortSignal;
}

/** A {@link Predictor} over a model: chunks of `batchRows` rows through {@link predictInChunks}. */
export function modelPredictor(model: Model, options: PredictorOptions = {}): Predictor {
  const batchRows = resolveBatchRows(options.batchRows);
  return {
    nInputs: model.nInputs,
    nOutputs: model.outputNames.length,
    inputType: model.inputType,
    batchRows,
    predict: (rows, nRows) => predictInChunks(model, rows, nRows, batchRows, options.signal),
  };
}

/** Options of the finite-difference step rule. */
export interface FiniteDifferenceOptions {
  /**
   * Step relative to each column's scale: column i moves by h_i = relativeStep ·
   * max(scale_i, |x_i|) either way. The defaults minimise the measured error of central
   * differences (truncation ∝ h², rounding ∝ ε/h, best near h ≈ ε^{1/3}) on the logistic
   * fixture: see {@link FINITE_DIFFERENCE_DEFAULTS}.
   * @defaultValue 1e-2 for float32 models (ONNX), 1e-5 for float64 models (JS functions)
   */
  relativeStep?: number;
  /**
   * Each column's scale (nInputs positive numbers).
   * @defaultValue the weighted standard deviation of the column in the background (1 where
   * there is no background or the column is constant)
   */
  scale?: ArrayLike<number>;
}

/**
 * Default relative steps, chosen from the step sweep of
 * test/explainers/sensitivity/finite-difference.test.ts (the closed-form gradient
 * p(1 − p)·w of test/fixtures/logistic.onnx, 12 rows, unit scales; mean relative error):
 *
 * | relative step | 0.3 | 0.1 | 0.03 | 0.01 | 1e-3 | 1e-4 | 1e-5 | 1e-6 | 1e-7 |
 * | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
 * | float32 (onnxruntime) | 1.7e-3 | 1.9e-4 | 2.0e-5 | **2.0e-5** | 2.1e-4 | 2.3e-3 | 1.9e-2 | 1.8e-1 | 1.3 |
 * | float64 (JS function) | 1.7e-3 | 1.9e-4 | 1.7e-5 | 1.9e-6 | 1.9e-8 | 1.9e-10 | **4.5e-11** | 4.5e-10 | 4.4e-9 |
 *
 * The error falls as h² (100× per decade) until the model's rounding (ε/h: 10× per decade
 * the other way) takes over: near h = 1e-2 for float32 (ε ≈ 6e-8; the smaller truncation
 * error at 1e-2 is hidden by rounding, so the larger step is also kinder to ReLU kinks) and
 * near h = 1e-5 for float64 (ε^{1/3} ≈ 5e-6).
 */
export const FINITE_DIFFERENCE_DEFAULTS = {
  relativeStepFloat32: 1e-2,
  relativeStepFloat64: 1e-5,
} as const;

/** The relative step for a model's input type, validated. */
export function resolveRelativeStep(step: number | undefined, inputType: InputType): number {
  if (step === undefined)
    return inputType === 'float32'
      ? FINITE_DIFFERENCE_DEFAULTS.relativeStepFloat32
      : FINITE_DIFFERENCE_DEFAULTS.relativeStepFloat64;
  if (typeof step !== 'number' || !Number.isFinite(step) || step <= 0 || step > 1)
    throw new InvalidOptionError(
      'relativeStep',
      'a number in (0, 1]',
      step,
      'the finite-difference step relative to each column scale; typical values 1e-2 (float32 models) to 1e-5 (float64)',
    );
  return step;
}

/**
 * Each column's scale: the caller's `scale`, or the background's weighted standard
 * deviation per column (1 for a constant column or without a background).
 * @throws {InvalidOptionError} when `scale` has the wrong length or a value that is not a positive finite number.
 */
export function columnScales(d: number, background?: Background, scale?: ArrayLike<number>): Float64Array {
  if (scale !== undefined) {
    if (!scale || typeof scale.length !== 'number' || scale.length !== d)
      throw new InvalidOptionError('scale', `${d} positive numbers (one per model input)`, scale);
    const s = Float64Array.from(scale);
    s.forEach((v, i) => {
      if (!Number.isFinite(v) || v <= 0) throw new InvalidOptionError(`scale[${i}]`, 'a positive finite number', v);
    });
    return s;
  }
  const out = new Float64Array(d).fill(1);
  if (!background) return out;
  const { data, nRows, weights } = background;
  for (let c = 0; c < d; c++) {
    let mean = 0;
    for (let r = 0; r < nRows; r++) mean += weights[r] * data[r * d + c];
    let v = 0;
    for (let r = 0; r < nRows; r++) v += weights[r] * (data[r * d + c] - mean) ** 2;
    const sd = Math.sqrt(v);
    if (sd > 1e-12 * Math.max(1, Math.abs(mean))) out[c] = sd;
  }
  return out;
}

/** Per-column steps at x: h_i = relativeStep · max(scale_i, |x_i|). */
export function stepSizes(x: ArrayLike<number>, scales: ArrayLike<number>, relativeStep: number): Float64Array {
  const h = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) h[i] = relativeStep * Math.max(scales[i], Math.abs(x[i]));
  return h;
}

/** Rounds a value to what the model will see (float32 for float32 models). */
export function inputRounder(inputType: InputType): (v: number) => number {
  return inputType === 'float32' ? Math.fround : (v) => v;
}

function tooSmall(step: number, value: number, column: number, inputType: InputType): InvalidOptionError {
  return new InvalidOptionError(
    'relativeStep',
    `large enough that x ± h differ in the model's ${inputType} inputs`,
    step,
    `the step at column ${column} (value ${value}): x + h and x − h round to the same number; use relativeStep >= ${inputType === 'float32' ? '1e-5' : '1e-12'}`,
  );
}

/** Gradients at some points with their cost. */
export interface FiniteDifferences {
  /** `nPoints × k × nOutputs` (k = columns for gradients, directions for directional derivatives). */
  readonly values: Float64Array;
  /** Rows sent to the model. */
  readonly modelRows: number;
}

/**
 * Central-difference gradients ∂f/∂x_i at `nPoints` points (`nPoints × d`, row-major):
 * (f(z + h_i e_i) − f(z − h_i e_i)) / (z_i⁺ − z_i⁻), where z_i± are z_i ± h_i rounded to the
 * model's input type, so the divisor is the step the model actually saw. 2d model rows per
 * point, built and sent in blocks of about `batchRows` rows.
 *
 * @throws {InvalidOptionError} when a step rounds away in the model's input type.
 */
export async function centralGradients(
  pred: Predictor,
  points: Float64Array,
  nPoints: number,
  h: ArrayLike<number>,
): Promise<FiniteDifferences> {
  const d = pred.nInputs;
  const nOut = pred.nOutputs;
  const out = new Float64Array(nPoints * d * nOut);
  const perPoint = 2 * d;
  const block = Math.max(1, Math.floor(pred.batchRows / perPoint));
  const round = inputRounder(pred.inputType);
  for (let p0 = 0; p0 < nPoints; p0 += block) {
    const m = Math.min(block, nPoints - p0);
    const rows = new Float64Array(m * perPoint * d);
    const den = new Float64Array(m * d);
    for (let j = 0; j < m; j++) {
      const z = points.subarray((p0 + j) * d, (p0 + j + 1) * d);
      for (let c = 0; c < d; c++) {
        const zc = round(z[c]);
        const up = round(zc + h[c]);
        const dn = round(zc - h[c]);
        if (!(up - dn > 0)) throw tooSmall(h[c], z[c], c, pred.inputType);
        den[j * d + c] = up - dn;
        const r = 2 * (j * d + c);
        const a = rows.subarray(r * d, (r + 1) * d);
        a.set(z);
        a[c] = up;
        const b = rows.subarray((r + 1) * d, (r + 2) * d);
        b.set(z);
        b[c] = dn;
      }
    }
    const f = await pred.predict(rows, m * perPoint);
    for (let j = 0; j < m; j++)
      for (let c = 0; c < d; c++) {
        const r = 2 * (j * d + c);
        const at = ((p0 + j) * d + c) * nOut;
        for (let o = 0; o < nOut; o++) out[at + o] = (f[r * nOut + o] - f[(r + 1) * nOut + o]) / den[j * d + c];
      }
  }
  return { values: out, modelRows: nPoints * perPoint };
}

/**
 * Directions for {@link directionalDerivatives}: `nDirections × d` dense vectors, each with
 * its step t (the point moves by ± t·v) and its non-zero columns.
 */
export interface Directions {
  readonly nDirections: number;
  readonly vectors: Float64Array;
  readonly steps: Float64Array;
  /** Non-zero columns of each direction (empty: the derivative is 0 and costs no rows). */
  readonly support: readonly Int32Array[];
}

/**
 * Directions v_p = (x − b) restricted to each player's columns, with step
 * t_p = min over the player's moving columns of h_i / |v_i| (no column moves by more than
 * its own step h_i).
 */
export function playerDirections(
  x: ArrayLike<number>,
  b: ArrayLike<number>,
  playerColumns: readonly (readonly number[])[],
  h: ArrayLike<number>,
): Directions {
  const d = x.length;
  const n = playerColumns.length;
  const vectors = new Float64Array(n * d);
  const steps = new Float64Array(n);
  const support: Int32Array[] = [];
  playerColumns.forEach((cols, p) => {
    const nz: number[] = [];
    let t = Number.POSITIVE_INFINITY;
    for (const c of cols) {
      const v = x[c] - b[c];
      if (v === 0) continue;
      vectors[p * d + c] = v;
      nz.push(c);
      t = Math.min(t, h[c] / Math.abs(v));
    }
    steps[p] = nz.length > 0 ? t : 0;
    support.push(Int32Array.from(nz));
  });
  return { nDirections: n, vectors, steps, support };
}

/**
 * Central-difference directional derivatives ∇f(z)·v at `nPoints` points along each
 * direction: (f(z + t v) − f(z − t v)) / e, where e·v is the least-squares fit of the
 * displacement the model actually saw (after rounding to its input type; e = 2t in exact
 * arithmetic). 2 model rows per point and non-zero direction.
 *
 * @throws {InvalidOptionError} when a step rounds away in the model's input type.
 */
export async function directionalDerivatives(
  pred: Predictor,
  points: Float64Array,
  nPoints: number,
  dirs: Directions,
): Promise<FiniteDifferences> {
  const d = pred.nInputs;
  const nOut = pred.nOutputs;
  const nDir = dirs.nDirections;
  const out = new Float64Array(nPoints * nDir * nOut);
  const active: number[] = [];
  for (let p = 0; p < nDir; p++) if (dirs.support[p].length > 0) active.push(p);
  if (active.length === 0 || nPoints === 0) return { values: out, modelRows: 0 };
  const perPoint = 2 * active.length;
  const block = Math.max(1, Math.floor(pred.batchRows / perPoint));
  const round = inputRounder(pred.inputType);
  for (let p0 = 0; p0 < nPoints; p0 += block) {
    const m = Math.min(block, nPoints - p0);
    const rows = new Float64Array(m * perPoint * d);
    const den = new Float64Array(m * active.length);
    for (let j = 0; j < m; j++) {
      const z = points.subarray((p0 + j) * d, (p0 + j + 1) * d);
      active.forEach((p, k) => {
        const r = 2 * (j * active.length + k);
        const a = rows.subarray(r * d, (r + 1) * d);
        const b = rows.subarray((r + 1) * d, (r + 2) * d);
        a.set(z);
        b.set(z);
        const t = dirs.steps[p];
        let num = 0;
        let vv = 0;
        for (const c of dirs.support[p]) {
          const v = dirs.vectors[p * d + c];
          const zc = round(z[c]);
          a[c] = round(zc + t * v);
          b[c] = round(zc - t * v);
          num += v * (a[c] - b[c]);
          vv += v * v;
        }
        const e = num / vv;
        if (!(e > 0)) {
          const c = dirs.support[p][0];
          throw tooSmall(t * Math.abs(dirs.vectors[p * d + c]), z[c], c, pred.inputType);
        }
        den[j * active.length + k] = e;
      });
    }
    const f = await pred.predict(rows, m * perPoint);
    for (let j = 0; j < m; j++)
      active.forEach((p, k) => {
        const r = 2 * (j * active.length + k);
        const at = ((p0 + j) * nDir + p) * nOut;
        const e = den[j * active.length + k];
        for (let o = 0; o < nOut; o++) out[at + o] = (f[r * nOut + o] - f[(r + 1) * nOut + o]) / e;
      });
  }
  return { values: out, modelRows: nPoints * perPoint };
}
