import { BudgetError } from '../errors.js';
import { wordsFor } from './masking.js';
import type { Rng } from './rng.js';

/**
 * A sample of coalitions for the regression estimators. ∅ and N are never included (every
 * estimator computes them exactly). Each coalition comes with its complement ("paired
 * sampling"): the pair is the sampling unit.
 */
export interface CoalitionDesign {
  readonly n: number;
  /** Coalitions in the design. */
  readonly count: number;
  /** `count × n` 0/1 bytes (empty when the design was made with `bytes: false`). */
  readonly masks: Uint8Array;
  /** The same coalitions as bit sets, `count × ceil(n/32)` words (player j = bit j % 32 of word j >> 5). */
  readonly bits: Uint32Array;
  readonly sizes: Int32Array;
  /**
   * `1 / (π(S) · C(n, |S|))` per coalition, where π(S) is the probability that S is in the
   * design: Horvitz–Thompson weight divided by the number of coalitions of that size, so
   * `Σ_S unit(S) · h(S)` estimates the mean of h over each size, summed over sizes.
   * Computed without forming huge binomials.
   */
  readonly unit: Float64Array;
  /** Jackknife group of the coalition's pair, or −1 for fully enumerated sizes. */
  readonly group: Int32Array;
  /** Number of jackknife groups (0 when every size is enumerated). */
  readonly groups: number;
  /** True when the design holds every coalition: estimates from it are exact. */
  readonly complete: boolean;
  /**
   * Pairs per size class k = 1..⌊n/2⌋ (index k − 1). Rows are laid out class by class, each
   * pair as two rows (S, then N∖S) in the class's fixed random order, so designs from one
   * sampler share prefixes: pair p of class k is the same coalition in every later design.
   */
  readonly classPairs: Int32Array;
}

/** Jackknife groups of a design (fewer when there are few sampled pairs). */
export const JACKKNIFE_GROUPS = 8;
/** Size classes with at most this many pairs are enumerated and shuffled rather than rejection-sampled. */
const ENUMERATE_LIMIT = 1 << 15;

/**
 * Paired sampling without replacement with a deterministic number of pairs per size
 * ("size class"), as in Leverage SHAP (Musco & Witter, ICLR 2025):
 *
 * 1. Size class k (1 ≤ k ≤ n/2) holds the pairs (S, N∖S) with |S| = k; for even n the
 *    middle class holds C(n, n/2)/2 pairs (each middle coalition once).
 * 2. The `(budget − 2) / 2` pairs are allocated across classes in proportion to the
 *    size mass, capped at the class size (water-filling): a class whose share covers it is
 *    enumerated completely (the "border" sizes of Kernel SHAP fall out of this rule).
 * 3. Within a class, the pairs are the first m_k of a seeded random order of its distinct
 *    pairs, so a larger budget extends the same sample (`design` calls are nested, which
 *    the stopping rule of `budget: 'auto'` relies on).
 *
 * `sizeMass[s]` (s = 0..n, symmetric) is the probability mass given to coalition size s:
 * `1/(s(n−s))` reproduces the Shapley-kernel distribution, a constant gives leverage-score
 * sampling.
 */
export class PairedSampler {
  readonly n: number;
  private readonly rng: Rng;
  private readonly classes: SizeClass[];
  private readonly allocated: Int32Array;

  constructor(n: number, sizeMass: (s: number) => number, rng: Rng) {
    if (n < 1) throw new BudgetError('a game needs at least one player');
    this.n = n;
    this.rng = rng;
    this.classes = [];
    for (let k = 1; k <= n / 2; k++) {
      const middle = 2 * k === n;
      const pairs = middle ? binomial(n, k) / 2 : binomial(n, k);
      const mass = middle ? sizeMass(k) : sizeMass(k) + sizeMass(n - k);
      this.classes.push(new SizeClass(n, k, middle, pairs, mass));
    }
    this.allocated = new Int32Array(this.classes.length);
  }

  /** Every coalition except ∅ and N: 2^n − 2. */
  get maxCoalitions(): number {
    return 2 ** this.n - 2;
  }

