/**
 * Local sensitivity methods over a black-box model (finite differences, batched):
 * gradient, gradient × input, SmoothGrad, integrated gradients and occlusion.
 */
export type { BaselineSpec, Baselines } from './baseline.js';
export { resolveBaseline } from './baseline.js';
export type { SensitivityInputOptions, SensitivityRow, SensitivityRows } from './common.js';
export type { Directions, FiniteDifferenceOptions, Predictor } from './finite-difference.js';
export {
  centralGradients,
  columnScales,
  directionalDerivatives,
  FINITE_DIFFERENCE_DEFAULTS,
  modelPredictor,
  playerDirections,
  stepSizes,
} from './finite-difference.js';
export type { GradientInputOptions, GradientOptions, SmoothGradOptions } from './gradient.js';
export {
  GRADIENT_DEFAULTS,
  GRADIENT_INPUT_DEFAULTS,
  gradient,
  gradientAt,
  gradientInput,
  gradientInputAt,
  SMOOTHGRAD_DEFAULTS,
  smoothGrad,
  smoothGradAt,
} from './gradient.js';
export type {
  IntegratedGradientsOptions,
  IntegratedGradientsSettings,
  IntegrationRule,
} from './integrated-gradients.js';
export {
  INTEGRATED_GRADIENTS_DEFAULTS,
  INTEGRATION_RULES,
  integratedGradients,
  integratedGradientsAt,
  pathRule,
} from './integrated-gradients.js';
export type { OcclusionOptions } from './occlusion.js';
export { OCCLUSION_DEFAULTS, occlusion, occlusionAt, occlusionWindows } from './occlusion.js';
export type { OccludeSequencesOptions, OcclusionTrack, OneHotSequences } from './sequences.js';
export { OCCLUDE_SEQUENCES_DEFAULTS, occludeSequences, positionPlayers } from './sequences.js';
