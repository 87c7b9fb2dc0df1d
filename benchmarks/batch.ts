/**
 * Batches (`npm run bench -- batch [--quick]`): rows/s of `whybox batch` for encoded credit rows
 * (the demo MLP, 20 attribute players, kernel budget 512, background summarised to 10 medoids)
 * in one process (1 thread) and through the BullMQ queue with 1 and 2 `whybox worker`
 * processes (1 thread each, 64-row shards); the queue's overhead per shard (1 worker vs one
 * process); and the peak RSS of `whybox batch` at 1k, 10k and 100k rows (a cheaper setting:
 * budget 64, 5 medoids — memory, not speed, is measured there). Every run is a child process of
 * the built CLI (dist/); the three throughput configurations are interleaved, medians of the
 * rounds; two `--shard I/2` processes side by side (no broker) show the 2-process ceiling, and one
 * process on 64-row chunks separates the cost of the shard size from the queue's own. Needs Debian's redis-server (a private one is started on a free port).
 * Writes benchmarks/results/batch.json.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, spawnCli } from './lib/cli.js';
import { DEMO, fmt, median, printTable, saveResult } from './lib/common.js';

const quick = process.argv.includes('--quick');
const flag = (name: string) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? undefined : Number(a.split('=')[1]);
};
/** `--rows=N --rounds=K --no-rss`: other sizes (e.g. more, shorter interleaved rounds on a busy machine). */
const ROWS = flag('rows') ?? (quick ? 1000 : 10_000);
const ROUNDS = flag('rounds') ?? (quick ? 1 : 2);
const RSS_ROWS = process.argv.includes('--no-rss') ? [] : quick ? [1000, 10_000] : [1000, 10_000, 100_000];
const dir = mkdtempSync(join(tmpdir(), 'whybox-bench-batch-'));

const train = readFileSync(join(DEMO, 'train.csv'), 'utf8').trim().split('\n');
function rowsFile(n: number): string {
  const path = join(dir, `rows-${n}.csv`);
  const body: string[] = [train[0]];
  for (let r = 0; r < n; r++) body.push(train[1 + (r % (train.length - 1))]);
  writeFileSync(path, `${body.join('\n')}\n`);
  return path;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

const explainArgs = (data: string, budget: number, medoids: number) => [
  '--model',
  join(DEMO, 'model.onnx'),
  '--data',
  data,
  '--background',
  join(DEMO, 'train.csv'),
  '--summarize',
  String(medoids),
  '--groups',
  join(DEMO, 'groups.json'),
  '--output',
  'probabilities[1]',
  '--budget',
  String(budget),
  '--seed',
  '1',
  '--json',
  '--quiet',
];

const data = rowsFile(ROWS);
let serial = 0;
const out = () => join(dir, `out-${++serial}.jsonl`);

// Redis for the queue runs
const hasRedis = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
let redis: ChildProcess | undefined;
let url = '';
if (hasRedis) {
  const port = await freePort();
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise<void>((resolve) => {
    redis?.stdout?.on('data', (d: Buffer) => {
      if (/Ready to accept/.test(String(d))) resolve();
    });
  });
  url = `redis://127.0.0.1:${port}`;
} else console.log('redis-server is not installed: the queue rows are skipped');

async function queueRun(
  workers: number,
  round: number,
): Promise<{ rowsPerSecond: number; seconds: number; shards: number; perWorker: unknown }> {
  const u = `${url}/bench${round}w${workers}`;
  const ws = Array.from({ length: workers }, () => spawnCli(['worker', '--queue', u, '--threads', '1']));
  for (const w of ws)
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        if (/ready/.test(w.err())) {
          clearInterval(t);
          resolve();
        } else if (w.child.exitCode !== null) {
          clearInterval(t);
          reject(new Error(w.err()));
        }
      }, 50);
    });
  try {
    const r = await runCli([
      'batch',
      ...explainArgs(data, 512, 10),
      '--out',
      out(),
      '--queue',
      u,
      '--shard-rows',
      '64',
    ]);
    const s = r.summary as { rowsPerSecond: number; seconds: number; workers: unknown };
    return { rowsPerSecond: s.rowsPerSecond, seconds: s.seconds, shards: Math.ceil(ROWS / 64), perWorker: s.workers };
  } finally {
    for (const w of ws) w.child.kill('SIGTERM');
    await Promise.all(ws.map((w) => w.exit));
  }
}

/** Two `whybox batch --shard I/2` processes side by side (no broker): the machine's ceiling for 2 processes. */
async function shardPair(): Promise<{ rowsPerSecond: number; seconds: number }> {
  const outs = [out(), out()];
  const rs = await Promise.all(
    [0, 1].map((i) =>
      runCli(['batch', ...explainArgs(data, 512, 10), '--out', outs[i], '--threads', '1', '--shard', `${i}/2`]),
    ),
  );
  const seconds = Math.max(...rs.map((r) => (r.summary as { seconds: number }).seconds));
  return { rowsPerSecond: ROWS / seconds, seconds };
}

