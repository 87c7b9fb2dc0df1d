/**
 * `whybox report`: a saved explanation (or surrogate) re-rendered without the model — HTML
 * with every plot, one SVG plot, or its Vega-Lite spec — and the specs tell the same numbers
 * as the JSON (importance from the rows' values, a waterfall ending at the prediction).
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explanationFromJSON } from '../../src/explanation/explanation.js';
import { formatHtml } from '../../src/explanation/report.js';
import { Rng } from '../../src/sampling/rng.js';
import { run } from '../helpers/cli.js';
import { fixturePath } from '../helpers/fixtures.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

const LIN = fixturePath('linear');
let tmp: TempDir;
const files: Record<string, string> = {};

beforeAll(async () => {
  tmp = await makeTempDir('whybox-report-cli-');
  const rng = Rng.fromSeed(3);
  const names = Array.from({ length: 10 }, (_, i) => `f${i}`);
  const lines = [names.join(',')];
  for (let i = 0; i < 40; i++) lines.push(names.map(() => (Math.round(rng.normal() * 8) / 8).toString()).join(','));
  files.data = await tmp.write('rows.csv', `${lines.join('\n')}\n`);
  const exp = await run(
    'explain',
    ...['--model', LIN, '--data', files.data, '--rows', '0-11', '--method', 'exact', '--seed', '1'],
    ...['--threads', '1', '--format', 'json', '--quiet'],
  );
  expect(exp.code).toBe(0);
  files.json = await tmp.write('exp.json', exp.stdout);
  const surrogate = await run(
    'surrogate',
    '--model',
    LIN,
    '--data',
    files.data,
    '--max-depth',
    '2',
    '--seed',
    '2',
    '--format',
    'json',
  );
  files.surrogate = await tmp.write('surrogate.json', surrogate.stdout);
  files.old = await tmp.write(
    'old.json',
    JSON.stringify({ method: 'exact', players: ['a'], outputs: ['y'], rows: [] }),
  );
  files.bad = await tmp.write('bad.json', '{ not json');
}, 60_000);
afterAll(async () => {
  await tmp.remove();
});

describe('whybox report', () => {
  it('--format html: the same report as the library on the restored explanation, with every plot kind', async () => {
    const r = await run('report', '--in', files.json);
    expect(r.code).toBe(0);
    const json = JSON.parse(await readFile(files.json, 'utf8'));
    const e = explanationFromJSON(json);
    // seconds, seed... are restored, so the library renders the same page
    // (Vega numbers gradients per process: ids differ between two renderings)
    const norm = (h: string) => h.replace(/gradient_\d+/g, 'gradient_N');
    expect(norm(r.stdout) === norm(await formatHtml(e))).toBe(true);
    for (const k of ['waterfall', 'force', 'bar', 'beeswarm', 'dependence', 'heatmap', 'decision'])
      expect(r.stdout).toContain(`<svg data-plot="${k}"`);
  });

  it('--format vega --plot bar: mean |value| per player recomputed from the JSON rows', async () => {
    const r = await run('report', '--in', files.json, '--format', 'vega', '--plot', 'bar');
    expect(r.code).toBe(0);
    const spec = JSON.parse(r.stdout);
    const json = JSON.parse(await readFile(files.json, 'utf8')) as {
      players: string[];
      rows: { values: number[][] }[];
    };
    const bars = spec.data.values as { attribute: string; meanAbs: number; rank: number }[];
    expect(bars.length).toBe(10);
    for (const b of bars) {
      const p = json.players.indexOf(b.attribute);
      const want = json.rows.reduce((s, row) => s + Math.abs(row.values[p][0]), 0) / json.rows.length;
      expect(b.meanAbs).toBeCloseTo(want, 12);
    }
    for (let k = 1; k < bars.length; k++) expect(bars[k].meanAbs).toBeLessThanOrEqual(bars[k - 1].meanAbs);
  });

  it('--plot waterfall --row I: from the base value to that row’s prediction (efficiency), as SVG or spec', async () => {
    const json = JSON.parse(await readFile(files.json, 'utf8')) as {
      baseValues: number[];
      rows: { index: number; prediction: number[] }[];
    };
    const row = json.rows[5];
    const v = await run(
      'report',
      '--in',
      files.json,
      '--format',
      'vega',
      '--plot',
      'waterfall',
      '--row',
      String(row.index),
    );
    const bars = JSON.parse(v.stdout).layer[0].data.values as { start: number; end: number }[];
    expect(bars[0].start).toBeCloseTo(json.baseValues[0], 12);
    expect(bars[bars.length - 1].end).toBeCloseTo(row.prediction[0], 9);
    const svg = await run('report', '--in', files.json, '--format', 'svg', '--plot', 'waterfall', '--row', '5');
    expect(svg.code).toBe(0);
    expect(svg.stdout.startsWith('<svg data-plot="waterfall" data-row="5" ')).toBe(true);
    const out = `${tmp.path}/beeswarm.svg`;
    expect((await run('report', '--in', files.json, '--format', 'svg', '--out', out)).code).toBe(0);
    expect((await readFile(out, 'utf8')).startsWith('<svg data-plot="beeswarm"')).toBe(true);
  });

  it('a surrogate JSON: the tree as HTML, SVG or spec', async () => {
    const html = await run('report', '--in', files.surrogate);
    expect(html.code).toBe(0);
    expect(html.stdout).toContain('<svg data-plot="tree"');
    const spec = JSON.parse((await run('report', '--in', files.surrogate, '--format', 'vega')).stdout);
    const boxes = spec.layer[2].data.values as { leaf: boolean }[];
    const j = JSON.parse(await readFile(files.surrogate, 'utf8'));
    expect(boxes.length).toBe(j.nodes.length);
    expect(boxes.filter((b) => b.leaf).length).toBe(j.leaves);
  });

  for (const [name, argv, pattern] of [
    ['missing --in', () => [], /missing --in/],
    ['not JSON', () => ['--in', files.bad], /is not JSON/],
    ['JSON without the rows', () => ['--in', files.old], /lacks the explained rows|columns\/playerColumns/],
    ['unknown plot', () => ['--in', files.json, '--format', 'svg', '--plot', 'pie'], /--plot must be one of waterfall/],
    ['--plot with html', () => ['--in', files.json, '--plot', 'bar'], /--plot must be used with --format svg or vega/],
    [
      'row not explained',
      () => ['--in', files.json, '--format', 'svg', '--plot', 'force', '--row', '39'],
      /--row must be one of the explained rows/,
    ],
    ['bad format', () => ['--in', files.json, '--format', 'pdf'], /--format must be html, svg or vega/],
  ] as const)
    it(`${name}: exit 2, one line`, async () => {
      const r = await run('report', ...argv());
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^whybox: [^\n]+\n$/);
      expect(r.stderr).toMatch(pattern);
    });
});
