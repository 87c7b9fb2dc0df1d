/**
 * Sequence-logo style SVG: at each position the letters are stacked with heights
 * proportional to their attribution — positive letters above the zero line, negative ones
 * below it (as logomaker draws attribution logos). Self-contained SVG (no fonts to fetch,
 * no scripts).
 */
import { esc } from '../report.js';

/** Input of {@link sequenceLogoSvg}: an L × A matrix of letter heights (row-major). */
export interface LogoData {
  /** Alphabet letters, one per column of `matrix`. */
  readonly letters: string;
  /** `length × letters.length` attribution per position and letter (0 = not drawn). */
  readonly matrix: ArrayLike<number>;
  readonly length: number;
  /** 1-based number of the first position (for the axis). @defaultValue 1 */
  readonly firstPosition?: number;
  /** The number shown for the i-th position of the logo (0-based), e.g. relative to an anchor. @defaultValue firstPosition + i */
  readonly positionLabel?: (i: number) => number;
}

/** Options of {@link sequenceLogoSvg}. */
export interface LogoOptions {
  /** Pixels per position. @defaultValue 14 */
  positionWidth?: number;
  /** Pixels of the plot height (both halves). @defaultValue 160 */
  height?: number;
  /** Largest |stack| the axis shows. @defaultValue the largest stack of this logo */
  scale?: number;
  /** Accessible title. @defaultValue 'sequence logo' */
  title?: string;
  /** Positions to underline (0-based within the logo), e.g. a planted motif or a top segment. */
  highlight?: readonly (readonly [number, number])[];
}

/** Letter colours: the usual nucleotide colours; a fixed palette for other alphabets. */
export function letterColor(letter: string): string {
  const dna: Record<string, string> = { A: '#109648', C: '#255c99', G: '#f7b32b', T: '#d62839', U: '#d62839' };
  if (dna[letter]) return dna[letter];
  const palette = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666'];
  return palette[letter.charCodeAt(0) % palette.length];
}

/** Cap height of the glyphs (font-size 100, bold sans) used to scale a letter to its height. */
const CAP = 72;

/**
 * Renders a sequence logo. Each letter is an SVG `<text>` scaled to the width of a position
 * and to a height proportional to its value.
 *
 * @example
 * const svg = sequenceLogoSvg({ letters: 'ACGT', matrix: [0.5, 0, 0, 0, 0, 0, -0.2, 0], length: 2 });
 */
export function sequenceLogoSvg(data: LogoData, options: LogoOptions = {}): string {
  const A = data.letters.length;
  const L = data.length;
  const pw = options.positionWidth ?? 14;
  const height = options.height ?? 160;
  const margin = { left: 54, right: 8, top: 10, bottom: 26 };
  const half = height / 2;
  let maxStack = 0;
  for (let p = 0; p < L; p++) {
    let up = 0;
    let down = 0;
    for (let c = 0; c < A; c++) {
      const v = data.matrix[p * A + c];
      if (v > 0) up += v;
      else down -= v;
    }
    maxStack = Math.max(maxStack, up, down);
  }
  const scale = options.scale ?? (maxStack > 0 ? maxStack : 1);
  const px = half / scale; // pixels per unit of value
  const W = margin.left + L * pw + margin.right;
  const H = margin.top + height + margin.bottom;
  const zero = margin.top + half;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img"><title>${esc(options.title ?? 'sequence logo')}</title>`,
  );
  parts.push(
    `<g font-family="Helvetica,Arial,sans-serif" font-weight="bold" font-size="100" text-anchor="start" dominant-baseline="alphabetic">`,
  );
  for (let p = 0; p < L; p++) {
    const x = margin.left + p * pw;
    const ups: [number, number][] = [];
    const downs: [number, number][] = [];
    for (let c = 0; c < A; c++) {
      const v = data.matrix[p * A + c];
      if (v > 0) ups.push([v, c]);
      else if (v < 0) downs.push([-v, c]);
    }
    // smallest nearest the axis, largest outermost
    ups.sort((a, b) => a[0] - b[0]);
    downs.sort((a, b) => a[0] - b[0]);
    let y = zero;
    for (const [v, c] of ups) {
      const h = v * px;
      if (h >= 0.3) parts.push(glyph(data.letters[c], x, y, pw, h));
      y -= h;
    }
    y = zero;
    for (const [v, c] of downs) {
      const h = v * px;
      if (h >= 0.3) parts.push(glyph(data.letters[c], x, y + h, pw, h));
      y += h;
    }
  }
  parts.push('</g>');
  // axes
  parts.push(
    `<line x1="${margin.left}" x2="${margin.left + L * pw}" y1="${zero}" y2="${zero}" stroke="#444" stroke-width="0.8"/>`,
  );
  parts.push(
    `<line x1="${margin.left - 4}" x2="${margin.left - 4}" y1="${margin.top}" y2="${margin.top + height}" stroke="#444" stroke-width="0.8"/>`,
  );
  parts.push(`<g font-family="Helvetica,Arial,sans-serif" font-size="10" fill="#444">`);
  for (const [yv, label] of [
    [margin.top, fmt(scale)],
    [zero, '0'],
    [margin.top + height, fmt(-scale)],
  ] as const)
    parts.push(`<text x="${margin.left - 7}" y="${Number(yv) + 3}" text-anchor="end">${label}</text>`);
  const first = data.firstPosition ?? 1;
  const step = L <= 20 ? 5 : L <= 60 ? 10 : L <= 200 ? 20 : 50;
  for (let p = 0; p < L; p++) {
    const pos = data.positionLabel ? data.positionLabel(p) : first + p;
    if (pos % step === 0 || p === 0 || (data.positionLabel && pos === 1))
      parts.push(
        `<text x="${margin.left + p * pw + pw / 2}" y="${margin.top + height + 16}" text-anchor="middle">${pos}</text>`,
      );
  }
  parts.push('</g>');
  for (const [a, b] of options.highlight ?? [])
    parts.push(
      `<rect x="${margin.left + a * pw}" y="${margin.top + height + 2}" width="${(b - a) * pw}" height="3" fill="#333"/>`,
    );
  parts.push('</svg>');
  return parts.join('\n');
}

