/**
 * Worker-thread side of the pool: rebuilds each model once per thread (one ONNX session per
 * worker, reused), builds masked rows from the shared background, and returns outputs.
 * Errors come back as data so the main thread can rethrow them as typed errors.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { workerData } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { WhyboxError } from '../errors.js';
import type { EstimatorContext } from '../estimators/estimate.js';
import { estimateSpan, RowPlanMemo } from '../estimators/estimate.js';
import type { RowEvaluator, UnitOutcome } from '../games/evaluator.js';
import { checkedPredictions, localEvaluator, predictInChunks } from '../games/evaluator.js';
import { interventionalGame } from '../games/interventional-game.js';
import type { Model, ModelSpec } from '../models/model.js';
import { modelFromSpec } from '../models/spec.js';
import { fillMaskedRows, jobRows } from '../sampling/masking.js';
import { Rng } from '../sampling/rng.js';
import type { EvaluateTask, LimeRowResult, LimeTask, PredictTask, TaskResult, UnitTask } from './tasks.js';

/**
 * This thread's scheduling priority (the pool's `workerNice`, Linux): workers run below the
 * main thread, so a busy pool never starves the event loop that answers health checks and
 * schedules the work. Only lowers priority (no privilege needed); elsewhere a no-op.
 */
function lowerPriority(): void {
  const nice = (workerData as { whyboxNice?: number } | undefined)?.whyboxNice ?? 0;
  if (!(nice > 0) || process.platform !== 'linux') return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice);
  } catch {
    // not permitted or no /proc: keep the default priority
  }
}
lowerPriority();

/** Models by spec id; few distinct models per worker, evicted oldest first. */
const models = new Map<string, Promise<Model>>();
const MAX_MODELS = 8;
/** The loaded models, for the synchronous release on exit. */
const live = new Set<Model>();

// If this thread ends abruptly (model code calling process.exit), release the onnxruntime
// sessions first: a thread torn down while it holds one aborts the whole process.
// (Model.close() releases the native session synchronously, before its first await.)
process.on('exit', () => {
  for (const m of live) void m.close?.().catch(() => undefined);
  live.clear();
});

/**
 * An AbortSignal-like view of the shared abort flag, for the model adapters' own checks
 * (function models look at it every few rows).
 */
function controlSignal(control: Int32Array | undefined): AbortSignal | undefined {
  if (!control) return undefined;
  const reason = new WhyboxError('ABORTED', 'the explanation was aborted');
  return {
    get aborted() {
      return Atomics.load(control, 0) !== 0;
    },
    reason,
    throwIfAborted() {
      if (Atomics.load(control, 0) !== 0) throw reason;
    },
    addEventListener() {},
    removeEventListener() {},
    dispatchEvent: () => false,
    onabort: null,
  } as unknown as AbortSignal;
}

const ABORTED: TaskResult = {
  error: { code: 'ABORTED', name: 'AbortedError', message: 'the explanation was aborted' },
};

function modelFor(task: { specId: string; spec: ModelSpec; overrides: Record<string, unknown> }): Promise<Model> {
  let m = models.get(task.specId);
  if (!m) {
    m = modelFromSpec(task.spec, task.overrides);
    m.then(
      (model) => live.add(model),
      () => models.delete(task.specId),
    );
    models.set(task.specId, m);
    if (models.size > MAX_MODELS) {
      const [oldest, promise] = models.entries().next().value as [string, Promise<Model>];
      models.delete(oldest);
      promise
        .then((old) => {
          live.delete(old);
          return old.close?.();
        })
        .catch(() => undefined);
    }
  }
  return m;
}

/** Row buffers reused task after task (a worker runs one task at a time, to completion). */
let scratch32 = new Float32Array(0);
let scratch64 = new Float64Array(0);
function scratch(f32: boolean, size: number): Float32Array | Float64Array {
  if (f32) {
    if (scratch32.length < size) scratch32 = new Float32Array(size);
    return scratch32.subarray(0, size);
  }
  if (scratch64.length < size) scratch64 = new Float64Array(size);
  return scratch64.subarray(0, size);
}

