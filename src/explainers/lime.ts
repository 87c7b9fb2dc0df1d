import type { Dataset } from '../data/dataset.js';
import type { GroupSpec, Players } from '../data/players.js';
import { closest, definePlayers } from '../data/players.js';
import { checkRows, columnsOf, defaultNames } from '../data/rows.js';
import { placement, schedule, startPool } from '../engine/scheduler.js';
import { DataError, InvalidOptionError, ShapeError, throwIfAborted } from '../errors.js';
import { checkMemory } from '../estimators/memory.js';
import type { Explanation, LimeDetails } from '../explanation/explanation.js';
import { playerColumnLists } from '../explanation/explanation.js';
import type { EvaluatorProvider } from '../games/evaluator.js';
import { predictInChunks, resolveBatchRows } from '../games/evaluator.js';
import type { Model } from '../models/model.js';
import { checkModel } from '../models/model.js';
import type { LimeDiscretizer, LimeStats } from '../sampling/lime-sampler.js';
import { LIME_DISCRETIZERS, limeCondition, limeSample, limeStats } from '../sampling/lime-sampler.js';
import { indexedStreams, Rng, randomSeed } from '../sampling/rng.js';
import { VERSION } from '../version.js';
import type { FeatureSelection, MomentsWorkspace, WeightedMoments } from './lime-fit.js';
import {
  FEATURE_SELECTIONS,
  momentsWorkspace,
  ridgeOn as ridgeOnMoments,
  selectFeatures,
  weightedMoments,
} from './lime-fit.js';
import type { LimeDistance, LimeRowResult, LimeRowsProvider, LimeSettings, LimeWorkerJob } from './lime-types.js';

export type { LimeDistance, LimeSettings };

/** Valid {@link LimeDistance} values. */
export const LIME_DISTANCES: readonly LimeDistance[] = ['euclidean', 'manhattan', 'cosine'];

/** Rows for {@link lime}: a dataset, or a bare row-major buffer. */
export type LimeRows = Dataset | { readonly data: Float64Array; readonly nRows: number };

/** Options of {@link lime}. */
export interface LimeOptions extends LimeSettings {
  /** Training rows: their statistics drive the sampler (means, stds, quantile bins, category frequencies). Required. */
  training: LimeRows;
  /** Players: one-hot groups `{ name: [column, ...] }`, each one categorical feature. */
  groups?: GroupSpec;
  /** Players as a prebuilt {@link Players} (overrides `groups`). */
  players?: Players;
  /** @defaultValue a random seed (recorded in `meta.seed`) */
  seed?: number;
  /** Global index of the first row (chunked batches): row r samples from stream `firstRowIndex + r`. @defaultValue 0 */
  firstRowIndex?: number;
  /** Rows per model call. @defaultValue 4096 */
  batchRows?: number;
  /**
   * Threads to explain on, this one included: rows run here first and, once the rest of the
   * job is projected above `minParallelMs`, in `threads − 1` workers too (each samples,
   * predicts and fits whole rows; the same bits wherever a row ran). Needs a model workers
   * can rebuild (ONNX, `fromModule`) and no custom `kernel` function.
   * @defaultValue os.availableParallelism() when the model can be rebuilt in workers, else 1
   */
  threads?: number;
  /** A worker pool shared across explanations: every row runs there. */
  pool?: EvaluatorProvider;
  /** Rows in flight (async models on this thread, or tasks in `pool`). @defaultValue 1 / 2 × the pool's threads */
  concurrency?: number;
  /** See `threads`. @defaultValue 300 */
  minParallelMs?: number;
  signal?: AbortSignal;
  /** Called after each explained row. */
  onProgress?: (p: { rowsDone: number; rows: number; done: number; total: number }) => void;
  /** Receives warnings. @defaultValue process.emitWarning */
  onWarning?: (message: string) => void;
}

/** LIME's defaults. */
export const LIME_DEFAULTS = {
  discretizer: 'quartile',
  numSamples: 5000,
  numFeatures: 10,
  featureSelection: 'auto',
  distance: 'euclidean',
  alpha: 1,
} as const;

