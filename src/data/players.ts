import { DataError, InvalidOptionError } from '../errors.js';
import { parseJsonText, readTextFile } from './csv.js';

/**
 * The players of an attribution game: each player is one column or a named group of
 * columns (for example the one-hot columns of one categorical attribute). Stored as CSR:
 * player `p` owns `columns[offsets[p] .. offsets[p+1]-1]`.
 */
export interface Players {
  readonly names: readonly string[];
  readonly nColumns: number;
  readonly offsets: Int32Array;
  readonly columns: Int32Array;
}

/** Groups as `{ groupName: [columnName, ...] }`, the format of `--groups GROUPS.json`. */
export type GroupSpec = Readonly<Record<string, readonly string[]>>;

/**
 * Builds the players from column names and optional groups. Columns in no group are
 * players of their own, named by the column. Players are ordered by their first column.
 *
 * @throws {DataError} when a group names an unknown column (with a close match when there
 *   is one), a column belongs to two groups, a group is empty, or a group name equals the
 *   name of a column that is a player of its own.
 * @example
 * const players = definePlayers(['age', 'job=a', 'job=b'], { job: ['job=a', 'job=b'] });
 * players.names; // ['age', 'job']
 */
export function definePlayers(
  columnNames: readonly string[],
  groups: GroupSpec | null | undefined = undefined,
  source = 'groups',
): Players {
  const nColumns = columnNames.length;
  const index = new Map<string, number>();
  columnNames.forEach((c, i) => {
    index.set(c, i);
  });
  const owner = new Int32Array(nColumns).fill(-1);
  const groupNames = groups ? Object.keys(groups) : [];
  if (groups !== null && groups !== undefined && (typeof groups !== 'object' || Array.isArray(groups)))
    throw new DataError('must be an object {"group name": ["column", ...]}', { file: source });
  groupNames.forEach((g, gi) => {
    const cols = (groups as GroupSpec)[g];
    if (!Array.isArray(cols) || cols.length === 0)
      throw new DataError(
        `group ${JSON.stringify(g)} must be a non-empty array of column names; got ${JSON.stringify(cols)}`,
        { file: source },
      );
    for (const c of cols) {
      const i = typeof c === 'string' ? index.get(c) : undefined;
      if (i === undefined) {
        const near = closest(String(c), columnNames);
        throw new DataError(
          `group ${JSON.stringify(g)} names column ${JSON.stringify(c)}, which is not a column of the data${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}`,
          { file: source },
        );
      }
      if (owner[i] >= 0)
        throw new DataError(
          `column ${JSON.stringify(c)} is in group ${JSON.stringify(groupNames[owner[i]])} and in group ${JSON.stringify(g)}: a column can belong to one group only`,
          { file: source },
        );
      owner[i] = gi;
    }
  });
  for (const g of groupNames) {
    const i = index.get(g);
    if (i !== undefined && owner[i] < 0)
      throw new DataError(`group name ${JSON.stringify(g)} is also the name of an ungrouped column: rename the group`, {
        file: source,
      });
  }
  const names: string[] = [];
  const members: number[][] = [];
  const groupSlot = new Int32Array(groupNames.length).fill(-1);
  for (let c = 0; c < nColumns; c++) {
    const g = owner[c];
    if (g < 0) {
      names.push(columnNames[c]);
      members.push([c]);
    } else if (groupSlot[g] < 0) {
      groupSlot[g] = names.length;
      names.push(groupNames[g]);
      members.push([c]);
    } else {
      members[groupSlot[g]].push(c);
    }
  }
  return fromMembers(names, members, nColumns);
}

/**
 * Players from explicit column-index lists: every column in exactly one list (a column
 * outside every player would have no defined masked value).
 * @throws {InvalidOptionError} for an empty list, an index out of range, a column in two
 *   lists, or a column in none.
 */
export function playersFromIndices(
  nColumns: number,
  groups: readonly (readonly number[])[],
  names?: readonly string[],
): Players {
  const used = new Uint8Array(nColumns);
  groups.forEach((g, p) => {
    if (g.length === 0) throw new InvalidOptionError(`groups[${p}]`, 'a non-empty list of column indices', g);
    for (const c of g) {
      if (!Number.isInteger(c) || c < 0 || c >= nColumns)
        throw new InvalidOptionError(`groups[${p}]`, `column indices in 0..${nColumns - 1}`, c);
      if (used[c]) throw new InvalidOptionError(`groups[${p}]`, 'disjoint from the other groups', c);
      used[c] = 1;
    }
  });
  if (names && names.length !== groups.length)
    throw new InvalidOptionError('names', `one name per group (${groups.length})`, names);
  const missing = used.indexOf(0);
  if (missing >= 0)
    throw new InvalidOptionError(
      'groups',
      'lists that cover every column',
      groups,
      `column ${missing} is in no group; give every column to one player (a group of its own if need be)`,
    );
  return fromMembers(
    names ?? groups.map((_, p) => `p${p}`),
    groups.map((g) => [...g]),
    nColumns,
  );
}

/** Every column a player of its own. */
export function columnPlayers(columnNames: readonly string[]): Players {
  return definePlayers(columnNames);
}

function fromMembers(names: readonly string[], members: readonly number[][], nColumns: number): Players {
  const offsets = new Int32Array(members.length + 1);
  members.forEach((m, p) => {
    offsets[p + 1] = offsets[p] + m.length;
  });
  const columns = new Int32Array(offsets[members.length]);
  members.forEach((m, p) => {
    columns.set(m, offsets[p]);
  });
  return { names: [...names], nColumns, offsets, columns };
}

/** Parses and validates the JSON text of a groups file. */
export function parseGroupsJson(text: string, source = 'groups'): GroupSpec {
  const parsed = parseJsonText(text, source);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new DataError('must be a JSON object {"group name": ["column", ...]}', { file: source });
  return parsed as GroupSpec;
}

/** Reads and validates a groups JSON file (a {@link DataError} naming the file when it cannot be read). */
export async function loadGroupsJson(path: string): Promise<GroupSpec> {
  return parseGroupsJson(await readTextFile(path), path);
}

/** Longest name for which {@link closest} looks for a "did you mean": longer input gets no suggestion. */
export const SUGGEST_MAX_LENGTH = 64;

/** Most candidates {@link closest} compares (a bound on its time whatever the caller sends). */
export const SUGGEST_MAX_CANDIDATES = 10_000;

/**
 * The candidate with the smallest edit distance, when it is close enough to be a likely typo.
 * Bounded work: names longer than {@link SUGGEST_MAX_LENGTH} get no suggestion, candidates whose
 * length alone rules them out are skipped, and at most {@link SUGGEST_MAX_CANDIDATES} are compared
 * (at most 64 × 64 cells each: well under a millisecond per hundred candidates).
 */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  if (name.length > SUGGEST_MAX_LENGTH) return undefined;
  const limit = Math.max(2, Math.floor(name.length / 3));
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  const n = Math.min(candidates.length, SUGGEST_MAX_CANDIDATES);
  for (let k = 0; k < n; k++) {
    const c = candidates[k];
    if (Math.abs(c.length - name.length) > Math.min(limit, bestD - 1)) continue;
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= limit ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
