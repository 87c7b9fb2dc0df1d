import type { Hierarchy } from './data/hierarchy.js';
import type { GroupSpec, Players } from './data/players.js';
import { definePlayers } from './data/players.js';
import type { RowsInput } from './data/rows.js';
import { checkRows, columnsOf, defaultNames, sameNames, toBackground } from './data/rows.js';
import type { GameEstimator } from './engine/interventional.js';
import { runInterventional } from './engine/interventional.js';
import { BudgetError, DataError, InvalidOptionError, ShapeError } from './errors.js';
import type { KernelVariant } from './estimators/kernel.js';
import { defaultBudget, resolveBudget } from './estimators/kernel.js';
import type { LimeSettings } from './explainers/lime.js';
import type { Explanation, Method } from './explanation/explanation.js';
import { createExplanation, playerColumnLists } from './explanation/explanation.js';
import type { EvaluatorProvider } from './games/evaluator.js';
import { resolveBatchRows } from './games/evaluator.js';
import { checkValue, isGiven, optionsOf, refuseInapplicable } from './methods/options.js';
import type { RegisteredMethod } from './methods/registry.js';
import { DEFAULT_METHOD, getMethod, METHODS } from './methods/registry.js';
import type { SensitivityExplainOptions } from './methods/sensitivity-options.js';
import type { Model } from './models/model.js';
import { checkModel } from './models/model.js';
import type { Background, SummarizeOptions } from './sampling/background.js';
import { LARGE_BACKGROUND_ROWS, summarizeSeeded } from './sampling/background.js';
import { indexedStreams, randomSeed } from './sampling/rng.js';
import { VERSION } from './version.js';

export type { EvaluatorProvider };

/** Progress of {@link explain}: rows finished, and the current row's coalition values. */
export interface ExplainProgress {
  readonly rowsDone: number;
  readonly rows: number;
  readonly done: number;
  readonly total: number;
}

/** Options of {@link explain}. */
export interface ExplainOptions extends SensitivityExplainOptions {
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
  /** A registered method (`src/methods/registry.ts`). @defaultValue 'kernel' */
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
  /**
   * Global index of the first of `rows`, for inputs explained in chunks (`explainBatch`): row
   * r draws its random numbers from stream `firstRowIndex + r` of `seed`, so its values are
   * the same bytes whatever the chunking. `exp.rowIndices` stay 0-based within `rows`.
   * @defaultValue 0
   */
  firstRowIndex?: number;
  /** Rows per model call. @defaultValue 4096 */
  batchRows?: number;
  /**
   * Threads to explain on, this one included: rows (and parts of rows, for the default
   * Kernel SHAP) run on this thread and on `threads − 1` worker threads, each running the
   * estimator as well as the model. Needs a model that workers can rebuild (an ONNX model,
   * or `fromModule`). Small jobs run on this thread only (see `minParallelMs`). Results are bit-identical whatever the count. @defaultValue
   * os.availableParallelism() when the model can be rebuilt in workers, else 1
   */
  threads?: number;
  /**
   * A worker pool to share across explanations (a service): every row runs in the pool and
   * this thread only schedules and sums (then `threads` is the pool's).
   */
  pool?: EvaluatorProvider;
  /**
   * Rows in flight at once: on this thread without workers (for async models that wait on
   * I/O), or tasks in a shared `pool`. @defaultValue 1 on this thread; 2 × the pool's threads with a pool
   */
  concurrency?: number;
  /**
   * The cost model of `threads`: rows run on this thread first, and the workers start only
   * once the rest of the job is projected (from the rows done so far) to take longer than
   * this many milliseconds on one thread — starting a worker costs 0.1–0.3 s (its modules
   * and its own model session), so small jobs never pay it. 0 starts them at once.
   * @defaultValue 300
   */
  minParallelMs?: number;
  /** Memoise masked rows (each distinct row reaches the model once). @defaultValue true */
  dedupe?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: ExplainProgress) => void;
  /** Receives warnings (large background...). @defaultValue process.emitWarning */
  onWarning?: (message: string) => void;
  /**
   * Method `'lime'`: its settings grouped in one object (the same as the top-level LIME
   * options below; giving one both ways is refused). The `background` rows are LIME's
   * training data.
   */
  lime?: LimeSettings;
  /** LIME: neighbours sampled per row. @defaultValue 5000 */
  numSamples?: number;
  /** LIME: features in the local model. @defaultValue 10 */
  numFeatures?: number;
  /** LIME: feature selection. @defaultValue 'auto' */
  featureSelection?: LimeSettings['featureSelection'];
  /** LIME: continuous features binned (quartile, decile) or Gaussian (none). @defaultValue 'quartile' */
  discretizer?: LimeSettings['discretizer'];
  /** LIME: kernel width. @defaultValue 0.75 · √players */
  kernelWidth?: number;
  /** LIME: distance to the instance. @defaultValue 'euclidean' */
  distance?: LimeSettings['distance'];
  /** LIME: single columns to treat as categorical. @defaultValue none */
  categorical?: LimeSettings['categorical'];
  /** LIME: Gaussian sampling centred on the instance. @defaultValue false */
  sampleAroundInstance?: boolean;
  /** LIME: ridge penalty. @defaultValue 1 */
  alpha?: number;
  /** LIME: sample weight from distance. @defaultValue lime's exponential kernel */
  kernel?: LimeSettings['kernel'];
}

