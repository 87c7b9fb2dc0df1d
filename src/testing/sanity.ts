/**
 * Sanity checks of a method's explanations of a user's model:
 *
 * - **Dummy column** — a column the model never reads must get ~0 attribution. By default a
 *   synthetic column of standard-normal noise is appended to the rows and the background,
 *   and the model is wrapped to drop it before predicting (so it provably never reads it);
 *   or name an existing column the model is supposed to ignore (`dummyColumn`). Flagged
 *   when, in some row, |φ_dummy| > `threshold` × Σ_p |φ_p| and (for methods with standard
 *   errors) |φ_dummy| > 4 standard errors.
 * - **Model randomisation** (Adebayo et al. 2018, "Sanity checks for saliency maps"):
 *   explanations of the model and of a randomised model must differ. A black box has no
 *   weights to re-initialise, so the randomised model is a surrogate:
 *   `'shuffle'` (default) — g(x) = f(b_h(x)), where h hashes the bytes of x (seeded) to a
 *   background row: g has the same output distribution as f on the background but no
 *   relation between inputs and outputs (a random permutation of f's outputs);
 *   `'random-weights'` — g(x) = μ + σ·z(x), z a one-hidden-layer tanh network with
 *   Gaussian random weights on the background-standardised inputs, rescaled so that g's
 *   outputs on the background have f's mean μ and standard deviation σ (per output).
 *   Similarity: Spearman rank correlation of φ_f and φ_g over players, per row and output
 *   (rows with fewer than 3 players or constant values are left out). Flagged when the mean
 *   is ≥ `threshold`. The correlation of |φ_f| and |φ_g| is reported too but not used to
 *   decide: on tabular data it is confounded by the background — a player whose columns
 *   rarely differ from the background rows gets a small |φ| under any model, the
 *   randomised one included.
 * - **Stability across seeds** — the method is run with `seeds` seeds (seed, seed + 1, ...);
 *   per player, the standard deviation of its value over the seeds, averaged over rows and
 *   outputs (`spread`), and that spread divided by the mean |φ| over all players and rows
 *   (`relativeSpread`). Flagged when a player's relative spread exceeds `threshold`.
 */

import { sampleRankCorrelation } from 'simple-statistics';
import { createDataset } from '../data/dataset.js';
import type { GroupSpec, Players } from '../data/players.js';
import { definePlayers } from '../data/players.js';
import { InvalidOptionError } from '../errors.js';
import type { RowsInput } from '../explain.js';
import { fromFunction } from '../models/function-model.js';
import type { Model } from '../models/model.js';
import { createBackground } from '../sampling/background.js';
import { Rng } from '../sampling/rng.js';
import { shapleyMethod } from './method.js';
import type { QualityOptions, QualitySetup } from './model-tasks.js';
import { attributeTask, qualitySetup, rowTask, toBackground } from './model-tasks.js';

/** Options of {@link dummyCheck}. */
export interface DummyCheckOptions extends QualityOptions {
  /** An existing column (name or index) the model must not read; it must be a player of its own. @defaultValue a synthetic noise column is appended */
  dummyColumn?: string | number;
  /** Largest share of the attribution mass the dummy may get. @defaultValue 0.02 */
  threshold?: number;
}

/** Result of {@link dummyCheck}. */
export interface DummyCheckResult {
  readonly passed: boolean;
  /** The dummy column's name (`'(dummy)'` when synthetic). */
  readonly column: string;
  readonly synthetic: boolean;
  /** Largest |φ_dummy| / Σ_p |φ_p| over rows and outputs. */
  readonly maxShare: number;
  readonly meanShare: number;
  /** Largest |φ_dummy|. */
  readonly maxAbs: number;
  /** Per row: |φ_dummy| / Σ|φ| (max over outputs). */
  readonly shares: number[];
  readonly threshold: number;
}

/** Options of {@link randomizationCheck}. */
export interface RandomizationCheckOptions extends QualityOptions {
  /** How the randomised model is made. @defaultValue 'shuffle' */
  randomization?: 'shuffle' | 'random-weights';
  /** Largest mean rank correlation allowed. @defaultValue 0.5 */
  threshold?: number;
}

