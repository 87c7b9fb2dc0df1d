/**
 * whybox/testing's axiom properties: whybox's estimators pass the claims they make, and the
 * kit finds planted bugs and shrinks them to small counterexamples.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exactShapley } from '../../src/estimators/exact.js';
import type { Game } from '../../src/games/game.js';
import type { AttributionCase, AttributionMethod, GameCase } from '../../src/testing/index.js';
import {
  assertClaims,
  convergenceProperty,
  defineMethod,
  dummyProperty,
  efficiencyProperty,
  fromExplain,
  PropertyViolation,
  playersOf,
  shapleyMethod,
  symmetryProperty,
  tableGame,
} from '../../src/testing/index.js';

/** Banzhaf values: the unweighted mean of marginal contributions — Shapley without the efficiency constraint. */
async function banzhaf(game: Game): Promise<Float64Array> {
  const n = game.nPlayers;
  const nOut = game.nOutputs;
  const size = 2 ** n;
  const masks = new Uint8Array(size * n);
  for (let m = 0; m < size; m++) for (let j = 0; j < n; j++) masks[m * n + j] = (m >>> j) & 1;
  const v = await game.values(masks, size);
  const phi = new Float64Array(n * nOut);
  for (let m = 0; m < size; m++)
    for (let i = 0; i < n; i++)
      if (!((m >>> i) & 1))
        for (let o = 0; o < nOut; o++)
          phi[i * nOut + o] += (v[(m | (1 << i)) * nOut + o] - v[m * nOut + o]) / 2 ** (n - 1);
  return phi;
}

const noEfficiency: AttributionMethod = defineMethod('banzhaf (no efficiency)', ['efficiency'], async ({ game }) => ({
  values: await banzhaf(game),
}));

const swapped: AttributionMethod = defineMethod('exact with players 0, 1 swapped', ['dummy'], async ({ game }) => {
  const { values } = await exactShapley(game);
  const nOut = game.nOutputs;
  if (game.nPlayers >= 2) for (let o = 0; o < nOut; o++) [values[o], values[nOut + o]] = [values[nOut + o], values[o]];
  return { values };
});

describe('planted bugs are found and shrunk', () => {
  it('an estimator without the efficiency constraint: a 3-player counterexample for every seed (Banzhaf = Shapley for n <= 2)', async () => {
    for (let seed = 1; seed <= 10; seed++) {
      const out = await fc.check(efficiencyProperty(noEfficiency, { maxPlayers: 7 }), { seed, numRuns: 200 });
      expect(out.failed).toBe(true);
      const c = (out.counterexample as [AttributionCase, number])[0];
      expect(playersOf(c)).toBe(3);
      expect(out.errorInstance).toBeInstanceOf(PropertyViolation);
      const msg = (out.errorInstance as Error).message;
      expect(msg).toMatch(
        /^efficiency violated by method "banzhaf \(no efficiency\)": Σ_i φ_i = -?[\d.]+ but v\(N\) − v\(∅\) = -?[\d.]+ − -?[\d.]+ = -?[\d.]+.*; gap -?[\d.e-]+ > tolerance/,
      );
      expect(msg).toMatch(/\n {2}case: (game of 3 players.*v\(\{0,1,2\}\)=|model case .*x = \[.*background = \[)/);
    }
  });

  it('an estimator that swaps two players: a 2-player dummy counterexample for every seed', async () => {
    for (let seed = 1; seed <= 10; seed++) {
      const out = await fc.check(dummyProperty(swapped, { maxPlayers: 7 }), { seed, numRuns: 200 });
      expect(out.failed).toBe(true);
      const c = (out.counterexample as [{ c: AttributionCase }, number])[0].c;
      expect(playersOf(c)).toBe(2);
      expect((out.errorInstance as Error).message).toMatch(
        /^dummy violated by method "exact with players 0, 1 swapped": player \d is a null player .* got φ_\d = -?[\d.]+/,
      );
    }
  });

  it('shrinks game values to small numbers', async () => {
    const out = await fc.check(efficiencyProperty(noEfficiency, { cases: 'games', maxPlayers: 6 }), { seed: 3 });
    const c = (out.counterexample as [GameCase, number])[0];
    expect(c.nPlayers).toBe(3);
    // one non-zero coalition value is enough to break efficiency, and shrinking finds that
    expect(Array.from(c.table).filter((v) => v !== 0)).toHaveLength(1);
  });
});

describe('adapters', () => {
  it('a sampled budget drops the claims that need the full budget, and still keeps the rest', async () => {
    const method = shapleyMethod('kernel', { budget: 40 });
    expect(method.claims).toEqual(['efficiency', 'convergence', 'linearity']);
    expect(await assertClaims(method, {}, { numRuns: 15, seed: 42 })).toEqual(method.claims);
  });

  it("fromExplain: explain()'s exact method on model cases keeps every claim (closed forms included)", async () => {
    const method = fromExplain({
      explain: { method: 'exact' },
      claims: ['efficiency', 'symmetry', 'dummy', 'exactness'],
    });
    expect(method.needsModel).toBe(true);
    expect(await assertClaims(method, { maxPlayers: 5 }, { numRuns: 15, seed: 43 })).toEqual(method.claims);
  });

  it('fromExplain refuses a bare game', async () => {
    const method = fromExplain({ explain: { method: 'exact' } });
    const c: GameCase = { type: 'game', nPlayers: 1, nOutputs: 1, table: Float64Array.from([0, 1]), note: 'tiny' };
    await expect(method.attribute({ game: tableGame(c) }, { seed: 0 })).rejects.toThrow(
      /task.model must be a model task/,
    );
  });

  it('defineMethod validates its claims', () => {
    expect(() =>
      defineMethod('x', ['efficiency', 'fairness' as never], async () => ({ values: new Float64Array() })),
    ).toThrow(/claims must be a list of/);
  });

  it('a method returning the wrong shape is reported as such', async () => {
    const bad = defineMethod('short', ['efficiency'], async () => ({ values: new Float64Array(1) }));
    const out = await fc.check(efficiencyProperty(bad, { minPlayers: 2 }), { seed: 1, numRuns: 5 });
    expect((out.errorInstance as Error).message).toMatch(
      /shape violated by method "short": expected values as a Float64Array of 2 players/,
    );
  });
});

describe('statistical checks of sampled methods', () => {
  it('permutation sampling: symmetric players agree within 5 combined standard errors', async () => {
    const method = shapleyMethod('permutation', { budget: 24 });
    await fc.assert(symmetryProperty(method, { stderrs: 5, maxPlayers: 6 }), { numRuns: 30, seed: 11 });
    // without the standard-error allowance the same property fails (sampling noise)
    const out = await fc.check(symmetryProperty(method, { maxPlayers: 6 }), { numRuns: 30, seed: 11 });
    expect(out.failed).toBe(true);
  });

  it('convergence: budgets the method refuses are left out', async () => {
    const method = shapleyMethod('kernel', { variant: 'leverage' });
    // 2n budget is below the regression minimum 2n + 2 (BudgetError) and is skipped
    await fc.assert(convergenceProperty(method, { cases: 'games', budgets: (n) => [2 * n, 2 * n + 2, 64 * n] }), {
      numRuns: 10,
      seed: 12,
    });
  });
});