/**
 * Validates a method name for tabular rows (the registry's list), with a hint for methods
 * that explain other inputs. @returns the name.
 */
export function resolveMethod(method: unknown, option = 'method'): Method {
  return getMethod(method ?? DEFAULT_METHOD, 'tabular', option).name;
}

/**
 * Checks `options` against a method's descriptor: options the method does not take are
 * refused (never ignored), given values are checked against their specs, then the
 * method's cross-option rules. `label` spells option names for messages (CLI flags).
 * @returns the descriptor.
 */
export function checkMethodOptions(
  method: RegisteredMethod,
  options: Readonly<Record<string, unknown>>,
  label: (name: string) => string = (n) => n,
): RegisteredMethod {
  refuseInapplicable(method, options, METHODS, label);
  for (const spec of optionsOf(method)) {
    const v = options[spec.name];
    if (spec.name === 'method' || !isGiven(spec.name, v)) continue;
    if (spec.kind === 'object') continue; // checked where it is used (backgrounds, players...)
    checkValue(spec, v, label(spec.name));
  }
  method.check?.(options as unknown as Record<string, unknown>);
  return method;
}

/** The method's own options that were given (for `run` and `meta.params`). */
function ownOptions(method: RegisteredMethod, options: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of method.options) if (options[spec.name] !== undefined) out[spec.name] = options[spec.name];
  return out;
}

/** The JSON-representable given options (for `meta.params`). */
export function paramsOf(options: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options))
    if (v === null || ['number', 'string', 'boolean'].includes(typeof v) || Array.isArray(v)) out[k] = v;
  return out;
}

/**
 * Explains `rows` of a model with a registered method (default: Kernel SHAP of the
 * interventional game v(S) = Σ_b w_b f(x_S, b_{N∖S}) over the background rows b).
 *
 * @example
 * const exp = await explain(model, applicants, { background: train, groups, seed: 42 });
 * exp.values; // Float64Array [rows × players × outputs]
 * @throws {InvalidOptionError} for bad options — including an option the chosen method does
 *   not take — {@link DataError} / {@link ShapeError} for bad rows or background,
 *   {@link ModelError} when the model fails, `BudgetError` when the method cannot run in the
 *   budget, `AbortedError` when `signal` aborts.
 */
export async function explain(model: Model, rows: RowsInput, options: ExplainOptions): Promise<Explanation> {
  if (!options || typeof options !== 'object')
    throw new InvalidOptionError('options', 'an object with at least { background }', options);
  const method = checkMethodOptions(
    getMethod(options.method ?? DEFAULT_METHOD),
    options as unknown as Record<string, unknown>,
  );
  const own = ownOptions(method, options as unknown as Record<string, unknown>);
  if (method.run.explainRows) {
    checkModel(model);
    if (!options.background)
      throw new InvalidOptionError('background', `background rows (method '${method.name}')`, options.background);
    // explainers of the interventional game (tree) get the weighted, summarised background
    const interventional = method.shared.includes('interventional');
    const bg = interventional ? toBackground(options.background, options.backgroundWeights, model.nInputs) : undefined;
    const exp = await method.run.explainRows(model, rows, {
      options: own,
      background: bg && options.summarize ? summarizeSeeded(bg, options.summarize) : (bg ?? options.background),
      groups: options.groups,
      players: options.players,
      seed: options.seed ?? randomSeed(),
      firstRowIndex: options.firstRowIndex,
      batchRows: options.batchRows,
      threads: options.threads,
      pool: options.pool,
      concurrency: options.concurrency,
      minParallelMs: options.minParallelMs,
      signal: options.signal,
      onProgress: options.onProgress,
      onWarning: options.onWarning,
    });
    return createExplanation({
      ...exp,
      meta: { ...exp.meta, link: linkOf(model), params: paramsOf(own) },
    });
  }
  if (!method.run.estimate) throw new InvalidOptionError('method', 'a method with a run function', method.name);
  return explainGame(model, rows, options, method, own);
}

/** The model's link, as its spec records it. */
export function linkOf(model: Model): string {
  const l = model.spec?.options?.link;
  return typeof l === 'string' ? l : 'identity';
}

