import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { definePlayers } from '../../src/data/players.js';
import { BudgetError } from '../../src/errors.js';
import { exactShapley, MAX_EXACT_PLAYERS, shapleyFromTable } from '../../src/estimators/exact.js';
import { localEvaluator } from '../../src/games/evaluator.js';
import { functionGame } from '../../src/games/game.js';
import { interventionalGame, prepareInterventional } from '../../src/games/interventional-game.js';
import { fromFunction } from '../../src/models/function-model.js';
import { createBackground } from '../../src/sampling/background.js';
import { maskingLayout } from '../../src/sampling/masking.js';
import { bruteForceShapley, interventionalValue, maxAbsDiff } from '../helpers/brute-force.js';

const maskOf = (m: Uint8Array) => m.reduce((acc, b, j) => acc | (b << j), 0);

describe('exactShapley', () => {
  test.prop([fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 3 }), fc.integer()], { numRuns: 30, seed: 11 })(
    'equals the permutation definition on random games (1e-9)',
    async (n, nOut, seed) => {
      // a random table game: v(S) pseudo-random per coalition and output
      const table = Array.from({ length: 2 ** n }, (_, s) =>
        Array.from({ length: nOut }, (_, o) => Math.sin(seed + 13.7 * s + 101.3 * o) * 10),
      );
      const game = functionGame(n, nOut, (m) => table[maskOf(m)]);
      const est = await exactShapley(game);
      const ref = bruteForceShapley((m) => table[m], n);
      expect(maxAbsDiff(est.values, ref.flat())).toBeLessThan(1e-9);
      expect(est.evaluations).toBe(2 ** n);
      expect(est.exact).toBe(true);
      // efficiency
      for (let o = 0; o < nOut; o++) {
        const sum = ref.reduce((a, r) => a + r[o], 0);
        expect(Math.abs(sum - (table[2 ** n - 1][o] - table[0][o]))).toBeLessThan(1e-9);
      }
    },
  );

  test.prop(
    [
      fc.integer({ min: 2, max: 7 }),
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 7 * 3, maxLength: 7 * 3 }),
      fc.boolean(),
    ],
    { numRuns: 25, seed: 5 },
  )('interventional game on a float64 model matches brute force (1e-9)', async (nCols, nBg, params, discrete) => {
    // a nonlinear model with interactions
    const f = (r: ArrayLike<number>) => {
      let s = 0;
      for (let c = 0; c < nCols; c++) s += params[c] * r[c] + params[7 + c] * r[c] * r[(c + 1) % nCols];
      return [Math.tanh(s), s * s * params[14]];
    };
    const rnd = (i: number) => {
      const v = Math.sin(i * 12.9898 + nCols * 78.233) * 43758.5453;
      const u = v - Math.floor(v);
      return discrete ? Math.floor(u * 3) : u * 4 - 2; // discrete values make D_b small
    };
    const x = Array.from({ length: nCols }, (_, c) => rnd(c + 1000));
    const bg = Array.from({ length: nBg }, (_, b) => Array.from({ length: nCols }, (_, c) => rnd(b * 31 + c)));
    const weights = Array.from({ length: nBg }, (_, b) => 1 + (b % 3));
    const names = Array.from({ length: nCols }, (_, c) => `c${c}`);
    // group the first two columns when possible, to exercise groups
    const groupSpec = nCols >= 3 ? { g01: ['c0', 'c1'] } : undefined;
    const players = definePlayers(names, groupSpec);
    const groups = players.names.map((_, p) =>
      Array.from(players.columns.subarray(players.offsets[p], players.offsets[p + 1])),
    );
    const model = fromFunction((r: Float64Array) => f(r), { nInputs: nCols, outputNames: ['a', 'b'] });
    const background = createBackground({ data: Float64Array.from(bg.flat()), nRows: nBg, nColumns: nCols }, weights);
    const ctx = await prepareInterventional(localEvaluator(model, background, maskingLayout(players)));
    const game = await interventionalGame(ctx, Float64Array.from(x));
    const est = await exactShapley(game);
    const ref = bruteForceShapley((m) => interventionalValue((r) => f(r), x, bg, weights, groups, m), groups.length);
    expect(maxAbsDiff(est.values, ref.flat())).toBeLessThan(1e-9);
    // base value and prediction
    expect(maxAbsDiff(est.baseValue, interventionalValue(f, x, bg, weights, groups, 0))).toBeLessThan(1e-12);
    expect(maxAbsDiff(est.fullValue, f(x))).toBeLessThan(1e-12);
    // model rows: Σ_b (2^|D_b| − 2) + 1 (x) — never more than naive 2^n × |bg|
    expect(game.cost.modelRows).toBeLessThanOrEqual(2 ** groups.length * nBg);
  });

  it('refuses more players than the limit and suggests the sampled methods', async () => {
    const n = MAX_EXACT_PLAYERS + 1;
    const game = functionGame(n, 1, () => 0);
    await expect(exactShapley(game)).rejects.toThrow(BudgetError);
    await expect(exactShapley(game)).rejects.toThrow(/kernel.*permutation/);
  });

  it('shapleyFromTable: glove game (closed form 2/3, 1/6, 1/6)', () => {
    // v(S) = 1 when S has player 0 and (player 1 or 2): Shapley values are 2/3, 1/6, 1/6
    const table = Float64Array.from({ length: 8 }, (_, s) => (s & 1 && s & 6 ? 1 : 0));
    const phi = shapleyFromTable(table, 3, 1);
    expect(maxAbsDiff(phi, [2 / 3, 1 / 6, 1 / 6])).toBeLessThan(1e-15);
  });
});
