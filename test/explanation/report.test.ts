import { describe, expect, it } from 'vitest';
import type { Explanation } from '../../src/explanation/explanation.js';
import { explanationToJSON } from '../../src/explanation/explanation.js';
import { formatHtml, formatTable, playerValueText } from '../../src/explanation/report.js';

/** One row, three players (a one-hot group and two numbers), one output. */
function sample(values: number[]): Explanation {
  return {
    method: 'exact',
    players: ['colour', 'size', 'w<eight>'],
    outputs: ['p'],
    columns: ['colour=red', 'colour=blue', 'size', 'w<eight>'],
    playerColumns: [[0, 1], [2], [3]],
    nRows: 1,
    rowIndices: [7],
    data: Float64Array.of(0, 1, 2.5, 1000),
    baseValues: Float64Array.of(0.25),
    predictions: Float64Array.of(0.25 + values.reduce((a, v) => a + v, 0)),
    values: Float64Array.from(values),
    stderr: new Float64Array(3),
    exact: [true],
    evaluations: 8,
    modelRows: 10,
    seconds: 0.01,
    meta: { version: '0', seed: 1, budget: 8, background: { rows: 2, summary: '2 rows' }, threads: 1 },
  };
}

describe('reports', () => {
  it('shows 4 significant digits, the active one-hot level, and sorts by |contribution|', () => {
    const text = formatTable(sample([123.456, 0.5, -0.00123]));
    expect(text).toContain('+123.5');
    expect(text).toContain('+0.5000');
    expect(text).toContain('−0.001230');
    expect(text.indexOf('colour')).toBeLessThan(text.indexOf('size'));
    expect(text).toMatch(/Row 7 — p: prediction/);
    expect(playerValueText(sample([0, 0, 0]), 0, 0)).toBe('blue');
    expect(playerValueText(sample([0, 0, 0]), 0, 1)).toBe('2.5');
  });

  it('HTML escapes names and is self-contained: no script that runs, no link, no fetched asset', async () => {
    const html = await formatHtml(sample([1, 2, 3]));
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('w&#60;eight&#62;');
    // the only scripts are JSON data blocks (the plots' Vega-Lite specs)
    const scripts = html.match(/<script[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const s of scripts) expect(s).toContain('type="application/json"');
    expect(html).not.toMatch(/\s(src|href)=["']?https?:/);
    expect(html).toContain('<svg data-plot="waterfall"');
    // no empty "± s.e." column when the values are exact with no error estimate
    expect(html).toContain('± s.e.');
  });

  it('JSON keeps the contract shape and reports the efficiency gap', () => {
    const j = explanationToJSON(sample([0.1, 0.2, 0.3]));
    expect(j.rows[0].index).toBe(7);
    expect(j.rows[0].values).toEqual([[0.1], [0.2], [0.3]]);
    expect(j.rows[0].efficiencyGap).toBeLessThan(1e-15);
    expect(Object.keys(j)).toEqual(
      expect.arrayContaining([
        'method',
        'players',
        'outputs',
        'baseValues',
        'rows',
        'evaluations',
        'modelRows',
        'seconds',
      ]),
    );
  });
});
