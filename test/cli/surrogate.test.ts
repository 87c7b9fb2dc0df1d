import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCsv } from '../../src/data/csv.js';
import { surrogateToJSON, surrogateTree } from '../../src/explainers/surrogate-tree.js';
import { loadOnnx } from '../../src/models/onnx-model.js';
import { Rng } from '../../src/sampling/rng.js';
import { run } from '../helpers/cli.js';
import { fixturePath } from '../helpers/fixtures.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

const LIN = fixturePath('linear');
const LOG = fixturePath('logistic');
let tmp: TempDir;
const files: Record<string, string> = {};

function randomCsv(names: string[], n: number, seed: number): string {
  const rng = Rng.fromSeed(seed);
  const lines = [names.join(',')];
  for (let i = 0; i < n; i++) lines.push(names.map(() => (Math.round(rng.normal() * 8) / 8).toString()).join(','));
  return `${lines.join('\n')}\n`;
}

beforeAll(async () => {
  tmp = await makeTempDir('whybox-surrogate-');
  const lin = Array.from({ length: 10 }, (_, i) => `f${i}`);
  const log = Array.from({ length: 20 }, (_, i) => `c${i}`);
  files.lin = await tmp.write('lin.csv', randomCsv(lin, 800, 1));
  files.log = await tmp.write('log.csv', randomCsv(log, 800, 2));
  files.narrow = await tmp.write('narrow.csv', 'a,b\n1,2\n');
  // weights: rows 0..399 count, rows 400..799 weigh 0
  files.weights = await tmp.write(
    'w.csv',
    `w\n${Array.from({ length: 800 }, (_, i) => (i < 400 ? 1 : 0)).join('\n')}\n`,
  );
  files.shortWeights = await tmp.write('w-short.csv', 'w\n1\n2\n');
  files.negWeights = await tmp.write('w-neg.csv', `w\n${Array.from({ length: 800 }, () => -1).join('\n')}\n`);
});
afterAll(async () => {
  await tmp.remove();
});

