/**
 * Writes datasets/motifs/: synthetic DNA with planted motifs and the motif-scanner ONNX model
 * built from known weights (scripts/lib/motifs.ts), so that sequence attributions can be
 * checked against the truth. Seeded: running it again rewrites byte-identical files. Checks
 * the ONNX model against the float64 JavaScript reference and exits 1 on a mismatch.
 *
 * Usage: npx tsx scripts/make-motif-data.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadOnnx } from '../src/models/onnx-model.js';
import { generateMotifSequences, MOTIF_A, MOTIF_B, scannerModel, scannerReference, toFasta } from './lib/motifs.js';

const OUT = fileURLToPath(new URL('../datasets/motifs/', import.meta.url));
const L = 100;

mkdirSync(OUT, { recursive: true });
const single = generateMotifSequences({ length: L, count: 40, seed: 7001, kind: 'single' });
const pair = generateMotifSequences({ length: L, count: 40, seed: 7002, kind: 'pair' });
const background = generateMotifSequences({ length: L, count: 40, seed: 7003, kind: 'single' }).filter(
  (s) => !s.single,
);
const bytes = scannerModel(L);
writeFileSync(`${OUT}model.onnx`, bytes);
writeFileSync(`${OUT}single.fa`, toFasta(single, 'single'));
writeFileSync(`${OUT}pair.fa`, toFasta(pair, 'pair'));
writeFileSync(`${OUT}background.fa`, toFasta(background, 'bg'));

const model = await loadOnnx(bytes);
let worst = 0;
for (const s of [...single, ...pair]) {
  const x = new Float64Array(L * 4);
  for (let p = 0; p < L; p++) x[p * 4 + 'ACGT'.indexOf(s.sequence[p])] = 1;
  const got = await model.predict(x, 1);
  const want = scannerReference(s.sequence);
  worst = Math.max(worst, Math.abs(got[0] - want[0]), Math.abs(got[1] - want[1]));
  if ((got[0] > 0.5 ? 1 : 0) !== s.single || (got[1] > 0.5 ? 1 : 0) !== s.pair) {
    console.error(`label mismatch for ${s.sequence}: ${got[0]}, ${got[1]}`);
    process.exit(1);
  }
}
await model.close();
if (worst > 1e-5) {
  console.error(`ONNX and reference differ by ${worst}`);
  process.exit(1);
}
console.log(
  `datasets/motifs: L=${L}, motif A ${MOTIF_A}, motif B ${MOTIF_B}; max |onnx - reference| = ${worst.toExponential(2)}`,
);
