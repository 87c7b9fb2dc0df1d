import { describe, expect, it } from 'vitest';
import { larsLassoPath, weightedMoments } from '../../src/explainers/lime-fit.js';
import { Rng } from '../../src/sampling/rng.js';

describe('larsLassoPath', () => {
  it('every breakpoint satisfies the lasso KKT conditions; the path ends at least squares', () => {
    const rng = Rng.fromSeed(1);
    const n = 200;
    const P = 8;
    const Z = new Float64Array(n * P);
    const y = new Float64Array(n);
    const w = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      // correlated columns make the path drop variables now and then
      const common = rng.normal();
      for (let j = 0; j < P; j++) Z[i * P + j] = rng.normal() + (j < 4 ? 0.8 * common : 0);
      y[i] = 3 * Z[i * P] - 2 * Z[i * P + 1] + Z[i * P + 5] + 0.5 * rng.normal();
      w[i] = 0.2 + rng.float();
    }
    const m = weightedMoments(Z, y, w, n, P, 1);
    const path = larsLassoPath(m.G, m.C, P);
    expect(path.length).toBeGreaterThan(P);
    expect(Array.from(path[0])).toEqual(new Array(P).fill(0));
    for (const beta of path) {
      // residual correlations r = Xᵀ(y − Xβ) = c − Gβ; λ = max |r|
      const r = Array.from({ length: P }, (_, j) => m.C[j] - beta.reduce((a, b, k) => a + m.G[j * P + k] * b, 0));
      const lambda = Math.max(...r.map(Math.abs));
      for (let j = 0; j < P; j++) {
        if (beta[j] !== 0) expect(Math.abs(r[j] - lambda * Math.sign(beta[j]))).toBeLessThan(1e-7 * (1 + lambda));
        else expect(Math.abs(r[j])).toBeLessThanOrEqual(lambda * (1 + 1e-9) + 1e-9);
      }
    }
    // the last point is the (weighted, centred) least-squares solution: r = 0
    const last = path[path.length - 1];
    for (let j = 0; j < P; j++) {
      const r = m.C[j] - last.reduce((a, b, k) => a + m.G[j * P + k] * b, 0);
      expect(Math.abs(r)).toBeLessThan(1e-8 * Math.max(...Array.from(m.C).map(Math.abs)));
    }
  });
});