/** Most rows of the training data the reference `baseValues` (mean prediction) are computed on. */
const BASE_ROWS = 2000;

/** lime's kernel: sqrt(exp(−d²/w²)). */
function defaultKernel(d: number, width: number): number {
  if (d === 0) return 1; // also for a width so small that 0/0 would appear
  return Math.sqrt(Math.exp(-(d * d) / (width * width)));
}

/**
 * LIME (Ribeiro et al. 2016) for tabular data, as python `lime`'s `LimeTabularExplainer`:
 * for each row, sample a neighbourhood from the training statistics (quantile bins or a
 * Gaussian; categories and one-hot groups from their frequencies), weight each sample by
 * an exponential kernel of its distance to the instance in the scaled interpretable space,
 * select features, and fit a weighted ridge model per output.
 *
 * The result is an {@link Explanation} with `values` = the local model's weights
 * (0 for features not selected), `predictions` = the model's outputs at the rows, and
 * `lime` = intercept, local prediction, weighted R² (`score`), readable conditions
 * (`duration > 24`, `purpose = car`) and the features selected.
 *
 * Weights are per unit of the interpretable feature: 1 = "in the instance's bin/category"
 * for binned and categorical features; one training standard deviation for Gaussian
 * sampling (a linear model f = Σ bⱼxⱼ gets weights bⱼ·stdⱼ).
 *
 * @example
 * const exp = await lime(model, applicants, { training: train, groups, seed: 1 });
 * exp.lime.conditions[0]; // ['duration > 24', 'purpose = car', ...]
 * @throws {InvalidOptionError} for bad options, {@link DataError} / {@link ShapeError} for
 *   bad rows or training data, `ModelError` when the model fails, `AbortedError` on abort.
 */
