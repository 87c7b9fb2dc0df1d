import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { CoalitionDesign } from '../../src/sampling/coalitions.js';
import { allocate, binomial, PairedSampler, shapKernelDesign } from '../../src/sampling/coalitions.js';
import { Rng } from '../../src/sampling/rng.js';

/** Coalition s of a design as a bit mask (bit j = player j), read from the 0/1 bytes. */
const maskAt = (masks: Uint8Array, s: number, n: number) => {
  let m = 0;
  for (let j = 0; j < n; j++) if (masks[s * n + j]) m += 2 ** j;
  return m;
};
const popcount = (m: number) => {
  let c = 0;
  for (let x = m; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
};
const leverage = () => 1;

/** Structural checks every design must pass; returns its coalitions as bit masks. */
function checkDesign(d: CoalitionDesign, n: number): number[] {
  const full = 2 ** n - 1;
  const W = Math.ceil(n / 32);
  expect(d.n).toBe(n);
  expect(d.count % 2).toBe(0);
  expect(d.masks.length).toBe(d.count * n);
  const list: number[] = [];
  let bad = 0; // per-coalition checks, counted to keep the loop cheap
  for (let s = 0; s < d.count; s++) {
    const m = maskAt(d.masks, s, n);
    list.push(m);
    if (m === 0 || m === full) bad++; // never ∅ or N
    if (d.sizes[s] !== popcount(m)) bad++;
    // the bit-set form agrees with the bytes
    for (let j = 0; j < n; j++) if (((d.bits[s * W + (j >> 5)] >>> (j & 31)) & 1) !== d.masks[s * n + j]) bad++;
  }
  expect(bad).toBe(0);
  // rows 2t, 2t+1 are a coalition and its complement
  let unpaired = 0;
  for (let t = 0; t < d.count; t += 2) if (list[t] + list[t + 1] !== full) unpaired++;
  expect(unpaired).toBe(0);
  // no duplicates
  expect(new Set(list).size).toBe(d.count);
  // classPairs account for every row
  expect(Array.from(d.classPairs).reduce((a, b) => a + b, 0) * 2).toBe(d.count);
  return list;
}

describe('PairedSampler', () => {
  test.prop([fc.integer({ min: 2, max: 9 }), fc.integer({ min: 2, max: 600 }), fc.integer(), fc.boolean()], {
    numRuns: 60,
    seed: 21,
  })('designs are paired, distinct, without ∅/N, within the budget', (n, budget, seed, kernelMass) => {
    const mass = kernelMass ? (s: number) => 1 / (s * (n - s)) : leverage;
    const d = new PairedSampler(n, mass, Rng.fromSeed(seed)).design(budget);
    checkDesign(d, n);
    const room = Math.min(budget - 2, 2 ** n - 2);
    expect(d.count).toBeLessThanOrEqual(Math.max(budget - 2, 0));
    // every affordable pair is used
    expect(d.count).toBe(2 * Math.floor(Math.max(0, room) / 2));
    // complete exactly when the budget covers every coalition
    expect(d.complete).toBe(budget >= 2 ** n);
    if (d.complete) expect(d.count).toBe(2 ** n - 2);
  });

  test.prop(
    [
      fc.integer({ min: 3, max: 10 }),
      fc.array(fc.integer({ min: 4, max: 1100 }), { minLength: 2, maxLength: 4 }),
      fc.integer(),
      fc.boolean(),
    ],
    { numRuns: 40, seed: 22 },
  )('designs of growing budgets are nested (pair p of a class never changes)', (n, budgets, seed, kernelMass) => {
    const mass = kernelMass ? (s: number) => 1 / (s * (n - s)) : leverage;
    const sampler = new PairedSampler(n, mass, Rng.fromSeed(seed));
    const sorted = [...budgets].sort((a, b) => a - b);
    let previous: Set<number> | undefined;
    for (const b of sorted) {
      const d = sampler.design(b);
      const list = checkDesign(d, n);
      expect(d.count).toBeLessThanOrEqual(b - 2);
      const set = new Set(list);
      if (previous) expect([...previous].filter((m) => !set.has(m))).toEqual([]);
      previous = set;
    }
  });

  it('unit weights are Horvitz–Thompson: per coalition size they sum to 1', () => {
    for (const [n, budget] of [
      [8, 40],
      [9, 100],
      [10, 300],
      [12, 2072],
      [7, 128],
    ]) {
      const d = new PairedSampler(n, leverage, Rng.fromSeed(n)).design(budget);
      const sums = new Map<number, number>();
      for (let s = 0; s < d.count; s++) sums.set(d.sizes[s], (sums.get(d.sizes[s]) ?? 0) + d.unit[s]);
      for (const [, total] of sums) expect(total).toBeCloseTo(1, 12);
      // enumerated sizes carry unit 1/C(n, s) and no jackknife group; sampled sizes have a group
      const perSize = new Array<number>(n + 1).fill(0);
      for (let s = 0; s < d.count; s++) perSize[d.sizes[s]]++;
      for (let s = 0; s < d.count; s++) {
        const size = d.sizes[s];
        if (perSize[size] === binomial(n, size)) {
          expect(d.group[s]).toBe(-1);
          expect(d.unit[s]).toBeCloseTo(1 / binomial(n, size), 15);
        } else {
          expect(d.group[s]).toBeGreaterThanOrEqual(0);
          expect(d.group[s]).toBeLessThan(d.groups);
        }
      }
    }
  });

  it('deals sampled pairs to balanced jackknife groups (few pairs per size class)', () => {
    // 150 players, 199 pairs over 75 size classes (~2.7 each): a per-class count would put
    // ~75 pairs in group 0 and almost none in groups 3–7, so that leaving group 0 out left
    // fewer pairs than players (a singular replicate)
    const d = new PairedSampler(150, leverage, Rng.fromSeed(3)).design(2 * 199 + 2, { bytes: false });
    expect(d.groups).toBe(8);
    const perGroup = new Array<number>(d.groups).fill(0);
    for (let s = 0; s < d.count; s += 2) {
      expect(d.group[s + 1]).toBe(d.group[s]); // a pair stays together
      perGroup[d.group[s]]++;
    }
    expect(Math.max(...perGroup) - Math.min(...perGroup)).toBeLessThanOrEqual(1);
  });

  it('leverage mass spreads coalitions evenly over sizes; kernel mass as 1/(s(n−s))', () => {
    const n = 20;
    const budget = 2002; // 1000 pairs: sizes 1 and 19 (20 each) are enumerated, the rest sampled
    const count = (d: CoalitionDesign) => {
      const c = new Array<number>(n + 1).fill(0);
      for (let s = 0; s < d.count; s++) c[d.sizes[s]]++;
      return c;
    };
    const lev = count(new PairedSampler(n, leverage, Rng.fromSeed(1)).design(budget));
    expect(lev.reduce((a, b) => a + b, 0)).toBe(2000);
    // water-filling: capped sizes are complete, the others share the rest equally (±1 pair)
    const capped = [1, 19];
    for (const s of capped) expect(lev[s]).toBe(binomial(n, s));
    const free = Array.from({ length: n - 1 }, (_, i) => i + 1).filter((s) => !capped.includes(s));
    const level = (2000 - 40) / free.length;
    for (const s of free) expect(Math.abs(lev[s] - level)).toBeLessThanOrEqual(2);

    const ker = count(new PairedSampler(n, (s) => 1 / (s * (n - s)), Rng.fromSeed(1)).design(budget));
    expect(ker.reduce((a, b) => a + b, 0)).toBe(2000);
    // proportional to 1/(s(n−s)) with caps: find the level c with Σ min(C(n,s), c/(s(n−s))) = 2000
    const share = (c: number) =>
      Array.from({ length: n - 1 }, (_, i) => i + 1).map((s) => Math.min(binomial(n, s), c / (s * (n - s))));
    let lo = 0;
    let hi = 1e9;
    for (let it = 0; it < 200; it++) {
      const mid = (lo + hi) / 2;
      if (share(mid).reduce((a, b) => a + b, 0) < 2000) lo = mid;
      else hi = mid;
    }
    const ideal = share(lo);
    for (let s = 1; s < n; s++) expect(Math.abs(ker[s] - ideal[s - 1])).toBeLessThanOrEqual(2);
  });

  it('is seeded: the same seed gives the same design, another seed a different one', () => {
    const a = new PairedSampler(10, leverage, Rng.fromSeed(5)).design(200);
    const b = new PairedSampler(10, leverage, Rng.fromSeed(5)).design(200);
    const c = new PairedSampler(10, leverage, Rng.fromSeed(6)).design(200);
    expect(Array.from(a.masks)).toEqual(Array.from(b.masks));
    expect(Array.from(a.masks)).not.toEqual(Array.from(c.masks));
  });

  it('handles more than 32 players (multi-word bit sets)', () => {
    const n = 40;
    const d = new PairedSampler(n, leverage, Rng.fromSeed(3)).design(300);
    expect(d.count).toBe(298);
    expect(d.complete).toBe(false);
    const W = 2;
    const keys = new Set<string>();
    let bad = 0;
    for (let s = 0; s < d.count; s++) {
      let ones = 0;
      for (let j = 0; j < n; j++) {
        const bit = (d.bits[s * W + (j >> 5)] >>> (j & 31)) & 1;
        if (bit !== d.masks[s * n + j]) bad++;
        ones += bit;
      }
      if (ones !== d.sizes[s] || ones === 0 || ones === n) bad++;
      keys.add(Array.from(d.masks.subarray(s * n, s * n + n)).join(''));
    }
    for (let t = 0; t < d.count; t += 2)
      for (let j = 0; j < n; j++) if (d.masks[t * n + j] + d.masks[(t + 1) * n + j] !== 1) bad++;
    expect(bad).toBe(0);
    expect(keys.size).toBe(d.count);
  });
});

describe('allocate', () => {
  test.prop(
    [
      fc
        .array(fc.tuple(fc.double({ min: 0.01, max: 10, noNaN: true }), fc.integer({ min: 0, max: 60 })), {
          minLength: 1,
          maxLength: 8,
        })
        .chain((classes) =>
          fc.tuple(fc.constant(classes), fc.integer({ min: 0, max: classes.reduce((a, [, c]) => a + c, 0) + 20 })),
        ),
    ],
    { numRuns: 200, seed: 23 },
  )('sums to the total (or every cap), respects caps, and follows the water-filling shares', ([classes, total]) => {
    const mass = classes.map(([m]) => m);
    const cap = classes.map(([, c]) => c);
    const out = allocate(mass, cap, total);
    const capSum = cap.reduce((a, b) => a + b, 0);
    expect(Array.from(out).reduce((a, b) => a + b, 0)).toBe(Math.min(total, capSum));
    out.forEach((o, i) => {
      expect(Number.isInteger(o)).toBe(true);
      expect(o).toBeGreaterThanOrEqual(0);
      expect(o).toBeLessThanOrEqual(cap[i]);
    });
    if (total >= capSum) {
      expect(Array.from(out)).toEqual(cap);
      return;
    }
    // independent water level: Σ min(cap_i, c·mass_i) = total, by bisection
    const filled = (c: number) => mass.reduce((a, m, i) => a + Math.min(cap[i], c * m), 0);
    let lo = 0;
    let hi = 1;
    while (filled(hi) < total) hi *= 2;
    for (let it = 0; it < 200; it++) {
      const mid = (lo + hi) / 2;
      if (filled(mid) < total) lo = mid;
      else hi = mid;
    }
    out.forEach((o, i) => {
      expect(Math.abs(o - Math.min(cap[i], hi * mass[i]))).toBeLessThan(1 + 1e-6);
    });
  });

  it('splits in proportion to mass when nothing is capped', () => {
    expect(Array.from(allocate([1, 2, 3, 4], [100, 100, 100, 100], 50))).toEqual([5, 10, 15, 20]);
    // a capped class hands its surplus to the others
    expect(Array.from(allocate([1, 1, 1], [2, 100, 100], 30))).toEqual([2, 14, 14]);
  });
});

describe('shapKernelDesign', () => {
  /** Shapley kernel weight of one coalition of size s (up to a constant). */
  const kernel = (n: number, s: number) => (n - 1) / (binomial(n, s) * s * (n - s));
  const totalKernel = (n: number) => {
    let t = 0;
    for (let s = 1; s < n; s++) t += binomial(n, s) * kernel(n, s);
    return t;
  };

  it('n = 10 with the default budget 2·10 + 2048: every size is enumerated (complete), weights = Shapley kernel', () => {
    // by hand (shap's rule: enumerate a size while samples left × its renormalised weight / subsets ≥ 1):
    // normalised size weights 0.3928, 0.2209, 0.1683, 0.1473, 0.0707; with 2066 samples, size 1
    // (20 subsets: 40.6), size 2 (90: 8.3), size 3 (240: 3.6), size 4 (420: 2.8) and size 5 (252 subsets,
    // 1296 left × 1.0 / 252 = 5.1) all pass, so the design is every coalition.
    const n = 10;
    const d = shapKernelDesign(n, 2 * n + 2048, Rng.fromSeed(1));
    expect(d.complete).toBe(true);
    expect(d.count).toBe(2 ** n - 2);
    const seen = new Set<number>();
    let wsum = 0;
    const K = totalKernel(n);
    for (let s = 0; s < d.count; s++) {
      const m = maskAt(d.masks, s, n);
      seen.add(m);
      wsum += d.weights[s];
      expect(d.weights[s]).toBeCloseTo(kernel(n, popcount(m)) / K, 14);
    }
    expect(seen.size).toBe(2 ** n - 2);
    expect(wsum).toBeCloseTo(1, 12);
  });

  it('n = 12 with the default budget: sizes 1–3 and 9–11 enumerated, the rest sampled (weights sum to 1)', () => {
    // by hand: normalised size weights (sizes 1..6) 0.3612, 0.1987, 0.1472, 0.1242, 0.1135, 0.0552;
    // 2070 samples: size 1 (24 subsets: 31.2 ≥ 1), size 2 (132: 4.82), size 3 (440: 1.45) pass, size 4
    // (990 subsets, 1474 samples left × 0.424 / 990 = 0.63 < 1) does not: 24 + 132 + 440 = 596 fixed.
    const n = 12;
    const budget = 2 * n + 2048;
    const d = shapKernelDesign(n, budget, Rng.fromSeed(2));
    expect(d.complete).toBe(false);
    expect(d.count).toBeLessThanOrEqual(budget - 2);
    const K = totalKernel(n);
    const enumerated = new Set([1, 2, 3, 9, 10, 11]);
    const seen = new Set<number>();
    let fixed = 0;
    let wsum = 0;
    let enumeratedWeight = 0;
    for (let s = 0; s < d.count; s++) {
      const m = maskAt(d.masks, s, n);
      const size = popcount(m);
      expect(seen.has(m)).toBe(false); // duplicates are merged into weights
      seen.add(m);
      wsum += d.weights[s];
      if (s < 596) {
        expect(enumerated.has(size)).toBe(true);
        expect(d.weights[s]).toBeCloseTo(kernel(n, size) / K, 14);
        fixed++;
        enumeratedWeight += d.weights[s];
      } else {
        expect(size).toBeGreaterThanOrEqual(4);
        expect(size).toBeLessThanOrEqual(8);
      }
    }
    expect(fixed).toBe(596);
    for (const size of enumerated) {
      const count = [...seen].filter((m) => popcount(m) === size).length;
      expect(count).toBe(binomial(n, size));
    }
    // the enumerated block carries its kernel mass; the sampled block the rest
    let mass123 = 0;
    for (const s of enumerated) mass123 += binomial(n, s) * kernel(n, s);
    expect(enumeratedWeight).toBeCloseTo(mass123 / K, 12);
    expect(wsum).toBeCloseTo(1, 12);
    // the sampled part fills (nearly) all of the remaining budget
    expect(d.count).toBeGreaterThan(budget - 2 - 10);
  });

  test.prop([fc.integer({ min: 2, max: 9 }), fc.integer({ min: 4, max: 400 }), fc.integer()], {
    numRuns: 40,
    seed: 24,
  })('weights sum to 1 whenever sampling happens, within the budget, seeded', (n, budget, seed) => {
    const d = shapKernelDesign(n, budget, Rng.fromSeed(seed));
    expect(d.count).toBeLessThanOrEqual(Math.max(0, budget - 2));
    expect(d.complete).toBe(d.count === 2 ** n - 2);
    const masks = new Set<number>();
    for (let s = 0; s < d.count; s++) masks.add(maskAt(d.masks, s, n));
    expect(masks.size).toBe(d.count);
    expect(masks.has(0)).toBe(false);
    expect(masks.has(2 ** n - 1)).toBe(false);
    if (d.count > 0 && (d.complete || budget - 2 >= 2 * n)) {
      const sum = d.weights.reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(1, 10);
    }
    const again = shapKernelDesign(n, budget, Rng.fromSeed(seed));
    expect(Array.from(again.masks)).toEqual(Array.from(d.masks));
    expect(Array.from(again.weights)).toEqual(Array.from(d.weights));
  });
});
