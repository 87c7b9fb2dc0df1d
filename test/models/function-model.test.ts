import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError, DataError, InvalidOptionError, ModelError, ShapeError } from '../../src/errors.js';
import { fromFunction, fromModule } from '../../src/models/function-model.js';
import type { Model } from '../../src/models/model.js';
import { modelFromSpec } from '../../src/models/spec.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

const rows = (...values: number[]) => Float64Array.from(values);

async function rejection(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(e instanceof Error)) throw new Error('expected a rejection');
  return e;
}

describe('fromFunction: per-row functions', () => {
  it('calls the function once per row and returns one value per row', async () => {
    const seen: number[][] = [];
    const model = fromFunction(
      (x: Float64Array) => {
        seen.push(Array.from(x));
        return 2 * x[0] - x[1];
      },
      { nInputs: 2 },
    );
    expect(model.nInputs).toBe(2);
    expect(model.outputNames).toEqual(['output']);
    expect(model.inputType).toBe('float64');
    const out = await model.predict(rows(1, 1, 3, 0, -2, 5), 3);
    expect(out).toBeInstanceOf(Float64Array);
    expect(Array.from(out)).toEqual([1, 6, -9]);
    expect(seen).toEqual([
      [1, 1],
      [3, 0],
      [-2, 5],
    ]);
  });

  it('accepts Float32Array rows', async () => {
    const model = fromFunction((x: Float64Array) => x[0] * x[1], { nInputs: 2 });
    expect(Array.from(await model.predict(Float32Array.of(1.5, 2, -4, 0.25), 2))).toEqual([3, -1]);
  });

  it('only reads nRows rows of a longer buffer', async () => {
    const model = fromFunction((x: Float64Array) => x[0], { nInputs: 1 });
    expect(Array.from(await model.predict(rows(7, 8, 9), 2))).toEqual([7, 8]);
  });

  it('zero rows give an empty output', async () => {
    const model = fromFunction(() => 1, { nInputs: 3 });
    expect((await model.predict(new Float64Array(0), 0)).length).toBe(0);
  });

  it('awaits async functions', async () => {
    const model = fromFunction(
      async (x: Float64Array) => {
        await new Promise((r) => setTimeout(r, 1));
        return x[0] + 100;
      },
      { nInputs: 1 },
    );
    expect(Array.from(await model.predict(rows(1, 2, 3), 3))).toEqual([101, 102, 103]);
  });

  it('multi-output: an array per row, laid out row-major', async () => {
    const model = fromFunction((x: Float64Array) => [x[0] + x[1], x[0] * x[1], -x[0]], {
      nInputs: 2,
      outputNames: ['sum', 'prod', 'neg'],
    });
    expect(model.outputNames).toEqual(['sum', 'prod', 'neg']);
    expect(Array.from(await model.predict(rows(2, 3, -1, 4), 2))).toEqual([5, 6, -2, 3, -4, 1]);
  });

  it('keeps inputNames', () => {
    const model = fromFunction(() => 0, { nInputs: 2, inputNames: ['a', 'b'] });
    expect(model.inputNames).toEqual(['a', 'b']);
  });
});

