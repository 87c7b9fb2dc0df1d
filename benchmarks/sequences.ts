/**
 * Sequence attribution on the motif scanner (scripts/lib/motifs.ts: a 6-mer planted at a
 * random position; the truth is known exactly).
 *
 * 1. Motif precision@6 (share of the 6 top-valued positions inside the planted 6-mer, mean
 *    over positives) and top-3 hit rate (all 3 top positions inside) vs budget, per method
 *    and player choice, L = 200, reference = 8 dinucleotide shuffles per sequence.
 * 2. Cost vs length: seconds, coalition values and model rows per sequence for L = 60, 200,
 *    1000 at each method's budget (ism: 3L mutants; partition: fixed budget 512; kernel and
 *    permutation: the default 2L + 2048), with the precision they reach.
 *
 * One thread (the machine is shared); the ONNX model is tiny, so times are mostly estimator
 * and masking work. Run: npm run bench -- sequences [--quick]
 */

import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LONG_LENGTHS } from '../scripts/lib/long-cnn.js';
import { generateMotifSequences, scannerModel } from '../scripts/lib/motifs.js';
import type { SequenceMethod, SequencePlayers } from '../src/explain-sequences.js';
import { explainSequences, loadOnnx } from '../src/index.js';
import { runCli } from './lib/cli.js';
import { fmt, printTable, ROOT, saveResult } from './lib/common.js';

const quick = process.argv.includes('--quick');
/** `--parts=precision,length,hierarchy` runs some parts only (default: all). */
const partsArg = process.argv.find((a) => a.startsWith('--parts='));
const parts = new Set((partsArg ? partsArg.slice(8) : 'precision,length,hierarchy,long,ism1000,npz').split(','));
const SHUFFLES = 8;
const result: Record<string, unknown> = { shuffles: SHUFFLES, threads: 1 };

function precision(
  values: Float64Array,
  L: number,
  nRows: number,
  starts: number[],
  k: number,
): { p: number; hit3: number } {
  let p = 0;
  let hit3 = 0;
  for (let r = 0; r < nRows; r++) {
    const idx = Array.from({ length: L }, (_, j) => j).sort(
      (a, b) => values[(r * L + b) * 2] - values[(r * L + a) * 2],
    );
    const inside = (j: number) => j >= starts[r] && j < starts[r] + 6;
    p += idx.slice(0, k).filter(inside).length / k;
    if (idx.slice(0, 3).every(inside)) hit3++;
  }
  return { p: p / nRows, hit3: hit3 / nRows };
}

/** For windows: share of rows whose top window overlaps the motif. */
function windowHit(
  values: Float64Array,
  spans: readonly (readonly [number, number])[],
  nRows: number,
  starts: number[],
): number {
  const n = spans.length;
  let hit = 0;
  for (let r = 0; r < nRows; r++) {
    let best = 0;
    for (let j = 1; j < n; j++) if (values[(r * n + j) * 2] > values[(r * n + best) * 2]) best = j;
    const [a, b] = spans[best];
    if (a < starts[r] + 6 && b > starts[r]) hit++;
  }
  return hit / nRows;
}

