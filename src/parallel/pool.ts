import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import {
  AbortedError,
  BudgetError,
  DataError,
  InvalidOptionError,
  ModelError,
  ShapeError,
  throwIfAborted,
  WhyboxError,
  WorkerError,
} from '../errors.js';
import type { LimeWorkerJob } from '../explainers/lime-types.js';
import type { EvaluatorProvider, RemoteEvaluator, UnitOutcome } from '../games/evaluator.js';
import type { Model, ModelSpec } from '../models/model.js';
import type { Background } from '../sampling/background.js';
import type { MaskedRowsJob, MaskingLayout } from '../sampling/masking.js';
import { MAX_THREADS_PER_CORE, maxThreads } from './limits.js';
import type { EvaluateTask, LimeRowResult, LimeTask, PredictTask, TaskResult, UnitTask } from './tasks.js';

/** Options of {@link createWorkerPool}. */
export interface WorkerPoolOptions {
  /** Worker threads. @defaultValue os.availableParallelism() */
  threads?: number;
  /**
   * onnxruntime intra-op threads per worker session. @defaultValue
   * max(1, floor(cores / threads)) — workers × intra-op threads never exceed the cores.
   */
  intraOpThreads?: number;
  /**
   * Hard time limit (ms) of one worker task (a few model calls). Past it the task fails with a
   * {@link WorkerError}; a pool of JavaScript models terminates and replaces the worker, a pool
   * with ONNX models (whose threads must not be torn down while they hold a session) counts the
   * slot as lost until the task ends (see {@link WorkerPool.lostSlots}). 0: no limit.
   * @defaultValue 60000
   */
  taskTimeoutMs?: number;
  /**
   * Heap limit (MiB) of each worker: a model that allocates past it ends its worker (the task
   * fails with a {@link WorkerError}, the pool replaces the worker) instead of the process.
   * @defaultValue 4096
   */
  workerHeapMb?: number;
  /**
   * Linux: the workers' nice value (0–19), added to the process's: they run below the main
   * thread, whose event loop schedules the work and (in a service) answers health checks, so
   * a saturated pool never starves it. Other platforms: ignored (documented no-op).
   * @defaultValue 10
   */
  workerNice?: number;
}

/** Time (ms) a task aims at: tasks grow from one `batchRows` chunk up to 4 while chunks are faster. */
export const TARGET_TASK_MS = 100;

/**
 * After an abort, how long (ms) a pool of JavaScript models waits for a running task to stop at
 * its next check before it terminates the worker.
 */
export const ABORT_GRACE_MS = 100;

export { MAX_THREADS_PER_CORE, maxThreads } from './limits.js';

/** Resolved defaults (see {@link WorkerPoolOptions}). */
export function resolvePoolOptions(options: WorkerPoolOptions): Required<WorkerPoolOptions> {
  const taskTimeoutMs = options.taskTimeoutMs ?? 60_000;
  if (!Number.isInteger(taskTimeoutMs) || taskTimeoutMs < 0)
    throw new InvalidOptionError('taskTimeoutMs', 'a non-negative integer (ms; 0: no limit)', taskTimeoutMs);
  const cores = availableParallelism();
  const threads = options.threads ?? cores;
  if (!Number.isInteger(threads) || threads < 1) throw new InvalidOptionError('threads', 'a positive integer', threads);
  if (threads > maxThreads())
    throw new InvalidOptionError(
      'threads',
      `at most ${maxThreads()} (${MAX_THREADS_PER_CORE} × the ${cores} cores)`,
      threads,
      'each worker holds its own copy of the model; more threads than cores add memory, not speed',
    );
  const intraOpThreads = options.intraOpThreads ?? Math.max(1, Math.floor(cores / threads));
  if (!Number.isInteger(intraOpThreads) || intraOpThreads < 1)
    throw new InvalidOptionError('intraOpThreads', 'a positive integer', intraOpThreads);
  const workerHeapMb = options.workerHeapMb ?? 4096;
  if (!Number.isInteger(workerHeapMb) || workerHeapMb < 64)
    throw new InvalidOptionError('workerHeapMb', 'an integer >= 64 (MiB)', workerHeapMb);
  const workerNice = options.workerNice ?? 10;
  if (!Number.isInteger(workerNice) || workerNice < 0 || workerNice > 19)
    throw new InvalidOptionError('workerNice', 'an integer from 0 to 19 (0: the main thread’s priority)', workerNice);
  return { threads, intraOpThreads, taskTimeoutMs, workerHeapMb, workerNice };
}

