import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { NestedPlayers } from '../../src/data/hierarchy.js';
import { balancedHierarchy, flatHierarchy, hierarchyFromNested } from '../../src/data/hierarchy.js';
import { BudgetError } from '../../src/errors.js';
import { partitionShap } from '../../src/estimators/partition.js';
import { functionGame } from '../../src/games/game.js';
import { Rng } from '../../src/sampling/rng.js';
import { bruteForceShapley, maxAbsDiff } from '../helpers/brute-force.js';
import { randomTable, sumsPerOutput, tableGame } from '../helpers/games.js';

const ctx = { rng: Rng.fromSeed(1) };

/**
 * Owen / Winter values by definition: the mean marginal contribution over every order of
 * the players in which the players under each node of the hierarchy are consecutive.
 */
function bruteForceOwen(table: number[][], n: number, blocks: number[][]): number[][] {
  const nOut = table[0].length;
  const phi = Array.from({ length: n }, () => new Array<number>(nOut).fill(0));
  let count = 0;
  const perm = Array.from({ length: n }, (_, i) => i);
  const consistent = (order: number[]) =>
    blocks.every((b) => {
      const pos = b.map((p) => order.indexOf(p));
      return Math.max(...pos) - Math.min(...pos) === b.length - 1;
    });
  const permute = (k: number) => {
    if (k === n) {
      if (!consistent(perm)) return;
      let mask = 0;
      for (const i of perm) {
        const before = table[mask];
        mask |= 1 << i;
        for (let o = 0; o < nOut; o++) phi[i][o] += table[mask][o] - before[o];
      }
      count++;
      return;
    }
    for (let i = k; i < n; i++) {
      [perm[k], perm[i]] = [perm[i], perm[k]];
      permute(k + 1);
      [perm[k], perm[i]] = [perm[i], perm[k]];
    }
  };
  permute(0);
  return phi.map((r) => r.map((x) => x / count));
}

/** The player sets of every internal node of a nested list. */
function blocksOf(t: NestedPlayers): number[][] {
  const out: number[][] = [];
  const walk = (x: NestedPlayers): number[] => {
    if (typeof x === 'number') return [x];
    const all = x.flatMap(walk);
    out.push(all);
    return all;
  };
  walk(t);
  return out;
}

/** A random nested partition of players 0..n-1 (shuffled), from fast-check's integers. */
function randomNested(players: number[], splits: number[]): NestedPlayers {
  if (players.length === 1) return players[0];
  const s = splits.pop() ?? 0;
  const k = 2 + (s % Math.min(3, players.length - 1));
  const parts: number[][] = Array.from({ length: k }, () => []);
  players.forEach((p, i) => {
    parts[i < k ? i : (s + i * 7) % k].push(p);
  });
  return parts.map((g) => randomNested(g, splits));
}

