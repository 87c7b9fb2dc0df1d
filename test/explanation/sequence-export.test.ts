import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { parse as parseNpy } from 'npyjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MotifSequence } from '../../scripts/lib/motifs.js';
import { generateMotifSequences, MOTIF_A, scannerModel } from '../../scripts/lib/motifs.js';
import { explainSequences } from '../../src/explain-sequences.js';
import { npyBytes, npzBytes } from '../../src/explanation/npz.js';
import { positionValues } from '../../src/explanation/plots/sequence-plots.js';
import { findSeqlets, seqletsFromTracks, seqletsToTsv, shuffledCopies } from '../../src/explanation/seqlets.js';
import type { SequenceExplanation } from '../../src/explanation/sequence-explanation.js';
import {
  bedGraph,
  ModiscoWriter,
  modiscoArrays,
  modiscoFiles,
  parseInterval,
  writeModiscoFiles,
} from '../../src/explanation/sequence-export.js';
import type { OnnxModel } from '../../src/models/onnx-model.js';
import { loadOnnx } from '../../src/models/onnx-model.js';
import { Rng } from '../../src/sampling/rng.js';
import { run } from '../helpers/cli.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

const L = 60;
let model: OnnxModel;
let seqs: MotifSequence[];
let ism: SequenceExplanation;
let tmp: TempDir;
const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
if (!hasNumpy) console.warn('skipping the numpy read-back checks: python3 with numpy is not installed');

beforeAll(async () => {
  tmp = await makeTempDir();
  model = await loadOnnx(scannerModel(L));
  seqs = generateMotifSequences({ length: L, count: 12, seed: 5, kind: 'single' }).filter((s) => s.single);
  ism = await explainSequences(
    model,
    seqs.map((s) => s.sequence),
    { method: 'ism' },
  );
});
afterAll(async () => {
  await model?.close();
  await tmp?.remove();
});

function toArrayBuffer(u: Uint8Array): ArrayBuffer {
  return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
}

describe('NPY / NPZ', () => {
  it('npyjs reads back the shape, dtype and values', () => {
    const data = Float32Array.from({ length: 2 * 3 * 5 }, (_, i) => i * 0.5 - 3);
    const npy = npyBytes({ data, shape: [2, 3, 5] });
    expect((10 + (npy[8] | (npy[9] << 8))) % 64).toBe(0); // header aligned as numpy writes it
    const back = parseNpy(toArrayBuffer(npy));
    expect(back.shape).toEqual([2, 3, 5]);
    expect(back.dtype).toBe('f4');
    expect(back.fortranOrder).toBe(false);
    expect(Array.from(back.data as Float32Array)).toEqual(Array.from(data));
    const f8 = parseNpy(toArrayBuffer(npyBytes({ data: Float64Array.of(1.5, -2), shape: [2] })));
    expect(f8).toMatchObject({ shape: [2], dtype: 'f8' });
    expect(() => npyBytes({ data, shape: [2, 3] })).toThrow(/shape \(2, 3\) holds 6 values; got 30/);
  });
  it('an .npz is a zip of NAME.npy members, stored or deflated; same arrays give the same bytes', () => {
    const a = { data: Float32Array.of(1, 2, 3, 4), shape: [2, 2] };
    for (const compress of [false, true]) {
      const z = npzBytes({ arr_0: a, other: a }, { compress });
      const files = unzipSync(z);
      expect(Object.keys(files).sort()).toEqual(['arr_0.npy', 'other.npy']);
      expect(Array.from(parseNpy(toArrayBuffer(files['arr_0.npy'])).data as Float32Array)).toEqual([1, 2, 3, 4]);
      expect(npzBytes({ arr_0: a, other: a }, { compress })).toEqual(z);
    }
  });
});

