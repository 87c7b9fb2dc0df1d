/**
 * A small protobuf decoder for the part of the ONNX schema that whybox reads at run time
 * (ModelProto → GraphProto → NodeProto → AttributeProto / TensorProto, graph inputs and
 * outputs). onnxruntime-node does not expose node attributes, and the full schema
 * (`onnx-proto`, protobufjs) is only a dev dependency; the wire format needed here is a
 * few dozen lines. Unknown fields are skipped, so newer ONNX files decode as well.
 *
 * Field numbers: onnx/onnx.proto (IR version 10).
 */
import { ModelError } from '../errors.js';

/** ONNX TensorProto data types used by whybox. */
export const ONNX_DATA_TYPE = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
} as const;

/** A decoded TensorProto: its shape, element type and values as numbers. */
export interface OnnxTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: number;
  /** Values in float64 (float32 values are exact). */
  readonly values: Float64Array;
}

/** A decoded AttributeProto; only the fields that were present are set. */
export interface OnnxAttribute {
  readonly name: string;
  /** AttributeProto.AttributeType (1 FLOAT, 2 INT, 3 STRING, 4 TENSOR, 6 FLOATS, 7 INTS, 8 STRINGS). */
  readonly type: number;
  readonly f?: number;
  readonly i?: number;
  readonly s?: string;
  readonly t?: OnnxTensor;
  readonly floats?: readonly number[];
  readonly ints?: readonly number[];
  readonly strings?: readonly string[];
}

/** A decoded NodeProto. */
export interface OnnxNode {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: ReadonlyMap<string, OnnxAttribute>;
}

/** A graph input or output: name, element type (0 when not a tensor) and dimensions. */
export interface OnnxValueInfo {
  readonly name: string;
  readonly elemType: number;
  /** Fixed dimensions as numbers, symbolic ones as strings. */
  readonly dims: readonly (number | string)[];
}

/** The parts of an ONNX model whybox reads. */
export interface OnnxGraph {
  readonly irVersion: number;
  /** Opset version per domain (`''` is the default domain `ai.onnx`). */
  readonly opsets: ReadonlyMap<string, number>;
  readonly nodes: readonly OnnxNode[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  /** Names of the graph initializers (constants; they are not inputs a caller feeds). */
  readonly initializers: ReadonlySet<string>;
}

const utf8 = new TextDecoder('utf-8');

class Reader {
  pos: number;
  readonly end: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }
  get done(): boolean {
    return this.pos >= this.end;
  }
  varint(): number {
    // int64 values as JS numbers: exact up to 2^53; negative int64 (10-byte varints) via two's complement.
    let lo = 0;
    let hi = 0;
    let shift = 0;
    let b: number;
    do {
      if (this.pos >= this.end) throw truncated();
      b = this.buf[this.pos++];
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else if (shift < 64) hi |= (b & 0x7f) << (shift - 32);
      shift += 7;
    } while (b & 0x80);
    lo >>>= 0;
    return hi & 0x80000000 ? (hi | 0) * 4294967296 + lo : (hi >>> 0) * 4294967296 + lo;
  }
  bytes(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.end) throw truncated();
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  string(): string {
    return utf8.decode(this.bytes());
  }
  float32(): number {
    if (this.pos + 4 > this.end) throw truncated();
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }
  float64(): number {
    if (this.pos + 8 > this.end) throw truncated();
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new ModelError(`not an ONNX model: unsupported protobuf wire type ${wire}`);
    if (this.pos > this.end) throw truncated();
  }
  /** Calls `on(field, wire)` for every field; `on` must consume the value or return false to skip it. */
  each(on: (field: number, wire: number) => boolean): void {
    while (!this.done) {
      const key = this.varint();
      const field = Math.floor(key / 8);
      const wire = key & 7;
      if (!on(field, wire)) this.skip(wire);
    }
  }
}

function truncated(): ModelError {
  return new ModelError('not an ONNX model: the protobuf data is truncated or corrupt');
}

