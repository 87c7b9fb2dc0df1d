import { availableParallelism } from 'node:os';
import type { Dataset } from './data/dataset.js';
import { assertFinite } from './data/dataset.js';
import type { Hierarchy } from './data/hierarchy.js';
import type { GroupSpec, Players } from './data/players.js';
import { definePlayers } from './data/players.js';
import { BudgetError, DataError, InvalidOptionError, ModelError, ShapeError, throwIfAborted } from './errors.js';
import type { ShapleyEstimate } from './estimators/estimate.js';
import { exactShapley, MAX_EXACT_PLAYERS } from './estimators/exact.js';
import type { KernelVariant } from './estimators/kernel.js';
import { defaultBudget, KERNEL_VARIANTS, kernelShap, resolveBudget } from './estimators/kernel.js';
import type { LimeSettings } from './estimators/lime.js';
import { lime } from './estimators/lime.js';
import { partitionShap } from './estimators/partition.js';
import { permutationShap } from './estimators/permutation.js';
import type { Explanation, Method } from './explanation/explanation.js';
import { playerColumnLists } from './explanation/explanation.js';
import type { RowEvaluator } from './games/evaluator.js';
import { localEvaluator, resolveBatchRows } from './games/evaluator.js';
import { interventionalGame, prepareInterventional } from './games/interventional-game.js';
import type { Model } from './models/model.js';
import { checkModel } from './models/model.js';
import type { Background, SummarizeOptions } from './sampling/background.js';
import { createBackground, LARGE_BACKGROUND_ROWS, summarizeBackground } from './sampling/background.js';
import type { MaskingLayout } from './sampling/masking.js';
import { maskingLayout } from './sampling/masking.js';
import { indexedStreams, Rng, randomSeed } from './sampling/rng.js';
import { VERSION } from './version.js';

/** Something that evaluates masked rows in worker threads (a `WorkerPool`). */
export interface EvaluatorProvider {
  readonly threads: number;
  createEvaluator(
    model: Model,
    background: Background,
    layout: MaskingLayout,
    options: { batchRows: number },
  ): Promise<RowEvaluator & { release?(): void }>;
}

/** Progress of {@link explain}: rows finished, and the current row's coalition values. */
export interface ExplainProgress {
  readonly rowsDone: number;
  readonly rows: number;
  readonly done: number;
  readonly total: number;
}

/** Rows to explain or to use as background: a dataset, or a bare row-major buffer. */
export type RowsInput = Dataset | { readonly data: Float64Array; readonly nRows: number };

/** Options of {@link explain}. */
export interface ExplainOptions {
  /** Background (reference) rows for interventional masking. Required. */
  background: RowsInput | Background;
  /** Weight per background row (normalised). @defaultValue uniform */
  backgroundWeights?: ArrayLike<number>;
  /**
   * Summarise the background first: `{ method: 'kmeans' | 'sample', rows }`.
   * @defaultValue none (a warning is emitted above 200 rows)
   */
  summarize?: SummarizeOptions | false;
  /** Players: groups of columns `{ name: [column, ...] }`; other columns are players of their own. */
  groups?: GroupSpec;
  /** Players as a prebuilt {@link Players} (overrides `groups`). */
  players?: Players;
  /** @defaultValue 'kernel' */
  method?: Method;
  /** Kernel SHAP variant. @defaultValue 'decomposed' */
  variant?: KernelVariant;
  /** Coalition values per row, or 'auto' (kernel only). @defaultValue 2 · players + 2048 */
  budget?: number | 'auto';
  /** `budget: 'auto'` stopping threshold (max SE / value range). @defaultValue 0.01 */
  tolerance?: number;
  /** `budget: 'auto'` cap. @defaultValue 65536 */
  maxBudget?: number;
  /** Kernel sparse mode: keep the k largest values. */
  topK?: number;
  /**
   * Partition (Owen values): the hierarchy over the players.
   * @defaultValue the balanced binary hierarchy of contiguous player ranges
   */
  hierarchy?: Hierarchy;
  /**
   * Partition: sample this many hierarchy-consistent random orders instead of every context
   * (cheaper for deep hierarchies; unbiased, not exact). @defaultValue every context
   */
  orders?: number;
  /** Permutation: antithetic pairs. @defaultValue true */
  antithetic?: boolean;
  /** Seed of every random draw. @defaultValue a random seed (recorded in `meta.seed`) */
  seed?: number;
  /** Rows per model call. @defaultValue 4096 */
  batchRows?: number;
  /**
   * Worker threads for model evaluation. Needs a model that workers can rebuild (an ONNX
   * model, or `fromModule`). @defaultValue os.availableParallelism() when the model can be
   * rebuilt in workers, else 1
   */
  threads?: number;
  /** A worker pool to share across explanations (then `threads` is the pool's). */
  pool?: EvaluatorProvider;
  /** Rows explained concurrently (hides estimator math behind model evaluation). @defaultValue 1, or threads + 1 with workers */
  concurrency?: number;
  /** Memoise masked rows (each distinct row reaches the model once). @defaultValue true */
  dedupe?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: ExplainProgress) => void;
  /** Receives warnings (large background...). @defaultValue process.emitWarning */
  onWarning?: (message: string) => void;
  /**
   * Method `'lime'`: its settings (numSamples, numFeatures, featureSelection, discretizer,
   * kernelWidth, ...). The `background` rows are LIME's training data. @defaultValue {}
   */
  lime?: LimeSettings;
}

