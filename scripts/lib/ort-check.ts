/**
 * Runs generated ONNX models with onnxruntime-node so the generator scripts can check
 * their outputs against the float64 JS reference.
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';

/** The outputs of one run: each output tensor as rows (batch first, the rest flattened). */
export type OrtOutputs = Record<string, number[][]>;

/**
 * Runs `model` (path or bytes) on `nRows` rows of `data` (flat, row-major), fed as one
 * float32 tensor of shape `[nRows, ...rowShape]` to the model's single input.
 * Settings follow whybox's own loader (sequential, one thread, all graph optimisations).
 * int64 outputs are converted to numbers.
 */
export async function runOnnx(
  model: string | Uint8Array,
  data: ArrayLike<number>,
  nRows: number,
  rowShape: readonly number[],
): Promise<{ outputNames: readonly string[]; outputs: OrtOutputs }> {
  const options: InferenceSession.SessionOptions = {
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    interOpNumThreads: 1,
    intraOpNumThreads: 1,
    logSeverityLevel: 3,
  };
  const session =
    typeof model === 'string'
      ? await InferenceSession.create(model, options)
      : await InferenceSession.create(model, options);
  try {
    if (session.inputNames.length !== 1) throw new Error(`expected one input, got ${session.inputNames.join(', ')}`);
    const input = new Tensor('float32', Float32Array.from(data), [nRows, ...rowShape]);
    const result = await session.run({ [session.inputNames[0]]: input });
    const outputs: OrtOutputs = {};
    for (const name of session.outputNames) {
      const t = result[name];
      const values = Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
      const perRow = values.length / nRows;
      outputs[name] = Array.from({ length: nRows }, (_, r) => values.slice(r * perRow, (r + 1) * perRow));
    }
    return { outputNames: session.outputNames, outputs };
  } finally {
    await session.release();
  }
}

/**
 * Largest absolute difference between two equally shaped row lists.
 *
 * @throws {Error} when the shapes differ.
 */
export function maxAbsDiff(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number {
  if (a.length !== b.length) throw new Error(`row counts differ: ${a.length} vs ${b.length}`);
  let max = 0;
  a.forEach((row, r) => {
    if (row.length !== b[r].length) throw new Error(`row ${r}: ${row.length} vs ${b[r].length} values`);
    row.forEach((v, c) => {
      const d = Math.abs(v - b[r][c]);
      max = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(max, d);
    });
  });
  return max;
}
