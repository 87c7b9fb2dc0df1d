import { BudgetError, ShapeError, throwIfAborted } from '../errors.js';
import type { MaskedRowsJob } from '../sampling/masking.js';
import { differingPlayers, enumeration, packMasks, popcount } from '../sampling/masking.js';
import type { RowEvaluator } from './evaluator.js';
import type { Game, GameCost, Progress } from './game.js';
import { RowMemo } from './row-memo.js';
import { shapleyFromTable } from './shapley-table.js';

/**
 * What an explanation computes once and shares across explained rows: the model outputs
 * of every background row and the base value v(∅) = Σ_b w_b f(b).
 */
export interface InterventionalContext {
  readonly evaluator: RowEvaluator;
  /** `nBackground × nOutputs`. */
  readonly backgroundOutputs: Float64Array;
  /** v(∅) per output. */
  readonly baseValue: Float64Array;
}

/** Evaluates the background once (`nBackground` model rows). */
export async function prepareInterventional(
  evaluator: RowEvaluator,
  signal?: AbortSignal,
): Promise<InterventionalContext> {
  const bg = evaluator.background;
  const backgroundOutputs = await evaluator.predict(bg.data, bg.nRows, signal);
  const nOut = evaluator.nOutputs;
  const baseValue = new Float64Array(nOut);
  for (let b = 0; b < bg.nRows; b++)
    for (let o = 0; o < nOut; o++) baseValue[o] += bg.weights[b] * backgroundOutputs[b * nOut + o];
  return { evaluator, backgroundOutputs, baseValue };
}

/** Options of {@link interventionalGame}. */
export interface InterventionalGameOptions {
  /**
   * Send each distinct masked row to the model once (rows are identified by background row
   * and S ∩ D_b). Turn off only to measure what naive masking costs. @defaultValue true
   */
  dedupe?: boolean;
  /**
   * f(x) per output, when the caller has it (the engine predicts a plan's rows together):
   * the game then does not call the model for it, and its cost counts no row for it.
   */
  prediction?: Float64Array;
}

/**
 * The per-background-row structure of an interventional game: v(S) = Σ_b w_b g_b(S ∩ D_b),
 * where g_b(T) = f(x_T, b_rest) is a game on the players D_b where b differs from x.
 * Estimators that solve each g_b separately use it.
 */
export interface Decomposition {
  readonly nBackground: number;
  readonly weights: Float64Array;
  /** Words per bit set. */
  readonly words: number;
  /** D_b as bit sets, `nBackground × words`. */
  readonly diff: Uint32Array;
  /** g_b(∅) = f(b), `nBackground × nOutputs`. */
  readonly backgroundOutputs: Float64Array;
  /** Model outputs of masked rows (b, T) (counted in the game's cost). */
  evaluate(job: MaskedRowsJob, signal?: AbortSignal): Promise<Float64Array>;
}

/** An interventional game for one explained row, with its prediction f(x). */
export interface InterventionalGame extends Game {
  /** f(x) per output (= v(N)). */
  readonly prediction: Float64Array;
  /** v(∅) per output. */
  readonly baseValue: Float64Array;
  readonly decomposition: Decomposition;
  /**
   * Exact values in two shares (games of at most 32 players): `phi` from the background rows
   * solved on their own tables, plus the unsolved 2^n table of the others (`rows`: only
   * these background rows). `exactShapley` = phi + the table's Shapley values.
   */
  readonly exactShares?: (
    signal?: AbortSignal,
    onProgress?: (p: Progress) => void,
    rows?: Uint8Array,
  ) => Promise<{ phi: Float64Array; table?: Float64Array }>;
}

/** True when `game` is an interventional game (and so has a {@link Decomposition}). */
export function isInterventional(game: Game): game is InterventionalGame {
  return (game as InterventionalGame).decomposition !== undefined;
}

/** Coalitions per planning block (bounds the `block × nBackground` index arrays). */
const PLAN_PAIRS = 1 << 20;
/** Exact enumeration evaluates at most this many rows per wave. */
const EXACT_WAVE_ROWS = 1 << 16;
/** Waves in flight at once (memory: about WAVES_AHEAD × EXACT_WAVE_ROWS outputs). */
const WAVES_AHEAD = 3;

/**
 * The interventional (marginal) value function of explained row `x`:
 * `v(S) = Σ_b w_b f(x_S, b_{N∖S})` over background rows b with weights w.
 *
 * Rows are deduplicated: row (b, S) depends only on S ∩ D_b, where D_b is the set of players
 * on which b differs from x, so rows where b already equals x on the toggled players are
 * never re-evaluated (the generalisation of shap's delta masking to any coalition order).
 * Rows with S ∩ D_b = ∅ are background rows (evaluated once per explanation) and rows with
 * S ∩ D_b = D_b are x itself (evaluated once per row).
 */