describe('fromFunction: batched functions', () => {
  it('splits a batch into batchRows chunks and places each chunk at its rows', async () => {
    const calls: { nRows: number; length: number; first: number }[] = [];
    const model = fromFunction(
      (x: Float64Array, n: number) => {
        calls.push({ nRows: n, length: x.length, first: x[0] });
        return Float64Array.from({ length: n }, (_, r) => x[r * 2] * 10 + x[r * 2 + 1]);
      },
      { nInputs: 2, batched: true, batchRows: 4 },
    );
    const input = Float64Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? i / 2 : 1));
    const out = await model.predict(input, 10);
    expect(calls.map((c) => c.nRows)).toEqual([4, 4, 2]);
    expect(calls.map((c) => c.length)).toEqual([8, 8, 4]);
    expect(calls.map((c) => c.first)).toEqual([0, 4, 8]);
    expect(Array.from(out)).toEqual(Array.from({ length: 10 }, (_, r) => r * 10 + 1));
  });

  it('one call when the batch fits (default batchRows 4096)', async () => {
    const sizes: number[] = [];
    const model = fromFunction(
      (x: Float64Array, n: number) => {
        sizes.push(n);
        return Array.from({ length: n }, (_, r) => x[r]);
      },
      { nInputs: 1, batched: true },
    );
    const out = await model.predict(
      Float64Array.from({ length: 5000 }, (_, i) => i),
      5000,
    );
    expect(sizes).toEqual([4096, 904]);
    expect(out[4999]).toBe(4999);
    expect(out[4096]).toBe(4096);
  });

  it('async batched functions with several outputs', async () => {
    const sizes: number[] = [];
    const model = fromFunction(
      async (x: Float64Array, n: number) => {
        sizes.push(n);
        await Promise.resolve();
        const out: number[] = [];
        for (let r = 0; r < n; r++) out.push(x[r], x[r] * x[r]);
        return out;
      },
      { nInputs: 1, batched: true, batchRows: 2, outputNames: ['x', 'x2'] },
    );
    expect(Array.from(await model.predict(rows(1, 2, 3), 3))).toEqual([1, 1, 2, 4, 3, 9]);
    expect(sizes).toEqual([2, 1]);
  });
});

describe("fromFunction: link 'logit'", () => {
  it('maps probabilities to log(p / (1 - p))', async () => {
    const ps = [0.5, 0.1, 0.9, 0.25, 1e-6];
    const model = fromFunction((x: Float64Array) => x[0], { nInputs: 1, link: 'logit' });
    const out = await model.predict(Float64Array.from(ps), ps.length);
    ps.forEach((p, i) => {
      expect(out[i]).toBeCloseTo(Math.log(p / (1 - p)), 12);
    });
  });

  it('a saturated probability gives a large finite log-odds (±34.5)', async () => {
    const model = fromFunction((x: Float64Array) => x[0], { nInputs: 1, link: 'logit' });
    const out = await model.predict(rows(1, 0), 2);
    expect(Number.isFinite(out[0]) && Number.isFinite(out[1])).toBe(true);
    // clamp at 1e-15: log((1 - 1e-15) / 1e-15) = ln(1e15) ≈ 34.539
    expect(Math.abs(out[0] - Math.log(1e15))).toBeLessThan(0.01);
    expect(Math.abs(out[1] + Math.log(1e15))).toBeLessThan(0.01);
  });

  it('a value outside [0, 1] is a ModelError suggesting the identity link', async () => {
    const model = fromFunction((x: Float64Array) => x[0], { nInputs: 1, link: 'logit' });
    const e = await rejection(model.predict(rows(0.5, 1.5), 2));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toContain('row 1');
    expect(e.message).toMatch(/identity/);
  });
});

