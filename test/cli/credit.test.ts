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
    for (const k of ['waterfall', 'bar', 'beeswarm', 'dependence', 'decision']) expect(html).toContain(`<svg data-plot="${k}"`);
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
