import type { Progress } from '../games/game.js';
import type { Rng } from '../sampling/rng.js';

/** Shapley values of one game (one explained row) and what they cost. */
export interface ShapleyEstimate {
  /** `nPlayers × nOutputs`, row-major. */
  readonly values: Float64Array;
  /** Standard error per value (`nPlayers × nOutputs`), when the method estimates one. */
  readonly stderr?: Float64Array;
  /** v(∅) per output. */
  readonly baseValue: Float64Array;
  /** v(N) per output. */
  readonly fullValue: Float64Array;
  /** Coalition values computed for this game. */
  readonly evaluations: number;
  /** True when the values are exact (every coalition was used). */
  readonly exact: boolean;
  /** For `budget: 'auto'`: whether the stopping rule was met before the cap. */
  readonly converged?: boolean;
  /** The variant that produced the estimate (kernel family). */
  readonly variant?: string;
}

/** What every estimator receives besides the game and its own options. */
export interface EstimatorContext {
  /** The row's random stream (unused by exact methods). */
  readonly rng: Rng;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
  /**
   * Sampled designs shared by the rows of one explanation (the decomposed Kernel SHAP draws
   * them from `seed`, so each is sampled and factorised once per explanation).
   */
  readonly designs?: { readonly seed: number; readonly shapes: Map<string, unknown> };
}

/**
 * Max over outputs of (max standard error) / (max value − min value): the convergence
 * ratio of Covert & Lee (2021). 0 when every standard error is 0.
 */
export function convergenceRatio(values: Float64Array, stderr: Float64Array, n: number, nOut: number): number {
  let worst = 0;
  for (let o = 0; o < nOut; o++) {
    let maxSe = 0;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      maxSe = Math.max(maxSe, stderr[i * nOut + o]);
      lo = Math.min(lo, values[i * nOut + o]);
      hi = Math.max(hi, values[i * nOut + o]);
    }
    if (maxSe === 0) continue;
    worst = Math.max(worst, hi > lo ? maxSe / (hi - lo) : Number.POSITIVE_INFINITY);
  }
  return worst;
}