describe('TF-MoDISco arrays (ohe.npz, attr.npz)', () => {
  it('ohe is the one-hot of the letters in (N, 4, L); actual = hypothetical × ohe; Σ_letters actual = the ISM track', () => {
    const m = modiscoArrays(ism, 0);
    const N = seqs.length;
    expect(m.shape).toEqual([N, 4, L]);
    expect(m.perLetter).toBe(true);
    for (let r = 0; r < N; r++) {
      const track = positionValues(ism, r, 0);
      for (let p = 0; p < L; p++) {
        let sum = 0;
        for (let c = 0; c < 4; c++) {
          const at = (r * 4 + c) * L + p;
          expect(m.ohe[at]).toBe(seqs[r].sequence[p] === 'ACGT'[c] ? 1 : 0);
          expect(m.actual[at]).toBeCloseTo(m.hypothetical[at] * m.ohe[at], 6);
          sum += m.actual[at];
        }
        expect(sum).toBeCloseTo(track[p], 5);
      }
      // ISM hypothetical scores are mean-centred over the four letters at each position
      for (let p = 0; p < L; p++) {
        let s = 0;
        for (let c = 0; c < 4; c++) s += m.hypothetical[(r * 4 + c) * L + p];
        expect(Math.abs(s)).toBeLessThan(1e-5);
      }
    }
  });
  it('a Shapley explanation writes its per-position values on the observed letter', async () => {
    const e = await explainSequences(model, [seqs[0].sequence], {
      method: 'permutation',
      budget: 400,
      reference: 'zeros',
      seed: 2,
      threads: 1,
    });
    const m = modiscoArrays(e, 'probabilities[0]');
    expect(m.perLetter).toBe(false);
    for (let p = 0; p < L; p++) {
      const c = 'ACGT'.indexOf(seqs[0].sequence[p]);
      expect(m.actual[c * L + p]).toBeCloseTo(e.values[p * 2], 6);
      expect(m.hypothetical[c * L + p]).toBe(m.actual[c * L + p]);
    }
    expect(() => modiscoArrays(e, 'nope')).toThrow(/output must be an output of/);
  });
  it('the streaming writer writes the bytes of modiscoFiles and checks the rows it is given', async () => {
    const dir = join(tmp.path, 'streamed');
    await mkdir(dir);
    const names = await writeModiscoFiles(ism, dir);
    const mem = modiscoFiles(ism);
    expect(names).toEqual([...mem.keys()]);
    for (const [name, bytes] of mem)
      expect(Buffer.from(await readFile(join(dir, name))).equals(Buffer.from(bytes))).toBe(true);
    const opts = { count: 2, letters: 4, length: L, outputs: ['a'], perLetter: false };
    const row = new Float32Array(4 * L);
    const w = await ModiscoWriter.open(dir, opts);
    await expect(w.add(row, [new Float32Array(3)], [row])).rejects.toThrow(/holds 4 × 60 = 240 values; got 3/);
    await w.add(row, [row], [row]);
    await expect(w.close()).rejects.toThrow(/opened for 2 sequences; 1 were added/);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await expect(ModiscoWriter.open(join(dir, 'missing'), opts)).rejects.toThrow(/cannot write the npz files/);
  });
  it.skipIf(!hasNumpy)(
    'numpy reads ohe.npz and attr.npz as modisco does (np.load(...)["arr_0"], float32, (N, 4, L))',
    async () => {
      const files = modiscoFiles(ism);
      expect([...files.keys()]).toEqual(['ohe.npz', 'attr.probabilities_0_.npz', 'attr.probabilities_1_.npz']);
      for (const [name, bytes] of files) await tmp.write(name, bytes);
      const script = `
import numpy as np, json, sys
d = sys.argv[1]
s = np.load(d + '/ohe.npz')['arr_0']
a = np.load(d + '/attr.probabilities_0_.npz')
print(json.dumps({'shape': list(s.shape), 'dtype': str(s.dtype), 'keys': sorted(a.files),
  'ohe_sum': float(s.sum()), 'hyp': a['arr_0'][1, :, 7].tolist(), 'same': bool((a['arr_0'] == a['hypothetical']).all()),
  'actual_ok': bool(np.allclose(a['actual'], a['arr_0'] * s)), 'tracks': a['actual'].sum(axis=1)[0, :5].tolist()}))`;
      const out = JSON.parse(execFileSync('python3', ['-c', script, tmp.path], { encoding: 'utf8' }));
      expect(out.shape).toEqual([seqs.length, 4, L]);
      expect(out.dtype).toBe('float32');
      expect(out.keys).toEqual(['actual', 'arr_0', 'hypothetical']);
      expect(out.ohe_sum).toBe(seqs.length * L);
      expect(out.same).toBe(true);
      expect(out.actual_ok).toBe(true);
      const m = modiscoArrays(ism, 0);
      expect(out.hyp).toEqual([0, 1, 2, 3].map((c) => m.hypothetical[(1 * 4 + c) * L + 7]));
      const track = positionValues(ism, 0, 0);
      out.tracks.forEach((v: number, p: number) => {
        expect(v).toBeCloseTo(track[p], 5);
      });
    },
  );
});

