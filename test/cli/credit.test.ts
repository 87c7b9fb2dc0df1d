import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../helpers/cli.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

const DIR = fileURLToPath(new URL('../../datasets/credit-demo/', import.meta.url));
const SCHEMA = `${DIR}schema.json`;
const REASONS = `${DIR}reasons.json`;
const RAW = `${DIR}applicants-raw.csv`;
const MODEL = `${DIR}scorecard.onnx`;
/** The first 60 training rows (written in beforeAll): a small background keeps the runs fast. */
let BG = '';

/** The credit flags on the ground-truth scorecard, small budget. */
const base = (...extra: string[]) => [
  'explain',
  '--schema',
  SCHEMA,
  '--data',
  RAW,
  '--model',
  MODEL,
  '--reasons',
  REASONS,
  '--background',
  BG,
  '--budget',
  '300',
  '--seed',
  '1',
  '--threads',
  '1',
  '--quiet',
  ...extra,
];

interface CreditJson {
  players: string[];
  outputs: string[];
  rows: {
    index: number;
    prediction: number[];
    values: number[][];
    decisionScore: number;
    decision: string;
    reasons: {
      rank: number;
      attribute: string;
      statement: string;
      code?: string;
      value: unknown;
      contribution: number;
    }[];
    audit: Record<string, unknown>;
  }[];
  baseline: { baseValue: number; attributes: Record<string, unknown> };
  reasonOptions: { top: number; threshold: number; adverse: string };
  importance: { players: string[]; meanAbs: number[] };
  seed: number;
}

let tmp: TempDir;
beforeAll(async () => {
  tmp = await makeTempDir('whybox-credit-cli-');
  const lines = readFileSync(`${DIR}train.csv`, 'utf8').split('\n');
  BG = await tmp.write('bg.csv', `${lines.slice(0, 61).join('\n')}\n`);
});
afterAll(async () => {
  await tmp.remove();
});

