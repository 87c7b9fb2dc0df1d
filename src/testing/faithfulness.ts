/**
 * Faithfulness metrics of attributions: deletion and insertion curves (players removed or
 * added in attribution order through the interventional masker, area under the curve)
 * against random orders, and infidelity under random coalition perturbations.
 *
 * Definitions (row x, output o, players N, v the interventional game of x,
 * Δ = v(N) − v(∅) = f(x) − E_b f(b)):
 * - Order: players sorted by φ_i · sign(Δ), largest first (the players that push the output
 *   towards f(x) most come first); ties by player index.
 * - Deletion curve: D(k) = sign(Δ)·(v(N ∖ {first k players}) − v(∅)), k = 0..n, from |Δ| to 0.
 *   "Removing" a player replaces its columns by background values (averaged over b).
 * - Insertion curve: I(k) = sign(Δ)·(v({first k players}) − v(∅)), from 0 to |Δ|.
 * - Normalisation: every curve of an output is divided by the mean |Δ| of that output over
 *   the evaluated rows (one constant per output), then curves are averaged over rows (and
 *   outputs). The mean curves therefore run from 1 to 0 (deletion) and 0 to 1 (insertion),
 *   and a row counts in proportion to |Δ|: rows whose prediction is at the base value
 *   (Δ ≈ 0, nothing to explain) cannot blow up the mean, as dividing each row by its own
 *   |Δ| would. (`perRow` AUCs use each row's own |Δ|.)
 * - AUC: trapezoid rule over k/n ∈ [0, 1]. Deletion: lower is better; insertion: higher is
 *   better. Curves can leave [0, 1] when players push in opposite directions (removing the
 *   positive contributors first takes the output past v(∅)), so AUCs can be < 0 or > 1.
 *   The baseline is the mean over `randomOrders` uniformly random orders (the same
 *   normalisation).
 * - An output whose Δ is 0 in every row is left out (counted in `skipped`).
 * - Infidelity (Yeh et al. 2019, INFD = E_I[(Iᵀφ − (f(x) − f(x − I)))²]) with coalition
 *   perturbations: a removed set T is drawn by a uniform size k ∈ 1..n and then a uniform
 *   k-subset; Iᵀφ = Σ_{i∈T} φ_i and f(x) − f(x − I) = v(N) − v(N ∖ T). Reported in squared
 *   output units (not normalised), averaged over `perturbations` draws, rows and outputs.
 *   Exact Shapley values are not the minimiser of this INFD (Kernel SHAP minimises a
 *   differently weighted one); use it to compare methods on the same rows.
 */
import { InvalidOptionError, throwIfAborted } from '../errors.js';
import type { RowsInput } from '../explain.js';
import { edgeMasks } from '../games/game.js';
import type { Model } from '../models/model.js';
import { indexedStreams } from '../sampling/rng.js';
import type { QualityOptions } from './model-tasks.js';
import { attributeTask, qualitySetup, rowTask } from './model-tasks.js';

/** Options of {@link evaluateFaithfulness}. */
export interface FaithfulnessOptions extends QualityOptions {
  /** Random orders per row for the baseline curves. @defaultValue 10 */
  randomOrders?: number;
  /** Random perturbations per row for infidelity. @defaultValue 50 */
  perturbations?: number;
  /** Output to evaluate (index), or all outputs averaged. @defaultValue 'all' */
  output?: number | 'all';
}

/** Mean normalised curves (n + 1 points at k/n) over rows and outputs. */
export interface FaithfulnessCurves {
  readonly fractions: number[];
  readonly deletion: number[];
  readonly insertion: number[];
  readonly randomDeletion: number[];
  readonly randomInsertion: number[];
}

/** Metrics of one row (means over its outputs; AUCs normalised by the row's own |Δ|, null when Δ ≈ 0). */
export interface RowFaithfulness {
  readonly deletionAuc: number | null;
  readonly insertionAuc: number | null;
  readonly randomDeletionAuc: number | null;
  readonly randomInsertionAuc: number | null;
  readonly infidelity: number;
}

/** Result of {@link evaluateFaithfulness}; the first fields are the `whybox evaluate --format json` contract. */
export interface FaithfulnessResult {
  readonly method: string;
  readonly rows: number;
  /** Mean deletion AUC over rows (and outputs): lower is better. */
  readonly deletionAuc: number | null;
  /** Mean insertion AUC: higher is better. */
  readonly insertionAuc: number | null;
  readonly randomDeletionAuc: number | null;
  readonly randomInsertionAuc: number | null;
  /** Mean infidelity (squared output units): lower is better. */
  readonly infidelity: number;
  /** (row, output) pairs left out of the AUC means (an output with Δ = 0 in every row). */
  readonly skipped: number;
  readonly players: readonly string[];
  readonly outputs: readonly string[];
  readonly randomOrders: number;
  readonly perturbations: number;
  readonly seed: number;
  readonly perRow: readonly RowFaithfulness[];
  readonly curves: FaithfulnessCurves;
}

