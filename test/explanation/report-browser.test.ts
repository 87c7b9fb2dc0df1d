/**
 * The credit HTML report in a real browser (Debian's Chromium driven by playwright-core):
 * the plots render, and their bars match the report's JSON. Skips when /usr/bin/chromium is
 * absent (install it with `apt-get install -y chromium`).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCsv } from '../../src/data/csv.js';
import { sliceRows } from '../../src/data/dataset.js';
import { encodeRecords, loadRawCsv } from '../../src/data/encoder.js';
import { loadSchema, schemaPlayers } from '../../src/data/schema.js';
import { explain } from '../../src/explain.js';
import { globalImportance } from '../../src/explanation/importance.js';
import { formatCreditHtml } from '../../src/explanation/plots/credit-report.js';
import { loadReasonTemplates, reasonCodes } from '../../src/explanation/reasons.js';
import { loadOnnx } from '../../src/models/onnx-model.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM)
  console.warn(`skipping the browser test of the HTML report: ${CHROMIUM} not found (apt-get install -y chromium)`);
const DIR = fileURLToPath(new URL('../../datasets/credit-demo/', import.meta.url));

/** The DOM methods used inside page callbacks (the test's tsconfig has no DOM library). */
interface DomElement {
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { width: number; height: number };
}

interface ReportData {
  decisions: { index: number; decision: string; reasons: { attribute: string; contribution: number }[] }[];
  importance: { players: string[]; meanAbs: number[] };
}

let tmp: TempDir;
let profile: string;
let context: BrowserContext | undefined;
let file: string;
let nRows = 0;
let nPlayers = 0;

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return;
  tmp = await makeTempDir('whybox-report-');
  const schema = await loadSchema(`${DIR}schema.json`);
  const templates = await loadReasonTemplates(`${DIR}reasons.json`, schema);
  const table = await loadRawCsv(`${DIR}applicants-many-raw.csv`);
  const rows = sliceRows(encodeRecords(schema, table), 0, 30);
  const bg = sliceRows(await loadCsv(`${DIR}train.csv`, { expectColumns: schema.columns }), 0, 20);
  const model = await loadOnnx(`${DIR}scorecard.onnx`, { select: [1] });
  try {
    const exp = await explain(model, rows, {
      background: bg,
      players: schemaPlayers(schema),
      budget: 256,
      seed: 5,
      threads: 1,
    });
    nRows = exp.nRows;
    nPlayers = exp.players.length;
    const report = reasonCodes(exp, { schema, templates, threshold: 0.4, background: bg });
    const html = await formatCreditHtml(exp, report, {
      schema,
      importance: globalImportance(exp),
      ids: table.records.map((r) => r.id),
      maxWaterfalls: 3,
    });
    file = await tmp.write('report.html', html);
  } finally {
    await model.close();
  }
  const { chromium } = await import('playwright-core');
  profile = mkdtempSync(join(tmpdir(), 'whybox-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await tmp?.remove();
});

