/**
 * LIME in worker threads: every row samples, predicts and fits in a worker from its own
 * stream, so a shared pool, 2 and 4 threads give the bits of one thread; a custom kernel
 * function (which cannot cross threads) keeps the run on one thread, with a warning.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explain } from '../../src/explain.js';
import { fromModule } from '../../src/models/function-model.js';
import type { Model } from '../../src/models/model.js';
import { createWorkerPool, type WorkerPool } from '../../src/parallel/pool.js';
import { randomRows } from '../helpers/games.js';
import type { TempDir } from '../helpers/tmp.js';
import { makeTempDir } from '../helpers/tmp.js';

const MODULE = `export function f(row) {
  return [1 / (1 + Math.exp(-(row[0] - row[1] * row[2] + 0.5 * row[3]))), row[4] * row[0]];
}`;
const D = 6;
const data = (n: number, seed: number) => ({
  data: Float64Array.from(randomRows(n, D, seed).flat()),
  nRows: n,
  columns: Array.from({ length: D }, (_, i) => `c${i}`),
});
const same = (a: Float64Array, b: Float64Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

describe('LIME in worker threads', () => {
  let tmp: TempDir;
  let model: Model;
  let pool: WorkerPool;
  beforeAll(async () => {
    tmp = await makeTempDir('whybox-lime-par-');
    model = await fromModule(await tmp.write('f.mjs', MODULE), 'f', { nInputs: D, outputNames: ['p', 'q'] });
    pool = createWorkerPool({ threads: 2 });
  });
  afterAll(async () => {
    await pool.close();
    await tmp.remove();
  });
  const rows = data(7, 1);
  const background = data(80, 2);
  const base = { background, method: 'lime', numSamples: 400, seed: 5 } as const;

  it('a pool, 2 and 4 threads give the bits of one thread (values, fits, selections)', async () => {
    const one = await explain(model, rows, { ...base, threads: 1 });
    expect(one.meta.threads).toBe(1);
    for (const opts of [{ pool }, { threads: 2, minParallelMs: 0 }, { threads: 4, minParallelMs: 0 }]) {
      const r = await explain(model, rows, { ...base, ...opts });
      expect(same(one.values, r.values)).toBe(true);
      expect(same(one.predictions, r.predictions)).toBe(true);
      expect(same(one.lime?.score as Float64Array, r.lime?.score as Float64Array)).toBe(true);
      expect(r.lime?.selected).toEqual(one.lime?.selected);
      expect(r.lime?.conditions).toEqual(one.lime?.conditions);
    }
    const two = await explain(model, rows, { ...base, threads: 2, minParallelMs: 0 });
    expect(two.meta.threads).toBe(2);
    // and the model really saw f(x) of each row: predictions are the model's outputs
    const f = (r: number) =>
      1 /
      (1 + Math.exp(-(rows.data[r * D] - rows.data[r * D + 1] * rows.data[r * D + 2] + 0.5 * rows.data[r * D + 3])));
    for (let r = 0; r < rows.nRows; r++) expect(two.predictions[r * 2]).toBeCloseTo(f(r), 12);
  });

  it('workers reuse their scratch buffers across tasks: bigger, smaller, dense and binned jobs in turn keep the bits', async () => {
    // one pool sees jobs of other sizes (numSamples) and designs (Gaussian = dense, quartile =
    // mostly zeros) one after the other: each must equal its own 1-thread run
    for (const opts of [
      { numSamples: 900 },
      { numSamples: 150 },
      { numSamples: 600, discretizer: 'none' },
      { numSamples: 300, discretizer: 'quartile' },
    ] as const) {
      const one = await explain(model, rows, { ...base, ...opts, threads: 1 });
      const r = await explain(model, rows, { ...base, ...opts, pool });
      expect(same(one.values, r.values)).toBe(true);
      expect(same(one.lime?.score as Float64Array, r.lime?.score as Float64Array)).toBe(true);
      expect(same(one.lime?.intercept as Float64Array, r.lime?.intercept as Float64Array)).toBe(true);
    }
  });

  it('concurrent calls on one thread keep their own sample buffers: the bits of each call alone', async () => {
    const a = { ...base, numSamples: 500, threads: 1 } as const;
    const b = { ...base, numSamples: 500, discretizer: 'none', seed: 9, threads: 1 } as const;
    const [soloA, soloB] = [await explain(model, rows, a), await explain(model, rows, b)];
    const [ra, rb] = await Promise.all([explain(model, rows, a), explain(model, rows, b)]);
    expect(same(soloA.values, ra.values)).toBe(true);
    expect(same(soloB.values, rb.values)).toBe(true);
    expect(same(soloA.values, soloB.values)).toBe(false);
  });

  it('a custom kernel function runs on one thread and says so', async () => {
    const warnings: string[] = [];
    const r = await explain(model, rows, {
      ...base,
      threads: 2,
      minParallelMs: 0,
      kernel: (d: number, w: number) => Math.exp(-(d * d) / (w * w)),
      onWarning: (m) => warnings.push(m),
    });
    expect(r.meta.threads).toBe(1);
    expect(warnings.join('\n')).toMatch(/custom kernel function runs on one thread/);
  });
});
