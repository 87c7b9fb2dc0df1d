import { columnOf } from '../data/sequences.js';
import { InvalidOptionError } from '../errors.js';
import { positionValues } from './plots/sequence-plots.js';
import type { SequenceExplanation } from './sequence-explanation.js';

/** How sequences are grouped into classes. */
export type ClassGrouping = 'label' | 'prediction' | 'all';

/** The mean attribution of one class of sequences to one output. */
export interface ClassSummary {
  /** The class: a label, an output name (grouping by prediction) or `'all'`. */
  readonly class: string;
  /** The output the attributions are to. */
  readonly output: string;
  readonly outputIndex: number;
  /** Rows of the class. */
  readonly rows: readonly number[];
  /** Mean prediction of the output over the class. */
  readonly meanPrediction: number;
  /** Mean per-position attribution (length L; each player's value spread over its positions). */
  readonly profile: Float64Array;
  /**
   * Mean contribution logo, `L × A` (position-major): the mean over the class of each
   * sequence's attribution at a position placed on its letter (value × one-hot), so the letters
   * of a shared motif stack up and others cancel.
   */
  readonly logo: Float64Array;
  /** ISM: the mean hypothetical matrix `L × A` (every letter at every position). */
  readonly hypothetical?: Float64Array;
}

/** Options of {@link classSummaries}. */
export interface ClassSummaryOptions {
  /**
   * `'label'`: by the input's label column (`sequence.labels`); `'prediction'`: by the output
   * with the largest prediction; `'all'`: one class. @defaultValue 'label' when the sequences
   * have labels, else 'prediction' (with several outputs), else 'all'
   */
  by?: ClassGrouping;
  /**
   * Outputs summarised per class: `'all'`, or `'own'` — grouping by prediction, the class's own
   * output; by label, the output named like the label when there is one (e.g. label EI and
   * `outputNames` EI,IE,N), else every output. @defaultValue 'own'
   */
  outputs?: 'own' | 'all';
}

/**
 * Class summaries over many sequences: per class (label, predicted class, or all) and output,
 * the mean attribution profile and the mean contribution logo. Classes are in order of first
 * appearance (labels) or output order (predictions); an empty predicted class is left out.
 *
 * @throws {InvalidOptionError} for `by: 'label'` without labels, or unknown options.
 */
export function classSummaries(e: SequenceExplanation, options: ClassSummaryOptions = {}): ClassSummary[] {
  const info = e.sequence;
  const nOut = e.outputs.length;
  const L = info.length;
  const A = info.letters.length;
  const by: ClassGrouping = options.by ?? (info.labels ? 'label' : nOut > 1 ? 'prediction' : 'all');
  if (!['label', 'prediction', 'all'].includes(by))
    throw new InvalidOptionError('by', "'label', 'prediction' or 'all'", by);
  const which = options.outputs ?? 'own';
  if (which !== 'own' && which !== 'all') throw new InvalidOptionError('outputs', "'own' or 'all'", which);
  if (by === 'label' && !info.labels)
    throw new InvalidOptionError(
      'by',
      "'prediction' or 'all' (these sequences have no labels: give a label column)",
      by,
    );
  const groups = new Map<string, number[]>();
  for (let r = 0; r < e.nRows; r++) {
    let key = 'all';
    if (by === 'label') key = (info.labels as readonly string[])[r];
    else if (by === 'prediction') {
      let best = 0;
      for (let o = 1; o < nOut; o++) if (e.predictions[r * nOut + o] > e.predictions[r * nOut + best]) best = o;
      key = e.outputs[best];
    }
    const list = groups.get(key);
    if (list) list.push(r);
    else groups.set(key, [r]);
  }
  const keys = by === 'prediction' ? e.outputs.filter((o) => groups.has(o)) : [...groups.keys()];
  const out: ClassSummary[] = [];
  for (const key of keys) {
    const rows = groups.get(key) as number[];
    let outs = e.outputs.map((_, o) => o);
    if (which === 'own') {
      const own = e.outputs.indexOf(key);
      if (by === 'prediction' || own >= 0) outs = [own];
    }
    for (const o of outs) {
      const profile = new Float64Array(L);
      const logo = new Float64Array(L * A);
      const hyp = info.hypothetical ? new Float64Array(L * A) : undefined;
      let meanPrediction = 0;
      for (const r of rows) {
        const v = positionValues(e, r, o);
        for (let p = 0; p < L; p++) profile[p] += v[p] / rows.length;
        for (let p = 0; p < L; p++)
          for (let c = 0; c < A; c++)
            logo[p * A + c] += (v[p] * e.data[r * L * A + columnOf(info.layout, L, A, p, c)]) / rows.length;
        if (hyp && info.hypothetical)
          for (let i = 0; i < L * A; i++) hyp[i] += info.hypothetical[(r * L * A + i) * nOut + o] / rows.length;
        meanPrediction += e.predictions[r * nOut + o] / rows.length;
      }
      out.push({
        class: key,
        output: e.outputs[o],
        outputIndex: o,
        rows,
        meanPrediction,
        profile,
        logo,
        ...(hyp ? { hypothetical: hyp } : {}),
      });
    }
  }
  return out;
}

/** The JSON form of class summaries (`--format summary`). */
export function classSummariesToJSON(e: SequenceExplanation, summaries: readonly ClassSummary[]): unknown {
  const A = e.sequence.letters.length;
  const L = e.sequence.length;
  const matrix = (m: Float64Array) => Array.from({ length: L }, (_, p) => Array.from(m.subarray(p * A, (p + 1) * A)));
  return {
    method: e.method,
    outputs: e.outputs,
    letters: e.sequence.letters,
    length: L,
    ...(e.sequence.positionOffset ? { positionOffset: e.sequence.positionOffset } : {}),
    classes: summaries.map((s) => ({
      class: s.class,
      output: s.output,
      sequences: s.rows.length,
      meanPrediction: s.meanPrediction,
      profile: Array.from(s.profile),
      logo: matrix(s.logo),
      ...(s.hypothetical ? { hypothetical: matrix(s.hypothetical) } : {}),
    })),
  };
}
