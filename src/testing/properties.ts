/**
 * Axiom properties of whybox/testing: fast-check async properties that check an
 * {@link AttributionMethod} against the Shapley axioms on random games and models. Run them
 * with `fc.assert` in any test runner (vitest, jest, node:test). A failure throws a
 * {@link PropertyViolation} naming the method, the case (every v(S), or the model, row,
 * background and players) and the violated equation with numbers; fast-check shrinks the
 * case first.
 */
import fc from 'fast-check';
import type { ModelCaseOptions, ValueStyle } from './arbitraries.js';
import {
  dummyGameCases,
  dummyModelCases,
  gameCases,
  gamePairs,
  modelCases,
  modelPairs,
  printable,
  symmetricGameCases,
  symmetricModelCases,
} from './arbitraries.js';
import type { AttributionCase, GameCase, ModelCase, ModelKind } from './cases.js';
import { caseTask, caseValue, describeCase, exactValues, formatValues, outputsOf, playersOf } from './cases.js';
import type { Attribution, AttributionMethod, Claim } from './method.js';

/** Options of the axiom properties. */
export interface PropertyOptions {
  /** Fewest players of a drawn case. @defaultValue 1 (2 for symmetry; 5 for convergence) */
  minPlayers?: number;
  /** Most players (columns, for model cases). @defaultValue 6 (8 for convergence) */
  maxPlayers?: number;
  /** Most outputs of a drawn game. @defaultValue 2 */
  maxOutputs?: number;
  /**
   * Which cases: value-table games, model cases (model + row + background + players, run
   * through whybox's interventional masker) or both. Methods with `needsModel` always get
   * model cases. @defaultValue 'both'
   */
  cases?: 'games' | 'models' | 'both';
  /** Model kinds of model cases. @defaultValue all */
  kinds?: readonly ModelKind[];
  /** Values of drawn games and rows. @defaultValue 'integers' */
  values?: ValueStyle;
  /** Budget passed to the method, or a function of the number of players. @defaultValue the method's own */
  budget?: number | ((nPlayers: number) => number);
  /**
   * Allowed error, relative to the case's scale max(1, max_S |v(S)|). @defaultValue 1e-8
   */
  tolerance?: number;
  /**
   * For methods that report standard errors: also accept a gap up to this many combined
   * standard errors (symmetry, dummy). 0 = exact checks only. @defaultValue 0
   */
  stderrs?: number;
}

/** Options of {@link convergenceProperty}. */
export interface ConvergenceOptions extends PropertyOptions {
  /** Increasing budgets for n players. @defaultValue [m, 4m, 16m] with m = 2n + 2 */
  budgets?: (nPlayers: number) => readonly number[];
  /** Seeds averaged per budget. @defaultValue 4 */
  seeds?: number;
  /**
   * Required shrink: mean RMSE at the largest budget ≤ ratio × mean RMSE at the smallest
   * (+ tolerance). @defaultValue 0.7
   */
  ratio?: number;
}

/** A property of whybox/testing: arguments are the drawn case and the method's seed. */
export type ClaimProperty = fc.IAsyncPropertyWithHooks<[unknown, number]>;

/** A violated property: the message has the equation with numbers and the (shrunk) case. */
export class PropertyViolation extends Error {
  readonly claim: Claim | 'shape';
  readonly method: string;
  readonly case: AttributionCase;
  constructor(claim: Claim | 'shape', method: string, c: AttributionCase, lines: readonly string[]) {
    super(`${claim} violated by method "${method}": ${lines.join('\n  ')}\n  case: ${describeCase(c)}`);
    this.name = 'PropertyViolation';
    this.claim = claim;
    this.method = method;
    this.case = c;
  }
}

const SEEDS = fc.integer({ min: 0, max: 0x7fffffff });
const num = (v: number) => String(Number(v.toPrecision(8)));

function budgetFor(options: PropertyOptions, n: number): number | undefined {
  const b = options.budget;
  return typeof b === 'function' ? b(n) : b;
}

/** The scale of a case: max(1, max_S |v(S)|). */
export function caseScale(c: AttributionCase): number {
  let s = 1;
  const n = playersOf(c);
  if (c.type === 'game') for (const v of c.table) s = Math.max(s, Math.abs(v));
  else for (let m = 0; m < 2 ** n; m++) for (const v of caseValue(c, m)) s = Math.max(s, Math.abs(v));
  return s;
}

