import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MotifSequence } from '../scripts/lib/motifs.js';
import { generateMotifSequences, scannerModel, scannerReference } from '../scripts/lib/motifs.js';
import { DataError, InvalidOptionError } from '../src/errors.js';
import { explainSequences } from '../src/explain-sequences.js';
import { efficiencyGap, explanationToJSON } from '../src/explanation/explanation.js';
import type { OnnxModel } from '../src/models/onnx-model.js';
import { loadOnnx } from '../src/models/onnx-model.js';
import { subsetShapley } from './helpers/games.js';

const L = 40;
let model: OnnxModel;
let ncl: OnnxModel;
let single: MotifSequence[];
let pair: MotifSequence[];

beforeAll(async () => {
  model = await loadOnnx(scannerModel(L));
  ncl = await loadOnnx(scannerModel(L, 'NCL'));
  single = generateMotifSequences({ length: L, count: 20, seed: 21, kind: 'single' }).filter((s) => s.single);
  pair = generateMotifSequences({ length: L, count: 40, seed: 22, kind: 'pair' }).filter((s) => s.pair);
});
afterAll(async () => {
  await model?.close();
  await ncl?.close();
});

/** Fraction of rows whose k top-valued players (output o) all lie in the planted motif(s). */
function topKHits(
  values: Float64Array,
  n: number,
  nOut: number,
  o: number,
  k: number,
  inside: (r: number, j: number) => boolean,
  rows: number,
): number {
  let hits = 0;
  for (let r = 0; r < rows; r++) {
    const idx = Array.from({ length: n }, (_, j) => j).sort(
      (a, b) => values[(r * n + b) * nOut + o] - values[(r * n + a) * nOut + o],
    );
    if (idx.slice(0, k).every((j) => inside(r, j))) hits++;
  }
  return hits / rows;
}

