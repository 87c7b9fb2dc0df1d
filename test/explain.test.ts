import { describe, expect, it } from 'vitest';
import { createDataset } from '../src/data/dataset.js';
import {
  AbortedError,
  BudgetError,
  DataError,
  InvalidOptionError,
  ModelError,
  ShapeError,
  WhyboxError,
} from '../src/errors.js';
import type { ExplainOptions, ExplainProgress } from '../src/explain.js';
import { explain } from '../src/explain.js';
import { efficiencyGap } from '../src/explanation/explanation.js';
import { fromFunction } from '../src/models/function-model.js';
import type { Model } from '../src/models/model.js';
import { bruteForceShapley, interventionalValue, maxAbsDiff } from './helpers/brute-force.js';
import type { PlainModel } from './helpers/games.js';
import { bitIdentical, randomModel, randomRows } from './helpers/games.js';

const rowsOf = (rows: number[][]) => ({ data: Float64Array.from(rows.flat()), nRows: rows.length });

/** A function model that counts the rows it is asked to predict. */
function counting(f: PlainModel, nInputs: number, nOut = 1) {
  const counter = { rows: 0 };
  const model = fromFunction(
    (r: Float64Array) => {
      counter.rows++;
      return f(r);
    },
    { nInputs, outputNames: Array.from({ length: nOut }, (_, o) => `y${o}`) },
  );
  return { model, counter };
}

const small = () => {
  const f: PlainModel = (r) => [r[0] + 2 * r[1] * r[2]];
  const model = fromFunction((r: Float64Array) => f(r), { nInputs: 3 });
  return {
    f,
    model,
    X: rowsOf([[1, 2, 3]]),
    background: rowsOf([
      [0, 0, 0],
      [1, 1, 1],
    ]),
  };
};

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('explain() input errors', () => {
  it("method 'lime' refuses Shapley-only options such as budget", async () => {
    const { model, X, background } = small();
    const e = await rejection(explain(model, X, { background, method: 'lime', budget: 100 }));
    expect(e).toBeInstanceOf(InvalidOptionError);
    expect((e as InvalidOptionError).option).toBe('budget');
    expect(e.message).toMatch(/numSamples/);
  });

  it('an unknown method: InvalidOptionError listing the methods', async () => {
    const { model, X, background } = small();
    const e = await rejection(explain(model, X, { background, method: 'shapley-magic' as never }));
    expect(e).toBeInstanceOf(InvalidOptionError);
    expect(e.message).toMatch(/exact/);
    expect(e.message).toMatch(/kernel/);
    expect(e.message).toMatch(/permutation/);
  });

  it("budget 'auto' with permutation, a budget with exact, a variant with permutation: InvalidOptionError", async () => {
    const { model, X, background } = small();
    for (const options of [
      { method: 'permutation', budget: 'auto' },
      { method: 'exact', budget: 100 },
      { method: 'permutation', variant: 'kernel' },
      { method: 'kernel', variant: 'ridge' },
      { budget: 1 },
      { threads: 0 },
      { concurrency: 0 },
      { batchRows: 0 },
      { seed: 1.5 },
    ] as Partial<ExplainOptions>[]) {
      const e = await rejection(explain(model, X, { background, ...options }));
      expect(e).toBeInstanceOf(InvalidOptionError);
    }
  });

  it('exact with more than 24 players: BudgetError suggesting kernel or permutation', async () => {
    const d = 25;
    const model = fromFunction((r: Float64Array) => r[0] + r[24], { nInputs: d });
    const e = await rejection(
      explain(model, rowsOf([new Array(d).fill(1)]), { background: rowsOf([new Array(d).fill(0)]), method: 'exact' }),
    );
    expect(e).toBeInstanceOf(BudgetError);
    expect(e.message).toMatch(/kernel/);
    expect(e.message).toMatch(/permutation/);
  });

  it('a background with the wrong column count: ShapeError', async () => {
    const { model, X } = small();
    const flat = await rejection(explain(model, X, { background: { data: new Float64Array(4), nRows: 2 } }));
    expect(flat).toBeInstanceOf(ShapeError);
    const ds = await rejection(explain(model, X, { background: createDataset(['a', 'b'], [0, 0, 1, 1]) }));
    expect(ds).toBeInstanceOf(ShapeError);
    expect(ds.message).toMatch(/2 columns/);
    const rows = await rejection(
      explain(model, { data: new Float64Array(4), nRows: 1 }, { background: small().background }),
    );
    expect(rows).toBeInstanceOf(ShapeError);
  });

  it('NaN in the rows or the background: DataError naming the row', async () => {
    const { model, background } = small();
    const e = await rejection(
      explain(
        model,
        rowsOf([
          [1, 2, 3],
          [4, Number.NaN, 6],
        ]),
        { background },
      ),
    );
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toMatch(/NaN/);
    expect(e.message).toMatch(/row 1/);
    const b = await rejection(explain(model, rowsOf([[1, 2, 3]]), { background: rowsOf([[0, Number.NaN, 0]]) }));
    expect(b).toBeInstanceOf(DataError);
  });

  it('a closure model with threads: 2 is a ModelError: closures cannot cross threads, use fromModule', async () => {
    const { model, X, background } = small();
    const e = await rejection(explain(model, X, { background, threads: 2 }));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toMatch(/closure/);
    expect(e.message).toMatch(/thread/);
    expect(e.message).toMatch(/fromModule/);
    // the same with a pool
    const fakePool = {
      threads: 2,
      createEvaluator: () => Promise.reject(new Error('must not be called')),
    };
    const p = await rejection(explain(model, X, { background, pool: fakePool }));
    expect(p).toBeInstanceOf(ModelError);
    expect(p.message).toMatch(/fromModule/);
  });

  it('errors are WhyboxErrors with stable codes', async () => {
    const { model, X, background } = small();
    const e = await rejection(explain(model, X, { background, method: 'nope' as never }));
    expect(e).toBeInstanceOf(WhyboxError);
    expect((e as WhyboxError).code).toBe('INVALID_OPTION');
    expect((e as WhyboxError).userError).toBe(true);
  });
});

