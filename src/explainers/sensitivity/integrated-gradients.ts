/**
 * Integrated gradients (Sundararajan, Taly & Yan 2017) of a black box: the gradient
 * integrated along the straight path from a baseline to x, by finite differences.
 */
import { InvalidOptionError } from '../../errors.js';
import type { Explanation } from '../../explanation/explanation.js';
import type { Model } from '../../models/model.js';
import type { QuadratureRule } from '../../numerics/gauss-legendre.js';
import { GAUSS_LEGENDRE_MAX_NODES, gaussLegendreUnit } from '../../numerics/gauss-legendre.js';
import type { BaselineOutputs, BaselineSpec, Baselines } from './baseline.js';
import { baselineOutputs, resolveBaseline } from './baseline.js';
import type { SensitivityInputOptions, SensitivityRow, SensitivityRows } from './common.js';
import { completenessGap, intOption, overRows, prepareSensitivity, sensitivityExplanation } from './common.js';
import type { FiniteDifferenceOptions, Predictor } from './finite-difference.js';
import {
  columnScales,
  directionalDerivatives,
  FINITE_DIFFERENCE_DEFAULTS,
  playerDirections,
  resolveRelativeStep,
  stepSizes,
} from './finite-difference.js';

/** Quadrature rules over the path (captum's names, as whybox strings). */
export type IntegrationRule =
  | 'gauss-legendre'
  | 'riemann-left'
  | 'riemann-right'
  | 'riemann-middle'
  | 'riemann-trapezoid';

/** Every {@link IntegrationRule}. */
export const INTEGRATION_RULES: readonly IntegrationRule[] = [
  'gauss-legendre',
  'riemann-left',
  'riemann-right',
  'riemann-middle',
  'riemann-trapezoid',
];

/** Options of {@link integratedGradients}. */
export interface IntegratedGradientsOptions extends FiniteDifferenceOptions, SensitivityInputOptions {
  /** Where the path starts. @defaultValue 'mean' (the background mean; needs a background) */
  baseline?: BaselineSpec;
  /** Points on the path (gradient evaluations per player; CLI `--steps`). @defaultValue 50 */
  steps?: number;
  /** Quadrature rule. @defaultValue 'gauss-legendre' */
  rule?: IntegrationRule;
  /**
   * Refine: double `steps` until every output's |completeness gap| ≤ tolerance (in output
   * units) or `maxSteps` is reached. @defaultValue undefined (no refinement)
   */
  tolerance?: number;
  /** Most steps when refining. @defaultValue 1024 */
  maxSteps?: number;
}

/** Defaults of {@link integratedGradients}. */
export const INTEGRATED_GRADIENTS_DEFAULTS = {
  ...FINITE_DIFFERENCE_DEFAULTS,
  baseline: 'mean',
  steps: 50,
  rule: 'gauss-legendre',
  maxSteps: 1024,
} as const;

/**
 * Points α_k ∈ [0, 1] and weights (summing to 1) of a rule with `steps` points:
 * Gauss–Legendre nodes; left / right / middle Riemann sums over `steps` equal cells; the
 * trapezoid rule on `steps` equally spaced points including both ends (needs ≥ 2).
 * @throws {InvalidOptionError} for an unknown rule or too few steps.
 */
