import { stat } from 'node:fs/promises';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { describeFsError } from '../data/csv.js';
import { InvalidOptionError, ModelError, throwIfAborted } from '../errors.js';
import { importOptional } from '../optional-deps.js';
import type { InputType, Link, Model, ModelSpec, Rows } from './model.js';
import { applyLink, checkOutputs, checkRows, resolveLink, selectOutputs } from './model.js';

/** Options of {@link loadOnnx}. */
export interface OnnxModelOptions {
  /**
   * Name of the output tensor to explain.
   * @defaultValue the first float tensor output whose name contains "prob" (a classifier's
   *   probabilities, as skl2onnx writes with `zipmap=False`), else the first float tensor output.
   */
  tensor?: string;
  /** Keep only these columns of the output tensor (indices or output names). @defaultValue all */
  select?: readonly (number | string)[];
  /** Link applied to every output value. @defaultValue 'identity' */
  link?: Link;
  /** Most rows per `session.run`; larger batches are split. @defaultValue 4096 */
  batchRows?: number;
  /**
   * onnxruntime intra-op threads of this session. @defaultValue 1 — explanations run many
   *   small batches, where one thread per session is fastest; parallelism comes from the
   *   worker pool (see `createWorkerPool`).
   */
  intraOpThreads?: number;
  /**
   * Shape of one input row without the batch dimension, for models whose input has symbolic
   * non-batch dimensions. @defaultValue read from the model
   */
  inputShape?: readonly number[];
}

/** Resolved defaults of {@link OnnxModelOptions}. */
export const ONNX_MODEL_DEFAULTS = { link: 'identity', batchRows: 4096, intraOpThreads: 1 } as const;

/** Description of one output tensor of an ONNX model. */
export interface OnnxTensorInfo {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly (number | string)[];
}

/** A {@link Model} backed by an onnxruntime-node session. */
export interface OnnxModel extends Model {
  readonly inputName: string;
  /** Input shape without the batch dimension (a flat row is reshaped to it). */
  readonly rowShape: readonly number[];
  /** Output tensor explained. */
  readonly tensor: string;
  /** Every output of the model (including the ones not explained, such as labels). */
  readonly tensors: readonly OnnxTensorInfo[];
  readonly spec: ModelSpec;
  close(): Promise<void>;
}

type Ort = typeof import('onnxruntime-node');
let ortPromise: Promise<Ort> | undefined;
/** onnxruntime-node, an optional peer dependency, loaded on first use (see `INSTALL_COMMANDS.onnx`). */
function ort(): Promise<Ort> {
  // onnxruntime's own log lines (coloured, multi-line) would break whybox's one-line stderr:
  // its failures reach the caller as errors, so only fatal messages are logged
  ortPromise ??= importOptional('onnx', () => import('onnxruntime-node'))
    .then((m) => {
      try {
        m.env.logLevel = 'fatal';
      } catch {}
      return m;
    })
    .catch((error: unknown) => {
      ortPromise = undefined; // installed later in the same process: try again
      throw error;
    });
  return ortPromise;
}

/**
 * Loads an ONNX model (from a path or bytes) with onnxruntime-node.
 *
 * Reads the input's name and shape from the model: a flat row of `nInputs` values is
 * reshaped to the input's shape (for example `[batch, 60, 4]`). Rows are fed as float32
 * (or float64 for double inputs); batches larger than `batchRows` are split.
 *
 * onnxruntime-node is an optional peer dependency: add it with
 * `ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node`.
 *
 * @throws {ModelError} when the file is missing, is not an ONNX model, or has inputs/outputs
 *   that whybox cannot drive (several inputs, non-numeric inputs, no float output).
 * @throws {MissingDependencyError} when onnxruntime-node is not installed (the message prints
 *   the install command).
 * @example
 * const model = await loadOnnx('credit.onnx', { select: [1] }); // P(class 1)
 * const p = await model.predict(rows, nRows);
 */
