/**
 * What LIME's rows cost and return when they run in worker threads: plain data, so it
 * crosses threads. Types only (the pool, its workers and `lime.ts` import them).
 */
import type { Model } from '../models/model.js';
import type { LimeDiscretizer, LimeStats } from '../sampling/lime-sampler.js';
import type { FeatureSelection } from './lime-fit.js';

/** Distances between interpretable rows for LIME's kernel. */
export type LimeDistance = 'euclidean' | 'manhattan' | 'cosine';

/** LIME's own settings (also accepted by `explain(..., { method: 'lime', lime: {...} })`). */
export interface LimeSettings {
  /**
   * Continuous features: `'quartile'` / `'decile'` bins resampled as python `lime` does, or
   * `'none'` for Gaussian sampling with the training mean and std.
   * @defaultValue 'quartile' (lime's default `discretize_continuous=True`)
   */
  discretizer?: LimeDiscretizer;
  /**
   * Single columns to treat as categorical (names or indices): resampled from their
   * training frequencies, reported as `name = value`. Groups are always categorical.
   * @defaultValue none
   */
  categorical?: readonly (string | number)[];
  /** Gaussian sampling (`discretizer: 'none'`) centred on the instance instead of the training mean. @defaultValue false */
  sampleAroundInstance?: boolean;
  /** Neighbourhood size per explained row (the instance itself is sample 0). @defaultValue 5000 */
  numSamples?: number;
  /** Features in the local model. @defaultValue 10 */
  numFeatures?: number;
  /** @defaultValue 'auto' (forward selection when min(numFeatures, players) ≤ 6, else highest weights) */
  featureSelection?: FeatureSelection;
  /** Width of the exponential kernel. @defaultValue 0.75 · √players */
  kernelWidth?: number;
  /** Distance between a sample's interpretable (scaled) row and the instance's. @defaultValue 'euclidean' */
  distance?: LimeDistance;
  /**
   * Sample weight from distance. @defaultValue lime's `sqrt(exp(-d² / width²))`
   * (= exp(−d² / (2 width²)))
   */
  kernel?: (distance: number, kernelWidth: number) => number;
  /** Ridge penalty of the local model (sklearn `Ridge(alpha=1)` in lime). @defaultValue 1 */
  alpha?: number;
}

/** LIME rows for a worker: the training statistics, the settings and the rows with their streams. */
export interface LimeWorkerJob {
  readonly stats: LimeStats;
  /** The caller's settings (no custom `kernel` function: those runs stay on one thread). */
  readonly settings: Omit<LimeSettings, 'kernel'>;
  readonly nPlayers: number;
  /** The rows, `count × nColumns`. */
  readonly x: Float64Array;
  /** Each row's random stream (`Rng.state()`). */
  readonly rngStates: readonly number[][];
}

/** One explained row of LIME. */
export interface LimeRowResult {
  /** f(x) per output. */
  readonly prediction: Float64Array;
  readonly intercept: Float64Array;
  readonly localPrediction: Float64Array;
  /** Weighted R² per output. */
  readonly score: Float64Array;
  /** `features × outputs` (0 where a feature was not selected). */
  readonly values: Float64Array;
  /** Per output, the selected features, largest |value| first. */
  readonly selected: number[][];
  readonly modelSeconds: number;
}

/** Something that runs LIME rows in worker threads (a `WorkerPool`). */
export interface LimeRowsProvider {
  readonly threads: number;
  limeRows(
    model: Model,
    job: LimeWorkerJob,
    options: { batchRows: number; signal?: AbortSignal },
  ): Promise<LimeRowResult[]>;
}
