/**
 * Certified reasons: raise the explanation budget until the principal reasons of each adverse
 * decision are settled by their standard errors, or report the remaining tie.
 */
import { InvalidOptionError } from '../errors.js';
import { defaultBudget } from '../estimators/kernel.js';
import type { ExplainOptions, RowsInput } from '../explain.js';
import { explain } from '../explain.js';
import type { RecourseReport } from '../explainers/recourse.js';
import type { Model } from '../models/model.js';
import type { Explanation } from './explanation.js';
import type { ReasonOptions, ReasonReport } from './reasons.js';
import { REASON_TOLERANCE, reasonCodes } from './reasons.js';

/**
 * Default z of certification: two contributions are *separated* when their difference exceeds
 * z standard errors of the difference, `|φ_i − φ_j| > z · √(se_i² + se_j²)` (the estimates of
 * two players are treated as independent). 3 is a one-sided error of 0.13% per comparison
 * under normality, chosen so that across 20 seeds the certified top-4 sets agree (see
 * benchmarks/README.md, `npm run bench -- credit`).
 */
export const CERTIFY_Z = 3;

/** Default cap of the certified budget, as a multiple of the starting budget. */
export const CERTIFY_MAX_FACTOR = 16;

/** Settings of certification (`reasons: { certify: true, ... }`). */
export interface CertifySettings {
  /** Certify the reasons. @defaultValue false */
  certify?: boolean;
  /** Separation in standard errors. @defaultValue {@link CERTIFY_Z} (3) */
  z?: number;
  /** Largest budget per row. @defaultValue {@link CERTIFY_MAX_FACTOR} × the starting budget */
  maxBudget?: number;
}

/** Certification of one decision's reasons. */
export interface RowCertification {
  /** Index of the row in the caller's input. */
  index: number;
  /**
   * True when the listed reasons (their set and order) are settled: every comparison that
   * decides them is separated by z standard errors, or the values are exact.
   */
  reasonsStable: boolean;
  /** How: `'exact'` (exact values: stable by construction), `'separated'`, `'tie'` (not settled within the cap), `'no-reasons'` (a favorable decision). */
  stability: 'exact' | 'separated' | 'tie' | 'no-reasons';
  /** Attributes of the comparisons left unsettled (or exactly equal), in rank order; absent when none. */
  tie?: string[];
  /** Budget (coalition values) of the explanation the reasons come from. */
  budget: number;
}

/** Result of {@link certifyReasons} and {@link explainReasons}. */
export interface CertifiedReasons {
  /** The explanation the reasons come from (each row at its certified budget). */
  explanation: Explanation;
  report: ReasonReport;
  /** Per row, when certified. */
  certification?: RowCertification[];
  z?: number;
}

/** Options of {@link explainReasons}: `explain`'s options plus the reason options. */
export type ExplainReasonsOptions = ExplainOptions & {
  reasons: Omit<ReasonOptions, 'background'> & CertifySettings & { background?: ReasonOptions['background'] };
};

/**
 * Explains rows and gives the principal reasons of each decision; with
 * `reasons: { certify: true }` the reasons are certified (see {@link certifyReasons}).
 * @example
 * const { report, certification } = await explainReasons(model, rows, {
 *   background, players: schemaPlayers(schema), seed: 1,
 *   reasons: { schema, templates, certify: true },
 * });
 * certification[0]; // { index: 0, reasonsStable: true, stability: 'separated', budget: 2088 }
 */
export async function explainReasons(
  model: Model,
  rows: RowsInput,
  options: ExplainReasonsOptions,
): Promise<CertifiedReasons> {
  if (!options || typeof options !== 'object' || !options.reasons || typeof options.reasons !== 'object')
    throw new InvalidOptionError('options.reasons', 'an object { schema, templates, ... }', options?.reasons);
  const { reasons, ...explainOptions } = options;
  const { certify, z, maxBudget, ...reasonOptions } = reasons;
  const withBackground = { ...reasonOptions, background: reasonOptions.background ?? backgroundRows(options) };
  if (certify !== undefined && typeof certify !== 'boolean')
    throw new InvalidOptionError('reasons.certify', 'true or false', certify);
  if (!certify) {
    for (const [k, v] of [
      ['z', z],
      ['maxBudget', maxBudget],
    ] as const)
      if (v !== undefined) throw new InvalidOptionError(`reasons.${k}`, 'unset without certify: true', v);
    const explanation = await explain(model, rows, explainOptions);
    return { explanation, report: reasonCodes(explanation, withBackground) };
  }
  return certifyReasons((r, budget) => explain(model, r, { ...explainOptions, budget }), rows, {
    ...withBackground,
    method: explainOptions.method,
    budget: explainOptions.budget,
    z,
    maxBudget,
  });
}

function backgroundRows(options: ExplainOptions): ReasonOptions['background'] {
  const bg = options.background;
  if (bg && 'data' in bg && 'nRows' in bg) return bg as ReasonOptions['background'];
  return undefined;
}

