import { BudgetError, throwIfAborted } from '../errors.js';
import type { InterventionalGame } from '../games/interventional-game.js';
import type { CoalitionDesign } from '../sampling/coalitions.js';
import { allocate, PairedSampler } from '../sampling/coalitions.js';
import type { Rng } from '../sampling/rng.js';
import type { EstimatorContext, ShapleyEstimate } from './estimate.js';
import { convergenceRatio } from './estimate.js';
import { enforceEfficiency } from './linear-algebra.js';
import { fitPaired } from './regression.js';

/** Options of {@link decomposedShap}. */
export interface DecomposedShapOptions {
  /** Coalition-value equivalents per row: `(budget − 2) × |background|` model rows. */
  budget: number | 'auto';
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
 *    proportion to their weights, capped at 2^|D_b| − 2 (water-filling); a background row
 *    whose cap is reached is solved **exactly** (categorical data makes many D_b small).
 * 2. Each other g_b gets an independent paired Leverage-SHAP sample on its |D_b| players and
 *    the constrained regression (Σφ(g_b) = f(x) − f(b) exactly), with jackknife errors.
 * 3. φ = Σ_b w_b φ(g_b) and SE² = Σ_b w_b² SE_b² (independent samples).
 *
 * Independent samples per background row average their errors out, where one shared
 * sample of coalitions makes them add up; smaller games need fewer rows each. The cost
 * is the same number of model rows as a shared design of `budget` coalitions.
 */
export async function decomposedShap(
  game: InterventionalGame,
  options: DecomposedShapOptions,
  ctx: EstimatorContext,
): Promise<ShapleyEstimate> {
  const n = game.nPlayers;
  const nOut = game.nOutputs;
  const d = game.decomposition;
  const nb = d.nBackground;
  const W = d.words;
  const fx = game.prediction;
  const mass = options.sizeMass === 'kernel' ? (s: number, k: number) => 1 / (s * (k - s)) : () => 1;
  const auto = options.budget === 'auto';
  const units: BackgroundUnit[] = [];
  for (let b = 0; b < nb; b++) {
    const rng = ctx.rng.split(); // drawn for every row, so streams do not depend on weights
    if (d.weights[b] === 0) continue;
    const pos: number[] = [];
    for (let j = 0; j < n; j++) if ((d.diff[b * W + (j >> 5)] >>> (j & 31)) & 1) pos.push(j);
    units.push(new BackgroundUnit(b, pos, rng, mass, nOut));
  }
  let budget = auto ? Math.min(options.maxBudget, Math.max(512, 2 * n + 2)) : (options.budget as number);
  let rowsSpent = 0;
  for (;;) {
    throwIfAborted(ctx.signal);
    const pairBudget = Math.floor(((budget - 2) * nb) / 2);
    const pairs = allocate(
      units.map((u) => d.weights[u.b]),
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
    // designs (nested across rounds) and the rows they still need
    const designs = units.map((u, i) => u.design(pairs[i]));
    const jobs = units.map((u, i) => u.missing(designs[i]));
    const nRows = jobs.reduce((a, j) => a + j.length, 0);
    if (nRows > 0) {
      const bg = new Int32Array(nRows);
      const keys = new Uint32Array(nRows * W);
      let r = 0;
      units.forEach((u, i) => {
        for (const s of jobs[i]) {
          bg[r] = u.b;
          u.writeKey(designs[i] as CoalitionDesign, s, keys, r * W, W);
          r++;
        }
      });
      const out = await d.evaluate({ nRows, bg, keys }, ctx.signal);
      r = 0;
      units.forEach((u, i) => {
        if (jobs[i].length === 0) return;
        u.commit(designs[i] as CoalitionDesign, out, r * nOut);
        r += jobs[i].length;
      });
      rowsSpent += nRows;
    }
    ctx.onProgress?.({ done: Math.ceil(rowsSpent / nb) + 2, total: auto ? options.maxBudget : budget });
    // per-background solves, combined
    const values = new Float64Array(n * nOut);
    const variance = new Float64Array(n * nOut);
    let exact = true;
    units.forEach((u, i) => {
      const fb = d.backgroundOutputs.subarray(u.b * nOut, (u.b + 1) * nOut);
      const fit = u.solve(designs[i], fb, fx);
      if (!fit.exact) exact = false;
      const w = d.weights[u.b];
      u.pos.forEach((j, t) => {
        for (let o = 0; o < nOut; o++) {
          values[j * nOut + o] += w * fit.values[t * nOut + o];
          if (fit.stderr) variance[j * nOut + o] += w * w * fit.stderr[t * nOut + o] ** 2;
        }
      });
    });
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
        evaluations: Math.min(budget, Math.ceil(rowsSpent / nb) + 2),
        exact,
        converged: auto ? converged : undefined,
        variant: 'decomposed',
      };
    }
    budget = Math.min(options.maxBudget, 2 * budget);
  }
}

