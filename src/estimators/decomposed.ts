import { BudgetError, throwIfAborted } from '../errors.js';
import type { InterventionalGame } from '../games/interventional-game.js';
import { enforceEfficiency } from '../numerics/linear-algebra.js';
import { PairedRegression } from '../numerics/regression.js';
import { yieldToLoop } from '../parallel/yield.js';
import type { CoalitionDesign } from '../sampling/coalitions.js';
import { allocate, PairedSampler } from '../sampling/coalitions.js';
import { wordsFor } from '../sampling/masking.js';
import { Rng } from '../sampling/rng.js';
import type { EstimatorContext, PartEstimate, PartedGame, PartSpec, ShapleyEstimate } from './estimate.js';
import { convergenceRatio, partMembers } from './estimate.js';

/** Options of {@link decomposedShap}. */
export interface DecomposedShapOptions {
  /** Coalition-value equivalents per row: `(budget − 2) × |background|` model rows. */
  budget: number | 'auto';
  /** First budget of `'auto'` (then doubled). */
  autoStart: number;
  /** Stopping threshold of `'auto'`. */
  tolerance: number;
  /** Budget cap of `'auto'`. */
  maxBudget: number;
  /** Size distribution of each background row's sample. */
  sizeMass: 'leverage' | 'kernel';
}

/**
 * Kernel SHAP by decomposition over background rows — whybox's default for
 * interventional games.
 *
 * Shapley values are linear in the game, and v(S) = Σ_b w_b g_b(S ∩ D_b) where g_b is a game
 * on the players D_b on which background row b differs from x (the others are null players
 * of g_b). So φ(v) = Σ_b w_b φ(g_b), and each φ(g_b) is estimated on its own:
 *
 * 1. The model-row budget `(budget − 2) · |background|` is split over background rows in
 *    proportion to w_b · |D_b|, capped at 2^|D_b| − 2 (water-filling); a background row
 *    whose cap is reached is solved **exactly** (categorical data makes many D_b small).
 * 2. Each other g_b gets a paired Leverage-SHAP sample on its |D_b| players and the
 *    constrained regression (Σφ(g_b) = f(x) − f(b) exactly), with jackknife errors. Rows
 *    whose games have the same size share one sampled design, each through its own random
 *    relabelling of its players: the regression's normal matrices are then factorised once
 *    per design, and a background row costs only its model rows and O(|S|) per coalition.
 * 3. φ = Σ_b w_b φ(g_b) and SE² = Σ_b w_b² SE_b².
 *
 * Errors of (differently labelled) samples per background row average out, where one
 * shared sample of coalitions makes them add up; smaller games need fewer rows each. The
 * cost is the same number of model rows as a shared design of `budget` coalitions.
 */
export async function decomposedShap(
  game: InterventionalGame,
  options: DecomposedShapOptions,
  ctx: EstimatorContext,
): Promise<ShapleyEstimate> {
  if (options.budget === 'auto') return (await solve(game, options, ctx, undefined)) as ShapleyEstimate;
  const part = (await solve(game, options, ctx, { index: 0, count: 1 })) as PartEstimate;
  return combineDecomposed([part], { ...game, nBackground: game.decomposition.nBackground });
}

/**
 * Part `part` of {@link decomposedShap} with a numeric budget: the background rows' games
 * are dealt to `part.count` parts of about equal cost, costliest first (`partMembers`, a pure
 * function of the game and the budget); this solves one part. {@link combineDecomposed}
 * adds the parts up — the same numbers as one part, whichever thread solved which.
 */
export async function decomposedPart(
  game: InterventionalGame,
  options: DecomposedShapOptions,
  ctx: EstimatorContext,
  part: PartSpec,
): Promise<PartEstimate> {
  if (options.budget === 'auto') throw new Error("internal: budget 'auto' is not split into parts");
  if (!Number.isInteger(part.count) || part.count < 1 || !(part.index >= 0 && part.index < part.count))
    throw new Error(`internal: part ${part.index} of ${part.count}`);
  return (await solve(game, options, ctx, part)) as PartEstimate;
}

