/**
 * `whybox batch`: the flags of `whybox explain` over a streamed input, one JSON line per row
 * in `--out FILE.jsonl` (fsynced as chunks complete; `--resume` continues), metadata in
 * `FILE.jsonl.meta.json`; `--shard I/N` and `whybox batch merge` for broker-less sharding;
 * `--queue redis://...` to spread shards over `whybox worker` processes (src/batch/queue.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import type { ChunkResult } from '../batch/chunk.js';
import type { BatchSource, ExplainBatchOptions } from '../batch/explain-batch.js';
import { explainBatch } from '../batch/explain-batch.js';
import { JsonlWriter, mergeJsonl, scanJsonl } from '../batch/jsonl.js';
import { countRecords } from '../batch/source.js';
import type { BatchModelRef, BatchSpec } from '../batch/spec.js';
import { backgroundToJSON, batchOptionsFromSpec, sha256, stableJSON } from '../batch/spec.js';
import { loadCsv, readTextFile } from '../data/csv.js';
import type { Dataset } from '../data/dataset.js';
import { loadGroupsJson } from '../data/players.js';
import { toBackground } from '../data/rows.js';
import { loadSchema } from '../data/schema.js';
import { loadSequences, resolveAlphabet } from '../data/sequences.js';
import { DataError, InvalidOptionError } from '../errors.js';
import { DEFAULT_METHOD, getMethod } from '../methods/registry.js';
import type { Model } from '../models/model.js';
import { resolveLink, resolveOutput, selectOutputs } from '../models/model.js';
import type { OnnxModel } from '../models/onnx-model.js';
import { loadOnnx } from '../models/onnx-model.js';
import { summarizeSeeded } from '../sampling/background.js';
import { randomSeed } from '../sampling/rng.js';
import { VERSION } from '../version.js';
import { int, parseFlags, parseRowList, UsageError, warner } from './args.js';
import { CREDIT_FLAGS } from './credit.js';
import { methodFlagConfig, methodOptionsFromFlags, methodUsage } from './method-flags.js';
import { writeFileAtomic } from './output.js';
import { checkSequenceFlags, parseSequencePlayers, skippedIdsWarning } from './sequences.js';

/** Where the batch commands write. */
export interface BatchIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

/** Flags of `whybox batch` (those of `whybox explain`, plus the batch's own). */
export const BATCH_OPTIONS = {
  model: { type: 'string' },
  data: { type: 'string' },
  background: { type: 'string' },
  groups: { type: 'string' },
  method: { type: 'string' },
  output: { type: 'string' },
  link: { type: 'string' },
  threads: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  rows: { type: 'string' },
  summarize: { type: 'string' },
  schema: { type: 'string' },
  reasons: { type: 'string' },
  top: { type: 'string' },
  threshold: { type: 'string' },
  adverse: { type: 'string' },
  sequences: { type: 'string' },
  alphabet: { type: 'string' },
  layout: { type: 'string' },
  players: { type: 'string' },
  reference: { type: 'string' },
  shuffles: { type: 'string' },
  'output-names': { type: 'string' },
  'position-offset': { type: 'string' },
  'sequence-column': { type: 'string' },
  'id-column': { type: 'string' },
  'label-column': { type: 'string' },
  'length-policy': { type: 'string' },
  align: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...methodFlagConfig(),
  ...CREDIT_FLAGS,
  // the batch's own
  resume: { type: 'boolean' },
  progress: { type: 'boolean' },
  'chunk-rows': { type: 'string' },
  shard: { type: 'string' },
  queue: { type: 'string' },
  'shard-rows': { type: 'string' },
  'model-path': { type: 'string' },
  'max-blob-mb': { type: 'string' },
  attempts: { type: 'string' },
  'redis-timeout': { type: 'string' },
  json: { type: 'boolean' },
  npz: { type: 'string' },
  bedgraph: { type: 'string' },
} as const;

type Flags = Record<string, string | boolean | undefined>;

