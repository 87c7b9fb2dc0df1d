import { DataError, InvalidOptionError } from '../errors.js';
import type { SequenceSet } from './sequence-records.js';

/**
 * An alphabet of one-hot channels. `letters[c]` is channel c. `codes` maps every other
 * accepted letter (upper case) to the channels it stands for: an ambiguous letter such as
 * DNA `N` (any base) or `R` (A or G) is encoded as the uniform distribution over its
 * channels (N → 0.25 on each of A, C, G, T), the usual convention for one-hot models.
 */
export interface Alphabet {
  readonly name: string;
  readonly letters: string;
  readonly codes: Readonly<Record<string, string>>;
}

/** DNA (A, C, G, T) with the IUPAC ambiguity codes; `U` is read as `T`. */
export const DNA: Alphabet = {
  name: 'ACGT',
  letters: 'ACGT',
  codes: {
    U: 'T',
    N: 'ACGT',
    R: 'AG',
    Y: 'CT',
    S: 'CG',
    W: 'AT',
    K: 'GT',
    M: 'AC',
    B: 'CGT',
    D: 'AGT',
    H: 'ACT',
    V: 'ACG',
  },
};

/** RNA (A, C, G, U) with the IUPAC ambiguity codes; `T` is read as `U`. */
export const RNA: Alphabet = {
  name: 'ACGU',
  letters: 'ACGU',
  codes: Object.fromEntries(Object.entries(DNA.codes).map(([k, v]) => [k === 'U' ? 'T' : k, v.replace('T', 'U')])),
};

/** The 20 standard amino acids; `X` = any, `B` = D/N, `Z` = E/Q, `J` = I/L; `U` (Sec) → C, `O` (Pyl) → K. */
export const PROTEIN: Alphabet = {
  name: 'protein',
  letters: 'ACDEFGHIKLMNPQRSTVWY',
  codes: { X: 'ACDEFGHIKLMNPQRSTVWY', B: 'DN', Z: 'EQ', J: 'IL', U: 'C', O: 'K' },
};

/**
 * Resolves an alphabet: `'ACGT'`/`'DNA'`, `'ACGU'`/`'RNA'`, `'protein'`, or any string of
 * distinct letters (its own channels, no ambiguity codes), or an {@link Alphabet}.
 * @throws {InvalidOptionError} for an empty string or repeated letters.
 */
export function resolveAlphabet(alphabet: string | Alphabet | undefined, option = 'alphabet'): Alphabet {
  if (alphabet === undefined) return DNA;
  if (typeof alphabet === 'object' && alphabet !== null && typeof alphabet.letters === 'string') return alphabet;
  if (typeof alphabet !== 'string')
    throw new InvalidOptionError(option, "'ACGT', 'ACGU', 'protein' or a string of distinct letters", alphabet);
  const key = alphabet.trim().toUpperCase();
  if (key === 'ACGT' || key === 'DNA') return DNA;
  if (key === 'ACGU' || key === 'RNA') return RNA;
  if (key === 'PROTEIN' || key === 'AA') return PROTEIN;
  if (key.length < 2 || new Set(key).size !== key.length || !/^[A-Z*]+$/.test(key))
    throw new InvalidOptionError(
      option,
      "'ACGT', 'ACGU', 'protein' or a string of at least 2 distinct letters",
      alphabet,
    );
  return { name: key, letters: key, codes: {} };
}

export type { ParseSequencesOptions, SequenceFormat, SequenceRecord, SequenceSet } from './sequence-records.js';
export { collectSequences, loadSequences, parseSequences, readSequenceRecords } from './sequence-records.js';

/** How one-hot rows are laid out: `NLC` = position-major `[L, A]`, `NCL` = channel-major `[A, L]`. */
export type SequenceLayout = 'NLC' | 'NCL';

/**
 * The layout of a model input of shape `rowShape` (without the batch dimension) for an
 * alphabet of `size` letters: `[L, A]` → NLC, `[A, L]` → NCL. Undefined when ambiguous
 * (`L = A`) or when the shape is not 2-D with one dimension equal to `size`.
 */
export function detectLayout(rowShape: readonly number[], size: number): SequenceLayout | undefined {
  if (rowShape.length !== 2) return undefined;
  const [a, b] = rowShape;
  if (a === b) return undefined;
  if (b === size) return 'NLC';
  if (a === size) return 'NCL';
  return undefined;
}

/** Column index of (position p, channel c) in a row of length L. */
export function columnOf(layout: SequenceLayout, L: number, A: number, p: number, c: number): number {
  return layout === 'NLC' ? p * A + c : c * L + p;
}

/** Options of {@link oneHot}. */
export interface OneHotOptions {
  /** @defaultValue DNA (ACGT with IUPAC codes) */
  alphabet?: string | Alphabet;
  /** @defaultValue 'NLC' */
  layout?: SequenceLayout;
  /**
   * Ambiguous letters (N, R, ...): `'spread'` = uniform over the letters they stand for,
   * `'error'` = refuse them. @defaultValue 'spread'
   */
  ambiguous?: 'spread' | 'error';
  /** Expected length (every sequence must have it). @defaultValue the first sequence's */
  length?: number;
}

