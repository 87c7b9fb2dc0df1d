/**
 * Vega-Lite specifications of the report plots (waterfall of one decision, global importance
 * bars, beeswarm over many rows). Data are inline, so a spec is reusable as is: paste it
 * into any Vega-Lite renderer or edit it. Rendered to SVG by {@link renderSvg}.
 */
import type { Explanation } from '../explanation.js';
import { dims } from '../explanation.js';
import type { GlobalImportance } from '../importance.js';

/** A Vega-Lite spec (plain JSON). */
export type VegaLiteSpec = Record<string, unknown>;

/** The Vega-Lite schema the specs follow. */
export const SCHEMA_URL = 'https://vega.github.io/schema/vega-lite/v6.json';
/** shap's colours: red raises the output, blue lowers it. */
export const UP = '#ff0d57';
/** Blue: lowers the output. */
export const DOWN = '#1e88e5';

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
          y: { field: 'label', type: 'nominal', sort: { field: 'step' }, title: null, axis: { labelLimit: 600 } },
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
          color: { value: '#666' },
          strokeWidth: { value: 1.2 },
          tooltip: [
            { field: 'what', type: 'nominal' },
            { field: 'x', type: 'quantitative', format: '.4g' },
          ],
        },
      },
      ...(options.threshold !== undefined
        ? [
            {
              data: { values: [{ x: options.threshold }] },
              mark: { type: 'rule', color: '#000', strokeWidth: 2 },
              encoding: { x: { field: 'x', type: 'quantitative' } },
            },
          ]
        : []),
      {
        // each rule named at the top of the plot ("threshold 0.4", "score 0.61", "base value 0.3")
        data: { values: rules.map((q, k) => ({ ...q, text: `${q.what} ${fmt(q.x)}`, k })) },
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 10, baseline: 'top' },
        encoding: {
          x: { field: 'x', type: 'quantitative' },
          y: { value: { expr: '-34 + 11 * datum.k' } },
          text: { field: 'text' },
          color: { value: '#222' },
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
      y: { field: 'label', type: 'nominal', sort: { field: 'rank' }, title: null, axis: { labelLimit: 600 } },
      x: { field: 'meanAbs', type: 'quantitative', title: 'mean |contribution|' },
      tooltip: [
        { field: 'attribute', type: 'nominal' },
        { field: 'meanAbs', type: 'quantitative', format: '.4g' },
        { field: 'mean', type: 'quantitative', format: '.4g' },
      ],
    },
  };
}

/** 4 significant digits. */
export function fmt(v: number): string {
  return Number(v.toPrecision(4)).toString();
}