function sub(r: Reader): Reader {
  const b = r.bytes();
  return new Reader(b);
}

/** Reads a repeated scalar field that may be packed (wire 2) or not. */
function repeated(r: Reader, wire: number, out: number[], one: (r: Reader) => number): void {
  if (wire === 2) {
    const s = sub(r);
    while (!s.done) out.push(one(s));
  } else out.push(one(r));
}

const varint = (r: Reader) => r.varint();
const f32 = (r: Reader) => r.float32();
const f64 = (r: Reader) => r.float64();

function decodeTensor(r: Reader): OnnxTensor {
  let name = '';
  const dims: number[] = [];
  let dataType = 0;
  const floatData: number[] = [];
  const intData: number[] = [];
  const doubleData: number[] = [];
  let raw: Uint8Array | undefined;
  let external = false;
  r.each((field, wire) => {
    if (field === 1) repeated(r, wire, dims, varint);
    else if (field === 2) dataType = r.varint();
    else if (field === 4) repeated(r, wire, floatData, f32);
    else if (field === 5 || field === 7 || field === 11) repeated(r, wire, intData, varint);
    else if (field === 8) name = r.string();
    else if (field === 9) raw = r.bytes();
    else if (field === 10) repeated(r, wire, doubleData, f64);
    else if (field === 14) external = r.varint() === 1;
    else return false;
    return true;
  });
  if (external)
    throw new ModelError(
      `tensor ${JSON.stringify(name)} is stored in an external file; whybox reads self-contained ONNX files only`,
    );
  let values: Float64Array;
  if (raw !== undefined) values = decodeRaw(raw, dataType, name);
  else if (floatData.length > 0) values = Float64Array.from(floatData);
  else if (doubleData.length > 0) values = Float64Array.from(doubleData);
  else values = Float64Array.from(intData);
  return { name, dims, dataType, values };
}

function decodeRaw(raw: Uint8Array, dataType: number, name: string): Float64Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const T = ONNX_DATA_TYPE;
  const size: Record<number, number> = {
    [T.FLOAT]: 4,
    [T.DOUBLE]: 8,
    [T.UINT8]: 1,
    [T.INT8]: 1,
    [T.BOOL]: 1,
    [T.INT32]: 4,
    [T.INT64]: 8,
  };
  const k = size[dataType];
  if (k === undefined)
    throw new ModelError(
      `tensor ${JSON.stringify(name)} has data type ${dataType}, which whybox cannot read (float, double or integer tensors only)`,
    );
  const n = Math.floor(raw.byteLength / k);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * k;
    if (dataType === T.FLOAT) out[i] = view.getFloat32(o, true);
    else if (dataType === T.DOUBLE) out[i] = view.getFloat64(o, true);
    else if (dataType === T.UINT8 || dataType === T.BOOL) out[i] = view.getUint8(o);
    else if (dataType === T.INT8) out[i] = view.getInt8(o);
    else if (dataType === T.INT32) out[i] = view.getInt32(o, true);
    else out[i] = Number(view.getBigInt64(o, true));
  }
  return out;
}

function decodeAttribute(r: Reader): OnnxAttribute {
  let name = '';
  let type = 0;
  const a: {
    f?: number;
    i?: number;
    s?: string;
    t?: OnnxTensor;
    floats?: number[];
    ints?: number[];
    strings?: string[];
  } = {};
  r.each((field, wire) => {
    if (field === 1) name = r.string();
    else if (field === 20) type = r.varint();
    else if (field === 2) a.f = r.float32();
    else if (field === 3) a.i = r.varint();
    else if (field === 4) a.s = r.string();
    else if (field === 5) a.t = decodeTensor(sub(r));
    else if (field === 7) repeated(r, wire, (a.floats ??= []), f32);
    else if (field === 8) repeated(r, wire, (a.ints ??= []), varint);
    else if (field === 9) (a.strings ??= []).push(r.string());
    else return false;
    return true;
  });
  return { name, type, ...a };
}