export function pathRule(rule: IntegrationRule, steps: number): QuadratureRule {
  if (rule === 'gauss-legendre') return gaussLegendreUnit(steps);
  if (!Number.isInteger(steps) || steps < 1) throw new InvalidOptionError('steps', 'an integer >= 1', steps);
  const nodes = new Float64Array(steps);
  const weights = new Float64Array(steps).fill(1 / steps);
  if (rule === 'riemann-left') for (let k = 0; k < steps; k++) nodes[k] = k / steps;
  else if (rule === 'riemann-right') for (let k = 0; k < steps; k++) nodes[k] = (k + 1) / steps;
  else if (rule === 'riemann-middle') for (let k = 0; k < steps; k++) nodes[k] = (k + 0.5) / steps;
  else if (rule === 'riemann-trapezoid') {
    if (steps < 2) throw new InvalidOptionError('steps', "at least 2 for 'riemann-trapezoid'", steps);
    for (let k = 0; k < steps; k++) {
      nodes[k] = k / (steps - 1);
      weights[k] = (k === 0 || k === steps - 1 ? 0.5 : 1) / (steps - 1);
    }
  } else throw new InvalidOptionError('rule', `one of ${INTEGRATION_RULES.join(', ')}`, rule);
  return { nodes, weights };
}

/** Settings of {@link integratedGradientsAt}. */
export interface IntegratedGradientsSettings {
  readonly steps: number;
  readonly rule: IntegrationRule;
  readonly relativeStep: number;
  /** Column scales of the finite-difference steps. */
  readonly scales: ArrayLike<number>;
  readonly tolerance?: number;
  readonly maxSteps: number;
}

/**
 * Integrated gradients of one row, per player: φ_p = Σ_b w_b Σ_k ω_k ∇f(b + α_k(x − b)) ·
 * (x − b)|_p — the derivative along the player's columns (a group moves as one: for a
 * one-hot attribute, from the baseline's mix of categories to x's), by central differences
 * with 2 model rows per point and moving player. By the fundamental theorem of calculus
 * Σ_p φ_p → f(x) − f(b) as the rule converges (completeness); `gap` reports the residual,
 * and with a tolerance the steps double until it is met.
 */
export async function integratedGradientsAt(
  pred: Predictor,
  x: Float64Array,
  baselines: Baselines,
  fb: BaselineOutputs,
  playerColumns: readonly (readonly number[])[],
  settings: IntegratedGradientsSettings,
): Promise<SensitivityRow> {
  const d = pred.nInputs;
  const nOut = pred.nOutputs;
  const n = playerColumns.length;
  const prediction = await pred.predict(x, 1);
  let modelRows = 1;
  let steps = settings.steps;
  const hx = stepSizes(x, settings.scales, settings.relativeStep);
  for (;;) {
    const { nodes, weights } = pathRule(settings.rule, steps);
    const values = new Float64Array(n * nOut);
    for (let k = 0; k < baselines.nRows; k++) {
      const b = baselines.rows.subarray(k * d, (k + 1) * d);
      const hb = stepSizes(b, settings.scales, settings.relativeStep);
      for (let c = 0; c < d; c++) hb[c] = Math.max(hb[c], hx[c]);
      const dirs = playerDirections(x, b, playerColumns, hb);
      const points = new Float64Array(steps * d);
      for (let j = 0; j < steps; j++) for (let c = 0; c < d; c++) points[j * d + c] = b[c] + nodes[j] * (x[c] - b[c]);
      const fd = await directionalDerivatives(pred, points, steps, dirs);
      modelRows += fd.modelRows;
      const w = baselines.weights[k];
      for (let j = 0; j < steps; j++) {
        const ww = w * weights[j];
        const at = j * n * nOut;
        for (let i = 0; i < n * nOut; i++) values[i] += ww * fd.values[at + i];
      }
    }
    const gap = completenessGap(values, n, prediction, fb.mean);
    const worst = gap.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
    const tol = settings.tolerance;
    const next = steps * 2;
    if (tol === undefined || worst <= tol || next > settings.maxSteps)
      return {
        values,
        prediction,
        baseValue: fb.mean,
        modelRows,
        gap,
        steps,
        ...(tol === undefined ? {} : { converged: worst <= tol }),
      };
    steps = next;
  }
}

