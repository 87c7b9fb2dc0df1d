// fromFunction's overloads: the parameters of an untyped arrow function are inferred from
// `batched` (a row function by default, a batch function with `batched: true`). The type
// assertions are checked by `tsc` (npm run typecheck); the runtime checks compare with the
// closed forms of the functions.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { fromFunction } from '../../src/models/function-model.js';

describe('fromFunction typing', () => {
  it('infers a row function from the default (batched: false)', async () => {
    const model = fromFunction(
      (x) => {
        expectTypeOf(x).toEqualTypeOf<Float64Array>();
        return 2 * x[0] - x[1] * x[2];
      },
      { nInputs: 3 },
    );
    const out = await model.predict(new Float64Array([1, 2, 3, 4, 0, 5]), 2);
    expect(Array.from(out)).toEqual([2 * 1 - 2 * 3, 2 * 4 - 0 * 5]);
  });

  it('infers a batch function with batched: true', async () => {
    const model = fromFunction(
      (rows, n) => {
        expectTypeOf(rows).toEqualTypeOf<Float64Array>();
        expectTypeOf(n).toEqualTypeOf<number>();
        return Float64Array.from({ length: n }, (_, r) => rows[2 * r] - rows[2 * r + 1]);
      },
      { nInputs: 2, batched: true },
    );
    const out = await model.predict(new Float64Array([5, 1, 2, 7]), 2);
    expect(Array.from(out)).toEqual([4, -5]);
  });

  it('refuses a two-parameter function without batched: true', () => {
    // @ts-expect-error a (rows, n) function needs batched: true
    const make = () => fromFunction((rows: Float64Array, n: number) => rows.subarray(0, n), { nInputs: 1 });
    expect(make).not.toThrow(); // accepted at run time; the overloads catch it at compile time
  });
});