/** One-hot rows of sequences: `nRows × (L · A)` values. */
export interface OneHotRows {
  readonly data: Float64Array;
  readonly nRows: number;
  readonly length: number;
  readonly alphabet: Alphabet;
  readonly layout: SequenceLayout;
  /** Column names (`A@1`, `C@1`, ... in the layout's order). */
  readonly columns: readonly string[];
}

/**
 * One-hot encodes sequences of one length into row-major rows in `layout`.
 *
 * @throws {DataError} for a letter outside the alphabet (with the sequence, line and
 *   position), or a sequence whose length differs from the others.
 * @example
 * const x = oneHot(['ACGT', 'NNAA'], { layout: 'NLC' }); // 2 rows × 16 values
 */
export function oneHot(sequences: SequenceSet | readonly string[], options: OneHotOptions = {}): OneHotRows {
  const set: SequenceSet = Array.isArray(sequences)
    ? {
        ids: sequences.map((_, i) => `seq${i + 1}`),
        sequences: sequences.map((s) => String(s).toUpperCase()),
        lines: [],
      }
    : (sequences as SequenceSet);
  const alphabet = resolveAlphabet(options.alphabet);
  const layout = options.layout ?? 'NLC';
  if (layout !== 'NLC' && layout !== 'NCL') throw new InvalidOptionError('layout', "'NLC' or 'NCL'", layout);
  const ambiguous = options.ambiguous ?? 'spread';
  if (ambiguous !== 'spread' && ambiguous !== 'error')
    throw new InvalidOptionError('ambiguous', "'spread' or 'error'", ambiguous);
  const n = set.sequences.length;
  if (n === 0) throw new DataError('no sequences to encode', { file: set.source });
  const L = options.length ?? set.sequences[0].length;
  const A = alphabet.letters.length;
  const table = letterTable(alphabet);
  const data = new Float64Array(n * L * A);
  set.sequences.forEach((s, r) => {
    if (s.length !== L)
      throw new DataError(
        `sequence ${JSON.stringify(set.ids[r])} has length ${s.length} but ${options.length !== undefined ? 'the model takes' : `the first sequence has`} ${L}: every sequence must have the same length (trim or pad with N)`,
        { file: set.source, line: set.lines[r] },
      );
    const base = r * L * A;
    for (let p = 0; p < L; p++) {
      const ch = s.charCodeAt(p);
      const spec = ch < 128 ? table[ch] : undefined;
      if (spec === undefined || (ambiguous === 'error' && spec.length > 1))
        throw new DataError(
          `sequence ${JSON.stringify(set.ids[r])}, position ${p + 1}: ${JSON.stringify(s[p])} is not ${spec ? 'an unambiguous letter' : 'a letter'} of the ${alphabet.name} alphabet (${alphabet.letters}${Object.keys(alphabet.codes).length ? ` and ${Object.keys(alphabet.codes).join('')}` : ''})`,
          { file: set.source, line: set.lines[r] },
        );
      const w = 1 / spec.length;
      for (const c of spec) data[base + columnOf(layout, L, A, p, c)] = w;
    }
  });
  return { data, nRows: n, length: L, alphabet, layout, columns: sequenceColumns(alphabet, L, layout) };
}

/** Column names `A@1`, `C@1`, ... (1-based positions) in the layout's order. */
export function sequenceColumns(alphabet: Alphabet, L: number, layout: SequenceLayout): string[] {
  const A = alphabet.letters.length;
  const names = new Array<string>(L * A);
  for (let p = 0; p < L; p++)
    for (let c = 0; c < A; c++) names[columnOf(layout, L, A, p, c)] = `${alphabet.letters[c]}@${p + 1}`;
  return names;
}

/** Channels of each accepted ASCII letter (index = char code). */
function letterTable(alphabet: Alphabet): (number[] | undefined)[] {
  const t: (number[] | undefined)[] = new Array(128);
  const idx = (l: string) => alphabet.letters.indexOf(l);
  for (let c = 0; c < alphabet.letters.length; c++) {
    const up = alphabet.letters[c];
    t[up.charCodeAt(0)] = [c];
    t[up.toLowerCase().charCodeAt(0)] = [c];
  }
  for (const [code, letters] of Object.entries(alphabet.codes)) {
    if (t[code.charCodeAt(0)]) continue;
    const chans = [...letters].map(idx).filter((c) => c >= 0);
    if (chans.length === 0) continue;
    t[code.charCodeAt(0)] = chans;
    t[code.toLowerCase().charCodeAt(0)] = chans;
  }
  return t;
}

