/**
 * Example: explains donor (EI) and acceptor (IE) sites of held-out UCI splice sequences with
 * the committed CNN (datasets/splice/model.onnx) and measures where the attribution goes:
 * the share of |attribution| within ±4 positions of the junction (between positions 30 and
 * 31; a uniform spread would put 8/60 = 13% there) and how often the top position is the
 * GT of a donor (positions 31–32) or the AG of an acceptor (29–30).
 *
 * Usage: npx tsx scripts/explain-splice.ts [--n 40]   (needs ../shared/datasets/splice.csv)
 * Writes benchmarks/results/splice.json and prints one donor and one acceptor as the CLI's
 * text view.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SequenceMethod } from '../src/explain-sequences.js';
import { explainSequences } from '../src/explain-sequences.js';
import { formatSequenceText } from '../src/explanation/sequence-report.js';
import { loadOnnx } from '../src/models/onnx-model.js';
import { readSplice } from './make-splice-cnn.js';

const DATA = fileURLToPath(new URL('../../shared/datasets/splice.csv', import.meta.url));
const MODEL = fileURLToPath(new URL('../datasets/splice/model.onnx', import.meta.url));
const SPLIT = fileURLToPath(new URL('../datasets/splice/split.json', import.meta.url));
const RESULTS = fileURLToPath(new URL('../benchmarks/results/', import.meta.url));

/** Attribution concentration of one explanation for output o (0-based positions). */
export function concentration(
  values: Float64Array,
  nRows: number,
  o: number,
  dinucleotide: [number, number],
): { windowShare: number; topInDinucleotide: number; topInWindow: number } {
  const L = 60;
  const nOut = 3;
  let share = 0;
  let topDi = 0;
  let topWin = 0;
  for (let r = 0; r < nRows; r++) {
    let tot = 0;
    let win = 0;
    let best = 0;
    for (let p = 0; p < L; p++) {
      const v = values[(r * L + p) * nOut + o];
      tot += Math.abs(v);
      if (p >= 26 && p < 34) win += Math.abs(v);
      if (v > values[(r * L + best) * nOut + o]) best = p;
    }
    share += tot > 0 ? win / tot : 0;
    if (best >= dinucleotide[0] && best <= dinucleotide[1]) topDi++;
    if (best >= 26 && best < 34) topWin++;
  }
  return { windowShare: share / nRows, topInDinucleotide: topDi / nRows, topInWindow: topWin / nRows };
}

async function run(): Promise<void> {
  if (!existsSync(DATA)) {
    console.error(`${DATA} not found: this example needs the UCI splice data in ../shared/datasets`);
    process.exit(2);
  }
  const nArg = process.argv.indexOf('--n');
  const n = nArg > 0 ? Number(process.argv[nArg + 1]) : 40;
  const split = JSON.parse(readFileSync(SPLIT, 'utf8')) as { testLines: number[] };
  const testLines = new Set(split.testLines);
  const rows = readSplice(DATA).filter((r) => testLines.has(r.line));
  const model = await loadOnnx(MODEL);
  const results: Record<string, unknown>[] = [];
  const configs: { method: SequenceMethod; budget?: number }[] = [
    { method: 'ism' },
    { method: 'partition', budget: 300 },
    { method: 'permutation', budget: 500 },
    { method: 'kernel', budget: 500 },
  ];
  for (const [cls, o, di] of [
    ['EI', 0, [30, 31]],
    ['IE', 1, [28, 29]],
  ] as const) {
    const picked = rows.filter((r) => r.label === o).slice(0, n);
    for (const cfg of configs) {
      const t0 = performance.now();
      const exp = await explainSequences(
        model,
        picked.map((r) => r.seq),
        { ...cfg, seed: 1, ...(cfg.method === 'ism' ? {} : { threads: 1, reference: 'shuffle', shuffles: 10 }) },
      );
      const c = concentration(exp.values, exp.nRows, o, [di[0], di[1]]);
      const rec = {
        class: cls,
        output: exp.outputs[o],
        method: cfg.method,
        budget: cfg.budget ?? null,
        sequences: picked.length,
        windowShare: Number(c.windowShare.toFixed(3)),
        topInJunctionDinucleotide: Number(c.topInDinucleotide.toFixed(3)),
        topInWindow: Number(c.topInWindow.toFixed(3)),
        modelRows: exp.modelRows,
        seconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
      };
      results.push(rec);
      console.log(JSON.stringify(rec));
      if (cfg.method === 'partition') {
        const one = await explainSequences(model, [picked[0].seq], { ...cfg, seed: 1, threads: 1 });
        console.log(formatSequenceText({ ...one, sequence: { ...one.sequence, ids: [picked[0].name] } }));
      }
    }
  }
  await model.close();
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${RESULTS}splice.json`, `${JSON.stringify({ uniformWindowShare: 8 / 60, results }, null, 2)}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await run();
