/**
 * fast-check arbitraries of whybox/testing: random cooperative games, random models with
 * known exact Shapley values, backgrounds, explained rows and groupings. Sizes are drawn
 * first (they shrink first), values are small integers by default (they shrink to 0), so a
 * failing property shrinks to a game of few players with simple values.
 */
import fc from 'fast-check';
import type { AttributionCase, GameCase, ModelCase, ModelKind, ModelSpecCase, TreeNode } from './cases.js';
import { describeCase } from './cases.js';

/** How values are drawn. */
export type ValueStyle = 'integers' | 'doubles';

/** Options of {@link gameCases}. */
export interface GameCaseOptions {
  /** @defaultValue 1 */
  minPlayers?: number;
  /** @defaultValue 6 */
  maxPlayers?: number;
  /** Outputs per coalition, drawn in 1..maxOutputs. @defaultValue 1 */
  maxOutputs?: number;
  /** Integers in [−range, range] (readable counterexamples) or doubles in the same range. @defaultValue 'integers' */
  values?: ValueStyle;
  /** @defaultValue 10 */
  range?: number;
}

/** Options of the model-case arbitraries. */
export interface ModelCaseOptions {
  /** Model kinds drawn. @defaultValue all: linear, additive, pairwise, tree */
  kinds?: readonly ModelKind[];
  /** @defaultValue 1 */
  minFeatures?: number;
  /** @defaultValue 6 */
  maxFeatures?: number;
  /** Background rows. @defaultValue 1 */
  minBackground?: number;
  /** @defaultValue 4 */
  maxBackground?: number;
  /** Weighted backgrounds: `true`, `false` or `'sometimes'`. @defaultValue 'sometimes' */
  weighted?: boolean | 'sometimes';
  /** Columns grouped into players: `true`, `false` (one player per column) or `'sometimes'`. @defaultValue 'sometimes' */
  grouped?: boolean | 'sometimes';
  /** Feature values: integers in [−3, 3] (ties with the background exercise deduplication) or doubles. @defaultValue 'integers' */
  values?: ValueStyle;
}

const ALL_KINDS: readonly ModelKind[] = ['linear', 'additive', 'pairwise', 'tree'];

/** Gives a case fast-check's printable form (its {@link describeCase} text). */
export function printable<T extends AttributionCase>(c: T): T {
  Object.defineProperty(c, fc.toStringMethod, { value: () => describeCase(c), enumerable: false });
  return c;
}

function numbers(style: ValueStyle, range: number): fc.Arbitrary<number> {
  return style === 'integers'
    ? fc.integer({ min: -range, max: range })
    : fc.double({ min: -range, max: range, noNaN: true, noDefaultInfinity: true }).map((v) => (v === 0 ? 0 : v));
}

function check(min: number, max: number, what: string): void {
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min)
    throw new RangeError(`${what}: need integers 1 <= min <= max; got min ${min}, max ${max}`);
}

/**
 * Random cooperative games as value tables (`2^n × nOutputs`, v(∅) included, no
 * normalisation): the most general input of an attribution method.
 */
export function gameCases(options: GameCaseOptions = {}): fc.Arbitrary<GameCase> {
  const min = options.minPlayers ?? 1;
  const max = options.maxPlayers ?? 6;
  check(min, max, 'gameCases players');
  if (max > 16) throw new RangeError(`gameCases: maxPlayers ${max} is above 16 (a 2^n table is generated)`);
  const maxOut = options.maxOutputs ?? 1;
  check(1, maxOut, 'gameCases outputs');
  const value = numbers(options.values ?? 'integers', options.range ?? 10);
  return tables(min, max, maxOut, value).map(([n, nOut, table]) =>
    printable<GameCase>({ type: 'game', nPlayers: n, nOutputs: nOut, table, note: 'random' }),
  );
}

/** Above this many values, tables are drawn per size (chain) instead of from one shared pool. */
const POOL_LIMIT = 1024;

/** Table of an n-player game read from a pool drawn for `max` players (value of (S, o) at `o · 2^max + S`). */
function cut(pool: readonly number[], n: number, nOut: number, max: number): Float64Array {
  const poolSize = 2 ** max;
  const t = new Float64Array(2 ** n * nOut);
  for (let m = 0; m < 2 ** n; m++) for (let o = 0; o < nOut; o++) t[m * nOut + o] = pool[o * poolSize + m];
  return t;
}

/**
 * Draws n ∈ [min, max], nOut ∈ [1, maxOut] and the `2^n × nOut` value table. When the pool for
 * the largest game is small, one pool of `2^max × maxOut` values is drawn next to n (not
 * chained) and every game reads a prefix of it: shrinking n keeps the restriction of the
 * same game to its first players, which usually still fails, so counterexamples shrink to
 * few players.
 */
