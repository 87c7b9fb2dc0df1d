/**
 * Every plot kind in real Chromium (Debian's chromium driven by playwright-core): each report
 * renders offline, every `data-plot` kind is there, the marks match the data (bar lengths and
 * order, swarm colours by value, one heatmap cell per row and player, one decision path per
 * row, tree boxes per node), the layout holds (no horizontal overflow, no overlapping figures,
 * no cut labels, non-blank screenshots), and a 400-applicant credit report loads in < 2 s.
 * Skips when /usr/bin/chromium is absent (`apt-get install -y chromium`). Set
 * WHYBOX_SCREENSHOTS=DIR to keep the screenshots.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCsv } from '../../src/data/csv.js';
import { createDataset, sliceRows } from '../../src/data/dataset.js';
import { encodeRecords, loadRawCsv } from '../../src/data/encoder.js';
import { loadSchema, schemaPlayers } from '../../src/data/schema.js';
import { explain } from '../../src/explain.js';
import { explainSequences } from '../../src/explain-sequences.js';
import { surrogateTree } from '../../src/explainers/surrogate-tree.js';
import type { Explanation } from '../../src/explanation/explanation.js';
import { globalImportance } from '../../src/explanation/importance.js';
import { formatCreditHtml } from '../../src/explanation/plots/credit-report.js';
import { formatSurrogateHtml } from '../../src/explanation/plots/surrogate-report.js';
import { loadReasonTemplates, reasonCodes } from '../../src/explanation/reasons.js';
import { formatHtml } from '../../src/explanation/report.js';
import { formatSequenceHtml } from '../../src/explanation/sequence-report.js';
import { fromFunction } from '../../src/models/function-model.js';
import { loadOnnx } from '../../src/models/onnx-model.js';
import { Rng } from '../../src/sampling/rng.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM)
  console.warn(`skipping the browser tests of the plots: ${CHROMIUM} not found (apt-get install -y chromium)`);
const DIR = fileURLToPath(new URL('../../datasets/credit-demo/', import.meta.url));
const SHOTS = process.env.WHYBOX_SCREENSHOTS;

/** The DOM methods used inside page callbacks (the test's tsconfig has no DOM library). */
interface El {
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { x: number; y: number; width: number; height: number };
  querySelectorAll(s: string): ArrayLike<El>;
  textContent: string | null;
}

let tmp: TempDir;
let profile: string;
let context: BrowserContext | undefined;
const files: Record<string, string> = {};
let tabular: Explanation;
let creditLoadMs = 0;

