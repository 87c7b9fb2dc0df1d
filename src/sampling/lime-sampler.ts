import { quantileSorted } from 'simple-statistics';
import type { Players } from '../data/players.js';
import { DataError, InvalidOptionError, ShapeError } from '../errors.js';
import type { TruncatedNormal } from './normal.js';
import { truncatedNormalAt, truncatedNormalOf } from './normal.js';
import type { Rng } from './rng.js';

/**
 * How LIME perturbs continuous features: `'quartile'` / `'decile'` discretise them into
 * training quantile bins and resample a bin, then a value inside it (python `lime`'s
 * `discretize_continuous=True`, its default); `'none'` samples N(training mean, training
 * std²) (`discretize_continuous=False`).
 */
export type LimeDiscretizer = 'quartile' | 'decile' | 'none';

/** Valid {@link LimeDiscretizer} values. */
export const LIME_DISCRETIZERS: readonly LimeDiscretizer[] = ['quartile', 'decile', 'none'];

/** One interpretable feature (a player) and the training statistics it is sampled from. */
export type LimeFeature =
  | {
      readonly kind: 'continuous';
      readonly name: string;
      readonly column: number;
      /** Training mean and population std (1 when the column is constant, as sklearn's scaler). */
      readonly mean: number;
      readonly std: number;
    }
  | {
      readonly kind: 'binned';
      readonly name: string;
      readonly column: number;
      /** Unique training quantiles: bin k is (edges[k-1], edges[k]] (bin 0: x <= edges[0]). */
      readonly edges: Float64Array;
      /** Per bin (edges.length + 1): training frequency, mean, std, lower and upper bound. */
      readonly freq: Float64Array;
      readonly mean: Float64Array;
      readonly std: Float64Array;
      readonly lo: Float64Array;
      readonly hi: Float64Array;
      /** Per bin: the truncated normal values are drawn from (undefined for a one-point bin). */
      readonly draw: readonly (TruncatedNormal | undefined)[];
    }
  | {
      readonly kind: 'categorical';
      readonly name: string;
      /** The player's columns (one column, or a one-hot group). */
      readonly columns: readonly number[];
      /** Distinct training patterns (`levels × columns.length`, sorted) and their frequencies. */
      readonly patterns: Float64Array;
      readonly freq: Float64Array;
      /** Readable level of each pattern (`car` for the pattern of column `purpose=car`). */
      readonly labels: readonly string[];
    };

/** Training statistics of a LIME sampler (built once, shared by all explained rows). */
export interface LimeStats {
  readonly features: readonly LimeFeature[];
  readonly nColumns: number;
  readonly discretizer: LimeDiscretizer;
  readonly trainingRows: number;
}

/** What {@link limeSample} returns: model rows, and the interpretable (scaled) rows. */
export interface LimeSample {
  /** `n × nColumns` rows for the model (row 0 is the instance itself). */
  readonly rows: Float64Array;
  /** `n × features` interpretable representation, scaled as lime scales it (row 0: the instance). */
  readonly z: Float64Array;
  readonly n: number;
}

/**
 * Collects LIME's training statistics: per single-column player, the mean and std
 * (`'none'`) or the quantile bins with per-bin frequency, mean, std, min and max
 * (`'quartile'`, `'decile'`, as lime's `QuartileDiscretizer` / `DecileDiscretizer`); per
 * categorical column or column group, the distinct value patterns and their frequencies.
 *
 * @param categorical - columns (indices) that are categorical although they are players of
 *   their own; every player with more than one column (a one-hot group) is categorical.
 * @throws {DataError} when the training data has no rows.
 */
export function limeStats(
  training: { readonly data: Float64Array; readonly nRows: number },
  players: Players,
  columnNames: readonly string[],
  discretizer: LimeDiscretizer,
  categorical: ReadonlySet<number>,
): LimeStats {
  const d = players.nColumns;
  const n = training.nRows;
  if (n < 1) throw new DataError('the LIME training data holds no rows; pass the rows the model was trained on');
  if (!LIME_DISCRETIZERS.includes(discretizer))
    throw new InvalidOptionError('discretizer', `one of ${LIME_DISCRETIZERS.join(', ')}`, discretizer);
  const features: LimeFeature[] = [];
  const col = new Float64Array(n);
  for (let p = 0; p < players.names.length; p++) {
    const cols = Array.from(players.columns.subarray(players.offsets[p], players.offsets[p + 1]));
    const name = players.names[p];
    if (cols.length > 1 || categorical.has(cols[0])) {
      features.push(categoricalFeature(training.data, n, d, name, cols, columnNames));
      continue;
    }
    const c = cols[0];
    for (let r = 0; r < n; r++) col[r] = training.data[r * d + c];
    if (discretizer === 'none') {
      let mean = 0;
      for (let r = 0; r < n; r++) mean += col[r];
      mean /= n;
      let ss = 0;
      for (let r = 0; r < n; r++) ss += (col[r] - mean) ** 2;
      const std = Math.sqrt(ss / n);
      features.push({ kind: 'continuous', name, column: c, mean, std: std > 0 ? std : 1 });
    } else features.push(binnedFeature(col, name, c, discretizer === 'quartile' ? [25, 50, 75] : deciles()));
  }
  return { features, nColumns: d, discretizer, trainingRows: n };
}

