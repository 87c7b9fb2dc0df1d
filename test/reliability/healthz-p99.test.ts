/**
 * /healthz p99 under 50 ms while four hostile clients run (their own process): slow bodies,
 * 900 KB unknown category values and field names back to back, a keep-alive flood of cheap
 * invalid requests, and real explanations of a module model that runs in the service's worker
 * pool. The noise floor of the machine (the idle p99, measured first) is not charged to them.
 * Workers load dist/: run `npm run build` first.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRawCsv } from '../../src/data/encoder.js';
import { serviceFromConfig } from '../../src/service/from-config.js';
import type { WhyboxService } from '../../src/service/server.js';
import type { TempDir } from '../helpers/tmp.js';
import { makeTempDir } from '../helpers/tmp.js';
import { rawGet } from './raw.js';

const DEMO = fileURLToPath(new URL('../../datasets/credit-demo/', import.meta.url));
const CLIENTS = fileURLToPath(new URL('./hostile-load.mjs', import.meta.url));

/** A logistic score over the 61 encoded credit columns (fixed weights), about 2 µs a row. */
const MODULE = `
const w = Array.from({ length: 61 }, (_, i) => Math.sin(i + 1) / (i % 7 === 4 ? 2000 : 2));
export function score(x) {
  let z = -0.5;
  for (let i = 0; i < 61; i++) z += w[i] * x[i];
  return 1 / (1 + Math.exp(-z));
}
`;

let tmp: TempDir;
let service: WhyboxService;
let port: number;
let record: Record<string, string | number>;

beforeAll(async () => {
  tmp = await makeTempDir('whybox-p99-');
  const module = await tmp.write('score.mjs', MODULE);
  service = await serviceFromConfig(
    {
      models: {
        credit: {
          module,
          export: 'score',
          inputs: 61,
          schema: `${DEMO}schema.json`,
          background: `${DEMO}train.csv`,
          summarize: 20,
        },
      },
      threads: 2,
      limits: { bodyBytes: 2 * 1024 * 1024, headersTimeoutMs: 800, requestTimeoutMs: 1500, maxConnections: 128 },
      logLevel: 'silent',
    },
    { onWarning: () => undefined },
  );
  port = Number(new URL(await service.listen({ port: 0, host: '127.0.0.1' })).port);
  const table = await loadRawCsv(`${DEMO}applicants-raw.csv`);
  record = { ...(table.records[0] as Record<string, string | number>) };
  delete record.id;
  // warm: the workers load the module, the first explanation compiles everything
  const warm = await fetch(`http://127.0.0.1:${port}/v1/models/credit/explain`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ records: [record], budget: 256, seed: 1 }),
  });
  expect(warm.status).toBe(200);
}, 60_000);

afterAll(async () => {
  await service?.close();
  await tmp?.remove();
});

/** /healthz latency percentiles over `ms` of sequential probes, 5 ms apart. */
async function probeHealthz(ms: number) {
  const latencies: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t0 = performance.now();
    const a = await rawGet(port, '/healthz');
    latencies.push(performance.now() - t0);
    expect(a.status).toBe(200);
    await new Promise((r) => setTimeout(r, 5));
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.floor(q * (latencies.length - 1))];
  return { n: latencies.length, p50: at(0.5), p99: at(0.99), max: latencies[latencies.length - 1] };
}

interface Counts {
  slowBodies: number;
  bigStrings: number;
  invalid: number;
  explained: number;
  statuses: Record<string, number>;
}

/** Runs the clients (`only`: some of them) for `ms` while probing /healthz; the idle probe first. */
async function underClients(only: string, ms: number) {
  const idle = await probeHealthz(1500);
  const clients = new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      [CLIENTS, String(port), String(ms), JSON.stringify(record)],
      { timeout: 30_000, env: { ...process.env, ONLY: only } },
      (e, out) => (e ? reject(e) : resolve(out)),
    );
  });
  await new Promise((r) => setTimeout(r, 300)); // the clients' process starts
  const hostile = await probeHealthz(ms - 600);
  const counts = JSON.parse(await clients) as Counts;
  console.log(
    `healthz under ${only}: p50 ${hostile.p50.toFixed(1)} ms, p99 ${hostile.p99.toFixed(1)} ms, max ${hostile.max.toFixed(1)} ms over ${hostile.n} probes (idle p50 ${idle.p50.toFixed(1)}, p99 ${idle.p99.toFixed(1)}, max ${idle.max.toFixed(1)} over ${idle.n}); clients ${JSON.stringify(counts)}`,
  );
  expect(counts.statuses['500'] ?? 0).toBe(0);
  return { idle, hostile, counts };
}

describe('/healthz under hostile clients', () => {
  it('p99 under 50 ms (over the idle p99) with slow bodies, 900 KB strings and an invalid flood', async () => {
    const { idle, hostile, counts } = await underClients('slowBodies,bigStrings,invalid', 4000);
    expect(counts.slowBodies).toBeGreaterThanOrEqual(40);
    expect(counts.bigStrings).toBeGreaterThan(10);
    expect(counts.invalid).toBeGreaterThan(200);
    expect(hostile.p99).toBeLessThan(50 + idle.p99);
  }, 60_000);

  // The fourth client, real explanations (kernel, budget 256) of a module model in the worker
  // pool: the workers run whole units (game, model calls and estimator math); the main thread
  // only schedules and adds parts up.
  it('p99 under 50 ms (over the idle p99) with the four clients, real explanations included', async () => {
    const { idle, hostile, counts } = await underClients('slowBodies,bigStrings,invalid,explain', 5000);
    // every client really ran (fewer requests each than without the explanations: they share the loop)
    expect(counts.slowBodies).toBeGreaterThanOrEqual(40);
    expect(counts.bigStrings).toBeGreaterThan(5);
    expect(counts.invalid).toBeGreaterThan(50);
    expect(counts.explained).toBeGreaterThan(2);
    expect(hostile.p99).toBeLessThan(50 + idle.p99);
  }, 60_000);
});
