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
import type { EvaluatorProvider } from '../explain.js';
import type { RowEvaluator } from '../games/evaluator.js';
import { predictInChunks } from '../games/evaluator.js';
import type { Model, ModelSpec } from '../models/model.js';
import type { Background } from '../sampling/background.js';
import type { MaskedRowsJob, MaskingLayout } from '../sampling/masking.js';
import type { EvaluateTask, TaskResult } from './worker.js';

/** Options of {@link createWorkerPool}. */
export interface WorkerPoolOptions {
  /** Worker threads. @defaultValue os.availableParallelism() */
  threads?: number;
  /**
   * onnxruntime intra-op threads per worker session. @defaultValue
   * max(1, floor(cores / threads)) — workers × intra-op threads never exceed the cores.
   */
  intraOpThreads?: number;
}

/** Most worker threads per core: each worker holds its own model copy and buffers, so more only costs memory. */
export const MAX_THREADS_PER_CORE = 4;

/** The largest `threads` accepted: {@link MAX_THREADS_PER_CORE} × os.availableParallelism(). */
export function maxThreads(): number {
  return MAX_THREADS_PER_CORE * availableParallelism();
}

/** Resolved defaults (see {@link WorkerPoolOptions}). */
export function resolvePoolOptions(options: WorkerPoolOptions): Required<WorkerPoolOptions> {
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
  return { threads, intraOpThreads };
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
  private closed = false;
  private active = 0;

  constructor(options: WorkerPoolOptions = {}) {
    const { threads, intraOpThreads } = resolvePoolOptions(options);
    this.threads = threads;
    this.intraOpThreads = intraOpThreads;
    this.piscina = new Piscina({
      filename: workerFile(),
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      atomics: 'disabled',
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
  ): Promise<RowEvaluator & { release(): void }> {
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
    this.active++;
    let released = false;
    const threads = this.threads;
    const run = async (x: Float64Array, job: MaskedRowsJob, start: number, end: number) => {
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
      };
      let result: TaskResult;
      try {
        // no AbortSignal here: piscina would terminate a worker in the middle of a task, and a
        // thread torn down while it holds an onnxruntime session aborts the whole process
        result = await this.piscina.run(task, { name: 'evaluate', transferList: transfer as never });
      } catch (error) {
        throw new WorkerError(
          `a worker thread failed while evaluating the model (${(error as Error)?.message ?? error}); the pool replaces it — retry the explanation`,
          { cause: error },
        );
      }
      if ('error' in result) throw reviveError(result.error);
      return result.ok;
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
        // and every output bit — are those of one thread); up to 4 chunks per task, at least
        // two tasks per worker when the job is large enough
        const chunksTotal = Math.ceil(job.nRows / batchRows);
        const perTask = Math.max(1, Math.min(4, Math.floor(chunksTotal / (2 * threads))));
        const taskRows = perTask * batchRows;
        const nTasks = Math.ceil(job.nRows / taskRows);
        const out = new Float64Array(job.nRows * nOut);
        // a few tasks per worker in flight; an abort stops the dispatch of the rest (queued
        // batches are cancelled, running ones finish — they take milliseconds)
        let next = 0;
        let failure: unknown;
        const lane = async () => {
          while (next < nTasks && failure === undefined) {
            if (signal?.aborted) {
              failure ??= new AbortedError('the explanation was aborted', { cause: signal.reason });
              return;
            }
            const t = next++;
            const start = t * taskRows;
            try {
              out.set(await run(x, job, start, Math.min(job.nRows, start + taskRows)), start * nOut);
            } catch (error) {
              failure ??= error;
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(nTasks, 2 * threads) }, lane));
        if (failure !== undefined) throw failure;
        throwIfAborted(signal);
        return out;
      },
      predict: (rows, nRows, signal) => predictInChunks(model, rows, nRows, batchRows, signal),
      release: () => {
        if (!released) {
          released = true;
          this.active--;
        }
      },
    };
  }

  /**
   * Releases the workers' models (ONNX sessions), then ends the threads. Waits for running
   * tasks. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    openPools.delete(this);
    const barrier = new Int32Array(new SharedArrayBuffer(8));
    barrier[1] = this.threads;
    await Promise.allSettled(
      Array.from({ length: this.threads }, () => this.piscina.run(barrier as never, { name: 'release' })),
    );
    await this.piscina.close();
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

/** Pools not closed yet (closed on 'beforeExit' if the caller forgets). */
const openPools = new Set<WorkerPool>();
let exitHookInstalled = false;

/** Creates a {@link WorkerPool}. */
export function createWorkerPool(options: WorkerPoolOptions = {}): WorkerPool {
  return new WorkerPool(options);
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

/** The compiled worker script (dist/parallel/worker.js), also when running from src/ in tests. */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  const file = here.endsWith('.ts')
    ? fileURLToPath(new URL('../../dist/parallel/worker.js', import.meta.url))
    : fileURLToPath(new URL('./worker.js', import.meta.url));
  if (!existsSync(file))
    throw new WorkerError(`worker script ${file} is missing; run \`npm run build\` (it compiles src/ to dist/)`);
  return file;
}
