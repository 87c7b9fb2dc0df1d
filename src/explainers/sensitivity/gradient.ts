/**
 * Local sensitivities of a black box by central finite differences: the gradient
 * (sensitivity analysis), gradient × input, and SmoothGrad.
 */
import { InvalidOptionError } from '../../errors.js';
import type { Explanation } from '../../explanation/explanation.js';
import type { Model } from '../../models/model.js';
import { indexedStreams, Rng, randomSeed } from '../../sampling/rng.js';
import type { BaselineOutputs, BaselineSpec, Baselines } from './baseline.js';
import { baselineOutputs, resolveBaseline } from './baseline.js';
import type { SensitivityInputOptions, SensitivityRow, SensitivityRows } from './common.js';
import {
  completenessGap,
  intOption,
  overRows,
  prepareSensitivity,
  requireColumnPlayers,
  sensitivityExplanation,
} from './common.js';
import type { FiniteDifferenceOptions, Predictor } from './finite-difference.js';
import {
  centralGradients,
  columnScales,
  directionalDerivatives,
  FINITE_DIFFERENCE_DEFAULTS,
  playerDirections,
  resolveRelativeStep,
  stepSizes,
} from './finite-difference.js';

/** Options of {@link gradient}. */
export interface GradientOptions extends FiniteDifferenceOptions, SensitivityInputOptions {}

/** Defaults of {@link gradient} (the step depends on the model's input type). */
export const GRADIENT_DEFAULTS = { ...FINITE_DIFFERENCE_DEFAULTS } as const;

/** Options of {@link gradientInput}. */
export interface GradientInputOptions extends FiniteDifferenceOptions, SensitivityInputOptions {
  /**
   * The reference x is compared with: φ_p = Σ_{i ∈ p} (x_i − b_i) ∂f/∂x_i(x). `'zeros'` is
   * the textbook gradient × input (captum's InputXGradient).
   * @defaultValue 'zeros'
   */
  baseline?: BaselineSpec;
}

/** Defaults of {@link gradientInput}. */
export const GRADIENT_INPUT_DEFAULTS = { ...FINITE_DIFFERENCE_DEFAULTS, baseline: 'zeros' } as const;

/** Options of {@link smoothGrad}. */
export interface SmoothGradOptions extends FiniteDifferenceOptions, SensitivityInputOptions {
  /**
   * Standard deviation of the Gaussian noise, as a fraction of each column's scale (its
   * background standard deviation, or 1). Smilkov et al. (2017) recommend 10–20% of the
   * input range. @defaultValue 0.15
   */
  noise?: number;
  /** Noisy copies of each row whose gradients are averaged. @defaultValue 50 */
  samples?: number;
  /** Seed of the noise (row r uses the r-th jumped stream). @defaultValue a random seed (recorded in `meta.seed`) */
  seed?: number;
  /** Global index of the first row (chunked batches): row r uses stream `firstRowIndex + r`. @defaultValue 0 */
  firstRowIndex?: number;
}

/** Defaults of {@link smoothGrad}. */
export const SMOOTHGRAD_DEFAULTS = { ...FINITE_DIFFERENCE_DEFAULTS, noise: 0.15, samples: 50 } as const;

/**
 * The gradient ∂f/∂x_i at x by central differences (2d model rows, one batch), plus f(x).
 * `h` are the per-column steps ({@link stepSizes}).
 */
export async function gradientAt(pred: Predictor, x: Float64Array, h: ArrayLike<number>): Promise<SensitivityRow> {
  const [fd, prediction] = await Promise.all([centralGradients(pred, x, 1, h), pred.predict(x, 1)]);
  return { values: fd.values, prediction, modelRows: fd.modelRows + 1 };
}

/**
 * Gradient × input of one row against baselines: for each baseline row b (weighted),
 * φ_p = ∇f(x) · (x − b)|_p, the directional derivative along the player's columns (2 model
 * rows per player that differs from b). `baseValue` is f(baseline); `gap` the first-order
 * Taylor residual Σφ − (f(x) − f(b)).
 */
export async function gradientInputAt(
  pred: Predictor,
  x: Float64Array,
  baselines: Baselines,
  fb: BaselineOutputs,
  playerColumns: readonly (readonly number[])[],
  h: ArrayLike<number>,
): Promise<SensitivityRow> {
  const d = pred.nInputs;
  const nOut = pred.nOutputs;
  const n = playerColumns.length;
  const values = new Float64Array(n * nOut);
  let modelRows = 1;
  const prediction = await pred.predict(x, 1);
  for (let k = 0; k < baselines.nRows; k++) {
    const b = baselines.rows.subarray(k * d, (k + 1) * d);
    const dirs = playerDirections(x, b, playerColumns, h);
    const fd = await directionalDerivatives(pred, x, 1, dirs);
    modelRows += fd.modelRows;
    const w = baselines.weights[k];
    for (let i = 0; i < n * nOut; i++) values[i] += w * fd.values[i];
  }
  return { values, prediction, baseValue: fb.mean, modelRows, gap: completenessGap(values, n, prediction, fb.mean) };
}

/**
 * SmoothGrad (Smilkov et al. 2017) of one row: the mean central-difference gradient at
 * `samples` points x + ε, ε_i ~ N(0, σ_i²), all 2d · samples rows in batches.
 */