export const BATCH_USAGE = `Usage: whybox batch --model FILE.onnx --data ROWS.csv --out FILE.jsonl [explain options]
       whybox batch --model CNN.onnx --sequences SEQS.fa --out FILE.jsonl [options]
       whybox batch --schema SCHEMA.json --data RAW.csv --model FILE.onnx --out FILE.jsonl [--reasons R.json]
       whybox batch ... --queue redis://HOST:PORT[/PREFIX] [--shard-rows 64]    (shards to whybox workers)
       whybox batch ... --shard I/N                                             (every N-th chunk, no broker)
       whybox batch merge --out ALL.jsonl PART0.jsonl PART1.jsonl ...
       whybox batch npz --out DIR SEQS.jsonl         (ohe.npz, attr.npz for TF-MoDISco)
       whybox batch bedgraph --out DIR SEQS.jsonl    (OUTPUT.bedGraph tracks, ids chr:start-end)

Explains every row of a CSV (or every sequence of a FASTA / one-per-line file), streamed in
chunks, writing one JSON line per row as chunks complete: the fields of a "rows" entry of
"whybox explain --format json" ("index", "id" when the input has an id column, "data",
"prediction", "values", "stderr", ...; "decisionScore", "decision", "reasons", "audit" with
--schema). The run's metadata (method, seed, players, outputs, base values, background,
timing) goes to FILE.jsonl.meta.json. A row's line is the same bytes whatever the chunking,
threads, workers, shards or resume point (its random numbers come from the seed and its index).

Takes the options of "whybox explain" (every method, --schema mode, --sequences mode) except
--format (always JSONL), --certify, --recourse and --position-offset. Batch options:
  --out FILE.jsonl         the output (required); an existing non-empty file is refused
                           unless --resume
  --resume                 continue an interrupted run: keep its complete lines, cut a partial
                           last line, explain only the missing rows (same flags required; the
                           seed is taken from the metadata when --seed was not given)
  --chunk-rows N           rows per chunk (default 256; speed and memory only)
  --rows LIST              explain only these rows, e.g. 0,3,10-12 (0-based)
  --progress               progress with rate and ETA on stderr even when it is not a terminal
                           (on a terminal it is shown unless --quiet)
  --json                   print a JSON summary on stdout at the end (rows, seconds, rows/s;
                           per worker with --queue)
  --shard I/N              explain only chunks k with k mod N = I (Kubernetes Indexed Jobs:
                           I = $JOB_COMPLETION_INDEX); join the N files with "whybox batch merge"
  --npz DIR                with --sequences: when the run is complete, also write ohe.npz and
                           attr.npz (N, 4, L) float32 for TF-MoDISco into DIR, streamed from the
                           JSONL (as "whybox batch npz"; not with --shard: merge, then export)
  --bedgraph DIR           with --sequences: when the run is complete, also write one
                           OUTPUT.bedGraph per output into DIR, streamed from the JSONL (as
                           "whybox batch bedgraph"; not with --shard: merge, then export)
Sequences (--sequences, as in "whybox explain --sequences"):
  --length-policy P        sequences whose length differs from the model's: error (default) |
                           pad (with N) | crop | fit (pad or crop); --align center (default) |
                           start | end says where the sequence sits in the model's window. A
                           line's "sequence" is then the explained window and "origin" the index
                           in the input sequence of its first position (negative when padded)
Queue (BullMQ on Redis; workers run "whybox worker --queue URL"):
  --queue URL              redis://HOST:PORT[/PREFIX]: enqueue shards, wait, write the lines in
                           index order
  --shard-rows N           rows per queue job (default 64)
  --model-path PATH        the path workers read the model from (a shared volume), instead of
                           sending its bytes through Redis (required above --max-blob-mb)
  --max-blob-mb M          largest model sent through Redis (default 64)
  --attempts K             tries per shard before the batch fails (default 3)
  --redis-timeout S        seconds without Redis before the batch fails (default 30)

${methodUsage('tabular')}`;

const NPZ_USAGE = `Usage: whybox batch npz --out DIR SEQS.jsonl [--compress] [--json]

Writes TF-MoDISco's inputs from a complete "whybox batch --sequences" output (or a merged one):
DIR/ohe.npz (arr_0: the one-hot sequences) and DIR/attr.npz (attr.NAME.npz per output with
several: arr_0 and hypothetical = hypothetical contributions, actual = actual ones), every array
(N, 4, L) float32 in the order of the lines, as "whybox explain --sequences --format npz" writes
them ("modisco motifs -s DIR/ohe.npz -a DIR/attr.npz"). Streamed: memory stays flat whatever N;
archives past 4 GiB get zip64 records. --compress deflates the members (np.savez_compressed).
`;

const BEDGRAPH_USAGE = `Usage: whybox batch bedgraph --out DIR SEQS.jsonl [--output K|NAME] [--json]

Writes bedGraph tracks of the projected attribution from a complete "whybox batch --sequences"
output (or a merged one): DIR/OUTPUT.bedGraph per output (--output K or NAME: that output's
only), one line per base of every sequence whose id is chrom:start-end (bedtools getfasta names;
(+)/(-) strands, minus-strand intervals mirrored; padded bases left out, cropped windows placed
at their bases), sorted by chromosome and start: the bytes "whybox explain --sequences --format
bedgraph" writes. Ids without coordinates are skipped with a warning. Streamed: memory stays flat
whatever the number of sequences; a temporary file in DIR takes 8 bytes per base and output.
`;

const MERGE_USAGE = `Usage: whybox batch merge --out ALL.jsonl PART.jsonl [PART.jsonl ...]

Joins the outputs of "whybox batch --shard I/N" runs into one file in index order, checking
that every row appears exactly once (a missing or unfinished shard is an error).
`;

/** Flags of explain that batch refuses, with why. */
const REFUSED: Readonly<Record<string, string>> = {
  format: 'the output is always JSON lines (one per row)',
  recourse: 'not available in batch mode yet: run whybox explain --recourse on the rows you need',
  certify: 'not available in batch mode yet: run whybox explain --certify on the rows you need',
  'position-offset': 'it changes the table and HTML reports only, which batch does not write',
};