/** Result of {@link randomizationCheck}. */
export interface RandomizationCheckResult {
  readonly passed: boolean;
  readonly randomization: 'shuffle' | 'random-weights';
  /** Mean Spearman correlation of the values of the model's and the randomised model's explanations (null when no row has 3 players with varying values); decides the check. */
  readonly meanRankCorrelation: number | null;
  /** Same with |values| (reported only: see the module documentation). */
  readonly meanAbsRankCorrelation: number | null;
  /** Per row: the signed correlation (mean over outputs), null when undefined. */
  readonly perRow: (number | null)[];
  readonly threshold: number;
}

/** Options of {@link stabilityCheck}. */
export interface StabilityCheckOptions extends QualityOptions {
  /** Seeds compared. @defaultValue 10 */
  seeds?: number;
  /** Largest relative spread allowed per player. @defaultValue 0.1 */
  threshold?: number;
}

/** Result of {@link stabilityCheck}. */
export interface StabilityCheckResult {
  readonly passed: boolean;
  readonly seeds: number;
  readonly players: readonly string[];
  /** Per player: standard deviation over seeds, averaged over rows and outputs. */
  readonly spread: number[];
  /** Per player: spread / mean |φ| over all players and rows. */
  readonly relativeSpread: number[];
  readonly maxRelativeSpread: number;
  readonly threshold: number;
}

/** Options of {@link sanityChecks}. */
export interface SanityOptions extends QualityOptions {
  dummyColumn?: string | number;
  randomization?: 'shuffle' | 'random-weights';
  seeds?: number;
  thresholds?: { dummy?: number; randomization?: number; stability?: number };
}

/** Result of {@link sanityChecks}. */
export interface SanityReport {
  readonly method: string;
  readonly rows: number;
  readonly passed: boolean;
  readonly dummy: DummyCheckResult;
  readonly randomization: RandomizationCheckResult;
  readonly stability: StabilityCheckResult;
}

function threshold(v: unknown, name: string, fallback: number): number {
  const x = v ?? fallback;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw new InvalidOptionError(name, 'a number >= 0', v);
  return x;
}

async function attributeAll(s: QualitySetup, seedOffset = 0, signal?: AbortSignal) {
  const out: { values: Float64Array; stderr?: Float64Array }[] = [];
  for (let r = 0; r < s.rows.nRows; r++) {
    const { task } = await rowTask(s, r, signal);
    out.push(await attributeTask(s, task, s.seed + seedOffset + r, signal));
  }
  return out;
}

function columnNames(model: Model, rows: RowsInput): string[] {
  return 'columns' in rows
    ? [...rows.columns]
    : (model.inputNames?.slice() ?? Array.from({ length: model.nInputs }, (_, i) => `x${i}`));
}

const DUMMY = '(dummy)';