describe('fromFunction: model errors', () => {
  it('a throwing function is a ModelError naming the row and the cause', async () => {
    const model = fromFunction(
      (x: Float64Array) => {
        if (x[0] === 3) throw new Error('boom');
        return x[0];
      },
      { nInputs: 1 },
    );
    const e = await rejection(model.predict(rows(1, 2, 3, 4), 4));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toContain('row 2');
    expect(e.message).toContain('boom');
    expect((e as ModelError).cause).toBeInstanceOf(Error);
  });

  it('a rejecting async function is a ModelError naming the row', async () => {
    const model = fromFunction(
      async (x: Float64Array) => {
        if (x[0] === 2) throw new Error('async boom');
        return 0;
      },
      { nInputs: 1 },
    );
    const e = await rejection(model.predict(rows(1, 2), 2));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toContain('row 1');
    expect(e.message).toContain('async boom');
  });

  it('a throwing batched function names the rows of the failing chunk', async () => {
    const model = fromFunction(
      (x: Float64Array, n: number) => {
        if (x[0] >= 4) throw new Error('chunk failed');
        return new Float64Array(n);
      },
      { nInputs: 1, batched: true, batchRows: 4 },
    );
    const e = await rejection(
      model.predict(
        Float64Array.from({ length: 10 }, (_, i) => i),
        10,
      ),
    );
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toContain('rows 4..7');
    expect(e.message).toContain('chunk failed');
  });

  it('a whybox error thrown by the function passes through unchanged', async () => {
    const inner = new DataError('custom');
    const model = fromFunction(
      () => {
        throw inner;
      },
      { nInputs: 1 },
    );
    expect(await rejection(model.predict(rows(1), 1))).toBe(inner);
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
  ])('returning %s is a ModelError naming the row and output', async (label, bad) => {
    const model = fromFunction((x: Float64Array) => [x[0], x[0] === 2 ? bad : 0], {
      nInputs: 1,
      outputNames: ['a', 'b'],
    });
    const e = await rejection(model.predict(rows(0, 1, 2, 3), 4));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toContain(`returned ${label}`);
    expect(e.message).toContain('row 2');
    expect(e.message).toContain('output "b"');
    expect(e.message).toMatch(/finite/);
  });

  it('a batched function returning NaN names the row within the whole batch', async () => {
    const model = fromFunction(
      (x: Float64Array, n: number) => Array.from({ length: n }, (_, r) => (x[r] === 6 ? Number.NaN : x[r])),
      { nInputs: 1, batched: true, batchRows: 4 },
    );
    const e = await rejection(
      model.predict(
        Float64Array.from({ length: 8 }, (_, i) => i),
        8,
      ),
    );
    expect(e).toBeInstanceOf(ModelError);
    // row 6 of the batch is row 2 of the second chunk: the message must name the caller's row
    expect(e.message).toContain('returned NaN for row 6');
  });

  it('returning the wrong number of outputs for a row', async () => {
    const model = fromFunction(() => [1, 2, 3], { nInputs: 1, outputNames: ['a', 'b'] });
    const e = await rejection(model.predict(rows(0, 0), 2));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toContain('returned 3 values for row 0; expected 2');
  });

  it('returning one number when several outputs are declared', async () => {
    const model = fromFunction(() => 1, { nInputs: 1, outputNames: ['a', 'b'] });
    const e = await rejection(model.predict(rows(0), 1));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toMatch(/one number for row 0; expected 2 outputs/);
  });

  it('a batched function returning the wrong count', async () => {
    const model = fromFunction((_x: Float64Array, n: number) => new Float64Array(n - 1), {
      nInputs: 1,
      batched: true,
    });
    const e = await rejection(model.predict(rows(1, 2, 3, 4), 4));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toContain('returned 3 values for 4 rows; expected 4');
  });

  it('too few row values is a ShapeError', async () => {
    const model = fromFunction(() => 0, { nInputs: 3 });
    const e = await rejection(model.predict(rows(1, 2, 3, 4), 2));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toContain('2 rows of 3 inputs need 6');
  });

  it('an aborted signal stops prediction with AbortedError', async () => {
    const model = fromFunction(() => 0, { nInputs: 1 });
    const controller = new AbortController();
    controller.abort();
    expect(await rejection(model.predict(rows(1), 1, controller.signal))).toBeInstanceOf(AbortedError);
  });
});

