/**
 * Writes the ONNX test fixtures of whybox to `test/fixtures/`, each with a
 * `<name>.expected.json` of 12 input rows and the outputs computed by the float64 JS
 * reference (scripts/lib/nn.ts) from the same float32 weights. Then runs every model with
 * onnxruntime-node and checks it against the expected outputs; exits 1 on a mismatch.
 *
 * Seeded: running it twice gives byte-identical files.
 *
 * Usage: npx tsx scripts/make-fixtures.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compactJson } from './lib/format.js';
import {
  argmax,
  conv1d,
  conv1dLayer,
  dense,
  denseLayer,
  type Matrix,
  matrix,
  maxOverLength,
  relu,
  sigmoid,
  softmax,
  toFloat32,
  toRows,
  transposeRows,
} from './lib/nn.js';
import { buildModel, node, tensor, valueInfo } from './lib/onnx-builder.js';
import { maxAbsDiff, runOnnx } from './lib/ort-check.js';
import { createRandom, type Random } from './lib/random.js';

const OUT_DIR = fileURLToPath(new URL('../test/fixtures/', import.meta.url));

/** Number of input rows in every `<name>.expected.json`. */
const N_ROWS = 12;

/** Largest allowed |onnxruntime - reference| for float outputs that are not exact by design. */
const FLOAT_TOLERANCE = 1e-6;

/** Smallest gap between the two largest class probabilities of a test row, so that the
 *  float32 ArgMax of onnxruntime cannot disagree with the float64 reference. */
const LABEL_MARGIN = 1e-3;

