/**
 * Small random games and models for estimator tests. Randomness comes from a local
 * mulberry32 generator (independent of src/'s Rng); truths come from brute-force.ts.
 */
import { definePlayers, playersFromIndices } from '../../src/data/players.js';
import { localEvaluator } from '../../src/games/evaluator.js';
import type { Game } from '../../src/games/game.js';
import { functionGame } from '../../src/games/game.js';
import type { InterventionalContext, InterventionalGame } from '../../src/games/interventional-game.js';
import { interventionalGame, prepareInterventional } from '../../src/games/interventional-game.js';
import { fromFunction } from '../../src/models/function-model.js';
import type { Model } from '../../src/models/model.js';
import { createBackground } from '../../src/sampling/background.js';
import { maskingLayout } from '../../src/sampling/masking.js';
import { bruteForceShapley, interventionalValue } from './brute-force.js';

/** A seeded uniform [0, 1) generator (mulberry32), independent of src/sampling/rng.ts. */
export function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bit mask of a 0/1 byte coalition (bit j = player j). */
export const maskOf = (m: ArrayLike<number>): number => {
  let acc = 0;
  for (let j = 0; j < m.length; j++) if (m[j]) acc |= 1 << j;
  return acc;
};

/** A random value table: `2^n` coalitions × `nOut` outputs, values in [−10, 10). */
export function randomTable(n: number, nOut: number, seed: number): number[][] {
  const rnd = mulberry32(seed);
  return Array.from({ length: 2 ** n }, () => Array.from({ length: nOut }, () => rnd() * 20 - 10));
}

/** A game reading a value table (index = bit mask). */
export function tableGame(table: number[][], n: number): Game {
  return functionGame(n, table[0].length, (m) => table[maskOf(m)]);
}

/** A table game and its brute-force Shapley values (flattened `n × nOut`). */
export function randomTableGame(n: number, nOut: number, seed: number) {
  const table = randomTable(n, nOut, seed);
  const reference = n <= 8 ? bruteForceShapley : subsetShapley;
  return { table, game: tableGame(table, n), truth: reference((m) => table[m], n).flat() };
}

/** A row function of `nCols` inputs with `nOut` outputs. */
export type PlainModel = (row: ArrayLike<number>) => number[];

/** A random smooth model with pairwise interactions (coefficients from `seed`). */
export function randomModel(nCols: number, nOut: number, seed: number): PlainModel {
  const rnd = mulberry32(seed);
  const lin = Array.from({ length: nOut * nCols }, () => rnd() * 4 - 2);
  const pair = Array.from({ length: nOut * nCols }, () => rnd() * 2 - 1);
  return (r) =>
    Array.from({ length: nOut }, (_, o) => {
      let s = 0;
      for (let c = 0; c < nCols; c++) s += lin[o * nCols + c] * r[c] + pair[o * nCols + c] * r[c] * r[(c + 1) % nCols];
      return o % 2 === 0 ? Math.tanh(s) * 3 : s;
    });
}

/** A random `nRows × nCols` matrix; `levels` > 0 draws integers 0..levels−1, else uniform [−2, 2). */
export function randomRows(nRows: number, nCols: number, seed: number, levels = 0): number[][] {
  const rnd = mulberry32(seed);
  return Array.from({ length: nRows }, () =>
    Array.from({ length: nCols }, () => (levels > 0 ? Math.floor(rnd() * levels) : rnd() * 4 - 2)),
  );
}

export interface InterventionalSetup {
  readonly model: Model;
  readonly ctx: InterventionalContext;
  readonly game: InterventionalGame;
  /** Brute-force Shapley values (flattened `nPlayers × nOut`). */
  readonly truth: number[];
  /** Columns of each player. */
  readonly groups: number[][];
  /** Brute-force v(S) by bit mask. */
  readonly value: (mask: number) => number[];
}

/**
 * An interventional game on a float64 function model, plus its brute-force truth.
 * `groups` lists each player's columns (default: one player per column).
 */
export async function interventionalSetup(options: {
  f: PlainModel;
  nOut: number;
  x: number[];
  background: number[][];
  weights?: number[];
  groups?: number[][];
  dedupe?: boolean;
}): Promise<InterventionalSetup> {
  const { f, nOut, x, background } = options;
  const nCols = x.length;
  const groups = options.groups ?? Array.from({ length: nCols }, (_, c) => [c]);
  const players =
    options.groups === undefined
      ? definePlayers(Array.from({ length: nCols }, (_, c) => `c${c}`))
      : playersFromIndices(nCols, groups);
  const model = fromFunction((r: Float64Array) => f(r), {
    nInputs: nCols,
    outputNames: Array.from({ length: nOut }, (_, o) => `o${o}`),
  });
  const bg = createBackground(
    { data: Float64Array.from(background.flat()), nRows: background.length, nColumns: nCols },
    options.weights,
  );
  const ctx = await prepareInterventional(localEvaluator(model, bg, maskingLayout(players)));
  const game = await interventionalGame(ctx, Float64Array.from(x), { dedupe: options.dedupe });
  const value = (mask: number) => interventionalValue(f, x, background, options.weights, groups, mask);
  const truth = (groups.length <= 8 ? bruteForceShapley : subsetShapley)(value, groups.length).flat();
  return { model, ctx, game, truth, groups, value };
}

/** Mean of |a − b|. */
export function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Per-output sums Σ_i φ_i of a flattened `n × nOut` array. */
export function sumsPerOutput(values: ArrayLike<number>, n: number, nOut: number): number[] {
  return Array.from({ length: nOut }, (_, o) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[i * nOut + o];
    return s;
  });
}

/** True when every element is the same double (Object.is). */
export function bitIdentical(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/**
 * Shapley values by the subset formula φ_i = Σ_{S∌i} |S|!(n−|S|−1)!/n! (v(S ∪ i) − v(S)),
 * with the weights from factorials (O(n 2^n), for games too big for {@link bruteForceShapley}).
 */
export function subsetShapley(value: (mask: number) => number[], n: number): number[][] {
  const fact = [1];
  for (let k = 1; k <= n; k++) fact.push(fact[k - 1] * k);
  const table = Array.from({ length: 2 ** n }, (_, m) => value(m));
  const nOut = table[0].length;
  const phi = Array.from({ length: n }, () => new Array<number>(nOut).fill(0));
  for (let m = 0; m < 2 ** n; m++) {
    let size = 0;
    for (let j = 0; j < n; j++) size += (m >> j) & 1;
    const w = (fact[size] * fact[n - size - 1]) / fact[n];
    for (let i = 0; i < n; i++) {
      if ((m >> i) & 1) continue;
      const with_ = table[m | (1 << i)];
      for (let o = 0; o < nOut; o++) phi[i][o] += w * (with_[o] - table[m][o]);
    }
  }
  return phi;
}
