/**
 * Regression tests from a review of the merged LIME / surrogate, credit and sequence features:
 * flags that meet across modes, negative numbers as flag values, and the LIME waterfall of the
 * credit report.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeRecords, loadRawCsv } from '../../src/data/encoder.js';
import { loadSchema, schemaPlayers } from '../../src/data/schema.js';
import { InvalidOptionError } from '../../src/errors.js';
import { explain } from '../../src/explain.js';
import { lime } from '../../src/explainers/lime.js';
import { surrogateTree } from '../../src/explainers/surrogate-tree.js';
import { loadReasonTemplates, reasonCodes } from '../../src/explanation/reasons.js';
import { fromFunction } from '../../src/models/function-model.js';
import { run } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CREDIT = join(ROOT, 'datasets/credit-demo');
const MOTIFS = join(ROOT, 'datasets/motifs');

/** A bad input: exit code 2 and exactly one line on stderr. */
function expectUsage(r: { code: number; stderr: string }, message: RegExp) {
  expect(r.code).toBe(2);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
}

const creditLime = [
  'explain',
  '--schema',
  join(CREDIT, 'schema.json'),
  '--model',
  join(CREDIT, 'model.onnx'),
  '--data',
  join(CREDIT, 'applicants-raw.csv'),
  '--reasons',
  join(CREDIT, 'reasons.json'),
  '--background',
  join(CREDIT, 'train.csv'),
  '--method',
  'lime',
  '--num-samples',
  '300',
  '--rows',
  '0,1',
  '--quiet',
];