export async function lime(model: Model, rows: LimeRows, options: LimeOptions): Promise<Explanation> {
  const started = performance.now();
  if (!options || typeof options !== 'object')
    throw new InvalidOptionError('options', 'an object with at least { training }', options);
  checkModel(model);
  const d = model.nInputs;
  checkRows(rows, d, 'rows', '');
  if (!options.training)
    throw new InvalidOptionError('training', 'training rows (a Dataset or { data, nRows })', options.training);
  checkRows(options.training, d, 'training', '');
  const columns = columnsOf(rows) ?? columnsOf(options.training) ?? model.inputNames ?? defaultNames(d);
  const trainingNames = columnsOf(options.training);
  if (trainingNames && !trainingNames.every((c, i) => c === columns[i]))
    throw new DataError(
      `the training columns (${trainingNames.slice(0, 4).join(', ')}...) differ from the rows' (${columns.slice(0, 4).join(', ')}...): both need the model's input columns in the same order`,
    );
  const players = options.players ?? definePlayers(columns, options.groups);
  if (players.nColumns !== d || players.columns.length !== d)
    throw new ShapeError(
      `players cover ${players.columns.length} of ${players.nColumns} columns; the model takes ${d} and every column must belong to exactly one player`,
    );
  const s = resolveLimeSettings(options, players.names.length);
  const categorical = resolveCategorical(options.categorical, columns);
  const batchRows = resolveBatchRows(options.batchRows);
  const seed = options.seed ?? randomSeed();
  if (!Number.isSafeInteger(seed)) throw new InvalidOptionError('seed', 'a safe integer', seed);

  const stats = limeStats(options.training, players, columns, s.discretizer, categorical);
  const P = stats.features.length;
  const nOut = model.outputNames.length;
  const nRows = rows.nRows;
  const n = s.numSamples;
  // per explained row: the n sampled rows (d columns), their n × P binary features, n × outputs
  // predictions and n weights, 8 bytes each, allocated at once
  checkMemory(
    `LIME with ${n} samples per row (${d} columns, ${P} features)`,
    8 * n * (d + P + nOut + 1),
    'pass a smaller numSamples (--num-samples); a few thousand are typical',
  );
  const first = options.firstRowIndex ?? 0;
  const rngs = indexedStreams(
    seed,
    Array.from({ length: nRows }, (_, i) => first + i),
  );
  // reference base values: the mean prediction over (up to BASE_ROWS of) the training rows
  const base = await baseValues(model, options.training, d, nOut, batchRows, Rng.fromSeed(seed), options.signal);

  // rows run here and, for long jobs, in worker threads too (each samples, predicts and fits
  // a row itself from the row's stream: the same bits wherever it ran)
  let where = placement(model, options);
  if (options.kernel !== undefined && (where.canStart || options.pool)) {
    if (options.threads !== undefined && options.threads > 1)
      (options.onWarning ?? ((m: string) => process.emitWarning(m)))(
        'LIME with a custom kernel function runs on one thread (a function cannot be sent to worker threads)',
      );
    where = { threads: 1, canStart: false, minParallelMs: where.minParallelMs };
  }
  const pool = options.kernel === undefined ? options.pool : undefined;
  if (pool && !isLimeProvider(pool))
    throw new InvalidOptionError('pool', 'a WorkerPool (createWorkerPool()) for LIME', pool);
  const { kernel: _kernel, ...plain } = settingsOf(options);
  const results = new Array<LimeRowResult>(nRows);
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const ws = momentsWorkspace();
  let rowsDone = 0;
  const done = (i: number, r: LimeRowResult) => {
    results[i] = r;
    options.onProgress?.({ rowsDone: ++rowsDone, rows: nRows, done: 1, total: 1 });
  };
  const used = await schedule({
    tasks: nRows,
    placement: where,
    pool,
    concurrency: options.concurrency,
    signal,
    stop: (e) => stop.abort(e),
    start: (t) => startPool(model, t),
    here: async (i) => {
      const x = rows.data.subarray(i * d, (i + 1) * d);
      done(i, await limeRow(model, stats, s, x, rngs[i].clone(), batchRows, signal, ws));
    },
    there: async (i, provider) => {
      const job: LimeWorkerJob = {
        stats,
        settings: plain,
        nPlayers: players.names.length,
        x: rows.data.slice(i * d, (i + 1) * d),
        rngStates: [rngs[i].state()],
      };
      done(i, (await (provider as unknown as LimeRowsProvider).limeRows(model, job, { batchRows, signal }))[0]);
    },
  });

  const values = new Float64Array(nRows * P * nOut);
  const predictions = new Float64Array(nRows * nOut);
  const intercept = new Float64Array(nRows * nOut);
  const localPrediction = new Float64Array(nRows * nOut);
  const score = new Float64Array(nRows * nOut);
  const conditions: string[][] = [];
  const selected: number[][][] = [];
  let modelSeconds = base.seconds;
  results.forEach((r, i) => {
    predictions.set(r.prediction, i * nOut);
    intercept.set(r.intercept, i * nOut);
    localPrediction.set(r.localPrediction, i * nOut);
    score.set(r.score, i * nOut);
    values.set(r.values, i * P * nOut);
    selected.push(r.selected);
    modelSeconds += r.modelSeconds;
    const x = rows.data.subarray(i * d, (i + 1) * d);
    conditions.push(stats.features.map((f) => limeCondition(f, x, columns)));
  });

  const details: LimeDetails = {
    intercept,
    localPrediction,
    score,
    conditions,
    selected,
    kernelWidth: s.kernelWidth,
    discretizer: s.discretizer,
    featureSelection: s.featureSelection,
    numFeatures: s.numFeatures,
    numSamples: n,
    distance: s.distance,
    alpha: s.alpha,
    modelSeconds,
  };
  return {
    method: 'lime',
    players: players.names,
    outputs: [...model.outputNames],
    columns,
    playerColumns: playerColumnLists(players),
    nRows,
    rowIndices: Array.from({ length: nRows }, (_, i) => i),
    data: rows.data.slice(0, nRows * d),
    baseValues: base.values,
    predictions,
    values,
    exact: new Array<boolean>(nRows).fill(false),
    evaluations: nRows * n,
    modelRows: nRows * n + base.rows,
    seconds: (performance.now() - started) / 1000,
    lime: details,
    meta: {
      version: VERSION,
      seed,
      budget: n,
      background: {
        rows: stats.trainingRows,
        summary: `training statistics of ${stats.trainingRows} rows (${s.discretizer === 'none' ? 'gaussian' : s.discretizer})`,
      },
      threads: used.threads,
    },
  };
}