async function explainGame(
  model: Model,
  rows: RowsInput,
  options: ExplainOptions,
  method: RegisteredMethod,
  own: Record<string, unknown>,
): Promise<Explanation> {
  const started = performance.now();
  checkModel(model);
  const d = model.nInputs;
  const columns = columnsOf(rows) ?? (model.inputNames ? [...model.inputNames] : defaultNames(d));
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
  const budget = own.budget as number | 'auto' | undefined;
  if (budget !== undefined && budget !== 'auto') resolveBudget(budget, n);
  if (method.maxPlayers !== undefined && n > method.maxPlayers)
    throw new BudgetError(
      `method '${method.name}' needs all 2^${n} coalition values, above its limit of ${method.maxPlayers} players; use method 'kernel' or 'permutation' (sampled, with standard errors), or group columns into fewer players`,
    );
  const seed = options.seed ?? randomSeed();
  const warn = options.onWarning ?? ((m: string) => process.emitWarning(m, 'WhyboxWarning'));

  // background
  let background = toBackground(options.background, options.backgroundWeights, d);
  const summarize = options.summarize || undefined;
  if (summarize) background = summarizeSeeded(background, summarize);
  else if (background.nRows > LARGE_BACKGROUND_ROWS) {
    const per =
      method.name === 'exact' || budget === 'auto'
        ? ''
        : ` — up to ${((budget ?? defaultBudget(n)) * background.nRows).toLocaleString('en')} model rows per explained row`;
    warn(
      `background has ${background.nRows} rows: every coalition value costs ${background.nRows} model rows${per}; pass summarize: { method: 'kmeans', rows: 100 } (CLI: --summarize 100) to trade a little fidelity for speed`,
    );
  }

  const nRows = rows.nRows;
  const first = options.firstRowIndex ?? 0;
  const streams = indexedStreams(
    seed,
    Array.from({ length: nRows }, (_, i) => first + i),
  );
  const run = await runInterventional({
    model,
    data: rows.data,
    plans: [{ players, background, rows: Array.from({ length: nRows }, (_, i) => i) }],
    method: method.name,
    estimate: method.run.estimate as GameEstimator,
    split: method.run.split,
    gameRows: method.run.gameRows,
    minParallelMs: options.minParallelMs,
    options: own,
    rng: (_plan, r) => streams[r],
    designSeed: seed,
    batchRows: resolveBatchRows(options.batchRows),
    threads: options.threads,
    pool: options.pool,
    concurrency: options.concurrency,
    dedupe: options.dedupe,
    signal: options.signal,
    onProgress: options.onProgress
      ? (p) => options.onProgress?.({ rowsDone: p.unitsDone, rows: p.units, done: p.done, total: p.total })
      : undefined,
  });
  const results = run.results[0];
  const nOut = results[0]?.prediction.length ?? model.outputNames.length;
  const values = new Float64Array(nRows * n * nOut);
  const predictions = new Float64Array(nRows * nOut);
  const exactMethod = method.name === 'exact';
  const hasStderr = !exactMethod && results.every((u) => u.estimate.stderr !== undefined);
  const stderr = hasStderr || exactMethod ? new Float64Array(nRows * n * nOut) : undefined;
  let evaluations = 0;
  results.forEach((u, r) => {
    values.set(u.estimate.values, r * n * nOut);
    if (stderr && u.estimate.stderr) stderr.set(u.estimate.stderr, r * n * nOut);
    predictions.set(u.prediction, r * nOut); // f(x) itself (v(N) is Σ_b w_b f(x), equal up to rounding)
    evaluations += u.estimate.evaluations;
  });
  const auto = budget === 'auto';
  const variant = method.name === 'kernel' ? results[0]?.estimate.variant : undefined;
  const baseValue = results[0]?.baseValue ?? new Float64Array(nOut); /* every unit of the plan shares the background */
  return createExplanation({
    method: method.name,
    variant,
    players: players.names,
    outputs: [...model.outputNames],
    columns,
    playerColumns: playerColumnLists(players),
    nRows,
    data: rows.data.slice(0, nRows * d),
    baseValues: baseValue.slice(),
    predictions,
    values,
    stderr,
    exact: results.map((u) => u.estimate.exact),
    converged: auto ? results.map((u) => u.estimate.converged === true) : undefined,
    evaluations,
    modelRows: run.modelRows,
    seconds: (performance.now() - started) / 1000,
    meta: {
      version: VERSION,
      seed,
      budget:
        method.maxPlayers !== undefined && !('budget' in own) ? 2 ** n : auto ? 'auto' : (budget ?? defaultBudget(n)),
      background: {
        rows: background.nRows,
        summary: background.summary,
        ...(background.seed !== undefined ? { seed: background.seed } : {}),
      },
      threads: run.threads,
      variant,
      link: linkOf(model),
      params: paramsOf(own),
    },
  });
}

export type { RowsInput };
export { checkRows, toBackground };
