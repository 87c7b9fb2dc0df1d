/**
 * Vega-Lite specs of the plots over many explained rows (beeswarm, dependence, heatmap,
 * decision) and of one row stacked (force), after shap's plot module. Data are inline; every
 * spec renders offline with {@link renderSvg} or any Vega-Lite renderer.
 */
import type { Explanation } from '../explanation.js';
import { dims } from '../explanation.js';
import type { GlobalImportance } from '../importance.js';
import type { FeatureOptions, PlayerFeature } from './features.js';
import { contributions, playerFeature, strongestInteraction, swarm, valueText } from './features.js';
import type { VegaLiteSpec } from './specs.js';
import { DOWN, fmt, SCHEMA_URL, UP } from './specs.js';

/** Options of the plots over many rows. */
export interface ManyRowsOptions extends FeatureOptions {
  /** Players shown (most important first). @defaultValue 20 */
  maxPlayers?: number;
  /** Axis label of a player (e.g. a schema label). @defaultValue the player name */
  labels?: (player: string) => string;
  title?: string;
}

/** Colour scale of the value colour bar: blue (low) to red (high), shap's ramp. */
const VALUE_SCALE = { domain: [0, 1], range: [DOWN, '#7c3cbd', UP] };
const LABEL_LIMIT = 600;

/** An axis over integer positions 0..n-1 labelled with `names`. */
function indexAxis(names: readonly string[], title: string | null = null) {
  return {
    title,
    values: names.map((_, k) => k),
    labelExpr: `${JSON.stringify(names)}[datum.value] || ''`,
    grid: false,
    tickCount: names.length,
    labelLimit: LABEL_LIMIT,
  };
}

