/** Plots over many sequences: the mean attribution profile per class. */
import type { SequenceExplanation } from '../../explain-sequences.js';
import type { VegaLiteSpec } from './specs.js';
import { SCHEMA_URL } from './specs.js';

/**
 * The number shown for 0-based position `i` with an anchor offset: `i + 1 + offset`, skipping
 * 0 when the numbers go negative (the biological convention: offset −30 numbers 60 letters
 * −30 … −1, 1 … 30, with the anchor between −1 and 1).
 */
export function positionNumber(i: number, offset = 0): number {
  const n = i + 1 + offset;
  return offset < 0 && n <= 0 ? n - 1 : n;
}

/** Per-position attribution of row r for output o, each player's value spread evenly over its positions. */
export function positionValues(e: SequenceExplanation, r: number, o = 0): Float64Array {
  const info = e.sequence;
  const n = e.players.length;
  const nOut = e.outputs.length;
  const out = new Float64Array(info.length);
  info.spans.forEach(([a, b], p) => {
    const v = e.values[(r * n + p) * nOut + o] / (b - a);
    for (let i = a; i < b; i++) out[i] += v;
  });
  return out;
}

/** One class's mean attribution profile. */
export interface ClassProfile {
  readonly class: string;
  /** Sequences the model assigns to the class (argmax over the outputs; all of them with one output). */
  readonly sequences: number;
  /** Mean per-position attribution to this class's output over those sequences. */
  readonly mean: Float64Array;
}

/**
 * Mean attribution profiles: for each output (class), the per-position attribution to it
 * averaged over the sequences the model assigns to it (argmax of the predictions; with one
 * output, over all sequences). Classes no sequence falls in are left out.
 */
export function classProfiles(e: SequenceExplanation, outputNames: readonly string[] = e.outputs): ClassProfile[] {
  const nOut = e.outputs.length;
  const L = e.sequence.length;
  const out: ClassProfile[] = [];
  for (let o = 0; o < nOut; o++) {
    const mean = new Float64Array(L);
    let count = 0;
    for (let r = 0; r < e.nRows; r++) {
      let best = 0;
      for (let k = 1; k < nOut; k++) if (e.predictions[r * nOut + k] > e.predictions[r * nOut + best]) best = k;
      if (nOut > 1 && best !== o) continue;
      const v = positionValues(e, r, o);
      for (let i = 0; i < L; i++) mean[i] += v[i];
      count++;
    }
    if (count === 0) continue;
    for (let i = 0; i < L; i++) mean[i] /= count;
    out.push({ class: outputNames[o], sequences: count, mean });
  }
  return out;
}

/**
 * The mean attribution profile per class over many sequences: one line per class (its
 * sequences' mean attribution to its own output at each position), positions numbered from
 * the anchor (`positionOffset`, see {@link positionNumber}).
 */
export function profileSpec(
  e: SequenceExplanation,
  options: { outputNames?: readonly string[]; positionOffset?: number; title?: string } = {},
): VegaLiteSpec {
  const profiles = classProfiles(e, options.outputNames ?? e.outputs);
  const values = profiles.flatMap((p) =>
    Array.from(p.mean, (v, i) => ({
      class: `${p.class} (${p.sequences})`,
      position: positionNumber(i, options.positionOffset ?? e.sequence.positionOffset ?? 0),
      index: i,
      attribution: v,
    })),
  );
  return {
    $schema: SCHEMA_URL,
    title:
      options.title ??
      `Mean attribution per position and class over ${e.nRows} sequences (each class: the sequences the model assigns to it)`,
    width: Math.min(900, Math.max(360, e.sequence.length * 8)),
    height: 200,
    layer: [
      {
        data: { values: [{ y: 0 }] },
        mark: { type: 'rule', color: '#999' },
        encoding: { y: { field: 'y', type: 'quantitative' } },
      },
      {
        data: { values },
        mark: { type: 'line', strokeWidth: 1.5, point: e.sequence.length <= 120 ? { size: 12 } : false },
        encoding: {
          x: {
            field: 'index',
            type: 'quantitative',
            title: options.positionOffset ? `position (from the anchor, offset ${options.positionOffset})` : 'position',
            scale: { domain: [0, e.sequence.length - 1], nice: false, zero: false },
            axis: {
              labelExpr: `${JSON.stringify(Array.from({ length: e.sequence.length }, (_, i) => positionNumber(i, options.positionOffset ?? e.sequence.positionOffset ?? 0)))}[datum.value]`,
            },
          },
          y: { field: 'attribution', type: 'quantitative', title: 'mean attribution' },
          color: { field: 'class', type: 'nominal', title: 'class (sequences)', scale: { scheme: 'category10' } },
          tooltip: [
            { field: 'class', type: 'nominal' },
            { field: 'position', type: 'quantitative' },
            { field: 'attribution', type: 'quantitative', format: '.4g' },
          ],
        },
      },
    ],
  };
}
