import { throwIfAborted } from '../errors.js';
import type { InterventionalGame } from '../games/interventional-game.js';
import { yieldToLoop } from '../parallel/yield.js';
import { allocate } from '../sampling/coalitions.js';
import type { EstimatorContext, PartEstimate, PartedGame, PartSpec, ShapleyEstimate } from './estimate.js';
import { partMembers } from './estimate.js';
import { checkMemory } from './memory.js';

/** Largest background-row game solved by enumerating its subsets. */
const EXACT_PLAYERS = 20;
/** Largest background-row game walked in orthogonal blocks. */
const ORTHOGONAL_PLAYERS = 256;

/** One background row's game g_b on its differing players D_b. */
interface Unit {
  readonly b: number;
  /** D_b (model player indices). */
  readonly players: Int32Array;
  readonly k: number;
  /** Model rows allotted. */
  rows: number;
  /** Solved by enumeration. */
  exact: boolean;
  /** Walk orders (local indices) and, per walk, the row ids of its prefixes 1..k−1. */
  orders: Int32Array[];
  prefixRows: Int32Array[];
}

/**
 * Permutation SHAP by decomposition over background rows. As for the decomposed Kernel SHAP,
 * v(S) = Σ_b w_b g_b(S ∩ D_b) with g_b(T) = f(x_T, b_rest) a game on the players D_b where
 * background row b differs from x, so φ(v) = Σ_b w_b φ(g_b):
 *
 * 1. The model-row budget `(budget − 2) · |background|` is split over background rows in
 *    proportion to w_b · |D_b|, capped at the 2^|D_b| − 2 rows that solve g_b exactly
 *    (water-filling); a row whose cap is reached is enumerated (exact Shapley values of g_b).
 * 2. Each other g_b gets antithetic permutation walks over its own |D_b| players (each walk
 *    costs |D_b| − 1 model rows, repeated prefixes once), as many as its rows pay for. The
 *    orders come in blocks of |D_b| − 1 from a random orthonormal basis (orthogonal spherical
 *    codes, Mitchell et al. 2022): each order is uniform, the orders of a block are spread out.
 * 3. φ = Σ_b w_b φ(g_b), SE² = Σ_b w_b² SE_b² (SE_b from the spread of its pair means).
 *
 * Every walk of g_b telescopes to f(x) − f(b), so efficiency is exact; a player outside
 * every D_b (a dummy of the game) gets exactly 0. Walks spend no rows on players that cannot
 * change the row (those where b equals x), and the errors of independent walks per background
 * row average out where one shared walk makes them add up.
 *
 * Returns undefined when the budget cannot give every background row one walk (pair), so the
 * caller can fall back to walks over the whole game.
 */
export async function decomposedPermutationShap(
  game: InterventionalGame,
  options: { budget: number; antithetic: boolean },
  ctx: EstimatorContext,
): Promise<ShapleyEstimate | undefined> {
  const part = await solve(game, options, ctx, undefined);
  return part && combinePermutationParts([part], { ...game, nBackground: game.decomposition.nBackground });
}

/**
 * Part `part` of {@link decomposedPermutationShap}: every part plans the same walks (a pure
 * function of the game, the budget and the row's stream), then evaluates and solves only its
 * group of background rows — games dealt to parts by their model rows (`partMembers`).
 * Undefined when the budget cannot give every background row one walk (as the whole).
 */
export async function decomposedPermutationPart(
  game: InterventionalGame,
  options: { budget: number; antithetic: boolean },
  ctx: EstimatorContext,
  part: PartSpec,
): Promise<PartEstimate | undefined> {
  return solve(game, options, ctx, part);
}

