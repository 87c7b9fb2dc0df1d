/**
 * Shapley axioms (efficiency, symmetry, dummy, linearity) and the closed form of linear models,
 * for every estimator, on random games and random small models. The axioms every estimator
 * claims are checked with whybox/testing's properties (shrinking counterexamples); the
 * statistical checks of sampled estimators and the closed forms stay here.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { ShapleyEstimate } from '../../src/estimators/estimate.js';
import { exactShapley } from '../../src/estimators/exact.js';
import type { KernelVariant } from '../../src/estimators/kernel.js';
import { KERNEL_VARIANTS, kernelShap, minimumBudget } from '../../src/estimators/kernel.js';
import { permutationShap } from '../../src/estimators/permutation.js';
import type { Game } from '../../src/games/game.js';
import { Rng } from '../../src/sampling/rng.js';
import type { AttributionMethod } from '../../src/testing/index.js';
import {
  assertClaims,
  defineMethod,
  dummyProperty,
  efficiencyProperty,
  shapleyMethod,
} from '../../src/testing/index.js';
import { maxAbsDiff } from '../helpers/brute-force.js';
import type { PlainModel } from '../helpers/games.js';
import { interventionalSetup, mulberry32, randomRows } from '../helpers/games.js';

type MethodName = 'exact' | 'permutation' | KernelVariant;
const METHODS: MethodName[] = ['exact', 'permutation', ...KERNEL_VARIANTS];
const SAMPLED: MethodName[] = ['permutation', 'decomposed', 'leverage', 'kernel', 'msr'];

function run(method: MethodName, game: Game, budget: number, seed: number): Promise<ShapleyEstimate> {
  const ctx = { rng: Rng.fromSeed(seed) };
  if (method === 'exact') return exactShapley(game);
  if (method === 'permutation') return permutationShap(game, { budget: Math.max(budget, 2 * game.nPlayers) }, ctx);
  // below 2n + 2 coalition values a shared regression cannot identify n values (BudgetError)
  return kernelShap(game, { budget: Math.max(budget, minimumBudget(game.nPlayers)), variant: method }, ctx);
}

/** Each method as a whybox/testing AttributionMethod, at its default budget and at the smallest it accepts. */
function kitMethods(): { method: AttributionMethod; small: AttributionMethod }[] {
  return METHODS.map((m) => {
    const method = m === 'kernel' ? shapleyMethod('kernel', { variant: 'kernel' }) : shapleyMethod(m);
    // below 2n + 2 coalition values a shared regression cannot identify n values (BudgetError)
    const small = defineMethod(`${method.name} (smallest budget)`, [], (task, opts) =>
      method.attribute(task, { ...opts, budget: m === 'exact' ? undefined : minimumBudget(task.game.nPlayers) + 2 }),
    );
    return { method, small };
  });
}

describe('whybox/testing: every estimator keeps the claims it makes (games and random models)', () => {
  for (const { method, small } of kitMethods()) {
    it(`${method.name}: ${method.claims.join(', ')}`, async () => {
      const checked = await assertClaims(method, { maxPlayers: 7 }, { numRuns: 25, seed: 71 });
      expect(checked).toEqual(method.claims);
    });
    // efficiency and a zero dummy hold at any budget for every method that claims them
    it(`${method.name} at its smallest budget: efficiency${method.claims.includes('dummy') && !method.name.startsWith('kernel') ? ', dummy' : ''}`, async () => {
      await fc.assert(efficiencyProperty(small, { maxPlayers: 8, maxOutputs: 3 }), { numRuns: 30, seed: 72 });
      if (method.claims.includes('dummy') && !method.name.startsWith('kernel'))
        await fc.assert(dummyProperty(small, { maxPlayers: 8 }), { numRuns: 30, seed: 73 });
    });
  }
});

