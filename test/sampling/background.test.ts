import { describe, expect, it } from 'vitest';
import { DataError, InvalidOptionError, ShapeError } from '../../src/errors.js';
import type { Background } from '../../src/sampling/background.js';
import { createBackground, summarizeBackground } from '../../src/sampling/background.js';
import { Rng } from '../../src/sampling/rng.js';
import { mulberry32 } from '../helpers/games.js';

const rowsOf = (bg: Background) =>
  Array.from({ length: bg.nRows }, (_, r) => Array.from(bg.data.subarray(r * bg.nColumns, (r + 1) * bg.nColumns)));
const key = (row: number[]) => row.join(',');

describe('createBackground', () => {
  it('rejects an empty background with a DataError', () => {
    expect(() => createBackground({ data: new Float64Array(0), nRows: 0, nColumns: 3 })).toThrow(DataError);
    expect(() => createBackground({ data: new Float64Array(0), nRows: 0, nColumns: 3 })).toThrow(/empty/);
  });

  it('rejects NaN and infinite values with a DataError naming the row and column', () => {
    const data = Float64Array.from([1, 2, 3, 4, Number.NaN, 6]);
    expect(() => createBackground({ data, nRows: 2, nColumns: 3 })).toThrow(DataError);
    try {
      createBackground({ columns: ['a', 'b', 'c'], data, nRows: 2 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DataError);
      expect((error as DataError).message).toMatch(/NaN/);
      expect((error as DataError).message).toMatch(/row 1/);
      expect((error as DataError).location.column).toBe(2);
      expect((error as DataError).location.columnName).toBe('b');
    }
    const inf = Float64Array.from([1, Number.POSITIVE_INFINITY]);
    expect(() => createBackground({ data: inf, nRows: 1, nColumns: 2 })).toThrow(DataError);
  });

  it('rejects a buffer of the wrong size with a ShapeError', () => {
    expect(() => createBackground({ data: new Float64Array(5), nRows: 2, nColumns: 3 })).toThrow(ShapeError);
  });

  it('rejects bad weights: wrong count, negative, non-finite, all zero', () => {
    const rows = { data: new Float64Array(6), nRows: 3, nColumns: 2 };
    for (const w of [
      [1, 1],
      [1, -1, 1],
      [1, Number.NaN, 1],
      [1, Number.POSITIVE_INFINITY, 1],
      [0, 0, 0],
    ])
      expect(() => createBackground(rows, w)).toThrow(InvalidOptionError);
  });

  it('normalises weights to sum 1 (uniform by default), keeping proportions', () => {
    const rows = { data: new Float64Array(8), nRows: 4, nColumns: 2 };
    expect(Array.from(createBackground(rows).weights)).toEqual([0.25, 0.25, 0.25, 0.25]);
    const bg = createBackground(rows, [1, 3, 2, 2]);
    expect(Array.from(bg.weights)).toEqual([0.125, 0.375, 0.25, 0.25]);
    expect(bg.nRows).toBe(4);
    expect(bg.nColumns).toBe(2);
  });

  it('drops rows of weight 0 (they cannot change a value, only cost model rows)', () => {
    const rows = { data: Float64Array.of(1, 1, 2, 2, 3, 3, 4, 4), nRows: 4, nColumns: 2 };
    const bg = createBackground(rows, [1, 3, 0, 4]);
    expect(Array.from(bg.weights)).toEqual([0.125, 0.375, 0.5]);
    expect(Array.from(bg.data)).toEqual([1, 1, 2, 2, 4, 4]);
    expect(bg.nRows).toBe(3);
    expect(bg.summary).toMatch(/1 of weight 0 dropped/);
  });
});

/** Three tight, far-apart clusters of the given sizes in 3 columns; column 0 doubles as a row id offset. */
function clustered(sizes: number[], seed: number): { bg: number[][]; cluster: number[] } {
  const rnd = mulberry32(seed);
  const centres = [
    [0, 0, 0],
    [100, -50, 20],
    [-80, 60, 200],
  ];
  const bg: number[][] = [];
  const cluster: number[] = [];
  sizes.forEach((size, c) => {
    for (let i = 0; i < size; i++) {
      bg.push(centres[c].map((v) => v + rnd() - 0.5));
      cluster.push(c);
    }
  });
  return { bg, cluster };
}

describe('summarizeBackground (kmeans)', () => {
  it('returns one real row per well-separated cluster, weighted by cluster size', () => {
    const sizes = [10, 20, 30];
    const { bg, cluster } = clustered(sizes, 1);
    const full = createBackground({ data: Float64Array.from(bg.flat()), nRows: bg.length, nColumns: 3 });
    const s = summarizeBackground(full, Rng.fromSeed(3), { method: 'kmeans', rows: 3 });
    expect(s.nRows).toBe(3);
    expect(s.nColumns).toBe(3);
    const index = new Map(bg.map((r, i) => [key(r), i]));
    const clustersSeen = new Set<number>();
    rowsOf(s).forEach((row, i) => {
      const at = index.get(key(row));
      expect(at).toBeDefined(); // a medoid: an input row, bit for bit
      const c = cluster[at as number];
      clustersSeen.add(c);
      expect(s.weights[i]).toBeCloseTo(sizes[c] / 60, 12);
    });
    expect(clustersSeen.size).toBe(3);
    expect(s.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(s.summary).toMatch(/k-means/);
  });

  it('weights are the clusters’ total input weight when the input is weighted', () => {
    const sizes = [10, 20, 30];
    const { bg, cluster } = clustered(sizes, 2);
    // rows of cluster 0 weigh 6 each, cluster 1: 1, cluster 2: 1 → masses 60, 20, 30
    const w = cluster.map((c) => (c === 0 ? 6 : 1));
    const full = createBackground({ data: Float64Array.from(bg.flat()), nRows: bg.length, nColumns: 3 }, w);
    const s = summarizeBackground(full, Rng.fromSeed(4), { rows: 3 });
    const index = new Map(bg.map((r, i) => [key(r), i]));
    const mass = [60 / 110, 20 / 110, 30 / 110];
    rowsOf(s).forEach((row, i) => {
      const c = cluster[index.get(key(row)) as number];
      expect(s.weights[i]).toBeCloseTo(mass[c], 12);
    });
  });

  it('on unstructured data returns k distinct input rows with weights summing to 1', () => {
    const rnd = mulberry32(7);
    const bg = Array.from({ length: 120 }, () => [rnd(), rnd() * 10, Math.floor(rnd() * 3)]);
    const full = createBackground({ data: Float64Array.from(bg.flat()), nRows: 120, nColumns: 3 });
    const s = summarizeBackground(full, Rng.fromSeed(8), { method: 'kmeans', rows: 9 });
    expect(s.nRows).toBe(9);
    const inputs = new Set(bg.map(key));
    const rows = rowsOf(s).map(key);
    for (const r of rows) expect(inputs.has(r)).toBe(true);
    expect(new Set(rows).size).toBe(9);
    expect(s.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // each weight is a multiple of 1/120 (a count of input rows), at least one row
    for (const w of s.weights) {
      expect(w * 120).toBeCloseTo(Math.round(w * 120), 9);
      expect(Math.round(w * 120)).toBeGreaterThanOrEqual(1);
    }
    // seeded
    const again = summarizeBackground(full, Rng.fromSeed(8), { method: 'kmeans', rows: 9 });
    expect(Array.from(again.data)).toEqual(Array.from(s.data));
    expect(Array.from(again.weights)).toEqual(Array.from(s.weights));
  });

  it('returns a background with at most `rows` rows unchanged', () => {
    const full = createBackground({ data: Float64Array.from([1, 2, 3, 4]), nRows: 2, nColumns: 2 });
    expect(summarizeBackground(full, Rng.fromSeed(1), { rows: 5 })).toBe(full);
    expect(summarizeBackground(full, Rng.fromSeed(1), { rows: 2, method: 'sample' })).toBe(full);
  });

  it('rejects bad options', () => {
    const full = createBackground({ data: new Float64Array(20), nRows: 10, nColumns: 2 });
    expect(() => summarizeBackground(full, Rng.fromSeed(1), { rows: 0 })).toThrow(InvalidOptionError);
    expect(() => summarizeBackground(full, Rng.fromSeed(1), { rows: 2.5 })).toThrow(InvalidOptionError);
    expect(() => summarizeBackground(full, Rng.fromSeed(1), { method: 'median' as never })).toThrow(InvalidOptionError);
  });
});

describe('summarizeBackground (sample)', () => {
  // row r = [r, 2r]: the id identifies the input row
  const n = 50;
  const full = createBackground({
    data: Float64Array.from({ length: 2 * n }, (_, i) => (i % 2 === 0 ? i / 2 : i - 1)),
    nRows: n,
    nColumns: 2,
  });
  const ids = (bg: Background) => rowsOf(bg).map((r) => r[0]);

  it('keeps k distinct input rows in input order, equal weights, seeded', () => {
    const a = summarizeBackground(full, Rng.fromSeed(10), { method: 'sample', rows: 12 });
    expect(a.nRows).toBe(12);
    const got = ids(a);
    expect(new Set(got).size).toBe(12);
    for (const r of rowsOf(a)) expect(r[1]).toBe(2 * r[0]);
    expect(got).toEqual([...got].sort((x, y) => x - y));
    for (const w of a.weights) expect(w).toBeCloseTo(1 / 12, 15);
    const b = summarizeBackground(full, Rng.fromSeed(10), { method: 'sample', rows: 12 });
    expect(ids(b)).toEqual(got);
    const c = summarizeBackground(full, Rng.fromSeed(11), { method: 'sample', rows: 12 });
    expect(ids(c)).not.toEqual(got);
  });

  it('keeps the input weights of the sampled rows (renormalised)', () => {
    const weighted = createBackground(
      full,
      Array.from({ length: n }, (_, r) => r + 1),
    );
    const s = summarizeBackground(weighted, Rng.fromSeed(3), { method: 'sample', rows: 5 });
    const picked = ids(s);
    const total = picked.reduce((a, r) => a + r + 1, 0);
    picked.forEach((r, i) => {
      expect(s.weights[i]).toBeCloseTo((r + 1) / total, 14);
    });
  });
});

describe('summarizeBackground: duplicate rows (empty k-means clusters)', () => {
  it('returns real rows with weights summing to 1 when many rows repeat', () => {
    // 3 distinct rows repeated: asking for 5 clusters leaves clusters empty
    const distinct = [
      [0, 0],
      [5, 5],
      [9, 1],
    ];
    const data = Float64Array.from(Array.from({ length: 60 }, (_, i) => distinct[i % 3]).flat());
    const bg = createBackground({ data, nRows: 60, nColumns: 2 });
    const s = summarizeBackground(bg, Rng.fromSeed(3), { rows: 5 });
    expect(s.nRows).toBeLessThanOrEqual(5);
    expect(s.weights.reduce((a, w) => a + w, 0)).toBeCloseTo(1, 12);
    for (let r = 0; r < s.nRows; r++) {
      const row = [s.data[2 * r], s.data[2 * r + 1]];
      expect(distinct.some((d) => d[0] === row[0] && d[1] === row[1])).toBe(true);
    }
    // each distinct row's mass (1/3) is kept whatever the clustering
    for (const d of distinct) {
      let mass = 0;
      for (let r = 0; r < s.nRows; r++) if (s.data[2 * r] === d[0] && s.data[2 * r + 1] === d[1]) mass += s.weights[r];
      expect(mass).toBeCloseTo(1 / 3, 12);
    }
  });
});