/** The decomposed permutation estimate from its parts (in part order). */
export function combinePermutationParts(parts: readonly PartEstimate[], game: PartedGame): ShapleyEstimate {
  const n = game.nPlayers;
  const fx = game.prediction;
  const nOut = fx.length;
  const values = new Float64Array(n * nOut);
  const variance = new Float64Array(n * nOut);
  let rows = 0;
  let exact = true;
  let anyStderr = false;
  for (const p of parts) {
    for (let i = 0; i < values.length; i++) values[i] += p.values[i];
    if (p.variance) {
      anyStderr = true;
      for (let i = 0; i < variance.length; i++) variance[i] += p.variance[i];
    }
    rows += p.rowsSpent;
    if (!p.exact) exact = false;
  }
  const total = fx.map((f, o) => f - game.baseValue[o]);
  return {
    values: efficiencyKeepingZeros(values, n, nOut, total),
    stderr: exact || anyStderr ? variance.map(Math.sqrt) : undefined,
    baseValue: game.baseValue,
    fullValue: fx,
    evaluations: Math.ceil(rows / Math.max(1, game.nBackground)) + 2,
    exact,
    variant: 'decomposed',
  };
}

/** A row's walks and the model rows they need: the same for every part of the row. */
interface RowPlan {
  /** Undefined when the budget cannot give every background row one walk. */
  readonly units?: Unit[];
  /** Per planned row: its key words and background index. */
  readonly keys: Uint32Array;
  readonly bg: Int32Array;
  readonly count: number;
  /** First row of an enumerated unit's table. */
  readonly exactBase: Map<Unit, number>;
  /** Model rows per unit (the part grouping's costs). */
  readonly unitRows: Int32Array;
  readonly bytes: number;
}

/**
 * Plans the walks of a row (steps 1–2 of {@link decomposedPermutationShap}): a pure function
 * of the game, the options and the row's stream, so every part of the row gets the same plan;
 * parts that run on one thread share it through `ctx.rowPlans`.
 */
async function planOf(
  game: InterventionalGame,
  options: { budget: number; antithetic: boolean },
  ctx: EstimatorContext,
  part: PartSpec | undefined,
): Promise<RowPlan> {
  const memo = ctx.rowPlans;
  if (!memo || !part || part.count <= 1) return planRow(game, options, ctx);
  const d = game.decomposition;
  const key = [
    ctx.rng.state(),
    [options.budget, options.antithetic ? 2 : 1, game.nPlayers, d.words],
    d.diff,
    d.weights,
  ];
  return memo.get('permutation', key, () => planRow(game, options, ctx), ctx.signal);
}