export async function interventionalGame(
  ctx: InterventionalContext,
  x: Float64Array,
  options: InterventionalGameOptions = {},
  signal?: AbortSignal,
): Promise<InterventionalGame> {
  const { evaluator, backgroundOutputs } = ctx;
  const { layout, background } = evaluator;
  if (x.length !== layout.nColumns)
    throw new ShapeError(`the explained row has ${x.length} values; the model takes ${layout.nColumns}`);
  const n = layout.nPlayers;
  const W = layout.words;
  const nb = background.nRows;
  const nOut = evaluator.nOutputs;
  const weights = background.weights;
  const dedupe = options.dedupe ?? true;
  const prediction = options.prediction ?? (await evaluator.predict(x, 1, signal));
  const diff = differingPlayers(layout, x, background.data, nb);
  const cost: GameCost = { evaluations: 0, modelRows: options.prediction ? 0 : 1 };
  // |D_b| per background row (used by the exact path, where W = 1)
  const kOf = W === 1 ? Int32Array.from(diff, popcount) : new Int32Array(0);

  // slot store: 0..nb-1 background rows, nb = x, then memoised rows
  const X_SLOT = nb;
  let store = new Float64Array(Math.max(1024, (nb + 1) * 4) * nOut);
  store.set(backgroundOutputs, 0);
  store.set(prediction, X_SLOT * nOut);
  let nSlots = nb + 1;
  // created at the first row it must remember, sized for that batch; values() calls on one
  // game must not overlap (the estimators await each call)
  let memo: RowMemo | undefined;
  const ensure = (slots: number) => {
    if (slots * nOut <= store.length) return;
    let cap = store.length;
    while (cap < slots * nOut) cap *= 2;
    const next = new Float64Array(cap);
    next.set(store.subarray(0, nSlots * nOut));
    store = next;
  };

  async function values(masks: Uint8Array, count: number, sig?: AbortSignal): Promise<Float64Array> {
    if (masks.length < count * n)
      throw new ShapeError(`masks hold ${masks.length} bytes; ${count} coalitions of ${n} players need ${count * n}`);
    throwIfAborted(sig);
    const out = new Float64Array(count * nOut);
    const bits = packMasks(masks, count, n);
    const block = Math.max(1, Math.floor(PLAN_PAIRS / nb));
    const key = new Uint32Array(W);
    for (let s0 = 0; s0 < count; s0 += block) {
      const s1 = Math.min(count, s0 + block);
      const slotOf = new Int32Array((s1 - s0) * nb);
      const jobBg = new Int32Array((s1 - s0) * nb);
      const jobKeys = new Uint32Array((s1 - s0) * nb * W);
      let nJob = 0;
      const firstNew = nSlots;
      // background-row-major, so the row builder sees long runs of one background row
      for (let b = 0; b < nb; b++) {
        for (let s = s0; s < s1; s++) {
          let empty = true;
          let full = true;
          for (let w = 0; w < W; w++) {
            const dw = diff[b * W + w];
            const k = bits[s * W + w] & dw;
            key[w] = k;
            if (k !== 0) empty = false;
            if (k !== dw) full = false;
          }
          let slot: number;
          if (dedupe && empty) slot = b;
          else if (dedupe && full) slot = X_SLOT;
          else {
            if (dedupe) memo ??= new RowMemo(W, Math.min(1 << 22, 2 * (s1 - s0) * nb));
            slot = dedupe ? (memo as RowMemo).getOrAdd(b, key, 0, nSlots) : nSlots;
            if (slot === nSlots) {
              jobBg[nJob] = b;
              for (let w = 0; w < W; w++) jobKeys[nJob * W + w] = key[w];
              nJob++;
              nSlots++;
            }
          }
          slotOf[(s - s0) * nb + b] = slot;
        }
      }
      if (nJob > 0) {
        const job: MaskedRowsJob = { nRows: nJob, bg: jobBg, keys: jobKeys };
        const res = await evaluator.evaluate(x, job, sig);
        ensure(nSlots);
        store.set(res, firstNew * nOut);
        cost.modelRows += nJob;
      }
      for (let s = s0; s < s1; s++) {
        const base = (s - s0) * nb;
        for (let o = 0; o < nOut; o++) {
          let acc = 0;
          for (let b = 0; b < nb; b++) acc += weights[b] * store[slotOf[base + b] * nOut + o];
          out[s * nOut + o] = acc;
        }
      }
    }
    cost.evaluations += count;
    return out;
  }

  /**
   * Evaluates g_b on every subset of D_b, for every background row, in waves (consecutive
   * rows whose tables fit EXACT_WAVE_ROWS, evaluated while earlier waves are consumed),
   * handing each table to `consume` in background-row order.
   */
  async function tables(
    consume: (b: number, table: Float64Array) => void,
    sig?: AbortSignal,
    onProgress?: (p: Progress) => void,
    only?: Uint8Array,
  ): Promise<void> {
    const k = only ? kOf.map((kb, b) => (only[b] ? kb : 0)) : kOf;
    let total = 0;
    for (let b = 0; b < nb; b++) total += k[b] === 0 ? 0 : 2 ** k[b] - 2;
    let done = 0;
    const waves: [number, number][] = [];
    for (let b = 0; b < nb; ) {
      if (only && !only[b]) {
        b++;
        continue;
      }
      const first = b;
      let rows = 0;
      while (b < nb && (!only || only[b]) && (b === first || rows + 2 ** kOf[b] <= EXACT_WAVE_ROWS))
        rows += 2 ** kOf[b++];
      waves.push([first, b]);
    }
    const startWave = ([first, end]: [number, number]) => {
      const p = end - first === 1 ? tableOf(first, kOf[first], sig).then((t) => [t]) : waveTables(first, end, sig);
      p.catch(() => undefined); // awaited below; avoid an unhandled rejection while consuming
      return p;
    };
    // up to `ahead` waves evaluate while the oldest is consumed (tables stay in order); one at
    // a time when single tables are large (memory: `ahead` tables of 2^|D_b| × outputs)
    let largest = 0;
    for (let b = 0; b < nb; b++) largest = Math.max(largest, kOf[b]);
    const ahead = largest > 20 ? 1 : WAVES_AHEAD;
    const pending = waves.slice(0, ahead).map(startWave);
    for (let wi = 0; wi < waves.length; wi++) {
      const tabs = await (pending.shift() as Promise<Float64Array[]>);
      if (wi + ahead < waves.length) pending.push(startWave(waves[wi + ahead]));
      throwIfAborted(sig);
      const [first] = waves[wi];
      tabs.forEach((t, i) => {
        consume(first + i, t);
        done += Math.max(0, t.length / nOut - 2);
      });
      onProgress?.({ done, total });
    }
  }

  /** v(S) of all 2^n coalitions: Σ_b w_b g_b(S ∩ D_b), each table scattered into v. */
  async function allValues(sig?: AbortSignal, onProgress?: (p: Progress) => void): Promise<Float64Array> {
    if (n > 30) throw new BudgetError(`all coalition values of ${n} players (2^${n}) cannot be tabulated`);
    const v = new Float64Array(2 ** n * nOut);
    const loBits = Math.min(n, 12);
    await tables((b, t) => scatter(v, t, diff[b], weights[b], loBits, n - loBits), sig, onProgress);
    cost.evaluations += 2 ** n;
    return v;
  }

  /**
   * Exact Shapley values by linearity, φ = Σ_b w_b φ(g_b): a background row whose game is
   * small (|D_b| · 2^|D_b| ≤ 2^n) is solved from its own table; the others are scattered
   * into the 2^n table of v(S), solved once at the end. Same values as solving v, with far
   * less work when background rows agree with x on many players.
   */
  async function exactShapley(
    sig?: AbortSignal,
    onProgress?: (p: Progress) => void,
    rows?: Uint8Array,
  ): Promise<Float64Array> {
    const { phi, table } = await exactShares(sig, onProgress, rows);
    if (table) {
      const rest = shapleyFromTable(table, n, nOut);
      for (let i = 0; i < phi.length; i++) phi[i] += rest[i];
    }
    return phi;
  }

  /**
   * The exact values' two shares: background rows with small games solved from their own
   * tables (`phi`), the others scattered into one 2^n table of v (`table`, unsolved: parts
   * of a split estimate add their tables and solve once).
   */
  async function exactShares(
    sig?: AbortSignal,
    onProgress?: (p: Progress) => void,
    rows?: Uint8Array,
  ): Promise<{ phi: Float64Array; table?: Float64Array }> {
    if (n > 30) throw new BudgetError(`all coalition values of ${n} players (2^${n}) cannot be tabulated`);
    const phi = new Float64Array(n * nOut);
    let v: Float64Array | undefined;
    const loBits = Math.min(n, 12);
    await tables(
      (b, t) => {
        const k = kOf[b];
        if (k === 0) return;
        if (k * 2 ** k <= 2 ** n) {
          const local = shapleyFromTable(t, k, nOut);
          positions(diff[b]).forEach((j, i) => {
            for (let o = 0; o < nOut; o++) phi[j * nOut + o] += weights[b] * local[i * nOut + o];
          });
        } else {
          v ??= new Float64Array(2 ** n * nOut);
          scatter(v, t, diff[b], weights[b], loBits, n - loBits);
        }
      },
      sig,
      onProgress,
      rows,
    );
    cost.evaluations += 2 ** n;
    return { phi, table: v };
  }

  /** Tables of background rows first..end-1, evaluated as one enumeration job. */
  async function waveTables(first: number, end: number, sig?: AbortSignal): Promise<Float64Array[]> {
    const segments: [number, number, number, number[]][] = [];
    for (let b = first; b < end; b++) if (kOf[b] >= 2) segments.push([b, 1, 2 ** kOf[b] - 2, positions(diff[b])]);
    const job = enumeration(segments);
    const res = job.nRows > 0 ? await evaluator.evaluate(x, job, sig) : new Float64Array(0);
    cost.modelRows += job.nRows;
    const tables: Float64Array[] = [];
    let r = 0;
    for (let b = first; b < end; b++) {
      const m = 2 ** kOf[b];
      const g = new Float64Array(m * nOut);
      g.set(backgroundOutputs.subarray(b * nOut, (b + 1) * nOut), 0);
      if (m > 1) {
        g.set(res.subarray(r * nOut, (r + m - 2) * nOut), nOut);
        g.set(prediction, (m - 1) * nOut);
        r += m - 2;
      }
      tables.push(g);
    }
    return tables;
  }

  /**
   * g_b(T) for every subset T of D_b (indexed by T's compressed bits), evaluated as
   * enumeration jobs of EXACT_WAVE_ROWS rows, a few in flight so the workers stay busy.
   */
  async function tableOf(b: number, k: number, sig?: AbortSignal): Promise<Float64Array> {
    const m = 2 ** k;
    const g = new Float64Array(m * nOut);
    g.set(backgroundOutputs.subarray(b * nOut, (b + 1) * nOut), 0);
    if (k === 0) return g;
    g.set(prediction, (m - 1) * nOut);
    const pos = positions(diff[b]);
    const starts: number[] = [];
    for (let t0 = 1; t0 < m - 1; t0 += EXACT_WAVE_ROWS) starts.push(t0);
    const IN_FLIGHT = 4;
    let next = 0;
    const lane = async () => {
      while (next < starts.length) {
        const t0 = starts[next++];
        const count = Math.min(m - 1, t0 + EXACT_WAVE_ROWS) - t0;
        const res = await evaluator.evaluate(x, enumeration([[b, t0, count, pos]]), sig);
        g.set(res, t0 * nOut);
        cost.modelRows += count;
      }
    };
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, starts.length) }, lane));
    return g;
  }

  /** v(S) += w · g(S ∩ D), for every S, via split bit-extraction tables. */
  function scatter(v: Float64Array, g: Float64Array, d: number, w: number, loBits: number, hiBits: number): void {
    const loSize = 1 << loBits;
    const pextLo = extractTable(d & (loSize - 1), loBits);
    const pextHi = extractTable(d >>> loBits, hiBits);
    const shift = popcount(d & (loSize - 1));
    const hiSize = 1 << hiBits;
    for (let h = 0; h < hiSize; h++) {
      const baseIdx = pextHi[h] << shift;
      const row = h << loBits;
      if (nOut === 1) {
        for (let l = 0; l < loSize; l++) v[row | l] += w * g[baseIdx | pextLo[l]];
      } else {
        for (let l = 0; l < loSize; l++) {
          const src = (baseIdx | pextLo[l]) * nOut;
          const dst = (row | l) * nOut;
          for (let o = 0; o < nOut; o++) v[dst + o] += w * g[src + o];
        }
      }
    }
  }

  return {
    nPlayers: n,
    nOutputs: nOut,
    cost,
    prediction,
    baseValue: ctx.baseValue,
    values,
    allValues: W === 1 ? allValues : undefined,
    exactShapley: W === 1 ? exactShapley : undefined,
    exactShares: W === 1 ? exactShares : undefined,
    decomposition: {
      nBackground: nb,
      weights,
      words: W,
      diff,
      backgroundOutputs,
      async evaluate(job, sig) {
        const res = await evaluator.evaluate(x, job, sig);
        cost.modelRows += job.nRows;
        return res;
      },
    },
  };
}

/** Positions of the set bits of a 32-bit mask, ascending. */
function positions(mask: number): number[] {
  const pos: number[] = [];
  for (let j = 0; j < 32; j++) if ((mask >>> j) & 1) pos.push(j);
  return pos;
}

/** For every `bits`-bit value s, the bits of s selected by `mask`, packed to the right (PEXT). */
function extractTable(mask: number, bits: number): Int32Array {
  const size = 1 << bits;
  const t = new Int32Array(size);
  for (let s = 1; s < size; s++) {
    const low = s & -s;
    const j = 31 - Math.clz32(low);
    // t[s] = t[s without its lowest bit] + (bit j of mask set ? 1 << rank of j in mask : 0)
    t[s] = t[s ^ low] | ((mask >>> j) & 1 ? 1 << popcount(mask & (low - 1)) : 0);
  }
  return t;
}
