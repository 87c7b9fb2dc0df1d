import { InvalidOptionError } from '../errors.js';
import type { LimeSettings } from '../estimators/lime.js';
import { LIME_DISTANCES } from '../estimators/lime.js';
import type { FeatureSelection } from '../estimators/lime-fit.js';
import { FEATURE_SELECTIONS } from '../estimators/lime-fit.js';
import type { LimeDiscretizer } from '../sampling/lime-sampler.js';
import { LIME_DISCRETIZERS } from '../sampling/lime-sampler.js';
import { int } from './args.js';

/** `whybox explain` flags of method lime (parsed by main.ts with the other explain flags). */
export const LIME_FLAGS = {
  'num-samples': { type: 'string' },
  'num-features': { type: 'string' },
  'feature-selection': { type: 'string' },
  discretizer: { type: 'string' },
  'kernel-width': { type: 'string' },
  distance: { type: 'string' },
  categorical: { type: 'string' },
} as const;

/** Lines of `whybox explain --help` for the LIME flags. */
export const LIME_USAGE = `
LIME (--method lime; the --background rows are the training data):
  --num-samples N          neighbours sampled per row (default 5000)
  --num-features K         features in the local model (default 10)
  --feature-selection F    ${FEATURE_SELECTIONS.join(' | ')} (default auto)
  --discretizer D          ${LIME_DISCRETIZERS.join(' | ')} (default quartile; none = Gaussian)
  --kernel-width W         kernel width (default 0.75 x sqrt(players))
  --distance D             ${LIME_DISTANCES.join(' | ')} (default euclidean)
  --categorical LIST       columns to treat as categorical, e.g. job,housing (groups always are)
`;

type LimeFlags = { [K in keyof typeof LIME_FLAGS]?: string };

/**
 * LIME settings from CLI flags; `undefined` when no LIME flag is set.
 * @throws {InvalidOptionError} naming the flag, for a bad value or a LIME flag with another method.
 */
export function limeSettingsFromFlags(flags: LimeFlags, method: string): LimeSettings | undefined {
  const given = (Object.keys(LIME_FLAGS) as (keyof typeof LIME_FLAGS)[]).filter((k) => flags[k] !== undefined);
  if (given.length === 0) return undefined;
  if (method !== 'lime') throw new InvalidOptionError(`--${given[0]}`, 'used with --method lime only', flags[given[0]]);
  const s: LimeSettings = {};
  if (flags['num-samples'] !== undefined) s.numSamples = int(flags['num-samples'], '--num-samples', 2);
  if (flags['num-features'] !== undefined) s.numFeatures = int(flags['num-features'], '--num-features', 1);
  if (flags['feature-selection'] !== undefined) {
    const f = flags['feature-selection'];
    if (!FEATURE_SELECTIONS.includes(f as FeatureSelection))
      throw new InvalidOptionError('--feature-selection', FEATURE_SELECTIONS.join(', '), f);
    s.featureSelection = f as FeatureSelection;
  }
  if (flags.discretizer !== undefined) {
    if (!LIME_DISCRETIZERS.includes(flags.discretizer as LimeDiscretizer))
      throw new InvalidOptionError('--discretizer', LIME_DISCRETIZERS.join(', '), flags.discretizer);
    s.discretizer = flags.discretizer as LimeDiscretizer;
  }
  if (flags['kernel-width'] !== undefined) {
    const w = Number(flags['kernel-width']);
    if (!Number.isFinite(w) || w <= 0)
      throw new InvalidOptionError('--kernel-width', 'a number > 0', flags['kernel-width']);
    s.kernelWidth = w;
  }
  if (flags.distance !== undefined) {
    if (!LIME_DISTANCES.includes(flags.distance as never))
      throw new InvalidOptionError('--distance', LIME_DISTANCES.join(', '), flags.distance);
    s.distance = flags.distance as LimeSettings['distance'];
  }
  if (flags.categorical !== undefined)
    s.categorical = flags.categorical
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== '');
  return s;
}