function tables(
  min: number,
  max: number,
  maxOut: number,
  value: fc.Arbitrary<number>,
  count = 1,
): fc.Arbitrary<[number, number, ...Float64Array[]]> {
  const sizes = fc.tuple(fc.integer({ min, max }), fc.integer({ min: 1, max: maxOut }));
  const poolLength = 2 ** max * maxOut;
  if (poolLength > POOL_LIMIT)
    return sizes.chain(([n, nOut]) =>
      fc
        .array(fc.array(value, { minLength: 2 ** n * nOut, maxLength: 2 ** n * nOut }), {
          minLength: count,
          maxLength: count,
        })
        .map((ts): [number, number, ...Float64Array[]] => [n, nOut, ...ts.map((t) => Float64Array.from(t))]),
    );
  const pool = fc.array(value, { minLength: poolLength, maxLength: poolLength });
  return fc
    .tuple(sizes, fc.array(pool, { minLength: count, maxLength: count }))
    .map(([[n, nOut], pools]): [number, number, ...Float64Array[]] => [
      n,
      nOut,
      ...pools.map((p) => cut(p, n, nOut, max)),
    ]);
}

/**
 * Two distinct players from two draws, clamped (not reduced modulo n) so that shrinking n
 * keeps them, and shrinking the draws gives players 0 and 1.
 */
function pairOf(a: number, b: number, n: number): [number, number] {
  const i = Math.min(a, n - 1);
  const j = Math.min(b, n - 2);
  return [i, j >= i ? j + 1 : j];
}

function remap(c: GameCase, canon: (m: number) => number, note: string): GameCase {
  const { nPlayers: n, nOutputs: nOut, table } = c;
  const out = new Float64Array(table.length);
  for (let m = 0; m < 2 ** n; m++) out.set(table.subarray(canon(m) * nOut, (canon(m) + 1) * nOut), m * nOut);
  return printable<GameCase>({ ...c, table: out, note });
}

/** Random games where players i and j (drawn) are symmetric: v(S ∪ i) = v(S ∪ j) for S ∌ i, j. */
export function symmetricGameCases(
  options: GameCaseOptions = {},
): fc.Arbitrary<{ game: GameCase; i: number; j: number }> {
  return fc
    .tuple(
      gameCases({ ...options, minPlayers: Math.max(2, options.minPlayers ?? 2) }),
      fc.nat({ max: 15 }),
      fc.nat({ max: 15 }),
    )
    .map(([g, a, b]) => {
      const [i, j] = pairOf(a, b, g.nPlayers);
      const bi = 1 << i;
      const bj = 1 << j;
      // coalitions holding j but not i read the value of the one holding i but not j
      const canon = (m: number) => (m & bj && !(m & bi) ? m ^ bi ^ bj : m);
      return { game: remap(g, canon, `players ${i} and ${j} symmetric`), i, j };
    });
}

/** Random games where player `dummy` (drawn) is a null player: v(S ∪ dummy) = v(S). */
export function dummyGameCases(options: GameCaseOptions = {}): fc.Arbitrary<{ game: GameCase; dummy: number }> {
  // the dummy's index is drawn apart from n and clamped, so that it survives shrinking n
  return fc.tuple(gameCases(options), fc.nat({ max: 15 })).map(([g, a]) => {
    const d = Math.min(a, g.nPlayers - 1);
    return { game: remap(g, (m) => m & ~(1 << d), `player ${d} is a null player`), dummy: d };
  });
}

/** Two random games on the same players and two small integer coefficients. */
export function gamePairs(
  options: GameCaseOptions = {},
): fc.Arbitrary<{ u: GameCase; v: GameCase; a: number; b: number }> {
  const min = options.minPlayers ?? 1;
  const max = options.maxPlayers ?? 6;
  check(min, max, 'gamePairs players');
  const value = numbers(options.values ?? 'integers', options.range ?? 10);
  const coef = fc.integer({ min: -3, max: 3 });
  return fc.tuple(tables(min, max, options.maxOutputs ?? 1, value, 2), coef, coef).map(([[n, nOut, t1, t2], a, b]) => ({
    u: printable<GameCase>({ type: 'game', nPlayers: n, nOutputs: nOut, table: t1, note: 'u' }),
    v: printable<GameCase>({ type: 'game', nPlayers: n, nOutputs: nOut, table: t2, note: 'v' }),
    a,
    b,
  }));
}

function featureValues(style: ValueStyle | undefined): fc.Arbitrary<number> {
  return numbers(style ?? 'integers', 3);
}

