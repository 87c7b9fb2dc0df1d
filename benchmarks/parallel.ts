/**
 * Parallel that pays (issue 15): 2 threads vs 1 on the German-credit MLP
 * (benchmarks/fixtures/german-mlp.onnx, 61 inputs, 20 attribute players, 50 background rows;
 * the real German rows when ../shared/datasets is present, else the bundled credit demo's)
 * and on the sequence CNN fixture (test/fixtures/seq-cnn.onnx, 60 positions, 20 background
 * sequences). Per case, side by side in one run, interleaved, medians of REPEATS after one
 * warm-up round:
 * - `1 thread`: `threads: 1`;
 * - `2 threads (cold)`: `threads: 2` — the run's own pool, started by the cost model once the
 *   job is projected above `minParallelMs` (this thread computes too), closed at the end;
 * - `pool of 2 (warm)`: a pool created once and shared by every call (the service's way):
 *   every unit runs in its workers; `pool of 4 (warm)` shows the scheduling holds beyond the
 *   cores (4 workers on 2 cores).
 * Every configuration's values are checked bit-identical to 1 thread. The overhead ratio is
 * explain / raw onnxruntime time for the same number of model rows (one session, batches
 * of 4096 real background rows) at 1 and 2 threads. Whole CLI commands (`whybox explain
 * --threads 1` vs `--threads 2`, process start and model load included) close the table.
 *
 * Workers load the built package (dist/), as an installed whybox does: run `npm run build`
 * first (the bench says so when dist/ is missing).
 * A last table measures the machine's own ceiling: the same work in 1 worker thread and in 2 side by
 * side (raw onnxruntime, a compute-bound and a memory-bound JavaScript loop).
 * Run: npm run bench -- parallel (REPEATS=7 for more repeats, CASES=lime,exact for some cases only)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, loadDemo, median, printTable, ROOT, SHARED, saveResult } from './lib/common.js';

const DIST = `${ROOT}dist/index.js`;
if (!existsSync(DIST)) {
  console.log(`skipped: needs the built package (${DIST}); run \`npm run build\` first`);
  process.exit(0);
}
const lib = (await import(DIST)) as typeof import('../src/index.js');
const { createWorkerPool, explain, loadOnnx, Rng } = lib;
type Explanation = import('../src/index.js').Explanation;

const REPEATS = Number(process.env.REPEATS ?? 5);
const quick = process.argv.includes('--quick');
const MODEL = `${ROOT}benchmarks/fixtures/german-mlp.onnx`;

// data: the real German rows when available, else the bundled demo (same 61 columns)
const demo = await loadDemo();
let columns = [...demo.train.columns];
let pool0 = demo.applicants.data;
let bgData = demo.train.data.slice(0, 50 * columns.length);
let dataName = 'credit demo rows (synthetic)';
if (existsSync(`${SHARED}german.data`)) {
  const { loadGerman } = await import('./lib/german.js');
  const g = loadGerman();
  columns = [...g.columns];
  const d = columns.length;
  const n = g.data.length / d;
  // background: a seeded sample of 50 rows; explained rows: others
  const rng = Rng.fromSeed(11);
  const idx = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  bgData = new Float64Array(50 * d);
  for (let k = 0; k < 50; k++) bgData.set(g.data.subarray(idx[k] * d, (idx[k] + 1) * d), k * d);
  pool0 = new Float64Array(40 * d);
  for (let k = 0; k < 40; k++) pool0.set(g.data.subarray(idx[50 + k] * d, (idx[50 + k] + 1) * d), k * d);
  dataName = 'UCI German credit rows';
}
const d = columns.length;
const rowsOf = (n: number) => ({ columns, data: pool0.slice(0, n * d), nRows: n });
const background = { columns, data: bgData, nRows: 50 };
const groups = demo.groups;

// sequences: random DNA one-hot, 60 positions
function dna(rng: import('../src/index.js').Rng, n: number): Float64Array {
  const out = new Float64Array(n * 240);
  for (let r = 0; r < n; r++) for (let p = 0; p < 60; p++) out[r * 240 + p * 4 + rng.int(4)] = 1;
  return out;
}
const seqRng = Rng.fromSeed(9);
const seqColumns = Array.from({ length: 240 }, (_, i) => `p${Math.floor(i / 4)}:${'ACGT'[i % 4]}`);
const seqGroups: Record<string, string[]> = {};
for (let p = 0; p < 60; p++) seqGroups[`pos${p}`] = seqColumns.slice(p * 4, p * 4 + 4);
const seqRows = { columns: seqColumns, data: dna(seqRng, 5), nRows: 5 };
const seqBackground = { columns: seqColumns, data: dna(seqRng, 20), nRows: 20 };

const credit = await loadOnnx(MODEL, { select: [1], intraOpThreads: 1 });
const cnn = await loadOnnx(`${ROOT}test/fixtures/seq-cnn.onnx`, { select: [0], intraOpThreads: 1 });
const warm2 = createWorkerPool({ threads: 2 });
const warm4 = createWorkerPool({ threads: 4 });
await Promise.all([warm2.warm(credit), warm2.warm(cnn), warm4.warm(credit)]);

interface Case {
  name: string;
  model: import('../src/index.js').Model;
  rows: { columns: string[]; data: Float64Array; nRows: number };
  options: Record<string, unknown>;
  four?: boolean;
}
const cases: Case[] = [
  { name: 'kernel 8192, 5 rows', model: credit, rows: rowsOf(5), options: { budget: 8192 }, four: true },
  { name: 'kernel 8192, 1 row', model: credit, rows: rowsOf(1), options: { budget: 8192 } },
  { name: 'kernel 256, 1 row (small job)', model: credit, rows: rowsOf(1), options: { budget: 256 } },
  {
    name: 'permutation 8192, 5 rows',
    model: credit,
    rows: rowsOf(5),
    options: { method: 'permutation', budget: 8192 },
  },
  { name: 'exact, 5 rows', model: credit, rows: rowsOf(5), options: { method: 'exact' } },
  { name: 'LIME 5000 samples, 20 rows', model: credit, rows: rowsOf(20), options: { method: 'lime' } },
  {
    name: 'sequence CNN kernel 2048, 5 seqs',
    model: cnn,
    rows: seqRows,
    options: { budget: 2048, groups: seqGroups, background: seqBackground },
  },
];
if (quick) cases.splice(1, 5);
// CASES=LIME,exact runs the cases whose names contain one of the words (case-insensitive)
const only = process.env.CASES?.toLowerCase().split(',').filter(Boolean);
if (only) cases.splice(0, cases.length, ...cases.filter((c) => only.some((w) => c.name.toLowerCase().includes(w))));

const configs = [
  { name: '1 thread', opts: { threads: 1 } },
  { name: '2 threads (cold)', opts: { threads: 2 } },
  { name: 'pool of 2 (warm)', opts: { pool: warm2 } },
  { name: 'pool of 4 (warm)', opts: { pool: warm4 }, only: 'four' },
] as const;

async function rawMs(model: Case['model'], rows: number, bg: Float64Array, width: number): Promise<number> {
  const batch = 4096;
  const buf = new Float32Array(batch * width);
  const nb = bg.length / width;
  for (let r = 0; r < batch; r++) buf.set(bg.subarray((r % nb) * width, ((r % nb) + 1) * width), r * width);
  const t0 = performance.now();
  for (let done = 0; done < rows; done += batch) await model.predict(buf, Math.min(batch, rows - done));
  return performance.now() - t0;
}

const same = (a: Float64Array, b: Float64Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
const table: (string | number)[][] = [];
const out: Record<string, unknown>[] = [];
for (const c of cases) {
  const cfgs = configs.filter((k) => !('only' in k) || c.four);
  const times = cfgs.map(() => [] as number[]);
  const raws: number[] = [];
  let reference: Explanation | undefined;
  let identical = true;
  let threadsUsed = cfgs.map(() => 0);
  for (let rep = 0; rep <= REPEATS; rep++)
    for (let k = 0; k < cfgs.length; k++) {
      const t0 = performance.now();
      const e = (await explain(c.model, c.rows, {
        background,
        groups,
        seed: 3,
        ...c.options,
        ...cfgs[k].opts,
      } as never)) as Explanation;
      const ms = performance.now() - t0;
      if (rep > 0) times[k].push(ms);
      threadsUsed[k] = e.meta.threads;
      if (k === 0) {
        reference ??= e;
        if (rep > 0 && c.options.method !== 'lime') {
          const bgw = (c.options.background as { data: Float64Array } | undefined)?.data ?? bgData;
          raws.push(await rawMs(c.model, e.modelRows, bgw, c.rows.columns.length));
        }
      } else if (reference && !same(reference.values, e.values)) identical = false;
    }
  threadsUsed = [...threadsUsed];
  const base = median(times[0]);
  const raw = raws.length > 0 ? median(raws) : undefined;
  cfgs.forEach((k, i) => {
    const ms = median(times[i]);
    table.push([
      c.name,
      k.name,
      threadsUsed[i],
      fmt(ms, 0),
      fmt(base / ms, 2),
      raw === undefined || i > 2 ? '—' : fmt(ms / raw, 2),
      i === 0 ? '' : identical ? 'yes' : 'NO',
    ]);
    out.push({
      case: c.name,
      config: k.name,
      threadsUsed: threadsUsed[i],
      ms,
      speedup: base / ms,
      overhead: raw === undefined ? undefined : ms / raw,
      rawModelMs: raw,
      modelRows: reference?.modelRows,
      bitIdentical: identical,
    });
  });
}
await warm2.close();
await warm4.close();
await credit.close();
await cnn.close();
console.log(`data: ${dataName}; ${REPEATS} repeats (+1 warm-up), interleaved, medians`);
printTable(
  ['case', 'configuration', 'threads used', 'ms', 'vs 1 thread', 'explain / raw model', 'same bits as 1'],
  table,
);

// whole CLI commands: process start, model load, explanation, output
const tmp = mkdtempSync(join(tmpdir(), 'whybox-bench-par-'));
const csv = (data: Float64Array, n: number) =>
  `${columns.join(',')}\n${Array.from({ length: n }, (_, r) => Array.from(data.subarray(r * d, (r + 1) * d)).join(',')).join('\n')}\n`;
writeFileSync(join(tmp, 'rows.csv'), csv(pool0, 5));
writeFileSync(join(tmp, 'bg.csv'), csv(bgData, 50));
writeFileSync(join(tmp, 'groups.json'), JSON.stringify(groups));
const cli = (threads: number, budget: number, rows: string) => {
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      `${ROOT}bin/whybox`,
      'explain',
      '--model',
      MODEL,
      '--data',
      join(tmp, 'rows.csv'),
      '--background',
      join(tmp, 'bg.csv'),
      '--groups',
      join(tmp, 'groups.json'),
      '--output',
      '1',
      '--budget',
      String(budget),
      '--rows',
      rows,
      '--seed',
      '1',
      '--threads',
      String(threads),
      '--format',
      'json',
      '--quiet',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  if (r.status !== 0) throw new Error(`whybox explain failed: ${r.stderr}`);
  return {
    ms: performance.now() - t0,
    values: JSON.stringify(JSON.parse(r.stdout).rows.map((x: { values: unknown }) => x.values)),
  };
};
const cliTable: (string | number)[][] = [];
for (const [label, budget, rows] of [
  ['kernel 8192, 5 rows', 8192, '0-4'],
  ['kernel 8192, 1 row', 8192, '0'],
  ['kernel 256, 1 row (small job)', 256, '0'],
] as const) {
  const t1: number[] = [];
  const t2: number[] = [];
  let sameBits = true;
  for (let rep = 0; rep <= REPEATS; rep++) {
    const a = cli(1, budget, rows);
    const b = cli(2, budget, rows);
    if (a.values !== b.values) sameBits = false;
    if (rep > 0) {
      t1.push(a.ms);
      t2.push(b.ms);
    }
  }
  const m1 = median(t1);
  const m2 = median(t2);
  cliTable.push([label, fmt(m1, 0), fmt(m2, 0), fmt(m1 / m2, 2), sameBits ? 'yes' : 'NO']);
  out.push({ case: `CLI ${label}`, ms1: m1, ms2: m2, speedup: m1 / m2, bitIdentical: sameBits });
}
rmSync(tmp, { recursive: true, force: true });
printTable(['CLI (whole command)', '--threads 1 ms', '--threads 2 ms', 'speed-up', 'same output'], cliTable);

// the machine's own ceiling: the same work in 1 worker thread, then in 2 side by side
// (throughput of 2 / throughput of 1): raw onnxruntime on the credit MLP, a compute-bound
// JavaScript loop, and a memory-bound one (random reads and writes over 64 MiB) — what two
// threads of this machine give when nothing is shared but the hardware
const PROBE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const t0 = performance.now();
  if (workerData.kind === 'js') {
    let x = 0; const a = new Float64Array(1024);
    for (let i = 0; i < 2e8; i++) x += a[i & 1023] * 1.0001 + (i & 7);
    if (x === -1) console.log(x);
  } else if (workerData.kind === 'memory') {
    const a = new Float64Array(1 << 23); let x = 0;
    for (let r = 0; r < 12; r++) for (let i = 0; i < a.length; i++) { a[i] += i; x += a[(i * 7919) & (a.length - 1)]; }
    if (x === -1) console.log(x);
  } else {
    const ort = require('onnxruntime-node');
    const s = await ort.InferenceSession.create(workerData.model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const buf = new Float32Array(4096 * 61);
    for (let i = 0; i < buf.length; i++) buf[i] = (i % 13) / 13;
    const t = new ort.Tensor('float32', buf, [4096, 61]);
    await s.run({ [s.inputNames[0]]: t });
    const t1 = performance.now();
    for (let i = 0; i < 120; i++) await s.run({ [s.inputNames[0]]: t });
    parentPort.postMessage(performance.now() - t1);
    return;
  }
  parentPort.postMessage(performance.now() - t0);
})();
`;
const { Worker } = await import('node:worker_threads');
const probe = (kind: string, n: number) =>
  Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(PROBE, { eval: true, workerData: { kind, model: MODEL } });
          w.once('message', (ms: number) => {
            void w.terminate();
            resolve(ms);
          });
          w.once('error', reject);
        }),
    ),
  ).then((ms) => Math.max(...ms));
const ceilingTable: (string | number)[][] = [];
for (const [kind, label] of [
  ['onnx', 'raw onnxruntime (credit MLP, 4096-row batches)'],
  ['js', 'compute-bound JavaScript loop'],
  ['memory', 'memory-bound loop (64 MiB, random access)'],
] as const) {
  const one: number[] = [];
  const two: number[] = [];
  for (let rep = 0; rep < Math.max(3, Math.ceil(REPEATS / 2)); rep++) {
    one.push(await probe(kind, 1));
    two.push(await probe(kind, 2));
  }
  const ratio = (2 * median(one)) / median(two);
  ceilingTable.push([label, fmt(median(one), 0), fmt(median(two), 0), fmt(ratio, 2)]);
  out.push({ case: `ceiling ${kind}`, ms1: median(one), ms2: median(two), throughputRatio: ratio });
}
printTable(
  ['machine ceiling (same work per thread)', '1 thread ms', '2 threads ms', '2 vs 1 throughput'],
  ceilingTable,
);
saveResult(only ? `parallel-${only.join('-')}` : 'parallel', out);