export async function smoothGradAt(
  pred: Predictor,
  x: Float64Array,
  h: ArrayLike<number>,
  sigma: ArrayLike<number>,
  samples: number,
  rng: Rng,
): Promise<SensitivityRow> {
  const d = pred.nInputs;
  const nOut = pred.nOutputs;
  const points = new Float64Array(samples * d);
  for (let s = 0; s < samples; s++) for (let c = 0; c < d; c++) points[s * d + c] = x[c] + sigma[c] * rng.normal();
  const [fd, prediction] = await Promise.all([centralGradients(pred, points, samples, h), pred.predict(x, 1)]);
  const values = new Float64Array(d * nOut);
  for (let s = 0; s < samples; s++) for (let i = 0; i < d * nOut; i++) values[i] += fd.values[s * d * nOut + i];
  for (let i = 0; i < d * nOut; i++) values[i] /= samples;
  return { values, prediction, modelRows: fd.modelRows + 1 };
}

/**
 * Sensitivity analysis: ∂f/∂x_i of every output at each row, by central finite differences
 * with the scale-aware step h_i = relativeStep · max(scale_i, |x_i|) (2d model rows per
 * row). `baseValues` are 0 (there is no baseline; no efficiency gap). Players are the
 * columns: grouped players are refused (a group of one-hot columns has no single
 * derivative). For an ungrouped one-hot column, ∂f/∂x_i is the model's response to moving
 * that indicator off {0, 1} — the slope of the network between categories, not the effect of
 * a change of category (use occlusion or integrated gradients for that).
 *
 * @throws {InvalidOptionError} for grouped players or a bad step.
 */
export async function gradient(
  model: Model,
  rows: SensitivityRows,
  options: GradientOptions = {},
): Promise<Explanation> {
  const setup = prepareSensitivity(model, rows, options);
  requireColumnPlayers(setup, 'gradient');
  const rel = resolveRelativeStep(options.relativeStep, model.inputType);
  const scales = columnScales(setup.d, setup.background, options.scale);
  const results = await overRows(setup, options, (x) => gradientAt(setup.pred, x, stepSizes(x, scales, rel)));
  return sensitivityExplanation(setup, results, {
    method: 'gradient',
    baseValues: new Float64Array(setup.nOut),
    sharedModelRows: 0,
    details: { relativeStep: rel },
    seed: options.seed ?? 0,
    budget: 2 * setup.d + 1,
  });
}

/**
 * Gradient × input: φ_p = Σ_{i ∈ p} (x_i − b_i) ∂f/∂x_i(x) — a first-order Taylor
 * expansion of f(x) − f(b); with the default zero baseline, x ⊙ ∇f(x). Groups are players
 * (the derivative along the group's move from the baseline: for a one-hot attribute and the
 * zero baseline, the slope of its observed indicator). `baseValues` = f(baseline); each row's
 * efficiency gap is the Taylor residual |Σφ − (f(x) − f(b))| (0 for a linear model).
 *
 * @throws {InvalidOptionError} for a bad baseline or step.
 */
export async function gradientInput(
  model: Model,
  rows: SensitivityRows,
  options: GradientInputOptions = {},
): Promise<Explanation> {
  const setup = prepareSensitivity(model, rows, options);
  const rel = resolveRelativeStep(options.relativeStep, model.inputType);
  const scales = columnScales(setup.d, setup.background, options.scale);
  const baselines = resolveBaseline(options.baseline ?? GRADIENT_INPUT_DEFAULTS.baseline, setup.d, setup.background);
  const fb = await baselineOutputs(setup.pred, baselines);
  const results = await overRows(setup, options, (x) =>
    gradientInputAt(setup.pred, x, baselines, fb, setup.playerColumns, stepSizes(x, scales, rel)),
  );
  return sensitivityExplanation(setup, results, {
    method: 'gradient-input',
    baseValues: fb.mean,
    sharedModelRows: fb.modelRows,
    details: { relativeStep: rel, baseline: baselines.description },
    seed: options.seed ?? 0,
    budget: 2 * setup.playerColumns.length * baselines.nRows + 1,
  });
}

/**
 * SmoothGrad: the gradient averaged over `samples` noisy copies x + ε of each row,
 * ε_i ~ N(0, (noise · scale_i)²), drawn from the seeded stream of the row. Players are the
 * columns (grouped players refused, as for {@link gradient}); `baseValues` are 0.
 *
 * @throws {InvalidOptionError} for grouped players, a bad noise level, sample count or step.
 */
export async function smoothGrad(
  model: Model,
  rows: SensitivityRows,
  options: SmoothGradOptions = {},
): Promise<Explanation> {
  const setup = prepareSensitivity(model, rows, options);
  requireColumnPlayers(setup, 'smoothgrad');
  const rel = resolveRelativeStep(options.relativeStep, model.inputType);
  const noise = options.noise ?? SMOOTHGRAD_DEFAULTS.noise;
  if (typeof noise !== 'number' || !Number.isFinite(noise) || noise < 0)
    throw new InvalidOptionError('noise', 'a finite number >= 0 (a fraction of each column scale)', noise);
  const samples = intOption('samples', options.samples, SMOOTHGRAD_DEFAULTS.samples, 1, 100_000);
  const seed = options.seed ?? randomSeed();
  Rng.fromSeed(seed); // validates the seed
  const scales = columnScales(setup.d, setup.background, options.scale);
  const sigma = scales.map((s) => noise * s);
  const first = options.firstRowIndex ?? 0;
  const streams = indexedStreams(
    seed,
    Array.from({ length: setup.nRows }, (_, i) => first + i),
  );
  const results = await overRows(setup, options, (x, r) =>
    smoothGradAt(setup.pred, x, stepSizes(x, scales, rel), sigma, samples, streams[r]),
  );
  return sensitivityExplanation(setup, results, {
    method: 'smoothgrad',
    baseValues: new Float64Array(setup.nOut),
    sharedModelRows: 0,
    details: { relativeStep: rel, noise, samples },
    seed,
    budget: 2 * setup.d * samples + 1,
  });
}