/** The decomposed estimate from its parts (in part order): φ = Σ parts, SE² = Σ variances. */
export function combineDecomposed(parts: readonly PartEstimate[], game: PartedGame): ShapleyEstimate {
  const n = game.nPlayers;
  const fx = game.prediction;
  const nOut = fx.length;
  const values = new Float64Array(n * nOut);
  const variance = new Float64Array(n * nOut);
  let rowsSpent = 0;
  let exact = true;
  for (const p of parts) {
    for (let i = 0; i < values.length; i++) values[i] += p.values[i];
    if (p.variance) for (let i = 0; i < variance.length; i++) variance[i] += p.variance[i];
    rowsSpent += p.rowsSpent;
    if (!p.exact) exact = false;
  }
  const total = fx.map((f, o) => f - game.baseValue[o]);
  enforceEfficiency(values, n, nOut, total);
  return {
    values,
    stderr: variance.map(Math.sqrt),
    baseValue: game.baseValue,
    fullValue: fx,
    evaluations: Math.ceil(rowsSpent / Math.max(1, game.nBackground)) + 2,
    exact,
    variant: 'decomposed',
  };
}

async function solve(
  game: InterventionalGame,
  options: DecomposedShapOptions,
  ctx: EstimatorContext,
  part: PartSpec | undefined,
): Promise<ShapleyEstimate | PartEstimate> {
  const n = game.nPlayers;
  const nOut = game.nOutputs;
  const d = game.decomposition;
  const nb = d.nBackground;
  const W = d.words;
  const fx = game.prediction;
  const auto = options.budget === 'auto';

  // units: one per weighted background row, with its players in a random order
  const units: Unit[] = [];
  for (let b = 0; b < nb; b++) {
    const rng = ctx.rng.split();
    const pos: number[] = [];
    for (let j = 0; j < n; j++) if ((d.diff[b * W + (j >> 5)] >>> (j & 31)) & 1) pos.push(j);
    const perm = rng.shuffle(Int32Array.from({ length: pos.length }, (_, i) => i));
    units.push(
      new Unit(
        b,
        Array.from(perm, (t) => pos[t]),
        W,
        auto,
      ),
    );
  }
  const mass = options.sizeMass === 'kernel' ? (k: number) => (s: number) => 1 / (s * (k - s)) : () => () => 1;
  let shapeFor: (k: number, pairs: number) => Shape;
  // factorised regressions kept for later rows (recomputed from the design when dropped)
  let trimCache = () => {};
  if (!auto) {
    // designs per (game size, pairs), shared by every row of an explanation when the caller
    // passes a cache: each is a pure function of (seed, size, pairs), so the numbers do not
    // depend on which rows are explained, in which order, or on how many threads
    const cache: DesignCache = ctx.designs ?? { seed: ctx.rng.int(0x100000000), shapes: new Map() };
    const base = Rng.fromSeed(cache.seed).int(0x100000000); // folds every bit of the seed
    shapeFor = (k, pairs) => {
      const key = `${options.sizeMass}:${k}:${pairs}`;
      let shape = cache.shapes.get(key) as Shape | undefined;
      if (!shape) {
        const rng = Rng.fromSeed((base ^ Math.imul(k, 0x9e3779b1) ^ Math.imul(pairs + 1, 0x85ebca77)) >>> 0);
        shape = {
          design: new PairedSampler(k, mass(k), rng).design(2 * pairs + 2, { bytes: false }),
          regression: undefined,
        };
        cache.shapes.set(key, shape);
      }
      return shape;
    };
    trimCache = () => {
      let bytes = 0;
      for (const shape of cache.shapes.values()) bytes += (shape as Shape).regression?.bytes ?? 0;
      if (bytes > REGRESSION_CACHE_BYTES)
        for (const shape of cache.shapes.values()) (shape as Shape).regression = undefined;
    };
  } else {
    // budget 'auto': one sampler per game size for this row, so that the designs of the
    // doubling rounds share their pairs (each class a prefix of one random order) and the
    // rows already evaluated are reused
    const samplers = new Map<number, PairedSampler>();
    for (const k of [...new Set(units.map((u) => u.k))].sort((a, b) => a - b))
      if (k >= 2) samplers.set(k, new PairedSampler(k, mass(k), ctx.rng.split()));
    const shapes = new Map<string, Shape>();
    shapeFor = (k, pairs) => {
      const key = `${k}:${pairs}`;
      let shape = shapes.get(key);
      if (!shape) {
        const sampler = samplers.get(k) as PairedSampler;
        shape = { design: sampler.design(2 * pairs + 2, { bytes: false, nested: false }), regression: undefined };
        shapes.set(key, shape);
      }
      return shape;
    };
  }

  let budget = auto ? options.autoStart : (options.budget as number);
  let rowsSpent = 0;
  for (;;) {
    throwIfAborted(ctx.signal);
    const pairBudget = Math.floor(((budget - 2) * nb) / 2);
    // pairs ∝ w_b · |D_b| (minimises Σ_b w_b² |D_b|² / m_b, the rough error of the sum),
    // capped at the game's size: small games are solved exactly, large ones sampled more
    const pairs = allocate(
      units.map((u) => d.weights[u.b] * u.k),
      units.map((u) => u.maxPairs),
      pairBudget,
    );
    // every background row with at least two differing players needs one pair
    let spent = 0;
    units.forEach((u, i) => {
      if (u.maxPairs > 0 && pairs[i] === 0) pairs[i] = 1;
      spent += pairs[i];
    });
    if (spent > pairBudget)
      throw new BudgetError(
        `budget ${budget} cannot give each of the ${units.length} background rows one coalition pair; use a budget of at least ${Math.ceil((2 * spent) / nb) + 2} or a smaller background`,
      );
    // this part's background rows: games dealt to parts by their model rows (`partMembers`)
    const inPart = partMembers(units, (i) => (units[i].k < 2 ? 0 : 2 * pairs[i] + 2), part);
    // designs shared by units of equal size and pairs
    const shapeOf = units.map((u, i) => (u.k < 2 || !inPart[i] ? undefined : shapeFor(u.k, pairs[i])));
    // the rows still to evaluate
    const wanted = units.map((u, i) => (shapeOf[i] ? u.missing((shapeOf[i] as Shape).design) : NONE));
    const nRows = wanted.reduce((a, w) => a + w.length, 0);
    if (nRows > 0) {
      const bg = new Int32Array(nRows);
      const keys = new Uint32Array(nRows * W);
      let r = 0;
      units.forEach((u, i) => {
        const rows = wanted[i];
        if (rows.length === 0) return;
        bg.fill(u.b, r, r + rows.length);
        u.writeKeys((shapeOf[i] as Shape).design, rows, keys, r * W);
        r += rows.length;
      });
      const out = await d.evaluate({ nRows, bg, keys }, ctx.signal);
      r = 0;
      units.forEach((u, i) => {
        if (wanted[i].length === 0) return;
        u.commit((shapeOf[i] as Shape).design, wanted[i], out, r, nOut);
        r += wanted[i].length;
      });
      rowsSpent += nRows;
    }
    ctx.onProgress?.({ done: Math.ceil(rowsSpent / nb) + 2, total: auto ? options.maxBudget : budget });
    // per-background solves: all units of a shape in one multi-column fit, then combined
    const values = new Float64Array(n * nOut);
    const variance = new Float64Array(n * nOut);
    let exact = true;
    const members = new Map<Shape, number[]>();
    units.forEach((u, i) => {
      if (!inPart[i]) return;
      const fb = d.backgroundOutputs.subarray(u.b * nOut, (u.b + 1) * nOut);
      const w = d.weights[u.b];
      if (u.k === 1) for (let o = 0; o < nOut; o++) values[u.players[0] * nOut + o] += w * (fx[o] - fb[o]);
      if (u.k < 2) return;
      const shape = shapeOf[i] as Shape;
      const list = members.get(shape);
      if (list) list.push(i);
      else members.set(shape, [i]);
    });
    for (const [shape, list] of members) {
      await yieldToLoop(); // one shape's solve at a time: the event loop runs in between
      throwIfAborted(ctx.signal);
      const { design } = shape;
      const cols = list.length * nOut;
      const y = new Float64Array(design.count * cols);
      const totals = new Float64Array(cols);
      list.forEach((i, c) => {
        const u = units[i];
        const fb = d.backgroundOutputs.subarray(u.b * nOut, (u.b + 1) * nOut);
        const yu = u.values(design, nOut);
        for (let s = 0; s < design.count; s++)
          for (let o = 0; o < nOut; o++) y[s * cols + c * nOut + o] = yu[s * nOut + o] - fb[o];
        for (let o = 0; o < nOut; o++) totals[c * nOut + o] = fx[o] - fb[o];
      });
      shape.regression ??= new PairedRegression(design);
      const fit = shape.regression.fit(y, cols, totals);
      trimCache(); // before the next shape's factorisations: at most one over the cap at a time
      const complete = design.complete;
      if (!complete) exact = false;
      list.forEach((i, c) => {
        const u = units[i];
        const w = d.weights[u.b];
        u.players.forEach((j, t) => {
          for (let o = 0; o < nOut; o++) {
            const at = t * cols + c * nOut + o;
            values[j * nOut + o] += w * fit.values[at];
            if (!complete && fit.stderr) variance[j * nOut + o] += w * w * fit.stderr[at] ** 2;
          }
        });
      });
    }
    if (part) return { values, variance, rowsSpent, exact };
    const total = fx.map((f, o) => f - game.baseValue[o]);
    enforceEfficiency(values, n, nOut, total);
    const stderr = variance.map(Math.sqrt);
    const converged = exact || convergenceRatio(values, stderr, n, nOut) < options.tolerance;
    if (!auto || converged || budget >= options.maxBudget) {
      return {
        values,
        stderr,
        baseValue: game.baseValue,
        fullValue: fx,
        evaluations: Math.ceil(rowsSpent / nb) + 2,
        exact,
        converged: auto ? converged : undefined,
        variant: 'decomposed',
      };
    }
    budget = Math.min(options.maxBudget, 2 * budget);
  }
}

