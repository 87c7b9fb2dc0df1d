import { availableParallelism } from 'node:os';
import type { Dataset } from './data/dataset.js';
import type { EncodeOptions, RawRecord } from './data/encoder.js';
import { encodeRecords } from './data/encoder.js';
import type { GroupSpec, Players } from './data/players.js';
import { definePlayers } from './data/players.js';
import { defaultNames, toBackground } from './data/rows.js';
import type { Schema } from './data/schema.js';
import { schemaPlayers } from './data/schema.js';
import { DataError, describe, InvalidOptionError, ShapeError, WorkerError } from './errors.js';
import type { EvaluatorProvider, ExplainOptions, RowsInput } from './explain.js';
import { explain, resolveMethod } from './explain.js';
import type { Explanation, Method } from './explanation/explanation.js';
import { predictInChunks, resolveBatchRows } from './games/evaluator.js';
import { acceptedNames, checkValue } from './methods/options.js';
import type { RegisteredMethod } from './methods/registry.js';
import { allOptions, DEFAULT_METHOD, getMethod } from './methods/registry.js';
import type { Model } from './models/model.js';
import { resolveOutput, selectOutputs } from './models/model.js';
import type { OnnxModelOptions } from './models/onnx-model.js';
import { loadOnnx } from './models/onnx-model.js';
import type { WorkerPool } from './parallel/pool.js';
import { createWorkerPool } from './parallel/pool.js';
import type { Background, SummarizeOptions } from './sampling/background.js';
import { summarizeSeeded } from './sampling/background.js';

/**
 * Rows given to an {@link Explainer}: a dataset, a row-major buffer, an array of number arrays
 * (model column order), or `{ records }`: raw records encoded with the explainer's schema.
 */
export type ExplainerRows =
  | RowsInput
  | readonly (readonly number[])[]
  | { readonly records: readonly RawRecord[]; readonly encode?: EncodeOptions };

/** Per-call options of {@link Explainer.explain} (the model, background and players are the explainer's). */
export type ExplainerCallOptions = Omit<
  ExplainOptions,
  | 'background'
  | 'backgroundWeights'
  | 'summarize'
  | 'groups'
  | 'players'
  | 'batchRows'
  | 'threads'
  | 'pool'
  | 'onWarning'
> & {
  /**
   * Output(s) to explain: an index or an output name such as `"probabilities[1]"` (as the CLI's
   * `--output`). @defaultValue the explainer's `output`, else every output of the model
   */
  output?: number | string;
};

/** Options of {@link createExplainer}. */
export interface ExplainerOptions {
  /** The model (from `loadOnnx`, `fromModule`, `fromFunction`). Give `model` or `modelPath`. */
  model?: Model;
  /** An ONNX file to load (the explainer owns the session and releases it on `close()`). */
  modelPath?: string;
  /** Options of `loadOnnx` when `modelPath` is given (output tensor, link...). */
  onnx?: OnnxModelOptions;
  /**
   * Default output(s) explained: an index or output name such as `"probabilities[1]"`.
   * @defaultValue every output of the model
   */
  output?: number | string;
  /**
   * Background (reference) rows. Required to explain; an explainer without one can only
   * predict. Summarised once, at creation, when `summarize` is set.
   */
  background?: RowsInput | Background;
  /** Weight per background row. @defaultValue uniform */
  backgroundWeights?: ArrayLike<number>;
  /** Summarise the background once at creation: `{ method: 'kmeans' | 'sample', rows }`. @defaultValue none */
  summarize?: SummarizeOptions | false;
  /**
   * Seed of the background summary (a fixed summary whatever the requests' seeds); the same
   * as `summarize.seed`. @defaultValue {@link SUMMARY_SEED} (0), as `explain()` and the CLI
   */
  summarizeSeed?: number;
  /**
   * Model input column names (for groups and reports).
   * @defaultValue the background's columns, else the model's input names, else x0, x1, ...
   */
  columns?: readonly string[];
  /** Players: groups of columns `{ name: [column, ...] }`; other columns are players of their own. */
  groups?: GroupSpec;
  /** Players as a prebuilt {@link Players} (overrides `groups`). */
  players?: Players;
  /**
   * Schema of the model's raw attributes (from `loadSchema`): rows may then be given as raw
   * records (`{ records }`), the columns are the schema's, and each attribute is one player
   * (unless `groups` or `players` say otherwise).
   */
  schema?: Schema;
  /**
   * Worker threads of the explainer's own pool (created once, shared by every call).
   * @defaultValue os.availableParallelism() when the model can be rebuilt in workers (ONNX,
   *   `fromModule`), else 1 (the model runs on the main thread)
   */
  threads?: number;
  /** A pool to share with other explainers (then `threads` is ignored; `close()` leaves it open). */
  pool?: WorkerPool;
  /** Rows per model call. @defaultValue 4096 */
  batchRows?: number;
  /** Defaults of every {@link Explainer.explain} call (method, budget, variant...). */
  defaults?: Omit<ExplainerCallOptions, 'signal' | 'onProgress' | 'output'>;
  /** Receives warnings (each distinct message once). @defaultValue process.emitWarning */
  onWarning?: (message: string) => void;
}