/**
 * One explained row of LIME: `numSamples` neighbours from the training statistics, their
 * model outputs, kernel weights and the weighted ridge fit per output. `ws` is reused
 * across rows of one thread. @internal (worker threads run it too)
 */
export async function limeRow(
  model: Model,
  stats: LimeStats,
  s: ResolvedLimeSettings,
  x: Float64Array,
  rng: Rng,
  batchRows: number,
  signal: AbortSignal | undefined,
  ws: MomentsWorkspace,
): Promise<LimeRowResult> {
  throwIfAborted(signal);
  const n = s.numSamples;
  const nOut = model.outputNames.length;
  const buf = takeSampleBuffers(stats, n, model.inputType === 'float32' ? Math.min(n, batchRows) : 0);
  let sample: ReturnType<typeof limeSample>;
  let Y: Float64Array;
  let modelSeconds: number;
  try {
    sample = limeSample(stats, x, n, rng, s.sampleAroundInstance, buf);
    const t0 = performance.now();
    Y = await predictInChunks(model, sample.rows, n, batchRows, signal, buf.input);
    modelSeconds = (performance.now() - t0) / 1000;
  } catch (error) {
    spareSampleBuffers.push(buf);
    throw error;
  }
  try {
    return fitRow(stats, s, sample, Y, nOut, modelSeconds, ws);
  } finally {
    spareSampleBuffers.push(buf);
  }
}

/**
 * A LIME row's sample buffers (rows, z, the float32 model input), reused across the rows a
 * thread explains: a new 5000 × 61 sample per row cost page faults in every thread of the
 * process (~12% of a pool's time). One set per row in flight, so concurrent calls never share.
 */
interface SampleBuffers {
  rows: Float64Array;
  z: Float64Array;
  input: Float32Array;
  /** The statistics the rows were last drawn with (another one: zero the uncovered columns). */
  stats: LimeStats | undefined;
}

const spareSampleBuffers: SampleBuffers[] = [];

function takeSampleBuffers(stats: LimeStats, n: number, inputRows: number): SampleBuffers {
  const b = spareSampleBuffers.pop() ?? {
    rows: new Float64Array(0),
    z: new Float64Array(0),
    input: new Float32Array(0),
    stats: undefined,
  };
  const d = stats.nColumns;
  if (b.rows.length !== n * d) b.rows = new Float64Array(n * d);
  else if (b.stats !== stats) b.rows.fill(0);
  if (b.z.length !== n * stats.features.length) b.z = new Float64Array(n * stats.features.length);
  if (b.input.length < inputRows * d) b.input = new Float32Array(inputRows * d);
  b.stats = stats;
  return b;
}

