import type { Dataset } from '../data/dataset.js';
import { assertFinite } from '../data/dataset.js';
import { DataError, InvalidOptionError, ShapeError } from '../errors.js';
import { Rng } from './rng.js';

/**
 * Background (reference) rows for interventional masking: `nRows × nColumns` row-major
 * values and one weight per row (weights sum to 1).
 */
export interface Background {
  readonly data: Float64Array;
  readonly nRows: number;
  readonly nColumns: number;
  readonly weights: Float64Array;
  /** How the rows were obtained, for reports ("all 1000 rows", "k-means medoids (k=50) of 1000 rows"). */
  readonly summary: string;
}

/** Rows above which a background triggers a warning: each coalition value costs one model row per background row. */
export const LARGE_BACKGROUND_ROWS = 200;

/**
 * Wraps rows (and optional non-negative weights, normalised to sum 1) as a {@link Background}.
 * Rows of weight 0 are dropped: they cannot change any value and would only cost model rows.
 * @throws {DataError} for an empty background, non-finite values or bad weights.
 */
export function createBackground(
  rows: Dataset | { data: Float64Array; nRows: number; nColumns: number },
  weights?: ArrayLike<number>,
  summary?: string,
): Background {
  const nColumns = 'columns' in rows ? rows.columns.length : rows.nColumns;
  const { data, nRows } = rows;
  if (nRows < 1)
    throw new DataError(
      'the background is empty: pass at least one background row (typically 50-200 rows of training data)',
    );
  if (data.length !== nRows * nColumns)
    throw new ShapeError(`background holds ${data.length} values, expected ${nRows} × ${nColumns}`);
  assertFinite(data, 'columns' in rows ? rows.columns : nColumns, { what: 'background value' });
  if (weights === undefined) {
    const w = new Float64Array(nRows).fill(1 / nRows);
    return { data, nRows, nColumns, weights: w, summary: summary ?? `${nRows} rows` };
  }
  if (weights.length !== nRows)
    throw new InvalidOptionError('backgroundWeights', `one weight per background row (${nRows})`, weights);
  let sum = 0;
  const keep: number[] = [];
  for (let i = 0; i < nRows; i++) {
    const v = weights[i];
    if (!Number.isFinite(v) || v < 0)
      throw new InvalidOptionError(`backgroundWeights[${i}]`, 'a finite number >= 0', v);
    sum += v;
    if (v > 0) keep.push(i);
  }
  if (!(sum > 0)) throw new InvalidOptionError('backgroundWeights', 'weights with a positive sum', weights);
  const kept = new Float64Array(keep.length * nColumns);
  const w = new Float64Array(keep.length);
  keep.forEach((r, i) => {
    kept.set(data.subarray(r * nColumns, (r + 1) * nColumns), i * nColumns);
    w[i] = weights[r] / sum;
  });
  const dropped = nRows - keep.length;
  return {
    data: kept,
    nRows: keep.length,
    nColumns,
    weights: w,
    summary: summary ?? `${keep.length} rows${dropped > 0 ? ` (${dropped} of weight 0 dropped)` : ''}`,
  };
}

/** Options of {@link summarizeBackground}. */
export interface SummarizeOptions {
  /** `'kmeans'`: weighted k-means medoids; `'sample'`: a seeded uniform subsample. @defaultValue 'kmeans' */
  method?: 'kmeans' | 'sample';
  /** Rows to keep. @defaultValue 50 */
  rows?: number;
  /** k-means iterations (Lloyd). @defaultValue 25 */
  iterations?: number;
  /**
   * Seed of the summary (k-means++ seeding, or the subsample), independent of the
   * explanation's seed so that the CLI, the library and the service summarise a background
   * the same way. @defaultValue {@link SUMMARY_SEED} (0)
   */
  seed?: number;
}

/** The documented seed of background summaries (`summarize.seed` default). */
export const SUMMARY_SEED = 0;

/**
 * {@link summarizeBackground} with its own seeded stream: `options.seed`, else
 * {@link SUMMARY_SEED}. The library, the CLI (`--summarize`) and the service all summarise
 * through this, so the same background gives the same summary everywhere.
 */
export function summarizeSeeded(bg: Background, options: SummarizeOptions = {}): Background {
  const seed = options.seed ?? SUMMARY_SEED;
  if (!Number.isSafeInteger(seed)) throw new InvalidOptionError('summarize.seed', 'an integer', seed);
  return summarizeBackground(bg, Rng.fromSeed(seed), options);
}

/**
 * Summarises a large background to `rows` representative rows.
 *
 * `kmeans`: k-means++ seeding and Lloyd iterations on standardised columns, then each
 * centre is replaced by its **medoid** (the member row closest to it), so every summary row
 * is a real, valid input (one-hot groups stay one-hot, unlike averaged centres); weights
 * are the cluster sizes. `sample`: uniform rows without replacement, equal weights.
 * A background with at most `rows` rows is returned unchanged.
 */