/** Methods and their availability, for messages. */
const METHODS: readonly string[] = ['exact', 'kernel', 'permutation', 'partition', 'lime'];
const PLANNED: Readonly<Record<string, string>> = {
  ism: "method 'ism' (in-silico mutagenesis) explains one-hot sequences: use explainSequences (CLI: whybox explain --sequences)",
};

/** Validates a method name with an actionable message for planned ones. */
export function resolveMethod(method: unknown, option = 'method'): Method {
  if (method === undefined) return 'kernel';
  if (typeof method === 'string' && METHODS.includes(method)) return method as Method;
  if (typeof method === 'string' && PLANNED[method])
    throw new InvalidOptionError(option, `one of ${METHODS.join(', ')}`, method, PLANNED[method]);
  throw new InvalidOptionError(option, `one of ${METHODS.join(', ')}`, method);
}

/**
 * Explains `rows` of a model with Shapley values of the interventional game
 * v(S) = Σ_b w_b f(x_S, b_{N∖S}) over the background rows b.
 *
 * @example
 * const exp = await explain(model, applicants, { background: train, groups, seed: 42 });
 * exp.values; // Float64Array [rows × players × outputs]
 * @throws {InvalidOptionError} for bad options, {@link DataError} / {@link ShapeError} for bad
 *   rows or background, {@link ModelError} when the model fails, `BudgetError` when the
 *   method cannot run in the budget, `AbortedError` when `signal` aborts.
 */
