/**
 * The worker pool: results bit-identical to one thread, module models in workers, failures
 * (model errors, crashed workers, aborts) that leave the pool usable, clean shutdown.
 * Workers load dist/parallel/worker.js: run `npm run build` first.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError, InvalidOptionError, ModelError, WorkerError } from '../../src/errors.js';
import type { ExplainOptions } from '../../src/explain.js';
import { explain } from '../../src/explain.js';
import type { Explanation } from '../../src/explanation/explanation.js';
import { fromModule } from '../../src/models/function-model.js';
import type { Model } from '../../src/models/model.js';
import type { OnnxModel } from '../../src/models/onnx-model.js';
import { loadOnnx } from '../../src/models/onnx-model.js';
import type { WorkerPool } from '../../src/parallel/pool.js';
import { createWorkerPool } from '../../src/parallel/pool.js';
import { bruteForceShapley, interventionalValue, maxAbsDiff } from '../helpers/brute-force.js';
import { fixturePath } from '../helpers/fixtures.js';
import { bitIdentical, randomRows } from '../helpers/games.js';
import type { TempDir } from '../helpers/tmp.js';
import { makeTempDir } from '../helpers/tmp.js';

const DIST_INDEX = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const DIST_WORKER = fileURLToPath(new URL('../../dist/parallel/worker.js', import.meta.url));

const rowsOf = (rows: number[][]) => ({ data: Float64Array.from(rows.flat()), nRows: rows.length });

/** The model module's functions, also written to a temp .mjs file for the workers. */
const MODULE_SOURCE = `
export function smooth(row) {
  return Math.tanh(row[0] - 2 * row[1] * row[2]) + 0.5 * row[3] * row[4] + row[2];
}
// picky and quitter fail only on masked rows (x0 from x, x1 from a background row with x1 = 0), which
// only workers evaluate: the main thread predicts the background and x itself, which are fine
export function picky(row) {
  if (row[0] > 100 && row[1] === 0) throw new Error('picky model refuses row ' + row.join(','));
  return Math.tanh(row[0] - 2 * row[1] * row[2]) + 0.5 * row[3] * row[4] + row[2];
}
export function quitter(row) {
  if (row[0] > 100 && row[1] === 0) process.exit(7);
  return row[0] + row[1];
}
export function slow(row) {
  const until = Date.now() + 2;
  while (Date.now() < until) {}
  return row[0] * row[1] + row[2];
}
`;
const smooth = (r: ArrayLike<number>) => [Math.tanh(r[0] - 2 * r[1] * r[2]) + 0.5 * r[3] * r[4] + r[2]];

// ONNX MLP fixture: 61 inputs, P(class 1); 8 players of ~8 columns each for exact. Sampled runs use
// budget 300 (> 2·61 + 2) so that every regression design spans the 61 players
const D = 61;
const onnxBackground = rowsOf(randomRows(8, D, 101));
const onnxRows = rowsOf(randomRows(2, D, 102));
const names = Array.from({ length: D }, (_, c) => `x${c}`);
const groups8: Record<string, string[]> = {};
for (let g = 0; g < 8; g++) groups8[`g${g}`] = names.filter((_, c) => c % 8 === g);

let onnx: OnnxModel;
let pool2: WorkerPool;
let pool4: WorkerPool;
let tmp: TempDir;
let modulePath: string;
const load = (name: string, nInputs = 5): Promise<Model> => fromModule(modulePath, name, { nInputs });

beforeAll(async () => {
  if (!existsSync(DIST_WORKER)) throw new Error(`${DIST_WORKER} is missing: run \`npm run build\` before these tests`);
  tmp = await makeTempDir('whybox-pool-');
  modulePath = await tmp.write('model.mjs', MODULE_SOURCE);
  onnx = await loadOnnx(fixturePath('mlp'), { select: [1] });
  pool2 = createWorkerPool({ threads: 2 });
  pool4 = createWorkerPool({ threads: 4 });
});

afterAll(async () => {
  await pool2?.close();
  await pool4?.close();
  await onnx?.close();
  await tmp?.remove();
});