/** Predictions of {@link Explainer.predict}: `predictions[r * outputs.length + o]`. */
export interface ExplainerPrediction {
  readonly outputs: readonly string[];
  readonly nRows: number;
  readonly predictions: Float64Array;
}

/**
 * A model loaded once, with its background (summarised once), its players and a shared worker
 * pool, for long-lived processes (a web service explaining each decision it makes).
 *
 * `explain()` and `predict()` may be called concurrently: each call gets its own evaluator on
 * the shared pool, and results are those of the function `explain()` with the same options.
 * `close()` waits for the calls in flight, then releases the pool and the ONNX sessions.
 *
 * @example
 * const explainer = await createExplainer({ modelPath: 'credit.onnx', background: train, groups });
 * const exp = await explainer.explain([[0.3, 1, 0, ...]], { seed: 42, budget: 512 });
 * await explainer.close();
 */
export class Explainer {
  /** The model (all outputs). */
  readonly model: Model;
  /** The background, after summarising (undefined: predict-only explainer). */
  readonly background: Background | undefined;
  /** The background rows before summarising (LIME's training data). */
  readonly training: Background | undefined;
  readonly players: Players;
  /** Model input column names. */
  readonly columns: readonly string[];
  /** The schema of raw records, when given. */
  readonly schema: Schema | undefined;
  /** Worker threads evaluating the model (1: main thread). */
  readonly threads: number;
  private readonly pool: WorkerPool | undefined;
  /** The pool, handing out one evaluator per model view for the explainer's whole life. */
  private readonly provider: EvaluatorProvider | undefined;
  private readonly ownsPool: boolean;
  private readonly ownsModel: boolean;
  private readonly defaultOutput: number | string | undefined;
  /** Defaults of every explain call. */
  readonly defaults: ExplainerOptions['defaults'];
  private readonly batchRows: number;
  private readonly warn: (message: string) => void;
  private readonly views = new Map<string, Model>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;
  private closing: Promise<void> | undefined;

  /** Use {@link createExplainer}. @internal */
  constructor(init: {
    model: Model;
    background: Background | undefined;
    training: Background | undefined;
    players: Players;
    columns: readonly string[];
    schema: Schema | undefined;
    pool: WorkerPool | undefined;
    ownsPool: boolean;
    ownsModel: boolean;
    options: ExplainerOptions;
  }) {
    this.model = init.model;
    this.background = init.background;
    this.training = init.training;
    this.players = init.players;
    this.columns = init.columns;
    this.schema = init.schema;
    this.pool = init.pool;
    this.provider = init.pool && cachingProvider(init.pool);
    this.ownsPool = init.ownsPool;
    this.ownsModel = init.ownsModel;
    this.threads = init.pool?.threads ?? 1;
    this.defaultOutput = init.options.output;
    this.defaults = init.options.defaults;
    this.batchRows = resolveBatchRows(init.options.batchRows);
    const seen = new Set<string>();
    const sink = init.options.onWarning ?? ((m: string) => process.emitWarning(m, 'WhyboxWarning'));
    this.warn = (m) => {
      if (seen.has(m)) return;
      seen.add(m);
      sink(m);
    };
    if (this.defaultOutput !== undefined) this.outputModel(this.defaultOutput);
  }