/** Checks that a column the model never reads gets ~0 attribution (see the module documentation). */
export async function dummyCheck(model: Model, rows: RowsInput, options: DummyCheckOptions): Promise<DummyCheckResult> {
  const limit = threshold(options.threshold, 'threshold', 0.02);
  const columns = columnNames(model, rows);
  let setup: QualitySetup;
  let dummyPlayer: number;
  let name: string;
  const synthetic = options.dummyColumn === undefined;
  if (!synthetic) {
    const c = options.dummyColumn as string | number;
    const col = typeof c === 'number' ? c : columns.indexOf(c);
    if (!Number.isInteger(col) || col < 0 || col >= columns.length)
      throw new InvalidOptionError('dummyColumn', `a column name or index of the data (${columns.length} columns)`, c);
    name = columns[col];
    setup = await qualitySetup(model, rows, options);
    dummyPlayer = playerOfColumn(setup.players, col, name);
  } else {
    const d = model.nInputs;
    const rng = Rng.fromSeed(options.seed ?? 0);
    const widen = (data: Float64Array, nRows: number) => {
      const out = new Float64Array(nRows * (d + 1));
      for (let r = 0; r < nRows; r++) {
        out.set(data.subarray(r * d, (r + 1) * d), r * (d + 1));
        out[r * (d + 1) + d] = rng.normal();
      }
      return out;
    };
    const bg = toBackground(options.background, options.backgroundWeights, d);
    const wideBg = createBackground(
      { data: widen(bg.data, bg.nRows), nRows: bg.nRows, nColumns: d + 1 },
      bg.weights,
      `${bg.summary} + a noise column`,
    );
    const wideRows = createDataset([...columns, DUMMY], widen(rows.data, rows.nRows));
    const f32 = model.inputType === 'float32';
    const wrapped = fromFunction(
      async (batch: Float64Array, nRows: number) => {
        const narrow = f32 ? new Float32Array(nRows * d) : new Float64Array(nRows * d);
        for (let r = 0; r < nRows; r++) narrow.set(batch.subarray(r * (d + 1), r * (d + 1) + d), r * d);
        return model.predict(narrow, nRows, options.signal);
      },
      { nInputs: d + 1, batched: true, outputNames: model.outputNames, inputNames: [...columns, DUMMY] },
    );
    const players = widenPlayers(columns, options.players, options.groups);
    name = DUMMY;
    setup = await qualitySetup(wrapped, wideRows, {
      ...options,
      background: wideBg,
      backgroundWeights: undefined,
      players,
    });
    dummyPlayer = players.names.indexOf(DUMMY);
  }
  const n = setup.players.names.length;
  const nOut = setup.ctx.evaluator.nOutputs;
  const results = await attributeAll(setup, 0, options.signal);
  const shares: number[] = [];
  let maxAbs = 0;
  let flagged = false;
  for (const { values, stderr } of results) {
    let share = 0;
    for (let o = 0; o < nOut; o++) {
      let mass = 0;
      for (let p = 0; p < n; p++) mass += Math.abs(values[p * nOut + o]);
      const v = Math.abs(values[dummyPlayer * nOut + o]);
      const sh = mass > 0 ? v / mass : 0;
      share = Math.max(share, sh);
      maxAbs = Math.max(maxAbs, v);
      const se = stderr?.[dummyPlayer * nOut + o];
      if (sh > limit && !(se !== undefined && v <= 4 * se)) flagged = true;
    }
    shares.push(share);
  }
  return {
    passed: !flagged,
    column: name,
    synthetic,
    maxShare: Math.max(0, ...shares),
    meanShare: shares.reduce((a, b) => a + b, 0) / shares.length,
    maxAbs,
    shares,
    threshold: limit,
  };
}

function playerOfColumn(players: Players, col: number, name: string): number {
  for (let p = 0; p < players.names.length; p++)
    for (let k = players.offsets[p]; k < players.offsets[p + 1]; k++)
      if (players.columns[k] === col) {
        if (players.offsets[p + 1] - players.offsets[p] !== 1)
          throw new InvalidOptionError(
            'dummyColumn',
            'a column that is a player of its own',
            name,
            `it is in group ${JSON.stringify(players.names[p])}; take it out of the group`,
          );
        return p;
      }
  throw new InvalidOptionError('dummyColumn', 'a column of the data', name);
}

function widenPlayers(
  columns: readonly string[],
  players: Players | undefined,
  groups: GroupSpec | undefined,
): Players {
  if (!players) return definePlayers([...columns, DUMMY], groups);
  const spec: Record<string, string[]> = {};
  players.names.forEach((pname, p) => {
    const cols = Array.from(players.columns.subarray(players.offsets[p], players.offsets[p + 1]), (c) => columns[c]);
    if (cols.length > 1 || cols[0] !== pname) spec[pname] = cols;
  });
  return definePlayers([...columns, DUMMY], spec);
}

/** FNV-1a over the bytes of a row, mixed with a seed. */
function hashRow(row: Float64Array, seed: number): number {
  const bytes = new Uint8Array(row.buffer, row.byteOffset, row.byteLength);
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  return h >>> 0;
}

