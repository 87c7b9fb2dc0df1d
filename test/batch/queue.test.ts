/**
 * The BullMQ queue end to end: a producer (whybox batch --queue) and worker processes
 * (whybox worker, from dist/) on a real Redis. Lines must be the bytes of the one-process run
 * whatever the worker count, a killed worker, a restarted producer or a Redis restart.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseQueueUrl, QUEUE_NAME } from '../../src/batch/queue.js';
import { run } from '../helpers/cli.js';
import { freePort, privateRedis, redisMissing, TEST_REDIS } from '../helpers/redis.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEMO = join(ROOT, 'datasets/credit-demo');
const MODEL = join(DEMO, 'model.onnx');
const BIN = join(ROOT, 'bin/whybox.js');
const SEQ_MODEL = join(ROOT, 'datasets/motifs/model.onnx');
const SEQS = join(ROOT, 'datasets/motifs/single.fa');

const skipWhy = redisMissing(true);
let tmp: TempDir;
let data: string;
let bg: string;
let ref: string;
let serial = 0;
const children: ChildProcess[] = [];

const common = () => [
  '--model',
  MODEL,
  '--data',
  data,
  '--background',
  bg,
  '--output',
  'probabilities[1]',
  '--budget',
  '300',
  '--seed',
  '5',
];
/** A larger budget: runs that are killed mid-way must still be running when the kill comes. */
const slow = () => [...common(), '--budget', '2000'];
let slowRef: string;
/** A fresh queue prefix on the shared test Redis. */
const queueUrl = (base = TEST_REDIS as string) =>
  `${base.replace(/\/+$/, '')}/t${process.pid}-${Date.now()}-${++serial}`;

interface Proc {
  child: ChildProcess;
  err: () => string;
  exit: Promise<number>;
}

function spawnCli(args: string[]): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d;
  });
  child.stdout?.resume();
  const exit = new Promise<number>((r) => child.once('exit', (code, sig) => r(code ?? (sig ? 128 : 1))));
  return { child, err: () => err, exit };
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function worker(url: string, extra: string[] = []): Promise<Proc> {
  const p = spawnCli(['worker', '--queue', url, '--threads', '1', ...extra]);
  await until(() => /ready/.test(p.err()) || p.child.exitCode !== null, 'a worker to be ready');
  if (p.child.exitCode !== null) throw new Error(`worker exited: ${p.err()}`);
  return p;
}

const size = (p: string) =>
  stat(p).then(
    (s) => s.size,
    () => 0,
  );

beforeAll(async () => {
  if (skipWhy) return;
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  tmp = await makeTempDir('whybox-queue-');
  const train = (await readFile(join(DEMO, 'train.csv'), 'utf8')).trim().split('\n');
  data = await tmp.write('rows.csv', `${train.slice(0, 49).join('\n')}\n`); // 48 rows
  bg = await tmp.write('bg.csv', `${[train[0], ...train.slice(600, 610)].join('\n')}\n`);
  const out = join(tmp.path, 'ref.jsonl');
  const r = await run('batch', ...common(), '--out', out, '--threads', '1');
  if (r.code !== 0) throw new Error(r.stderr);
  ref = await readFile(out, 'utf8');
  const slowOut = join(tmp.path, 'slow-ref.jsonl');
  const s = await run('batch', ...slow(), '--out', slowOut, '--threads', '1');
  if (s.code !== 0) throw new Error(s.stderr);
  slowRef = await readFile(slowOut, 'utf8');
}, 120_000);
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(() => tmp?.remove());