/** Builds the task's masked rows (in the model's input type) chunk by chunk and predicts them. */
export async function evaluate(task: EvaluateTask): Promise<TaskResult> {
  try {
    const model = await modelFor(task);
    const { layout, job, batchRows, nRows } = task;
    const d = layout.nColumns;
    const nOut = model.outputNames.length;
    const f32 = model.inputType === 'float32';
    const x = f32 ? Float32Array.from(task.x) : task.x;
    const out = new Float64Array(nRows * nOut);
    const signal = controlSignal(task.control);
    for (let start = 0; start < nRows; start += batchRows) {
      if (signal?.aborted) return ABORTED; // queued or between chunks: stop at once
      const end = Math.min(nRows, start + batchRows);
      const rows = scratch(f32, (end - start) * d);
      const part = jobRows(job, layout.words, task.start + start, task.start + end);
      fillMaskedRows(rows, layout, x, task.background, part, 0, end - start);
      out.set(checkedPredictions(await model.predict(rows, end - start, signal), end - start, model), start * nOut);
    }
    // hand the output buffer over without a copy
    const result: TaskResult = { ok: out };
    return move({ [transferableSymbol]: [out.buffer], [valueSymbol]: result } as never) as unknown as TaskResult;
  } catch (error) {
    const e = error as Error;
    return {
      error: {
        code: error instanceof WhyboxError ? error.code : undefined,
        name: e?.name ?? 'Error',
        message: e?.message ?? String(error),
      },
    };
  }
}

/** Loads a model ahead of its first task (the pool's `warm`). */
export async function warm(task: {
  specId: string;
  spec: ModelSpec;
  overrides: Record<string, unknown>;
}): Promise<boolean> {
  try {
    registry ??= import('../methods/game-methods.js');
    await Promise.all([modelFor(task), registry]);
    return true;
  } catch {
    return false; // the first real task reports the error
  }
}

/** Evaluators per plan (the background in the model's input type), newest last. */
const plans = new Map<string, RowEvaluator>();
const MAX_PLANS = 8;
/** Designs per design seed (decomposed Kernel SHAP), newest last: pure functions of the seed. */
const designCaches = new Map<number, { seed: number; shapes: Map<string, unknown> }>();
/** Plans shared by the parts of a row that run in this worker (bounded; see RowPlanMemo). */
const rowPlans = new RowPlanMemo();
const MAX_DESIGN_CACHES = 2;
type Registry = typeof import('../methods/game-methods.js');
let registry: Promise<Registry> | undefined;

function remember<K, V>(map: Map<K, V>, key: K, make: () => V, max: number): V {
  let v = map.get(key);
  if (v !== undefined) {
    map.delete(key);
    map.set(key, v); // most recently used last
    return v;
  }
  v = make();
  map.set(key, v);
  if (map.size > max) map.delete(map.keys().next().value as K);
  return v;
}

/**
 * Runs one unit: builds the row's game over the plan's background (whose model outputs
 * come with the task) and runs the registered method's estimator — or one part of its
 * split estimate — exactly as the main thread would, from the row's random stream.
 */
