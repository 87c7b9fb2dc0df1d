/**
 * Trains a small CNN on the UCI splice-junction data (../shared/datasets/splice.csv) and
 * writes datasets/splice/model.onnx (+ split.json with the held-out row numbers and the
 * measured accuracy). Seeded and deterministic: the same file gives the same bytes.
 *
 * Model: one-hot DNA [batch, 60, 4] (A, C, G, T) → Transpose → Conv1D (12 filters of width 7)
 * → ReLU → Flatten (12 × 54) → Dense 3 → Softmax over (EI = donor, IE = acceptor, N).
 * Trained by Adam on softmax cross-entropy (plain TypeScript backpropagation, float64, then
 * rounded to float32), 80/20 stratified split; sequences with ambiguity codes (15) dropped.
 *
 * Usage: npx tsx scripts/make-splice-cnn.ts   (~20 s; exits 2 when the data is absent)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadOnnx } from '../src/models/onnx-model.js';
import { buildModel, node, tensor, valueInfo } from './lib/onnx-builder.js';
import { createRandom } from './lib/random.js';

const DATA = fileURLToPath(new URL('../../shared/datasets/splice.csv', import.meta.url));
const OUT = fileURLToPath(new URL('../datasets/splice/', import.meta.url));
export const CLASSES = ['EI', 'IE', 'N'] as const;
const L = 60;
const F = 12;
const K = 7;
const P = L - K + 1;

/** Reads splice.csv: class, name, sequence (rows with letters other than ACGT dropped). */
export function readSplice(path: string): { label: number; name: string; seq: string; line: number }[] {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const out: { label: number; name: string; seq: string; line: number }[] = [];
  lines.slice(1).forEach((l, i) => {
    if (!l.trim()) return;
    const [c, name, seq] = l.split(',').map((s) => s.trim());
    if (!/^[ACGT]{60}$/.test(seq)) return;
    out.push({ label: CLASSES.indexOf(c as (typeof CLASSES)[number]), name, seq, line: i + 2 });
  });
  return out;
}

function oneHot(seq: string): Float64Array {
  const x = new Float64Array(L * 4);
  for (let p = 0; p < L; p++) x[p * 4 + 'ACGT'.indexOf(seq[p])] = 1;
  return x;
}

interface Params {
  W: Float64Array; // [F, 4, K]
  b: Float64Array; // [F]
  V: Float64Array; // [F * P, 3]
  c: Float64Array; // [3]
}

function forward(p: Params, x: Float64Array, z: Float64Array, logits: Float64Array): void {
  for (let f = 0; f < F; f++)
    for (let t = 0; t < P; t++) {
      let acc = p.b[f];
      for (let k = 0; k < K; k++) for (let ch = 0; ch < 4; ch++) acc += p.W[(f * 4 + ch) * K + k] * x[(t + k) * 4 + ch];
      z[f * P + t] = acc;
    }
  for (let j = 0; j < 3; j++) {
    let acc = p.c[j];
    for (let i = 0; i < F * P; i++) if (z[i] > 0) acc += z[i] * p.V[i * 3 + j];
    logits[j] = acc;
  }
}

function softmax(l: Float64Array): Float64Array {
  const m = Math.max(...l);
  const e = l.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function train(rows: { x: Float64Array; label: number }[], seed: number): Params {
  const rnd = createRandom(seed);
  const p: Params = {
    W: Float64Array.from({ length: F * 4 * K }, () => rnd.normal() * Math.sqrt(2 / (4 * K))),
    b: new Float64Array(F),
    V: Float64Array.from({ length: F * P * 3 }, () => rnd.normal() * Math.sqrt(1 / (F * P))),
    c: new Float64Array(3),
  };
  const keys = ['W', 'b', 'V', 'c'] as const;
  const m = Object.fromEntries(keys.map((k) => [k, new Float64Array(p[k].length)])) as Record<string, Float64Array>;
  const v = Object.fromEntries(keys.map((k) => [k, new Float64Array(p[k].length)])) as Record<string, Float64Array>;
  const g = Object.fromEntries(keys.map((k) => [k, new Float64Array(p[k].length)])) as Record<string, Float64Array>;
  const lr = 0.003;
  const l2 = 1e-4;
  const batch = 32;
  const epochs = 25;
  let step = 0;
  const z = new Float64Array(F * P);
  const logits = new Float64Array(3);
  const dz = new Float64Array(F * P);
  const order = rows.map((_, i) => i);
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = rnd.int(0, i);
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let s0 = 0; s0 < order.length; s0 += batch) {
      for (const k of keys) g[k].fill(0);
      const idx = order.slice(s0, s0 + batch);
      for (const r of idx) {
        const { x, label } = rows[r];
        forward(p, x, z, logits);
        const prob = softmax(logits);
        prob[label] -= 1; // d loss / d logits
        for (let j = 0; j < 3; j++) g.c[j] += prob[j];
        for (let i = 0; i < F * P; i++) {
          let d = 0;
          if (z[i] > 0) {
            for (let j = 0; j < 3; j++) {
              g.V[i * 3 + j] += z[i] * prob[j];
              d += p.V[i * 3 + j] * prob[j];
            }
          }
          dz[i] = d;
        }
        for (let f = 0; f < F; f++)
          for (let t = 0; t < P; t++) {
            const d = dz[f * P + t];
            if (d === 0) continue;
            g.b[f] += d;
            for (let k = 0; k < K; k++) {
              const base = (t + k) * 4;
              for (let ch = 0; ch < 4; ch++) g.W[(f * 4 + ch) * K + k] += d * x[base + ch];
            }
          }
      }
      step++;
      for (const k of keys) {
        const w = p[k];
        const gk = g[k];
        for (let i = 0; i < w.length; i++) {
          const grad = gk[i] / idx.length + (k === 'W' || k === 'V' ? l2 * w[i] : 0);
          m[k][i] = 0.9 * m[k][i] + 0.1 * grad;
          v[k][i] = 0.999 * v[k][i] + 0.001 * grad * grad;
          const mh = m[k][i] / (1 - 0.9 ** step);
          const vh = v[k][i] / (1 - 0.999 ** step);
          w[i] -= (lr * mh) / (Math.sqrt(vh) + 1e-8);
        }
      }
    }
  }
  for (const k of keys) p[k] = Float64Array.from(Float32Array.from(p[k]));
  return p;
}

