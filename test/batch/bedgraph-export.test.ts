import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBedGraphFromJsonl } from '../../src/batch/bedgraph-export.js';
import { DataError, InvalidOptionError } from '../../src/errors.js';
import { explainSequences } from '../../src/explain-sequences.js';
import type { SequenceExplanation } from '../../src/explanation/sequence-explanation.js';
import { bedGraph } from '../../src/explanation/sequence-export.js';
import { sequenceExplanationToJSON } from '../../src/explanation/sequence-report.js';
import { fromFunction } from '../../src/models/function-model.js';
import { Rng } from '../../src/sampling/rng.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

const L = 24;
const N = 150;
let tmp: TempDir;
/** Random sequences of L-3..L+3 bases (fitted to L) on a few short stretches of 5 chromosomes, overlapping heavily. */
const ids: string[] = [];
const sequences: string[] = [];
beforeAll(async () => {
  tmp = await makeTempDir('whybox-bedgraph-');
  const rng = Rng.fromSeed(21);
  const pick = <T>(a: ArrayLike<T>) => a[Math.floor(rng.float() * a.length)];
  for (let r = 0; r < N; r++) {
    const n = L - 3 + Math.floor(rng.float() * 7);
    sequences.push(Array.from({ length: n }, () => pick('ACGT')).join(''));
    const u = rng.float();
    if (u < 0.08) ids.push(`peak${r}`);
    else {
      const start = Math.floor(rng.float() * 40) * (u < 0.5 ? 1 : 3);
      // now and then an interval shorter than its sequence (its tail is left out)
      const end = start + n - (u > 0.95 ? 5 : 0);
      ids.push(
        `${pick(['chr2', 'chr10', 'chr1', 'chrX', 'chr1_random'])}:${start}-${end}${pick(['', '(+)', '(-)', ':-'])}`,
      );
    }
  }
  ids[N - 1] = ids[N - 2]; // the same interval twice
});
afterAll(() => tmp?.remove());

/** Two outputs of a one-hot model with position weights and neighbour interactions. */
const weights = Array.from({ length: L * 4 }, (_, i) => Math.sin(1.7 * i + 0.3));
const model = fromFunction(
  (x) => {
    let a = 0;
    let b = 0;
    for (let i = 0; i < L * 4; i++) a += weights[i] * x[i];
    for (let p = 0; p + 1 < L; p++) b += x[p * 4] * x[(p + 1) * 4 + 3] - 0.5 * x[p * 4 + 2] * x[(p + 1) * 4 + 1];
    return [a, Math.tanh(b + 0.1 * a)];
  },
  { nInputs: L * 4, outputNames: ['up', 'down stream'] },
);