function decodeNode(r: Reader): OnnxNode {
  let name = '';
  let opType = '';
  let domain = '';
  const inputs: string[] = [];
  const outputs: string[] = [];
  const attributes = new Map<string, OnnxAttribute>();
  r.each((field) => {
    if (field === 1) inputs.push(r.string());
    else if (field === 2) outputs.push(r.string());
    else if (field === 3) name = r.string();
    else if (field === 4) opType = r.string();
    else if (field === 7) domain = r.string();
    else if (field === 5) {
      const at = decodeAttribute(sub(r));
      attributes.set(at.name, at);
    } else return false;
    return true;
  });
  return { name, opType, domain, inputs, outputs, attributes };
}

/** ValueInfoProto with its TypeProto.tensor_type (elem_type, shape) decoded. */
function decodeValueInfo(r: Reader): OnnxValueInfo {
  let name = '';
  let elemType = 0;
  const dims: (number | string)[] = [];
  r.each((field) => {
    if (field === 1) name = r.string();
    else if (field === 2) {
      const typeProto = sub(r);
      typeProto.each((tf) => {
        if (tf !== 1) return false;
        const tensorType = sub(typeProto);
        tensorType.each((ttf) => {
          if (ttf === 1) elemType = tensorType.varint();
          else if (ttf === 2) {
            const shape = sub(tensorType);
            shape.each((sf) => {
              if (sf !== 1) return false;
              const dim = sub(shape);
              let d: number | string = '?';
              dim.each((df) => {
                if (df === 1) d = dim.varint();
                else if (df === 2) d = dim.string();
                else return false;
                return true;
              });
              dims.push(d);
              return true;
            });
          } else return false;
          return true;
        });
        return true;
      });
    } else return false;
    return true;
  });
  return { name, elemType, dims };
}

/**
 * Decodes the graph of an ONNX model (its nodes with attributes, inputs, outputs, opsets).
 *
 * @throws {ModelError} when the bytes are not an ONNX ModelProto (truncated, corrupt, or
 *   without a graph).
 * @example
 * const g = decodeOnnxGraph(readFileSync('gbdt.onnx'));
 * g.nodes.map((n) => n.opType); // ['TreeEnsembleClassifier', 'ZipMap']
 */
export function decodeOnnxGraph(bytes: Uint8Array): OnnxGraph {
  const r = new Reader(bytes);
  let irVersion = 0;
  const opsets = new Map<string, number>();
  let graph: Uint8Array | undefined;
  r.each((field) => {
    if (field === 1) irVersion = r.varint();
    else if (field === 7) graph = r.bytes();
    else if (field === 8) {
      const o = sub(r);
      let domain = '';
      let version = 0;
      o.each((f) => {
        if (f === 1) domain = o.string();
        else if (f === 2) version = o.varint();
        else return false;
        return true;
      });
      opsets.set(domain === 'ai.onnx' ? '' : domain, version);
    } else return false;
    return true;
  });
  if (graph === undefined || irVersion <= 0)
    throw new ModelError('not an ONNX model: no graph found (is this an .onnx file?)');
  const nodes: OnnxNode[] = [];
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  const initializers = new Set<string>();
  const g = new Reader(graph);
  g.each((field) => {
    if (field === 1) nodes.push(decodeNode(sub(g)));
    else if (field === 11) inputs.push(decodeValueInfo(sub(g)));
    else if (field === 12) outputs.push(decodeValueInfo(sub(g)));
    else if (field === 5) initializers.add(decodeTensorName(sub(g)));
    else return false;
    return true;
  });
  return { irVersion, opsets, nodes, inputs: inputs.filter((i) => !initializers.has(i.name)), outputs, initializers };
}

function decodeTensorName(r: Reader): string {
  let name = '';
  r.each((field) => {
    if (field !== 8) return false;
    name = r.string();
    return true;
  });
  return name;
}
