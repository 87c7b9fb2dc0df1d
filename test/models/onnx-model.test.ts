import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError, ModelError, ShapeError } from '../../src/errors.js';
import { loadOnnx, type OnnxModel, type OnnxModelOptions } from '../../src/models/onnx-model.js';
import { modelFromSpec } from '../../src/models/spec.js';
import { FIXTURES_DIR, fixtureExpected, fixturePath, fixtureRows } from '../helpers/fixtures.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

/** Loads a model, runs `fn`, and always closes the model. */
async function withModel<T>(
  source: string | Uint8Array,
  options: OnnxModelOptions,
  fn: (m: OnnxModel) => Promise<T>,
): Promise<T> {
  const model = await loadOnnx(source, options);
  try {
    return await fn(model);
  } finally {
    await model.close();
  }
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(e instanceof Error)) throw new Error('expected a rejection');
  return e;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('loadOnnx on the committed fixtures', () => {
  it('linear: x [batch,10] -> y [batch,1], outputs equal the expected values exactly', async () => {
    const exp = fixtureExpected('linear');
    await withModel(fixturePath('linear'), {}, async (m) => {
      expect(m.nInputs).toBe(10);
      expect(m.rowShape).toEqual([10]);
      expect(m.inputName).toBe('x');
      expect(m.inputType).toBe('float32');
      expect(m.tensor).toBe('y');
      expect(m.outputNames).toEqual(['y']);
      const out = await m.predict(fixtureRows('linear'), exp.rows.length);
      expect(Array.from(out)).toEqual(exp.outputs.y.flat());
    });
  });

  it.each(['logistic', 'mlp'] as const)(
    '%s: explains "probabilities" by default although "label" is listed first; matches to 1e-6',
    async (name) => {
      const exp = fixtureExpected(name);
      await withModel(fixturePath(name), {}, async (m) => {
        expect(m.nInputs).toBe(exp.nInputs);
        expect(m.tensors.map((t) => t.name)).toEqual(['label', 'probabilities']);
        expect(m.tensors[0].type).toBe('int64');
        expect(m.tensors[1].type).toBe('float32');
        expect(m.tensor).toBe('probabilities');
        expect(m.outputNames).toEqual(['probabilities[0]', 'probabilities[1]']);
        const out = await m.predict(fixtureRows(name), exp.rows.length);
        expect(out.length).toBe(exp.rows.length * 2);
        expect(maxAbsDiff(out, exp.outputs.probabilities.flat())).toBeLessThan(1e-6);
      });
    },
  );

  it('seq-cnn: input [batch,60,4] takes flat rows of 240 and matches to 1e-6', async () => {
    const exp = fixtureExpected('seq-cnn');
    await withModel(fixturePath('seq-cnn'), {}, async (m) => {
      expect(m.inputName).toBe('dna');
      expect(m.rowShape).toEqual([60, 4]);
      expect(m.nInputs).toBe(240);
      expect(m.outputNames).toEqual(['probabilities[0]', 'probabilities[1]', 'probabilities[2]']);
      const out = await m.predict(fixtureRows('seq-cnn'), 12);
      expect(maxAbsDiff(out, exp.outputs.probabilities.flat())).toBeLessThan(1e-6);
    });
  });

  it('select: [1] keeps one column (P(class 1)), also by output name', async () => {
    const exp = fixtureExpected('logistic');
    const p1 = exp.outputs.probabilities.map((r) => r[1]);
    for (const select of [[1], ['probabilities[1]']]) {
      await withModel(fixturePath('logistic'), { select }, async (m) => {
        expect(m.outputNames).toEqual(['probabilities[1]']);
        const out = await m.predict(fixtureRows('logistic'), 12);
        expect(out.length).toBe(12);
        expect(maxAbsDiff(out, p1)).toBeLessThan(1e-6);
      });
    }
  });

  it('select with two columns in another order', async () => {
    const exp = fixtureExpected('seq-cnn');
    await withModel(fixturePath('seq-cnn'), { select: [2, 0] }, async (m) => {
      expect(m.outputNames).toEqual(['probabilities[2]', 'probabilities[0]']);
      const out = await m.predict(fixtureRows('seq-cnn'), 12);
      expect(
        maxAbsDiff(
          out,
          exp.outputs.probabilities.flatMap((r) => [r[2], r[0]]),
        ),
      ).toBeLessThan(1e-6);
    });
  });

  it("tensor: 'label' (int64) is rejected with a ModelError pointing at the float output", async () => {
    const e = await rejection(loadOnnx(fixturePath('logistic'), { tensor: 'label' }));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toContain('"label"');
    expect(e.message).toContain('int64');
    expect(e.message).toMatch(/float output/);
    expect(e.message).toContain('probabilities');
  });

  it("tensor: 'probabilities' chosen explicitly gives the same outputs", async () => {
    const exp = fixtureExpected('mlp');
    await withModel(fixturePath('mlp'), { tensor: 'probabilities' }, async (m) => {
      expect(maxAbsDiff(await m.predict(fixtureRows('mlp'), 12), exp.outputs.probabilities.flat())).toBeLessThan(1e-6);
    });
  });

  it('an unknown tensor name is an InvalidOptionError listing the outputs', async () => {
    const e = await rejection(loadOnnx(fixturePath('logistic'), { tensor: 'scores' }));
    expect(e).toBeInstanceOf(InvalidOptionError);
    expect(e.message).toContain('"scores"');
    expect(e.message).toContain('label');
    expect(e.message).toContain('probabilities');
  });
});