/** One generated fixture. */
interface Fixture {
  readonly name: string;
  readonly model: Uint8Array;
  /** Shape of one input row (without the batch dimension). */
  readonly inputShape: readonly number[];
  readonly rows: readonly (readonly number[])[];
  /** Expected outputs by tensor name, in the model's output order. */
  readonly outputs: Readonly<Record<string, number[][]>>;
  /** Outputs that must match exactly (labels, and the linear model whose arithmetic is exact). */
  readonly exact: readonly string[];
  /** Extra keys written to the expected JSON after `outputs`. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

const rowsMatrix = (rows: readonly (readonly number[])[]): Matrix => matrix(rows.length, rows[0].length, rows.flat());

const normals = (rng: Random, n: number, scale: number): Float64Array =>
  toFloat32(Array.from({ length: n }, () => rng.normal() * scale));

/** Float32 copy of a float64 array, for ONNX initializers (the values are already float32-exact). */
const f32 = (values: ArrayLike<number>): Float32Array => Float32Array.from(values);

/**
 * Draws `n` test rows for a two-class model whose `forward` gives class probabilities:
 * keeps a row only when its two probabilities differ by more than {@link LABEL_MARGIN}
 * (so the float32 ArgMax of onnxruntime cannot disagree with the float64 reference) and
 * while its class has fewer than n / 2 rows (so both labels are tested).
 */
function drawLabelledRows(
  n: number,
  draw: () => number[],
  forward: (rows: readonly (readonly number[])[]) => Matrix,
): number[][] {
  const rows: number[][] = [];
  const perClass = new Map<number, number>();
  for (let attempts = 0; rows.length < n; attempts++) {
    if (attempts > 10_000 * n) throw new Error('drawLabelledRows: could not find balanced rows');
    const row = draw();
    const p = forward([row]);
    const label = argmax(p)[0];
    const count = perClass.get(label) ?? 0;
    if (topGap(Array.from(p.data)) <= LABEL_MARGIN || count >= n / 2) continue;
    perClass.set(label, count + 1);
    rows.push(row);
  }
  return rows;
}

/** Gap between the two largest values of a probability row. */
function topGap(p: readonly number[]): number {
  const sorted = [...p].sort((a, b) => b - a);
  return sorted[0] - sorted[1];
}

/**
 * linear.onnx: y = x W + b with x [batch,10]. Weights, bias and inputs are multiples of 1/8
 * in [-4, 4], so every product is a multiple of 1/64 below 16 in magnitude and every sum is
 * exact in float32: onnxruntime must reproduce the expected `y` exactly.
 */
function makeLinear(): Fixture {
  const rng = createRandom(101);
  const eighth = (): number => rng.int(-32, 32) / 8;
  const nIn = 10;
  const layer = denseLayer(nIn, 1, Array.from({ length: nIn }, eighth), [eighth()]);
  const rows = Array.from({ length: N_ROWS }, () => Array.from({ length: nIn }, eighth));
  const y = dense(rowsMatrix(rows), layer);
  const model = buildModel({
    name: 'linear',
    docString: 'whybox fixture: y = x W + b, exact in float32',
    inputs: [valueInfo('x', 'float', ['batch', nIn])],
    outputs: [valueInfo('y', 'float', ['batch', 1])],
    initializers: [tensor('W', [nIn, 1], f32(layer.w)), tensor('b', [1], f32(layer.b))],
    nodes: [node('MatMul', ['x', 'W'], ['xW']), node('Add', ['xW', 'b'], ['y'])],
  });
  return { name: 'linear', model, inputShape: [nIn], rows, outputs: { y: toRows(y) }, exact: ['y'] };
}

/**
 * logistic.onnx: p1 = sigmoid(x w + b), probabilities = [1 - p1, p1], label = ArgMax.
 * Outputs are listed `label` first, then `probabilities`, as skl2onnx does.
 */
function makeLogistic(): Fixture {
  const rng = createRandom(202);
  const nIn = 20;
  const layer = denseLayer(nIn, 1, normals(rng, nIn, 0.5), [0.1]);
  const forward = (rows: readonly (readonly number[])[]): Matrix => {
    const p1 = sigmoid(dense(rowsMatrix(rows), layer));
    const probs = matrix(p1.rows, 2);
    for (let r = 0; r < p1.rows; r++) {
      probs.data[2 * r] = 1 - p1.data[r];
      probs.data[2 * r + 1] = p1.data[r];
    }
    return probs;
  };
  const rows = drawLabelledRows(N_ROWS, () => Array.from(normals(rng, nIn, 1)), forward);
  const probs = forward(rows);
  const model = buildModel({
    name: 'logistic',
    docString: 'whybox fixture: logistic regression with skl2onnx-like outputs (label, probabilities)',
    inputs: [valueInfo('x', 'float', ['batch', nIn])],
    outputs: [valueInfo('label', 'int64', ['batch']), valueInfo('probabilities', 'float', ['batch', 2])],
    initializers: [
      tensor('w', [nIn, 1], f32(layer.w)),
      tensor('b', [1], f32(layer.b)),
      tensor('one', [1], new Float32Array([1])),
    ],
    nodes: [
      node('MatMul', ['x', 'w'], ['xw']),
      node('Add', ['xw', 'b'], ['logit']),
      node('Sigmoid', ['logit'], ['p1']),
      node('Sub', ['one', 'p1'], ['p0']),
      node('Concat', ['p0', 'p1'], ['probabilities'], { axis: { int: 1 } }),
      node('ArgMax', ['probabilities'], ['label'], { axis: { int: 1 }, keepdims: { int: 0 } }),
    ],
  });
  return {
    name: 'logistic',
    model,
    inputShape: [nIn],
    rows,
    outputs: { label: argmax(probs).map((l) => [l]), probabilities: toRows(probs) },
    exact: ['label'],
  };
}

/**
 * mlp.onnx: 61 -> 64 -> ReLU -> 32 -> ReLU -> 2 -> Softmax, He-initialised. The first layer
 * is a Gemm (with explicit float alpha/beta attributes), the others MatMul + Add, so both
 * forms are covered. Outputs `label` first, then `probabilities`.
 */
function makeMlp(): Fixture {
  const rng = createRandom(303);
  const sizes = [61, 64, 32, 2];
  const layers = sizes.slice(1).map((out, i) => {
    const inDim = sizes[i];
    return denseLayer(inDim, out, normals(rng, inDim * out, Math.sqrt(2 / inDim)), normals(rng, out, 0.1));
  });
  const forward = (rows: readonly (readonly number[])[]): Matrix => {
    let h = rowsMatrix(rows);
    layers.forEach((layer, i) => {
      h = dense(h, layer);
      if (i < layers.length - 1) h = relu(h);
    });
    return softmax(h);
  };
  const rows = drawLabelledRows(N_ROWS, () => Array.from(normals(rng, sizes[0], 1)), forward);
  const probs = forward(rows);
  const [l1, l2, l3] = layers;
  const model = buildModel({
    name: 'mlp',
    docString: 'whybox fixture: MLP 61-64-32-2 with ReLU and softmax',
    inputs: [valueInfo('x', 'float', ['batch', 61])],
    outputs: [valueInfo('label', 'int64', ['batch']), valueInfo('probabilities', 'float', ['batch', 2])],
    initializers: [
      tensor('W1', [61, 64], f32(l1.w)),
      tensor('b1', [64], f32(l1.b)),
      tensor('W2', [64, 32], f32(l2.w)),
      tensor('b2', [32], f32(l2.b)),
      tensor('W3', [32, 2], f32(l3.w)),
      tensor('b3', [2], f32(l3.b)),
    ],
    nodes: [
      node('Gemm', ['x', 'W1', 'b1'], ['h1'], { alpha: { float: 1 }, beta: { float: 1 } }),
      node('Relu', ['h1'], ['a1']),
      node('MatMul', ['a1', 'W2'], ['h2_']),
      node('Add', ['h2_', 'b2'], ['h2']),
      node('Relu', ['h2'], ['a2']),
      node('MatMul', ['a2', 'W3'], ['logits_']),
      node('Add', ['logits_', 'b3'], ['logits']),
      node('Softmax', ['logits'], ['probabilities'], { axis: { int: 1 } }),
      node('ArgMax', ['probabilities'], ['label'], { axis: { int: 1 }, keepdims: { int: 0 } }),
    ],
  });
  return {
    name: 'mlp',
    model,
    inputShape: [61],
    rows,
    outputs: { label: argmax(probs).map((l) => [l]), probabilities: toRows(probs) },
    exact: ['label'],
  };
}

const BASES = 'ACGT';
const MOTIF = 'GTAAGT';
const SEQ_LEN = 60;

/** Number of (possibly overlapping) occurrences of MOTIF in `seq`. */
const countMotif = (seq: string): number => {
  let n = 0;
  for (let i = seq.indexOf(MOTIF); i >= 0; i = seq.indexOf(MOTIF, i + 1)) n++;
  return n;
};

/** One-hot `[SEQ_LEN, 4]`, flattened position-major (index = position * 4 + channel). */
const oneHot = (seq: string): number[] =>
  Array.from(seq).flatMap((base) => [0, 1, 2, 3].map((c) => (BASES[c] === base ? 1 : 0)));

/**
 * seq-cnn.onnx: one-hot DNA [batch, 60, 4] (A, C, G, T) -> Transpose -> Conv (8 filters of
 * width 6) -> ReLU -> max over positions -> dense 8 -> 3 -> Softmax.
 *
 * Filter 0 detects GTAAGT: weight +1 for the motif base and -1/3 for the other bases at each
 * of the 6 positions, bias -5. An exact match scores 6 - 5 = 1; k mismatches score
 * 1 - 4k/3 < 0, so after ReLU the filter is 1 on the motif and 0 elsewhere. Its output adds
 * +4 to the class 0 logit only. The other filters are small random ones.
 */
function makeSeqCnn(): Fixture {
  const rng = createRandom(404);
  const nFilters = 8;
  const kernel = 6;
  const w = Array.from(normals(rng, nFilters * 4 * kernel, 0.3));
  const b = Array.from(normals(rng, nFilters, 0.1));
  for (let k = 0; k < kernel; k++)
    for (let c = 0; c < 4; c++) w[(0 * 4 + c) * kernel + k] = BASES[c] === MOTIF[k] ? 1 : -1 / 3;
  b[0] = -5;
  const conv = conv1dLayer(nFilters, 4, kernel, w, b);
  const dw = Array.from(normals(rng, nFilters * 3, 0.3));
  dw.splice(0, 3, 4, 0, 0); // filter 0 -> class 0 logit with weight +4, nothing to the others
  const head = denseLayer(nFilters, 3, dw, [-1, 0, 0]);

  // 12 random sequences; the motif is planted once in the even rows, absent from the odd ones.
  const randomSeq = (): string => Array.from({ length: SEQ_LEN }, () => BASES[rng.int(0, 3)]).join('');
  const seqs: string[] = [];
  const positions: number[] = [];
  while (seqs.length < N_ROWS) {
    const plant = seqs.length % 2 === 0;
    let seq = randomSeq();
    const at = plant ? rng.int(0, SEQ_LEN - MOTIF.length) : -1;
    if (plant) seq = seq.slice(0, at) + MOTIF + seq.slice(at + MOTIF.length);
    if (countMotif(seq) !== (plant ? 1 : 0)) continue; // redraw chance or extra occurrences
    seqs.push(seq);
    positions.push(at);
  }
  const rows = seqs.map(oneHot);

  const outLen = SEQ_LEN - kernel + 1;
  const x = transposeRows(rowsMatrix(rows), SEQ_LEN, 4);
  const pooled = maxOverLength(relu(conv1d(x, SEQ_LEN, conv)), nFilters, outLen);
  const probs = softmax(dense(pooled, head));

  const model = buildModel({
    name: 'seq_cnn',
    docString: `whybox fixture: 1-D CNN on one-hot DNA (A,C,G,T); filter 0 detects ${MOTIF} and feeds class 0`,
    inputs: [valueInfo('dna', 'float', ['batch', SEQ_LEN, 4])],
    outputs: [valueInfo('probabilities', 'float', ['batch', 3])],
    initializers: [
      tensor('conv_W', [nFilters, 4, kernel], f32(conv.w)),
      tensor('conv_B', [nFilters], f32(conv.b)),
      tensor('head_W', [nFilters, 3], f32(head.w)),
      tensor('head_b', [3], f32(head.b)),
    ],
    nodes: [
      node('Transpose', ['dna'], ['dna_t'], { perm: { ints: [0, 2, 1] } }),
      node('Conv', ['dna_t', 'conv_W', 'conv_B'], ['conv'], {
        kernel_shape: { ints: [kernel] },
        pads: { ints: [0, 0] },
        strides: { ints: [1] },
      }),
      node('Relu', ['conv'], ['conv_relu']),
      node('ReduceMax', ['conv_relu'], ['pooled'], { axes: { ints: [2] }, keepdims: { int: 0 } }),
      node('MatMul', ['pooled', 'head_W'], ['logits_']),
      node('Add', ['logits_', 'head_b'], ['logits']),
      node('Softmax', ['logits'], ['probabilities'], { axis: { int: 1 } }),
    ],
  });
  return {
    name: 'seq-cnn',
    model,
    inputShape: [SEQ_LEN, 4],
    rows,
    outputs: { probabilities: toRows(probs) },
    exact: [],
    extra: {
      motif: {
        sequence: MOTIF,
        channels: BASES,
        // Start of the planted motif in each row, -1 when the row has none.
        positions,
        sequences: seqs,
        filter0: toRows(pooled).map((r) => r[0]),
      },
    },
  };
}

/** Writes a fixture's files. */
function write(f: Fixture): void {
  writeFileSync(`${OUT_DIR}${f.name}.onnx`, f.model);
  const nInputs = f.inputShape.reduce((a, d) => a * d, 1);
  const expected = { inputShape: f.inputShape, nInputs, rows: f.rows, outputs: f.outputs, ...f.extra };
  writeFileSync(`${OUT_DIR}${f.name}.expected.json`, compactJson(expected));
}

/** Runs a fixture with onnxruntime and compares; returns the failures found. */
async function check(f: Fixture): Promise<string[]> {
  const failures: string[] = [];
  const { outputNames, outputs } = await runOnnx(
    `${OUT_DIR}${f.name}.onnx`,
    f.rows.flat(),
    f.rows.length,
    f.inputShape,
  );
  const expectedNames = Object.keys(f.outputs);
  if (outputNames.join() !== expectedNames.join())
    failures.push(`${f.name}: outputs are [${outputNames.join(', ')}], expected [${expectedNames.join(', ')}]`);
  for (const name of expectedNames) {
    const got = outputs[name];
    if (got === undefined) continue;
    const diff = maxAbsDiff(got, f.outputs[name]);
    const exact = f.exact.includes(name);
    const ok = exact ? diff === 0 : diff <= FLOAT_TOLERANCE;
    console.log(
      `${`${f.name}.onnx`.padEnd(15)} ${name.padEnd(14)} max|ort - ref| = ${diff.toExponential(3)}  ` +
        `(${exact ? 'must be exact' : `tolerance ${FLOAT_TOLERANCE}`}) ${ok ? 'ok' : 'FAIL'}`,
    );
    if (!ok) failures.push(`${f.name}: ${name} differs by ${diff}`);
  }
  return failures;
}

async function main(): Promise<void> {
  mkdirSync(OUT_DIR, { recursive: true });
  const fixtures = [makeLinear(), makeLogistic(), makeMlp(), makeSeqCnn()];
  for (const f of fixtures) write(f);
  console.log(`wrote ${fixtures.length} models and expected outputs to ${OUT_DIR}`);
  const failures: string[] = [];
  for (const f of fixtures) failures.push(...(await check(f)));
  if (failures.length > 0) {
    console.error(`MISMATCH:\n  ${failures.join('\n  ')}`);
    process.exitCode = 1;
  } else {
    console.log('all fixtures match the reference');
  }
}

await main();
