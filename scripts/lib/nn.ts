/**
 * Reference neural-network math in float64 for the generator scripts: the expected outputs
 * of the ONNX fixtures and the forward pass of the demo model.
 *
 * Layers round their parameters through `Math.fround` when they are created, so the float64
 * reference computes with exactly the float32 values written into the ONNX files; the only
 * difference left against onnxruntime is float32 rounding of the intermediate results.
 */

/** A dense row-major matrix: element (r, c) is `data[r * cols + c]`. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/**
 * A matrix of `rows` x `cols`, zero-filled or copied from `data` (row-major).
 *
 * @throws {Error} when `data` has the wrong length.
 */
export function matrix(rows: number, cols: number, data?: ArrayLike<number>): Matrix {
  const m: Matrix = { rows, cols, data: new Float64Array(rows * cols) };
  if (data !== undefined) {
    if (data.length !== rows * cols) throw new Error(`matrix: ${data.length} values for ${rows} x ${cols}`);
    m.data.set(data);
  }
  return m;
}

/** A copy of `values` with each value rounded to the nearest float32 (`Math.fround`). */
export function toFloat32(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.fround(values[i]);
  return out;
}

/** A fully connected layer `y = x W + b`, with `W` stored `[inDim, outDim]` as ONNX MatMul wants. */
export interface Dense {
  readonly inDim: number;
  readonly outDim: number;
  /** Row-major `[inDim, outDim]`, float32-exact values. */
  readonly w: Float64Array;
  /** `[outDim]`, float32-exact values. */
  readonly b: Float64Array;
}

/**
 * A {@link Dense} layer with `w` (`[inDim, outDim]` row-major) and `b` rounded to float32.
 *
 * @throws {Error} when the lengths do not match the dimensions.
 */
export function denseLayer(inDim: number, outDim: number, w: ArrayLike<number>, b: ArrayLike<number>): Dense {
  if (w.length !== inDim * outDim || b.length !== outDim)
    throw new Error(`denseLayer: got ${w.length} weights and ${b.length} biases for ${inDim} -> ${outDim}`);
  return { inDim, outDim, w: toFloat32(w), b: toFloat32(b) };
}

/** `x W + b` for every row of `x` (float64 accumulation). */
export function dense(x: Matrix, layer: Dense): Matrix {
  if (x.cols !== layer.inDim) throw new Error(`dense: input has ${x.cols} columns, layer expects ${layer.inDim}`);
  const { inDim, outDim, w, b } = layer;
  const y = matrix(x.rows, outDim);
  for (let r = 0; r < x.rows; r++) {
    const xo = r * inDim;
    const yo = r * outDim;
    for (let o = 0; o < outDim; o++) y.data[yo + o] = b[o];
    for (let i = 0; i < inDim; i++) {
      const xi = x.data[xo + i];
      if (xi === 0) continue;
      const wo = i * outDim;
      for (let o = 0; o < outDim; o++) y.data[yo + o] += xi * w[wo + o];
    }
  }
  return y;
}

/** Elementwise `f` over a matrix. */
function map(x: Matrix, f: (v: number) => number): Matrix {
  const y = matrix(x.rows, x.cols);
  for (let i = 0; i < x.data.length; i++) y.data[i] = f(x.data[i]);
  return y;
}

/** Elementwise `max(0, x)`. */
export function relu(x: Matrix): Matrix {
  return map(x, (v) => Math.max(0, v));
}

/** Elementwise logistic `1 / (1 + exp(-x))`. */
export function sigmoid(x: Matrix): Matrix {
  return map(x, (v) => 1 / (1 + Math.exp(-v)));
}

/** Row-wise softmax (ONNX Softmax with axis 1 on a 2-D tensor), max-subtracted for stability. */
export function softmax(x: Matrix): Matrix {
  const y = matrix(x.rows, x.cols);
  for (let r = 0; r < x.rows; r++) {
    const o = r * x.cols;
    let max = -Infinity;
    for (let c = 0; c < x.cols; c++) max = Math.max(max, x.data[o + c]);
    let sum = 0;
    for (let c = 0; c < x.cols; c++) {
      const e = Math.exp(x.data[o + c] - max);
      y.data[o + c] = e;
      sum += e;
    }
    for (let c = 0; c < x.cols; c++) y.data[o + c] /= sum;
  }
  return y;
}

