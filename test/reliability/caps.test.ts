/**
 * Caps refuse, in one line, work that would exhaust the machine: threads above a multiple of
 * the cores, permutation budgets past every coalition (the walk stops once all 2^n are known)
 * or above the memory cap, LIME samples above the memory cap; a long permutation walk sees
 * its abort signal.
 */
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BudgetError, InvalidOptionError } from '../../src/errors.js';
import { checkMemory, memoryCap } from '../../src/estimators/memory.js';
import { permutationShap } from '../../src/estimators/permutation.js';
import { functionGame } from '../../src/games/game.js';
import { MAX_THREADS_PER_CORE, resolvePoolOptions } from '../../src/parallel/pool.js';
import { Rng } from '../../src/sampling/rng.js';
import { run } from '../helpers/cli.js';
import { fixtureExpected, fixturePath } from '../helpers/fixtures.js';
import { maskOf, randomTableGame } from '../helpers/games.js';
import type { TempDir } from '../helpers/tmp.js';
import { makeTempDir } from '../helpers/tmp.js';

const LOG = fixturePath('logistic');
let tmp: TempDir;
let data: string;

beforeAll(async () => {
  tmp = await makeTempDir('whybox-caps-');
  const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
  const rows = fixtureExpected('logistic').rows.slice(0, 4);
  data = await tmp.write('log.csv', `${names.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`);
});

afterAll(async () => {
  await tmp?.remove();
});

function expectOneLine(r: { code: number; stderr: string }, pattern: RegExp) {
  expect(r.code).toBe(2);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
}

describe('threads', () => {
  it(`at most ${MAX_THREADS_PER_CORE} × the cores`, () => {
    const cap = MAX_THREADS_PER_CORE * availableParallelism();
    expect(resolvePoolOptions({ threads: cap }).threads).toBe(cap);
    expect(() => resolvePoolOptions({ threads: cap + 1 })).toThrow(InvalidOptionError);
    expect(() => resolvePoolOptions({ threads: 1000 })).toThrow(new RegExp(`threads must be at most ${cap}`));
  });

  it('--threads 1000 -> exit 2, one line, before any worker starts', async () => {
    const r = await run('explain', '--model', LOG, '--data', data, '--threads', '1000');
    expectOneLine(r, /threads must be at most \d+ \(\d+ × the \d+ cores\)/);
  });
});

describe('permutation budgets', () => {
  it('a budget of 1e12 for 5 players stops once all 32 coalitions are known, with the exact values', async () => {
    const { game, truth } = randomTableGame(5, 2, 7);
    const t0 = performance.now();
    const est = await permutationShap(game, { budget: 1e12 }, { rng: Rng.fromSeed(1) });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(est.evaluations).toBe(32);
    expect(est.exact).toBe(true);
    est.values.forEach((v, i) => {
      expect(v).toBeCloseTo(truth[i], 10);
    });
  });

  it('a budget whose coalitions would not fit in memory is refused before allocating', async () => {
    const game = functionGame(61, 1, (m) => maskOf(m.subarray(0, 20)));
    await expect(permutationShap(game, { budget: 1e12 }, { rng: Rng.fromSeed(1) })).rejects.toThrow(BudgetError);
    await expect(permutationShap(game, { budget: 1e12 }, { rng: Rng.fromSeed(1) })).rejects.toThrow(
      /budget of 1000000000000 for 61 players would need about .* GiB of memory, above the limit .*; pass a smaller budget/,
    );
  });

  it('a long walk sees its abort signal (within 250 ms)', async () => {
    const game = functionGame(40, 1, () => 0);
    const ctl = new AbortController();
    const t0 = performance.now();
    setTimeout(() => ctl.abort(), 30);
    await expect(
      permutationShap(game, { budget: 4_000_000 }, { rng: Rng.fromSeed(1), signal: ctl.signal }),
    ).rejects.toThrow(/aborted/);
    expect(performance.now() - t0).toBeLessThan(30 + 250);
  });

  it('--method permutation --budget 1000000000000 on 12 players finishes with the exact values', async () => {
    const r = await run(
      'explain',
      '--model',
      LOG,
      '--data',
      data,
      '--rows',
      '0',
      '--threads',
      '1',
      '--method',
      'permutation',
      '--budget',
      '1000000000000',
      '--format',
      'json',
      '--groups',
      await tmp.write(
        'groups.json',
        JSON.stringify({ a: ['c0', 'c1', 'c2', 'c3', 'c4'], b: ['c5', 'c6', 'c7', 'c8', 'c9'] }),
      ),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // 2 groups + 10 single columns = 12 players: every one of the 4096 coalitions, the exact values
    const json = JSON.parse(r.stdout) as { evaluations: number; rows: { exact: boolean }[] };
    expect(json.evaluations).toBe(4096);
    expect(json.rows[0].exact).toBe(true);
  });
});

describe('LIME samples', () => {
  it('--num-samples 1000000000 -> exit 2 with the memory it would need', async () => {
    const r = await run('explain', '--model', LOG, '--data', data, '--method', 'lime', '--num-samples', '1000000000');
    expectOneLine(r, /LIME with 1000000000 samples per row .* would need about .* GiB of memory.*--num-samples/);
  });

  it('checkMemory compares with the cap', () => {
    expect(memoryCap()).toBeGreaterThan(2 ** 28);
    expect(() => checkMemory('x', 2 ** 20, 'less', 2 ** 21)).not.toThrow();
    expect(() => checkMemory('x', 2 ** 22, 'pass less', 2 ** 21)).toThrow(
      /x would need about 4 MiB .* 2 MiB.*pass less/,
    );
  });
});
