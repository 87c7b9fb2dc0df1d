import { inSilicoMutagenesis } from '../explainers/ism.js';
import type { MethodRun } from './run.js';
import type { MethodDescriptor } from './types.js';

/** `ism`: in-silico mutagenesis of one-hot sequences ((A − 1)·L mutants per sequence). */
export const ismMethod: MethodDescriptor<MethodRun> = {
  name: 'ism',
  summary: 'in-silico mutagenesis: every position × letter substituted ((A-1) x L mutants per sequence)',
  kind: 'model',
  options: [],
  shared: [],
  inputs: ['sequences'],
  background: 'none',
  claims: () => [],
  run: {
    explainOneHot: (model, x, req) =>
      inSilicoMutagenesis(model, x, { batchRows: req.batchRows, signal: req.signal, onProgress: req.onProgress }),
  },
};