describe('explainSequences on the motif scanner (planted truth)', () => {
  // stated budgets (coalition values per sequence; L = 40 positions; 4 dinucleotide shuffles)
  const cases = [
    { method: 'ism', budget: undefined },
    { method: 'partition', budget: 150 },
    { method: 'kernel', budget: 300 },
    { method: 'permutation', budget: 300 },
  ] as const;
  for (const { method, budget } of cases) {
    it(`${method}${budget ? ` (budget ${budget})` : ''}: the top-3 positions lie in motif A for >= 90% of positives, output 0`, async () => {
      const exp = await explainSequences(
        model,
        single.map((s) => s.sequence),
        { method, budget, seed: 5, ...(method === 'ism' ? {} : { threads: 1, reference: 'shuffle', shuffles: 4 }) },
      );
      expect(exp.players).toEqual(Array.from({ length: L }, (_, i) => `${i + 1}`));
      expect(exp.outputs).toEqual(['probabilities[0]', 'probabilities[1]']);
      const inA = (r: number, j: number) => j >= single[r].startA && j < single[r].startA + 6;
      expect(topKHits(exp.values, L, 2, 0, 3, inA, single.length)).toBeGreaterThanOrEqual(0.9);
      // predictions are the scanner's, and Shapley-type methods are efficient per row
      single.forEach((s, r) => {
        expect(exp.predictions[r * 2]).toBeCloseTo(scannerReference(s.sequence)[0], 5);
      });
      if (method !== 'ism') for (let r = 0; r < single.length; r++) expect(efficiencyGap(exp, r, 0)).toBeLessThan(1e-6);
    });
  }

  it('the two-motif output credits both motifs: top-6 positions in A ∪ B, with each motif among the top 12', async () => {
    const exp = await explainSequences(
      model,
      pair.map((s) => s.sequence),
      { method: 'partition', budget: 300, seed: 2, threads: 1, reference: 'uniform' },
    );
    const inA = (r: number, j: number) => j >= pair[r].startA && j < pair[r].startA + 6;
    const inB = (r: number, j: number) => j >= pair[r].startB && j < pair[r].startB + 6;
    expect(topKHits(exp.values, L, 2, 1, 6, (r, j) => inA(r, j) || inB(r, j), pair.length)).toBeGreaterThanOrEqual(0.9);
    expect(
      topKHits(exp.values, L, 2, 1, 1, inB, pair.length) + topKHits(exp.values, L, 2, 1, 1, inA, pair.length),
    ).toBeGreaterThanOrEqual(0.9);
  });

  it('windows: the window holding motif A gets the largest value; values sum to f(x) − base', async () => {
    const exp = await explainSequences(
      model,
      single.slice(0, 4).map((s) => s.sequence),
      { players: { window: 8 }, method: 'kernel', budget: 64, seed: 1, threads: 1, reference: 'uniform' },
    );
    expect(exp.players).toEqual(['1-8', '9-16', '17-24', '25-32', '33-40']);
    for (let r = 0; r < 4; r++) {
      const vals = [0, 1, 2, 3, 4].map((j) => exp.values[(r * 5 + j) * 2]);
      const best = vals.indexOf(Math.max(...vals));
      const a = single[r].startA;
      expect(best === Math.floor(a / 8) || best === Math.floor((a + 5) / 8)).toBe(true);
      expect(efficiencyGap(exp, r, 0)).toBeLessThan(1e-6);
    }
  });

  it('overlapping windows (window:8:4) are explained as 2 tilings, values scaled so they still sum to f(x) − base', async () => {
    const exp = await explainSequences(model, [single[0].sequence], {
      players: { window: 8, stride: 4 },
      method: 'exact',
      seed: 1,
      threads: 1,
      reference: 'uniform',
    });
    expect(exp.players).toEqual([
      '1-4',
      '1-8',
      '5-12',
      '9-16',
      '13-20',
      '17-24',
      '21-28',
      '25-32',
      '29-36',
      '33-40',
      '37-40',
    ]);
    expect(exp.sequence.tilings).toBe(2);
    expect(efficiencyGap(exp, 0, 0)).toBeLessThan(1e-9);
  });

  it('windows with a stride that does not divide the width (window:8:3): ceil(8/3) = 3 games, each exact by brute force', async () => {
    const x = single[0].sequence;
    const exp = await explainSequences(model, [x], {
      players: { window: 8, stride: 3 },
      method: 'exact',
      seed: 1,
      threads: 1,
      reference: 'uniform',
    });
    // the games, written out by hand: game j holds the windows starting at 3j, 3j + 9, ... with the
    // edge fragment before and the 1-position gaps between them (every game's spans cover 0..40)
    const games: [number, number][][] = [
      [
        [0, 8],
        [8, 9],
        [9, 17],
        [17, 18],
        [18, 26],
        [26, 27],
        [27, 35],
        [35, 36],
        [36, 40],
      ],
      [
        [0, 3],
        [3, 11],
        [11, 12],
        [12, 20],
        [20, 21],
        [21, 29],
        [29, 30],
        [30, 38],
        [38, 39],
        [39, 40],
      ],
      [
        [0, 6],
        [6, 14],
        [14, 15],
        [15, 23],
        [23, 24],
        [24, 32],
        [32, 33],
        [33, 40],
      ],
    ];
    const name = ([a, b]: [number, number]) => `${a + 1}-${b}`;
    const all = games.flat().sort((p, q) => p[0] - q[0] || p[1] - q[1]);
    expect(exp.players).toEqual(all.map(name));
    // every window start 0, 3, ..., 39 is a player of width 8 (clipped at the end)
    for (let a = 0; a < L; a += 3) expect(exp.players).toContain(name([a, Math.min(a + 8, L)]));
    expect(exp.sequence.tilings).toBe(3);
    const nOut = exp.outputs.length;
    const letters = 'ACGT';
    for (const spans of games) {
      const n = spans.length;
      const data = new Float32Array(2 ** n * L * 4);
      for (let m = 0; m < 2 ** n; m++)
        spans.forEach(([a, b], i) => {
          for (let p = a; p < b; p++)
            for (let c = 0; c < 4; c++) data[(m * L + p) * 4 + c] = (m >> i) & 1 ? (x[p] === letters[c] ? 1 : 0) : 0.25;
        });
      const out = await model.predict(data, 2 ** n);
      const truth = subsetShapley((m) => Array.from(out.subarray(m * nOut, (m + 1) * nOut)), n);
      spans.forEach((span, i) => {
        const j = exp.players.indexOf(name(span));
        for (let o = 0; o < nOut; o++) expect(exp.values[j * nOut + o]).toBeCloseTo(truth[i][o] / 3, 6);
      });
    }
    expect(efficiencyGap(exp, 0, 0)).toBeLessThan(1e-9);
  });

  it('NCL models are detected from the input shape and give the same values as NLC', async () => {
    const seqs = single.slice(0, 2).map((s) => s.sequence);
    const a = await explainSequences(model, seqs, {
      method: 'partition',
      budget: 100,
      seed: 3,
      threads: 1,
      reference: 'uniform',
    });
    const b = await explainSequences(ncl, seqs, {
      method: 'partition',
      budget: 100,
      seed: 3,
      threads: 1,
      reference: 'uniform',
    });
    expect(a.sequence.layout).toBe('NLC');
    expect(b.sequence.layout).toBe('NCL');
    for (let i = 0; i < a.values.length; i++) expect(b.values[i]).toBeCloseTo(a.values[i], 5);
  });

  it('the shuffle reference gives each row its own base value, in the JSON too; same seed → same values', async () => {
    const seqs = single.slice(0, 3).map((s) => s.sequence);
    const a = await explainSequences(model, seqs, {
      method: 'permutation',
      budget: 200,
      seed: 9,
      threads: 1,
      shuffles: 3,
    });
    const b = await explainSequences(model, seqs, {
      method: 'permutation',
      budget: 200,
      seed: 9,
      threads: 1,
      shuffles: 3,
    });
    expect(Array.from(b.values)).toEqual(Array.from(a.values));
    expect(a.sequence.reference).toBe('shuffle');
    const json = explanationToJSON(a);
    expect(json.rows[0].baseValue).toHaveLength(2);
    expect(json.rows.every((r) => r.efficiencyGap !== undefined && r.efficiencyGap < 1e-6)).toBe(true);
  });

  it('ism exposes the hypothetical L × 4 matrix; the observed motif bases carry the positive track', async () => {
    const exp = await explainSequences(model, [single[0].sequence], { method: 'ism' });
    expect(exp.sequence.hypothetical).toHaveLength(L * 4 * 2);
    expect(exp.modelRows).toBe(1 + 3 * L);
  });

  it('clear errors: wrong length for the model, hierarchy with kernel, background without sequences', async () => {
    await expect(explainSequences(model, ['ACGT'])).rejects.toThrow(/length 4 but the model takes 40 positions/);
    await expect(
      explainSequences(model, [single[0].sequence], { players: 'hierarchy', method: 'kernel' }),
    ).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(explainSequences(model, [single[0].sequence], { reference: 'background' })).rejects.toBeInstanceOf(
      InvalidOptionError,
    );
    await expect(explainSequences(model, [`${single[0].sequence.slice(0, 39)}X`])).rejects.toBeInstanceOf(DataError);
    await expect(explainSequences(model, [single[0].sequence], { players: { window: 8, stride: 9 } })).rejects.toThrow(
      /a stride from 1 to the width 8/,
    );
  });
});

