/**
 * Caps refuse, in one line, work that would exhaust the machine: threads above a multiple of
 * the cores, permutation budgets past every coalition (the walk stops once all 2^n are known)
 * or above the memory cap, LIME samples above the memory cap; a long permutation walk sees
 * its abort signal; the service refuses integrated-gradients steps and smoothgrad samples above its
 * limits (400 naming the field).
 */
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BudgetError, InvalidOptionError } from '../../src/errors.js';
import { checkMemory, memoryCap } from '../../src/estimators/memory.js';
import { permutationShap } from '../../src/estimators/permutation.js';
import { createExplainer } from '../../src/explainer.js';
import { functionGame } from '../../src/games/game.js';
import { fromFunction } from '../../src/models/function-model.js';
import { MAX_THREADS_PER_CORE, resolvePoolOptions } from '../../src/parallel/pool.js';
import { Rng } from '../../src/sampling/rng.js';
import { checkServiceConfig, DEFAULT_LIMITS } from '../../src/service/config.js';
import type { WhyboxService } from '../../src/service/server.js';
import { createService } from '../../src/service/server.js';
import { run } from '../helpers/cli.js';
import { fixtureExpected, fixturePath } from '../helpers/fixtures.js';
import { maskOf, randomTableGame } from '../helpers/games.js';
import type { TempDir } from '../helpers/tmp.js';
import { makeTempDir } from '../helpers/tmp.js';

const LOG = fixturePath('logistic');
let tmp: TempDir;
let data: string;

beforeAll(async () => {
  tmp = await makeTempDir('whybox-caps-');
  const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
  const rows = fixtureExpected('logistic').rows.slice(0, 4);
  data = await tmp.write('log.csv', `${names.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`);
});

afterAll(async () => {
  await tmp?.remove();
});

function expectOneLine(r: { code: number; stderr: string }, pattern: RegExp) {
  expect(r.code).toBe(2);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
}

describe('threads', () => {
  it(`at most ${MAX_THREADS_PER_CORE} × the cores`, () => {
    const cap = MAX_THREADS_PER_CORE * availableParallelism();
    expect(resolvePoolOptions({ threads: cap }).threads).toBe(cap);
    expect(() => resolvePoolOptions({ threads: cap + 1 })).toThrow(InvalidOptionError);
    expect(() => resolvePoolOptions({ threads: 1000 })).toThrow(new RegExp(`threads must be at most ${cap}`));
  });

  it('--threads 1000 -> exit 2, one line, before any worker starts', async () => {
    const r = await run('explain', '--model', LOG, '--data', data, '--threads', '1000');
    expectOneLine(r, /threads must be at most \d+ \(\d+ × the \d+ cores\)/);
  });
});