describe('bedGraph tracks', () => {
  it('reads chr:start-end names (bedtools getfasta), with strand', () => {
    expect(parseInterval('chr1:1,000-3114')).toEqual({ chrom: 'chr1', start: 1000, end: 3114, strand: '+' });
    expect(parseInterval('chrX:5-9(-)')).toEqual({ chrom: 'chrX', start: 5, end: 9, strand: '-' });
    expect(parseInterval('seq1')).toBeUndefined();
    expect(parseInterval('chr1:9-5')).toBeUndefined();
  });
  it('places each position at its genomic base: offsets, a padded window, the minus strand, sorted lines', async () => {
    const s0 = seqs[0].sequence;
    const s1 = seqs[1].sequence.slice(0, L - 4); // padded by 2 on each side
    const e = await explainSequences(
      model,
      { ids: ['chr2:1000-1060', 'chr1:500-556(-)', 'plain'], sequences: [s0, s1, seqs[2].sequence], lines: [] },
      { method: 'ism', lengthPolicy: 'pad' },
    );
    const skipped: string[][] = [];
    const text = bedGraph(e, { output: 0, onSkipped: (ids) => skipped.push([...ids]) });
    expect(skipped).toEqual([['plain']]);
    const lines = text.trim().split('\n');
    expect(lines[0]).toMatch(/^track type=bedGraph name="whybox probabilities\[0\]"/);
    const rows = lines.slice(1).map((l) => l.split('\t'));
    expect(rows).toHaveLength(60 + 56);
    // chr1 first (sorted), minus strand: original index q sits at end - 1 - q
    const t1 = positionValues(e, 1, 0);
    const chr1 = rows.filter((r) => r[0] === 'chr1');
    expect(chr1.map((r) => Number(r[1]))).toEqual(Array.from({ length: 56 }, (_, i) => 500 + i));
    for (const r of chr1) {
      const q = 555 - Number(r[1]);
      expect(Number(r[2])).toBe(Number(r[1]) + 1);
      expect(Number(r[3])).toBeCloseTo(t1[q + 2], 5); // window position = q - origin, origin = -2
    }
    const t0 = positionValues(e, 0, 0);
    const chr2 = rows.filter((r) => r[0] === 'chr2');
    chr2.forEach((r, p) => {
      expect(Number(r[1])).toBe(1000 + p);
      expect(Number(r[3])).toBeCloseTo(t0[p], 5);
    });
    const none = await explainSequences(model, [s0], { method: 'ism' });
    expect(() => bedGraph(none)).toThrow(/need sequence names with coordinates/);
  });
});