/** Runs `whybox batch ...`; returns the exit code. */
export async function runBatchCommand(args: readonly string[], io: BatchIO, signal: AbortSignal): Promise<number> {
  if (args[0] === 'merge') return runMerge(args.slice(1), io);
  if (args[0] === 'npz') return runNpz(args.slice(1), io);
  if (args[0] === 'bedgraph') return runBedGraph(args.slice(1), io);
  const flags = parseFlags(args, BATCH_OPTIONS, 'batch') as Flags;
  if (flags.help) {
    io.stdout.write(BATCH_USAGE);
    return 0;
  }
  for (const [f, why] of Object.entries(REFUSED))
    if (flags[f] !== undefined) throw new InvalidOptionError(`--${f}`, 'unset with whybox batch', flags[f], why);
  for (const f of ['max-changes', 'recourse-count', 'recourse-budget', 'certify-z'])
    if (flags[f] !== undefined)
      throw new InvalidOptionError(`--${f}`, 'unset with whybox batch', flags[f], REFUSED.recourse);
  const out = flags.out as string | undefined;
  if (!out) throw new UsageError('missing --out FILE.jsonl (see whybox batch --help)');
  if (!flags.model) throw new UsageError('missing --model FILE.onnx (see whybox batch --help)');
  const seq = flags.sequences !== undefined;
  if (!seq && !flags.data)
    throw new UsageError('missing --data ROWS.csv or --sequences FILE (see whybox batch --help)');
  if (seq && flags.data !== undefined)
    throw new InvalidOptionError('--data', 'unset with --sequences', flags.data, 'give one input');
  if (flags.queue !== undefined && flags.shard !== undefined)
    throw new InvalidOptionError('--shard', 'unset with --queue', flags.shard, 'the queue shards the input itself');
  for (const f of ['shard-rows', 'model-path', 'max-blob-mb', 'attempts', 'redis-timeout'])
    if (flags[f] !== undefined && flags.queue === undefined) throw new UsageError(`--${f} needs --queue URL`);
  const chunkRows = flags['chunk-rows'] === undefined ? 256 : int(flags['chunk-rows'] as string, '--chunk-rows', 1);
  const shard = flags.shard === undefined ? undefined : parseShard(flags.shard as string);
  const quiet = flags.quiet === true;
  const npzDir = flags.npz as string | undefined;
  const bedGraphDir = flags.bedgraph as string | undefined;
  // the exports of a complete sequence run, refused where they cannot run
  for (const [flag, files] of [
    ['npz', 'ohe.npz / attr.npz'],
    ['bedgraph', 'bedGraph tracks'],
  ] as const) {
    const dir = flags[flag] as string | undefined;
    if (dir === undefined) continue;
    if (!seq)
      throw new InvalidOptionError(`--${flag}`, 'unset without --sequences', dir, `${files} are for sequence runs`);
    if (shard)
      throw new InvalidOptionError(
        `--${flag}`,
        'unset with --shard',
        dir,
        `a shard holds every N-th chunk: join the shards with whybox batch merge, then run whybox batch ${flag}`,
      );
    if (dir === '') throw new InvalidOptionError(`--${flag}`, 'a directory', dir);
  }

  const built = await buildSpec(flags, io);
  try {
    const metaPath = `${out}.meta.json`;
    // resume: the output's complete lines, the earlier run's metadata
    const scan = await scanJsonl(out, false);
    let seed = built.seedGiven;
    if (scan.lines > 0 || scan.cut > 0) {
      if (!flags.resume)
        throw new InvalidOptionError(
          '--out',
          'a new or empty file (or --resume)',
          out,
          `it already holds ${scan.lines} rows: pass --resume to continue that run, or delete the file to start over`,
        );
      const prev = await readMeta(metaPath);
      if (prev.fingerprint !== built.fingerprint)
        throw new InvalidOptionError(
          '--resume',
          'the flags and files of the interrupted run',
          out,
          `${metaPath} records another model, options or background (fingerprint ${String(prev.fingerprint).slice(0, 12)}… vs ${built.fingerprint.slice(0, 12)}…); rerun with the same flags, or write to a new --out`,
        );
      if (prev.shard !== (flags.shard ?? null))
        throw new InvalidOptionError('--shard', `${prev.shard ?? 'unset'} as in the interrupted run`, flags.shard);
      seed ??= prev.seed as number;
    }
    seed ??= randomSeed();
    const spec: BatchSpec = { ...built.spec, options: { ...built.spec.options, seed } };
    const resumed = flags.resume ? await scanJsonl(out, true) : scan;
    const done = resumed.done;
    const rowsWanted =
      flags.rows === undefined
        ? undefined
        : new Set(parseRowList(flags.rows as string, Number.MAX_SAFE_INTEGER, 'row numbers'));
    const skip = (i: number) => done.has(i) || (rowsWanted !== undefined && !rowsWanted.has(i));
    const metaBase = {
      whybox: VERSION,
      status: 'running',
      fingerprint: built.fingerprint,
      seed,
      shard: flags.shard ?? null,
      input: built.inputPath,
      model: built.modelFile,
      out: basename(out),
    };
    await writeFileAtomic(metaPath, `${JSON.stringify(metaBase, null, 2)}\n`);
    const started = performance.now();
    const total = !progressWanted(flags, io, quiet)
      ? undefined
      : rowsWanted
        ? done.size + [...rowsWanted].filter((i) => !done.has(i)).length
        : await countRecords(built.inputPath, seq ? 'sequences' : 'table');
    const progress = makeBatchProgress(io, total, done.size, flags.progress === true);
    let head: Record<string, unknown> | undefined;
    let evaluations = 0;
    let modelRows = 0;
    let rowsDone = 0;
    let rowsRead = 0;
    let workers: readonly object[] | undefined;
    let chunkLines = 0;
    const writer = await JsonlWriter.open(out);
    try {
      if (flags.queue !== undefined) {
        const { produceBatch } = await import('../batch/queue.js');
        const res = await produceBatch({
          url: flags.queue as string,
          spec,
          modelBytes: built.modelBytes,
          source: built.source,
          shardRows: flags['shard-rows'] === undefined ? 64 : int(flags['shard-rows'] as string, '--shard-rows', 1),
          attempts: flags.attempts === undefined ? 3 : int(flags.attempts as string, '--attempts', 1),
          maxBlobMb:
            flags['max-blob-mb'] === undefined ? undefined : int(flags['max-blob-mb'] as string, '--max-blob-mb', 1),
          redisTimeoutMs:
            1000 *
            (flags['redis-timeout'] === undefined ? 30 : int(flags['redis-timeout'] as string, '--redis-timeout', 1)),
          skip,
          signal,
          model: built.model,
          write: (lines) => writer.append(lines),
          onShard: (r, p) => {
            head ??= r.head;
            evaluations += r.evaluations;
            modelRows += r.modelRows;
            rowsDone = p.rowsDone;
            rowsRead = p.rowsRead;
            progress.update(done.size + p.rowsDone);
          },
        });
        workers = res.workers;
        rowsRead = res.rowsRead;
      } else {
        const options: ExplainBatchOptions = {
          ...batchOptionsFromSpec(spec),
          chunkRows,
          skip,
          shard,
          threads: built.threads,
          signal,
          onWarning: warner(io, quiet),
          onDone: (p) => {
            rowsRead = p.rowsRead;
          },
          onChunk: (r: ChunkResult, p) => {
            chunkLines = r.lines.length;
            head ??= r.head;
            evaluations += r.evaluations;
            modelRows += r.modelRows;
            rowsDone = p.rowsDone;
            rowsRead = p.rowsRead;
            progress.update(done.size + p.rowsDone);
          },
        };
        let pending: string[] = [];
        for await (const l of explainBatch(built.model, built.source, options)) {
          // onChunk ran before a chunk's first line: write each chunk in one fsynced append
          pending.push(l.line);
          if (pending.length === chunkLines) {
            await writer.append(pending);
            pending = [];
          }
        }
        await writer.append(pending);
      }
    } finally {
      progress.stop();
      await writer.close();
    }
    if (rowsWanted) {
      const missing = [...rowsWanted].filter((i) => i >= rowsRead);
      if (missing.length > 0)
        throw new InvalidOptionError(
          '--rows',
          `row numbers below ${rowsRead} (the input has ${rowsRead} rows)`,
          missing[0],
        );
    }
    const seconds = (performance.now() - started) / 1000;
    const final = await scanJsonl(out, false);
    const meta = {
      ...metaBase,
      status: 'complete',
      inputRows: rowsRead,
      rows: final.lines,
      rowsThisRun: rowsDone,
      resumedFrom: done.size,
      seconds,
      rowsPerSecond: rowsDone / Math.max(seconds, 1e-9),
      evaluations,
      modelRows,
      ...(head ? { explanation: head } : {}),
      ...(workers ? { workers } : {}),
    };
    await writeFileAtomic(metaPath, `${JSON.stringify(meta, null, 2)}\n`);
    // the exports after the summary line (or before the --json summary, which lists their files)
    let npz: string[] | undefined;
    let bedgraph: string[] | undefined;
    if (npzDir !== undefined && flags.json) npz = await exportNpz(out, npzDir, false, io, true);
    if (bedGraphDir !== undefined && flags.json)
      bedgraph = (await exportBedGraph(out, bedGraphDir, undefined, io, quiet, true)).paths;
    if (flags.json)
      io.stdout.write(
        `${JSON.stringify({ out, rows: final.lines, rowsThisRun: rowsDone, resumedFrom: done.size, seconds, rowsPerSecond: meta.rowsPerSecond, ...(workers ? { workers } : {}), ...(npz ? { npz } : {}), ...(bedgraph ? { bedgraph } : {}) })}\n`,
      );
    else if (!quiet)
      io.stderr.write(
        `whybox: ${rowsDone} rows explained in ${seconds.toFixed(1)} s (${meta.rowsPerSecond.toFixed(1)} rows/s)${done.size ? `, ${done.size} kept from the interrupted run` : ''}; ${final.lines} lines in ${out}\n`,
      );
    if (npzDir !== undefined && !flags.json) await exportNpz(out, npzDir, false, io, quiet);
    if (bedGraphDir !== undefined && !flags.json) await exportBedGraph(out, bedGraphDir, undefined, io, quiet, quiet);
    return 0;
  } finally {
    await built.close();
  }
}