function deciles(): number[] {
  return [10, 20, 30, 40, 50, 60, 70, 80, 90];
}

/** numpy's default (linear, R type 7) percentile of sorted values: simple-statistics' quantileSorted. */
function percentile(sorted: Float64Array, q: number): number {
  return quantileSorted(sorted as unknown as number[], q / 100);
}

/** Bin of `x`: the number of edges strictly below it (numpy `searchsorted(edges, x)`, side left). */
export function binOf(edges: Float64Array, x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function binnedFeature(col: Float64Array, name: string, column: number, qs: number[]): LimeFeature {
  const sorted = col.slice().sort();
  const raw = qs.map((q) => percentile(sorted, q));
  const edges = Float64Array.from(new Set(raw)).sort();
  const nb = edges.length + 1;
  const count = new Float64Array(nb);
  const sum = new Float64Array(nb);
  const sum2 = new Float64Array(nb);
  for (let r = 0; r < col.length; r++) {
    const b = binOf(edges, col[r]);
    count[b]++;
    sum[b] += col[r];
  }
  const mean = new Float64Array(nb);
  for (let b = 0; b < nb; b++) mean[b] = count[b] > 0 ? sum[b] / count[b] : 0;
  for (let r = 0; r < col.length; r++) {
    const b = binOf(edges, col[r]);
    sum2[b] += (col[r] - mean[b]) ** 2;
  }
  const std = new Float64Array(nb);
  const freq = new Float64Array(nb);
  const lo = new Float64Array(nb);
  const hi = new Float64Array(nb);
  for (let b = 0; b < nb; b++) {
    // lime adds 1e-11 so that a one-value bin still has a (tiny) spread
    std[b] = (count[b] > 0 ? Math.sqrt(sum2[b] / count[b]) : 0) + 1e-11;
    freq[b] = count[b] / col.length;
    lo[b] = b === 0 ? sorted[0] : edges[b - 1];
    hi[b] = b === nb - 1 ? sorted[sorted.length - 1] : edges[b];
  }
  const draw = Array.from(mean, (m, b) => (lo[b] < hi[b] ? truncatedNormalOf(m, std[b], lo[b], hi[b]) : undefined));
  return { kind: 'binned', name, column, edges, freq, mean, std, lo, hi, draw };
}

function categoricalFeature(
  data: Float64Array,
  n: number,
  d: number,
  name: string,
  cols: number[],
  columnNames: readonly string[],
): LimeFeature {
  const k = cols.length;
  const counts = new Map<string, { values: number[]; count: number }>();
  for (let r = 0; r < n; r++) {
    const values = cols.map((c) => data[r * d + c]);
    const key = values.join(',');
    const e = counts.get(key);
    if (e) e.count++;
    else counts.set(key, { values, count: 1 });
  }
  const levels = [...counts.values()].sort((a, b) => {
    for (let j = 0; j < k; j++) if (a.values[j] !== b.values[j]) return a.values[j] - b.values[j];
    return 0;
  });
  const patterns = new Float64Array(levels.length * k);
  const freq = new Float64Array(levels.length);
  levels.forEach((l, i) => {
    patterns.set(l.values, i * k);
    freq[i] = l.count / n;
  });
  return {
    kind: 'categorical',
    name,
    columns: cols,
    patterns,
    freq,
    labels: levels.map((l) => levelLabel(l.values, cols, columnNames)),
  };
}

/**
 * The readable level of a categorical value: the number for one column; for a one-hot
 * group, the hot column's name after its `=` (`purpose=car` -> `car`), `(none)` when no
 * column is hot.
 */
export function levelLabel(values: readonly number[], cols: readonly number[], columnNames: readonly string[]): string {
  if (cols.length === 1) return formatValue(values[0]);
  const hot = values.map((v, i) => (v !== 0 ? i : -1)).filter((i) => i >= 0);
  if (hot.length === 0) return '(none)';
  if (hot.length === 1 && values[hot[0]] === 1) {
    const name = columnNames[cols[hot[0]]];
    const eq = name.indexOf('=');
    return eq >= 0 ? name.slice(eq + 1) : name;
  }
  return hot.map((i) => `${columnNames[cols[i]]}=${formatValue(values[i])}`).join(', ');
}

/** A bin edge or value, short: at most 2 decimals (lime prints `%.2f`), 3 significant digits below 1. */
export function formatValue(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return String(a >= 1 ? Number(v.toFixed(2)) : Number(v.toPrecision(3)));
}

/** Index of the training pattern equal to the instance's values, or -1. */
function patternIndex(f: Extract<LimeFeature, { kind: 'categorical' }>, x: Float64Array): number {
  const k = f.columns.length;
  const levels = f.freq.length;
  outer: for (let i = 0; i < levels; i++) {
    for (let j = 0; j < k; j++) if (f.patterns[i * k + j] !== x[f.columns[j]]) continue outer;
    return i;
  }
  return -1;
}

/**
 * The readable condition of feature `f` at instance `x`: `duration > 24`,
 * `12 < duration <= 24`, `purpose = car`, or the bare name for a Gaussian-sampled feature
 * (whose weight is per training standard deviation).
 */
export function limeCondition(f: LimeFeature, x: Float64Array, columnNames: readonly string[]): string {
  if (f.kind === 'continuous') return f.name;
  if (f.kind === 'categorical')
    return `${f.name} = ${levelLabel(
      f.columns.map((c) => x[c]),
      f.columns,
      columnNames,
    )}`;
  const b = binOf(f.edges, x[f.column]);
  const e = f.edges;
  if (b === 0) return `${f.name} <= ${formatValue(e[0])}`;
  if (b === e.length) return `${f.name} > ${formatValue(e[e.length - 1])}`;
  return `${formatValue(e[b - 1])} < ${f.name} <= ${formatValue(e[b])}`;
}

const TWO_PI = 2 * Math.PI;
/** The largest double below 1. */
const ALMOST_ONE = 1 - 2 ** -53;

/** Cumulative sums of `freq` (in order, as a running `acc += freq[i]`). */
function cumulative(freq: Float64Array): Float64Array {
  const cum = new Float64Array(freq.length);
  let acc = 0;
  for (let i = 0; i < freq.length; i++) {
    acc += freq[i];
    cum[i] = acc;
  }
  return cum;
}

/** Draws an index with probabilities whose cumulative sums are `cum` (linear search: ≤ 10 bins). */
function choose(rng: Rng, cum: Float64Array): number {
  const u = rng.float();
  const last = cum.length - 1;
  for (let i = 0; i < last; i++) if (u < cum[i]) return i;
  return last;
}

/**
 * LIME's neighbourhood of instance `x` (python `lime`'s `__data_inverse`): `n` rows, row 0
 * the instance. Per feature:
 * - continuous (`'none'`): z ~ N(0, 1), value = z·std + mean (or + x with
 *   `aroundInstance`); interpretable value (value − mean) / std;
 * - binned: a bin drawn with its training frequency, interpretable value 1 when it is the
 *   instance's bin (else 0), value drawn from N(bin mean, bin std²) truncated to the bin's
 *   bounds (a one-point bin gives its bound);
 * - categorical / group: a training pattern drawn with its frequency, interpretable value 1
 *   when it equals the instance's, the pattern written to the model row.
 *
 * Rows are filled in order, two at a time (so that the buffers are written sequentially):
 * a Gaussian feature takes both normals of one Box–Muller pair; a binned feature draws one
 * uniform per value, which picks the bin and, rescaled within the bin's share of [0, 1),
 * is the uniform of the truncated normal's inverse CDF (given the bin it is uniform and
 * independent of the choice). Same seed, same rows.
 *
 * `buffers` (optional) receive the rows and z instead of new arrays: every entry a feature
 * covers is overwritten; columns no feature covers keep their values (zero them when the
 * buffers last held another model's rows).
 */
export function limeSample(
  stats: LimeStats,
  x: Float64Array,
  n: number,
  rng: Rng,
  aroundInstance = false,
  buffers?: { readonly rows: Float64Array; readonly z: Float64Array },
): LimeSample {
  const d = stats.nColumns;
  const P = stats.features.length;
  if (buffers && (buffers.rows.length !== n * d || buffers.z.length !== n * P))
    throw new ShapeError(`LIME sample buffers of ${n} × ${d} rows and ${n} × ${P} features expected`);
  const rows = buffers?.rows ?? new Float64Array(n * d);
  const z = buffers?.z ?? new Float64Array(n * P);
  rows.set(x.subarray(0, d), 0);
  // per feature: kind (0 Gaussian, 1 binned, 2 categorical), column, the instance's bin or
  // level, and the cumulative frequencies
  const kind = new Uint8Array(P);
  const column = new Int32Array(P);
  const own = new Int32Array(P);
  const center = new Float64Array(P);
  const cums: Float64Array[] = [];
  for (let p = 0; p < P; p++) {
    const f = stats.features[p];
    if (f.kind === 'continuous') {
      kind[p] = 0;
      column[p] = f.column;
      center[p] = aroundInstance ? x[f.column] : f.mean;
      z[p] = (x[f.column] - f.mean) / f.std;
      cums.push(EMPTY);
    } else if (f.kind === 'binned') {
      kind[p] = 1;
      column[p] = f.column;
      own[p] = binOf(f.edges, x[f.column]);
      z[p] = 1;
      cums.push(cumulative(f.freq));
    } else {
      kind[p] = 2;
      own[p] = patternIndex(f, x);
      z[p] = 1;
      cums.push(cumulative(f.freq));
    }
  }
  for (let i = 1; i < n; i += 2) {
    const pair = i + 1 < n;
    for (let p = 0; p < P; p++) {
      const f = stats.features[p];
      if (f.kind === 'continuous') {
        const c = column[p];
        // Box–Muller, both outputs (two independent N(0, 1) per two uniforms)
        let u1 = rng.float();
        while (u1 === 0) u1 = rng.float();
        const radius = Math.sqrt(-2 * Math.log(u1));
        const angle = TWO_PI * rng.float();
        const v1 = radius * Math.cos(angle) * f.std + center[p];
        rows[i * d + c] = v1;
        z[i * P + p] = (v1 - f.mean) / f.std;
        if (pair) {
          const v2 = radius * Math.sin(angle) * f.std + center[p];
          rows[(i + 1) * d + c] = v2;
          z[(i + 1) * P + p] = (v2 - f.mean) / f.std;
        }
      } else if (f.kind === 'binned') {
        const cum = cums[p];
        binnedDraw(rng, f, cum, own[p], rows, z, i * d + column[p], i * P + p);
        if (pair) binnedDraw(rng, f, cum, own[p], rows, z, (i + 1) * d + column[p], (i + 1) * P + p);
      } else {
        const cum = cums[p];
        categoricalDraw(rng, f, cum, own[p], rows, z, i * d, i * P + p);
        if (pair) categoricalDraw(rng, f, cum, own[p], rows, z, (i + 1) * d, (i + 1) * P + p);
      }
    }
  }
  return { rows, z, n };
}

const EMPTY = new Float64Array(0);

/** One binned value: bin and in-bin uniform from one draw (see {@link limeSample}). */
function binnedDraw(
  rng: Rng,
  f: Extract<LimeFeature, { kind: 'binned' }>,
  cum: Float64Array,
  own: number,
  rows: Float64Array,
  z: Float64Array,
  at: number,
  zAt: number,
): void {
  const u = rng.float();
  const last = cum.length - 1;
  let b = 0;
  while (b < last && u >= cum[b]) b++;
  z[zAt] = b === own ? 1 : 0;
  const t = f.draw[b];
  if (t) {
    const from = b > 0 ? cum[b - 1] : 0;
    const span = cum[b] - from;
    const v = span > 0 ? (u - from) / span : 0.5;
    rows[at] = truncatedNormalAt(t, Math.min(Math.max(v, 0), ALMOST_ONE));
  } else rows[at] = f.lo[b];
}

/** One categorical pattern drawn with its training frequency. */
function categoricalDraw(
  rng: Rng,
  f: Extract<LimeFeature, { kind: 'categorical' }>,
  cum: Float64Array,
  own: number,
  rows: Float64Array,
  z: Float64Array,
  rowAt: number,
  zAt: number,
): void {
  const l = choose(rng, cum);
  z[zAt] = l === own ? 1 : 0;
  const cols = f.columns;
  const k = cols.length;
  for (let j = 0; j < k; j++) rows[rowAt + cols[j]] = f.patterns[l * k + j];
}
