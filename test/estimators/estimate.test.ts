import { describe, expect, it } from 'vitest';
import { partMembers } from '../../src/estimators/estimate.js';
import { mulberry32 } from '../helpers/games.js';

/** The parts' costs when `games` are split into `count` parts. */
function loads(games: { k: number; b: number }[], costs: number[], count: number): { load: number[]; owner: number[] } {
  const owner = new Array<number>(games.length).fill(-1);
  const load = new Array<number>(count).fill(0);
  for (let p = 0; p < count; p++) {
    const inPart = partMembers(games, (i) => costs[i], { index: p, count });
    inPart.forEach((v, i) => {
      if (!v) return;
      expect(owner[i], `game ${i} in two parts`).toBe(-1);
      owner[i] = p;
      load[p] += costs[i];
    });
  }
  return { load, owner };
}

describe('partMembers (the split of a row into parts)', () => {
  it('every game in exactly one part; no part above the mean + the largest game; none empty', () => {
    const rand = mulberry32(5);
    for (let trial = 0; trial < 200; trial++) {
      const m = 1 + Math.floor(rand() * 60);
      const count = 1 + Math.floor(rand() * 8);
      const games = Array.from({ length: m }, (_, b) => ({ k: 1 + Math.floor(rand() * 20), b }));
      // skewed costs as the decomposed estimators make them: a few games far above the others
      const costs = games.map((g) => (g.k < 2 ? 0 : Math.round(2 ** (1 + rand() * 15))));
      const { load, owner } = loads(games, costs, count);
      expect(owner.every((p) => p >= 0)).toBe(true);
      const total = costs.reduce((a, c) => a + c, 0);
      const max = Math.max(...costs);
      for (const l of load) expect(l).toBeLessThanOrEqual(total / count + max);
      const positive = costs.filter((c) => c > 0).length;
      if (positive >= count) expect(load.every((l) => l > 0)).toBe(true);
    }
  });

  it('the row of the case that left a part empty: 8 parts of a German-credit row stay within 1.1x of the best split', () => {
    // one game of 65,534 rows, a few of ~16–33k and many small ones (the old contiguous split
    // gave 0 and 65,534 rows to two of the parts)
    const costs = [
      65534,
      32766,
      24574,
      24574,
      16382,
      16382,
      16382,
      16382,
      ...Array.from({ length: 40 }, (_, i) => 500 + 97 * i),
    ];
    const games = costs.map((_, b) => ({ k: 20 - (b % 5), b }));
    const { load } = loads(games, costs, 8);
    const total = costs.reduce((a, c) => a + c, 0);
    const best = Math.max(65534, total / 8);
    expect(Math.max(...load)).toBeLessThanOrEqual(1.1 * best);
    expect(Math.min(...load)).toBeGreaterThanOrEqual(0.5 * (total / 8));
    // the costliest game opens part 0 (which is dispatched first)
    expect(partMembers(games, (i) => costs[i], { index: 0, count: 8 })[0]).toBe(1);
  });

  it('depends only on the games and costs, not on the order they are listed in', () => {
    const games = Array.from({ length: 30 }, (_, b) => ({ k: 2 + (b % 7), b }));
    const costs = games.map((g) => 100 * g.k + g.b);
    const perm = games.map((_, i) => i).reverse();
    for (let p = 0; p < 4; p++) {
      const a = partMembers(games, (i) => costs[i], { index: p, count: 4 });
      const b = partMembers(
        perm.map((i) => games[i]),
        (i) => costs[perm[i]],
        { index: p, count: 4 },
      );
      perm.forEach((orig, i) => {
        expect(b[i]).toBe(a[orig]);
      });
    }
  });
});
