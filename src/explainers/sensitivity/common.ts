/**
 * What the sensitivity methods share: the per-row result, the checks of rows, players and
 * background, and the assembly of an {@link Explanation}.
 */
import type { Dataset } from '../../data/dataset.js';
import { assertFinite } from '../../data/dataset.js';
import type { GroupSpec, Players } from '../../data/players.js';
import { definePlayers } from '../../data/players.js';
import { DataError, InvalidOptionError, ShapeError, throwIfAborted } from '../../errors.js';
import type { Explanation, Method, SensitivityDetails } from '../../explanation/explanation.js';
import { createExplanation, playerColumnLists } from '../../explanation/explanation.js';
import type { Model } from '../../models/model.js';
import { checkModel } from '../../models/model.js';
import type { Background } from '../../sampling/background.js';
import { createBackground } from '../../sampling/background.js';
import { VERSION } from '../../version.js';
import type { Predictor } from './finite-difference.js';
import { modelPredictor } from './finite-difference.js';

/** What a per-row core computes for one explained row. */
export interface SensitivityRow {
  /** `nPlayers × nOutputs` (players = columns for `gradient` and `smoothgrad`). */
  readonly values: Float64Array;
  /** f(x), `nOutputs`. */
  readonly prediction: Float64Array;
  /** f(baseline) (weighted mean over baseline rows) for the methods with a baseline. */
  readonly baseValue?: Float64Array;
  /** Rows sent to the model for this row (baseline outputs, shared by all rows, not included). */
  readonly modelRows: number;
  /** Completeness gap Σ_p φ_p − (f(x) − f(baseline)) per output (signed), with a baseline. */
  readonly gap?: Float64Array;
  /** Integrated gradients: the steps used (after refinement). */
  readonly steps?: number;
  /** Integrated gradients with a tolerance: whether the gap fell below it. */
  readonly converged?: boolean;
}

/** Rows to explain: a Dataset, or a row-major buffer with its row count. */
export type SensitivityRows = Dataset | { readonly data: Float64Array; readonly nRows: number };

/** Options every sensitivity convenience function takes. */
export interface SensitivityInputOptions {
  /**
   * Background rows: they set each column's finite-difference scale (its standard
   * deviation) and the baselines `'mean'`, `'background'` and row indices.
   * @defaultValue none (scales 1; baselines must then be `'zeros'` or a row)
   */
  background?: SensitivityRows | Background;
  /** Weights of the background rows. @defaultValue uniform */
  backgroundWeights?: ArrayLike<number>;
  /** Groups of columns as players (`{ name: [column, ...] }`). @defaultValue every column a player */
  groups?: GroupSpec;
  /** Players given directly (instead of `groups`). @defaultValue from `groups` */
  players?: Players;
  /** Rows per model call. @defaultValue 4096 */
  batchRows?: number;
  /**
   * Seed of the random draws (only SmoothGrad draws; the other methods are deterministic and
   * record it in `meta.seed`). @defaultValue a random seed for SmoothGrad, else 0
   */
  seed?: number;
  signal?: AbortSignal;
  /** Called after each explained row. */
  onProgress?: (p: { rowsDone: number; rows: number }) => void;
}

/** The checked inputs of a sensitivity explanation. */
export interface SensitivitySetup {
  readonly pred: Predictor;
  readonly d: number;
  readonly nOut: number;
  readonly nRows: number;
  readonly data: Float64Array;
  readonly columns: readonly string[];
  readonly outputs: readonly string[];
  readonly players: Players;
  readonly playerColumns: readonly (readonly number[])[];
  readonly background?: Background;
  readonly started: number;
}

/**
 * Checks the model, rows, players and background of a sensitivity explanation.
 * @throws {InvalidOptionError | ShapeError | DataError} for a bad model, rows, players or background.
 */
export function prepareSensitivity(
  model: Model,
  rows: SensitivityRows,
  options: SensitivityInputOptions,
): SensitivitySetup {
  const started = performance.now();
  checkModel(model);
  const d = model.nInputs;
  if (!rows || !(rows.data instanceof Float64Array) || !Number.isInteger(rows.nRows))
    throw new InvalidOptionError('rows', 'a Dataset or { data: Float64Array, nRows }', rows);
  if (rows.nRows < 1) throw new DataError('the rows to explain hold no rows');
  if ('columns' in rows && rows.columns.length !== d)
    throw new ShapeError(`the rows have ${rows.columns.length} columns but the model takes ${d} inputs`);
  if (rows.data.length !== rows.nRows * d)
    throw new ShapeError(
      `the rows hold ${rows.data.length} values; ${rows.nRows} rows of ${d} inputs need ${rows.nRows * d}`,
    );
  assertFinite(rows.data, 'columns' in rows ? rows.columns : d, { what: 'value' });
  const columns =
    'columns' in rows
      ? [...rows.columns]
      : model.inputNames && model.inputNames.length === d
        ? [...model.inputNames]
        : Array.from({ length: d }, (_, i) => `x${i}`);
  if (options.players !== undefined && options.groups !== undefined)
    throw new InvalidOptionError('players', 'unset when groups are given (pass one of them)', options.players);
  const players = options.players ?? definePlayers(columns, options.groups);
  if (options.players !== undefined && (!players.offsets || players.nColumns !== d))
    throw new ShapeError(`the players cover ${players.nColumns} columns but the model takes ${d} inputs`);
  let background: Background | undefined;
  const bg = options.background;
  if (bg !== undefined) {
    if ('weights' in bg && 'summary' in bg && options.backgroundWeights === undefined) {
      if (bg.nColumns !== d) throw new ShapeError(`background has ${bg.nColumns} columns; the model takes ${d}`);
      background = bg;
    } else {
      if (!bg || !(bg.data instanceof Float64Array))
        throw new InvalidOptionError('background', 'a Dataset, { data: Float64Array, nRows } or a Background', bg);
      if ('columns' in bg && bg.columns.length !== d)
        throw new ShapeError(`background has ${bg.columns.length} columns; the model takes ${d}`);
      background = createBackground(
        'columns' in bg ? bg : { data: bg.data, nRows: bg.nRows, nColumns: d },
        options.backgroundWeights,
      );
    }
  } else if (options.backgroundWeights !== undefined)
    throw new InvalidOptionError('backgroundWeights', 'unset without a background', options.backgroundWeights);
  return {
    pred: modelPredictor(model, { batchRows: options.batchRows, signal: options.signal }),
    d,
    nOut: model.outputNames.length,
    nRows: rows.nRows,
    data: rows.data,
    columns,
    outputs: [...model.outputNames],
    players,
    playerColumns: playerColumnLists(players),
    background,
    started,
  };
}

