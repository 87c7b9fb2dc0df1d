/**
 * whybox/testing — property-test attribution methods against the Shapley axioms, sanity-check
 * explanations of a model, and measure their faithfulness. Needs fast-check (a peer
 * dependency) for the arbitraries and properties.
 */

export type { CurveSet, CurveSvgOptions } from '../explanation/plots/faithfulness-curve.js';
export { faithfulnessCurveSvg } from '../explanation/plots/faithfulness-curve.js';
export type { GameCaseOptions, ModelCaseOptions, ValueStyle } from './arbitraries.js';
export {
  backgrounds,
  dummyGameCases,
  dummyModelCases,
  gameCases,
  gamePairs,
  groupings,
  instances,
  modelCases,
  modelPairs,
  modelSpecs,
  printable,
  symmetricGameCases,
  symmetricModelCases,
} from './arbitraries.js';
export type {
  AdditiveTerm,
  AttributionCase,
  GameCase,
  ModelCase,
  ModelKind,
  ModelSpecCase,
  TreeNode,
} from './cases.js';
export {
  caseTask,
  caseValue,
  closedForm,
  describeCase,
  evalModel,
  exactValues,
  outputsOf,
  playersOf,
  tableGame,
} from './cases.js';
export type {
  FaithfulnessCurves,
  FaithfulnessOptions,
  FaithfulnessResult,
  RowFaithfulness,
} from './faithfulness.js';
export { attributionOrder, curveAuc, evaluateFaithfulness } from './faithfulness.js';
export type {
  AttributeOptions,
  Attribution,
  AttributionMethod,
  AttributionTask,
  Claim,
  DefineMethodOptions,
  FromExplainOptions,
  ModelTask,
  ShapleyMethodName,
  ShapleyMethodOptions,
} from './method.js';
export { CLAIMS, defineMethod, fromExplain, registeredMethods, shapleyMethod } from './method.js';
export type { QualityOptions } from './model-tasks.js';
export type { ClaimProperty, ConvergenceOptions, PropertyOptions } from './properties.js';
export {
  assertClaims,
  attributeCase,
  caseScale,
  claimedProperties,
  claimProperty,
  convergenceProperty,
  dummyProperty,
  efficiencyProperty,
  exactnessProperty,
  linearityProperty,
  PropertyViolation,
  symmetryProperty,
} from './properties.js';
export { interventionalValue, permutationDefinitionShapley, referenceShapley } from './reference.js';
export type {
  DummyCheckOptions,
  DummyCheckResult,
  RandomizationCheckOptions,
  RandomizationCheckResult,
  SanityOptions,
  SanityReport,
  StabilityCheckOptions,
  StabilityCheckResult,
} from './sanity.js';
export {
  dummyCheck,
  randomizationCheck,
  randomizedModel,
  sanityChecks,
  spearman,
  stabilityCheck,
} from './sanity.js';
