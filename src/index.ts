/**
 * whybox — model-agnostic Shapley explanations for black-box models, from Node.js.
 * Public API: every export is named and listed here.
 */

export type { CsvOptions } from './data/csv.js';
export { loadCsv, parseCsv } from './data/csv.js';
// data
export type { Dataset, DatasetSource } from './data/dataset.js';
export { createDataset, rowView, selectRows, sliceRows } from './data/dataset.js';
export type { GroupSpec, Players } from './data/players.js';
export { definePlayers, parseGroupsJson, playersFromIndices } from './data/players.js';

// errors
export type { DataLocation, WhyboxErrorCode } from './errors.js';
export {
  AbortedError,
  BudgetError,
  DataError,
  InvalidOptionError,
  ModelError,
  ShapeError,
  WhyboxError,
  WorkerError,
} from './errors.js';
export type { FitTreeOptions, Tree, TreeTask } from './estimators/cart.js';
export { fitTree, TREE_DEFAULTS, treeLeaves, treePredict, treeShape } from './estimators/cart.js';
export type { EstimatorContext, ShapleyEstimate } from './estimators/estimate.js';
export { exactShapley, MAX_EXACT_PLAYERS } from './estimators/exact.js';
export type { KernelShapOptions, KernelVariant } from './estimators/kernel.js';
export { defaultBudget, KERNEL_VARIANTS, kernelShap } from './estimators/kernel.js';
export type { LimeDistance, LimeOptions, LimeRows, LimeSettings } from './estimators/lime.js';
export { LIME_DEFAULTS, LIME_DISTANCES, lime } from './estimators/lime.js';
export type { FeatureSelection } from './estimators/lime-fit.js';
export { FEATURE_SELECTIONS } from './estimators/lime-fit.js';
export type { PermutationShapOptions } from './estimators/permutation.js';
export { permutationShap } from './estimators/permutation.js';
export type {
  SurrogateFidelity,
  SurrogateRows,
  SurrogateRule,
  SurrogateTree,
  SurrogateTreeOptions,
} from './estimators/surrogate-tree.js';
export {
  surrogateImportance,
  surrogateRules,
  surrogateRulesText,
  surrogateToJSON,
  surrogateTree,
} from './estimators/surrogate-tree.js';
// explanations
export type { EvaluatorProvider, ExplainOptions, ExplainProgress, RowsInput } from './explain.js';
export { explain } from './explain.js';
export type {
  Explanation,
  ExplanationJSON,
  ExplanationMeta,
  LimeDetails,
  Method,
} from './explanation/explanation.js';
export { efficiencyGap, explanationToJSON, valueAt } from './explanation/explanation.js';
// games and estimators (for custom value functions)
export type { Game, GameCost, Progress } from './games/game.js';
export { functionGame } from './games/game.js';
export type { BatchFunction, FunctionModelOptions, RowFunction } from './models/function-model.js';
export { fromFunction, fromModule } from './models/function-model.js';
// models
export type { InputType, Link, Model, ModelSpec, Rows } from './models/model.js';
export { selectOutputs } from './models/model.js';
export type { OnnxModel, OnnxModelOptions, OnnxTensorInfo } from './models/onnx-model.js';
export { loadOnnx } from './models/onnx-model.js';
// parallel
export type { WorkerPoolOptions } from './parallel/pool.js';
export { createWorkerPool, WorkerPool } from './parallel/pool.js';
// sampling
export type { Background, SummarizeOptions } from './sampling/background.js';
export { createBackground, summarizeBackground } from './sampling/background.js';
export type { LimeDiscretizer } from './sampling/lime-sampler.js';
export { LIME_DISCRETIZERS } from './sampling/lime-sampler.js';
export { Rng } from './sampling/rng.js';

export { VERSION } from './version.js';
