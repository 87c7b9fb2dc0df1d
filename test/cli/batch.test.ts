import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../helpers/cli.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEMO = join(ROOT, 'datasets/credit-demo');
const MODEL = join(DEMO, 'model.onnx');
const BIN = join(ROOT, 'bin/whybox.js');
const SEQ_MODEL = join(ROOT, 'datasets/motifs/model.onnx');
const SEQS = join(ROOT, 'datasets/motifs/single.fa');

let tmp: TempDir;
let data: string; // 60 encoded applicants
let bg: string;
const common = () => [
  '--model',
  MODEL,
  '--data',
  data,
  '--background',
  bg,
  '--output',
  'probabilities[1]',
  '--budget',
  '150',
  '--seed',
  '7',
];

beforeAll(async () => {
  tmp = await makeTempDir('whybox-batch-cli-');
  const train = (await readFile(join(DEMO, 'train.csv'), 'utf8')).trim().split('\n');
  data = await tmp.write('rows.csv', `${train.slice(0, 61).join('\n')}\n`);
  bg = await tmp.write('bg.csv', `${[train[0], ...train.slice(500, 508)].join('\n')}\n`);
});
afterAll(() => tmp?.remove());

const lines = async (p: string) => (await readFile(p, 'utf8')).trim().split('\n');

/** The motif sequences (SEQS) with their ids. */
const records = async () => {
  const fasta = (await readFile(SEQS, 'utf8')).trim().split('\n');
  const out: { id: string; seq: string }[] = [];
  for (let i = 0; i + 1 < fasta.length; i += 2) out.push({ id: fasta[i].slice(1).split(/\s+/)[0], seq: fasta[i + 1] });
  return out;
};

/** The file names in a directory, sorted. */
const files = async (dir: string) => (await readdir(dir)).sort();
/** Two directories hold the same files, byte for byte. */
const same = async (a: string, b: string) => {
  expect(await files(a)).toEqual(await files(b));
  for (const f of await files(a))
    expect(Buffer.compare(await readFile(join(a, f)), await readFile(join(b, f))), f).toBe(0);
};

/** The sequence-mode flags shared by the batch-vs-explain comparisons (permutation, shuffled references). */
const seqArgs = (file: string) => [
  '--model',
  SEQ_MODEL,
  '--sequences',
  file,
  '--method',
  'permutation',
  '--budget',
  '200',
  '--seed',
  '4',
  '--threads',
  '1',
  '--reference',
  'shuffle',
  '--shuffles',
  '2',
];