/** The letter of the largest channel at each position of one-hot row `r` (`N`-like `?` when ambiguous). */
export function decodeRow(rows: OneHotRows, r: number): string {
  const { length: L, alphabet, layout } = rows;
  const A = alphabet.letters.length;
  let s = '';
  for (let p = 0; p < L; p++) {
    let best = -1;
    let count = 0;
    for (let c = 0; c < A; c++) {
      const v = rows.data[r * L * A + columnOf(layout, L, A, p, c)];
      if (v === 1) best = c;
      if (v > 0) count++;
    }
    s += count === 1 && best >= 0 ? alphabet.letters[best] : alphabet === PROTEIN ? 'X' : 'N';
  }
  return s;
}

/**
 * What to do with a sequence whose length differs from the model's: `'error'` refuses it,
 * `'pad'` pads shorter ones with the alphabet's any-letter (N for DNA/RNA, X for protein; a
 * uniform one-hot column) and refuses longer ones, `'crop'` crops longer ones and refuses
 * shorter ones, `'fit'` does both.
 */
export type LengthPolicy = 'error' | 'pad' | 'crop' | 'fit';
/** Where a padded or cropped sequence sits in the model's window. */
export type LengthAlign = 'center' | 'start' | 'end';

/** Options of {@link fitLengths}. */
export interface FitLengthOptions {
  /** @defaultValue 'error' */
  policy?: LengthPolicy;
  /**
   * `'center'`: padding split on both sides (the extra letter on the right), cropping keeps the
   * middle (`floor((len − L) / 2)` letters cut on the left); `'start'`: the sequence starts at
   * position 1 (pad or cut on the right); `'end'`: it ends at position L. @defaultValue 'center'
   */
  align?: LengthAlign;
  /** @defaultValue DNA */
  alphabet?: string | Alphabet;
  /** Option names for messages. @defaultValue 'lengthPolicy' */
  option?: string;
}

/** Sequences brought to one length, with where each model window starts in its original. */
export interface FittedSequences {
  readonly set: SequenceSet;
  /**
   * Per sequence: the index in the original sequence of model position 0 (negative when padded
   * on the left, positive when cropped). Undefined when no sequence was changed.
   */
  readonly origins: Int32Array | undefined;
  /** How many sequences were padded or cropped. */
  readonly changed: number;
}

/**
 * Brings every sequence to length `L` by `policy` ({@link LengthPolicy}), aligned by `align`.
 * @throws {DataError} for a sequence the policy does not allow (the message names the policy
 *   that would), {@link InvalidOptionError} for bad options or padding an alphabet without an
 *   any-letter.
 */
export function fitLengths(set: SequenceSet, L: number, options: FitLengthOptions = {}): FittedSequences {
  const policy = options.policy ?? 'error';
  const align = options.align ?? 'center';
  const option = options.option ?? 'lengthPolicy';
  if (!['error', 'pad', 'crop', 'fit'].includes(policy))
    throw new InvalidOptionError(option, "'error', 'pad', 'crop' or 'fit'", policy);
  if (!['center', 'start', 'end'].includes(align))
    throw new InvalidOptionError(
      `${option === 'lengthPolicy' ? 'align' : '--align'}`,
      "'center', 'start' or 'end'",
      align,
    );
  const alphabet = resolveAlphabet(options.alphabet);
  let changed = 0;
  const origins = new Int32Array(set.sequences.length);
  const out = set.sequences.map((s, r) => {
    if (s.length === L) return s;
    const pad = s.length < L;
    if (policy === 'error' || (pad && policy === 'crop') || (!pad && policy === 'pad'))
      throw new DataError(
        `sequence ${JSON.stringify(set.ids[r])} has length ${s.length} but the model takes ${L}: ${
          policy === 'error'
            ? `choose a length policy — ${option === 'lengthPolicy' ? "lengthPolicy 'pad', 'crop' or 'fit'" : '--length-policy pad, crop or fit'} (pad with N / crop, centred by default)`
            : `length policy '${policy}' does not ${pad ? 'pad' : 'crop'}; use 'fit' (pads and crops)`
        }`,
        { file: set.source, line: set.lines[r] },
      );
    changed++;
    const gap = Math.abs(L - s.length);
    const left = align === 'start' ? 0 : align === 'end' ? gap : Math.floor(gap / 2);
    if (!pad) {
      origins[r] = left;
      return s.slice(left, left + L);
    }
    const any = anyLetter(alphabet);
    if (any === undefined)
      throw new InvalidOptionError(
        option,
        `'crop' or 'error' for the ${alphabet.name} alphabet (it has no letter for "any", so it cannot pad)`,
        policy,
      );
    origins[r] = -left;
    return any.repeat(left) + s + any.repeat(gap - left);
  });
  if (changed === 0) return { set, origins: undefined, changed };
  return { set: { ...set, sequences: out }, origins, changed };
}

/** The code that stands for every letter of the alphabet (N, X), if any. */
function anyLetter(alphabet: Alphabet): string | undefined {
  for (const [code, letters] of Object.entries(alphabet.codes))
    if (letters.length === alphabet.letters.length && [...alphabet.letters].every((l) => letters.includes(l)))
      return code;
  return undefined;
}
