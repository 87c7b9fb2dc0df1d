import { describe, expect, it } from 'vitest';
import {
  closest,
  columnPlayers,
  definePlayers,
  type Players,
  parseGroupsJson,
  playersFromIndices,
} from '../../src/data/players.js';
import { DataError, InvalidOptionError } from '../../src/errors.js';

/** Each player's column indices, read back from the CSR arrays. */
const membersOf = (p: Players) => p.names.map((_, i) => Array.from(p.columns.subarray(p.offsets[i], p.offsets[i + 1])));

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('definePlayers', () => {
  it('without groups: one player per column, named by the column', () => {
    const p = definePlayers(['age', 'income', 'score']);
    expect(p.names).toEqual(['age', 'income', 'score']);
    expect(p.nColumns).toBe(3);
    expect(p.offsets).toBeInstanceOf(Int32Array);
    expect(p.columns).toBeInstanceOf(Int32Array);
    expect(Array.from(p.offsets)).toEqual([0, 1, 2, 3]);
    expect(Array.from(p.columns)).toEqual([0, 1, 2]);
  });

  it('columnPlayers is the ungrouped case', () => {
    const p = columnPlayers(['u', 'v']);
    expect(p.names).toEqual(['u', 'v']);
    expect(membersOf(p)).toEqual([[0], [1]]);
  });

  it('a group is one player, placed at its first column, with its columns in column order', () => {
    // columns: 0 age, 1 job=a, 2 income, 3 job=b, 4 job=c, 5 sex=m, 6 sex=f
    const cols = ['age', 'job=a', 'income', 'job=b', 'job=c', 'sex=m', 'sex=f'];
    // the group lists its columns out of order; sex is declared before job
    const p = definePlayers(cols, { sex: ['sex=f', 'sex=m'], job: ['job=c', 'job=a', 'job=b'] });
    expect(p.names).toEqual(['age', 'job', 'income', 'sex']);
    expect(p.nColumns).toBe(7);
    expect(Array.from(p.offsets)).toEqual([0, 1, 4, 5, 7]);
    expect(Array.from(p.columns)).toEqual([0, 1, 3, 4, 2, 5, 6]);
    expect(membersOf(p)).toEqual([[0], [1, 3, 4], [2], [5, 6]]);
  });

  it('every column belongs to exactly one player', () => {
    const cols = Array.from({ length: 9 }, (_, i) => `c${i}`);
    const p = definePlayers(cols, { g1: ['c8', 'c2'], g2: ['c4', 'c5', 'c0'] });
    const seen = Array.from(p.columns).sort((a, b) => a - b);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // ordered by first column: g2 (c0), c1, g1 (c2), c3, c6, c7
    expect(p.names).toEqual(['g2', 'c1', 'g1', 'c3', 'c6', 'c7']);
  });

  it('a group name may equal one of its own columns', () => {
    const p = definePlayers(['a', 'b', 'c'], { a: ['a', 'b'] });
    expect(p.names).toEqual(['a', 'c']);
    expect(membersOf(p)).toEqual([[0, 1], [2]]);
  });

  it('null or undefined groups mean no groups', () => {
    expect(definePlayers(['x', 'y'], null).names).toEqual(['x', 'y']);
    expect(definePlayers(['x', 'y'], undefined).names).toEqual(['x', 'y']);
    expect(definePlayers(['x', 'y'], {}).names).toEqual(['x', 'y']);
  });
});

