import { columnOf } from '../data/sequences.js';
import { InvalidOptionError } from '../errors.js';
import { classSummaries } from './class-summary.js';
import type { ExplanationJSON } from './explanation.js';
import { explanationToJSON } from './explanation.js';
import { figureHtml, makeFigure, REPORT_CSS, tagSvg } from './plots/figure.js';
import { positionTrackSvg, sequenceLogoSvg } from './plots/sequence-logo.js';
import { positionNumber, profileSpec } from './plots/sequence-plots.js';
import { esc, fmt, sign } from './report.js';
import type { SequenceExplanation } from './sequence-explanation.js';

/** A run of consecutive players (positions or windows) of one sign. */
export interface Segment {
  /** 0-based first position, end exclusive. */
  readonly start: number;
  readonly end: number;
  /** Sum of the values of its players. */
  readonly value: number;
  /** The letters of the segment. */
  readonly letters: string;
}

/** Options of the sequence reports. */
export interface SequenceReportOptions {
  /** Segments listed per row and output. @defaultValue 3 */
  segments?: number;
  /** A player joins a segment when |value| ≥ this fraction of the row's largest |value|. @defaultValue 0.2 */
  threshold?: number;
  /** Significant digits. @defaultValue 4 */
  digits?: number;
  /** Names of the outputs (classes) in the reports, e.g. `['EI', 'IE', 'N']`. @defaultValue the model's output names */
  outputNames?: readonly string[];
  /**
   * Number positions from an anchor: the first letter is `offset + 1`, skipping 0 when negative
   * (−30 numbers 60 letters −30 … −1, 1 … 30). @defaultValue 0 (positions 1 … L)
   */
  positionOffset?: number;
}

/** The output names of a report, checked against the explanation's outputs. */
function namesOf(e: SequenceExplanation, options: SequenceReportOptions): readonly string[] {
  const names = options.outputNames;
  if (names === undefined) return e.outputs;
  if (names.length !== e.outputs.length)
    throw new InvalidOptionError(
      'outputNames',
      `${e.outputs.length} names, one per explained output (${e.outputs.join(', ')})`,
      names.join(','),
    );
  return names;
}

/**
 * The top segments of row r, output o: maximal runs of adjacent players with values of one
 * sign and |value| ≥ threshold · max |value|, ranked by |sum|.
 */
export function topSegments(e: SequenceExplanation, r: number, o = 0, options: SequenceReportOptions = {}): Segment[] {
  const n = e.players.length;
  const nOut = e.outputs.length;
  const k = options.segments ?? 3;
  const tau = options.threshold ?? 0.2;
  const vals = Array.from({ length: n }, (_, p) => e.values[(r * n + p) * nOut + o]);
  const max = Math.max(0, ...vals.map(Math.abs));
  if (max === 0) return [];
  const seq = e.sequence.sequences[r];
  const spans = e.sequence.spans;
  // players in position order (spans are sorted by start)
  const segs: Segment[] = [];
  let cur: { start: number; end: number; value: number; sign: number } | undefined;
  const flush = () => {
    if (cur) segs.push({ start: cur.start, end: cur.end, value: cur.value, letters: seq.slice(cur.start, cur.end) });
    cur = undefined;
  };
  for (let p = 0; p < n; p++) {
    const v = vals[p];
    const s = Math.sign(v);
    const [a, b] = spans[p];
    if (Math.abs(v) < tau * max || s === 0) {
      flush();
      continue;
    }
    if (cur && cur.sign === s && a <= cur.end) {
      cur.end = Math.max(cur.end, b);
      cur.value += v;
    } else {
      flush();
      cur = { start: a, end: b, value: v, sign: s };
    }
  }
  flush();
  return segs.sort((x, y) => Math.abs(y.value) - Math.abs(x.value)).slice(0, k);
}

/**
 * The CLI text view: per row and output, the prediction, the top segments (positions,
 * letters, summed value) and the sequence with the segments marked underneath
 * (`+` raises the output, `-` lowers it), 60 letters per line.
 */
