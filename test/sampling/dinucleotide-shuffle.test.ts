import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { dinucleotideCounts, dinucleotideShuffle } from '../../src/sampling/dinucleotide-shuffle.js';
import { Rng } from '../../src/sampling/rng.js';

const sorted = (m: Map<string, number>) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b));

describe('dinucleotideShuffle', () => {
  test.prop([fc.stringMatching(/^[ACGTN]{0,80}$/), fc.integer()], { numRuns: 200, seed: 5 })(
    'preserves every dinucleotide count exactly, the first and the last letter',
    (s, seed) => {
      const t = dinucleotideShuffle(s, Rng.fromSeed(seed));
      expect(t.length).toBe(s.length);
      expect(sorted(dinucleotideCounts(t))).toEqual(sorted(dinucleotideCounts(s)));
      if (s.length > 0) {
        expect(t[0]).toBe(s[0]);
        expect(t[t.length - 1]).toBe(s[s.length - 1]);
      }
    },
  );

  it('is seeded: same seed, same shuffle; other seeds, other shuffles', () => {
    const s = 'ACGTTGCAAGCTTAGGCATCGATCGGATCCTAGCTAGCATCG';
    expect(dinucleotideShuffle(s, Rng.fromSeed(3))).toBe(dinucleotideShuffle(s, Rng.fromSeed(3)));
    const seen = new Set(Array.from({ length: 20 }, (_, i) => dinucleotideShuffle(s, Rng.fromSeed(i))));
    expect(seen.size).toBeGreaterThan(15);
  });

  it('draws every sequence with the same dinucleotide counts, uniformly (chi-square on a small case)', () => {
    // all strings over ACG of length 7 with the counts, first and last letter of s, by enumeration
    const s = 'AACAGCA';
    const key = JSON.stringify(sorted(dinucleotideCounts(s)));
    const all: string[] = [];
    const walk = (prefix: string) => {
      if (prefix.length === s.length) {
        if (prefix[0] === s[0] && prefix[6] === s[6] && JSON.stringify(sorted(dinucleotideCounts(prefix))) === key)
          all.push(prefix);
        return;
      }
      for (const c of 'ACG') walk(prefix + c);
    };
    walk('');
    expect(all.length).toBeGreaterThan(2);
    const rng = Rng.fromSeed(11);
    const counts = new Map<string, number>();
    const draws = 6000;
    for (let i = 0; i < draws; i++) {
      const t = dinucleotideShuffle(s, rng);
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([...all].sort());
    const expected = draws / all.length;
    let chi2 = 0;
    for (const t of all) chi2 += ((counts.get(t) ?? 0) - expected) ** 2 / expected;
    // df = all.length − 1; far above the 99.9% quantile would mean a biased walk
    expect(chi2).toBeLessThan(3 * all.length + 20);
  });
});