describe('seqlets', () => {
  it('p-values are the empirical tail of the null window sums (brute force)', () => {
    const rng = Rng.fromSeed(3);
    const noise = (n: number) => Float64Array.from({ length: n }, () => rng.float() - 0.5);
    const nulls = Array.from({ length: 20 }, () => noise(50));
    const track = noise(50);
    for (let p = 20; p < 26; p++) track[p] += 3; // a planted bump of width 6
    const found = seqletsFromTracks([track], nulls, { width: 6, maxP: 1, maxPerSequence: 1 });
    expect(found).toHaveLength(1);
    const s = found[0];
    expect(s.start).toBeGreaterThanOrEqual(19);
    expect(s.end).toBeLessThanOrEqual(27);
    expect(s.start <= 20 && s.end >= 25).toBe(true);
    // brute force: every null window of width 6; the bump's window beats them all
    let sum = 0;
    for (let q = 20; q < 26; q++) sum += track[q];
    const pool: number[] = [];
    for (const t of nulls)
      for (let i = 0; i + 6 <= t.length; i++) {
        let acc = 0;
        for (let q = i; q < i + 6; q++) acc += t[q];
        pool.push(Math.abs(acc));
      }
    expect(pool.filter((v) => v >= Math.abs(sum))).toHaveLength(0);
    expect(s.pValue).toBe(1 / (1 + pool.length));
    // a middling window: its p-value is its rank among the null sums
    const mid = Float64Array.from(track.subarray(0, 6));
    let m = 0;
    for (const v of mid) m += v;
    const pm = seqletsFromTracks([mid], nulls, { width: 6, maxP: 1, maxPerSequence: 1 })[0].pValue;
    expect(pm).toBe((1 + pool.filter((v) => v >= Math.abs(m)).length) / (1 + pool.length));
    // calibration: one window of null-like noise has a uniform p-value (P(p <= 0.1) ≈ 0.1)
    const ps = Array.from({ length: 400 }, () => {
      const t = noise(6);
      return seqletsFromTracks([t], nulls, { width: 6, maxP: 1, maxPerSequence: 1 })[0].pValue;
    });
    const small = ps.filter((p) => p <= 0.1).length / ps.length;
    expect(small).toBeGreaterThan(0.05);
    expect(small).toBeLessThan(0.15);
  });
  it('finds the planted motif with ISM against shuffled-sequence nulls; TSV has a header and a line per seqlet', async () => {
    const copies = shuffledCopies(ism.sequence.ids, ism.sequence.sequences, 2, 9);
    expect(copies.ids.slice(0, 2)).toEqual([`${ism.sequence.ids[0]}#shuffle1`, `${ism.sequence.ids[0]}#shuffle2`]);
    const nullE = await explainSequences(model, copies, { method: 'ism' });
    const found = findSeqlets(ism, nullE, { output: 0, width: 6, maxPerSequence: 1 });
    let hits = 0;
    for (let r = 0; r < seqs.length; r++) {
      const s = found.find((x) => x.row === r);
      if (s && s.start < seqs[r].startA + MOTIF_A.length && s.end > seqs[r].startA && s.score > 0) hits++;
    }
    expect(hits).toBeGreaterThanOrEqual(Math.ceil(0.9 * seqs.length));
    for (const s of found) expect(s.pValue).toBeLessThanOrEqual(0.05);
    const tsv = seqletsToTsv(found).trim().split('\n');
    expect(tsv[0].split('\t')).toEqual([
      'id',
      'output',
      'start',
      'end',
      'score',
      'p_value',
      'letters',
      'chrom',
      'chrom_start',
      'chrom_end',
    ]);
    expect(tsv).toHaveLength(found.length + 1);
  });
});

describe('whybox explain --sequences --format npz | bedgraph | seqlets-tsv', () => {
  it('writes the files into --out DIR', async () => {
    const fa = await tmp.write(
      'coords.fa',
      seqs
        .slice(0, 3)
        .map((s, i) => `>chr3:${1000 * (i + 1)}-${1000 * (i + 1) + L}\n${s.sequence}\n`)
        .join(''),
    );
    const dir = join(tmp.path, 'out');
    const r = await run(
      'explain',
      '--model',
      scannerModelPath,
      '--sequences',
      fa,
      '--method',
      'ism',
      '--format',
      'npz',
      '--out',
      dir,
      '--output',
      '0',
    );
    expect(r.stderr).toMatch(/wrote .*ohe\.npz, .*attr\.npz/);
    expect(r.code).toBe(0);
    const ohe = parseNpy(toArrayBuffer(unzipSync(new Uint8Array(await readFile(join(dir, 'ohe.npz'))))['arr_0.npy']));
    expect(ohe.shape).toEqual([3, 4, L]);
    const bg = await run(
      'explain',
      '--model',
      scannerModelPath,
      '--sequences',
      fa,
      '--method',
      'ism',
      '--format',
      'bedgraph',
      '--out',
      dir,
      '--output',
      '0',
      '--output-names',
      'motif',
      '--quiet',
    );
    expect(bg.code).toBe(0);
    const track = (await readFile(join(dir, 'motif.bedGraph'), 'utf8')).trim().split('\n');
    expect(track).toHaveLength(1 + 3 * L);
    expect(track[1].split('\t').slice(0, 3)).toEqual(['chr3', '1000', '1001']);
    const sq = await run(
      'explain',
      '--model',
      scannerModelPath,
      '--sequences',
      fa,
      '--method',
      'ism',
      '--format',
      'seqlets-tsv',
      '--output',
      '0',
      '--null-shuffles',
      '2',
    );
    expect(sq.code).toBe(0);
    const lines = sq.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^id\toutput\tstart/);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[1].split('\t')[7]).toBe('chr3');
    const noDir = await run(
      'explain',
      '--model',
      scannerModelPath,
      '--sequences',
      fa,
      '--method',
      'ism',
      '--format',
      'npz',
    );
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toMatch(/--out must be a directory for --format npz/);
  });
});

let scannerModelPath = '';
beforeAll(async () => {
  scannerModelPath = await tmp.write('scanner.onnx', scannerModel(L));
});