describe('loadOnnx: batching, input types, link, bytes', () => {
  it.each(['linear', 'mlp', 'seq-cnn'] as const)(
    '%s: batchRows 5 over 12 rows gives the same outputs as one call',
    async (name) => {
      const x = fixtureRows(name);
      const whole = await withModel(fixturePath(name), {}, (m) => m.predict(x, 12));
      const split = await withModel(fixturePath(name), { batchRows: 5 }, (m) => m.predict(x, 12));
      // onnxruntime may pick other kernels for other batch sizes: equal to float32 rounding
      expect(maxAbsDiff(split, whole)).toBeLessThan(1e-7);
      const exp = fixtureExpected(name);
      const first = Object.values(exp.outputs).at(-1)!.flat();
      expect(maxAbsDiff(split, first)).toBeLessThan(name === 'linear' ? 1e-15 : 1e-6);
    },
  );

  it('Float64Array and Float32Array rows give the same outputs', async () => {
    await withModel(fixturePath('mlp'), {}, async (m) => {
      const x64 = fixtureRows('mlp');
      const a = await m.predict(x64, 12);
      const b = await m.predict(Float32Array.from(x64), 12);
      expect(Array.from(b)).toEqual(Array.from(a));
    });
  });

  it('reads only nRows rows of a longer buffer', async () => {
    const exp = fixtureExpected('linear');
    await withModel(fixturePath('linear'), {}, async (m) => {
      const out = await m.predict(fixtureRows('linear'), 3);
      expect(Array.from(out)).toEqual(exp.outputs.y.slice(0, 3).flat());
    });
  });

  it('too few values for nRows is a ShapeError', async () => {
    await withModel(fixturePath('linear'), {}, async (m) => {
      expect(await rejection(m.predict(new Float64Array(15), 2))).toBeInstanceOf(ShapeError);
    });
  });

  it("link 'logit' equals log(p / (1 - p)) of the identity outputs", async () => {
    const x = fixtureRows('logistic');
    const p = await withModel(fixturePath('logistic'), {}, (m) => m.predict(x, 12));
    await withModel(fixturePath('logistic'), { link: 'logit' }, async (m) => {
      const z = await m.predict(x, 12);
      expect(z.length).toBe(p.length);
      for (let i = 0; i < p.length; i++) expect(z[i]).toBeCloseTo(Math.log(p[i] / (1 - p[i])), 10);
      // the two classes' log-odds are opposite
      for (let r = 0; r < 12; r++) expect(z[2 * r] + z[2 * r + 1]).toBeCloseTo(0, 5);
    });
  });

  it("link 'logit' on an unbounded score is a ModelError suggesting the identity link", async () => {
    await withModel(fixturePath('linear'), { link: 'logit' }, async (m) => {
      const e = await rejection(m.predict(fixtureRows('linear'), 12));
      expect(e).toBeInstanceOf(ModelError);
      expect(e.message).toMatch(/\[0, 1\]/);
      expect(e.message).toMatch(/identity/);
    });
  });

  it('loads from bytes (Uint8Array) and records the bytes in its spec', async () => {
    const bytes = new Uint8Array(await readFile(fixturePath('seq-cnn')));
    const exp = fixtureExpected('seq-cnn');
    await withModel(bytes, {}, async (m) => {
      expect(m.nInputs).toBe(240);
      expect(maxAbsDiff(await m.predict(fixtureRows('seq-cnn'), 12), exp.outputs.probabilities.flat())).toBeLessThan(
        1e-6,
      );
      expect(m.spec.kind).toBe('onnx');
      expect(m.spec.kind === 'onnx' && m.spec.source).toBe(bytes);
    });
  });

  it('its spec rebuilds the same model (as a worker does), keeping the output selection', async () => {
    const x = fixtureRows('mlp');
    await withModel(fixturePath('mlp'), { select: [1] }, async (m) => {
      const rebuilt = await modelFromSpec(m.spec);
      try {
        expect(rebuilt.outputNames).toEqual(['probabilities[1]']);
        expect(Array.from(await rebuilt.predict(x, 12))).toEqual(Array.from(await m.predict(x, 12)));
      } finally {
        await rebuilt.close?.();
      }
    });
  });
});

