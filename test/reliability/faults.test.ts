/**
 * Fault injection with module models in worker threads: a model that hangs, exits the thread,
 * throws or runs out of memory — on masked rows (inside a worker task) and on f(x) itself (the
 * explained row, now evaluated in a worker too). After each, the service answers and the
 * workers are replaced; a task past the pool's time limit in a pool that holds ONNX sessions
 * marks its slot lost and /readyz turns 503; close() (SIGTERM) ends on time with a hang in
 * flight; cancellation stops the workers within 250 ms.
 * Workers load dist/: run `npm run build` first.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError } from '../../src/errors.js';
import type { Explainer } from '../../src/explainer.js';
import { createExplainer } from '../../src/explainer.js';
import { fromModule } from '../../src/models/function-model.js';
import type { Model } from '../../src/models/model.js';
import { loadOnnx } from '../../src/models/onnx-model.js';
import type { WorkerPool } from '../../src/parallel/pool.js';
import { createWorkerPool } from '../../src/parallel/pool.js';
import type { WhyboxService } from '../../src/service/server.js';
import { createService } from '../../src/service/server.js';
import { fixturePath } from '../helpers/fixtures.js';
import type { TempDir } from '../helpers/tmp.js';
import { makeTempDir } from '../helpers/tmp.js';

/**
 * f = x0 + x1 + x2, except: on a masked row (x0 from x, x1 from the background row 0) when x0
 * is a fault code, and on f(x) itself when every column is the code.
 * Codes: 701 hang, 702 exit, 703 throw, 704 out of memory.
 */
const MODULE = `
function fault(code) {
  if (code === 701) for (;;);
  if (code === 702) process.exit(9);
  if (code === 703) throw new Error('model refuses this row');
  if (code === 704) { const hoard = []; for (;;) hoard.push(new Array(1 << 20).fill(code)); }
}
export function faulty(row) {
  if (row[0] > 700 && row[0] < 710 && (row[1] === 0 || (row[1] === row[0] && row[2] === row[0]))) fault(row[0]);
  return row[0] + row[1] + row[2];
}
/** One row of row[0] ms: a stretch the abort flag cannot interrupt (the flag is read between rows). */
export function stall(row) {
  const t = performance.now();
  while (performance.now() - t < row[0]);
  return row[0] + row[1] + row[2];
}
export function slow(row) {
  const t = performance.now();
  while (performance.now() - t < 0.5);
  return row[0] + row[1] + row[2];
}
`;

let tmp: TempDir;
let modulePath: string;
let pool: WorkerPool;
let faulty: Explainer;
let service: WhyboxService;
let base: string;
const BG = { data: Float64Array.from([0, 0, 0, 1, 0, 1]), nRows: 2 };

beforeAll(async () => {
  tmp = await makeTempDir('whybox-faults-');
  modulePath = await tmp.write('models.mjs', MODULE);
  pool = createWorkerPool({ threads: 2, taskTimeoutMs: 1500, workerHeapMb: 128 });
  faulty = await createExplainer({
    model: await fromModule(modulePath, 'faulty', { nInputs: 3 }),
    background: BG,
    pool,
  });
  service = await createService({
    models: { faulty },
    pool,
    limits: { timeoutMs: 3000, shutdownTimeoutMs: 1000 },
    logger: false,
  });
  base = await service.listen({ port: 0, host: '127.0.0.1' });
}, 30_000);

afterAll(async () => {
  await service?.close();
  await tmp?.remove();
});

async function explain(row: number[]) {
  const res = await fetch(`${base}/v1/models/faulty/explain`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rows: [row], method: 'exact' }),
  });
  return {
    status: res.status,
    json: (await res.json()) as { error?: { code: string }; rows?: { values: number[][] }[] },
  };
}

/** The service is fine: healthz, readyz and a good explanation with the exact values (f is additive). */
async function expectHealthy() {
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  const good = await explain([1, 1, 1]);
  expect(good.status).toBe(200);
  // f = x0 + x1 + x2 over background (0,0,0), (1,0,1): φ = x − mean(bg) = (0.5, 1, 0.5)
  expect(good.json.rows?.[0].values.map((v) => v[0])).toEqual([0.5, 1, 0.5]);
  expect((await fetch(`${base}/readyz`)).status).toBe(200);
}

describe('faults in worker tasks and in f(x) are contained', () => {
  const cases: [string, number[], number[]][] = [
    ['hang', [701, 1, 1], [500, 504]],
    ['exit', [702, 1, 1], [500]],
    ['throw', [703, 1, 1], [422]],
    ['out of memory', [704, 1, 1], [500]],
  ];
  for (const [what, row, statuses] of cases) {
    it(`${what} on masked rows -> ${statuses.join('/')}; the service goes on`, async () => {
      const t0 = performance.now();
      const r = await explain(row);
      expect(statuses).toContain(r.status);
      expect(Object.keys(r.json)).toEqual(['error']);
      expect(performance.now() - t0).toBeLessThan(3000 + 1000);
      await expectHealthy();
    }, 20_000);

    it(`${what} in f(x) -> ${statuses.join('/')}; the service goes on`, async () => {
      const code = row[0];
      const r = await explain([code, code, code]);
      expect(statuses).toContain(r.status);
      await expectHealthy();
    }, 20_000);
  }

  it('the library survives the same faults (a hang past the time limit is a WorkerError)', async () => {
    const x = Float64Array.from([701, 701, 701]);
    await expect(faulty.explain({ data: x, nRows: 1 }, { method: 'exact' })).rejects.toThrow(/time limit of 1500 ms/);
    const ok = await faulty.explain({ data: Float64Array.from([1, 1, 1]), nRows: 1 }, { method: 'exact' });
    expect(Array.from(ok.values)).toEqual([0.5, 1, 0.5]);
  }, 20_000);
});