  /**
   * A design with at most `budget − 2` coalitions (∅ and N are the other two evaluations).
   * Nested (the default): it contains every coalition of the earlier designs from this
   * sampler, so budgets should only grow. With `nested: false` the allocation is computed
   * afresh (and not remembered); class prefixes still make designs for different budgets
   * overlap. `bytes: false` skips the 0/1 byte matrix (only `bits` is filled).
   */
  design(budget: number, options: { bytes?: boolean; nested?: boolean } = {}): CoalitionDesign {
    const n = this.n;
    const pairBudget = Math.floor(Math.max(0, Math.min(budget - 2, this.maxCoalitions)) / 2);
    const target = allocate(
      this.classes.map((c) => c.mass),
      this.classes.map((c) => c.pairs),
      pairBudget,
    );
    // nested: never shrink a class; take the excess back from classes that grew most
    const nested = options.nested !== false;
    const m = Int32Array.from(target, (t, i) => (nested ? Math.max(t, this.allocated[i]) : t));
    let excess = m.reduce((a, b) => a + b, 0) - pairBudget;
    while (excess > 0) {
      let best = -1;
      for (let i = 0; i < m.length; i++)
        if (m[i] > this.allocated[i] && (best < 0 || m[i] - target[i] > m[best] - target[best])) best = i;
      if (best < 0) break;
      m[best]--;
      excess--;
    }
    if (nested) this.allocated.set(m);
    let count = 0;
    let sampledPairs = 0;
    this.classes.forEach((c, i) => {
      count += 2 * m[i];
      if (m[i] < c.pairs) sampledPairs += m[i];
    });
    const groups = sampledPairs === 0 ? 0 : Math.max(2, Math.min(JACKKNIFE_GROUPS, sampledPairs));
    const masks = new Uint8Array(options.bytes === false ? 0 : count * n);
    const W = wordsFor(n);
    const bits = new Uint32Array(count * W);
    const sizes = new Int32Array(count);
    const unit = new Float64Array(count);
    const group = new Int32Array(count);
    let at = 0;
    let complete = true;
    // sampled pairs are dealt to the jackknife groups in turn across classes, so groups are
    // balanced (a per-class count would pile the first pair of every class into group 0)
    let dealt = 0;
    this.classes.forEach((c, i) => {
      const mk = m[i];
      if (mk === 0) {
        complete = false;
        return;
      }
      c.ensure(mk, this.rng);
      const enumerated = mk >= c.pairs;
      if (!enumerated) complete = false;
      // unit = 1 / (π C(n,s)): π = m/P; P = C(n,k) (or C(n,k)/2 in the middle class)
      const u = enumerated ? 1 / binomial(n, c.k) : c.middle ? 1 / (2 * mk) : 1 / mk;
      for (let p = 0; p < mk; p++) {
        const g = enumerated ? -1 : dealt++ % groups;
        c.write(p, masks, bits, at, false);
        sizes[at] = c.k;
        unit[at] = u;
        group[at++] = g;
        c.write(p, masks, bits, at, true);
        sizes[at] = n - c.k;
        unit[at] = u;
        group[at++] = g;
      }
    });
    return {
      n,
      count,
      masks,
      bits,
      sizes,
      unit,
      group,
      groups,
      complete: complete && count === this.maxCoalitions,
      classPairs: m.slice(),
    };
  }
}

/**
 * One size class: a seeded random order of its distinct pairs, grown on demand. Sparse
 * prefixes come from rejection sampling; once a prefix would cover half of the class, the
 * undrawn pairs are listed and the prefix grows by lazy Fisher–Yates steps over them (still
 * a uniform random order).
 */
class SizeClass {
  readonly n: number;
  readonly k: number;
  readonly middle: boolean;
  readonly pairs: number;
  readonly mass: number;
  private readonly W: number;
  private items = new Uint32Array(0);
  private size = 0;
  private seen: Set<number | string> | undefined;
  private perm: Int32Array | undefined;

