/**
 * Writes benchmarks/fixtures/mlp-wide.onnx: a model-bound benchmark workload, an MLP
 * 61 -> 256 -> ReLU -> 256 -> ReLU -> 2 -> Softmax (about 82k multiply-adds per row, 13x the
 * test fixture mlp.onnx) with seeded He-initialised weights; outputs `probabilities`. Used by
 * the worker-pool benchmark, where the model, not whybox, should take the time.
 *
 * Run: npx tsx scripts/make-wide-mlp.ts (deterministic bytes; checked in onnxruntime).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dense, denseLayer, matrix, relu, softmax, toRows } from './lib/nn.js';
import { buildModel, node, tensor, valueInfo } from './lib/onnx-builder.js';
import { maxAbsDiff, runOnnx } from './lib/ort-check.js';
import { createRandom } from './lib/random.js';

const rng = createRandom(505);
const sizes = [61, 256, 256, 2];
const normals = (n: number, scale: number) => Float64Array.from({ length: n }, () => rng.normal() * scale);
const layers = sizes
  .slice(1)
  .map((out, i) => denseLayer(sizes[i], out, normals(sizes[i] * out, Math.sqrt(2 / sizes[i])), normals(out, 0.1)));
const f32 = (v: ArrayLike<number>) => Float32Array.from(v);
const model = buildModel({
  name: 'mlp-wide',
  docString: 'whybox benchmark fixture: MLP 61-256-256-2 with ReLU and softmax',
  inputs: [valueInfo('x', 'float', ['batch', 61])],
  outputs: [valueInfo('probabilities', 'float', ['batch', 2])],
  initializers: layers.flatMap((l, i) => [
    tensor(`W${i + 1}`, [sizes[i], sizes[i + 1]], f32(l.w)),
    tensor(`b${i + 1}`, [sizes[i + 1]], f32(l.b)),
  ]),
  nodes: [
    node('MatMul', ['x', 'W1'], ['h1_']),
    node('Add', ['h1_', 'b1'], ['h1']),
    node('Relu', ['h1'], ['a1']),
    node('MatMul', ['a1', 'W2'], ['h2_']),
    node('Add', ['h2_', 'b2'], ['h2']),
    node('Relu', ['h2'], ['a2']),
    node('MatMul', ['a2', 'W3'], ['logits_']),
    node('Add', ['logits_', 'b3'], ['logits']),
    node('Softmax', ['logits'], ['probabilities'], { axis: { int: 1 } }),
  ],
});
// check against the float64 forward pass on a few rows
const rows = Array.from({ length: 8 }, () => Array.from(normals(61, 1), Math.fround));
let h = matrix(rows.length, 61, rows.flat());
layers.forEach((l, i) => {
  h = dense(h, l);
  if (i < layers.length - 1) h = relu(h);
});
const expected = toRows(softmax(h));
const got = await runOnnx(model, rows.flat(), rows.length, [61]);
const diff = maxAbsDiff(got.outputs.probabilities, expected);
if (!(diff <= 1e-5)) {
  console.error(`mlp-wide: onnxruntime differs from the reference by ${diff}`);
  process.exit(1);
}
const target = fileURLToPath(new URL('../benchmarks/fixtures/mlp-wide.onnx', import.meta.url));
writeFileSync(target, model);
console.log(`mlp-wide.onnx: ${model.length} bytes, max |ort - ref| = ${diff.toExponential(2)}, written to ${target}`);
