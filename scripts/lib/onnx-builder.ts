/**
 * A minimal, typed helper over `onnx-proto` (protobufjs, ONNX 1.10.2 schema) for writing
 * small ONNX models by hand: float initializers, nodes with int/ints/float attributes,
 * tensor value infos with symbolic dimensions, and a model with IR version 8.
 *
 * Encoding is deterministic: the same calls give the same bytes.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** The `onnx` protobuf namespace types, re-exported for callers that need them. */
export type OnnxTensorProto = onnxProto.onnx.ITensorProto;
/** A node of an ONNX graph as protobufjs properties. */
export type OnnxNodeProto = onnxProto.onnx.INodeProto;
/** A graph input or output description as protobufjs properties. */
export type OnnxValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** ONNX IR version written by {@link buildModel} (ONNX 1.10 writes IR version 8). */
export const IR_VERSION = 8;

/** Default opset of the default ('ai.onnx') domain used by {@link buildModel}. */
export const DEFAULT_OPSET = 13;

/** Element types supported by {@link valueInfo}. */
export type ElemType = 'float' | 'int64' | 'double';

const ELEM_TYPES: Readonly<Record<ElemType, number>> = {
  float: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  double: onnx.TensorProto.DataType.DOUBLE,
};

/**
 * A node attribute value. The kind is explicit because a JS number cannot tell an ONNX
 * INT attribute from a FLOAT one (Gemm's `alpha: 1.0` must be FLOAT, ArgMax's `axis: 1` INT).
 */
export type AttributeValue =
  | { readonly int: number }
  | { readonly ints: readonly number[] }
  | { readonly float: number }
  | { readonly floats: readonly number[] };

/**
 * A float32 initializer named `name` with shape `dims`, stored as little-endian `rawData`.
 *
 * @throws {Error} when `data.length` differs from the product of `dims`.
 * @example
 * tensor('W', [10, 1], new Float32Array(10).fill(0.5));
 */
export function tensor(name: string, dims: readonly number[], data: Float32Array): OnnxTensorProto {
  const size = dims.reduce((a, d) => a * d, 1);
  if (data.length !== size)
    throw new Error(`tensor ${name}: ${data.length} values for dims [${dims.join(', ')}] (${size} expected)`);
  const raw = new Uint8Array(data.length * 4);
  const view = new DataView(raw.buffer);
  // Explicit little-endian writes: ONNX raw_data is little-endian whatever the host order.
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return {
    name,
    dims: [...dims],
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: raw,
  };
}

/**
 * A node `opType(inputs) -> outputs` of the default domain, named after its first output.
 *
 * @example
 * node('ArgMax', ['probabilities'], ['label'], { axis: { int: 1 }, keepdims: { int: 0 } });
 */
export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attrs: Readonly<Record<string, AttributeValue>> = {},
): OnnxNodeProto {
  const attribute = Object.entries(attrs).map(([name, value]): onnxProto.onnx.IAttributeProto => {
    const { AttributeType } = onnx.AttributeProto;
    if ('int' in value) return { name, type: AttributeType.INT, i: value.int };
    if ('ints' in value) return { name, type: AttributeType.INTS, ints: [...value.ints] };
    if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
    return { name, type: AttributeType.FLOATS, floats: [...value.floats] };
  });
  return {
    name: `${opType}_${outputs[0] ?? 'out'}`,
    opType,
    input: [...inputs],
    output: [...outputs],
    attribute,
  };
}

/**
 * A tensor value info (graph input or output). Numbers are fixed dimensions, strings are
 * symbolic ones; whybox expects the batch dimension first, named `'batch'`.
 *
 * @example
 * valueInfo('x', 'float', ['batch', 10]);
 * valueInfo('label', 'int64', ['batch']);
 */
export function valueInfo(name: string, elemType: ElemType, dims: readonly (number | string)[]): OnnxValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM_TYPES[elemType],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Arguments of {@link buildModel}. */
export interface ModelSpec {
  readonly inputs: readonly OnnxValueInfoProto[];
  /** Graph outputs, in the order a loader will list them. */
  readonly outputs: readonly OnnxValueInfoProto[];
  /** Nodes in topological order. */
  readonly nodes: readonly OnnxNodeProto[];
  readonly initializers: readonly OnnxTensorProto[];
  /** Opset of the default domain. @defaultValue 13 */
  readonly opset?: number;
  /** Graph name. @defaultValue 'whybox' */
  readonly name?: string;
  /** Model doc string (keep it free of dates so that the bytes stay reproducible). */
  readonly docString?: string;
}

/**
 * Encodes a model (IR version 8, one graph, default-domain opset `opset`) to ONNX bytes.
 *
 * @example
 * const bytes = buildModel({ inputs: [valueInfo('x', 'float', ['batch', 1])],
 *   outputs: [valueInfo('y', 'float', ['batch', 1])], nodes: [node('Relu', ['x'], ['y'])],
 *   initializers: [] });
 */
export function buildModel(spec: ModelSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'whybox-scripts',
    producerVersion: '1',
    docString: spec.docString ?? '',
    opsetImport: [{ domain: '', version: spec.opset ?? DEFAULT_OPSET }],
    graph: {
      name: spec.name ?? 'whybox',
      input: [...spec.inputs],
      output: [...spec.outputs],
      node: [...spec.nodes],
      initializer: [...spec.initializers],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