function fitRow(
  stats: LimeStats,
  s: ResolvedLimeSettings,
  sample: ReturnType<typeof limeSample>,
  Y: Float64Array,
  nOut: number,
  modelSeconds: number,
  ws: MomentsWorkspace,
): LimeRowResult {
  const n = s.numSamples;
  const P = stats.features.length;
  const w = new Float64Array(n);
  kernelWeights(sample.z, n, P, s, w);
  const z0 = sample.z.subarray(0, P);
  const m = weightedMoments(sample.z, Y, w, n, P, nOut, ws);
  const out = {
    prediction: new Float64Array(nOut),
    intercept: new Float64Array(nOut),
    localPrediction: new Float64Array(nOut),
    score: new Float64Array(nOut),
    values: new Float64Array(P * nOut),
    selected: [] as number[][],
    modelSeconds,
  };
  for (let o = 0; o < nOut; o++) {
    const S = selectFeatures(m, o, s.numFeatures, s.featureSelection, z0);
    const fit = ridgeFit(sample.z, Y, w, m, o, S, s.alpha);
    out.prediction[o] = Y[o];
    out.intercept[o] = fit.intercept;
    out.localPrediction[o] = fit.intercept + S.reduce((acc, j, a) => acc + fit.beta[a] * z0[j], 0);
    out.score[o] = fit.score;
    S.forEach((j, a) => {
      out.values[j * nOut + o] = fit.beta[a];
    });
    out.selected.push(
      [...S].sort((a, b) => {
        const va = Math.abs(out.values[a * nOut + o]);
        const vb = Math.abs(out.values[b * nOut + o]);
        return vb - va || a - b;
      }),
    );
  }
  return out;
}

/** Runs a worker's LIME rows (the worker side of {@link LimeRowsProvider.limeRows}). @internal */
export async function limeRowsInWorker(
  model: Model,
  job: LimeWorkerJob,
  batchRows: number,
  signal: AbortSignal | undefined,
): Promise<LimeRowResult[]> {
  const s = resolveLimeSettings(job.settings, job.nPlayers);
  const d = job.stats.nColumns;
  // scratch buffers kept across this worker's tasks (one per task in flight)
  const ws = spareWorkspaces.pop() ?? momentsWorkspace();
  try {
    const out: LimeRowResult[] = [];
    for (let i = 0; i < job.rngStates.length; i++) {
      const x = job.x.subarray(i * d, (i + 1) * d);
      out.push(await limeRow(model, job.stats, s, x, Rng.fromState(job.rngStates[i]), batchRows, signal, ws));
    }
    return out;
  } finally {
    spareWorkspaces.push(ws);
  }
}

/** Workspaces of finished worker tasks, for the next ones (a worker runs many LIME tasks). */
const spareWorkspaces: MomentsWorkspace[] = [];

function isLimeProvider(p: unknown): p is LimeRowsProvider {
  return typeof (p as LimeRowsProvider).limeRows === 'function';
}

/** The LIME settings among `options` (what {@link resolveLimeSettings} reads). */
function settingsOf(o: LimeOptions): LimeSettings {
  return {
    discretizer: o.discretizer,
    categorical: o.categorical,
    sampleAroundInstance: o.sampleAroundInstance,
    numSamples: o.numSamples,
    numFeatures: o.numFeatures,
    featureSelection: o.featureSelection,
    kernelWidth: o.kernelWidth,
    distance: o.distance,
    kernel: o.kernel,
    alpha: o.alpha,
  };
}

/** LIME settings with defaults filled in and validated. @internal */
export interface ResolvedLimeSettings {
  discretizer: LimeDiscretizer;
  sampleAroundInstance: boolean;
  numSamples: number;
  numFeatures: number;
  featureSelection: FeatureSelection;
  kernelWidth: number;
  distance: LimeDistance;
  kernel: (distance: number, kernelWidth: number) => number;
  alpha: number;
}

/**
 * Fills LIME's defaults and validates every setting.
 * @throws {InvalidOptionError} naming the option, what it must be and what was received.
 */
