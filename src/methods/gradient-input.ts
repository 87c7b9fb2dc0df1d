import { GRADIENT_INPUT_DEFAULTS, gradientInput } from '../explainers/sensitivity/gradient.js';
import type { MethodRun } from './run.js';
import {
  baselineOf,
  baselineOptions,
  checkBaseline,
  RELATIVE_STEP_OPTION,
  sensitivityInputs,
} from './sensitivity-options.js';
import type { MethodDescriptor } from './types.js';

/**
 * `gradient-input`: (x − b)|_p · ∇f(x) per player (x ⊙ ∇f with the zero baseline). Claims none
 * of the Shapley axioms (a first-order Taylor term; its gap is the Taylor residual).
 */
export const gradientInputMethod: MethodDescriptor<MethodRun> = {
  name: 'gradient-input',
  summary: 'gradient x input: (x - baseline) . df/dx per player (first-order Taylor term)',
  kind: 'model',
  options: [...baselineOptions(GRADIENT_INPUT_DEFAULTS.baseline), RELATIVE_STEP_OPTION],
  shared: ['inputs'],
  inputs: ['tabular'],
  background: 'required',
  claims: () => [],
  check: checkBaseline,
  run: {
    explainRows: (model, rows, req) =>
      gradientInput(model, rows, {
        ...sensitivityInputs(req),
        baseline: baselineOf(req.options),
        relativeStep: req.options.relativeStep as number | undefined,
      }),
  },
};
