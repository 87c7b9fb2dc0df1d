/**
 * `whybox evaluate`: faithfulness of a method's attributions on a model — deletion and
 * insertion AUCs against random orders, and infidelity (see whybox/testing's
 * evaluateFaithfulness for the definitions and the AUC normalisation).
 */
import { faithfulnessCurveSvg } from '../explanation/plots/faithfulness-curve.js';
import { esc } from '../explanation/report.js';
import type { FaithfulnessResult } from '../testing/faithfulness.js';
import { evaluateFaithfulness } from '../testing/faithfulness.js';
import { emit, int, UsageError, warner } from './args.js';
import type { QualityIO } from './quality-inputs.js';
import {
  COMMON_OPTIONS,
  COMMON_USAGE,
  loadQualityInputs,
  measureOptions,
  parseQualityFlags,
} from './quality-inputs.js';

export const EVALUATE_USAGE = `Usage: whybox evaluate --model M.onnx --data ROWS.csv --background BG.csv [options]

Measures how faithful a method's attributions are to the model: players are removed
(deletion) or added (insertion) in attribution order through the background masker, and
the areas under the curves are compared with random orders; infidelity is the mean squared
gap between Σ φ over random removed sets and the output change they cause (Yeh et al. 2019).

${COMMON_USAGE}
  --random-orders R        random orders per row for the baseline (default 10)
  --perturbations K        random removed sets per row for infidelity (default 50)
  --format json|table|html|svg
                           output format (default table); html: a report with the curves

JSON: { "method", "rows", "deletionAuc", "insertionAuc", "randomDeletionAuc",
"randomInsertionAuc", "infidelity", ... } — means over rows (and outputs). Curves are
sign(f(x) − base) · (v(S) − base), divided by the mean |f(x) − base| over the rows, so the
mean curves run from 1 to 0 (deletion: lower AUC is better) and from 0 to 1 (insertion:
higher is better). Exit codes: 0 success, 2 bad usage or bad input, 1 internal error.
`;

const EVALUATE_OPTIONS = {
  ...COMMON_OPTIONS,
  'random-orders': { type: 'string' },
  perturbations: { type: 'string' },
} as const;

/** Runs `whybox evaluate` with the arguments after the command name. */
export async function runEvaluate(args: readonly string[], io: QualityIO, signal: AbortSignal): Promise<number> {
  const flags = parseQualityFlags(args, EVALUATE_OPTIONS, 'evaluate');
  if (flags.help) {
    io.stdout.write(EVALUATE_USAGE);
    return 0;
  }
  const format = (flags.format as string | undefined) ?? 'table';
  if (!['json', 'table', 'html', 'svg'].includes(format))
    throw new UsageError(`--format must be json, table, html or svg; got ${JSON.stringify(format)}`);
  const randomOrders =
    flags['random-orders'] === undefined ? undefined : int(flags['random-orders'] as string, '--random-orders', 1);
  const perturbations =
    flags.perturbations === undefined ? undefined : int(flags.perturbations as string, '--perturbations', 1);
  const inputs = await loadQualityInputs(flags, 'evaluate', warner(io, flags.quiet === true));
  try {
    const result = await evaluateFaithfulness(inputs.model, inputs.rows, {
      ...measureOptions(inputs),
      randomOrders,
      perturbations,
      signal,
    });
    const method = (flags.method as string | undefined) ?? 'kernel';
    const text =
      format === 'json'
        ? `${JSON.stringify(toJson(result, method, inputs), null, 2)}\n`
        : format === 'svg'
          ? `${faithfulnessCurveSvg(result.curves, { title: `Deletion and insertion curves — ${inputs.methodName}` })}\n`
          : format === 'html'
            ? evaluationHtml(result, inputs.methodName, inputs.background.summary)
            : evaluationTable(result, inputs.methodName);
    await emit(text, flags.out as string | undefined, io);
    return 0;
  } finally {
    await inputs.close();
  }
}

function toJson(
  r: FaithfulnessResult,
  method: string,
  inputs: { methodName: string; budget?: number; background: { nRows: number; summary: string } },
) {
  return {
    method,
    rows: r.rows,
    deletionAuc: r.deletionAuc,
    insertionAuc: r.insertionAuc,
    randomDeletionAuc: r.randomDeletionAuc,
    randomInsertionAuc: r.randomInsertionAuc,
    infidelity: r.infidelity,
    attributionMethod: r.method,
    skipped: r.skipped,
    players: r.players,
    outputs: r.outputs,
    seed: r.seed,
    budget: inputs.budget ?? null,
    randomOrders: r.randomOrders,
    perturbations: r.perturbations,
    background: { rows: inputs.background.nRows, summary: inputs.background.summary },
    perRow: r.perRow,
    curves: r.curves,
  };
}

const f4 = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));

function evaluationTable(r: FaithfulnessResult, methodName: string): string {
  const lines = [
    `whybox evaluate: ${methodName}, ${r.rows} row(s), ${r.players.length} players, output(s) ${r.outputs.join(', ')} (seed ${r.seed})`,
    '',
    `                   attribution order   random order (${r.randomOrders})`,
    `  deletion AUC     ${f4(r.deletionAuc).padStart(17)}   ${f4(r.randomDeletionAuc).padStart(18)}   (lower is better)`,
    `  insertion AUC    ${f4(r.insertionAuc).padStart(17)}   ${f4(r.randomInsertionAuc).padStart(18)}   (higher is better)`,
    `  infidelity       ${r.infidelity.toExponential(3).padStart(17)}   (${r.perturbations} random removed sets per row; lower is better)`,
  ];
  if (r.skipped > 0) lines.push(`  (${r.skipped} output(s) left out: f(x) equals the base value in every row)`);
  return `${lines.join('\n')}\n`;
}

/** A self-contained HTML report of an evaluation: the metrics and the curves (SVG). */
export function evaluationHtml(r: FaithfulnessResult, methodName: string, backgroundSummary: string): string {
  const row = (name: string, a: number | null, b: number | null, note: string) =>
    `<tr><td>${name}</td><td class="num">${f4(a)}</td><td class="num">${f4(b)}</td><td>${note}</td></tr>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>whybox evaluation</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin-bottom:1.5em}td,th{padding:2px 10px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
</style></head><body>
<h1>whybox evaluation</h1>
<p>${esc(methodName)}: ${r.rows} row(s), ${r.players.length} players, output(s) ${esc(r.outputs.join(', '))}, seed ${r.seed}, background ${esc(backgroundSummary)}.</p>
<table><thead><tr><th>metric</th><th>attribution order</th><th>random order (${r.randomOrders})</th><th></th></tr></thead><tbody>
${row('deletion AUC', r.deletionAuc, r.randomDeletionAuc, 'lower is better')}
${row('insertion AUC', r.insertionAuc, r.randomInsertionAuc, 'higher is better')}
<tr><td>infidelity</td><td class="num">${r.infidelity.toExponential(3)}</td><td></td><td>${r.perturbations} random removed sets per row; lower is better</td></tr>
</tbody></table>
${faithfulnessCurveSvg(r.curves, { title: `Deletion and insertion curves — ${methodName}` })}
<p>Curves: sign(f(x) − base) · (v(S) − base), divided by the mean |f(x) − base| over the rows; v(S) replaces the columns of the players outside S by background values.</p>
</body></html>
`;
}