describe('a pool with ONNX sessions', () => {
  /** A pool of one thread that holds an ONNX session (so its workers are never terminated) and a service over it. */
  async function onnxService(taskTimeoutMs: number) {
    const pool = createWorkerPool({ threads: 1, taskTimeoutMs });
    const stall = await createExplainer({
      model: await fromModule(modulePath, 'stall', { nInputs: 3 }),
      background: BG,
      pool,
    });
    // a real ONNX prediction in the worker: the pool now holds a session. The worker's first
    // tasks (loading the sources and onnxruntime) may pass the short limit: retry until warm
    const onnx = await loadOnnx(fixturePath('linear'));
    const warm = async (model: Model, row: Float64Array) => {
      for (let attempt = 0; ; attempt++) {
        try {
          await pool.predict(model, row, 1, 1);
          break;
        } catch (error) {
          if (attempt === 20) throw error;
        }
      }
      while (pool.lostSlots > 0) await new Promise((r) => setTimeout(r, 20));
    };
    await warm(onnx, new Float64Array(onnx.nInputs));
    await warm(stall.model, Float64Array.from([1, 2, 3]));
    const service = await createService({ models: { stall }, pool, logger: false });
    const url = await service.listen({ port: 0, host: '127.0.0.1' });
    return {
      pool,
      stall,
      url,
      async close() {
        await service.close();
        await onnx.close();
      },
    };
  }

  async function readyz(url: string) {
    const res = await fetch(`${url}/readyz`);
    return { status: res.status, text: ((await res.json()) as { status: string }).status };
  }

  it('a task past the limit marks its slot lost: /readyz 503 until it ends', async () => {
    const s = await onnxService(300);
    try {
      expect((await readyz(s.url)).status).toBe(200);
      // one row of 2.5 s (the abort flag set at the 300 ms limit is only read between rows)
      const t0 = performance.now();
      await expect(s.pool.predict(s.stall.model, Float64Array.from([2500, 0, 0]), 1, 1)).rejects.toThrow(
        /time limit of 300 ms.*slot counts as lost/,
      );
      expect(s.pool.lostSlots).toBe(1);
      const ready = await readyz(s.url);
      // the slot is still held (the row ends 2.5 s after it started): unless the probe itself took that long
      if (performance.now() - t0 < 2400) {
        expect(ready.status).toBe(503);
        expect(ready.text).toMatch(/degraded: 1 worker slot held/);
        expect((await (await fetch(`${s.url}/metrics`)).text()).match(/^whybox_worker_slots_lost (\d+)$/m)?.[1]).toBe(
          '1',
        );
      }
      // the row ends: the slot comes back and so does readiness
      while (s.pool.lostSlots > 0 && performance.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
      expect(s.pool.lostSlots).toBe(0);
      expect(await readyz(s.url)).toEqual({ status: 200, text: 'ready' });
      // and the worker answers again
      expect(Array.from(await s.pool.predict(s.stall.model, Float64Array.from([1, 2, 3]), 1, 1))).toEqual([6]);
    } finally {
      await s.close();
    }
  }, 20_000);

  it("readiness counts the service's own pools only: another pool's lost slot leaves it ready", async () => {
    const a = await onnxService(300);
    const b = await onnxService(300);
    try {
      const t0 = performance.now();
      await expect(a.pool.predict(a.stall.model, Float64Array.from([2500, 0, 0]), 1, 1)).rejects.toThrow(/time limit/);
      expect(a.pool.lostSlots).toBe(1);
      const [ra, rb] = await Promise.all([readyz(a.url), readyz(b.url)]);
      if (performance.now() - t0 < 2400) expect(ra.status).toBe(503);
      expect(rb).toEqual({ status: 200, text: 'ready' });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, 20_000);
});

describe('cancellation and shutdown', () => {
  it('an abort stops the workers within 250 ms (0.5 ms/row model)', async () => {
    const p = createWorkerPool({ threads: 2 });
    const slow = await createExplainer({
      model: await fromModule(modulePath, 'slow', { nInputs: 3 }),
      // ~2,400 model rows (~1.2 s at 0.5 ms a row, in one worker: the whole row is one unit),
      // well past the abort at 300 ms
      background: { data: Float64Array.from({ length: 1200 }, (_, i) => i % 5), nRows: 400 },
      pool: p,
    });
    try {
      // both workers started and the model loaded (worker start-up is not cancellation latency)
      const one = () => p.predict(slow.model, Float64Array.from([1, 1, 1]), 1, 1);
      await Promise.all([one(), one()]);
      const ctl = new AbortController();
      const t0 = performance.now();
      const run = slow.explain(
        { data: Float64Array.from([1, 2, 3]), nRows: 1 },
        { method: 'exact', signal: ctl.signal },
      );
      setTimeout(() => ctl.abort(), 300);
      await expect(run).rejects.toThrow(AbortedError);
      const rejectedAfter = performance.now() - t0 - 300;
      // the workers are free again: a fresh prediction (both workers busy otherwise) comes back quickly
      const t1 = performance.now();
      await Promise.all([one(), one()]);
      const freeAfter = rejectedAfter + (performance.now() - t1);
      console.log(
        `cancellation: rejected ${rejectedAfter.toFixed(0)} ms after the abort, workers free after ${freeAfter.toFixed(0)} ms`,
      );
      expect(rejectedAfter).toBeLessThan(250);
      expect(freeAfter).toBeLessThan(250);
    } finally {
      await slow.close();
      await p.close();
    }
  }, 20_000);

  it('a request past its deadline: 504 at the deadline, the workers free within 250 ms of it (0.5 ms/row model)', async () => {
    const p = createWorkerPool({ threads: 2 });
    const slow = await createExplainer({
      model: await fromModule(modulePath, 'slow', { nInputs: 3 }),
      background: { data: Float64Array.from({ length: 3000 }, (_, i) => i % 5), nRows: 1000 },
      pool: p,
    });
    const s = await createService({ models: { slow }, pool: p, logger: false });
    const url = await s.listen({ port: 0, host: '127.0.0.1' });
    try {
      const one = () => p.predict(slow.model, Float64Array.from([1, 1, 1]), 1, 1);
      await Promise.all([one(), one()]); // workers started
      // 8 coalitions x 1000 background rows x 0.5 ms on 2 workers: 2 s, far past the 300 ms deadline
      const t0 = performance.now();
      const res = await fetch(`${url}/v1/models/slow/explain`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ rows: [[1, 2, 3]], method: 'kernel', budget: 8, timeoutMs: 300 }),
      });
      const answeredAfter = performance.now() - t0 - 300;
      expect(res.status).toBe(504);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('DEADLINE');
      const t1 = performance.now();
      await Promise.all([one(), one()]);
      const freeAfter = answeredAfter + (performance.now() - t1);
      console.log(
        `HTTP deadline: 504 ${answeredAfter.toFixed(0)} ms after the 300 ms deadline, workers free ${freeAfter.toFixed(0)} ms after it`,
      );
      expect(answeredAfter).toBeLessThan(250);
      expect(freeAfter).toBeLessThan(250);
    } finally {
      await s.close();
    }
  }, 20_000);

  it('close() ends within shutdownTimeoutMs (+0.15 s of load slack) with a hanging model in flight', async () => {
    const p = createWorkerPool({ threads: 1, taskTimeoutMs: 0 }); // no task limit: only the shutdown stops it
    const ex = await createExplainer({
      model: await fromModule(modulePath, 'faulty', { nInputs: 3 }),
      background: BG,
      pool: p,
    });
    const s = await createService({ models: { ex }, pool: p, limits: { shutdownTimeoutMs: 800 }, logger: false });
    const url = await s.listen({ port: 0, host: '127.0.0.1' });
    const hung = fetch(`${url}/v1/models/ex/explain`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rows: [[701, 1, 1]], method: 'exact' }),
    }).then(
      (r) => r.status,
      () => 0,
    );
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    await s.close();
    const took = performance.now() - t0;
    console.log(`shutdown with a hang in flight: ${took.toFixed(0)} ms (shutdownTimeoutMs 800)`);
    expect(took).toBeLessThan(800 + 150);
    expect([503, 0]).toContain(await hung);
  }, 20_000);

  it('close() ends within shutdownTimeoutMs while a client is still sending its body', async () => {
    const ex = await createExplainer({
      model: await fromModule(modulePath, 'faulty', { nInputs: 3 }),
      background: BG,
      threads: 1,
    });
    // the request timeout (10 s by default) would hold fastify's close: the shutdown cuts the socket
    const s = await createService({ models: { ex }, limits: { shutdownTimeoutMs: 600 }, logger: false });
    const port = Number(new URL(await s.listen({ port: 0, host: '127.0.0.1' })).port);
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.on('error', () => undefined);
    socket.write(
      'POST /v1/models/ex/explain HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ro',
    );
    const drip = setInterval(() => socket.write(' '), 100);
    const closedSocket = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    try {
      await new Promise((r) => setTimeout(r, 200));
      const t0 = performance.now();
      await s.close();
      const took = performance.now() - t0;
      console.log(`shutdown with a client still sending: ${took.toFixed(0)} ms (shutdownTimeoutMs 600)`);
      expect(took).toBeLessThan(600 + 150);
      await closedSocket; // the server cut it
    } finally {
      clearInterval(drip);
      socket.destroy();
    }
  }, 20_000);
});
