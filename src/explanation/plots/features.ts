/**
 * What the plots need to know about a player's value in each explained row: a number
 * (numeric players: one column, or a schema's numeric attribute) or a category (one-hot
 * groups, a schema's categorical attribute), and a colour position in [0, 1].
 */
import { decodeValue } from '../../data/encoder.js';
import type { Schema } from '../../data/schema.js';
import type { Explanation } from '../explanation.js';
import { dims } from '../explanation.js';
import { playerValueText } from '../text.js';

/** A player's values over the explained rows. */
export type PlayerFeature =
  | {
      readonly kind: 'numeric';
      /** The raw value per row (decoded from the schema when given). */
      readonly values: readonly number[];
      /** Colour position per row: the value's mid-rank among the rows, in [0, 1] (robust to skew). */
      readonly t: readonly number[];
    }
  | {
      readonly kind: 'categorical';
      /** The category per row. */
      readonly values: readonly string[];
      /** The categories seen, by increasing mean contribution (for output `o`). */
      readonly order: readonly string[];
      /** Colour position per row: its category's place in `order`, in [0, 1]. */
      readonly t: readonly number[];
    };

/** Options shared by the plots that show player values. */
export interface FeatureOptions {
  /** Raw attributes: decode values, tell categorical from numeric. */
  schema?: Schema;
  /** The explained output. @defaultValue 0 */
  o?: number;
}

/** Contributions of player `p` (output `o`) per explained row. */
export function contributions(e: Explanation, p: number, o = 0): number[] {
  const { nPlayers, nOutputs } = dims(e);
  return Array.from({ length: e.nRows }, (_, r) => e.values[(r * nPlayers + p) * nOutputs + o]);
}

/** The value of player p in row r as text (`duration = 24`, a category's name). */
export function valueText(e: Explanation, r: number, p: number, schema?: Schema): string {
  const a = schema?.attributes.find((x) => x.name === e.players[p]);
  if (a) {
    const v = decodeValue(a, e.data, r * e.columns.length, r);
    if (v === null) return '(none)';
    return typeof v === 'number' ? String(Number(v.toPrecision(6))) : v;
  }
  return playerValueText(e, r, p);
}

/** The values of player p over the rows, numeric or categorical (see {@link PlayerFeature}). */
export function playerFeature(e: Explanation, p: number, options: FeatureOptions = {}): PlayerFeature {
  const cols = e.playerColumns[p];
  const d = e.columns.length;
  const a = options.schema?.attributes.find((x) => x.name === e.players[p]);
  const numeric = a ? a.type === 'numeric' : cols.length === 1;
  if (numeric) {
    const values = Array.from({ length: e.nRows }, (_, r) => {
      if (a) return Number(decodeValue(a, e.data, r * d, r));
      return e.data[r * d + cols[0]];
    });
    return { kind: 'numeric', values, t: midRanks(values) };
  }
  const values = Array.from({ length: e.nRows }, (_, r) => valueText(e, r, p, options.schema));
  const phi = contributions(e, p, options.o ?? 0);
  const sum = new Map<string, { s: number; n: number }>();
  values.forEach((v, r) => {
    const m = sum.get(v) ?? { s: 0, n: 0 };
    m.s += phi[r];
    m.n++;
    sum.set(v, m);
  });
  const order = [...sum.entries()]
    .sort((x, y) => x[1].s / x[1].n - y[1].s / y[1].n || x[0].localeCompare(y[0]))
    .map(([k]) => k);
  const at = new Map(order.map((c, k) => [c, order.length > 1 ? k / (order.length - 1) : 0.5]));
  return { kind: 'categorical', values, order, t: values.map((v) => at.get(v) as number) };
}

/** Mid-rank of each value among all, scaled to [0, 1] (ties share their mean rank; 0.5 when constant). */
export function midRanks(values: readonly number[]): number[] {
  const n = values.length;
  if (n < 2) return values.map(() => 0.5);
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  const t = new Array<number>(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]] === values[order[i]]) j++;
    const mid = (i + j) / 2 / (n - 1);
    for (let k = i; k <= j; k++) t[order[k]] = mid;
    i = j + 1;
  }
  if (values[order[0]] === values[order[n - 1]]) return values.map(() => 0.5);
  return t;
}

/**
 * The player whose value interacts most with player `p`'s contribution (shap's
 * `approximate_interactions`): rows sorted by p's value, cut into chunks of ≈ n/10 rows, and
 * per other player the sum over chunks of |corr(φ_p, its colour position)|. `undefined` when
 * there is no other player or no variation.
 */
export function strongestInteraction(
  e: Explanation,
  p: number,
  features: readonly PlayerFeature[],
  o = 0,
): number | undefined {
  const n = e.nRows;
  const phi = contributions(e, p, o);
  const fp = features[p];
  const order = phi.map((_, r) => r).sort((a, b) => fp.t[a] - fp.t[b] || a - b);
  const inc = Math.max(1, Math.min(50, Math.floor(n / 10)));
  let best: number | undefined;
  let bestScore = 0;
  for (let q = 0; q < e.players.length; q++) {
    if (q === p) continue;
    let score = 0;
    for (let i = 0; i < n; i += inc) {
      const idx = order.slice(i, i + inc);
      if (idx.length < 3) continue;
      score += Math.abs(
        corr(
          idx.map((r) => phi[r]),
          idx.map((r) => features[q].t[r]),
        ),
      );
    }
    if (score > bestScore + 1e-12) {
      bestScore = score;
      best = q;
    }
  }
  return best;
}

function corr(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}

/**
 * A beeswarm layout: y offsets (pixels, around 0) for dots of diameter `diameter` at pixel
 * positions `x`, so that no two dots overlap, each as close to the centre line as it can
 * (dots placed in order of x; d3-beeswarm's greedy rule). Offsets beyond ±`maxOffset` are
 * clamped (dots then overlap; shap squeezes likewise).
 */
export function swarm(x: readonly number[], diameter: number, maxOffset: number): Float64Array {
  const n = x.length;
  const order = x.map((_, i) => i).sort((a, b) => x[a] - x[b] || a - b);
  const y = new Float64Array(n);
  const placed: number[] = [];
  let first = 0; // first placed dot (in x order) within `diameter` of the current one
  const d2 = diameter * diameter;
  for (const i of order) {
    while (first < placed.length && x[i] - x[placed[first]] >= diameter) first++;
    const near = placed.slice(first);
    const blocked: [number, number][] = near.map((j) => {
      const dy = Math.sqrt(Math.max(0, d2 - (x[i] - x[j]) ** 2));
      return [y[j] - dy, y[j] + dy];
    });
    const candidates = [0, ...blocked.flat()].sort((a, b) => Math.abs(a) - Math.abs(b) || a - b);
    let chosen = candidates[candidates.length - 1];
    for (const c of candidates)
      if (blocked.every(([lo, hi]) => c <= lo + 1e-9 || c >= hi - 1e-9)) {
        chosen = c;
        break;
      }
    y[i] = Math.max(-maxOffset, Math.min(maxOffset, chosen));
    placed.push(i);
  }
  return y;
}
