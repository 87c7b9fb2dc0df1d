/**
 * Faithfulness metrics against independent truths: on an additive model the Shapley order
 * is the best possible insertion/deletion order (checked against every order, built with
 * the reference value function), infidelity of exact values is 0, random orders average to
 * the diagonal; on the ONNX fixtures exact Shapley beats random orders.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCsv } from '../../src/data/csv.js';
import { selectRows } from '../../src/data/dataset.js';
import { playersFromIndices } from '../../src/data/players.js';
import { faithfulnessCurveSvg } from '../../src/explanation/plots/faithfulness-curve.js';
import { fromFunction } from '../../src/models/function-model.js';
import { loadOnnx } from '../../src/models/onnx-model.js';
import { curveAuc, evaluateFaithfulness, interventionalValue, shapleyMethod } from '../../src/testing/index.js';
import { fixtureExpected, fixturePath } from '../helpers/fixtures.js';
import { mulberry32, randomRows } from '../helpers/games.js';

const DEMO = new URL('../../datasets/credit-demo/', import.meta.url);

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  return permutations(n - 1).flatMap((p) =>
    Array.from({ length: n }, (_, k) => [...p.slice(0, k), n - 1, ...p.slice(k)]),
  );
}

describe('deletion / insertion curves', () => {
  it('curveAuc is the trapezoid area over k/n', () => {
    expect(curveAuc([1, 0])).toBe(0.5);
    expect(curveAuc([1, 1, 0])).toBe(0.75);
    expect(curveAuc([0, 0.5, 1, 1])).toBeCloseTo((0.25 + 0.75 + 1) / 3, 15);
  });

  it('additive model: the exact Shapley order is optimal among all 120 orders, infidelity is 0, random orders average to 0.5', async () => {
    const n = 5;
    const rnd = mulberry32(5);
    const w = Array.from({ length: n }, () => rnd() * 4 - 2);
    const g = (r: ArrayLike<number>) => w.reduce((a, wi, i) => a + wi * r[i] + 0.3 * Math.sin(3 * r[i]), 0);
    const x = randomRows(1, n, 6)[0];
    const bg = randomRows(6, n, 7);
    const model = fromFunction((r: Float64Array) => g(r), { nInputs: n });
    const q = await evaluateFaithfulness(
      model,
      { data: Float64Array.from(x), nRows: 1 },
      {
        background: { data: Float64Array.from(bg.flat()), nRows: bg.length },
        method: shapleyMethod('exact'),
        randomOrders: 400,
      },
    );
    // reference: every order's curves from the textbook value function
    const groups = Array.from({ length: n }, (_, i) => [i]);
    const v = (mask: number) => interventionalValue((r) => [g(r)], x, bg, undefined, groups, mask)[0];
    const v0 = v(0);
    const delta = v(2 ** n - 1) - v0;
    const aucs = permutations(n).map((order) => {
      let ins = 0;
      let del = (2 ** n - 1) as number;
      const insC = [0];
      const delC = [1];
      for (const p of order) {
        ins |= 1 << p;
        del &= ~(1 << p);
        insC.push((v(ins) - v0) / delta);
        delC.push((v(del) - v0) / delta);
      }
      return { ins: curveAuc(insC), del: curveAuc(delC) };
    });
    const bestIns = Math.max(...aucs.map((a) => a.ins));
    const bestDel = Math.min(...aucs.map((a) => a.del));
    expect(q.insertionAuc).toBeCloseTo(bestIns, 10);
    expect(q.deletionAuc).toBeCloseTo(bestDel, 10);
    expect(q.infidelity).toBeLessThan(1e-20);
    // E over orders of the additive curve is the diagonal: AUC 1/2
    const meanIns = aucs.reduce((a, b) => a + b.ins, 0) / aucs.length;
    expect(meanIns).toBeCloseTo(0.5, 10);
    expect(Math.abs((q.randomInsertionAuc as number) - 0.5)).toBeLessThan(0.05);
    expect(Math.abs((q.randomDeletionAuc as number) - 0.5)).toBeLessThan(0.05);
    expect(q.curves.deletion[0]).toBeCloseTo(1, 12);
    expect(q.curves.insertion[n]).toBeCloseTo(1, 12);
  });

  it('infidelity is positive for an interaction the values cannot add up, and measured on every row', async () => {
    const model = fromFunction((r: Float64Array) => 3 * r[0] * r[1] + r[2], { nInputs: 3 });
    const q = await evaluateFaithfulness(
      model,
      { data: Float64Array.from([1, 1, 1, 2, -1, 0]), nRows: 2 },
      { background: { data: Float64Array.from([0, 0, 0, -1, 1, 1]), nRows: 2 }, method: shapleyMethod('exact') },
    );
    expect(q.rows).toBe(2);
    expect(q.perRow).toHaveLength(2);
    expect(q.infidelity).toBeGreaterThan(0.01);
  });
});

describe('exact Shapley beats a random order on the fixtures', () => {
  const cases: { name: 'linear' | 'logistic' | 'mlp'; groups: number }[] = [
    { name: 'linear', groups: 10 },
    { name: 'logistic', groups: 5 },
    { name: 'mlp', groups: 8 },
  ];
  for (const { name, groups: g } of cases)
    it(`${name}.onnx (${g} players)`, async () => {
      const model = await loadOnnx(fixturePath(name));
      try {
        const exp = fixtureExpected(name);
        const d = exp.nInputs;
        const rows = { data: Float64Array.from(exp.rows.flat()), nRows: exp.rows.length };
        const per = Math.ceil(d / g);
        const players = playersFromIndices(
          d,
          Array.from({ length: g }, (_, p) =>
            Array.from({ length: Math.min(per, d - p * per) }, (_, k) => p * per + k),
          ).filter((c) => c.length > 0),
        );
        const q = await evaluateFaithfulness(model, rows, {
          background: rows,
          players,
          method: shapleyMethod('exact'),
          randomOrders: 10,
          perturbations: 10,
        });
        expect(q.deletionAuc as number).toBeLessThan((q.randomDeletionAuc as number) - 0.05);
        expect(q.insertionAuc as number).toBeGreaterThan((q.randomInsertionAuc as number) + 0.05);
      } finally {
        await model.close();
      }
    });

  it('datasets/credit-demo (20 grouped players; exact, and kernel SHAP)', async () => {
    const model = await loadOnnx(new URL('model.onnx', DEMO).pathname, { select: [1] });
    try {
      const train = await loadCsv(new URL('train.csv', DEMO).pathname);
      const apps = await loadCsv(new URL('applicants.csv', DEMO).pathname);
      const groups = JSON.parse(readFileSync(new URL('groups.json', DEMO), 'utf8'));
      const bg = selectRows(
        train,
        Array.from({ length: 10 }, (_, i) => i * 100),
      );
      const q = await evaluateFaithfulness(model, apps, {
        background: bg,
        groups,
        method: shapleyMethod('exact'),
        perturbations: 10,
      });
      const k = await evaluateFaithfulness(model, apps, {
        background: bg,
        groups,
        method: shapleyMethod('kernel'),
        budget: 600,
        perturbations: 10,
      });
      // the same random orders (same seed) for both; kernel's order is close to exact's
      expect(k.randomDeletionAuc).toBe(q.randomDeletionAuc);
      expect(k.deletionAuc as number).toBeLessThan((k.randomDeletionAuc as number) - 0.2);
      expect(Math.abs((k.deletionAuc as number) - (q.deletionAuc as number))).toBeLessThan(0.05);
      expect(q.rows).toBe(5);
      expect(q.players).toHaveLength(20);
      expect(q.deletionAuc as number).toBeLessThan((q.randomDeletionAuc as number) - 0.2);
      expect(q.insertionAuc as number).toBeGreaterThan((q.randomInsertionAuc as number) + 0.2);
      const svg = faithfulnessCurveSvg(q.curves);
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg.match(/<polyline/g)).toHaveLength(4);
      expect(svg).not.toMatch(/NaN/);
    } finally {
      await model.close();
    }
  });
});
