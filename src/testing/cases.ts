/**
 * Test cases of whybox/testing as plain, printable data: cooperative games given by their
 * value table, and small models (linear, additive, pairwise-interaction, decision tree)
 * with a row, a background and a grouping of columns into players, whose exact
 * interventional Shapley values are known (closed form, or the reference enumeration).
 * No fast-check here: the arbitraries (arbitraries.ts) generate these.
 */

import { playersFromIndices } from '../data/players.js';
import { localEvaluator } from '../games/evaluator.js';
import type { Game } from '../games/game.js';
import { functionGame } from '../games/game.js';
import { interventionalGame, prepareInterventional } from '../games/interventional-game.js';
import { fromFunction } from '../models/function-model.js';
import { createBackground } from '../sampling/background.js';
import { maskingLayout } from '../sampling/masking.js';
import type { AttributionTask } from './method.js';
import { interventionalValue, referenceShapley } from './reference.js';

/** A game given by its value table: `table[mask * nOutputs + o]`, bit j of mask = player j. */
export interface GameCase {
  readonly type: 'game';
  readonly nPlayers: number;
  readonly nOutputs: number;
  /** `2^nPlayers × nOutputs` values. */
  readonly table: Float64Array;
  /** How the game was built, for messages (`'random'`, `'players 0 and 1 symmetric'`...). */
  readonly note: string;
}

/** A decision-tree node: `row[feature] <= threshold` goes left. */
export type TreeNode =
  | { readonly leaf: number }
  | { readonly feature: number; readonly threshold: number; readonly left: TreeNode; readonly right: TreeNode };

/** g(t) = a·t + q·t² + s·[t > at], one per feature of an additive model. */
export interface AdditiveTerm {
  readonly a: number;
  readonly q: number;
  readonly s: number;
  readonly at: number;
}

/** A model of a {@link ModelCase} (one output). */
export type ModelSpecCase =
  | { readonly kind: 'linear'; readonly weights: readonly number[]; readonly intercept: number }
  | { readonly kind: 'additive'; readonly terms: readonly AdditiveTerm[]; readonly intercept: number }
  | {
      readonly kind: 'pairwise';
      readonly weights: readonly number[];
      readonly pairs: readonly { readonly i: number; readonly j: number; readonly c: number }[];
    }
  | { readonly kind: 'tree'; readonly tree: TreeNode }
  /** f(row) + f(row with columns i and j swapped): symmetric in i and j. */
  | { readonly kind: 'symmetrized'; readonly base: ModelSpecCase; readonly i: number; readonly j: number }
  /** f(row with `columns` set to 0): the columns are never read. */
  | { readonly kind: 'ignoring'; readonly base: ModelSpecCase; readonly columns: readonly number[] }
  /** a·f + b·g. */
  | {
      readonly kind: 'combination';
      readonly a: number;
      readonly f: ModelSpecCase;
      readonly b: number;
      readonly g: ModelSpecCase;
    };

/** Kinds of base models with known Shapley values. */
export type ModelKind = 'linear' | 'additive' | 'pairwise' | 'tree';

/** A model, an explained row, a background and the players (groups of columns). */
export interface ModelCase {
  readonly type: 'model';
  readonly model: ModelSpecCase;
  readonly nFeatures: number;
  readonly x: readonly number[];
  readonly background: readonly (readonly number[])[];
  /** Background weights (normalised); uniform when absent. */
  readonly weights?: readonly number[];
  /** `groups[p]` = columns of player p (a partition of 0..nFeatures−1). */
  readonly groups: readonly (readonly number[])[];
  readonly note: string;
}

/** A game case or a model case. */
export type AttributionCase = GameCase | ModelCase;

/** Number of players of a case. */
export function playersOf(c: AttributionCase): number {
  return c.type === 'game' ? c.nPlayers : c.groups.length;
}

/** Number of outputs of a case. */
export function outputsOf(c: AttributionCase): number {
  return c.type === 'game' ? c.nOutputs : 1;
}

