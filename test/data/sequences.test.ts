import { describe, expect, it } from 'vitest';
import { columnOf, detectLayout, oneHot, PROTEIN, parseSequences, resolveAlphabet } from '../../src/data/sequences.js';
import { DataError, InvalidOptionError } from '../../src/errors.js';

describe('parseSequences', () => {
  it('reads multi-line FASTA records, upper-cases, skips comments and blank lines', () => {
    const set = parseSequences('; comment\n>s1 first\nacgt\nAC\n\n>s2\nGGGG\nTT\n', { source: 'x.fa' });
    expect(set.ids).toEqual(['s1', 's2']);
    expect(set.sequences).toEqual(['ACGTAC', 'GGGGTT']);
    expect(set.lines).toEqual([3, 7]);
  });
  it('reads one sequence per line with an optional label column and a header', () => {
    const set = parseSequences('sequence,label\nACGT,1\nTTTT,0\n');
    expect(set.sequences).toEqual(['ACGT', 'TTTT']);
    expect(set.labels).toEqual(['1', '0']);
    expect(parseSequences('ACGT\tEI\nTTTT\tN\n').labels).toEqual(['EI', 'N']);
    expect(parseSequences('ACGT\nTTTT\n').labels).toBeUndefined();
  });
  it('refuses empty input, text before a header, empty records and mixed label columns', () => {
    expect(() => parseSequences('\n\n', { source: 'e.fa' })).toThrow(/e\.fa: is empty/);
    expect(() => parseSequences('>a\n>b\nAC\n')).toThrow(DataError);
    expect(() => parseSequences('ACGT,1\nTTTT\n')).toThrow(/line 2.*label/);
    expect(() => parseSequences('AC\n>x\n', { format: 'fasta' })).toThrow(/before the first FASTA header/);
  });
});

describe('oneHot', () => {
  it('encodes NLC and NCL layouts, with N spread uniformly and R over A/G', () => {
    const nlc = oneHot(['ACGN', 'RTTA'], { layout: 'NLC' });
    expect(Array.from(nlc.data.subarray(0, 16))).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0.25, 0.25, 0.25, 0.25]);
    expect(Array.from(nlc.data.subarray(16, 20))).toEqual([0.5, 0, 0.5, 0]);
    const ncl = oneHot(['ACGN', 'RTTA'], { layout: 'NCL' });
    for (let p = 0; p < 4; p++)
      for (let c = 0; c < 4; c++) expect(ncl.data[16 + c * 4 + p]).toBe(nlc.data[16 + p * 4 + c]);
    expect(nlc.columns.slice(0, 5)).toEqual(['A@1', 'C@1', 'G@1', 'T@1', 'A@2']);
    expect(ncl.columns.slice(0, 2)).toEqual(['A@1', 'A@2']);
    expect(columnOf('NCL', 4, 4, 2, 3)).toBe(14);
  });
  it('names the sequence, line and position of a bad letter', () => {
    const set = parseSequences('>ok\nACGT\n>bad\nACXT\n', { source: 'b.fa' });
    expect(() => oneHot(set)).toThrow(
      'b.fa, line 4: sequence "bad", position 3: "X" is not a letter of the ACGT alphabet',
    );
    expect(() => oneHot(['ACNT'], { ambiguous: 'error' })).toThrow(/position 3: "N" is not an unambiguous letter/);
  });
  it('refuses sequences of unequal length', () => {
    expect(() => oneHot(['ACGT', 'ACG'])).toThrow(/"seq2" has length 3 but the first sequence has 4/);
  });
  it('supports protein and custom alphabets', () => {
    const x = oneHot(['ACDX'], { alphabet: 'protein' });
    expect(x.data.length).toBe(80);
    expect(x.data[60]).toBeCloseTo(1 / 20, 12);
    expect(resolveAlphabet('protein')).toBe(PROTEIN);
    expect(oneHot(['ab'], { alphabet: 'AB' }).data).toEqual(Float64Array.from([1, 0, 0, 1]));
    expect(() => resolveAlphabet('AAB')).toThrow(InvalidOptionError);
  });
});

describe('detectLayout', () => {
  it('reads [L, A] as NLC and [A, L] as NCL; ambiguous or foreign shapes are undefined', () => {
    expect(detectLayout([60, 4], 4)).toBe('NLC');
    expect(detectLayout([4, 60], 4)).toBe('NCL');
    expect(detectLayout([4, 4], 4)).toBeUndefined();
    expect(detectLayout([240], 4)).toBeUndefined();
  });
});