/** Runs the method on a case and checks the shape and finiteness of its values. */
export async function attributeCase(
  method: AttributionMethod,
  c: AttributionCase,
  seed: number,
  budget?: number,
): Promise<Attribution> {
  const task = await caseTask(c);
  const res = await method.attribute(task, { seed, budget });
  const n = playersOf(c);
  const nOut = outputsOf(c);
  const where = `seed ${seed}, budget ${budget ?? 'default'}`;
  if (!res || !(res.values instanceof Float64Array) || res.values.length !== n * nOut)
    throw new PropertyViolation('shape', method.name, c, [
      `expected values as a Float64Array of ${n} players × ${nOut} outputs = ${n * nOut}; got ${res?.values?.length ?? 'none'} (${where})`,
    ]);
  const bad = res.values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    throw new PropertyViolation('shape', method.name, c, [`φ[${bad}] = ${res.values[bad]} is not finite (${where})`]);
  return res;
}

function useModels(method: AttributionMethod, options: PropertyOptions): 'games' | 'models' | 'both' {
  return method.needsModel ? 'models' : (options.cases ?? 'both');
}

function modelOptions(options: PropertyOptions, minPlayers: number, grouped?: boolean): ModelCaseOptions {
  return {
    kinds: options.kinds,
    minFeatures: options.minPlayers ?? minPlayers,
    maxFeatures: options.maxPlayers ?? 6,
    values: options.values,
    ...(grouped === undefined ? {} : { grouped }),
  };
}

function gameOptions(options: PropertyOptions, minPlayers: number) {
  return {
    minPlayers: options.minPlayers ?? minPlayers,
    maxPlayers: options.maxPlayers ?? 6,
    maxOutputs: options.maxOutputs ?? 2,
    values: options.values,
  };
}

function pick<T>(which: 'games' | 'models' | 'both', games: () => fc.Arbitrary<T>, models: () => fc.Arbitrary<T>) {
  if (which === 'games') return games();
  if (which === 'models') return models();
  return fc.oneof(games(), models());
}

/** Random games and/or models (at least one player) for a property without planted structure. */
function plainCases(method: AttributionMethod, options: PropertyOptions): fc.Arbitrary<AttributionCase> {
  return pick<AttributionCase>(
    useModels(method, options),
    () => gameCases(gameOptions(options, 1)),
    () => modelCases(modelOptions(options, 1)),
  );
}

/** Attributes a case at the property's budget; with its player and output counts. */
async function attributeRun(method: AttributionMethod, c: AttributionCase, seed: number, options: PropertyOptions) {
  const n = playersOf(c);
  const budget = budgetFor(options, n);
  return { n, nOut: outputsOf(c), budget, ...(await attributeCase(method, c, seed, budget)) };
}

function matrixText(v: Float64Array, n: number, nOut: number): string {
  if (nOut === 1) return formatValues(v);
  return `[${Array.from({ length: n }, (_, i) => formatValues(v.subarray(i * nOut, (i + 1) * nOut))).join(', ')}]`;
}

/**
 * Efficiency: Σ_i φ_i = v(N) − v(∅) for every output, within `tolerance` × scale.
 */
export function efficiencyProperty(method: AttributionMethod, options: PropertyOptions = {}): ClaimProperty {
  const cases = plainCases(method, options);
  const tolerance = options.tolerance ?? 1e-8;
  return fc.asyncProperty(cases, SEEDS, async (c, seed) => {
    const { n, nOut, budget, values } = await attributeRun(method, c, seed, options);
    const v0 = caseValue(c, 0);
    const vN = caseValue(c, 2 ** n - 1);
    const tol = tolerance * caseScale(c);
    for (let o = 0; o < nOut; o++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += values[i * nOut + o];
      const total = vN[o] - v0[o];
      if (!(Math.abs(sum - total) <= tol))
        throw new PropertyViolation('efficiency', method.name, c, [
          `Σ_i φ_i = ${num(sum)} but v(N) − v(∅) = ${num(vN[o])} − ${num(v0[o])} = ${num(total)}${nOut > 1 ? ` (output ${o})` : ''}; gap ${num(sum - total)} > tolerance ${num(tol)}`,
          `φ = ${matrixText(values, n, nOut)} (seed ${seed}, budget ${budget ?? 'default'})`,
        ]);
    }
  }) as unknown as ClaimProperty;
}