  constructor(n: number, k: number, middle: boolean, pairs: number, mass: number) {
    this.n = n;
    this.k = k;
    this.middle = middle;
    this.pairs = pairs;
    this.mass = mass;
    this.W = wordsFor(n);
  }

  /** Makes sure the first `m` pairs of the random order exist. */
  ensure(m: number, rng: Rng): void {
    if (m <= this.size) return;
    if (!this.pool && m * 2 >= this.pairs && this.pairs <= ENUMERATE_LIMIT) this.enumerateRest();
    if (this.pool) {
      this.shuffleUpTo(Math.min(m, this.pairs), rng);
      return;
    }
    const W = this.W;
    if (this.items.length < m * W) this.grow(Math.max(m, 2 * this.size));
    this.seen ??= new Set();
    this.perm ??= Int32Array.from({ length: this.n }, (_, i) => i);
    const perm = this.perm;
    const nFree = this.middle ? this.n - 1 : this.n;
    const kFree = this.middle ? this.k - 1 : this.k;
    const key = new Uint32Array(W);
    while (this.size < m) {
      key.fill(0);
      for (let t = 0; t < kFree; t++) {
        const j = t + rng.int(nFree - t);
        const tmp = perm[t];
        perm[t] = perm[j];
        perm[j] = tmp;
        key[perm[t] >> 5] |= 1 << (perm[t] & 31);
      }
      if (this.middle) key[(this.n - 1) >> 5] |= 1 << ((this.n - 1) & 31);
      const h = W === 1 ? key[0] : key.join(',');
      if (this.seen.has(h)) continue;
      this.seen.add(h);
      this.items.set(key, this.size * W);
      this.size++;
    }
  }

  /** Set once every pair is listed: items[size..pairs) are the not-yet-drawn pairs. */
  private pool = false;

  /** Lists every pair not drawn yet after the drawn prefix (their order is fixed, not random). */
  private enumerateRest(): void {
    const W = this.W;
    this.grow(this.pairs);
    let i = this.size;
    const nFree = this.middle ? this.n - 1 : this.n;
    const kFree = this.middle ? this.k - 1 : this.k;
    const key = new Uint32Array(W);
    forEachCombination(nFree, kFree, (c) => {
      key.fill(0);
      for (let t = 0; t < kFree; t++) key[c[t] >> 5] |= 1 << (c[t] & 31);
      if (this.middle) key[(this.n - 1) >> 5] |= 1 << ((this.n - 1) & 31);
      if (this.seen?.has(W === 1 ? key[0] : key.join(','))) return;
      this.items.set(key, i * W);
      i++;
    });
    this.pool = true;
    this.seen = undefined;
  }

  /**
   * Extends the random prefix to `m` pairs by Fisher–Yates steps over the undrawn pool:
   * the prefix is a uniform random ordered sample whatever `m`, and later calls continue it.
   */
  private shuffleUpTo(m: number, rng: Rng): void {
    const W = this.W;
    const items = this.items;
    for (let a = this.size; a < m; a++) {
      const b = a + rng.int(this.pairs - a);
      if (b !== a)
        for (let w = 0; w < W; w++) {
          const t = items[a * W + w];
          items[a * W + w] = items[b * W + w];
          items[b * W + w] = t;
        }
    }
    this.size = Math.max(this.size, m);
  }

  private grow(capacity: number): void {
    if (this.items.length >= capacity * this.W) return;
    const next = new Uint32Array(capacity * this.W);
    next.set(this.items.subarray(0, this.size * this.W));
    this.items = next;
  }

  /** Writes pair `p` (or its complement) at row `row` of `masks` (bytes) and `bits` (words). */
  write(p: number, masks: Uint8Array, bits: Uint32Array, row: number, complement: boolean): void {
    const n = this.n;
    const W = this.W;
    const base = row * n;
    for (let w = 0; w < W; w++) {
      const e = Math.min(n, (w + 1) * 32);
      const span = e - w * 32;
      const used = span === 32 ? 0xffffffff : (1 << span) - 1;
      const word = complement ? ~this.items[p * W + w] & used : this.items[p * W + w];
      bits[row * W + w] = word >>> 0;
      if (masks.length > 0) for (let j = w * 32; j < e; j++) masks[base + j] = (word >>> (j & 31)) & 1;
    }
  }
}

