import { DataError, InvalidOptionError } from '../errors.js';
import { readTextFile } from './csv.js';

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

/** Sequences read from a file: ids, sequences (upper case), optional labels. */
export interface SequenceSet {
  readonly ids: readonly string[];
  readonly sequences: readonly string[];
  /** Labels from a second column of a one-per-line file, when present. */
  readonly labels?: readonly string[];
  /** Where they came from (for messages). */
  readonly source?: string;
  /** 1-based line of each sequence's first letter. */
  readonly lines: readonly number[];
}

/** Options of {@link parseSequences}. */
export interface ParseSequencesOptions {
  /** File name for messages. @defaultValue 'sequences' */
  source?: string;
  /** `'fasta'`, `'lines'` (one sequence per line, optionally `sequence<TAB or , or space>label`), or `'auto'` (FASTA when the first non-empty line starts with `>`). @defaultValue 'auto' */
  format?: 'auto' | 'fasta' | 'lines';
}

/**
 * Parses FASTA or one-sequence-per-line text. Letters are upper-cased (soft-masked lower
 * case is accepted); FASTA sequences may span lines; blank lines and `#` / `;` comment lines
 * are skipped. In the line format an optional second column (separated by a tab, a comma or
 * spaces) is a label, and a first line `sequence,label` (a header) is skipped.
 *
 * @throws {DataError} for an empty input, a FASTA record without a sequence, or text before
 *   the first `>` header.
 */
export function parseSequences(text: string, options: ParseSequencesOptions = {}): SequenceSet {
  const file = options.source ?? 'sequences';
  const format = options.format ?? 'auto';
  if (!['auto', 'fasta', 'lines'].includes(format))
    throw new InvalidOptionError('format', "'auto', 'fasta' or 'lines'", format);
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const first = lines.find((l) => l.trim() !== '' && !/^[#;]/.test(l.trim()));
  if (first === undefined)
    throw new DataError('is empty: it needs FASTA records (">id" then the sequence) or one sequence per line', {
      file,
    });
  const fasta = format === 'fasta' || (format === 'auto' && first.trimStart().startsWith('>'));
  const ids: string[] = [];
  const sequences: string[] = [];
  const starts: number[] = [];
  if (fasta) {
    let parts: string[] | undefined;
    let headerLine = 0;
    const flush = () => {
      if (!parts) return;
      const s = parts.join('');
      if (s.length === 0)
        throw new DataError(`FASTA record ${JSON.stringify(ids[ids.length - 1])} has no sequence`, {
          file,
          line: headerLine,
        });
      sequences.push(s);
    };
    lines.forEach((raw, i) => {
      const l = raw.trim();
      if (l === '' || l.startsWith(';') || l.startsWith('#')) return;
      if (l.startsWith('>')) {
        flush();
        headerLine = i + 1;
        ids.push(l.slice(1).trim().split(/\s+/)[0] || `seq${ids.length + 1}`);
        starts.push(i + 2);
        parts = [];
        return;
      }
      if (!parts) throw new DataError('text before the first FASTA header (">id")', { file, line: i + 1 });
      parts.push(l.replace(/\s+/g, '').toUpperCase());
    });
    flush();
    return { ids, sequences, source: file, lines: starts };
  }
  const labels: string[] = [];
  let withLabels: boolean | undefined;
  lines.forEach((raw, i) => {
    const l = raw.trim();
    if (l === '' || l.startsWith('#') || l.startsWith(';')) return;
    const cells = l.split(/\s*[\t,]\s*|\s+/);
    if (sequences.length === 0 && withLabels === undefined && /^(seq|sequence)$/i.test(cells[0])) return; // header
    if (cells.length > 2)
      throw new DataError(
        `has ${cells.length} columns; a sequence line holds a sequence and at most one label (got ${JSON.stringify(l.slice(0, 40))})`,
        { file, line: i + 1 },
      );
    const has = cells.length === 2;
    if (withLabels !== undefined && has !== withLabels)
      throw new DataError(
        `${has ? 'has a label column' : 'has no label column'} but earlier lines ${withLabels ? 'have one' : 'do not'}: give every line a label or none`,
        { file, line: i + 1 },
      );
    withLabels = has;
    sequences.push(cells[0].toUpperCase());
    if (has) labels.push(cells[1]);
    ids.push(`seq${sequences.length}`);
    starts.push(i + 1);
  });
  if (sequences.length === 0) throw new DataError('is empty: it holds no sequence lines', { file });
  return { ids, sequences, labels: withLabels ? labels : undefined, source: file, lines: starts };
}

/** Reads a FASTA or one-per-line file ({@link parseSequences}). */
export async function loadSequences(path: string, options: ParseSequencesOptions = {}): Promise<SequenceSet> {
  return parseSequences(await readTextFile(path), { ...options, source: options.source ?? path });
}

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
