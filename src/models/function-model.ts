import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidOptionError, ModelError, throwIfAborted, WhyboxError } from '../errors.js';
import type { InputType, Link, Model, ModelSpec, Rows } from './model.js';
import { applyLink, checkOutputs, checkRows, resolveLink } from './model.js';

/** A model as one row in, one value (or one value per output) out. */
export type RowFunction = (row: Float64Array) => number | ArrayLike<number> | Promise<number | ArrayLike<number>>;

/** A model as a batch in (`nRows × nInputs`, row-major), `nRows × nOutputs` values out. */
export type BatchFunction = (rows: Float64Array, nRows: number) => ArrayLike<number> | Promise<ArrayLike<number>>;

/** Options of {@link fromFunction}. */
export interface FunctionModelOptions {
  /** Number of input columns. Required. */
  nInputs: number;
  /** Output names; their count is the number of outputs. @defaultValue `['output']` */
  outputNames?: readonly string[];
  /** `true` when the function takes a whole batch ({@link BatchFunction}). @defaultValue false */
  batched?: boolean;
  /** Most rows per call of a batched function. @defaultValue 4096 */
  batchRows?: number;
  /** Link applied to every output. @defaultValue 'identity' */
  link?: Link;
  /** Input column names, when known. */
  inputNames?: readonly string[];
}

/** Resolved {@link FunctionModelOptions}. */
export const FUNCTION_MODEL_DEFAULTS = {
  outputNames: ['output'],
  batched: false,
  batchRows: 4096,
  link: 'identity',
} as const;

/**
 * Wraps a plain (sync or async) JavaScript function as a {@link Model}.
 * Outputs are checked: a wrong count, NaN or Infinity is a {@link ModelError} naming the row.
 *
 * @example
 * const model = fromFunction((x) => 2 * x[0] - x[1], { nInputs: 2 });
 * await model.predict(new Float64Array([1, 1, 3, 0]), 2); // Float64Array [1, 6]
 */
export function fromFunction(fn: RowFunction, options: FunctionModelOptions & { batched?: false }): Model;
/**
 * Wraps a batched function (`batched: true`): it gets `nRows × nInputs` values (row-major) and
 * returns `nRows × nOutputs`.
 *
 * @example
 * const diff = (rows: Float64Array, n: number) => Float64Array.from({ length: n }, (_, r) => rows[2 * r] - rows[2 * r + 1]);
 * const model = fromFunction(diff, { nInputs: 2, batched: true });
 */
export function fromFunction(fn: BatchFunction, options: FunctionModelOptions & { batched: true }): Model;
export function fromFunction(fn: RowFunction | BatchFunction, options: FunctionModelOptions): Model {
  return buildFunctionModel(fn, options, undefined);
}

/**
 * Loads a model function exported by an ES module, so that worker threads can load it too
 * (a function defined in the caller cannot be sent to a worker). The export may be a
 * function (wrapped as {@link fromFunction} would, with `options`) or an object implementing
 * {@link Model} (used as it is: only `options.nInputs` is checked against it).
 *
 * @param specifier an absolute path, a `file:` URL, or a package name resolvable from whybox.
 * @throws {ModelError} when the module cannot be imported or lacks the export.
 */
export async function fromModule(specifier: string, exportName: string, options: FunctionModelOptions): Promise<Model> {
  const url = toImportable(specifier);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new ModelError(`cannot import model module ${specifier}: ${(error as Error).message}`, { cause: error });
  }
  const exported = mod[exportName];
  const spec: ModelSpec = { kind: 'module', specifier: url, exportName, options: { ...options } };
  if (typeof exported === 'function') return buildFunctionModel(exported as RowFunction, options, spec);
  if (isModel(exported)) {
    if (exported.nInputs !== options.nInputs)
      throw new ModelError(
        `module ${specifier} exports a model with ${exported.nInputs} inputs, but nInputs is ${options.nInputs}`,
      );
    return { ...bindModel(exported), spec };
  }
  throw new ModelError(
    `module ${specifier} has no function or model export named ${JSON.stringify(exportName)} (exports: ${Object.keys(mod).join(', ') || 'none'})`,
  );
}

