/**
 * Hostile clients against one service: slow-loris sockets, 1 MB unknown categories and
 * attribute names, malformed HTTP, oversized headers and bad URLs, and an explain flood — while
 * a probe measures /healthz. Every error answer has the one error shape; slow sockets are
 * closed by the header timeout; connections above maxConnections are refused.
 * Workers load dist/: run `npm run build` first.
 */
import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRawCsv } from '../../src/data/encoder.js';
import { serviceFromConfig } from '../../src/service/from-config.js';
import type { WhyboxService } from '../../src/service/server.js';
import type { RawAnswer } from './raw.js';
import { rawGet, rawRequest } from './raw.js';

const DEMO = fileURLToPath(new URL('../../datasets/credit-demo/', import.meta.url));
const CLIENTS = fileURLToPath(new URL('./hostile-clients.mjs', import.meta.url));
let service: WhyboxService;
let port: number;
let record: Record<string, string | number>;

beforeAll(async () => {
  service = await serviceFromConfig(
    {
      models: {
        credit: {
          onnx: `${DEMO}model.onnx`,
          schema: `${DEMO}schema.json`,
          background: `${DEMO}train.csv`,
          summarize: 20,
          output: 'probabilities[1]',
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
}, 60_000);

afterAll(async () => {
  await service?.close();
});

const json = (body: unknown) => JSON.stringify(body);
const post = (path: string, body: string, extra: string[] = []) =>
  rawRequest(port, [`POST ${path} HTTP/1.1`, 'Host: x', 'Content-Type: application/json', ...extra].join('\r\n'), body);

/** Every 4xx/5xx answer: JSON `{error: {code, message}}`, no URL echoed. */
function expectErrorShape(a: RawAnswer, status?: number) {
  if (status !== undefined) expect(a.status).toBe(status);
  expect(a.status).toBeGreaterThanOrEqual(400);
  expect(a.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(a.body) as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(typeof body.error.code).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(10);
  return body.error;
}

describe('one error shape for Node and fastify answers', () => {
  it('malformed request line -> 400', async () => {
    expectErrorShape(await rawRequest(port, 'GARBAGE / NOT-HTTP'), 400);
    expectErrorShape(await rawRequest(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc'), 400);
  });

  it('headers over maxHeaderBytes -> 431', async () => {
    const e = expectErrorShape(await rawGet(port, '/healthz', [`X-Big: ${'a'.repeat(20_000)}`]), 431);
    expect(e.code).toBe('HEADERS_TOO_LARGE');
  });

  it('a bad percent-encoding -> 400 BAD_URL, the URL not echoed', async () => {
    const a = await rawGet(port, '/v1/models/%zzSECRETPATH/explain');
    const e = expectErrorShape(a, 400);
    expect(e.code).toBe('BAD_URL');
    expect(a.body).not.toContain('SECRETPATH');
  });

  it('an over-long path parameter -> 414, the URL not echoed', async () => {
    const a = await post(`/v1/models/${'Q'.repeat(300)}/explain`, json({ rows: [[1]] }));
    const e = expectErrorShape(a, 414);
    expect(e.code).toBe('URI_TOO_LONG');
    expect(a.body).not.toContain('QQQQ');
  });

  it('body too large, wrong media type, bad JSON, unknown route: the same shape', async () => {
    expectErrorShape(await post('/v1/models/credit/explain', json({ rows: [new Array(1_200_000).fill(1)] })), 413);
    expectErrorShape(
      await rawRequest(port, 'POST /v1/models/credit/explain HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain', 'x'),
      415,
    );
    expectErrorShape(await post('/v1/models/credit/explain', '{"rows": [1,'), 400);
    expectErrorShape(await rawGet(port, '/nowhere'), 404);
  });
});

describe('metrics', () => {
  it('process, event-loop, GC and worker-slot metrics next to the request metrics', async () => {
    expect((await rawGet(port, '/healthz')).status).toBe(200);
    // the request is counted when its response has finished: a scrape right after may precede it
    let text = '';
    for (let i = 0; i < 50 && !/route="\/healthz"/.test(text); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 20));
      text = (await rawGet(port, '/metrics')).body;
    }
    expect(text).toMatch(/^whybox_http_requests_total\{route="\/healthz",method="GET",status="200"\} \d+$/m);
    expect(text).toMatch(/^process_cpu_seconds_total \d+(\.\d+)?$/m);
    expect(text).toMatch(/^nodejs_eventloop_delay_seconds\{quantile="0\.99"\} \d/m);
    expect(text).toMatch(/^nodejs_gc_duration_seconds_count \d+$/m);
    expect(text).toMatch(/^whybox_worker_slots_lost 0$/m);
  });
});

describe('bounded cost of hostile input', () => {
  it('a 1 MB unknown field -> 400 naming it in 60 characters', async () => {
    const a = await post('/v1/models/credit/explain', json({ records: [record], ['k'.repeat(1 << 20)]: 1 }));
    expect(expectErrorShape(a, 400).message).toMatch(/unknown field "k{57}\.\.\."/);
    expect(a.body.length).toBeLessThan(1000);
  });

  it('a 900 KB attribute name inside a record -> 400 at once, the name not echoed', async () => {
    const a = await post('/v1/models/credit/explain', json({ records: [{ ...record, ['n'.repeat(900_000)]: 1 }] }));
    expect(expectErrorShape(a, 400).message).toMatch(/records\[0\]/);
    expect(a.body.length).toBeLessThan(1000);
  });

  it('a 1 MB unknown category value -> 400 at once', async () => {
    const value = await post(
      '/v1/models/credit/explain',
      json({ records: [{ ...record, purpose: 'x'.repeat(1 << 20) }] }),
    );
    expect(expectErrorShape(value, 400).message).toMatch(/records\[0\]\.purpose .*more than 1024 characters/);
  });

  it('a slow-loris socket is closed by the header timeout', async () => {
    const t0 = performance.now();
    const closed = await new Promise<number>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.write('GET /healthz HTTP/1.1\r\n');
      const drip = setInterval(() => s.writable && s.write('X'), 100);
      s.on('error', () => undefined);
      s.on('close', () => {
        clearInterval(drip);
        resolve(performance.now() - t0);
      });
    });
    expect(closed).toBeLessThan(800 + 1500); // headersTimeoutMs plus the check period
  });

  it('connections above maxConnections are refused', async () => {
    const sockets: Socket[] = [];
    let refused = 0;
    await Promise.all(
      Array.from(
        { length: 200 },
        () =>
          new Promise<void>((resolve) => {
            const s = connect(port, '127.0.0.1', () => resolve());
            s.on('error', () => resolve());
            s.on('close', () => {
              refused++;
              resolve();
            });
            sockets.push(s);
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 200));
    for (const s of sockets) s.destroy();
    expect(refused).toBeGreaterThanOrEqual(200 - 128);
    await connectionsBelow(4); // the next test starts with a free server
  });

  it('hostile clients cost milliseconds of server CPU a request; /healthz p99 under 50 ms', async () => {
    await connectionsBelow(4);
    // the idle p99 first: on a machine loaded by other work the scheduler alone adds latency
    const idle = await probeHealthz(2000);
    const clients = new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [CLIENTS, String(port), '3800', JSON.stringify(record)],
        { timeout: 30_000 },
        (e, out) => (e ? reject(e) : resolve(out)),
      );
    });
    const cpu0 = process.cpuUsage();
    const hostile = await probeHealthz(3800);
    const cpu = process.cpuUsage(cpu0);
    const counts = JSON.parse(await clients) as { loris: number; bigKey: number; churn: number; malformed: number };
    // server CPU (all of this process: the probe included) per hostile request or connection
    const requests = counts.loris + counts.bigKey + counts.malformed + counts.churn + hostile.n;
    const cpuMs = (cpu.user + cpu.system) / 1000;
    console.log(
      `hostile: /healthz p50 ${hostile.p50.toFixed(1)} ms, p99 ${hostile.p99.toFixed(1)} ms over ${hostile.n} probes (idle: p50 ${idle.p50.toFixed(1)}, p99 ${idle.p99.toFixed(1)}, max ${idle.max.toFixed(1)} over ${idle.n}); server CPU ${cpuMs.toFixed(0)} ms for ${requests} requests and connections (${(cpuMs / requests).toFixed(2)} ms each); hostile ${JSON.stringify(counts)}`,
    );
    expect(counts.bigKey).toBeGreaterThan(3);
    expect(counts.malformed).toBeGreaterThan(30);
    expect(counts.churn).toBeGreaterThan(100);
    expect(cpuMs / requests).toBeLessThan(5);
    // 50 ms over the worst idle probe: on a quiet machine that is 50 ms plus a few; on one loaded by
    // other work, the scheduler's own stalls (seen idle) are not charged to the hostile clients
    expect(hostile.p99).toBeLessThan(50 + idle.max);
  }, 30_000);
});

/** /healthz latency percentiles over `ms` of sequential probes, 10 ms apart. */
async function probeHealthz(ms: number): Promise<{ n: number; p50: number; p99: number; max: number }> {
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

async function connectionsBelow(n: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const count = await new Promise<number>((resolve) => service.app.server.getConnections((_e, c) => resolve(c)));
    if (count < n) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}