function allowed(tol: number, k: number, se: Float64Array | undefined, idx: number[]): number {
  if (!se || k <= 0) return tol;
  return Math.max(tol, k * Math.sqrt(idx.reduce((a, i) => a + se[i] * se[i], 0)));
}

/**
 * Symmetry: when players i and j are interchangeable (v(S ∪ i) = v(S ∪ j) for all S ∌ i, j),
 * φ_i = φ_j. Games are symmetrised tables; models are symmetrised in two columns, with
 * x_i = x_j and a swap-closed background.
 */
export function symmetryProperty(method: AttributionMethod, options: PropertyOptions = {}): ClaimProperty {
  const cases = pick<{ c: AttributionCase; i: number; j: number }>(
    useModels(method, options),
    () => symmetricGameCases(gameOptions(options, 2)).map((s) => ({ c: s.game, i: s.i, j: s.j })),
    () => symmetricModelCases(modelOptions(options, 2, false)).map((s) => ({ c: s.model, i: s.i, j: s.j })),
  ).map((s) => Object.assign(s, { [fc.toStringMethod]: () => describeCase(s.c) }));
  const tolerance = options.tolerance ?? 1e-8;
  return fc.asyncProperty(cases, SEEDS, async ({ c, i, j }, seed) => {
    const { n, nOut, budget, values, stderr } = await attributeRun(method, c, seed, options);
    const tol = tolerance * caseScale(c);
    for (let o = 0; o < nOut; o++) {
      const a = values[i * nOut + o];
      const b = values[j * nOut + o];
      const limit = allowed(tol, options.stderrs ?? 0, stderr, [i * nOut + o, j * nOut + o]);
      if (!(Math.abs(a - b) <= limit))
        throw new PropertyViolation('symmetry', method.name, c, [
          `players ${i} and ${j} are symmetric, so φ_${i} = φ_${j} is required; got φ_${i} = ${num(a)}, φ_${j} = ${num(b)}${nOut > 1 ? ` (output ${o})` : ''}, |difference| ${num(Math.abs(a - b))} > ${num(limit)}`,
          `φ = ${matrixText(values, n, nOut)} (seed ${seed}, budget ${budget ?? 'default'})`,
        ]);
    }
  }) as unknown as ClaimProperty;
}

/**
 * Dummy (null player): a player whose joining never changes the value gets φ = 0. Games
 * ignore one player; models never read one player's columns.
 */
export function dummyProperty(method: AttributionMethod, options: PropertyOptions = {}): ClaimProperty {
  const cases = pick<{ c: AttributionCase; dummy: number }>(
    useModels(method, options),
    () => dummyGameCases(gameOptions(options, 1)).map((s) => ({ c: s.game, dummy: s.dummy })),
    () => dummyModelCases(modelOptions(options, 1)).map((s) => ({ c: s.model, dummy: s.dummy })),
  ).map((s) => Object.assign(s, { [fc.toStringMethod]: () => describeCase(s.c) }));
  const tolerance = options.tolerance ?? 1e-8;
  return fc.asyncProperty(cases, SEEDS, async ({ c, dummy }, seed) => {
    const { n, nOut, budget, values, stderr } = await attributeRun(method, c, seed, options);
    const tol = tolerance * caseScale(c);
    for (let o = 0; o < nOut; o++) {
      const v = values[dummy * nOut + o];
      const limit = allowed(tol, options.stderrs ?? 0, stderr, [dummy * nOut + o]);
      if (!(Math.abs(v) <= limit))
        throw new PropertyViolation('dummy', method.name, c, [
          `player ${dummy} is a null player (v(S ∪ {${dummy}}) = v(S) for every S), so φ_${dummy} = 0 is required; got φ_${dummy} = ${num(v)}${nOut > 1 ? ` (output ${o})` : ''} (|φ| > ${num(limit)})`,
          `φ = ${matrixText(values, n, nOut)} (seed ${seed}, budget ${budget ?? 'default'})`,
        ]);
    }
  }) as unknown as ClaimProperty;
}

/**
 * Linearity: φ(a·u + b·v) = a·φ(u) + b·φ(v) for two games (or two models on the same row,
 * background and players) and small integer a, b, with the same seed for the three runs.
 */