  /** The worker pool evaluating the model (its own or a shared one); undefined on one thread. */
  get workerPool(): WorkerPool | undefined {
    return this.pool;
  }

  /** Number of model inputs (values per row). */
  get nInputs(): number {
    return this.model.nInputs;
  }

  /** Names of the outputs explained by default. */
  get outputs(): readonly string[] {
    return this.outputModel(this.defaultOutput).outputNames;
  }

  /** Calls of `explain` / `predict` in flight. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** True once {@link Explainer.close} was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Explains rows (Shapley values) with the explainer's model, background and players.
   * @throws as `explain()`; {@link InvalidOptionError} when the explainer has no background;
   *   {@link WorkerError} once closed.
   */
  explain(rows: ExplainerRows, options: ExplainerCallOptions = {}): Promise<Explanation> {
    return this.track(async () => {
      if (!this.background)
        throw new InvalidOptionError(
          'background',
          'background rows to explain against',
          undefined,
          'this explainer was created without one: it can only predict',
        );
      const { output, ...rest } = options;
      const model = this.outputModel(output ?? this.defaultOutput);
      const input = this.toRows(rows, 'rows');
      const method = getMethod(rest.method ?? this.defaults?.method ?? DEFAULT_METHOD);
      const opts: ExplainOptions = {
        ...this.defaultsFor(method),
        ...stripUndefined(rest),
        // LIME samples from the training rows' statistics, not from a summary
        background: (method.shared.includes('interventional') ? this.background : this.training) as Background,
        players: this.players,
        batchRows: this.batchRows,
        onWarning: this.warn,
      };
      if (method.shared.includes('parallel')) {
        if (this.provider) opts.pool = this.provider;
        else opts.threads = 1;
      }
      return explain(model, input, opts);
    });
  }

  /** The model's outputs for some rows (on the main thread). */
  predict(rows: ExplainerRows, options: { output?: number | string; signal?: AbortSignal } = {}) {
    return this.track(async (): Promise<ExplainerPrediction> => {
      const model = this.outputModel(options.output ?? this.defaultOutput);
      const input = this.toRows(rows, 'rows');
      const predictions =
        this.pool && model.spec // in a worker, where a model's fault is contained
          ? await this.pool.predict(model, input.data, input.nRows, this.batchRows, options.signal)
          : await predictInChunks(model, input.data, input.nRows, this.batchRows, options.signal);
      return { outputs: model.outputNames, nRows: input.nRows, predictions };
    });
  }

  /** The method a call with `method` would use (the explainer's default when undefined). */
  resolveMethod(method: unknown): Method {
    return resolveMethod(method ?? this.defaults?.method);
  }