describe('whybox surrogate', () => {
  it('--format json on a regression model: the library result, fidelity growing with depth', async () => {
    const r = await run(
      'surrogate',
      '--model',
      LIN,
      '--data',
      files.lin,
      '--max-depth',
      '3',
      '--seed',
      '5',
      '--format',
      'json',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.task).toBe('regression');
    expect(j.rows).toEqual({ train: 640, holdout: 160 });
    expect(j.rules.length).toBeLessThanOrEqual(8);
    expect(j.rules[0].conditions[0]).toMatch(/^f\d (<=|>) /);
    // the same as the library on the same rows and seed
    const model = await loadOnnx(LIN);
    try {
      const lib = surrogateToJSON(await surrogateTree(model, await loadCsv(files.lin), { maxDepth: 3, seed: 5 }));
      expect(j.rules).toEqual(JSON.parse(JSON.stringify(lib.rules)));
      expect(j.fidelity).toEqual(JSON.parse(JSON.stringify(lib.fidelity)));
    } finally {
      await model.close();
    }
    const shallow = JSON.parse(
      (
        await run(
          'surrogate',
          '--model',
          LIN,
          '--data',
          files.lin,
          '--max-depth',
          '1',
          '--seed',
          '5',
          '--format',
          'json',
        )
      ).stdout,
    );
    expect(shallow.fidelity.holdout.r2).toBeLessThan(j.fidelity.holdout.r2);
  });

  it('--max-depth auto --augment N --format json|html|text: pruning, augmentation, a warning when fidelity is weak', async () => {
    const args = [
      '--model',
      LOG,
      '--data',
      files.log,
      '--task',
      'regression',
      '--output',
      'probabilities[1]',
      '--seed',
      '3',
    ];
    const j = JSON.parse(
      (await run('surrogate', ...args, '--max-depth', 'auto', '--augment', '400', '--format', 'json')).stdout,
    );
    expect(j.maxDepth).toBe('auto');
    expect(j.pruning.method).toBe('cross-validation');
    expect(j.augmentation.rows).toBe(400);
    expect(j.modelRows).toBe(1200);
    expect(j.fidelity.holdout.decision.threshold).toBe(0.5);
    // the same as the library
    const model = await loadOnnx(LOG);
    try {
      const lib = await surrogateTree(model, await loadCsv(files.log), {
        task: 'regression',
        output: 'probabilities[1]',
        seed: 3,
        maxDepth: 'auto',
        augment: 400,
      });
      expect(j.fidelity).toEqual(JSON.parse(JSON.stringify(surrogateToJSON(lib).fidelity)));
      expect(j.augmentation.fidelityWithout.r2).toBe(lib.augmentation?.fidelityWithout.r2);
    } finally {
      await model.close();
    }
    // a depth-1 tree of a 20-input logistic model is weak: a warning in JSON, text and HTML
    const weak = JSON.parse((await run('surrogate', ...args, '--max-depth', '1', '--format', 'json')).stdout);
    expect(weak.fidelity.holdout.r2).toBeLessThan(0.5);
    expect(weak.fidelity.warning).toMatch(/^The surrogate tree does not describe the model well: its held-out R² is /);
    const text = (await run('surrogate', ...args, '--max-depth', '1')).stdout;
    expect(text).toContain(`WARNING: ${weak.fidelity.warning}`);
    const html = (await run('surrogate', ...args, '--max-depth', '1', '--format', 'html')).stdout;
    expect(html).toContain('<svg data-plot="tree"');
    expect(html).toContain('id="fidelity-warning"');
    const bad = await run('surrogate', ...args, '--max-depth', 'auto', '--ccp-alpha', '0.1');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--ccp-alpha/);
  });

  it('a classifier gets a classification tree on the argmax by default (text rules)', async () => {
    const r = await run(
      'surrogate',
      '--model',
      LOG,
      '--data',
      files.log,
      '--max-depth',
      '2',
      '--seed',
      '1',
      '--holdout',
      '0.25',
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/classification tree of argmax\(probabilities\[0\], probabilities\[1\]\)/);
    expect(r.stdout).toMatch(/fidelity on 200 held-out rows: accuracy [\d.]+; per class: probabilities\[0\]/);
    expect(r.stdout).toMatch(/ {2}if c\d+ (<=|>) -?[\d.]+ and .* then class probabilities\[[01]\] \(p = /);
    expect(r.stdout).toMatch(/Feature importance/);
  });

  it('--task regression --output "probabilities[1]" fits one probability; --out writes a file', async () => {
    const out = `${tmp.path}/tree.json`;
    const r = await run(
      'surrogate',
      ...['--model', LOG, '--data', files.log, '--task', 'regression', '--output', 'probabilities[1]'],
      ...['--holdout', '0', '--min-leaf', '50', '--format', 'json', '--out', out],
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const j = JSON.parse(await readFile(out, 'utf8'));
    expect(j.target).toBe('probabilities[1]');
    expect(j.fidelity.holdout).toBeNull();
    for (const node of j.nodes) if (node.leaf) expect(node.samples).toBeGreaterThanOrEqual(50);
  });

  it('--weights: zero-weight rows do not shape the tree (same tree as fitting the weighted rows alone)', async () => {
    const all = await loadCsv(files.lin);
    const text = await readFile(files.lin, 'utf8');
    const firstHalf = await tmp.write('lin-half.csv', `${text.split('\n').slice(0, 401).join('\n')}\n`);
    const a = JSON.parse(
      (
        await run(
          'surrogate',
          '--model',
          LIN,
          '--data',
          files.lin,
          '--weights',
          files.weights,
          '--holdout',
          '0',
          '--max-depth',
          '3',
          '--format',
          'json',
        )
      ).stdout,
    );
    const b = JSON.parse(
      (
        await run(
          'surrogate',
          '--model',
          LIN,
          '--data',
          firstHalf,
          '--holdout',
          '0',
          '--max-depth',
          '3',
          '--format',
          'json',
        )
      ).stdout,
    );
    expect(all.nRows).toBe(800);
    // same splits; leaf values are weighted means over the same rows
    expect(a.nodes.map((n: { feature?: string; threshold?: number }) => [n.feature, n.threshold])).toEqual(
      b.nodes.map((n: { feature?: string; threshold?: number }) => [n.feature, n.threshold]),
    );
    expect(a.rules.map((r: { prediction: number }) => r.prediction)).toEqual(
      b.rules.map((r: { prediction: number }) => r.prediction),
    );
  });

  const log = () => ['--model', LOG, '--data', files.log];
  const bad: [string, () => string[], RegExp][] = [
    ['missing --model', () => ['--data', files.log], /missing --model/],
    ['missing --data', () => ['--model', LOG], /missing --data/],
    ['unknown flag', () => [...log(), '--depth', '3'], /unknown option '--depth'/],
    ['bad --max-depth', () => [...log(), '--max-depth', 'deep'], /--max-depth must be an integer >= 1; got "deep"/],
    ['bad --holdout', () => [...log(), '--holdout', '1'], /--holdout must be a fraction in \[0, 1\); got "1"/],
    ['bad --task', () => [...log(), '--task', 'ranking'], /--task must be regression or classification/],
    ['bad --format', () => [...log(), '--format', 'pdf'], /--format must be text, json or html/],
    [
      'regression of two outputs',
      () => [...log(), '--task', 'regression'],
      /--output must be one of \["probabilities\[0\]","probabilities\[1\]"\]/,
    ],
    [
      'classification of one output',
      () => ['--model', LIN, '--data', files.lin, '--task', 'classification'],
      /--task must be 'regression' for a model with one output/,
    ],
    ['narrow CSV', () => ['--model', LOG, '--data', files.narrow], /has 2 columns but the model takes 20 inputs/],
    [
      'short --weights',
      () => [...log(), '--weights', files.shortWeights],
      /one weight per --data row \(800\); got 1 column\(s\) and 2 row\(s\)/,
    ],
    ['negative --weights', () => [...log(), '--weights', files.negWeights], /--weights must be finite weights >= 0/],
  ];
  for (const [name, argv, msg] of bad)
    it(`${name}: exit 2, one line`, async () => {
      const r = await run('surrogate', ...argv());
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    });
});
