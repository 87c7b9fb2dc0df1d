/**
 * The contract every registered method keeps, run over the registry (no method listed by
 * hand): efficiency where the method claims it, seed determinism, `batchRows` invariance,
 * 1/2/4-thread invariance for methods that use the worker pool (worker threads run the same
 * TypeScript as this test), and the JSON round trip of its explanation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explain } from '../../src/explain.js';
import { efficiencyGap, explanationFromJSON, explanationToJSON } from '../../src/explanation/explanation.js';
import { METHODS } from '../../src/methods/registry.js';
import { fromModule } from '../../src/models/function-model.js';
import type { Model } from '../../src/models/model.js';
import type { TempDir } from '../helpers/tmp.js';
import { makeTempDir } from '../helpers/tmp.js';

const MODULE = `export function f(row) {
  return [Math.tanh(row[0] - 2 * row[1] * row[2]) + 0.5 * row[3] * row[4] + row[2], row[0] * row[4] - row[1]];
}`;
const D = 5;
/** Deterministic rows from a small LCG (an independent source of numbers for the cases). */
function rowsOf(n: number, seed: number) {
  let s = seed;
  const data = new Float64Array(n * D);
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    data[i] = (s / 2147483648) * 4 - 2;
  }
  return { data, nRows: n, columns: ['a', 'b', 'c', 'd', 'e'] };
}
const rows = rowsOf(3, 1);
const background = rowsOf(6, 2);
const groups = { bc: ['b', 'c'] };

let tmp: TempDir;
let model: Model;
beforeAll(async () => {
  tmp = await makeTempDir('whybox-contract-');
  model = await fromModule(await tmp.write('f.mjs', MODULE), 'f', { nInputs: D, outputNames: ['y0', 'y1'] });
});
afterAll(() => tmp.remove());

const bitIdentical = (a: Float64Array, b: Float64Array) =>
  a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

// methods that need a tree-ensemble model are checked against brute force in their own tests
const tabular = METHODS.filter((m) => m.inputs.includes('tabular') && !m.requires);

describe.each(tabular.map((m) => [m.name, m]))('contract of %s', (_name, method) => {
  const takesBudget = method.options.some((o) => o.name === 'budget');
  const parallel = method.shared.includes('parallel');
  // a budget below the 2^4 coalitions, so the sampling methods really sample
  const base = () => ({
    background,
    ...(method.singleColumnPlayers ? {} : { groups }),
    method: method.name,
    ...(takesBudget ? { budget: 14 } : {}),
    ...(method.name === 'lime' ? { numSamples: 300 } : {}),
    ...(parallel ? { threads: 1 } : {}),
  });

  it('efficiency where claimed; values for every row, player and output', async () => {
    const e = await explain(model, rows, { ...base(), seed: 3 });
    expect(e.values).toHaveLength(3 * (method.singleColumnPlayers ? 5 : 4) * 2);
    expect(e.values.every(Number.isFinite)).toBe(true);
    if (method.claims({ budget: 14 }).includes('efficiency'))
      for (let r = 0; r < 3; r++) for (let o = 0; o < 2; o++) expect(efficiencyGap(e, r, o)).toBeLessThan(1e-9);
  });

  it('the same seed gives the same bits', async () => {
    const a = await explain(model, rows, { ...base(), seed: 11 });
    const b = await explain(model, rows, { ...base(), seed: 11 });
    expect(bitIdentical(a.values, b.values)).toBe(true);
  });

  it('batchRows does not change a bit', async () => {
    const a = await explain(model, rows, { ...base(), seed: 5 });
    const b = await explain(model, rows, { ...base(), seed: 5, batchRows: 3 });
    expect(bitIdentical(a.values, b.values)).toBe(true);
  });

  it.runIf(parallel)('1, 2 and 4 threads give the same bits', async () => {
    const one = await explain(model, rows, { ...base(), seed: 7, threads: 1 });
    for (const threads of [2, 4]) {
      // minParallelMs 0: workers even for this small job (the cost model would run it serially)
      const many = await explain(model, rows, { ...base(), seed: 7, threads, minParallelMs: 0 });
      expect(many.meta.threads).toBe(threads);
      expect(bitIdentical(one.values, many.values)).toBe(true);
      expect(bitIdentical(one.predictions, many.predictions)).toBe(true);
    }
  });

  it('JSON round trip: explanationToJSON(explanationFromJSON(j)) equals j', async () => {
    const e = await explain(model, rows, { ...base(), seed: 2 });
    const j = JSON.parse(JSON.stringify(explanationToJSON(e)));
    expect(explanationToJSON(explanationFromJSON(j))).toEqual(j);
    expect(j.meta.method).toBe(method.name);
    expect(j.rows[0].data).toEqual(Array.from(rows.data.subarray(0, D)));
  });
});
