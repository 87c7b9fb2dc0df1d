import { InvalidOptionError, ModelError, ShapeError } from '../errors.js';

/** Row buffers a model accepts: row-major, `nRows × nInputs`. */
export type Rows = Float32Array | Float64Array;

/** The element type a model prefers its rows in (callers build rows in it to avoid a copy). */
export type InputType = 'float32' | 'float64';

/** How raw model outputs are mapped before attribution: `logit` turns probabilities into log-odds. */
export type Link = 'identity' | 'logit';

/**
 * A serialisable recipe for rebuilding a model inside a worker thread
 * (closures cannot cross threads).
 */
export type ModelSpec =
  | { readonly kind: 'onnx'; readonly source: string | Uint8Array; readonly options: Record<string, unknown> }
  | {
      readonly kind: 'module';
      readonly specifier: string;
      readonly exportName: string;
      readonly options: Record<string, unknown>;
    };

/**
 * A black-box model: batched prediction over row-major typed arrays.
 *
 * `predict(rows, nRows)` returns `nRows × outputNames.length` values (row-major, always
 * two-dimensional, even for one output) after the model's link.
 */
export interface Model {
  readonly nInputs: number;
  readonly outputNames: readonly string[];
  readonly inputType: InputType;
  /** Input column names when the model knows them (ONNX models do not; CSV headers do). */
  readonly inputNames?: readonly string[];
  /** Present when the model can be rebuilt in a worker thread. */
  readonly spec?: ModelSpec;
  predict(rows: Rows, nRows: number, signal?: AbortSignal): Promise<Float64Array>;
  /** Releases native resources (ONNX sessions). Safe to call twice. */
  close?(): Promise<void>;
}

/** Link functions, applied to each raw output value. */
export function applyLink(values: Float64Array, link: Link): Float64Array {
  if (link === 'logit') {
    for (let i = 0; i < values.length; i++) values[i] = logit(values[i]);
  }
  return values;
}

/**
 * log(p / (1 - p)) with p clamped to [1e-15, 1 - 1e-15] so a saturated probability gives a
 * large finite log-odds (±34.5) instead of ±Infinity. Values outside [0, 1] are a model error.
 */
export function logit(p: number): number {
  const q = Math.min(Math.max(p, 1e-15), 1 - 1e-15);
  return Math.log(q / (1 - q));
}

/** Validates a link option. */
export function resolveLink(link: unknown, option = 'link'): Link {
  if (link === undefined) return 'identity';
  if (link === 'identity' || link === 'logit') return link;
  throw new InvalidOptionError(option, "'identity' or 'logit'", link);
}

/**
 * Checks a model's output buffer: its length and that every value is finite (and in [0, 1]
 * before a logit link).
 * @throws {ModelError} naming the first bad row and output.
 */
export function checkOutputs(
  out: ArrayLike<number>,
  nRows: number,
  outputNames: readonly string[],
  what: string,
  link: Link = 'identity',
): void {
  const nOut = outputNames.length;
  if (out.length !== nRows * nOut)
    throw new ModelError(
      `${what} returned ${out.length} values for ${nRows} rows; expected ${nRows * nOut} (${nOut} per row)`,
    );
  for (let i = 0; i < out.length; i++) {
    const v = out[i];
    if (!Number.isFinite(v) || (link === 'logit' && (v < 0 || v > 1))) {
      const r = Math.floor(i / nOut);
      throw new ModelError(
        link === 'logit' && Number.isFinite(v)
          ? `${what} returned ${v} for row ${r}, output ${JSON.stringify(outputNames[i % nOut])}; the logit link needs probabilities in [0, 1] — use link 'identity' for scores`
          : `${what} returned ${v} for row ${r}, output ${JSON.stringify(outputNames[i % nOut])}; a model must return finite numbers for every input row`,
      );
    }
  }
}

/** Checks that `rows` holds `nRows × nInputs` values. */
export function checkRows(rows: Rows, nRows: number, nInputs: number): void {
  if (!Number.isInteger(nRows) || nRows < 0) throw new ShapeError(`nRows must be a non-negative integer; got ${nRows}`);
  if (rows.length < nRows * nInputs)
    throw new ShapeError(
      `rows holds ${rows.length} values but ${nRows} rows of ${nInputs} inputs need ${nRows * nInputs}`,
    );
}

/**
 * A view of `model` that keeps only some outputs, by index or name.
 * @throws {InvalidOptionError} for an unknown name or an index out of range (lists the names).
 */
export function selectOutputs(model: Model, select: number | string | readonly (number | string)[]): Model {
  const wanted = Array.isArray(select) ? select : [select];
  const index = wanted.map((s) => resolveOutput(model.outputNames, s));
  const nAll = model.outputNames.length;
  const names = index.map((i) => model.outputNames[i]);
  if (index.length === nAll && index.every((i, k) => i === k)) return model;
  return {
    nInputs: model.nInputs,
    outputNames: names,
    inputType: model.inputType,
    inputNames: model.inputNames,
    spec: model.spec && withSelection(model.spec, index),
    async predict(rows, nRows, signal) {
      const all = await model.predict(rows, nRows, signal);
      const out = new Float64Array(nRows * index.length);
      for (let r = 0; r < nRows; r++)
        for (let k = 0; k < index.length; k++) out[r * index.length + k] = all[r * nAll + index[k]];
      return out;
    },
    close: model.close?.bind(model),
  };
}

function withSelection(spec: ModelSpec, index: number[]): ModelSpec {
  const prev = spec.options.select as number[] | undefined;
  return { ...spec, options: { ...spec.options, select: prev ? index.map((i) => prev[i]) : index } };
}

/** Index of an output given as an index or a name. */
export function resolveOutput(outputNames: readonly string[], s: number | string): number {
  if (typeof s === 'number' || /^\d+$/.test(String(s))) {
    const i = Number(s);
    if (Number.isInteger(i) && i >= 0 && i < outputNames.length) return i;
    throw new InvalidOptionError(
      'output',
      `an output index in 0..${outputNames.length - 1} or one of ${JSON.stringify(outputNames)}`,
      s,
    );
  }
  const i = outputNames.indexOf(s);
  if (i >= 0) return i;
  throw new InvalidOptionError('output', `one of ${JSON.stringify(outputNames)} or an index`, s);
}

/** Throws an {@link InvalidOptionError} unless `model` looks like a {@link Model}. */
export function checkModel(model: Model): void {
  if (
    !model ||
    typeof model.predict !== 'function' ||
    !Number.isInteger(model.nInputs) ||
    !Array.isArray(model.outputNames)
  )
    throw new InvalidOptionError('model', 'a Model (from fromFunction, fromModule or loadOnnx)', model);
}