// 1. precision vs budget, L = 200
if (parts.has('precision')) {
  const L = 200;
  const model = await loadOnnx(scannerModel(L));
  const pos = generateMotifSequences({ length: L, count: quick ? 12 : 40, seed: 77, kind: 'single' }).filter(
    (s) => s.single,
  );
  const seqs = pos.map((s) => s.sequence);
  const starts = pos.map((s) => s.startA);
  const rows: (string | number)[][] = [];
  const out: Record<string, unknown>[] = [];
  const runs: { players: SequencePlayers; method: SequenceMethod; budgets: (number | undefined)[] }[] = [
    { players: 'position', method: 'ism', budgets: [undefined] },
    { players: 'hierarchy', method: 'partition', budgets: [64, 128, 256, 512, 1024] },
    { players: 'position', method: 'permutation', budgets: [400, 800, 1600, 3200] },
    { players: 'position', method: 'kernel', budgets: [400, 800, 1600, 3200] },
    { players: { window: 10 }, method: 'partition', budgets: [16, 32, 64] },
    { players: { window: 10 }, method: 'permutation', budgets: [64, 128, 256] },
    { players: { window: 10 }, method: 'kernel', budgets: [64, 128, 256] },
  ];
  for (const run of runs)
    for (const budget of run.budgets) {
      const t0 = performance.now();
      const e = await explainSequences(model, seqs, {
        method: run.method,
        players: run.players,
        budget,
        seed: 1,
        ...(run.method === 'ism' ? {} : { threads: 1, reference: 'shuffle', shuffles: SHUFFLES }),
      });
      const sec = (performance.now() - t0) / 1000 / seqs.length;
      const label = typeof run.players === 'object' ? `window:${run.players.window}` : run.players;
      const isWindow = typeof run.players === 'object';
      const pr = isWindow ? undefined : precision(e.values, L, e.nRows, starts, 6);
      const wh = isWindow ? windowHit(e.values, e.sequence.spans, e.nRows, starts) : undefined;
      const rec = {
        players: label,
        method: run.method,
        budget: budget ?? `${3 * L} mutants`,
        precisionAt6: pr?.p,
        top3InMotif: pr?.hit3,
        topWindowHitsMotif: wh,
        modelRowsPerSequence: Math.round(e.modelRows / seqs.length),
        secondsPerSequence: sec,
      };
      out.push(rec);
      if (process.env.BENCH_VERBOSE) console.log(JSON.stringify(rec));
      rows.push([
        label,
        run.method,
        String(rec.budget),
        pr ? fmt(pr.p, 3) : '',
        pr ? fmt(pr.hit3, 3) : '',
        wh !== undefined ? fmt(wh, 3) : '',
        rec.modelRowsPerSequence,
        fmt(sec * 1000, 3),
      ]);
    }
  await model.close();
  console.log(`\nMotif precision vs budget (L = ${L}, ${seqs.length} positives, ${SHUFFLES} shuffles, 1 thread)`);
  printTable(
    ['players', 'method', 'budget', 'prec@6', 'top3 in motif', 'top window hit', 'model rows/seq', 'ms/seq'],
    rows,
  );
  result.precision = out;
}

