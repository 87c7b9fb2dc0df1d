import { describe, expect, it } from 'vitest';
import { definePlayers } from '../../src/data/players.js';
import { binOf, limeSample, limeStats } from '../../src/sampling/lime-sampler.js';
import { normalCdf, normalQuantile, truncatedNormal } from '../../src/sampling/normal.js';
import { Rng } from '../../src/sampling/rng.js';

describe('normal helpers', () => {
  it('Φ and Φ⁻¹ match tabulated values and invert each other', () => {
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 7);
    expect(normalCdf(-1)).toBeCloseTo(0.15865525393145707, 7);
    for (const p of [1e-10, 0.001, 0.3, 0.5, 0.9, 0.999999]) expect(normalCdf(normalQuantile(p)) / p).toBeCloseTo(1, 5);
  });

  it('truncated normal draws have the closed-form moments and stay in bounds', () => {
    const rng = Rng.fromSeed(1);
    const n = 40000;
    let bad = 0;
    // N(0,1) on [-1, 1]: mean 0, variance 1 − 2φ(1)/(Φ(1) − Φ(−1)) = 0.29113
    let m = 0;
    let v = 0;
    for (let i = 0; i < n; i++) {
      const x = truncatedNormal(rng, 0, 1, -1, 1);
      if (!(x >= -1 && x <= 1)) bad++;
      m += x;
      v += x * x;
    }
    expect(m / n).toBeCloseTo(0, 2);
    expect(v / n).toBeCloseTo(0.29113, 2);
    // N(0,1) on [0, 12]: mean √(2/π) = 0.79788; a far upper tail [5, 6]: mean ≈ 5.186 (φ(5)−φ(6))/(Φ(6)−Φ(5))
    let a = 0;
    let t = 0;
    for (let i = 0; i < n; i++) {
      a += truncatedNormal(rng, 0, 1, 0, 12);
      const y = truncatedNormal(rng, 0, 1, 5, 6);
      if (!(y >= 5 && y <= 6)) bad++;
      t += y;
    }
    expect(a / n).toBeCloseTo(0.79788, 2);
    expect(t / n).toBeCloseTo(5.1865, 2);
    expect(bad).toBe(0);
  });
});

describe('limeSample', () => {
  const n = 400;
  const d = 3;
  const data = new Float64Array(n * d);
  const rng = Rng.fromSeed(3);
  for (let i = 0; i < n; i++) {
    data[i * d] = rng.normal() * 3 + 1;
    data[i * d + 1] = i % 4 === 0 ? 1 : 0;
    data[i * d + 2] = i % 4 === 0 ? 0 : 1;
  }
  const columns = ['age', 'job=a', 'job=b'];
  const players = definePlayers(columns, { job: ['job=a', 'job=b'] });

  it('quartile sampling: each sample lands in the bin its binary feature says, bins drawn ~ 25% each', () => {
    const stats = limeStats({ data, nRows: n }, players, columns, 'quartile', new Set());
    const f = stats.features[0];
    if (f.kind !== 'binned') throw new Error('expected a binned feature');
    expect(f.edges).toHaveLength(3);
    const x = Float64Array.of(1.2, 1, 0);
    const m = 8000;
    const s = limeSample(stats, x, m, Rng.fromSeed(4));
    expect(Array.from(s.rows.subarray(0, d))).toEqual(Array.from(x));
    const own = binOf(f.edges, x[0]);
    const counts = [0, 0, 0, 0];
    let jobA = 0;
    let bad = 0;
    for (let i = 1; i < m; i++) {
      const b = binOf(f.edges, s.rows[i * d]);
      counts[b]++;
      if (s.z[i * 2] !== (b === own ? 1 : 0)) bad++;
      if (!(s.rows[i * d] >= f.lo[b] && s.rows[i * d] <= f.hi[b])) bad++;
      // the group is resampled as a whole pattern from the training frequencies (1/4 job=a)
      const isA = s.rows[i * d + 1] === 1 && s.rows[i * d + 2] === 0;
      if (!(isA || (s.rows[i * d + 1] === 0 && s.rows[i * d + 2] === 1))) bad++;
      if (s.z[i * 2 + 1] !== (isA ? 1 : 0)) bad++;
      if (isA) jobA++;
    }
    expect(bad).toBe(0);
    for (const c of counts) expect(c / (m - 1)).toBeCloseTo(0.25, 1);
    expect(jobA / (m - 1)).toBeCloseTo(0.25, 1);
  });

  it('binned values inside each bin follow the truncated normal (closed-form mean), independent of the bin choice', () => {
    const stats = limeStats({ data, nRows: n }, players, columns, 'quartile', new Set());
    const f = stats.features[0];
    if (f.kind !== 'binned') throw new Error('expected a binned feature');
    const m = 40001;
    const s = limeSample(stats, Float64Array.of(1.2, 1, 0), m, Rng.fromSeed(9));
    const phi = (t: number) => Math.exp((-t * t) / 2) / Math.sqrt(2 * Math.PI);
    for (let b = 0; b < 4; b++) {
      let sum = 0;
      let count = 0;
      for (let i = 1; i < m; i++) {
        const v = s.rows[i * d];
        if (binOf(f.edges, v) === b) {
          sum += v;
          count++;
        }
      }
      const al = (f.lo[b] - f.mean[b]) / f.std[b];
      const be = (f.hi[b] - f.mean[b]) / f.std[b];
      const mass = normalCdf(be) - normalCdf(al);
      const mean = f.mean[b] + (f.std[b] * (phi(al) - phi(be))) / mass;
      // sd of a value within the bin is below the bin's width; 5 standard errors
      expect(Math.abs(sum / count - mean)).toBeLessThan((5 * (f.hi[b] - f.lo[b])) / Math.sqrt(count));
    }
  });

  it('Gaussian sampling: training mean and std, interpretable value = standardised value', () => {
    const stats = limeStats({ data, nRows: n }, players, columns, 'none', new Set());
    const f = stats.features[0];
    if (f.kind !== 'continuous') throw new Error('expected a continuous feature');
    const s = limeSample(stats, Float64Array.of(5, 0, 1), 20000, Rng.fromSeed(5));
    let m = 0;
    let v = 0;
    let worst = 0;
    for (let i = 1; i < s.n; i++) {
      const x = s.rows[i * d];
      worst = Math.max(worst, Math.abs(s.z[i * 2] - (x - f.mean) / f.std));
      m += x;
      v += (x - f.mean) ** 2;
    }
    expect(worst).toBeLessThan(1e-12);
    expect(m / (s.n - 1)).toBeCloseTo(f.mean, 1);
    expect(Math.sqrt(v / (s.n - 1)) / f.std).toBeCloseTo(1, 1);
    expect(s.z[0]).toBeCloseTo((5 - f.mean) / f.std, 12);
  });
});
