/**
 * Vega-Lite specifications of the report plots (waterfall of one decision, global importance
 * bars, beeswarm over many rows). Data are inline, so a spec is reusable as is: paste it
 * into any Vega-Lite renderer or edit it. Rendered to SVG by {@link renderSvg}.
 */
import type { Schema } from '../../data/schema.js';
import type { Explanation } from '../explanation.js';
import { dims } from '../explanation.js';
import type { GlobalImportance } from '../importance.js';

/** A Vega-Lite spec (plain JSON). */
export type VegaLiteSpec = Record<string, unknown>;

const SCHEMA_URL = 'https://vega.github.io/schema/vega-lite/v6.json';
/** shap's colours: red raises the output, blue lowers it. */
const UP = '#ff0d57';
const DOWN = '#1e88e5';

/** Options of {@link waterfallSpec}. */
export interface WaterfallOptions {
  /** Attributes shown; the rest are summed into one bar. @defaultValue 12 */
  maxBars?: number;
  /** Raw value text per player (e.g. "duration_months = 66"), shown in the labels. */
  valueText?: (p: number) => string;
  /** A decision threshold to draw as a rule. */
  threshold?: number;
  title?: string;
}

/** One bar of a waterfall: the score moves from `start` to `end` by `contribution`. */
export interface WaterfallBar {
  step: number;
  attribute: string;
  label: string;
  contribution: number;
  start: number;
  end: number;
}

/**
 * The bars of a waterfall for row `r`, output `o`: from the base value, the largest |φ|
 * first, to the prediction (the last bar ends at the prediction: efficiency). For a LIME
 * explanation (`e.lime`), from the local model's intercept by its weights (LIME weights do
 * not add up from the base value to the prediction; with binary features they add up to the
 * local prediction).
 */
export function waterfallBars(e: Explanation, r: number, o = 0, options: WaterfallOptions = {}): WaterfallBar[] {
  const { nPlayers, nOutputs } = dims(e);
  const maxBars = options.maxBars ?? 12;
  const phi = Array.from({ length: nPlayers }, (_, p) => e.values[(r * nPlayers + p) * nOutputs + o]);
  const order = phi.map((_, p) => p).sort((a, b) => Math.abs(phi[b]) - Math.abs(phi[a]) || a - b);
  const shown = order.slice(0, maxBars);
  const rest = order.slice(maxBars);
  let at = e.lime ? e.lime.intercept[r * nOutputs + o] : e.baseValues[o];
  const bars: WaterfallBar[] = shown.map((p, k) => {
    const start = at;
    at += phi[p];
    return {
      step: k,
      attribute: e.players[p],
      label: options.valueText ? options.valueText(p) : e.players[p],
      contribution: phi[p],
      start,
      end: at,
    };
  });
  if (rest.length > 0) {
    const sum = rest.reduce((s, p) => s + phi[p], 0);
    bars.push({
      step: bars.length,
      attribute: `(${rest.length} other attributes)`,
      label: `${rest.length} other attributes`,
      contribution: sum,
      start: at,
      end: at + sum,
    });
  }
  return bars;
}

/** A waterfall of one decision (shap's waterfall plot): base value → contributions → score. */
export function waterfallSpec(e: Explanation, r: number, o = 0, options: WaterfallOptions = {}): VegaLiteSpec {
  const bars = waterfallBars(e, r, o, options).map((b) => ({
    ...b,
    direction: b.contribution >= 0 ? 'raises' : 'lowers',
    text: `${b.contribution >= 0 ? '+' : '−'}${fmt(Math.abs(b.contribution))}`,
  }));
  const base = e.baseValues[o];
  const pred = e.predictions[r * e.outputs.length + o];
  const k = r * e.outputs.length + o;
  const rules = [
    ...(e.lime
      ? [
          { what: 'LIME intercept', x: e.lime.intercept[k] },
          { what: 'local prediction', x: e.lime.localPrediction[k] },
        ]
      : [{ what: 'base value', x: base }]),
    { what: 'score', x: pred },
    ...(options.threshold !== undefined ? [{ what: 'threshold', x: options.threshold }] : []),
  ];
  return {
    $schema: SCHEMA_URL,
    title: options.title ?? `Row ${e.rowIndices[r]}: ${e.outputs[o]} = ${fmt(pred)} (base value ${fmt(base)})`,
    width: 480,
    height: { step: 22 },
    layer: [
      {
        data: { values: bars },
        mark: { type: 'bar', height: 16 },
        encoding: {
          y: { field: 'label', type: 'nominal', sort: { field: 'step' }, title: null },
          x: { field: 'start', type: 'quantitative', title: e.outputs[o], scale: { zero: false } },
          x2: { field: 'end' },
          color: {
            field: 'direction',
            type: 'nominal',
            scale: { domain: ['raises', 'lowers'], range: [UP, DOWN] },
            legend: { title: 'contribution' },
          },
          tooltip: [
            { field: 'attribute', type: 'nominal' },
            { field: 'contribution', type: 'quantitative' },
          ],
        },
      },
      {
        data: { values: bars },
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 10 },
        encoding: {
          y: { field: 'label', type: 'nominal', sort: { field: 'step' } },
          x: { field: 'right', type: 'quantitative' },
          text: { field: 'text' },
        },
        transform: [{ calculate: 'max(datum.start, datum.end)', as: 'right' }],
      },
      {
        data: { values: rules },
        mark: { type: 'rule', strokeDash: [4, 3] },
        encoding: {
          x: { field: 'x', type: 'quantitative' },
          color: { value: '#555' },
          tooltip: [
            { field: 'what', type: 'nominal' },
            { field: 'x', type: 'quantitative', format: '.4g' },
          ],
        },
      },
    ],
  };
}

