/**
 * Deterministic text output for the generator scripts: JSON with one numeric array per line
 * and plain numeric CSV.
 */

/**
 * JSON like `JSON.stringify(value, null, 2)`, except that arrays of numbers are written
 * on one line, so a file of many rows stays readable and diffable.
 * Numbers use JavaScript's shortest round-trip form, so float64 values survive exactly.
 */
export function compactJson(value: unknown): string {
  return `${write(value, '')}\n`;
}

function write(value: unknown, indent: string): string {
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'number')) return JSON.stringify(value);
    const inner = `${indent}  `;
    return `[\n${value.map((v) => inner + write(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const inner = `${indent}  `;
    const entries = Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${write(v, inner)}`);
    return entries.length === 0 ? '{}' : `{\n${entries.join(',\n')}\n${indent}}`;
  }
  const json = JSON.stringify(value);
  if (json === undefined) throw new Error(`compactJson: cannot write ${String(value)}`);
  return json;
}

/**
 * CSV text with a header line and one line per row (`\n` line ends, trailing newline).
 *
 * @throws {Error} when a header cell would need quoting (comma, quote, newline or outer
 *   spaces) or a value is not a finite number: the whybox CSV reader trims cells.
 */
export function numericCsv(header: readonly string[], rows: readonly (readonly number[])[]): string {
  for (const h of header)
    if (/[",\n\r]/.test(h) || h.trim() !== h) throw new Error(`CSV header ${JSON.stringify(h)} would need quoting`);
  const lines = [header.join(',')];
  for (const row of rows) {
    if (row.length !== header.length) throw new Error(`CSV row has ${row.length} values, header ${header.length}`);
    if (!row.every(Number.isFinite)) throw new Error('CSV row has a non-finite value');
    lines.push(row.join(','));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A Markdown table with every column padded to its widest cell (as Biome's Markdown formatter
 * writes it, so generated READMEs pass `biome check`). Widths count UTF-16 code units: keep
 * cells to characters of width 1.
 *
 * @throws {Error} when a row has a different number of cells than the header.
 */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  for (const r of rows)
    if (r.length !== header.length) throw new Error(`table row has ${r.length} cells, header ${header.length}`);
  const widths = header.map((h, c) => Math.max(3, h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((v, c) => v.padEnd(widths[c])).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
