import type { Players } from '../data/players.js';
import { DataError } from '../errors.js';

/**
 * A method name: one of the methods of the registry (`src/methods/registry.ts`):
 * `'kernel'`, `'exact'`, `'permutation'`, `'partition'`, `'lime'`, `'ism'`, ...
 */
export type Method = string;

/**
 * Shapley-value explanations of some rows: plain data (typed arrays with documented
 * strides), JSON-serialisable with {@link explanationToJSON}.
 *
 * - `values[(r * nPlayers + p) * nOutputs + o]` — value of player p for output o of row r.
 * - `predictions[r * nOutputs + o]`, `baseValues[o]`.
 * - Efficiency: Σ_p values = prediction − baseValue (per row and output, to ~1e-12).
 */
export interface Explanation {
  readonly method: Method;
  /** Kernel variant actually used (`'decomposed'`, `'leverage'`, ...), when method is kernel. */
  readonly variant?: string;
  readonly players: readonly string[];
  readonly outputs: readonly string[];
  /** Model input columns, and each player's columns (indices), for reports. */
  readonly columns: readonly string[];
  readonly playerColumns: readonly (readonly number[])[];
  readonly nRows: number;
  /** Index of each explained row in the caller's input. */
  readonly rowIndices: readonly number[];
  /** The explained rows' input values (`nRows × columns`). */
  readonly data: Float64Array;
  readonly baseValues: Float64Array;
  /**
   * Base value of each row (`nRows × nOutputs`) when it differs by row (a reference drawn
   * from each explained row, such as dinucleotide-shuffled sequences); `baseValues` is then
   * their mean.
   */
  readonly rowBaseValues?: Float64Array;
  readonly predictions: Float64Array;
  readonly values: Float64Array;
  /** Standard errors (same layout as `values`) when the method estimates them (0 when exact). */
  readonly stderr?: Float64Array;
  /** Per row: true when the values are exact (every coalition was used). */
  readonly exact: readonly boolean[];
  /** Per row, for `budget: 'auto'`: whether the stopping rule was met before the cap. */
  readonly converged?: readonly boolean[];
  /** Coalition values computed, over all rows. */
  readonly evaluations: number;
  /** Rows sent to the model, over all rows (including the background, once). */
  readonly modelRows: number;
  /** Wall time of the explanation in seconds. */
  readonly seconds: number;
  /** LIME's local models (method `'lime'` only; then `values` are the local model's weights). */
  readonly lime?: LimeDetails;
  readonly meta: ExplanationMeta;
}

/**
 * LIME's local surrogate per explained row and output (`[r * nOutputs + o]`), and the
 * settings used. `values` of a LIME explanation hold the weights (0 for features not selected).
 */
export interface LimeDetails {
  /** Intercept of the local (ridge) model. */
  readonly intercept: Float64Array;
  /** The local model's prediction at the instance (intercept + Σ weight · instance's interpretable value). */
  readonly localPrediction: Float64Array;
  /** Weighted R² of the local model on the neighbourhood (local fidelity; lime's `score`). */
  readonly score: Float64Array;
  /** Per row, per player: readable condition (`duration > 24`, `purpose = car`, or the name). */
  readonly conditions: readonly (readonly string[])[];
  /** Per row, per output: the selected players, largest |weight| first. */
  readonly selected: readonly (readonly (readonly number[])[])[];
  readonly kernelWidth: number;
  readonly discretizer: string;
  readonly featureSelection: string;
  readonly numFeatures: number;
  readonly numSamples: number;
  readonly distance: string;
  readonly alpha: number;
  /** Seconds spent in model.predict (the rest is sampling and fitting). */
  readonly modelSeconds: number;
}

/** How an explanation was made (enough to reproduce it). */
export interface ExplanationMeta {
  readonly version: string;
  readonly seed: number;
  /** Budget per row (number), `'auto'`, or 2^n for exact. */
  readonly budget: number | 'auto';
  /** The background: rows, how they were obtained, and the summary's seed when summarised. */
  readonly background: { readonly rows: number; readonly summary: string; readonly seed?: number };
  readonly threads: number;
  /** The method (also `Explanation.method`). */
  readonly method?: Method;
  /** Kernel SHAP variant used. */
  readonly variant?: string;
  /** The model's link (`'identity'` or `'logit'`). */
  readonly link?: string;
  /** The explained outputs (also `Explanation.outputs`). */
  readonly output?: readonly string[];
  /** The method's other options that shaped the result, as given (JSON values only). */
  readonly params?: Readonly<Record<string, unknown>>;
}

