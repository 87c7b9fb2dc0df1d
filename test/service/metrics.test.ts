/**
 * /metrics read with a strict parser of the text exposition format written here (independent of
 * prom-client; parse-prometheus-text-format was tried and drops the labels of histograms):
 * counters move by exactly the requests sent and the model rows the answers report; histogram
 * counts equal the request counts; prom-client's process and Node.js metrics are there; two
 * services in one process keep separate registries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExplainer } from '../../src/explainer.js';
import { fromFunction } from '../../src/models/function-model.js';
import type { WhyboxService } from '../../src/service/server.js';
import { createService } from '../../src/service/server.js';

let a: WhyboxService;
let b: WhyboxService;
let urlA: string;
let urlB: string;

beforeAll(async () => {
  const make = async () =>
    createExplainer({
      model: fromFunction((x) => x[0] * x[1] + x[2], { nInputs: 3 }),
      background: { data: Float64Array.from([0, 0, 0, 1, 2, 3, 2, 1, 0]), nRows: 3 },
      threads: 1,
    });
  a = await createService({ models: { m: await make() }, logger: false });
  b = await createService({ models: { m: await make() }, logger: false });
  urlA = await a.listen({ port: 0 });
  urlB = await b.listen({ port: 0 });
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

interface Sample {
  labels: Record<string, string>;
  value: number;
  /** Histograms and summaries: the sample's own name (`x_bucket`, `x_sum`, `x_count`). */
  series: string;
}
interface ParsedFamily {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;

/**
 * The text format 0.0.4: `# HELP`/`# TYPE` lines, then samples `name{label="value",...} number`.
 * Every sample must belong to the family declared before it (histograms: `_bucket`, `_sum`,
 * `_count`; summaries: the name, `_sum`, `_count`); a family is declared once.
 */
function parseExposition(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  let current: ParsedFamily | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      let f = families.get(name);
      if (!f) {
        f = { name, type: 'untyped', help: '', samples: [] };
        families.set(name, f);
      } else if (f !== current) throw new Error(`family ${name} declared twice`);
      current = f;
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(line);
        f.type = rest;
      } else f.help = rest;
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const [, series, body = '', raw] = m;
    const labels: Record<string, string> = {};
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const l = LABEL.exec(body);
      if (!l) throw new Error(`bad labels in ${line}`);
      if (l[1] in labels) throw new Error(`duplicate label ${l[1]} in ${line}`);
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    // Go's ParseFloat, as Prometheus reads values: NaN and Inf in any case (prom-client writes "Nan")
    const value = /^[+-]?inf$/i.test(raw) ? (raw.startsWith('-') ? -Infinity : Infinity) : Number(raw);
    if (Number.isNaN(value) && !/^nan$/i.test(raw)) throw new Error(`bad value in ${line}`);
    const suffixes =
      current?.type === 'histogram'
        ? ['_bucket', '_sum', '_count']
        : current?.type === 'summary'
          ? ['', '_sum', '_count']
          : [''];
    if (!current || !suffixes.some((x) => series === current?.name + x))
      throw new Error(`sample ${series} outside its family (${current?.name})`);
    current.samples.push({ labels, value, series });
  }
  return families;
}

async function scrape(url: string): Promise<Map<string, ParsedFamily>> {
  const res = await fetch(`${url}/metrics`);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await res.text());
}

/** The value of the sample `series` (default: the family's name) whose labels include `labels` (0 when absent). */
function value(
  families: Map<string, ParsedFamily>,
  family: string,
  labels: Record<string, string> = {},
  series = family,
): number {
  const s = families
    .get(family)
    ?.samples.find((m) => m.series === series && Object.entries(labels).every(([k, v]) => m.labels[k] === v));
  return s === undefined ? 0 : s.value;
}

const requests = (f: Map<string, ParsedFamily>, route: string, status: string, method = 'GET') =>
  value(f, 'whybox_http_requests_total', { route, method, status });