/** Bars of mean |φ| per attribute (shap's global bar plot). */
export function importanceSpec(
  imp: GlobalImportance,
  options: { title?: string; labels?: (name: string) => string } = {},
): VegaLiteSpec {
  const values = imp.players.map((p, k) => ({
    attribute: p,
    label: options.labels ? options.labels(p) : p,
    rank: k,
    meanAbs: imp.meanAbs[k],
    mean: imp.mean[k],
  }));
  return {
    $schema: SCHEMA_URL,
    title: options.title ?? `Global importance: mean |contribution| to ${imp.output} over ${imp.rows} rows`,
    width: 420,
    height: { step: 18 },
    data: { values },
    mark: { type: 'bar', color: UP },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: { field: 'rank' }, title: null },
      x: { field: 'meanAbs', type: 'quantitative', title: 'mean |contribution|' },
      tooltip: [
        { field: 'attribute', type: 'nominal' },
        { field: 'meanAbs', type: 'quantitative', format: '.4g' },
        { field: 'mean', type: 'quantitative', format: '.4g' },
      ],
    },
  };
}

/**
 * A beeswarm (shap's summary plot): one dot per row and attribute at its contribution,
 * attributes ordered by importance, dots coloured by the attribute's value (blue low, red high;
 * categorical attributes grey), jittered deterministically within their row.
 */
export function beeswarmSpec(
  e: Explanation,
  imp: GlobalImportance,
  options: { o?: number; schema?: Schema; maxAttributes?: number; title?: string } = {},
): VegaLiteSpec {
  const { nPlayers, nOutputs } = dims(e);
  const o = options.o ?? 0;
  const d = e.columns.length;
  const shown = imp.players.slice(0, options.maxAttributes ?? 20);
  const values: Record<string, unknown>[] = [];
  shown.forEach((name, rank) => {
    const p = e.players.indexOf(name);
    const cols = e.playerColumns[p];
    const numeric =
      cols.length === 1 && options.schema?.attributes.find((a) => a.name === name)?.type !== 'categorical';
    // colour: the value's rank among the explained rows (robust to skew)
    const xs = numeric ? Array.from({ length: e.nRows }, (_, r) => e.data[r * d + cols[0]]) : [];
    const sorted = [...xs].sort((a, b) => a - b);
    const phis = Array.from({ length: e.nRows }, (_, r) => e.values[(r * nPlayers + p) * nOutputs + o]);
    const order = phis.map((_, r) => r).sort((a, b) => phis[a] - phis[b] || a - b);
    // deterministic swarm: dots close in value alternate above and below the centre line
    const jitter = new Float64Array(e.nRows);
    order.forEach((r, k) => {
      jitter[r] = (((k * 0.6180339887) % 1) - 0.5) * 0.8;
    });
    for (let r = 0; r < e.nRows; r++) {
      let fill = '#999999';
      if (numeric && sorted.length > 1) {
        const lo = lowerBound(sorted, xs[r]);
        const hi = lowerBound(sorted, xs[r] + Number.EPSILON * Math.max(1, Math.abs(xs[r]))) - 1;
        fill = mix((lo + Math.max(lo, hi)) / 2 / (sorted.length - 1));
      }
      values.push({ attribute: name, rank, row: e.rowIndices[r], contribution: phis[r], jitter: jitter[r], fill });
    }
  });
  return {
    $schema: SCHEMA_URL,
    title:
      options.title ??
      `Contributions to ${e.outputs[o]} over ${e.nRows} rows (colour: attribute value, blue low → red high; grey: categorical)`,
    width: 480,
    height: { step: 24 },
    data: { values },
    mark: { type: 'circle', size: 20, opacity: 0.8, aria: false },
    encoding: {
      y: { field: 'attribute', type: 'nominal', sort: { field: 'rank' }, title: null },
      yOffset: { field: 'jitter', type: 'quantitative', scale: { domain: [-0.5, 0.5] } },
      x: { field: 'contribution', type: 'quantitative', title: `contribution to ${e.outputs[o]}` },
      color: { field: 'fill', type: 'nominal', scale: null },
      tooltip: [
        { field: 'attribute', type: 'nominal' },
        { field: 'row', type: 'quantitative' },
        { field: 'contribution', type: 'quantitative', format: '.4g' },
      ],
    },
  };
}

function lowerBound(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Blue (t = 0) to red (t = 1). */
function mix(t: number): string {
  const a = [0x1e, 0x88, 0xe5];
  const b = [0xff, 0x0d, 0x57];
  return `#${a
    .map((v, i) =>
      Math.round(v + (b[i] - v) * Math.min(1, Math.max(0, t)))
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}

function fmt(v: number): string {
  return Number(v.toPrecision(4)).toString();
}
