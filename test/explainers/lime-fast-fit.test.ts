import { Matrix, solve } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import type { FeatureSelection } from '../../src/explainers/lime-fit.js';
import { momentsWorkspace, ridgeOn, selectFeatures, weightedMoments } from '../../src/explainers/lime-fit.js';
import { fromFunction, lime } from '../../src/index.js';
import { Rng } from '../../src/sampling/rng.js';

/**
 * Independent truth for the Gram-matrix fits: weighted least squares / ridge solved directly
 * on the n × (1 + |S|) design with ml-matrix (√w-scaled rows, unpenalised intercept column).
 */
function directRidge(
  Z: Float64Array,
  y: Float64Array,
  w: Float64Array,
  n: number,
  P: number,
  S: number[],
  alpha: number,
) {
  const s = S.length;
  const X = new Matrix(n, s + 1);
  const b = new Matrix(n, 1);
  for (let i = 0; i < n; i++) {
    const r = Math.sqrt(w[i]);
    X.set(i, 0, r);
    for (let a = 0; a < s; a++) X.set(i, a + 1, r * Z[i * P + S[a]]);
    b.set(i, 0, r * y[i]);
  }
  const A = X.transpose().mmul(X);
  for (let a = 1; a <= s; a++) A.set(a, a, A.get(a, a) + alpha);
  const coef = solve(A, X.transpose().mmul(b)).getColumn(0);
  let ssr = 0;
  let sw = 0;
  let ym = 0;
  for (let i = 0; i < n; i++) {
    sw += w[i];
    ym += w[i] * y[i];
  }
  ym /= sw;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    let p = coef[0];
    for (let a = 0; a < s; a++) p += coef[a + 1] * Z[i * P + S[a]];
    ssr += w[i] * (y[i] - p) ** 2;
    syy += w[i] * (y[i] - ym) ** 2;
  }
  return { intercept: coef[0], beta: coef.slice(1), r2: 1 - ssr / syy };
}

/** Random LIME-like data: 0/1 columns (binned features, sparse path) or Gaussian ones (dense path). */
function data(seed: number, n: number, P: number, binary: boolean) {
  const rng = Rng.fromSeed(seed);
  const Z = new Float64Array(n * P);
  const y = new Float64Array(n);
  const w = new Float64Array(n);
  const coef = Array.from({ length: P }, (_, j) => (j % 3 === 0 ? 2 - j / P : 0.3 * rng.normal()));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < P; j++) Z[i * P + j] = binary ? (rng.float() < 0.3 ? 1 : 0) : rng.normal() * (1 + j / P) + 0.5;
    let v = 1.5;
    for (let j = 0; j < P; j++) v += coef[j] * Z[i * P + j];
    y[i] = v + 0.7 * rng.normal();
    w[i] = rng.float() < 0.05 ? 0 : 0.1 + rng.float();
  }
  return { Z, y, w };
}

describe('LIME fits from the weighted Gram matrix', () => {
  const n = 600;
  const P = 9;
  for (const binary of [true, false]) {
    const label = binary ? '0/1 design (sparse moments)' : 'Gaussian design (dense moments)';
    it(`${label}: every selection method's final ridge equals a direct weighted solve to 1e-9`, () => {
      const { Z, y, w } = data(binary ? 11 : 12, n, P, binary);
      const m = weightedMoments(Z, y, w, n, P, 1, momentsWorkspace());
      const z0 = Z.subarray(0, P);
      const methods: FeatureSelection[] = ['none', 'forward_selection', 'highest_weights', 'lasso_path', 'auto'];
      for (const method of methods) {
        for (const alpha of [0, 1]) {
          const S = selectFeatures(m, 0, 4, method, z0);
          expect(S.length).toBeGreaterThan(0);
          const beta = ridgeOn(m, S, alpha);
          let intercept = m.yMean[0];
          for (let a = 0; a < S.length; a++) intercept -= m.zMean[S[a]] * beta[a];
          const truth = directRidge(Z, y, w, n, P, S, alpha);
          const scale = 1 + Math.max(...truth.beta.map(Math.abs));
          for (let a = 0; a < S.length; a++) expect(Math.abs(beta[a] - truth.beta[a])).toBeLessThan(1e-9 * scale);
          expect(Math.abs(intercept - truth.intercept)).toBeLessThan(1e-9 * (scale + Math.abs(truth.intercept)));
        }
      }
    });

    it(`${label}: forward selection and highest weights pick what refits on the rows pick`, () => {
      const { Z, y, w } = data(binary ? 21 : 22, n, P, binary);
      const m = weightedMoments(Z, y, w, n, P, 1);
      const z0 = Z.subarray(0, P);
      // greedy forward selection by brute force: refit every candidate set on the rows
      const used: number[] = [];
      for (let step = 0; step < 5; step++) {
        let best = -1;
        let bestR2 = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < P; j++) {
          if (used.includes(j)) continue;
          const r2 = directRidge(Z, y, w, n, P, [...used, j], 0).r2;
          if (r2 > bestR2) {
            bestR2 = r2;
            best = j;
          }
        }
        used.push(best);
      }
      expect(selectFeatures(m, 0, 5, 'forward_selection', z0)).toEqual(used);
      // highest weights: the 5 largest |coef × instance value| of a ridge (alpha 0.01) on all features
      const all = Array.from({ length: P }, (_, j) => j);
      const full = directRidge(Z, y, w, n, P, all, 0.01);
      const ranked = all
        .map((j) => ({ j, v: Math.abs(full.beta[j] * z0[j]) }))
        .sort((a, b) => b.v - a.v || a.j - b.j)
        .slice(0, 5)
        .map((e) => e.j);
      expect(selectFeatures(m, 0, 5, 'highest_weights', z0)).toEqual(ranked);
    });
  }

  it('lime() is deterministic for a seed, different for another, on both sampling paths', async () => {
    const d = 6;
    const model = fromFunction(
      (rows: Float64Array, k: number) => {
        const out = new Float64Array(k);
        for (let r = 0; r < k; r++)
          out[r] = Math.tanh(rows[r * d] - 0.5 * rows[r * d + 1] * rows[r * d + 2]) + rows[r * d + 5];
        return out;
      },
      { nInputs: d, batched: true },
    );
    const rng = Rng.fromSeed(5);
    const train = new Float64Array(300 * d).map(() => rng.normal());
    const rows = { data: train.slice(0, 2 * d), nRows: 2 };
    for (const discretizer of ['quartile', 'none'] as const) {
      const run = (seed: number) =>
        lime(model, rows, { training: { data: train, nRows: 300 }, discretizer, numSamples: 801, seed });
      const [a, b, c] = await Promise.all([run(3), run(3), run(4)]);
      expect(Array.from(a.values)).toEqual(Array.from(b.values));
      expect(Array.from(a.lime?.score ?? [])).toEqual(Array.from(b.lime?.score ?? []));
      expect(Array.from(a.values)).not.toEqual(Array.from(c.values));
    }
  });
});