/**
 * Most bytes of factorised regressions an explanation keeps for its later rows: each is
 * (jackknife groups + 1) triangular factors of |D_b|², so many long sequences (each
 * background row its own game size) would otherwise hold gigabytes.
 */
const REGRESSION_CACHE_BYTES = 256 * 2 ** 20;

/** A design shared by background rows of one game size, and its factorised regression. */
interface Shape {
  design: CoalitionDesign;
  regression: PairedRegression | undefined;
}

/**
 * Designs (with their factorised regressions) shared by the rows of one explanation, keyed
 * by size distribution, game size and pairs; drawn from `seed`.
 */
export interface DesignCache {
  readonly seed: number;
  readonly shapes: Map<string, unknown>;
}

/**
 * One background row's game g_b. Its design coordinate t stands for player `players[t]`
 * (a random relabelling of D_b), so units sharing a design sample different coalitions.
 */
class Unit {
  readonly b: number;
  readonly players: readonly number[];
  readonly k: number;
  /** Pairs of coalitions of g_b other than ∅ and D_b: (2^k − 2) / 2. */
  readonly maxPairs: number;
  private readonly W: number;
  /** Deposit tables: design bits (8 at a time) → model-space key words. */
  private tablesBuilt: Uint32Array | undefined;
  /** Values by model-space key, kept across the rounds of budget 'auto'. */
  private readonly known: Map<number | string, Float64Array> | undefined;
  private current: Float64Array | undefined;
  private currentRows = 0;