function padded(lo: number, hi: number): [number, number] {
  if (!(hi > lo)) return [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.04;
  return [lo - pad, hi + pad];
}

/** One dot of a beeswarm (the spec's data), in player and row order. */
export interface SwarmDot {
  readonly player: string;
  readonly rank: number;
  readonly row: number;
  readonly contribution: number;
  /** Colour position in [0, 1]: the value's rank (numeric) or its category's place by mean effect. */
  readonly t: number;
  readonly value: string;
  /** Vertical offset in pixels from the player's centre line (the swarm). */
  readonly offset: number;
  readonly y: number;
}

/**
 * shap's beeswarm (summary plot): one dot per row and player at its contribution, players by
 * importance, dots stacked in a real swarm (no overlap until the row is full), numeric
 * players coloured by value (blue low → red high, with a colour bar), categorical players
 * coloured by category, the categories ordered by their mean contribution on the same ramp
 * (named at the right of the row, lowest effect first).
 */
export function beeswarmSpec(e: Explanation, imp: GlobalImportance, options: ManyRowsOptions = {}): VegaLiteSpec {
  const o = options.o ?? 0;
  const shown = imp.players.slice(0, options.maxPlayers ?? 20);
  const width = 480;
  const step = 30;
  const diameter = e.nRows > 300 ? 3 : 4.5;
  const phiAll = shown.map((name) => contributions(e, e.players.indexOf(name), o));
  const [lo, hi] = padded(Math.min(0, ...phiAll.flat()), Math.max(0, ...phiAll.flat()));
  const dots: SwarmDot[] = [];
  const notes: { rank: number; text: string }[] = [];
  shown.forEach((name, rank) => {
    const p = e.players.indexOf(name);
    const f = playerFeature(e, p, options);
    const phi = phiAll[rank];
    const px = phi.map((v) => ((v - lo) / (hi - lo)) * width);
    const off = swarm(px, diameter, step / 2 - diameter / 2);
    for (let r = 0; r < e.nRows; r++)
      dots.push({
        player: name,
        rank,
        row: e.rowIndices[r],
        contribution: phi[r],
        t: f.t[r],
        value: f.kind === 'numeric' ? String(Number(f.values[r].toPrecision(6))) : f.values[r],
        offset: off[r],
        y: rank - off[r] / step,
      });
    if (f.kind === 'categorical') {
      const text = f.order.join(' < ');
      notes.push({ rank, text: text.length > 48 ? `${text.slice(0, 47)}…` : text });
    }
  });
  const labels = shown.map((n) => (options.labels ? options.labels(n) : n));
  const y = {
    field: 'y',
    type: 'quantitative',
    scale: { domain: [-0.5, shown.length - 0.5], reverse: true, nice: false, zero: false },
    axis: indexAxis(labels),
  };
  return {
    $schema: SCHEMA_URL,
    title:
      options.title ??
      `Contributions to ${e.outputs[o]} over ${e.nRows} rows (one dot per row; colour: value, blue low → red high; categories by mean effect)`,
    width,
    height: step * shown.length,
    layer: [
      {
        data: { values: [{ x: 0 }] },
        mark: { type: 'rule', color: '#999', strokeWidth: 0.8 },
        encoding: { x: { field: 'x', type: 'quantitative' } },
      },
      {
        data: { values: dots },
        mark: { type: 'circle', size: Math.round((Math.PI * diameter * diameter) / 4), opacity: 0.9, aria: false },
        encoding: {
          x: {
            field: 'contribution',
            type: 'quantitative',
            title: `contribution to ${e.outputs[o]}`,
            scale: { domain: [lo, hi], nice: false, zero: false },
          },
          y,
          color: {
            field: 't',
            type: 'quantitative',
            scale: VALUE_SCALE,
            legend: {
              title: 'value',
              orient: 'bottom',
              direction: 'horizontal',
              gradientLength: 160,
              values: [0, 1],
              labelExpr: "datum.value < 0.5 ? 'low' : 'high'",
            },
          },
          tooltip: [
            { field: 'player', type: 'nominal' },
            { field: 'row', type: 'quantitative' },
            { field: 'value', type: 'nominal' },
            { field: 'contribution', type: 'quantitative', format: '.4g' },
          ],
        },
      },
      ...(notes.length
        ? [
            {
              data: { values: notes },
              mark: { type: 'text', align: 'left', baseline: 'middle', dx: 8, fontSize: 9, color: '#666' },
              encoding: {
                x: { datum: hi, type: 'quantitative' },
                y: { field: 'rank', type: 'quantitative' },
                text: { field: 'text' },
              },
            },
          ]
        : []),
    ],
  };
}

/** Options of {@link dependenceSpec}. */
export interface DependenceOptions extends ManyRowsOptions {
  /** Panels: the most important players. @defaultValue 4 */
  players?: number;
}

/** One panel of a dependence plot. */
export interface DependencePanel {
  readonly player: string;
  /** The player colouring the dots: the strongest interaction, or none. */
  readonly colorBy?: string;
  readonly kind: 'numeric' | 'categorical';
  readonly points: readonly { x: number | string; contribution: number; t: number; colorValue: string; row: number }[];
}

/** The panels of {@link dependenceSpec}: per top player, its value and contribution per row, coloured by its strongest interaction. */
export function dependencePanels(
  e: Explanation,
  imp: GlobalImportance,
  options: DependenceOptions = {},
): DependencePanel[] {
  const o = options.o ?? 0;
  const features: PlayerFeature[] = e.players.map((_, p) => playerFeature(e, p, options));
  return imp.players.slice(0, options.players ?? 4).map((name) => {
    const p = e.players.indexOf(name);
    const q = strongestInteraction(e, p, features, o);
    const phi = contributions(e, p, o);
    const f = features[p];
    return {
      player: name,
      colorBy: q === undefined ? undefined : e.players[q],
      kind: f.kind,
      points: phi.map((c, r) => ({
        x: f.values[r],
        contribution: c,
        t: q === undefined ? 0.5 : features[q].t[r],
        colorValue: q === undefined ? '' : valueText(e, r, q, options.schema),
        row: e.rowIndices[r],
      })),
    };
  });
}

/**
 * shap's dependence (scatter) plots: for each of the top players, its contribution against its
 * value (categories ordered by mean effect), one dot per row, coloured by the value of the
 * player that interacts most with it ({@link strongestInteraction}).
 */
export function dependenceSpec(e: Explanation, imp: GlobalImportance, options: DependenceOptions = {}): VegaLiteSpec {
  const o = options.o ?? 0;
  const label = (n: string) => (options.labels ? options.labels(n) : n);
  const panels = dependencePanels(e, imp, options).map((panel) => {
    const f = panel.kind;
    const order = f === 'categorical' ? playerFeatureOrder(e, panel.player, options) : undefined;
    return {
      title: {
        text: label(panel.player),
        fontSize: 12,
        limit: LABEL_LIMIT,
        ...(panel.colorBy ? { subtitle: `colour: ${label(panel.colorBy)}`, subtitleLimit: LABEL_LIMIT } : {}),
      },
      width: 300,
      height: 200,
      data: { values: panel.points },
      mark: { type: 'circle', size: 22, opacity: 0.85, aria: false },
      encoding: {
        x:
          f === 'numeric'
            ? { field: 'x', type: 'quantitative', title: 'value', scale: { zero: false } }
            : {
                field: 'x',
                type: 'nominal',
                sort: order,
                title: 'category (by mean effect)',
                axis: { labelAngle: -40, labelLimit: 240 },
              },
        y: { field: 'contribution', type: 'quantitative', title: `contribution to ${e.outputs[o]}` },
        color: {
          field: 't',
          type: 'quantitative',
          scale: VALUE_SCALE,
          legend: panel.colorBy
            ? {
                title: null,
                values: [0, 1],
                labelExpr: "datum.value < 0.5 ? 'low' : 'high'",
                gradientLength: 120,
              }
            : null,
        },
        tooltip: [
          { field: 'row', type: 'quantitative' },
          { field: 'x', type: f === 'numeric' ? 'quantitative' : 'nominal', title: panel.player },
          { field: 'contribution', type: 'quantitative', format: '.4g' },
          ...(panel.colorBy ? [{ field: 'colorValue', type: 'nominal', title: panel.colorBy }] : []),
        ],
      },
    };
  });
  return {
    $schema: SCHEMA_URL,
    title:
      options.title ??
      `Dependence: contribution against value for the top ${panels.length} players (colour: the strongest interacting player)`,
    columns: 2,
    concat: panels,
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
  };
}

function playerFeatureOrder(e: Explanation, name: string, options: FeatureOptions): string[] {
  const f = playerFeature(e, e.players.indexOf(name), options);
  return f.kind === 'categorical' ? [...f.order] : [];
}

/** Options of {@link heatmapSpec}. */
export interface HeatmapOptions extends ManyRowsOptions {
  /** Row order: by prediction (descending), or by similarity of the rows' contributions. @defaultValue 'similarity' */
  order?: 'prediction' | 'similarity';
}

/**
 * The order of the rows of a heatmap: by decreasing prediction, or a nearest-neighbour chain
 * over the rows' contribution vectors (start at the row of largest prediction, then always the
 * closest unvisited row, Euclidean), so similar explanations sit together.
 */
export function heatmapOrder(e: Explanation, order: 'prediction' | 'similarity', o = 0): number[] {
  const { nPlayers, nOutputs } = dims(e);
  const pred = (r: number) => e.predictions[r * nOutputs + o];
  const byPred = Array.from({ length: e.nRows }, (_, r) => r).sort((a, b) => pred(b) - pred(a) || a - b);
  if (order === 'prediction' || e.nRows < 3) return byPred;
  const seen = new Uint8Array(e.nRows);
  const out = [byPred[0]];
  seen[byPred[0]] = 1;
  while (out.length < e.nRows) {
    const a = out[out.length - 1];
    let best = -1;
    let bestD = Number.POSITIVE_INFINITY;
    for (const b of byPred) {
      if (seen[b]) continue;
      let d = 0;
      for (let p = 0; p < nPlayers; p++)
        d += (e.values[(a * nPlayers + p) * nOutputs + o] - e.values[(b * nPlayers + p) * nOutputs + o]) ** 2;
      if (d < bestD) {
        bestD = d;
        best = b;
      }
    }
    seen[best] = 1;
    out.push(best);
  }
  return out;
}

/**
 * shap's heatmap: rows (columns of the plot, ordered by {@link heatmapOrder}) × players (by
 * importance), each cell coloured by the contribution (blue lowers, red raises, white 0,
 * symmetric scale), with the rows' predictions drawn above.
 */
export function heatmapSpec(e: Explanation, imp: GlobalImportance, options: HeatmapOptions = {}): VegaLiteSpec {
  const o = options.o ?? 0;
  const { nPlayers, nOutputs } = dims(e);
  const shown = imp.players.slice(0, options.maxPlayers ?? 20);
  const order = heatmapOrder(e, options.order ?? 'similarity', o);
  const cells: { k: number; row: number; player: string; rank: number; contribution: number }[] = [];
  let max = 0;
  shown.forEach((name, rank) => {
    const p = e.players.indexOf(name);
    order.forEach((r, k) => {
      const v = e.values[(r * nPlayers + p) * nOutputs + o];
      max = Math.max(max, Math.abs(v));
      cells.push({ k, row: e.rowIndices[r], player: name, rank, contribution: v });
    });
  });
  if (max === 0) max = 1;
  const preds = order.map((r, k) => ({ k, row: e.rowIndices[r], prediction: e.predictions[r * nOutputs + o] }));
  const width = Math.min(900, Math.max(300, e.nRows * 6));
  const labels = shown.map((n) => (options.labels ? options.labels(n) : n));
  const x = {
    field: 'k',
    type: 'quantitative',
    scale: { domain: [0, e.nRows], nice: false, zero: false },
    axis: null,
  };
  return {
    $schema: SCHEMA_URL,
    title:
      options.title ??
      `Heatmap: ${e.nRows} rows (ordered by ${options.order === 'prediction' ? 'prediction' : 'similarity of their contributions'}) × ${shown.length} players`,
    spacing: 4,
    vconcat: [
      {
        width,
        height: 60,
        data: { values: preds },
        mark: { type: 'line', color: '#333', strokeWidth: 1.2, interpolate: 'step-after' },
        encoding: {
          x,
          y: { field: 'prediction', type: 'quantitative', title: `${e.outputs[o]}`, scale: { zero: false } },
        },
      },
      {
        width,
        height: 22 * shown.length,
        data: { values: cells },
        transform: [
          { calculate: 'datum.k + 1', as: 'k2' },
          { calculate: 'datum.rank - 0.5', as: 'y1' },
          { calculate: 'datum.rank + 0.5', as: 'y2' },
        ],
        mark: { type: 'rect', aria: false },
        encoding: {
          x: { ...x, axis: { title: 'rows', labels: false, ticks: false, grid: false } },
          x2: { field: 'k2' },
          y: {
            field: 'y1',
            type: 'quantitative',
            scale: { domain: [-0.5, shown.length - 0.5], reverse: true, nice: false, zero: false },
            axis: { ...indexAxis(labels), values: labels.map((_, k) => k) },
          },
          y2: { field: 'y2' },
          color: {
            field: 'contribution',
            type: 'quantitative',
            scale: { domain: [-max, 0, max], range: [DOWN, '#ffffff', UP] },
            legend: { title: 'contribution', orient: 'right', gradientLength: 120 },
          },
          tooltip: [
            { field: 'row', type: 'quantitative' },
            { field: 'player', type: 'nominal' },
            { field: 'contribution', type: 'quantitative', format: '.4g' },
          ],
        },
      },
    ],
  };
}

/** Options of {@link decisionSpec}. */
export interface DecisionOptions extends ManyRowsOptions {
  /** Rows drawn (the first ones given). @defaultValue 200 */
  maxRows?: number;
  /** A decision threshold to draw as a labelled rule. */
  threshold?: number;
}

/**
 * shap's decision plot: per row a path from the base value (bottom) through the cumulative sum
 * of its contributions, least important player first, to its prediction (top); players by
 * importance, the most important at the top (the rest summed into one step). Paths coloured
 * by prediction.
 */
export function decisionSpec(e: Explanation, imp: GlobalImportance, options: DecisionOptions = {}): VegaLiteSpec {
  const o = options.o ?? 0;
  const { nPlayers, nOutputs } = dims(e);
  const maxPlayers = options.maxPlayers ?? 20;
  const top = imp.players.slice(0, maxPlayers);
  const rest = imp.players.slice(maxPlayers);
  // bottom to top: (the rest), least important ... most important
  const steps: { name: string; players: number[] }[] = [];
  if (rest.length)
    steps.push({ name: `(${rest.length} other players)`, players: rest.map((n) => e.players.indexOf(n)) });
  for (const n of [...top].reverse()) steps.push({ name: n, players: [e.players.indexOf(n)] });
  const nRows = Math.min(e.nRows, options.maxRows ?? 200);
  const points: { row: number; j: number; x: number; prediction: number }[] = [];
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let r = 0; r < nRows; r++) {
    let at = e.rowBaseValues ? e.rowBaseValues[r * nOutputs + o] : e.baseValues[o];
    const prediction = e.predictions[r * nOutputs + o];
    points.push({ row: e.rowIndices[r], j: 0, x: at, prediction });
    steps.forEach((s, j) => {
      for (const p of s.players) at += e.values[(r * nPlayers + p) * nOutputs + o];
      points.push({ row: e.rowIndices[r], j: j + 1, x: at, prediction });
      lo = Math.min(lo, at);
      hi = Math.max(hi, at);
    });
  }
  const labels = [
    'base value',
    ...steps.map((s) => (options.labels && !s.name.startsWith('(') ? options.labels(s.name) : s.name)),
  ];
  const base = e.baseValues[o];
  const rules = [
    { what: `base value ${fmt(base)}`, x: base, j: 0 },
    ...(options.threshold !== undefined
      ? [{ what: `threshold ${fmt(options.threshold)}`, x: options.threshold, j: steps.length }]
      : []),
  ];
  const [x0, x1] = padded(Math.min(lo, base, options.threshold ?? lo), Math.max(hi, base, options.threshold ?? hi));
  const preds = points.map((q) => q.prediction);
  return {
    $schema: SCHEMA_URL,
    title: options.title ?? `Decision plot: ${nRows} rows from the base value (bottom) to their ${e.outputs[o]} (top)`,
    width: 480,
    height: 22 * labels.length,
    layer: [
      {
        data: { values: points },
        mark: { type: 'line', strokeWidth: 1, opacity: 0.7 },
        encoding: {
          x: {
            field: 'x',
            type: 'quantitative',
            title: e.outputs[o],
            scale: { domain: [x0, x1], nice: false, zero: false },
          },
          y: {
            field: 'j',
            type: 'quantitative',
            scale: { domain: [0, labels.length - 1], nice: false, zero: false },
            axis: indexAxis(labels),
          },
          detail: { field: 'row', type: 'nominal' },
          order: { field: 'j', type: 'quantitative' },
          color: {
            field: 'prediction',
            type: 'quantitative',
            scale: { domain: [Math.min(...preds), Math.max(...preds)], range: [DOWN, '#7c3cbd', UP] },
            legend: { title: e.outputs[o], orient: 'bottom', direction: 'horizontal', gradientLength: 160 },
          },
          tooltip: [
            { field: 'row', type: 'quantitative' },
            { field: 'prediction', type: 'quantitative', format: '.4g' },
          ],
        },
      },
      {
        data: { values: rules },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#555' },
        encoding: { x: { field: 'x', type: 'quantitative' } },
      },
      {
        data: { values: rules },
        mark: { type: 'text', align: 'left', dx: 3, dy: -4, fontSize: 10, color: '#333' },
        encoding: {
          x: { field: 'x', type: 'quantitative' },
          y: { field: 'j', type: 'quantitative' },
          text: { field: 'what' },
        },
      },
    ],
  };
}

