/**
 * SVG of deletion and insertion curves (attribution order against random orders), as
 * produced by whybox/testing's `evaluateFaithfulness`. Self-contained markup (no scripts,
 * no external assets): embed it in an HTML report, or write it to an .svg file.
 */
import { esc } from '../report.js';

/** Mean normalised curves at fractions k/n of the players (see `evaluateFaithfulness`). */
export interface CurveSet {
  readonly fractions: readonly number[];
  readonly deletion: readonly number[];
  readonly insertion: readonly number[];
  readonly randomDeletion: readonly number[];
  readonly randomInsertion: readonly number[];
}

/** Options of {@link faithfulnessCurveSvg}. */
export interface CurveSvgOptions {
  /** @defaultValue 560 */
  width?: number;
  /** @defaultValue 320 */
  height?: number;
  /** Title above the plot. @defaultValue 'Deletion and insertion curves' */
  title?: string;
}

const SERIES = [
  { key: 'deletion', label: 'deletion (attribution order)', color: '#d9534f', dash: '' },
  { key: 'randomDeletion', label: 'deletion (random order)', color: '#d9534f', dash: '6 4' },
  { key: 'insertion', label: 'insertion (attribution order)', color: '#337ab7', dash: '' },
  { key: 'randomInsertion', label: 'insertion (random order)', color: '#337ab7', dash: '6 4' },
] as const;

/**
 * The four curves on one chart: x = fraction of players removed (deletion) or added
 * (insertion), y = normalised output change. Deletion falling faster than its random
 * baseline, and insertion rising faster than its own, mean a faithful order.
 */
export function faithfulnessCurveSvg(curves: CurveSet, options: CurveSvgOptions = {}): string {
  const W = options.width ?? 560;
  const H = options.height ?? 320;
  const title = options.title ?? 'Deletion and insertion curves';
  const m = { left: 48, right: 200, top: 28, bottom: 40 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const all = SERIES.flatMap((s) => curves[s.key] as readonly number[]).filter(Number.isFinite);
  const lo = Math.min(0, ...all);
  const hi = Math.max(1, ...all);
  const x = (f: number) => m.left + f * pw;
  const y = (v: number) => m.top + ((hi - v) / (hi - lo || 1)) * ph;
  const r = (v: number) => v.toFixed(1);
  const lines = SERIES.map((s) => {
    const ys = curves[s.key] as readonly number[];
    const pts = curves.fractions.map((f, k) => `${r(x(f))},${r(y(ys[k]))}`).join(' ');
    return `<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} points="${pts}"><title>${esc(s.label)}</title></polyline>`;
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const yTicks = niceTicks(lo, hi);
  const grid = [
    ...ticks.map(
      (t) =>
        `<line x1="${r(x(t))}" y1="${m.top}" x2="${r(x(t))}" y2="${m.top + ph}" stroke="#eee"/><text x="${r(x(t))}" y="${m.top + ph + 16}" text-anchor="middle">${t}</text>`,
    ),
    ...yTicks.map(
      (t) =>
        `<line x1="${m.left}" y1="${r(y(t))}" x2="${m.left + pw}" y2="${r(y(t))}" stroke="${t === 0 ? '#999' : '#eee'}"/><text x="${m.left - 6}" y="${r(y(t) + 4)}" text-anchor="end">${fmtTick(t)}</text>`,
    ),
  ];
  const legend = SERIES.map(
    (s, k) =>
      `<line x1="${m.left + pw + 16}" y1="${m.top + 10 + k * 20}" x2="${m.left + pw + 44}" y2="${m.top + 10 + k * 20}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/><text x="${m.left + pw + 50}" y="${m.top + 14 + k * 20}">${esc(s.label)}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui,sans-serif" font-size="11" role="img" aria-label="${esc(title)}">
<text x="${m.left}" y="16" font-size="13" font-weight="bold">${esc(title)}</text>
${grid.join('\n')}
<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>
${lines.join('\n')}
${legend.join('\n')}
<text x="${m.left + pw / 2}" y="${H - 6}" text-anchor="middle">fraction of players removed / added</text>
<text transform="translate(12 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">output change / mean |f(x) − base|</text>
</svg>`;
}

function niceTicks(lo: number, hi: number): number[] {
  const span = hi - lo || 1;
  const raw = span / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((s) => s * mag).find((s) => span / s <= 6) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-12; t += step) out.push(Math.abs(t) < 1e-12 ? 0 : t);
  return out;
}

function fmtTick(t: number): string {
  return Number(t.toPrecision(3)).toString();
}
