/**
 * The engine's work split: a row's estimate in parts (decomposed Kernel SHAP, exact) adds
 * up to the one-part estimate and to brute-force Shapley values; units run in worker threads
 * (estimator math and model calls) give the same bits as this thread; the cost model runs
 * small jobs serially.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { combineDecomposed } from '../../src/estimators/decomposed.js';
import { type PartEstimate, RowPlanMemo } from '../../src/estimators/estimate.js';
import { combineExact, exactPart, exactParts } from '../../src/estimators/exact.js';
import { KERNEL_PARTS, kernelParts, kernelShap, kernelShapPart } from '../../src/estimators/kernel.js';
import { combinePermutation, permutationShap, permutationShapPart } from '../../src/estimators/permutation.js';
import { explain } from '../../src/explain.js';
import { fromModule } from '../../src/models/function-model.js';
import type { Model } from '../../src/models/model.js';
import { createWorkerPool, type WorkerPool } from '../../src/parallel/pool.js';
import { Rng } from '../../src/sampling/rng.js';
import { interventionalSetup, randomModel, randomRows } from '../helpers/games.js';
import type { TempDir } from '../helpers/tmp.js';
import { makeTempDir } from '../helpers/tmp.js';

const bitIdentical = (a: Float64Array, b: Float64Array) =>
  a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('parts of one row', () => {
  it('decomposed Kernel SHAP in 8 parts adds up to the one-part estimate (every background row once)', async () => {
    const nCols = 9;
    const f = randomModel(nCols, 2, 11);
    const bg = randomRows(20, nCols, 12);
    const x = randomRows(1, nCols, 13)[0];
    const { game } = await interventionalSetup({ f, nOut: 2, x, background: bg });
    const options = { budget: 120 };
    // parts: one per PART_ROWS model rows, at most 8 (small jobs are not split)
    expect(kernelParts(options, nCols, 20)).toBe(1);
    expect(kernelParts({ budget: 8192 }, nCols, 20)).toBe(KERNEL_PARTS);
    expect(kernelParts({ budget: 8192, variant: 'leverage' }, nCols, 20)).toBe(1);
    const ctx = () => ({ rng: Rng.fromSeed(4), designs: { seed: 4, shapes: new Map<string, unknown>() } });
    const whole = await kernelShap(game, options, ctx());
    const parts = [];
    for (let p = 0; p < KERNEL_PARTS; p++)
      parts.push(await kernelShapPart(game, options, ctx(), { index: p, count: KERNEL_PARTS }));
    // each part is a real share: none empty, none the whole
    const nonZero = parts.filter((p) => p.values.some((v) => v !== 0)).length;
    expect(nonZero).toBeGreaterThan(4);
    const combined = combineDecomposed(parts, { ...game, nBackground: 20 });
    // the same numbers up to the order of the sums (a lost or doubled background row would be off by ~0.1)
    expect(maxAbs(combined.values, whole.values)).toBeLessThan(1e-12);
    expect(maxAbs(combined.stderr as Float64Array, whole.stderr as Float64Array)).toBeLessThan(1e-12);
    expect(combined.evaluations).toBe(whole.evaluations);
  });

  it('decomposed parts with a budget covering every coalition give the brute-force Shapley values', async () => {
    const nCols = 6;
    const f = randomModel(nCols, 1, 21);
    const { game, truth } = await interventionalSetup({
      f,
      nOut: 1,
      x: randomRows(1, nCols, 22)[0],
      background: randomRows(10, nCols, 23),
    });
    const options = { budget: 64 };
    const parts = [];
    for (let p = 0; p < 8; p++)
      parts.push(await kernelShapPart(game, options, { rng: Rng.fromSeed(1) }, { index: p, count: 8 }));
    const est = combineDecomposed(parts, { ...game, nBackground: 10 });
    expect(est.exact).toBe(true);
    expect(maxAbs(est.values, truth)).toBeLessThan(1e-9);
  });

  it('decomposed permutation in 8 parts adds up to the one-part estimate', async () => {
    const nCols = 9;
    const f = randomModel(nCols, 2, 51);
    const { game } = await interventionalSetup({
      f,
      nOut: 2,
      x: randomRows(1, nCols, 52)[0],
      background: randomRows(16, nCols, 53),
    });
    const whole = await permutationShap(game, { budget: 150 }, { rng: Rng.fromSeed(8) });
    const parts = [];
    for (let p = 0; p < 8; p++)
      parts.push(await permutationShapPart(game, { budget: 150 }, { rng: Rng.fromSeed(8) }, { index: p, count: 8 }));
    expect(parts.filter((p) => p.values.some((v) => v !== 0)).length).toBeGreaterThan(4);
    const combined = combinePermutation(parts, { ...game, nBackground: 16 });
    expect(maxAbs(combined.values, whole.values)).toBeLessThan(1e-12);
    expect(maxAbs(combined.stderr as Float64Array, whole.stderr as Float64Array)).toBeLessThan(1e-12);
    expect(combined.evaluations).toBe(whole.evaluations);
  });

  it('permutation parts sharing a row-plan memo give the same bits and plan the row once', async () => {
    const nCols = 9;
    const f = randomModel(nCols, 2, 61);
    const setup = async (seed: number) =>
      interventionalSetup({ f, nOut: 2, x: randomRows(1, nCols, seed)[0], background: randomRows(16, nCols, 63) });
    const { game } = await setup(62);
    const alone: PartEstimate[] = [];
    for (let p = 0; p < 8; p++)
      alone.push(await permutationShapPart(game, { budget: 150 }, { rng: Rng.fromSeed(8) }, { index: p, count: 8 }));
    const rowPlans = new RowPlanMemo();
    const shared: PartEstimate[] = [];
    for (let p = 0; p < 8; p++)
      shared.push(
        await permutationShapPart(game, { budget: 150 }, { rng: Rng.fromSeed(8), rowPlans }, { index: p, count: 8 }),
      );
    expect(rowPlans.size).toBe(1);
    shared.forEach((part, p) => {
      expect(bitIdentical(part.values, alone[p].values)).toBe(true);
      expect(part.rowsSpent).toBe(alone[p].rowsSpent);
    });
    // the same stream on another row (another game) is not served the first row's plan
    const { game: other } = await setup(64);
    const otherAlone = await permutationShapPart(
      other,
      { budget: 150 },
      { rng: Rng.fromSeed(8) },
      { index: 3, count: 8 },
    );
    const otherShared = await permutationShapPart(
      other,
      { budget: 150 },
      { rng: Rng.fromSeed(8), rowPlans },
      { index: 3, count: 8 },
    );
    expect(bitIdentical(otherShared.values, otherAlone.values)).toBe(true);
    // nor another budget's
    const b2 = await permutationShapPart(
      other,
      { budget: 90 },
      { rng: Rng.fromSeed(8), rowPlans },
      { index: 3, count: 8 },
    );
    const b2Alone = await permutationShapPart(other, { budget: 90 }, { rng: Rng.fromSeed(8) }, { index: 3, count: 8 });
    expect(bitIdentical(b2.values, b2Alone.values)).toBe(true);
  });

  it('the row-plan memo makes a plan once, remakes one whose making failed, and stays bounded', async () => {
    const memo = new RowPlanMemo();
    let made = 0;
    const make = (v: number) => async () => {
      made++;
      return { v, bytes: 10 };
    };
    const a1 = await memo.get('t', [[1, 2, 3, 4], [7]], make(1));
    const a2 = await memo.get('t', [[1, 2, 3, 4], [7]], make(2));
    expect(a1.v).toBe(1);
    expect(a2.v).toBe(1);
    expect(made).toBe(1);
    // same stream, other key numbers: made again, never the stale one
    const b = await memo.get('t', [[1, 2, 3, 4], [8]], make(3));
    expect(b.v).toBe(3);
    // concurrent callers share one making
    const [c1, c2] = await Promise.all([memo.get('t', [[9], [1]], make(4)), memo.get('t', [[9], [1]], make(5))]);
    expect(c1.v).toBe(4);
    expect(c2.v).toBe(4);
    // a making that failed (another run's abort) is remade for a caller whose signal is live...
    const failing = memo.get('t', [[5], [1]], async () => {
      throw new Error('aborted elsewhere');
    });
    const waiting = memo.get('t', [[5], [1]], make(6));
    await expect(failing).rejects.toThrow('aborted elsewhere');
    expect((await waiting).v).toBe(6);
    // ...and rethrown for one whose own signal is aborted
    const ac = new AbortController();
    ac.abort();
    const failing2 = memo.get('t', [[6], [1]], async () => {
      throw new Error('gone');
    });
    const waiting2 = memo.get('t', [[6], [1]], make(7), ac.signal);
    await expect(failing2).rejects.toThrow('gone');
    await expect(waiting2).rejects.toThrow('gone');
    for (let i = 0; i < 20; i++) await memo.get('t', [[100 + i], [1]], make(i));
    expect(memo.size).toBeLessThanOrEqual(RowPlanMemo.MAX_ENTRIES);
    await memo.get('t', [[999], [1]], async () => ({ bytes: RowPlanMemo.MAX_BYTES + 1 }));
    expect(memo.size).toBeLessThanOrEqual(RowPlanMemo.MAX_ENTRIES);
  });

  it('exact in parts (groups of background rows) gives the brute-force Shapley values', async () => {
    const nCols = 10;
    const f = randomModel(nCols, 2, 31);
    const { game, truth } = await interventionalSetup({
      f,
      nOut: 2,
      x: randomRows(1, nCols, 32)[0],
      background: randomRows(7, nCols, 33, 3),
      weights: [1, 2, 3, 1, 1, 2, 5],
    });
    expect(exactParts(nCols, 7)).toBe(1); // 2^10 × 7 rows: too small to split
    expect(exactParts(14, 7)).toBe(4);
    const count = 4;
    const parts = [];
    for (let p = 0; p < count; p++) parts.push(await exactPart(game, {}, { index: p, count }));
    const est = combineExact(parts, { ...game, nBackground: 7 });
    expect(maxAbs(est.values, truth)).toBeLessThan(1e-9);
    // the parts' model rows add up to each distinct masked row once
    const rows = parts.reduce((a, p) => a + p.rowsSpent, 0);
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBeLessThanOrEqual(7 * 2 ** nCols);
  });
});

const MODULE = `export function f(row) {
  let s = 0;
  for (let i = 0; i < row.length; i++) s += Math.sin(row[i] * (i + 1)) * row[(i + 3) % row.length];
  return [Math.tanh(s), s * row[0]];
}`;
const D = 10;
function rowsOf(n: number, seed: number) {
  const data = Float64Array.from(randomRows(n, D, seed).flat());
  return { data, nRows: n, columns: Array.from({ length: D }, (_, i) => `c${i}`) };
}

describe('units in worker threads', () => {
  let tmp: TempDir;
  let model: Model;
  let pool: WorkerPool;
  beforeAll(async () => {
    tmp = await makeTempDir('whybox-engine-');
    model = await fromModule(await tmp.write('f.mjs', MODULE), 'f', { nInputs: D, outputNames: ['y0', 'y1'] });
    pool = createWorkerPool({ threads: 2 });
  });
  afterAll(async () => {
    await pool.close();
    await tmp.remove();
  });
  const rows = rowsOf(3, 41);
  const background = rowsOf(24, 42);
  const cases: [string, Record<string, unknown>][] = [
    ['kernel (4 parts a row)', { method: 'kernel', budget: 3000 }],
    ["kernel budget 'auto' (whole rows)", { method: 'kernel', budget: 'auto', maxBudget: 2048 }],
    ['exact (1 part a row: 2^10 × 24 rows)', { method: 'exact' }],
    ['exact (2 parts a row: 2^10 × 40 rows)', { method: 'exact', background: rowsOf(40, 45) }],
    ['permutation (2 parts a row)', { method: 'permutation', budget: 1400 }],
    ['partition', { method: 'partition', budget: 200 }],
  ];

  // 3 rows: with threads T the first 3 − T rows of a split method go as one task each (their
  // parts in one game), the others part by part — so rows 0 and 1 are whole-row tasks on one
  // thread and in the pool's workers, and single parts with 4 threads
  it.each(cases)('%s: a shared pool, 2 and 4 threads and batchRows 7 give the bits of one thread', async (_n, opts) => {
    const one = await explain(model, rows, { background, ...opts, seed: 9, threads: 1 });
    const runs = [
      await explain(model, rows, { background, ...opts, seed: 9, pool }),
      await explain(model, rows, { background, ...opts, seed: 9, threads: 2, minParallelMs: 0 }),
      await explain(model, rows, { background, ...opts, seed: 9, threads: 4, minParallelMs: 0, batchRows: 7 }),
    ];
    for (const r of runs) {
      expect(bitIdentical(one.values, r.values)).toBe(true);
      expect(bitIdentical(one.predictions, r.predictions)).toBe(true);
      if (one.stderr) expect(bitIdentical(one.stderr, r.stderr as Float64Array)).toBe(true);
      expect(r.modelRows).toBe(one.modelRows);
      expect(r.evaluations).toBe(one.evaluations);
    }
    expect(runs[1].meta.threads).toBe(2);
    expect(runs[2].meta.threads).toBe(4);
  });

  it('the cost model: a small job with threads 2 runs on this thread; minParallelMs 0 forces workers', async () => {
    const one = rowsOf(1, 43);
    const small = await explain(model, one, { background, method: 'kernel', budget: 40, seed: 1, threads: 2 });
    expect(small.meta.threads).toBe(1);
    const forced = await explain(model, one, {
      background,
      method: 'kernel',
      budget: 40,
      seed: 1,
      threads: 2,
      minParallelMs: 0,
    });
    expect(forced.meta.threads).toBe(2);
    expect(bitIdentical(small.values, forced.values)).toBe(true);
    // once the rest of the job is projected above the threshold, workers start mid-run (this
    // thread did the first units): still the same bits
    const mid = await explain(model, rowsOf(6, 44), {
      background,
      method: 'kernel',
      budget: 100,
      seed: 1,
      threads: 2,
      minParallelMs: 1e-6,
    });
    const serial = await explain(model, rowsOf(6, 44), {
      background,
      method: 'kernel',
      budget: 100,
      seed: 1,
      threads: 1,
    });
    expect(mid.meta.threads).toBe(2);
    expect(bitIdentical(mid.values, serial.values)).toBe(true);
  });

  it('minParallelMs must be a number >= 0', async () => {
    await expect(
      explain(model, rows, { background, method: 'kernel', threads: 2, minParallelMs: -1 }),
    ).rejects.toBeInstanceOf(InvalidOptionError);
  });

  it('an abort while units run in workers rejects with AbortedError, and the pool keeps working', async () => {
    const ac = new AbortController();
    const p = explain(model, rowsOf(40, 5), {
      background,
      method: 'kernel',
      budget: 4000,
      seed: 1,
      pool,
      signal: ac.signal,
    });
    setTimeout(() => ac.abort(), 30);
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    const again = await explain(model, rows, { background, method: 'kernel', budget: 100, seed: 1, pool });
    expect(again.nRows).toBe(3);
  });
});
