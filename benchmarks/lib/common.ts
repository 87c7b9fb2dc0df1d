/** Shared helpers of the benchmarks: bundled data, games, statistics, table printing. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Players } from '../../src/data/players.js';
import { localEvaluator } from '../../src/games/evaluator.js';
import type { InterventionalContext } from '../../src/games/interventional-game.js';
import { prepareInterventional } from '../../src/games/interventional-game.js';
import type { Dataset, Model } from '../../src/index.js';
import { createBackground, definePlayers, loadCsv, parseGroupsJson } from '../../src/index.js';
import { maskingLayout } from '../../src/sampling/masking.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEMO = `${ROOT}datasets/credit-demo`;
export const SHARED = fileURLToPath(new URL('../../../shared/datasets/', import.meta.url));

/** The bundled synthetic credit data: columns, training rows, applicants, attribute groups. */
export async function loadDemo(): Promise<{
  train: Dataset;
  applicants: Dataset;
  groups: Record<string, string[]>;
}> {
  const train = await loadCsv(`${DEMO}/train.csv`);
  const applicants = await loadCsv(`${DEMO}/applicants.csv`);
  const groups = parseGroupsJson(readFileSync(`${DEMO}/groups.json`, 'utf8')) as Record<string, string[]>;
  return { train, applicants, groups };
}

/** First `k` rows of a dataset as a buffer. */
export function head(ds: { data: Float64Array; columns: readonly string[] }, k: number): Float64Array {
  return ds.data.slice(0, k * ds.columns.length);
}

/** Players formed by merging consecutive attribute players into `n` groups. */
export function mergePlayers(base: Players, columns: readonly string[], n: number): Players {
  const m = base.names.length;
  if (n >= m) return base;
  const groups: Record<string, string[]> = {};
  for (let g = 0; g < n; g++) {
    const from = Math.floor((g * m) / n);
    const to = Math.floor(((g + 1) * m) / n);
    const cols: string[] = [];
    for (let p = from; p < to; p++)
      for (let k = base.offsets[p]; k < base.offsets[p + 1]; k++) cols.push(columns[base.columns[k]]);
    groups[`g${g}:${base.names[from]}${to - from > 1 ? `+${to - from - 1}` : ''}`] = cols;
  }
  return definePlayers(columns, groups);
}

/** The interventional context (model + background + players) of a benchmark game. */
export async function context(
  model: Model,
  background: Float64Array,
  nColumns: number,
  players: Players,
  batchRows = 4096,
): Promise<InterventionalContext> {
  const bg = createBackground({ data: background, nRows: background.length / nColumns, nColumns });
  return prepareInterventional(localEvaluator(model, bg, maskingLayout(players), { batchRows }));
}

export function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A seeded uniform [0,1) source for baselines that take a `random()` function. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Prints an aligned table. */
export function printTable(headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const w = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  for (const [k, r] of cells.entries()) {
    console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
    if (k === 0) console.log(w.map((x) => '-'.repeat(x)).join('  '));
  }
}

/** Writes a JSON result under benchmarks/results/. */
export function saveResult(name: string, data: unknown): void {
  const dir = `${ROOT}benchmarks/results`;
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/${name}.json`, `${JSON.stringify(data, null, 1)}\n`);
}

export function fmt(x: number, digits = 3): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 0.01 && a < 1e5 ? x.toFixed(digits) : x.toExponential(2);
}