// 2. cost vs L
if (parts.has('length')) {
  const rows: (string | number)[][] = [];
  const out: Record<string, unknown>[] = [];
  for (const L of [60, 200, 1000]) {
    const model = await loadOnnx(scannerModel(L));
    const n = quick ? 2 : L === 1000 ? 3 : 8;
    const pos = generateMotifSequences({ length: L, count: 2 * n, seed: 78 + L, kind: 'single' }).filter(
      (s) => s.single,
    );
    const seqs = pos.map((s) => s.sequence);
    const starts = pos.map((s) => s.startA);
    const configs: { method: SequenceMethod; budget?: number; label: string }[] = [
      { method: 'ism', label: '3L mutants' },
      { method: 'partition', budget: 512, label: '512' },
      { method: 'permutation', label: `default ${2 * L + 2048}` },
      { method: 'kernel', label: `default ${2 * L + 2048}` },
    ];
    for (const c of configs) {
      // Kernel SHAP's regression costs ~ budget × L² per background row: one sequence at L = 1000
      const use = c.method === 'kernel' && L === 1000 ? 1 : seqs.length;
      const t0 = performance.now();
      const e = await explainSequences(model, seqs.slice(0, use), {
        method: c.method,
        budget: c.budget,
        seed: 2,
        ...(c.method === 'ism' ? {} : { threads: 1, reference: 'shuffle', shuffles: SHUFFLES }),
      });
      const sec = (performance.now() - t0) / 1000 / use;
      const pr = precision(e.values, L, e.nRows, starts, 6);
      const rec = {
        sequences: use,
        L,
        method: c.method,
        budget: c.label,
        secondsPerSequence: sec,
        evaluationsPerSequence: Math.round(e.evaluations / use),
        modelRowsPerSequence: Math.round(e.modelRows / use),
        precisionAt6: pr.p,
        top3InMotif: pr.hit3,
      };
      out.push(rec);
      rows.push([
        L,
        c.method,
        c.label,
        fmt(sec, 3),
        rec.evaluationsPerSequence,
        rec.modelRowsPerSequence,
        fmt(pr.p, 3),
        fmt(pr.hit3, 3),
      ]);
    }
    await model.close();
  }
  console.log(`\nCost vs sequence length (${SHUFFLES} shuffles, 1 thread)`);
  printTable(['L', 'method', 'budget', 's/seq', 'evaluations/seq', 'model rows/seq', 'prec@6', 'top3 in motif'], rows);
  result.scaling = out;
}
// 3. the hierarchy at L = 1000: precision vs budget (N log N = 10,000 per sequence for comparison)
if (parts.has('hierarchy')) {
  const L = 1000;
  const model = await loadOnnx(scannerModel(L));
  const pos = generateMotifSequences({ length: L, count: quick ? 8 : 20, seed: 1979, kind: 'single' }).filter(
    (s) => s.single,
  );
  const seqs = pos.map((s) => s.sequence);
  const starts = pos.map((s) => s.startA);
  const rows: (string | number)[][] = [];
  const out: Record<string, unknown>[] = [];
  const grid = [
    ...[128, 256, 512, 1024, 2048, 4096].map((budget) => ({ budget, orders: undefined as number | undefined })),
    ...[64, 128, 256, 512].map((budget) => ({ budget, orders: 4 })),
    ...[128, 256, 512, 1024].map((budget) => ({ budget, orders: 16 })),
  ];
  for (const { budget, orders } of grid) {
    const t0 = performance.now();
    const e = await explainSequences(model, seqs, {
      players: 'hierarchy',
      budget,
      orders,
      seed: 3,
      threads: 1,
      shuffles: SHUFFLES,
    });
    const sec = (performance.now() - t0) / 1000 / seqs.length;
    const pr = precision(e.values, L, e.nRows, starts, 6);
    const rec = {
      L,
      contexts: orders === undefined ? 'all (exact Owen)' : `${orders} sampled orders`,
      budget,
      sequences: seqs.length,
      precisionAt6: pr.p,
      top3InMotif: pr.hit3,
      modelRowsPerSequence: Math.round(e.modelRows / seqs.length),
      secondsPerSequence: sec,
    };
    out.push(rec);
    rows.push([rec.contexts, budget, fmt(pr.p, 3), fmt(pr.hit3, 3), rec.modelRowsPerSequence, fmt(sec, 3)]);
  }
  await model.close();
  console.log(`\nHierarchy (partition) at L = ${L}, ${seqs.length} positives, ${SHUFFLES} shuffles, 1 thread`);
  printTable(['contexts', 'budget', 'prec@6', 'top3 in motif', 'model rows/seq', 's/seq'], rows);
  result.hierarchy = out;
}