/** Validated {@link IntegratedGradientsSettings} (without the scales). */
export function resolveIntegratedGradientsSettings(
  options: Pick<IntegratedGradientsOptions, 'steps' | 'rule' | 'tolerance' | 'maxSteps' | 'relativeStep'>,
  inputType: Model['inputType'],
): Omit<IntegratedGradientsSettings, 'scales'> {
  const rule = options.rule ?? INTEGRATED_GRADIENTS_DEFAULTS.rule;
  if (!INTEGRATION_RULES.includes(rule))
    throw new InvalidOptionError('rule', `one of ${INTEGRATION_RULES.join(', ')}`, rule);
  const max = rule === 'gauss-legendre' ? GAUSS_LEGENDRE_MAX_NODES : 1_000_000;
  const steps = intOption(
    'steps',
    options.steps,
    INTEGRATED_GRADIENTS_DEFAULTS.steps,
    rule === 'riemann-trapezoid' ? 2 : 1,
    max,
  );
  const maxSteps = intOption(
    'maxSteps',
    options.maxSteps,
    Math.max(steps, INTEGRATED_GRADIENTS_DEFAULTS.maxSteps),
    steps,
    max,
  );
  const tolerance = options.tolerance;
  if (tolerance !== undefined && (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance <= 0))
    throw new InvalidOptionError(
      'tolerance',
      'a positive number (largest |completeness gap| accepted, in output units)',
      tolerance,
    );
  if (options.maxSteps !== undefined && tolerance === undefined)
    throw new InvalidOptionError(
      'maxSteps',
      'unset without a tolerance (it caps the refinement of steps)',
      options.maxSteps,
    );
  return { steps, rule, relativeStep: resolveRelativeStep(options.relativeStep, inputType), tolerance, maxSteps };
}

/**
 * Integrated gradients of each row from a baseline (the background mean by default, a
 * background row, every background row weighted, zeros or a given row), along the straight
 * path, with `steps` points of a Gauss–Legendre or Riemann rule. Players may be groups (the
 * derivative along the group's columns). `baseValues` = f(baseline) (weighted mean over
 * baseline rows); each row's efficiency gap is its completeness gap |Σφ − (f(x) − f(b))|,
 * which shrinks as steps grow for a differentiable model (quadrature error) down to the
 * finite-difference floor; `tolerance` doubles the steps until it is met. Cost per row:
 * 2 · steps · (players that differ from the baseline) model rows per baseline row.
 *
 * @throws {InvalidOptionError} for a bad baseline, rule, steps, tolerance or step.
 * @example
 * const e = await integratedGradients(model, rows, { background: train, steps: 64 });
 * e.values; // rows × players × outputs; Σ_p ≈ prediction − baseValue
 */
export async function integratedGradients(
  model: Model,
  rows: SensitivityRows,
  options: IntegratedGradientsOptions = {},
): Promise<Explanation> {
  const setup = prepareSensitivity(model, rows, options);
  const base = resolveIntegratedGradientsSettings(options, model.inputType);
  const settings: IntegratedGradientsSettings = {
    ...base,
    scales: columnScales(setup.d, setup.background, options.scale),
  };
  const baselines = resolveBaseline(
    options.baseline ?? INTEGRATED_GRADIENTS_DEFAULTS.baseline,
    setup.d,
    setup.background,
  );
  const fb = await baselineOutputs(setup.pred, baselines);
  const results = await overRows(setup, options, (x) =>
    integratedGradientsAt(setup.pred, x, baselines, fb, setup.playerColumns, settings),
  );
  return sensitivityExplanation(setup, results, {
    method: 'integrated-gradients',
    baseValues: fb.mean,
    sharedModelRows: fb.modelRows,
    details: {
      relativeStep: settings.relativeStep,
      baseline: baselines.description,
      steps: settings.steps,
      rule: settings.rule,
      ...(settings.tolerance === undefined ? {} : { tolerance: settings.tolerance }),
    },
    seed: options.seed ?? 0,
    budget: 2 * settings.steps * setup.playerColumns.length * baselines.nRows + 1,
  });
}
