/**
 * The sensitivity methods (src/explainers/sensitivity/) as {@link AttributionMethod}s of
 * whybox/testing, with what each claims.
 */
import { InvalidOptionError } from '../errors.js';
import type { BaselineSpec } from '../explainers/sensitivity/baseline.js';
import { baselineOutputs, resolveBaseline } from '../explainers/sensitivity/baseline.js';
import type { SensitivityRow } from '../explainers/sensitivity/common.js';
import {
  columnScales,
  modelPredictor,
  resolveRelativeStep,
  stepSizes,
} from '../explainers/sensitivity/finite-difference.js';
import { gradientAt, gradientInputAt, SMOOTHGRAD_DEFAULTS, smoothGradAt } from '../explainers/sensitivity/gradient.js';
import type { IntegrationRule } from '../explainers/sensitivity/integrated-gradients.js';
import {
  integratedGradientsAt,
  resolveIntegratedGradientsSettings,
} from '../explainers/sensitivity/integrated-gradients.js';
import { OCCLUSION_DEFAULTS, occlusionAt } from '../explainers/sensitivity/occlusion.js';
import { playerColumnLists } from '../explanation/explanation.js';
import { Rng } from '../sampling/rng.js';
import type { AttributionMethod, Claim } from './method.js';

/** Names accepted by {@link sensitivityMethod}. */
export type SensitivityMethodName = 'gradient' | 'gradient-input' | 'smoothgrad' | 'integrated-gradients' | 'occlusion';

/** Options of {@link sensitivityMethod} (each method reads its own; others are refused). */
export interface SensitivityMethodOptions {
  /**
   * Baseline of gradient-input, integrated-gradients and occlusion.
   * @defaultValue 'background' (every background row of the task, weighted: then f(baseline)
   * is v(∅) of the task's interventional game)
   */
  baseline?: BaselineSpec;
  /** Finite-difference step (all but occlusion). @defaultValue by the model's input type */
  relativeStep?: number;
  /** Integrated gradients. @defaultValue 16 */
  steps?: number;
  /** Integrated gradients. @defaultValue 'gauss-legendre' */
  rule?: IntegrationRule;
  /** SmoothGrad. @defaultValue 0.15 */
  noise?: number;
  /** SmoothGrad. @defaultValue 50 */
  samples?: number;
  /** Occlusion. @defaultValue 1 */
  window?: number;
  /** Occlusion. @defaultValue 1 */
  stride?: number;
}

const OWN: Record<SensitivityMethodName, readonly (keyof SensitivityMethodOptions)[]> = {
  gradient: ['relativeStep'],
  'gradient-input': ['relativeStep', 'baseline'],
  smoothgrad: ['relativeStep', 'noise', 'samples'],
  'integrated-gradients': ['relativeStep', 'baseline', 'steps', 'rule'],
  occlusion: ['baseline', 'window', 'stride'],
};

/**
 * A sensitivity method as an {@link AttributionMethod} (needs the model task).
 *
 * Claims:
 * - `'integrated-gradients'`: efficiency — completeness Σφ = f(x) − f(baseline), which with
 *   the default `'background'` baseline is the Shapley efficiency Σφ = v(N) − v(∅); it holds
 *   only approximately (quadrature and finite-difference error) and only for differentiable
 *   models: check it with `kinds: ['linear', 'pairwise']` and a tolerance (exact to ~1e-9
 *   there, since the path derivative of a quadratic is linear). Also dummy (a column the
 *   model never reads has a zero difference quotient), symmetry (symmetric inputs, swap-closed
 *   background) and linearity (finite differences and the quadrature are linear in f).
 * - `'occlusion'` (window 1): dummy, symmetry and linearity — with the `'background'` baseline
 *   it is leave-one-out v(N) − v(N ∖ i) of the interventional game; not efficiency.
 * - `'gradient'`, `'gradient-input'`, `'smoothgrad'`: none of the Shapley axioms (local
 *   slopes, not a division of f(x) − v(∅)).
 *
 * `budget` of the properties is not used (the cost is set by steps / samples / windows).
 *
 * @throws {InvalidOptionError} for an unknown name or an option the method does not use.
 */