describe.skipIf(skipWhy !== undefined)('whybox batch --queue (BullMQ on Redis)', () => {
  it('2 and 4 worker processes write the bytes of the one-process run; --json gives rows/s per worker', async () => {
    for (const n of [2, 4]) {
      const url = queueUrl();
      await Promise.all(Array.from({ length: n }, () => worker(url)));
      const out = join(tmp.path, `w${n}.jsonl`);
      const r = await run('batch', ...common(), '--out', out, '--queue', url, '--shard-rows', '4', '--json');
      expect(r.code, r.stderr).toBe(0);
      expect(await readFile(out, 'utf8')).toBe(ref);
      const summary = JSON.parse(r.stdout);
      expect(summary.rows).toBe(48);
      const rows = summary.workers.reduce((a: number, w: { rows: number }) => a + w.rows, 0);
      expect(rows).toBe(48);
      for (const w of summary.workers) expect(w.rowsPerSecond).toBeGreaterThan(0);
      expect(summary.workers.length).toBeGreaterThan(1);
      for (const c of children.splice(0)) c.kill('SIGTERM');
    }
  }, 120_000);

  it('--model-path: workers read the model from a shared path (checked by SHA-256)', async () => {
    const url = queueUrl();
    await worker(url);
    const out = join(tmp.path, 'model-path.jsonl');
    const r = await run('batch', ...common(), '--out', out, '--queue', url, '--model-path', MODEL);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).toBe(ref);
    const other = await run(
      'batch',
      ...common(),
      '--out',
      join(tmp.path, 'mp2.jsonl'),
      '--queue',
      url,
      '--model-path',
      join(DEMO, 'scorecard.onnx'),
    );
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/differs from the producer's/);
  }, 60_000);

  it('finish events lost (the events reader cut off, the stream emptied): the producer still completes, same bytes', async () => {
    const url = queueUrl();
    const { Redis } = await import('ioredis');
    const q = parseQueueUrl(url);
    const eater = new Redis({ host: q.host, port: q.port, lazyConnect: true, maxRetriesPerRequest: 1 });
    await eater.connect();
    const key = `${q.prefix}:${QUEUE_NAME}:events`;
    let eating = true;
    // the producer's QueueEvents reader is cut off again and again while the stream is emptied: the events
    // published while it reconnects are gone for it
    const eat = (async () => {
      while (eating) {
        const list = (await eater.client('LIST')) as string;
        for (const line of list.split('\n'))
          if (/ cmd=xread/.test(line)) await eater.client('KILL', 'ID', /id=(\d+)/.exec(line)?.[1] as string);
        await eater.del(key);
      }
    })();
    try {
      await worker(url);
      const out = join(tmp.path, 'no-events.jsonl');
      const r = await run('batch', ...common(), '--out', out, '--queue', url, '--shard-rows', '8');
      expect(r.code, r.stderr).toBe(0);
      expect(await readFile(out, 'utf8')).toBe(ref);
    } finally {
      eating = false;
      await eat;
      eater.disconnect();
    }
  }, 60_000);

  it('a worker killed with SIGKILL mid-shard: its shard goes to another worker, nothing lost or doubled', async () => {
    const url = queueUrl();
    const a = await worker(url, ['--stalled-seconds', '2']);
    const b = await worker(url, ['--stalled-seconds', '2']);
    const out = join(tmp.path, 'killed-worker.jsonl');
    const producer = run('batch', ...slow(), '--out', out, '--queue', url, '--shard-rows', '4', '--json');
    // once worker a finished a shard it is working on the next: kill it there
    await until(() => /shard .*rows in/.test(a.err()), 'worker a to finish a shard');
    a.child.kill('SIGKILL');
    const r = await producer;
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).toBe(slowRef);
    expect(b.err()).toMatch(/rows in/);
    // the killed worker's shards were finished by worker b (a's shards in the summary are only those it returned)
    const shares = JSON.parse(r.stdout).workers as { worker: string; rows: number }[];
    expect(shares.reduce((a, w) => a + w.rows, 0)).toBe(48);
  }, 120_000);

  it('a producer killed mid-run resumes (--resume) from the jobs already queued, to the same bytes', async () => {
    const url = queueUrl();
    await worker(url);
    const out = join(tmp.path, 'killed-producer.jsonl');
    const args = ['batch', ...slow(), '--out', out, '--queue', url, '--shard-rows', '4'];
    const p = spawnCli(args);
    await until(async () => (await size(out)) > 0, 'the first lines');
    p.child.kill('SIGKILL');
    await p.exit;
    const partial = await readFile(out, 'utf8');
    expect(partial.length).toBeLessThan(slowRef.length);
    const r = await run(...args, '--resume', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).resumedFrom).toBeGreaterThan(0);
    expect(await readFile(out, 'utf8')).toBe(slowRef);
  }, 120_000);

  it('a shard with bad input fails the batch at once with the rows and the reason (no endless retry)', async () => {
    const url = queueUrl();
    await worker(url);
    const raw = (await readFile(join(DEMO, 'applicants-many-raw.csv'), 'utf8')).trim().split('\n').slice(0, 21);
    const housing = raw[0].split(',').indexOf('housing');
    const cells = raw[14].split(',');
    cells[housing] = 'castle'; // record 13: an unknown housing category
    raw[14] = cells.join(',');
    const bad = await tmp.write('bad-raw.csv', `${raw.join('\n')}\n`);
    const args = [
      'batch',
      '--schema',
      join(DEMO, 'schema.json'),
      '--model',
      MODEL,
      '--data',
      bad,
      '--background',
      join(DEMO, 'train.csv'),
      '--summarize',
      '5',
      '--budget',
      '60',
      '--seed',
      '1',
      '--out',
      join(tmp.path, 'bad.jsonl'),
      '--queue',
      url,
      '--shard-rows',
      '4',
      '--attempts',
      '5',
    ];
    const t0 = Date.now();
    const r = await run(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the shard of rows 12\.\.15 .*failed.*castle/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(Date.now() - t0).toBeLessThan(20_000);
  }, 60_000);

  it('sequences with --length-policy pad: one worker writes the bytes of the one-process run', async () => {
    // motif sequences of 100 cut to other lengths: the workers must pad them as the producer was told
    const fasta = (await readFile(SEQS, 'utf8')).trim().split('\n').slice(0, 16);
    const cut = [92, 100, 97, 100, 99, 95, 100, 90];
    const file = await tmp.write(
      'short.fa',
      cut.map((n, k) => `${fasta[2 * k].split(/\s+/)[0]}\n${fasta[2 * k + 1].slice(0, n)}\n`).join(''),
    );
    const args = [
      '--model',
      SEQ_MODEL,
      '--sequences',
      file,
      '--length-policy',
      'pad',
      '--method',
      'permutation',
      '--budget',
      '200',
      '--seed',
      '3',
      '--reference',
      'shuffle',
      '--shuffles',
      '2',
    ];
    const one = join(tmp.path, 'short-one.jsonl');
    const r1 = await run('batch', ...args, '--out', one, '--threads', '1');
    expect(r1.code, r1.stderr).toBe(0);
    const want = await readFile(one, 'utf8');
    expect(
      want
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).origin),
    ).toEqual(cut.map((n) => 0 - Math.floor((100 - n) / 2)));
    const url = queueUrl();
    await worker(url);
    const out = join(tmp.path, 'short-queue.jsonl');
    const r = await run('batch', ...args, '--out', out, '--queue', url, '--shard-rows', '3', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).rows).toBe(8);
    expect(await readFile(out, 'utf8')).toBe(want);
    // without the policy the worker's shard fails the batch with the sequence and the hint
    const bad = await run(
      'batch',
      ...args.filter((a) => a !== '--length-policy' && a !== 'pad'),
      '--out',
      join(tmp.path, 'short-nopolicy.jsonl'),
      '--queue',
      url,
      '--shard-rows',
      '3',
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/has length 92 but the model takes 100.*--length-policy/);
  }, 60_000);

  it('Redis down at start: exit 2 with one clear line (producer and worker)', async () => {
    const port = await freePort();
    const r = await run(
      'batch',
      ...common(),
      '--out',
      join(tmp.path, 'down.jsonl'),
      '--queue',
      `redis://127.0.0.1:${port}`,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`cannot reach Redis at redis://127.0.0.1:${port}/whybox`));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const w = spawnCli(['worker', '--queue', `redis://127.0.0.1:${port}`]);
    expect(await w.exit).toBe(2);
    expect(w.err()).toMatch(/cannot reach Redis/);
  }, 60_000);

  it('Redis lost mid-run: the producer fails clearly keeping complete lines; --resume after Redis is back completes the bytes', async () => {
    const redis = await privateRedis();
    try {
      const url = `${redis.url}/mid`;
      await worker(url);
      const out = join(tmp.path, 'redis-lost.jsonl');
      const want = slowRef;
      const args = ['batch', ...slow(), '--out', out, '--queue', url, '--shard-rows', '4', '--redis-timeout', '2'];
      const p = spawnCli(args);
      await until(async () => (await size(out)) > 0, 'the first lines');
      await redis.stop();
      await until(() => p.child.exitCode !== null, 'the producer to give up on Redis', 60_000);
      const code = await p.exit;
      expect(code).toBe(2);
      expect(p.err()).toMatch(/lost the connection to Redis .* rerun with --resume/);
      const partial = await readFile(out, 'utf8');
      expect(partial.length).toBeGreaterThan(0);
      expect(partial.length).toBeLessThan(want.length);
      expect(want.startsWith(partial.slice(0, partial.lastIndexOf('\n') + 1))).toBe(true);
      // Redis back (empty: no persistence), a fresh worker, and the same command with --resume
      await redis.start();
      for (const c of children.splice(0)) c.kill('SIGKILL');
      await worker(url);
      const r = await run(...args, '--resume');
      expect(r.code, r.stderr).toBe(0);
      expect(await readFile(out, 'utf8')).toBe(want);
    } finally {
      for (const c of children.splice(0)) c.kill('SIGKILL');
      await redis.stop();
    }
  }, 120_000);
});

describe('parseQueueUrl', () => {
  it('reads host, port and prefix; refuses other schemes', () => {
    expect(parseQueueUrl('redis://10.0.0.2:6380/nightly')).toMatchObject({
      host: '10.0.0.2',
      port: 6380,
      prefix: 'nightly',
    });
    expect(parseQueueUrl('redis://h')).toMatchObject({ port: 6379, prefix: 'whybox' });
    expect(parseQueueUrl('redis://:pw@h:1/p').shown).toBe('redis://h:1/p');
    expect(() => parseQueueUrl('http://h')).toThrow(/redis:\/\//);
    expect(() => parseQueueUrl('redis://h/a b')).toThrow(/prefix/);
  });
});
