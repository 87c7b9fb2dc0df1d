/**
 * The tasks the worker pool sends to its threads (`worker.ts`) and what they return: plain
 * data and typed arrays only. Types only — the pool and its workers both import them.
 */
import type { LimeRowResult, LimeWorkerJob } from '../explainers/lime-types.js';
import type { UnitRequest } from '../games/evaluator.js';
import type { ModelSpec } from '../models/model.js';
import type { MaskedRowsJob, MaskingLayout } from '../sampling/masking.js';

/** Some masked rows to evaluate, in chunks of `batchRows` (one model call each). */
export interface EvaluateTask {
  readonly specId: string;
  readonly spec: ModelSpec;
  readonly overrides: Record<string, unknown>;
  readonly layout: MaskingLayout;
  /** Background rows in the model's input type, on a SharedArrayBuffer. */
  readonly background: Float32Array | Float64Array;
  readonly x: Float64Array;
  /** The rows: explicit (this task's rows, transferred) or a whole enumeration descriptor. */
  readonly job: MaskedRowsJob;
  /** This task's rows: `start .. start + nRows − 1` of `job`. */
  readonly start: number;
  readonly nRows: number;
  readonly batchRows: number;
  /** Shared abort flag: `[0] !== 0` stops the task between chunks (and rows, for row models). */
  readonly control?: Int32Array;
}

/** Plain rows to predict (the explained row, the background), in chunks of `batchRows`. */
export interface PredictTask {
  readonly specId: string;
  readonly spec: ModelSpec;
  readonly overrides: Record<string, unknown>;
  readonly rows: Float64Array;
  readonly nRows: number;
  readonly batchRows: number;
  /** Shared abort flag: `[0] !== 0` stops the task between chunks (and rows, for row models). */
  readonly control?: Int32Array;
}

/**
 * One unit of an explanation: a row's interventional game and its estimator (or one part of
 * a split estimate), run here end to end — f(x), masked rows, model calls and estimator math.
 */
export interface UnitTask {
  readonly specId: string;
  readonly spec: ModelSpec;
  readonly overrides: Record<string, unknown>;
  /** The plan (players and background) the unit belongs to: its evaluator is kept per worker. */
  readonly planId: string;
  readonly layout: MaskingLayout;
  /** Background rows as given (float64), on a SharedArrayBuffer. */
  readonly background: Float64Array;
  readonly weights: Float64Array;
  readonly batchRows: number;
  readonly control?: Int32Array;
  readonly unit: UnitRequest;
}

/** What a task returns: outputs, or a serialised error. */
export type TaskResult<T = Float64Array> =
  | { readonly ok: T }
  | { readonly error: { readonly code?: string; readonly name: string; readonly message: string } };

/** Rows to explain with LIME (sampling, model, local fit), in a worker. */
export interface LimeTask {
  readonly specId: string;
  readonly spec: ModelSpec;
  readonly overrides: Record<string, unknown>;
  readonly batchRows: number;
  readonly control?: Int32Array;
  readonly job: LimeWorkerJob;
}

export type { LimeRowResult };
