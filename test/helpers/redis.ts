/**
 * Redis for the queue tests: WHYBOX_TEST_REDIS (redis://HOST:PORT, started by .ci/run), and
 * private redis-server processes for tests that stop Redis. Locally, without them, the tests
 * skip with a message; in CI (CI=true) a missing Redis fails instead.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/** The shared test Redis URL, or undefined. */
export const TEST_REDIS = process.env.WHYBOX_TEST_REDIS;
const IN_CI = process.env.CI === 'true';

/** Whether redis-server can be started here. */
export const HAS_REDIS_SERVER = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/** Why the queue tests cannot run here, or undefined; throws in CI (they must not skip there). */
export function redisMissing(needServer = false): string | undefined {
  const why = !TEST_REDIS
    ? 'WHYBOX_TEST_REDIS is not set (redis://127.0.0.1:PORT of a running redis-server; .ci/run starts one)'
    : needServer && !HAS_REDIS_SERVER
      ? 'redis-server is not installed (apt-get install redis-server)'
      : undefined;
  if (why && IN_CI) throw new Error(`queue tests need Redis in CI: ${why}`);
  if (why) console.warn(`skipping the queue tests: ${why}`);
  return why;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A private redis-server on loopback (no persistence), for tests that stop it. */
export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('redis-server did not start in 10 s')), 10_000);
      child?.stdout?.on('data', (d: Buffer) => {
        if (/Ready to accept connections/i.test(String(d))) {
          clearTimeout(timer);
          resolve();
        }
      });
      child?.once('exit', () => reject(new Error('redis-server exited')));
    });
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      c.kill('SIGKILL');
      await new Promise((r) => c.once('exit', r));
    },
  };
}