/** Evaluates a model case's model on one row. */
export function evalModel(m: ModelSpecCase, row: readonly number[]): number {
  switch (m.kind) {
    case 'linear': {
      let s = m.intercept;
      for (let i = 0; i < m.weights.length; i++) s += m.weights[i] * row[i];
      return s;
    }
    case 'additive': {
      let s = m.intercept;
      m.terms.forEach((t, i) => {
        s += additive(t, row[i]);
      });
      return s;
    }
    case 'pairwise': {
      let s = 0;
      for (let i = 0; i < m.weights.length; i++) s += m.weights[i] * row[i];
      for (const p of m.pairs) s += p.c * row[p.i] * row[p.j];
      return s;
    }
    case 'tree': {
      let node = m.tree;
      while (!('leaf' in node)) node = row[node.feature] <= node.threshold ? node.left : node.right;
      return node.leaf;
    }
    case 'symmetrized': {
      const swapped = row.slice();
      swapped[m.i] = row[m.j];
      swapped[m.j] = row[m.i];
      return evalModel(m.base, row) + evalModel(m.base, swapped);
    }
    case 'ignoring': {
      const r = row.slice();
      for (const c of m.columns) r[c] = 0;
      return evalModel(m.base, r);
    }
    case 'combination':
      return m.a * evalModel(m.f, row) + m.b * evalModel(m.g, row);
  }
}

function additive(t: AdditiveTerm, v: number): number {
  return t.a * v + t.q * v * v + (v > t.at ? t.s : 0);
}

/** v(S) of a case, for `mask` (bit p = player p in S). */
export function caseValue(c: AttributionCase, mask: number): number[] {
  if (c.type === 'game') return Array.from(c.table.subarray(mask * c.nOutputs, (mask + 1) * c.nOutputs));
  return interventionalValue((r) => [evalModel(c.model, r)], c.x, c.background, c.weights, c.groups, mask);
}

/**
 * The exact Shapley values of a case (`nPlayers × nOutputs`): in closed form for linear,
 * additive and pairwise models (any grouping, any background), else by the reference
 * subset formula over the reference value function (independent of whybox's estimators).
 */
export function exactValues(c: AttributionCase): Float64Array {
  if (c.type === 'model') {
    const closed = closedForm(c);
    if (closed) return closed;
  }
  return referenceShapley((m) => caseValue(c, m), playersOf(c));
}

/**
 * Closed-form interventional Shapley values, or undefined for models without one.
 * With E the (weighted) background mean and P(i) the player owning column i:
 * - linear: φ_p = Σ_{i∈p} w_i (x_i − E b_i);
 * - additive: φ_p = Σ_{i∈p} (g_i(x_i) − E g_i(b_i));
 * - a pairwise term c·x_i·x_j is the game u(∅) = c E[b_i b_j], u({P(i)}) = c x_i E b_j,
 *   u({P(j)}) = c E b_i x_j, u(both) = c x_i x_j on the players P(i), P(j) (the others are
 *   dummies): φ_P(i) = ½[(u(i) − u(∅)) + (u(ij) − u(j))] and symmetrically; when
 *   P(i) = P(j) the whole u(ij) − u(∅) goes to that player.
 */
export function closedForm(c: ModelCase): Float64Array | undefined {
  const m = c.model;
  if (m.kind !== 'linear' && m.kind !== 'additive' && m.kind !== 'pairwise') return undefined;
  const owner = new Int32Array(c.nFeatures);
  c.groups.forEach((cols, p) => {
    for (const col of cols) owner[col] = p;
  });
  const nb = c.background.length;
  const wsum = c.weights ? c.weights.reduce((a, b) => a + b, 0) : nb;
  const w = (k: number) => (c.weights ? c.weights[k] : 1) / wsum;
  const mean = (g: (b: readonly number[]) => number) => c.background.reduce((acc, b, k) => acc + w(k) * g(b), 0);
  const phi = new Float64Array(c.groups.length);
  if (m.kind === 'linear' || m.kind === 'pairwise')
    m.weights.forEach((wi, i) => {
      phi[owner[i]] += wi * (c.x[i] - mean((b) => b[i]));
    });
  if (m.kind === 'additive')
    m.terms.forEach((t, i) => {
      phi[owner[i]] += additive(t, c.x[i]) - mean((b) => additive(t, b[i]));
    });
  if (m.kind === 'pairwise')
    for (const { i, j, c: k } of m.pairs) {
      const u0 = k * mean((b) => b[i] * b[j]);
      const ui = k * c.x[i] * mean((b) => b[j]);
      const uj = k * mean((b) => b[i]) * c.x[j];
      const uij = k * c.x[i] * c.x[j];
      if (owner[i] === owner[j]) phi[owner[i]] += uij - u0;
      else {
        phi[owner[i]] += 0.5 * (ui - u0 + (uij - uj));
        phi[owner[j]] += 0.5 * (uj - u0 + (uij - ui));
      }
    }
  return phi;
}