/** A model symmetric in columns 0 and 1, a swap-closed background and x0 = x1. */
function symmetricCase(seed: number) {
  const n = 7;
  const rnd = mulberry32(seed);
  const c = Array.from({ length: 5 }, () => rnd() * 2 - 1);
  const f: PlainModel = (r) => [
    Math.tanh(c[0] * (r[0] + r[1]) + c[1] * r[2]) +
      c[2] * r[0] * r[1] * r[3] +
      c[3] * r[4] * r[5] +
      c[4] * r[6] * (r[0] + r[1]),
  ];
  const base = randomRows(3, n, seed + 100);
  const background = base.flatMap((b) => [b, [b[1], b[0], ...b.slice(2)]]);
  const x = randomRows(1, n, seed + 200)[0];
  x[1] = x[0];
  return { n, f, background, x };
}

describe('symmetry: players with identical roles get equal values', () => {
  // symmetric value tables (exact and full-budget kernel): the kit's symmetry property above

  it('a model symmetric in x0, x1 with a swap-closed background: exact and full-budget kernel agree to 1e-12 / 1e-9', async () => {
    for (let seed = 1; seed <= 6; seed++) {
      const { n, f, background, x } = symmetricCase(seed);
      for (const method of ['exact', ...KERNEL_VARIANTS] as MethodName[]) {
        const s = await interventionalSetup({ f, nOut: 1, x, background });
        expect(Math.abs(s.truth[0] - s.truth[1])).toBeLessThan(1e-12); // the reference agrees
        const est = await run(method, s.game, 2 ** n, seed);
        expect(Math.abs(est.values[0] - est.values[1])).toBeLessThan(method === 'exact' ? 1e-12 : 1e-9);
      }
    }
  });

  // sampled estimates of two symmetric players differ by sampling noise only: |φ0 − φ1| ≤ 3·√(se0² + se1²)
  // (measured over seeds 1..30 at budget 40: decomposed 30, leverage 29, kernel 29, permutation 27)
  for (const method of SAMPLED.filter((m) => m !== 'msr')) {
    it(`${method}: |φ0 − φ1| within 3 combined s.e. for at least 85% of 30 seeds`, async () => {
      let ok = 0;
      for (let seed = 1; seed <= 30; seed++) {
        const { f, background, x } = symmetricCase(seed);
        const s = await interventionalSetup({ f, nOut: 1, x, background });
        const est = await run(method, s.game, 40, seed);
        const se = est.stderr as Float64Array;
        if (Math.abs(est.values[0] - est.values[1]) <= 3 * Math.hypot(se[0], se[1])) ok++;
      }
      expect(ok / 30).toBeGreaterThanOrEqual(0.85);
    });
  }
});

describe('dummy: a column the model ignores gets 0', () => {
  /** Column 6 of the symmetric case's model, switched off. */
  const dummyCase = (seed: number) => {
    const { n, f, background, x } = symmetricCase(seed);
    const g: PlainModel = (r) => {
      const q = Array.from(r);
      q[6] = 0;
      return f(q);
    };
    return { n, g, background, x };
  };

  it('exact, permutation (any budget) and full-budget kernel variants: |φ| < 1e-12 / 1e-12 / 1e-9', async () => {
    for (let seed = 1; seed <= 6; seed++) {
      const { n, g, background, x } = dummyCase(seed);
      for (const method of METHODS) {
        const s = await interventionalSetup({ f: g, nOut: 1, x, background });
        expect(s.truth[6]).toBe(0);
        const budget = method === 'permutation' ? 40 : 2 ** n;
        const est = await run(method, s.game, budget, seed);
        expect(Math.abs(est.values[6])).toBeLessThan(method === 'exact' || method === 'permutation' ? 1e-12 : 1e-9);
      }
    }
  });

  // sampled regressions do not zero a dummy by construction; it is estimated, within its s.e.
  // (measured over seeds 1..30 at budget 40: decomposed 30, leverage 29, kernel 30)
  for (const method of ['decomposed', 'leverage', 'kernel'] as KernelVariant[]) {
    it(`${method} at a sampled budget: |φ_dummy| ≤ 3 s.e. for at least 85% of 30 seeds`, async () => {
      let ok = 0;
      for (let seed = 1; seed <= 30; seed++) {
        const { g, background, x } = dummyCase(seed);
        const s = await interventionalSetup({ f: g, nOut: 1, x, background });
        const est = await run(method, s.game, 40, seed);
        if (Math.abs(est.values[6]) <= 3 * (est.stderr as Float64Array)[6]) ok++;
      }
      expect(ok / 30).toBeGreaterThanOrEqual(0.85);
    });
  }
});

