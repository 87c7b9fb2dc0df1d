/**
 * The engine of the Shapley methods: explains rows of a model through the interventional
 * game v(S) = Σ_b w_b f(x_S, b_rest), with one estimator (from the method registry) per
 * row's game. Work comes as *plans* — a set of players and a background for some rows —
 * so that tabular explanations (one plan), sequence tilings (one plan per tiling) and
 * per-row references (dinucleotide shuffles: one plan per row) all run here, with one
 * worker pool, one scheduler and indexed random streams.
 */
import { availableParallelism } from 'node:os';
import type { Players } from '../data/players.js';
import { InvalidOptionError, ModelError, throwIfAborted } from '../errors.js';
import type { EstimatorContext, ShapleyEstimate } from '../estimators/estimate.js';
import type { EvaluatorProvider, RowEvaluator } from '../games/evaluator.js';
import { localEvaluator } from '../games/evaluator.js';
import type { Game } from '../games/game.js';
import type { InterventionalContext } from '../games/interventional-game.js';
import { interventionalGame, prepareInterventional } from '../games/interventional-game.js';
import type { Model } from '../models/model.js';
import type { Background } from '../sampling/background.js';
import type { MaskingLayout } from '../sampling/masking.js';
import { maskingLayout } from '../sampling/masking.js';
import type { Rng } from '../sampling/rng.js';

/** The estimator of one row's game (a registered game method's `run.estimate`). */
export type GameEstimator = (
  game: Game,
  options: Record<string, unknown>,
  ctx: EstimatorContext,
) => Promise<ShapleyEstimate>;

/** Players and background for some rows. */
export interface Plan {
  readonly players: Players;
  readonly background: Background;
  /** Indices (into the run's rows) explained with this plan. */
  readonly rows: readonly number[];
}

/** One (plan, row) result. */
export interface UnitResult {
  readonly estimate: ShapleyEstimate;
  /** f(x) per output. */
  readonly prediction: Float64Array;
  /** v(∅) of the plan's background per output. */
  readonly baseValue: Float64Array;
}

/** Progress of a run: units (rows × plans) finished, and the current unit's coalition values. */
export interface RunProgress {
  readonly unitsDone: number;
  readonly units: number;
  readonly done: number;
  readonly total: number;
}

/** A run of one game method over plans. */
export interface InterventionalRun {
  readonly model: Model;
  /** Rows, `nRows × model.nInputs`, row-major. */
  readonly data: Float64Array;
  readonly plans: readonly Plan[];
  readonly estimate: GameEstimator;
  /** The method's resolved options (passed to `estimate`). */
  readonly options: Record<string, unknown>;
  /** The random stream of (plan, row). */
  readonly rng: (plan: number, row: number) => Rng;
  /** Seed of the designs shared by every game of the run (decomposed Kernel SHAP). */
  readonly designSeed: number;
  readonly batchRows: number;
  /** Worker threads (ignored with `pool`). @defaultValue all cores when the model can be rebuilt in workers */
  readonly threads?: number;
  readonly pool?: EvaluatorProvider;
  /** Units explained concurrently. @defaultValue 1, or threads + 1 with workers */
  readonly concurrency?: number;
  readonly dedupe?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: RunProgress) => void;
}

/** What a run returns: `results[plan][k]` for the plan's k-th row. */
export interface RunResult {
  readonly results: readonly (readonly UnitResult[])[];
  /** Rows sent to the model (backgrounds included, once per plan). */
  readonly modelRows: number;
  readonly threads: number;
}

/**
 * Runs `estimate` on every (plan, row) game. Units are worked in plan order by
 * `concurrency` lanes; each plan's evaluator (and background outputs) is made once, when
 * its first unit starts, and released after its last. Results do not depend on the lane
 * count, the thread count or the batch size: each unit's randomness is `rng(plan, row)`,
 * and the pool returns outputs in order.
 */
