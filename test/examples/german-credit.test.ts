/**
 * The German credit example on the real UCI data (skips without ../shared/datasets/german.data):
 * 10 applicants, both committed models; for the logistic model the log-odds are linear in the
 * inputs, so the Shapley values and hence the reasons are known in closed form.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { germanAvailable } from '../../benchmarks/lib/german.js';
import { GERMAN_MODELS, runGermanExample } from '../../examples/german-credit.js';
import { loadOnnx } from '../../src/models/onnx-model.js';

const HAVE = germanAvailable();
if (!HAVE) console.warn('skipping the German credit example test: ../shared/datasets/german.data not found');
const PROTECTED = ['personal_status', 'age', 'foreign_worker'];

describe.skipIf(!HAVE)('German credit example', () => {
  it('explains 10 applicants with both models: decisions, at most 4 reasons, never protected', async () => {
    const results = await runGermanExample({ budget: 512 });
    expect(results.map((r) => r.model)).toEqual(['logistic', 'mlp']);
    for (const { report, exp, model } of results) {
      expect(report.decisions).toHaveLength(10);
      const sha = createHash('sha256').update(readFileSync(GERMAN_MODELS[model])).digest('hex');
      for (const d of report.decisions) {
        expect(d.decision).toBe(d.decisionScore > 0.5 ? 'adverse' : 'favorable');
        expect(d.audit.modelSha256).toBe(sha);
        expect(d.reasons.length).toBeLessThanOrEqual(4);
        if (d.decision === 'adverse') expect(d.reasons.length).toBeGreaterThan(0);
        for (const r of d.reasons) {
          expect(PROTECTED).not.toContain(r.attribute);
          expect(r.contribution).toBeGreaterThan(0);
          expect(r.statement).not.toMatch(/[{}]/);
        }
      }
      expect(exp.players).toHaveLength(20);
    }
  });

  it('logistic model: reasons equal the closed-form log-odds contributions', async () => {
    const [res] = await runGermanExample({ budget: 512, link: 'logit', models: ['logistic'] });
    const { exp, report } = res;
    // weights of the (linear) log-odds, read off the model by steps from a zero row (steps as
    // large as the data, so that float32 rounding does not swamp the small weights of DM amounts)
    const model = await loadOnnx(GERMAN_MODELS.logistic, { select: [1], link: 'logit' });
    const d = exp.columns.length;
    const step = Array.from({ length: d }, (_, c) => {
      let m = 1;
      for (let r = 0; r < exp.nRows; r++) m = Math.max(m, Math.abs(exp.data[r * d + c]));
      return m;
    });
    const probe = new Float64Array((d + 1) * d);
    for (let c = 0; c < d; c++) probe[(c + 1) * d + c] = step[c];
    const out = await model.predict(probe, d + 1);
    await model.close();
    const w = Array.from({ length: d }, (_, c) => (out[c + 1] - out[0]) / step[c]);
    // φ_a = Σ_{c ∈ a} w_c (x_c − Σ_b β_b b_c) over the explanation's weighted background
    const bg = res.background;
    const bgMean = new Float64Array(d);
    for (let b = 0; b < bg.nRows; b++) for (let c = 0; c < d; c++) bgMean[c] += bg.weights[b] * bg.data[b * d + c];
    const nP = exp.players.length;
    let worst = 0;
    let adverse = 0;
    report.decisions.forEach((dec, r) => {
      const truth = exp.playerColumns.map((cols) =>
        cols.reduce((s, c) => s + w[c] * (exp.data[r * d + c] - bgMean[c]), 0),
      );
      truth.forEach((t, p) => {
        worst = Math.max(worst, Math.abs(exp.values[r * nP + p] - t));
      });
      const expected = truth
        .map((v, p) => ({ p: exp.players[p], v }))
        .filter((x) => x.v > 1e-3 && !PROTECTED.includes(x.p))
        .sort((a, b) => b.v - a.v)
        .slice(0, 4)
        .map((x) => x.p);
      expect(dec.decision).toBe(exp.predictions[r] > 0 ? 'adverse' : 'favorable');
      if (dec.decision === 'adverse') {
        adverse++;
        expect(dec.reasons.map((x) => x.attribute)).toEqual(expected);
      }
    });
    expect(worst).toBeLessThan(1e-4); // float32 model arithmetic
    expect(adverse).toBeGreaterThan(0);
  });
});