export async function explain(model: Model, rows: RowsInput, options: ExplainOptions): Promise<Explanation> {
  const started = performance.now();
  if (!options || typeof options !== 'object')
    throw new InvalidOptionError('options', 'an object with at least { background }', options);
  const method = resolveMethod(options.method);
  if (method === 'lime') return explainLime(model, rows, options);
  if (options.lime !== undefined)
    throw new InvalidOptionError('lime', `unset for method '${method}' (it holds LIME's settings)`, options.lime);
  checkModel(model);
  const d = model.nInputs;
  const columns = 'columns' in rows ? [...rows.columns] : (model.inputNames ?? defaultNames(d));
  checkRows(rows, d, 'rows');
  if (model.inputNames && 'columns' in rows && !sameNames(model.inputNames, rows.columns))
    throw new DataError(
      `the rows' columns do not match the model's input names (${model.inputNames.slice(0, 5).join(', ')}${model.inputNames.length > 5 ? ', ...' : ''})`,
    );
  const players = options.players ?? definePlayers(columns, options.groups);
  if (players.nColumns !== d || players.columns.length !== d)
    throw new ShapeError(
      `players cover ${players.columns.length} of ${players.nColumns} columns; the model takes ${d} and every column must belong to exactly one player`,
    );
  const n = players.names.length;
  const variant = options.variant;
  if (variant !== undefined && !KERNEL_VARIANTS.includes(variant))
    throw new InvalidOptionError('variant', `one of ${KERNEL_VARIANTS.join(', ')}`, variant);
  if (variant !== undefined && method !== 'kernel')
    throw new InvalidOptionError('variant', "used with method 'kernel' only", variant);
  // Kernel SHAP settings that the other Shapley methods would silently ignore
  for (const name of ['topK', 'tolerance', 'maxBudget'] as const)
    if (options[name] !== undefined && method !== 'kernel')
      throw new InvalidOptionError(name, "used with method 'kernel' only", options[name]);
  const budget = options.budget;
  if (budget === 'auto' && method !== 'kernel')
    throw new InvalidOptionError('budget', `a number for method '${method}' ('auto' is for kernel)`, budget);
  if (budget !== undefined && budget !== 'auto') resolveBudget(budget, n);
  if (method === 'exact' && budget !== undefined)
    throw new InvalidOptionError('budget', "unset for method 'exact' (it always uses all 2^n coalitions)", budget);
  if (options.concurrency !== undefined && (!Number.isInteger(options.concurrency) || options.concurrency < 1))
    throw new InvalidOptionError('concurrency', 'a positive integer', options.concurrency);
  if (method === 'exact' && n > MAX_EXACT_PLAYERS)
    throw new BudgetError(
      `method 'exact' needs all 2^${n} coalition values, above its limit of ${MAX_EXACT_PLAYERS} players; use method 'kernel' or 'permutation' (sampled, with standard errors), or group columns into fewer players`,
    );
  const seed = options.seed ?? randomSeed();
  const base = Rng.fromSeed(seed);
  const batchRows = resolveBatchRows(options.batchRows);
  const warn = options.onWarning ?? ((m: string) => process.emitWarning(m, 'WhyboxWarning'));

  // background
  let background = toBackground(options.background, options.backgroundWeights, d);
  if (options.summarize) background = summarizeBackground(background, base.clone(), options.summarize);
  else if (background.nRows > LARGE_BACKGROUND_ROWS) {
    const per =
      method === 'exact' || budget === 'auto'
        ? ''
        : ` — up to ${((budget ?? defaultBudget(n)) * background.nRows).toLocaleString('en')} model rows per explained row`;
    warn(
      `background has ${background.nRows} rows: every coalition value costs ${background.nRows} model rows${per}; pass summarize: { method: 'kmeans', rows: 100 } (CLI: --summarize 100) to trade a little fidelity for speed`,
    );
  }

  // where the model runs
  const layout = maskingLayout(players);
  const { evaluator, threads, release } = await makeEvaluator(model, background, layout, options, batchRows);
  try {
    const ctx = await prepareInterventional(evaluator, options.signal);
    const nRows = rows.nRows;
    const nOut = evaluator.nOutputs;
    // designs of the decomposed Kernel SHAP, shared by the rows (drawn from the seed)
    const designs = { seed, shapes: new Map<string, unknown>() };
    const rngs = indexedStreams(
      seed,
      Array.from({ length: nRows }, (_, i) => i),
    );
    const estimates = new Array<ShapleyEstimate>(nRows);
    const fx = new Array<Float64Array>(nRows);
    let modelRows = background.nRows;
    let rowsDone = 0;
    const concurrency = options.concurrency ?? (threads > 1 ? threads + 1 : 1);
    // lanes share an internal signal: the first failure stops the others, and explain waits
    // for every lane to settle before it releases the evaluator (a pool it started)
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    let next = 0;
    let failure: unknown;
    const work = async () => {
      while (next < nRows && failure === undefined) {
        const r = next++;
        try {
          await explainRow(r);
        } catch (error) {
          if (failure === undefined) {
            failure = error;
            stop.abort(error);
          }
        }
      }
    };
    const explainRow = async (r: number) => {
      throwIfAborted(signal);
      const x = rows.data.slice(r * d, (r + 1) * d);
      const game = await interventionalGame(ctx, x, { dedupe: options.dedupe }, signal);
      const ectx = {
        rng: rngs[r],
        designs,
        signal: signal,
        onProgress: options.onProgress
          ? (p: { done: number; total: number }) =>
              options.onProgress?.({ rowsDone, rows: nRows, done: p.done, total: p.total })
          : undefined,
      };
      estimates[r] =
        method === 'exact'
          ? await exactShapley(game, ectx)
          : method === 'partition'
            ? await partitionShap(
                game,
                { budget: budget as number | undefined, hierarchy: options.hierarchy, orders: options.orders },
                ectx,
              )
            : method === 'permutation'
              ? await permutationShap(
                  game,
                  { budget: budget as number | undefined, antithetic: options.antithetic },
                  ectx,
                )
              : await kernelShap(
                  game,
                  {
                    budget,
                    variant,
                    tolerance: options.tolerance,
                    maxBudget: options.maxBudget,
                    topK: options.topK,
                  },
                  ectx,
                );
      fx[r] = game.prediction;
      modelRows += game.cost.modelRows;
      rowsDone++;
      options.onProgress?.({ rowsDone, rows: nRows, done: 1, total: 1 });
    };

    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, nRows)) }, work));
    if (failure !== undefined) throw failure;

    const values = new Float64Array(nRows * n * nOut);
    const predictions = new Float64Array(nRows * nOut);
    const hasStderr = method !== 'exact' && estimates.every((e) => e.stderr !== undefined);
    const stderr = hasStderr || method === 'exact' ? new Float64Array(nRows * n * nOut) : undefined;
    let evaluations = 0;
    estimates.forEach((e, r) => {
      values.set(e.values, r * n * nOut);
      if (stderr && e.stderr) stderr.set(e.stderr, r * n * nOut);
      predictions.set(fx[r], r * nOut); // f(x) itself (v(N) is Σ_b w_b f(x), equal up to rounding)
      evaluations += e.evaluations;
    });
    const auto = budget === 'auto';
    const usedVariant = method === 'kernel' ? estimates[0]?.variant : undefined;
    return {
      method,
      variant: usedVariant,
      players: players.names,
      outputs: [...evaluator.outputNames],
      columns,
      playerColumns: playerColumnLists(players),
      nRows,
      rowIndices: Array.from({ length: nRows }, (_, i) => i),
      data: rows.data.slice(0, nRows * d),
      baseValues: ctx.baseValue.slice(),
      predictions,
      values,
      stderr,
      exact: estimates.map((e) => e.exact),
      converged: auto ? estimates.map((e) => e.converged === true) : undefined,
      evaluations,
      modelRows,
      seconds: (performance.now() - started) / 1000,
      meta: {
        version: VERSION,
        seed,
        budget: method === 'exact' ? 2 ** n : auto ? 'auto' : (budget ?? defaultBudget(n)),
        background: { rows: background.nRows, summary: background.summary },
        threads,
      },
    };
  } finally {
    await release();
  }
}

