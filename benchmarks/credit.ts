/**
 * Credit decisions end to end (`npm run bench -- credit`):
 * 1. reason codes vs the planted ground truth of the synthetic data (applicants-many-raw.csv,
 *    denied by the true model): how often the top-2 reasons are the planted top-2, for the
 *    ground-truth scorecard (logit and probability scale) and for the demo MLP;
 * 2. the schema encoder's throughput (raw records → model rows);
 * 3. the HTML report: cold import of vega + vega-lite, and SVG rendering time per plot;
 * 4. recourse on the 400 applicants: share of adverse applicants with a verified
 *    counterfactual of ≤ 3 changes, model evaluations and ms per applicant (one thread);
 * 5. certified reasons (demo MLP, its adverse applicants, 20 seeds): share marked stable, share
 *    of those whose top-4 set is identical across the seeds, median budget / the default.
 * `--recourse-only` runs 4 and 5 (keeping the other figures of the results file).
 * Writes benchmarks/results/credit.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import {
  certifyReasons,
  createBackground,
  decodeRows,
  encodeRecords,
  explain,
  globalImportance,
  loadCsv,
  loadOnnx,
  loadRawCsv,
  loadReasonTemplates,
  loadSchema,
  type RawRecord,
  Rng,
  reasonCodes,
  recourse,
  recourseViolations,
  schemaPlayers,
  selectRows,
  sliceRows,
  summarizeBackground,
} from '../src/index.js';
import { DEMO, ROOT } from './lib/common.js';

interface Truth {
  levelEffects: Record<string, Record<string, number>>;
  duration: { center: number; scale: number; coef: number };
  amount: { reference: number; coef: number };
  interaction: number;
  young: { below: number; coef: number };
  installment: { center: number; coef: number };
}
type Raw = Record<string, string | number | null>;
const truth = JSON.parse(readFileSync(`${DEMO}/truth.json`, 'utf8')) as Truth;
const PROTECTED = new Set(['personal_status', 'age', 'foreign_worker']);

/** The planted top-2: closed-form log-odds Shapley values of the ground truth (see the demo README). */
function plantedTop2(x: Raw, bg: Raw[], weights: ArrayLike<number>): string[] {
  const mean = (f: (r: Raw) => number) => bg.reduce((s, r, b) => s + weights[b] * f(r), 0);
  const phi: Record<string, number> = {};
  for (const [a, eff] of Object.entries(truth.levelEffects))
    phi[a] = (eff[x[a] as string] ?? 0) - mean((r) => eff[r[a] as string] ?? 0);
  const d = (r: Raw) => ((r.duration_months as number) - truth.duration.center) / truth.duration.scale;
  const m = (r: Raw) => Math.log2((r.credit_amount as number) / truth.amount.reference);
  const c = truth.interaction;
  const [Ed, Em, Edm] = [mean(d), mean(m), mean((r) => d(r) * m(r))];
  phi.duration_months = truth.duration.coef * (d(x) - Ed) + (c / 2) * (d(x) * Em - Edm + d(x) * m(x) - Ed * m(x));
  phi.credit_amount = truth.amount.coef * (m(x) - Em) + (c / 2) * (Ed * m(x) - Edm + d(x) * m(x) - d(x) * Em);
  const inst = (r: Raw) => truth.installment.coef * ((r.installment_rate as number) - truth.installment.center);
  phi.installment_rate = inst(x) - mean(inst);
  return Object.entries(phi)
    .filter(([a, v]) => v > 0 && !PROTECTED.has(a))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 2)
    .map(([a]) => a);
}

const schema = await loadSchema(`${DEMO}/schema.json`);
const templates = await loadReasonTemplates(`${DEMO}/reasons.json`, schema);
const table = await loadRawCsv(`${DEMO}/applicants-many-raw.csv`);
const all = encodeRecords(schema, table);
const train = await loadCsv(`${DEMO}/train.csv`, { expectColumns: schema.columns });
const background = summarizeBackground(createBackground(train), Rng.fromSeed(3), { method: 'kmeans', rows: 50 });
const bgRaw = decodeRows(schema, { data: background.data, nRows: background.nRows });

const recourseOnly = process.argv.includes('--recourse-only');
const RESULTS = `${ROOT}benchmarks/results/credit.json`;
let previous: Record<string, unknown> = {};
if (recourseOnly && existsSync(RESULTS)) previous = JSON.parse(readFileSync(RESULTS, 'utf8'));
let sections: Record<string, unknown> = {};
if (!recourseOnly) sections = await agreementEncoderReport();

