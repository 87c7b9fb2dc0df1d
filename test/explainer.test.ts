/**
 * The Explainer: created once, explains concurrently with the results of explain(), matches
 * brute-force Shapley, predicts, selects outputs, and close() releases everything.
 * Workers load dist/: run `npm run build` first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError, DataError, InvalidOptionError, ShapeError, WorkerError } from '../src/errors.js';
import { explain } from '../src/explain.js';
import type { Explainer } from '../src/explainer.js';
import { createExplainer } from '../src/explainer.js';
import { explanationToJSON } from '../src/explanation/explanation.js';
import { fromFunction, fromModule } from '../src/models/function-model.js';
import type { OnnxModel } from '../src/models/onnx-model.js';
import { loadOnnx } from '../src/models/onnx-model.js';
import { bruteForceShapley, interventionalValue, maxAbsDiff } from './helpers/brute-force.js';
import { fixturePath } from './helpers/fixtures.js';
import { bitIdentical, randomRows } from './helpers/games.js';
import type { TempDir } from './helpers/tmp.js';
import { makeTempDir } from './helpers/tmp.js';

const D = 61;
const rowsOf = (rows: number[][]) => ({ data: Float64Array.from(rows.flat()), nRows: rows.length });
const background = rowsOf(randomRows(12, D, 201));
const xs = randomRows(6, D, 202);

const MODULE = `export function smooth(row) {
  return Math.tanh(row[0] - 2 * row[1] * row[2]) + 0.5 * row[3] * row[4] + row[2];
}`;
const smooth = (r: ArrayLike<number>) => [Math.tanh(r[0] - 2 * r[1] * r[2]) + 0.5 * r[3] * r[4] + r[2]];

let onnx: OnnxModel;
let ex: Explainer;
let tmp: TempDir;

beforeAll(async () => {
  tmp = await makeTempDir('whybox-explainer-');
  onnx = await loadOnnx(fixturePath('mlp'));
  ex = await createExplainer({ modelPath: fixturePath('mlp'), background, threads: 2, output: 1 });
});
afterAll(async () => {
  await ex?.close();
  await onnx?.close();
  await tmp?.remove();
});

describe('Explainer', () => {
  it('concurrent explain() calls give the results of explain() run one at a time', async () => {
    const jobs = xs.map((x, i) => ({
      rows: [x],
      options: { seed: 100 + i, budget: 300, method: (i % 3 === 2 ? 'permutation' : 'kernel') as 'kernel' },
    }));
    const concurrent = await Promise.all(jobs.map((j) => ex.explain(j.rows, j.options)));
    const view = { ...onnx, outputNames: [onnx.outputNames[1]] };
    expect(ex.outputs).toEqual(['probabilities[1]']);
    for (const [i, j] of jobs.entries()) {
      const alone = await explain(
        { ...view, predict: async (r, n, s) => pick(await onnx.predict(r, n, s), 2, 1) },
        rowsOf(j.rows),
        { ...j.options, background, threads: 1 },
      );
      expect(bitIdentical(concurrent[i].values, alone.values)).toBe(true);
      expect(bitIdentical(concurrent[i].predictions, alone.predictions)).toBe(true);
      const a = explanationToJSON(concurrent[i]);
      const b = explanationToJSON(alone);
      expect({ ...a, seconds: 0, threads: 0, meta: { ...a.meta, threads: 0 } }).toEqual({
        ...b,
        seconds: 0,
        threads: 0,
        meta: { ...b.meta, threads: 0 },
      });
      expect(a.threads).toBe(2);
    }
  });

  it('exact values of a module model in the pool equal brute-force Shapley', async () => {
    const path = await tmp.write('smooth.mjs', MODULE);
    const bg = randomRows(5, 5, 9);
    const e = await createExplainer({
      model: await fromModule(path, 'smooth', { nInputs: 5 }),
      background: rowsOf(bg),
      threads: 2,
    });
    try {
      const rows = randomRows(3, 5, 10);
      const [a, b] = await Promise.all([
        e.explain(rows, { method: 'exact' }),
        e.explain(rows.slice(1), { method: 'exact' }),
      ]);
      const cols = [[0], [1], [2], [3], [4]];
      rows.forEach((x, r) => {
        const truth = bruteForceShapley((m) => interventionalValue(smooth, x, bg, undefined, cols, m), 5).flat();
        expect(maxAbsDiff(a.values.subarray(r * 5, r * 5 + 5), truth)).toBeLessThan(1e-9);
        if (r > 0) expect(maxAbsDiff(b.values.subarray((r - 1) * 5, r * 5), truth)).toBeLessThan(1e-9);
      });
    } finally {
      await e.close();
    }
  });

  it('predict() gives the model outputs; output selects a column', async () => {
    const p = await ex.predict(xs.slice(0, 3));
    const all = await onnx.predict(Float32Array.from(xs.slice(0, 3).flat()), 3);
    expect(p.outputs).toEqual(['probabilities[1]']);
    expect(Array.from(p.predictions)).toEqual(Array.from(pick(all, 2, 1)));
    const both = await ex.predict(xs.slice(0, 3), { output: 'probabilities[0]' });
    expect(Array.from(both.predictions)).toEqual(Array.from(pick(all, 2, 0)));
  });

  it('groups become players; bad rows are typed errors naming the row', async () => {
    const cols = Array.from({ length: D }, (_, c) => `c${c}`);
    const e = await createExplainer({
      model: fromFunction((r: Float64Array) => r[0] + 2 * r[1] + r[2], { nInputs: D }),
      background: rowsOf(randomRows(3, D, 3)),
      columns: cols,
      groups: { first: ['c0', 'c1'] },
    });
    try {
      expect(e.players.names[0]).toBe('first');
      expect(e.players.names.length).toBe(D - 1);
      expect(e.threads).toBe(1);
      await expect(e.explain([[1, 2]])).rejects.toThrow(ShapeError);
      await expect(e.explain([xs[0].map((v, i) => (i === 4 ? Number.NaN : v))])).rejects.toThrow(
        /rows\[0\]\[4\] \(column "c4"\) must be a finite number; got NaN/,
      );
      await expect(e.explain([])).rejects.toThrow(DataError);
      const c = new AbortController();
      c.abort();
      await expect(e.explain([xs[0]], { signal: c.signal })).rejects.toThrow(AbortedError);
    } finally {
      await e.close();
    }
  });

  it('needs a background to explain, not to predict; a closure model cannot have threads', async () => {
    const e = await createExplainer({ model: fromFunction((r: Float64Array) => r[0], { nInputs: 2 }) });
    await expect(e.explain([[1, 2]])).rejects.toThrow(/background/);
    expect(Array.from((await e.predict([[3, 4]])).predictions)).toEqual([3]);
    await e.close();
    await expect(
      createExplainer({
        model: fromFunction((r: Float64Array) => r[0], { nInputs: 2 }),
        threads: 2,
        background: rowsOf([[0, 0]]),
      }),
    ).rejects.toThrow(InvalidOptionError);
    await expect(createExplainer({ modelPath: '/nonexistent/model.onnx' })).rejects.toThrow(/model\.onnx/);
  });

  it('defaults apply to the methods they fit (a default budget and variant do not block exact)', async () => {
    const bg = randomRows(4, 5, 11);
    const e = await createExplainer({
      model: fromFunction(smooth, { nInputs: 5 }),
      background: rowsOf(bg),
      defaults: { method: 'kernel', budget: 40, variant: 'leverage' },
    });
    try {
      const x = randomRows(1, 5, 12);
      const k = await e.explain(x, { seed: 1 });
      expect(k.method).toBe('kernel');
      expect(k.variant).toBe('leverage');
      expect(k.meta.budget).toBe(40);
      const ex = await e.explain(x, { method: 'exact' });
      const truth = bruteForceShapley(
        (m) => interventionalValue(smooth, x[0], bg, undefined, [[0], [1], [2], [3], [4]], m),
        5,
      ).flat();
      expect(maxAbsDiff(ex.values, truth)).toBeLessThan(1e-9);
      expect((await e.explain(x, { method: 'permutation', seed: 2 })).meta.budget).toBe(40);
    } finally {
      await e.close();
    }
  });

  it('close() waits for calls in flight, then refuses new ones', async () => {
    let calls = 0;
    const e = await createExplainer({
      model: fromFunction(
        async (rows: Float64Array, n: number) => {
          calls++;
          await new Promise((r) => setTimeout(r, 1));
          return Array.from({ length: n }, (_, i) => rows[i * 3] + rows[i * 3 + 1] * rows[i * 3 + 2]);
        },
        { nInputs: 3, batched: true },
      ),
      background: rowsOf([
        [0, 0, 0],
        [1, 1, 1],
      ]),
      batchRows: 4,
    });
    const running = e.explain([[1, 2, 3]], { method: 'exact' });
    const closing = e.close();
    const result = await running;
    await closing;
    expect(result.nRows).toBe(1);
    expect(calls).toBeGreaterThan(0);
    expect(e.isClosed).toBe(true);
    await expect(e.explain([[1, 2, 3]])).rejects.toThrow(WorkerError);
  });
});

function pick(all: Float64Array, k: number, o: number): Float64Array {
  return Float64Array.from({ length: all.length / k }, (_, r) => all[r * k + o]);
}
