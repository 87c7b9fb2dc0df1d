/**
 * The scheduler shared by every parallel explanation: tasks (rows, or parts of rows) run on
 * this thread first; worker threads of the run's own start only when the rest of the job
 * is projected to take longer than `minParallelMs` on one thread (the cost model), and then
 * take tasks alongside this thread. With a given pool every task runs there and this thread
 * only schedules. Which task runs where never changes a result: callers make `here` and
 * `there` compute the same bits and combine results by task index.
 */
import { availableParallelism } from 'node:os';
import { InvalidOptionError, ModelError, throwIfAborted } from '../errors.js';
import type { EvaluatorProvider } from '../games/evaluator.js';
import type { Model } from '../models/model.js';
import { MAX_THREADS_PER_CORE, maxThreads } from '../parallel/limits.js';

/**
 * The default of `minParallelMs`: workers start when the remaining single-thread work is
 * projected above 300 ms. Starting one costs 0.1–0.3 s of a core (thread, modules, its own
 * ONNX session; measured on this project's 2-core machine, see benchmarks/README.md) and
 * closing it 20–90 ms; this thread keeps working meanwhile, so workers pay once the rest of
 * the job exceeds about their start-up plus twice their close.
 */
export const MIN_PARALLEL_MS = 300;

/** Tasks in flight per worker (one running, one queued behind it). */
export const LANES_PER_WORKER = 2;

/** Where a run may compute: its thread count, and whether it may start workers of its own. */
export interface Placement {
  readonly threads: number;
  readonly canStart: boolean;
  readonly minParallelMs: number;
}

/**
 * Validates `threads` / `minParallelMs` for `model` (closures cannot cross threads) and
 * says where the run may compute. With a `pool`, the pool's threads.
 */
export function placement(
  model: Model,
  options: { threads?: number; pool?: EvaluatorProvider; minParallelMs?: number },
): Placement {
  const minParallelMs = options.minParallelMs ?? MIN_PARALLEL_MS;
  if (typeof minParallelMs !== 'number' || !(minParallelMs >= 0))
    throw new InvalidOptionError('minParallelMs', 'a number >= 0 (ms; 0: start the workers at once)', minParallelMs);
  if (options.pool) {
    if (!model.spec)
      throw new ModelError(
        'this model is a JavaScript closure, which cannot be sent to worker threads; load it with fromModule(specifier, exportName) or use an ONNX model, or explain without a pool',
      );
    return { threads: options.pool.threads, canStart: false, minParallelMs };
  }
  const requested = options.threads;
  if (requested !== undefined && (!Number.isInteger(requested) || requested < 1))
    throw new InvalidOptionError('threads', 'a positive integer', requested);
  // refused whether or not the job would start workers (no option is silently ignored)
  if (requested !== undefined && requested > maxThreads())
    throw new InvalidOptionError(
      'threads',
      `at most ${maxThreads()} (${MAX_THREADS_PER_CORE} × the ${availableParallelism()} cores)`,
      requested,
      'each worker holds its own copy of the model; more threads than cores add memory, not speed',
    );
  const threads = requested ?? (model.spec ? availableParallelism() : 1);
  if (threads <= 1) return { threads: 1, canStart: false, minParallelMs };
  if (!model.spec)
    throw new ModelError(
      `threads: ${threads} needs a model that worker threads can rebuild, but this model is a JavaScript closure; load it with fromModule(specifier, exportName) (a module path and export name) or use an ONNX model, or pass threads: 1`,
    );
  return { threads, canStart: true, minParallelMs };
}

/** A pool a run started for itself. */
export interface OwnPool {
  readonly provider: EvaluatorProvider;
  /** Resolves when the workers have the model loaded. */
  readonly ready: Promise<unknown>;
  close(): Promise<void>;
}

/** What {@link schedule} runs. */
export interface Schedule {
  readonly tasks: number;
  readonly placement: Placement;
  /** A pool given by the caller: every task runs there. */
  readonly pool?: EvaluatorProvider;
  /** Lanes on this thread without workers (async models), or in a given pool. @defaultValue 1 / 2 × the pool's threads */
  readonly concurrency?: number;
  readonly signal: AbortSignal;
  /** Called once, with the first failure (abort the tasks in flight). */
  readonly stop?: (error: unknown) => void;
  /** Starts `threads` workers of the run's own (model loading begins at once). */
  readonly start: (threads: number) => Promise<OwnPool>;
  /** Runs task `i` on this thread. */
  readonly here: (i: number) => Promise<void>;
  /** Runs task `i` in `provider`'s workers. */
  readonly there: (i: number, provider: EvaluatorProvider) => Promise<void>;
  /**
   * Task `i`'s size relative to the others (a whole split row weighs its parts), for the
   * cost model's projection of the rest of the job. @defaultValue 1 for every task
   */
  readonly weight?: (i: number) => number;
}

/**
 * Runs every task once, in index order of dispatch; the first failure stops dispatching and
 * is rethrown after the tasks in flight settle. Returns the threads used (1: serial).
 */