export function resolveLimeSettings(s: LimeSettings, nPlayers: number): ResolvedLimeSettings {
  const discretizer = s.discretizer ?? LIME_DEFAULTS.discretizer;
  if (!LIME_DISCRETIZERS.includes(discretizer))
    throw new InvalidOptionError('discretizer', `one of ${LIME_DISCRETIZERS.join(', ')}`, discretizer);
  const numSamples = s.numSamples ?? LIME_DEFAULTS.numSamples;
  if (!Number.isInteger(numSamples) || numSamples < 2)
    throw new InvalidOptionError(
      'numSamples',
      'an integer >= 2',
      numSamples,
      'LIME fits on this many neighbours; thousands are typical',
    );
  const numFeatures = s.numFeatures ?? LIME_DEFAULTS.numFeatures;
  if (!Number.isInteger(numFeatures) || numFeatures < 1)
    throw new InvalidOptionError('numFeatures', 'a positive integer', numFeatures);
  const featureSelection = s.featureSelection ?? LIME_DEFAULTS.featureSelection;
  if (!FEATURE_SELECTIONS.includes(featureSelection))
    throw new InvalidOptionError('featureSelection', `one of ${FEATURE_SELECTIONS.join(', ')}`, featureSelection);
  const kernelWidth = s.kernelWidth ?? 0.75 * Math.sqrt(nPlayers);
  if (typeof kernelWidth !== 'number' || !Number.isFinite(kernelWidth) || kernelWidth <= 0)
    throw new InvalidOptionError('kernelWidth', 'a finite number > 0', kernelWidth);
  const distance = s.distance ?? LIME_DEFAULTS.distance;
  if (!LIME_DISTANCES.includes(distance))
    throw new InvalidOptionError('distance', `one of ${LIME_DISTANCES.join(', ')}`, distance);
  if (s.kernel !== undefined && typeof s.kernel !== 'function')
    throw new InvalidOptionError('kernel', 'a function (distance, kernelWidth) => weight', s.kernel);
  const alpha = s.alpha ?? LIME_DEFAULTS.alpha;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0)
    throw new InvalidOptionError('alpha', 'a finite number >= 0', alpha);
  if (s.sampleAroundInstance !== undefined && typeof s.sampleAroundInstance !== 'boolean')
    throw new InvalidOptionError('sampleAroundInstance', 'a boolean', s.sampleAroundInstance);
  return {
    discretizer,
    sampleAroundInstance: s.sampleAroundInstance ?? false,
    numSamples,
    numFeatures,
    featureSelection,
    kernelWidth,
    distance,
    kernel: s.kernel ?? defaultKernel,
    alpha,
  };
}

function resolveCategorical(cat: readonly (string | number)[] | undefined, columns: readonly string[]): Set<number> {
  const out = new Set<number>();
  if (cat === undefined) return out;
  if (!Array.isArray(cat)) throw new InvalidOptionError('categorical', 'an array of column names or indices', cat);
  for (const c of cat) {
    if (typeof c === 'number') {
      if (!Number.isInteger(c) || c < 0 || c >= columns.length)
        throw new InvalidOptionError('categorical', `column indices in 0..${columns.length - 1} or column names`, c);
      out.add(c);
    } else {
      const i = columns.indexOf(c);
      if (i < 0) {
        const near = closest(String(c), columns);
        throw new InvalidOptionError(
          'categorical',
          'names of the data columns',
          c,
          near ? `did you mean ${JSON.stringify(near)}?` : `the columns are ${columns.slice(0, 8).join(', ')}`,
        );
      }
      out.add(i);
    }
  }
  return out;
}

/** LIME's kernel weights of the samples from their distances to row 0. @internal */
export function kernelWeights(z: Float64Array, n: number, P: number, s: ResolvedLimeSettings, w: Float64Array): void {
  let norm0 = 0;
  for (let j = 0; j < P; j++) norm0 += z[j] * z[j];
  norm0 = Math.sqrt(norm0);
  const euclidean = s.distance === 'euclidean';
  const manhattan = s.distance === 'manhattan';
  const kernel = s.kernel;
  const width = s.kernelWidth;
  let positive = 0;
  for (let i = 0; i < n; i++) {
    const row = i * P;
    let dist = 0;
    if (euclidean) {
      for (let j = 0; j < P; j++) {
        const v = z[row + j] - z[j];
        dist += v * v;
      }
      dist = Math.sqrt(dist);
    } else if (manhattan) {
      for (let j = 0; j < P; j++) dist += Math.abs(z[row + j] - z[j]);
    } else {
      let dot = 0;
      let nn = 0;
      for (let j = 0; j < P; j++) {
        const v = z[row + j];
        dot += v * z[j];
        nn += v * v;
      }
      // sklearn's cosine distance treats a zero vector as having norm 1
      dist = 1 - dot / ((Math.sqrt(nn) || 1) * (norm0 || 1));
      if (dist < 0) dist = 0;
    }
    const k = kernel(dist, width);
    if (typeof k !== 'number' || !Number.isFinite(k) || k < 0)
      throw new InvalidOptionError(
        'kernel',
        'a function returning finite weights >= 0',
        k,
        `it returned this for distance ${dist}`,
      );
    w[i] = k;
    if (k > 0) positive++;
  }
  if (positive < 2)
    throw new InvalidOptionError(
      'kernelWidth',
      'wide enough that at least two samples get a positive kernel weight',
      s.kernelWidth,
      `${positive} of ${n} samples have weight > 0: raise kernelWidth`,
    );
}