describe('worker pool results', () => {
  const cases: [string, Partial<ExplainOptions>][] = [
    ['kernel', { method: 'kernel', budget: 300 }],
    ['permutation', { method: 'permutation', budget: 300 }],
    ['exact (8 groups)', { method: 'exact', groups: groups8 }],
  ];
  for (const [label, options] of cases) {
    it(`${label}: bit-identical for threads 1 (no pool), 2 and 4 (pools) on the ONNX MLP`, async () => {
      const base = { background: onnxBackground, seed: 17, ...options };
      const one = await explain(onnx, onnxRows, { ...base, threads: 1 });
      const two = await explain(onnx, onnxRows, { ...base, pool: pool2 });
      const four = await explain(onnx, onnxRows, { ...base, pool: pool4 });
      expect(one.meta.threads).toBe(1);
      expect(two.meta.threads).toBe(2);
      expect(four.meta.threads).toBe(4);
      for (const other of [two, four]) {
        expect(bitIdentical(one.values, other.values)).toBe(true);
        expect(bitIdentical(one.predictions, other.predictions)).toBe(true);
        expect(other.modelRows).toBe(one.modelRows);
      }
      expect(one.values.some((v) => v !== 0)).toBe(true);
    });
  }

  it('a module model (fromModule) runs in the pool and matches brute force', async () => {
    const model = await load('smooth');
    const bg = randomRows(4, 5, 7);
    const xs = randomRows(2, 5, 8);
    const e = await explain(model, rowsOf(xs), { background: rowsOf(bg), method: 'exact', pool: pool2 });
    const cols = [[0], [1], [2], [3], [4]];
    xs.forEach((x, r) => {
      const truth = bruteForceShapley((m) => interventionalValue(smooth, x, bg, undefined, cols, m), 5).flat();
      expect(maxAbsDiff(e.values.subarray(r * 5, (r + 1) * 5), truth)).toBeLessThan(1e-9);
    });
    const local = await explain(model, rowsOf(xs), {
      background: rowsOf(bg),
      method: 'kernel',
      seed: 3,
      budget: 20,
      threads: 1,
    });
    const pooled = await explain(model, rowsOf(xs), {
      background: rowsOf(bg),
      method: 'kernel',
      seed: 3,
      budget: 20,
      pool: pool4,
    });
    expect(bitIdentical(local.values, pooled.values)).toBe(true);
  });

  it('one pool serves concurrent explanations with the same results as sequential ones', async () => {
    const model = await load('smooth');
    const jobs: [Model, Partial<ExplainOptions>][] = [
      [onnx, { method: 'kernel', budget: 300, seed: 1, background: onnxBackground }],
      [onnx, { method: 'permutation', budget: 300, seed: 2, background: onnxBackground }],
      [model, { method: 'kernel', budget: 20, seed: 3, background: rowsOf(randomRows(6, 5, 9)) }],
      [onnx, { method: 'kernel', variant: 'leverage', budget: 300, seed: 4, background: onnxBackground }],
    ];
    const rowsFor = (m: Model) => (m === onnx ? onnxRows : rowsOf(randomRows(3, 5, 10)));
    const sequential: Explanation[] = [];
    for (const [m, o] of jobs) sequential.push(await explain(m, rowsFor(m), { ...o, pool: pool2 } as ExplainOptions));
    const concurrent = await Promise.all(
      jobs.map(([m, o]) => explain(m, rowsFor(m), { ...o, pool: pool2 } as ExplainOptions)),
    );
    concurrent.forEach((c, i) => {
      expect(bitIdentical(c.values, sequential[i].values)).toBe(true);
    });
    expect(pool2.activeEvaluators).toBe(0);
  });
});

