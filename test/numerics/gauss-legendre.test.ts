import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { gaussLegendre, gaussLegendreUnit } from '../../src/numerics/gauss-legendre.js';

describe('gaussLegendre', () => {
  it('matches the tabulated 2-, 3- and 5-point rules', () => {
    // closed forms (Abramowitz & Stegun 25.4.29, table 25.4)
    const r2 = gaussLegendre(2);
    expect(Array.from(r2.nodes)).toEqual([expect.closeTo(-1 / Math.sqrt(3), 15), expect.closeTo(1 / Math.sqrt(3), 15)]);
    expect(Array.from(r2.weights)).toEqual([expect.closeTo(1, 15), expect.closeTo(1, 15)]);
    const r3 = gaussLegendre(3);
    const s = Math.sqrt(3 / 5);
    [-s, 0, s].forEach((t, i) => {
      expect(r3.nodes[i]).toBeCloseTo(t, 15);
    });
    [5 / 9, 8 / 9, 5 / 9].forEach((w, i) => {
      expect(r3.weights[i]).toBeCloseTo(w, 15);
    });
    const r5 = gaussLegendre(5);
    const a = (1 / 3) * Math.sqrt(5 - 2 * Math.sqrt(10 / 7));
    const b = (1 / 3) * Math.sqrt(5 + 2 * Math.sqrt(10 / 7));
    const wa = (322 + 13 * Math.sqrt(70)) / 900;
    const wb = (322 - 13 * Math.sqrt(70)) / 900;
    [-b, -a, 0, a, b].forEach((t, i) => {
      expect(r5.nodes[i]).toBeCloseTo(t, 14);
    });
    [wb, wa, 128 / 225, wa, wb].forEach((w, i) => {
      expect(r5.weights[i]).toBeCloseTo(w, 14);
    });
  });

  it('integrates every monomial of degree <= 2n - 1 exactly and not degree 2n', () => {
    for (const n of [1, 2, 4, 7, 16, 50, 129]) {
      const { nodes, weights } = gaussLegendre(n);
      for (let k = 0; k <= 2 * n - 1; k++) {
        let q = 0;
        for (let i = 0; i < n; i++) q += weights[i] * nodes[i] ** k;
        const exact = k % 2 === 1 ? 0 : 2 / (k + 1);
        // t^k on [-1,1] is bounded by 1, so absolute error is the right measure
        expect(Math.abs(q - exact)).toBeLessThan(1e-13);
      }
      let q = 0;
      for (let i = 0; i < n; i++) q += weights[i] * nodes[i] ** (2 * n);
      if (n <= 7) expect(Math.abs(q - 2 / (2 * n + 1))).toBeGreaterThan(1e-6);
    }
  });

  it('maps to [0, 1] with weights summing to 1 and integrates exp to machine precision', () => {
    const { nodes, weights } = gaussLegendreUnit(12);
    expect(weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 15);
    expect(Math.min(...nodes)).toBeGreaterThan(0);
    expect(Math.max(...nodes)).toBeLessThan(1);
    let q = 0;
    for (let i = 0; i < nodes.length; i++) q += weights[i] * Math.exp(nodes[i]);
    expect(q).toBeCloseTo(Math.E - 1, 14);
  });

  it('refuses a bad node count', () => {
    expect(() => gaussLegendre(0)).toThrow(InvalidOptionError);
    expect(() => gaussLegendre(2.5)).toThrow(/integer in 1\.\.4096/);
  });
});
