/**
 * Batches over BullMQ (Redis): the producer ({@link produceBatch}) cuts the input into shards,
 * enqueues them as jobs, and writes the returned lines in index order; workers
 * ({@link createBatchWorker}) explain shards on any machine that reaches Redis. Workers need only
 * the queue URL: the run's spec (options, summarised background, schema...) and the ONNX
 * model's bytes are stored in Redis under their SHA-256 (content hash) and cached per worker.
 *
 * Every job id is derived from the spec hash, the shard's first row and a hash of its rows,
 * so a restarted producer finds the jobs (and results) of the one it replaces, and a shard is
 * written once however often it ran. A worker that dies mid-shard leaves its job to BullMQ's
 * stalled-job check (retried elsewhere); a shard that fails on bad input fails the batch at
 * once (no retry), other failures after `attempts` tries.
 *
 * bullmq and ioredis are optional dependencies, loaded on first use.
 */

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortedError, QueueError, WhyboxError } from '../errors.js';
import type { Model } from '../models/model.js';
import { modelFromSpec } from '../models/spec.js';
import { importOptional } from '../optional-deps.js';
import type { BatchContext, ChunkResult } from './chunk.js';
import { explainChunk } from './chunk.js';
import type { BatchSource, PreparedBatch } from './explain-batch.js';
import { openSource, prepareBatch } from './explain-batch.js';
import type { BatchChunk } from './source.js';
import type { BatchSpec } from './spec.js';
import { batchOptionsFromSpec, modelSpecOf, sha256, stableJSON } from './spec.js';

/** The BullMQ queue that carries shards. */
export const QUEUE_NAME = 'whybox-batch';
/** Largest model sent through Redis by default (MiB); larger ones need a shared path. */
export const DEFAULT_MAX_BLOB_MB = 64;
/** Seconds a spec or model blob stays in Redis after the last producer stored it. */
const BLOB_TTL_SECONDS = 7 * 24 * 3600;
/** how often a producer reads a waited-on job's state, beside BullMQ's finish events */
const FINISH_POLL_MS = 2000;

/** A parsed `redis://HOST:PORT[/PREFIX]` (also `rediss://` for TLS, `user:password@`). */
export interface QueueUrl {
  readonly host: string;
  readonly port: number;
  readonly prefix: string;
  readonly username?: string;
  readonly password?: string;
  readonly tls: boolean;
  /** The URL without its password, for messages. */
  readonly shown: string;
}

/** Parses a queue URL. @throws {QueueError} naming what is wrong. */
export function parseQueueUrl(url: string): QueueUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new QueueError(`--queue ${JSON.stringify(url)} is not a URL: give redis://HOST:PORT[/PREFIX]`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new QueueError(`--queue ${JSON.stringify(url)} must start with redis:// (or rediss:// for TLS)`);
  const prefix = decodeURIComponent(u.pathname.replace(/^\/+|\/+$/g, '')) || 'whybox';
  if (!/^[\w.:-]+$/.test(prefix))
    throw new QueueError(`--queue prefix ${JSON.stringify(prefix)} must be letters, digits, '.', ':', '_' or '-'`);
  const port = u.port ? Number(u.port) : 6379;
  return {
    host: u.hostname || '127.0.0.1',
    port,
    prefix,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    tls: u.protocol === 'rediss:',
    shown: `${u.protocol}//${u.hostname}:${port}/${prefix}`,
  };
}

type Bull = typeof import('bullmq');
type RedisCtor = typeof import('ioredis').Redis;

async function loadDeps(): Promise<{ bull: Bull; Redis: RedisCtor }> {
  return importOptional('queue', async () => {
    const bull = await import('bullmq');
    const { Redis } = await import('ioredis');
    return { bull, Redis };
  });
}

/**
 * Connection options of BullMQ's clients. `stopped()` true ends reconnecting (the producer,
 * once it gives up or is done: a reconnect loop would keep the process alive).
 */
