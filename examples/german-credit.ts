/**
 * German credit example: principal reasons for 10 real applicants of the UCI Statlog German
 * credit data, from two committed ONNX models (a logistic regression and a small MLP, made by
 * scripts/make-german-mlp.ts; nothing is trained here), with a schema and reason templates.
 *
 * Needs `../shared/datasets/german.data` next to the repository (the data are not bundled);
 * without it, prints a message and exits 0.
 *
 * Usage: npx tsx examples/german-credit.ts [--html report.html]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GERMAN_ATTRIBUTES, GERMAN_DIR, germanAvailable } from '../benchmarks/lib/german.js';
import {
  type Background,
  createBackground,
  type Dataset,
  type Explanation,
  encodeRecords,
  explain,
  formatCreditHtml,
  globalImportance,
  loadOnnx,
  loadReasonTemplates,
  loadSchema,
  type RawRecord,
  type ReasonReport,
  Rng,
  reasonCodes,
  schemaPlayers,
  selectRows,
  sha256File,
  summarizeBackground,
} from '../src/index.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const FIXTURES = `${ROOT}benchmarks/fixtures/`;
const EXAMPLE = `${ROOT}examples/german-credit/`;
export const GERMAN_MODELS = {
  logistic: `${FIXTURES}german-logistic.onnx`,
  mlp: `${FIXTURES}german-mlp.onnx`,
} as const;

/** `german.data` as raw records: level labels (UCI codes translated), numbers, and the label. */
export function readGermanRecords(dir = GERMAN_DIR): { records: RawRecord[]; bad: number[] } {
  const lines = readFileSync(`${dir}german.data`, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const bad: number[] = [];
  const records = lines.map((line) => {
    const fields = line.trim().split(/\s+/);
    const rec: Record<string, string | number> = {};
    GERMAN_ATTRIBUTES.forEach((a, k) => {
      rec[a.name] = a.kind === 'numeric' ? Number(fields[k]) : (a.labels[a.codes.indexOf(fields[k])] ?? fields[k]);
    });
    bad.push(fields[20] === '2' ? 1 : 0);
    return rec;
  });
  return { records, bad };
}

export interface GermanExampleResult {
  model: keyof typeof GERMAN_MODELS;
  exp: Explanation;
  report: ReasonReport;
  rows: number[];
  /** The training rows (baselines of the reason statements). */
  train: Dataset;
  /** The explanation's background: 50 weighted k-means medoids of the training rows. */
  background: Background;
}

/**
 * Explains `count` holdout applicants (from `german-mlp.split.json`) with each model: P(bad)
 * above `threshold` is adverse (log-odds above 0 with `link: 'logit'`); background: 50
 * k-means medoids of the training rows.
 */
export async function runGermanExample(
  options: {
    count?: number;
    threshold?: number;
    budget?: number;
    seed?: number;
    link?: 'identity' | 'logit';
    models?: readonly (keyof typeof GERMAN_MODELS)[];
  } = {},
): Promise<GermanExampleResult[]> {
  const schema = await loadSchema(`${EXAMPLE}schema.json`);
  const templates = await loadReasonTemplates(`${EXAMPLE}reasons.json`, schema);
  const split = JSON.parse(readFileSync(`${FIXTURES}german-mlp.split.json`, 'utf8')) as {
    fit: number[];
    validation: number[];
    holdout: number[];
  };
  const { records } = readGermanRecords();
  const all = encodeRecords(schema, records, { source: 'german.data' });
  const train = selectRows(
    all,
    [...split.fit, ...split.validation].sort((a, b) => a - b),
  );
  const background = summarizeBackground(createBackground(train), Rng.fromSeed(1), { method: 'kmeans', rows: 50 });
  const rows = split.holdout.slice(0, options.count ?? 10);
  const applicants = selectRows(all, rows);
  const out: GermanExampleResult[] = [];
  for (const name of options.models ?? (['logistic', 'mlp'] as const)) {
    const model = await loadOnnx(GERMAN_MODELS[name], { select: [1], link: options.link });
    try {
      const exp = await explain(model, applicants, {
        background,
        players: schemaPlayers(schema),
        budget: options.budget,
        seed: options.seed ?? 42,
        threads: 1,
      });
      const withRows = { ...exp, rowIndices: rows };
      const report = reasonCodes(withRows, {
        schema,
        templates,
        threshold: options.threshold ?? (options.link === 'logit' ? 0 : 0.5),
        background: { data: train.data, nRows: train.nRows },
        audit: { modelSha256: await sha256File(GERMAN_MODELS[name]), modelFile: `german-${name}.onnx` },
      });
      out.push({ model: name, exp: withRows, report, rows, train, background });
    } finally {
      await model.close();
    }
  }
  return out;
}

async function main(): Promise<void> {
  if (!germanAvailable()) {
    console.log(`german-credit example: ${GERMAN_DIR}german.data not found; skipped (the data are not bundled)`);
    return;
  }
  const htmlAt = process.argv.indexOf('--html');
  const results = await runGermanExample();
  const schema = await loadSchema(`${EXAMPLE}schema.json`);
  for (const { model, exp, report } of results) {
    console.log(
      `\n== german-${model}.onnx: P(bad) of 10 holdout applicants; base value ${report.baseline.baseValue.toFixed(4)} (${report.baseline.background.summary}); ${exp.method} (${exp.variant}), seed ${exp.meta.seed}`,
    );
    for (const d of report.decisions) {
      console.log(
        `applicant ${d.index}: ${d.decision === 'adverse' ? 'ADVERSE ' : 'favorable'} P(bad) = ${d.decisionScore.toFixed(4)}`,
      );
      for (const r of d.reasons)
        console.log(
          `   ${r.rank}. [${r.code ?? '-'}] ${r.statement}  (${r.contribution >= 0 ? '+' : ''}${r.contribution.toFixed(4)})`,
        );
    }
    const imp = globalImportance(exp);
    console.log(
      `most important over these rows: ${imp.players
        .slice(0, 5)
        .map((p, k) => `${p} ${imp.meanAbs[k].toFixed(4)}`)
        .join(', ')}`,
    );
    if (htmlAt >= 0 && process.argv[htmlAt + 1]) {
      const file = process.argv[htmlAt + 1].replace(/\.html$/, `-${model}.html`);
      writeFileSync(file, await formatCreditHtml(exp, report, { schema }));
      console.log(`wrote ${file}`);
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