describe('partitionShap (Owen values)', () => {
  test.prop([fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 2 }), fc.integer()], { numRuns: 15, seed: 7 })(
    'a flat hierarchy (singletons under one root) gives the exact Shapley values',
    async (n, nOut, seed) => {
      const table = randomTable(n, nOut, seed);
      const est = await partitionShap(tableGame(table, n), { hierarchy: flatHierarchy(n), budget: 2 ** n }, ctx);
      expect(maxAbsDiff(est.values, bruteForceShapley((m) => table[m], n).flat())).toBeLessThan(1e-9);
      expect(est.exact).toBe(true);
    },
  );

  test.prop(
    [
      fc.integer({ min: 2, max: 7 }),
      fc.integer({ min: 1, max: 2 }),
      fc.integer(),
      fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
    ],
    { numRuns: 25, seed: 8 },
  )(
    'a random nested hierarchy with enough budget gives the brute-force Owen/Winter values',
    async (n, nOut, seed, splits) => {
      const table = randomTable(n, nOut, seed);
      const players = Array.from({ length: n }, (_, i) => i).sort(
        (a, b) => ((a * 5 + seed) % 7) - ((b * 5 + seed) % 7),
      );
      const nested = randomNested(players, [...splits]);
      const h = hierarchyFromNested(n, nested);
      const est = await partitionShap(tableGame(table, n), { hierarchy: h, budget: 100_000 }, ctx);
      const truth = bruteForceOwen(table, n, blocksOf(nested)).flat();
      expect(maxAbsDiff(est.values, truth)).toBeLessThan(1e-9);
      expect(est.exact).toBe(true);
    },
  );

  it('the balanced binary hierarchy of 6 players matches brute-force Winter values', async () => {
    const table = randomTable(6, 2, 99);
    const est = await partitionShap(tableGame(table, 6), { hierarchy: balancedHierarchy(6), budget: 10_000 }, ctx);
    // balancedHierarchy(6) = ((0 1 | 2) (3 4 | 5)) with halves rounded up
    const nested: NestedPlayers = [
      [[0, 1], 2],
      [[3, 4], 5],
    ];
    expect(maxAbsDiff(est.values, bruteForceOwen(table, 6, blocksOf(nested)).flat())).toBeLessThan(1e-9);
  });

  test.prop([fc.integer({ min: 2, max: 40 }), fc.integer({ min: 2, max: 60 }), fc.integer()], { numRuns: 25, seed: 9 })(
    'efficiency holds and the budget is respected at any budget',
    async (n, budget, seed) => {
      const w = randomTable(Math.min(n, 10), 1, seed).map((r) => r[0]);
      const game = functionGame(n, 1, (m) => {
        let s = 0;
        for (let j = 0; j < n; j++) s += m[j] * w[j % w.length] + (m[j] && m[(j + 1) % n] ? 1 : 0);
        return s;
      });
      const est = await partitionShap(game, { budget }, ctx);
      expect(est.evaluations).toBeLessThanOrEqual(budget);
      expect(game.cost.evaluations).toBe(est.evaluations);
      const [sum] = sumsPerOutput(est.values, n, 1);
      expect(sum).toBeCloseTo(est.fullValue[0] - est.baseValue[0], 9);
    },
  );

  it('a small budget resolves the branch holding a lone important player first', async () => {
    const n = 256;
    const game = functionGame(n, 1, (m) => (m[137] ? 5 : 0) + 0.001 * m[3]);
    // 2 · (1 + 2 + ... + 2^7) = 510 coalitions resolve one leaf of the depth-8 tree (vs n log n = 2048)
    const est = await partitionShap(game, { budget: 512 }, ctx);
    let best = 0;
    for (let j = 1; j < n; j++) if (Math.abs(est.values[j]) > Math.abs(est.values[best])) best = j;
    expect(best).toBe(137);
    expect(est.values[137]).toBeCloseTo(5, 6);
  });

  test.prop([fc.integer({ min: 3, max: 6 }), fc.integer(), fc.array(fc.nat(), { minLength: 8, maxLength: 8 })], {
    numRuns: 3,
    seed: 10,
  })(
    'sampled orders: unbiased for the Owen value (mean of 4,000 passes), efficient in every pass',
    async (n, seed, splits) => {
      const table = randomTable(n, 1, seed);
      const players = Array.from({ length: n }, (_, i) => i);
      const nested = randomNested(players, [...splits]);
      const h = hierarchyFromNested(n, nested);
      const est = await partitionShap(
        tableGame(table, n),
        { hierarchy: h, orders: 4000, budget: 1_000_000 },
        { rng: Rng.fromSeed(seed) },
      );
      const truth = bruteForceOwen(table, n, blocksOf(nested)).flat();
      // values in [−10, 10): a pass's marginal has s.d. below ~10, so the mean's s.e. is below 0.07
      expect(maxAbsDiff(est.values, truth)).toBeLessThan(0.35);
      expect(est.exact).toBe(false);
      const one = await partitionShap(
        tableGame(table, n),
        { hierarchy: h, orders: 1, budget: 1000 },
        { rng: Rng.fromSeed(seed) },
      );
      expect(sumsPerOutput(one.values, n, 1)[0]).toBeCloseTo(table[2 ** n - 1][0] - table[0][0], 9);
    },
  );

  it('sampled orders resolve a lone important player of 1,024 within a tiny budget', async () => {
    const n = 1024;
    const game = functionGame(n, 1, (m) => (m[700] ? 5 : 0));
    const est = await partitionShap(game, { budget: 2 + 8 * 10, orders: 8 }, ctx);
    let best = 0;
    for (let j = 1; j < n; j++) if (est.values[j] > est.values[best]) best = j;
    expect(best).toBe(700);
    expect(est.values[700]).toBeCloseTo(5, 9);
  });

  it('refuses nodes with too many children', async () => {
    const game = functionGame(20, 1, () => 0);
    await expect(partitionShap(game, { hierarchy: flatHierarchy(20) }, ctx)).rejects.toBeInstanceOf(BudgetError);
  });
});

describe("explain(..., { method: 'partition' })", () => {
  it('with a flat hierarchy equals exact Shapley values; with the default hierarchy it is efficient', async () => {
    const { explain } = await import('../../src/explain.js');
    const { fromFunction } = await import('../../src/models/function-model.js');
    const model = fromFunction((x: ArrayLike<number>) => [x[0] * x[1] + 2 * x[2] - x[3] * x[0], x[1] + x[3]], {
      nInputs: 4,
      outputNames: ['a', 'b'],
    });
    const rows = { data: Float64Array.from([1, 2, 3, 4, -1, 0.5, 2, 1]), nRows: 2 };
    const background = { data: Float64Array.from([0, 0, 0, 0, 1, 1, 1, 1, 2, -1, 0, 3]), nRows: 3 };
    const exact = await explain(model, rows, { background, method: 'exact', threads: 1 });
    const owen = await explain(model, rows, {
      background,
      method: 'partition',
      hierarchy: flatHierarchy(4),
      budget: 16,
      threads: 1,
    });
    expect(owen.method).toBe('partition');
    expect(maxAbsDiff(owen.values, exact.values)).toBeLessThan(1e-12);
    const tree = await explain(model, rows, { background, method: 'partition', budget: 6, threads: 1, seed: 1 });
    for (let r = 0; r < 2; r++) {
      const { efficiencyGap } = await import('../../src/explanation/explanation.js');
      expect(efficiencyGap(tree, r, 0)).toBeLessThan(1e-12);
      expect(efficiencyGap(tree, r, 1)).toBeLessThan(1e-12);
    }
  });
});
