/** Text helpers of the reports and plots: numbers, signs, HTML escapes, players' values. */
import type { Explanation } from './explanation.js';

/**
 * The explained row's value of a player, readable: a one-hot group shows its active level
 * (`checking_status=<0DM` shows `<0DM`), a single column its number.
 */
export function playerValueText(e: Explanation, r: number, p: number): string {
  const cols = e.playerColumns[p];
  const d = e.columns.length;
  const vals = cols.map((c) => e.data[r * d + c]);
  if (cols.length === 1) return formatNumber(vals[0], 6);
  const hot = vals.map((v, i) => (v !== 0 ? i : -1)).filter((i) => i >= 0);
  if (hot.length === 1 && vals[hot[0]] === 1 && vals.every((v) => v === 0 || v === 1)) {
    const name = e.columns[cols[hot[0]]];
    const eq = name.indexOf('=');
    return eq >= 0 ? name.slice(eq + 1) : name;
  }
  if (hot.length === 0) return '(none)';
  return hot.map((i) => `${e.columns[cols[i]]}=${formatNumber(vals[i], 4)}`).join(', ');
}

/** `digits` significant digits: fixed notation between 1e-3 and 1e6, exponential outside. */
export function fmt(v: number, digits: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return v.toExponential(digits - 1);
  return v.toFixed(Math.min(20, Math.max(0, digits - 1 - Math.floor(Math.log10(a)))));
}

/** `v` with its sign (`+` or `−`), {@link fmt} digits. */
export function sign(v: number, digits: number): string {
  return `${v >= 0 ? '+' : '−'}${fmt(Math.abs(v), digits)}`;
}

function formatNumber(v: number, digits: number): string {
  return Number.isInteger(v) ? String(v) : Number(v.toPrecision(digits)).toString();
}

/** Escapes text for HTML and SVG (`& < > " '`). */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