/** One background row's game g_b on its differing players `pos`. */
class BackgroundUnit {
  readonly b: number;
  readonly pos: readonly number[];
  /** Pairs of coalitions of g_b other than ∅ and D_b: (2^k − 2) / 2. */
  readonly maxPairs: number;
  private readonly nOut: number;
  private readonly sampler: PairedSampler | undefined;
  /** Per size class: values of evaluated pairs (pair p: rows 2p, 2p+1), and how many. */
  private readonly stores: Float64Array[] = [];
  private readonly evaluated: number[] = [];

  constructor(b: number, pos: number[], rng: Rng, mass: (s: number, k: number) => number, nOut: number) {
    this.b = b;
    this.pos = pos;
    this.nOut = nOut;
    const k = pos.length;
    this.maxPairs = k < 2 ? 0 : k >= 52 ? Number.MAX_SAFE_INTEGER : (2 ** k - 2) / 2;
    this.sampler = k >= 2 ? new PairedSampler(k, (s) => mass(s, k), rng) : undefined;
    for (let c = 0; c < Math.floor(k / 2); c++) {
      this.stores.push(new Float64Array(0));
      this.evaluated.push(0);
    }
  }

  design(pairs: number): CoalitionDesign | undefined {
    return this.sampler && pairs > 0 ? this.sampler.design(2 * pairs + 2, { bytes: false }) : undefined;
  }

  /** Design rows whose values are not known yet (pairs beyond each class's evaluated prefix). */
  missing(design: CoalitionDesign | undefined): number[] {
    const out: number[] = [];
    if (!design) return out;
    let row = 0;
    design.classPairs.forEach((m, c) => {
      for (let p = this.evaluated[c]; p < m; p++) out.push(row + 2 * p, row + 2 * p + 1);
      row += 2 * m;
    });
    return out;
  }

  /** Stores the values of the rows {@link missing} returned, in the same order. */
  commit(design: CoalitionDesign, values: Float64Array, offset: number): void {
    const nOut = this.nOut;
    let at = offset;
    design.classPairs.forEach((m, c) => {
      const have = this.evaluated[c];
      if (m <= have) return;
      if (this.stores[c].length < m * 2 * nOut) {
        const next = new Float64Array(m * 2 * nOut);
        next.set(this.stores[c].subarray(0, have * 2 * nOut));
        this.stores[c] = next;
      }
      const len = (m - have) * 2 * nOut;
      this.stores[c].set(values.subarray(at, at + len), have * 2 * nOut);
      at += len;
      this.evaluated[c] = m;
    });
  }

  /**
   * Writes the model-space key (bit set over all players) of design row s: the row's bits
   * over `pos` deposited onto the players' positions, one 256-entry table per byte.
   */
  writeKey(design: CoalitionDesign, s: number, keys: Uint32Array, off: number, W: number): void {
    const k = design.n;
    const Wk = Math.ceil(k / 32);
    const tables = this.depositTables(W);
    for (let w = 0; w < W; w++) keys[off + w] = 0;
    for (let c = 0; c * 8 < k; c++) {
      const byte = (design.bits[s * Wk + (c >> 2)] >>> ((c & 3) * 8)) & 0xff;
      if (byte === 0) continue;
      const t = (c * 256 + byte) * W;
      for (let w = 0; w < W; w++) keys[off + w] |= tables[t + w];
    }
  }

  private tables: Uint32Array | undefined;
  private depositTables(W: number): Uint32Array {
    if (this.tables) return this.tables;
    const k = this.pos.length;
    const chunks = Math.ceil(k / 8);
    const t = new Uint32Array(chunks * 256 * W);
    for (let c = 0; c < chunks; c++)
      for (let v = 1; v < 256; v++)
        for (let i = 0; i < 8; i++)
          if ((v >>> i) & 1 && c * 8 + i < k) {
            const j = this.pos[c * 8 + i];
            t[(c * 256 + v) * W + (j >> 5)] |= 1 << (j & 31);
          }
    this.tables = t;
    return t;
  }

  /** φ(g_b) over `pos` (`k × nOut`), with standard errors when sampled. */
  solve(
    design: CoalitionDesign | undefined,
    fb: Float64Array,
    fx: Float64Array,
  ): { values: Float64Array; stderr?: Float64Array; exact: boolean } {
    const nOut = this.nOut;
    const k = this.pos.length;
    const total = fx.map((f, o) => f - fb[o]);
    if (k === 0) return { values: new Float64Array(0), exact: true };
    if (k === 1) return { values: total.slice(), exact: true };
    if (!design) throw new Error(`internal: background row ${this.b} has no coalition sample`);
    const y = new Float64Array(design.count * nOut);
    let at = 0;
    design.classPairs.forEach((m, c) => {
      y.set(this.stores[c].subarray(0, m * 2 * nOut), at);
      at += m * 2 * nOut;
    });
    for (let i = 0; i < y.length; i++) y[i] -= fb[i % nOut];
    const fit = fitPaired(design, y, nOut, total);
    return {
      values: fit.values,
      stderr: design.complete ? new Float64Array(k * nOut) : fit.stderr,
      exact: design.complete,
    };
  }
}