// linearity φ(a·u + b·v) = a·φ(u) + b·φ(v): the kit's linearity property above (games and models)

describe('linear model with an independent (interventional) background: φ_i = w_i (x_i − Σ_b w_b b_i)', () => {
  const linearCase = (n: number, nBg: number, seed: number, weighted: boolean) => {
    const rnd = mulberry32(seed);
    const w = Array.from({ length: n }, () => rnd() * 4 - 2);
    const c = rnd();
    const f: PlainModel = (r) => [w.reduce((a, wi, i) => a + wi * r[i], c)];
    const background = randomRows(nBg, n, seed + 1);
    const weights = weighted ? background.map((_, b) => 1 + ((b * 7) % 3)) : undefined;
    const x = randomRows(1, n, seed + 2)[0];
    const wsum = weights ? weights.reduce((a, b) => a + b, 0) : nBg;
    const mean = w.map((_, i) => background.reduce((a, b, k) => a + ((weights ? weights[k] : 1) / wsum) * b[i], 0));
    const closed = w.map((wi, i) => wi * (x[i] - mean[i]));
    return { f, background, weights, x, closed };
  };

  test.prop([fc.integer({ min: 2, max: 8 }), fc.integer({ min: 1, max: 6 }), fc.integer(), fc.boolean()], {
    numRuns: 30,
    seed: 76,
  })('exact and full-budget kernel (all variants) match the closed form (1e-9)', async (n, nBg, seed, weighted) => {
    const { f, background, weights, x, closed } = linearCase(n, nBg, seed, weighted);
    for (const method of ['exact', ...KERNEL_VARIANTS] as MethodName[]) {
      const s = await interventionalSetup({ f, nOut: 1, x, background, weights });
      const est = await run(method, s.game, 2 ** n, seed);
      expect(maxAbsDiff(est.values, closed)).toBeLessThan(1e-9);
    }
  });

  test.prop(
    [
      fc.integer({ min: 3, max: 12 }),
      fc.integer({ min: 1, max: 5 }),
      fc.integer(),
      fc.boolean(),
      fc.integer({ min: 0, max: 40 }),
    ],
    {
      numRuns: 40,
      seed: 77,
    },
  )(
    'permutation at any budget, and leverage / kernel / shap once the design spans the players (budget ≥ 4n + 2)',
    async (n, nBg, seed, weighted, extra) => {
      const { f, background, weights, x, closed } = linearCase(n, nBg, seed, weighted);
      const perm = await run(
        'permutation',
        (await interventionalSetup({ f, nOut: 1, x, background, weights })).game,
        2 * n + extra,
        seed,
      );
      expect(maxAbsDiff(perm.values, closed)).toBeLessThan(1e-9);
      const budget = Math.min(4 * n + 2 + extra, 2 ** n);
      for (const method of ['leverage', 'kernel', 'shap'] as MethodName[]) {
        const est = await run(
          method,
          (await interventionalSetup({ f, nOut: 1, x, background, weights })).game,
          budget,
          seed,
        );
        expect(maxAbsDiff(est.values, closed)).toBeLessThan(1e-9);
      }
      // decomposed: each background row gets ≈ (budget − 2)/2 ≥ 2n pairs with uniform weights
      const dec = await run(
        'decomposed',
        (await interventionalSetup({ f, nOut: 1, x, background })).game,
        budget,
        seed,
      );
      const { closed: uniformClosed } = linearCase(n, nBg, seed, false);
      expect(maxAbsDiff(dec.values, uniformClosed)).toBeLessThan(1e-9);
    },
  );
});
