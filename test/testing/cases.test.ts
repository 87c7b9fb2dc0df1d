/**
 * The kit's cases and arbitraries against independent truths: closed forms against the
 * textbook permutation definition (test/helpers/brute-force.ts, no code shared with the
 * kit), the masker's game against the reference value function, and the structure the
 * arbitraries promise (partitions, symmetric players, null players).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AttributionCase } from '../../src/testing/index.js';
import {
  caseTask,
  caseValue,
  closedForm,
  dummyGameCases,
  dummyModelCases,
  exactValues,
  gameCases,
  groupings,
  modelCases,
  playersOf,
  referenceShapley,
  symmetricGameCases,
  symmetricModelCases,
} from '../../src/testing/index.js';
import { bruteForceShapley, maxAbsDiff } from '../helpers/brute-force.js';

const truthOf = (c: AttributionCase) => bruteForceShapley((m) => caseValue(c, m), playersOf(c)).flat();

describe('known Shapley values', () => {
  it('closed forms (linear, additive, pairwise; any grouping, weighted backgrounds) equal the permutation definition', () => {
    fc.assert(
      fc.property(modelCases({ kinds: ['linear', 'additive', 'pairwise'], maxFeatures: 6, values: 'doubles' }), (c) => {
        const closed = closedForm(c) as Float64Array;
        expect(closed).toBeDefined();
        expect(maxAbsDiff(closed, truthOf(c))).toBeLessThan(1e-9 * Math.max(1, ...truthOf(c).map(Math.abs)));
      }),
      { numRuns: 150, seed: 1 },
    );
  });

  it('trees and games: exactValues (subset formula) equals the permutation definition', () => {
    fc.assert(
      fc.property(fc.oneof(modelCases({ kinds: ['tree'] }), gameCases({ maxPlayers: 6, maxOutputs: 2 })), (c) => {
        expect(maxAbsDiff(exactValues(c), truthOf(c))).toBeLessThan(1e-9);
      }),
      { numRuns: 80, seed: 2 },
    );
    expect(Array.from(referenceShapley((m) => [m === 3 ? 1 : 0], 2))).toEqual([0.5, 0.5]);
  });

  it("the model case's game (whybox's masker) gives the reference v(S) for every coalition", async () => {
    await fc.assert(
      fc.asyncProperty(modelCases({ maxFeatures: 5 }), async (c) => {
        const { game } = await caseTask(c);
        const n = game.nPlayers;
        const masks = new Uint8Array(2 ** n * n);
        for (let m = 0; m < 2 ** n; m++) for (let j = 0; j < n; j++) masks[m * n + j] = (m >>> j) & 1;
        const v = await game.values(masks, 2 ** n);
        for (let m = 0; m < 2 ** n; m++) expect(v[m]).toBeCloseTo(caseValue(c, m)[0], 9);
      }),
      { numRuns: 60, seed: 3 },
    );
  });
});

describe('arbitraries keep their promises', () => {
  it('groupings are partitions ordered by first column', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }).chain((n) => fc.tuple(fc.constant(n), groupings(n))),
        ([n, groups]) => {
          expect(
            groups
              .flat()
              .slice()
              .sort((a, b) => a - b),
          ).toEqual(Array.from({ length: n }, (_, i) => i));
          for (let p = 1; p < groups.length; p++) expect(groups[p][0]).toBeGreaterThan(groups[p - 1][0]);
        },
      ),
      { numRuns: 100, seed: 4 },
    );
  });

  it('symmetric cases have interchangeable players, dummy cases a null player', () => {
    const sym = fc.oneof(
      symmetricGameCases().map((s) => ({ c: s.game as AttributionCase, i: s.i, j: s.j })),
      symmetricModelCases({ maxFeatures: 5 }).map((s) => ({ c: s.model as AttributionCase, i: s.i, j: s.j })),
    );
    fc.assert(
      fc.property(sym, ({ c, i, j }) => {
        expect(i).not.toBe(j);
        for (let m = 0; m < 2 ** playersOf(c); m++)
          if (!((m >>> i) & 1) && !((m >>> j) & 1))
            expect(caseValue(c, m | (1 << i))[0]).toBeCloseTo(caseValue(c, m | (1 << j))[0], 9);
      }),
      { numRuns: 100, seed: 5 },
    );
    const dum = fc.oneof(
      dummyGameCases().map((s) => ({ c: s.game as AttributionCase, d: s.dummy })),
      dummyModelCases({ maxFeatures: 5 }).map((s) => ({ c: s.model as AttributionCase, d: s.dummy })),
    );
    fc.assert(
      fc.property(dum, ({ c, d }) => {
        for (let m = 0; m < 2 ** playersOf(c); m++)
          expect(caseValue(c, m | (1 << d))[0]).toBeCloseTo(caseValue(c, m & ~(1 << d))[0], 9);
      }),
      { numRuns: 100, seed: 6 },
    );
  });

  it('cases print as readable text in fast-check reports', () => {
    const [c] = fc.sample(gameCases({ minPlayers: 2, maxPlayers: 2 }), { numRuns: 1, seed: 7 });
    expect(fc.stringify(c)).toMatch(/^game of 2 players \(random\): v\(∅\)=-?\d+, v\(\{0\}\)=/);
    const [m] = fc.sample(modelCases({ kinds: ['linear'] }), { numRuns: 1, seed: 8 });
    expect(fc.stringify(m)).toMatch(/^model case \(linear\): f = linear\(w=\[/);
  });
});
