import {
  INTEGRATED_GRADIENTS_DEFAULTS,
  INTEGRATION_RULES,
  type IntegrationRule,
  integratedGradients,
} from '../explainers/sensitivity/integrated-gradients.js';
import { GAUSS_LEGENDRE_MAX_NODES } from '../numerics/gauss-legendre.js';
import type { Claim } from './claims.js';
import type { MethodRun } from './run.js';
import {
  baselineClaims,
  baselineOf,
  baselineOptions,
  checkBaseline,
  RELATIVE_STEP_OPTION,
  sensitivityInputs,
} from './sensitivity-options.js';
import type { MethodDescriptor } from './types.js';

/**
 * `integrated-gradients`: the gradient integrated along the straight path from a baseline.
 * Claims dummy and linearity, symmetry with a symmetric baseline (mean, every background
 * row, zeros), and efficiency with `baseline: 'background'` (completeness against the
 * weighted background is Σφ = v(N) − v(∅)) — for differentiable models and up to the
 * quadrature and finite-difference error (see the README).
 */
export const integratedGradientsMethod: MethodDescriptor<MethodRun> = {
  name: 'integrated-gradients',
  summary:
    'integrated gradients along the straight path from a baseline (finite differences, Gauss-Legendre or Riemann)',
  kind: 'model',
  options: [
    ...baselineOptions(INTEGRATED_GRADIENTS_DEFAULTS.baseline),
    {
      name: 'steps',
      kind: 'integer',
      min: 1,
      max: GAUSS_LEGENDRE_MAX_NODES,
      help: 'points on the path',
      default: String(INTEGRATED_GRADIENTS_DEFAULTS.steps),
    },
    {
      name: 'rule',
      kind: 'enum',
      values: INTEGRATION_RULES,
      help: 'quadrature rule over the path',
      default: INTEGRATED_GRADIENTS_DEFAULTS.rule,
    },
    {
      name: 'tolerance',
      kind: 'number',
      positive: true,
      help: 'integrated-gradients: double the steps until |completeness gap| <= tolerance',
    },
    {
      name: 'maxSteps',
      kind: 'integer',
      min: 1,
      max: GAUSS_LEGENDRE_MAX_NODES,
      help: 'integrated-gradients with tolerance: most steps',
      default: String(INTEGRATED_GRADIENTS_DEFAULTS.maxSteps),
    },
    RELATIVE_STEP_OPTION,
  ],
  shared: ['inputs'],
  inputs: ['tabular'],
  background: 'required',
  claims(options) {
    const claims: Claim[] = baselineClaims(options, INTEGRATED_GRADIENTS_DEFAULTS.baseline);
    return options.baseline === 'background' ? ['efficiency', ...claims] : claims;
  },
  check: checkBaseline,
  serviceLimits: [
    {
      key: 'maxIgSteps',
      default: INTEGRATED_GRADIENTS_DEFAULTS.maxSteps,
      help: "most points on the path for 'integrated-gradients' (steps; maxSteps with tolerance)",
      check: (limit, { options }) => {
        const steps = (options.steps as number | undefined) ?? INTEGRATED_GRADIENTS_DEFAULTS.steps;
        if (steps > limit)
          return {
            field: 'steps',
            message: `steps ${steps}${options.steps === undefined ? ' (the default)' : ''} is above this server's limit of ${limit}`,
          };
        if (options.tolerance === undefined) return undefined;
        // with tolerance the steps double up to maxSteps: the most the request may cost
        const most = (options.maxSteps as number | undefined) ?? INTEGRATED_GRADIENTS_DEFAULTS.maxSteps;
        return most > limit
          ? {
              field: 'maxSteps',
              message: `maxSteps ${most}${options.maxSteps === undefined ? ' (the default with tolerance)' : ''} is above this server's limit of ${limit}; pass maxSteps <= ${limit}`,
            }
          : undefined;
      },
    },
  ],
  run: {
    explainRows: (model, rows, req) =>
      integratedGradients(model, rows, {
        ...sensitivityInputs(req),
        baseline: baselineOf(req.options),
        steps: req.options.steps as number | undefined,
        rule: req.options.rule as IntegrationRule | undefined,
        tolerance: req.options.tolerance as number | undefined,
        maxSteps: req.options.maxSteps as number | undefined,
        relativeStep: req.options.relativeStep as number | undefined,
      }),
  },
};