describe('fromFunction: option validation', () => {
  it.each([
    ['nInputs', { nInputs: 0 }],
    ['nInputs', { nInputs: 2.5 }],
    ['nInputs', { nInputs: -1 }],
    ['nInputs', { nInputs: undefined as unknown as number }],
    ['batchRows', { nInputs: 2, batchRows: 0 }],
    ['batchRows', { nInputs: 2, batchRows: 1.5 }],
    ['outputNames', { nInputs: 2, outputNames: [] }],
    ['link', { nInputs: 2, link: 'probit' as never }],
  ])('bad %s is an InvalidOptionError naming the option', (option, options) => {
    let error: unknown;
    try {
      fromFunction(() => 0, options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe(option);
    expect((error as Error).message).toMatch(new RegExp(`^${option} must be`));
  });

  it('a non-function is an InvalidOptionError', () => {
    expect(() => fromFunction(42 as never, { nInputs: 1 })).toThrow(InvalidOptionError);
  });
});

describe('fromModule', () => {
  let tmp: TempDir;
  let modulePath: string;
  beforeAll(async () => {
    tmp = await makeTempDir('whybox-module-');
    modulePath = await tmp.write(
      'model.mjs',
      [
        'export function score(x) { return x[0] + 10 * x[1]; }',
        'export async function both(x) { return [x[0], x[1]]; }',
        'export const answer = 42;',
        'export const objectModel = {',
        '  nInputs: 2, outputNames: ["diff"], inputType: "float64",',
        '  async predict(rows, n) { const o = new Float64Array(n); for (let r = 0; r < n; r++) o[r] = rows[2 * r] - rows[2 * r + 1]; return o; },',
        '};',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await tmp.remove();
  });

  it('loads a module whose path holds #, % and spaces (file URLs escape them)', async () => {
    // in plain Node (vitest's own module loader does not resolve escaped file URLs)
    const { mkdir, writeFile } = await import('node:fs/promises');
    const { execFileSync } = await import('node:child_process');
    const dir = `${tmp.path}/odd #dir %41 x`;
    await mkdir(dir);
    await writeFile(`${dir}/m.mjs`, 'export function f(x) { return 3 * x[0]; }\n');
    const dist = pathToFileURL(new URL('../../dist/index.js', import.meta.url).pathname).href;
    const script = `const { fromModule } = await import(${JSON.stringify(dist)});
const m = await fromModule(${JSON.stringify(`${dir}/m.mjs`)}, 'f', { nInputs: 1 });
process.stdout.write(String((await m.predict(Float64Array.of(2), 1))[0]));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(out).toBe('6');
  });

  it('loads an exported function from an absolute path and records a worker spec', async () => {
    const model = await fromModule(modulePath, 'score', { nInputs: 2 });
    expect(Array.from(await model.predict(rows(1, 2, 3, -1), 2))).toEqual([21, -7]);
    expect(model.spec).toMatchObject({
      kind: 'module',
      specifier: pathToFileURL(modulePath).href,
      exportName: 'score',
      options: { nInputs: 2 },
    });
  });

  it('loads from a file: URL, with options applied', async () => {
    const model = await fromModule(pathToFileURL(modulePath).href, 'both', {
      nInputs: 2,
      outputNames: ['a', 'b'],
    });
    expect(model.outputNames).toEqual(['a', 'b']);
    expect(Array.from(await model.predict(rows(5, 6), 1))).toEqual([5, 6]);
  });

  it('accepts an exported Model object', async () => {
    const model = await fromModule(modulePath, 'objectModel', { nInputs: 2 });
    expect(model.outputNames).toEqual(['diff']);
    expect(Array.from(await model.predict(rows(5, 2, 1, 4), 2))).toEqual([3, -3]);
  });

  it('a spec rebuilds the same model (as a worker would), with an output selection', async () => {
    const model = await fromModule(modulePath, 'both', { nInputs: 2, outputNames: ['a', 'b'] });
    const rebuilt: Model = await modelFromSpec({ ...model.spec!, options: { ...model.spec!.options, select: [1] } });
    expect(rebuilt.outputNames).toEqual(['b']);
    expect(Array.from(await rebuilt.predict(rows(5, 6, 7, 8), 2))).toEqual([6, 8]);
  });

  it('a missing export is a ModelError listing the exports', async () => {
    const e = await rejection(fromModule(modulePath, 'predict', { nInputs: 2 }));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toContain('"predict"');
    for (const name of ['score', 'both', 'answer', 'objectModel']) expect(e.message).toContain(name);
  });

  it('an export that is neither a function nor a model is a ModelError', async () => {
    const e = await rejection(fromModule(modulePath, 'answer', { nInputs: 2 }));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toContain('"answer"');
  });

  it('a module that cannot be imported is a ModelError naming it', async () => {
    const missing = `${tmp.path}/nope.mjs`;
    const e = await rejection(fromModule(missing, 'score', { nInputs: 2 }));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toContain(missing);
    expect(e.message).toMatch(/cannot import/);
  });

  it('a relative specifier is rejected with a hint to resolve it', async () => {
    const e = await rejection(fromModule('./model.mjs', 'score', { nInputs: 2 }));
    expect(e).toBeInstanceOf(InvalidOptionError);
    expect(e.message).toContain('"./model.mjs"');
    expect(e.message).toMatch(/absolute path/);
    expect(e.message).toMatch(/path\.resolve/);
  });
});
