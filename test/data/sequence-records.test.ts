import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  collectSequences,
  fitLengths,
  loadSequences,
  PROTEIN,
  parseSequences,
  readSequenceRecords,
} from '../../src/data/sequences.js';
import { DataError, InvalidOptionError } from '../../src/errors.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

// ../shared beside the checkout (or beside the worktrees' parent)
const SPLICE =
  ['../../../shared/datasets/splice.csv', '../../../../shared/datasets/splice.csv']
    .map((p) => fileURLToPath(new URL(p, import.meta.url)))
    .find((p) => existsSync(p)) ?? 'splice.csv (absent)';
if (!existsSync(SPLICE)) console.warn('skipping the splice.csv reader test: ../shared/datasets/splice.csv not found');

let tmp: TempDir;
beforeAll(async () => {
  tmp = await makeTempDir();
});
afterAll(async () => {
  await tmp?.remove();
});

describe('sequence tables (CSV/TSV)', () => {
  it.skipIf(!existsSync(SPLICE))('reads the real UCI splice.csv: every row, its name, class and sequence', async () => {
    // independent reading: split each line on commas by hand
    const lines = readFileSync(SPLICE, 'utf8')
      .split(/\r?\n/)
      .slice(1)
      .filter((l) => l.trim() !== '');
    const want = lines.map((l) => l.split(',').map((c) => c.trim()));
    const info: string[] = [];
    const set = await loadSequences(SPLICE, { onInfo: (m) => info.push(m) });
    expect(set.sequences.length).toBe(want.length);
    expect(set.ids).toEqual(want.map((c) => c[1]));
    expect(set.labels).toEqual(want.map((c) => c[0]));
    expect(set.sequences).toEqual(want.map((c) => c[2].toUpperCase()));
    expect(new Set(set.labels)).toEqual(new Set(['EI', 'IE', 'N']));
    expect(new Set(set.sequences.map((s) => s.length))).toEqual(new Set([60]));
    expect(set.lines[0]).toBe(2);
    expect(info).toHaveLength(1);
    expect(info[0]).toMatch(/read as CSV.*sequence column "Sequence".*id column "Donor".*label column "Class"/);
    expect(info[0]).toContain('--sequence-column');
  });
  it('streams the same records as the sync parser, for every format', async () => {
    const cases: [string, string][] = [
      ['a.fa', '>s1 x\nACGT\nAC\n>s2\nGGGGTT\n'],
      ['b.txt', 'sequence,label\nACGTAC,1\nTTTTGG,0\n'],
      ['c.csv', 'id,label,seq\nr1,pos,acgtac\n"r,2",neg,TTTTGG\n'],
      ['d.tsv', 'name\tsequence\tclass\nr1\tACGTAC\tx\nr2\tTTTTGG\ty\n'],
    ];
    for (const [name, text] of cases) {
      const path = await tmp.write(name, text);
      const streamed = await collectSequences(readSequenceRecords(path), path);
      expect(streamed).toEqual(parseSequences(text, { source: path }));
    }
    const csv = parseSequences(cases[2][1], { source: 'c.csv' });
    expect(csv.ids).toEqual(['r1', 'r,2']);
    expect(csv.sequences).toEqual(['ACGTAC', 'TTTTGG']);
    expect(csv.labels).toEqual(['pos', 'neg']);
    const tsv = parseSequences(cases[3][1], { source: 'd.tsv' });
    expect(tsv).toMatchObject({ ids: ['r1', 'r2'], labels: ['x', 'y'] });
  });
  it('yields records before the file ends (an async iterator, one record at a time)', async () => {
    const n = 2000;
    const path = await tmp.write('big.fa', Array.from({ length: n }, (_, i) => `>s${i}\nACGTACGTAC\n`).join(''));
    const it = readSequenceRecords(path);
    const first = await it.next();
    expect(first.value).toMatchObject({ id: 's0', sequence: 'ACGTACGTAC', line: 2 });
    let count = 1;
    for await (const _ of it) count++;
    expect(count).toBe(n);
  });
  it('takes columns by name or number, detects the longest letter column, and says what it found', () => {
    const text = 'a,b,c\n1,ACGTACGTAC,x\n2,TTTTGGGGCC,y\n';
    const info: string[] = [];
    const set = parseSequences(text, { onInfo: (m) => info.push(m) });
    expect(set.sequences).toEqual(['ACGTACGTAC', 'TTTTGGGGCC']);
    expect(set.ids).toEqual(['seq1', 'seq2']);
    expect(info[0]).toMatch(/sequence column "b" \(the longest run of letters\), id column none, label column none/);
    const named = parseSequences(text, { sequenceColumn: 'B', idColumn: '1', labelColumn: 'c' });
    expect(named).toMatchObject({ ids: ['1', '2'], labels: ['x', 'y'] });
    expect(() => parseSequences(text, { sequenceColumn: 'dna' })).toThrow(/no column "dna".*header is "a", "b", "c"/);
    expect(() => parseSequences('a,b,c\n1,2,3\n')).toThrow(/found no sequence column.*--sequence-column/);
    expect(() => parseSequences('a,seq,c\n1,ACGT\n')).toThrow(/line 2: has 2 cells but the header has 3/);
    expect(() => parseSequences('x,seq\n', { source: 't.csv' })).toThrow(/header but no rows/);
    expect(() => parseSequences('>a\nACGT\n', { sequenceColumn: 'seq' })).toThrow(InvalidOptionError);
    expect(() => parseSequences('ACGT\n', { format: 'lines', idColumn: 'x' })).toThrow(/unset with format 'lines'/);
  });
  it('a line of three columns in a one-per-line file is refused with a hint to read it as a table', () => {
    let err: unknown;
    try {
      parseSequences('ACGT,1\nACGT,1,x\n', { source: 's.txt' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toMatch(/s\.txt, line 2: has 3 columns.*--sequence-column NAME/);
  });
});

describe('fitLengths (padding / cropping policy)', () => {
  const set = { ids: ['short', 'long', 'ok'], sequences: ['ACG', 'ACGTACG', 'ACGTA'], lines: [1, 2, 3] };
  it('pads with N and crops, centred by default, and records each window origin', () => {
    const fit = fitLengths(set, 5, { policy: 'fit' });
    expect(fit.set.sequences).toEqual(['NACGN', 'CGTAC', 'ACGTA']);
    expect(Array.from(fit.origins ?? [])).toEqual([-1, 1, 0]);
    expect(fit.changed).toBe(2);
    expect(fitLengths(set, 5, { policy: 'fit', align: 'start' }).set.sequences).toEqual(['ACGNN', 'ACGTA', 'ACGTA']);
    const end = fitLengths(set, 5, { policy: 'fit', align: 'end' });
    expect(end.set.sequences).toEqual(['NNACG', 'GTACG', 'ACGTA']);
    expect(Array.from(end.origins ?? [])).toEqual([-2, 2, 0]);
    // origins map back: original[p + origin] = fitted[p] wherever both exist
    fit.set.sequences.forEach((s, r) => {
      const o = (fit.origins as Int32Array)[r];
      for (let p = 0; p < 5; p++)
        if (p + o >= 0 && p + o < set.sequences[r].length) expect(s[p]).toBe(set.sequences[r][p + o]);
    });
    expect(fitLengths({ ...set, sequences: ['MK'] }, 4, { policy: 'pad', alphabet: PROTEIN }).set.sequences).toEqual([
      'XMKX',
    ]);
    expect(fitLengths({ ids: ['a'], sequences: ['ACGTA'], lines: [1] }, 5).origins).toBeUndefined();
  });
  it('refuses what the policy does not allow, naming the policy that would', () => {
    expect(() => fitLengths(set, 5)).toThrow(/"short" has length 3 but the model takes 5: choose a length policy/);
    expect(() => fitLengths(set, 5, { policy: 'pad' })).toThrow(/"long".*'pad' does not crop; use 'fit'/);
    expect(() => fitLengths(set, 5, { policy: 'crop' })).toThrow(/"short".*'crop' does not pad/);
    expect(() => fitLengths(set, 5, { policy: 'stretch' as never })).toThrow(InvalidOptionError);
    expect(() => fitLengths(set, 5, { policy: 'fit', alphabet: 'XYZ' })).toThrow(/no letter for "any"/);
  });
});