/** Options of {@link certifyReasons}. */
export type CertifyOptions = ReasonOptions &
  Omit<CertifySettings, 'certify'> & {
    /** The explanation method (for its capabilities). @defaultValue 'kernel' */
    method?: ExplainOptions['method'];
    /** The starting budget. @defaultValue 2 · players + 2048 (explain's default) */
    budget?: number | 'auto';
  };

/**
 * Certified reasons. Explains every row at the starting budget, then, for the decisions whose
 * reasons are not settled, doubles the budget (`2b, 4b, ...` up to `maxBudget`) and explains
 * those rows again, until
 * - the k-th and (k+1)-th adverse contributions are separated: `push_k − push_{k+1} > z·√(se_k² + se_{k+1}²)`
 *   (push = contribution toward the adverse outcome; when fewer than k attributes pass the
 *   reasons' tolerance floor, the last reason must be z s.e. above the floor and the next
 *   attribute z s.e. below it), and
 * - the top-k order is settled: each adjacent pair of reasons is separated the same way.
 *
 * Rows still unsettled at the cap keep the last (largest-budget) values and report
 * `reasonsStable: false` with the attributes of the unsettled comparisons in `tie` — the tie
 * is reported, not broken silently. Exact values (method `'exact'`, or rows whose coalitions
 * the budget covers) are stable by construction (`stability: 'exact'`); exactly equal
 * contributions are still listed in `tie`.
 *
 * `run(rows, budget)` explains rows at a budget (e.g. `explain` with the caller's options,
 * or an `Explainer`); rows are re-explained as a subset, each with the same options.
 * @throws {InvalidOptionError} for `budget: 'auto'` (certification does its own doubling), LIME
 *   and partition values (no standard errors), a z ≤ 0, or a cap below the start.
 */
export async function certifyReasons(
  run: (rows: RowsInput, budget: number | undefined) => Promise<Explanation>,
  rows: RowsInput,
  options: CertifyOptions,
): Promise<CertifiedReasons> {
  const { z: zIn, maxBudget: capIn, method, budget: start, ...reasonOptions } = options;
  const z = zIn ?? CERTIFY_Z;
  if (typeof z !== 'number' || !Number.isFinite(z) || z <= 0)
    throw new InvalidOptionError('z', 'a number > 0 (standard errors of separation)', z);
  if (start === 'auto')
    throw new InvalidOptionError(
      'budget',
      'a number (or unset) with certify',
      start,
      "certification raises the budget itself, by doubling, until the reasons are settled; 'auto' stops on a different rule",
    );
  if (method === 'lime' || method === 'partition')
    throw new InvalidOptionError(
      'method',
      "'kernel', 'permutation' or 'exact' with certify",
      method,
      `${method} values have no standard errors to certify the reasons with`,
    );
  const first = await run(rows, method === 'exact' ? undefined : start);
  const nP = first.players.length;
  const b0 = method === 'exact' ? 2 ** nP : typeof start === 'number' ? start : defaultBudget(nP);
  const cap = capIn ?? CERTIFY_MAX_FACTOR * b0;
  if (!Number.isInteger(cap) || cap < b0)
    throw new InvalidOptionError('maxBudget', `an integer >= the starting budget ${b0}`, capIn);
  if (method !== 'exact' && !first.stderr && first.exact.some((e) => !e))
    throw new InvalidOptionError(
      'method',
      'an estimator with standard errors for certify (kernel with its default variant, or permutation)',
      `${first.method}${first.variant ? ` (${first.variant})` : ''}`,
    );

  const n = first.nRows;
  const nOut = first.outputs.length;
  const o = reasonOptions.output ?? 0;
  // mutable copies of the per-row arrays; rows re-explained overwrite their slices
  const values = first.values.slice();
  const stderr = first.stderr ? first.stderr.slice() : new Float64Array(values.length);
  const exact = [...first.exact];
  const budgets = new Array<number>(n).fill(b0);
  let evaluations = first.evaluations;
  let modelRows = first.modelRows;
  let seconds = first.seconds;
  const assembled = (): Explanation => ({
    ...first,
    values,
    stderr: first.stderr || method === 'exact' ? stderr : undefined,
    exact,
    evaluations,
    modelRows,
    seconds,
  });

  let report = reasonCodes(first, reasonOptions);
  const check = (r: number) => settle(assembled(), report, r, o, z, reasonOptions);
  const unsettled = (r: number) => !exact[r] && !check(r).settled;
  let pending = Array.from({ length: n }, (_, r) => r).filter(unsettled);
  let b = b0;
  while (pending.length > 0 && method !== 'exact' && 2 * b <= cap) {
    b *= 2;
    const subset = subsetRows(rows, pending, first.columns.length);
    const e = await run(subset, b);
    evaluations += e.evaluations;
    modelRows += e.modelRows;
    seconds += e.seconds;
    pending.forEach((r, k) => {
      values.set(e.values.subarray(k * nP * nOut, (k + 1) * nP * nOut), r * nP * nOut);
      if (e.stderr) stderr.set(e.stderr.subarray(k * nP * nOut, (k + 1) * nP * nOut), r * nP * nOut);
      exact[r] = e.exact[k];
      budgets[r] = b;
    });
    report = reasonCodes(assembled(), reasonOptions);
    pending = pending.filter(unsettled);
  }
  const explanation = assembled();
  const certification = Array.from({ length: n }, (_, r): RowCertification => {
    const s = settle(explanation, report, r, o, z, reasonOptions);
    const stability = s.noReasons ? 'no-reasons' : exact[r] ? 'exact' : s.settled ? 'separated' : 'tie';
    return {
      index: explanation.rowIndices[r],
      reasonsStable: s.settled || exact[r],
      stability,
      ...(s.tie.length > 0 ? { tie: s.tie } : {}),
      budget: budgets[r],
    };
  });
  return { explanation, report, certification, z };
}