/**
 * A pool of worker threads (piscina) that evaluates model batches for any number of
 * concurrent explanations.
 *
 * The main thread sends compact jobs — background-row indices and coalition bit sets — and
 * each worker builds the masked rows itself from the background, shared once through a
 * SharedArrayBuffer, runs its own copy of the model (one ONNX session per worker, opened
 * once) and transfers the outputs back. A job is split into the same `batchRows` chunks as
 * on one thread and reassembled in order, so results are bit-identical whatever the thread
 * count. Close it with {@link WorkerPool.close} (sessions are released before threads end).
 */
export class WorkerPool implements EvaluatorProvider {
  readonly threads: number;
  readonly intraOpThreads: number;
  private readonly piscina: Piscina<EvaluateTask, TaskResult>;
  private readonly specIds = new WeakMap<Model, { id: string; spec: ModelSpec }>();
  private nextId = 0;
  private nextPlan = 0;
  private closed = false;
  private active = 0;
  /** An ONNX model was registered: workers may hold native sessions and are never terminated. */
  private hasOnnx = false;
  private lost = 0;
  readonly taskTimeoutMs: number;

  constructor(options: WorkerPoolOptions = {}) {
    const { threads, intraOpThreads, taskTimeoutMs, workerHeapMb, workerNice } = resolvePoolOptions(options);
    this.threads = threads;
    this.intraOpThreads = intraOpThreads;
    this.taskTimeoutMs = taskTimeoutMs;
    this.piscina = new Piscina({
      filename: workerFile(),
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      atomics: 'disabled',
      resourceLimits: { maxOldGenerationSizeMb: workerHeapMb },
      workerData: { whyboxNice: workerNice },
    });
    this.piscina.on('error', () => undefined); // worker crashes reject their task; keep the pool alive
    openPools.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      // a pool left open when the event loop drains is closed properly (sessions released
      // before the threads end) instead of being torn down with the process
      process.on('beforeExit', () => {
        for (const pool of openPools) void pool.close();
      });
    }
  }

  /** An evaluator of masked rows for one model and background (shared across explained rows). */
  async createEvaluator(
    model: Model,
    background: Background,
    layout: MaskingLayout,
    options: { batchRows: number },
  ): Promise<RemoteEvaluator & { release(): void }> {
    if (this.closed) throw new WorkerError('the worker pool is closed; create a new one');
    const registered = this.register(model);
    const f32 = model.inputType === 'float32';
    const shared = (len: number, bytes: number) => new SharedArrayBuffer(len * bytes);
    const bgData = f32
      ? new Float32Array(shared(background.data.length, 4))
      : new Float64Array(shared(background.data.length, 8));
    bgData.set(background.data);
    const sharedLayout: MaskingLayout = {
      nColumns: layout.nColumns,
      nPlayers: layout.nPlayers,
      words: layout.words,
      offsets: copyShared(layout.offsets),
      columns: copyShared(layout.columns),
      starts: layout.starts && copyShared(layout.starts),
      ends: layout.ends && copyShared(layout.ends),
    };
    const { batchRows } = options;
    const nOut = model.outputNames.length;
    const overrides = registered.spec.kind === 'onnx' ? { intraOpThreads: this.intraOpThreads } : {};
    // for whole units: the background as given (its differing players are found on these
    // values, not on float32 copies) and its weights, shared once
    const bg64 = f32 ? copyShared64(background.data) : (bgData as Float64Array);
    const weights = copyShared64(background.weights);
    const planId = `${registered.id}:p${this.nextPlan++}`;
    this.active++;
    let released = false;
    const threads = this.threads;
    const speed: Speed = { msPerRow: undefined };
    const run = async (
      x: Float64Array,
      job: MaskedRowsJob,
      start: number,
      end: number,
      control: Int32Array,
      signal: AbortSignal | undefined,
    ) => {
      if (this.closed) throw new WorkerError('the worker pool was closed during the explanation');
      const W = layout.words;
      let part: MaskedRowsJob = job;
      let offset = start;
      let transfer: ArrayBuffer[] = [];
      if (job.kind !== 'enumerate') {
        // explicit rows: send (and hand over) just this task's rows
        const bg = job.bg.slice(start, end);
        const keys = job.keys.slice(start * W, end * W);
        part = { nRows: end - start, bg, keys };
        offset = 0;
        transfer = [bg.buffer, keys.buffer];
      }
      const task: EvaluateTask = {
        specId: registered.id,
        spec: registered.spec,
        overrides,
        layout: sharedLayout,
        background: bgData,
        x,
        job: part,
        start: offset,
        nRows: end - start,
        batchRows,
        control,
      };
      return this.dispatch('evaluate', task, transfer, control, signal);
    };
    return {
      nOutputs: nOut,
      outputNames: model.outputNames,
      layout,
      background,
      batchRows,
      async evaluate(x, job, signal) {
        throwIfAborted(signal);
        // tasks of whole batchRows chunks (a worker calls the model once per chunk, so the chunks —
        // and every output bit — are those of one thread): one chunk first, then as many (up to 4)
        // as fit in TARGET_TASK_MS at the measured speed, at least two tasks per worker when the
        // job is large enough
        const chunksTotal = Math.ceil(job.nRows / batchRows);
        const cap = Math.max(1, Math.min(4, Math.floor(chunksTotal / (2 * threads))));
        const out = new Float64Array(job.nRows * nOut);
        await runTasks(job.nRows, batchRows, cap, threads, speed, signal, (start, end, control) =>
          run(x, job, start, end, control, signal).then((o) => out.set(o, start * nOut)),
        );
        return out;
      },
      // plain rows too (f(x), the background): in a worker, where a model's fault is contained
      predict: (rows, nRows, signal) => this.predict(model, rows, nRows, batchRows, signal),
      explainUnit: async (unit, signal) => {
        throwIfAborted(signal);
        if (this.closed) throw new WorkerError('the worker pool was closed during the explanation');
        const control = new Int32Array(new SharedArrayBuffer(4));
        const task: UnitTask = {
          specId: registered.id,
          spec: registered.spec,
          overrides,
          planId,
          layout: sharedLayout,
          background: bg64,
          weights,
          batchRows,
          control,
          unit,
        };
        // a unit is many model calls: its limit is the pool's per four batchRows chunks
        const chunks = Math.ceil(unit.expectedRows / batchRows);
        const limit = this.taskTimeoutMs * Math.max(1, Math.ceil(chunks / 4));
        return this.dispatch<UnitOutcome>('explainUnit', task, [], control, signal, limit);
      },
      release: () => {
        if (!released) {
          released = true;
          this.active--;
        }
      },
    };
  }

  /**
   * Predictions for plain rows in a worker (chunks of `batchRows`, as on one thread), with the
   * pool's time limit and abort handling.
   */
  async predict(
    model: Model,
    rows: Float64Array,
    nRows: number,
    batchRows: number,
    signal?: AbortSignal,
  ): Promise<Float64Array> {
    throwIfAborted(signal);
    if (this.closed) throw new WorkerError('the worker pool is closed; create a new one');
    const registered = this.register(model);
    const overrides = registered.spec.kind === 'onnx' ? { intraOpThreads: this.intraOpThreads } : {};
    const d = model.nInputs;
    const nOut = model.outputNames.length;
    const out = new Float64Array(nRows * nOut);
    const chunksTotal = Math.ceil(nRows / batchRows);
    const cap = Math.max(1, Math.min(4, Math.floor(chunksTotal / (2 * this.threads))));
    await runTasks(
      nRows,
      batchRows,
      cap,
      this.threads,
      { msPerRow: undefined },
      signal,
      async (start, end, control) => {
        const part = rows.slice(start * d, end * d);
        const task: PredictTask = {
          specId: registered.id,
          spec: registered.spec,
          overrides,
          rows: part,
          nRows: end - start,
          batchRows,
          control,
        };
        out.set(await this.dispatch('predict', task, [part.buffer as ArrayBuffer], control, signal), start * nOut);
      },
    );
    return out;
  }

  /**
   * Runs one task in a worker with the hard time limit; an abort sets the task's flag (the
   * worker stops at its next check) and, in a pool of JavaScript models, terminates the worker
   * after {@link ABORT_GRACE_MS} if it has not stopped.
   */
  private dispatch<T = Float64Array>(
    name: 'evaluate' | 'predict' | 'explainUnit' | 'limeRows',
    task: EvaluateTask | PredictTask | UnitTask | LimeTask,
    transfer: ArrayBuffer[],
    control: Int32Array,
    signal: AbortSignal | undefined,
    timeoutMs = this.taskTimeoutMs,
  ): Promise<T> {
    // piscina terminates the worker of an aborted task: only safe without ONNX sessions (a
    // thread torn down while it holds one aborts the whole process)
    const kill = this.hasOnnx ? undefined : new AbortController();
    const running = this.piscina.run(task as never, {
      name,
      transferList: transfer as never,
      ...(kill ? { signal: kill.signal } : {}),
    }) as Promise<TaskResult<T>>;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let grace: ReturnType<typeof setTimeout> | undefined;
      const finish = () => {
        settled = true;
        if (hard) clearTimeout(hard);
        if (grace) clearTimeout(grace);
        signal?.removeEventListener('abort', onAbort);
      };
      const hard =
        timeoutMs > 0
          ? setTimeout(() => {
              if (settled) return;
              finish();
              Atomics.store(control, 0, 1);
              if (kill) kill.abort();
              else {
                this.lost++;
                running.then(
                  () => this.lost--,
                  () => this.lost--,
                );
              }
              reject(
                new WorkerError(
                  `a worker task ran past the pool's time limit of ${timeoutMs} ms (the model hangs or is far slower than expected); ${kill ? 'the worker was replaced' : 'its worker slot counts as lost until it ends'}`,
                ),
              );
            }, timeoutMs)
          : undefined;
      const onAbort = () => {
        Atomics.store(control, 0, 1);
        if (kill && !grace) grace = setTimeout(() => kill.abort(), ABORT_GRACE_MS);
      };
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
      running.then(
        (result) => {
          if (settled) return;
          finish();
          if ('error' in result) reject(reviveError(result.error));
          else resolve(result.ok);
        },
        (error) => {
          if (settled) return;
          finish();
          if (signal?.aborted)
            reject(new AbortedError('the explanation was aborted (its worker was stopped)', { cause: signal.reason }));
          else
            reject(
              new WorkerError(
                `a worker thread failed while evaluating the model (${(error as Error)?.message ?? error}); the pool replaces it — retry the explanation`,
                { cause: error },
              ),
            );
        },
      );
    });
  }

  /**
   * Explains LIME rows in a worker: sampling from the training statistics, the model and the
   * local fit all run there (see `lime`'s `threads`). Time limit: the pool's per four
   * `batchRows` chunks of samples.
   */
  async limeRows(
    model: Model,
    job: LimeWorkerJob,
    options: { batchRows: number; signal?: AbortSignal },
  ): Promise<LimeRowResult[]> {
    const { batchRows, signal } = options;
    throwIfAborted(signal);
    if (this.closed) throw new WorkerError('the worker pool is closed; create a new one');
    const registered = this.register(model);
    const overrides = registered.spec.kind === 'onnx' ? { intraOpThreads: this.intraOpThreads } : {};
    const control = new Int32Array(new SharedArrayBuffer(4));
    const task: LimeTask = { specId: registered.id, spec: registered.spec, overrides, batchRows, control, job };
    const rows = job.rngStates.length * (job.settings.numSamples ?? 5000);
    const limit = this.taskTimeoutMs * Math.max(1, Math.ceil(Math.ceil(rows / batchRows) / 4));
    return this.dispatch<LimeRowResult[]>('limeRows', task, [], control, signal, limit);
  }

  /**
   * Starts loading `model` in every worker (modules, ONNX session) without waiting for a
   * task, so the first tasks find it ready. Resolves when each worker has it (or failed to
   * load it: the error comes back with the first real task).
   */
  warm(model: Model): Promise<void> {
    if (this.closed) return Promise.resolve();
    const registered = this.register(model);
    const overrides = registered.spec.kind === 'onnx' ? { intraOpThreads: this.intraOpThreads } : {};
    const task = { specId: registered.id, spec: registered.spec, overrides };
    return Promise.allSettled(
      Array.from({ length: this.threads }, () => this.piscina.run(task as never, { name: 'warm' })),
    ).then(() => undefined);
  }

  /** True once {@link WorkerPool.close} was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Worker slots held by tasks past their time limit (ONNX pools); 0 when every slot is usable. */
  get lostSlots(): number {
    return this.lost;
  }

  /**
   * Releases the workers' models (ONNX sessions), then ends the threads. Waits for running
   * tasks up to `timeoutMs`, then terminates the threads. Safe to call twice.
   * @param timeoutMs @defaultValue 5000
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    openPools.delete(this);
    const barrier = new Int32Array(new SharedArrayBuffer(8));
    barrier[1] = this.threads;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), timeoutMs);
    });
    const done = (async () => {
      await Promise.allSettled(
        Array.from({ length: this.threads }, () => this.piscina.run(barrier as never, { name: 'release' })),
      );
      await this.piscina.close();
      return 'done' as const;
    })();
    const how = await Promise.race([done, late]);
    if (timer) clearTimeout(timer);
    // a worker stuck in a task (a hanging model) never takes its release: end the threads
    if (how === 'late') await this.piscina.destroy().catch(() => undefined);
  }

  /** Evaluators created and not yet released (explanations in flight). */
  get activeEvaluators(): number {
    return this.active;
  }

  /** Tasks queued for a free worker. */
  get queueSize(): number {
    return this.piscina.queueSize;
  }

  /** Tests only: makes one worker fail ('throw') or exit ('exit'). @internal */
  async crashOneWorker(how: 'throw' | 'exit'): Promise<void> {
    await this.piscina.run(how as never, { name: 'crash' });
  }

  private register(model: Model): { id: string; spec: ModelSpec } {
    let r = this.specIds.get(model);
    if (r) return r;
    const spec = model.spec;
    if (spec?.kind === 'onnx') this.hasOnnx = true;
    if (!spec)
      throw new ModelError(
        'this model is a JavaScript closure, which cannot be sent to worker threads; load it with fromModule(specifier, exportName) or use an ONNX model (loadOnnx), or run without a pool (threads: 1)',
      );
    // ONNX bytes: share them once instead of copying them into every task
    const portable: ModelSpec =
      spec.kind === 'onnx' && spec.source instanceof Uint8Array ? { ...spec, source: copyShared(spec.source) } : spec;
    r = { id: `m${this.nextId++}`, spec: portable };
    this.specIds.set(model, r);
    return r;
  }
}

