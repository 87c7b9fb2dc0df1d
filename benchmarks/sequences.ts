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

import { generateMotifSequences, scannerModel } from '../scripts/lib/motifs.js';
import type { SequenceMethod, SequencePlayers } from '../src/explain-sequences.js';
import { explainSequences, loadOnnx } from '../src/index.js';
import { fmt, printTable, saveResult } from './lib/common.js';

const quick = process.argv.includes('--quick');
/** `--parts=precision,length,hierarchy` runs some parts only (default: all). */
const partsArg = process.argv.find((a) => a.startsWith('--parts='));
const parts = new Set((partsArg ? partsArg.slice(8) : 'precision,length,hierarchy').split(','));
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
if (!partsArg) saveResult('sequences', result);
else saveResult(`sequences-${[...parts].join('-')}`, result);