/** A game that reads a case's value table (a fresh game with its own cost counter). */
export function tableGame(c: GameCase): Game {
  const { nPlayers: n, nOutputs: nOut, table } = c;
  return functionGame(n, nOut, (mask) => {
    let m = 0;
    for (let j = 0; j < n; j++) if (mask[j]) m |= 1 << j;
    return table.subarray(m * nOut, (m + 1) * nOut);
  });
}

/**
 * The attribution task of a case: a table game, or the model's interventional game built
 * with whybox's masker (fromFunction model, background, players from the groups) plus the
 * model task itself.
 */
export async function caseTask(c: AttributionCase): Promise<AttributionTask> {
  if (c.type === 'game') return { game: tableGame(c) };
  const d = c.nFeatures;
  const spec = c.model;
  const model = fromFunction((row: Float64Array) => evalModel(spec, Array.from(row)), {
    nInputs: d,
    inputNames: Array.from({ length: d }, (_, i) => `x${i}`),
  });
  const background = createBackground(
    { data: Float64Array.from(c.background.flat()), nRows: c.background.length, nColumns: d },
    c.weights,
  );
  const players = playersFromIndices(
    d,
    c.groups,
    c.groups.map((g) => g.map((i) => `x${i}`).join('+')),
  );
  const ctx = await prepareInterventional(localEvaluator(model, background, maskingLayout(players)));
  const x = Float64Array.from(c.x);
  const game = await interventionalGame(ctx, x);
  return { game, model: { model, x, background, players } };
}

const num = (v: number) => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6))));
const vec = (v: ArrayLike<number>) => `[${Array.from(v, num).join(', ')}]`;

/** A coalition as `{0,2}`. */
export function coalitionText(mask: number, n: number): string {
  const members: number[] = [];
  for (let j = 0; j < n; j++) if ((mask >>> j) & 1) members.push(j);
  return members.length === 0 ? '∅' : `{${members.join(',')}}`;
}

/** A model as a formula-like string. */
export function modelText(m: ModelSpecCase): string {
  switch (m.kind) {
    case 'linear':
      return `linear(w=${vec(m.weights)}, b=${num(m.intercept)})`;
    case 'additive':
      return `additive(${m.terms.map((t, i) => `${num(t.a)}·x${i} + ${num(t.q)}·x${i}² + ${num(t.s)}·[x${i} > ${num(t.at)}]`).join(' + ')} + ${num(m.intercept)})`;
    case 'pairwise':
      return `pairwise(w=${vec(m.weights)}${m.pairs.map((p) => ` + ${num(p.c)}·x${p.i}·x${p.j}`).join('')})`;
    case 'tree':
      return `tree(${treeText(m.tree)})`;
    case 'symmetrized':
      return `f(x) + f(x with x${m.i}, x${m.j} swapped), f = ${modelText(m.base)}`;
    case 'ignoring':
      return `f(x with ${m.columns.map((c) => `x${c}`).join(', ')} := 0), f = ${modelText(m.base)}`;
    case 'combination':
      return `${num(m.a)}·f + ${num(m.b)}·g, f = ${modelText(m.f)}, g = ${modelText(m.g)}`;
  }
}

function treeText(t: TreeNode): string {
  return 'leaf' in t
    ? num(t.leaf)
    : `x${t.feature} <= ${num(t.threshold)} ? ${treeText(t.left)} : ${treeText(t.right)}`;
}

/**
 * A case as readable text: every v(S) of a game (up to 64 coalitions), or the model,
 * explained row, background (with weights) and players.
 */
export function describeCase(c: AttributionCase): string {
  if (c.type === 'game') {
    const n = c.nPlayers;
    const size = 2 ** n;
    const shown = Math.min(size, 64);
    const parts: string[] = [];
    for (let m = 0; m < shown; m++) {
      const v = caseValue(c, m);
      parts.push(`v(${coalitionText(m, n)})=${v.length === 1 ? num(v[0]) : vec(v)}`);
    }
    return `game of ${n} players${c.nOutputs > 1 ? `, ${c.nOutputs} outputs` : ''} (${c.note}): ${parts.join(', ')}${size > shown ? `, ... (${size - shown} more)` : ''}`;
  }
  const bg = c.background.map((b, k) => `${vec(b)}${c.weights ? `×${num(c.weights[k])}` : ''}`).join(', ');
  const players = c.groups.map((g, p) => `${p}:{${g.map((i) => `x${i}`).join(',')}}`).join(' ');
  return `model case (${c.note}): f = ${modelText(c.model)}; x = ${vec(c.x)}; background = [${bg}]; players ${players}`;
}

/** Formats a value vector for messages. */
export function formatValues(v: ArrayLike<number>): string {
  return vec(v);
}