describe('explainSequences on the seq-cnn fixture (a 3-class CNN; filter 0 detects GTAAGT for class 0)', () => {
  it('the top positions for class 0 lie in the planted GTAAGT (every planted row)', async () => {
    const { fixtureExpected, fixturePath } = await import('./helpers/fixtures.js');
    const expected = fixtureExpected('seq-cnn') as unknown as { motif: { positions: number[]; sequences: string[] } };
    const cnn = await loadOnnx(fixturePath('seq-cnn'));
    try {
      const rows = expected.motif.positions.map((p, i) => [p, i]).filter(([p]) => p >= 0);
      const exp = await explainSequences(
        cnn,
        rows.map(([, i]) => expected.motif.sequences[i]),
        { method: 'partition', budget: 200, seed: 4, threads: 1, reference: 'uniform' },
      );
      expect(exp.outputs).toHaveLength(3);
      const starts = rows.map(([p]) => p);
      expect(topKHits(exp.values, 60, 3, 0, 3, (r, j) => j >= starts[r] && j < starts[r] + 6, rows.length)).toBe(1);
    } finally {
      await cnn.close();
    }
  });
});

describe('explainSequences with a protein alphabet', () => {
  it('20 one-hot channels per position; the residue the model needs gets the top value (ism and partition)', async () => {
    const { fromFunction } = await import('../src/models/function-model.js');
    const W = 'ACDEFGHIKLMNPQRSTVWY'.indexOf('W');
    // output = 1 when position 2 holds W (NLC: column 2 · 20 + W)
    const protein = fromFunction((x: ArrayLike<number>) => [x[2 * 20 + W]], { nInputs: 5 * 20 });
    for (const method of ['ism', 'partition'] as const) {
      const e = await explainSequences(protein, ['MKWAX'], {
        alphabet: 'protein',
        method,
        ...(method === 'partition' ? { reference: 'uniform', budget: 64 } : {}),
      });
      expect(e.sequence.letters).toHaveLength(20);
      const v = Array.from(e.values);
      expect(v.indexOf(Math.max(...v))).toBe(2);
    }
    await expect(
      explainSequences(protein, ['MKWAB'], { alphabet: 'protein', ambiguous: 'error', method: 'ism' }),
    ).rejects.toThrow(/position 5: "B" is not an unambiguous letter of the protein alphabet/);
  });
});

