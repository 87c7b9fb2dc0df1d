/**
 * A small CNN for long DNA windows (L = 200 … 2,114, as chromBPNet's 2,114-bp inputs), with
 * known truth: 4 convolution filters of width 6 — the two motif PWMs of scripts/lib/motifs.ts
 * (GATAAG, CACGTG) and two seeded random "distractor" filters (weights N(0, 0.5²)) — ReLU,
 * global max pooling, a dense layer 4 → 2 and a sigmoid:
 *
 *   output 0 = σ(6·a − 4 + 0.3·r₁ − 0.3·r₂),  output 1 = σ(4·(a + b) − 7.5 + 0.2·r₁)
 *
 * with a, b, r₁, r₂ the pooled filter maxima. 24 + 4 + 8 + 2 = 130 weights whatever L: the
 * ONNX file is about 1 KB. Output 0 is high when motif A is present, so a planted GATAAG is the
 * attribution's truth (the distractors shift it by at most a few tenths of a logit).
 */
import { Rng } from '../../src/sampling/rng.js';
import { CONV_BIAS, scannerWeights } from './motifs.js';
import { buildModel, node, tensor, valueInfo } from './onnx-builder.js';

/** Lengths of the committed fixtures (datasets/long/cnn-L.onnx). */
export const LONG_LENGTHS = [200, 500, 1000, 2114] as const;

/** Conv weights [4, 4, 6] and biases [4]. */
export function longCnnWeights(): { W: Float32Array; B: Float32Array; V: Float32Array; c: Float32Array } {
  const W = new Float32Array(4 * 4 * 6);
  W.set(scannerWeights(), 0);
  const rng = Rng.fromSeed(2114);
  for (let i = 2 * 24; i < 4 * 24; i++) W[i] = Math.fround(rng.normal() * 0.5);
  const B = Float32Array.of(CONV_BIAS, CONV_BIAS, -1, -1);
  // head [4, 2]: rows = pooled a, b, r1, r2
  const V = Float32Array.of(6, 4, 0, 4, 0.3, 0.2, -0.3, 0);
  const c = Float32Array.of(-4, -7.5);
  return { W, B, V, c };
}

/** The CNN as ONNX bytes for input [batch, L, 4] (A, C, G, T one-hot). */
export function longCnnModel(L: number): Uint8Array {
  const { W, B, V, c } = longCnnWeights();
  return buildModel({
    name: `long_cnn_${L}`,
    docString: `whybox long-sequence CNN, L=${L}: conv 4x6 (PWMs GATAAG, CACGTG + 2 seeded distractors) -> relu -> global max -> dense 2 -> sigmoid`,
    inputs: [valueInfo('dna', 'float', ['batch', L, 4])],
    outputs: [valueInfo('probabilities', 'float', ['batch', 2])],
    initializers: [
      tensor('conv_W', [4, 4, 6], W),
      tensor('conv_B', [4], B),
      tensor('head_W', [4, 2], V),
      tensor('head_b', [2], c),
    ],
    nodes: [
      node('Transpose', ['dna'], ['dna_t'], { perm: { ints: [0, 2, 1] } }),
      node('Conv', ['dna_t', 'conv_W', 'conv_B'], ['conv'], {
        kernel_shape: { ints: [6] },
        pads: { ints: [0, 0] },
        strides: { ints: [1] },
      }),
      node('Relu', ['conv'], ['conv_relu']),
      node('ReduceMax', ['conv_relu'], ['pooled'], { axes: { ints: [2] }, keepdims: { int: 0 } }),
      node('MatMul', ['pooled', 'head_W'], ['logits_']),
      node('Add', ['logits_', 'head_b'], ['logits']),
      node('Sigmoid', ['logits'], ['probabilities']),
    ],
  });
}

/** The CNN in float64 JavaScript on one one-hot row (`L × 4`, position-major). */
export function longCnnReference(x: Float64Array, L: number): [number, number] {
  const { W, B, V, c } = longCnnWeights();
  const pooled = [0, 0, 0, 0];
  for (let f = 0; f < 4; f++)
    for (let p = 0; p + 6 <= L; p++) {
      let s = B[f];
      for (let k = 0; k < 6; k++) for (let ch = 0; ch < 4; ch++) s += W[(f * 4 + ch) * 6 + k] * x[(p + k) * 4 + ch];
      pooled[f] = Math.max(pooled[f], s);
    }
  const sig = (z: number) => 1 / (1 + Math.exp(-z));
  const z = [0, 1].map((o) => c[o] + pooled.reduce((a, v, f) => a + v * V[f * 2 + o], 0));
  return [sig(z[0]), sig(z[1])];
}
