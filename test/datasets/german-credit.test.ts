/**
 * Real data: UCI Statlog German credit (../shared/datasets, beside the project) with the
 * benchmark MLP (benchmarks/fixtures/german-mlp.onnx). Skipped, with a message, when the
 * shared data is absent (a user's checkout does not have it).
 */
import { describe, expect, it } from 'vitest';
import { GERMAN_DIR, germanAvailable, loadGerman } from '../../benchmarks/lib/german.js';
import { definePlayers } from '../../src/data/players.js';
import { exactShapley } from '../../src/estimators/exact.js';
import { kernelShap } from '../../src/estimators/kernel.js';
import { localEvaluator } from '../../src/games/evaluator.js';
import { interventionalGame, prepareInterventional } from '../../src/games/interventional-game.js';
import { loadOnnx } from '../../src/models/onnx-model.js';
import { createBackground } from '../../src/sampling/background.js';
import { maskingLayout } from '../../src/sampling/masking.js';
import { Rng } from '../../src/sampling/rng.js';

const available = germanAvailable();
if (!available)
  console.warn(
    `skipping German credit tests: ${GERMAN_DIR}german.data not found (shared data sets are not part of a checkout)`,
  );

describe.skipIf(!available)('German credit (UCI Statlog), 20 attribute players', () => {
  it('one-hot encoding: 61 columns, one level per attribute per row, 300 bad of 1000 (the UCI class counts)', () => {
    const g = loadGerman();
    expect(g.columns.length).toBe(61);
    expect(g.data.length).toBe(1000 * 61);
    expect(g.labels.reduce((a, v) => a + v, 0)).toBe(300);
    const players = definePlayers(g.columns, g.groups);
    expect(players.names.length).toBe(20);
    for (let r = 0; r < 1000; r += 97)
      for (const cols of Object.values(g.groups)) {
        const hot = cols.map((c) => g.data[r * 61 + g.columns.indexOf(c)]);
        expect(hot.reduce((a, v) => a + v, 0)).toBe(1);
      }
  });

  it('exact values are efficient, and the default kernel estimate is within 4 s.e. of them for ≥ 90% of players', async () => {
    const g = loadGerman();
    const model = await loadOnnx(new URL('../../benchmarks/fixtures/german-mlp.onnx', import.meta.url).pathname, {
      select: [1],
    });
    try {
      const players = definePlayers(g.columns, g.groups);
      const bg = createBackground({ data: g.data.slice(0, 30 * 61), nRows: 30, nColumns: 61 });
      const ctx = await prepareInterventional(localEvaluator(model, bg, maskingLayout(players)));
      let inside = 0;
      let total = 0;
      for (const r of [100, 400, 700]) {
        const x = g.data.slice(r * 61, (r + 1) * 61);
        const exact = await exactShapley(await interventionalGame(ctx, x));
        const sum = exact.values.reduce((a, v) => a + v, 0);
        expect(Math.abs(sum - (exact.fullValue[0] - exact.baseValue[0]))).toBeLessThan(1e-9);
        const est = await kernelShap(await interventionalGame(ctx, x), { budget: 256 }, { rng: Rng.fromSeed(r) });
        const se = est.stderr as Float64Array;
        est.values.forEach((v, i) => {
          total++;
          if (Math.abs(v - exact.values[i]) <= 4 * se[i] + 1e-12) inside++;
        });
      }
      expect(inside / total).toBeGreaterThanOrEqual(0.9);
    } finally {
      await model.close();
    }
  });
});
