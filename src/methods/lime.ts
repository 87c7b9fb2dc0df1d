import { isBackground } from '../data/rows.js';
import { InvalidOptionError } from '../errors.js';
import type { LimeSettings } from '../explainers/lime.js';
import { LIME_DEFAULTS, LIME_DISTANCES, lime } from '../explainers/lime.js';
import { FEATURE_SELECTIONS } from '../explainers/lime-fit.js';
import { LIME_DISCRETIZERS } from '../sampling/lime-sampler.js';
import type { MethodRun } from './run.js';
import type { MethodDescriptor, OptionSpec } from './types.js';

/** LIME's own options (also accepted grouped as `lime: {...}`, as before 0.2). */
const LIME_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'numSamples',
    kind: 'integer',
    min: 2,
    help: 'neighbours sampled per row',
    default: String(LIME_DEFAULTS.numSamples),
  },
  {
    name: 'numFeatures',
    kind: 'integer',
    min: 1,
    help: 'features in the local model',
    default: String(LIME_DEFAULTS.numFeatures),
  },
  {
    name: 'featureSelection',
    kind: 'enum',
    values: FEATURE_SELECTIONS,
    help: 'feature selection',
    default: LIME_DEFAULTS.featureSelection,
  },
  {
    name: 'discretizer',
    kind: 'enum',
    values: LIME_DISCRETIZERS,
    help: 'continuous features: quartile or decile bins, or none (Gaussian)',
    default: LIME_DEFAULTS.discretizer,
  },
  { name: 'kernelWidth', kind: 'number', positive: true, help: 'kernel width', default: '0.75 x sqrt(players)' },
  {
    name: 'distance',
    kind: 'enum',
    values: LIME_DISTANCES,
    help: 'distance of a sample to the instance',
    default: LIME_DEFAULTS.distance,
  },
  {
    name: 'categorical',
    kind: 'list',
    help: 'columns to treat as categorical, e.g. job,housing (groups always are)',
  },
  {
    name: 'sampleAroundInstance',
    kind: 'boolean',
    help: 'Gaussian sampling (discretizer none) centred on the instance',
    default: 'false',
  },
  { name: 'alpha', kind: 'number', min: 0, help: 'ridge penalty of the local model', default: '1' },
  { name: 'kernel', kind: 'function', help: 'sample weight from distance and kernel width' },
];

const NAMES = new Set(LIME_OPTIONS.map((o) => o.name));

/**
 * `lime`: local surrogate models (python lime's LimeTabularExplainer). The background rows
 * are its training data. Claims none of the Shapley axioms.
 */
export const limeMethod: MethodDescriptor<MethodRun> = {
  name: 'lime',
  summary: 'LIME local surrogates (weighted ridge on sampled neighbours); the background rows are its training data',
  kind: 'model',
  options: [
    ...LIME_OPTIONS,
    {
      name: 'lime',
      kind: 'object',
      help: "LIME's settings as one object (the same options as above)",
      flag: null,
      http: false,
    },
  ],
  shared: ['inputs', 'parallel'],
  inputs: ['tabular'],
  background: 'required',
  claims: () => [],
  insteadOf: {
    budget: 'LIME draws numSamples rows per explained row (CLI --num-samples)',
    topK: 'use numFeatures to limit the features',
    summarize: "LIME needs the training rows' statistics, not a summary",
    backgroundWeights: 'LIME weighs samples by its kernel',
  },
  serviceLimits: [
    {
      key: 'maxLimeSamples',
      default: 10000,
      help: "most neighbours per row for 'lime' (numSamples)",
      check: (limit, { options }) =>
        ((options.numSamples as number | undefined) ?? LIME_DEFAULTS.numSamples) > limit
          ? { field: 'numSamples', message: `numSamples is above this server's limit of ${limit}` }
          : undefined,
    },
  ],
  run: {
    explainRows: (model, rows, req) => {
      const settings = limeSettings(req.options);
      const bg = req.background;
      const training = isBackground(bg) ? { data: bg.data, nRows: bg.nRows } : bg;
      return lime(model, rows, {
        ...settings,
        training,
        groups: req.groups,
        players: req.players,
        seed: req.seed,
        firstRowIndex: req.firstRowIndex,
        batchRows: req.batchRows,
        threads: req.threads,
        pool: req.pool,
        concurrency: req.concurrency,
        minParallelMs: req.minParallelMs,
        signal: req.signal,
        onProgress: req.onProgress,
        onWarning: req.onWarning,
      });
    },
  },
};

/** The LIME settings of a request: the top-level options merged with a `lime: {...}` object. */
function limeSettings(options: Record<string, unknown>): LimeSettings {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) if (NAMES.has(k) && v !== undefined) out[k] = v;
  const grouped = options.lime as Record<string, unknown> | undefined;
  if (grouped !== undefined) {
    if (typeof grouped !== 'object' || grouped === null)
      throw new InvalidOptionError('lime', "an object of LIME's settings", grouped);
    for (const [k, v] of Object.entries(grouped)) {
      if (v === undefined) continue;
      if (!NAMES.has(k))
        throw new InvalidOptionError(`lime.${k}`, `one of ${[...NAMES].join(', ')}`, k, 'not a LIME setting');
      if (out[k] !== undefined)
        throw new InvalidOptionError(`lime.${k}`, `unset when ${k} is given at the top level`, v);
      out[k] = v;
    }
  }
  return out as LimeSettings;
}