async function agreementEncoderReport(): Promise<Record<string, unknown>> {
  // 1. agreement with the planted top-2 on the applicants the true model denies
  const scorecardLogit = await loadOnnx(`${DEMO}/scorecard.onnx`, { select: [1], link: 'logit' });
  const trueScores = await scorecardLogit.predict(all.data, all.nRows);
  const deniedIdx = Array.from(trueScores.keys()).filter((i) => trueScores[i] > 0);
  const denied = selectRows(all, deniedIdx);
  const deniedRaw = decodeRows(schema, denied);
  const planted = deniedRaw.map((x) => plantedTop2(x, bgRaw, background.weights));
  const agreement: Record<string, { sameSet: number; sameOrder: number; rows: number; seconds: number }> = {};
  for (const [name, file, link, threshold] of [
    ['scorecard (log-odds)', 'scorecard.onnx', 'logit', 0],
    ['scorecard (probability)', 'scorecard.onnx', 'identity', 0.5],
    ['demo MLP (probability)', 'model.onnx', 'identity', -1],
  ] as const) {
    const model =
      name === 'scorecard (log-odds)' ? scorecardLogit : await loadOnnx(`${DEMO}/${file}`, { select: [1], link });
    const t0 = performance.now();
    const exp = await explain(model, denied, { background, players: schemaPlayers(schema), seed: 11, threads: 1 });
    const seconds = (performance.now() - t0) / 1000;
    // the MLP does not deny the same applicants: threshold −1 lists reasons for every row
    const report = reasonCodes(exp, { schema, templates, threshold, background, reasonsFor: 'all' });
    let sameSet = 0;
    let sameOrder = 0;
    report.decisions.forEach((d, r) => {
      const got = d.reasons.slice(0, 2).map((x) => x.attribute);
      if (got.length === 2 && planted[r].every((a) => got.includes(a))) sameSet++;
      if (got.join() === planted[r].join()) sameOrder++;
    });
    agreement[name] = {
      sameSet: sameSet / denied.nRows,
      sameOrder: sameOrder / denied.nRows,
      rows: denied.nRows,
      seconds,
    };
    if (model !== scorecardLogit) await model.close();
  }
  await scorecardLogit.close();
  console.log(
    `\nreason codes vs the planted top-2 (${denied.nRows} applicants denied by the true model; kernel, default budget, 50 k-means medoids):`,
  );
  console.log('model                      top-2 as a set  top-2 in order  explain s');
  for (const [name, a] of Object.entries(agreement))
    console.log(
      `${name.padEnd(26)} ${(a.sameSet * 100).toFixed(1).padStart(13)}%  ${(a.sameOrder * 100).toFixed(1).padStart(13)}%  ${a.seconds.toFixed(2).padStart(9)}`,
    );

  // 2. encoder throughput
  const many: RawRecord[] = [];
  for (let k = 0; k < 250; k++) for (const r of table.records) many.push(r);
  const e0 = performance.now();
  const encoded = encodeRecords(schema, many);
  const encodeSeconds = (performance.now() - e0) / 1000;
  const d0 = performance.now();
  decodeRows(schema, encoded);
  const decodeSeconds = (performance.now() - d0) / 1000;
  console.log(
    `\nencoder: ${many.length} raw records (20 attributes -> 61 columns) in ${(encodeSeconds * 1000).toFixed(0)} ms = ${(many.length / encodeSeconds / 1e3).toFixed(0)}k records/s; decode ${(many.length / decodeSeconds / 1e3).toFixed(0)}k rows/s`,
  );

  // 3. report rendering (vega + vega-lite, server-side SVG)
  const i0 = performance.now();
  const { renderSvg, waterfallSpec, importanceSpec, beeswarmSpec } = await import('../src/index.js');
  await Promise.all([import('vega'), import('vega-lite')]);
  const importSeconds = (performance.now() - i0) / 1000;
  const model = await loadOnnx(`${DEMO}/model.onnx`, { select: [1] });
  const exp = await explain(model, sliceRows(all, 0, 400), {
    background: sliceRows(train, 0, 20),
    players: schemaPlayers(schema),
    budget: 256,
    seed: 1,
    threads: 1,
  });
  await model.close();
  const imp = globalImportance(exp);
  const timings: Record<string, { ms: number; bytes: number }> = {};
  for (const [name, spec] of [
    ['waterfall (1 row)', waterfallSpec(exp, 0)],
    ['importance (20 bars)', importanceSpec(imp)],
    [`beeswarm (${exp.nRows} rows x 20)`, beeswarmSpec(exp, imp, { schema })],
  ] as const) {
    await renderSvg(spec); // warm
    const t = performance.now();
    const svg = await renderSvg(spec);
    timings[name] = { ms: performance.now() - t, bytes: svg.length };
  }
  console.log(`\nreport: cold import of vega + vega-lite ${(importSeconds * 1000).toFixed(0)} ms`);
  for (const [name, t] of Object.entries(timings))
    console.log(
      `  ${name.padEnd(28)} ${t.ms.toFixed(0).padStart(5)} ms  ${(t.bytes / 1024).toFixed(0).padStart(5)} KiB SVG`,
    );
  return {
    agreement,
    encoder: { records: many.length, encodeSeconds, decodeSeconds },
    report: { importSeconds, timings },
  };
}