/** age, income (interacting with age), colour (one-hot), size, noise: a model with an interaction. */
const tabularModel = fromFunction(
  (x: Float64Array) => 2 * x[0] + 4 * (x[1] - 0.5) * (x[0] - 0.5) + 0.3 * x[2] - 0.2 * x[3] + 0.5 * x[5] + 0.01 * x[6],
  { nInputs: 7, inputNames: ['age', 'income', 'colour=red', 'colour=green', 'colour=blue', 'size', 'noise'] },
);
function tabularRows(n: number, seed: number) {
  const rng = Rng.fromSeed(seed);
  const d = 7;
  const data = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    for (const c of [0, 1, 5, 6]) data[r * d + c] = Math.round(rng.float() * 100) / 100;
    data[r * d + 2 + rng.int(3)] = 1;
  }
  return createDataset(['age', 'income', 'colour=red', 'colour=green', 'colour=blue', 'size', 'noise'], data);
}
const GROUPS = { names: ['age', 'income', 'colour', 'size', 'noise'] };

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return;
  tmp = await makeTempDir('whybox-plots-');
  const rows = tabularRows(60, 1);
  const bg = tabularRows(10, 2);
  const { definePlayers } = await import('../../src/data/players.js');
  const players = definePlayers(rows.columns, { colour: ['colour=red', 'colour=green', 'colour=blue'] });
  expect(players.names).toEqual(GROUPS.names);
  tabular = await explain(tabularModel, rows, { background: bg, players, method: 'exact', seed: 1, threads: 1 });
  files.tabular = await tmp.write('tabular.html', await formatHtml(tabular, { maxRowPlots: 6 }));
  const lime = await explain(tabularModel, sliceRows(rows, 0, 8), {
    background: tabularRows(200, 3),
    players,
    method: 'lime',
    seed: 2,
    lime: { numSamples: 400, numFeatures: 3 },
  });
  files.lime = await tmp.write('lime.html', await formatHtml(lime));

  const surrogate = await surrogateTree(tabularModel, tabularRows(400, 4), { maxDepth: 3, seed: 3 });
  files.surrogate = await tmp.write('surrogate.html', await formatSurrogateHtml(surrogate));

  // sequences: an A at positions 3..5 raises output 0, a C at 8 raises output 1
  const seqModel = fromFunction(
    (x: Float64Array) => {
      const a = (p: number, c: number) => x[p * 4 + c];
      const s0 = a(3, 0) + a(4, 0) + a(5, 0);
      const s1 = a(8, 1) * 2;
      return [s0, s1];
    },
    { nInputs: 40, outputNames: ['o0', 'o1'] },
  );
  const seqs = ['AAAAAAAAAA', 'CCCAAACCCC', 'GGGAAAGGCG', 'TTTTTTTTCT', 'ACGTACGTCA'];
  const sx = await explainSequences(seqModel, seqs, { method: 'exact', reference: 'uniform', layout: 'NLC' });
  files.sequences = await tmp.write(
    'sequences.html',
    await formatSequenceHtml(sx, { outputNames: ['motif', 'cee'], positionOffset: -5 }),
  );

  // a 400-applicant credit report (waterfalls for the first 25, adverse first)
  const schema = await loadSchema(`${DIR}schema.json`);
  const templates = await loadReasonTemplates(`${DIR}reasons.json`, schema);
  const table = await loadRawCsv(`${DIR}applicants-many-raw.csv`);
  const applicants = encodeRecords(schema, table);
  const cbg = sliceRows(await loadCsv(`${DIR}train.csv`, { expectColumns: schema.columns }), 0, 10);
  const model = await loadOnnx(`${DIR}scorecard.onnx`, { select: [1] });
  try {
    const exp = await explain(model, applicants, {
      background: cbg,
      players: schemaPlayers(schema),
      budget: 64,
      seed: 5,
      threads: 1,
    });
    expect(exp.nRows).toBe(400);
    const report = reasonCodes(exp, { schema, templates, threshold: 0.4, background: cbg });
    files.credit = await tmp.write(
      'credit.html',
      await formatCreditHtml(exp, report, {
        schema,
        importance: globalImportance(exp),
        ids: table.records.map((r) => r.id),
        maxWaterfalls: 25,
      }),
    );
  } finally {
    await model.close();
  }
  const { chromium } = await import('playwright-core');
  profile = mkdtempSync(join(tmpdir(), 'whybox-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
}, 300_000);

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await tmp?.remove();
});

/** Opens a report, checks it fetched nothing, and returns the page with the load time. */
async function open(name: string): Promise<{ page: Page; ms: number }> {
  const page = await (context as BrowserContext).newPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(files[name]).href, { waitUntil: 'load' });
  expect(requests).toEqual([pathToFileURL(files[name]).href]);
  const ms = Number(
    await page.evaluate(
      '(() => { const n = performance.getEntriesByType("navigation")[0]; return n.loadEventEnd - n.startTime; })()',
    ),
  );
  return { page, ms };
}

/** The layout guard: no horizontal overflow, figures do not overlap, no cut label, screenshots not blank. */
async function checkLayout(page: Page, name: string): Promise<void> {
  const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
  expect(overflow).toBeLessThanOrEqual(0);
  const boxes = await page.$$eval('figure.plot', (fs: El[]) =>
    fs.slice(0, 40).map((f) => {
      const b = f.getBoundingClientRect();
      return { y: b.y + (globalThis as unknown as { scrollY: number }).scrollY, h: b.height, w: b.width };
    }),
  );
  for (let k = 1; k < boxes.length; k++)
    expect(boxes[k].y).toBeGreaterThanOrEqual(boxes[k - 1].y + boxes[k - 1].h - 0.5);
  const cut = await page.$$eval('svg text', (ts: El[]) => ts.filter((t) => (t.textContent ?? '').endsWith('…')).length);
  // only the beeswarm's lists of categories (its text marks) may be elided, by design at 48 characters
  const elidedNotes = await page.$$eval(
    'svg[data-plot="beeswarm"] g.mark-text.role-mark text',
    (ts: El[]) => ts.filter((t) => (t.textContent ?? '').endsWith('…')).length,
  );
  expect(cut).toBe(elidedNotes);
  const figs = await page.locator('figure.plot').all();
  for (const [k, f] of figs.slice(0, 8).entries()) {
    await f.scrollIntoViewIfNeeded();
    const png = await f.screenshot();
    expect(png.length).toBeGreaterThan(1500); // a blank plot compresses to far less
    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(SHOTS, `${name}-${k}-${await f.getAttribute('data-plot')}.png`), png);
    }
  }
}

