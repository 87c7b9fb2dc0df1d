/**
 * Shared plumbing of the sanity checks and faithfulness metrics: validates a model, rows, a
 * background and players, and builds each row's interventional game (whybox's masker) and
 * attribution task.
 */
import type { GroupSpec, Players } from '../data/players.js';
import { definePlayers } from '../data/players.js';
import { checkRows, toBackground } from '../data/rows.js';
import { InvalidOptionError, ShapeError } from '../errors.js';
import type { RowsInput } from '../explain.js';
import { localEvaluator } from '../games/evaluator.js';
import type { InterventionalContext, InterventionalGame } from '../games/interventional-game.js';
import { interventionalGame, prepareInterventional } from '../games/interventional-game.js';
import type { Model } from '../models/model.js';
import type { Background } from '../sampling/background.js';
import { maskingLayout } from '../sampling/masking.js';
import type { Attribution, AttributionMethod, AttributionTask } from './method.js';
import { shapleyMethod } from './method.js';

/** Options shared by the sanity checks and the faithfulness metrics. */
export interface QualityOptions {
  /** Background rows of the interventional masker. Required. */
  background: RowsInput | Background;
  /** Weight per background row (normalised). @defaultValue uniform */
  backgroundWeights?: ArrayLike<number>;
  /** Groups of columns `{ name: [column, ...] }`; other columns are players of their own. */
  groups?: GroupSpec;
  /** Players as a prebuilt {@link Players} (overrides `groups`). */
  players?: Players;
  /** The method to check. @defaultValue shapleyMethod('kernel') (whybox's default Kernel SHAP) */
  method?: AttributionMethod;
  /** Budget passed to the method. @defaultValue the method's default */
  budget?: number;
  /** Seed of every random draw; row r's attribution uses seed + r. @defaultValue 0 */
  seed?: number;
  /** Rows per model call. @defaultValue 4096 */
  batchRows?: number;
  signal?: AbortSignal;
}

/** A validated setup: model, rows, background, players, and the masker's shared context. */
export interface QualitySetup {
  readonly model: Model;
  readonly rows: { readonly data: Float64Array; readonly nRows: number };
  readonly columns: readonly string[];
  readonly background: Background;
  readonly players: Players;
  readonly method: AttributionMethod;
  readonly seed: number;
  readonly budget?: number;
  readonly ctx: InterventionalContext;
}

/** Validates the inputs and evaluates the background once. */
export async function qualitySetup(model: Model, rows: RowsInput, options: QualityOptions): Promise<QualitySetup> {
  if (!options || typeof options !== 'object')
    throw new InvalidOptionError('options', 'an object with at least { background }', options);
  if (!model || typeof model.predict !== 'function' || !Number.isInteger(model.nInputs))
    throw new InvalidOptionError('model', 'a Model (from fromFunction, fromModule or loadOnnx)', model);
  const d = model.nInputs;
  checkRows(rows, d, 'rows', '');
  const columns =
    'columns' in rows ? [...rows.columns] : (model.inputNames ?? Array.from({ length: d }, (_, i) => `x${i}`));
  const background = toBackground(options.background, options.backgroundWeights, d);
  const players = options.players ?? definePlayers(columns, options.groups);
  if (players.nColumns !== d) throw new ShapeError(`players cover ${players.nColumns} columns; the model takes ${d}`);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new InvalidOptionError('seed', 'a safe integer', seed);
  const budget = options.budget;
  if (budget !== undefined && (!Number.isInteger(budget) || budget < 2))
    throw new InvalidOptionError('budget', 'an integer >= 2', budget);
  const method = options.method ?? shapleyMethod('kernel');
  if (!method || typeof method.attribute !== 'function')
    throw new InvalidOptionError('method', 'an AttributionMethod (see shapleyMethod)', method);
  const evaluator = localEvaluator(model, background, maskingLayout(players), { batchRows: options.batchRows });
  const ctx = await prepareInterventional(evaluator, options.signal);
  return { model, rows, columns, background, players, method, seed, budget, ctx };
}

/** Row r's game and task. */
export async function rowTask(
  s: QualitySetup,
  r: number,
  signal?: AbortSignal,
): Promise<{ game: InterventionalGame; task: AttributionTask; x: Float64Array }> {
  const d = s.model.nInputs;
  const x = s.rows.data.slice(r * d, (r + 1) * d);
  const game = await interventionalGame(s.ctx, x, {}, signal);
  return { game, x, task: { game, model: { model: s.model, x, background: s.background, players: s.players } } };
}

/** Runs the method on a task and checks its output. */
export async function attributeTask(
  s: QualitySetup,
  task: AttributionTask,
  seed: number,
  signal?: AbortSignal,
): Promise<Attribution> {
  const res = await s.method.attribute(task, { seed, budget: s.budget, signal });
  const expected = task.game.nPlayers * task.game.nOutputs;
  if (!res || !(res.values instanceof Float64Array) || res.values.length !== expected)
    throw new ShapeError(
      `method "${s.method.name}" returned ${res?.values?.length ?? 'no'} values; expected ${task.game.nPlayers} players × ${task.game.nOutputs} outputs = ${expected} in a Float64Array`,
    );
  if (res.values.some((v) => !Number.isFinite(v)))
    throw new ShapeError(`method "${s.method.name}" returned a value that is not finite`);
  return res;
}

export { toBackground };