export async function schedule(s: Schedule): Promise<{ threads: number }> {
  const { placement: where, tasks } = s;
  let next = 0;
  let failure: unknown;
  let own: OwnPool | undefined;
  let threads = s.pool ? s.pool.threads : 1;
  let hereMs = 0;
  let hereWeight = 0;
  let hereTasks = 0;
  const weight = s.weight ?? (() => 1);
  let weightLeft = 0;
  for (let i = 0; i < tasks; i++) weightLeft += weight(i);
  const running = new Set<Promise<void>>();
  const spawn = (lane: () => Promise<void>) => {
    const p: Promise<void> = lane().finally(() => running.delete(p));
    running.add(p);
  };
  const fail = (error: unknown) => {
    if (failure !== undefined) return;
    failure = error;
    s.stop?.(error);
  };
  const laneThere = (provider: EvaluatorProvider, ready?: Promise<unknown>) => async () => {
    // a worker lane starts once its workers have the model: until then this thread works
    if (ready) await ready;
    while (next < tasks && failure === undefined) {
      const i = next++;
      weightLeft -= weight(i);
      try {
        throwIfAborted(s.signal);
        await s.there(i, provider);
      } catch (error) {
        fail(error);
      }
    }
  };
  const startWorkers = async () => {
    if (own || !where.canStart) return;
    own = await s.start(where.threads - 1);
    threads = where.threads;
    // two tasks in flight per worker: the next one waits in its queue while the current one
    // runs, so no worker idles for a round trip between tasks
    for (let t = 0; t < LANES_PER_WORKER * (where.threads - 1); t++) spawn(laneThere(own.provider, own.ready));
  };
  const laneHere = async () => {
    while (next < tasks && failure === undefined) {
      const i = next++;
      weightLeft -= weight(i);
      try {
        throwIfAborted(s.signal);
        const t0 = performance.now();
        await s.here(i);
        const ms = performance.now() - t0;
        // the cost model: workers once the rest of the job is projected long enough — from
        // the tasks after the first, which also pays one-time costs (the background's outputs,
        // the model's first call, compilation), unless the first alone exceeds the limit
        if (hereTasks++ > 0) {
          hereMs += ms;
          hereWeight += weight(i);
        }
        const projected = hereTasks > 1 ? (hereMs / hereWeight) * weightLeft : ms > where.minParallelMs ? ms : 0;
        if (!own && where.canStart && tasks > next && projected > where.minParallelMs) await startWorkers();
      } catch (error) {
        fail(error);
      }
    }
  };
  try {
    if (s.pool) {
      const lanes = Math.max(1, s.concurrency ?? LANES_PER_WORKER * s.pool.threads);
      for (let t = 0; t < Math.min(lanes, tasks); t++) spawn(laneThere(s.pool));
    } else {
      if (where.canStart && where.minParallelMs === 0 && tasks > 0) await startWorkers();
      const lanes = where.canStart ? 1 : Math.max(1, s.concurrency ?? 1);
      for (let t = 0; t < Math.min(lanes, tasks); t++) spawn(laneHere);
    }
    while (running.size > 0) await Promise.all([...running]);
  } finally {
    await own?.close();
  }
  if (failure !== undefined) throw failure;
  return { threads };
}

/**
 * The workers runs start for themselves, kept for the next run of this process: the first
 * long explanation pays their start-up, later ones find them warm (a library caller
 * explaining batch after batch, the CLI's {@link prestartWorkers}). Idle workers hold no
 * task and do not keep the process alive; they are closed properly when its event loop
 * drains (`WorkerPool`'s exit hook) or by {@link closeSharedWorkers}.
 */
let shared: import('../parallel/pool.js').WorkerPool | undefined;

async function sharedPool(workers: number): Promise<import('../parallel/pool.js').WorkerPool> {
  if (shared && !shared.isClosed && shared.threads === workers) return shared;
  const { createWorkerPool } = await import('../parallel/pool.js');
  const old = shared;
  // this thread computes alongside the workers: onnxruntime intra-op threads are shared out
  // over workers + 1 threads, so the run never keeps more busy threads than cores (a lone
  // worker with the pool's default of 2 intra-op threads on 2 cores made three)
  const intraOpThreads = Math.max(1, Math.floor(availableParallelism() / (workers + 1)));
  shared = createWorkerPool({ threads: workers, intraOpThreads });
  if (old && !old.isClosed) void old.close();
  return shared;
}

/**
 * Starts `threads − 1` worker threads now (thread start-up and module loading), for a run
 * about to begin — the CLI calls it before it loads the model and the data, so the workers
 * are up by the time the cost model wants them. Harmless when the run stays serial: idle
 * workers are closed at exit. No-op for `threads` ≤ 1.
 */
export async function prestartWorkers(threads: number): Promise<void> {
  if (Number.isInteger(threads) && threads > 1) await sharedPool(threads - 1);
}

/** Closes the workers kept by runs of this process (see {@link prestartWorkers}); safe to call any time. */
export async function closeSharedWorkers(): Promise<void> {
  const p = shared;
  shared = undefined;
  await p?.close();
}

/** Workers for a run (`threads` of them), reused from earlier runs of this process when there are. */
export async function startPool(model: Model, threads: number): Promise<OwnPool> {
  const pool = await sharedPool(threads);
  const ready = pool.warm(model).catch(() => undefined); // a failing model fails its first task
  // kept for the next run: closing is the process's (exit hook) or closeSharedWorkers()
  return { provider: pool, ready, close: async () => undefined };
}