// 4. long sequences on the committed CNNs (datasets/long/cnn-L.onnx): model rows per sequence vs
// L for the hierarchy (partition with K = ceil(log2 L) sampled orders: 2(L − 1)·K rows against
// an all-N reference, i.e. ~ L·log L), ISM with hypothetical contributions, motif precision@6
if (parts.has('long')) {
  const rows: (string | number)[][] = [];
  const out: Record<string, unknown>[] = [];
  for (const L of LONG_LENGTHS) {
    const model = await loadOnnx(`${ROOT}datasets/long/cnn-${L}.onnx`);
    const n = quick ? 2 : L >= 1000 ? 6 : 10;
    const pos = generateMotifSequences({ length: L, count: 2 * n, seed: 300 + L, kind: 'single' }).filter(
      (q) => q.single,
    );
    const seqs = pos.map((q) => q.sequence);
    const starts = pos.map((q) => q.startA);
    const K = Math.ceil(Math.log2(L));
    const configs: {
      method: SequenceMethod;
      players: SequencePlayers;
      label: string;
      opts: Record<string, unknown>;
    }[] = [
      { method: 'ism', players: 'position', label: 'ism (3L mutants, hypothetical)', opts: {} },
      {
        method: 'partition',
        players: 'hierarchy',
        label: `partition, ${K} orders`,
        opts: { orders: K, budget: 2 * L * K + 2, reference: 'uniform', threads: 1 },
      },
    ];
    if (L === 200 || L === 2114) {
      configs.push({
        method: 'permutation',
        players: 'position',
        label: 'permutation (default budget)',
        opts: { reference: 'uniform', threads: 1 },
      });
      if (L === 200)
        configs.push({
          method: 'kernel',
          players: 'position',
          label: 'kernel (default budget)',
          opts: { reference: 'uniform', threads: 1 },
        });
      else
        configs.push({
          method: 'kernel',
          players: { window: 10 },
          label: 'kernel, windows of 10',
          opts: { reference: 'uniform', threads: 1 },
        });
    }
    for (const c of configs) {
      const t0 = performance.now();
      const e = await explainSequences(model, seqs, { method: c.method, players: c.players, seed: 4, ...c.opts });
      const sec = (performance.now() - t0) / 1000 / seqs.length;
      const isWindow = typeof c.players === 'object';
      const pr = isWindow ? undefined : precision(e.values, L, e.nRows, starts, 6);
      const wh = isWindow ? windowHit(e.values, e.sequence.spans, e.nRows, starts) : undefined;
      const perSeq = e.modelRows / seqs.length;
      const rec = {
        L,
        method: c.label,
        sequences: seqs.length,
        modelRowsPerSequence: Math.round(perSeq),
        rowsOverLlog2L: perSeq / (L * Math.log2(L)),
        precisionAt6: pr?.p,
        topWindowHitsMotif: wh,
        hypothetical: e.sequence.hypothetical !== undefined,
        secondsPerSequence: sec,
      };
      out.push(rec);
      rows.push([
        L,
        c.label,
        rec.modelRowsPerSequence,
        fmt(rec.rowsOverLlog2L, 3),
        pr ? fmt(pr.p, 3) : `window hit ${fmt(wh as number, 3)}`,
        fmt(sec, 3),
      ]);
    }
    await model.close();
  }
  console.log('\nLong sequences (datasets/long CNNs, all-N reference for the Shapley methods, 1 thread)');
  printTable(['L', 'method', 'model rows/seq', 'rows / (L log2 L)', 'prec@6', 's/seq'], rows);
  result.long = out;
}