function parseShard(s: string): { index: number; count: number } {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(s);
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!m || !(count >= 1) || !(index < count))
    throw new InvalidOptionError('--shard', 'I/N with 0 <= I < N, e.g. 0/4 (I = $JOB_COMPLETION_INDEX)', s);
  return { index, count };
}

async function readMeta(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new DataError(
      `is missing: --resume needs the metadata the interrupted run wrote next to its output (or delete the output to start over)`,
      { file: path },
    );
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new DataError('is not valid JSON: delete the output and its metadata to start over', { file: path });
  }
}

function progressWanted(flags: Flags, io: BatchIO, quiet: boolean): boolean {
  return flags.progress === true || (!quiet && io.stderr.isTTY === true && flags.json !== true);
}

/** Progress with rate and ETA: a bar on a terminal, a line every few seconds otherwise (--progress). */
function makeBatchProgress(io: BatchIO, total: number | undefined, kept: number, forced: boolean) {
  if (total === undefined) return { update: (_n: number) => undefined, stop: () => undefined };
  const started = performance.now();
  const eta = (n: number) => {
    const s = (performance.now() - started) / 1000;
    const rate = (n - kept) / Math.max(s, 1e-9);
    const left = rate > 0 ? (total - n) / rate : Number.POSITIVE_INFINITY;
    return { rate, left };
  };
  const fmt = (sec: number) =>
    !Number.isFinite(sec)
      ? '?'
      : sec < 90
        ? `${Math.round(sec)}s`
        : sec < 5400
          ? `${Math.round(sec / 60)}m`
          : `${(sec / 3600).toFixed(1)}h`;
  if (io.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: io.stderr as NodeJS.WritableStream,
        format: 'batch [{bar}] {percentage}% | {value}/{total} rows | {rate} rows/s | ETA {left}',
        clearOnComplete: true,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, kept, { rate: '0', left: '?' });
    return {
      update(n: number) {
        const { rate, left } = eta(n);
        bar.update(Math.min(n, total), { rate: rate.toFixed(1), left: fmt(left) });
      },
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  return {
    update(n: number) {
      if (!forced) return;
      const now = performance.now();
      if (now - last < 2000 && n < total) return;
      last = now;
      const { rate, left } = eta(n);
      io.stderr.write(
        `whybox: batch ${n}/${total} rows (${((100 * n) / Math.max(1, total)).toFixed(0)}%), ${rate.toFixed(1)} rows/s, ETA ${fmt(left)}\n`,
      );
    },
    stop: () => undefined,
  };
}

/** The model, source and spec of a run, built from the flags. */
interface BuiltRun {
  readonly model: Model;
  readonly modelFile: string;
  /** The ONNX file's bytes (sent through Redis with --queue unless --model-path). */
  readonly modelBytes?: Uint8Array;
  readonly source: BatchSource;
  readonly inputPath: string;
  readonly spec: BatchSpec;
  readonly seedGiven?: number;
  readonly threads?: number;
  readonly fingerprint: string;
  close(): Promise<void>;
}

async function loadModelFlags(
  flags: Flags,
  link: ReturnType<typeof resolveLink>,
): Promise<{ onnx: OnnxModel; model: Model }> {
  const path = flags.model as string;
  let onnx = await loadOnnx(path, { link });
  let model: Model = onnx;
  const output = flags.output as string | undefined;
  if (output !== undefined) {
    if (onnx.tensors.some((t) => t.name === output)) {
      if (output !== onnx.tensor) {
        await onnx.close();
        onnx = await loadOnnx(path, { link, tensor: output });
        model = onnx;
      }
    } else {
      let idx: number;
      try {
        idx = resolveOutput(onnx.outputNames, /^\d+$/.test(output) ? Number(output) : output);
      } catch {
        await onnx.close();
        throw new InvalidOptionError(
          '--output',
          `an output index (0..${onnx.outputNames.length - 1}), one of ${JSON.stringify(onnx.outputNames)}, or a tensor name of ${JSON.stringify(onnx.tensors.map((t) => t.name))}`,
          output,
        );
      }
      model = selectOutputs(onnx, idx);
    }
  }
  return { onnx, model };
}

function finite(s: string, flag: string): number {
  const v = Number(s);
  if (s.trim() === '' || !Number.isFinite(v)) throw new InvalidOptionError(flag, 'a finite number', s);
  return v;
}

async function buildSpec(flags: Flags, io: BatchIO): Promise<BuiltRun> {
  const seq = flags.sequences !== undefined;
  const credit = flags.schema !== undefined;
  if (!credit)
    for (const f of ['reasons', 'top', 'threshold', 'adverse'])
      if (flags[f] !== undefined) throw new UsageError(`--${f} needs --schema SCHEMA.json (see whybox batch --help)`);
  if (seq) {
    for (const f of ['groups', 'summarize', 'schema', 'reasons', 'top', 'threshold', 'adverse'])
      if (flags[f] !== undefined)
        throw new InvalidOptionError(`--${f}`, 'unset with --sequences (it is for tabular --data)', flags[f]);
  } else
    for (const f of [
      'alphabet',
      'layout',
      'players',
      'reference',
      'shuffles',
      'output-names',
      'sequence-column',
      'id-column',
      'label-column',
      'length-policy',
      'align',
    ])
      if (flags[f] !== undefined) throw new UsageError(`--${f} needs --sequences FILE (the sequence mode)`);
  const link = resolveLink(flags.link, '--link');
  const threads = flags.threads === undefined ? undefined : int(flags.threads as string, '--threads', 1);
  const playersFlag = seq ? parseSequencePlayers(flags.players as string | undefined, '--players') : undefined;
  const method = seq
    ? getMethod(flags.method ?? (playersFlag === 'hierarchy' ? 'partition' : 'kernel'), 'sequences', '--method')
    : getMethod(flags.method ?? DEFAULT_METHOD, 'tabular', '--method');
  const summarizeRows = flags.summarize === undefined ? undefined : int(flags.summarize as string, '--summarize', 1);
  const given = methodOptionsFromFlags(flags, method, threads === undefined ? {} : { threads });
  const seedGiven = given.seed as number | undefined;
  const { threads: _t, seed: _s, ...methodOptions } = given;
  const { onnx, model: loaded } = await loadModelFlags(flags, link);
  let model = loaded;
  try {
    const modelFile = resolve(flags.model as string);
    const modelBytes = new Uint8Array(await readFile(modelFile));
    const modelSha = sha256(modelBytes);
    const fileHashes: Record<string, string> = { model: modelSha };
    const options: Record<string, unknown> = { ...methodOptions, method: method.name };
    let spec: Omit<BatchSpec, 'model'>;
    let source: BatchSource;
    let inputPath: string;
    if (seq) {
      inputPath = flags.sequences as string;
      // CSV/TSV tables of sequences: the columns as `whybox explain --sequences` reads them
      const column = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
      source = {
        sequences: inputPath,
        readerOptions: {
          sequenceColumn: column('sequence-column'),
          idColumn: column('id-column'),
          labelColumn: column('label-column'),
          onInfo: flags.quiet ? undefined : (m: string) => io.stderr.write(`whybox: ${m}\n`),
        },
      };
      const alphabet = resolveAlphabet(flags.alphabet as string | undefined, '--alphabet');
      const { reference, outputNames, lengthPolicy, align } = checkSequenceFlags(flags);
      Object.assign(options, {
        ...(flags.alphabet !== undefined ? { alphabet: alphabet.name } : {}),
        ...(flags.layout !== undefined ? { layout: flags.layout } : {}),
        ...(playersFlag !== undefined ? { players: playersFlag } : {}),
        ...(reference !== undefined ? { reference } : {}),
        ...(flags.shuffles !== undefined ? { shuffles: int(flags.shuffles as string, '--shuffles', 1) } : {}),
        // explainSequences pads / crops each chunk's sequences (and the background) by these,
        // as whybox explain does; in the spec, so queue workers do too, and in the fingerprint
        // (the defaults, error and center, left out: giving them or not is the same run)
        ...(lengthPolicy !== undefined && lengthPolicy !== 'error' ? { lengthPolicy } : {}),
        ...(align !== undefined && align !== 'center' ? { align } : {}),
      });
      let sequenceBackground: BatchSpec['sequenceBackground'];
      if (flags.background) {
        const set = await loadSequences(flags.background as string);
        sequenceBackground = {
          ids: [...set.ids],
          sequences: [...set.sequences],
          lines: [...set.lines],
          source: set.source,
        };
        fileHashes.background = sha256(stableJSON(sequenceBackground.sequences));
      }
      spec = {
        version: 1,
        mode: 'sequences',
        options,
        ...(sequenceBackground ? { sequenceBackground } : {}),
        ...(outputNames ? { outputNames } : {}),
      };
    } else {
      inputPath = flags.data as string;
      source = { csv: inputPath };
      let credit: BatchSpec['credit'];
      let columns: readonly string[] | undefined;
      if (flags.schema !== undefined) {
        if (flags.groups !== undefined)
          throw new InvalidOptionError(
            '--groups',
            'unset with --schema',
            flags.groups,
            'the schema groups each attribute’s columns',
          );
        const schemaPath = flags.schema as string;
        const schemaText = await readTextFile(schemaPath);
        const schema = await loadSchema(schemaPath);
        if (schema.columns.length !== model.nInputs)
          throw new DataError(
            `the schema encodes ${schema.columns.length} model columns but the model takes ${model.nInputs} inputs: the schema's "columns" must be the model's input columns`,
            { file: schemaPath },
          );
        const top = flags.top === undefined ? 4 : int(flags.top as string, '--top', 1);
        const thresholdGiven = flags.threshold === undefined ? 0.5 : finite(flags.threshold as string, '--threshold');
        if (link === 'logit' && !(thresholdGiven > 0 && thresholdGiven < 1))
          throw new InvalidOptionError('--threshold', 'a probability in (0, 1) with --link logit', flags.threshold);
        const threshold = link === 'logit' ? Math.log(thresholdGiven / (1 - thresholdGiven)) : thresholdGiven;
        const adverse = (flags.adverse ?? 'higher') as 'higher' | 'lower';
        if (adverse !== 'higher' && adverse !== 'lower')
          throw new InvalidOptionError('--adverse', 'higher or lower', flags.adverse);
        if (method.name === 'tree' && link !== 'logit')
          throw new InvalidOptionError('--link', 'logit with --method tree and --schema', link);
        if (options.discretizer === 'none')
          throw new InvalidOptionError('--discretizer', 'quartile or decile with --schema (reason codes)', 'none');
        // the score of a decision: the last column left by --output
        if (model.outputNames.length > 1) model = selectOutputs(model, model.outputNames.length - 1);
        const templatesText = flags.reasons ? await readTextFile(flags.reasons as string) : undefined;
        credit = {
          schemaText,
          schemaSource: schemaPath,
          ...(templatesText !== undefined ? { templatesText, templatesSource: flags.reasons as string } : {}),
          top,
          threshold,
          adverse,
          audit: { modelSha256: modelSha, modelFile: basename(modelFile) },
        };
        fileHashes.schema = sha256(schemaText);
        if (templatesText) fileHashes.reasons = sha256(templatesText);
        columns = schema.columns;
      }
      // the background: --background (encoded or, with --schema, raw records), else the --data rows
      const bgPath = (flags.background as string | undefined) ?? inputPath;
      let bgRows: Dataset;
      if (credit) {
        const { loadCreditBackground } = await import('./credit.js');
        bgRows = await loadCreditBackground(bgPath, await loadSchema(flags.schema as string));
      } else {
        bgRows = await loadCsv(bgPath, { float32: model.inputType === 'float32' });
        columns = bgRows.columns;
        if (bgRows.columns.length !== model.nInputs)
          throw new DataError(
            `has ${bgRows.columns.length} columns but the model takes ${model.nInputs} inputs: the header must list the model's ${model.nInputs} input columns in order (--background)`,
            { file: bgPath, line: 1 },
          );
      }
      if (!flags.background && !(await isSmall(bgPath)))
        io.stderr.write(
          `whybox: warning: no --background: the whole --data file is read as the background (pass --background BG.csv, a sample of the training rows)\n`,
        );
      let background = toBackground(bgRows, undefined, model.nInputs);
      if (summarizeRows && method.shared.includes('interventional')) {
        // reasons' baselines come from the whole background, as in whybox explain --schema
        if (credit) credit = { ...credit, reasonBackground: backgroundToJSON(background) };
        background = summarizeSeeded(background, { method: 'kmeans', rows: summarizeRows });
      } else if (summarizeRows)
        throw new InvalidOptionError(
          '--summarize',
          `unset for --method ${method.name}`,
          summarizeRows,
          'it summarises the background of the Shapley methods',
        );
      const groups = !credit && flags.groups ? await loadGroupsJson(flags.groups as string) : undefined;
      const bgJSON = backgroundToJSON(background);
      fileHashes.background = sha256(bgJSON.data + bgJSON.weights);
      spec = {
        version: 1,
        mode: credit ? 'credit' : 'table',
        options,
        ...(columns ? { columns: [...columns] } : {}),
        ...(groups ? { groups } : {}),
        background: bgJSON,
        ...(credit ? { credit } : {}),
      };
    }
    const modelRef: BatchModelRef =
      flags['model-path'] !== undefined
        ? { kind: 'onnx-path', path: flags['model-path'] as string, sha256: modelSha, options: shippedOptions(model) }
        : { kind: 'onnx-blob', sha256: modelSha, bytes: modelBytes.byteLength, options: shippedOptions(model) };
    const fingerprint = sha256(
      stableJSON({
        options,
        seed: seedGiven ?? null,
        files: fileHashes,
        mode: spec.mode,
        groups: (spec as BatchSpec).groups ?? null,
        outputNames: (spec as BatchSpec).outputNames ?? null,
        modelOptions: modelRef.options,
        credit: (spec as BatchSpec).credit
          ? { ...(spec as BatchSpec).credit, schemaText: undefined, templatesText: undefined }
          : null,
      }),
    );
    return {
      model,
      modelFile,
      modelBytes,
      source,
      inputPath,
      spec: { ...spec, model: modelRef } as BatchSpec,
      seedGiven,
      threads,
      fingerprint,
      close: () => onnx.close(),
    };
  } catch (error) {
    await onnx.close();
    throw error;
  }
}

/** The model options a worker needs (its own onnxruntime threads are its business). */
function shippedOptions(model: Model): Record<string, unknown> {
  const { intraOpThreads: _i, ...rest } = (model.spec?.options ?? {}) as Record<string, unknown>;
  return rest;
}

async function isSmall(path: string): Promise<boolean> {
  try {
    return (await stat(path)).size < 1_000_000;
  } catch {
    return true;
  }
}

/** Writes DIR/ohe.npz and DIR/attr*.npz from a complete sequence batch output; returns their paths. */
async function exportNpz(jsonl: string, dir: string, compress: boolean, io: BatchIO, quiet: boolean) {
  const { writeModiscoFromJsonl } = await import('../batch/npz-export.js');
  const started = performance.now();
  const res = await writeModiscoFromJsonl(jsonl, dir, { compress });
  const paths = res.files.map((f) => join(dir, f));
  if (!quiet)
    io.stderr.write(
      `whybox: wrote ${paths.join(', ')} (${res.rows} sequences, ${((performance.now() - started) / 1000).toFixed(1)} s)${res.perLetter ? '' : '; the method gives one value per position, so the hypothetical arrays repeat the actual ones (--method ism gives per-letter values)'}\n`,
    );
  return paths;
}

/**
 * Writes DIR/OUTPUT.bedGraph per output (or the one of `output`) from a complete sequence batch
 * output; warns of skipped ids unless `quiet`, names the files unless `silent`.
 */
async function exportBedGraph(
  jsonl: string,
  dir: string,
  output: string | undefined,
  io: BatchIO,
  quiet: boolean,
  silent: boolean,
) {
  const { writeBedGraphFromJsonl } = await import('../batch/bedgraph-export.js');
  let index: number | undefined;
  if (output !== undefined) {
    const { readSequenceBatch } = await import('../batch/sequence-jsonl.js');
    const { outputIndex } = await import('../explanation/sequence-export.js');
    const batch = await readSequenceBatch(jsonl, 'bedGraph tracks');
    index = outputIndex(batch, /^\d+$/.test(output) ? Number(output) : output, '--output');
  }
  const started = performance.now();
  const res = await writeBedGraphFromJsonl(jsonl, dir, {
    output: index,
    onSkipped: quiet ? undefined : (count, first) => io.stderr.write(skippedIdsWarning(count, first)),
  });
  const paths = res.files.map((f) => join(dir, f));
  if (!silent)
    io.stderr.write(
      `whybox: wrote ${paths.join(', ')} (${res.rows} sequences read, ${res.rows - res.skipped} placed, ${res.lines} bases per track, ${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
    );
  return { paths, res };
}

/** Parses the flags of an export subcommand (`whybox batch npz | bedgraph`): --out DIR and one JSONL. */
async function parseExportArgs<V extends { out?: string; help?: boolean }>(
  args: readonly string[],
  command: string,
  options: Record<string, { type: 'string' | 'boolean' }>,
): Promise<{ values: V; jsonl: string } | undefined> {
  const { parseArgs } = await import('node:util');
  let parsed: { values: V; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...args],
      options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' }, ...options },
      strict: true,
      allowPositionals: true,
    }) as unknown as typeof parsed;
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]} (see whybox batch ${command} --help)`);
  }
  if (parsed.values.help) return undefined;
  if (!parsed.values.out) throw new UsageError(`missing --out DIR (see whybox batch ${command} --help)`);
  if (parsed.positionals.length !== 1)
    throw new UsageError(
      `give one batch output (SEQS.jsonl; merge shards first); got ${parsed.positionals.length} (see whybox batch ${command} --help)`,
    );
  return { values: parsed.values, jsonl: parsed.positionals[0] };
}