export function sensitivityMethod(
  name: SensitivityMethodName,
  options: SensitivityMethodOptions = {},
): AttributionMethod {
  if (!(name in OWN)) throw new InvalidOptionError('name', `one of ${Object.keys(OWN).join(', ')}`, name);
  for (const key of Object.keys(options) as (keyof SensitivityMethodOptions)[])
    if (options[key] !== undefined && !OWN[name].includes(key))
      throw new InvalidOptionError(key, `unset for method '${name}' (it uses ${OWN[name].join(', ')})`, options[key]);
  let claims: Claim[] = [];
  if (name === 'integrated-gradients') claims = ['efficiency', 'dummy', 'symmetry', 'linearity'];
  else if (name === 'occlusion' && (options.window ?? 1) === 1) claims = ['dummy', 'symmetry', 'linearity'];
  return {
    name,
    claims,
    needsModel: true,
    async attribute(task, opts) {
      if (!task.model)
        throw new InvalidOptionError(
          'task.model',
          'a model task (sensitivity methods differentiate or occlude the model)',
          undefined,
          'use model cases',
        );
      const { model, x, background, players } = task.model;
      const pred = modelPredictor(model, { signal: opts.signal });
      const d = model.nInputs;
      const cols = playerColumnLists(players);
      const scales = columnScales(d, background);
      const rel = name === 'occlusion' ? 0 : resolveRelativeStep(options.relativeStep, model.inputType);
      const needsBaseline = name === 'gradient-input' || name === 'integrated-gradients' || name === 'occlusion';
      const baselines = needsBaseline ? resolveBaseline(options.baseline ?? 'background', d, background) : undefined;
      const fb = baselines ? await baselineOutputs(pred, baselines) : undefined;
      const columnsOnly = () => {
        const multi = cols.findIndex((c) => c.length > 1);
        if (multi >= 0)
          throw new InvalidOptionError(
            'players',
            `single columns for method '${name}' (∂f/∂x is per column)`,
            `player ${players.names[multi]} of ${cols[multi].length} columns`,
          );
      };
      let row: SensitivityRow;
      if (name === 'gradient') {
        columnsOnly();
        row = await gradientAt(pred, x, stepSizes(x, scales, rel));
      } else if (name === 'smoothgrad') {
        columnsOnly();
        const noise = options.noise ?? SMOOTHGRAD_DEFAULTS.noise;
        if (!Number.isFinite(noise) || noise < 0) throw new InvalidOptionError('noise', 'a finite number >= 0', noise);
        const samples = options.samples ?? SMOOTHGRAD_DEFAULTS.samples;
        if (!Number.isInteger(samples) || samples < 1)
          throw new InvalidOptionError('samples', 'an integer >= 1', samples);
        const sigma = scales.map((s) => s * noise);
        row = await smoothGradAt(pred, x, stepSizes(x, scales, rel), sigma, samples, Rng.fromSeed(opts.seed));
      } else if (name === 'gradient-input') {
        row = await gradientInputAt(pred, x, baselines!, fb!, cols, stepSizes(x, scales, rel));
      } else if (name === 'integrated-gradients') {
        const settings = resolveIntegratedGradientsSettings(
          { steps: options.steps ?? 16, rule: options.rule, relativeStep: options.relativeStep },
          model.inputType,
        );
        row = await integratedGradientsAt(pred, x, baselines!, fb!, cols, { ...settings, scales });
      } else {
        const window = options.window ?? OCCLUSION_DEFAULTS.window;
        const stride = options.stride ?? OCCLUSION_DEFAULTS.stride;
        if (!Number.isInteger(window) || window < 1 || window > cols.length)
          throw new InvalidOptionError('window', `an integer in 1..${cols.length}`, window);
        if (!Number.isInteger(stride) || stride < 1 || stride > window)
          throw new InvalidOptionError('stride', `an integer in 1..${window}`, stride);
        row = await occlusionAt(pred, x, baselines!, fb!, cols, window, stride);
      }
      return { values: row.values };
    },
  };
}
