/**
 * Occlusion (Zeiler & Fergus 2014; captum's Occlusion): set a player, or a sliding window
 * of consecutive players (positions of a sequence), to the baseline and record how much
 * the output drops.
 */
import type { Explanation } from '../../explanation/explanation.js';
import type { Model } from '../../models/model.js';
import type { BaselineOutputs, BaselineSpec, Baselines } from './baseline.js';
import { baselineOutputs, resolveBaseline } from './baseline.js';
import type { SensitivityInputOptions, SensitivityRow, SensitivityRows } from './common.js';
import { completenessGap, intOption, overRows, prepareSensitivity, sensitivityExplanation } from './common.js';
import type { Predictor } from './finite-difference.js';

/** Options of {@link occlusion}. */
export interface OcclusionOptions extends SensitivityInputOptions {
  /** What an occluded player is set to. @defaultValue 'mean' (the background mean; needs a background) */
  baseline?: BaselineSpec;
  /** Consecutive players occluded together. @defaultValue 1 */
  window?: number;
  /** Players between the starts of consecutive windows (1..window). @defaultValue 1 */
  stride?: number;
}

/** Defaults of {@link occlusion}. */
export const OCCLUSION_DEFAULTS = { baseline: 'mean', window: 1, stride: 1 } as const;

/**
 * Start players of the windows: 0, stride, 2·stride, ... while the window fits, plus a last
 * window ending at the last player when the stride does not land there, so every player is
 * covered.
 */
export function occlusionWindows(nPlayers: number, window: number, stride: number): number[] {
  const starts: number[] = [];
  for (let s = 0; s + window <= nPlayers; s += stride) starts.push(s);
  const last = nPlayers - window;
  if (starts.length === 0 || starts[starts.length - 1] !== last) starts.push(Math.max(0, last));
  return starts;
}

/**
 * Occlusion of one row: for each window W of players and baseline row b (weighted),
 * Δ_W = f(x) − Σ_b w_b f(x with W's columns set to b's); φ_p = the mean Δ_W over the windows
 * covering p (captum's convention). With window 1, φ_p = f(x) − f(x_{−p}, b_p) (with the
 * `'background'` baseline: v(N) − v(N ∖ p), leave-one-out of the interventional game).
 * One model row per window and baseline row.
 */
export async function occlusionAt(
  pred: Predictor,
  x: Float64Array,
  baselines: Baselines,
  fb: BaselineOutputs,
  playerColumns: readonly (readonly number[])[],
  window: number,
  stride: number,
): Promise<SensitivityRow> {
  const d = pred.nInputs;
  const nOut = pred.nOutputs;
  const n = playerColumns.length;
  const starts = occlusionWindows(n, window, stride);
  const nB = baselines.nRows;
  const rows = new Float64Array((1 + starts.length * nB) * d);
  rows.set(x);
  starts.forEach((s, wi) => {
    for (let k = 0; k < nB; k++) {
      const at = (1 + wi * nB + k) * d;
      const row = rows.subarray(at, at + d);
      row.set(x);
      for (let p = s; p < s + window; p++) for (const c of playerColumns[p]) row[c] = baselines.rows[k * d + c];
    }
  });
  const f = await pred.predict(rows, 1 + starts.length * nB);
  const prediction = f.slice(0, nOut);
  const values = new Float64Array(n * nOut);
  const count = new Float64Array(n);
  starts.forEach((s, wi) => {
    for (let o = 0; o < nOut; o++) {
      let occluded = 0;
      for (let k = 0; k < nB; k++) occluded += baselines.weights[k] * f[(1 + wi * nB + k) * nOut + o];
      const delta = prediction[o] - occluded;
      for (let p = s; p < s + window; p++) values[p * nOut + o] += delta;
    }
    for (let p = s; p < s + window; p++) count[p]++;
  });
  for (let p = 0; p < n; p++) for (let o = 0; o < nOut; o++) values[p * nOut + o] /= count[p];
  return {
    values,
    prediction,
    baseValue: fb.mean,
    modelRows: 1 + starts.length * nB,
    gap: completenessGap(values, n, prediction, fb.mean),
  };
}

/**
 * Occlusion attributions of each row. Players are columns, groups (a one-hot attribute is
 * occluded as a whole: its indicators all take the baseline's values — one category of a
 * background row, or the category frequencies of the mean) or, for sequences, positions
 * (players from the sequence helpers), and `window`/`stride` slide over consecutive players.
 * `baseValues` = f(baseline); the efficiency gap is |Σφ − (f(x) − f(b))|, which occlusion
 * does not try to close (it is 0 for additive models with window 1).
 *
 * @throws {InvalidOptionError} for a bad baseline, window or stride.
 */
export async function occlusion(
  model: Model,
  rows: SensitivityRows,
  options: OcclusionOptions = {},
): Promise<Explanation> {
  const setup = prepareSensitivity(model, rows, options);
  const n = setup.playerColumns.length;
  const window = intOption('window', options.window, OCCLUSION_DEFAULTS.window, 1, n);
  const stride = intOption('stride', options.stride, OCCLUSION_DEFAULTS.stride, 1, window);
  const baselines = resolveBaseline(options.baseline ?? OCCLUSION_DEFAULTS.baseline, setup.d, setup.background);
  const fb = await baselineOutputs(setup.pred, baselines);
  const results = await overRows(setup, options, (x) =>
    occlusionAt(setup.pred, x, baselines, fb, setup.playerColumns, window, stride),
  );
  return sensitivityExplanation(setup, results, {
    method: 'occlusion',
    baseValues: fb.mean,
    sharedModelRows: fb.modelRows,
    details: { baseline: baselines.description, window, stride },
    seed: options.seed ?? 0,
    budget: 1 + occlusionWindows(n, window, stride).length * baselines.nRows,
  });
}
