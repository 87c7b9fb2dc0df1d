import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { playersFromIndices } from '../../src/data/players.js';
import { ShapeError } from '../../src/errors.js';
import { localEvaluator } from '../../src/games/evaluator.js';
import { interventionalGame, isInterventional, prepareInterventional } from '../../src/games/interventional-game.js';
import { fromFunction } from '../../src/models/function-model.js';
import { createBackground } from '../../src/sampling/background.js';
import { maskingLayout } from '../../src/sampling/masking.js';
import { interventionalValue, maxAbsDiff } from '../helpers/brute-force.js';
import type { PlainModel } from '../helpers/games.js';
import { bitIdentical, mulberry32, randomModel, randomRows } from '../helpers/games.js';

/** A game with a row-counting model, and what the textbook definition says. */
async function setup(options: {
  f: PlainModel;
  nOut: number;
  x: number[];
  bg: number[][];
  weights?: number[];
  groups: number[][];
  dedupe?: boolean;
}) {
  const { f, nOut, x, bg, groups } = options;
  const d = x.length;
  let rowsSeen = 0;
  const model = fromFunction(
    (r: Float64Array) => {
      rowsSeen++;
      return f(r);
    },
    { nInputs: d, outputNames: Array.from({ length: nOut }, (_, o) => `o${o}`) },
  );
  const players = playersFromIndices(d, groups);
  const background = createBackground(
    { data: Float64Array.from(bg.flat()), nRows: bg.length, nColumns: d },
    options.weights,
  );
  const ctx = await prepareInterventional(localEvaluator(model, background, maskingLayout(players)));
  const game = await interventionalGame(ctx, Float64Array.from(x), { dedupe: options.dedupe });
  return {
    ctx,
    game,
    rowsSeen: () => rowsSeen,
    value: (mask: number) => interventionalValue(f, x, bg, options.weights, groups, mask),
  };
}

const bytesOf = (masks: number[], n: number) => {
  const out = new Uint8Array(masks.length * n);
  masks.forEach((m, s) => {
    for (let j = 0; j < n; j++) out[s * n + j] = (m >> j) & 1;
  });
  return out;
};

/** Players (bit p) on which background row b differs from x, by the textbook rule. */
const differs = (x: number[], b: number[], groups: number[][]) =>
  groups.reduce((acc, cols, p) => (cols.some((c) => b[c] !== x[c]) ? acc | (1 << p) : acc), 0);