function connectionOf(q: QueueUrl, stopped: () => boolean = () => false): Record<string, unknown> {
  return {
    retryStrategy: (times: number) => (stopped() ? null : Math.min(500 * times, 2000)),
    host: q.host,
    port: q.port,
    ...(q.username ? { username: q.username } : {}),
    ...(q.password ? { password: q.password } : {}),
    ...(q.tls ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/** A Redis client for blobs and liveness, failing fast when Redis is not there. */
async function connect(Redis: RedisCtor, q: QueueUrl, what: string): Promise<InstanceType<RedisCtor>> {
  const client = new Redis({
    ...connectionOf(q),
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 1,
    // after the first connection: reconnect every 500 ms (the caller's watchdog decides when to give up)
    retryStrategy: () => 500,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    const code = (error as { code?: string }).code ?? (error as Error).message;
    throw new QueueError(
      `cannot reach Redis at ${q.shown} (${code}) for ${what}: start redis-server there, or fix --queue redis://HOST:PORT[/PREFIX]`,
      { cause: error },
    );
  }
  return client;
}

const blobKey = (q: QueueUrl, sha: string) => `${q.prefix}:whybox:blob:${sha}`;

/** One worker's share of a batch, in the producer's summary. */
export interface WorkerShare {
  readonly worker: string;
  readonly shards: number;
  readonly rows: number;
  /** Seconds the worker spent explaining its shards. */
  readonly seconds: number;
  readonly rowsPerSecond: number;
}

/** Options of {@link produceBatch}. */
export interface ProduceOptions {
  /** `redis://HOST:PORT[/PREFIX]`. */
  readonly url: string;
  readonly spec: BatchSpec;
  /** The ONNX model's bytes (for a spec whose model is `onnx-blob`). */
  readonly modelBytes?: Uint8Array;
  /** The model (to check the input's header against). */
  readonly model: Model;
  readonly source: BatchSource;
  /** Rows per job. @defaultValue 64 */
  readonly shardRows?: number;
  /** Tries per shard (a worker error or a lost worker); bad input fails at once. @defaultValue 3 */
  readonly attempts?: number;
  /** Shards enqueued and not yet written, at most. @defaultValue 64 */
  readonly window?: number;
  /** Milliseconds without Redis before the batch fails. @defaultValue 30000 */
  readonly redisTimeoutMs?: number;
  /** Largest model sent through Redis, MiB. @defaultValue {@link DEFAULT_MAX_BLOB_MB} */
  readonly maxBlobMb?: number;
  /** Rows to leave out (already written). */
  readonly skip?: (index: number) => boolean;
  readonly signal?: AbortSignal;
  /** Receives each shard's lines, in index order (append them to the output). */
  write(lines: string[]): Promise<void>;
  onShard?: (result: ChunkResult, progress: { rowsDone: number; rowsRead: number }) => void;
}

/** What a job returns. */
interface ShardResult {
  lines: string;
  head: Record<string, unknown>;
  evaluations: number;
  modelRows: number;
  worker: string;
  seconds: number;
}

function describeChunk(c: BatchChunk): string {
  const n = c.kind === 'table' ? c.cells.length : c.sequences.length;
  return `rows ${c.start}..${c.start + n - 1} (lines ${c.lines[0]}..${c.lines[c.lines.length - 1]} of ${c.source})`;
}

/**
 * Enqueues the shards of a batch and writes their lines in index order as they complete.
 * @returns per-worker shares (rows/s per worker) and the rows read from the input.
 * @throws {QueueError} when Redis cannot be reached (at start, or for longer than
 *   `redisTimeoutMs` mid-run) or a shard fails for good; the lines written before stay.
 */
export async function produceBatch(options: ProduceOptions): Promise<{ workers: WorkerShare[]; rowsRead: number }> {
  const q = parseQueueUrl(options.url);
  const { bull, Redis } = await loadDeps();
  const shardRows = options.shardRows ?? 64;
  const attempts = options.attempts ?? 3;
  const window = options.window ?? 64;
  const timeoutMs = options.redisTimeoutMs ?? 30_000;
  const client = await connect(Redis, q, 'the batch producer');
  const spec = options.spec;
  const specText = JSON.stringify(spec);
  const specSha = sha256(specText);
  const maxBlob = (options.maxBlobMb ?? DEFAULT_MAX_BLOB_MB) * 1024 * 1024;
  if (spec.model.kind === 'onnx-blob') {
    const bytes = options.modelBytes;
    if (!bytes) throw new QueueError('the model bytes are needed for a model sent through Redis');
    if (bytes.byteLength > maxBlob)
      throw new QueueError(
        `the model is ${(bytes.byteLength / 1048576).toFixed(1)} MiB, above the ${maxBlob / 1048576} MiB sent through Redis: put it on a path every worker can read and pass --model-path PATH (or raise --max-blob-mb)`,
      );
    await client.set(blobKey(q, spec.model.sha256), Buffer.from(bytes), 'EX', BLOB_TTL_SECONDS);
  }
  await client.set(blobKey(q, specSha), specText, 'EX', BLOB_TTL_SECONDS);

  let done = false;
  const connection = connectionOf(q, () => done);
  const queue = new bull.Queue(QUEUE_NAME, { connection, prefix: q.prefix });
  const events = new bull.QueueEvents(QUEUE_NAME, { connection, prefix: q.prefix });
  // one 'closing' listener per job waited on
  queue.setMaxListeners(window + 16);
  events.setMaxListeners(window + 16);
  queue.on('error', () => undefined);
  events.on('error', () => undefined);
  // the watchdog: Redis gone for longer than the timeout fails the batch
  let lastOk = Date.now();
  let lost: QueueError | undefined;
  let rejectLost: (e: Error) => void = () => undefined;
  const lostPromise = new Promise<never>((_, reject) => {
    rejectLost = reject;
  });
  lostPromise.catch(() => undefined);
  const watchdog = setInterval(() => {
    client
      .ping()
      .then(() => {
        lastOk = Date.now();
      })
      .catch(() => undefined);
    if (!lost && Date.now() - lastOk > timeoutMs) {
      lost = new QueueError(
        `lost the connection to Redis at ${q.shown} for ${Math.round(timeoutMs / 1000)} s: the rows written so far are kept; rerun with --resume when Redis is back`,
      );
      rejectLost(lost);
    }
  }, 500);
  const onAbort = () =>
    rejectLost(new AbortedError('interrupted: the rows written so far are kept; rerun with --resume'));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const race = <T>(p: Promise<T>): Promise<T> => Promise.race([p, lostPromise]);

  const shares = new Map<string, { shards: number; rows: number; seconds: number }>();
  let rowsDone = 0;
  let rowsRead = 0;
  type Pending = { chunk: BatchChunk; result: Promise<ShardResult> };
  const pending: Pending[] = [];
  // BullMQ's waitUntilFinished checks the job's state once, then listens for its event; an event published
  // before QueueEvents' first read is never seen and the wait would hang. So the job's state is also polled.
  const finished = (added: InstanceType<typeof bull.Job>): Promise<unknown> =>
    new Promise((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        fn();
      };
      const jobId = added.id as string;
      added.waitUntilFinished(events).then(
        (value) => settle(() => resolve(value)),
        (error: unknown) => settle(() => reject(error)),
      );
      const poll = () => {
        if (settled || done) return;
        bull.Job.fromId(queue, jobId)
          .then(async (job) => {
            if (settled || !job) return;
            const state = await job.getState();
            if (state === 'completed') settle(() => resolve(job.returnvalue));
            else if (state === 'failed') settle(() => reject(new Error(job.failedReason)));
          })
          .catch(() => undefined)
          .finally(() => {
            if (!settled && !done) timer = setTimeout(poll, FINISH_POLL_MS);
          });
      };
      timer = setTimeout(poll, FINISH_POLL_MS);
    });
  const submit = async (chunk: BatchChunk): Promise<Pending> => {
    const jobId = `${specSha.slice(0, 16)}-${chunk.start}-${sha256(stableJSON(chunk)).slice(0, 16)}`;
    const existing = await race(bull.Job.fromId(queue, jobId));
    if (existing && (await race(existing.isFailed()))) await race(existing.remove());
    const job = await race(
      queue.add(
        'shard',
        { spec: specSha, chunk },
        {
          jobId,
          attempts,
          backoff: { type: 'fixed', delay: 200 },
          removeOnComplete: false,
          removeOnFail: { age: 24 * 3600 },
        },
      ),
    );
    const result = (async () => {
      try {
        return (await finished(job)) as ShardResult;
      } catch (error) {
        if (error instanceof WhyboxError) throw error;
        throw new QueueError(
          `the shard of ${describeChunk(chunk)} failed${attempts > 1 ? ` (tries: up to ${attempts})` : ''}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    })();
    result.catch(() => undefined);
    return { chunk, result };
  };
  const drainOne = async () => {
    const head = pending.shift() as Pending;
    const r = await race(head.result);
    const lines = r.lines === '' ? [] : r.lines.split('\n');
    await options.write(lines);
    rowsDone += lines.length;
    const s = shares.get(r.worker) ?? { shards: 0, rows: 0, seconds: 0 };
    s.shards++;
    s.rows += lines.length;
    s.seconds += r.seconds;
    shares.set(r.worker, s);
    const start = head.chunk.start;
    options.onShard?.(
      {
        lines: lines.map((line, k) => ({ index: start + k, line })),
        head: r.head,
        evaluations: r.evaluations,
        modelRows: r.modelRows,
      },
      { rowsDone, rowsRead },
    );
    // written: the job's result is no longer needed
    const jobId = `${specSha.slice(0, 16)}-${start}-${sha256(stableJSON(head.chunk)).slice(0, 16)}`;
    await race(queue.remove(jobId)).catch((error: unknown) => {
      if (lost) throw lost;
      return error;
    });
  };
  try {
    const opened = await openSource(
      options.model,
      options.source,
      spec.mode,
      spec.credit ? (batchOptionsFromSpec(spec).credit?.schema.attributes.map((a) => a.name) ?? undefined) : undefined,
    );
    const skip = options.skip;
    for await (const chunk of opened.chunks(
      shardRows,
      (i) => !(skip?.(i) ?? false),
      (n) => {
        rowsRead = n;
      },
    )) {
      if (lost) throw lost;
      pending.push(await submit(chunk));
      while (pending.length >= window) await drainOne();
    }
    while (pending.length > 0) await drainOne();
    if (lost) throw lost;
  } finally {
    clearInterval(watchdog);
    options.signal?.removeEventListener('abort', onAbort);
    // no more reconnecting: a dead Redis must not keep the process alive or hang the exit
    done = true;
    const closing = Promise.allSettled([events.close(), queue.close()]);
    await Promise.race([closing, new Promise((r) => setTimeout(r, 2000).unref())]);
    if (lost) {
      void events.disconnect().catch(() => undefined);
      void queue.disconnect().catch(() => undefined);
    }
    client.disconnect();
  }
  return {
    rowsRead,
    workers: [...shares.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([worker, s]) => ({ worker, ...s, rowsPerSecond: s.rows / Math.max(s.seconds, 1e-9) })),
  };
}

/** Options of {@link createBatchWorker}. */
export interface BatchWorkerOptions {
  /** `redis://HOST:PORT[/PREFIX]` (the producer's). */
  readonly url: string;
  /** Worker threads for the model (a pool per run). @defaultValue os.availableParallelism() */
  readonly threads?: number;
  /** Shards explained at once. @defaultValue 1 */
  readonly concurrency?: number;
  /**
   * Seconds after which a shard of a worker that stopped answering (killed, frozen) is given to
   * another worker (BullMQ's lock duration and stalled check). @defaultValue 30
   */
  readonly stalledSeconds?: number;
  /** Called after each shard. */
  readonly onShard?: (info: { jobId: string; rows: number; seconds: number }) => void;
  /** Called when a shard fails. */
  readonly onFailed?: (info: { jobId: string; message: string; final: boolean }) => void;
  readonly onWarning?: (message: string) => void;
}

/** A running batch worker. */
export interface BatchWorker {
  /** `host:pid`, as the producer's summary names it. */
  readonly id: string;
  /** Shards explained so far. */
  readonly shards: number;
  /** Stops taking shards, waits for the ones in progress, releases models and pools. */
  close(): Promise<void>;
}

/**
 * Starts a worker that explains the shards of batches queued at `url` until closed.
 * @throws {QueueError} when Redis cannot be reached; `MissingDependencyError` without bullmq.
 */
export async function createBatchWorker(options: BatchWorkerOptions): Promise<BatchWorker> {
  const q = parseQueueUrl(options.url);
  const { bull, Redis } = await loadDeps();
  const client = await connect(Redis, q, 'the batch worker');
  const id = `${hostname()}:${process.pid}`;
  const contexts = new Map<string, Promise<{ prepared: PreparedBatch; model: Model }>>();
  const load = async (specSha: string): Promise<{ prepared: PreparedBatch; model: Model }> => {
    const text = await client.get(blobKey(q, specSha));
    if (text === null)
      throw new bull.UnrecoverableError(
        `the batch spec ${specSha.slice(0, 12)}… is not in Redis (expired or another Redis): rerun the producer`,
      );
    const spec = JSON.parse(text) as BatchSpec;
    let modelRef = spec.model;
    if (modelRef.kind === 'onnx-blob') {
      const b = await client.getBuffer(blobKey(q, modelRef.sha256));
      if (b === null)
        throw new bull.UnrecoverableError(
          `the model ${modelRef.sha256.slice(0, 12)}… is not in Redis: rerun the producer`,
        );
      if (sha256(b) !== modelRef.sha256)
        throw new bull.UnrecoverableError('the model bytes in Redis do not match their hash');
      // a local file named by its hash: worker threads rebuild the model from a path
      const dir = join(tmpdir(), 'whybox-models');
      await mkdir(dir, { recursive: true });
      const path = join(dir, `${modelRef.sha256}.onnx`);
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, b);
      await rename(tmp, path);
      modelRef = { kind: 'onnx-path', path, sha256: modelRef.sha256, options: modelRef.options };
    } else if (spec.model.kind === 'onnx-path') {
      const b = await readFile(spec.model.path).catch((error: unknown) => {
        throw new bull.UnrecoverableError(
          `cannot read the model at --model-path ${spec.model.kind === 'onnx-path' ? spec.model.path : ''} on worker ${id}: ${(error as Error).message} (it must be on a path every worker can read)`,
        );
      });
      if (sha256(b) !== spec.model.sha256)
        throw new bull.UnrecoverableError(
          `the model at ${spec.model.path} on worker ${id} differs from the producer's (SHA-256)`,
        );
    }
    const model = await modelFromSpec(modelSpecOf(modelRef));
    const prepared = await prepareBatch(model, spec.mode, spec.columns, {
      ...batchOptionsFromSpec(spec),
      threads: options.threads,
      onWarning: options.onWarning ?? (() => undefined),
    });
    return { prepared, model };
  };
  const release = async (entry: Promise<{ prepared: PreparedBatch; model: Model }>) => {
    const e = await entry.catch(() => undefined);
    if (!e) return;
    await e.prepared.close();
    await e.model.close?.();
  };
  const contextOf = (specSha: string): Promise<{ prepared: PreparedBatch; model: Model }> => {
    let entry = contexts.get(specSha);
    if (!entry) {
      entry = load(specSha);
      entry.catch(() => contexts.delete(specSha));
      contexts.set(specSha, entry);
      // keep the two most recent runs' models
      while (contexts.size > 2) {
        const oldest = contexts.keys().next().value as string;
        const old = contexts.get(oldest) as Promise<{ prepared: PreparedBatch; model: Model }>;
        contexts.delete(oldest);
        void release(old);
      }
    }
    return entry;
  };
  let shards = 0;
  const stalledMs = 1000 * (options.stalledSeconds ?? 30);
  const worker = new bull.Worker(
    QUEUE_NAME,
    async (job: { id?: string; data: { spec: string; chunk: BatchChunk } }) => {
      const started = performance.now();
      try {
        const { prepared } = await contextOf(job.data.spec);
        const ctx: BatchContext = prepared.context;
        const r = await explainChunk(ctx, job.data.chunk);
        const seconds = (performance.now() - started) / 1000;
        shards++;
        options.onShard?.({ jobId: String(job.id), rows: r.lines.length, seconds });
        return {
          lines: r.lines.map((l) => l.line).join('\n'),
          head: r.head,
          evaluations: r.evaluations,
          modelRows: r.modelRows,
          worker: id,
          seconds,
        } satisfies ShardResult;
      } catch (error) {
        // bad input (a user error) fails the batch at once: retrying cannot help
        if (error instanceof WhyboxError && error.userError) throw new bull.UnrecoverableError(error.message);
        throw error;
      }
    },
    {
      connection: connectionOf(q),
      prefix: q.prefix,
      concurrency: options.concurrency ?? 1,
      lockDuration: stalledMs,
      stalledInterval: stalledMs,
      maxStalledCount: 2,
    },
  );
  worker.on('error', () => undefined);
  worker.on('failed', (job, error) => {
    const final =
      error instanceof bull.UnrecoverableError || (job ? job.attemptsMade >= (job.opts.attempts ?? 1) : true);
    options.onFailed?.({ jobId: String(job?.id), message: error.message, final });
  });
  await worker.waitUntilReady();
  return {
    id,
    get shards() {
      return shards;
    },
    async close() {
      await worker.close();
      for (const entry of contexts.values()) await release(entry);
      contexts.clear();
      client.disconnect();
    },
  };
}