async function runNpz(args: readonly string[], io: BatchIO): Promise<number> {
  const parsed = await parseExportArgs<{ out: string; json?: boolean; compress?: boolean; quiet?: boolean }>(
    args,
    'npz',
    { json: { type: 'boolean' }, compress: { type: 'boolean' }, quiet: { type: 'boolean' } },
  );
  if (!parsed) {
    io.stdout.write(NPZ_USAGE);
    return 0;
  }
  const { values: v, jsonl } = parsed;
  const files = await exportNpz(jsonl, v.out, v.compress === true, io, v.quiet === true || v.json === true);
  if (v.json) io.stdout.write(`${JSON.stringify({ out: v.out, files })}\n`);
  return 0;
}

async function runBedGraph(args: readonly string[], io: BatchIO): Promise<number> {
  const parsed = await parseExportArgs<{ out: string; output?: string; json?: boolean; quiet?: boolean }>(
    args,
    'bedgraph',
    { output: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' } },
  );
  if (!parsed) {
    io.stdout.write(BEDGRAPH_USAGE);
    return 0;
  }
  const { values: v, jsonl } = parsed;
  const quiet = v.quiet === true;
  const { paths, res } = await exportBedGraph(jsonl, v.out, v.output, io, quiet, quiet || v.json === true);
  if (v.json)
    io.stdout.write(
      `${JSON.stringify({ out: v.out, files: paths, rows: res.rows, skipped: res.skipped, lines: res.lines })}\n`,
    );
  return 0;
}

async function runMerge(args: readonly string[], io: BatchIO): Promise<number> {
  const { parseArgs } = await import('node:util');
  let parsed: { values: { out?: string; help?: boolean; json?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...args],
      options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' } },
      strict: true,
      allowPositionals: true,
    }) as typeof parsed;
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]} (see whybox batch merge --help)`);
  }
  if (parsed.values.help) {
    io.stdout.write(MERGE_USAGE);
    return 0;
  }
  const out = parsed.values.out;
  if (!out) throw new UsageError('missing --out ALL.jsonl (see whybox batch merge --help)');
  const inputs = parsed.positionals;
  if (inputs.length === 0) throw new UsageError('give the shard files to merge (see whybox batch merge --help)');
  const outId = resolve(out);
  if (inputs.some((p) => resolve(p) === outId))
    throw new InvalidOptionError('--out', 'a file that is not one of the inputs', out);
  // the shards' metadata: same run, every shard complete, how many rows the input has
  const metas = await Promise.all(inputs.map((p) => readMeta(`${p}.meta.json`)));
  const fp = metas[0].fingerprint;
  metas.forEach((m, k) => {
    if (m.fingerprint !== fp || m.seed !== metas[0].seed)
      throw new DataError(`is from another run than ${inputs[0]} (other flags, files or seed)`, { file: inputs[k] });
    if (m.status !== 'complete')
      throw new DataError('is unfinished: rerun its shard with --resume, then merge', { file: inputs[k] });
  });
  const shards = new Set(metas.map((m) => m.shard));
  const count = Number(String(metas[0].shard ?? '0/1').split('/')[1]);
  if (shards.size !== inputs.length || shards.size !== count)
    throw new DataError(
      `merging ${inputs.length} file(s) of shards ${[...shards].join(', ')}: give each of the ${count} shards once`,
      { file: inputs[0] },
    );
  const tmp = `${out}.merging`;
  const { unlink, rename } = await import('node:fs/promises');
  await unlink(tmp).catch(() => undefined);
  const writer = await JsonlWriter.open(tmp);
  let rows: number;
  try {
    rows = await mergeJsonl(inputs, (lines) => writer.append(lines));
  } catch (error) {
    await writer.close();
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  await writer.close();
  const inputRows = metas[0].inputRows as number;
  if (typeof inputRows === 'number' && rows !== inputRows) {
    await unlink(tmp).catch(() => undefined);
    throw new DataError(`the shards hold ${rows} rows but the input has ${inputRows}: a shard is incomplete`, {
      file: inputs[0],
    });
  }
  await rename(tmp, out);
  const { shard: _s, ...base } = metas[0];
  await writeFileAtomic(
    `${out}.meta.json`,
    `${JSON.stringify({ ...base, shard: null, out: basename(out), rows, mergedFrom: inputs.map((p) => basename(p)) }, null, 2)}\n`,
  );
  if (parsed.values.json) io.stdout.write(`${JSON.stringify({ out, rows, shards: inputs.length })}\n`);
  else io.stderr.write(`whybox: merged ${inputs.length} shards: ${rows} rows in ${out}\n`);
  return 0;
}