/** The randomised surrogate of `model` (see the module documentation). */
export async function randomizedModel(
  model: Model,
  background: { data: Float64Array; nRows: number },
  kind: 'shuffle' | 'random-weights',
  seed: number,
): Promise<Model> {
  const d = model.nInputs;
  const nOut = model.outputNames.length;
  const nb = background.nRows;
  const f32 = model.inputType === 'float32';
  const bgOut = await model.predict(f32 ? Float32Array.from(background.data) : background.data, nb);
  const options = { nInputs: d, batched: true as const, outputNames: model.outputNames, inputNames: model.inputNames };
  if (kind === 'shuffle') {
    return fromFunction((rows: Float64Array, nRows: number) => {
      const out = new Float64Array(nRows * nOut);
      for (let r = 0; r < nRows; r++) {
        const b = hashRow(rows.subarray(r * d, (r + 1) * d), seed) % nb;
        for (let o = 0; o < nOut; o++) out[r * nOut + o] = bgOut[b * nOut + o];
      }
      return out;
    }, options);
  }
  const rng = Rng.fromSeed(seed);
  const H = 16;
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (let b = 0; b < nb; b++) for (let j = 0; j < d; j++) mean[j] += background.data[b * d + j] / nb;
  for (let b = 0; b < nb; b++) for (let j = 0; j < d; j++) sd[j] += (background.data[b * d + j] - mean[j]) ** 2 / nb;
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]) || 1;
  const W1 = Float64Array.from({ length: H * d }, () => rng.normal() / Math.sqrt(d));
  const b1 = Float64Array.from({ length: H }, () => rng.normal());
  const W2 = Float64Array.from({ length: nOut * H }, () => rng.normal() / Math.sqrt(H));
  const raw = (rows: Float64Array, nRows: number) => {
    const out = new Float64Array(nRows * nOut);
    const h = new Float64Array(H);
    for (let r = 0; r < nRows; r++) {
      for (let k = 0; k < H; k++) {
        let s = b1[k];
        for (let j = 0; j < d; j++) s += W1[k * d + j] * ((rows[r * d + j] - mean[j]) / sd[j]);
        h[k] = Math.tanh(s);
      }
      for (let o = 0; o < nOut; o++) {
        let s = 0;
        for (let k = 0; k < H; k++) s += W2[o * H + k] * h[k];
        out[r * nOut + o] = s;
      }
    }
    return out;
  };
  // rescale to f's mean and spread on the background, per output
  const zb = raw(background.data, nb);
  const scale = new Float64Array(nOut);
  const shift = new Float64Array(nOut);
  for (let o = 0; o < nOut; o++) {
    let mf = 0;
    let mz = 0;
    for (let b = 0; b < nb; b++) {
      mf += bgOut[b * nOut + o] / nb;
      mz += zb[b * nOut + o] / nb;
    }
    let vf = 0;
    let vz = 0;
    for (let b = 0; b < nb; b++) {
      vf += (bgOut[b * nOut + o] - mf) ** 2 / nb;
      vz += (zb[b * nOut + o] - mz) ** 2 / nb;
    }
    scale[o] = vz > 0 ? Math.sqrt(vf / vz) || 1 : 1;
    shift[o] = mf - scale[o] * mz;
  }
  return fromFunction((rows: Float64Array, nRows: number) => {
    const out = raw(rows, nRows);
    for (let r = 0; r < nRows; r++)
      for (let o = 0; o < nOut; o++) out[r * nOut + o] = shift[o] + scale[o] * out[r * nOut + o];
    return out;
  }, options);
}

/**
 * Spearman rank correlation (average ranks for ties: simple-statistics' sampleRankCorrelation);
 * null when either side is constant.
 */
export function spearman(a: number[], b: number[]): number | null {
  const constant = (v: number[]) => v.every((x) => x === v[0]);
  if (a.length < 2 || constant(a) || constant(b)) return null;
  return sampleRankCorrelation(a, b);
}