/** Trapezoid area under a curve sampled at k/n, k = 0..n. */
export function curveAuc(curve: ArrayLike<number>): number {
  const n = curve.length - 1;
  if (n < 1) return 0;
  let s = 0;
  for (let k = 0; k < n; k++) s += (curve[k] + curve[k + 1]) / 2;
  return s / n;
}

/**
 * Players in attribution order for output o: by φ_i · sign(Δ) descending, ties by index.
 */
export function attributionOrder(values: Float64Array, n: number, nOut: number, o: number, delta: number): number[] {
  const sign = delta < 0 ? -1 : 1;
  return Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => sign * values[b * nOut + o] - sign * values[a * nOut + o] || a - b,
  );
}

function positiveInt(v: unknown, name: string, fallback: number): number {
  const x = v ?? fallback;
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 1)
    throw new InvalidOptionError(name, 'a positive integer', v);
  return x;
}

/**
 * Deletion / insertion AUCs (against random orders) and infidelity of a method's
 * attributions on `rows` of `model` (see the module documentation for the exact definitions).
 *
 * @example
 * const q = await evaluateFaithfulness(model, rows, { background, method: shapleyMethod('exact') });
 * q.deletionAuc < q.randomDeletionAuc; // attribution order removes the prediction faster than chance
 */
