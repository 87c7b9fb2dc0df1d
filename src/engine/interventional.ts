/**
 * The engine of the Shapley methods: explains rows of a model through the interventional
 * game v(S) = Σ_b w_b f(x_S, b_rest), with one estimator (from the method registry) per
 * row's game. Work comes as *plans* — a set of players and a background for some rows —
 * so that tabular explanations (one plan), sequence tilings (one plan per tiling) and
 * per-row references (dinucleotide shuffles: one plan per row) all run here, with one
 * worker pool, one scheduler and indexed random streams.
 */
import type { Players } from '../data/players.js';
import type {
  EstimatorContext,
  GameEstimator,
  PartEstimate,
  PartSpec,
  ShapleyEstimate,
  SplitEstimator,
} from '../estimators/estimate.js';
import { estimateSpan, RowPlanMemo } from '../estimators/estimate.js';
import type { EvaluatorProvider, RemoteEvaluator, RemoteUnit, UnitOutcome } from '../games/evaluator.js';
import { localEvaluator } from '../games/evaluator.js';
import type { InterventionalContext, InterventionalGame } from '../games/interventional-game.js';
import { interventionalGame, prepareInterventional } from '../games/interventional-game.js';
import type { Model } from '../models/model.js';
import type { Background } from '../sampling/background.js';
import { maskingLayout } from '../sampling/masking.js';
import type { Rng } from '../sampling/rng.js';
import { MIN_PARALLEL_MS, placement, schedule, startPool } from './scheduler.js';

export type { GameEstimator } from '../estimators/estimate.js';

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
  /** The registered method's name: worker threads find its estimator in the registry. */
  readonly method: string;
  readonly estimate: GameEstimator;
  /** The method's split of one row into parts (decomposed Kernel SHAP), if it has one. */
  readonly split?: SplitEstimator<InterventionalGame>;
  /** About how many model rows one row's game costs (the serial/parallel choice, task time limits). */
  readonly gameRows?: (options: Record<string, unknown>, nPlayers: number, nBackground: number) => number;
  /** The method's resolved options (passed to `estimate`). */
  readonly options: Record<string, unknown>;
  /** The random stream of (plan, row). */
  readonly rng: (plan: number, row: number) => Rng;
  /** Seed of the designs shared by every game of the run (decomposed Kernel SHAP). */
  readonly designSeed: number;
  readonly batchRows: number;
  /**
   * Threads to compute on, this one included: `threads − 1` workers start when the job is
   * large enough (see `minParallelRows`). Ignored with `pool`. @defaultValue all cores when the
   * model can be rebuilt in workers, else 1
   */
  readonly threads?: number;
  /** A pool to run every unit in (this thread then only schedules and sums). */
  readonly pool?: EvaluatorProvider;
  /** Units in flight on this thread without workers (async models). @defaultValue 1 */
  readonly concurrency?: number;
  /**
   * The cost model of `threads` (see `scheduler.ts`): units run on this thread first, and the `threads − 1`
   * workers start only once the job's remaining single-thread time, projected from the
   * units done so far, exceeds this many milliseconds (a worker costs 0.1–0.3 s to start:
   * its modules and its own model session). 0 starts them at once. @defaultValue {@link MIN_PARALLEL_MS}
   */
  readonly minParallelMs?: number;
  readonly dedupe?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: RunProgress) => void;
}

/** What a run returns: `results[plan][k]` for the plan's k-th row. */
export interface RunResult {
  readonly results: readonly (readonly UnitResult[])[];
  /** Rows sent to the model (backgrounds included, once per plan). */
  readonly modelRows: number;
  /** Threads the run computed on (1: serial). */
  readonly threads: number;
}

export { MIN_PARALLEL_MS } from './scheduler.js';

/**
 * One piece of work: parts `part` .. `part + span − 1` of (plan, k)'s `parts`, or the whole
 * row when `parts` is 1.
 */
interface Task {
  readonly plan: number;
  readonly k: number;
  readonly part: number;
  readonly parts: number;
  readonly span: number;
}

/** A plan's shared state: the background outputs (and the release of its worker evaluator). */
interface PlanContext {
  readonly ctx: InterventionalContext;
  /** f(x) of the plan's rows, `rows × nOutputs`. */
  readonly predictions: Float64Array;
  release(): void;
}

/**
 * Runs `estimate` on every (plan, row) game. A row is one unit of work, or — for methods with
 * a {@link SplitEstimator} — several parts combined in part order. Units run on this thread
 * and, when the job is large enough, on worker threads too, each of which builds the game
 * and runs the estimator itself (estimator math and model calls alike); with `pool` every
 * unit runs in the pool. Results do not depend on where units ran, on the thread count or
 * on the batch size: each unit's randomness is `rng(plan, row)`, designs are pure functions
 * of `designSeed`, and parts are summed in order.
 */