// 4. recourse
const recourseResults: Record<string, unknown> = {};
console.log(
  `\nrecourse (${all.nRows} applicants of applicants-many-raw.csv; threshold 0.5 on P(bad); up to 3 counterfactuals of ≤ 3 changes; budget 2000 model evaluations per applicant; 1 thread, no Shapley guidance):`,
);
console.log(
  'model                adverse  with recourse  evaluations median / p95 / max  ms per adverse applicant  re-scored favourable',
);
for (const [name, file] of [
  ['scorecard (truth)', 'scorecard.onnx'],
  ['demo MLP', 'model.onnx'],
] as const) {
  const model = await loadOnnx(`${DEMO}/${file}`, { select: [1] });
  const s = await model.predict(all.data, all.nRows);
  const adverse = selectRows(
    all,
    Array.from(s.keys()).filter((i) => s[i] > 0.5),
  );
  const t0 = performance.now();
  const rep = await recourse(model, adverse, { schema, seed: 1, background: train });
  const ms = performance.now() - t0;
  const found = rep.rows.filter((r) => r.recourse.some((c) => c.changes.length <= 3)).length;
  const evals = rep.rows.map((r) => r.evaluations).sort((a, b) => a - b);
  const q = (p: number) => evals[Math.min(evals.length - 1, Math.floor(p * evals.length))];
  // independent check: decode, apply the changes to the raw record, encode, score
  const raw = decodeRows(schema, adverse);
  let cfs = 0;
  let favourable = 0;
  let violations = 0;
  for (const r of rep.rows) {
    violations += recourseViolations(schema, r).length;
    for (const cf of r.recourse) {
      const rec = { ...raw[r.index] };
      for (const ch of cf.changes) rec[ch.attribute] = ch.to;
      const [score] = await model.predict(encodeRecords(schema, [rec]).data, 1);
      cfs++;
      if (score <= 0.5 && Math.abs(score - cf.score) < 1e-9) favourable++;
    }
  }
  await model.close();
  const meanCount = rep.rows.reduce((a, r) => a + r.recourse.length, 0) / Math.max(1, rep.rows.length);
  recourseResults[name] = {
    adverse: adverse.nRows,
    withRecourse: found / adverse.nRows,
    evaluations: { median: q(0.5), p95: q(0.95), max: evals[evals.length - 1], mean: rep.evaluations / adverse.nRows },
    msPerApplicant: ms / adverse.nRows,
    counterfactuals: cfs,
    meanCounterfactuals: meanCount,
    rescoredFavourable: favourable,
    violations,
  };
  console.log(
    `${name.padEnd(20)} ${String(adverse.nRows).padStart(7)}  ${`${((found / adverse.nRows) * 100).toFixed(1)}%`.padStart(13)}  ${`${q(0.5)} / ${q(0.95)} / ${evals[evals.length - 1]}`.padStart(30)}  ${(ms / adverse.nRows).toFixed(1).padStart(24)}  ${favourable}/${cfs} (${violations} schema violations)`,
  );
}