export async function runInterventional(run: InterventionalRun): Promise<RunResult> {
  const { model, plans } = run;
  const d = model.nInputs;
  const { provider, threads, close } = await providerFor(model, run);
  const designs = { seed: run.designSeed, shapes: new Map<string, unknown>() };
  const units: { plan: number; k: number }[] = [];
  plans.forEach((p, i) => {
    p.rows.forEach((_, k) => {
      units.push({ plan: i, k });
    });
  });
  const results = plans.map((p) => new Array<UnitResult>(p.rows.length));
  const remaining = plans.map((p) => p.rows.length);
  const contexts = new Map<number, Promise<{ ctx: InterventionalContext; release: () => void }>>();
  let modelRows = 0;
  let unitsDone = 0;
  const stop = new AbortController();
  const signal = run.signal ? AbortSignal.any([run.signal, stop.signal]) : stop.signal;
  let failure: unknown;
  let next = 0;

  const contextOf = (i: number) => {
    let c = contexts.get(i);
    if (!c) {
      c = (async () => {
        const plan = plans[i];
        const layout = maskingLayout(plan.players);
        const ev = await evaluatorFor(model, plan.background, layout, provider, run.batchRows);
        try {
          const ctx = await prepareInterventional(ev.evaluator, signal);
          modelRows += plan.background.nRows;
          return { ctx, release: ev.release };
        } catch (error) {
          ev.release();
          throw error;
        }
      })();
      contexts.set(i, c);
    }
    return c;
  };

  const work = async () => {
    while (next < units.length && failure === undefined) {
      const u = units[next++];
      try {
        throwIfAborted(signal);
        const { ctx, release } = await contextOf(u.plan);
        const r = plans[u.plan].rows[u.k];
        const x = run.data.slice(r * d, (r + 1) * d);
        const game = await interventionalGame(ctx, x, { dedupe: run.dedupe }, signal);
        const estimate = await run.estimate(game, run.options, {
          rng: run.rng(u.plan, r),
          designs,
          signal,
          onProgress: run.onProgress
            ? (p) => run.onProgress?.({ unitsDone, units: units.length, done: p.done, total: p.total })
            : undefined,
        });
        results[u.plan][u.k] = { estimate, prediction: game.prediction, baseValue: ctx.baseValue };
        modelRows += game.cost.modelRows;
        unitsDone++;
        run.onProgress?.({ unitsDone, units: units.length, done: 1, total: 1 });
        if (--remaining[u.plan] === 0) {
          release();
          contexts.delete(u.plan);
        }
      } catch (error) {
        if (failure === undefined) {
          failure = error;
          stop.abort(error);
        }
      }
    }
  };
  const concurrency = run.concurrency ?? (threads > 1 ? threads + 1 : 1);
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, units.length)) }, work));
  } finally {
    for (const c of contexts.values()) await c.then((x) => x.release()).catch(() => undefined);
    await close();
  }
  if (failure !== undefined) throw failure;
  return { results, modelRows, threads };
}

/** The pool (given, or started here when threads > 1), or none. */
async function providerFor(
  model: Model,
  run: InterventionalRun,
): Promise<{ provider: EvaluatorProvider | undefined; threads: number; close: () => Promise<void> }> {
  if (run.pool) {
    if (!model.spec)
      throw new ModelError(
        'this model is a JavaScript closure, which cannot be sent to worker threads; load it with fromModule(specifier, exportName) or use an ONNX model, or explain without a pool',
      );
    return { provider: run.pool, threads: run.pool.threads, close: async () => undefined };
  }
  const requested = run.threads;
  if (requested !== undefined && (!Number.isInteger(requested) || requested < 1))
    throw new InvalidOptionError('threads', 'a positive integer', requested);
  const threads = requested ?? (model.spec ? availableParallelism() : 1);
  if (threads <= 1) return { provider: undefined, threads: 1, close: async () => undefined };
  if (!model.spec)
    throw new ModelError(
      `threads: ${threads} needs a model that worker threads can rebuild, but this model is a JavaScript closure; load it with fromModule(specifier, exportName) (a module path and export name) or use an ONNX model, or pass threads: 1`,
    );
  const { createWorkerPool } = await import('../parallel/pool.js');
  const pool = createWorkerPool({ threads });
  return { provider: pool, threads, close: () => pool.close() };
}

async function evaluatorFor(
  model: Model,
  background: Background,
  layout: MaskingLayout,
  provider: EvaluatorProvider | undefined,
  batchRows: number,
): Promise<{ evaluator: RowEvaluator; release: () => void }> {
  if (!provider) return { evaluator: localEvaluator(model, background, layout, { batchRows }), release: () => {} };
  const ev = await provider.createEvaluator(model, background, layout, { batchRows });
  return { evaluator: ev, release: () => ev.release?.() };
}