export function formatSequenceText(e: SequenceExplanation, options: SequenceReportOptions = {}): string {
  const digits = options.digits ?? 4;
  const nOut = e.outputs.length;
  const info = e.sequence;
  const names = namesOf(e, options);
  const pos = (i: number) => positionNumber(i, options.positionOffset ?? e.sequence.positionOffset ?? 0);
  const out: string[] = [];
  out.push(
    `whybox ${e.method}: ${e.nRows} sequence(s) of ${info.length} (${info.alphabet}, ${info.layout}), ${e.players.length} ${info.players === 'window' ? 'windows' : 'positions'}${info.players === 'hierarchy' ? ' in a hierarchy' : ''}, reference ${e.meta.background.summary}, ${e.evaluations} ${e.method === 'ism' ? 'mutants' : 'coalition values'}, ${e.modelRows} model rows, ${e.seconds.toFixed(2)} s (seed ${e.meta.seed})`,
  );
  for (let r = 0; r < e.nRows; r++) {
    const seq = info.sequences[r];
    for (let o = 0; o < nOut; o++) {
      const pred = e.predictions[r * nOut + o];
      const base = e.rowBaseValues ? e.rowBaseValues[r * nOut + o] : e.baseValues[o];
      out.push('');
      out.push(
        `${info.ids[r]} — ${names[o]}: prediction ${fmt(pred, digits)}${e.method === 'ism' ? '' : ` = base ${fmt(base, digits)} ${sign(pred - base, digits)}`}`,
      );
      const segs = topSegments(e, r, o, options);
      if (segs.length === 0) {
        out.push('  (no attribution)');
        continue;
      }
      segs.forEach((s, i) => {
        out.push(
          `  #${i + 1}  ${`${pos(s.start)}-${pos(s.end - 1)}`.padEnd(11)} ${s.letters.length > 24 ? `${s.letters.slice(0, 23)}…` : s.letters.padEnd(24)} ${sign(s.value, digits)}`,
        );
      });
      const marks = new Array<string>(seq.length).fill(' ');
      for (const s of segs) for (let p = s.start; p < s.end; p++) marks[p] = s.value >= 0 ? '+' : '-';
      // show the lines of the sequence that hold a segment (all lines when short)
      const width = 60;
      for (let a = 0; a < seq.length; a += width) {
        const b = Math.min(seq.length, a + width);
        const m = marks.slice(a, b).join('');
        if (seq.length > 3 * width && m.trim() === '') continue;
        out.push(`  ${String(pos(a)).padStart(6)} ${seq.slice(a, b)}`);
        if (m.trim() !== '') out.push(`  ${''.padStart(6)} ${m.trimEnd()}`);
      }
    }
  }
  return `${out.join('\n')}\n`;
}

/** The logo matrix (L × A) of row r, output o: each position's value spread on its observed letter(s). */
export function logoMatrix(e: SequenceExplanation, r: number, o = 0): Float64Array {
  const info = e.sequence;
  const L = info.length;
  const A = info.letters.length;
  const n = e.players.length;
  const nOut = e.outputs.length;
  const d = L * A;
  const perPos = new Float64Array(L);
  info.spans.forEach(([a, b], p) => {
    const v = e.values[(r * n + p) * nOut + o] / (b - a);
    for (let i = a; i < b; i++) perPos[i] += v;
  });
  const m = new Float64Array(L * A);
  for (let p = 0; p < L; p++)
    for (let c = 0; c < A; c++) m[p * A + c] = perPos[p] * e.data[r * d + columnOf(info.layout, L, A, p, c)];
  return m;
}

/**
 * A self-contained HTML report: over all sequences the mean attribution profile per class
 * (`data-plot="profile"`), then per row and output a sequence logo (`data-plot="logo"`; for
 * ism also the hypothetical logo), its top segments and, for long sequences, a track of every
 * position. Classes are named by `outputNames`, positions numbered from `positionOffset`.
 */
