import { describe, expect, it } from 'vitest';
import { columnOf, oneHot } from '../../src/data/sequences.js';
import { inSilicoMutagenesis } from '../../src/explainers/ism.js';
import { fromFunction } from '../../src/models/function-model.js';
import { mulberry32 } from '../helpers/games.js';

describe('inSilicoMutagenesis', () => {
  it('on an additive model equals the closed form w(p, b) − mean_c w(p, c), in both layouts, for every output', async () => {
    const L = 7;
    const A = 4;
    const rnd = mulberry32(4);
    const w = Array.from({ length: 2 * L * A }, () => rnd() * 2 - 1); // [output][p][c]
    for (const layout of ['NLC', 'NCL'] as const) {
      const model = fromFunction(
        (x: ArrayLike<number>) =>
          [0, 1].map((o) => {
            let s = 0;
            for (let p = 0; p < L; p++)
              for (let c = 0; c < A; c++) s += w[(o * L + p) * A + c] * x[columnOf(layout, L, A, p, c)];
            return s;
          }),
        { nInputs: L * A, outputNames: ['a', 'b'] },
      );
      const seqs = ['ACGTTGA', 'NNACGTA'];
      const x = oneHot(seqs, { layout });
      const res = await inSilicoMutagenesis(
        model,
        { data: x.data, nRows: 2, length: L, channels: A, layout },
        { batchRows: 5 },
      );
      // rows: 2 originals + 3·7 mutants + (3·5 + 4·2) mutants (N positions try all 4 letters)
      expect(res.modelRows).toBe(2 + 21 + 15 + 8);
      for (let r = 0; r < 2; r++)
        for (let p = 0; p < L; p++)
          for (let o = 0; o < 2; o++) {
            const ws = [0, 1, 2, 3].map((c) => w[(o * L + p) * A + c]);
            const mean = ws.reduce((a, b) => a + b, 0) / 4;
            for (let c = 0; c < 4; c++)
              expect(res.hypothetical[((r * L + p) * A + c) * 2 + o]).toBeCloseTo(ws[c] - mean, 10);
            const letter = seqs[r][p];
            const expected = letter === 'N' ? 0 : ws['ACGT'.indexOf(letter)] - mean;
            expect(res.track[(r * L + p) * 2 + o]).toBeCloseTo(expected, 10);
          }
    }
  });

  it('finds an interaction only the full motif triggers (the change of each motif base)', async () => {
    const L = 10;
    const model = fromFunction(
      (x: ArrayLike<number>) => {
        const s = 'ACGTTGCAAC'; // motif TTG at 3..5 (0-based) fires the output
        let m = 1;
        for (let p = 3; p < 6; p++) m *= x[p * 4 + 'ACGT'.indexOf(s[p])];
        return [m];
      },
      { nInputs: L * 4 },
    );
    const x = oneHot(['ACGTTGCAAC']);
    const res = await inSilicoMutagenesis(model, { data: x.data, nRows: 1, length: L, channels: 4, layout: 'NLC' });
    for (let p = 0; p < L; p++) expect(res.track[p]).toBeCloseTo(p >= 3 && p < 6 ? 0.75 : 0, 12);
  });
});