describe('loadOnnx: errors', () => {
  let tmp: TempDir;
  beforeAll(async () => {
    tmp = await makeTempDir('whybox-onnx-');
  });
  afterAll(async () => {
    await tmp.remove();
  });

  it('a missing file is a ModelError saying it was not found', async () => {
    const path = `${tmp.path}/missing.onnx`;
    const e = await rejection(loadOnnx(path));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toContain(path);
    expect(e.message).toMatch(/not found/);
  });

  it('a directory is a ModelError', async () => {
    const e = await rejection(loadOnnx(FIXTURES_DIR));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toMatch(/directory/);
  });

  it('a text file is "not a loadable ONNX model"', async () => {
    const path = await tmp.write('model.onnx', 'this is not an onnx model\n');
    const e = await rejection(loadOnnx(path));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toContain(path);
    expect(e.message).toMatch(/not a loadable ONNX model/);
    expect(e.message).not.toContain('\n');
  });

  it('random bytes are "not a loadable ONNX model"', async () => {
    const bytes = Uint8Array.from({ length: 512 }, (_, i) => (i * 73 + 41) % 256);
    const e = await rejection(loadOnnx(bytes));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toMatch(/not a loadable ONNX model/);
  });

  it('predict after close() is a ModelError; close() twice is safe', async () => {
    const m = await loadOnnx(fixturePath('linear'));
    await m.close();
    await m.close();
    const e = await rejection(m.predict(fixtureRows('linear'), 1));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toMatch(/closed/);
  });

  it.each([
    ['batchRows', { batchRows: 0 }],
    ['intraOpThreads', { intraOpThreads: -1 }],
    ['link', { link: 'probit' as never }],
  ] as [string, OnnxModelOptions][])('bad %s is an InvalidOptionError', async (option, options) => {
    const e = await rejection(loadOnnx(fixturePath('linear'), options));
    expect(e).toBeInstanceOf(InvalidOptionError);
    expect((e as InvalidOptionError).option).toBe(option);
  });

  it('a source that is neither a path nor bytes is an InvalidOptionError', async () => {
    expect(await rejection(loadOnnx(42 as never))).toBeInstanceOf(InvalidOptionError);
  });
});
