/**
 * The HTTP service under load: `whybox serve` (a child process, 2 worker threads) explaining one
 * credit applicant per request (MLP 61 inputs, 20 grouped players, k-means background of 20
 * rows, kernel, budget 512), driven by autocannon over loopback with 8 connections for 30 s:
 * requests/s, p50/p99 latency, errors. Then exactly 10,000 requests to the same service run in
 * this process, with RSS and heap after a full GC every 2,000 requests. Side by side in the same run: the same explanations through the library's
 * Explainer in this process (2 concurrent callers, as the service computes 2 requests at once),
 * for the HTTP overhead ratio.
 * Run: npm run bench -- service            (30 s)
 *      npm run bench -- service --quick    (5 s, 2,000 requests for the RSS check)
 */
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { createExplainer, loadCsv, parseGroupsJson } from '../src/index.js';
import { createService } from '../src/service/index.js';
import { DEMO, loadDemo, printTable, ROOT, saveResult } from './lib/common.js';

const quick = process.argv.includes('--quick');
const SECONDS = quick ? 5 : 30;
const RSS_REQUESTS = quick ? 2000 : 10_000;
const CONNECTIONS = 8;
const THREADS = 2;
/** The service computes 2 requests at once (limits.concurrency default); the library reference gets as many callers. */
const LIB_CALLERS = 2;

const { applicants } = await loadDemo();
const row = Array.from(applicants.data.subarray(0, 61));
const body = JSON.stringify({ rows: [row], method: 'kernel', budget: 512, seed: 7 });

// --- library, in process (the reference) ---
const explainer = await createExplainer({
  modelPath: `${DEMO}/model.onnx`,
  background: await loadCsv(`${DEMO}/train.csv`),
  summarize: { method: 'kmeans', rows: 20 },
  groups: parseGroupsJson(await (await import('node:fs/promises')).readFile(`${DEMO}/groups.json`, 'utf8')),
  threads: THREADS,
});
const libLatency: number[] = [];
const libSeconds = Math.min(SECONDS, 10);
/** The library reference: LIB_CALLERS concurrent callers for `seconds`; returns explanations/s. */
async function libraryPhase(seconds: number): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: LIB_CALLERS }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await explainer.explain([row], { budget: 512, seed: 7 });
        libLatency.push(performance.now() - t);
        n++;
      }
    }),
  );
  return n / seconds;
}
await libraryPhase(3); // warm-up (JIT, worker sessions)
libLatency.length = 0;
const libRateBefore = await libraryPhase(libSeconds);

// --- the service, in a child process ---
const child = spawn(
  process.execPath,
  [
    `${ROOT}bin/whybox.js`,
    'serve',
    '--model',
    `credit=${DEMO}/model.onnx`,
    '--background',
    `${DEMO}/train.csv`,
    '--summarize',
    '20',
    '--groups',
    `${DEMO}/groups.json`,
    '--port',
    '0',
    '--threads',
    String(THREADS),
    '--log-level',
    'warn',
  ],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
const base = await new Promise<string>((resolve, reject) => {
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
    const m = /serving .* on (http:\/\/\S+)/.exec(err);
    if (m) resolve(m[1]);
  });
  child.on('exit', (code) => reject(new Error(`whybox serve exited with ${code}: ${err}`)));
});
const url = `${base}/v1/models/credit/explain`;
const load = (opts: { duration?: number; amount?: number }) =>
  autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: CONNECTIONS,
    ...opts,
  });

await load({ duration: 2 }); // warm-up (worker sessions, JIT)
const run = await load({ duration: SECONDS });
// the library again, after the HTTP run (the machine's load drifts: the two bracket the HTTP run)
const libRateAfter = await libraryPhase(libSeconds);
await explainer.close();
const libRate = (libRateBefore + libRateAfter) / 2;
child.kill('SIGTERM');
await new Promise((r) => child.on('exit', r));

// --- memory over RSS_REQUESTS requests: the same service in this process, so that a full GC
// (node --expose-gc, as `npm run bench` runs) precedes every sample: growth is retained memory,
// not garbage waiting for a lazy collection ---
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const memExplainer = await createExplainer({
  modelPath: `${DEMO}/model.onnx`,
  background: await loadCsv(`${DEMO}/train.csv`),
  summarize: { method: 'kmeans', rows: 20 },
  groups: parseGroupsJson(await (await import('node:fs/promises')).readFile(`${DEMO}/groups.json`, 'utf8')),
  threads: THREADS,
});
const inProcess = await createService({ models: { credit: memExplainer }, logger: false });
const memUrl = `${await inProcess.listen({ port: 0, host: '127.0.0.1' })}/v1/models/credit/explain`;
const sample = (requests: number) => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { requests, rss: m.rss / 2 ** 20, heap: m.heapUsed / 2 ** 20 };
};
await autocannon({
  url: memUrl,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body,
  connections: CONNECTIONS,
  amount: 200,
});
const samples = [sample(0)];
const STEPS = 5;
let non2xx = 0;
for (let k = 1; k <= STEPS; k++) {
  const r = await autocannon({
    url: memUrl,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: CONNECTIONS,
    amount: RSS_REQUESTS / STEPS,
  });
  non2xx += r.non2xx + r.errors;
  samples.push(sample((k * RSS_REQUESTS) / STEPS));
}
await inProcess.close();

const sorted = [...libLatency].sort((a, b) => a - b);
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
printTable(
  ['path', 'requests/s', 'p50 ms', 'p99 ms', 'errors / non-2xx'],
  [
    [
      `HTTP (autocannon, ${CONNECTIONS} conn, ${SECONDS} s)`,
      run.requests.average.toFixed(1),
      run.latency.p50.toFixed(1),
      run.latency.p99.toFixed(1),
      `${run.errors} / ${run.non2xx}`,
    ],
    [
      `library Explainer (${LIB_CALLERS} callers, ${libSeconds} s)`,
      libRate.toFixed(1),
      pct(50).toFixed(1),
      pct(99).toFixed(1),
      '0 / -',
    ],
  ],
);
printTable(
  ['requests after warm-up', 'RSS MB (after GC)', 'heap MB (after GC)'],
  samples.map((m) => [m.requests, m.rss.toFixed(1), m.heap.toFixed(1)]),
);
const first = samples[0];
const last = samples[samples.length - 1];
const mid = samples[Math.floor(samples.length / 2)];
console.log(
  `HTTP / library throughput: ${(run.requests.average / libRate).toFixed(2)} (library ${libRateBefore.toFixed(1)} before, ${libRateAfter.toFixed(1)} after the HTTP run); server RSS ${first.rss.toFixed(1)} -> ${mid.rss.toFixed(1)} -> ${last.rss.toFixed(1)} MB over ${RSS_REQUESTS} requests (${non2xx} errors or non-2xx), heap ${first.heap.toFixed(1)} -> ${last.heap.toFixed(1)} MB`,
);
saveResult('service', {
  quick,
  connections: CONNECTIONS,
  threads: THREADS,
  http: {
    seconds: SECONDS,
    requestsPerSecond: run.requests.average,
    p50ms: run.latency.p50,
    p99ms: run.latency.p99,
    errors: run.errors,
    non2xx: run.non2xx,
  },
  library: {
    callers: LIB_CALLERS,
    seconds: libSeconds,
    requestsPerSecond: libRate,
    before: libRateBefore,
    after: libRateAfter,
    p50ms: pct(50),
    p99ms: pct(99),
  },
  memory: { requests: RSS_REQUESTS, samples, non2xx },
});
