/**
 * ONNX throughput of the MLP fixture (test/fixtures/mlp.onnx, 61-64-32-2) at batch sizes 1,
 * 64 and 4096: raw onnxruntime-node session.run vs whybox's adapter (loadOnnx().predict,
 * which adds float64 output conversion, NaN checks and output selection), side by side.
 * Run: npm run bench -- onnx-throughput
 */
import * as ort from 'onnxruntime-node';
import { loadOnnx } from '../src/index.js';
import { printTable, ROOT, saveResult } from './lib/common.js';

const file = `${ROOT}test/fixtures/mlp.onnx`;
const SECONDS = 1.5;
const session = await ort.InferenceSession.create(file, {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});
const model = await loadOnnx(file, { intraOpThreads: 1 });
const rows: (string | number)[][] = [];
const out: Record<string, number>[] = [];
for (const batch of [1, 64, 4096]) {
  const data = Float32Array.from({ length: batch * 61 }, (_, i) => ((i * 7919) % 13) / 6 - 1);
  const rate = async (fn: () => Promise<unknown>) => {
    for (let i = 0; i < 5; i++) await fn();
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < SECONDS * 1000) {
      await fn();
      n += batch;
    }
    return n / ((performance.now() - t0) / 1000);
  };
  const raw = await rate(() => session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data, [batch, 61]) }));
  const adapter = await rate(() => model.predict(data, batch));
  rows.push([
    batch,
    Math.round(raw).toLocaleString('en'),
    Math.round(adapter).toLocaleString('en'),
    (adapter / raw).toFixed(2),
  ]);
  out.push({ batch, rawRowsPerSecond: raw, adapterRowsPerSecond: adapter });
}
printTable(['batch', 'raw ORT rows/s', 'whybox loadOnnx rows/s', 'adapter/raw'], rows);
saveResult('onnx-throughput', out);
await session.release();
await model.close();