// 5. certified reasons across 20 seeds
const certBackground = summarizeBackground(createBackground(train), Rng.fromSeed(3), { method: 'kmeans', rows: 20 });
const certResults: Record<string, unknown> = {};
{
  const model = await loadOnnx(`${DEMO}/model.onnx`, { select: [1] });
  const s = await model.predict(all.data, all.nRows);
  const adverse = selectRows(
    all,
    Array.from(s.keys()).filter((i) => s[i] > 0.5),
  );
  const players = schemaPlayers(schema);
  const SEEDS = 20;
  const nPlayers = players.names.length;
  const defaultBudget = 2 * nPlayers + 2048;
  console.log(
    `\ncertified reasons (demo MLP, its ${adverse.nRows} adverse applicants, ${SEEDS} seeds, background 20 k-means medoids, z 3, cap 16x the start; 1 thread):`,
  );
  console.log(
    'method        start budget   marked stable  stable with identical top-4 over seeds  rows identical over seeds  median budget / default  uncertified rows identical  seconds',
  );
  for (const [method, start] of [
    ['kernel', defaultBudget],
    ['kernel', 256],
    ['permutation', 256],
  ] as const) {
    const sets: string[][] = [];
    const stable: boolean[][] = [];
    const budgets: number[] = [];
    const plain: string[][] = [];
    const t0 = performance.now();
    for (let seed = 0; seed < SEEDS; seed++) {
      const res = await certifyReasons(
        (r, budget) => explain(model, r, { background: certBackground, players, seed, budget, method, threads: 1 }),
        adverse,
        { schema, templates, background: certBackground, budget: start, method },
      );
      const key = (d: { reasons: { attribute: string }[] }) =>
        d.reasons
          .map((x) => x.attribute)
          .sort()
          .join(',');
      sets.push(res.report.decisions.map(key));
      stable.push((res.certification ?? []).map((c) => c.reasonsStable));
      budgets.push(...(res.certification ?? []).map((c) => c.budget));
      if (start !== defaultBudget) {
        const e = await explain(model, adverse, {
          background: certBackground,
          players,
          seed,
          budget: start,
          method,
          threads: 1,
        });
        plain.push(reasonCodes(e, { schema, templates, background: certBackground }).decisions.map(key));
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    let nStable = 0;
    let agree = 0;
    let rowsIdentical = 0;
    let plainIdentical = 0;
    for (let r = 0; r < adverse.nRows; r++) {
      const stableSets = sets.filter((_, k) => stable[k][r]).map((x) => x[r]);
      nStable += stableSets.length;
      if (new Set(stableSets).size <= 1) agree += stableSets.length;
      if (new Set(sets.map((x) => x[r])).size === 1) rowsIdentical++;
      if (plain.length > 0 && new Set(plain.map((x) => x[r])).size === 1) plainIdentical++;
    }
    budgets.sort((a, b) => a - b);
    const median = budgets[Math.floor(budgets.length / 2)];
    const row = {
      method,
      startBudget: start,
      rows: adverse.nRows,
      seeds: SEEDS,
      markedStable: nStable / (adverse.nRows * SEEDS),
      stableIdentical: nStable > 0 ? agree / nStable : 1,
      rowsIdentical: rowsIdentical / adverse.nRows,
      medianBudgetOverDefault: median / defaultBudget,
      medianBudgetOverStart: median / start,
      maxBudget: budgets[budgets.length - 1],
      uncertifiedRowsIdentical: plain.length > 0 ? plainIdentical / adverse.nRows : undefined,
      seconds,
    };
    certResults[`${method} start ${start}`] = row;
    console.log(
      `${method.padEnd(12)}  ${String(start).padEnd(13)}  ${`${(row.markedStable * 100).toFixed(1)}%`.padStart(13)}  ${`${(row.stableIdentical * 100).toFixed(1)}%`.padStart(38)}  ${`${(row.rowsIdentical * 100).toFixed(1)}%`.padStart(25)}  ${row.medianBudgetOverDefault.toFixed(2).padStart(23)}  ${row.uncertifiedRowsIdentical === undefined ? '(= certified start)'.padStart(26) : `${(row.uncertifiedRowsIdentical * 100).toFixed(1)}%`.padStart(26)}  ${seconds.toFixed(0).padStart(7)}`,
    );
  }
  await model.close();
}

mkdirSync(`${ROOT}benchmarks/results`, { recursive: true });
writeFileSync(
  RESULTS,
  `${JSON.stringify(
    {
      ...previous,
      node: process.version,
      ...sections,
      recourse: recourseResults,
      certify: certResults,
    },
    null,
    2,
  )}\n`,
);