describe('negative numbers as flag values', () => {
  it('--seed -1 and --threshold -0.1 are values, not options', async () => {
    const r = await run(...creditLime, '--seed', '-1', '--threshold', '-0.1', '--format', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as {
      seed: number;
      reasonOptions: { threshold: number };
      rows: { decision: string; decisionScore: number }[];
    };
    expect(j.seed).toBe(-1);
    expect(j.reasonOptions.threshold).toBe(-0.1);
    // every probability is above -0.1, so every decision is adverse (higher is adverse)
    for (const row of j.rows) {
      expect(row.decisionScore).toBeGreaterThan(-0.1);
      expect(row.decision).toBe('adverse');
    }
  });

  it('a negative value that is out of range gets the flag’s own message', async () => {
    const r = await run(
      'surrogate',
      '--model',
      join(CREDIT, 'model.onnx'),
      '--data',
      join(CREDIT, 'train.csv'),
      '--max-depth',
      '-1',
    );
    expectUsage(r, /^whybox: --max-depth must be an integer >= 1; got "-1"/);
  });
});

describe('whybox surrogate --max-depth 0', () => {
  it('is refused by the CLI (a depth-0 tree is a constant with no rules)', async () => {
    const r = await run(
      'surrogate',
      '--model',
      join(CREDIT, 'model.onnx'),
      '--data',
      join(CREDIT, 'train.csv'),
      '--max-depth',
      '0',
    );
    expectUsage(r, /--max-depth must be an integer >= 1; got "0"/);
  });

  it('is refused by surrogateTree before the model runs', async () => {
    let calls = 0;
    const model = fromFunction(
      (x: Float64Array) => {
        calls++;
        return x[0];
      },
      { nInputs: 2 },
    );
    const rows = { data: Float64Array.from([0, 1, 2, 3, 4, 5]), nRows: 3 };
    await expect(surrogateTree(model, rows, { maxDepth: 0 })).rejects.toThrow(InvalidOptionError);
    await expect(surrogateTree(model, rows, { maxDepth: 0 })).rejects.toThrow(
      /maxDepth must be an integer in 1\.\.64 or 'auto'; got 0/,
    );
    expect(calls).toBe(0);
  });
});

describe('explain --help', () => {
  it('names the credit JSON field decisionScore (LIME’s per-row score is its R²)', async () => {
    const r = await run('explain', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/"decisionScore", "decision", "reasons"/);
    expect(r.stdout).not.toMatch(/"score", "decision"/);
  });
});

describe('--sequences refuses the tabular modes’ flags', () => {
  const seq = [
    'explain',
    '--model',
    join(MOTIFS, 'model.onnx'),
    '--sequences',
    join(MOTIFS, 'single.fa'),
    '--rows',
    '0',
  ];
  it.each([
    ['--schema', join(CREDIT, 'schema.json'), 'with --sequences'],
    ['--reasons', join(CREDIT, 'reasons.json'), 'with --sequences'],
    ['--threshold', '0.5', 'with --sequences'],
    // LIME is a tabular method: the sequence methods refuse its options
    ['--num-features', '5', "for method 'kernel'.*--method lime"],
    ['--discretizer', 'none', "for method 'kernel'.*--method lime"],
  ])('%s', async (flag, value, why) => {
    const r = await run(...seq, flag, value);
    expectUsage(r, new RegExp(`^whybox: ${flag} must be unset ${why}`));
  });

  it('--layout contradicting the model’s unambiguous input shape', async () => {
    // the motif scanner takes [batch, 100, 4]: NLC
    const r = await run(...seq, '--layout', 'NCL');
    expectUsage(r, /^whybox: --layout must be NLC for this model \(its input is \[batch, 100, 4\]/);
    const ok = await run(...seq, '--layout', 'NLC', '--method', 'ism', '--format', 'json');
    expect(ok.code).toBe(0);
  });
});

describe('credit report with --method lime', () => {
  it('the waterfall goes from the LIME intercept to the local prediction, not from the base value', async () => {
    const json = await run(...creditLime, '--seed', '3', '--format', 'json');
    expect(json.code).toBe(0);
    const j = JSON.parse(json.stdout) as {
      baseValues: number[];
      rows: { intercept: number[]; localPrediction: number[]; prediction: number[] }[];
    };
    const html = await run(...creditLime, '--seed', '3', '--format', 'html');
    expect(html.code).toBe(0);
    expect(html.stdout).toMatch(/Contributions are LIME local weights/);
    expect(html.stdout).not.toMatch(/Contributions are Shapley values/);
    expect(html.stdout).toMatch(/for reference the mean score/);
    expect(html.stdout).not.toMatch(/relative to the <b>baseline<\/b>/);
    const specs = [
      ...html.stdout.matchAll(
        /<script type="application\/json" class="vega-lite-spec" data-plot="waterfall"[^>]*>(.*?)<\/script>/gs,
      ),
    ].map((m) => JSON.parse(m[1]) as { layer: { data: { values: Record<string, unknown>[] } }[] });
    expect(specs).toHaveLength(2);
    specs.forEach((spec, r) => {
      const bars = spec.layer[0].data.values as { start: number; end: number }[];
      expect(bars[0].start).toBeCloseTo(j.rows[r].intercept[0], 12);
      // quartile bins and one-hot categories: the instance is 1 on every feature, so
      // intercept + Σ weights = local prediction
      expect(bars[bars.length - 1].end).toBeCloseTo(j.rows[r].localPrediction[0], 9);
      const rules = spec.layer[2].data.values as { what: string; x: number }[];
      expect(rules.map((x) => x.what)).toEqual(['LIME intercept', 'local prediction', 'score', 'threshold']);
      expect(rules[2].x).toBeCloseTo(j.rows[r].prediction[0], 12);
      expect(rules.some((x) => x.what === 'base value')).toBe(false);
    });
  });
});

describe('reason codes from Gaussian LIME (--discretizer none)', () => {
  it('the CLI refuses it up front: the weights are per training std, not the applicant’s push', async () => {
    const r = await run(...creditLime, '--discretizer', 'none');
    expectUsage(r, /^whybox: --discretizer must be quartile or decile with --schema/);
  });

  it('reasonCodes refuses it: an applicant below the mean would get a reason in the wrong direction', async () => {
    const schema = await loadSchema(join(CREDIT, 'schema.json'));
    const rows = encodeRecords(schema, await loadRawCsv(join(CREDIT, 'applicants-raw.csv')));
    const model = fromFunction((x: Float64Array) => x[schema.columns.indexOf('duration_months')] / 100, {
      nInputs: schema.columns.length,
    });
    const players = schemaPlayers(schema);
    const templates = await loadReasonTemplates(join(CREDIT, 'reasons.json'), schema);
    const gauss = await lime(model, rows, { training: rows, players, discretizer: 'none', numSamples: 200, seed: 1 });
    expect(() => reasonCodes(gauss, { schema, templates, background: rows })).toThrow(InvalidOptionError);
    expect(() => reasonCodes(gauss, { schema, templates, background: rows })).toThrow(
      /LIME discretizer must be 'quartile' or 'decile'/,
    );
    const binned = await lime(model, rows, { training: rows, players, numSamples: 200, seed: 1 });
    expect(reasonCodes(binned, { schema, templates, background: rows }).decisions).toHaveLength(rows.nRows);
  });
});

describe('--sequences --output out of range', () => {
  it('names the flag, like the tabular mode', async () => {
    const r = await run(
      'explain',
      '--model',
      join(MOTIFS, 'model.onnx'),
      '--sequences',
      join(MOTIFS, 'single.fa'),
      '--rows',
      '0',
      '--method',
      'ism',
      '--output',
      '5',
    );
    expectUsage(
      r,
      /^whybox: --output must be an output index \(0\.\.1\), one of \["probabilities\[0\]","probabilities\[1\]"\]/,
    );
  });
});

describe('Kernel SHAP settings with another Shapley method', () => {
  it.each([
    ['permutation', '--top-k', '3', /^whybox: --top-k must be unset for method 'permutation'; got 3 .*--method kernel/],
    ['partition', '--tolerance', '0.1', /^whybox: --tolerance must be unset for method 'partition'; got 0\.1/],
    ['exact', '--max-budget', '100', /^whybox: --max-budget must be unset for method 'exact'; got 100/],
  ])('--method %s %s is refused, not silently ignored', async (method, flag, value, message) => {
    const r = await run(
      'explain',
      '--model',
      join(CREDIT, 'model.onnx'),
      '--data',
      join(CREDIT, 'applicants.csv'),
      '--groups',
      join(CREDIT, 'groups.json'),
      '--rows',
      '0',
      '--method',
      method,
      flag,
      value,
    );
    expectUsage(r, message);
  });

  it('explain() refuses topK with permutation before the model runs', async () => {
    let calls = 0;
    const model = fromFunction(
      (x: Float64Array) => {
        calls++;
        return x[0] + x[1];
      },
      { nInputs: 2 },
    );
    const rows = { data: Float64Array.from([1, 2]), nRows: 1 };
    await expect(explain(model, rows, { background: rows, method: 'permutation', topK: 1, budget: 8 })).rejects.toThrow(
      /topK must be unset for method 'permutation'.*'kernel'/,
    );
    expect(calls).toBe(0);
  });
});

describe('credit table with --method lime', () => {
  it('says the contributions are LIME weights, with the samples per applicant', async () => {
    const r = await run(...creditLime, '--seed', '2');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^contributions: LIME local weights \(they do not add up to score − base\); mean score 0\.\d{4} over the training statistics of 1000 rows \(quartile\), for reference; lime, seed 2, 300 samples per applicant/m,
    );
    expect(r.stdout).not.toMatch(/^baseline: expected score/m);
  });
});

describe('--sequences --method exact', () => {
  const seq = [
    'explain',
    '--model',
    join(MOTIFS, 'model.onnx'),
    '--sequences',
    join(MOTIFS, 'single.fa'),
    '--rows',
    '0',
    '--method',
    'exact',
  ];
  it('refuses --budget (it was silently ignored), like the tabular mode', async () => {
    const r = await run(...seq, '--players', 'window:10', '--budget', '300');
    expectUsage(r, /^whybox: --budget must be unset for method 'exact'/);
  });
  it('with 100 position players suggests windows that fit in 24 players', async () => {
    const r = await run(...seq);
    expectUsage(
      r,
      /at most 24 players per game .* got "100 positions" \(use windows of at least 5 positions \(players \{ window: 5 \}, CLI --players window:5\)/,
    );
    const ok = await run(...seq, '--players', 'window:10', '--format', 'json', '--quiet', '--reference', 'zeros');
    expect(ok.code).toBe(0);
    const j = JSON.parse(ok.stdout) as { players: string[]; rows: { exact: boolean; efficiencyGap: number }[] };
    expect(j.players).toHaveLength(10);
    expect(j.rows[0].exact).toBe(true);
    expect(Math.abs(j.rows[0].efficiencyGap)).toBeLessThan(1e-9);
  });
});