describe('explain() callbacks and cancellation', () => {
  it('onWarning is called for a background above 200 rows, not at 200', async () => {
    const { model, X } = small();
    const warnings: string[] = [];
    const bg = (n: number) => rowsOf(randomRows(n, 3, 1, 3));
    await explain(model, X, { background: bg(200), budget: 10, seed: 1, onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([]);
    await explain(model, X, { background: bg(201), budget: 10, seed: 1, onWarning: (m) => warnings.push(m) });
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toMatch(/201 rows/);
    expect(warnings[0]).toMatch(/summarize/);
    // summarising avoids it and shrinks the background
    const e = await explain(model, X, {
      background: bg(300),
      summarize: { method: 'kmeans', rows: 20 },
      budget: 10,
      seed: 1,
      onWarning: (m) => warnings.push(m),
    });
    expect(warnings.length).toBe(1);
    expect(e.meta.background.rows).toBeLessThanOrEqual(20);
  });

  it('onProgress reports every row, ending with rowsDone = rows', async () => {
    const n = 6;
    const { model } = counting(randomModel(n, 1, 1), n);
    const events: ExplainProgress[] = [];
    await explain(model, rowsOf(randomRows(3, n, 2)), {
      background: rowsOf(randomRows(4, n, 3)),
      budget: 40,
      seed: 1,
      onProgress: (p) => events.push(p),
    });
    expect(events.length).toBeGreaterThanOrEqual(3);
    for (const p of events) {
      expect(p.rows).toBe(3);
      expect(p.done).toBeLessThanOrEqual(p.total);
    }
    const rowsDone = events.map((p) => p.rowsDone);
    expect(rowsDone).toEqual([...rowsDone].sort((a, b) => a - b));
    expect(rowsDone.at(-1)).toBe(3);
  });

  it('onProgress within a row never goes back, also when the parts of a row run as one task', async () => {
    const n = 6;
    const { model } = counting(randomModel(n, 1, 1), n);
    const events: ExplainProgress[] = [];
    // budget 3000 × 24 background rows: 4 parts a row; on one thread rows 0 and 1 are one task each
    await explain(model, rowsOf(randomRows(3, n, 2)), {
      background: rowsOf(randomRows(24, n, 3)),
      budget: 3000,
      seed: 1,
      threads: 1,
      onProgress: (p) => events.push(p),
    });
    let last = { rowsDone: 0, at: 0 };
    let within = 0;
    const highest = new Map<number, number>();
    for (const p of events) {
      const at = p.total > 0 ? p.done / p.total : 0;
      if (at < 1) highest.set(p.rowsDone, Math.max(highest.get(p.rowsDone) ?? 0, at));
      if (p.rowsDone === last.rowsDone) {
        expect(at).toBeGreaterThanOrEqual(last.at - 1e-12);
        within++;
      }
      // a row's end is reported as done = total; the next row starts again from 0
      last = { rowsDone: p.rowsDone, at: at >= 1 ? 0 : at };
    }
    expect(within).toBeGreaterThan(3);
    // and it advances through the row's parts (each part alone reports about a quarter)
    for (const r of [0, 1]) expect(highest.get(r) ?? 0).toBeGreaterThan(0.5);
    expect(events.at(-1)?.rowsDone).toBe(3);
  });

  it('an aborted signal rejects with AbortedError (before the start and in the middle)', async () => {
    const { model, X, background } = small();
    await expect(explain(model, X, { background, signal: AbortSignal.abort() })).rejects.toThrow(AbortedError);
    const n = 6;
    const ac = new AbortController();
    let calls = 0;
    const m = fromFunction(
      (r: Float64Array) => {
        if (++calls === 50) ac.abort();
        return r[0] * r[1];
      },
      { nInputs: n },
    );
    const e = await rejection(
      explain(m, rowsOf(randomRows(5, n, 1)), {
        background: rowsOf(randomRows(5, n, 2)),
        budget: 200,
        seed: 1,
        signal: ac.signal,
      }),
    );
    expect(e).toBeInstanceOf(AbortedError);
    expect(calls).toBeLessThan(5 * 200 * 5); // it stopped early
  });
});

describe('explain() results', () => {
  const n = 6;
  const f = randomModel(n, 2, 11);
  const bg = randomRows(5, n, 12, 3);
  const xs = randomRows(3, n, 13, 3);
  const weights = [1, 2, 1, 3, 1];
  const groups = Array.from({ length: n }, (_, c) => [c]);
  const truthOf = (x: number[]) =>
    bruteForceShapley((m) => interventionalValue(f, x, bg, weights, groups, m), n).flat();
  const model = fromFunction((r: Float64Array) => f(r), { nInputs: n, outputNames: ['a', 'b'] });
  const base = { background: rowsOf(bg), backgroundWeights: weights, seed: 3 };

  it('exact and full-budget kernel values equal brute force; predictions and base values are f(x), Σ w f(b)', async () => {
    for (const options of [
      { method: 'exact' },
      { method: 'kernel', budget: 64 },
      { method: 'kernel', variant: 'leverage', budget: 64 },
    ] as Partial<ExplainOptions>[]) {
      const e = await explain(model, rowsOf(xs), { ...base, ...options });
      expect(e.nRows).toBe(3);
      expect(e.players).toEqual(['x0', 'x1', 'x2', 'x3', 'x4', 'x5']);
      expect(e.outputs).toEqual(['a', 'b']);
      xs.forEach((x, r) => {
        expect(maxAbsDiff(e.values.subarray(r * n * 2, (r + 1) * n * 2), truthOf(x))).toBeLessThan(1e-9);
        expect(maxAbsDiff(e.predictions.subarray(r * 2, r * 2 + 2), f(x))).toBeLessThan(1e-12);
        expect(efficiencyGap(e, r, 0)).toBeLessThan(1e-9);
        expect(efficiencyGap(e, r, 1)).toBeLessThan(1e-9);
      });
      const wsum = 8;
      const b0 = [0, 1].map((o) => bg.reduce((a, b, k) => a + (weights[k] / wsum) * f(b)[o], 0));
      expect(maxAbsDiff(e.baseValues, b0)).toBeLessThan(1e-12);
      expect(e.exact).toEqual([true, true, true]);
      expect(e.stderr).toBeDefined();
      expect(Math.max(...(e.stderr as Float64Array))).toBe(0);
    }
  });

  it('same seed ⇒ bit-identical values (every kernel variant, permutation); another seed ⇒ different', async () => {
    const d = 9; // 512 coalitions: budget 100 samples
    const g = randomModel(d, 1, 21);
    const m = fromFunction((r: Float64Array) => g(r), { nInputs: d });
    const X = rowsOf(randomRows(2, d, 22));
    const B = rowsOf(randomRows(4, d, 23));
    const cases: Partial<ExplainOptions>[] = [
      { method: 'permutation' },
      { method: 'kernel' },
      { method: 'kernel', variant: 'leverage' },
      { method: 'kernel', variant: 'kernel' },
      { method: 'kernel', variant: 'msr' },
      { method: 'kernel', variant: 'shap' },
    ];
    for (const c of cases) {
      const a = await explain(m, X, { background: B, budget: 100, seed: 7, ...c });
      const b = await explain(m, X, { background: B, budget: 100, seed: 7, ...c });
      const other = await explain(m, X, { background: B, budget: 100, seed: 8, ...c });
      expect(bitIdentical(a.values, b.values)).toBe(true);
      expect(a.meta.seed).toBe(7);
      expect(maxAbsDiff(a.values, other.values)).toBeGreaterThan(1e-6);
      // rows explained concurrently get the same values (per-row streams)
      const conc = await explain(m, X, { background: B, budget: 100, seed: 7, concurrency: 2, ...c });
      expect(bitIdentical(a.values, conc.values)).toBe(true);
    }
    // without a seed, meta.seed reproduces the run
    const free = await explain(m, X, { background: B, budget: 100 });
    const replay = await explain(m, X, { background: B, budget: 100, seed: free.meta.seed });
    expect(bitIdentical(free.values, replay.values)).toBe(true);
  });

  it('a row explained alone gets the same values as within a batch', async () => {
    const d = 9;
    const g = randomModel(d, 1, 31);
    const m = fromFunction((r: Float64Array) => g(r), { nInputs: d });
    const rows = randomRows(3, d, 32);
    const B = rowsOf(randomRows(4, d, 33));
    const all = await explain(m, rowsOf(rows), { background: B, budget: 100, seed: 4 });
    const first = await explain(m, rowsOf(rows.slice(0, 1)), { background: B, budget: 100, seed: 4 });
    expect(bitIdentical(all.values.subarray(0, d), first.values)).toBe(true);
  });
});

describe('explain() budget accounting', () => {
  const n = 8;
  const f = randomModel(n, 1, 41);
  const nBg = 6;
  const bgRows = randomRows(nBg, n, 42, 3); // discrete: many repeated masked rows
  const xs = randomRows(3, n, 43, 3);
  const budget = 100;

  const cases: Partial<ExplainOptions>[] = [
    { method: 'kernel' },
    { method: 'kernel', variant: 'leverage' },
    { method: 'kernel', variant: 'shap' },
    { method: 'permutation' },
    { method: 'exact' },
  ];

  for (const c of cases) {
    const label = `${c.method}${c.variant ? `/${c.variant}` : ''}`;
    it(`${label}: modelRows = rows the model saw; dedupe ≤ naive with identical values`, async () => {
      const runs = [];
      for (const dedupe of [true, false]) {
        const { model, counter } = counting(f, n);
        const e = await explain(model, rowsOf(xs), {
          background: rowsOf(bgRows),
          budget: c.method === 'exact' ? undefined : budget,
          seed: 5,
          dedupe,
          ...c,
        });
        expect(e.modelRows).toBe(counter.rows);
        const perRow = c.method === 'exact' ? 2 ** n : budget;
        expect(e.evaluations).toBeLessThanOrEqual(xs.length * perRow);
        // naive: every coalition value costs one row per background row, plus x once per explained row
        expect(e.modelRows).toBeLessThanOrEqual(nBg + xs.length * (1 + perRow * nBg));
        runs.push(e);
      }
      const [on, off] = runs;
      expect(on.modelRows).toBeLessThanOrEqual(off.modelRows);
      expect(maxAbsDiff(on.values, off.values)).toBeLessThan(1e-12);
      if (c.variant === 'leverage' || c.variant === 'shap') {
        // naive masking: every coalition value costs one row per background row, plus x once per row
        expect(off.modelRows).toBe(nBg + xs.length + off.evaluations * nBg);
        expect(on.modelRows).toBeLessThan(off.modelRows);
      }
      if (c.method === 'permutation') {
        // decomposed per background row (the default with a background): walks over each row's
        // differing players, at most (budget − 2) · |background| rows per explained row besides x
        expect(on.modelRows).toBeLessThanOrEqual(nBg + xs.length * (1 + (budget - 2) * nBg));
      }
    });
  }
});

describe('explain() with groups', () => {
  // columns: age, job=a, job=b, job=c (one-hot), income, debt
  const columns = ['age', 'job=a', 'job=b', 'job=c', 'income', 'debt'];
  const f: PlainModel = (r) => [
    0.3 * r[0] +
      r[1] -
      0.5 * r[2] +
      0.2 * r[3] * r[4] +
      Math.tanh(r[4] - r[5]) +
      0.1 * r[0] * r[2] +
      1.5 * r[1] * r[3] * r[4],
  ];
  const oneHot = (k: number) => [0, 1, 2].map((j) => (j === k ? 1 : 0));
  const bg = [
    [30, ...oneHot(0), 2, 1],
    [45, ...oneHot(1), 3, 0.5],
    [22, ...oneHot(2), 1, 2],
    [60, ...oneHot(1), 4, 3],
    [35, ...oneHot(2), 2.5, 0],
  ];
  const x = [40, ...oneHot(2), 3.5, 1.5];
  const model = fromFunction((r: Float64Array) => f(r), { nInputs: 6, inputNames: columns });
  const data = createDataset(columns, x);
  const background = createDataset(columns, bg.flat());
  const groupCols = [[0], [1, 2, 3], [4], [5]];
  const truth = bruteForceShapley((m) => interventionalValue(f, x, bg, undefined, groupCols, m), 4).flat();

  it('a one-hot group’s value is the Shapley value of the grouped game (exact, full-budget kernel)', async () => {
    for (const options of [{ method: 'exact' }, { method: 'kernel', budget: 16 }] as Partial<ExplainOptions>[]) {
      const e = await explain(model, data, {
        background,
        groups: { job: ['job=a', 'job=b', 'job=c'] },
        seed: 1,
        ...options,
      });
      expect(e.players).toEqual(['age', 'job', 'income', 'debt']);
      expect(e.playerColumns).toEqual(groupCols);
      expect(maxAbsDiff(e.values, truth)).toBeLessThan(1e-9);
    }
    // grouping matters: masking one-hot columns separately builds invalid rows (job=a and job=c both 1),
    // which the r1·r3·r4 term sees, so the group’s value is not the sum of its columns’ separate values
    const single = await explain(model, data, { background, method: 'exact' });
    const sumOfColumns = single.values[1] + single.values[2] + single.values[3];
    expect(Math.abs(sumOfColumns - truth[1])).toBeGreaterThan(1e-6);
  });

  it('permutation on the grouped game converges to the grouped truth', async () => {
    const e = await explain(model, data, {
      background,
      groups: { job: ['job=a', 'job=b', 'job=c'] },
      method: 'permutation',
      budget: 16,
      seed: 2,
    });
    // 4 players: a budget of 16 buys every coalition, so many walks: the values are close
    expect(maxAbsDiff(e.values, truth)).toBeLessThan(0.15);
    expect(efficiencyGap(e, 0)).toBeLessThan(1e-9);
  });
});

describe("explain() budget: 'auto'", () => {
  it('records converged per row', async () => {
    const n = 10;
    const model: Model = fromFunction(
      (r: Float64Array) => r.reduce((a, v, i) => a + (i + 1) * v, 0) + r[0] * r[1] * r[2],
      {
        nInputs: n,
      },
    );
    const e = await explain(model, rowsOf(randomRows(2, n, 1)), {
      background: rowsOf(randomRows(4, n, 2)),
      budget: 'auto',
      tolerance: 0.05,
      seed: 1,
    });
    expect(e.converged).toEqual([true, true]);
    expect(e.meta.budget).toBe('auto');
    const capped = await explain(model, rowsOf(randomRows(2, n, 1)), {
      background: rowsOf(randomRows(4, n, 2)),
      budget: 'auto',
      tolerance: 1e-9,
      maxBudget: 40,
      seed: 1,
    });
    expect(capped.converged).toEqual([false, false]);
  });
});

describe('explain: review regressions', () => {
  it('a hand-written Model returning NaN is a ModelError, not NaN values', async () => {
    const model: Model = {
      nInputs: 3,
      outputNames: ['y'],
      inputType: 'float64',
      async predict(rows, nRows) {
        return Float64Array.from({ length: nRows }, (_, r) => (rows[r * 3] > 0.5 ? Number.NaN : rows[r * 3]));
      },
    };
    const { X, background } = small();
    const err = await rejection(explain(model, X, { background, method: 'exact', threads: 1 }));
    expect(err).toBeInstanceOf(ModelError);
    expect(err.message).toMatch(/NaN/);
  });

  it('after the first row fails, the other rows stop: no model calls once explain has rejected', async () => {
    let calls = 0;
    const model = fromFunction(
      (r: Float64Array) => {
        calls++;
        if (r[0] === 7) throw new Error('row 7 is poison');
        return r[0] + r[1];
      },
      { nInputs: 2 },
    );
    const rows = rowsOf(Array.from({ length: 12 }, (_, i) => [i, i / 2]));
    const background = rowsOf([
      [0, 0],
      [1, 1],
    ]);
    const err = await rejection(explain(model, rows, { background, concurrency: 4, threads: 1, budget: 200 }));
    expect(err).toBeInstanceOf(ModelError);
    expect(err.message).toMatch(/poison/);
    const after = calls;
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(after);
  });

  it("topK with budget 'auto' is refused (sparse mode has no stopping rule)", async () => {
    const { model, X, background } = small();
    const err = await rejection(
      explain(model, X, { background, budget: 'auto', topK: 1, variant: 'leverage', threads: 1 }),
    );
    expect(err).toBeInstanceOf(InvalidOptionError);
  });

  it("decomposed with budget 'auto': evaluations match the model rows spent, and a too small maxBudget is named", async () => {
    const n = 8;
    const f = randomModel(n, 1, 3);
    const model = fromFunction((r: Float64Array) => f(r), { nInputs: n });
    const X = rowsOf(randomRows(1, n, 4));
    const background = rowsOf(randomRows(6, n, 5));
    const e = await explain(model, X, {
      background,
      budget: 'auto',
      maxBudget: 600,
      tolerance: 1e-9,
      seed: 1,
      threads: 1,
    });
    expect(e.variant).toBe('decomposed');
    // model rows = background + f(x) + the masked rows; evaluations = masked rows / |background| + 2
    const masked = e.modelRows - 6 - 1;
    expect(e.evaluations).toBe(Math.ceil(masked / 6) + 2);
    const err = await rejection(explain(model, X, { background, budget: 'auto', maxBudget: 10, threads: 1 }));
    expect(err).toBeInstanceOf(BudgetError);
    expect(err.message).toMatch(/maxBudget 10/);
  });
});