export async function runInterventional(run: InterventionalRun): Promise<RunResult> {
  const { model, plans } = run;
  const d = model.nInputs;
  const gameRows = (plan: Plan) =>
    Math.max(
      1,
      run.gameRows?.(run.options, plan.players.names.length, plan.background.nRows) ?? 2048 * plan.background.nRows,
    );
  const where = placement(model, run);
  const designs = { seed: run.designSeed, shapes: new Map<string, unknown>() };
  // the parts of a row that run on this thread share its plan
  const rowPlans = new RowPlanMemo();
  const tasks: Task[] = [];
  const partsOf = plans.map((p) =>
    run.split ? Math.max(1, run.split.parts(run.options, p.players.names.length, p.background.nRows)) : 1,
  );
  // a split row is one task while enough rows are left to keep every thread busy (its parts
  // then share one plan and one game on whichever thread runs it); the last `threads` rows
  // of a plan go part by part, so that no thread idles at the end, and so does the first row
  // when this thread may start workers (the cost model then measures small tasks first)
  const threadsAtMost = run.pool ? run.pool.threads : where.threads;
  const firstWhole = !run.pool && where.canStart ? 1 : 0;
  plans.forEach((p, i) => {
    const whole = Math.max(0, p.rows.length - threadsAtMost);
    p.rows.forEach((_, k) => {
      const parts = partsOf[i];
      if (parts > 1 && k >= firstWhole && k < whole) tasks.push({ plan: i, k, part: 0, parts, span: parts });
      else for (let part = 0; part < parts; part++) tasks.push({ plan: i, k, part, parts, span: 1 });
    });
  });
  const nUnits = plans.reduce((a, p) => a + p.rows.length, 0);
  const results = plans.map((p) => new Array<UnitResult>(p.rows.length));
  const pending = plans.map((p, i) => p.rows.map(() => new Array<PartEstimate | undefined>(partsOf[i])));
  const partsLeft = plans.map((p, i) => p.rows.map(() => partsOf[i]));
  const predictions = plans.map((p) => new Array<Float64Array | undefined>(p.rows.length));
  const rowCost = plans.map((p) => p.rows.map(() => 0));
  const remaining = plans.map(() => 0);
  for (const t of tasks) remaining[t.plan]++;
  const contexts = new Map<number, Promise<PlanContext>>();
  let modelRows = 0;
  let unitsDone = 0;
  const stop = new AbortController();
  const signal = run.signal ? AbortSignal.any([run.signal, stop.signal]) : stop.signal;

  const remotes = new Map<number, Promise<RemoteEvaluator>>();
  const remoteOf = (i: number, provider: EvaluatorProvider): Promise<RemoteEvaluator> => {
    let r = remotes.get(i);
    if (!r) {
      const plan = plans[i];
      r = provider.createEvaluator(model, plan.background, maskingLayout(plan.players), {
        batchRows: run.batchRows,
      });
      remotes.set(i, r);
    }
    return r;
  };
  const releasePlan = (i: number) => {
    const r = remotes.get(i);
    remotes.delete(i);
    r?.then((ev) => ev.release?.()).catch(() => undefined);
  };
  const contextOf = (i: number) => {
    let c = contexts.get(i);
    if (!c) {
      c = (async () => {
        const plan = plans[i];
        // the background's outputs once per plan, on the thread that computes (the same
        // chunks, so the same numbers, either way)
        const ev = run.pool
          ? await remoteOf(i, run.pool)
          : localEvaluator(model, plan.background, maskingLayout(plan.players), { batchRows: run.batchRows });
        const ctx = await prepareInterventional(ev, signal);
        // f(x) of the plan's rows at once (one model call per batchRows chunk), shared by the
        // row's parts wherever they run
        const xs = new Float64Array(plan.rows.length * d);
        plan.rows.forEach((r, k) => {
          xs.set(run.data.subarray(r * d, (r + 1) * d), k * d);
        });
        const predictions = await ev.predict(xs, plan.rows.length, signal);
        modelRows += plan.background.nRows + plan.rows.length;
        return { ctx, predictions, release: () => releasePlan(i) };
      })();
      contexts.set(i, c);
    }
    return c;
  };

  const rowOf = (t: Task) => plans[t.plan].rows[t.k];
  const xOf = (t: Task) => run.data.slice(rowOf(t) * d, (rowOf(t) + 1) * d);
  const partSpec = (t: Task): PartSpec | undefined =>
    run.split && t.parts > 1 ? { index: t.part, count: t.parts } : undefined;

  /** Records a finished task; completes its row when every part is in. */
  const finish = (t: Task, ctx: InterventionalContext, out: UnitOutcome) => {
    const { plan, k } = t;
    predictions[plan][k] ??= out.prediction;
    // rows the model saw for this row's coalitions (f(x) is counted with its plan)
    rowCost[plan][k] += out.modelRows;
    if (out.estimate) {
      results[plan][k] = { estimate: out.estimate, prediction: out.prediction, baseValue: ctx.baseValue };
    } else {
      (out.parts as readonly PartEstimate[]).forEach((p, j) => {
        pending[plan][k][t.part + j] = p;
      });
      partsLeft[plan][k] -= t.span;
      if (partsLeft[plan][k] > 0) return false;
      const parts = pending[plan][k] as PartEstimate[];
      const game = {
        nPlayers: plans[plan].players.names.length,
        nBackground: plans[plan].background.nRows,
        prediction: predictions[plan][k] as Float64Array,
        baseValue: ctx.baseValue,
      };
      const estimate = (run.split as SplitEstimator<InterventionalGame>).combine(parts, game, run.options);
      pending[plan][k] = [];
      results[plan][k] = { estimate, prediction: game.prediction, baseValue: ctx.baseValue };
    }
    modelRows += rowCost[plan][k];
    unitsDone++;
    run.onProgress?.({ unitsDone, units: nUnits, done: 1, total: 1 });
    return true;
  };

  /** Runs a task on this thread. */
  const predictionOf = (t: Task, pc: PlanContext) => {
    const nOut = pc.ctx.baseValue.length;
    return pc.predictions.slice(t.k * nOut, (t.k + 1) * nOut);
  };
  const runHere = async (t: Task, pc: PlanContext): Promise<UnitOutcome> => {
    const ctx = pc.ctx;
    const game = await interventionalGame(ctx, xOf(t), { dedupe: run.dedupe, prediction: predictionOf(t, pc) }, signal);
    // part j of a whole-row task reports its progress as (j + its fraction) of the row's parts
    const ectx = (j = 0): EstimatorContext => ({
      rng: run.rng(t.plan, rowOf(t)).clone(),
      designs,
      rowPlans,
      signal,
      onProgress: run.onProgress
        ? (p) =>
            run.onProgress?.(
              t.span > 1
                ? { unitsDone, units: nUnits, done: j + p.done / Math.max(1, p.total), total: t.span }
                : { unitsDone, units: nUnits, done: p.done, total: p.total },
            )
        : undefined,
    });
    const spec = partSpec(t);
    if (spec) {
      const done = await estimateSpan(
        run.split as SplitEstimator<InterventionalGame>,
        game,
        run.options,
        ectx,
        spec,
        t.span,
        {
          nPlayers: plans[t.plan].players.names.length,
          nBackground: plans[t.plan].background.nRows,
          prediction: game.prediction,
          baseValue: ctx.baseValue,
        },
      );
      return { ...done, prediction: game.prediction, modelRows: game.cost.modelRows };
    }
    const estimate = await run.estimate(game, run.options, ectx());
    return { estimate, prediction: game.prediction, modelRows: game.cost.modelRows };
  };

  /** Runs a task in a worker (the pool's evaluator of its plan). */
  const runThere = async (t: Task, pc: PlanContext, provider: EvaluatorProvider): Promise<UnitOutcome> => {
    const plan = plans[t.plan];
    const explainUnit = (await remoteOf(t.plan, provider)).explainUnit as RemoteUnit;
    return explainUnit(
      {
        method: run.method,
        options: run.options,
        x: xOf(t),
        rngState: run.rng(t.plan, rowOf(t)).state(),
        designSeed: run.designSeed,
        dedupe: run.dedupe,
        backgroundOutputs: pc.ctx.backgroundOutputs,
        baseValue: pc.ctx.baseValue,
        prediction: predictionOf(t, pc),
        part: partSpec(t),
        ...(t.span > 1 ? { span: t.span } : {}),
        expectedRows: Math.ceil(gameRows(plan) / t.parts) * t.span,
      },
      signal,
    );
  };

  const runTask = async (i: number, provider?: EvaluatorProvider) => {
    const t = tasks[i];
    const pc = await contextOf(t.plan);
    finish(t, pc.ctx, provider ? await runThere(t, pc, provider) : await runHere(t, pc));
    if (--remaining[t.plan] === 0) {
      pc.release();
      contexts.delete(t.plan);
    }
  };
  let threads: number;
  try {
    ({ threads } = await schedule({
      tasks: tasks.length,
      placement: where,
      pool: run.pool,
      concurrency: run.concurrency,
      signal,
      stop: (e) => stop.abort(e),
      start: (n) => startPool(model, n),
      here: (i) => runTask(i),
      there: (i, provider) => runTask(i, provider),
      weight: (i) => tasks[i].span,
    }));
  } finally {
    for (const c of contexts.values()) await c.then((x) => x.release()).catch(() => undefined);
    for (const i of [...remotes.keys()]) releasePlan(i);
  }
  return { results, modelRows, threads };
}