/** A random explained row of `nFeatures` values. */
export function instances(nFeatures: number, options: Pick<ModelCaseOptions, 'values'> = {}): fc.Arbitrary<number[]> {
  return fc.array(featureValues(options.values), { minLength: nFeatures, maxLength: nFeatures });
}

/** A random background: rows of `nFeatures` values and, when weighted, a weight (1..4) per row. */
export function backgrounds(
  nFeatures: number,
  options: Pick<ModelCaseOptions, 'values' | 'minBackground' | 'maxBackground' | 'weighted'> = {},
): fc.Arbitrary<{ rows: number[][]; weights?: number[] }> {
  const min = options.minBackground ?? 1;
  const max = options.maxBackground ?? 4;
  check(min, max, 'backgrounds rows');
  const weighted = options.weighted ?? 'sometimes';
  const flag = weighted === 'sometimes' ? fc.boolean() : fc.constant(weighted);
  return fc
    .tuple(fc.integer({ min, max }), flag)
    .chain(([nRows, w]) =>
      fc
        .tuple(
          fc.array(instances(nFeatures, options), { minLength: nRows, maxLength: nRows }),
          w ? fc.array(fc.integer({ min: 1, max: 4 }), { minLength: nRows, maxLength: nRows }) : fc.constant(undefined),
        )
        .map(([rows, weights]) => (weights ? { rows, weights } : { rows })),
    );
}

/**
 * A random partition of `nFeatures` columns into players (groups ordered by their first
 * column). Shrinks towards fewer, larger groups.
 */
export function groupings(nFeatures: number): fc.Arbitrary<number[][]> {
  return fc
    .array(fc.nat({ max: Math.max(0, nFeatures - 1) }), { minLength: nFeatures, maxLength: nFeatures })
    .map((labels) => {
      const order = new Map<number, number>();
      const groups: number[][] = [];
      labels.forEach((l, col) => {
        let p = order.get(l);
        if (p === undefined) {
          p = groups.length;
          order.set(l, p);
          groups.push([]);
        }
        groups[p].push(col);
      });
      return groups;
    });
}

const singletons = (n: number) => Array.from({ length: n }, (_, i) => [i]);

function treeNodes(nFeatures: number, depth: number): fc.Arbitrary<TreeNode> {
  const leaf = fc.integer({ min: -5, max: 5 }).map((v): TreeNode => ({ leaf: v }));
  if (depth === 0) return leaf;
  const child = treeNodes(nFeatures, depth - 1);
  const split = fc
    .record({
      feature: fc.nat({ max: nFeatures - 1 }),
      threshold: fc.integer({ min: -2, max: 2 }),
      left: child,
      right: child,
    })
    .map((s): TreeNode => s);
  return fc.oneof({ weight: 1, arbitrary: leaf }, { weight: 3, arbitrary: split });
}

/** Random parameters of a model of `kind` on `nFeatures` columns (small integers). */
export function modelSpecs(kind: ModelKind, nFeatures: number): fc.Arbitrary<ModelSpecCase> {
  const coef = fc.integer({ min: -5, max: 5 });
  const weights = fc.array(coef, { minLength: nFeatures, maxLength: nFeatures });
  switch (kind) {
    case 'linear':
      return fc.record({ weights, intercept: coef }).map((p): ModelSpecCase => ({ kind: 'linear', ...p }));
    case 'additive': {
      const term = fc.record({
        a: coef,
        q: fc.integer({ min: -2, max: 2 }),
        s: coef,
        at: fc.integer({ min: -2, max: 2 }),
      });
      return fc
        .record({ terms: fc.array(term, { minLength: nFeatures, maxLength: nFeatures }), intercept: coef })
        .map((p): ModelSpecCase => ({ kind: 'additive', ...p }));
    }
    case 'pairwise': {
      const pair = fc.record({ i: fc.nat({ max: nFeatures - 1 }), j: fc.nat({ max: nFeatures - 1 }), c: coef });
      return fc.record({ weights, pairs: fc.array(pair, { maxLength: 4 }) }).map(
        (p): ModelSpecCase => ({
          kind: 'pairwise',
          weights: p.weights,
          // i = j would be a square term: make it a pair with the next column (or drop it for one column)
          pairs: p.pairs.map((q) => (q.i === q.j ? { ...q, j: (q.j + 1) % nFeatures } : q)).filter((q) => q.i !== q.j),
        }),
      );
    }
    case 'tree':
      return treeNodes(nFeatures, 3).map((tree): ModelSpecCase => ({ kind: 'tree', tree }));
  }
}

