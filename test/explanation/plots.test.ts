/**
 * The plot specs against independent truths: the swarm never overlaps, colours follow values,
 * force and decision plots add up to the prediction (efficiency), orders are what they claim,
 * the tree layout is in order, and each rendered plot's root carries its kind.
 */
import { describe, expect, it } from 'vitest';
import type { SurrogateTree } from '../../src/explainers/surrogate-tree.js';
import type { Explanation } from '../../src/explanation/explanation.js';
import { globalImportance } from '../../src/explanation/importance.js';
import { midRanks, playerFeature, strongestInteraction, swarm } from '../../src/explanation/plots/features.js';
import { plotSvg, tagSvg } from '../../src/explanation/plots/figure.js';
import { limeBars, limeSpec } from '../../src/explanation/plots/lime-plot.js';
import {
  beeswarmSpec,
  decisionSpec,
  dependencePanels,
  forceSegments,
  forceSpec,
  heatmapOrder,
  heatmapSpec,
  type SwarmDot,
} from '../../src/explanation/plots/shapley-plots.js';
import { importanceSpec, waterfallSpec } from '../../src/explanation/plots/specs.js';
import { treeLayout, treeSpec } from '../../src/explanation/plots/tree-plot.js';
import { fitTree } from '../../src/numerics/cart.js';
import { Rng } from '../../src/sampling/rng.js';

/**
 * nRows rows of players age, income, colour (a one-hot group of 3), size, x5: φ_age = 2(age − ½),
 * φ_income = 4(income − ½)(age − ½) (an interaction with age), φ_colour by category.
 */
function synth(nRows: number, seed = 1): Explanation {
  const rng = Rng.fromSeed(seed);
  const players = ['age', 'income', 'colour', 'size', 'x5'];
  const columns = ['age', 'income', 'colour=red', 'colour=green', 'colour=blue', 'size', 'x5'];
  const d = columns.length;
  const P = players.length;
  const data = new Float64Array(nRows * d);
  const values = new Float64Array(nRows * P);
  const predictions = new Float64Array(nRows);
  for (let r = 0; r < nRows; r++) {
    const x = Array.from({ length: d }, () => rng.float());
    const c = rng.int(3);
    x[2] = c === 0 ? 1 : 0;
    x[3] = c === 1 ? 1 : 0;
    x[4] = c === 2 ? 1 : 0;
    data.set(x, r * d);
    const phi = [
      2 * (x[0] - 0.5),
      4 * (x[1] - 0.5) * (x[0] - 0.5),
      [0.3, -0.2, 0.1][c],
      0.5 * (x[5] - 0.5),
      0.01 * x[6],
    ];
    values.set(phi, r * P);
    predictions[r] = 0.3 + phi.reduce((a, b) => a + b, 0);
  }
  return {
    method: 'exact',
    players,
    outputs: ['score'],
    columns,
    playerColumns: [[0], [1], [2, 3, 4], [5], [6]],
    nRows,
    rowIndices: Array.from({ length: nRows }, (_, r) => r),
    data,
    baseValues: Float64Array.of(0.3),
    predictions,
    values,
    exact: new Array(nRows).fill(true),
    evaluations: 32,
    modelRows: 40,
    seconds: 0.01,
    meta: { version: '0', seed: 1, budget: 32, background: { rows: 8, summary: '8 rows' }, threads: 1 },
  };
}

const layerData = (spec: Record<string, unknown>, k: number) =>
  (spec.layer as { data: { values: unknown[] } }[])[k].data.values as Record<string, unknown>[];