async function planRow(
  game: InterventionalGame,
  options: { budget: number; antithetic: boolean },
  ctx: EstimatorContext,
): Promise<RowPlan> {
  const n = game.nPlayers;
  const d = game.decomposition;
  const nb = d.nBackground;
  const W = d.words;
  const nOut = game.nOutputs;
  const walks = options.antithetic ? 2 : 1;

  const units: Unit[] = [];
  for (let b = 0; b < nb; b++) {
    const pos: number[] = [];
    for (let j = 0; j < n; j++) if ((d.diff[b * W + (j >> 5)] >>> (j & 31)) & 1) pos.push(j);
    units.push({
      b,
      players: Int32Array.from(pos),
      k: pos.length,
      rows: 0,
      exact: false,
      orders: [],
      prefixRows: [],
    });
  }
  const sampled = units.filter((u) => u.k >= 2);
  const totalRows = Math.max(0, (options.budget - 2) * nb);
  const cap = (k: number) => (k <= EXACT_PLAYERS ? 2 ** k - 2 : Number.MAX_SAFE_INTEGER);
  const minRows = (k: number) => Math.min(cap(k), walks * (k - 1));
  const need = sampled.reduce((a, u) => a + minRows(u.k), 0);
  if (need > totalRows)
    return {
      keys: new Uint32Array(0),
      bg: new Int32Array(0),
      count: 0,
      exactBase: new Map(),
      unitRows: new Int32Array(0),
      bytes: 0,
    };
  const alloc = allocate(
    sampled.map((u) => d.weights[u.b] * u.k),
    sampled.map((u) => cap(u.k)),
    totalRows,
  );
  sampled.forEach((u, i) => {
    u.rows = Math.max(alloc[i], minRows(u.k));
  });
  // per planned row: its key words, background index and outputs; per walk: its order and prefix ids
  const planned = Math.min(
    totalRows,
    sampled.reduce((a, u) => a + Math.min(u.rows, cap(u.k)), 0),
  );
  checkMemory(
    `method 'permutation' with a budget of ${options.budget} for ${n} players and ${nb} background rows`,
    planned * (4 * W + 4 + 8 * nOut + 40) + planned * 16,
    'pass a smaller budget',
  );
  // rows given to a unit beyond its need come from the others: trim the largest until it fits
  let over = sampled.reduce((a, u) => a + u.rows, 0) - totalRows;
  for (const u of [...sampled].sort((a, b) => b.rows - a.rows)) {
    if (over <= 0) break;
    const cut = Math.min(over, u.rows - minRows(u.k));
    u.rows -= cut;
    over -= cut;
  }

  // plan: the rows (b, T) to evaluate, as bit sets over all players
  let keys = new Uint32Array(Math.max(1, Math.min(totalRows, 1 << 16)) * W);
  let bg = new Int32Array(Math.max(1, Math.min(totalRows, 1 << 16)));
  let count = 0;
  // row `from` (−1: none) plus player j: a prefix's key is its parent's plus one bit
  const push = (b: number, from: number, j: number): number => {
    if (count >= bg.length) {
      const nk = new Uint32Array(keys.length * 2);
      nk.set(keys);
      keys = nk;
      const nbg = new Int32Array(bg.length * 2);
      nbg.set(bg);
      bg = nbg;
    }
    bg[count] = b;
    const at = count * W;
    if (from >= 0) for (let w = 0; w < W; w++) keys[at + w] = keys[from * W + w];
    keys[at + (j >> 5)] |= 1 << (j & 31);
    return count++;
  };
  const exactBase = new Map<Unit, number>(); // first row of a unit's enumerated table
  const walkers: Walker[] = [];
  let spentAll = 0;
  let yielded = performance.now();
  for (const u of sampled) {
    throwIfAborted(ctx.signal);
    const rng = ctx.rng.split();
    const k = u.k;
    if (u.rows >= cap(k)) {
      // every proper non-empty subset of D_b, in mask order 1 .. 2^k − 2
      u.exact = true;
      exactBase.set(u, count);
      const base = count;
      const last = 2 ** k - 1;
      for (let m = 1; m < last; m++) {
        // mask m = (m without its lowest bit) + that bit's player
        const low = m & -m;
        const prev = m ^ low;
        push(u.b, prev === 0 ? -1 : base + prev - 1, u.players[31 - Math.clz32(low)]);
      }
      spentAll += 2 ** k - 2;
      continue;
    }
    const walker = new Walker(u, rng, walks, push);
    walkers.push(walker);
    // its own rows first (the first pair whatever it costs); the event loop runs every 20 ms
    while (walker.tryAdd(u.orders.length === 0 ? Number.POSITIVE_INFINITY : u.rows - walker.spent))
      if (performance.now() - yielded > 20) {
        await yieldToLoop();
        throwIfAborted(ctx.signal);
        yielded = performance.now();
      }
    spentAll += walker.spent;
  }
  // rows a unit could not use (a pair costs up to 2(|D_b| − 1)) go to the units with the fewest
  // pairs for their mass, one pair at a time
  let leftover = totalRows - spentAll;
  for (let guard = 0; leftover > 0 && walkers.length > 0 && guard < totalRows; guard++) {
    const order = [...walkers].sort(
      (p, q) => (d.weights[q.unit.b] * q.unit.k) / (q.pairs + 1) - (d.weights[p.unit.b] * p.unit.k) / (p.pairs + 1),
    );
    if (performance.now() - yielded > 20) {
      await yieldToLoop();
      throwIfAborted(ctx.signal);
      yielded = performance.now();
    }
    let added = false;
    for (const w of order) {
      const before = w.spent;
      if (w.pairs < w.maxPairs && w.tryAdd(leftover)) {
        leftover -= w.spent - before;
        added = true;
        break;
      }
    }
    if (!added) break;
  }
  const unitRows = Int32Array.from(units, (u) => (u.k < 2 ? 0 : u.exact ? 2 ** u.k - 2 : walkRows(u)));
  let walkBytes = 0;
  for (const u of units) walkBytes += u.orders.length * 4 * (2 * u.k - 1) + 64;
  return {
    units,
    keys,
    bg,
    count,
    exactBase,
    unitRows,
    bytes: keys.byteLength + bg.byteLength + walkBytes,
  };
}