/**
 * Refuses grouped players for the per-column gradient methods: a derivative is taken along
 * one column, and a group of one-hot columns has no single derivative (moving one
 * indicator off {0, 1} leaves the data; Σ_i ∂f/∂x_i over the group moves all its
 * indicators up at once, which is not a change of category either).
 */
export function requireColumnPlayers(setup: SensitivitySetup, method: Method): void {
  const multi = setup.playerColumns.findIndex((c) => c.length > 1);
  if (multi >= 0)
    throw new InvalidOptionError(
      'groups',
      `unset for method '${method}' (it reports ∂f/∂x per input column)`,
      `player ${JSON.stringify(setup.players.names[multi])} of ${setup.playerColumns[multi].length} columns`,
      "a group such as the one-hot columns of an attribute has no single derivative; use 'gradient-input' or 'integrated-gradients' (derivative along the group's move from the baseline) or 'occlusion' for grouped players, or explain the columns",
    );
}

/** Extras of the assembled explanation. */
export interface SensitivityAssembly {
  readonly method: Method;
  /** Base value per output (f(baseline)); zeros for methods without a baseline. */
  readonly baseValues: Float64Array;
  /** Model rows spent outside the per-row cores (the baselines' outputs). */
  readonly sharedModelRows: number;
  readonly details: SensitivityDetails;
  readonly seed: number;
  /** `meta.budget`: model rows per explained row the method was configured to spend. */
  readonly budget: number;
}

/** Builds the {@link Explanation} of per-row results. */
export function sensitivityExplanation(
  setup: SensitivitySetup,
  rows: readonly SensitivityRow[],
  a: SensitivityAssembly,
): Explanation {
  const { nRows, nOut, d } = setup;
  const n = setup.players.names.length;
  const values = new Float64Array(nRows * n * nOut);
  const predictions = new Float64Array(nRows * nOut);
  let modelRows = a.sharedModelRows;
  rows.forEach((row, r) => {
    values.set(row.values, r * n * nOut);
    predictions.set(row.prediction, r * nOut);
    modelRows += row.modelRows;
  });
  const withSteps = rows.some((row) => row.steps !== undefined);
  const withConverged = rows.some((row) => row.converged !== undefined);
  const details: SensitivityDetails = {
    ...a.details,
    ...(withSteps ? { stepsUsed: rows.map((row) => row.steps ?? 0) } : {}),
  };
  return createExplanation({
    method: a.method,
    players: setup.players.names,
    outputs: setup.outputs,
    columns: setup.columns,
    playerColumns: setup.playerColumns,
    nRows,
    rowIndices: Array.from({ length: nRows }, (_, i) => i),
    data: setup.data.slice(0, nRows * d),
    baseValues: a.baseValues,
    predictions,
    values,
    exact: rows.map(() => false),
    ...(withConverged ? { converged: rows.map((row) => row.converged === true) } : {}),
    evaluations: modelRows,
    modelRows,
    seconds: (performance.now() - setup.started) / 1000,
    sensitivity: details,
    meta: {
      version: VERSION,
      seed: a.seed,
      budget: a.budget,
      background: setup.background
        ? { rows: setup.background.nRows, summary: setup.background.summary }
        : { rows: 0, summary: 'none' },
      threads: 1,
      method: a.method,
      params: { ...a.details },
    },
  });
}

/** Runs a per-row core over every row of the setup, reporting progress. */
export async function overRows(
  setup: SensitivitySetup,
  options: SensitivityInputOptions,
  core: (x: Float64Array, r: number) => Promise<SensitivityRow>,
): Promise<SensitivityRow[]> {
  const out: SensitivityRow[] = [];
  for (let r = 0; r < setup.nRows; r++) {
    throwIfAborted(options.signal);
    out.push(await core(setup.data.subarray(r * setup.d, (r + 1) * setup.d), r));
    options.onProgress?.({ rowsDone: r + 1, rows: setup.nRows });
  }
  return out;
}

/** Validates an integer option in [min, max]. */
export function intOption(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const v = value === undefined ? fallback : value;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new InvalidOptionError(
      name,
      max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in ${min}..${max}`,
      v,
    );
  return v;
}

/** Signed completeness gap Σ_p φ_p − (f(x) − base) per output. */
export function completenessGap(
  values: Float64Array,
  nPlayers: number,
  fx: ArrayLike<number>,
  base: ArrayLike<number>,
): Float64Array {
  const nOut = fx.length;
  const gap = new Float64Array(nOut);
  for (let o = 0; o < nOut; o++) {
    let s = 0;
    for (let p = 0; p < nPlayers; p++) s += values[p * nOut + o];
    gap[o] = s - (fx[o] - base[o]);
  }
  return gap;
}