/** Root `<svg data-plot>` kinds in page order. */
const kindsOf = (page: Page) =>
  page.$$eval('svg[data-plot]', (ss: El[]) => ss.map((s) => s.getAttribute('data-plot') ?? ''));

describe.skipIf(!HAVE_CHROMIUM)('plots in Chromium', () => {
  it('generic Shapley report: waterfall, force, bar, beeswarm, dependence, heatmap, decision; marks match the data', async () => {
    const { page } = await open('tabular');
    const kinds = new Set(await kindsOf(page));
    for (const k of ['waterfall', 'force', 'bar', 'beeswarm', 'dependence', 'heatmap', 'decision'])
      expect(kinds).toContain(k);
    const imp = globalImportance(tabular);
    // bar: order and lengths (a linear scale from 0) as mean |φ|
    const bars = await page.$$eval('svg[data-plot="bar"] g.mark-rect.role-mark path', (ps: El[]) =>
      ps.map((p) => ({ label: p.getAttribute('aria-label') ?? '', width: p.getBoundingClientRect().width })),
    );
    expect(bars.length).toBe(5);
    const px = bars[0].width / imp.meanAbs[0];
    bars.forEach((b, k) => {
      expect(b.label).toContain(`attribute: ${imp.players[k]};`);
      expect(Math.abs(b.width - imp.meanAbs[k] * px)).toBeLessThan(0.5);
    });
    // beeswarm: 60 dots per player; for the top player (age, numeric) the colour goes from blue
    // to red as the value grows: red − blue is non-decreasing in the value
    const fills = await page.$$eval('svg[data-plot="beeswarm"] g.mark-symbol.role-mark path', (ps: El[]) =>
      ps.map((p) => p.getAttribute('fill') ?? ''),
    );
    expect(fills.length).toBe(60 * 5);
    expect(imp.players[0]).toBe('age');
    const rgb = (c: string) => {
      const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(c);
      if (m) return [1, 2, 3].map((i) => Number.parseInt(m[i], 16));
      const n = /rgb\((\d+),\s*(\d+),\s*(\d+)\)/.exec(c);
      return n ? [1, 2, 3].map((i) => Number(n[i])) : [Number.NaN, 0, 0];
    };
    const ages = Array.from({ length: 60 }, (_, r) => tabular.data[r * 7]);
    const redness = fills.slice(0, 60).map((f) => rgb(f)[0] - rgb(f)[2]);
    const order = ages.map((_, r) => r).sort((a, b) => ages[a] - ages[b]);
    for (let k = 1; k < 60; k++) expect(redness[order[k]]).toBeGreaterThanOrEqual(redness[order[k - 1]] - 1);
    expect(redness[order[59]] - redness[order[0]]).toBeGreaterThan(200);
    // heatmap: one cell per row and player; decision: one path per row
    expect(await page.locator('svg[data-plot="heatmap"] g.mark-rect.role-mark path').count()).toBe(60 * 5);
    expect(await page.locator('svg[data-plot="decision"] g.mark-line.role-mark path').count()).toBe(60);
    // waterfalls for the first 6 rows, each with one bar per player (5 <= 12)
    const wf = await page.$$eval('svg[data-plot="waterfall"]', (ss: El[]) =>
      ss.map((s) => s.querySelectorAll('g.mark-rect.role-mark path').length),
    );
    expect(wf).toEqual([5, 5, 5, 5, 5, 5]);
    await checkLayout(page, 'tabular');
    await page.close();
  }, 120_000);

  it('LIME report: a lime plot per row with one bar per selected feature and the R² in its title', async () => {
    const { page } = await open('lime');
    const lime = await page.$$eval('svg[data-plot="lime"]', (ss: El[]) =>
      ss.map((s) => ({ bars: s.querySelectorAll('g.mark-rect.role-mark path').length, text: s.textContent ?? '' })),
    );
    expect(lime.length).toBe(8);
    for (const l of lime) {
      expect(l.bars).toBe(3);
      expect(l.text).toMatch(/weighted R² [\d.]+/);
    }
    expect(await page.locator('th', { hasText: '± s.e.' }).count()).toBe(0);
    await checkLayout(page, 'lime');
    await page.close();
  }, 60_000);

  it('surrogate tree: one box per node, the fidelity in the title', async () => {
    const { page } = await open('surrogate');
    const boxes = await page.locator('svg[data-plot="tree"] g.mark-rect.role-mark path').count();
    const nodes = Number(await page.locator('table.rules tbody tr').count()) * 2 - 1; // binary tree
    expect(boxes).toBe(nodes);
    expect(await page.locator('svg[data-plot="tree"]').textContent()).toMatch(/fidelity on 80 held-out rows: R²/);
    expect(await kindsOf(page)).toEqual(['tree', 'bar']);
    await checkLayout(page, 'surrogate');
    await page.close();
  }, 60_000);

  it('sequence report: a profile per class and a logo per sequence and output, named classes, anchored positions', async () => {
    const { page } = await open('sequences');
    const kinds = await kindsOf(page);
    expect(kinds[0]).toBe('profile');
    expect(kinds.filter((k) => k === 'logo').length).toBe(5 * 2);
    const profileText = (await page.locator('svg[data-plot="profile"]').textContent()) ?? '';
    expect(profileText).toMatch(/motif \(\d\)/);
    expect(await page.locator('h2', { hasText: '— cee' }).count()).toBe(5);
    await checkLayout(page, 'sequences');
    await page.close();
  }, 60_000);

  it('credit report of 400 applicants: summary table (adverse first, links), all plots, opens in < 2 s', async () => {
    const { page, ms } = await open('credit');
    creditLoadMs = ms;
    console.log(`credit report of 400 applicants: load ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(2000);
    const kinds = await kindsOf(page);
    for (const k of ['bar', 'beeswarm', 'dependence', 'decision', 'waterfall']) expect(kinds).toContain(k);
    expect(kinds.filter((k) => k === 'waterfall').length).toBe(25);
    const rows = await page.$$eval('table.summary tbody tr', (trs: El[]) =>
      trs.map((tr) => ({
        decision: tr.querySelectorAll('td')[1].textContent,
        href: tr.querySelectorAll('a')[0].getAttribute('href'),
      })),
    );
    expect(rows.length).toBe(400);
    const firstFavorable = rows.findIndex((r) => r.decision === 'favorable');
    expect(rows.slice(firstFavorable).every((r) => r.decision === 'favorable')).toBe(true);
    for (const r of rows.slice(0, 20)) expect(await page.locator(`section${r.href}`).count()).toBe(1);
    // every attribute of the beeswarm is coloured: no grey dot left
    const grey = await page.$$eval(
      'svg[data-plot="beeswarm"] g.mark-symbol.role-mark path',
      (ps: El[]) => ps.filter((p) => /^(#999999|#999|grey|gray)$/i.test(p.getAttribute('fill') ?? '')).length,
    );
    expect(grey).toBe(0);
    // the waterfall names its threshold
    expect(await page.locator('svg[data-plot="waterfall"]').first().textContent()).toMatch(/threshold 0\.4/);
    // sorting by score (click) puts the highest score first, then lowest first
    await page.locator('table.summary th', { hasText: 'score' }).click();
    const asc = await page.$$eval('table.summary tbody tr td:nth-child(3)', (tds: El[]) =>
      tds.map((td) => Number(td.getAttribute('data-sort'))),
    );
    for (let k = 1; k < asc.length; k++) expect(asc[k]).toBeGreaterThanOrEqual(asc[k - 1]);
    await checkLayout(page, 'credit');
    await page.close();
  }, 120_000);
});

afterAll(() => {
  if (creditLoadMs) console.log(`400-applicant credit report load time: ${creditLoadMs.toFixed(0)} ms`);
});