/**
 * Integer allocation of `total` units over classes in proportion to `mass`, capped at
 * `cap` (water-filling), rounded by largest remainder (ties to the lower class index).
 */
export function allocate(mass: readonly number[], cap: readonly number[], total: number): Int32Array {
  const k = mass.length;
  const out = new Int32Array(k);
  const capSum = cap.reduce((a, b) => a + b, 0);
  if (total >= capSum) {
    for (let i = 0; i < k; i++) out[i] = cap[i];
    return out;
  }
  // find c with Σ min(c·mass_i, cap_i) = total
  const order = Array.from({ length: k }, (_, i) => i)
    .filter((i) => mass[i] > 0)
    .sort((a, b) => cap[a] / mass[a] - cap[b] / mass[b]);
  let remaining = total;
  let freeMass = order.reduce((a, i) => a + mass[i], 0);
  const real = new Float64Array(k);
  let c = 0;
  for (const i of order) {
    c = remaining / freeMass;
    if (c * mass[i] >= cap[i]) {
      real[i] = cap[i];
      remaining -= cap[i];
      freeMass -= mass[i];
    } else break;
  }
  c = freeMass > 0 ? remaining / freeMass : 0;
  for (const i of order) if (real[i] === 0) real[i] = Math.min(cap[i], c * mass[i]);
  let assigned = 0;
  for (let i = 0; i < k; i++) {
    out[i] = Math.floor(real[i] + 1e-9);
    assigned += out[i];
  }
  const rest = Array.from({ length: k }, (_, i) => i)
    .filter((i) => out[i] < cap[i])
    .sort((a, b) => real[b] - out[b] - (real[a] - out[a]) || a - b);
  for (let t = 0; assigned < total && t < rest.length; t++) {
    out[rest[t]]++;
    assigned++;
  }
  return out;
}

/** C(n, k) as a double (exact up to 2^53). */
export function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  const kk = Math.min(k, n - k);
  let r = 1;
  for (let i = 1; i <= kk; i++) r = (r * (n - kk + i)) / i;
  return r <= 2 ** 53 ? Math.round(r) : r;
}

/** Calls `fn` with every k-combination of 0..n-1 in lexicographic order (the array is reused). */
export function forEachCombination(n: number, k: number, fn: (c: Int32Array) => void): void {
  const c = Int32Array.from({ length: k }, (_, i) => i);
  if (k === 0) {
    fn(c);
    return;
  }
  for (;;) {
    fn(c);
    let i = k - 1;
    while (i >= 0 && c[i] === n - k + i) i--;
    if (i < 0) return;
    c[i]++;
    for (let j = i + 1; j < k; j++) c[j] = c[j - 1] + 1;
  }
}

/**
 * The coalition sample of shap's KernelExplainer (shap ≥ 0.42, `explainers/_kernel.py`),
 * reproduced for comparison: sizes weighted by (n−1)/(s(n−s)), sizes enumerated from the
 * outside in while the remaining budget covers them, the rest drawn **with replacement**
 * with complements, duplicates merged into counts, and the sampled block rescaled to the
 * remaining kernel mass. Returns the coalitions and their regression weights.
 */
