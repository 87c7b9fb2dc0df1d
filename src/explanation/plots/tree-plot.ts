/** The surrogate tree as a picture: splits, leaf values, samples and its fidelity. */
import type { SurrogateTree } from '../../explainers/surrogate-tree.js';
import type { VegaLiteSpec } from './specs.js';
import { fmt, SCHEMA_URL } from './specs.js';

/** A node of the drawn tree, with its position (x: leaf slots, left to right; y: depth). */
export interface TreePlotNode {
  readonly id: number;
  readonly x: number;
  readonly y: number;
  readonly leaf: boolean;
  readonly samples: number;
  /** Text lines drawn in the box. */
  readonly text: string;
  /** Regression: the node's mean; classification: the probability of its majority class. */
  readonly value: number;
  /** Classification: the node's majority class. */
  readonly class?: string;
}

/** The nodes and edges of a surrogate tree laid out for drawing (leaves in order, parents centred over their children). */
export function treeLayout(s: SurrogateTree): {
  nodes: TreePlotNode[];
  edges: { x: number; y: number; x2: number; y2: number; text: string }[];
  leaves: number;
  depth: number;
} {
  const t = s.tree;
  const K = t.nValues;
  const names = s.classes ?? Array.from({ length: K }, (_, c) => String(c));
  const total = t.samples[0];
  const xs = new Float64Array(t.nNodes);
  let next = 0;
  let depth = 0;
  const place = (i: number): number => {
    depth = Math.max(depth, t.depth[i]);
    if (t.feature[i] < 0) {
      xs[i] = next++;
      return xs[i];
    }
    xs[i] = (place(t.left[i]) + place(t.right[i])) / 2;
    return xs[i];
  };
  place(0);
  const nodes: TreePlotNode[] = [];
  const edges: { x: number; y: number; x2: number; y2: number; text: string }[] = [];
  for (let i = 0; i < t.nNodes; i++) {
    const leaf = t.feature[i] < 0;
    const v = t.value.subarray(i * K, i * K + K);
    let best = 0;
    for (let c = 1; c < K; c++) if (v[c] > v[best]) best = c;
    const share = `n = ${t.samples[i]} (${((100 * t.samples[i]) / total).toFixed(1)}%)`;
    const what = t.task === 'regression' ? `${fmt(v[0])}` : `${names[best]} (p ${fmt(v[best])})`;
    const text = leaf
      ? `${what}\n${share}`
      : `${s.featureNames[t.feature[i]]} <= ${fmt(t.threshold[i])}\n${share}\n${what}`;
    nodes.push({
      id: i,
      x: xs[i],
      y: t.depth[i],
      leaf,
      samples: t.samples[i],
      text,
      value: t.task === 'regression' ? v[0] : v[best],
      ...(t.task === 'classification' ? { class: names[best] } : {}),
    });
    if (!leaf) {
      edges.push({ x: xs[i], y: t.depth[i], x2: xs[t.left[i]], y2: t.depth[t.left[i]], text: 'yes' });
      edges.push({ x: xs[i], y: t.depth[i], x2: xs[t.right[i]], y2: t.depth[t.right[i]], text: 'no' });
    }
  }
  return { nodes, edges, leaves: next, depth };
}

/** The fidelity of a surrogate in a sentence (held-out and training; R² or accuracy). */
export function fidelitySentence(s: SurrogateTree): string {
  const f = s.fidelity;
  const tr = s.trainFidelity;
  const where = s.holdoutRows > 0 ? `${s.holdoutRows} held-out rows` : 'the training rows (no holdout)';
  return s.task === 'regression'
    ? `fidelity on ${where}: R² ${fmt(f.r2 as number)} (training rows: R² ${fmt(tr.r2 as number)})`
    : `fidelity on ${where}: accuracy ${fmt(f.accuracy as number)} (training rows: ${fmt(tr.accuracy as number)})`;
}

/**
 * The surrogate tree drawn top-down: each split with its condition (left branch: yes),
 * samples and value, each leaf with its prediction and samples, coloured by value (regression:
 * light to dark) or majority class; the title gives the fidelity (and its warning when weak).
 */
export function treeSpec(s: SurrogateTree, options: { title?: string } = {}): VegaLiteSpec {
  const { nodes, edges, leaves, depth } = treeLayout(s);
  const slot = 128;
  const level = 86;
  const width = Math.max(260, leaves * slot);
  const height = (depth + 1) * level;
  const x = { type: 'quantitative', scale: { domain: [-0.5, leaves - 0.5], nice: false, zero: false }, axis: null };
  const y = {
    type: 'quantitative',
    scale: { domain: [-0.45, depth + 0.55], reverse: true, nice: false, zero: false },
    axis: null,
  };
  const boxes = nodes.map((n) => ({ ...n, x1: n.x - 0.46, x2: n.x + 0.46, y1: n.y - 0.3, y2: n.y + 0.3 }));
  const color =
    s.task === 'regression'
      ? {
          field: 'value',
          type: 'quantitative',
          scale: { range: ['#fdf1e8', '#f08a4b'] },
          legend: { title: s.target, orient: 'bottom', direction: 'horizontal' },
        }
      : { field: 'class', type: 'nominal', scale: { scheme: 'pastel1' }, legend: { title: 'class', orient: 'bottom' } };
  return {
    $schema: SCHEMA_URL,
    title: {
      text: options.title ?? `Surrogate tree of ${s.target}: depth ${depth}, ${leaves} leaves`,
      subtitle: [fidelitySentence(s), ...(s.warning ? [`WARNING: ${s.warning}`] : [])],
      subtitleColor: s.warning ? '#a94442' : '#444',
      subtitleLimit: 1200,
    },
    width,
    height,
    layer: [
      {
        data: { values: edges },
        mark: { type: 'rule', color: '#888' },
        encoding: { x: { field: 'x', ...x }, y: { field: 'y', ...y }, x2: { field: 'x2' }, y2: { field: 'y2' } },
      },
      {
        data: { values: edges.map((ed) => ({ ...ed, mx: (ed.x + ed.x2) / 2, my: (ed.y + ed.y2) / 2 })) },
        mark: { type: 'text', fontSize: 9, color: '#666', dy: -2 },
        encoding: { x: { field: 'mx', ...x }, y: { field: 'my', ...y }, text: { field: 'text' } },
      },
      {
        data: { values: boxes },
        mark: { type: 'rect', stroke: '#555', strokeWidth: 0.8, cornerRadius: 3 },
        encoding: {
          x: { field: 'x1', ...x },
          x2: { field: 'x2' },
          y: { field: 'y1', ...y },
          y2: { field: 'y2' },
          color: color,
          tooltip: [
            { field: 'id', type: 'quantitative', title: 'node' },
            { field: 'samples', type: 'quantitative' },
            { field: 'value', type: 'quantitative', format: '.4g' },
          ],
        },
      },
      {
        data: { values: boxes },
        mark: { type: 'text', fontSize: 9.5, lineBreak: '\n', baseline: 'middle' },
        encoding: {
          x: { field: 'x', ...x },
          y: { field: 'y', ...y },
          text: { field: 'text' },
          color: { value: '#111' },
        },
      },
    ],
  };
}
