/**
 * Real data: UCI splice junctions (../shared/datasets/splice.csv) with the committed CNN
 * (datasets/splice/model.onnx, trained by scripts/make-splice-cnn.ts). Skipped, with a
 * message, when the shared data is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concentration } from '../../scripts/explain-splice.js';
import { readSplice } from '../../scripts/make-splice-cnn.js';
import { explainSequences } from '../../src/explain-sequences.js';
import type { OnnxModel } from '../../src/models/onnx-model.js';
import { loadOnnx } from '../../src/models/onnx-model.js';

const DATA = fileURLToPath(new URL('../../../shared/datasets/splice.csv', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const available = existsSync(DATA);
if (!available) console.warn(`skipping splice tests: ${DATA} not found (shared data sets are not part of a checkout)`);

describe.skipIf(!available)('UCI splice junctions, CNN from datasets/splice', () => {
  let model: OnnxModel;
  let donors: string[];
  let acceptors: string[];
  beforeAll(async () => {
    model = await loadOnnx(`${ROOT}datasets/splice/model.onnx`);
    const test = new Set(
      (JSON.parse(readFileSync(`${ROOT}datasets/splice/split.json`, 'utf8')) as { testLines: number[] }).testLines,
    );
    const rows = readSplice(DATA).filter((r) => test.has(r.line));
    donors = rows.filter((r) => r.label === 0).map((r) => r.seq);
    acceptors = rows.filter((r) => r.label === 1).map((r) => r.seq);
  });
  afterAll(async () => {
    await model?.close();
  });

  it('held-out donors and acceptors are classified (>= 90%)', async () => {
    const p = await model.predict(Float64Array.from(donors.slice(0, 50).flatMap(oneHot)), 50);
    let ok = 0;
    for (let r = 0; r < 50; r++) if (p[r * 3] > 0.5) ok++;
    expect(ok).toBeGreaterThanOrEqual(45);
  });

  it('ism: the top position of donors is the GT (31–32) and of acceptors the AG (29–30) in >= 90%', async () => {
    const d = await explainSequences(model, donors.slice(0, 30), { method: 'ism' });
    const a = await explainSequences(model, acceptors.slice(0, 30), { method: 'ism' });
    expect(concentration(d.values, 30, 0, [30, 31]).topInDinucleotide).toBeGreaterThanOrEqual(0.9);
    expect(concentration(a.values, 30, 1, [28, 29]).topInDinucleotide).toBeGreaterThanOrEqual(0.9);
  });

  it('partition (budget 200, shuffled references): over 40% of |attribution| within ±4 of the junction (uniform: 13%)', async () => {
    const d = await explainSequences(model, donors.slice(0, 8), {
      method: 'partition',
      budget: 200,
      seed: 1,
      threads: 1,
      shuffles: 4,
    });
    expect(concentration(d.values, 8, 0, [30, 31]).windowShare).toBeGreaterThan(0.4);
  });
});

function oneHot(seq: string): number[] {
  return Array.from(seq).flatMap((b) => [0, 1, 2, 3].map((c) => ('ACGT'[c] === b ? 1 : 0)));
}
