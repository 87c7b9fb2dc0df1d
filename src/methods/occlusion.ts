import { OCCLUSION_DEFAULTS, occlusion } from '../explainers/sensitivity/occlusion.js';
import type { MethodRun } from './run.js';
import {
  baselineClaims,
  baselineOf,
  baselineOptions,
  checkBaseline,
  sensitivityInputs,
} from './sensitivity-options.js';
import type { MethodDescriptor } from './types.js';

/**
 * `occlusion`: the output drop when a player (or a window of consecutive players) is set to
 * the baseline. With window 1: leave-one-out, so dummy, linearity and (symmetric baseline)
 * symmetry; never efficiency.
 */
export const occlusionMethod: MethodDescriptor<MethodRun> = {
  name: 'occlusion',
  summary: 'occlusion: output drop when a player, or a sliding window of players, is set to the baseline',
  kind: 'model',
  options: [
    ...baselineOptions(OCCLUSION_DEFAULTS.baseline),
    {
      name: 'window',
      kind: 'integer',
      min: 1,
      help: 'consecutive players occluded together',
      default: String(OCCLUSION_DEFAULTS.window),
    },
    {
      name: 'stride',
      kind: 'integer',
      min: 1,
      help: 'players between window starts (at most the window)',
      default: String(OCCLUSION_DEFAULTS.stride),
    },
  ],
  shared: ['inputs'],
  inputs: ['tabular'],
  background: 'required',
  claims: (options) =>
    ((options.window as number | undefined) ?? OCCLUSION_DEFAULTS.window) === 1
      ? baselineClaims(options, OCCLUSION_DEFAULTS.baseline)
      : [],
  check: checkBaseline,
  run: {
    explainRows: (model, rows, req) =>
      occlusion(model, rows, {
        ...sensitivityInputs(req),
        baseline: baselineOf(req.options),
        window: req.options.window as number | undefined,
        stride: req.options.stride as number | undefined,
      }),
  },
};