function accuracy(p: Params, rows: { x: Float64Array; label: number }[]): number {
  const z = new Float64Array(F * P);
  const logits = new Float64Array(3);
  let ok = 0;
  for (const r of rows) {
    forward(p, r.x, z, logits);
    if (logits.indexOf(Math.max(...logits)) === r.label) ok++;
  }
  return ok / rows.length;
}

async function mainScript(): Promise<void> {
  if (!existsSync(DATA)) {
    console.error(`${DATA} not found: the splice data lives in ../shared/datasets (see its README)`);
    process.exit(2);
  }
  const all = readSplice(DATA);
  const rnd = createRandom(2024);
  // stratified 80/20 split
  const test = new Set<number>();
  for (let c = 0; c < 3; c++) {
    const idx = all.map((r, i) => (r.label === c ? i : -1)).filter((i) => i >= 0);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = rnd.int(0, i);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    for (const i of idx.slice(0, Math.round(idx.length * 0.2))) test.add(i);
  }
  const rows = all.map((r) => ({ x: oneHot(r.seq), label: r.label }));
  const trainRows = rows.filter((_, i) => !test.has(i));
  const testRows = rows.filter((_, i) => test.has(i));
  const t0 = performance.now();
  const p = train(trainRows, 7);
  const trainAcc = accuracy(p, trainRows);
  const testAcc = accuracy(p, testRows);
  const bytes = buildModel({
    name: 'splice_cnn',
    docString:
      'whybox splice-junction CNN (UCI splice data): one-hot [60, 4] -> conv 12x7 -> relu -> dense 3 -> softmax (EI, IE, N)',
    inputs: [valueInfo('dna', 'float', ['batch', L, 4])],
    outputs: [valueInfo('probabilities', 'float', ['batch', 3])],
    initializers: [
      tensor('conv_W', [F, 4, K], Float32Array.from(p.W)),
      tensor('conv_B', [F], Float32Array.from(p.b)),
      tensor('head_W', [F * P, 3], Float32Array.from(p.V)),
      tensor('head_b', [3], Float32Array.from(p.c)),
    ],
    nodes: [
      node('Transpose', ['dna'], ['dna_t'], { perm: { ints: [0, 2, 1] } }),
      node('Conv', ['dna_t', 'conv_W', 'conv_B'], ['conv'], {
        kernel_shape: { ints: [K] },
        pads: { ints: [0, 0] },
        strides: { ints: [1] },
      }),
      node('Relu', ['conv'], ['conv_relu']),
      node('Flatten', ['conv_relu'], ['flat'], { axis: { int: 1 } }),
      node('MatMul', ['flat', 'head_W'], ['logits_']),
      node('Add', ['logits_', 'head_b'], ['logits']),
      node('Softmax', ['logits'], ['probabilities'], { axis: { int: 1 } }),
    ],
  });
  mkdirSync(OUT, { recursive: true });
  writeFileSync(`${OUT}model.onnx`, bytes);
  // check onnxruntime against the JS forward pass
  const model = await loadOnnx(bytes);
  const z = new Float64Array(F * P);
  const logits = new Float64Array(3);
  let worst = 0;
  for (const r of testRows.slice(0, 200)) {
    forward(p, r.x, z, logits);
    const want = softmax(logits);
    const got = await model.predict(r.x, 1);
    for (let j = 0; j < 3; j++) worst = Math.max(worst, Math.abs(got[j] - want[j]));
  }
  await model.close();
  if (worst > 1e-4) {
    console.error(`onnxruntime and the JS forward pass differ by ${worst}`);
    process.exit(1);
  }
  const split = {
    classes: CLASSES,
    kept: all.length,
    testLines: all.filter((_, i) => test.has(i)).map((r) => r.line),
    accuracy: { train: Number(trainAcc.toFixed(4)), test: Number(testAcc.toFixed(4)) },
  };
  writeFileSync(`${OUT}split.json`, `${JSON.stringify(split)}\n`);
  console.log(
    `splice CNN: ${trainRows.length} train / ${testRows.length} test rows, accuracy train ${trainAcc.toFixed(4)} test ${testAcc.toFixed(4)}, ${((performance.now() - t0) / 1000).toFixed(1)} s; max |ort - js| = ${worst.toExponential(2)}`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await mainScript();