/** Options that only the Shapley methods use (LIME refuses them rather than ignore them). */
const SHAPLEY_ONLY = [
  ['variant', 'a Kernel SHAP setting'],
  ['budget', 'LIME draws lime.numSamples rows per explained row (CLI --num-samples)'],
  ['tolerance', 'a Kernel SHAP setting'],
  ['maxBudget', 'a Kernel SHAP setting'],
  ['topK', 'use lime.numFeatures to limit the features'],
  ['antithetic', 'a Permutation SHAP setting'],
  ['summarize', "LIME needs the training rows' statistics, not a summary"],
  ['backgroundWeights', 'LIME weighs samples by its kernel'],
] as const;

/**
 * `explain` with method 'lime': the background rows are the training data. Model rows are
 * LIME's ready-made samples, predicted in-process in `batchRows` chunks (the worker pool's
 * protocol ships masks over a background, which LIME's rows are not).
 */
async function explainLime(model: Model, rows: RowsInput, options: ExplainOptions): Promise<Explanation> {
  for (const [name, why] of SHAPLEY_ONLY)
    if (options[name] !== undefined && options[name] !== false)
      throw new InvalidOptionError(name, "unset for method 'lime'", options[name], why);
  const bg = options.background;
  if (!bg) throw new InvalidOptionError('background', "the training rows (LIME's sampling statistics)", bg);
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1))
    throw new InvalidOptionError('threads', 'a positive integer', options.threads);
  const training = 'weights' in bg && 'summary' in bg ? { data: bg.data, nRows: bg.nRows } : (bg as RowsInput);
  return lime(model, rows, {
    ...(options.lime ?? {}),
    training,
    groups: options.groups,
    players: options.players,
    seed: options.seed,
    batchRows: options.batchRows,
    signal: options.signal,
    onProgress: options.onProgress,
  });
}

