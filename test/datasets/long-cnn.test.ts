import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LONG_LENGTHS, longCnnModel, longCnnReference } from '../../scripts/lib/long-cnn.js';
import { generateMotifSequences } from '../../scripts/lib/motifs.js';
import { oneHot } from '../../src/data/sequences.js';
import { explainSequences } from '../../src/explain-sequences.js';
import type { OnnxModel } from '../../src/models/onnx-model.js';
import { loadOnnx } from '../../src/models/onnx-model.js';

const dir = fileURLToPath(new URL('../../datasets/long/', import.meta.url));
let m2114: OnnxModel;
beforeAll(async () => {
  m2114 = await loadOnnx(`${dir}cnn-2114.onnx`);
});
afterAll(async () => {
  await m2114?.close();
});

describe('datasets/long CNN fixtures', () => {
  it('the committed files are what the script writes, and onnxruntime matches the JS forward pass', async () => {
    for (const L of LONG_LENGTHS)
      expect(new Uint8Array(await readFile(`${dir}cnn-${L}.onnx`))).toEqual(new Uint8Array(longCnnModel(L)));
    const seqs = generateMotifSequences({ length: 2114, count: 4, seed: 8, kind: 'single' });
    const x = oneHot(seqs.map((s) => s.sequence)).data;
    const got = await m2114.predict(x, 4);
    for (let r = 0; r < 4; r++) {
      const want = longCnnReference(x.subarray(r * 2114 * 4, (r + 1) * 2114 * 4), 2114);
      expect(Math.abs(got[r * 2] - want[0])).toBeLessThan(1e-4);
      expect(Math.abs(got[r * 2 + 1] - want[1])).toBeLessThan(1e-4);
      // output 0 says whether GATAAG was planted
      expect(got[r * 2] > 0.5).toBe(seqs[r].single === 1);
    }
  });
  it('L = 2,114: ISM gives a hypothetical score for every base; the planted motif tops the track', async () => {
    const [pos] = generateMotifSequences({ length: 2114, count: 2, seed: 9, kind: 'single' }).filter((s) => s.single);
    const e = await explainSequences(m2114, [pos.sequence], { method: 'ism' });
    expect(e.modelRows).toBe(1 + 3 * 2114);
    const H = e.sequence.hypothetical as Float64Array;
    expect(H.length).toBe(2114 * 4 * 2);
    // brute force at the motif's first base: every substitution, one model call each
    const x = oneHot([pos.sequence]).data;
    const fx = (await m2114.predict(x, 1))[0];
    const p = pos.startA;
    const delta: number[] = [];
    for (let c = 0; c < 4; c++) {
      const y = x.slice();
      for (let k = 0; k < 4; k++) y[p * 4 + k] = k === c ? 1 : 0;
      delta.push((await m2114.predict(y, 1))[0] - fx);
    }
    const mean = delta.reduce((a, b) => a + b, 0) / 4;
    for (let c = 0; c < 4; c++) expect(H[((0 * 2114 + p) * 4 + c) * 2]).toBeCloseTo(delta[c] - mean, 6);
    const top = Array.from({ length: 2114 }, (_, j) => j).sort((a, b) => e.values[b * 2] - e.values[a * 2]);
    expect(top.slice(0, 6).filter((j) => j >= p && j < p + 6).length).toBeGreaterThanOrEqual(5);
  });
});
