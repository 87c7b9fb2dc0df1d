import { InvalidOptionError } from '../errors.js';
import { explainTree } from '../explainers/tree.js';
import { CLAIMS } from './claims.js';
import type { MethodRun } from './run.js';
import type { MethodDescriptor } from './types.js';

/**
 * `tree`: interventional TreeSHAP of an ONNX tree ensemble (ai.onnx.ml TreeEnsembleRegressor /
 * TreeEnsembleClassifier / TreeEnsemble) read out of the model's graph; exact Shapley values
 * of the ensemble's margins against the background.
 */
export const treeMethod: MethodDescriptor<MethodRun> = {
  name: 'tree',
  summary: "exact interventional TreeSHAP of an ONNX tree ensemble's margins (GBDTs, random forests), in milliseconds",
  kind: 'model',
  options: [],
  shared: ['inputs', 'interventional'],
  inputs: ['tabular'],
  background: 'required',
  requires: 'an ONNX model whose graph is an ai.onnx.ml tree ensemble (loadOnnx)',
  claims: () => CLAIMS,
  insteadOf: {
    budget: 'TreeSHAP is exact: it walks the trees instead of sampling coalitions',
    threads: 'TreeSHAP never runs the model; it walks the trees on the main thread in milliseconds',
  },
  check: (options) => {
    if (options.dedupe !== undefined)
      throw new InvalidOptionError(
        'dedupe',
        "unset for method 'tree'",
        options.dedupe,
        'TreeSHAP never sends masked rows to the model, so there is nothing to deduplicate',
      );
  },
  run: {
    explainRows: (model, rows, req) =>
      explainTree(model, rows, {
        background: req.background,
        groups: req.groups,
        players: req.players,
        seed: req.seed,
        signal: req.signal,
        onProgress: req.onProgress,
      }),
  },
};
