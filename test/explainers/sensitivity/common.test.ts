import { describe, expect, it } from 'vitest';
import { definePlayers } from '../../../src/data/players.js';
import { DataError, InvalidOptionError, ShapeError } from '../../../src/errors.js';
import { resolveBaseline } from '../../../src/explainers/sensitivity/baseline.js';
import { integratedGradients } from '../../../src/explainers/sensitivity/integrated-gradients.js';
import { occlusion } from '../../../src/explainers/sensitivity/occlusion.js';
import { explanationFromJSON, explanationToJSON } from '../../../src/explanation/explanation.js';
import { fromFunction } from '../../../src/models/function-model.js';
import { createBackground } from '../../../src/sampling/background.js';

const model = fromFunction((x: Float64Array) => x[0] * x[1] + x[2], { nInputs: 3 });
const rows = { data: Float64Array.of(1, 2, 3), nRows: 1 };

describe('inputs of the sensitivity methods', () => {
  it('refuses bad rows, players and background with typed errors', async () => {
    await expect(occlusion(model, { data: Float64Array.of(1, 2), nRows: 1 }, { baseline: 'zeros' })).rejects.toThrow(
      ShapeError,
    );
    await expect(
      occlusion(model, { data: Float64Array.of(1, Number.NaN, 3), nRows: 1 }, { baseline: 'zeros' }),
    ).rejects.toThrow(DataError);
    await expect(
      occlusion(model, rows, { baseline: 'zeros', groups: { a: ['x0'] }, players: definePlayers(['x0', 'x1', 'x2']) }),
    ).rejects.toThrow(/players must be unset when groups are given/);
    await expect(occlusion(model, rows, { baseline: 'zeros', backgroundWeights: [1] })).rejects.toThrow(
      /backgroundWeights must be unset without a background/,
    );
    await expect(
      occlusion(model, rows, { background: { data: Float64Array.of(1, 2), nRows: 1 }, baseline: 'mean' }),
    ).rejects.toThrow(ShapeError);
    await expect(occlusion(model, rows, { baseline: 'median' as never })).rejects.toThrow(InvalidOptionError);
  });

  it('resolves baselines: weighted mean, a row, every row, zeros, a vector', () => {
    const bg = createBackground({ data: Float64Array.of(0, 0, 0, 4, 8, 12), nRows: 2, nColumns: 3 }, [3, 1]);
    expect(Array.from(resolveBaseline('mean', 3, bg).rows)).toEqual([1, 2, 3]);
    expect(Array.from(resolveBaseline(1, 3, bg).rows)).toEqual([4, 8, 12]);
    const each = resolveBaseline('background', 3, bg);
    expect(each.nRows).toBe(2);
    expect(Array.from(each.weights)).toEqual([0.75, 0.25]);
    expect(Array.from(resolveBaseline('zeros', 3).rows)).toEqual([0, 0, 0]);
    expect(Array.from(resolveBaseline([1, 2, 3], 3).rows)).toEqual([1, 2, 3]);
    expect(() => resolveBaseline(2, 3, bg)).toThrow(/a background row index in 0\.\.1/);
    expect(() => resolveBaseline([1, Number.POSITIVE_INFINITY, 3], 3)).toThrow(DataError);
  });

  it('reports progress per row and stops on an aborted signal', async () => {
    const seen: number[] = [];
    await occlusion(
      model,
      { data: Float64Array.of(1, 2, 3, 4, 5, 6), nRows: 2 },
      {
        baseline: 'zeros',
        onProgress: (p) => seen.push(p.rowsDone),
      },
    );
    expect(seen).toEqual([1, 2]);
    const ac = new AbortController();
    ac.abort();
    await expect(occlusion(model, rows, { baseline: 'zeros', signal: ac.signal })).rejects.toThrow(/aborted/);
  });

  it('JSON round trip keeps the settings and the steps of each row', async () => {
    const e = await integratedGradients(
      model,
      { data: Float64Array.of(1, 2, 3, -1, 0.5, 2), nRows: 2 },
      {
        baseline: 'zeros',
        steps: 2,
        rule: 'riemann-left',
        tolerance: 1e-3,
        maxSteps: 64,
      },
    );
    const json = explanationToJSON(e);
    expect(json.rows.map((r) => r.steps)).toEqual(e.sensitivity?.stepsUsed);
    expect(json.sensitivity).toMatchObject({ steps: 2, rule: 'riemann-left', tolerance: 1e-3, baseline: 'zeros' });
    expect(explanationToJSON(explanationFromJSON(JSON.parse(JSON.stringify(json))))).toEqual(json);
  });
});
