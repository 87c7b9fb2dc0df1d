/**
 * The binary classifier shape shared by the credit models (`make-demo.ts`,
 * `make-german-mlp.ts`): standardisation inside the graph, a ReLU MLP, softmax over two
 * classes; its float64 JS reference forward pass and its ONNX encoding.
 */
import { type Dense, dense, type Matrix, matrix, relu, softmax } from './nn.js';
import { buildModel, node, tensor, valueInfo } from './onnx-builder.js';

/** Standardisation constants as float32 values (what the ONNX graph holds). */
export interface Scaler {
  readonly mean: Float32Array;
  /** 1 / std (population std; a constant column gets 1). */
  readonly invStd: Float32Array;
}

/** Column means and 1 / population std of `rows`, rounded to float32 (a constant column gets 1). */
export function fitScaler(rows: readonly (readonly number[])[]): Scaler {
  const d = rows[0].length;
  const mean = new Float32Array(d);
  const invStd = new Float32Array(d);
  for (let c = 0; c < d; c++) {
    let s = 0;
    for (const r of rows) s += r[c];
    const mu = s / rows.length;
    let v = 0;
    for (const r of rows) v += (r[c] - mu) ** 2;
    const std = Math.sqrt(v / rows.length);
    mean[c] = mu;
    invStd[c] = std > 0 ? 1 / std : 1;
  }
  return { mean, invStd };
}

/** (x - mean) * invStd in float64, with the float32 constants of the graph. */
export function standardise(rows: readonly (readonly number[])[], s: Scaler): Matrix {
  const d = s.mean.length;
  const z = matrix(rows.length, d);
  rows.forEach((r, i) => {
    for (let c = 0; c < d; c++) z.data[i * d + c] = (Math.fround(r[c]) - s.mean[c]) * s.invStd[c];
  });
  return z;
}

/** JS reference forward pass: P(class 1) (P(bad) for the credit models) per row. */
export function predictBad(rows: readonly (readonly number[])[], s: Scaler, layers: readonly Dense[]): number[] {
  let h = standardise(rows, s);
  layers.forEach((l, i) => {
    h = dense(h, l);
    if (i < layers.length - 1) h = relu(h);
  });
  const p = softmax(h);
  return Array.from({ length: p.rows }, (_, r) => p.data[r * 2 + 1]);
}

/**
 * ONNX bytes of `x` float [batch, d] → `Sub` mean, `Mul` 1/std → (MatMul + Add, ReLU) per
 * hidden layer → MatMul + Add → `Softmax` → outputs `label` int64 [batch] (ArgMax, listed
 * first as skl2onnx does) and `probabilities` float [batch, 2].
 *
 * Initializers `scaler_mean`, `scaler_inv_std`, `W1`, `b1`, …; intermediate names `h1_`, `h1`,
 * `a1`, …, `logits_`, `logits`.
 */
export function buildScaledMlpModel(name: string, docString: string, s: Scaler, layers: readonly Dense[]): Uint8Array {
  const d = s.mean.length;
  const f32 = (v: Float64Array): Float32Array => Float32Array.from(v);
  const last = layers.length - 1;
  return buildModel({
    name,
    docString,
    inputs: [valueInfo('x', 'float', ['batch', d])],
    outputs: [valueInfo('label', 'int64', ['batch']), valueInfo('probabilities', 'float', ['batch', 2])],
    initializers: [
      tensor('scaler_mean', [d], s.mean),
      tensor('scaler_inv_std', [d], s.invStd),
      ...layers.flatMap((l, i) => [
        tensor(`W${i + 1}`, [l.inDim, l.outDim], f32(l.w)),
        tensor(`b${i + 1}`, [l.outDim], f32(l.b)),
      ]),
    ],
    nodes: [
      node('Sub', ['x', 'scaler_mean'], ['x_centered']),
      node('Mul', ['x_centered', 'scaler_inv_std'], ['z']),
      ...layers.flatMap((_, i) => {
        const input = i === 0 ? 'z' : `a${i}`;
        const out = i === last ? 'logits' : `h${i + 1}`;
        const lin = [node('MatMul', [input, `W${i + 1}`], [`${out}_`]), node('Add', [`${out}_`, `b${i + 1}`], [out])];
        return i === last ? lin : [...lin, node('Relu', [out], [`a${i + 1}`])];
      }),
      node('Softmax', ['logits'], ['probabilities'], { axis: { int: 1 } }),
      node('ArgMax', ['probabilities'], ['label'], { axis: { int: 1 }, keepdims: { int: 0 } }),
    ],
  });
}
