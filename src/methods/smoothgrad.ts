import { SMOOTHGRAD_DEFAULTS, smoothGrad } from '../explainers/sensitivity/gradient.js';
import type { MethodRun } from './run.js';
import { RELATIVE_STEP_OPTION, sensitivityInputs } from './sensitivity-options.js';
import type { MethodDescriptor } from './types.js';

/** `smoothgrad`: the gradient averaged over noisy copies of each row (seeded). Claims none of the Shapley axioms. */
export const smoothgradMethod: MethodDescriptor<MethodRun> = {
  name: 'smoothgrad',
  summary: 'SmoothGrad: the finite-difference gradient averaged over Gaussian-noised copies of each row',
  kind: 'model',
  options: [
    RELATIVE_STEP_OPTION,
    {
      name: 'noise',
      kind: 'number',
      min: 0,
      help: "noise sd as a fraction of each column's scale (background sd)",
      default: String(SMOOTHGRAD_DEFAULTS.noise),
    },
    {
      name: 'samples',
      kind: 'integer',
      min: 1,
      max: 100_000,
      help: 'noisy copies per row',
      default: String(SMOOTHGRAD_DEFAULTS.samples),
    },
  ],
  shared: ['inputs'],
  inputs: ['tabular'],
  background: 'required',
  singleColumnPlayers: true,
  claims: () => [],
  serviceLimits: [
    {
      key: 'maxSmoothgradSamples',
      default: 1000,
      help: "most noisy copies per row for 'smoothgrad' (samples)",
      check: (limit, { options }) => {
        const samples = (options.samples as number | undefined) ?? SMOOTHGRAD_DEFAULTS.samples;
        return samples > limit
          ? {
              field: 'samples',
              message: `samples ${samples}${options.samples === undefined ? ' (the default)' : ''} is above this server's limit of ${limit}`,
            }
          : undefined;
      },
    },
  ],
  run: {
    explainRows: (model, rows, req) =>
      smoothGrad(model, rows, {
        ...sensitivityInputs(req),
        relativeStep: req.options.relativeStep as number | undefined,
        noise: req.options.noise as number | undefined,
        samples: req.options.samples as number | undefined,
        seed: req.seed,
        firstRowIndex: req.firstRowIndex,
      }),
  },
};
