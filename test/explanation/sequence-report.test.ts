import { describe, expect, it } from 'vitest';
import { explainSequences } from '../../src/explain-sequences.js';
import { positionNumber } from '../../src/explanation/plots/sequence-plots.js';
import {
  formatSequenceHtml,
  formatSequenceText,
  sequenceExplanationToJSON,
  topSegments,
} from '../../src/explanation/sequence-report.js';
import { fromFunction } from '../../src/models/function-model.js';

// additive model on 10 positions: an A at positions 3..5 adds 1 each, an A at position 8 subtracts 1
const model = fromFunction(
  (x: ArrayLike<number>) => {
    let s = 0;
    for (const p of [3, 4, 5]) s += x[p * 4];
    return [s - x[8 * 4]];
  },
  { nInputs: 40 },
);

describe('sequence reports', () => {
  it('topSegments: runs of one sign ranked by |sum|; text view marks them under the sequence', async () => {
    const e = await explainSequences(model, ['AAAAAAAAAA'], { method: 'ism' });
    // ism track: 1 − 1/4 on positions 3..5, −(1 − 1/4) on position 8
    expect(topSegments(e, 0)).toEqual([
      { start: 3, end: 6, value: 2.25, letters: 'AAA' },
      { start: 8, end: 9, value: -0.75, letters: 'A' },
    ]);
    const text = formatSequenceText(e);
    expect(text).toContain('#1  4-6         AAA');
    expect(text).toContain('#2  9-9');
    expect(text).toMatch(/\n\s+1 AAAAAAAAAA\n\s+\+\+\+ {2}-\n/);
  });

  it('Shapley values with a uniform reference: exact values of the additive model, JSON with a sequence block', async () => {
    const e = await explainSequences(model, ['AAAAAAAAAA'], {
      method: 'exact',
      players: { window: 2 },
      reference: 'uniform',
      seed: 1,
    });
    // uniform reference: each A contributes (1 − 1/4) × its weight
    const v = Array.from(e.values);
    expect(v[1]).toBeCloseTo(0.75, 12); // window 3-4 holds position 3
    expect(v[2]).toBeCloseTo(1.5, 12); // window 5-6 holds positions 4, 5
    expect(v[4]).toBeCloseTo(-0.75, 12); // window 9-10 holds position 8
    const json = sequenceExplanationToJSON(e);
    expect(json.players).toEqual(['1-2', '3-4', '5-6', '7-8', '9-10']);
    expect(json.sequence.spans).toEqual([
      [0, 2],
      [2, 4],
      [4, 6],
      [6, 8],
      [8, 10],
    ]);
    expect(json.rows[0].efficiencyGap).toBeLessThan(1e-12);
    const html = await formatSequenceHtml(e);
    expect(html).toContain('<svg data-plot="logo"');
    expect(html).toContain('3–6'); // adjacent positive windows merge into one segment
    // positions from an anchor: offset −5 numbers the 10 letters −5 … −1, 1 … 5 (no 0)
    expect(Array.from({ length: 10 }, (_, i) => positionNumber(i, -5))).toEqual([-5, -4, -3, -2, -1, 1, 2, 3, 4, 5]);
    const shifted = await formatSequenceHtml(e, { positionOffset: -5, outputNames: ['score'] });
    expect(shifted).toContain('-3–1'); // the same segment, 0-based positions 2..5
    expect(shifted).toContain('— score</h2>');
    expect(formatSequenceText(e, { positionOffset: -5 })).toContain('-3-1');
    await expect(formatSequenceHtml(e, { outputNames: ['a', 'b'] })).rejects.toThrow(/outputNames must be 1 names/);
  });

  it('overlapping windows (window:4:2) on the additive model: each window = half the sum of its positions', async () => {
    const e = await explainSequences(model, ['AAAAAAAAAA'], {
      method: 'exact',
      players: { window: 4, stride: 2 },
      reference: 'uniform',
    });
    // per-position contributions with the uniform reference: +0.75 at 3, 4, 5 and −0.75 at 8
    const c = [0, 0, 0, 0.75, 0.75, 0.75, 0, 0, -0.75, 0];
    expect(e.sequence.tilings).toBe(2);
    e.sequence.spans.forEach(([a, b], j) => {
      let want = 0;
      for (let p = a; p < b; p++) want += c[p];
      expect(e.values[j]).toBeCloseTo(want / 2, 12);
    });
    expect(e.players).toEqual(['1-2', '1-4', '3-6', '5-8', '7-10', '9-10']);
  });
});
