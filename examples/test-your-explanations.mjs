// Test your explanations with whybox/testing (README: "Test your explanations").
// Run: node --test examples/test-your-explanations.mjs   (needs `npm run build` and fast-check)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createDataset, fromFunction } from 'whybox';
import {
  assertClaims,
  defineMethod,
  efficiencyProperty,
  evaluateFaithfulness,
  sanityChecks,
  shapleyMethod,
} from 'whybox/testing';

test("whybox's permutation SHAP keeps every axiom it claims", async () => {
  const method = shapleyMethod('permutation', { budget: 200 });
  const checked = await assertClaims(method, { maxPlayers: 5 }, { numRuns: 15, seed: 1 });
  assert.deepEqual(checked, ['efficiency', 'dummy', 'linearity', 'convergence']);
});

test('your own estimator: leave-one-out values are not efficient', async () => {
  // φ_i = v(N) − v(N ∖ {i}), computed on the game whybox hands over
  const leaveOneOut = defineMethod('leave-one-out', ['efficiency'], async ({ game }) => {
    const n = game.nPlayers;
    const masks = new Uint8Array((n + 1) * n).fill(1);
    for (let i = 0; i < n; i++) masks[(i + 1) * n + i] = 0;
    const v = await game.values(masks, n + 1);
    return { values: Float64Array.from({ length: n }, (_, i) => v[0] - v[i + 1]) };
  });
  const result = await fc.check(efficiencyProperty(leaveOneOut, { cases: 'games', maxOutputs: 1 }), { seed: 7 });
  assert.equal(result.failed, true);
  console.log(result.errorInstance.message); // the shrunk game, Σφ and v(N) − v(∅) with numbers
  assert.equal(result.counterexample[0].nPlayers, 2);
});

test('faithfulness and sanity checks on a model', async () => {
  const columns = ['income', 'debt', 'age', 'zip'];
  const model = fromFunction((x) => 2 * x[0] - x[1] * x[2], { nInputs: 4, inputNames: columns }); // never reads zip
  const rows = createDataset(columns, [1, 2, 0.5, 3, -1, 0.5, 2, 7, 0.3, -2, 1, 1]);
  const background = createDataset(columns, [0, 0, 0, 0, 1, 1, 1, 1, -1, 0.5, 0, 2, 0.5, -1, 1, 5]);

  const quality = await evaluateFaithfulness(model, rows, { background, method: shapleyMethod('exact') });
  assert.ok(quality.deletionAuc < quality.randomDeletionAuc); // lower is better
  assert.ok(quality.insertionAuc > quality.randomInsertionAuc); // higher is better

  const sanity = await sanityChecks(model, rows, { background, method: shapleyMethod('kernel'), dummyColumn: 'zip' });
  assert.ok(sanity.dummy.passed && sanity.randomization.passed && sanity.stability.passed);
});