  constructor(b: number, players: number[], W: number, remember: boolean) {
    this.b = b;
    this.players = players;
    this.k = players.length;
    this.W = W;
    const k = this.k;
    this.maxPairs = k < 2 ? 0 : k >= 52 ? Number.MAX_SAFE_INTEGER : (2 ** k - 2) / 2;
    this.known = remember ? new Map() : undefined;
  }

  /** Deposit tables, built at the first key (a part builds only its own units' tables). */
  private get tables(): Uint32Array {
    if (this.tablesBuilt) return this.tablesBuilt;
    const { k, W, players } = this;
    const chunks = Math.ceil(k / 8);
    const tables = new Uint32Array(chunks * 256 * W);
    // entry v = entry (v without its lowest bit) | that bit's player
    for (let c = 0; c < chunks; c++)
      for (let v = 1; v < 256; v++) {
        const low = v & -v;
        const i = 31 - Math.clz32(low);
        const from = (c * 256 + (v ^ low)) * W;
        const to = (c * 256 + v) * W;
        for (let w = 0; w < W; w++) tables[to + w] = tables[from + w];
        if (c * 8 + i < k) {
          const j = players[c * 8 + i];
          tables[to + (j >> 5)] |= 1 << (j & 31);
        }
      }
    this.tablesBuilt = tables;
    return tables;
  }