export function linearityProperty(method: AttributionMethod, options: PropertyOptions = {}): ClaimProperty {
  const combine = (u: GameCase, v: GameCase, a: number, b: number): GameCase =>
    printable<GameCase>({
      ...u,
      table: u.table.map((x, k) => a * x + b * v.table[k]),
      note: `${a}·u + ${b}·v`,
    });
  const combineModels = (f: ModelCase, g: ModelCase, a: number, b: number): ModelCase =>
    printable<ModelCase>({
      ...f,
      model: { kind: 'combination', a, f: f.model, b, g: g.model },
      note: `${a}·f + ${b}·g`,
    });
  const cases = pick<{ u: AttributionCase; v: AttributionCase; w: AttributionCase; a: number; b: number }>(
    useModels(method, options),
    () =>
      gamePairs(gameOptions(options, 1)).map((p) => ({
        u: p.u,
        v: p.v,
        w: combine(p.u, p.v, p.a, p.b),
        a: p.a,
        b: p.b,
      })),
    () =>
      modelPairs(modelOptions(options, 1)).map((p) => ({
        u: p.f,
        v: p.g,
        w: combineModels(p.f, p.g, p.a, p.b),
        a: p.a,
        b: p.b,
      })),
  ).map((s) => Object.assign(s, { [fc.toStringMethod]: () => describeCase(s.w) }));
  const tolerance = options.tolerance ?? 1e-8;
  return fc.asyncProperty(cases, SEEDS, async ({ u, v, w, a, b }, seed) => {
    const n = playersOf(u);
    const nOut = outputsOf(u);
    const budget = budgetFor(options, n);
    const pu = (await attributeCase(method, u, seed, budget)).values;
    const pv = (await attributeCase(method, v, seed, budget)).values;
    const pw = (await attributeCase(method, w, seed, budget)).values;
    const tol = tolerance * Math.max(caseScale(w), Math.abs(a) * caseScale(u) + Math.abs(b) * caseScale(v));
    for (let k = 0; k < pw.length; k++) {
      const expected = a * pu[k] + b * pv[k];
      if (!(Math.abs(pw[k] - expected) <= tol)) {
        const i = Math.floor(k / nOut);
        throw new PropertyViolation('linearity', method.name, w, [
          `φ_${i}(${a}·u + ${b}·v) must equal ${a}·φ_${i}(u) + ${b}·φ_${i}(v) = ${a}·${num(pu[k])} + ${b}·${num(pv[k])} = ${num(expected)}; got ${num(pw[k])} (gap ${num(pw[k] - expected)} > ${num(tol)})`,
          `φ(u) = ${matrixText(pu, n, nOut)}, φ(v) = ${matrixText(pv, n, nOut)}, φ(${a}·u + ${b}·v) = ${matrixText(pw, n, nOut)} (seed ${seed}, budget ${budget ?? 'default'})`,
          `u: ${describeCase(u)}`,
          `v: ${describeCase(v)}`,
        ]);
      }
    }
  }) as unknown as ClaimProperty;
}

/**
 * Exactness: the values equal the exact Shapley values (closed forms for linear, additive
 * and pairwise models; the reference subset formula otherwise) within `tolerance` × scale.
 */
export function exactnessProperty(method: AttributionMethod, options: PropertyOptions = {}): ClaimProperty {
  const cases = plainCases(method, options);
  const tolerance = options.tolerance ?? 1e-8;
  return fc.asyncProperty(cases, SEEDS, async (c, seed) => {
    const { n, nOut, budget, values } = await attributeRun(method, c, seed, options);
    const truth = exactValues(c);
    const tol = tolerance * caseScale(c);
    for (let k = 0; k < truth.length; k++)
      if (!(Math.abs(values[k] - truth[k]) <= tol))
        throw new PropertyViolation('exactness', method.name, c, [
          `φ_${Math.floor(k / nOut)} must equal the exact Shapley value ${num(truth[k])}; got ${num(values[k])} (gap ${num(values[k] - truth[k])} > ${num(tol)})`,
          `φ = ${matrixText(values, n, nOut)}, exact = ${matrixText(truth, n, nOut)} (seed ${seed}, budget ${budget ?? 'default'})`,
        ]);
  }) as unknown as ClaimProperty;
}

function rmse(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += (a[k] - b[k]) ** 2;
  return Math.sqrt(s / a.length);
}