export async function formatSequenceHtml(e: SequenceExplanation, options: SequenceReportOptions = {}): Promise<string> {
  const digits = options.digits ?? 4;
  const names = namesOf(e, options);
  const offset = options.positionOffset ?? e.sequence.positionOffset ?? 0;
  const pos = (i: number) => positionNumber(i, offset);
  const info = e.sequence;
  const L = info.length;
  const A = info.letters.length;
  const nOut = e.outputs.length;
  const sections: string[] = [];
  for (let r = 0; r < e.nRows; r++)
    for (let o = 0; o < nOut; o++) {
      const segs = topSegments(e, r, o, options);
      const m = logoMatrix(e, r, o);
      const perPos = new Float64Array(L);
      for (let p = 0; p < L; p++) for (let c = 0; c < A; c++) perPos[p] += m[p * A + c];
      // long sequences: a track of every position, and a logo of 100 positions around the top segment
      const centre = segs.length ? Math.floor((segs[0].start + segs[0].end) / 2) : Math.floor(L / 2);
      const from = L <= 120 ? 0 : Math.max(0, Math.min(L - 100, centre - 50));
      const to = L <= 120 ? L : from + 100;
      const logo = sequenceLogoSvg(
        {
          letters: info.letters,
          matrix: m.subarray(from * A, to * A),
          length: to - from,
          firstPosition: from + 1,
          positionLabel: (i) => pos(from + i),
        },
        {
          title: `${info.ids[r]} ${names[o]}`,
          highlight: segs
            .filter((s) => s.end > from && s.start < to)
            .map((s) => [Math.max(0, s.start - from), Math.min(to, s.end) - from]),
        },
      );
      const track =
        L > 120
          ? positionTrackSvg(perPos, {
              title: `${info.ids[r]} ${names[o]}: every position`,
              highlight: segs.map((s) => [s.start, s.end]),
            })
          : '';
      let hypo = '';
      if (info.hypothetical) {
        const h = new Float64Array((to - from) * A);
        for (let p = from; p < to; p++)
          for (let c = 0; c < A; c++) h[(p - from) * A + c] = info.hypothetical[((r * L + p) * A + c) * nOut + o];
        hypo = `<p>Hypothetical contributions (every letter at every position, mean-centred):</p>\n${tagSvg(sequenceLogoSvg({ letters: info.letters, matrix: h, length: to - from, firstPosition: from + 1, positionLabel: (i) => pos(from + i) }, { title: 'hypothetical' }), 'logo', r)}`;
      }
      const pred = e.predictions[r * nOut + o];
      const base = e.rowBaseValues ? e.rowBaseValues[r * nOut + o] : e.baseValues[o];
      const list = segs
        .map(
          (s) =>
            `<li>${pos(s.start)}–${pos(s.end - 1)} <code>${esc(s.letters.slice(0, 60))}</code> ${esc(sign(s.value, digits))}</li>`,
        )
        .join('');
      sections.push(`<section class="row"><h2>${esc(info.ids[r])} — ${esc(names[o])}</h2>
<p>prediction <b>${esc(fmt(pred, digits))}</b>${e.method === 'ism' ? '' : ` = base value ${esc(fmt(base, digits))} ${esc(sign(pred - base, digits))}`}</p>
${track}
<figure class="plot" data-plot="logo" data-row="${r}">${tagSvg(logo, 'logo', r)}</figure>
${hypo}
<ol>${list}</ol></section>`);
    }
  // class logos: per class (label, else predicted class) the mean contribution logo to its output
  let classLogos = '';
  if (e.nRows >= 2) {
    const sums = classSummaries(e);
    classLogos = sums
      .map((c) => {
        const svg = sequenceLogoSvg(
          {
            letters: info.letters,
            matrix: L <= 120 ? c.logo : c.logo.subarray(0, 100 * A),
            length: Math.min(L, L <= 120 ? L : 100),
            firstPosition: 1,
            positionLabel: (i) => pos(i),
          },
          { title: `${c.class}: ${names[c.outputIndex]} (${c.rows.length} sequences)` },
        );
        return `<figure class="plot" data-plot="class-logo" data-class="${esc(c.class)}">${svg}</figure>`;
      })
      .join('\n');
    if (classLogos)
      classLogos = `<h2>Mean contribution logo per class</h2>\n<p>Per class (${info.labels ? 'label' : 'predicted class'}), the mean over its sequences of each position's attribution placed on its letter: letters of a shared motif stack up, others cancel.</p>\n${classLogos}`;
  }
  const overall =
    e.nRows >= 2
      ? figureHtml(
          await makeFigure('profile', 'profile', profileSpec(e, { outputNames: names, positionOffset: offset }), {
            caption:
              'Per class, the mean attribution to its output at each position over the sequences the model assigns to it (number of sequences in brackets).',
          }),
        )
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>whybox sequence explanation</title>
<style>${REPORT_CSS}
svg{display:block;margin:6px 0}code{font-size:13px}section.row{contain-intrinsic-size:auto 400px}</style>
</head><body>
<h1>whybox sequence explanation</h1>
<p>${esc(e.method)}: ${e.nRows} sequence(s) of ${L} (${esc(info.alphabet)}, ${info.layout}), ${e.players.length} players (${info.players}), reference ${esc(e.meta.background.summary)}, ${e.evaluations} evaluations, ${e.modelRows} model rows, ${e.seconds.toFixed(2)} s, seed ${e.meta.seed}. Letters above the line raise the output, letters below lower it.${offset ? ` Positions are numbered from the anchor (offset ${offset}: the first letter is ${pos(0)}).` : ''}</p>
${overall}
${classLogos}
${sections.join('\n')}
</body></html>
`;
}

/** The JSON of a sequence explanation: the foundation contract plus a `sequence` block (and, for ism, `hypothetical` per row as L × A × outputs). */
export interface SequenceExplanationJSON extends ExplanationJSON {
  sequence: {
    alphabet: string;
    letters: string;
    layout: string;
    length: number;
    players: string;
    spans: [number, number][];
    reference: string;
    tilings?: number;
    /** Positions numbered from this anchor offset. */
    positionOffset?: number;
    /** Per sequence: index in the original sequence of position 0 (length policy pad/crop). */
    origins?: number[];
    /** Per sequence: its label, when the input has a label column. */
    labels?: string[];
    ids: string[];
    sequences: string[];
  };
}

/** The `--format json` form of a sequence explanation. */
export function sequenceExplanationToJSON(e: SequenceExplanation): SequenceExplanationJSON {
  const json = explanationToJSON(e) as SequenceExplanationJSON;
  const info = e.sequence;
  const L = info.length;
  const A = info.letters.length;
  const nOut = e.outputs.length;
  if (info.hypothetical) {
    const h = info.hypothetical;
    json.rows.forEach((row, r) => {
      (row as unknown as { hypothetical: number[][][] }).hypothetical = Array.from({ length: L }, (_, p) =>
        Array.from({ length: A }, (_, c) =>
          Array.from(h.subarray(((r * L + p) * A + c) * nOut, ((r * L + p) * A + c + 1) * nOut)),
        ),
      );
    });
  }
  json.sequence = {
    alphabet: info.alphabet,
    letters: info.letters,
    layout: info.layout,
    length: L,
    players: info.players,
    spans: info.spans.map(([a, b]) => [a, b]),
    reference: info.reference,
    ...(info.tilings ? { tilings: info.tilings } : {}),
    ...(info.positionOffset ? { positionOffset: info.positionOffset } : {}),
    ...(info.origins ? { origins: [...info.origins] } : {}),
    ...(info.labels ? { labels: [...info.labels] } : {}),
    ids: [...info.ids],
    sequences: [...info.sequences],
  };
  return json;
}