export async function explainUnit(task: UnitTask): Promise<TaskResult<UnitOutcome>> {
  try {
    const signal = controlSignal(task.control);
    if (signal?.aborted) return ABORTED as TaskResult<UnitOutcome>;
    const model = await modelFor(task);
    const { unit } = task;
    const evaluator = remember(
      plans,
      task.planId,
      () =>
        localEvaluator(
          model,
          {
            data: task.background,
            weights: task.weights,
            nRows: task.weights.length,
            nColumns: task.layout.nColumns,
            summary: '',
          },
          task.layout,
          { batchRows: task.batchRows },
        ),
      MAX_PLANS,
    );
    registry ??= import('../methods/game-methods.js');
    const method = (await registry).gameMethod(unit.method);
    const ctx = { evaluator, backgroundOutputs: unit.backgroundOutputs, baseValue: unit.baseValue };
    const game = await interventionalGame(ctx, unit.x, { dedupe: unit.dedupe, prediction: unit.prediction }, signal);
    const ectx = (): EstimatorContext => ({
      rng: Rng.fromState(unit.rngState),
      designs: remember(
        designCaches,
        unit.designSeed,
        () => ({ seed: unit.designSeed, shapes: new Map() }),
        MAX_DESIGN_CACHES,
      ),
      rowPlans,
      signal,
    });
    let outcome: UnitOutcome;
    if (unit.part) {
      const split = method.run.split;
      if (!split) throw new Error(`internal: method '${unit.method}' has no split`);
      // parts of one row in one request: one game, one plan; all of them are combined here
      const done = await estimateSpan(split, game, unit.options, ectx, unit.part, unit.span ?? 1, {
        nPlayers: game.nPlayers,
        nBackground: task.weights.length,
        prediction: game.prediction,
        baseValue: unit.baseValue,
      });
      outcome = { ...done, prediction: game.prediction, modelRows: game.cost.modelRows };
    } else {
      const estimate = method.run.estimate;
      if (!estimate) throw new Error(`internal: method '${unit.method}' is not a game method`);
      outcome = {
        estimate: await estimate(game, unit.options, ectx()),
        prediction: game.prediction,
        modelRows: game.cost.modelRows,
      };
    }
    // a part's 2^n table share (8 MiB per output at 20 players) moves, not copied
    const tables = (outcome.parts ?? [])
      .map((p) => p.table)
      .filter(
        (t): t is NonNullable<typeof t> =>
          t !== undefined && t.byteLength >= 1 << 16 && t.buffer.byteLength === t.byteLength,
      );
    if (tables.length > 0)
      return move({
        [transferableSymbol]: tables.map((t) => t.buffer),
        [valueSymbol]: { ok: outcome },
      } as never) as unknown as TaskResult<UnitOutcome>;
    return { ok: outcome };
  } catch (error) {
    return serialise(error) as TaskResult<UnitOutcome>;
  }
}

type LimeModule = typeof import('../explainers/lime.js');
let limeModule: Promise<LimeModule> | undefined;

/** Explains LIME rows here: samples from the training statistics, model outputs, local fits. */
export async function limeRows(task: LimeTask): Promise<TaskResult<LimeRowResult[]>> {
  try {
    const signal = controlSignal(task.control);
    if (signal?.aborted) return ABORTED as TaskResult<LimeRowResult[]>;
    const model = await modelFor(task);
    limeModule ??= import('../explainers/lime.js');
    return { ok: await (await limeModule).limeRowsInWorker(model, task.job, task.batchRows, signal) };
  } catch (error) {
    return serialise(error) as TaskResult<LimeRowResult[]>;
  }
}

/** Predicts plain rows (the explained row f(x), the background) off the main thread. */
export async function predict(task: PredictTask): Promise<TaskResult> {
  try {
    const signal = controlSignal(task.control);
    if (signal?.aborted) return ABORTED;
    const model = await modelFor(task);
    const out = await predictInChunks(model, task.rows, task.nRows, task.batchRows, signal);
    const result: TaskResult = { ok: out };
    return move({ [transferableSymbol]: [out.buffer], [valueSymbol]: result } as never) as unknown as TaskResult;
  } catch (error) {
    return serialise(error);
  }
}

function serialise(error: unknown): TaskResult<never> {
  const e = error as Error;
  return {
    error: {
      code: error instanceof WhyboxError ? error.code : undefined,
      name: e?.name ?? 'Error',
      message: e?.message ?? String(error),
    },
  };
}

/**
 * Releases every model (ONNX sessions) held by this worker. The pool runs one per worker,
 * all at once behind a barrier, before the threads end: native sessions must not be torn
 * down by thread termination.
 */
export async function release(barrier: Int32Array): Promise<number> {
  Atomics.add(barrier, 0, 1);
  const deadline = Date.now() + 2000;
  while (Atomics.load(barrier, 0) < barrier[1] && Date.now() < deadline)
    Atomics.wait(barrier, 0, Atomics.load(barrier, 0), 20);
  Atomics.notify(barrier, 0);
  const all = [...models.values()];
  models.clear();
  const settled = await Promise.allSettled(all.map(async (m) => (await m).close?.()));
  live.clear();
  return settled.length;
}

/** Fails on purpose (tests): throws, or exits the thread. */
export async function crash(how: 'throw' | 'exit'): Promise<never> {
  if (how === 'exit') process.exit(3);
  throw new Error('crash requested');
}