describe('whybox batch', () => {
  let ref: string;
  it('writes one line per row equal to the rows of whybox explain --format json, and the metadata', async () => {
    const out = join(tmp.path, 'ref.jsonl');
    const r = await run('batch', ...common(), '--out', out, '--threads', '1', '--chunk-rows', '16', '--progress');
    expect(r.stderr).toMatch(/60 rows explained/);
    expect(r.stderr).toMatch(/batch 60\/60 rows \(100%\), [\d.]+ rows\/s, ETA 0s/);
    expect(r.code).toBe(0);
    ref = await readFile(out, 'utf8');
    const e = await run('explain', ...common(), '--threads', '1', '--format', 'json');
    expect(e.code).toBe(0);
    const json = JSON.parse(e.stdout);
    expect(ref.trim().split('\n')).toEqual(json.rows.map((row: unknown) => JSON.stringify(row)));
    const meta = JSON.parse(await readFile(`${out}.meta.json`, 'utf8'));
    expect(meta).toMatchObject({ status: 'complete', rows: 60, inputRows: 60, seed: 7 });
    expect(meta.explanation.players).toEqual(json.players);
    expect(meta.explanation.baseValues).toEqual(json.baseValues);
  }, 60_000);

  it('is byte-identical for chunk sizes 1 and 256 and for 2 threads', async () => {
    for (const extra of [
      ['--chunk-rows', '1', '--threads', '1'],
      ['--chunk-rows', '256', '--threads', '2'],
    ]) {
      const out = join(tmp.path, `c${extra[1]}.jsonl`);
      const r = await run('batch', ...common(), '--out', out, ...extra);
      expect(r.code, r.stderr).toBe(0);
      expect(await readFile(out, 'utf8')).toBe(ref);
    }
  }, 90_000);

  it('--resume after a cut in the middle of a line: keeps the complete lines, redoes only the rest', async () => {
    const out = join(tmp.path, 'cut.jsonl');
    await writeFile(out, ref);
    await writeFile(`${out}.meta.json`, await readFile(join(tmp.path, 'ref.jsonl.meta.json')));
    const keep = ref.split('\n').slice(0, 23).join('\n').length + 1;
    await truncate(out, keep + 40); // 23 complete lines and 40 bytes of the 24th
    const refused = await run('batch', ...common(), '--out', out, '--threads', '1');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--resume/);
    const r = await run('batch', ...common(), '--out', out, '--threads', '1', '--resume', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ rows: 60, rowsThisRun: 37, resumedFrom: 23 });
    expect(await readFile(out, 'utf8')).toBe(ref);
    // other flags than the interrupted run's are refused
    await truncate(out, keep);
    const other = await run('batch', ...common(), '--budget', '100', '--out', out, '--resume');
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/same flags/);
  }, 60_000);

  it('a run killed with SIGKILL mid-way resumes to the same bytes', async () => {
    if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
    const out = join(tmp.path, 'killed.jsonl');
    // a larger budget: the run must still be going when the kill comes
    const slow = [...common(), '--budget', '2000'];
    const slowOut = join(tmp.path, 'slow.jsonl');
    expect((await run('batch', ...slow, '--out', slowOut, '--threads', '1')).code).toBe(0);
    const want = await readFile(slowOut, 'utf8');
    const child = spawn(
      process.execPath,
      [BIN, 'batch', ...slow, '--out', out, '--threads', '1', '--chunk-rows', '4'],
      {
        stdio: 'ignore',
      },
    );
    // wait for a few chunks on disk, then kill
    for (let i = 0; i < 400; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const size = await stat(out).then(
        (s) => s.size,
        () => 0,
      );
      if (size > 0) break;
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const partial = await readFile(out, 'utf8');
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(want.length);
    expect(want.startsWith(partial.slice(0, partial.lastIndexOf('\n') + 1))).toBe(true);
    const r = await run('batch', ...slow, '--out', out, '--threads', '1', '--resume');
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).toBe(want);
  }, 90_000);

  it('--shard I/N runs merge into the same file; a missing shard is refused', async () => {
    const parts = [0, 1, 2].map((k) => join(tmp.path, `part${k}.jsonl`));
    for (const [k, p] of parts.entries()) {
      const r = await run('batch', ...common(), '--out', p, '--threads', '1', '--chunk-rows', '8', '--shard', `${k}/3`);
      expect(r.code, r.stderr).toBe(0);
    }
    expect((await lines(parts[1])).map((l) => JSON.parse(l).index)).toEqual([
      8, 9, 10, 11, 12, 13, 14, 15, 32, 33, 34, 35, 36, 37, 38, 39, 56, 57, 58, 59,
    ]);
    const merged = join(tmp.path, 'merged.jsonl');
    const m = await run('batch', 'merge', '--out', merged, ...parts);
    expect(m.code, m.stderr).toBe(0);
    expect(await readFile(merged, 'utf8')).toBe(ref);
    const bad = await run('batch', 'merge', '--out', join(tmp.path, 'bad.jsonl'), parts[0], parts[2]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/each of the 3 shards/);
  }, 90_000);

  it('schema mode: raw records in, one decision line per applicant with its id and reasons', async () => {
    const out = join(tmp.path, 'credit.jsonl');
    const raw = join(DEMO, 'applicants-raw.csv');
    const args = [
      '--schema',
      join(DEMO, 'schema.json'),
      '--reasons',
      join(DEMO, 'reasons.json'),
      '--model',
      MODEL,
      '--data',
      raw,
      '--background',
      join(DEMO, 'train.csv'),
      '--summarize',
      '10',
      '--budget',
      '100',
      '--seed',
      '2',
      '--threads',
      '1',
    ];
    const r = await run('batch', ...args, '--out', out, '--chunk-rows', '2');
    expect(r.code, r.stderr).toBe(0);
    const e = await run('explain', ...args, '--format', 'json');
    expect(e.code, e.stderr).toBe(0);
    const rows = JSON.parse(e.stdout).rows;
    const got = (await lines(out)).map((l) => JSON.parse(l));
    const ids = (await readFile(raw, 'utf8'))
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[0]);
    expect(got.map((g) => g.id)).toEqual(ids);
    expect(got.map(({ id: _id, ...rest }) => rest)).toEqual(rows);
    expect(got.some((g) => g.decision === 'adverse' && g.reasons.length > 0)).toBe(true);
  }, 60_000);

  it('sequence mode: lines equal the rows of whybox explain --sequences --format json', async () => {
    const out = join(tmp.path, 'seq.jsonl');
    const args = seqArgs(SEQS);
    const r = await run('batch', ...args, '--out', out, '--chunk-rows', '3');
    expect(r.code, r.stderr).toBe(0);
    const e = await run('explain', ...args, '--format', 'json');
    expect(e.code, e.stderr).toBe(0);
    const json = JSON.parse(e.stdout);
    const got = (await lines(out)).map((l) => JSON.parse(l));
    expect(got.map((g) => g.id)).toEqual(json.sequence.ids);
    expect(got.map((g) => g.sequence)).toEqual(json.sequence.sequences);
    expect(got.map(({ id: _i, sequence: _s, label: _l, ...rest }) => rest)).toEqual(json.rows);
  }, 90_000);

  it('sequence mode reads CSV tables too (--sequence-column, --id-column): the lines of the FASTA run', async () => {
    const fasta = (await readFile(SEQS, 'utf8')).trim().split('\n');
    const records: [string, string][] = [];
    for (let i = 0; i < fasta.length; i++)
      if (fasta[i].startsWith('>')) records.push([fasta[i].slice(1).trim().split(/\s+/)[0], fasta[i + 1].trim()]);
    // columns in an order auto-detection would not guess: the flags name them
    const table = join(tmp.path, 'seqs.csv');
    await writeFile(table, `name,note,dna\n${records.map(([id, q], k) => `${id},n${k},${q}`).join('\n')}\n`);
    const args = ['--model', SEQ_MODEL, '--method', 'kernel', '--budget', '200', '--seed', '4', '--threads', '1'];
    const a = join(tmp.path, 'fa.jsonl');
    const b = join(tmp.path, 'csv.jsonl');
    const r1 = await run('batch', ...args, '--sequences', SEQS, '--out', a);
    expect(r1.code, r1.stderr).toBe(0);
    const r2 = await run(
      'batch',
      ...args,
      '--sequences',
      table,
      '--sequence-column',
      'dna',
      '--id-column',
      'name',
      '--out',
      b,
    );
    expect(r2.code, r2.stderr).toBe(0);
    const fromFasta = (await lines(a)).map((l) => JSON.parse(l));
    const fromCsv = (await lines(b)).map((l) => JSON.parse(l));
    expect(fromCsv.map((g) => g.id)).toEqual(records.map(([id]) => id));
    expect(fromCsv).toEqual(fromFasta);
    // a column flag without --sequences is refused
    const bad = await run('batch', ...common(), '--out', join(tmp.path, 'y.jsonl'), '--sequence-column', 'dna');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--sequence-column needs --sequences FILE/);
  }, 90_000);

  describe("sequences of other lengths than the model's 100 (--length-policy, --align)", () => {
    // the first 6 motif sequences cut (pad) or lengthened with the next one's letters (crop)
    const write = async (name: string, lengths: number[]) => {
      const recs = await records();
      const seqs = lengths.map((n, k) => (recs[k].seq + recs[k + 1].seq).slice(0, n));
      const path = await tmp.write(name, lengths.map((_, k) => `>${recs[k].id}\n${seqs[k]}\n`).join(''));
      return { path, seqs };
    };
    const base = seqArgs;
    let padded: { path: string; seqs: string[] };
    let padRef: string;

    for (const [policy, lengths, align] of [
      ['pad', [94, 100, 100, 97, 91, 99], undefined],
      ['crop', [106, 100, 100, 103, 111, 101], 'end'],
    ] as const)
      it(`--length-policy ${policy}${align ? ` --align ${align}` : ''}: each line is the row of whybox explain with that policy; sharded runs merge to the same bytes`, async () => {
        const input = await write(`${policy}.fa`, [...lengths]);
        if (policy === 'pad') padded = input;
        const flags = [...base(input.path), '--length-policy', policy, ...(align ? ['--align', align] : [])];
        const out = join(tmp.path, `${policy}.jsonl`);
        // chunks of 2: rows 1 and 2 (the model's length) make a chunk where nothing is padded or cropped
        const r = await run('batch', ...flags, '--out', out, '--chunk-rows', '2');
        expect(r.code, r.stderr).toBe(0);
        const text = await readFile(out, 'utf8');
        if (policy === 'pad') padRef = text;
        const got = (await lines(out)).map((l) => JSON.parse(l));
        const e = await run('explain', ...flags, '--format', 'json');
        expect(e.code, e.stderr).toBe(0);
        const json = JSON.parse(e.stdout);
        expect(got.map(({ id: _i, sequence: _s, origin: _o, label: _l, ...rest }) => rest)).toEqual(json.rows);
        expect(got.map((g) => g.values)).toEqual(json.rows.map((row: { values: unknown }) => row.values));
        expect(got.map((g) => g.prediction)).toEqual(json.rows.map((row: { prediction: unknown }) => row.prediction));
        expect(got.map((g) => g.sequence)).toEqual(json.sequence.sequences);
        expect(got.map((g) => g.origin)).toEqual(json.sequence.origins);
        // the windows, built here from the input: N padding split with the odd N on the right; cropping at the end
        const want = input.seqs.map((q) => {
          if (policy === 'pad') {
            const left = Math.floor((100 - q.length) / 2);
            return { sequence: 'N'.repeat(left) + q + 'N'.repeat(100 - q.length - left), origin: 0 - left };
          }
          return { sequence: q.slice(q.length - 100), origin: q.length - 100 };
        });
        expect(got.map((g) => ({ sequence: g.sequence, origin: g.origin }))).toEqual(want);
        const meta = JSON.parse(await readFile(`${out}.meta.json`, 'utf8'));
        expect(meta.explanation.sequence.origins).toBeUndefined();
        // --shard 0/2 and 1/2, merged: the same bytes
        const parts = [0, 1].map((k) => join(tmp.path, `${policy}-part${k}.jsonl`));
        for (const [k, p] of parts.entries()) {
          const s = await run('batch', ...flags, '--out', p, '--chunk-rows', '2', '--shard', `${k}/2`);
          expect(s.code, s.stderr).toBe(0);
        }
        const merged = join(tmp.path, `${policy}-merged.jsonl`);
        expect((await run('batch', 'merge', '--out', merged, ...parts)).code).toBe(0);
        expect(await readFile(merged, 'utf8')).toBe(text);
      }, 120_000);

    it('without a policy, unequal lengths fail with the --length-policy hint; crop refuses a shorter one', async () => {
      const none = await run('batch', ...base(padded.path), '--out', join(tmp.path, 'nopolicy.jsonl'));
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(
        /pad\.fa, line [12]: sequence "single1" has length 94 but the model takes 100.*--length-policy/,
      );
      expect(none.stderr.trim().split('\n')).toHaveLength(1);
      const crop = await run(
        'batch',
        ...base(padded.path),
        '--length-policy',
        'crop',
        '--out',
        join(tmp.path, 'crop-short.jsonl'),
      );
      expect(crop.code).toBe(2);
      expect(crop.stderr).toMatch(/length 94 but the model takes 100: length policy 'crop' does not pad; use 'fit'/);
    }, 60_000);

    it('bad values and misplaced flags are refused with the typed error (as whybox explain)', async () => {
      const out = join(tmp.path, 'bad-policy.jsonl');
      const cases: [string[], RegExp][] = [
        [['--length-policy', 'stretch'], /--length-policy must be error, pad, crop or fit; got "stretch"/],
        [['--length-policy', 'pad', '--align', 'middle'], /--align must be center, start or end; got "middle"/],
        [['--align', 'start'], /--align must be unset without --length-policy pad, crop or fit/],
        [
          ['--length-policy', 'error', '--align', 'end'],
          /--align must be unset without --length-policy pad, crop or fit/,
        ],
      ];
      for (const [extra, re] of cases)
        for (const cmd of ['batch', 'explain']) {
          const r = await run(cmd, ...base(padded.path), ...extra, ...(cmd === 'batch' ? ['--out', out] : []));
          expect(r.code, `${cmd} ${extra.join(' ')}`).toBe(2);
          expect(r.stderr).toMatch(re);
          expect(r.stderr.trim().split('\n')).toHaveLength(1);
        }
      expect(existsSync(out)).toBe(false);
      const tabular = await run('batch', ...common(), '--out', out, '--length-policy', 'pad');
      expect(tabular.code).toBe(2);
      expect(tabular.stderr).toMatch(/--length-policy needs --sequences FILE/);
    }, 60_000);

    it('--resume with another policy or alignment is refused; with the same one (defaults spelled out or not) it completes the bytes', async () => {
      const out = join(tmp.path, 'pad-resume.jsonl');
      await writeFile(out, padRef);
      await writeFile(`${out}.meta.json`, await readFile(join(tmp.path, 'pad.jsonl.meta.json')));
      await truncate(out, padRef.split('\n').slice(0, 3).join('\n').length + 1);
      for (const other of [['--length-policy', 'fit'], ['--length-policy', 'pad', '--align', 'start'], []]) {
        const r = await run('batch', ...base(padded.path), ...other, '--out', out, '--resume');
        expect(r.code, other.join(' ')).toBe(2);
        expect(r.stderr).toMatch(/--resume must be the flags and files of the interrupted run.*same flags/);
      }
      // the same run: --align center is the default
      const r = await run(
        'batch',
        ...base(padded.path),
        '--length-policy',
        'pad',
        '--align',
        'center',
        '--out',
        out,
        '--resume',
        '--json',
      );
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ rows: 6, rowsThisRun: 3, resumedFrom: 3 });
      expect(await readFile(out, 'utf8')).toBe(padRef);
    }, 60_000);

    it('whybox batch --help documents them', async () => {
      const r = await run('batch', '--help');
      expect(r.stdout).toMatch(/--length-policy P +sequences whose length differs/);
      expect(r.stdout).toMatch(/--align center \(default\)/);
    });
  });

  it('refuses bad usage with one line and exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['batch', ...common()], /missing --out/],
      [
        ['batch', ...common(), '--out', join(tmp.path, 'x.jsonl'), '--format', 'json'],
        /--format must be unset with whybox batch/,
      ],
      [['batch', ...common(), '--out', join(tmp.path, 'x.jsonl'), '--shard', '3/3'], /--shard must be I\/N/],
      [['batch', ...common(), '--out', join(tmp.path, 'x.jsonl'), '--shard-rows', '8'], /--shard-rows needs --queue/],
      [['batch', ...common(), '--out', join(tmp.path, 'x.jsonl'), '--num-samples', '10'], /--num-samples/],
      [['batch', ...common(), '--out', join(tmp.path, 'x.jsonl'), '--queue', 'http://x'], /must start with redis:\/\//],
    ];
    for (const [argv, re] of cases) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  }, 60_000);
});