/** Rows `indices` of a row buffer (columns kept). */
function subsetRows(rows: RowsInput, indices: readonly number[], d: number): RowsInput {
  const data = new Float64Array(indices.length * d);
  indices.forEach((r, k) => {
    data.set(rows.data.subarray(r * d, (r + 1) * d), k * d);
  });
  return 'columns' in rows ? { ...rows, data, nRows: indices.length } : { data, nRows: indices.length };
}

/** Whether row r's reasons are settled, and the attributes of the unsettled comparisons. */
function settle(
  exp: Explanation,
  report: ReasonReport,
  r: number,
  o: number,
  z: number,
  options: ReasonOptions,
): { settled: boolean; tie: string[]; noReasons: boolean } {
  const decision = report.decisions[r];
  const reasonsFor = options.reasonsFor ?? 'adverse';
  if (decision.decision !== 'adverse' && reasonsFor === 'adverse') return { settled: true, tie: [], noReasons: true };
  const nP = exp.players.length;
  const nOut = exp.outputs.length;
  const sign = (options.adverse ?? 'higher') === 'higher' ? 1 : -1;
  const at = (p: number) => (r * nP + p) * nOut + o;
  const se = (p: number) => (exp.exact[r] || !exp.stderr ? 0 : exp.stderr[at(p)]);
  let total = 0;
  for (let p = 0; p < nP; p++) total += Math.abs(exp.values[at(p)]);
  const floor = Math.max(1e-12, (options.tolerance ?? REASON_TOLERANCE) * total);
  const attrs = exp.players.map((name) => options.schema.attributes.find((a) => a.name === name));
  const listed = decision.reasons.map((x) => exp.players.indexOf(x.attribute));
  const inList = new Set(listed);
  // the strongest attribute not listed (never a protected one)
  let next = -1;
  for (let p = 0; p < nP; p++) {
    if (attrs[p]?.protected || inList.has(p)) continue;
    if (next < 0 || sign * exp.values[at(p)] > sign * exp.values[at(next)]) next = p;
  }
  const push = (p: number) => sign * exp.values[at(p)];
  const tie = new Set<number>();
  // differences at rounding level (1e-10 of the row's total attribution) are ties, whatever the errors
  const eps = 1e-10 * total;
  const separated = (p: number, q: number) => {
    const gap = push(p) - push(q);
    return gap > eps && gap > z * Math.hypot(se(p), se(q));
  };
  for (let k = 0; k + 1 < listed.length; k++)
    if (!separated(listed[k], listed[k + 1])) {
      tie.add(listed[k]);
      tie.add(listed[k + 1]);
    }
  const top = report.top;
  const last = listed[listed.length - 1];
  if (listed.length === top) {
    if (next >= 0 && !separated(last, next)) {
      tie.add(last);
      tie.add(next);
    }
  } else {
    // the list is cut by the tolerance floor
    if (last !== undefined && !(push(last) - floor > z * se(last))) tie.add(last);
    if (next >= 0 && !(floor - push(next) > z * se(next))) tie.add(next);
  }
  const names = [...tie].sort((p, q) => push(q) - push(p) || p - q).map((p) => exp.players[p]);
  return { settled: tie.size === 0, tie: names, noReasons: false };
}

/** Per-row JSON fields of a certification and a recourse report (`--format json`, the service): `reasonsStable`, `stability`, `tie`, `reasonsBudget`, `recourse`, `recourseStatus`, `recourseEvaluations`. */
export function certifiedRowJSON(
  res: { certification?: RowCertification[]; recourse?: RecourseReport },
  r: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const c = res.certification?.[r];
  if (c) {
    out.reasonsStable = c.reasonsStable;
    out.stability = c.stability;
    if (c.tie) out.tie = c.tie;
    out.reasonsBudget = c.budget;
  }
  const rec = res.recourse?.rows[r];
  if (rec) {
    out.recourse = rec.recourse;
    out.recourseStatus = rec.status;
    out.recourseEvaluations = rec.evaluations;
  }
  return out;
}
