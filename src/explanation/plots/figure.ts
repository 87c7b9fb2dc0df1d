/**
 * The one plotting path of every whybox report: a Vega-Lite spec (data inline) rendered to
 * SVG by {@link renderSvg}, its root tagged `<svg data-plot="KIND" ...>`, and wrapped in a
 * `<figure>` that carries the spec as JSON for reuse.
 */
import { esc } from '../text.js';
import { renderSvg } from './render.js';
import type { VegaLiteSpec } from './specs.js';

/** The plot kinds of the reports (the `data-plot` attribute of each plot's root `<svg>`). */
export const PLOT_KINDS = [
  'waterfall',
  'bar',
  'beeswarm',
  'dependence',
  'heatmap',
  'decision',
  'force',
  'lime',
  'tree',
  'logo',
  'profile',
] as const;

/** One of {@link PLOT_KINDS}. */
export type PlotKind = (typeof PLOT_KINDS)[number];

/** Sets `data-plot="kind"` (and an optional `data-row`) on the root `<svg>` of an SVG string. */
export function tagSvg(svg: string, kind: PlotKind, row?: number): string {
  const at = svg.indexOf('<svg');
  if (at < 0) return svg;
  const attrs = ` data-plot="${kind}"${row !== undefined ? ` data-row="${row}"` : ''}`;
  return `${svg.slice(0, at + 4)}${attrs}${svg.slice(at + 4)}`;
}

/** Renders `spec` to SVG and tags its root with the plot kind. */
export async function plotSvg(kind: PlotKind, spec: VegaLiteSpec, row?: number): Promise<string> {
  return tagSvg(await renderSvg(spec), kind, row);
}

/** A rendered plot: its kind, its spec (absent for plots drawn without Vega, such as logos) and its SVG. */
export interface Figure {
  readonly id: string;
  readonly kind: PlotKind;
  readonly svg: string;
  readonly spec?: VegaLiteSpec;
  readonly row?: number;
  readonly caption?: string;
}

/** Renders a spec into a {@link Figure}. */
export async function makeFigure(
  id: string,
  kind: PlotKind,
  spec: VegaLiteSpec,
  options: { row?: number; caption?: string } = {},
): Promise<Figure> {
  return { id, kind, spec, svg: await plotSvg(kind, spec, options.row), row: options.row, caption: options.caption };
}

/** A figure as HTML: the SVG, its caption, and its Vega-Lite spec in a `<script type="application/json">`. */
export function figureHtml(f: Figure): string {
  const row = f.row !== undefined ? ` data-row="${f.row}"` : '';
  const spec = f.spec
    ? `\n<script type="application/json" class="vega-lite-spec" data-plot="${f.kind}" data-for="${esc(f.id)}">${jsonForHtml(f.spec)}</script>`
    : '';
  return `<figure class="plot" id="${esc(f.id)}" data-plot="${f.kind}"${row}>
${f.svg}
${f.caption ? `<figcaption>${esc(f.caption)}</figcaption>` : ''}${spec}
</figure>`;
}

/** JSON safe inside a `<script>` element (no `</script>`, no `<!--`). */
export function jsonForHtml(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/**
 * The shared CSS of the HTML reports: readable on screen and on paper (plots never split
 * across pages, sections outside the viewport are not laid out until scrolled to, so a
 * report of hundreds of rows opens fast).
 */
export const REPORT_CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse}td,th{padding:2px 10px;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
figure.plot{margin:1em 0;break-inside:avoid}figure.plot svg{max-width:100%;height:auto;display:block}
figcaption{color:#555;font-size:12px}
section.row{content-visibility:auto;contain-intrinsic-size:auto 700px;margin-bottom:2em}
table.summary th{cursor:pointer;user-select:none;border-bottom:1px solid #999}
table.summary tr:nth-child(even){background:#f6f6f6}
.warning{background:#fff3cd;border:1px solid #e0c060;padding:6px 10px}
@media print{body{max-width:none;margin:0}section.row{content-visibility:visible}a{color:inherit;text-decoration:none}table.summary th{cursor:auto}}`;

/**
 * A tiny inline script (no network) that sorts a `table.summary` by the clicked column
 * (numbers by value, text alphabetically; click again to reverse). The table is already in
 * a useful order without it.
 */
export const SORT_SCRIPT = `<script>
for (const t of document.querySelectorAll('table.summary')) {
  t.querySelectorAll('th').forEach((th, i) => th.addEventListener('click', () => {
    const body = t.tBodies[0]; const rows = Array.from(body.rows);
    const dir = th.dataset.dir === 'asc' ? -1 : 1; th.dataset.dir = dir === 1 ? 'asc' : 'desc';
    const key = (r) => { const c = r.cells[i]; const v = c.dataset.sort ?? c.textContent; const n = Number(v); return Number.isNaN(n) ? v : n; };
    rows.sort((a, b) => { const x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * dir; });
    for (const r of rows) body.appendChild(r);
  }));
}
</script>`;