describe('whybox batch --npz DIR / whybox batch npz (TF-MoDISco arrays from the JSONL)', () => {
  const ismArgs = ['--model', SEQ_MODEL, '--sequences', SEQS, '--method', 'ism'];
  const winArgs = [
    '--model',
    SEQ_MODEL,
    '--sequences',
    SEQS,
    '--players',
    'window:10:5',
    '--budget',
    '200',
    '--seed',
    '4',
    '--threads',
    '1',
  ];

  it('writes the bytes of whybox explain --format npz, for ISM (per letter) and a Shapley method', async () => {
    for (const [k, args] of [ismArgs, winArgs].entries()) {
      const dir = join(tmp.path, `npz-b${k}`);
      const r = await run(
        'batch',
        ...args,
        '--out',
        join(tmp.path, `npz${k}.jsonl`),
        '--npz',
        dir,
        '--chunk-rows',
        '7',
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(
        /wrote .*ohe\.npz, .*attr\.probabilities_0_\.npz, .*attr\.probabilities_1_\.npz \(40 sequences/,
      );
      if (k === 1) expect(r.stderr).toMatch(/hypothetical arrays repeat the actual ones/);
      const ref = join(tmp.path, `npz-e${k}`);
      const e = await run('explain', ...args, '--format', 'npz', '--out', ref, '--quiet');
      expect(e.code, e.stderr).toBe(0);
      await same(dir, ref);
    }
  }, 90_000);

  it('exports merged shards (batch npz) with the bytes of one run; --json lists the files', async () => {
    const parts: string[] = [];
    for (const s of ['0/2', '1/2']) {
      const p = join(tmp.path, `npz-shard${s[0]}.jsonl`);
      const r = await run('batch', ...winArgs, '--out', p, '--shard', s, '--chunk-rows', '6', '--quiet');
      expect(r.code, r.stderr).toBe(0);
      parts.push(p);
    }
    const all = join(tmp.path, 'npz-all.jsonl');
    expect((await run('batch', 'merge', '--out', all, ...parts)).code).toBe(0);
    const dir = join(tmp.path, 'npz-merged');
    const r = await run('batch', 'npz', '--out', dir, all, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).files.map((f: string) => f.split('/').pop())).toEqual([
      'ohe.npz',
      'attr.probabilities_0_.npz',
      'attr.probabilities_1_.npz',
    ]);
    await same(dir, join(tmp.path, 'npz-b1'));
    // --compress deflates: smaller files, the same arrays
    const z = join(tmp.path, 'npz-z');
    expect((await run('batch', 'npz', '--out', z, all, '--compress', '--quiet')).code).toBe(0);
    const [plain, packed] = await Promise.all([readFile(join(dir, 'ohe.npz')), readFile(join(z, 'ohe.npz'))]);
    expect(packed.length).toBeLessThan(plain.length / 4);
    const { unzipSync } = await import('fflate');
    expect(unzipSync(new Uint8Array(packed))['arr_0.npy']).toEqual(unzipSync(new Uint8Array(plain))['arr_0.npy']);
  }, 90_000);

  it('refuses what it cannot export, with what to do, and leaves no temporary files', async () => {
    const shard = await run(
      'batch',
      ...winArgs,
      '--out',
      join(tmp.path, 'x1.jsonl'),
      '--shard',
      '0/2',
      '--npz',
      tmp.path,
    );
    expect(shard.code).toBe(2);
    expect(shard.stderr).toMatch(/--npz.*merge, then run whybox batch npz/);
    const tab = await run('batch', ...common(), '--out', join(tmp.path, 'x2.jsonl'), '--npz', tmp.path);
    expect(tab.code).toBe(2);
    expect(tab.stderr).toMatch(/--npz.*unset without --sequences/);
    expect((await run('batch', 'npz', join(tmp.path, 'npz1.jsonl'))).stderr).toMatch(/missing --out DIR/);
    // a cut file: the metadata records 40 rows
    const cut = join(tmp.path, 'cut.jsonl');
    const text = await readFile(join(tmp.path, 'npz1.jsonl'), 'utf8');
    await writeFile(cut, text.split('\n').slice(0, 39).join('\n'));
    await writeFile(`${cut}.meta.json`, await readFile(join(tmp.path, 'npz1.jsonl.meta.json')));
    const dir = join(tmp.path, 'npz-bad');
    const c = await run('batch', 'npz', '--out', dir, cut);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/holds 39 lines but its metadata records 40 rows/);
    expect(await files(dir)).toEqual([]);
    // an unfinished run
    const meta = JSON.parse(await readFile(`${cut}.meta.json`, 'utf8'));
    await writeFile(`${cut}.meta.json`, JSON.stringify({ ...meta, status: 'running' }));
    expect((await run('batch', 'npz', '--out', dir, cut)).stderr).toMatch(
      /unfinished run: finish it with whybox batch --resume/,
    );
    // a tabular run
    const t = join(tmp.path, 'tab.jsonl');
    expect((await run('batch', ...common(), '--out', t, '--rows', '0-1', '--quiet')).code).toBe(0);
    expect((await run('batch', 'npz', '--out', dir, t)).stderr).toMatch(/output of a tabular batch/);
  }, 90_000);
});