function groupsFor(n: number, grouped: boolean | 'sometimes' | undefined): fc.Arbitrary<number[][]> {
  const g = grouped ?? 'sometimes';
  if (g === false) return fc.constant(singletons(n));
  if (g === true) return groupings(n);
  return fc.oneof(fc.constant(singletons(n)), groupings(n));
}

/** Draws the features count, then a row, a background and players shared by the models. */
function scaffold(options: ModelCaseOptions, minFeatures: number, grouped?: boolean | 'sometimes') {
  const min = Math.max(minFeatures, options.minFeatures ?? 1);
  const max = options.maxFeatures ?? 6;
  check(min, max, 'model case features');
  return fc.integer({ min, max }).chain((n) =>
    fc.record({
      n: fc.constant(n),
      x: instances(n, options),
      bg: backgrounds(n, options),
      groups: groupsFor(n, grouped ?? options.grouped),
    }),
  );
}

function modelCase(
  model: ModelSpecCase,
  s: { n: number; x: number[]; bg: { rows: number[][]; weights?: number[] }; groups: number[][] },
  note: string,
): ModelCase {
  return printable<ModelCase>({
    type: 'model',
    model,
    nFeatures: s.n,
    x: s.x,
    background: s.bg.rows,
    ...(s.bg.weights ? { weights: s.bg.weights } : {}),
    groups: s.groups,
    note,
  });
}

/**
 * Random models with known exact interventional Shapley values (linear, additive and
 * pairwise models in closed form, small trees by the reference enumeration — see
 * `exactValues`), with a random row, background and grouping.
 */
export function modelCases(options: ModelCaseOptions = {}): fc.Arbitrary<ModelCase> {
  const kinds = options.kinds ?? ALL_KINDS;
  if (kinds.length === 0) throw new RangeError('modelCases: kinds is empty');
  return scaffold(options, 1).chain((s) =>
    fc
      .constantFrom(...kinds)
      .chain((kind) => modelSpecs(kind, s.n))
      .map((model) => modelCase(model, s, model.kind)),
  );
}

/**
 * Model cases where players i and j are symmetric: the model is symmetrised in columns i
 * and j, x_j = x_i, the background is closed under swapping them (each row and its swap,
 * same weight), and every column is a player of its own.
 */
export function symmetricModelCases(
  options: ModelCaseOptions = {},
): fc.Arbitrary<{ model: ModelCase; i: number; j: number }> {
  const kinds = options.kinds ?? ALL_KINDS;
  return scaffold({ ...options, grouped: false }, 2, false).chain((s) =>
    fc
      .tuple(
        fc.constantFrom(...kinds).chain((k) => modelSpecs(k, s.n)),
        fc.nat({ max: 15 }),
        fc.nat({ max: 15 }),
      )
      .map(([base, a, b]) => {
        const [i, j] = pairOf(a, b, s.n);
        const x = s.x.slice();
        x[j] = x[i];
        const swap = (r: number[]) => {
          const t = r.slice();
          t[i] = r[j];
          t[j] = r[i];
          return t;
        };
        const rows = s.bg.rows.flatMap((r) => [r, swap(r)]);
        const weights = s.bg.weights?.flatMap((w) => [w, w]);
        const model = modelCase(
          { kind: 'symmetrized', base, i, j },
          { ...s, x, bg: weights ? { rows, weights } : { rows } },
          `players ${i} and ${j} symmetric`,
        );
        return { model, i, j };
      }),
  );
}

/** Model cases where player `dummy`'s columns are never read by the model. */
export function dummyModelCases(options: ModelCaseOptions = {}): fc.Arbitrary<{ model: ModelCase; dummy: number }> {
  return fc.tuple(modelCases(options), fc.nat({ max: 15 })).map(([c, a]) => {
    const d = Math.min(a, c.groups.length - 1);
    const model = printable<ModelCase>({
      ...c,
      model: { kind: 'ignoring', base: c.model, columns: c.groups[d] },
      note: `player ${d} is never read`,
    });
    return { model, dummy: d };
  });
}

/** Two models on the same row, background and players, and two small integer coefficients. */
export function modelPairs(
  options: ModelCaseOptions = {},
): fc.Arbitrary<{ f: ModelCase; g: ModelCase; a: number; b: number }> {
  const kinds = options.kinds ?? ALL_KINDS;
  return scaffold(options, 1).chain((s) => {
    const spec = fc.constantFrom(...kinds).chain((k) => modelSpecs(k, s.n));
    const coef = fc.integer({ min: -3, max: 3 });
    return fc.tuple(spec, spec, coef, coef).map(([f, g, a, b]) => ({
      f: modelCase(f, s, 'f'),
      g: modelCase(g, s, 'g'),
      a,
      b,
    }));
  });
}