  /** Design rows to evaluate: all of them, or (budget 'auto') those not seen in an earlier round. */
  missing(design: CoalitionDesign): Int32Array {
    if (!this.known) {
      const all = new Int32Array(design.count);
      for (let s = 0; s < all.length; s++) all[s] = s;
      return all;
    }
    const rows: number[] = [];
    const key = new Uint32Array(this.W);
    for (let s = 0; s < design.count; s++) {
      this.writeKey(design, s, key, 0);
      if (!this.known.has(keyOf(key))) rows.push(s);
    }
    return Int32Array.from(rows);
  }

  /** Writes the model-space keys of design rows `rows` one after another from `keys[off]`. */
  writeKeys(design: CoalitionDesign, rows: Int32Array, keys: Uint32Array, off: number): void {
    const W = this.W;
    const Wk = wordsFor(this.k);
    const chunks = Math.ceil(this.k / 8);
    const tables = this.tables;
    const bits = design.bits;
    keys.fill(0, off, off + rows.length * W);
    for (let i = 0, o = off; i < rows.length; i++, o += W) {
      const at = rows[i] * Wk;
      for (let c = 0; c < chunks; c++) {
        const byte = (bits[at + (c >> 2)] >>> ((c & 3) * 8)) & 0xff;
        if (byte === 0) continue;
        const t = (c * 256 + byte) * W;
        for (let w = 0; w < W; w++) keys[o + w] |= tables[t + w];
      }
    }
  }

  /** Writes the model-space key (bit set over all players) of design row s. */
  writeKey(design: CoalitionDesign, s: number, keys: Uint32Array, off: number): void {
    const W = this.W;
    const Wk = wordsFor(this.k);
    for (let w = 0; w < W; w++) keys[off + w] = 0;
    for (let c = 0; c * 8 < this.k; c++) {
      const byte = (design.bits[s * Wk + (c >> 2)] >>> ((c & 3) * 8)) & 0xff;
      if (byte === 0) continue;
      const t = (c * 256 + byte) * W;
      for (let w = 0; w < W; w++) keys[off + w] |= this.tables[t + w];
    }
  }

  /** Stores the outputs of `rows` (found at `out[offset...]`). */
  commit(design: CoalitionDesign, rows: Int32Array, out: Float64Array, offset: number, nOut: number): void {
    if (!this.known) {
      // every row of the design was evaluated, in design order
      this.current = out.subarray(offset * nOut, (offset + rows.length) * nOut);
      this.currentRows = rows.length;
      return;
    }
    const key = new Uint32Array(this.W);
    rows.forEach((s, i) => {
      this.writeKey(design, s, key, 0);
      this.known?.set(keyOf(key), out.slice((offset + i) * nOut, (offset + i + 1) * nOut));
    });
  }

  /** Values of every design row (`count × nOut`), a fresh array. */
  values(design: CoalitionDesign, nOut: number): Float64Array {
    if (!this.known) {
      if (!this.current || this.currentRows !== design.count)
        throw new Error(`internal: background row ${this.b} has no values for its design`);
      return this.current.slice();
    }
    const y = new Float64Array(design.count * nOut);
    const key = new Uint32Array(this.W);
    for (let s = 0; s < design.count; s++) {
      this.writeKey(design, s, key, 0);
      y.set(this.known.get(keyOf(key)) as Float64Array, s * nOut);
    }
    return y;
  }
}

const NONE = new Int32Array(0);

function keyOf(key: Uint32Array): number | string {
  return key.length === 1 ? key[0] : key.join(',');
}