  /**
   * Waits for the calls in flight, then releases the worker pool (when the explainer created
   * it) and the ONNX session (when it loaded the model). Safe to call twice.
   */
  close(): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      await Promise.allSettled([...this.inFlight]);
      if (this.pool && this.ownsPool) await this.pool.close();
      if (this.ownsModel) await this.model.close?.();
    })();
    return this.closing;
  }

  /**
   * The explainer's defaults that apply to a method (the registry says which options it
   * takes: a default budget is not for 'exact', a variant only for 'kernel'...).
   */
  private defaultsFor(method: RegisteredMethod): Partial<ExplainOptions> {
    const accepted = acceptedNames(method);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.defaults ?? {})) if (accepted.has(k)) out[k] = v;
    // 'auto' is a Kernel SHAP budget: other methods fall back to their own default
    const budgetSpec = method.options.find((o) => o.name === 'budget');
    if (out.budget === 'auto' && !budgetSpec?.auto) delete out.budget;
    return out as Partial<ExplainOptions>;
  }

  /** A model view for an output selection (cached: workers load each view once). */
  private outputModel(output: number | string | undefined): Model {
    if (output === undefined) return this.model;
    const key = `${typeof output}:${output}`;
    let view = this.views.get(key);
    if (!view) {
      if (typeof output !== 'number' && typeof output !== 'string')
        throw new InvalidOptionError('output', 'an output index or name', output);
      const index = resolveOutput(this.model.outputNames, output);
      view = selectOutputs(this.model, index);
      this.views.set(key, view);
    }
    return view;
  }

  /**
   * Encodes raw records into model rows with the explainer's schema.
   * @throws {InvalidOptionError} without a schema; {@link DataError} naming the record and attribute.
   */
  encode(records: readonly RawRecord[], options: EncodeOptions = {}): Dataset {
    if (!this.schema)
      throw new InvalidOptionError(
        'records',
        'rows of numbers',
        records,
        'this explainer has no schema to encode raw records; create it with { schema }',
      );
    return encodeRecords(this.schema, records, { source: 'records', ...options });
  }

  private toRows(rows: ExplainerRows, what: string): RowsInput {
    const d = this.model.nInputs;
    if (rows && !Array.isArray(rows) && 'records' in rows) return this.encode(rows.records, rows.encode);
    if (Array.isArray(rows)) {
      if (rows.length === 0) throw new DataError(`${what} holds no rows`);
      const data = new Float64Array(rows.length * d);
      rows.forEach((row: unknown, r: number) => {
        if (!Array.isArray(row)) throw new InvalidOptionError(`${what}[${r}]`, `an array of ${d} numbers`, row);
        if (row.length !== d)
          throw new ShapeError(`${what}[${r}] has ${row.length} values; the model takes ${d} inputs`);
        for (let c = 0; c < d; c++) {
          const v = row[c];
          if (typeof v !== 'number' || !Number.isFinite(v))
            throw new DataError(
              `${what}[${r}][${c}] (column ${JSON.stringify(this.columns[c])}) must be a finite number; got ${describe(v)}`,
            );
          data[r * d + c] = v;
        }
      });
      return { data, nRows: rows.length, columns: this.columns };
    }
    const r = rows as RowsInput;
    return 'columns' in r ? r : { data: r.data, nRows: r.nRows, columns: this.columns };
  }

  private track<T>(run: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new WorkerError('the explainer is closed; create a new one'));
    const p = run();
    this.inFlight.add(p);
    const done = () => this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }
}

/**
 * Creates an {@link Explainer}: loads the model (when `modelPath` is given), checks and
 * summarises the background once, builds the players and starts the worker pool.
 *
 * @throws {InvalidOptionError} for bad options, {@link ModelError} when the model cannot be
 *   loaded, {@link DataError} / {@link ShapeError} for a bad background or groups.
 */