describe.skipIf(!HAVE_CHROMIUM)('credit HTML report in Chromium', () => {
  it('renders every plot offline, with bars that match the report JSON', async () => {
    const page = await (context as BrowserContext).newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);
    // only the file itself was loaded: no network, no external assets
    expect(requests).toEqual([pathToFileURL(file).href]);

    const data = JSON.parse((await page.locator('#whybox-data').textContent()) ?? '{}') as ReportData;

    // every plot is an SVG of nonzero size
    const sizes = await page.$$eval('figure.plot', (figs) =>
      figs.map((f) => {
        const svg = f.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        return { kind: f.getAttribute('data-plot'), width: box?.width ?? 0, height: box?.height ?? 0 };
      }),
    );
    expect(sizes.map((s) => s.kind)).toEqual([
      'bar',
      'beeswarm',
      'dependence',
      'decision',
      'waterfall',
      'waterfall',
      'waterfall',
    ]);
    for (const s of sizes) {
      expect(s.width).toBeGreaterThan(100);
      expect(s.height).toBeGreaterThan(50);
    }

    // importance bars: in the JSON order, widths proportional to mean |φ| (a linear scale from 0)
    const bars = await page.$$eval('#importance g.mark-rect.role-mark path', (ps: DomElement[]) =>
      ps.map((p) => ({ label: p.getAttribute('aria-label') ?? '', width: p.getBoundingClientRect().width })),
    );
    expect(bars.length).toBe(data.importance.players.length);
    const pxPerUnit = bars[0].width / data.importance.meanAbs[0];
    bars.forEach((b, k) => {
      expect(b.label).toContain(`attribute: ${data.importance.players[k]};`);
      expect(Math.abs(b.width - data.importance.meanAbs[k] * pxPerUnit)).toBeLessThan(0.5);
    });

    // a waterfall: one bar per attribute shown (12 and the rest), widths proportional to |φ|,
    // and the decision's reasons are its largest red bars
    const wf = await page.$$eval('figure[data-plot="waterfall"]', (figs) =>
      figs.map((f) => ({
        row: Number(f.getAttribute('data-row')),
        bars: (Array.from(f.querySelectorAll('g.mark-rect.role-mark path')) as DomElement[]).map((p) => ({
          label: p.getAttribute('aria-label') ?? '',
          width: p.getBoundingClientRect().width,
        })),
      })),
    );
    for (const w of wf) {
      const contribution = (l: string) => Number(/contribution: ([-−\d.e]+)/.exec(l)?.[1]?.replace('−', '-'));
      const c = w.bars.map((b) => contribution(b.label));
      expect(c.every(Number.isFinite)).toBe(true);
      const scale = w.bars[0].width / Math.abs(c[0]);
      w.bars.forEach((b, k) => {
        expect(Math.abs(b.width - Math.abs(c[k]) * scale)).toBeLessThan(0.5);
      });
      const dec = data.decisions[w.row];
      dec.reasons.forEach((reason, k) => {
        const bar = w.bars.find((b) => b.label.includes(`attribute: ${reason.attribute};`));
        expect(bar).toBeDefined();
        expect(contribution(bar?.label ?? '')).toBeCloseTo(reason.contribution, 3);
        if (k > 0) expect(reason.contribution).toBeLessThanOrEqual(dec.reasons[k - 1].contribution);
      });
    }
    // the waterfalls go to adverse decisions first
    expect(data.decisions[wf[0].row].decision).toBe(
      data.decisions.some((d) => d.decision === 'adverse') ? 'adverse' : 'favorable',
    );

    // beeswarm: one dot per row and attribute
    const dots = await page.$$eval('#beeswarm g.mark-symbol.role-mark path', (ps) => ps.length);
    expect(dots).toBe(nRows * nPlayers);

    // the reason lists match the JSON, and the embedded specs are valid JSON with inline data
    // (sections go adverse first; each names its row)
    const items = await page.$$eval('section.decision', (ss) =>
      ss.map((s) => ({
        row: Number((s as DomElement).getAttribute('data-row')),
        reasons: (Array.from(s.querySelectorAll('ol.reasons li')) as DomElement[]).map((li) =>
          li.getAttribute('data-attribute'),
        ),
      })),
    );
    expect(items.length).toBe(data.decisions.length);
    for (const it of items)
      expect(it.reasons).toEqual(data.decisions.find((d) => d.index === it.row)?.reasons.map((r) => r.attribute));
    const verdicts = items.map((it) => data.decisions.find((d) => d.index === it.row)?.decision);
    expect(verdicts.slice(verdicts.lastIndexOf('adverse') + 1).every((v) => v === 'favorable')).toBe(true);
    expect(
      verdicts.indexOf('favorable') === -1 || verdicts.indexOf('favorable') > verdicts.lastIndexOf('adverse'),
    ).toBe(true);
    const specs = await page.$$eval('script.vega-lite-spec', (ss) => ss.map((s) => s.textContent ?? ''));
    expect(specs.length).toBe(7);
    for (const s of specs) expect(JSON.stringify(JSON.parse(s))).not.toMatch(/"url"\s*:/);
    await page.close();
  });
});