export function summarizeBackground(bg: Background, rng: Rng, options: SummarizeOptions = {}): Background {
  const k = options.rows ?? 50;
  if (!Number.isInteger(k) || k < 1) throw new InvalidOptionError('rows', 'a positive integer', k);
  const method = options.method ?? 'kmeans';
  if (method !== 'kmeans' && method !== 'sample')
    throw new InvalidOptionError('method', "'kmeans' or 'sample'", method);
  if (bg.nRows <= k) return bg;
  const d = bg.nColumns;
  if (method === 'sample') {
    const idx = rng
      .shuffle(Int32Array.from({ length: bg.nRows }, (_, i) => i))
      .subarray(0, k)
      .sort();
    const data = new Float64Array(k * d);
    const w = new Float64Array(k);
    idx.forEach((r, i) => {
      data.set(bg.data.subarray(r * d, r * d + d), i * d);
      w[i] = bg.weights[r];
    });
    return createBackground({ data, nRows: k, nColumns: d }, w, `random sample of ${k} of ${bg.summary}`);
  }
  return kmeansMedoids(bg, k, rng, options.iterations ?? 25);
}

function kmeansMedoids(bg: Background, k: number, rng: Rng, iterations: number): Background {
  const { nRows: n, nColumns: d, weights } = bg;
  // standardise columns so scale does not decide the clusters
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) mean[c] += weights[r] * bg.data[r * d + c];
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) sd[c] += weights[r] * (bg.data[r * d + c] - mean[c]) ** 2;
  for (let c = 0; c < d; c++) sd[c] = sd[c] > 0 ? Math.sqrt(sd[c]) : 1;
  const z = new Float64Array(n * d);
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) z[r * d + c] = (bg.data[r * d + c] - mean[c]) / sd[c];
  const dist2 = (a: Float64Array, i: number, b: Float64Array, j: number) => {
    let s = 0;
    for (let c = 0; c < d; c++) {
      const t = a[i * d + c] - b[j * d + c];
      s += t * t;
    }
    return s;
  };
  // k-means++ seeding (weighted)
  const centres = new Float64Array(k * d);
  const best = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  let first = pickWeighted(weights, rng);
  centres.set(z.subarray(first * d, first * d + d), 0);
  const p = new Float64Array(n);
  for (let c = 1; c < k; c++) {
    for (let r = 0; r < n; r++) {
      best[r] = Math.min(best[r], dist2(z, r, centres, c - 1));
      p[r] = weights[r] * best[r];
    }
    first = pickWeighted(p, rng);
    centres.set(z.subarray(first * d, first * d + d), c * d);
  }
  const assign = new Int32Array(n);
  for (let it = 0; it < iterations; it++) {
    let moved = it === 0;
    for (let r = 0; r < n; r++) {
      let bi = 0;
      let bd = Number.POSITIVE_INFINITY;
      for (let c = 0; c < k; c++) {
        const dd = dist2(z, r, centres, c);
        if (dd < bd) {
          bd = dd;
          bi = c;
        }
      }
      if (assign[r] !== bi) moved = true;
      assign[r] = bi;
    }
    if (!moved) break;
    const mass = new Float64Array(k);
    centres.fill(0);
    for (let r = 0; r < n; r++) {
      mass[assign[r]] += weights[r];
      for (let c = 0; c < d; c++) centres[assign[r] * d + c] += weights[r] * z[r * d + c];
    }
    for (let c = 0; c < k; c++) if (mass[c] > 0) for (let j = 0; j < d; j++) centres[c * d + j] /= mass[c];
    // re-seed each empty cluster at the point farthest from its centre, one point per cluster
    const taken = new Uint8Array(n);
    for (let c = 0; c < k; c++) {
      if (mass[c] > 0) continue;
      let far = -1;
      let fd = -1;
      for (let r = 0; r < n; r++) {
        if (taken[r] || mass[assign[r]] === 0) continue;
        const dd = dist2(z, r, centres, assign[r]);
        if (dd > fd) {
          fd = dd;
          far = r;
        }
      }
      if (far < 0) continue; // fewer distinct points than clusters: the cluster stays empty
      taken[far] = 1;
      centres.set(z.subarray(far * d, far * d + d), c * d);
    }
  }
  // medoids, weights = cluster mass
  const medoid = new Int32Array(k).fill(-1);
  const medD = new Float64Array(k).fill(Number.POSITIVE_INFINITY);
  const mass = new Float64Array(k);
  for (let r = 0; r < n; r++) {
    const c = assign[r];
    mass[c] += weights[r];
    const dd = dist2(z, r, centres, c);
    if (dd < medD[c]) {
      medD[c] = dd;
      medoid[c] = r;
    }
  }
  const keep = Array.from({ length: k }, (_, c) => c).filter((c) => medoid[c] >= 0 && mass[c] > 0);
  const data = new Float64Array(keep.length * d);
  const w = new Float64Array(keep.length);
  keep.forEach((c, i) => {
    data.set(bg.data.subarray(medoid[c] * d, medoid[c] * d + d), i * d);
    w[i] = mass[c];
  });
  return createBackground(
    { data, nRows: keep.length, nColumns: d },
    w,
    `k-means medoids (k=${keep.length}) of ${bg.summary}`,
  );
}

function pickWeighted(p: Float64Array, rng: Rng): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) sum += p[i];
  if (!(sum > 0)) return rng.int(p.length);
  let u = rng.float() * sum;
  for (let i = 0; i < p.length; i++) {
    u -= p[i];
    if (u < 0) return i;
  }
  return p.length - 1;
}
