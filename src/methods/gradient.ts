import { gradient } from '../explainers/sensitivity/gradient.js';
import type { MethodRun } from './run.js';
import { RELATIVE_STEP_OPTION, sensitivityInputs } from './sensitivity-options.js';
import type { MethodDescriptor } from './types.js';

/**
 * `gradient`: ∂f/∂x per column by central finite differences (2d + 1 model rows a row).
 * Claims none of the Shapley axioms (a slope, not a share of f(x) − v(∅)); refuses grouped
 * players (a one-hot group has no single derivative).
 */
export const gradientMethod: MethodDescriptor<MethodRun> = {
  name: 'gradient',
  summary: 'sensitivity analysis: df/dx per column by central finite differences (2d + 1 model rows a row)',
  kind: 'model',
  options: [RELATIVE_STEP_OPTION],
  shared: ['inputs'],
  inputs: ['tabular'],
  background: 'required',
  singleColumnPlayers: true,
  claims: () => [],
  run: {
    explainRows: (model, rows, req) =>
      gradient(model, rows, {
        ...sensitivityInputs(req),
        relativeStep: req.options.relativeStep as number | undefined,
      }),
  },
};