export function shapKernelDesign(
  n: number,
  budget: number,
  rng: Rng,
): { count: number; masks: Uint8Array; weights: Float64Array; complete: boolean } {
  const maxSamples = n <= 30 ? 2 ** n - 2 : 2 ** 30;
  const nsamples = Math.max(0, Math.min(budget - 2, maxSamples));
  const numSubsetSizes = Math.ceil((n - 1) / 2);
  const numPaired = Math.floor((n - 1) / 2);
  const weightVector = new Float64Array(numSubsetSizes);
  for (let i = 1; i <= numSubsetSizes; i++) weightVector[i - 1] = (n - 1) / (i * (n - i));
  for (let i = 0; i < numPaired; i++) weightVector[i] *= 2;
  const wsum = weightVector.reduce((a, b) => a + b, 0);
  for (let i = 0; i < numSubsetSizes; i++) weightVector[i] /= wsum;

  const masks: number[][] = [];
  const weights: number[] = [];
  let numFull = 0;
  let left = nsamples;
  const remaining = Float64Array.from(weightVector);
  for (let size = 1; size <= numSubsetSizes; size++) {
    let nsubsets = binomial(n, size);
    if (size <= numPaired) nsubsets *= 2;
    if ((left * remaining[size - 1]) / nsubsets >= 1 - 1e-8) {
      numFull++;
      left -= nsubsets;
      if (remaining[size - 1] < 1) {
        const r = remaining[size - 1];
        for (let i = 0; i < numSubsetSizes; i++) remaining[i] /= 1 - r;
      }
      let w = weightVector[size - 1] / binomial(n, size);
      if (size <= numPaired) w /= 2;
      forEachCombination(n, size, (c) => {
        const m = new Array<number>(n).fill(0);
        for (const j of c) m[j] = 1;
        masks.push(m);
        weights.push(w);
        if (size <= numPaired) {
          masks.push(m.map((b) => 1 - b));
          weights.push(w);
        }
      });
    } else break;
  }
  const nFixed = masks.length;
  if (numFull !== numSubsetSizes && left > 0) {
    const rw = Float64Array.from(weightVector);
    for (let i = 0; i < numPaired; i++) rw[i] /= 2;
    const tail = rw.slice(numFull);
    const ts = tail.reduce((a, b) => a + b, 0);
    for (let i = 0; i < tail.length; i++) tail[i] /= ts;
    const used = new Map<string, number>();
    const perm = Int32Array.from({ length: n }, (_, i) => i);
    let samplesLeft = left;
    for (let draws = 0; samplesLeft > 0 && draws < 4 * left; draws++) {
      // size drawn from the tail distribution
      let u = rng.float();
      let si = 0;
      while (si < tail.length - 1 && u >= tail[si]) u -= tail[si++];
      const size = si + numFull + 1;
      const m = new Array<number>(n).fill(0);
      for (let t = 0; t < size; t++) {
        const j = t + rng.int(n - t);
        const tmp = perm[t];
        perm[t] = perm[j];
        perm[j] = tmp;
        m[perm[t]] = 1;
      }
      const key = m.join('');
      const at = used.get(key);
      let isNew = false;
      if (at === undefined) {
        used.set(key, masks.length);
        masks.push(m);
        weights.push(1);
        samplesLeft--;
        isNew = true;
      } else weights[at] += 1;
      if (samplesLeft > 0 && size <= numPaired) {
        if (isNew) {
          masks.push(m.map((b) => 1 - b));
          weights.push(1);
          samplesLeft--;
        } else weights[(at as number) + 1] += 1;
      }
    }
    const weightLeft = weightVector.slice(numFull).reduce((a, b) => a + b, 0);
    let sampled = 0;
    for (let i = nFixed; i < weights.length; i++) sampled += weights[i];
    for (let i = nFixed; i < weights.length; i++) weights[i] *= weightLeft / sampled;
  }
  const count = masks.length;
  const flat = new Uint8Array(count * n);
  masks.forEach((m, i) => {
    flat.set(m, i * n);
  });
  return { count, masks: flat, weights: Float64Array.from(weights), complete: count === 2 ** n - 2 };
}

/**
 * A hashable key for the coalition at `masks[offset .. offset+n-1]`: an exact integer for
 * n ≤ 52 players, a compact string beyond.
 */
export function maskKey(masks: Uint8Array, offset: number, n: number): number | string {
  if (n <= 52) {
    let key = 0;
    let bit = 1;
    for (let j = 0; j < n; j++, bit *= 2) if (masks[offset + j] !== 0) key += bit;
    return key;
  }
  let s = '';
  for (let j0 = 0; j0 < n; j0 += 16) {
    let c = 0;
    for (let j = j0; j < Math.min(n, j0 + 16); j++) if (masks[offset + j] !== 0) c |= 1 << (j - j0);
    s += String.fromCharCode(c);
  }
  return s;
}