/** The JSONL and metadata `whybox batch --sequences` writes for the explanation (one line per row). */
async function writeBatch(name: string, e: SequenceExplanation): Promise<string> {
  const { rows, ...head } = sequenceExplanationToJSON(e) as unknown as {
    rows: Record<string, unknown>[];
    sequence: Record<string, unknown>;
  };
  const origins = e.sequence.origins;
  const lines = rows.map(({ index: _i, ...rest }, r) =>
    JSON.stringify({
      index: r,
      id: e.sequence.ids[r],
      sequence: e.sequence.sequences[r],
      origin: origins?.[r] ?? 0,
      ...rest,
    }),
  );
  const { ids: _ids, sequences: _s, origins: _o, ...sequence } = head.sequence;
  const path = join(tmp.path, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  await writeFile(
    `${path}.meta.json`,
    JSON.stringify({ status: 'complete', rows: rows.length, explanation: { ...head, sequence } }),
  );
  return path;
}

const noTemporaries = async (dir: string) =>
  expect((await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.tmp'))).toEqual([]);

describe('writeBedGraphFromJsonl', () => {
  it('writes the bytes of bedGraph(exp) for every output, whatever bufferValues: ISM, padded and cropped windows, both strands, overlaps', async () => {
    const e = await explainSequences(model, { ids, sequences, lines: [] }, { method: 'ism', lengthPolicy: 'fit' });
    const jsonl = await writeBatch('ism.jsonl', e);
    const skipped: string[] = [];
    const want = e.outputs.map((_, o) =>
      bedGraph(e, { output: o, onSkipped: (s) => skipped.splice(0, skipped.length, ...s) }),
    );
    // the case is not trivial: overlapping intervals put several lines, of different values, at one base
    const body = want[0].trim().split('\n').slice(1);
    const byBase = new Map<string, Set<string>>();
    for (const l of body) {
      const [c, s, , v] = l.split('\t');
      byBase.set(`${c}:${s}`, (byBase.get(`${c}:${s}`) ?? new Set()).add(v));
    }
    expect(Math.max(...[...byBase.values()].map((v) => v.size))).toBeGreaterThanOrEqual(4);
    expect(e.sequence.origins?.some((o) => o < 0) && e.sequence.origins?.some((o) => o > 0)).toBe(true);
    expect(skipped.length).toBeGreaterThan(0);
    for (const bufferValues of [undefined, 1, 7, 100]) {
      const dir = join(tmp.path, `ism-${bufferValues}`);
      const seen: [number, string][] = [];
      let progress = 0;
      const res = await writeBedGraphFromJsonl(jsonl, dir, {
        bufferValues,
        onSkipped: (n, first) => seen.push([n, first]),
        onProgress: (n) => (progress = n),
      });
      expect(res).toEqual({
        files: ['up.bedGraph', 'down_stream.bedGraph'],
        rows: N,
        skipped: skipped.length,
        lines: body.length,
      });
      expect(seen).toEqual([[skipped.length, skipped[0]]]);
      expect(progress).toBe(N);
      for (const [o, f] of res.files.entries()) expect(await readFile(join(dir, f), 'utf8'), f).toBe(want[o]);
      expect((await readdir(dir)).sort()).toEqual(['down_stream.bedGraph', 'up.bedGraph']);
    }
  });

  it('overlapping window players (exact Shapley values spread over their positions); one output by name or index', async () => {
    const e = await explainSequences(
      model,
      { ids, sequences, lines: [] },
      { method: 'exact', players: { window: 6, stride: 3 }, reference: 'uniform', lengthPolicy: 'fit' },
    );
    expect(e.sequence.spans.slice(0, 3)).toEqual([
      [0, 3],
      [0, 6],
      [3, 9],
    ]); // two tilings: players overlap
    const jsonl = await writeBatch('exact.jsonl', e);
    const want = bedGraph(e, { output: 1 });
    for (const output of ['down stream', 1]) {
      const dir = join(tmp.path, `exact-${output}`);
      const res = await writeBedGraphFromJsonl(jsonl, dir, { output, bufferValues: 5 });
      expect(res.files).toEqual(['down_stream.bedGraph']);
      expect(await readdir(dir)).toEqual(['down_stream.bedGraph']);
      expect(await readFile(join(dir, 'down_stream.bedGraph'), 'utf8')).toBe(want);
    }
    const dir = join(tmp.path, 'exact-bad');
    await expect(writeBedGraphFromJsonl(jsonl, dir, { output: 2 })).rejects.toThrow(InvalidOptionError);
    await expect(writeBedGraphFromJsonl(jsonl, dir, { output: 'sideways' })).rejects.toThrow(
      /output must be an output of \["up","down stream"\] or its index; got "sideways"/,
    );
    await expect(writeBedGraphFromJsonl(jsonl, dir, { bufferValues: 0 })).rejects.toThrow(/bufferValues must be/);
    await expect(writeBedGraphFromJsonl(jsonl, dir, { bufferValues: 2.5 })).rejects.toThrow(InvalidOptionError);
  });

  it('refuses a file that is not a complete sequence batch, naming the line; leaves no temporary files', async () => {
    const few = await explainSequences(
      model,
      { ids: ids.slice(0, 6), sequences: sequences.slice(0, 6), lines: [] },
      { method: 'ism', lengthPolicy: 'fit' },
    );
    const good = await writeBatch('few.jsonl', few);
    const text = (await readFile(good, 'utf8')).trim().split('\n');
    const meta = JSON.parse(await readFile(`${good}.meta.json`, 'utf8'));
    const variant = async (name: string, lines: string[], m: unknown = meta) => {
      const p = join(tmp.path, name);
      await writeFile(p, lines.join('\n'));
      await writeFile(`${p}.meta.json`, JSON.stringify(m));
      return p;
    };
    const edit = (r: number, f: (row: Record<string, unknown>) => void) =>
      text.map((l, k) => {
        if (k !== r) return l;
        const row = JSON.parse(l);
        f(row);
        return JSON.stringify(row);
      });
    const dir = join(tmp.path, 'bad');
    const cases: [string, string[], RegExp, unknown?][] = [
      ['garbled.jsonl', text.map((l, k) => (k === 2 ? l.slice(0, 50) : l)), /line 3: is not a JSON line/],
      ['cut-mid-line.jsonl', [...text.slice(0, 5), text[5].slice(0, 80)], /line 6: is not a JSON line .*cut/],
      ['cut.jsonl', text.slice(0, 5), /holds 5 lines but its metadata records 6 rows: is it cut\?/],
      [
        'no-id.jsonl',
        edit(1, (row) => delete row.id),
        /line 2: has no sequence "id": not a line of whybox batch --sequences/,
      ],
      ['origin.jsonl', edit(3, (row) => (row.origin = 'left')), /line 4: has "origin" "left", not a whole number/],
      [
        'values.jsonl',
        edit(4, (row) => (row.values = (row.values as unknown[]).slice(1))),
        /line 5: "values" holds 23 players/,
      ],
      [
        'output.jsonl',
        edit(0, (row) => ((row.values as number[][])[7] = [1])),
        /line 1: "values" of player 8 is not 2 numbers/,
      ],
      ['order.jsonl', [text[1], text[0], ...text.slice(2)], /line 2: has index 0 after 1/],
      [
        'unfinished.jsonl',
        text,
        /records an unfinished run: finish it with whybox batch --resume/,
        { ...meta, status: 'running' },
      ],
      [
        'tabular.jsonl',
        text,
        /is the output of a tabular batch: bedGraph tracks are for sequence runs/,
        { ...meta, explanation: { ...meta.explanation, sequence: undefined } },
      ],
    ];
    for (const [name, lines, re, m] of cases) {
      const p = await variant(name, lines, m ?? meta);
      const error = await writeBedGraphFromJsonl(p, dir).catch((x) => x);
      expect(error, name).toBeInstanceOf(DataError);
      expect(error.message, name).toMatch(re);
      await noTemporaries(dir);
    }
    await expect(writeBedGraphFromJsonl(join(tmp.path, 'absent.jsonl'), dir)).rejects.toThrow(/absent\.jsonl/);
    const metaLess = join(tmp.path, 'meta-less.jsonl');
    await writeFile(metaLess, text.join('\n'));
    await expect(writeBedGraphFromJsonl(metaLess, dir)).rejects.toThrow(/meta\.json: is missing/);
    // no id with coordinates: the error of bedGraph(exp), nothing written
    const plain = await explainSequences(
      model,
      { ids: ['a', 'b', 'c'], sequences: sequences.slice(0, 3), lines: [] },
      { method: 'ism', lengthPolicy: 'fit' },
    );
    const none = await writeBatch('plain.jsonl', plain);
    const expected = (() => {
      try {
        bedGraph(plain);
      } catch (x) {
        return (x as Error).message;
      }
    })();
    expect(expected).toMatch(/none of the 3 sequence ids has them \(first: "a"\)/);
    await expect(writeBedGraphFromJsonl(none, dir)).rejects.toThrow(expected);
    expect(await readdir(dir)).toEqual([]);
  });
});
