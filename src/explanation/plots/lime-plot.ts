/** The LIME plot: the local model's weights with their readable conditions and the fit's R². */
import { InvalidOptionError } from '../../errors.js';
import type { Explanation } from '../explanation.js';
import { dims } from '../explanation.js';
import type { VegaLiteSpec } from './specs.js';
import { DOWN, fmt, SCHEMA_URL, UP } from './specs.js';

/** One bar of a LIME plot. */
export interface LimeBar {
  readonly player: string;
  /** The readable condition (`duration > 24`, `purpose = car`). */
  readonly condition: string;
  readonly weight: number;
  readonly rank: number;
}

/** The selected features of row r (output o), largest |weight| first, with their conditions. */
export function limeBars(e: Explanation, r: number, o = 0): LimeBar[] {
  const lime = e.lime;
  if (!lime) throw new InvalidOptionError('explanation', "a LIME explanation (method 'lime')", e.method);
  const { nPlayers, nOutputs } = dims(e);
  return lime.selected[r][o].map((p, rank) => ({
    player: e.players[p],
    condition: lime.conditions[r][p],
    weight: e.values[(r * nPlayers + p) * nOutputs + o],
    rank,
  }));
}

/**
 * lime's `as_pyplot_figure`: one bar per selected feature, labelled by its condition, red
 * when it raises the output, blue when it lowers it; the title gives the prediction, the local
 * model's intercept and local prediction, and its weighted R² (local fidelity).
 * @throws {InvalidOptionError} for an explanation that is not LIME's.
 */
export function limeSpec(e: Explanation, r: number, o = 0, options: { title?: string } = {}): VegaLiteSpec {
  const bars = limeBars(e, r, o).map((b) => ({
    ...b,
    direction: b.weight >= 0 ? 'raises' : 'lowers',
    text: `${b.weight >= 0 ? '+' : '−'}${fmt(Math.abs(b.weight))}`,
  }));
  const lime = e.lime as NonNullable<Explanation['lime']>;
  const k = r * e.outputs.length + o;
  return {
    $schema: SCHEMA_URL,
    title: {
      text: options.title ?? `LIME, row ${e.rowIndices[r]}: ${e.outputs[o]} = ${fmt(e.predictions[k])}`,
      subtitle: `local model: intercept ${fmt(lime.intercept[k])}, local prediction ${fmt(lime.localPrediction[k])}, weighted R² ${fmt(lime.score[k])} (${lime.numSamples} samples, kernel width ${fmt(lime.kernelWidth)})`,
    },
    width: 420,
    height: { step: 22 },
    layer: [
      {
        data: { values: bars },
        mark: { type: 'bar', height: 16 },
        encoding: {
          y: { field: 'condition', type: 'nominal', sort: { field: 'rank' }, title: null, axis: { labelLimit: 600 } },
          x: { field: 'weight', type: 'quantitative', title: `weight (local model of ${e.outputs[o]})` },
          color: {
            field: 'direction',
            type: 'nominal',
            scale: { domain: ['raises', 'lowers'], range: [UP, DOWN] },
            legend: { title: 'weight', orient: 'bottom', direction: 'horizontal' },
          },
          tooltip: [
            { field: 'player', type: 'nominal' },
            { field: 'condition', type: 'nominal' },
            { field: 'weight', type: 'quantitative' },
          ],
        },
      },
      {
        data: { values: bars },
        transform: [{ calculate: 'max(datum.weight, 0)', as: 'right' }],
        mark: { type: 'text', fontSize: 10, align: 'left', dx: 4 },
        encoding: {
          y: { field: 'condition', type: 'nominal', sort: { field: 'rank' } },
          x: { field: 'right', type: 'quantitative' },
          text: { field: 'text' },
        },
      },
      {
        data: { values: [{ x: 0 }] },
        mark: { type: 'rule', color: '#444' },
        encoding: { x: { field: 'x', type: 'quantitative' } },
      },
    ],
  };
}