describe('interventionalGame', () => {
  test.prop(
    [
      fc.integer({ min: 2, max: 7 }),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 0, max: 3 }),
      fc.boolean(),
      fc.integer(),
      fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
    ],
    { numRuns: 40, seed: 31 },
  )(
    'v(S) equals Σ_b w_b f(x_S, b_rest) built row by row; dedupe changes only the row count',
    async (nCols, nBg, levels, weighted, seed, picks) => {
      const f = randomModel(nCols, 2, seed);
      const bg = randomRows(nBg, nCols, seed + 1, levels);
      const x = randomRows(1, nCols, seed + 2, levels)[0];
      const weights = weighted ? bg.map((_, b) => (b % 3) + 0.5) : undefined;
      // group columns 0 and 1 when there are enough columns
      const groups =
        nCols >= 3
          ? [[0, 1], ...Array.from({ length: nCols - 2 }, (_, c) => [c + 2])]
          : Array.from({ length: nCols }, (_, c) => [c]);
      const n = groups.length;
      const masks = picks.map((p) => p % 2 ** n);
      const on = await setup({ f, nOut: 2, x, bg, weights, groups });
      const off = await setup({ f, nOut: 2, x, bg, weights, groups, dedupe: false });
      const got = await on.game.values(bytesOf(masks, n), masks.length);
      const naive = await off.game.values(bytesOf(masks, n), masks.length);
      const ref = masks.flatMap((m) => on.value(m));
      expect(maxAbsDiff(got, ref)).toBeLessThan(1e-12);
      expect(bitIdentical(got, naive)).toBe(true);
      expect(on.game.cost.evaluations).toBe(masks.length);

      // model rows: naive = every (coalition, background row) plus x; deduplicated = x plus the
      // distinct (b, S ∩ D_b) that are neither b itself (∅) nor x (D_b)
      expect(off.game.cost.modelRows).toBe(1 + masks.length * nBg);
      const distinct = new Set<string>();
      bg.forEach((b, k) => {
        const D = differs(x, b, groups);
        for (const m of masks) {
          const t = m & D;
          if (t !== 0 && t !== D) distinct.add(`${k}:${t}`);
        }
      });
      expect(on.game.cost.modelRows).toBe(1 + distinct.size);
      // and the model really saw exactly those rows (background once + the game's rows)
      expect(on.rowsSeen()).toBe(nBg + on.game.cost.modelRows);
      expect(off.rowsSeen()).toBe(nBg + off.game.cost.modelRows);

      // asking again costs nothing more
      const before = on.game.cost.modelRows;
      const again = await on.game.values(bytesOf(masks, n), masks.length);
      expect(bitIdentical(again, got)).toBe(true);
      expect(on.game.cost.modelRows).toBe(before);
    },
  );

  test.prop(
    [fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 3 }), fc.integer()],
    {
      numRuns: 30,
      seed: 32,
    },
  )('allValues (the exact fast path) tabulates every coalition correctly', async (n, nBg, levels, seed) => {
    const f = randomModel(n, 1, seed);
    const bg = randomRows(nBg, n, seed + 1, levels);
    const x = randomRows(1, n, seed + 2, levels)[0];
    const groups = Array.from({ length: n }, (_, c) => [c]);
    const s = await setup({ f, nOut: 1, x, bg, groups });
    expect(s.game.allValues).toBeDefined();
    const table = await s.game.allValues?.();
    const ref = Array.from({ length: 2 ** n }, (_, m) => s.value(m)).flat();
    expect(maxAbsDiff(table as Float64Array, ref)).toBeLessThan(1e-12);
    // Σ_b (2^|D_b| − 2) masked rows (rows with |D_b| = 0 need none), plus x
    const rows = bg.reduce((a, b) => {
      const k = differs(x, b, groups).toString(2).replace(/0/g, '').length;
      return a + (k === 0 ? 0 : 2 ** k - 2);
    }, 1);
    expect(s.game.cost.modelRows).toBe(rows);
    expect(s.rowsSeen()).toBe(nBg + rows);
  });

  it('exposes v(∅), f(x) and the per-background-row decomposition', async () => {
    const f = randomModel(4, 2, 9);
    const bg = [
      [0, 1, 2, 3],
      [0, 5, 2, 3],
      [1, 1, 1, 1],
    ];
    const x = [0, 1, 2, 9];
    const weights = [1, 2, 5];
    const groups = [[0], [1], [2], [3]];
    const s = await setup({ f, nOut: 2, x, bg, weights, groups });
    expect(isInterventional(s.game)).toBe(true);
    expect(maxAbsDiff(s.game.prediction, f(x))).toBe(0);
    expect(maxAbsDiff(s.game.baseValue, s.value(0))).toBeLessThan(1e-15);
    const d = s.game.decomposition;
    expect(d.nBackground).toBe(3);
    expect(Array.from(d.weights)).toEqual([1 / 8, 2 / 8, 5 / 8]);
    expect(Array.from(d.diff)).toEqual([0b1000, 0b1010, 0b1101]);
    expect(
      maxAbsDiff(
        d.backgroundOutputs,
        bg.flatMap((b) => f(b)),
      ),
    ).toBe(0);
    // evaluate a masked row through the decomposition: background row 1 with player 1 from x
    const out = await d.evaluate({ nRows: 1, bg: Int32Array.of(1), keys: Uint32Array.of(0b10) });
    expect(maxAbsDiff(out, f([0, 1, 2, 3]))).toBe(0);
  });

  it('players must cover every column (a column in no player has no defined masked value)', async () => {
    const f: PlainModel = (r) => [r[0] + 10 * r[1] + 100 * r[2]];
    await expect(setup({ f, nOut: 1, x: [1, 2, 3], bg: [[0, 0, 0]], groups: [[0], [2]] })).rejects.toThrow(
      /column 1 is in no group/,
    );
  });

  it('rejects an explained row of the wrong length and too-short masks', async () => {
    const f = randomModel(3, 1, 1);
    const s = await setup({ f, nOut: 1, x: [1, 2, 3], bg: [[0, 0, 0]], groups: [[0], [1], [2]] });
    await expect(interventionalGame(s.ctx, Float64Array.from([1, 2]))).rejects.toThrow(ShapeError);
    await expect(s.game.values(new Uint8Array(5), 2)).rejects.toThrow(ShapeError);
  });

  it('an aborted signal stops values()', async () => {
    const rnd = mulberry32(1);
    const s = await setup({
      f: randomModel(3, 1, 2),
      nOut: 1,
      x: [rnd(), rnd(), rnd()],
      bg: [[0, 0, 0]],
      groups: [[0], [1], [2]],
    });
    await expect(s.game.values(bytesOf([1], 3), 1, AbortSignal.abort())).rejects.toThrow(/abort/);
  });
});
