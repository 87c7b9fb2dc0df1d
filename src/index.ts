/**
 * whybox — model-agnostic Shapley explanations for black-box models, from Node.js.
 * Public API: every export is named and listed here.
 */

// batches (streamed files, queues)
export type { JsonlBedGraphOptions, JsonlBedGraphResult } from './batch/bedgraph-export.js';
export { writeBedGraphFromJsonl } from './batch/bedgraph-export.js';
export type { BatchCredit, BatchLine, ChunkResult } from './batch/chunk.js';
export type { BatchProgress, BatchSource, ExplainBatchOptions } from './batch/explain-batch.js';
export { explainBatch } from './batch/explain-batch.js';
export type { JsonlScan } from './batch/jsonl.js';
export { mergeJsonl, scanJsonl } from './batch/jsonl.js';
export type { JsonlNpzOptions, JsonlNpzResult } from './batch/npz-export.js';
export { writeModiscoFromJsonl } from './batch/npz-export.js';
export type { BatchWorker, BatchWorkerOptions, ProduceOptions, QueueUrl, WorkerShare } from './batch/queue.js';
export { createBatchWorker, DEFAULT_MAX_BLOB_MB, parseQueueUrl, produceBatch, QUEUE_NAME } from './batch/queue.js';
export type { SequenceReader, SequenceReaderOptions } from './batch/source.js';
export { registerSequenceReader, sequenceReaders } from './batch/source.js';
export type { BatchModelRef, BatchSpec } from './batch/spec.js';
export { backgroundToJSON, batchOptionsFromSpec } from './batch/spec.js';
export type { CsvOptions } from './data/csv.js';
export { loadCsv, parseCsv } from './data/csv.js';
// data
export type { Dataset, DatasetSource } from './data/dataset.js';
export { createDataset, rowView, selectRows, sliceRows } from './data/dataset.js';
export type { EncodeOptions, RawCsvOptions, RawRecord, RawTable, RawValue } from './data/encoder.js';
export { decodeRows, decodeValue, encodeRecords, loadRawCsv, parseRawCsv } from './data/encoder.js';
export type { Hierarchy, NestedPlayers } from './data/hierarchy.js';
export { balancedHierarchy, flatHierarchy, hierarchyFromNested } from './data/hierarchy.js';
export type { GroupSpec, Players } from './data/players.js';
export { definePlayers, parseGroupsJson, playersFromIndices } from './data/players.js';
export type {
  Attribute,
  AttributeFile,
  CategoricalAttribute,
  EncodePolicy,
  NumericAttribute,
  Schema,
  SchemaFile,
} from './data/schema.js';
export {
  DEFAULT_POLICY,
  loadSchema,
  parseSchema,
  schemaAttribute,
  schemaGroups,
  schemaPlayers,
} from './data/schema.js';
export type {
  Alphabet,
  FitLengthOptions,
  FittedSequences,
  LengthAlign,
  LengthPolicy,
  OneHotOptions,
  OneHotRows,
  ParseSequencesOptions,
  SequenceFormat,
  SequenceLayout,
  SequenceRecord,
  SequenceSet,
} from './data/sequences.js';
export {
  collectSequences,
  DNA,
  detectLayout,
  fitLengths,
  loadSequences,
  oneHot,
  PROTEIN,
  parseSequences,
  RNA,
  readSequenceRecords,
  resolveAlphabet,
  sequenceColumns,
} from './data/sequences.js';
export { closeSharedWorkers, MIN_PARALLEL_MS, prestartWorkers } from './engine/scheduler.js';
// errors
export type { DataLocation, WhyboxErrorCode } from './errors.js';
export {
  AbortedError,
  BudgetError,
  DataError,
  InvalidOptionError,
  MissingDependencyError,
  ModelError,
  QueueError,
  ShapeError,
  WhyboxError,
  WorkerError,
} from './errors.js';
export { decomposedPermutationShap } from './estimators/decomposed-permutation.js';
export type { EstimatorContext, ShapleyEstimate } from './estimators/estimate.js';
export { exactShapley, MAX_EXACT_PLAYERS } from './estimators/exact.js';
export type { KernelShapOptions, KernelVariant } from './estimators/kernel.js';
export { defaultBudget, KERNEL_VARIANTS, kernelShap } from './estimators/kernel.js';
export type { PartitionShapOptions } from './estimators/partition.js';
export { partitionShap } from './estimators/partition.js';
export type { PermutationShapOptions } from './estimators/permutation.js';
export { permutationShap } from './estimators/permutation.js';
export type { TreeShapContext, TreeShapOptions, TreeShapResult } from './estimators/tree-shap.js';
export { prepareTreeShap, TREE_SHAP_DEFAULTS, treeShap, treeShapRow, treeShapRows } from './estimators/tree-shap.js';
// explanations
export type { EvaluatorProvider, ExplainOptions, ExplainProgress, RowsInput } from './explain.js';
export { checkMethodOptions, explain } from './explain.js';
export type {
  ExplainSequencesOptions,
  SequenceExplanation,
  SequenceInfo,
  SequenceMethod,
  SequencePlayers,
  SequenceReference,
} from './explain-sequences.js';
export { checkSequencePlayers, explainSequences } from './explain-sequences.js';
export type { ExplainerCallOptions, ExplainerOptions, ExplainerPrediction, ExplainerRows } from './explainer.js';
export { createExplainer, Explainer } from './explainer.js';
export type { IsmOptions, IsmResult, OneHotInput } from './explainers/ism.js';
export { inSilicoMutagenesis } from './explainers/ism.js';
export type { LimeDistance, LimeOptions, LimeRows, LimeSettings } from './explainers/lime.js';
export { LIME_DEFAULTS, LIME_DISTANCES, lime } from './explainers/lime.js';
export type { FeatureSelection } from './explainers/lime-fit.js';
export { FEATURE_SELECTIONS } from './explainers/lime-fit.js';
export type {
  Counterfactual,
  RecourseChange,
  RecourseOptions,
  RecourseReport,
  RowRecourse,
} from './explainers/recourse.js';
export { RECOURSE_DEFAULTS, recourse, recourseViolations } from './explainers/recourse.js';
// local sensitivity methods (finite differences over any model)
export type {
  BaselineSpec,
  GradientInputOptions,
  GradientOptions,
  IntegratedGradientsOptions,
  IntegrationRule,
  OcclusionOptions,
  SensitivityRows,
  SmoothGradOptions,
} from './explainers/sensitivity/index.js';
export {
  gradient,
  gradientInput,
  integratedGradients,
  occlusion,
  smoothGrad,
} from './explainers/sensitivity/index.js';
export type {
  SurrogateFidelity,
  SurrogateRows,
  SurrogateRule,
  SurrogateTree,
  SurrogateTreeOptions,
} from './explainers/surrogate-tree.js';
export {
  AUTO_MAX_DEPTH,
  FIDELITY_THRESHOLDS,
  fidelityWarning,
  surrogateImportance,
  surrogateRules,
  surrogateRulesText,
  surrogateToJSON,
  surrogateTree,
} from './explainers/surrogate-tree.js';
export type {
  CertifiedReasons,
  CertifyOptions,
  CertifySettings,
  ExplainReasonsOptions,
  RowCertification,
} from './explanation/certify.js';
export {
  CERTIFY_MAX_FACTOR,
  CERTIFY_Z,
  certifiedRowJSON,
  certifyReasons,
  explainReasons,
} from './explanation/certify.js';
export type {
  Explanation,
  ExplanationJSON,
  ExplanationMeta,
  ExplanationMetaJSON,
  ExplanationParts,
  LimeDetails,
  Method,
} from './explanation/explanation.js';
export {
  createExplanation,
  efficiencyGap,
  explanationFromJSON,
  explanationToJSON,
  valueAt,
} from './explanation/explanation.js';
export type { GlobalImportance } from './explanation/importance.js';
export { globalImportance } from './explanation/importance.js';
export type { NpyArray, NpzFileOptions, NpzOptions, NpzStreamMember } from './explanation/npz.js';
export { npyBytes, npyHeader, npzBytes, writeNpzFile } from './explanation/npz.js';
export type { CreditHtmlOptions } from './explanation/plots/credit-report.js';
export { formatCreditHtml } from './explanation/plots/credit-report.js';
export * from './explanation/plots/index.js';
export { renderSvg } from './explanation/plots/render.js';
export type { LogoData, LogoOptions } from './explanation/plots/sequence-logo.js';
export { positionTrackSvg, sequenceLogoSvg } from './explanation/plots/sequence-logo.js';
export type { VegaLiteSpec, WaterfallBar, WaterfallOptions } from './explanation/plots/specs.js';
export { importanceSpec, waterfallBars, waterfallSpec } from './explanation/plots/specs.js';
export type {
  AdverseDirection,
  AuditRecord,
  Decision,
  ExplanationWithReasonsJSON,
  Reason,
  ReasonOptions,
  ReasonReport,
  ReasonTemplateEntry,
  ReasonTemplates,
  ReasonTemplatesFile,
} from './explanation/reasons.js';
export {
  backgroundBaselines,
  categoryLabel,
  loadReasonTemplates,
  parseReasonTemplates,
  REASON_TOLERANCE,
  reasonCodes,
  reasonsToJSON,
  sha256File,
} from './explanation/reasons.js';
export type { Seqlet, SeqletOptions, TrackSeqlet } from './explanation/seqlets.js';
export { findSeqlets, seqletsFromTracks, seqletsToTsv, shuffledCopies } from './explanation/seqlets.js';
export type {
  BedGraphOptions,
  GenomicInterval,
  ModiscoArrays,
  ModiscoWriterOptions,
} from './explanation/sequence-export.js';
export {
  bedGraph,
  fillModiscoRow,
  ModiscoWriter,
  modiscoArrays,
  modiscoFiles,
  parseInterval,
  writeModiscoFiles,
} from './explanation/sequence-export.js';
export type { Segment, SequenceExplanationJSON, SequenceReportOptions } from './explanation/sequence-report.js';
export {
  formatSequenceHtml,
  formatSequenceText,
  sequenceExplanationToJSON,
  topSegments,
} from './explanation/sequence-report.js';
// games and estimators (for custom value functions)
export type { Game, GameCost, Progress } from './games/game.js';
export { functionGame } from './games/game.js';
// the method registry
export type { Claim } from './methods/claims.js';
export { CLAIMS } from './methods/claims.js';
export type { RegisteredMethod } from './methods/registry.js';
export { DEFAULT_METHOD, getMethod, METHODS, methodNames } from './methods/registry.js';
export type { MethodRun, ModelRequest } from './methods/run.js';
export type { InputKind, MethodDescriptor, OptionKind, OptionSpec, SharedGroup } from './methods/types.js';
export type { BatchFunction, FunctionModelOptions, RowFunction } from './models/function-model.js';
export { fromFunction, fromModule } from './models/function-model.js';
// models
export type { InputType, Link, Model, ModelSpec, Rows } from './models/model.js';
export { selectOutputs } from './models/model.js';
export type { OnnxModel, OnnxModelOptions, OnnxTensorInfo } from './models/onnx-model.js';
export { loadOnnx } from './models/onnx-model.js';
export type { PostTransform, TreeEnsemble, TreeMode } from './models/tree-ensemble.js';
export { predictMargin, readTreeEnsemble, TREE_MODES } from './models/tree-ensemble.js';
export type { FitTreeOptions, Tree, TreeTask } from './numerics/cart.js';
export { fitTree, TREE_DEFAULTS, treeLeaves, treePredict, treeShape } from './numerics/cart.js';
export type { PruningStep } from './numerics/tree-pruning.js';
export { pruneTree, pruningPath } from './numerics/tree-pruning.js';
export type { OptionalPart } from './optional-deps.js';
export { INSTALL_COMMANDS, OPTIONAL_PACKAGES } from './optional-deps.js';
// parallel
export type { WorkerPoolOptions } from './parallel/pool.js';
export { createWorkerPool, WorkerPool } from './parallel/pool.js';
// sampling
export type { Background, SummarizeOptions } from './sampling/background.js';
export { createBackground, SUMMARY_SEED, summarizeBackground, summarizeSeeded } from './sampling/background.js';
export { dinucleotideCounts, dinucleotideShuffle } from './sampling/dinucleotide-shuffle.js';
export type { LimeDiscretizer } from './sampling/lime-sampler.js';
export { LIME_DISCRETIZERS } from './sampling/lime-sampler.js';
export { Rng } from './sampling/rng.js';
export { VERSION } from './version.js';