/** Checks that explanations change when the model is randomised (see the module documentation). */
export async function randomizationCheck(
  model: Model,
  rows: RowsInput,
  options: RandomizationCheckOptions,
): Promise<RandomizationCheckResult> {
  const limit = threshold(options.threshold, 'threshold', 0.5);
  const kind = options.randomization ?? 'shuffle';
  if (kind !== 'shuffle' && kind !== 'random-weights')
    throw new InvalidOptionError('randomization', "'shuffle' or 'random-weights'", kind);
  const original = await qualitySetup(model, rows, options);
  const g = await randomizedModel(model, original.background, kind, original.seed);
  const randomized = await qualitySetup(g, rows, {
    ...options,
    background: original.background,
    backgroundWeights: undefined,
    players: original.players,
  });
  const a = await attributeAll(original, 0, options.signal);
  const b = await attributeAll(randomized, 0, options.signal);
  const n = original.players.names.length;
  const nOut = original.ctx.evaluator.nOutputs;
  const perRow: (number | null)[] = [];
  let absSum = 0;
  let absCount = 0;
  let sgnSum = 0;
  let sgnCount = 0;
  a.forEach((ra, r) => {
    let rowSum = 0;
    let rowCount = 0;
    for (let o = 0; o < nOut; o++) {
      if (n < 3) continue;
      const pa = Array.from({ length: n }, (_, p) => ra.values[p * nOut + o]);
      const pb = Array.from({ length: n }, (_, p) => b[r].values[p * nOut + o]);
      const cAbs = spearman(pa.map(Math.abs), pb.map(Math.abs));
      const cSgn = spearman(pa, pb);
      if (cAbs !== null) {
        absSum += cAbs;
        absCount++;
      }
      if (cSgn !== null) {
        sgnSum += cSgn;
        sgnCount++;
        rowSum += cSgn;
        rowCount++;
      }
    }
    perRow.push(rowCount > 0 ? rowSum / rowCount : null);
  });
  const meanSigned = sgnCount > 0 ? sgnSum / sgnCount : null;
  return {
    passed: meanSigned === null || meanSigned < limit,
    randomization: kind,
    meanRankCorrelation: meanSigned,
    meanAbsRankCorrelation: absCount > 0 ? absSum / absCount : null,
    perRow,
    threshold: limit,
  };
}

/** Spread of the values over seeds, per player (see the module documentation). */
export async function stabilityCheck(
  model: Model,
  rows: RowsInput,
  options: StabilityCheckOptions,
): Promise<StabilityCheckResult> {
  const limit = threshold(options.threshold, 'threshold', 0.1);
  const seeds = options.seeds ?? 10;
  if (!Number.isInteger(seeds) || seeds < 2) throw new InvalidOptionError('seeds', 'an integer >= 2', options.seeds);
  const s = await qualitySetup(model, rows, options);
  const n = s.players.names.length;
  const nOut = s.ctx.evaluator.nOutputs;
  const nRows = s.rows.nRows;
  const runs: Float64Array[][] = []; // [seed][row]
  for (let k = 0; k < seeds; k++) {
    const res: Float64Array[] = [];
    for (let r = 0; r < nRows; r++) {
      const { task } = await rowTask(s, r, options.signal);
      // seed k of row r: s.seed + k (the same seeds for every row)
      res.push((await attributeTask(s, task, s.seed + k, options.signal)).values);
    }
    runs.push(res);
  }
  const spread = new Array<number>(n).fill(0);
  let absMean = 0;
  for (let r = 0; r < nRows; r++)
    for (let p = 0; p < n; p++)
      for (let o = 0; o < nOut; o++) {
        const at = p * nOut + o;
        // mean as first + mean deviation, so identical values give a spread of exactly 0
        const first = runs[0][r][at];
        let m = 0;
        for (let k = 0; k < seeds; k++) m += (runs[k][r][at] - first) / seeds;
        m += first;
        let v = 0;
        for (let k = 0; k < seeds; k++) v += (runs[k][r][at] - m) ** 2 / (seeds - 1);
        spread[p] += Math.sqrt(v) / (nRows * nOut);
        absMean += Math.abs(m) / (nRows * nOut * n);
      }
  const relativeSpread = spread.map((x) => (absMean > 0 ? x / absMean : x > 0 ? Number.POSITIVE_INFINITY : 0));
  const maxRel = Math.max(0, ...relativeSpread);
  return {
    passed: maxRel <= limit,
    seeds,
    players: s.players.names,
    spread,
    relativeSpread,
    maxRelativeSpread: maxRel,
    threshold: limit,
  };
}

/** Runs the three sanity checks with shared options. */
export async function sanityChecks(model: Model, rows: RowsInput, options: SanityOptions): Promise<SanityReport> {
  const t = options.thresholds ?? {};
  const dummy = await dummyCheck(model, rows, { ...options, threshold: t.dummy });
  const randomization = await randomizationCheck(model, rows, { ...options, threshold: t.randomization });
  const stability = await stabilityCheck(model, rows, { ...options, threshold: t.stability });
  const method = (options.method ?? shapleyMethod('kernel')).name;
  return {
    method,
    rows: rows.nRows,
    passed: dummy.passed && randomization.passed && stability.passed,
    dummy,
    randomization,
    stability,
  };
}
