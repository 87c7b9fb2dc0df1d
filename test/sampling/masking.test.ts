import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { playersFromIndices } from '../../src/data/players.js';
import { fillMaskedRows, maskingLayout } from '../../src/sampling/masking.js';

/**
 * The definition of interventional masking, column by column: row r takes x's value on the
 * columns of the players in its key and background row bg[r]'s value everywhere else.
 */
function naiveRows(
  owner: Int32Array,
  d: number,
  words: number,
  x: ArrayLike<number>,
  background: ArrayLike<number>,
  bg: Int32Array,
  keys: Uint32Array,
  start: number,
  end: number,
): number[] {
  const out: number[] = [];
  for (let r = start; r < end; r++)
    for (let c = 0; c < d; c++) {
      const j = owner[c];
      const inKey = ((keys[r * words + (j >> 5)] >>> (j & 31)) & 1) === 1;
      out.push(inKey ? x[c] : background[bg[r] * d + c]);
    }
  return out;
}

// values drawn so that x and a background row often agree (one-hot style), with −0 and NaN
const value = fc.constantFrom(0, 1, -0, 0.5, -2.25, Number.NaN, 3);

const caseArb = fc
  .record({
    nPlayers: fc.integer({ min: 1, max: 70 }),
    extra: fc.integer({ min: 0, max: 6 }),
    contiguous: fc.boolean(),
    nBackground: fc.integer({ min: 1, max: 4 }),
    nRows: fc.integer({ min: 1, max: 40 }),
    float32: fc.boolean(),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  })
  .chain((c) => {
    const d = c.nPlayers + c.extra;
    return fc.record({
      c: fc.constant(c),
      // column → player (every column belongs to one)
      owner: fc.array(fc.integer({ min: 0, max: c.nPlayers - 1 }), { minLength: d, maxLength: d }),
      x: fc.array(value, { minLength: d, maxLength: d }),
      background: fc.array(value, { minLength: d * c.nBackground, maxLength: d * c.nBackground }),
      bg: fc.array(fc.integer({ min: 0, max: c.nBackground - 1 }), { minLength: c.nRows, maxLength: c.nRows }),
      keys: fc.array(fc.integer({ min: 0, max: 0xffffffff }), {
        minLength: c.nRows * Math.ceil(c.nPlayers / 32),
        maxLength: c.nRows * Math.ceil(c.nPlayers / 32),
      }),
      cut: fc.tuple(fc.nat(), fc.nat()),
    });
  });

describe('fillMaskedRows', () => {
  it('gives every row x on its coalition and the background row elsewhere (bits of −0 and NaN kept)', () => {
    fc.assert(
      fc.property(caseArb, ({ c, owner, x, background, bg, keys, cut }) => {
        const n = c.nPlayers;
        const d = n + c.extra;
        let own = Int32Array.from(owner);
        for (let j = 0; j < n; j++) own[(j + cut[0]) % d] = j; // every player owns a column
        if (c.contiguous) {
          // player j owns one contiguous range (the fast layout); extra columns belong to the last player
          const width = Math.floor(d / n);
          own = Int32Array.from({ length: d }, (_, col) => Math.min(n - 1, Math.floor(col / width)));
        }
        const groups = Array.from({ length: n }, (_, j) => [...own.keys()].filter((col) => own[col] === j));
        const players = playersFromIndices(
          d,
          groups,
          groups.map((_, j) => `p${j}`),
        );
        const layout = maskingLayout(players);
        if (c.contiguous) expect(layout.starts).toBeDefined();
        const words = layout.words;
        // keys only name players that exist
        const keyBits = Uint32Array.from(keys, (k, i) => {
          const w = i % words;
          const top = n - 32 * w;
          return top >= 32 ? k >>> 0 : (k & ((1 << top) - 1)) >>> 0;
        });
        const xs = c.float32 ? Float32Array.from(x) : Float64Array.from(x);
        const bs = c.float32 ? Float32Array.from(background) : Float64Array.from(background);
        const bgi = Int32Array.from(bg);
        const start = Math.min(cut[0] % (c.nRows + 1), c.nRows - 1);
        const end = start + 1 + (cut[1] % (c.nRows - start));
        const out = c.float32 ? new Float32Array((end - start) * d) : new Float64Array((end - start) * d);
        out.fill(7); // garbage the function must overwrite
        fillMaskedRows(out, layout, xs, bs, { nRows: c.nRows, bg: bgi, keys: keyBits }, start, end);
        const want = naiveRows(own, d, words, xs, bs, bgi, keyBits, start, end);
        for (let i = 0; i < want.length; i++) if (!Object.is(out[i], want[i])) return false;
        return true;
      }),
      { numRuns: 400, seed: 20261203 },
    );
  });

  it('keeps x and background values that are equal but for their sign (0 and −0)', () => {
    const players = playersFromIndices(3, [[0, 1], [2]], ['a', 'b']);
    const layout = maskingLayout(players);
    const x = Float64Array.of(-0, 1, 0);
    const background = Float64Array.of(0, 1, -0);
    const out = new Float64Array(3 * 3);
    fillMaskedRows(
      out,
      layout,
      x,
      background,
      { nRows: 3, bg: Int32Array.of(0, 0, 0), keys: Uint32Array.of(0, 1, 2) },
      0,
      3,
    );
    expect(Array.from(out, (v) => Object.is(v, -0))).toEqual([
      false,
      false,
      true,
      true,
      false,
      true,
      false,
      false,
      false,
    ]);
  });
});
