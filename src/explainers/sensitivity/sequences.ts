/**
 * Sensitivity methods on one-hot sequences: positions as players (each the group of its A
 * one-hot columns, in either layout) and occlusion of windows of positions.
 */
import type { Players } from '../../data/players.js';
import { playersFromIndices } from '../../data/players.js';
import type { SequenceLayout } from '../../data/sequences.js';
import { columnOf } from '../../data/sequences.js';
import { InvalidOptionError, ShapeError } from '../../errors.js';
import type { Model } from '../../models/model.js';
import { baselineOutputs, resolveBaseline } from './baseline.js';
import { intOption } from './common.js';
import { modelPredictor } from './finite-difference.js';
import { OCCLUSION_DEFAULTS, occlusionAt } from './occlusion.js';

/** Positions 1..L as players, position p owning its A one-hot columns. */
export function positionPlayers(L: number, A: number, layout: SequenceLayout): Players {
  return playersFromIndices(
    L * A,
    Array.from({ length: L }, (_, p) => Array.from({ length: A }, (_, c) => columnOf(layout, L, A, p, c))),
    Array.from({ length: L }, (_, p) => String(p + 1)),
  );
}

/** One-hot rows (`nRows × L·A`) with their shape. */
export interface OneHotSequences {
  readonly data: Float64Array;
  readonly nRows: number;
  readonly length: number;
  readonly channels: number;
  readonly layout: SequenceLayout;
}

/** Options of {@link occludeSequences}. */
export interface OccludeSequencesOptions {
  /**
   * What an occluded position becomes: `'zeros'` (no letter) or `'uniform'` (1/A on every
   * channel, the encoding of N). @defaultValue 'uniform'
   */
  reference?: 'zeros' | 'uniform';
  /** Positions occluded together. @defaultValue 1 */
  window?: number;
  /** Positions between window starts (1..window). @defaultValue 1 */
  stride?: number;
  /** Rows per model call. @defaultValue 4096 */
  batchRows?: number;
  signal?: AbortSignal;
  /** Called after each sequence. */
  onProgress?: (p: { done: number; total: number }) => void;
}

/** Defaults of {@link occludeSequences}. */
export const OCCLUDE_SEQUENCES_DEFAULTS = { reference: 'uniform', ...OCCLUSION_DEFAULTS } as const;

/** What {@link occludeSequences} measured. */
export interface OcclusionTrack {
  /** f(x), `nRows × nOutputs`. */
  readonly predictions: Float64Array;
  /** Per row, position and output: the mean output drop of the windows covering the position (`nRows × L × nOutputs`). */
  readonly track: Float64Array;
  /** f(reference), `nOutputs`. */
  readonly baseValue: Float64Array;
  readonly modelRows: number;
}

/**
 * Occlusion of one-hot sequences: each window of `window` positions (every `stride`) is set
 * to the reference and the drop of every output recorded; a position's value is the mean
 * drop of the windows covering it. One model row per window and sequence.
 *
 * @throws {ShapeError} when the rows do not match L · A or the model's inputs.
 * @throws {InvalidOptionError} for a bad reference, window or stride.
 */
export async function occludeSequences(
  model: Model,
  x: OneHotSequences,
  options: OccludeSequencesOptions = {},
): Promise<OcclusionTrack> {
  const { nRows, length: L, channels: A, layout } = x;
  const d = L * A;
  if (model.nInputs !== d)
    throw new ShapeError(`the model takes ${model.nInputs} inputs but ${L} positions × ${A} letters make ${d}`);
  if (x.data.length !== nRows * d)
    throw new ShapeError(`one-hot rows hold ${x.data.length} values; ${nRows} rows of ${d} need ${nRows * d}`);
  const reference = options.reference ?? OCCLUDE_SEQUENCES_DEFAULTS.reference;
  if (reference !== 'zeros' && reference !== 'uniform')
    throw new InvalidOptionError('reference', "'zeros' or 'uniform'", reference);
  const window = intOption('window', options.window, OCCLUSION_DEFAULTS.window, 1, L);
  const stride = intOption('stride', options.stride, OCCLUSION_DEFAULTS.stride, 1, window);
  const pred = modelPredictor(model, { batchRows: options.batchRows, signal: options.signal });
  const players = positionPlayers(L, A, layout);
  const cols = Array.from({ length: L }, (_, p) =>
    Array.from(players.columns.subarray(players.offsets[p], players.offsets[p + 1])),
  );
  const baselines = resolveBaseline(new Float64Array(d).fill(reference === 'uniform' ? 1 / A : 0), d);
  const fb = await baselineOutputs(pred, baselines);
  const nOut = model.outputNames.length;
  const predictions = new Float64Array(nRows * nOut);
  const track = new Float64Array(nRows * L * nOut);
  let modelRows = fb.modelRows;
  for (let r = 0; r < nRows; r++) {
    const row = await occlusionAt(pred, x.data.subarray(r * d, (r + 1) * d), baselines, fb, cols, window, stride);
    predictions.set(row.prediction, r * nOut);
    track.set(row.values, r * L * nOut);
    modelRows += row.modelRows;
    options.onProgress?.({ done: r + 1, total: nRows });
  }
  return { predictions, track, baseValue: fb.mean, modelRows };
}
