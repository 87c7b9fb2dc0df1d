import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOTIF_A, scannerModel } from '../../scripts/lib/motifs.js';
import { explainSequences } from '../../src/explain-sequences.js';
import { classSummaries, classSummariesToJSON } from '../../src/explanation/class-summary.js';
import { positionValues } from '../../src/explanation/plots/sequence-plots.js';
import { formatSequenceHtml } from '../../src/explanation/sequence-report.js';
import type { OnnxModel } from '../../src/models/onnx-model.js';
import { loadOnnx } from '../../src/models/onnx-model.js';
import { Rng } from '../../src/sampling/rng.js';
import { run } from '../helpers/cli.js';

const L = 40;
const AT = 15; // the planted motif's start in every positive
let model: OnnxModel;
const seqs: string[] = [];
const labels: string[] = [];
beforeAll(async () => {
  model = await loadOnnx(scannerModel(L));
  const rng = Rng.fromSeed(12);
  for (let i = 0; i < 16; i++) {
    let s = Array.from({ length: L }, () => 'ACGT'[rng.int(4)]).join('');
    if (i % 2 === 0) s = s.slice(0, AT) + MOTIF_A + s.slice(AT + MOTIF_A.length);
    seqs.push(s);
    labels.push(i % 2 === 0 ? 'motif' : 'none');
  }
});
afterAll(async () => {
  await model?.close();
});

describe('classSummaries', () => {
  it('by label: the mean profile and contribution logo over each class (brute force), the motif letters on top', async () => {
    const e = await explainSequences(
      model,
      { ids: seqs.map((_, i) => `s${i}`), sequences: seqs, labels, lines: [] },
      { method: 'ism', outputNames: ['motif', 'other'] },
    );
    expect(e.sequence.labels).toEqual(labels);
    const sums = classSummaries(e);
    // label "motif" names output 0: its own output only; "none" names no output: every output
    expect(sums.map((s) => [s.class, s.output])).toEqual([
      ['motif', 'motif'],
      ['none', 'motif'],
      ['none', 'other'],
    ]);
    for (const s of sums) {
      const rows = labels.flatMap((l, r) => (l === s.class ? [r] : []));
      expect(s.rows).toEqual(rows);
      for (let p = 0; p < L; p++) {
        const mean = rows.reduce((a, r) => a + positionValues(e, r, s.outputIndex)[p], 0) / rows.length;
        expect(s.profile[p]).toBeCloseTo(mean, 10);
        // each one-hot position puts its whole value on one letter: the logo's column sums to the profile
        const col = s.logo.subarray(p * 4, p * 4 + 4).reduce((a, b) => a + b, 0);
        expect(col).toBeCloseTo(s.profile[p], 10);
      }
    }
    const motif = sums[0];
    for (let q = 0; q < MOTIF_A.length; q++) {
      const col = Array.from(motif.logo.subarray((AT + q) * 4, (AT + q) * 4 + 4));
      expect('ACGT'[col.indexOf(Math.max(...col))]).toBe(MOTIF_A[q]);
    }
    // positions inside the motif outweigh every other position in the positives' mean profile
    const inside = Math.min(...Array.from(motif.profile.subarray(AT, AT + 6)));
    const outside = Math.max(...Array.from(motif.profile).filter((_, p) => p < AT || p >= AT + 6));
    expect(inside).toBeGreaterThan(outside);
    expect(motif.hypothetical).toBeDefined();
    const json = classSummariesToJSON(e, sums) as { classes: { logo: number[][]; sequences: number }[] };
    expect(json.classes[0].logo).toHaveLength(L);
    expect(json.classes[0].sequences).toBe(8);
    const html = await formatSequenceHtml(e);
    expect(html.match(/data-plot="class-logo"/g)).toHaveLength(3);
  });
  it('by prediction and all; refuses labels that are not there', async () => {
    const e = await explainSequences(model, seqs, { method: 'ism' });
    const byPred = classSummaries(e);
    for (const s of byPred) {
      for (const r of s.rows) {
        const p = [e.predictions[r * 2], e.predictions[r * 2 + 1]];
        expect(e.outputs[p.indexOf(Math.max(...p))]).toBe(s.class);
      }
      expect(s.output).toBe(s.class);
    }
    expect(byPred.reduce((a, s) => a + s.rows.length, 0)).toBe(seqs.length);
    const all = classSummaries(e, { by: 'all' });
    expect(all.map((s) => s.output)).toEqual(e.outputs);
    expect(all[0].rows).toHaveLength(seqs.length);
    expect(() => classSummaries(e, { by: 'label' })).toThrow(/no labels/);
  });
});

const SPLICE =
  ['../../../shared/datasets/splice.csv', '../../../../shared/datasets/splice.csv']
    .map((p) => fileURLToPath(new URL(p, import.meta.url)))
    .find((p) => existsSync(p)) ?? 'absent';
describe('whybox explain --format summary on the UCI splice data', () => {
  it.skipIf(!existsSync(SPLICE))(
    'the donor (EI) class logo has G T right after the junction, the acceptor (IE) class A G right before it',
    async () => {
      const CNN = join(fileURLToPath(new URL('../../', import.meta.url)), 'datasets/splice/model.onnx');
      const r = await run(
        'explain',
        '--model',
        CNN,
        '--sequences',
        SPLICE,
        '--rows',
        '0-39,800-839',
        '--method',
        'ism',
        '--link',
        'logit',
        '--output-names',
        'EI,IE,N',
        '--position-offset',
        '-30',
        '--format',
        'summary',
        '--quiet',
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const json = JSON.parse(r.stdout);
      expect(json.positionOffset).toBe(-30);
      const cls = Object.fromEntries(json.classes.map((c: { class: string }) => [c.class, c]));
      expect(cls.EI.output).toBe('EI');
      expect(cls.IE.output).toBe('IE');
      const top = (c: { logo: number[][] }, p: number) => 'ACGT'[c.logo[p].indexOf(Math.max(...c.logo[p]))];
      // positions 1, 2 (index 30, 31) after the exon/intron junction: the donor's GT
      expect([top(cls.EI, 30), top(cls.EI, 31)]).toEqual(['G', 'T']);
      // positions -2, -1 (index 28, 29) before the intron/exon junction: the acceptor's AG
      expect([top(cls.IE, 28), top(cls.IE, 29)]).toEqual(['A', 'G']);
    },
  );
});