describe('definePlayers errors', () => {
  const cols = ['age', 'income', 'job=a', 'job=b'];

  it('an unknown column with a close typo suggests the right name', () => {
    const e = thrown(() => definePlayers(cols, { job: ['job=a', 'incme'] }, 'groups.json'));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toContain('groups.json');
    expect(e.message).toContain('"job"');
    expect(e.message).toContain('"incme"');
    expect(e.message).toMatch(/not a column of the data/);
    expect(e.message).toContain('did you mean "income"?');
  });

  it('a typo differing only in case is suggested', () => {
    const e = thrown(() => definePlayers(cols, { j: ['JOB=A'] }));
    expect(e.message).toContain('did you mean "job=a"?');
  });

  it('an unrelated unknown column gets no suggestion', () => {
    const e = thrown(() => definePlayers(cols, { g: ['zzzzzzzzzzzz'] }));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toContain('"zzzzzzzzzzzz"');
    expect(e.message).not.toMatch(/did you mean/);
  });

  it('a column in two groups names the column and both groups', () => {
    const e = thrown(() => definePlayers(cols, { g1: ['age', 'job=a'], g2: ['job=b', 'job=a'] }));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toContain('"job=a"');
    expect(e.message).toContain('"g1"');
    expect(e.message).toContain('"g2"');
    expect(e.message).toMatch(/one group only/);
  });

  it('a column listed twice in the same group is rejected', () => {
    const e = thrown(() => definePlayers(cols, { g: ['age', 'age'] }));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toContain('"age"');
  });

  it('an empty group', () => {
    const e = thrown(() => definePlayers(cols, { empty: [] }));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toContain('"empty"');
    expect(e.message).toMatch(/non-empty array/);
  });

  it('a group that is not an array', () => {
    const e = thrown(() => definePlayers(cols, { g: 'age' as unknown as string[] }));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toMatch(/non-empty array/);
  });

  it('a group name equal to an ungrouped column name', () => {
    const e = thrown(() => definePlayers(cols, { age: ['job=a', 'job=b'] }));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toContain('"age"');
    expect(e.message).toMatch(/ungrouped column/);
    expect(e.message).toMatch(/rename the group/);
  });

  it('groups that are not an object', () => {
    const e = thrown(() => definePlayers(cols, [['age']] as unknown as Record<string, string[]>));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toMatch(/must be an object/);
  });
});

describe('closest', () => {
  it('returns the nearest name within the typo threshold, else undefined', () => {
    expect(closest('incme', ['age', 'income', 'outcome'])).toBe('income');
    expect(closest('agee', ['age', 'income'])).toBe('age');
    expect(closest('qqqqqqqq', ['age', 'income'])).toBeUndefined();
  });
});

describe('parseGroupsJson', () => {
  it('returns the parsed object', () => {
    expect(parseGroupsJson('{"job": ["job=a", "job=b"]}')).toEqual({ job: ['job=a', 'job=b'] });
  });

  it('bad JSON is a DataError naming the source', () => {
    const e = thrown(() => parseGroupsJson('{"job": [', 'my-groups.json'));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toContain('my-groups.json');
    expect(e.message).toMatch(/not valid JSON/);
  });

  it.each(['[["a"]]', '"job"', '42', 'null'])('non-object JSON %s is a DataError', (text) => {
    const e = thrown(() => parseGroupsJson(text, 'g.json'));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toContain('g.json');
    expect(e.message).toMatch(/JSON object/);
  });
});

describe('playersFromIndices', () => {
  it('builds CSR from index lists, with default names p0, p1, ...', () => {
    const p = playersFromIndices(5, [[4, 0], [2], [1, 3]]);
    expect(p.names).toEqual(['p0', 'p1', 'p2']);
    expect(p.nColumns).toBe(5);
    expect(Array.from(p.offsets)).toEqual([0, 2, 3, 5]);
    expect(Array.from(p.columns)).toEqual([4, 0, 2, 1, 3]);
  });

  it('rejects lists that leave a column in no player (its masked value would be undefined)', () => {
    expect(() => playersFromIndices(5, [[4, 0], [2]])).toThrow(/column 1 is in no group/);
  });

  it('uses the given names', () => {
    expect(playersFromIndices(3, [[0], [1, 2]], ['a', 'bc']).names).toEqual(['a', 'bc']);
  });

  it.each([
    ['an empty group', 3, [[0], []], /non-empty/],
    ['an index out of range', 3, [[0, 3]], /0\.\.2/],
    ['a negative index', 3, [[-1]], /0\.\.2/],
    ['a fractional index', 3, [[0.5]], /0\.\.2/],
    ['overlapping groups', 3, [[0, 1], [1]], /disjoint/],
  ] as const)('rejects %s with InvalidOptionError', (_, n, groups, pattern) => {
    const e = thrown(() => playersFromIndices(n, groups as unknown as number[][]));
    expect(e).toBeInstanceOf(InvalidOptionError);
    expect(e.message).toMatch(pattern);
  });

  it('rejects a names list of the wrong length', () => {
    const e = thrown(() => playersFromIndices(3, [[0], [1]], ['only-one']));
    expect(e).toBeInstanceOf(InvalidOptionError);
    expect((e as InvalidOptionError).option).toBe('names');
  });
});