/** One segment of a force plot. */
export interface ForceSegment {
  readonly player: string;
  readonly label: string;
  readonly contribution: number;
  readonly start: number;
  readonly end: number;
}

/**
 * The segments of a force plot of row r (output o): players raising the output (red) stacked
 * left of the prediction, the largest nearest it, players lowering it (blue) stacked right of
 * it; the stack spans from the base value's side: Σ red − Σ |blue| = prediction − base.
 */
export function forceSegments(e: Explanation, r: number, options: FeatureOptions = {}): ForceSegment[] {
  const o = options.o ?? 0;
  const { nPlayers, nOutputs } = dims(e);
  const pred = e.predictions[r * nOutputs + o];
  const phi = Array.from({ length: nPlayers }, (_, p) => e.values[(r * nPlayers + p) * nOutputs + o]);
  const byAbs = phi.map((_, p) => p).sort((a, b) => Math.abs(phi[b]) - Math.abs(phi[a]) || a - b);
  const out: ForceSegment[] = [];
  let at = pred;
  for (const p of byAbs.filter((q) => phi[q] > 0)) {
    out.push({
      player: e.players[p],
      label: `${e.players[p]} = ${valueText(e, r, p, options.schema)}`,
      contribution: phi[p],
      start: at - phi[p],
      end: at,
    });
    at -= phi[p];
  }
  at = pred;
  for (const p of byAbs.filter((q) => phi[q] < 0)) {
    out.push({
      player: e.players[p],
      label: `${e.players[p]} = ${valueText(e, r, p, options.schema)}`,
      contribution: phi[p],
      start: at,
      end: at - phi[p],
    });
    at -= phi[p];
  }
  return out;
}