/**
 * Convergence: the error against the exact Shapley values shrinks with the budget. For each
 * of the increasing budgets, the RMSE is averaged over `seeds` seeds (seed, seed + 1, ...);
 * the mean RMSE at the largest budget must be ≤ `ratio` × the mean RMSE at the smallest
 * (+ tolerance × scale, so exact methods pass with zero error). Budgets the method refuses on
 * a case (a `BudgetError`, e.g. below its minimum) are left out; a case with fewer than two
 * usable budgets is skipped (`fc.pre`).
 */
export function convergenceProperty(method: AttributionMethod, options: ConvergenceOptions = {}): ClaimProperty {
  const cases = pick<AttributionCase>(
    useModels(method, options),
    () => gameCases({ ...gameOptions(options, 5), maxPlayers: options.maxPlayers ?? 8 }),
    () => modelCases({ ...modelOptions(options, 5, false), maxFeatures: options.maxPlayers ?? 8 }),
  );
  const tolerance = options.tolerance ?? 1e-8;
  const seeds = options.seeds ?? 4;
  const ratio = options.ratio ?? 0.7;
  const budgetsFor = options.budgets ?? ((n: number) => [2 * n + 2, 4 * (2 * n + 2), 16 * (2 * n + 2)]);
  return fc.asyncProperty(cases, SEEDS, async (c, seed) => {
    const n = playersOf(c);
    let budgets = budgetsFor(n);
    if (budgets.length < 2) throw new RangeError('convergenceProperty: budgets must list at least two budgets');
    const truth = exactValues(c);
    const errors: number[] = [];
    const used: number[] = [];
    for (const budget of budgets) {
      let sum = 0;
      try {
        for (let s = 0; s < seeds; s++) sum += rmse((await attributeCase(method, c, seed + s, budget)).values, truth);
      } catch (error) {
        // a budget below what the method accepts on this case (BudgetError) is left out
        if ((error as { code?: string }).code === 'BUDGET') continue;
        throw error;
      }
      errors.push(sum / seeds);
      used.push(budget);
    }
    fc.pre(errors.length >= 2);
    budgets = used;
    const first = errors[0];
    const last = errors[errors.length - 1];
    const tol = tolerance * caseScale(c);
    if (!(last <= ratio * first + tol))
      throw new PropertyViolation('convergence', method.name, c, [
        `mean RMSE against the exact values must shrink with the budget: RMSE(budget ${budgets[budgets.length - 1]}) ≤ ${ratio} × RMSE(budget ${budgets[0]}) + ${num(tol)} is required; got ${num(last)} > ${ratio} × ${num(first)} + ${num(tol)} = ${num(ratio * first + tol)}`,
        `mean RMSE per budget over ${seeds} seeds from ${seed}: ${budgets.map((b, k) => `${b}: ${num(errors[k])}`).join(', ')}`,
      ]);
  }) as unknown as ClaimProperty;
}

/** The property of each claim. */
export function claimProperty(
  claim: Claim,
  method: AttributionMethod,
  options: ConvergenceOptions = {},
): ClaimProperty {
  switch (claim) {
    case 'efficiency':
      return efficiencyProperty(method, options);
    case 'symmetry':
      return symmetryProperty(method, options);
    case 'dummy':
      return dummyProperty(method, options);
    case 'linearity':
      return linearityProperty(method, options);
    case 'convergence':
      return convergenceProperty(method, options);
    case 'exactness':
      return exactnessProperty(method, options);
  }
}

/** The properties of exactly the claims the method makes. */
export function claimedProperties(
  method: AttributionMethod,
  options: ConvergenceOptions = {},
): Partial<Record<Claim, ClaimProperty>> {
  const out: Partial<Record<Claim, ClaimProperty>> = {};
  for (const c of method.claims) out[c] = claimProperty(c, method, options);
  return out;
}

/**
 * Checks every claim of a method with `fc.assert` (in the order of `method.claims`) and
 * returns the claims checked. Throws fast-check's error (with the shrunk counterexample and
 * the {@link PropertyViolation} message) at the first failure.
 *
 * @example
 * await assertClaims(shapleyMethod('permutation', { budget: 200 }), {}, { numRuns: 30 });
 */
export async function assertClaims(
  method: AttributionMethod,
  options: ConvergenceOptions = {},
  parameters: fc.Parameters<[unknown, number]> = {},
): Promise<Claim[]> {
  const checked: Claim[] = [];
  for (const claim of method.claims) {
    await fc.assert(claimProperty(claim, method, options), parameters);
    checked.push(claim);
  }
  return checked;
}
