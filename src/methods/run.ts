/** How registered methods run: the engine calls one of these (see `registry.ts`). */
import type { GroupSpec, Players } from '../data/players.js';
import type { RowsInput } from '../data/rows.js';
import type { GameEstimator, SplitEstimator } from '../estimators/estimate.js';
import type { OneHotInput } from '../explainers/ism.js';
import type { Explanation } from '../explanation/explanation.js';
import type { EvaluatorProvider } from '../games/evaluator.js';
import type { InterventionalGame } from '../games/interventional-game.js';
import type { Model } from '../models/model.js';
import type { Background } from '../sampling/background.js';

/** What an explainer over a model receives besides the model and rows. */
export interface ModelRequest {
  /** The method's own options, as given (validated against its specs). */
  readonly options: Record<string, unknown>;
  /** Background / training rows. */
  readonly background: RowsInput | Background;
  readonly groups?: GroupSpec;
  readonly players?: Players;
  readonly seed: number;
  /** Global index of the first row: row r uses random stream `firstRowIndex + r` of `seed`. @defaultValue 0 */
  readonly firstRowIndex?: number;
  readonly batchRows?: number;
  /** The `parallel` options (methods that take that group: LIME). */
  readonly threads?: number;
  readonly pool?: EvaluatorProvider;
  readonly concurrency?: number;
  readonly minParallelMs?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { rowsDone: number; rows: number; done: number; total: number }) => void;
  readonly onWarning?: (message: string) => void;
}

/** One-hot sequence rows for a sequence explainer over a model (ISM). */
export interface SequenceModelResult {
  /** f(x), `nRows × nOutputs`. */
  readonly predictions: Float64Array;
  /** Per row, position and output: the attribution of the observed letter (`nRows × L × nOutputs`). */
  readonly track: Float64Array;
  /** Optional per-letter matrix (`nRows × L × A × nOutputs`). */
  readonly hypothetical?: Float64Array;
  readonly modelRows: number;
}

/** The run function of a method: exactly one kind is set. */
export interface MethodRun {
  /** Game methods: the estimator of one row's interventional game (the engine does the rest). */
  readonly estimate?: GameEstimator;
  /**
   * Game methods whose estimate of one row splits into parts that add up (the engine runs
   * the parts of one row on several threads). Optional: without it a row is one unit of work.
   */
  readonly split?: SplitEstimator<InterventionalGame>;
  /**
   * Game methods: about how many model rows one row's game costs (for the engine's choice
   * of serial or parallel execution and its task time limits). @defaultValue 2048 × background rows
   */
  readonly gameRows?: (options: Record<string, unknown>, nPlayers: number, nBackground: number) => number;
  /** Explainers over a model, on tabular rows: the whole explanation. */
  readonly explainRows?: (model: Model, rows: RowsInput, request: ModelRequest) => Promise<Explanation>;
  /** Explainers over a model, on one-hot sequences. */
  readonly explainOneHot?: (
    model: Model,
    x: OneHotInput,
    request: Pick<ModelRequest, 'options' | 'batchRows' | 'signal'> & {
      readonly onProgress?: (p: { done: number; total: number }) => void;
    },
  ) => Promise<SequenceModelResult>;
}