async function solve(
  game: InterventionalGame,
  options: { budget: number; antithetic: boolean },
  ctx: EstimatorContext,
  part: PartSpec | undefined,
): Promise<PartEstimate | undefined> {
  const n = game.nPlayers;
  const nOut = game.nOutputs;
  const d = game.decomposition;
  const W = d.words;
  const fx = game.prediction;
  const walks = options.antithetic ? 2 : 1;
  const plan = await planOf(game, options, ctx, part);
  const units = plan.units;
  if (!units) return undefined;
  const { keys, bg, count, exactBase } = plan;
  // this part's background rows: games dealt to parts by their model rows (`partMembers`)
  // (units are in background-row order: unit i is row i)
  const inPart = partMembers(units, (i) => plan.unitRows[i], part);
  let out: Float64Array;
  let rowsSpent = count;
  if (part && part.count > 1) {
    // evaluate this part's rows only, scattered back to their planned ids
    out = new Float64Array(count * nOut);
    let m = 0;
    const idsAll = new Int32Array(count);
    for (let r = 0; r < count; r++) if (inPart[bg[r]]) idsAll[m++] = r;
    const ids = idsAll.subarray(0, m);
    rowsSpent = m;
    if (m > 0) {
      const subBg = new Int32Array(m);
      const subKeys = new Uint32Array(m * W);
      for (let i = 0; i < m; i++) {
        const r = ids[i];
        subBg[i] = bg[r];
        for (let w = 0; w < W; w++) subKeys[i * W + w] = keys[r * W + w];
      }
      const res = await d.evaluate({ nRows: m, bg: subBg, keys: subKeys }, ctx.signal);
      for (let i = 0; i < m; i++) {
        const r = ids[i];
        for (let o = 0; o < nOut; o++) out[r * nOut + o] = res[i * nOut + o];
      }
    }
  } else
    out =
      count > 0
        ? await d.evaluate({ nRows: count, bg: bg.subarray(0, count), keys: keys.subarray(0, count * W) }, ctx.signal)
        : new Float64Array(0);
  ctx.onProgress?.({ done: Math.ceil(count / d.nBackground) + 2, total: options.budget });

  const values = new Float64Array(n * nOut);
  const variance = new Float64Array(n * nOut);
  let exact = true;
  let anyStderr = false;
  for (const u of units) {
    if (!inPart[u.b]) continue;
    const w = d.weights[u.b];
    const fb = d.backgroundOutputs.subarray(u.b * nOut, (u.b + 1) * nOut);
    if (u.k === 0) continue;
    if (u.k === 1) {
      for (let o = 0; o < nOut; o++) values[u.players[0] * nOut + o] += w * (fx[o] - fb[o]);
      continue;
    }
    const k = u.k;
    if (u.exact) {
      const table = new Float64Array(2 ** k * nOut);
      table.set(fb, 0);
      table.set(fx, (2 ** k - 1) * nOut);
      const base = exactBase.get(u) as number;
      table.set(out.subarray(base * nOut, (base + 2 ** k - 2) * nOut), nOut);
      const phi = shapleyByDifferences(table, k, nOut);
      for (let t = 0; t < k; t++)
        for (let o = 0; o < nOut; o++) values[u.players[t] * nOut + o] += w * phi[t * nOut + o];
      continue;
    }
    exact = false;
    const nUnits = u.orders.length / walks;
    const unitEst = new Float64Array(nUnits * k * nOut);
    const value = (ids: Int32Array, s: number, o: number) =>
      s === 0 ? fb[o] : s === k ? fx[o] : out[ids[s - 1] * nOut + o];
    u.orders.forEach((order, wi) => {
      const ids = u.prefixRows[wi];
      const at = Math.floor(wi / walks) * k * nOut;
      for (let s = 0; s < k; s++)
        for (let o = 0; o < nOut; o++)
          unitEst[at + order[s] * nOut + o] += (value(ids, s + 1, o) - value(ids, s, o)) / walks;
    });
    const mean = new Float64Array(k * nOut);
    for (let m = 0; m < nUnits; m++) for (let i = 0; i < k * nOut; i++) mean[i] += unitEst[m * k * nOut + i] / nUnits;
    for (let t = 0; t < k; t++)
      for (let o = 0; o < nOut; o++) values[u.players[t] * nOut + o] += w * mean[t * nOut + o];
    if (nUnits >= 2) {
      anyStderr = true;
      for (let t = 0; t < k; t++)
        for (let o = 0; o < nOut; o++) {
          let ss = 0;
          for (let m = 0; m < nUnits; m++) ss += (unitEst[(m * k + t) * nOut + o] - mean[t * nOut + o]) ** 2;
          variance[u.players[t] * nOut + o] += (w * w * ss) / (nUnits - 1) / nUnits;
        }
    }
  }
  return { values, variance: anyStderr ? variance : undefined, rowsSpent, exact };
}