describe('whybox explain --schema (credit decisions)', () => {
  it('prints per applicant the decision, the score and the reasons', async () => {
    const r = await run(...base());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^whybox credit decisions: 5 applicant\(s\)/);
    expect(r.stdout).toMatch(/Applicant A1 \(row 0\): ADVERSE — score 0\.9\d+/);
    expect(r.stdout).toMatch(/Applicant A5 \(row 4\): favorable/);
    // A1: 66 months and 8605 DM (README of the demo): the two planted top effects
    const a1 = r.stdout.slice(r.stdout.indexOf('Applicant A1'), r.stdout.indexOf('Applicant A2'));
    expect(a1).toMatch(/1\. \[R02\] Loan term is too long \(66 months; typical [\d.]+\)/);
    expect(a1.match(/^\s+\d\. /gm)?.length).toBeLessThanOrEqual(4);
    expect(a1).not.toMatch(/age|personal|foreign/i);
    expect(r.stdout).toMatch(
      /\nWhat matters most overall \(mean \|contribution\| over 5 applicants\): duration_months [\d.]+, /,
    );
  });

  it('--format json extends the explain contract with decisions, reasons and audit records', async () => {
    const r = await run(...base('--format', 'json', '--top', '2'));
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as CreditJson;
    expect(j.players).toHaveLength(20);
    expect(j.outputs).toEqual(['probabilities[1]']);
    const sha = createHash('sha256').update(readFileSync(MODEL)).digest('hex');
    const schemaSha = createHash('sha256').update(readFileSync(SCHEMA)).digest('hex');
    for (const row of j.rows) {
      expect(row.decisionScore).toBe(row.prediction[0]);
      expect(row.decision).toBe(row.decisionScore > 0.5 ? 'adverse' : 'favorable');
      expect(row.reasons.length).toBeLessThanOrEqual(2);
      if (row.decision === 'favorable') expect(row.reasons).toEqual([]);
      for (const reason of row.reasons) {
        const p = j.players.indexOf(reason.attribute);
        expect(reason.contribution).toBe(row.values[p][0]);
        expect(reason.contribution).toBeGreaterThan(0);
      }
      expect(row.audit).toMatchObject({
        modelSha256: sha,
        modelFile: 'scorecard.onnx',
        schemaSha256: schemaSha,
        seed: 1,
        method: 'kernel',
        budget: 300,
        threshold: 0.5,
        adverse: 'higher',
      });
    }
    expect(j.rows.filter((x) => x.decision === 'adverse').length).toBe(2);
    expect(j.reasonOptions).toMatchObject({ top: 2, threshold: 0.5, adverse: 'higher' });
    expect(j.baseline.attributes.checking_status).toBeTypeOf('string');
    expect(j.importance.players).toHaveLength(20);
    // a whole tensor chosen with --output: its last column is the score
    const t = JSON.parse((await run(...base('--format', 'json', '--output', 'probabilities'))).stdout) as CreditJson;
    expect(t.outputs).toEqual(['probabilities[1]']);
    const p0 = JSON.parse(
      (await run(...base('--format', 'json', '--output', 'probabilities[0]'))).stdout,
    ) as CreditJson;
    expect(p0.outputs).toEqual(['probabilities[0]']);
    p0.rows.forEach((row, r) => {
      expect(row.decisionScore).toBeCloseTo(1 - j.rows[r].decisionScore, 6);
    });
  });

  it('--threshold, --adverse and --link logit move the decisions consistently', async () => {
    const strict = JSON.parse((await run(...base('--format', 'json', '--threshold', '0.2'))).stdout) as CreditJson;
    expect(strict.rows.map((x) => x.decision)).toEqual(
      strict.rows.map((x) => (x.decisionScore > 0.2 ? 'adverse' : 'favorable')),
    );
    const logit = JSON.parse((await run(...base('--format', 'json', '--link', 'logit'))).stdout) as CreditJson;
    const plain = JSON.parse((await run(...base('--format', 'json'))).stdout) as CreditJson;
    expect(logit.rows.map((x) => x.decision)).toEqual(plain.rows.map((x) => x.decision));
    expect(logit.rows[0].audit.threshold).toBe(0); // logit(0.5)
    const lower = JSON.parse(
      (await run(...base('--format', 'json', '--adverse', 'lower', '--threshold', '0.1'))).stdout,
    ) as CreditJson;
    for (const row of lower.rows) {
      expect(row.decision).toBe(row.decisionScore < 0.1 ? 'adverse' : 'favorable');
      for (const reason of row.reasons) expect(reason.contribution).toBeLessThan(0);
    }
  });

  it('--format html writes a self-contained report', async () => {
    const out = `${tmp.path}/report.html`;
    const r = await run(...base('--format', 'html', '--out', out));
    expect(r.code).toBe(0);
    const html = await readFile(out, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    // a waterfall per applicant (up to 100), importance bars, beeswarm, dependence, decision plot
    expect(html.match(/<svg /g)?.length).toBe(5 + 4);
    for (const k of ['waterfall', 'bar', 'beeswarm', 'dependence', 'decision'])
      expect(html).toContain(`<svg data-plot="${k}"`);
    // one inline script (sorting the summary table), no script from elsewhere, no network call
    const scripts = html.match(/<script(?![^>]*application\/json)[^>]*>/g) ?? [];
    expect(scripts).toEqual(['<script>']);
    expect(html).not.toMatch(/fetch\(|XMLHttpRequest|import\(/);
    expect(html).not.toMatch(/(src|href)="https?:/);
  });

  it('bad input exits 2 with one clear line', async () => {
    const bad = await tmp.write(
      'bad.csv',
      `${readFileSync(RAW, 'utf8').split('\n')[0]}\n${readFileSync(RAW, 'utf8').split('\n')[1].replace('0-200DM', '0-200')}\n`,
    );
    const cases: [string[], RegExp][] = [
      [
        base('--data', bad),
        /bad\.csv, line 2, column 2 \("checking_status"\): unknown category "0-200" \(did you mean "0-200DM"\?\)/,
      ],
      [base('--top', '0'), /--top must be an integer >= 1/],
      [base('--threshold', 'high'), /--threshold must be a finite number/],
      [base('--adverse', 'up'), /--adverse must be higher or lower/],
      [base('--link', 'logit', '--threshold', '2'), /--threshold must be a probability in \(0, 1\) with --link logit/],
      [base('--groups', `${DIR}groups.json`), /--groups must be unset with --schema/],
      [
        ['explain', '--model', MODEL, '--data', `${DIR}applicants.csv`, '--reasons', REASONS],
        /--reasons needs --schema/,
      ],
      [
        base('--schema', REASONS),
        /reasons\.json: the schema has an unknown field "reasons"|attributes must be a non-empty array/,
      ],
      [base('--reasons', SCHEMA), /schema\.json: the templates have an unknown field/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^whybox: [^\n]+\n$/);
      expect(r.stderr).toMatch(message);
    }
  });
});

describe('whybox demo shows reason codes', () => {
  it('keeps the explanation table and adds decisions with reasons', async () => {
    const r = await run('demo', '--threads', '1', '--quiet', '--budget', '300');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^whybox demo: synthetic credit applicants/);
    expect(r.stdout).toContain('applicant 4: P(bad) =');
    expect(r.stdout).toMatch(/Decisions and principal reasons/);
    expect(r.stdout).toMatch(/Applicant A1 \(row 0\): ADVERSE/);
    expect(r.stdout).toMatch(/1\. \[R\d\d\] /);
  });

  it('refuses --schema and --reasons (fixed by the demo)', async () => {
    for (const flag of ['--schema', '--reasons']) {
      const r = await run('demo', flag, SCHEMA);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^whybox: ${flag} is fixed by the demo`));
    }
  });
});

describe('whybox explain --schema --recourse / --certify', () => {
  interface RecourseJson {
    rows: {
      index: number;
      decision: string;
      decisionScore: number;
      recourse?: {
        changes: { attribute: string; from: unknown; to: string | number }[];
        score: number;
        cost: number;
      }[];
      recourseStatus?: string;
      recourseEvaluations?: number;
      reasonsStable?: boolean;
      stability?: string;
      tie?: string[];
      reasonsBudget?: number;
      reasons: { attribute: string; statement: string; value: unknown }[];
    }[];
    recourseOptions?: { count: number; maxChanges: number; budget: number };
    certify?: { z: number };
  }

  it('--recourse: every counterfactual of every adverse applicant re-scores favourable with the scorecard, inside the schema', async () => {
    const { loadSchema } = await import('../../src/data/schema.js');
    const { encodeRecords, loadRawCsv } = await import('../../src/data/encoder.js');
    const { loadOnnx } = await import('../../src/models/onnx-model.js');
    const schema = await loadSchema(SCHEMA);
    const table = await loadRawCsv(RAW);
    const model = await loadOnnx(MODEL, { select: [1] });
    try {
      const r = await run(
        ...base('--recourse', '--recourse-count', '2', '--max-changes', '2', '--format', 'json', '--rows', '1,0,4'),
      );
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as RecourseJson;
      expect(j.recourseOptions).toMatchObject({ count: 2, maxChanges: 2, budget: 2000 });
      expect(j.rows.map((x) => x.index)).toEqual([1, 0, 4]);
      const adverse = j.rows.filter((x) => x.decision === 'adverse');
      expect(adverse.length).toBeGreaterThan(0);
      for (const row of j.rows) {
        expect(row.recourseStatus).toBe(row.decision === 'adverse' ? 'found' : 'not-needed');
        for (const cf of row.recourse ?? []) {
          expect(cf.changes.length).toBeLessThanOrEqual(2);
          const rec: Record<string, string | number> = { ...table.records[row.index] };
          for (const ch of cf.changes) {
            const a = schema.attributes.find((x) => x.name === ch.attribute);
            expect(a?.mutable).toBe(true);
            expect(String(ch.from)).toBe(rec[ch.attribute]);
            rec[ch.attribute] = ch.to;
          }
          const [s] = await model.predict(encodeRecords(schema, [rec]).data, 1);
          expect(s).toBeCloseTo(cf.score, 12);
          expect(s).toBeLessThanOrEqual(0.5);
        }
      }
      const text = await run(...base('--recourse', '--rows', '0'));
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/what would change the decision \(each verified by the model\):\n {4}a\) /);
      const html = await tmp.write('r.html', '');
      expect((await run(...base('--recourse', '--format', 'html', '--out', html))).code).toBe(0);
      const page = await readFile(html, 'utf8');
      expect(page).toMatch(/<div class="recourse" data-recourse="\d">/);
    } finally {
      await model.close();
    }
  });

  it('--certify: per row reasonsStable, stability and the budget used; same seed, same output', async () => {
    const a = await run(...base('--certify', '--format', 'json'));
    expect(a.code, a.stderr).toBe(0);
    const j = JSON.parse(a.stdout) as RecourseJson;
    expect(j.certify).toEqual({ z: 3 });
    for (const row of j.rows) {
      expect(typeof row.reasonsStable).toBe('boolean');
      expect(row.reasonsBudget).toBeGreaterThanOrEqual(300);
      expect(row.reasonsBudget).toBeLessThanOrEqual(16 * 300);
      if (row.decision === 'favorable') expect(row.stability).toBe('no-reasons');
      else expect(row.reasonsStable).toBe(row.stability !== 'tie');
      if (row.stability === 'tie') expect(row.tie?.length).toBeGreaterThan(0);
    }
    const b = await run(...base('--certify', '--format', 'json'));
    const strip = (s: string) => s.replace(/"seconds": [\d.e-]+/g, '');
    expect(strip(b.stdout)).toBe(strip(a.stdout));
    const text = await run(...base('--certify', '--rows', '0'));
    expect(text.stdout).toMatch(/reasons stable: (yes|NO)/);
  });

  it('generic statements use the schema labels of categories', async () => {
    const argv = base('--format', 'json').filter((x, i, all) => x !== '--reasons' && all[i - 1] !== '--reasons');
    const r = await run(...argv);
    expect(r.code, r.stderr).toBe(0);
    const { loadSchema } = await import('../../src/data/schema.js');
    const schema = await loadSchema(SCHEMA);
    let categorical = 0;
    for (const row of (JSON.parse(r.stdout) as RecourseJson).rows)
      for (const reason of row.reasons) {
        const a = schema.attributes.find((x) => x.name === reason.attribute);
        if (a?.type !== 'categorical') continue;
        const label = a.categoryLabels[a.categories.indexOf(reason.value as string)];
        expect(reason.statement).toBe(`${a.label}: ${label}`);
        if (label !== reason.value) categorical++;
      }
    expect(categorical).toBeGreaterThan(0);
  });

  it('bad recourse / certify flags exit 2 with one clear line', async () => {
    const cases: [string[], RegExp][] = [
      [base('--max-changes', '2'), /--max-changes needs --recourse/],
      [base('--recourse-count', '2'), /--recourse-count needs --recourse/],
      [base('--recourse', '--recourse-count', '0'), /--recourse-count must be an integer >= 1/],
      [base('--recourse', '--max-changes', 'x'), /--max-changes must be an integer/],
      [base('--certify-z', '2'), /--certify-z needs --certify/],
      [base('--certify', '--certify-z', '-1'), /--certify-z must be a number > 0/],
      [base('--certify', '--budget', 'auto'), /--budget must be a number \(or unset\) with --certify/],
      [base('--certify', '--method', 'partition'), /method must be 'kernel', 'permutation' or 'exact' with certify/],
      [['explain', '--model', MODEL, '--data', `${DIR}applicants.csv`, '--recourse'], /--recourse needs --schema/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^whybox: [^\n]+\n$/);
      expect(r.stderr).toMatch(message);
    }
  });
});