/** A letter whose cap height is h pixels and whose width is w, with its baseline at y. */
function glyph(letter: string, x: number, y: number, w: number, h: number): string {
  const sx = w / 62; // advance of a bold capital at font-size 100 ≈ 62–72 units
  const sy = h / CAP;
  return `<text transform="translate(${r2(x)},${r2(y)}) scale(${r4(sx)},${r4(sy)})" fill="${letterColor(letter)}">${esc(letter)}</text>`;
}

/**
 * A bar track of one value per position (positive up, negative down), for long sequences
 * where a logo of every position would be too wide.
 */
export function positionTrackSvg(
  values: ArrayLike<number>,
  options: { width?: number; height?: number; title?: string; highlight?: readonly (readonly [number, number])[] } = {},
): string {
  const L = values.length;
  const width = options.width ?? Math.min(900, Math.max(200, L * 4));
  const height = options.height ?? 80;
  const margin = { left: 44, right: 8, top: 6, bottom: 18 };
  let max = 0;
  for (let i = 0; i < L; i++) max = Math.max(max, Math.abs(values[i]));
  if (max === 0) max = 1;
  const bw = width / L;
  const zero = margin.top + height / 2;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${margin.left + width + margin.right}" height="${margin.top + height + margin.bottom}" role="img"><title>${esc(options.title ?? 'attribution per position')}</title>`,
  ];
  for (let i = 0; i < L; i++) {
    const v = values[i];
    const h = (Math.abs(v) / max) * (height / 2);
    if (h < 0.05) continue;
    parts.push(
      `<rect x="${r2(margin.left + i * bw)}" y="${r2(v >= 0 ? zero - h : zero)}" width="${r2(Math.max(bw, 0.6))}" height="${r2(h)}" fill="${v >= 0 ? '#d9534f' : '#337ab7'}"/>`,
    );
  }
  parts.push(
    `<line x1="${margin.left}" x2="${margin.left + width}" y1="${zero}" y2="${zero}" stroke="#444" stroke-width="0.6"/>`,
  );
  for (const [a, b] of options.highlight ?? [])
    parts.push(
      `<rect x="${r2(margin.left + a * bw)}" y="${margin.top + height + 2}" width="${r2(Math.max((b - a) * bw, 1))}" height="3" fill="#333"/>`,
    );
  parts.push(
    `<g font-family="Helvetica,Arial,sans-serif" font-size="10" fill="#444"><text x="${margin.left - 6}" y="${margin.top + 8}" text-anchor="end">${fmt(max)}</text><text x="${margin.left - 6}" y="${margin.top + height}" text-anchor="end">${fmt(-max)}</text><text x="${margin.left}" y="${margin.top + height + 16}">1</text><text x="${margin.left + width}" y="${margin.top + height + 16}" text-anchor="end">${L}</text></g>`,
  );
  parts.push('</svg>');
  return parts.join('\n');
}

function fmt(v: number): string {
  return Number(v.toPrecision(3)).toString();
}
function r2(v: number): string {
  return (Math.round(v * 100) / 100).toString();
}
function r4(v: number): string {
  return (Math.round(v * 10000) / 10000).toString();
}