export async function loadOnnx(source: string | Uint8Array, options: OnnxModelOptions = {}): Promise<OnnxModel> {
  const link = resolveLink(options.link);
  const batchRows = options.batchRows ?? ONNX_MODEL_DEFAULTS.batchRows;
  if (!Number.isInteger(batchRows) || batchRows < 1)
    throw new InvalidOptionError('batchRows', 'a positive integer', batchRows);
  const intraOp = options.intraOpThreads ?? ONNX_MODEL_DEFAULTS.intraOpThreads;
  if (!Number.isInteger(intraOp) || intraOp < 0)
    throw new InvalidOptionError('intraOpThreads', 'a non-negative integer (0 = onnxruntime default)', intraOp);
  const label = typeof source === 'string' ? source : 'the ONNX model bytes';
  if (typeof source === 'string') {
    try {
      const s = await stat(source);
      if (!s.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    } catch (error) {
      throw new ModelError(describeFsError(error, source), { cause: error });
    }
  } else if (!(source instanceof Uint8Array)) {
    throw new InvalidOptionError('source', 'a file path or a Uint8Array of ONNX bytes', source);
  }
  const { InferenceSession: Session, Tensor: TensorCtor } = await ort();
  const sessionOptions: InferenceSession.SessionOptions = {
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    interOpNumThreads: 1,
    intraOpNumThreads: intraOp,
    logSeverityLevel: 4, // fatal only (see ort())
  };
  let session: InferenceSession;
  try {
    session =
      typeof source === 'string'
        ? await Session.create(source, sessionOptions)
        : // onnxruntime takes bytes on an ArrayBuffer only: bytes a worker pool shares (on a
          // SharedArrayBuffer) are copied once
          await Session.create(source.buffer instanceof ArrayBuffer ? source : new Uint8Array(source), sessionOptions);
  } catch (error) {
    throw new ModelError(
      `${label} is not a loadable ONNX model: ${firstLine((error as Error).message)} (export it with torch.onnx.export or skl2onnx)`,
      { cause: error },
    );
  }
  try {
    return await describeSession(session, TensorCtor, source, label, options, link, batchRows, intraOp);
  } catch (error) {
    await session.release().catch(() => undefined);
    throw error;
  }
}

async function describeSession(
  session: InferenceSession,
  TensorCtor: typeof Tensor,
  source: string | Uint8Array,
  label: string,
  options: OnnxModelOptions,
  link: Link,
  batchRows: number,
  intraOp: number,
): Promise<OnnxModel> {
  const inputs = session.inputMetadata;
  if (inputs.length !== 1)
    throw new ModelError(
      `${label} has ${inputs.length} inputs (${session.inputNames.join(', ')}); whybox explains models with one tensor input — wrap the others as constants or concatenate them`,
    );
  const input = inputs[0];
  if (!input.isTensor || (input.type !== 'float32' && input.type !== 'float64'))
    throw new ModelError(
      `${label} input ${JSON.stringify(input.name)} has type ${input.isTensor ? input.type : 'non-tensor'}; whybox feeds float32 or float64 tensors`,
    );
  const inputType: InputType = input.type === 'float64' ? 'float64' : 'float32';
  const shape = input.shape;
  const fixedBatch = typeof shape[0] === 'number' && shape[0] > 0 ? shape[0] : undefined;
  if (fixedBatch !== undefined && fixedBatch !== 1)
    throw new ModelError(
      `${label} input ${JSON.stringify(input.name)} has a fixed batch size of ${fixedBatch}; export it with a dynamic batch dimension (dynamic_axes in torch.onnx.export)`,
    );
  let rowShape: number[];
  if (options.inputShape) {
    rowShape = [...options.inputShape];
    if (rowShape.some((d) => !Number.isInteger(d) || d < 1))
      throw new InvalidOptionError('inputShape', 'a list of positive integers', options.inputShape);
  } else {
    const rest = shape.slice(1);
    if (shape.length < 2 || rest.some((d) => typeof d !== 'number' || d < 1))
      throw new ModelError(
        `${label} input ${JSON.stringify(input.name)} has shape ${JSON.stringify(shape)}; its non-batch dimensions must be fixed numbers, or pass inputShape`,
      );
    rowShape = rest as number[];
  }
  const nInputs = rowShape.reduce((a, b) => a * b, 1);
  const tensors: OnnxTensorInfo[] = session.outputMetadata.map((m) => ({
    name: m.name,
    type: m.isTensor ? m.type : 'non-tensor',
    shape: m.isTensor ? [...m.shape] : [],
  }));
  const floatOutputs = tensors.filter((t) => t.type === 'float32' || t.type === 'float64');
  let chosen: OnnxTensorInfo | undefined;
  if (options.tensor !== undefined) {
    chosen = tensors.find((t) => t.name === options.tensor);
    if (!chosen)
      throw new InvalidOptionError(
        'tensor',
        `one of the model's outputs ${JSON.stringify(tensors.map((t) => t.name))}`,
        options.tensor,
      );
    if (chosen.type !== 'float32' && chosen.type !== 'float64')
      throw new ModelError(
        `${label} output ${JSON.stringify(chosen.name)} has type ${chosen.type}; pick a float output (${floatOutputs.map((t) => t.name).join(', ') || 'none'})`,
      );
  } else {
    chosen = floatOutputs.find((t) => /prob/i.test(t.name)) ?? floatOutputs[0];
    if (!chosen)
      throw new ModelError(
        `${label} has no float tensor output (outputs: ${tensors.map((t) => `${t.name}: ${t.type}`).join(', ')}); a ZipMap output cannot be explained — export with zipmap=False`,
      );
  }
  const outName = chosen.name;
  const maxBatch = fixedBatch ?? batchRows;

  const run = async (data: Float32Array | Float64Array, n: number): Promise<Float32Array | Float64Array> => {
    const feed = new TensorCtor(inputType, data, [n, ...rowShape]);
    let result: Record<string, Tensor>;
    try {
      result = (await session.run({ [input.name]: feed }, [outName], { logSeverityLevel: 4 })) as Record<
        string,
        Tensor
      >;
    } catch (error) {
      throw new ModelError(`${label} failed to run: ${firstLine((error as Error).message)}`, { cause: error });
    }
    const t = result[outName];
    if (t.dims[0] !== n && !(n === 1 && t.dims.length <= 1))
      throw new ModelError(
        `${label} output ${JSON.stringify(outName)} has shape ${JSON.stringify(t.dims)} for a batch of ${n}; its first dimension must be the batch`,
      );
    return t.data as Float32Array | Float64Array;
  };

  // Output columns: from the metadata when fixed, else from one probe row.
  let nOut: number;
  const outRest = chosen.shape.slice(1);
  if (chosen.shape.length >= 1 && outRest.every((d) => typeof d === 'number' && d > 0))
    nOut = outRest.reduce<number>((a, b) => a * (b as number), 1);
  else {
    const probe = await run(inputType === 'float64' ? new Float64Array(nInputs) : new Float32Array(nInputs), 1);
    nOut = probe.length;
  }
  const outputNames = nOut === 1 ? [outName] : Array.from({ length: nOut }, (_, k) => `${outName}[${k}]`);

  let closed = false;
  const spec: ModelSpec = {
    kind: 'onnx',
    source,
    options: { tensor: outName, link, batchRows, intraOpThreads: intraOp, inputShape: rowShape },
  };
  const model: OnnxModel = {
    nInputs,
    outputNames,
    inputType,
    inputName: input.name,
    rowShape,
    tensor: outName,
    tensors,
    spec,
    async predict(rows: Rows, nRows: number, signal?: AbortSignal): Promise<Float64Array> {
      if (closed) throw new ModelError(`${label} was closed; load it again`);
      checkRows(rows, nRows, nInputs);
      const out = new Float64Array(nRows * nOut);
      // per call: concurrent predictions must not share a conversion buffer
      let scratch: Float32Array | undefined;
      for (let start = 0; start < nRows; start += maxBatch) {
        throwIfAborted(signal);
        const n = Math.min(maxBatch, nRows - start);
        let chunk: Float32Array | Float64Array = rows.subarray(start * nInputs, (start + n) * nInputs);
        if (inputType === 'float32' && chunk instanceof Float64Array) {
          scratch ??= new Float32Array(Math.min(maxBatch, nRows) * nInputs);
          const s = scratch.subarray(0, chunk.length);
          s.set(chunk);
          chunk = s;
        } else if (inputType === 'float64' && chunk instanceof Float32Array) {
          chunk = Float64Array.from(chunk);
        }
        const res = await run(chunk, n);
        if (res.length !== n * nOut)
          throw new ModelError(
            `${label} output ${JSON.stringify(outName)} has ${res.length} values for ${n} rows; expected ${n * nOut}`,
          );
        out.set(res, start * nOut);
      }
      checkOutputs(out, nRows, outputNames, label, link);
      return applyLink(out, link);
    },
    async close() {
      if (closed) return;
      closed = true;
      await session.release();
    },
  };
  if (options.select && options.select.length > 0) {
    const view = selectOutputs(model, options.select);
    return { ...model, outputNames: view.outputNames, predict: view.predict, spec: view.spec ?? spec };
  }
  return model;
}

function firstLine(s: string): string {
  return (s ?? '').split('\n')[0].slice(0, 300);
}