describe('permutation budgets', () => {
  it('a budget of 1e12 for 5 players stops once all 32 coalitions are known, with the exact values', async () => {
    const { game, truth } = randomTableGame(5, 2, 7);
    const t0 = performance.now();
    const est = await permutationShap(game, { budget: 1e12 }, { rng: Rng.fromSeed(1) });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(est.evaluations).toBe(32);
    expect(est.exact).toBe(true);
    est.values.forEach((v, i) => {
      expect(v).toBeCloseTo(truth[i], 10);
    });
  });

  it('a budget whose coalitions would not fit in memory is refused before allocating', async () => {
    const game = functionGame(61, 1, (m) => maskOf(m.subarray(0, 20)));
    await expect(permutationShap(game, { budget: 1e12 }, { rng: Rng.fromSeed(1) })).rejects.toThrow(BudgetError);
    await expect(permutationShap(game, { budget: 1e12 }, { rng: Rng.fromSeed(1) })).rejects.toThrow(
      /budget of 1000000000000 for 61 players would need about .* GiB of memory, above the limit .*; pass a smaller budget/,
    );
  });

  it('a long walk sees its abort signal (within 250 ms)', async () => {
    const game = functionGame(40, 1, () => 0);
    const ctl = new AbortController();
    const t0 = performance.now();
    setTimeout(() => ctl.abort(), 30);
    await expect(
      permutationShap(game, { budget: 4_000_000 }, { rng: Rng.fromSeed(1), signal: ctl.signal }),
    ).rejects.toThrow(/aborted/);
    expect(performance.now() - t0).toBeLessThan(30 + 250);
  });

  it('--method permutation --budget 1000000000000 on 12 players finishes with the exact values', async () => {
    const r = await run(
      'explain',
      '--model',
      LOG,
      '--data',
      data,
      '--rows',
      '0',
      '--threads',
      '1',
      '--method',
      'permutation',
      '--budget',
      '1000000000000',
      '--format',
      'json',
      '--groups',
      await tmp.write(
        'groups.json',
        JSON.stringify({ a: ['c0', 'c1', 'c2', 'c3', 'c4'], b: ['c5', 'c6', 'c7', 'c8', 'c9'] }),
      ),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // 2 groups + 10 single columns = 12 players: every one of the 4096 coalitions, the exact values
    const json = JSON.parse(r.stdout) as { evaluations: number; rows: { exact: boolean }[] };
    expect(json.evaluations).toBe(4096);
    expect(json.rows[0].exact).toBe(true);
  });
});

describe('LIME samples', () => {
  it('--num-samples 1000000000 -> exit 2 with the memory it would need', async () => {
    const r = await run('explain', '--model', LOG, '--data', data, '--method', 'lime', '--num-samples', '1000000000');
    expectOneLine(r, /LIME with 1000000000 samples per row .* would need about .* GiB of memory.*--num-samples/);
  });

  it('checkMemory compares with the cap', () => {
    expect(memoryCap()).toBeGreaterThan(2 ** 28);
    expect(() => checkMemory('x', 2 ** 20, 'less', 2 ** 21)).not.toThrow();
    expect(() => checkMemory('x', 2 ** 22, 'pass less', 2 ** 21)).toThrow(
      /x would need about 4 MiB .* 2 MiB.*pass less/,
    );
  });
});

describe('service limits of the sensitivity methods', () => {
  let service: WhyboxService;
  let url: string;
  // f = x0·x1 + x2: smooth, so every accepted request answers real gradients
  const model = fromFunction((x) => x[0] * x[1] + x[2], { nInputs: 3 });
  const background = { data: Float64Array.from([0, 0, 0, 1, 2, 3, 2, 1, 0]), nRows: 3 };

  beforeAll(async () => {
    const ex = await createExplainer({ model, background, threads: 1 });
    service = await createService({
      models: { m: ex },
      limits: { maxIgSteps: 64, maxSmoothgradSamples: 20 },
      logger: false,
    });
    url = await service.listen({ port: 0 });
  });

  afterAll(async () => {
    await service?.close();
  });

  const explain = async (body: Record<string, unknown>) => {
    const res = await fetch(`${url}/v1/models/m/explain`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rows: [[1, 2, 3]], ...body }),
    });
    return {
      status: res.status,
      json: (await res.json()) as { error?: { code: string; field?: string; message: string }; rows?: unknown[] },
    };
  };

  const refused: [string, Record<string, unknown>, string, RegExp][] = [
    [
      'integrated-gradients steps above maxIgSteps',
      { method: 'integrated-gradients', steps: 65 },
      'steps',
      /^steps 65 is above this server's limit of 64 \(model "m"\)$/,
    ],
    [
      'integrated-gradients with tolerance: the default maxSteps 1024 above maxIgSteps',
      { method: 'integrated-gradients', tolerance: 1e-6 },
      'maxSteps',
      /^maxSteps 1024 \(the default with tolerance\) is above this server's limit of 64; pass maxSteps <= 64/,
    ],
    [
      'integrated-gradients with tolerance and maxSteps above maxIgSteps',
      { method: 'integrated-gradients', tolerance: 1e-6, maxSteps: 128 },
      'maxSteps',
      /^maxSteps 128 is above this server's limit of 64/,
    ],
    [
      'smoothgrad samples above maxSmoothgradSamples',
      { method: 'smoothgrad', samples: 21 },
      'samples',
      /^samples 21 is above this server's limit of 20/,
    ],
    [
      'smoothgrad with its default samples (50) above maxSmoothgradSamples',
      { method: 'smoothgrad' },
      'samples',
      /^samples 50 \(the default\) is above this server's limit of 20/,
    ],
  ];
  for (const [what, body, field, message] of refused)
    it(`${what} -> 400 LIMIT naming ${field}`, async () => {
      const r = await explain(body);
      expect(r.status).toBe(400);
      expect(r.json.error?.code).toBe('LIMIT');
      expect(r.json.error?.field).toBe(field);
      expect(r.json.error?.message).toMatch(message);
    });

  it('at the limits the requests are answered, with the gradients of f', async () => {
    // ∂f/∂x at (1, 2, 3) is (2, 1, 1); IG from the background mean (1, 1, 1) integrates exactly
    // (f is bilinear): φ = (x − b)·∫∇f = (0, 1·1, 2·1) — gauss-legendre is exact here
    const ig = await explain({ method: 'integrated-gradients', steps: 64 });
    expect(ig.status).toBe(200);
    const igTol = await explain({ method: 'integrated-gradients', tolerance: 1e-6, maxSteps: 64 });
    expect(igTol.status).toBe(200);
    const sg = await explain({ method: 'smoothgrad', samples: 20, seed: 1 });
    expect(sg.status).toBe(200);
    const values = (r: typeof ig) => ((r.json.rows ?? [])[0] as { values: number[][] }).values.map((v) => v[0]);
    const phi = values(ig);
    expect(phi[0]).toBeCloseTo(0, 4);
    expect(phi[1]).toBeCloseTo(1, 4);
    expect(phi[2]).toBeCloseTo(2, 4);
    expect(values(sg)).toHaveLength(3);
  });

  it('the defaults of the limits accept the methods with their defaults', async () => {
    expect(DEFAULT_LIMITS.maxIgSteps).toBe(1024);
    expect(DEFAULT_LIMITS.maxSmoothgradSamples).toBe(1000);
    const ex = await createExplainer({ model, background, threads: 1 });
    const s = await createService({ models: { m: ex }, logger: false });
    try {
      for (const body of [
        { method: 'integrated-gradients' },
        { method: 'integrated-gradients', tolerance: 1e-6 },
        { method: 'smoothgrad', seed: 1 },
      ]) {
        const res = await s.app.inject({
          method: 'POST',
          url: '/v1/models/m/explain',
          payload: { rows: [[1, 2, 3]], ...body },
        });
        expect(res.statusCode).toBe(200);
      }
      const over = await s.app.inject({
        method: 'POST',
        url: '/v1/models/m/explain',
        payload: { rows: [[1, 2, 3]], method: 'smoothgrad', samples: 1001 },
      });
      expect(over.statusCode).toBe(400);
      expect(over.json().error.field).toBe('samples');
    } finally {
      await s.close();
    }
  });

  it('the limits are configuration keys (validated like the others)', () => {
    expect(() =>
      checkServiceConfig({ models: { a: { onnx: 'm.onnx' } }, limits: { maxIgSteps: 10, maxSmoothgradSamples: 5 } }),
    ).not.toThrow();
    expect(() => checkServiceConfig({ models: { a: { onnx: 'm.onnx' } }, limits: { maxIgSteps: -1 } })).toThrow(
      /\/limits\/maxIgSteps/,
    );
    expect(() =>
      checkServiceConfig({ models: { a: { onnx: 'm.onnx' } }, limits: { maxSmoothgradSamples: 1.5 } }),
    ).toThrow(/\/limits\/maxSmoothgradSamples/);
  });
});
