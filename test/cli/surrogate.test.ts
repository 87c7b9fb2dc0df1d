import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadCsv } from '../../src/data/csv.js';
import { surrogateToJSON, surrogateTree } from '../../src/estimators/surrogate-tree.js';
import { loadOnnx } from '../../src/models/onnx-model.js';
import { Rng } from '../../src/sampling/rng.js';
import { fixturePath } from '../helpers/fixtures.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
  });
  return { code, stdout, stderr };
}

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
    const j = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(out, 'utf8')));
    expect(j.target).toBe('probabilities[1]');
    expect(j.fidelity.holdout).toBeNull();
    for (const node of j.nodes) if (node.leaf) expect(node.samples).toBeGreaterThanOrEqual(50);
  });

  const log = () => ['--model', LOG, '--data', files.log];
  const bad: [string, () => string[], RegExp][] = [
    ['missing --model', () => ['--data', files.log], /missing --model/],
    ['missing --data', () => ['--model', LOG], /missing --data/],
    ['unknown flag', () => [...log(), '--depth', '3'], /unknown option '--depth'/],
    ['bad --max-depth', () => [...log(), '--max-depth', 'deep'], /--max-depth must be an integer >= 0; got "deep"/],
    ['bad --holdout', () => [...log(), '--holdout', '1'], /--holdout must be a fraction in \[0, 1\); got "1"/],
    ['bad --task', () => [...log(), '--task', 'ranking'], /--task must be regression or classification/],
    ['bad --format', () => [...log(), '--format', 'html'], /--format must be text or json/],
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