/** Measured model speed of one evaluator, for task sizes. */
interface Speed {
  msPerRow: number | undefined;
}

/**
 * Runs `nRows` rows as tasks of whole `batchRows` chunks on up to 2 × threads lanes: the first
 * task of one chunk, later ones sized to {@link TARGET_TASK_MS} at the measured speed (at most
 * `cap` chunks). An abort stops dispatching and rejects at once (running tasks see their flag);
 * tasks not yet dispatched are dropped.
 */
async function runTasks(
  nRows: number,
  batchRows: number,
  cap: number,
  threads: number,
  speed: Speed,
  signal: AbortSignal | undefined,
  runOne: (start: number, end: number, control: Int32Array) => Promise<unknown>,
): Promise<void> {
  throwIfAborted(signal);
  const control = new Int32Array(new SharedArrayBuffer(4));
  let next = 0;
  let failure: unknown;
  const size = () => {
    if (speed.msPerRow === undefined) return batchRows;
    const chunks = Math.floor(TARGET_TASK_MS / Math.max(1e-6, speed.msPerRow * batchRows));
    return Math.max(1, Math.min(cap, chunks)) * batchRows;
  };
  const lane = async () => {
    while (next < nRows && failure === undefined) {
      if (signal?.aborted) return;
      const start = next;
      const end = Math.min(nRows, start + size());
      next = end;
      const t0 = performance.now();
      try {
        await runOne(start, end, control);
        const ms = (performance.now() - t0) / (end - start);
        speed.msPerRow = speed.msPerRow === undefined ? ms : 0.7 * speed.msPerRow + 0.3 * ms;
      } catch (error) {
        failure ??= error;
      }
    }
  };
  const lanes = Promise.all(Array.from({ length: Math.min(Math.ceil(nRows / batchRows), 2 * threads) }, lane));
  if (!signal) await lanes;
  else {
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<void>((resolve) => {
      onAbort = () => {
        Atomics.store(control, 0, 1);
        resolve();
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([lanes, aborted]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }
  throwIfAborted(signal);
  if (failure !== undefined) throw failure;
}

/** Worker slots lost to tasks past their time limit, over every open pool (see {@link WorkerPool.lostSlots}). */
export function lostWorkerSlots(): number {
  let n = 0;
  for (const pool of openPools) n += pool.lostSlots;
  return n;
}

/** Pools not closed yet (closed on 'beforeExit' if the caller forgets). */
const openPools = new Set<WorkerPool>();
let exitHookInstalled = false;

/** Creates a {@link WorkerPool}. */
export function createWorkerPool(options: WorkerPoolOptions = {}): WorkerPool {
  return new WorkerPool(options);
}

function copyShared64(a: Float64Array): Float64Array {
  const out = new Float64Array(new SharedArrayBuffer(a.byteLength));
  out.set(a);
  return out;
}

function copyShared<T extends Int32Array | Uint8Array>(a: T): T {
  const Ctor = a.constructor as { new (b: SharedArrayBuffer): T };
  const out = new Ctor(new SharedArrayBuffer(a.byteLength));
  out.set(a as never);
  return out;
}

/** The typed error a worker reported, as the same class it would be on one thread. */
function reviveError(e: { code?: string; name: string; message: string }): Error {
  switch (e.code) {
    case 'MODEL':
      return new ModelError(e.message);
    case 'ABORTED':
      return new AbortedError(e.message);
    case 'DATA':
      return new DataError(e.message);
    case 'SHAPE':
      return new ShapeError(e.message);
    case 'BUDGET':
      return new BudgetError(e.message);
    case 'INVALID_OPTION': {
      const err = new WhyboxError('INVALID_OPTION', e.message);
      err.name = 'InvalidOptionError';
      return err;
    }
    case undefined:
      // not a whybox error: thrown by the model's own code (a TypeError in a module model...)
      return new ModelError(`the model failed in a worker thread: ${e.name}: ${e.message}`);
    default:
      return new WorkerError(e.message);
  }
}

/**
 * The worker script: dist/parallel/worker.js next to the compiled pool; when the pool runs
 * from the TypeScript sources (tests, benchmarks under tsx), worker-dev.mjs, which loads
 * src/parallel/worker.ts through tsx — workers then run the same code as their caller.
 */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  const file = here.endsWith('.ts')
    ? fileURLToPath(new URL('./worker-dev.mjs', import.meta.url))
    : fileURLToPath(new URL('./worker.js', import.meta.url));
  if (!existsSync(file))
    throw new WorkerError(`worker script ${file} is missing; run \`npm run build\` (it compiles src/ to dist/)`);
  return file;
}
