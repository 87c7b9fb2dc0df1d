import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSequences } from '../../src/data/sequences.js';
import { run } from '../helpers/cli.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MODEL = join(ROOT, 'datasets/motifs/model.onnx');
const SINGLE = join(ROOT, 'datasets/motifs/single.fa');
const BG = join(ROOT, 'datasets/motifs/background.fa');

let tmp: TempDir;
let planted: number; // start of motif A in the first sequence (0-based)
beforeAll(async () => {
  tmp = await makeTempDir();
  const header = (await readFile(SINGLE, 'utf8')).split('\n')[0];
  planted = Number(/A=(\d+)/.exec(header)?.[1]) - 1;
});
afterAll(async () => {
  await tmp?.remove();
});

describe('whybox explain --sequences', () => {
  it('--format json: players are the positions in order, every output explained, top positions in the motif', async () => {
    const r = await run(
      'explain',
      '--model',
      MODEL,
      '--sequences',
      SINGLE,
      '--rows',
      '0',
      '--method',
      'partition',
      '--budget',
      '300',
      '--reference',
      'background',
      '--background',
      BG,
      '--seed',
      '3',
      '--threads',
      '1',
      '--format',
      'json',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.method).toBe('partition');
    expect(json.players).toEqual(Array.from({ length: 100 }, (_, i) => `${i + 1}`));
    expect(json.outputs).toEqual(['probabilities[0]', 'probabilities[1]']);
    expect(json.sequence).toMatchObject({
      alphabet: 'ACGT',
      layout: 'NLC',
      length: 100,
      players: 'position',
      reference: 'background',
    });
    expect(json.background.rows).toBe(20);
    const v = (json.rows[0].values as number[][]).map((x) => x[0]);
    const top = v
      .map((x, j) => [x, j])
      .sort((a, b) => b[0] - a[0])
      .slice(0, 3)
      .map((x) => x[1]);
    for (const j of top) expect(j >= planted && j < planted + 6).toBe(true);
    expect(json.rows[0].efficiencyGap).toBeLessThan(1e-6);
  });

  it('table: the top segment is the motif, marked under the sequence', async () => {
    const r = await run('explain', '--model', MODEL, '--sequences', SINGLE, '--rows', '0', '--method', 'ism');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`#1  ${planted + 1}-${planted + 6}\\s+GATAAG`));
    expect(r.stdout).toContain('++++++');
  });

  it('html: sequence logos (SVG letters) in the report', async () => {
    const out = join(tmp.path, 'r.html');
    const r = await run(
      'explain',
      '--model',
      MODEL,
      '--sequences',
      SINGLE,
      '--rows',
      '0',
      '--method',
      'ism',
      '--format',
      'html',
      '--out',
      out,
    );
    expect(r.code).toBe(0);
    const html = await readFile(out, 'utf8');
    expect(html).toContain('<svg');
    expect(html.match(/<text transform=/g)?.length ?? 0).toBeGreaterThan(50);
    expect(html).toContain('Hypothetical');
  });

  it('--output-names and --position-offset: named classes, positions from an anchor, a profile per class', async () => {
    const args = ['explain', '--model', MODEL, '--sequences', SINGLE, '--rows', '0-2', '--method', 'ism'];
    const text = await run(...args, '--output-names', 'none,motif', '--position-offset', '-50');
    expect(text.code).toBe(0);
    // the planted motif at 0-based position p is numbered p + 1 - 50, skipping 0
    const n = (i: number) => (i + 1 - 50 <= 0 ? i - 50 : i + 1 - 50);
    expect(text.stdout).toMatch(
      new RegExp(`— motif: prediction[^\\n]*\\n\\s+#1  ${n(planted)}-${n(planted + 5)}\\s+GATAAG`),
    );
    const html = await run(...args, '--output-names', 'none,motif', '--position-offset', '-50', '--format', 'html');
    expect(html.stdout).toContain('<svg data-plot="profile"');
    expect(html.stdout.match(/<svg data-plot="logo"/g)?.length).toBeGreaterThanOrEqual(6);
    const json = JSON.parse((await run(...args, '--output-names', 'none,motif', '--format', 'json')).stdout);
    expect(json.outputs).toEqual(['none', 'motif']);
    const bad = await run(...args, '--output-names', 'a,b,c');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--output-names must be 2 names, one per explained output/);
    const tabular = await run('explain', '--model', MODEL, '--data', SINGLE, '--position-offset', '3');
    expect(tabular.code).toBe(2);
    expect(tabular.stderr).toMatch(/--position-offset needs --sequences/);
  });

  it('windows and hierarchy players; a one-per-line file with labels', async () => {
    const lines = join(tmp.path, 'seqs.txt');
    const set = parseSequences(await readFile(SINGLE, 'utf8'));
    await writeFile(lines, `${set.sequences[0]}\t1\n${set.sequences[1]}\t0\n`);
    const w = await run(
      'explain',
      '--model',
      MODEL,
      '--sequences',
      lines,
      '--players',
      'window:10',
      '--method',
      'permutation',
      '--budget',
      '100',
      '--reference',
      'uniform',
      '--seed',
      '1',
      '--threads',
      '1',
      '--format',
      'json',
    );
    expect(w.code).toBe(0);
    const jw = JSON.parse(w.stdout);
    expect(jw.players.slice(0, 3)).toEqual(['1-10', '11-20', '21-30']);
    const h = await run(
      'explain',
      '--model',
      MODEL,
      '--sequences',
      lines,
      '--players',
      'hierarchy',
      '--budget',
      '200',
      '--reference',
      'zeros',
      '--seed',
      '1',
      '--threads',
      '1',
      '--format',
      'json',
    );
    expect(h.code).toBe(0);
    expect(JSON.parse(h.stdout).method).toBe('partition');
    const o = await run(
      'explain',
      '--model',
      MODEL,
      '--sequences',
      SINGLE,
      '--rows',
      '0',
      '--players',
      'hierarchy',
      '--orders',
      '8',
      '--budget',
      '120',
      '--seed',
      '1',
      '--threads',
      '1',
      '--shuffles',
      '4',
      '--format',
      'json',
    );
    expect(o.code).toBe(0);
    const vo = (JSON.parse(o.stdout).rows[0].values as number[][]).map((x) => x[0]);
    const best = vo.indexOf(Math.max(...vo));
    expect(best >= planted && best < planted + 6).toBe(true);
    const bad = await run('explain', '--model', MODEL, '--sequences', SINGLE, '--method', 'kernel', '--orders', '4');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/orders/);
  });

  it('bad input: exit 2 with one clear line', async () => {
    const bad = join(tmp.path, 'bad.fa');
    await writeFile(bad, `>x\n${'A'.repeat(50)}Z${'A'.repeat(49)}\n`);
    let r = await run('explain', '--model', MODEL, '--sequences', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/line 2: sequence "x", position 51: "Z" is not a letter of the ACGT alphabet/);
    const short = join(tmp.path, 'short.fa');
    await writeFile(short, '>x\nACGT\n');
    r = await run('explain', '--model', MODEL, '--sequences', short);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/length 4 but the model takes 100 positions/);
    const empty = join(tmp.path, 'empty.fa');
    await writeFile(empty, '\n');
    r = await run('explain', '--model', MODEL, '--sequences', empty);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is empty/);
    r = await run('explain', '--model', MODEL, '--sequences', SINGLE, '--players', 'window:0');
    expect(r.code).toBe(2);
    r = await run('explain', '--model', MODEL, '--sequences', SINGLE, '--method', 'lime');
    expect(r.code).toBe(2);
    r = await run('explain', '--model', MODEL, '--data', 'x.csv', '--players', 'position');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--players needs --sequences/);
    for (const e of [r.stderr]) expect(e.trim().split('\n')).toHaveLength(1);
  });
});