/**
 * shap's force plot of one row: one bar of stacked segments, red pushing the output up to the
 * prediction from the left, blue pushing it down from the right, labelled rules at the base
 * value and the prediction; segments wider than 4% of the span are labelled.
 */
export function forceSpec(e: Explanation, r: number, options: FeatureOptions & { title?: string } = {}): VegaLiteSpec {
  const o = options.o ?? 0;
  const nOutputs = e.outputs.length;
  const segs = forceSegments(e, r, options).map((s) => ({
    ...s,
    direction: s.contribution >= 0 ? 'raises' : 'lowers',
    mid: (s.start + s.end) / 2,
  }));
  const pred = e.predictions[r * nOutputs + o];
  const base = e.rowBaseValues ? e.rowBaseValues[r * nOutputs + o] : e.baseValues[o];
  const lo = Math.min(base, pred, ...segs.map((s) => s.start));
  const hi = Math.max(base, pred, ...segs.map((s) => s.end));
  const [x0, x1] = padded(lo, hi);
  const span = x1 - x0;
  const labelled = segs.filter((s) => Math.abs(s.contribution) >= 0.04 * span);
  // the left rule's label reads leftwards, the right one's rightwards: they never overlap
  const rules = [
    { what: `base value ${fmt(base)}`, x: base, side: base <= pred ? 'left' : 'right' },
    { what: `${e.outputs[o]} = ${fmt(pred)}`, x: pred, side: base <= pred ? 'right' : 'left' },
  ];
  const xEnc = { type: 'quantitative', scale: { domain: [x0, x1], nice: false, zero: false } };
  return {
    $schema: SCHEMA_URL,
    title:
      options.title ?? `Force plot, row ${e.rowIndices[r]}: ${e.outputs[o]} ${fmt(pred)} from base value ${fmt(base)}`,
    width: 640,
    height: 110,
    layer: [
      {
        data: { values: segs },
        mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
        encoding: {
          x: { field: 'start', ...xEnc, title: e.outputs[o] },
          x2: { field: 'end' },
          y: { value: 28 },
          y2: { value: 52 },
          color: {
            field: 'direction',
            type: 'nominal',
            scale: { domain: ['raises', 'lowers'], range: [UP, DOWN] },
            legend: { title: 'contribution', orient: 'bottom', direction: 'horizontal' },
          },
          tooltip: [
            { field: 'label', type: 'nominal', title: 'player' },
            { field: 'contribution', type: 'quantitative' },
          ],
        },
      },
      {
        data: { values: labelled },
        mark: { type: 'text', angle: 35, align: 'left', baseline: 'top', fontSize: 9, dy: 4 },
        encoding: {
          x: { field: 'mid', ...xEnc },
          y: { value: 54 },
          text: { field: 'label' },
          color: { value: '#333' },
        },
      },
      {
        data: { values: rules },
        mark: { type: 'rule', strokeDash: [3, 2], color: '#333' },
        encoding: { x: { field: 'x', ...xEnc }, y: { value: 14 }, y2: { value: 56 } },
      },
      ...(['left', 'right'] as const).map((side) => ({
        data: { values: rules.filter((q) => q.side === side) },
        mark: {
          type: 'text',
          fontSize: 10,
          fontWeight: 'bold',
          baseline: 'bottom',
          align: side === 'left' ? 'right' : 'left',
          dx: side === 'left' ? -2 : 2,
        },
        encoding: { x: { field: 'x', ...xEnc }, y: { value: 12 }, text: { field: 'what' }, color: { value: '#222' } },
      })),
    ],
  };
}