export async function evaluateFaithfulness(
  model: Model,
  rows: RowsInput,
  options: FaithfulnessOptions,
): Promise<FaithfulnessResult> {
  const s = await qualitySetup(model, rows, options);
  const R = positiveInt(options.randomOrders, 'randomOrders', 10);
  const K = positiveInt(options.perturbations, 'perturbations', 50);
  const n = s.players.names.length;
  const nOut = s.ctx.evaluator.nOutputs;
  const outputSel = options.output ?? 'all';
  if (outputSel !== 'all' && (!Number.isInteger(outputSel) || outputSel < 0 || outputSel >= nOut))
    throw new InvalidOptionError('output', `'all' or an output index in 0..${nOut - 1}`, outputSel);
  const outputs = outputSel === 'all' ? Array.from({ length: nOut }, (_, o) => o) : [outputSel];
  const nRows = s.rows.nRows;
  const rngs = indexedStreams(
    s.seed,
    Array.from({ length: nRows }, (_, i) => i),
  );
  // per (row, output): curves in output units, sign(Δ)·(v(S_k) − v(∅)); normalised after
  // the loop by the mean |Δ| of the output over the rows
  type RawCurves = {
    o: number;
    delta: number;
    del: Float64Array;
    ins: Float64Array;
    rdel: Float64Array;
    rins: Float64Array;
  };
  const raw: RawCurves[][] = [];
  const infidelity: number[] = [];

  for (let r = 0; r < nRows; r++) {
    throwIfAborted(options.signal);
    const rng = rngs[r];
    const { game, task } = await rowTask(s, r, options.signal);
    const { values } = await attributeTask(s, task, s.seed + r, options.signal);
    // coalitions: per output: the deletion and insertion prefixes of its order; random orders
    // (shared by outputs); infidelity subsets (shared)
    const randomOrders = Array.from({ length: R }, () => rng.shuffle(Array.from({ length: n }, (_, i) => i)));
    const removed = Array.from({ length: K }, () => {
      const k = 1 + rng.int(n);
      return rng.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, k);
    });
    // v(∅), v(N) first: the order depends on the sign of Δ per output
    const edges = await game.values(edgeMasks(n), 2, options.signal);
    const signed = outputs.map((o) => attributionOrder(values, n, nOut, o, edges[nOut + o] - edges[o]));
    const prefixMasks = (order: number[]) => {
      const m = new Uint8Array((n + 1) * 2 * n);
      // rows 0..n: deletion (N minus first k); rows n+1..2n+1: insertion (first k)
      for (let k = 0; k <= n; k++) {
        const del = m.subarray(k * n, (k + 1) * n);
        del.fill(1);
        for (let t = 0; t < k; t++) del[order[t]] = 0;
        const ins = m.subarray((n + 1 + k) * n, (n + 2 + k) * n);
        for (let t = 0; t < k; t++) ins[order[t]] = 1;
      }
      return m;
    };
    const blocks = [...signed, ...randomOrders].map(prefixMasks);
    const perturbMasks = new Uint8Array(K * n);
    removed.forEach((T, k) => {
      perturbMasks.fill(1, k * n, (k + 1) * n);
      for (const p of T) perturbMasks[k * n + p] = 0;
    });
    const all = new Uint8Array(blocks.length * 2 * (n + 1) * n + K * n);
    blocks.forEach((b, k) => {
      all.set(b, k * 2 * (n + 1) * n);
    });
    all.set(perturbMasks, blocks.length * 2 * (n + 1) * n);
    const count = blocks.length * 2 * (n + 1) + K;
    const v = await game.values(all, count, options.signal);
    const at = (block: number, row: number, o: number) => v[(block * 2 * (n + 1) + row) * nOut + o];

    const rowCurves: RawCurves[] = [];
    let rowInfd = 0;
    outputs.forEach((o, k) => {
      const v0 = edges[o];
      const vN = edges[nOut + o];
      const delta = vN - v0;
      const sign = delta < 0 ? -1 : 1;
      let infd = 0;
      removed.forEach((T, t) => {
        let sum = 0;
        for (const p of T) sum += values[p * nOut + o];
        const drop = vN - v[(blocks.length * 2 * (n + 1) + t) * nOut + o];
        infd += (sum - drop) ** 2;
      });
      rowInfd += infd / K;
      const curve = (block: number, insertion: boolean) =>
        Float64Array.from({ length: n + 1 }, (_, j) => sign * (at(block, (insertion ? n + 1 : 0) + j, o) - v0));
      const rdel = new Float64Array(n + 1);
      const rins = new Float64Array(n + 1);
      for (let q = 0; q < R; q++) {
        const cd = curve(signed.length + q, false);
        const ci = curve(signed.length + q, true);
        for (let j = 0; j <= n; j++) {
          rdel[j] += cd[j] / R;
          rins[j] += ci[j] / R;
        }
      }
      rowCurves.push({ o, delta, del: curve(k, false), ins: curve(k, true), rdel, rins });
    });
    raw.push(rowCurves);
    infidelity.push(rowInfd / outputs.length);
  }

  // scale per output: the mean |Δ| over the rows
  const scale = new Map<number, number>();
  outputs.forEach((o, k) => {
    scale.set(o, raw.reduce((acc, rc) => acc + Math.abs(rc[k].delta), 0) / nRows);
  });
  const sum = {
    deletion: new Float64Array(n + 1),
    insertion: new Float64Array(n + 1),
    randomDeletion: new Float64Array(n + 1),
    randomInsertion: new Float64Array(n + 1),
  };
  let used = 0;
  let skipped = 0;
  for (const rc of raw)
    for (const c of rc) {
      const D = scale.get(c.o) as number;
      if (!(D > 0)) {
        skipped++;
        continue;
      }
      used++;
      for (let j = 0; j <= n; j++) {
        sum.deletion[j] += c.del[j] / D;
        sum.insertion[j] += c.ins[j] / D;
        sum.randomDeletion[j] += c.rdel[j] / D;
        sum.randomInsertion[j] += c.rins[j] / D;
      }
    }
  const meanCurve = (x: Float64Array) => Array.from(x, (v) => (used > 0 ? v / used : 0));
  const curves: FaithfulnessCurves = {
    fractions: Array.from({ length: n + 1 }, (_, k) => k / n),
    deletion: meanCurve(sum.deletion),
    insertion: meanCurve(sum.insertion),
    randomDeletion: meanCurve(sum.randomDeletion),
    randomInsertion: meanCurve(sum.randomInsertion),
  };
  const auc = (c: number[]) => (used > 0 ? curveAuc(c) : null);
  // per row: each output's curves normalised by its own |Δ| (left out when Δ ≈ 0), mean over outputs
  const perRow: RowFaithfulness[] = raw.map((rc, r) => {
    const ok = rc.filter((c) => Math.abs(c.delta) > 1e-9 * Math.max(1, scale.get(c.o) as number));
    const mean = (pick: (c: RawCurves) => Float64Array) =>
      ok.length > 0 ? ok.reduce((acc, c) => acc + curveAuc(pick(c)) / Math.abs(c.delta), 0) / ok.length : null;
    return {
      deletionAuc: mean((c) => c.del),
      insertionAuc: mean((c) => c.ins),
      randomDeletionAuc: mean((c) => c.rdel),
      randomInsertionAuc: mean((c) => c.rins),
      infidelity: infidelity[r],
    };
  });
  return {
    method: s.method.name,
    rows: nRows,
    deletionAuc: auc(curves.deletion),
    insertionAuc: auc(curves.insertion),
    randomDeletionAuc: auc(curves.randomDeletion),
    randomInsertionAuc: auc(curves.randomInsertion),
    infidelity: infidelity.reduce((x, y) => x + y, 0) / nRows,
    skipped,
    players: s.players.names,
    outputs: outputs.map((o) => s.ctx.evaluator.outputNames[o]),
    randomOrders: R,
    perturbations: K,
    seed: s.seed,
    perRow,
    curves,
  };
}
