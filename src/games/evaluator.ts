import { InvalidOptionError, throwIfAborted } from '../errors.js';
import type { PartEstimate, PartSpec, ShapleyEstimate } from '../estimators/estimate.js';
import type { Model } from '../models/model.js';
import { checkOutputs } from '../models/model.js';
import type { Background } from '../sampling/background.js';
import type { MaskedRowsJob, MaskingLayout } from '../sampling/masking.js';
import { fillMaskedRows, jobRows } from '../sampling/masking.js';

/**
 * Turns masked-row jobs into model outputs for one background and one set of players.
 * Implementations: {@link localEvaluator} (this thread) and the worker pool's evaluator
 * (rows are built inside the workers). Both split a job into the same `batchRows` chunks,
 * so every chunk reaches the model with the same rows whatever the thread count.
 */
export interface RowEvaluator {
  readonly nOutputs: number;
  readonly outputNames: readonly string[];
  readonly layout: MaskingLayout;
  readonly background: Background;
  readonly batchRows: number;
  /** Outputs (`job.nRows × nOutputs`) of the masked rows of `job` for explained row `x`. */
  evaluate(x: Float64Array, job: MaskedRowsJob, signal?: AbortSignal): Promise<Float64Array>;
  /** Outputs of plain rows (`nRows × nOutputs`). */
  predict(rows: Float64Array, nRows: number, signal?: AbortSignal): Promise<Float64Array>;
}

/** Something that evaluates masked rows in worker threads (a `WorkerPool`). */
export interface EvaluatorProvider {
  readonly threads: number;
  createEvaluator(
    model: Model,
    background: Background,
    layout: MaskingLayout,
    options: { batchRows: number },
  ): Promise<RemoteEvaluator>;
}

/** An evaluator in worker threads: masked rows, and (a `WorkerPool`) whole units of explanation. */
export interface RemoteEvaluator extends RowEvaluator {
  release?(): void;
  /** Runs one unit (a row's game and its estimator, or one part of it) in a worker. */
  explainUnit?: RemoteUnit;
}

/** A pool evaluator's entry point for whole units (see `WorkerPool`). */
export type RemoteUnit = (unit: UnitRequest, signal?: AbortSignal) => Promise<UnitOutcome>;

/** What a worker needs, beyond the plan's model, background and layout, to run one unit. */
export interface UnitRequest {
  readonly method: string;
  readonly options: Record<string, unknown>;
  readonly x: Float64Array;
  readonly rngState: number[];
  readonly designSeed: number;
  readonly dedupe: boolean | undefined;
  readonly backgroundOutputs: Float64Array;
  readonly baseValue: Float64Array;
  /** f(x) per output (the engine predicts a plan's rows together). */
  readonly prediction: Float64Array;
  /** Part of the row's split estimate, or whole (`count` 1 and no split). */
  readonly part?: PartSpec;
  /**
   * Parts `part.index` .. `part.index + span − 1` in one request (one game, so a row's plan
   * is made once): the outcome's `parts`, or its `estimate` when they are all the row's. @defaultValue 1
   */
  readonly span?: number;
  /** Model rows the unit is expected to cost (its time limit grows with them). */
  readonly expectedRows: number;
}

/** A unit's result from a worker. */
export interface UnitOutcome {
  readonly estimate?: ShapleyEstimate;
  /** The parts of a request with `part` (`span` of them, in part order). */
  readonly parts?: readonly PartEstimate[];
  readonly prediction: Float64Array;
  /** Model rows the unit's game cost (beyond f(x), which came with the request). */
  readonly modelRows: number;
}

/** Options shared by evaluators. */
export interface EvaluatorOptions {
  /** Rows per model call. @defaultValue 4096 */
  batchRows?: number;
}

/** Default rows per model call (measured: ONNX MLP throughput flattens above ~2-4k rows). */
export const DEFAULT_BATCH_ROWS = 4096;

/** Validates `batchRows`. */
export function resolveBatchRows(batchRows: number | undefined): number {
  const b = batchRows ?? DEFAULT_BATCH_ROWS;
  if (!Number.isInteger(b) || b < 1) throw new InvalidOptionError('batchRows', 'a positive integer', b);
  return b;
}

/**
 * Evaluates masked rows on this thread: builds each chunk of rows directly in the model's
 * input type (float32 for ONNX) and calls `model.predict` once per chunk.
 */
export function localEvaluator(
  model: Model,
  background: Background,
  layout: MaskingLayout,
  options: EvaluatorOptions = {},
): RowEvaluator {
  const batchRows = resolveBatchRows(options.batchRows);
  const f32 = model.inputType === 'float32';
  const bgData = f32 ? Float32Array.from(background.data) : background.data;
  const d = layout.nColumns;
  const nOut = model.outputNames.length;
  return {
    nOutputs: nOut,
    outputNames: model.outputNames,
    layout,
    background,
    batchRows,
    async evaluate(x, job, signal) {
      const xs = f32 ? Float32Array.from(x) : x;
      const out = new Float64Array(job.nRows * nOut);
      // one row buffer per job, reused chunk after chunk (each predict completes before the next fill)
      const size = Math.min(batchRows, job.nRows) * d;
      const buffer = f32 ? new Float32Array(size) : new Float64Array(size);
      for (let start = 0; start < job.nRows; start += batchRows) {
        throwIfAborted(signal);
        const end = Math.min(job.nRows, start + batchRows);
        const rows = buffer.subarray(0, (end - start) * d);
        fillMaskedRows(rows, layout, xs, bgData, jobRows(job, layout.words, start, end), 0, end - start);
        out.set(checkedPredictions(await model.predict(rows, end - start, signal), end - start, model), start * nOut);
      }
      return out;
    },
    predict: (rows, nRows, signal) => predictInChunks(model, rows, nRows, batchRows, signal),
  };
}

/**
 * Plain predictions in `batchRows` chunks, rows converted to the model's input type — the
 * one path every evaluator uses for unmasked rows (the background, the explained row).
 * `scratch` (optional, float32 models): a buffer of at least `batchRows × nInputs` values the
 * chunks are converted into instead of a new array per chunk (free again once this resolves).
 */
export async function predictInChunks(
  model: Model,
  rows: Float64Array,
  nRows: number,
  batchRows: number,
  signal?: AbortSignal,
  scratch?: Float32Array,
): Promise<Float64Array> {
  const d = model.nInputs;
  const nOut = model.outputNames.length;
  const f32 = model.inputType === 'float32';
  const out = new Float64Array(nRows * nOut);
  for (let start = 0; start < nRows; start += batchRows) {
    throwIfAborted(signal);
    const end = Math.min(nRows, start + batchRows);
    const chunk = rows.subarray(start * d, end * d);
    let input: Float32Array | Float64Array = chunk;
    if (f32 && scratch && scratch.length >= chunk.length) {
      input = scratch.subarray(0, chunk.length);
      input.set(chunk);
    } else if (f32) input = Float32Array.from(chunk);
    const res = await model.predict(input, end - start, signal);
    out.set(checkedPredictions(res, end - start, model), start * nOut);
  }
  return out;
}

/**
 * The model's outputs for `nRows` rows, checked (count, NaN, Infinity) whatever the model —
 * a hand-written `Model` gets the same guarantees as the built-in adapters.
 * @throws {ModelError} naming the first bad row and output.
 */
export function checkedPredictions(out: ArrayLike<number>, nRows: number, model: Model): ArrayLike<number> {
  checkOutputs(out, nRows, model.outputNames, 'the model');
  return out;
}