function buildFunctionModel(
  fn: RowFunction | BatchFunction,
  options: FunctionModelOptions,
  spec: ModelSpec | undefined,
): Model {
  if (typeof fn !== 'function') throw new InvalidOptionError('fn', 'a function', fn);
  const nInputs = options.nInputs;
  if (!Number.isInteger(nInputs) || nInputs < 1)
    throw new InvalidOptionError('nInputs', 'a positive integer (the number of input columns)', nInputs);
  const outputNames = [...(options.outputNames ?? FUNCTION_MODEL_DEFAULTS.outputNames)];
  if (outputNames.length === 0) throw new InvalidOptionError('outputNames', 'a non-empty list', outputNames);
  const batchRows = options.batchRows ?? FUNCTION_MODEL_DEFAULTS.batchRows;
  if (!Number.isInteger(batchRows) || batchRows < 1)
    throw new InvalidOptionError('batchRows', 'a positive integer', batchRows);
  const link = resolveLink(options.link);
  const batched = options.batched ?? false;
  const nOut = outputNames.length;
  const inputType: InputType = 'float64';

  async function callBatch(rows: Float64Array, nRows: number, out: Float64Array, at: number): Promise<void> {
    let res: ArrayLike<number>;
    try {
      res = await (fn as BatchFunction)(rows, nRows);
    } catch (error) {
      throw wrapThrow(error, `rows ${at}..${at + nRows - 1}`);
    }
    if (res.length !== nRows * nOut)
      throw new ModelError(
        `the model function returned ${res.length} values for ${nRows} rows; expected ${nRows * nOut} (${nOut} per row; rows ${at}..${at + nRows - 1})`,
      );
    for (let i = 0; i < res.length; i++) out[at * nOut + i] = res[i];
  }

  async function callRows(rows: Float64Array, nRows: number, out: Float64Array, signal?: AbortSignal) {
    for (let r = 0; r < nRows; r++) {
      if ((r & 63) === 0) throwIfAborted(signal); // every 64 rows: a slow model still stops within milliseconds
      let res: number | ArrayLike<number>;
      try {
        res = (fn as RowFunction)(rows.subarray(r * nInputs, (r + 1) * nInputs)) as number | ArrayLike<number>;
        if (res instanceof Promise) res = await res;
      } catch (error) {
        throw wrapThrow(error, `row ${r}`);
      }
      if (typeof res === 'number') {
        if (nOut !== 1)
          throw new ModelError(`the model function returned one number for row ${r}; expected ${nOut} outputs`);
        out[r] = res;
      } else {
        if (res.length !== nOut)
          throw new ModelError(`the model function returned ${res.length} values for row ${r}; expected ${nOut}`);
        for (let k = 0; k < nOut; k++) out[r * nOut + k] = res[k];
      }
    }
    checkOutputs(out, nRows, outputNames, 'the model function', link);
  }

  return {
    nInputs,
    outputNames,
    inputType,
    inputNames: options.inputNames,
    spec,
    async predict(rows: Rows, nRows: number, signal?: AbortSignal): Promise<Float64Array> {
      checkRows(rows, nRows, nInputs);
      throwIfAborted(signal);
      const x = rows instanceof Float64Array ? rows : Float64Array.from(rows.subarray(0, nRows * nInputs));
      const out = new Float64Array(nRows * nOut);
      if (!batched) await callRows(x, nRows, out, signal);
      else
        for (let start = 0; start < nRows; start += batchRows) {
          throwIfAborted(signal);
          const n = Math.min(batchRows, nRows - start);
          await callBatch(x.subarray(start * nInputs, (start + n) * nInputs), n, out, start);
        }
      if (batched) checkOutputs(out, nRows, outputNames, 'the model function', link);
      return applyLink(out, link);
    },
  };
}

function wrapThrow(error: unknown, where: string): Error {
  if (error instanceof WhyboxError) return error;
  return new ModelError(`the model function threw on ${where}: ${(error as Error)?.message ?? String(error)}`, {
    cause: error,
  });
}

function isModel(x: unknown): x is Model {
  const m = x as Model;
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof m.predict === 'function' &&
    Number.isInteger(m.nInputs) &&
    Array.isArray(m.outputNames)
  );
}

function bindModel(m: Model): Model {
  return {
    nInputs: m.nInputs,
    outputNames: m.outputNames,
    inputType: m.inputType ?? 'float64',
    inputNames: m.inputNames,
    predict: m.predict.bind(m),
    close: m.close?.bind(m),
  };
}

function toImportable(specifier: string): string {
  if (specifier.startsWith('file:') || specifier.startsWith('node:')) return specifier;
  if (isAbsolute(specifier)) return pathToFileURL(specifier).href;
  if (specifier.startsWith('.'))
    throw new InvalidOptionError(
      'specifier',
      'an absolute path, a file: URL or a package name',
      specifier,
      'relative paths are ambiguous inside worker threads; resolve them first, e.g. path.resolve(p)',
    );
  return specifier;
}