// 5. the issue's scale: 1,000 sequences of 2,114 bp through hypothetical ISM (one process), and
// the hierarchy with the worker pool on a sample (seconds per sequence, extrapolated to 1,000)
if (parts.has('ism1000')) {
  const L = 2114;
  const model = await loadOnnx(`${ROOT}datasets/long/cnn-2114.onnx`);
  const N = quick ? 50 : 1000;
  const seqs = generateMotifSequences({ length: L, count: N, seed: 2114, kind: 'single' });
  const t0 = performance.now();
  const e = await explainSequences(
    model,
    seqs.map((q) => q.sequence),
    { method: 'ism' },
  );
  const ismSec = (performance.now() - t0) / 1000;
  const posRows = seqs.map((q, r) => (q.single ? r : -1)).filter((r) => r >= 0);
  let p6 = 0;
  for (const r of posRows) {
    const idx = Array.from({ length: L }, (_, j) => j).sort(
      (a, b) => e.values[(r * L + b) * 2] - e.values[(r * L + a) * 2],
    );
    p6 += idx.slice(0, 6).filter((j) => j >= seqs[r].startA && j < seqs[r].startA + 6).length / 6;
  }
  const sample = seqs
    .filter((q) => q.single)
    .slice(0, quick ? 4 : 20)
    .map((q) => q.sequence);
  const K = Math.ceil(Math.log2(L));
  const t1 = performance.now();
  const h = await explainSequences(model, sample, {
    players: 'hierarchy',
    orders: K,
    budget: 2 * L * K + 2,
    reference: 'uniform',
    threads: 2,
    seed: 5,
  });
  const hSec = (performance.now() - t1) / 1000 / sample.length;
  await model.close();
  const rec = {
    sequences: N,
    L,
    ismWallSeconds: ismSec,
    ismModelRows: e.modelRows,
    ismPrecisionAt6: p6 / posRows.length,
    hierarchySample: sample.length,
    hierarchySecondsPerSequence: hSec,
    hierarchyExtrapolatedSecondsFor1000: hSec * 1000,
    hierarchyModelRowsPerSequence: Math.round(h.modelRows / sample.length),
    hierarchyThreads: h.meta.threads,
  };
  console.log(`\n${N} sequences of ${L} bp`);
  printTable(
    ['what', 'wall', 'model rows', 'prec@6'],
    [
      [`ism (hypothetical), 1 process`, `${fmt(ismSec, 3)} s`, e.modelRows, fmt(rec.ismPrecisionAt6, 3)],
      [
        `partition, ${K} orders, ${h.meta.threads} threads (${sample.length} sequences)`,
        `${fmt(hSec, 3)} s/seq → ${fmt((hSec * 1000) / 60, 3)} min for 1,000`,
        rec.hierarchyModelRowsPerSequence,
        '',
      ],
    ],
  );
  result.ism1000 = rec;
}
// 6. TF-MoDISco inputs at scale: `whybox batch npz` streams a batch's JSONL into ohe.npz and
// attr.npz. ISM lines of the 2,114 bp CNN (one output), replicated to N sequences with their
// own indices, exported by the CLI: wall time and peak RSS against N (flat: one sequence in
// memory), beside the three (N, 4, L) arrays the in-memory export holds
if (parts.has('npz')) {
  const L = 2114;
  const dir = mkdtempSync(join(tmpdir(), 'whybox-npz-'));
  try {
    const seqs = generateMotifSequences({ length: L, count: 8, seed: 21, kind: 'single' });
    const fa = join(dir, 'seqs.fa');
    writeFileSync(fa, seqs.map((q, i) => `>s${i}\n${q.sequence}\n`).join(''));
    const src = join(dir, 'src.jsonl');
    const args = ['--model', `${ROOT}datasets/long/cnn-2114.onnx`, '--sequences', fa, '--method', 'ism'];
    await runCli(['batch', ...args, '--output', '0', '--out', src, '--json', '--quiet']);
    const lines = readFileSync(src, 'utf8').trim().split('\n');
    const meta = JSON.parse(readFileSync(`${src}.meta.json`, 'utf8'));
    const rows: (string | number)[][] = [];
    const out: Record<string, unknown>[] = [];
    for (const N of quick ? [100, 400] : [250, 1000, 2000]) {
      const f = join(dir, `n${N}.jsonl`);
      const fd = openSync(f, 'w');
      for (let i = 0; i < N; i++)
        writeSync(fd, `${lines[i % lines.length].replace(/^\{"index":\d+/, `{"index":${i}`)}\n`);
      closeSync(fd);
      writeFileSync(`${f}.meta.json`, JSON.stringify({ ...meta, rows: N, inputRows: N }));
      const r = await runCli(['batch', 'npz', '--out', join(dir, `npz${N}`), f, '--json']);
      const jsonlMb = statSync(f).size / 2 ** 20;
      const npzMb = ['ohe.npz', 'attr.npz'].reduce((a, n) => a + statSync(join(dir, `npz${N}`, n)).size, 0) / 2 ** 20;
      const arraysMb = (3 * N * 4 * L * 4) / 2 ** 20;
      out.push({ sequences: N, seconds: r.seconds, peakRssMb: r.peakMb, jsonlMb, npzMb, inMemoryArraysMb: arraysMb });
      rows.push([
        N,
        `${fmt(r.seconds, 3)} s`,
        `${fmt(r.peakMb, 4)} MB`,
        `${fmt(jsonlMb, 4)} MB`,
        `${fmt(npzMb, 4)} MB`,
        `${fmt(arraysMb, 4)} MB`,
      ]);
      rmSync(f);
      rmSync(join(dir, `npz${N}`), { recursive: true });
    }
    console.log(`\nwhybox batch npz (ISM, L = ${L}, one output; streamed from the JSONL)`);
    printTable(['sequences', 'wall', 'peak RSS', 'JSONL', 'ohe + attr .npz', 'in-memory arrays (3 × N·4·L f32)'], rows);
    result.npz = out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (!partsArg) saveResult('sequences', result);
else saveResult(`sequences-${[...parts].join('-')}`, result);
