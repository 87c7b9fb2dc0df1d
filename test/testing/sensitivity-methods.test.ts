/** The sensitivity methods' claims in whybox/testing hold on random models, and the ones they do not make fail. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dummyProperty,
  efficiencyProperty,
  linearityProperty,
  sensitivityMethod,
  symmetryProperty,
} from '../../src/testing/index.js';

const runs = { numRuns: 25 };

describe('integrated gradients in whybox/testing', () => {
  const ig = sensitivityMethod('integrated-gradients');

  it('claims efficiency (completeness against the weighted background), dummy, symmetry, linearity', () => {
    expect(ig.claims).toEqual(['efficiency', 'dummy', 'symmetry', 'linearity']);
    expect(ig.needsModel).toBe(true);
  });

  it('is efficient on differentiable (linear, pairwise) models within 1e-6', async () => {
    await fc.assert(efficiencyProperty(ig, { kinds: ['linear', 'pairwise'], tolerance: 1e-6 }), { ...runs, seed: 11 });
  });

  it('is not efficient on trees (no gradient at the splits): the property finds it', async () => {
    const out = await fc.check(efficiencyProperty(ig, { kinds: ['tree'], tolerance: 1e-6 }), {
      numRuns: 100,
      seed: 12,
    });
    expect(out.failed).toBe(true);
  });

  it('passes dummy, symmetry and linearity on every model kind', async () => {
    await fc.assert(dummyProperty(ig), { ...runs, seed: 13 });
    await fc.assert(symmetryProperty(ig), { ...runs, seed: 14 });
    await fc.assert(linearityProperty(ig), { ...runs, seed: 15 });
  });
});

describe('occlusion in whybox/testing', () => {
  const occ = sensitivityMethod('occlusion');

  it('claims dummy, symmetry, linearity (leave-one-out) and passes them', async () => {
    expect(occ.claims).toEqual(['dummy', 'symmetry', 'linearity']);
    await fc.assert(dummyProperty(occ), { ...runs, seed: 21 });
    await fc.assert(symmetryProperty(occ), { ...runs, seed: 22 });
    await fc.assert(linearityProperty(occ), { ...runs, seed: 23 });
  });

  it('does not claim efficiency, and pairwise interactions break it', async () => {
    const out = await fc.check(efficiencyProperty(occ, { kinds: ['pairwise'] }), { numRuns: 100, seed: 24 });
    expect(out.failed).toBe(true);
    expect(sensitivityMethod('occlusion', { window: 2 }).claims).toEqual([]);
  });
});

describe('gradient methods in whybox/testing', () => {
  it('claim none of the Shapley axioms, and gradient × input is not efficient on pairwise models', async () => {
    for (const name of ['gradient', 'gradient-input', 'smoothgrad'] as const)
      expect(sensitivityMethod(name).claims).toEqual([]);
    const out = await fc.check(efficiencyProperty(sensitivityMethod('gradient-input'), { kinds: ['pairwise'] }), {
      numRuns: 100,
      seed: 31,
    });
    expect(out.failed).toBe(true);
  });

  it('refuses options a method does not use and an unknown name', () => {
    expect(() => sensitivityMethod('gradient', { steps: 8 })).toThrow(/steps must be unset for method 'gradient'/);
    expect(() => sensitivityMethod('saliency' as never)).toThrow(/name must be one of/);
  });
});
