/**
 * What the descriptors of the sensitivity methods share (gradient, gradient-input,
 * smoothgrad, integrated-gradients, occlusion): the finite-difference step, the baseline
 * options and the mapping of a request to the explainer's inputs.
 */
import { InvalidOptionError } from '../errors.js';
import type { BaselineSpec } from '../explainers/sensitivity/baseline.js';
import type { SensitivityInputOptions } from '../explainers/sensitivity/common.js';
import { FINITE_DIFFERENCE_DEFAULTS } from '../explainers/sensitivity/finite-difference.js';
import type { IntegrationRule } from '../explainers/sensitivity/integrated-gradients.js';
import type { Claim } from './claims.js';
import type { ModelRequest } from './run.js';
import type { OptionSpec } from './types.js';

/**
 * The sensitivity methods' options of `explain()` (each method takes its own; the others
 * are refused).
 */
export interface SensitivityExplainOptions {
  /** gradient-input, integrated-gradients, occlusion: the reference input. @defaultValue 'mean' ('zeros' for gradient-input) */
  baseline?: 'mean' | 'background' | 'zeros';
  /** The reference input: this background row (0-based; instead of `baseline`). */
  baselineRow?: number;
  /** The reference input: a row of numbers (library only; instead of `baseline`). */
  baselineValues?: ArrayLike<number>;
  /** Finite-difference step relative to each column's scale. @defaultValue 1e-2 (float32 models), 1e-5 (float64) */
  relativeStep?: number;
  /** integrated-gradients: points on the path. @defaultValue 50 */
  steps?: number;
  /** integrated-gradients: quadrature rule. @defaultValue 'gauss-legendre' */
  rule?: IntegrationRule;
  /** integrated-gradients with `tolerance`: most steps. @defaultValue 1024 */
  maxSteps?: number;
  /** smoothgrad: noise sd as a fraction of each column's scale. @defaultValue 0.15 */
  noise?: number;
  /** smoothgrad: noisy copies per row. @defaultValue 50 */
  samples?: number;
  /** occlusion: players occluded together. @defaultValue 1 */
  window?: number;
  /** occlusion: players between window starts. @defaultValue 1 */
  stride?: number;
}

/** `relativeStep`: the finite-difference step relative to each column's scale. */
export const RELATIVE_STEP_OPTION: OptionSpec = {
  name: 'relativeStep',
  kind: 'number',
  positive: true,
  max: 1,
  help: "finite-difference step relative to each column's scale (background sd)",
  default: `${FINITE_DIFFERENCE_DEFAULTS.relativeStepFloat32} (float32 models), ${FINITE_DIFFERENCE_DEFAULTS.relativeStepFloat64} (float64)`,
};

/** The baseline options (`baseline`, `baselineRow`, `baselineValues`; at most one is given). */
export function baselineOptions(defaultBaseline: string): OptionSpec[] {
  return [
    {
      name: 'baseline',
      kind: 'enum',
      values: ['mean', 'background', 'zeros'],
      help: 'reference input: background mean, every background row (weighted), or zeros',
      default: defaultBaseline,
    },
    { name: 'baselineRow', kind: 'integer', min: 0, help: 'reference input: this background row (0-based)' },
    {
      name: 'baselineValues',
      kind: 'object',
      help: 'reference input: a row of numbers (one per model input)',
      flag: null,
      http: false,
    },
  ];
}

/** Cross-option rule: one baseline at most. */
export function checkBaseline(options: Record<string, unknown>): void {
  const given = ['baseline', 'baselineRow', 'baselineValues'].filter((k) => options[k] !== undefined);
  if (given.length > 1)
    throw new InvalidOptionError(given[1], `unset when ${given[0]} is given (one baseline)`, options[given[1]]);
}

/** The baseline of a request's options (undefined: the method's default). */
export function baselineOf(options: Record<string, unknown>): BaselineSpec | undefined {
  if (options.baselineRow !== undefined) return options.baselineRow as number;
  if (options.baselineValues !== undefined) return options.baselineValues as ArrayLike<number>;
  return options.baseline as BaselineSpec | undefined;
}

/**
 * Claims that hold for a baseline: dummy and linearity always; symmetry when the baseline
 * treats symmetric inputs alike (the mean, every background row or zeros — not one
 * background row or a given vector).
 */
export function baselineClaims(options: Record<string, unknown>, defaultBaseline: string): Claim[] {
  const b =
    options.baselineRow !== undefined || options.baselineValues !== undefined
      ? 'row'
      : (options.baseline ?? defaultBaseline);
  return b === 'row' ? ['dummy', 'linearity'] : ['dummy', 'symmetry', 'linearity'];
}

/** The inputs every sensitivity explainer takes from a request. */
export function sensitivityInputs(req: ModelRequest): SensitivityInputOptions {
  const progress = req.onProgress;
  return {
    background: req.background,
    groups: req.groups,
    players: req.players,
    batchRows: req.batchRows,
    seed: req.seed,
    signal: req.signal,
    ...(progress ? { onProgress: (p) => progress({ ...p, done: 1, total: 1 }) } : {}),
  };
}