/**
 * Final weighted ridge on features `S` for output `o`, solved from the row's full moments
 * (the selected block of G and C), with the weighted R² from the residuals.
 * @internal
 */
export function ridgeFit(
  Z: Float64Array,
  Y: Float64Array,
  w: Float64Array,
  m: WeightedMoments,
  o: number,
  S: readonly number[],
  alpha: number,
): { beta: Float64Array; intercept: number; score: number } {
  const { n, P, k } = m;
  const s = S.length;
  const beta1 =
    s > 0
      ? ridgeOnMoments({ ...m, k: 1, C: columnOf(m.C, k, o), syy: Float64Array.of(m.syy[o]) }, S, alpha)
      : new Float64Array(0);
  let intercept = m.yMean[o];
  for (let a = 0; a < s; a++) intercept -= m.zMean[S[a]] * beta1[a];
  let ssr = 0;
  for (let i = 0; i < n; i++) {
    let pred = intercept;
    for (let a = 0; a < s; a++) pred += beta1[a] * Z[i * P + S[a]];
    ssr += w[i] * (Y[i * k + o] - pred) ** 2;
  }
  const syy = m.syy[o];
  // sklearn's r2_score for constant targets: 1 when fitted exactly, else 0; "constant" up to
  // rounding relative to the targets' size (a constant model's outputs may differ in the last bit)
  const scale = m.sw * (m.yMean[o] * m.yMean[o] + 1e-300);
  const constant = syy <= 1e-24 * scale;
  const score = constant ? (ssr <= 1e-20 * scale ? 1 : 0) : 1 - ssr / syy;
  return { beta: beta1, intercept, score };
}

function columnOf(C: Float64Array, k: number, o: number): Float64Array {
  const P = C.length / k;
  const out = new Float64Array(P);
  for (let j = 0; j < P; j++) out[j] = C[j * k + o];
  return out;
}

async function baseValues(
  model: Model,
  training: LimeRows,
  d: number,
  nOut: number,
  batchRows: number,
  rng: Rng,
  signal: AbortSignal | undefined,
): Promise<{ values: Float64Array; rows: number; seconds: number }> {
  let data = training.data;
  let nRows = training.nRows;
  if (nRows > BASE_ROWS) {
    const idx = rng.shuffle(Int32Array.from({ length: nRows }, (_, i) => i)).subarray(0, BASE_ROWS);
    data = new Float64Array(BASE_ROWS * d);
    idx.forEach((r, k) => {
      data.set(training.data.subarray(r * d, (r + 1) * d), k * d);
    });
    nRows = BASE_ROWS;
  }
  const t0 = performance.now();
  const out = await predictInChunks(model, data.subarray(0, nRows * d), nRows, batchRows, signal);
  const seconds = (performance.now() - t0) / 1000;
  const values = new Float64Array(nOut);
  for (let r = 0; r < nRows; r++) for (let o = 0; o < nOut; o++) values[o] += out[r * nOut + o];
  for (let o = 0; o < nOut; o++) values[o] /= nRows;
  return { values, rows: nRows, seconds };
}