describe('whybox batch --bedgraph DIR / whybox batch bedgraph (tracks from the JSONL)', () => {
  let fasta: string;
  beforeAll(async () => {
    // unsorted chromosomes, both strands, ids without coordinates, padded (94, 97 bp) and
    // cropped (106 bp) sequences, an interval shorter than its sequence, overlapping intervals
    const recs = await records();
    const seq = (k: number, n: number) => (recs[k].seq + recs[k + 1].seq).slice(0, n);
    const named: [string, string][] = [
      ['chr2:1000-1100', seq(0, 100)],
      ['chr10:500-600(-)', seq(1, 100)],
      ['plain1', seq(2, 100)],
      ['chr1:200-294(-)', seq(3, 94)],
      ['chr2:1050-1150', seq(4, 100)],
      ['chrX:0-106:+', seq(5, 106)],
      ['chr3:10-60', seq(6, 100)],
      ['chr2:1040-1137(-)', seq(7, 97)],
      ['other', seq(8, 100)],
      ['chr1:150-250', seq(9, 100)],
    ];
    fasta = await tmp.write('coords.fa', named.map(([id, s]) => `>${id}\n${s}\n`).join(''));
  });
  const ism = () => ['--model', SEQ_MODEL, '--sequences', fasta, '--method', 'ism', '--length-policy', 'fit'];
  const win = () => [...seqArgs(fasta), '--players', 'window:10:5', '--length-policy', 'fit'];
  const tracks = ['probabilities_0_.bedGraph', 'probabilities_1_.bedGraph'];

  it('writes the bytes of whybox explain --format bedgraph, for ISM and a Shapley method (2 outputs)', async () => {
    for (const [k, args] of [ism(), win()].entries()) {
      const dir = join(tmp.path, `bg-b${k}`);
      const out = join(tmp.path, `bg${k}.jsonl`);
      const r = await run('batch', ...args, '--out', out, '--bedgraph', dir, '--chunk-rows', '3');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(
        /warning: 2 sequence id\(s\) carry no chr:start-end coordinates and are not in the tracks \(first: "plain1"\)/,
      );
      expect(r.stderr).toMatch(
        /wrote .*probabilities_0_\.bedGraph, .*probabilities_1_\.bedGraph \(10 sequences read, 8 placed, 741 bases/,
      );
      const ref = join(tmp.path, `bg-e${k}`);
      const e = await run('explain', ...args, '--format', 'bedgraph', '--out', ref, '--quiet');
      expect(e.code, e.stderr).toBe(0);
      expect(await files(ref)).toEqual(tracks);
      await same(dir, ref);
    }
    // what the comparison covers: chromosomes sorted (not in input order), and bases where
    // overlapping intervals give lines of different values (their order is the rows' order)
    const body = (await lines(join(tmp.path, 'bg-e1', tracks[1]))).slice(1).map((l) => l.split('\t'));
    expect([...new Set(body.map((l) => l[0]))]).toEqual(['chr1', 'chr10', 'chr2', 'chr3', 'chrX']);
    const byBase = new Map<string, string[]>();
    for (const l of body) byBase.set(`${l[0]}:${l[1]}`, [...(byBase.get(`${l[0]}:${l[1]}`) ?? []), l[3]]);
    expect(byBase.get('chr2:1060')).toHaveLength(3);
    expect([...byBase.values()].filter((v) => new Set(v).size > 1).length).toBeGreaterThan(10);
  }, 120_000);

  it('exports merged shards (batch bedgraph) with the bytes of one run; --output K|NAME writes one track; --json', async () => {
    const parts: string[] = [];
    for (const s of ['0/2', '1/2']) {
      const p = join(tmp.path, `bg-shard${s[0]}.jsonl`);
      const r = await run('batch', ...win(), '--out', p, '--shard', s, '--chunk-rows', '3', '--quiet');
      expect(r.code, r.stderr).toBe(0);
      parts.push(p);
    }
    const all = join(tmp.path, 'bg-all.jsonl');
    expect((await run('batch', 'merge', '--out', all, ...parts)).code).toBe(0);
    const dir = join(tmp.path, 'bg-merged');
    const r = await run('batch', 'bedgraph', '--out', dir, all, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      out: dir,
      files: tracks.map((t) => join(dir, t)),
      rows: 10,
      skipped: 2,
      lines: 741,
    });
    expect(r.stderr).toMatch(/warning: 2 sequence id/);
    await same(dir, join(tmp.path, 'bg-e1'));
    // on the run itself with --json: the summary lists the tracks
    const direct = join(tmp.path, 'bg-direct');
    const j = await run('batch', ...ism(), '--out', join(tmp.path, 'bg-j.jsonl'), '--bedgraph', direct, '--json');
    expect(j.code, j.stderr).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ rows: 10, bedgraph: tracks.map((t) => join(direct, t)) });
    await same(direct, join(tmp.path, 'bg-e0'));
    for (const [output, track] of [
      ['1', tracks[1]],
      ['probabilities[0]', tracks[0]],
    ]) {
      const one = join(tmp.path, `bg-one-${track}`);
      const o = await run('batch', 'bedgraph', '--out', one, all, '--output', output, '--quiet');
      expect(o.code, o.stderr).toBe(0);
      expect(o.stderr).toBe('');
      expect(await files(one)).toEqual([track]);
      expect(await readFile(join(one, track), 'utf8')).toBe(await readFile(join(tmp.path, 'bg-e1', track), 'utf8'));
    }
  }, 120_000);

  it('refuses what it cannot export, saying what to do', async () => {
    const shard = await run(
      'batch',
      ...win(),
      '--out',
      join(tmp.path, 'bx1.jsonl'),
      '--shard',
      '0/2',
      '--bedgraph',
      tmp.path,
    );
    expect(shard.code).toBe(2);
    expect(shard.stderr).toMatch(/--bedgraph.*unset with --shard.*merge, then run whybox batch bedgraph/);
    const tab = await run('batch', ...common(), '--out', join(tmp.path, 'bx2.jsonl'), '--bedgraph', tmp.path);
    expect(tab.code).toBe(2);
    expect(tab.stderr).toMatch(/--bedgraph.*unset without --sequences.*bedGraph tracks are for sequence runs/);
    const jsonl = join(tmp.path, 'bg0.jsonl');
    const dir = join(tmp.path, 'bg-bad');
    const expect2 = async (args: string[], re: RegExp) => {
      const x = await run('batch', 'bedgraph', ...args);
      expect(x.code, args.join(' ')).toBe(2);
      expect(x.stderr).toMatch(re);
      expect(x.stderr.trim().split('\n')).toHaveLength(1);
    };
    await expect2([jsonl], /missing --out DIR \(see whybox batch bedgraph --help\)/);
    await expect2(['--out', dir, jsonl, jsonl], /give one batch output .*got 2/);
    await expect2(['--out', dir, jsonl, '--compress'], /--compress.*see whybox batch bedgraph --help/);
    await expect2(
      ['--out', dir, jsonl, '--output', '2'],
      /--output must be an output of \["probabilities\[0\]","probabilities\[1\]"\] or its index; got 2/,
    );
    await expect2(['--out', dir, jsonl, '--output', 'probabilities'], /--output must be an output of/);
    // a line cut or edited, a file cut at a line's end, an unfinished run
    const text = (await lines(jsonl)).map((l, k) => (k === 3 ? l.slice(0, -20) : l));
    const bad = await tmp.write('bg-garbled.jsonl', `${text.join('\n')}\n`);
    await writeFile(`${bad}.meta.json`, await readFile(`${jsonl}.meta.json`));
    await expect2(['--out', dir, bad], /bg-garbled\.jsonl, line 4: is not a JSON line/);
    const cut = await tmp.write('bg-cut.jsonl', `${(await lines(jsonl)).slice(0, 9).join('\n')}\n`);
    const meta = JSON.parse(await readFile(`${jsonl}.meta.json`, 'utf8'));
    await writeFile(`${cut}.meta.json`, JSON.stringify(meta));
    await expect2(['--out', dir, cut], /holds 9 lines but its metadata records 10 rows: is it cut\?/);
    await writeFile(`${cut}.meta.json`, JSON.stringify({ ...meta, status: 'running' }));
    await expect2(['--out', dir, cut], /unfinished run: finish it with whybox batch --resume/);
    expect(await files(dir)).toEqual([]);
    // a tabular run; a sequence run without coordinates
    const t = join(tmp.path, 'bg-tab.jsonl');
    expect((await run('batch', ...common(), '--out', t, '--rows', '0-1', '--quiet')).code).toBe(0);
    await expect2(['--out', dir, t], /output of a tabular batch: bedGraph tracks are for sequence runs/);
    const plain = join(tmp.path, 'bg-plain.jsonl');
    const p = await run(
      'batch',
      '--model',
      SEQ_MODEL,
      '--sequences',
      SEQS,
      '--method',
      'ism',
      '--rows',
      '0-2',
      '--out',
      plain,
      '--quiet',
    );
    expect(p.code, p.stderr).toBe(0);
    await expect2(
      ['--out', dir, plain],
      /need sequence names with coordinates.*none of the 3 sequence ids has them \(first: "single1"\)/,
    );
    expect(await files(dir)).toEqual([]);
    const help = await run('batch', 'bedgraph', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: whybox batch bedgraph --out DIR SEQS\.jsonl/);
  }, 120_000);
});
