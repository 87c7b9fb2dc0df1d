/**
 * Worker-pool speed-up: explain with 1 thread (in-process) vs a pool of 2 workers on this
 * 2-core machine, for the MLP fixture (61 inputs, 20 attribute players), the largest fixture
 * (benchmarks/fixtures/mlp-wide.onnx, 61-256-256-2: model-bound) and the sequence CNN
 * fixture (input [60, 4], 60 position players), default kernel method, with evaluations/s,
 * model rows/s and the overhead ratio (explain / single-thread model alone). Runs are
 * interleaved and repeated; medians. Also measures onnxruntime intra-op threads per worker
 * (workers × intra-op threads vs the cores).
 * Run: npm run bench -- parallel
 */
import type { Model } from '../src/index.js';
import { createWorkerPool, explain, loadOnnx, Rng } from '../src/index.js';
import { fmt, head, loadDemo, median, printTable, ROOT, saveResult } from './lib/common.js';

const REPEATS = 5;
const { train, applicants, groups } = await loadDemo();

interface Workload {
  name: string;
  file: string;
  rows: { columns: string[]; data: Float64Array; nRows: number };
  background: { data: Float64Array; nRows: number };
  groups?: Record<string, string[]>;
}

function dna(rng: Rng, n: number): Float64Array {
  const out = new Float64Array(n * 240);
  for (let r = 0; r < n; r++) for (let p = 0; p < 60; p++) out[r * 240 + p * 4 + rng.int(4)] = 1;
  return out;
}
const rng = Rng.fromSeed(9);
const seqColumns = Array.from({ length: 240 }, (_, i) => `p${Math.floor(i / 4)}:${'ACGT'[i % 4]}`);
const seqGroups: Record<string, string[]> = {};
for (let p = 0; p < 60; p++) seqGroups[`pos${p}`] = seqColumns.slice(p * 4, p * 4 + 4);
const workloads: Workload[] = [
  {
    name: 'MLP fixture (61 inputs, 20 players)',
    file: `${ROOT}test/fixtures/mlp.onnx`,
    rows: { columns: [...train.columns], data: applicants.data, nRows: applicants.nRows },
    background: { data: head(train, 50), nRows: 50 },
    groups,
  },
  {
    name: 'wide MLP (61-256-256-2, 20 players)',
    file: `${ROOT}benchmarks/fixtures/mlp-wide.onnx`,
    rows: { columns: [...train.columns], data: applicants.data, nRows: applicants.nRows },
    background: { data: head(train, 50), nRows: 50 },
    groups,
  },
  {
    name: 'sequence CNN fixture ([60,4], 60 players)',
    file: `${ROOT}test/fixtures/seq-cnn.onnx`,
    rows: { columns: seqColumns, data: dna(rng, 4), nRows: 4 },
    background: { data: dna(rng, 50), nRows: 50 },
    groups: seqGroups,
  },
];

async function modelAloneMs(model: Model, d: number, nRows: number, bg: Float64Array): Promise<number> {
  const batch = 4096;
  const rows = new Float32Array(batch * d);
  const nb = bg.length / d;
  for (let r = 0; r < batch; r++) rows.set(bg.subarray((r % nb) * d, ((r % nb) + 1) * d), r * d);
  const t0 = performance.now();
  for (let done = 0; done < nRows; done += batch) await model.predict(rows, Math.min(batch, nRows - done));
  return performance.now() - t0;
}

const table: (string | number)[][] = [];
const out: Record<string, unknown>[] = [];
const CONFIGS: [number, number][] = [
  [1, 1],
  [1, 2],
  [2, 1],
  [2, 2],
];
for (const w of workloads) {
  const select = [w.file.includes('seq') ? 0 : 1];
  const model = await loadOnnx(w.file, { select, intraOpThreads: 1 });
  const d = model.nInputs;
  // one model / pool per configuration, all warmed up, then runs interleaved
  const setups = await Promise.all(
    CONFIGS.map(async ([threads, intraOp]) => ({
      threads,
      intraOp,
      pool: threads > 1 ? createWorkerPool({ threads, intraOpThreads: intraOp }) : undefined,
      local: threads === 1 && intraOp > 1 ? await loadOnnx(w.file, { select, intraOpThreads: intraOp }) : model,
      times: [] as number[],
      modelRows: 0,
      evaluations: 0,
    })),
  );
  for (let rep = 0; rep <= REPEATS; rep++)
    for (const st of setups) {
      const t0 = performance.now();
      const e = await explain(st.local, w.rows, {
        background: w.background,
        groups: w.groups,
        seed: rep,
        pool: st.pool,
        threads: st.pool ? undefined : 1,
        concurrency: st.pool ? 3 : 1,
      });
      if (rep > 0) st.times.push(performance.now() - t0); // rep 0 warms up
      st.modelRows = e.modelRows;
      st.evaluations = e.evaluations;
    }
  const alone = await modelAloneMs(model, d, setups[0].modelRows, w.background.data);
  const base = median(setups[0].times);
  for (const st of setups) {
    const ms = median(st.times);
    table.push([
      w.name,
      `${st.threads} × ${st.intraOp}`,
      fmt(ms, 0),
      fmt(base / ms, 2),
      Math.round(st.evaluations / (ms / 1000)).toLocaleString('en'),
      Math.round(st.modelRows / (ms / 1000)).toLocaleString('en'),
      fmt(ms / alone, 2),
    ]);
    out.push({
      workload: w.name,
      threads: st.threads,
      intraOp: st.intraOp,
      ms,
      speedup: base / ms,
      evaluations: st.evaluations,
      modelRows: st.modelRows,
      overhead: ms / alone,
    });
    await st.pool?.close();
    if (st.local !== model) await st.local.close();
  }
  await model.close();
}
printTable(
  [
    'workload',
    'workers × intra-op',
    'ms / explain',
    'speed-up',
    'evaluations/s',
    'model rows/s',
    'explain / model alone (1 thread)',
  ],
  table,
);
saveResult('parallel', out);