async function makeEvaluator(
  model: Model,
  background: Background,
  layout: MaskingLayout,
  options: ExplainOptions,
  batchRows: number,
): Promise<{ evaluator: RowEvaluator; threads: number; release: () => Promise<void> }> {
  if (options.pool) {
    if (!model.spec)
      throw new ModelError(
        'this model is a JavaScript closure, which cannot be sent to worker threads; load it with fromModule(specifier, exportName) or use an ONNX model, or explain without a pool',
      );
    const ev = await options.pool.createEvaluator(model, background, layout, { batchRows });
    return { evaluator: ev, threads: options.pool.threads, release: async () => ev.release?.() };
  }
  const requested = options.threads;
  if (requested !== undefined && (!Number.isInteger(requested) || requested < 1))
    throw new InvalidOptionError('threads', 'a positive integer', requested);
  const threads = requested ?? (model.spec ? availableParallelism() : 1);
  if (threads > 1) {
    if (!model.spec)
      throw new ModelError(
        `threads: ${threads} needs a model that worker threads can rebuild, but this model is a JavaScript closure; load it with fromModule(specifier, exportName) (a module path and export name) or use an ONNX model, or pass threads: 1`,
      );
    const { createWorkerPool } = await import('./parallel/pool.js');
    const pool = createWorkerPool({ threads });
    const ev = await pool.createEvaluator(model, background, layout, { batchRows });
    return { evaluator: ev, threads, release: () => pool.close() };
  }
  return {
    evaluator: localEvaluator(model, background, layout, { batchRows }),
    threads: 1,
    release: async () => undefined,
  };
}

/**
 * Checks rows for a model of `d` inputs (shape, at least one row, finite values); `hint`
 * ends the message of a column-count mismatch.
 */
export function checkRows(
  rows: RowsInput,
  d: number,
  what: string,
  hint = ": the CSV header must list the model's input columns",
): void {
  if (!rows || !(rows.data instanceof Float64Array) || !Number.isInteger(rows.nRows))
    throw new InvalidOptionError(what, 'a Dataset or { data: Float64Array, nRows }', rows);
  if (rows.nRows < 1) throw new DataError(`${what} holds no rows`);
  if ('columns' in rows && rows.columns.length !== d)
    throw new ShapeError(`${what} have ${rows.columns.length} columns but the model takes ${d} inputs${hint}`);
  if (rows.data.length !== rows.nRows * d)
    throw new ShapeError(
      `${what} hold ${rows.data.length} values; ${rows.nRows} rows of ${d} inputs need ${rows.nRows * d}`,
    );
  assertFinite(rows.data, 'columns' in rows ? rows.columns : d, { what: `${what} value` });
}

/** A background of `d` columns from rows or a prebuilt {@link Background} (shapes checked). */
export function toBackground(
  bg: RowsInput | Background,
  weights: ArrayLike<number> | undefined,
  d: number,
): Background {
  if (!bg)
    throw new InvalidOptionError('background', 'background rows (a Dataset, { data, nRows } or a Background)', bg);
  if ('weights' in bg && 'summary' in bg && !weights) {
    if (bg.nColumns !== d) throw new ShapeError(`background has ${bg.nColumns} columns; the model takes ${d}`);
    return bg;
  }
  if ('columns' in bg && bg.columns.length !== d)
    throw new ShapeError(`background has ${bg.columns.length} columns; the model takes ${d}`);
  if (bg.data.length !== bg.nRows * d)
    throw new ShapeError(
      `background holds ${bg.data.length} values; ${bg.nRows} rows of ${d} inputs need ${bg.nRows * d}`,
    );
  return createBackground('columns' in bg ? (bg as Dataset) : { data: bg.data, nRows: bg.nRows, nColumns: d }, weights);
}

function defaultNames(d: number): string[] {
  return Array.from({ length: d }, (_, i) => `x${i}`);
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
