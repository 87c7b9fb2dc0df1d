/** `whybox worker --queue URL`: explains the shards of queued batches until stopped (SIGTERM/SIGINT). */
import { int, parseFlags, UsageError } from './args.js';

const WORKER_OPTIONS = {
  queue: { type: 'string' },
  threads: { type: 'string' },
  concurrency: { type: 'string' },
  'stalled-seconds': { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const WORKER_USAGE = `Usage: whybox worker --queue redis://HOST:PORT[/PREFIX] [--threads T] [--concurrency C]

Explains the shards that "whybox batch --queue URL" enqueues, on this machine, until stopped
(SIGTERM or Ctrl-C: the shards in progress finish first). Needs only the URL: each run's
model, background, players/schema and options come from Redis by content hash.

  --queue URL              the producer's redis://HOST:PORT[/PREFIX] (PREFIX default whybox)
  --threads T              worker threads for the model (default: all cores)
  --concurrency C          shards explained at once (default 1)
  --stalled-seconds S      a shard of a worker that stopped answering (killed, frozen) goes to
                           another worker after S to 2S seconds (default 30)
  --quiet                  no log lines on stderr
`;

/** Where the worker writes its log. */
export interface WorkerIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

/** Runs `whybox worker`; resolves with the exit code when stopped. */
export async function runWorkerCommand(args: readonly string[], io: WorkerIO, signal: AbortSignal): Promise<number> {
  const flags = parseFlags(args, WORKER_OPTIONS, 'worker');
  if (flags.help) {
    io.stdout.write(WORKER_USAGE);
    return 0;
  }
  if (!flags.queue) throw new UsageError('missing --queue redis://HOST:PORT[/PREFIX] (see whybox worker --help)');
  const threads = flags.threads === undefined ? undefined : int(flags.threads, '--threads', 1);
  const concurrency = flags.concurrency === undefined ? 1 : int(flags.concurrency, '--concurrency', 1);
  const stalledSeconds =
    flags['stalled-seconds'] === undefined ? 30 : int(flags['stalled-seconds'], '--stalled-seconds', 1);
  const log = flags.quiet ? () => undefined : (s: string) => io.stderr.write(`whybox worker: ${s}\n`);
  const { createBatchWorker } = await import('../batch/queue.js');
  const worker = await createBatchWorker({
    url: flags.queue,
    threads,
    concurrency,
    stalledSeconds,
    onShard: (s) => log(`shard ${s.jobId}: ${s.rows} rows in ${s.seconds.toFixed(2)} s`),
    onFailed: (f) => log(`shard ${f.jobId} failed${f.final ? '' : ' (will be retried)'}: ${f.message}`),
    onWarning: (m) => log(`warning: ${m}`),
  });
  log(`ready (${worker.id}) on ${flags.queue}`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    if (signal.aborted) stop();
    signal.addEventListener('abort', stop, { once: true });
    process.once('SIGTERM', stop);
  });
  log(`stopping after the shards in progress (${worker.shards} done)`);
  await worker.close();
  return 0;
}