describe('plot specs', () => {
  const e = synth(120);
  const imp = globalImportance(e);

  it('swarm: no two dots overlap (unless clamped at the edge), offsets as small as the greedy rule allows', () => {
    const rng = Rng.fromSeed(4);
    const x = Array.from({ length: 300 }, () => rng.normal() * 40 + 200);
    const dia = 4;
    const y = swarm(x, dia, 1e9);
    let closest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < x.length; i++)
      for (let j = i + 1; j < x.length; j++) closest = Math.min(closest, Math.hypot(x[i] - x[j], y[i] - y[j]));
    expect(closest).toBeGreaterThanOrEqual(dia - 1e-6);
    // an isolated dot sits on the centre line
    expect(swarm([0, 100], dia, 10)).toEqual(Float64Array.of(0, 0));
    // clamped: never beyond the row
    for (const v of swarm(new Array(50).fill(5), dia, 6)) expect(Math.abs(v)).toBeLessThanOrEqual(6);
  });

  it('beeswarm: one dot per row and player; numeric colour = rank of the value; categories by mean effect', () => {
    const spec = beeswarmSpec(e, imp);
    const dots = layerData(spec, 1) as unknown as SwarmDot[];
    expect(dots.length).toBe(e.nRows * e.players.length);
    const age = dots.filter((d) => d.player === 'age');
    const ages = Array.from({ length: e.nRows }, (_, r) => e.data[r * 7]);
    const t = midRanks(ages);
    age.forEach((d, r) => {
      expect(d.t).toBeCloseTo(t[r], 12);
      expect(d.contribution).toBeCloseTo(e.values[r * 5], 12);
    });
    // colour increases with the value
    const sorted = [...age].sort((a, b) => Number(a.value) - Number(b.value));
    for (let k = 1; k < sorted.length; k++) expect(sorted[k].t).toBeGreaterThanOrEqual(sorted[k - 1].t);
    // colour: the category with the lowest mean contribution (green, −0.2) is 0, the highest (red, 0.3) is 1
    const colour = playerFeature(e, 2);
    expect(colour.kind).toBe('categorical');
    if (colour.kind === 'categorical') expect(colour.order).toEqual(['green', 'blue', 'red']);
    const col = dots.filter((d) => d.player === 'colour');
    for (const d of col) expect(d.t).toBe({ green: 0, blue: 0.5, red: 1 }[d.value as 'green']);
    // the categorical row is named at the right
    expect(JSON.stringify(layerData(spec, 2))).toContain('green < blue < red');
    // players by importance
    expect([...new Set(dots.map((d) => d.player))]).toEqual(imp.players);
  });

  it('dependence: x is the value, the colour is the strongest interaction (income ↔ age)', () => {
    const features = e.players.map((_, p) => playerFeature(e, p));
    expect(strongestInteraction(e, 1, features)).toBe(0);
    const panels = dependencePanels(e, imp);
    const income = panels.find((p) => p.player === 'income');
    expect(income?.colorBy).toBe('age');
    income?.points.forEach((pt, r) => {
      expect(pt.x).toBe(e.data[r * 7 + 1]);
      expect(pt.contribution).toBe(e.values[r * 5 + 1]);
    });
  });

  it('heatmap: by prediction descending, or a similarity chain that visits every row once', () => {
    const byPred = heatmapOrder(e, 'prediction');
    for (let k = 1; k < byPred.length; k++)
      expect(e.predictions[byPred[k]]).toBeLessThanOrEqual(e.predictions[byPred[k - 1]]);
    const sim = heatmapOrder(e, 'similarity');
    expect([...sim].sort((a, b) => a - b)).toEqual(byPred.map((_, r) => r));
    // a chain of nearest neighbours is shorter than the prediction order (the similarity is real)
    const len = (o: number[]) =>
      o.slice(1).reduce((s, r, k) => {
        let d = 0;
        for (let p = 0; p < 5; p++) d += (e.values[r * 5 + p] - e.values[o[k] * 5 + p]) ** 2;
        return s + Math.sqrt(d);
      }, 0);
    expect(len(sim)).toBeLessThan(len(byPred));
    const spec = heatmapSpec(e, imp) as { vconcat: { data: { values: unknown[] } }[] };
    expect(spec.vconcat[1].data.values.length).toBe(e.nRows * 5);
  });

  it('decision: each path starts at the base value and ends at the prediction (efficiency)', () => {
    const spec = decisionSpec(e, imp, { threshold: 0.5 });
    const pts = layerData(spec, 0) as { row: number; j: number; x: number }[];
    for (let r = 0; r < e.nRows; r++) {
      const path = pts.filter((p) => p.row === r).sort((a, b) => a.j - b.j);
      expect(path.length).toBe(6);
      expect(path[0].x).toBeCloseTo(0.3, 12);
      expect(path[5].x).toBeCloseTo(e.predictions[r], 12);
    }
    expect(JSON.stringify(layerData(spec, 2))).toContain('threshold 0.5');
  });

  it('force: red segments stack up to the prediction, blue ones down from it; Σ red − Σ blue = prediction − base', () => {
    for (const r of [0, 7, 33]) {
      const segs = forceSegments(e, r);
      const up = segs.filter((s) => s.contribution > 0);
      const down = segs.filter((s) => s.contribution < 0);
      if (up.length) expect(up[0].end).toBeCloseTo(e.predictions[r], 12);
      if (down.length) expect(down[0].start).toBeCloseTo(e.predictions[r], 12);
      for (let k = 1; k < up.length; k++) expect(up[k].end).toBeCloseTo(up[k - 1].start, 12);
      for (let k = 1; k < down.length; k++) expect(down[k].start).toBeCloseTo(down[k - 1].end, 12);
      const sum = segs.reduce((s, x) => s + x.contribution, 0);
      expect(sum).toBeCloseTo(e.predictions[r] - 0.3, 12);
      expect(JSON.stringify(forceSpec(e, r))).toContain('base value 0.3');
    }
  });

  it('waterfall: full labels (no axis label limit below 600 px) and the threshold named', () => {
    const spec = waterfallSpec(e, 0, 0, { threshold: 0.4 }) as {
      layer: { encoding: { y?: { axis?: { labelLimit: number } } } }[];
    };
    expect(spec.layer[0].encoding.y?.axis?.labelLimit).toBe(600);
    expect(JSON.stringify(spec)).toContain('"threshold 0.4"');
  });

  it('lime: the selected features with their conditions and weights, R² in the subtitle', () => {
    const lime: Explanation = {
      ...e,
      method: 'lime',
      nRows: 1,
      values: Float64Array.of(0.4, 0, -0.2, 0, 0),
      lime: {
        intercept: Float64Array.of(0.1),
        localPrediction: Float64Array.of(0.3),
        score: Float64Array.of(0.87),
        conditions: [['age > 0.5', 'income <= 0.2', 'colour = red', 'size', 'x5']],
        selected: [[[0, 2]]],
        kernelWidth: 1.5,
        discretizer: 'quartile',
        featureSelection: 'auto',
        numFeatures: 2,
        numSamples: 500,
        distance: 'euclidean',
        alpha: 1,
        modelSeconds: 0,
      },
    };
    expect(limeBars(lime, 0)).toEqual([
      { player: 'age', condition: 'age > 0.5', weight: 0.4, rank: 0 },
      { player: 'colour', condition: 'colour = red', weight: -0.2, rank: 1 },
    ]);
    expect(JSON.stringify(limeSpec(lime, 0))).toContain('weighted R² 0.87');
    expect(() => limeSpec(e, 0)).toThrow(/a LIME explanation/);
  });

  it('tree: leaves left to right, each parent centred over its children', () => {
    const rng = Rng.fromSeed(2);
    const X = Float64Array.from({ length: 400 }, () => rng.float());
    const y = Float64Array.from({ length: 200 }, (_, i) => (X[i * 2] > 0.5 ? 1 : 0) + (X[i * 2 + 1] > 0.3 ? 2 : 0));
    const tree = fitTree(X, 200, 2, y, { maxDepth: 2 });
    const s = {
      tree,
      task: 'regression',
      featureNames: ['a', 'b'],
      target: 'y',
      fidelity: { rows: 50, r2: 1 },
      trainFidelity: { rows: 150, r2: 1 },
      trainRows: 150,
      holdoutRows: 50,
      maxDepth: 2,
      minSamplesLeaf: 1,
      modelRows: 200,
      seconds: 0,
      seed: 1,
    } as SurrogateTree;
    const { nodes, leaves } = treeLayout(s);
    expect(leaves).toBe(4);
    expect(nodes.filter((n) => n.leaf).map((n) => n.x)).toEqual([0, 1, 2, 3]);
    for (let i = 0; i < tree.nNodes; i++)
      if (tree.feature[i] >= 0) expect(nodes[i].x).toBe((nodes[tree.left[i]].x + nodes[tree.right[i]].x) / 2);
    expect(nodes[0].text).toMatch(/^b <= 0\.3\d*\nn = 200 \(100\.0%\)/);
    expect(JSON.stringify(treeSpec({ ...s, warning: 'weak' }))).toContain('WARNING: weak');
  });

  it('every rendered plot is an <svg data-plot="KIND">', async () => {
    expect(tagSvg('<?xml?><svg a="1"></svg>', 'logo', 3)).toBe(
      '<?xml?><svg data-plot="logo" data-row="3" a="1"></svg>',
    );
    const small = synth(12);
    const imp12 = globalImportance(small);
    for (const [kind, spec] of [
      ['bar', importanceSpec(imp12)],
      ['beeswarm', beeswarmSpec(small, imp12)],
      ['heatmap', heatmapSpec(small, imp12)],
      ['force', forceSpec(small, 0)],
    ] as const) {
      const svg = await plotSvg(kind, spec);
      expect(svg.startsWith(`<svg data-plot="${kind}" `)).toBe(true);
    }
  }, 30_000);
});