/** The `--format json` contract of the CLI (plus extension fields). */
export interface ExplanationJSON {
  method: Method;
  variant?: string;
  players: string[];
  outputs: string[];
  /** Model input columns, and each player's columns (indices), for reports and plots. */
  columns?: string[];
  playerColumns?: number[][];
  baseValues: number[];
  rows: {
    index: number;
    /** The explained row's input values (model column order). */
    data?: number[];
    prediction: number[];
    /** The row's own base value, when base values differ by row. */
    baseValue?: number[];
    values: number[][];
    stderr?: number[][];
    exact: boolean;
    converged?: boolean;
    /** |Σ values − (prediction − base)|; absent for LIME (its weights do not add up to the prediction). */
    efficiencyGap?: number;
    /** LIME: intercept, local prediction and weighted R² per output, readable conditions per player. */
    intercept?: number[];
    localPrediction?: number[];
    score?: number[];
    conditions?: string[];
    /** LIME: per output, the selected players (indices), largest |weight| first. */
    selected?: number[][];
  }[];
  evaluations: number;
  modelRows: number;
  seconds: number;
  seed: number;
  budget: number | 'auto';
  background: { rows: number; summary: string };
  threads: number;
  version: string;
  /** Every parameter that shaped the result. */
  meta?: ExplanationMetaJSON;
  /** LIME: the settings used. */
  lime?: {
    kernelWidth: number;
    discretizer: string;
    featureSelection: string;
    numFeatures: number;
    numSamples: number;
    distance: string;
    alpha: number;
  };
}

/** `meta` of the JSON form. */
export interface ExplanationMetaJSON {
  method: Method;
  variant?: string;
  budget: number | 'auto';
  seed: number;
  background: { rows: number; summary: string; seed?: number };
  link?: string;
  output?: string[];
  params?: Record<string, unknown>;
  threads: number;
  version: string;
}

/** What {@link createExplanation} needs (the rest takes documented defaults). */
export type ExplanationParts = Omit<Explanation, 'rowIndices' | 'exact' | 'nRows'> & {
  readonly nRows?: number;
  /** @defaultValue 0..nRows−1 */
  readonly rowIndices?: readonly number[];
  /** @defaultValue true for every row */
  readonly exact?: readonly boolean[];
};

/**
 * The one factory of {@link Explanation}s (every method, sequences and `explanationFromJSON`
 * build through it): checks that the arrays agree in shape, fills `rowIndices` and `exact`,
 * and completes `meta` with the method, variant and outputs.
 * @throws {DataError} when the parts do not fit together.
 */
export function createExplanation(parts: ExplanationParts): Explanation {
  const nPlayers = parts.players.length;
  const nOut = parts.outputs.length;
  const nRows = parts.nRows ?? parts.predictions.length / Math.max(1, nOut);
  const bad = (what: string) => {
    throw new DataError(`an explanation's ${what} does not fit ${nRows} rows × ${nPlayers} players × ${nOut} outputs`);
  };
  if (!Number.isInteger(nRows) || nRows < 0) bad('predictions');
  if (parts.values.length !== nRows * nPlayers * nOut) bad('values');
  if (parts.stderr && parts.stderr.length !== parts.values.length) bad('stderr');
  if (parts.predictions.length !== nRows * nOut) bad('predictions');
  if (parts.baseValues.length !== nOut) bad('baseValues');
  if (parts.rowBaseValues && parts.rowBaseValues.length !== nRows * nOut) bad('rowBaseValues');
  if (parts.playerColumns.length !== nPlayers) bad('playerColumns');
  if (parts.data.length !== nRows * parts.columns.length) bad('data');
  const rowIndices = parts.rowIndices ?? Array.from({ length: nRows }, (_, i) => i);
  if (rowIndices.length !== nRows) bad('rowIndices');
  const exact = parts.exact ?? new Array<boolean>(nRows).fill(true);
  if (exact.length !== nRows) bad('exact');
  return {
    ...parts,
    nRows,
    rowIndices,
    exact,
    meta: {
      ...parts.meta,
      method: parts.meta.method ?? parts.method,
      ...(parts.variant !== undefined && parts.meta.variant === undefined ? { variant: parts.variant } : {}),
      output: parts.meta.output ?? [...parts.outputs],
    },
  };
}

