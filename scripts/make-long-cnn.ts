/**
 * Writes datasets/long/cnn-{200,500,1000,2114}.onnx (scripts/lib/long-cnn.ts: a 130-weight CNN
 * with the motif PWMs and two seeded distractor filters) and checks onnxruntime against the
 * float64 JavaScript forward pass on 20 random sequences per length. Deterministic: running it
 * again writes byte-identical files.
 *
 * Usage: npx tsx scripts/make-long-cnn.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { oneHot } from '../src/data/sequences.js';
import { loadOnnx } from '../src/models/onnx-model.js';
import { Rng } from '../src/sampling/rng.js';
import { LONG_LENGTHS, longCnnModel, longCnnReference } from './lib/long-cnn.js';

const OUT = fileURLToPath(new URL('../datasets/long/', import.meta.url));
mkdirSync(OUT, { recursive: true });
const rng = Rng.fromSeed(7);
for (const L of LONG_LENGTHS) {
  const bytes = longCnnModel(L);
  writeFileSync(`${OUT}cnn-${L}.onnx`, bytes);
  const model = await loadOnnx(bytes);
  let worst = 0;
  for (let i = 0; i < 20; i++) {
    const s = Array.from({ length: L }, () => 'ACGT'[rng.int(4)]).join('');
    const x = oneHot([i % 2 ? s : `${s.slice(0, 50)}GATAAG${s.slice(56)}`]).data;
    const got = await model.predict(x, 1);
    const want = longCnnReference(x, L);
    for (let o = 0; o < 2; o++) worst = Math.max(worst, Math.abs(got[o] - want[o]));
  }
  await model.close();
  if (worst > 1e-4) {
    console.error(`L=${L}: onnxruntime and the JS forward pass differ by ${worst}`);
    process.exit(1);
  }
  console.log(`cnn-${L}.onnx: ${bytes.length} bytes, max |ort - js| = ${worst.toExponential(2)}`);
}