describe('whybox explain --sequences with a CSV table (the UCI splice data)', () => {
  const SPLICE =
    ['../../../shared/datasets/splice.csv', '../../../../shared/datasets/splice.csv']
      .map((p) => fileURLToPath(new URL(p, import.meta.url)))
      .find((p) => existsSync(p)) ?? 'absent';
  const CNN = join(ROOT, 'datasets/splice/model.onnx');
  it.skipIf(!existsSync(SPLICE))(
    'detects the columns (stderr), names the outputs EI,IE,N and numbers positions from the junction',
    async () => {
      const r = await run(
        'explain',
        '--model',
        CNN,
        '--sequences',
        SPLICE,
        '--rows',
        '0,1',
        '--method',
        'ism',
        '--output-names',
        'EI,IE,N',
        '--position-offset',
        '-30',
        '--link',
        'logit',
        '--format',
        'json',
      );
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/^whybox: .*splice\.csv: read as CSV with a header: sequence column "Sequence"/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      const json = JSON.parse(r.stdout);
      expect(json.outputs).toEqual(['EI', 'IE', 'N']);
      expect(json.sequence.ids).toEqual(['ATRINS-DONOR-521', 'ATRINS-DONOR-905']);
      expect(json.sequence.positionOffset).toBe(-30);
      const table = await run(
        'explain',
        '--model',
        CNN,
        '--sequences',
        SPLICE,
        '--rows',
        '0',
        '--method',
        'ism',
        '--output-names',
        'EI,IE,N',
        '--quiet',
      );
      expect(table.code).toBe(0);
      expect(table.stderr).toBe('');
      expect(table.stdout).toMatch(/ATRINS-DONOR-521 — EI: prediction/);
      const bad = await run(
        'explain',
        '--model',
        CNN,
        '--sequences',
        SPLICE,
        '--sequence-column',
        'dna',
        '--method',
        'ism',
      );
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/no column "dna".*"Class", "Donor", "Sequence"/);
      const names = await run(
        'explain',
        '--model',
        CNN,
        '--sequences',
        SPLICE,
        '--rows',
        '0',
        '--method',
        'ism',
        '--output-names',
        'EI,IE',
      );
      expect(names.code).toBe(2);
      expect(names.stderr).toMatch(/--output-names must be 3 names/);
    },
  );
  it('unequal lengths: refused with the --length-policy hint, padded with --length-policy pad', async () => {
    const short = await tmp.write('short.fa', `>s\n${'ACGT'.repeat(24)}\n`); // 96 of the model's 100
    const refused = await run('explain', '--model', MODEL, '--sequences', short, '--method', 'ism');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/length 96 but the model takes 100.*--length-policy/);
    const ok = await run(
      'explain',
      '--model',
      MODEL,
      '--sequences',
      short,
      '--method',
      'ism',
      '--length-policy',
      'pad',
      '--format',
      'json',
    );
    expect(ok.code).toBe(0);
    const json = JSON.parse(ok.stdout);
    expect(json.sequence.sequences[0]).toBe(`NN${'ACGT'.repeat(24)}NN`);
    expect(json.sequence.origins).toEqual([-2]);
    const bad = await run('explain', '--model', MODEL, '--sequences', short, '--length-policy', 'stretch');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--length-policy must be error, pad, crop or fit/);
  });
});