const local: number[] = [];
const localSec: number[] = [];
const local64: number[] = [];
const local64Sec: number[] = [];
const pair: number[] = [];
const q1: number[] = [];
const q1Sec: number[] = [];
const q2: number[] = [];
const perWorker: unknown[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const a = await runCli(['batch', ...explainArgs(data, 512, 10), '--out', out(), '--threads', '1']);
  local.push((a.summary as { rowsPerSecond: number }).rowsPerSecond);
  localSec.push((a.summary as { seconds: number }).seconds);
  const a64 = await runCli([
    'batch',
    ...explainArgs(data, 512, 10),
    '--out',
    out(),
    '--threads',
    '1',
    '--chunk-rows',
    '64',
  ]);
  local64.push((a64.summary as { rowsPerSecond: number }).rowsPerSecond);
  local64Sec.push((a64.summary as { seconds: number }).seconds);
  pair.push((await shardPair()).rowsPerSecond);
  console.log(
    `round ${round}: 1 process ${fmt(local.at(-1) as number, 1)} rows/s (64-row chunks ${fmt(local64.at(-1) as number, 1)}), 2 processes --shard I/2 ${fmt(pair.at(-1) as number, 1)}`,
  );
  if (!hasRedis) continue;
  const b = await queueRun(1, round);
  q1.push(b.rowsPerSecond);
  q1Sec.push(b.seconds);
  const c = await queueRun(2, round);
  q2.push(c.rowsPerSecond);
  perWorker.push(c.perWorker);
  console.log(`round ${round}: queue 1 worker ${fmt(b.rowsPerSecond, 1)}, 2 workers ${fmt(c.rowsPerSecond, 1)} rows/s`);
}
redis?.kill('SIGKILL');

const shards = Math.ceil(ROWS / 64);
const overheadMsPerShard = hasRedis ? ((median(q1Sec) - median(localSec)) / shards) * 1000 : Number.NaN;
// the queue's own cost: against one process that explains the same 64-row chunks
const queueMsPerShard = hasRedis ? ((median(q1Sec) - median(local64Sec)) / shards) * 1000 : Number.NaN;
printTable(
  ['configuration', 'rows/s (median)', 'vs 1 process'],
  [
    ['1 process, 1 thread', fmt(median(local), 1), '1.00x'],
    ['1 process, 64-row chunks', fmt(median(local64), 1), `${fmt(median(local64) / median(local), 2)}x`],
    ['2 processes, --shard I/2 (no broker)', fmt(median(pair), 1), `${fmt(median(pair) / median(local), 2)}x`],
    ...(hasRedis
      ? [
          ['queue, 1 worker process (64-row shards)', fmt(median(q1), 1), `${fmt(median(q1) / median(local), 2)}x`],
          ['queue, 2 worker processes', fmt(median(q2), 1), `${fmt(median(q2) / median(local), 2)}x`],
        ]
      : []),
  ],
);
if (hasRedis)
  console.log(
    `2 workers vs 1 worker: ${fmt(median(q2) / median(q1), 2)}x (2 shard processes vs 1 process, no broker: ${fmt(median(pair) / median(local), 2)}x); queue overhead ${fmt(overheadMsPerShard, 1)} ms per 64-row shard (${fmt((100 * (median(q1Sec) - median(localSec))) / median(localSec), 1)}% of the one-process time), of which 64-row chunks instead of 256 ${fmt(overheadMsPerShard - queueMsPerShard, 1)} ms and the queue itself ${fmt(queueMsPerShard, 1)} ms (${fmt((100 * (median(q1Sec) - median(local64Sec))) / median(local64Sec), 1)}% of one process on 64-row chunks)`,
  );

// RSS vs input size (budget 64, 5 medoids)
const rss: { rows: number; peakMb: number; rowsPerSecond: number }[] = [];
for (const n of RSS_ROWS) {
  const file = rowsFile(n);
  const r = await runCli(['batch', ...explainArgs(file, 64, 5), '--out', out(), '--threads', '1']);
  rss.push({ rows: n, peakMb: r.peakMb, rowsPerSecond: (r.summary as { rowsPerSecond: number }).rowsPerSecond });
  console.log(`RSS at ${n} rows: ${fmt(r.peakMb, 1)} MB peak (${fmt(rss.at(-1)?.rowsPerSecond as number, 0)} rows/s)`);
}
printTable(
  ['rows', 'peak RSS (MB)', 'rows/s'],
  rss.map((r) => [r.rows, fmt(r.peakMb, 1), fmt(r.rowsPerSecond, 0)]),
);
rmSync(dir, { recursive: true, force: true });
saveResult(process.argv.includes('--no-rss') ? 'batch-rounds' : 'batch', {
  rows: ROWS,
  rounds: ROUNDS,
  budget: 512,
  medoids: 10,
  local,
  queue1: q1,
  queue2: q2,
  local64,
  shardPair: pair,
  speedup2vs1Worker: hasRedis ? median(q2) / median(q1) : null,
  speedup2ShardProcesses: median(pair) / median(local),
  overheadMsPerShard,
  queueMsPerShard,
  perWorker,
  rss,
});
