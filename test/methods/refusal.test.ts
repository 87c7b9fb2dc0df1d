/**
 * The refusal table, generated from the registry: for every tabular method and every option
 * any method takes, an option the method does not take is refused — by explain() with an
 * InvalidOptionError naming the option and the method (before the model is called), by the
 * CLI with exit 2 and one line naming the flag, by the service with a 400 naming the field —
 * and an option it does take is not refused.
 */
import { describe, expect, it } from 'vitest';
import { balancedHierarchy } from '../../src/data/hierarchy.js';
import { definePlayers } from '../../src/data/players.js';
import { InvalidOptionError } from '../../src/errors.js';
import { explain } from '../../src/explain.js';
import { createExplainer } from '../../src/explainer.js';
import { acceptedNames, flagOf, inHttp, optionsOf, refuseInapplicable } from '../../src/methods/options.js';
import { allOptions, METHODS } from '../../src/methods/registry.js';
import type { OptionSpec } from '../../src/methods/types.js';
import { fromFunction } from '../../src/models/function-model.js';
import { createBackground } from '../../src/sampling/background.js';
import { createService } from '../../src/service/server.js';
import { run } from '../helpers/cli.js';
import { fixturePath } from '../helpers/fixtures.js';

const D = 3;
const rows = { data: Float64Array.from([0.5, 1, -1]), nRows: 1 };
const bg = { data: Float64Array.from([0, 0, 0, 1, 1, 1]), nRows: 2 };

/** A valid value of each option (what the table passes). */
function sample(spec: OptionSpec): unknown {
  switch (spec.name) {
    case 'background':
      return bg;
    case 'backgroundWeights':
      return [1, 1];
    case 'summarize':
      return { method: 'kmeans', rows: 1 };
    case 'groups':
      return { g: ['x0', 'x1'] };
    case 'players':
      return definePlayers(['x0', 'x1', 'x2']);
    case 'hierarchy':
      return balancedHierarchy(D);
    case 'pool':
      return { threads: 1, createEvaluator: () => Promise.reject(new Error('not used')) };
    case 'signal':
      return new AbortController().signal;
    case 'lime':
      return { numSamples: 50 };
  }
  switch (spec.kind) {
    case 'integer':
      return Math.max(spec.min ?? 1, 2);
    case 'number':
      return 0.5;
    case 'boolean':
      return true;
    case 'enum':
      return spec.values?.[0];
    case 'budget':
      return spec.auto ? 'auto' : 64;
    case 'list':
      return ['x0'];
    case 'function':
      return () => 1;
    default:
      return {};
  }
}

const tabular = METHODS.filter((m) => m.inputs.includes('tabular'));
const options = allOptions().filter((o) => o.name !== 'method');
const pairs = tabular.flatMap((m) =>
  options.map((o) => ({ method: m, option: o, accepted: acceptedNames(m).has(o.name) })),
);
const refused = pairs.filter((p) => !p.accepted);

describe('the refusal table (every method × every option, from the registry)', () => {
  it('has refused pairs for every method that does not take every option', () => {
    expect(refused.length).toBeGreaterThan(10);
    for (const m of tabular) expect(pairs.some((p) => p.method === m && p.accepted)).toBe(true);
  });

  it.each(refused.map((p) => [p.method.name, p.option.name, p]))(
    'explain(): %s refuses %s before the model runs',
    async (_m, _o, p) => {
      let calls = 0;
      const model = fromFunction(
        (x: Float64Array) => {
          calls++;
          return x[0];
        },
        { nInputs: D },
      );
      const given: Record<string, unknown> = {
        background: bg,
        method: p.method.name,
        [p.option.name]: sample(p.option),
      };
      const e = await explain(model, rows, given as never).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(e).toBeInstanceOf(InvalidOptionError);
      expect((e as InvalidOptionError).option).toBe(p.option.name);
      expect((e as Error).message).toContain(`method '${p.method.name}'`);
      expect(calls).toBe(0);
    },
  );

  it.each(pairs.filter((p) => p.accepted).map((p) => [p.method.name, p.option.name, p]))(
    'the registry: %s takes %s',
    (_m, _o, p) => {
      const own = optionsOf(p.method).find((o) => o.name === p.option.name) as OptionSpec;
      const given: Record<string, unknown> = { [p.option.name]: sample(own) };
      // options that only make sense together
      if ((p.option.name === 'tolerance' || p.option.name === 'maxBudget') && acceptedNames(p.method).has('budget'))
        given.budget = 'auto';
      expect(() => refuseInapplicable(p.method, given, METHODS)).not.toThrow();
    },
  );

  const cliRefused = refused.filter((p) => flagOf(p.option) !== null);
  it.each(cliRefused.map((p) => [p.method.name, flagOf(p.option), p]))(
    'CLI: --method %s --%s exits 2 with one line naming the flag and the method',
    async (_m, flag, p) => {
      const s = sample(p.option);
      const value = Array.isArray(s) ? s.join(',') : String(s);
      const r = await run(
        'explain',
        ...['--model', fixturePath('linear'), '--data', '/nonexistent.csv', '--method', p.method.name],
        `--${flag}`,
        value,
      );
      expect(r.code).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`--${flag} must be unset for method '${p.method.name}'`);
    },
  );

  it('HTTP: every refused (method, field) pair is a 400 naming the field', async () => {
    const explainer = await createExplainer({
      model: fromFunction((x: Float64Array) => x[0] + 2 * x[1] - x[2], { nInputs: D }),
      background: createBackground({ ...bg, nColumns: D }),
      threads: 1,
    });
    const service = await createService({ models: { m: explainer }, logger: false });
    try {
      const httpRefused = refused.filter((p) => inHttp(p.option) && p.option.name !== 'seed');
      expect(httpRefused.length).toBeGreaterThan(5);
      for (const p of httpRefused) {
        const res = await service.app.inject({
          method: 'POST',
          url: '/v1/models/m/explain',
          payload: { rows: [[0.5, 1, -1]], method: p.method.name, [p.option.name]: sample(p.option) },
        });
        const body = res.json() as { error: { field?: string; message: string } };
        expect([res.statusCode, body.error.field], `${p.method.name} × ${p.option.name}`).toEqual([400, p.option.name]);
        expect(body.error.message).toContain(`method '${p.method.name}'`);
      }
    } finally {
      await service.close();
    }
  });
});
