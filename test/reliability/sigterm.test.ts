/**
 * SIGTERM ends the real `whybox serve` process within `limits.shutdownTimeoutMs` (plus a
 * documented margin for the signal and the process exit) while a module model hangs in a worker
 * thread mid-request, and the hung request gets the 503 of the error shape. Also a module model
 * served from a configuration file answers like the library. Runs bin/whybox.js (dist/):
 * `npm run build` first.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExplainer } from '../../src/explainer.js';
import { explanationToJSON } from '../../src/explanation/explanation.js';
import { fromModule } from '../../src/models/function-model.js';
import type { TempDir } from '../helpers/tmp.js';
import { makeTempDir } from '../helpers/tmp.js';

const BIN = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin/whybox.js');

/** The README's margin past shutdownTimeoutMs: signal delivery, process teardown, a loaded machine. */
const EXIT_MARGIN_MS = 250;

/** f = x0 + 2·x1 + 3·x2; x0 = 701 hangs the thread (a loop the abort flag cannot reach). */
const MODULE = `
export function score(row) {
  if (row[0] === 701) for (;;);
  return row[0] + 2 * row[1] + 3 * row[2];
}
`;

let tmp: TempDir;
let modulePath: string;
let bgPath: string;

beforeAll(async () => {
  tmp = await makeTempDir('whybox-sigterm-');
  modulePath = await tmp.write('model.mjs', MODULE);
  bgPath = await tmp.write('bg.csv', 'a,b,c\n0,0,0\n1,0,1\n2,1,0\n');
});

afterAll(async () => {
  await tmp?.remove();
});

interface Server {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  /** Resolves with the exit code and the time (performance.now()) of the exit. */
  exit: Promise<{ code: number | null; at: number }>;
}

async function serve(config: unknown): Promise<Server> {
  const file = await tmp.write(`c${Math.random().toString(36).slice(2)}.json`, JSON.stringify(config));
  const child = spawn(process.execPath, [BIN, 'serve', '--config', file, '--port', '0', '--log-level', 'silent'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const exit = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on('exit', (code) => resolve({ code, at: performance.now() })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 30_000);
    child.stderr?.on('data', (d) => {
      err += d;
      const m = /serving .* on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], stderr: () => err, exit });
      }
    });
    exit.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${err}`));
    });
  });
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Polls the service's in-flight gauge until `n` requests compute. */
async function untilInFlight(url: string, n: number) {
  const t0 = Date.now();
  for (;;) {
    const text = await (await fetch(`${url}/metrics`)).text();
    if (Number(/^whybox_in_flight (\d+)$/m.exec(text)?.[1]) >= n) return;
    if (Date.now() - t0 > 10_000) throw new Error('the request never started computing');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('whybox serve with a module model', () => {
  it('explains like the library (the model runs in the worker threads)', async () => {
    const server = await serve({
      models: { m: { module: modulePath, export: 'score', inputs: 3, background: bgPath } },
      threads: 1,
    });
    try {
      const res = await post(`${server.url}/v1/models/m/explain`, { rows: [[1, 2, 3]], method: 'exact' });
      expect(res.status).toBe(200);
      const got = (await res.json()) as { rows: { values: number[][] }[] };
      const ex = await createExplainer({
        model: await fromModule(modulePath, 'score', { nInputs: 3 }),
        background: { data: Float64Array.from([0, 0, 0, 1, 0, 1, 2, 1, 0]), nRows: 3 },
        threads: 1,
      });
      const lib = explanationToJSON(
        await ex.explain({ data: Float64Array.from([1, 2, 3]), nRows: 1 }, { method: 'exact' }),
      );
      await ex.close();
      expect(got.rows[0].values).toEqual(lib.rows[0].values);
      // additive f: φ_j = w_j (x_j − mean of the background column)
      const phi = got.rows[0].values.map((v) => v[0]);
      for (const [k, want] of [0, 2 * (2 - 1 / 3), 3 * (3 - 1 / 3)].entries()) expect(phi[k]).toBeCloseTo(want, 12);
    } finally {
      server.child.kill('SIGTERM');
      expect((await server.exit).code).toBe(0);
    }
  }, 60_000);

  for (const shutdownTimeoutMs of [600, 1500]) {
    it(`SIGTERM with a hanging model mid-request exits within shutdownTimeoutMs ${shutdownTimeoutMs} (+${EXIT_MARGIN_MS} ms)`, async () => {
      const server = await serve({
        models: { m: { module: modulePath, export: 'score', inputs: 3, background: bgPath } },
        threads: 2,
        // the task limit (timeoutMs + 1 s) and the deadline stay far away: only the shutdown stops the hang
        limits: { shutdownTimeoutMs, timeoutMs: 60_000 },
      });
      const hung = post(`${server.url}/v1/models/m/explain`, { rows: [[701, 1, 1]], method: 'exact' }).then(
        async (r) => ({ status: r.status, body: (await r.json()) as { error?: { code: string } } }),
        () => ({ status: 0, body: {} as { error?: { code: string } } }),
      );
      await untilInFlight(server.url, 1);
      await new Promise((r) => setTimeout(r, 200)); // in a worker, looping
      const t0 = performance.now();
      server.child.kill('SIGTERM');
      const { code, at } = await server.exit;
      const took = at - t0;
      console.log(
        `SIGTERM with a hang in flight: exit ${code} after ${took.toFixed(0)} ms (shutdownTimeoutMs ${shutdownTimeoutMs})`,
      );
      expect(took).toBeLessThan(shutdownTimeoutMs + EXIT_MARGIN_MS);
      expect(code).toBe(0);
      const r = await hung;
      // the hung request is answered 503 (SHUTTING_DOWN) before the connection closes
      expect(r.status).toBe(503);
      expect(r.body.error?.code).toBe('SHUTTING_DOWN');
      expect(server.stderr()).toMatch(/SIGTERM: finishing the requests in flight/);
    }, 60_000);
  }
});