describe('explainSequences: lengths, output names, anchors, the ISM saturation hint', () => {
  it('pads a short sequence with N exactly as if the caller had padded it (and records the origin)', async () => {
    const s = single[0].sequence;
    const short = s.slice(3, L - 2); // L - 5 letters
    const opts = { method: 'permutation' as const, budget: 600, reference: 'zeros' as const, seed: 4, threads: 1 };
    const padded = await explainSequences(model, [short], { ...opts, lengthPolicy: 'pad' });
    const byHand = await explainSequences(model, [`NN${short}NNN`], opts);
    expect(Array.from(padded.values)).toEqual(Array.from(byHand.values));
    expect(padded.sequence.origins).toEqual([-2]);
    expect(padded.sequence.sequences[0]).toBe(`NN${short}NNN`);
    const cropped = await explainSequences(model, [`AC${s}G`], { ...opts, lengthPolicy: 'crop', align: 'start' });
    expect(cropped.sequence.sequences[0]).toBe(`AC${s}`.slice(0, L));
    expect(cropped.sequence.origins).toEqual([0]);
    await expect(explainSequences(model, [short], opts)).rejects.toThrow(
      /length 35 but the model takes 40.*lengthPolicy 'pad'/,
    );
    await expect(explainSequences(model, [short], { ...opts, lengthPolicy: 'crop' })).rejects.toThrow(/does not pad/);
  });
  it('names outputs and keeps the position offset', async () => {
    const e = await explainSequences(model, [single[0].sequence], {
      method: 'ism',
      outputNames: ['motif', 'other'],
      positionOffset: -20,
    });
    expect(e.outputs).toEqual(['motif', 'other']);
    expect(e.sequence.positionOffset).toBe(-20);
    await expect(explainSequences(model, [single[0].sequence], { method: 'ism', outputNames: ['a'] })).rejects.toThrow(
      /outputNames must be 2 names/,
    );
  });
  it('ISM on a saturated probability warns to explain the logit; on the logit it does not', async () => {
    const { fromFunction } = await import('../src/models/function-model.js');
    // P = sigmoid(20 + Σ x[A at p]): saturated near 1 for every sequence
    const f = (x: Float64Array) => {
      let z = 20;
      for (let p = 0; p < L; p++) z += 0.1 * x[p * 4];
      return [1 / (1 + Math.exp(-z))];
    };
    const warnings: string[] = [];
    const sat = fromFunction(f, { nInputs: L * 4, outputNames: ['p'] });
    await explainSequences(sat, [single[0].sequence, single[1].sequence], {
      method: 'ism',
      onWarning: (m) => warnings.push(m),
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/"p" is saturated.*2 of 2 sequences.*--link logit/);
    const logit = fromFunction(f, { nInputs: L * 4, outputNames: ['p'], link: 'logit' });
    const none: string[] = [];
    const e = await explainSequences(logit, [single[0].sequence], { method: 'ism', onWarning: (m) => none.push(m) });
    expect(none).toEqual([]);
    // on the logit each A → non-A substitution costs exactly 0.1 (before centring): the effect is visible
    expect(Math.max(...Array.from(e.values, Math.abs))).toBeGreaterThan(0.05);
  });
});