/** Number of players, outputs. */
export function dims(e: Explanation): { nPlayers: number; nOutputs: number } {
  return { nPlayers: e.players.length, nOutputs: e.outputs.length };
}

/** Value of player p for output o of row r. */
export function valueAt(e: Explanation, r: number, p: number, o = 0): number {
  const { nPlayers, nOutputs } = dims(e);
  return e.values[(r * nPlayers + p) * nOutputs + o];
}

/** |Σ_p φ − (prediction − base)| for row r, output o. */
export function efficiencyGap(e: Explanation, r: number, o = 0): number {
  const { nPlayers, nOutputs } = dims(e);
  let sum = 0;
  for (let p = 0; p < nPlayers; p++) sum += e.values[(r * nPlayers + p) * nOutputs + o];
  const base = e.rowBaseValues ? e.rowBaseValues[r * nOutputs + o] : e.baseValues[o];
  return Math.abs(sum - (e.predictions[r * nOutputs + o] - base));
}

/** The JSON form (the CLI's `--format json` contract, extended with the rows' data, columns and meta). */
export function explanationToJSON(e: Explanation): ExplanationJSON {
  const { nPlayers, nOutputs } = dims(e);
  const d = e.columns.length;
  const rows = Array.from({ length: e.nRows }, (_, r) => {
    const values: number[][] = [];
    const stderr: number[][] = [];
    for (let p = 0; p < nPlayers; p++) {
      const at = (r * nPlayers + p) * nOutputs;
      values.push(Array.from(e.values.subarray(at, at + nOutputs)));
      if (e.stderr) stderr.push(Array.from(e.stderr.subarray(at, at + nOutputs)));
    }
    let gap = 0;
    for (let o = 0; o < nOutputs; o++) gap = Math.max(gap, efficiencyGap(e, r, o));
    const lime = e.lime;
    const per = (a: Float64Array) => Array.from(a.subarray(r * nOutputs, (r + 1) * nOutputs));
    return {
      index: e.rowIndices[r],
      data: Array.from(e.data.subarray(r * d, (r + 1) * d)),
      prediction: Array.from(e.predictions.subarray(r * nOutputs, (r + 1) * nOutputs)),
      ...(e.rowBaseValues ? { baseValue: Array.from(e.rowBaseValues.subarray(r * nOutputs, (r + 1) * nOutputs)) } : {}),
      values,
      ...(e.stderr ? { stderr } : {}),
      exact: e.exact[r],
      ...(e.converged ? { converged: e.converged[r] } : {}),
      ...(lime
        ? {
            intercept: per(lime.intercept),
            localPrediction: per(lime.localPrediction),
            score: per(lime.score),
            conditions: [...lime.conditions[r]],
            selected: lime.selected[r].map((s) => [...s]),
          }
        : { efficiencyGap: gap }),
    };
  });
  const m = e.meta;
  return {
    method: e.method,
    ...(e.variant ? { variant: e.variant } : {}),
    players: [...e.players],
    outputs: [...e.outputs],
    columns: [...e.columns],
    playerColumns: e.playerColumns.map((c) => [...c]),
    baseValues: Array.from(e.baseValues),
    rows,
    evaluations: e.evaluations,
    modelRows: e.modelRows,
    seconds: e.seconds,
    seed: m.seed,
    budget: m.budget,
    background: { ...m.background },
    threads: m.threads,
    version: m.version,
    meta: {
      method: m.method ?? e.method,
      ...((m.variant ?? e.variant) ? { variant: m.variant ?? e.variant } : {}),
      budget: m.budget,
      seed: m.seed,
      background: { ...m.background },
      ...(m.link !== undefined ? { link: m.link } : {}),
      output: [...(m.output ?? e.outputs)],
      ...(m.params !== undefined ? { params: { ...m.params } } : {}),
      threads: m.threads,
      version: m.version,
    },
    ...(e.lime
      ? {
          lime: {
            kernelWidth: e.lime.kernelWidth,
            discretizer: e.lime.discretizer,
            featureSelection: e.lime.featureSelection,
            numFeatures: e.lime.numFeatures,
            numSamples: e.lime.numSamples,
            distance: e.lime.distance,
            alpha: e.lime.alpha,
          },
        }
      : {}),
  };
}

