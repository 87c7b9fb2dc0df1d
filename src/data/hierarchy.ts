import { InvalidOptionError } from '../errors.js';

/**
 * A hierarchy (a rooted tree) over players `0..nPlayers-1`: a coalition structure nested in
 * levels, the input of Owen / Winter values (shap's PartitionExplainer). Nodes
 * `0..nPlayers-1` are the leaves (the players); internal node `nPlayers + k` has the
 * children `children[k]` (node ids); the root is the last internal node.
 */
export interface Hierarchy {
  readonly nPlayers: number;
  readonly children: readonly (readonly number[])[];
}

/** A nested list: a player index (leaf) or a list of subtrees. */
export type NestedPlayers = number | readonly NestedPlayers[];

/**
 * The balanced binary hierarchy of contiguous segments: the players (for example sequence
 * positions, in order) are halved recursively, so every node is a contiguous segment and
 * the tree has depth ⌈log2 n⌉.
 * @example
 * balancedHierarchy(4); // ((0 1) (2 3))
 */
export function balancedHierarchy(nPlayers: number): Hierarchy {
  if (!Number.isInteger(nPlayers) || nPlayers < 1)
    throw new InvalidOptionError('nPlayers', 'a positive integer', nPlayers);
  const children: number[][] = [];
  const build = (a: number, b: number): number => {
    if (b - a === 1) return a;
    const mid = a + Math.ceil((b - a) / 2);
    const l = build(a, mid);
    const r = build(mid, b);
    children.push([l, r]);
    return nPlayers + children.length - 1;
  };
  if (nPlayers === 1) return { nPlayers, children: [[0]] };
  build(0, nPlayers);
  return { nPlayers, children };
}

/**
 * A hierarchy from a nested list of player indices, e.g. `[[0, 1], [2, [3, 4]]]`. Every
 * player must appear exactly once; lists must be non-empty.
 * @throws {InvalidOptionError} otherwise.
 */
export function hierarchyFromNested(nPlayers: number, nested: NestedPlayers): Hierarchy {
  const seen = new Uint8Array(nPlayers);
  const children: number[][] = [];
  const build = (t: NestedPlayers): number => {
    if (typeof t === 'number') {
      if (!Number.isInteger(t) || t < 0 || t >= nPlayers)
        throw new InvalidOptionError('hierarchy', `player indices in 0..${nPlayers - 1}`, t);
      if (seen[t]) throw new InvalidOptionError('hierarchy', 'each player once', t);
      seen[t] = 1;
      return t;
    }
    if (!Array.isArray(t) || t.length === 0) throw new InvalidOptionError('hierarchy', 'non-empty lists', t);
    const kids = t.map(build);
    if (kids.length === 1 && kids[0] >= nPlayers) return kids[0];
    children.push(kids);
    return nPlayers + children.length - 1;
  };
  const root = build(nested);
  if (root < nPlayers) children.push([root]);
  const missing = seen.indexOf(0);
  if (missing >= 0)
    throw new InvalidOptionError('hierarchy', 'a tree holding every player', nested, `player ${missing} is missing`);
  return { nPlayers, children };
}

/** Every player's own leaf under one root: Owen values on it are the Shapley values. */
export function flatHierarchy(nPlayers: number): Hierarchy {
  return { nPlayers, children: [Array.from({ length: nPlayers }, (_, i) => i)] };
}

/** The leaves (players) under each node, node id → sorted player list. */
export function leavesOf(h: Hierarchy): Int32Array[] {
  const n = h.nPlayers;
  const out: Int32Array[] = new Array(n + h.children.length);
  for (let i = 0; i < n; i++) out[i] = Int32Array.of(i);
  h.children.forEach((kids, k) => {
    const parts: number[] = [];
    for (const c of kids) {
      const l = out[c];
      if (!l) throw new InvalidOptionError('hierarchy', 'children listed before their parents', c);
      parts.push(...l);
    }
    out[n + k] = Int32Array.from(parts).sort();
  });
  return out;
}