export async function createExplainer(options: ExplainerOptions): Promise<Explainer> {
  if (!options || typeof options !== 'object')
    throw new InvalidOptionError('options', 'an object with { model } or { modelPath }', options);
  if ((options.model === undefined) === (options.modelPath === undefined))
    throw new InvalidOptionError('model', 'exactly one of model or modelPath', options.model ?? options.modelPath);
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1))
    throw new InvalidOptionError('threads', 'a positive integer', options.threads);
  if (options.defaults?.method !== undefined) resolveMethod(options.defaults.method, 'defaults.method');
  if (options.defaults !== undefined) checkDefaults(options.defaults);
  const ownsModel = options.model === undefined;
  const model = options.model ?? (await loadOnnx(options.modelPath as string, options.onnx));
  let pool: WorkerPool | undefined;
  let ownsPool = false;
  try {
    const d = model.nInputs;
    const bgColumns =
      options.background && 'columns' in options.background ? (options.background as Dataset).columns : undefined;
    const schema = options.schema;
    const columns = [...(options.columns ?? schema?.columns ?? bgColumns ?? model.inputNames ?? defaultNames(d))];
    if (columns.length !== d)
      throw new ShapeError(`${columns.length} column names for a model of ${d} inputs; give one name per input`);
    if (bgColumns && !bgColumns.every((c, i) => c === columns[i]))
      throw new DataError('the background columns differ from `columns`: give the model input columns in order');
    let background: Background | undefined;
    let training: Background | undefined;
    if (options.background) {
      training = toBackground(options.background, options.backgroundWeights, d);
      background = training;
      if (options.summarize)
        background = summarizeSeeded(training, {
          ...options.summarize,
          seed: options.summarize.seed ?? options.summarizeSeed,
        });
    }
    if (schema && !sameList(schema.columns, columns))
      throw new DataError(
        `the schema's columns (${schema.columns.slice(0, 4).join(', ')}...) differ from the model input columns (${columns.slice(0, 4).join(', ')}...): they must be the same, in the same order`,
      );
    const players =
      options.players ?? (schema && !options.groups ? schemaPlayers(schema) : definePlayers(columns, options.groups));
    if (players.nColumns !== d) throw new ShapeError(`players cover ${players.nColumns} columns; the model takes ${d}`);
    if (options.pool) pool = options.pool;
    else {
      const threads = options.threads ?? (model.spec ? availableParallelism() : 1);
      if (threads > 1) {
        if (!model.spec)
          throw new InvalidOptionError(
            'threads',
            '1 for a model that is a JavaScript closure',
            threads,
            'load it with fromModule(path, exportName) or use an ONNX model to run it in worker threads',
          );
        pool = createWorkerPool({ threads });
        ownsPool = true;
      }
    }
    // the service keeps its pool warm: every worker loads the model (and its ONNX session)
    // now, not on the first request
    if (pool && model.spec) await pool.warm(model);
    return new Explainer({
      model,
      background,
      training,
      players,
      columns,
      schema,
      pool,
      ownsPool,
      ownsModel,
      options,
    });
  } catch (error) {
    if (ownsPool) await pool?.close();
    if (ownsModel) await model.close?.();
    throw error;
  }
}

/**
 * An {@link EvaluatorProvider} over `pool` that creates one evaluator per (model view,
 * batchRows) and hands it to every call: the background and the masking layout are the
 * explainer's own (fixed), so they are copied to shared memory once instead of per request.
 * Evaluators hold no per-call state, so concurrent calls can share them.
 */
function cachingProvider(pool: WorkerPool): EvaluatorProvider {
  const cache = new Map<Model, Map<number, ReturnType<EvaluatorProvider['createEvaluator']>>>();
  return {
    threads: pool.threads,
    createEvaluator(model, background, layout, options) {
      let byBatch = cache.get(model);
      if (!byBatch) {
        byBatch = new Map();
        cache.set(model, byBatch);
      }
      let ev = byBatch.get(options.batchRows);
      if (!ev) {
        ev = pool.createEvaluator(model, background, layout, options);
        byBatch.set(options.batchRows, ev);
        ev.catch(() => byBatch?.delete(options.batchRows));
      }
      // explain() releases the evaluator after each call: keep it for the next one
      return ev.then((e) => ({ ...e, release: () => undefined }));
    },
  };
}

/** Every explainer default must be an option of some method, with a valid value. */
function checkDefaults(defaults: Record<string, unknown>): void {
  const specs = new Map(allOptions().map((o) => [o.name, o]));
  for (const [k, v] of Object.entries(defaults)) {
    if (v === undefined || k === 'method') continue;
    const spec = specs.get(k);
    if (!spec || spec.kind === 'object' || spec.kind === 'function')
      throw new InvalidOptionError(`defaults.${k}`, 'an option of a method (budget, variant, numSamples...)', v);
    checkValue(spec, v, `defaults.${k}`);
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