/** Requests are counted when their response has finished: a scrape may precede the last ones. */
async function scrapeUntil(url: string, done: (f: Map<string, ParsedFamily>) => boolean) {
  for (let i = 0; ; i++) {
    const f = await scrape(url);
    if (done(f) || i === 100) return f;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const explain = (url: string, body: unknown) =>
  fetch(`${url}/v1/models/m/explain`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('/metrics (prom-client)', () => {
  it('counters move by exactly the requests sent and the model rows answered', async () => {
    const before = await scrape(urlA);
    const otherBefore = await scrape(urlB);
    const N = 7;
    for (let i = 0; i < N; i++) expect((await fetch(`${urlA}/healthz`)).status).toBe(200);
    let modelRows = 0;
    for (const rows of [
      [[1, 2, 3]],
      [
        [0, 1, 0],
        [3, 3, 3],
      ],
    ]) {
      const res = await explain(urlA, { rows, method: 'exact' });
      expect(res.status).toBe(200);
      modelRows += ((await res.json()) as { modelRows: number }).modelRows;
    }
    expect(modelRows).toBeGreaterThan(0);
    expect((await explain(urlA, { rows: [[1, 2]] })).status).toBe(400);
    const explainRoute = '/v1/models/:name/explain';
    const after = await scrapeUntil(
      urlA,
      (f) =>
        requests(f, '/healthz', '200') - requests(before, '/healthz', '200') >= N &&
        requests(f, explainRoute, '400', 'POST') - requests(before, explainRoute, '400', 'POST') >= 1,
    );
    expect(requests(after, '/healthz', '200') - requests(before, '/healthz', '200')).toBe(N);
    expect(requests(after, explainRoute, '200', 'POST') - requests(before, explainRoute, '200', 'POST')).toBe(2);
    expect(requests(after, explainRoute, '400', 'POST') - requests(before, explainRoute, '400', 'POST')).toBe(1);
    const rowsOf = (f: Map<string, ParsedFamily>, name: string) => value(f, name, { model: 'm' });
    expect(rowsOf(after, 'whybox_model_rows_total') - rowsOf(before, 'whybox_model_rows_total')).toBe(modelRows);
    expect(rowsOf(after, 'whybox_explained_rows_total') - rowsOf(before, 'whybox_explained_rows_total')).toBe(3);
    expect(rowsOf(after, 'whybox_model_rows_per_second')).toBeGreaterThan(0);

    // the latency histogram counts what the counter counts, route by route; buckets are cumulative
    const hist = after.get('whybox_http_request_duration_seconds');
    expect(hist?.type).toBe('histogram');
    const routes = new Set(hist?.samples.map((m) => m.labels.route));
    expect(routes).toContain('/healthz');
    expect(routes).toContain(explainRoute);
    for (const route of routes) {
      const counted = (after.get('whybox_http_requests_total')?.samples ?? [])
        .filter((m) => m.labels.route === route)
        .reduce((sum, m) => sum + m.value, 0);
      const count = value(
        after,
        'whybox_http_request_duration_seconds',
        { route },
        'whybox_http_request_duration_seconds_count',
      );
      expect(count).toBe(counted);
      const buckets = (hist?.samples ?? [])
        .filter((m) => m.series.endsWith('_bucket') && m.labels.route === route)
        .map((m) => [Number(m.labels.le === '+Inf' ? Infinity : m.labels.le), m.value])
        .sort((x, y) => x[0] - y[0]);
      expect(buckets.map((x) => x[0])).toEqual([
        0.005,
        0.01,
        0.025,
        0.05,
        0.1,
        0.25,
        0.5,
        1,
        2.5,
        5,
        10,
        30,
        60,
        Infinity,
      ]);
      for (let i = 1; i < buckets.length; i++) expect(buckets[i][1]).toBeGreaterThanOrEqual(buckets[i - 1][1]);
      expect(buckets.at(-1)?.[1]).toBe(count);
    }

    // the other service's registry saw none of it
    const other = await scrape(urlB);
    expect(requests(other, '/healthz', '200')).toBe(requests(otherBefore, '/healthz', '200'));
    expect(value(other, 'whybox_model_rows_total', { model: 'm' })).toBe(0);
  });

  it("prom-client's process and Node.js metrics, the event-loop delay and the main thread's GC pauses", async () => {
    const f0 = await scrape(urlA);
    // CPU and garbage: allocate on the main thread until a collection is seen
    let keep = 0;
    for (let i = 0; i < 200; i++) keep += new Array(50_000).fill(i).length;
    expect(keep).toBe(200 * 50_000);
    const gcCount = (x: Map<string, ParsedFamily>) =>
      value(x, 'nodejs_gc_duration_seconds', {}, 'nodejs_gc_duration_seconds_count');
    const f = await scrapeUntil(urlA, (x) => gcCount(x) > gcCount(f0));
    expect(f.get('process_cpu_seconds_total')?.type).toBe('counter');
    expect(value(f, 'process_cpu_seconds_total')).toBeGreaterThan(value(f0, 'process_cpu_seconds_total'));
    expect(value(f, 'process_resident_memory_bytes')).toBeGreaterThan(10 * 2 ** 20);
    expect(value(f, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(f.get('nodejs_eventloop_lag_seconds')?.type).toBe('gauge');
    expect(f.get('nodejs_version_info')?.samples[0].labels.version).toBe(process.version);
    expect(f.get('nodejs_eventloop_delay_seconds')?.samples.map((m) => m.labels.quantile)).toEqual([
      '0.5',
      '0.99',
      '1',
    ]);
    // the GC summary: every pause, no labels (the series the service always exported)
    const gc = f.get('nodejs_gc_duration_seconds');
    expect(gc?.type).toBe('summary');
    expect(gc?.samples.map((m) => [m.series, m.labels])).toEqual([
      ['nodejs_gc_duration_seconds_sum', {}],
      ['nodejs_gc_duration_seconds_count', {}],
    ]);
    expect(gcCount(f)).toBeGreaterThan(gcCount(f0));
    expect(value(f, 'nodejs_gc_duration_seconds', {}, 'nodejs_gc_duration_seconds_sum')).toBeGreaterThan(0);
    expect(value(f, 'whybox_worker_slots_lost')).toBe(0);
    expect(value(f, 'whybox_in_flight')).toBe(0);
  });
});