/** Model rows of a sampled unit's walks (its distinct prefixes). */
function walkRows(u: Unit): number {
  const seen = new Set<number>();
  for (const ids of u.prefixRows) for (const id of ids) seen.add(id);
  return seen.size;
}

/**
 * Σφ = total up to rounding already (every walk telescopes): shifts the players with a
 * non-zero value by the same amount to remove the rounding residue, so that a dummy keeps
 * exactly 0.
 */
function efficiencyKeepingZeros(phi: Float64Array, n: number, nOut: number, total: ArrayLike<number>): Float64Array {
  for (let o = 0; o < nOut; o++) {
    let sum = 0;
    let live = 0;
    for (let i = 0; i < n; i++) {
      sum += phi[i * nOut + o];
      if (phi[i * nOut + o] !== 0) live++;
    }
    if (live === 0) live = n;
    const gap = (total[o] - sum) / live;
    if (gap !== 0) for (let i = 0; i < n; i++) if (phi[i * nOut + o] !== 0 || live === n) phi[i * nOut + o] += gap;
  }
  return phi;
}

/**
 * k − 1 walk orders from orthogonal directions (Mitchell et al. 2022, "Sampling permutations
 * for Shapley value estimation": orthogonal spherical codes): a random orthonormal basis of
 * the hyperplane Σy = 0 in R^k (Gram–Schmidt of Gaussian vectors in the Helmert basis), each
 * direction y giving the order argsort(y) (its antithetic partner, −y, is the reverse). Each
 * order alone is uniformly distributed (the basis is rotation invariant), so the mean stays
 * unbiased; the orders of one basis are spread out rather than independent.
 */
function orthogonalOrders(k: number, rng: { normal(): number }): Int32Array[] {
  const m = k - 1;
  const Q: Float64Array[] = [];
  for (let i = 0; i < m; i++) {
    const v = Float64Array.from({ length: m }, () => rng.normal());
    for (const q of Q) {
      let dot = 0;
      for (let t = 0; t < m; t++) dot += v[t] * q[t];
      for (let t = 0; t < m; t++) v[t] -= dot * q[t];
    }
    let norm = 0;
    for (let t = 0; t < m; t++) norm += v[t] * v[t];
    norm = Math.sqrt(norm) || 1;
    for (let t = 0; t < m; t++) v[t] /= norm;
    Q.push(v);
  }
  // Helmert basis h_i (i = 1..m): (1, …, 1 (i times), −i, 0, …) / sqrt(i(i + 1))
  return Q.map((q) => {
    const y = new Float64Array(k);
    for (let i = 1; i <= m; i++) {
      const c = q[i - 1] / Math.sqrt(i * (i + 1));
      for (let t = 0; t < i; t++) y[t] += c;
      y[i] -= i * c;
    }
    return Int32Array.from({ length: k }, (_, i) => i).sort((a, b) => y[a] - y[b]);
  });
}

/**
 * Exact Shapley values from the table of all 2^k values as weighted sums of marginal
 * differences v(S ∪ j) − v(S), so that a player with no effect gets exactly 0.
 */