/**
 * An {@link Explanation} from its JSON form (a saved `--format json` file, a service answer):
 * `explanationToJSON(explanationFromJSON(j))` equals `j`. JSON written before the rows'
 * `data` and `columns` were recorded cannot be restored (there is nothing to plot against).
 * @throws {DataError} naming the field that is missing or malformed.
 */
export function explanationFromJSON(json: unknown): Explanation {
  const j = json as ExplanationJSON;
  const need = (ok: boolean, field: string, hint = '') => {
    if (!ok) throw new DataError(`not a whybox explanation JSON: ${field} is missing or malformed${hint}`);
  };
  need(typeof j === 'object' && j !== null, 'the object');
  need(typeof j.method === 'string', 'method');
  need(Array.isArray(j.players) && Array.isArray(j.outputs), 'players/outputs');
  need(Array.isArray(j.rows), 'rows');
  need(
    Array.isArray(j.columns) && Array.isArray(j.playerColumns) && j.rows.every((r) => Array.isArray(r?.data)),
    'columns/playerColumns/rows[].data',
    ' (JSON from whybox 0.1 lacks the explained rows; re-run the explanation)',
  );
  const nRows = j.rows.length;
  const nP = j.players.length;
  const nOut = j.outputs.length;
  const d = (j.columns as string[]).length;
  const flat = (get: (r: ExplanationJSON['rows'][number]) => number[] | undefined, size: number, field: string) => {
    const out = new Float64Array(nRows * size);
    j.rows.forEach((row, r) => {
      const v = get(row);
      need(Array.isArray(v) && v.length === size, `rows[${r}].${field}`);
      out.set(v as number[], r * size);
    });
    return out;
  };
  const grid = (row: ExplanationJSON['rows'][number], key: 'values' | 'stderr') => {
    const m = row[key];
    return Array.isArray(m) ? m.flat() : undefined;
  };
  const hasStderr = j.rows.some((r) => r.stderr !== undefined);
  const hasBase = j.rows.some((r) => r.baseValue !== undefined);
  const hasConverged = j.rows.some((r) => r.converged !== undefined);
  const meta = j.meta;
  const lime = j.lime
    ? {
        ...j.lime,
        intercept: flat((r) => r.intercept, nOut, 'intercept'),
        localPrediction: flat((r) => r.localPrediction, nOut, 'localPrediction'),
        score: flat((r) => r.score, nOut, 'score'),
        conditions: j.rows.map((r) => [...(r.conditions ?? [])]),
        selected: j.rows.map((r) => (r.selected ?? []).map((s) => [...s])),
        modelSeconds: 0,
      }
    : undefined;
  return createExplanation({
    method: j.method,
    ...(j.variant !== undefined ? { variant: j.variant } : {}),
    players: [...j.players],
    outputs: [...j.outputs],
    columns: [...(j.columns as string[])],
    playerColumns: (j.playerColumns as number[][]).map((c) => [...c]),
    nRows,
    rowIndices: j.rows.map((r) => r.index),
    data: flat((r) => r.data, d, 'data'),
    baseValues: Float64Array.from(j.baseValues),
    ...(hasBase ? { rowBaseValues: flat((r) => r.baseValue, nOut, 'baseValue') } : {}),
    predictions: flat((r) => r.prediction, nOut, 'prediction'),
    values: flat((r) => grid(r, 'values'), nP * nOut, 'values'),
    ...(hasStderr ? { stderr: flat((r) => grid(r, 'stderr'), nP * nOut, 'stderr') } : {}),
    exact: j.rows.map((r) => r.exact === true),
    ...(hasConverged ? { converged: j.rows.map((r) => r.converged === true) } : {}),
    evaluations: j.evaluations,
    modelRows: j.modelRows,
    seconds: j.seconds,
    ...(lime ? { lime } : {}),
    meta: {
      version: j.version,
      seed: j.seed,
      budget: j.budget,
      background: { ...j.background },
      threads: j.threads,
      ...(meta
        ? {
            method: meta.method,
            ...(meta.variant !== undefined ? { variant: meta.variant } : {}),
            ...(meta.link !== undefined ? { link: meta.link } : {}),
            ...(meta.output !== undefined ? { output: [...meta.output] } : {}),
            ...(meta.params !== undefined ? { params: { ...meta.params } } : {}),
          }
        : {}),
    },
  });
}

/** Each player's column indices. */
export function playerColumnLists(players: Players): number[][] {
  return players.names.map((_, p) => Array.from(players.columns.subarray(players.offsets[p], players.offsets[p + 1])));
}