describe('worker pool failures', () => {
  const bg = rowsOf(randomRows(4, 5, 11).map((r) => [r[0], 0, ...r.slice(2)]));
  const good = rowsOf(randomRows(2, 5, 12));
  const bad = rowsOf([[500, 1, 2, 3, 4]]);

  it('a module model that throws in a worker: explain rejects with ModelError; the same pool still works', async () => {
    const picky = await load('picky');
    const before = await explain(picky, good, { background: bg, pool: pool2, seed: 5, budget: 20 });
    const e = await explain(picky, bad, { background: bg, pool: pool2, seed: 5, budget: 20 }).catch((err) => err);
    expect(e).toBeInstanceOf(ModelError);
    expect((e as Error).message).toMatch(/picky model refuses/);
    const after = await explain(picky, good, { background: bg, pool: pool2, seed: 5, budget: 20 });
    expect(bitIdentical(before.values, after.values)).toBe(true);
    const local = await explain(picky, good, { background: bg, threads: 1, seed: 5, budget: 20 });
    expect(bitIdentical(local.values, after.values)).toBe(true);
    expect(pool2.activeEvaluators).toBe(0);
  });

  it('a worker that exits while evaluating: WorkerError; the pool replaces it and still works', async () => {
    const pool = createWorkerPool({ threads: 2 });
    try {
      const quitter = await load('quitter');
      const e = await explain(quitter, bad, { background: bg, pool, seed: 1, budget: 20 }).catch((err) => err);
      expect(e).toBeInstanceOf(WorkerError);
      expect((e as Error).message).toMatch(/worker/);
      const smoothModel = await load('smooth');
      const after = await explain(smoothModel, good, { background: bg, pool, seed: 6, budget: 20 });
      const local = await explain(smoothModel, good, { background: bg, threads: 1, seed: 6, budget: 20 });
      expect(bitIdentical(after.values, local.values)).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it("crashOneWorker('exit') rejects, and the pool keeps working", async () => {
    const pool = createWorkerPool({ threads: 2 });
    try {
      await expect(pool.crashOneWorker('exit')).rejects.toThrow(/exit/);
      await expect(pool.crashOneWorker('throw')).rejects.toThrow(/crash requested/);
      const after = await explain(onnx, onnxRows, { background: onnxBackground, pool, seed: 9, budget: 300 });
      const local = await explain(onnx, onnxRows, { background: onnxBackground, threads: 1, seed: 9, budget: 300 });
      expect(bitIdentical(after.values, local.values)).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('an AbortSignal aborted mid-run rejects with AbortedError; the pool keeps working', async () => {
    const pool = createWorkerPool({ threads: 2 });
    try {
      // (1) deterministic: abort as soon as the first of 4 rows is done
      const ac = new AbortController();
      const e = await explain(onnx, rowsOf(randomRows(4, D, 13)), {
        background: onnxBackground,
        pool,
        seed: 1,
        budget: 300,
        signal: ac.signal,
        onProgress: (p) => {
          if (p.rowsDone >= 1) ac.abort();
        },
      }).catch((err) => err);
      expect(e).toBeInstanceOf(AbortedError);
      // (2) while tasks are running in the workers: a slow model (2 ms a row, ~20 s in all)
      const slow = await load('slow', 3);
      const ac2 = new AbortController();
      const started = Date.now();
      setTimeout(() => ac2.abort(), 300);
      const e2 = await explain(slow, rowsOf(randomRows(2, 3, 14)), {
        background: rowsOf(randomRows(50, 3, 15)),
        pool,
        seed: 1,
        budget: 100,
        batchRows: 64,
        signal: ac2.signal,
        onWarning: () => undefined,
      }).catch((err) => err);
      expect(e2).toBeInstanceOf(AbortedError);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(pool.activeEvaluators).toBe(0);
      const after = await explain(onnx, onnxRows, { background: onnxBackground, pool, seed: 2, budget: 300 });
      const local = await explain(onnx, onnxRows, { background: onnxBackground, threads: 1, seed: 2, budget: 300 });
      expect(bitIdentical(after.values, local.values)).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('close() twice is fine; a closed pool refuses new work with WorkerError', async () => {
    const pool = createWorkerPool({ threads: 1 });
    await explain(onnx, onnxRows, { background: onnxBackground, pool, seed: 1, budget: 300 });
    await pool.close();
    await expect(pool.close()).resolves.toBeUndefined();
    await expect(explain(onnx, onnxRows, { background: onnxBackground, pool, seed: 1, budget: 300 })).rejects.toThrow(
      WorkerError,
    );
  });
});

/** Runs `node script` and collects its exit code, output and wall time (killed after `timeoutMs`). */
function runNode(script: string, timeoutMs = 20_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; ms: number; timedOut: boolean }>(
    (resolve) => {
      const started = Date.now();
      const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      child.stdout.on('data', (b) => {
        stdout += b;
      });
      child.stderr.on('data', (b) => {
        stderr += b;
      });
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, ms: Date.now() - started, timedOut });
      });
    },
  );
}

describe('a process using the pool exits cleanly', () => {
  const index = () => JSON.stringify(`file://${DIST_INDEX}`);

  it('explain with the ONNX model in a pool, close pool and model: exit 0, no hang, no native abort', async () => {
    const script = await tmp.write(
      'onnx-ok.mjs',
      `import { createWorkerPool, explain, loadOnnx } from ${index()};
const model = await loadOnnx(${JSON.stringify(fixturePath('mlp'))}, { select: [1] });
const pool = createWorkerPool({ threads: 2 });
const bg = { data: Float64Array.from(${JSON.stringify(Array.from(onnxBackground.data))}), nRows: 8 };
const rows = { data: Float64Array.from(${JSON.stringify(Array.from(onnxRows.data))}), nRows: 2 };
const e = await explain(model, rows, { background: bg, pool, seed: 17, budget: 300 });
await pool.close();
await model.close();
process.stdout.write(JSON.stringify(Array.from(e.values)));
`,
    );
    const r = await runNode(script);
    expect(r.timedOut).toBe(false);
    expect(r.stderr).not.toMatch(/terminate called|Napi::Error/);
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(20_000);
    // the child's values are this process's values, to the bit (JSON keeps doubles exactly)
    const local = await explain(onnx, onnxRows, { background: onnxBackground, seed: 17, budget: 300, threads: 1 });
    expect(JSON.parse(r.stdout)).toEqual(Array.from(local.values));
  });

  it('a module model throwing inside a worker: explain rejects, pool and model closed, exit 0', async () => {
    const script = await tmp.write(
      'module-throws.mjs',
      `import { createWorkerPool, explain, fromModule, loadOnnx } from ${index()};
const onnx = await loadOnnx(${JSON.stringify(fixturePath('mlp'))}, { select: [1] });
const model = await fromModule(${JSON.stringify(modulePath)}, 'picky', { nInputs: 5 });
const pool = createWorkerPool({ threads: 2 });
// the pool also holds an ONNX session while the module model fails
await explain(onnx, { data: new Float64Array(61).fill(0.5), nRows: 1 }, {
  background: { data: new Float64Array(122).fill(-0.5), nRows: 2 }, pool, seed: 1, budget: 300,
});
let name = 'no error';
try {
  await explain(model, { data: Float64Array.of(500, 1, 2, 3, 4), nRows: 1 }, {
    background: { data: new Float64Array(10), nRows: 2 }, pool, seed: 1, budget: 20,
  });
} catch (error) {
  name = error.name;
}
await pool.close();
await onnx.close();
await model.close?.();
process.stdout.write(name);
`,
    );
    const r = await runNode(script);
    expect(r.timedOut).toBe(false);
    expect(r.stdout).toBe('ModelError');
    expect(r.stderr).not.toMatch(/terminate called|Napi::Error/);
    expect(r.code).toBe(0);
  });

  it('an explanation aborted while ONNX workers run, then closed: exit 0, no native abort', async () => {
    const script = await tmp.write(
      'onnx-abort.mjs',
      `import { createWorkerPool, explain, loadOnnx } from ${index()};
const model = await loadOnnx(${JSON.stringify(fixturePath('mlp'))}, { select: [1] });
const pool = createWorkerPool({ threads: 2 });
const bg = { data: new Float64Array(20 * 61).map((_, i) => Math.sin(i)), nRows: 20 };
const rows = { data: new Float64Array(4 * 61).map((_, i) => Math.cos(i)), nRows: 4 };
const ac = new AbortController();
setTimeout(() => ac.abort(), 400);
let name = 'finished';
try {
  await explain(model, rows, { background: bg, pool, seed: 1, budget: 20000, batchRows: 256, signal: ac.signal });
} catch (error) {
  name = error.name;
}
await pool.close();
await model.close();
process.stdout.write(name);
`,
    );
    const r = await runNode(script);
    expect(r.timedOut).toBe(false);
    expect(r.stdout).toBe('AbortedError');
    expect(r.stderr).not.toMatch(/terminate called|Napi::Error/);
    expect(r.code).toBe(0);
  });
  it('aborts, a worker exiting while it holds an ONNX session, and no close() at all: exit 0, no native abort', async () => {
    // piscina would terminate a worker mid-task on abort; a thread torn down while it holds an
    // onnxruntime session used to abort the process ('terminate called ... Napi::Error')
    const script = await tmp.write(
      'onnx-rough.mjs',
      `import { createWorkerPool, explain, loadOnnx } from ${index()};
const model = await loadOnnx(${JSON.stringify(fixturePath('mlp'))}, { select: [1] });
const pool = createWorkerPool({ threads: 2 });
const bg = { data: new Float64Array(30 * 61).map((_, i) => Math.sin(i)), nRows: 30 };
const rows = { data: new Float64Array(4 * 61).map((_, i) => Math.cos(i)), nRows: 4 };
const names = [];
for (const ms of [30, 80, 150]) {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), ms);
  try {
    await explain(model, rows, { background: bg, pool, seed: 1, budget: 8000, signal: ac.signal });
    names.push('finished');
  } catch (error) {
    names.push(error.name);
  }
}
try { await pool.crashOneWorker('exit'); } catch { names.push('crashed'); }
const e = await explain(model, rows, { background: bg, pool, seed: 2, budget: 300 });
names.push(e.values.every(Number.isFinite) ? 'ok' : 'bad');
process.stdout.write(names.join(','));
// no pool.close(), no model.close(): the pool closes itself when the event loop drains
`,
    );
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await runNode(script);
      expect(r.timedOut).toBe(false);
      expect(r.stderr).not.toMatch(/terminate called|Napi::Error/);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/crashed,ok$/);
    }
  });
});

describe('worker priority (Linux)', () => {
  const nices = () =>
    readdirSync('/proc/self/task').map((t) => {
      const st = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[16]);
    });
  it.runIf(process.platform === 'linux')(
    'workers run at nice 10 by default (below the event loop), 0 keeps it',
    async () => {
      const before = nices().filter((n) => n === 10).length;
      const low = createWorkerPool({ threads: 2 });
      const normal = createWorkerPool({ threads: 1, workerNice: 0 });
      try {
        const model = await loadOnnx(fixturePath('mlp'));
        await low.warm(model);
        await normal.warm(model);
        // the two workers of `low` (and any thread they started) at 10; the main thread at 0
        expect(nices().filter((n) => n === 10).length - before).toBeGreaterThanOrEqual(2);
        const self = readFileSync('/proc/thread-self/stat', 'utf8');
        expect(Number(self.slice(self.lastIndexOf(')') + 2).split(' ')[16])).toBe(0);
        await model.close();
      } finally {
        await low.close();
        await normal.close();
      }
    },
  );
  it('workerNice must be an integer from 0 to 19', () => {
    expect(() => createWorkerPool({ workerNice: 20 })).toThrow(InvalidOptionError);
    expect(() => createWorkerPool({ workerNice: -1 })).toThrow(/0 to 19/);
  });
});

describe('ONNX models loaded from bytes', () => {
  it('run in worker threads (the bytes are shared with the workers once) with the bits of one thread', async () => {
    const bytes = new Uint8Array(readFileSync(fixturePath('mlp')));
    const model = await loadOnnx(bytes);
    const pool = createWorkerPool({ threads: 2 });
    try {
      const d = model.nInputs;
      const rows = { data: Float64Array.from(randomRows(2, d, 3).flat()), nRows: 2 };
      const background = { data: Float64Array.from(randomRows(12, d, 4).flat()), nRows: 12 };
      const one = await explain(model, rows, { background, budget: 300, seed: 2, threads: 1 });
      const two = await explain(model, rows, { background, budget: 300, seed: 2, pool });
      expect(bitIdentical(one.values, two.values)).toBe(true);
    } finally {
      await pool.close();
      await model.close();
    }
  });
});