/** Row-wise index of the largest value; ties go to the first index, as ONNX ArgMax does. */
export function argmax(x: Matrix): number[] {
  const out: number[] = [];
  for (let r = 0; r < x.rows; r++) {
    let best = 0;
    for (let c = 1; c < x.cols; c++) if (x.data[r * x.cols + c] > x.data[r * x.cols + best]) best = c;
    out.push(best);
  }
  return out;
}

/**
 * Per-row transpose: each row of `x` holds an `[a, b]` array (row-major), returned as `[b, a]`
 * (ONNX Transpose with perm [0, 2, 1] on `[batch, a, b]`).
 */
export function transposeRows(x: Matrix, a: number, b: number): Matrix {
  if (x.cols !== a * b) throw new Error(`transposeRows: ${x.cols} columns for [${a}, ${b}]`);
  const y = matrix(x.rows, x.cols);
  for (let r = 0; r < x.rows; r++) {
    const o = r * x.cols;
    for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) y.data[o + j * a + i] = x.data[o + i * b + j];
  }
  return y;
}

/** A 1-D convolution (ONNX Conv on `[batch, inChannels, length]`): stride 1, no padding. */
export interface Conv1d {
  readonly outChannels: number;
  readonly inChannels: number;
  readonly kernel: number;
  /** `[outChannels, inChannels, kernel]` row-major, float32-exact values. */
  readonly w: Float64Array;
  /** `[outChannels]`, float32-exact values. */
  readonly b: Float64Array;
}

/**
 * A {@link Conv1d} layer with weights `[outChannels, inChannels, kernel]` and bias rounded to float32.
 *
 * @throws {Error} when the lengths do not match the dimensions.
 */
export function conv1dLayer(
  outChannels: number,
  inChannels: number,
  kernel: number,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
): Conv1d {
  if (w.length !== outChannels * inChannels * kernel || b.length !== outChannels)
    throw new Error(`conv1dLayer: got ${w.length} weights and ${b.length} biases`);
  return { outChannels, inChannels, kernel, w: toFloat32(w), b: toFloat32(b) };
}

/**
 * Valid (unpadded) cross-correlation, as ONNX Conv computes it. Each row of `x` is one
 * `[inChannels, length]` sample; each row of the result is `[outChannels, length - kernel + 1]`.
 */
export function conv1d(x: Matrix, length: number, layer: Conv1d): Matrix {
  const { outChannels, inChannels, kernel, w, b } = layer;
  if (x.cols !== inChannels * length) throw new Error(`conv1d: ${x.cols} columns for [${inChannels}, ${length}]`);
  const outLen = length - kernel + 1;
  const y = matrix(x.rows, outChannels * outLen);
  for (let r = 0; r < x.rows; r++) {
    const xo = r * x.cols;
    const yo = r * y.cols;
    for (let oc = 0; oc < outChannels; oc++) {
      for (let t = 0; t < outLen; t++) {
        let acc = b[oc];
        for (let ic = 0; ic < inChannels; ic++) {
          const wBase = (oc * inChannels + ic) * kernel;
          const xBase = xo + ic * length + t;
          for (let k = 0; k < kernel; k++) acc += w[wBase + k] * x.data[xBase + k];
        }
        y.data[yo + oc * outLen + t] = acc;
      }
    }
  }
  return y;
}

/**
 * Maximum over the last axis: each row of `x` is `[channels, length]`, each row of the
 * result `[channels]` (ONNX ReduceMax with axes [2], keepdims 0).
 */
export function maxOverLength(x: Matrix, channels: number, length: number): Matrix {
  if (x.cols !== channels * length) throw new Error(`maxOverLength: ${x.cols} columns for [${channels}, ${length}]`);
  const y = matrix(x.rows, channels);
  for (let r = 0; r < x.rows; r++) {
    for (let c = 0; c < channels; c++) {
      let max = -Infinity;
      const o = r * x.cols + c * length;
      for (let t = 0; t < length; t++) max = Math.max(max, x.data[o + t]);
      y.data[r * channels + c] = max;
    }
  }
  return y;
}

/** Rows of a matrix as plain arrays (for JSON). */
export function toRows(x: Matrix): number[][] {
  const rows: number[][] = [];
  for (let r = 0; r < x.rows; r++) rows.push(Array.from(x.data.subarray(r * x.cols, (r + 1) * x.cols)));
  return rows;
}