function shapleyByDifferences(table: Float64Array, k: number, nOut: number): Float64Array {
  const weight = new Float64Array(k); // |S|! (k − |S| − 1)! / k!
  for (let s = 0; s < k; s++) {
    let w = 1 / k;
    for (let t = 1; t <= s; t++) w *= t / (k - t);
    weight[s] = w;
  }
  const phi = new Float64Array(k * nOut);
  const full = 2 ** k;
  // weight of each mask by its size, then for each player the masks without it in ascending
  // order, walked as runs (no branch per mask): the same sums in the same order as mask by mask
  const size = new Uint8Array(full);
  for (let m = 1; m < full; m++) size[m] = size[m & (m - 1)] + 1;
  const wt = new Float64Array(full);
  for (let m = 0; m < full; m++) wt[m] = weight[size[m]];
  for (let j = 0; j < k; j++) {
    const bit = 1 << j;
    if (nOut === 1) {
      let acc = 0;
      for (let hi = 0; hi < full; hi += 2 * bit)
        for (let m = hi; m < hi + bit; m++) acc += wt[m] * (table[m + bit] - table[m]);
      phi[j] = acc;
      continue;
    }
    for (let hi = 0; hi < full; hi += 2 * bit)
      for (let m = hi; m < hi + bit; m++) {
        const w = wt[m];
        for (let o = 0; o < nOut; o++) phi[j * nOut + o] += w * (table[(m | bit) * nOut + o] - table[m * nOut + o]);
      }
  }
  return phi;
}

/**
 * Plans the antithetic walks of one background row's game: orders in orthogonal blocks, each
 * prefix row once ({@link decomposedPermutationShap}).
 */
class Walker {
  readonly unit: Unit;
  spent = 0;
  pairs = 0;
  readonly maxPairs: number;
  private readonly rng: { normal(): number; shuffle<T extends { length: number; [i: number]: number }>(a: T): T };
  private readonly walks: number;
  private readonly push: (b: number, from: number, j: number) => number;
  private readonly seen = new Map<number | string, number>();
  private readonly local: Uint8Array;
  private pending: Int32Array[] = [];

  constructor(unit: Unit, rng: Walker['rng'], walks: number, push: (b: number, from: number, j: number) => number) {
    this.unit = unit;
    this.rng = rng;
    this.walks = walks;
    this.push = push;
    this.local = new Uint8Array(unit.k);
    this.maxPairs = 2 * unit.rows + 2 * unit.k + 2; // small games whose prefixes are all known stop here
  }

  /** Adds the next walk (pair) when its new rows fit in `limit`; false (order kept) otherwise. */
  tryAdd(limit: number): boolean {
    const k = this.unit.k;
    if (this.pairs >= this.maxPairs) return false;
    if (this.pending.length === 0)
      this.pending =
        k <= ORTHOGONAL_PLAYERS
          ? orthogonalOrders(k, this.rng)
          : [this.rng.shuffle(Int32Array.from({ length: k }, (_, i) => i))];
    const order = this.pending[this.pending.length - 1];
    const candidate = this.walks === 2 ? [order, order.slice().reverse()] : [order];
    const local = this.local;
    const keysOf = candidate.map((o) => {
      const out: (number | string)[] = [];
      local.fill(0);
      let key = 0;
      for (let q = 0; q < k - 1; q++) {
        local[o[q]] = 1;
        if (k <= 52) {
          key += 2 ** o[q];
          out.push(key);
        } else out.push(local.join(''));
      }
      return out;
    });
    const fresh = new Set<number | string>();
    for (const ks of keysOf) for (const key of ks) if (!this.seen.has(key)) fresh.add(key);
    if (fresh.size > limit) return false;
    this.pending.pop();
    candidate.forEach((o, w) => {
      const ids = new Int32Array(k - 1);
      for (let q = 0; q < k - 1; q++) {
        const key = keysOf[w][q];
        let id = this.seen.get(key);
        if (id === undefined) {
          id = this.push(this.unit.b, q === 0 ? -1 : ids[q - 1], this.unit.players[o[q]]);
          this.seen.set(key, id);
          this.spent++;
        }
        ids[q] = id;
      }
      this.unit.orders.push(o);
      this.unit.prefixRows.push(ids);
    });
    this.pairs++;
    return true;
  }
}
