/**
 * The credit-decision mode of `whybox explain` (`--schema`): raw records in, decisions with
 * principal reasons and audit records out. Used by `whybox demo` too. Only the public
 * library API is used.
 */
import { basename } from 'node:path';
import { loadCsv } from '../data/csv.js';
import type { Dataset } from '../data/dataset.js';
import type { RawTable } from '../data/encoder.js';
import { encodeRecords, loadRawCsv } from '../data/encoder.js';
import type { Players } from '../data/players.js';
import type { Schema } from '../data/schema.js';
import { loadSchema, schemaPlayers } from '../data/schema.js';
import { DataError, InvalidOptionError } from '../errors.js';
import type { Explanation } from '../explanation/explanation.js';
import { explanationToJSON } from '../explanation/explanation.js';
import { globalImportance } from '../explanation/importance.js';
import { formatCreditHtml } from '../explanation/plots/credit-report.js';
import type { AdverseDirection, ReasonReport, ReasonTemplates } from '../explanation/reasons.js';
import {
  loadReasonTemplates,
  parseReasonTemplates,
  reasonCodes,
  reasonsToJSON,
  sha256File,
} from '../explanation/reasons.js';
import type { Link } from '../models/model.js';
import { int } from './args.js';

/** Flags of the credit mode (strings as parsed). */
export interface CreditFlags {
  schema?: string;
  reasons?: string;
  top?: string;
  threshold?: string;
  adverse?: string;
  groups?: string;
}

/** Everything the credit mode needs besides the model. */
export interface CreditContext {
  readonly schema: Schema;
  readonly templates: ReasonTemplates;
  readonly data: Dataset;
  readonly players: Players;
  /** Per data row: an id from the `id` column of the raw CSV, when there is one. */
  readonly ids?: readonly string[];
  readonly top: number;
  /** Threshold in the explanation's units (log-odds under a logit link). */
  readonly threshold: number;
  /** Threshold as given (the model's output units). */
  readonly thresholdGiven: number;
  readonly adverse: AdverseDirection;
  readonly link: Link;
  readonly modelFile: string;
}

/** Statement used for attributes when no `--reasons` file is given. */
const GENERIC_TEMPLATES = { default: '{label}: {value}', reasons: {} };

/** Loads the schema, templates and raw rows, and validates the credit flags. */
export async function loadCredit(
  flags: CreditFlags,
  paths: { schema: string; reasons?: string; data: string; model: string },
  link: Link,
): Promise<CreditContext> {
  if (flags.groups !== undefined)
    throw new InvalidOptionError(
      '--groups',
      'unset with --schema',
      flags.groups,
      'the schema groups each attribute’s columns',
    );
  const top = flags.top === undefined ? 4 : int(flags.top, '--top', 1);
  const thresholdGiven = flags.threshold === undefined ? 0.5 : finite(flags.threshold, '--threshold');
  if (link === 'logit' && !(thresholdGiven > 0 && thresholdGiven < 1))
    throw new InvalidOptionError('--threshold', 'a probability in (0, 1) with --link logit', flags.threshold);
  const threshold = link === 'logit' ? Math.log(thresholdGiven / (1 - thresholdGiven)) : thresholdGiven;
  const adverse = (flags.adverse ?? 'higher') as AdverseDirection;
  if (adverse !== 'higher' && adverse !== 'lower')
    throw new InvalidOptionError('--adverse', 'higher or lower', flags.adverse);
  const schema = await loadSchema(paths.schema);
  const templates = paths.reasons
    ? await loadReasonTemplates(paths.reasons, schema)
    : parseReasonTemplates(GENERIC_TEMPLATES, '(generic statements)', schema);
  const table = await loadRawCsv(paths.data);
  const data = encodeRecords(schema, table);
  const ids = table.header.includes('id') ? table.records.map((r) => r.id) : undefined;
  return {
    schema,
    templates,
    data,
    players: schemaPlayers(schema),
    ids,
    top,
    threshold,
    thresholdGiven,
    adverse,
    link,
    modelFile: paths.model,
  };
}

/**
 * Background rows for the credit mode: a CSV of model columns (the schema's `columns`
 * header, numbers only) or of raw records (attribute names), told apart by the header.
 */
export async function loadCreditBackground(path: string, schema: Schema): Promise<Dataset> {
  const table: RawTable = await loadRawCsv(path);
  const isModelColumns =
    table.header.length === schema.columns.length && table.header.every((h, i) => h === schema.columns[i]);
  if (isModelColumns) return loadCsv(path, { expectColumns: schema.columns });
  if (schema.attributes.every((a) => table.header.includes(a.name))) return encodeRecords(schema, table);
  throw new DataError(
    `header is neither the schema's ${schema.columns.length} model columns in order nor its ${schema.attributes.length} attribute names: give background rows in one of the two forms`,
    { file: path, line: 1 },
  );
}

/** Decisions and reasons for an explanation made in the credit mode. */
export async function creditReport(
  exp: Explanation,
  ctx: CreditContext,
  background: Dataset | { data: Float64Array; nRows: number },
): Promise<ReasonReport> {
  return reasonCodes(exp, {
    schema: ctx.schema,
    templates: ctx.templates,
    top: ctx.top,
    threshold: ctx.threshold,
    adverse: ctx.adverse,
    background,
    audit: { modelSha256: await sha256File(ctx.modelFile), modelFile: basename(ctx.modelFile) },
  });
}

/** Renders the credit mode's output (`table`, `json` or `html`). */
export async function renderCredit(
  exp: Explanation,
  report: ReasonReport,
  ctx: CreditContext,
  format: string,
): Promise<string> {
  const importance = globalImportance(exp);
  if (format === 'json')
    return `${JSON.stringify({ ...reasonsToJSON(explanationToJSON(exp), report), importance }, null, 2)}\n`;
  if (format === 'html')
    return formatCreditHtml(exp, report, { schema: ctx.schema, importance, ids: ctx.ids, link: ctx.link });
  return formatDecisions(exp, report, ctx);
}

/** The plain-text decisions: per applicant the decision, the score and the reasons. */
export function formatDecisions(exp: Explanation, report: ReasonReport, ctx: CreditContext): string {
  const out: string[] = [];
  const first = report.decisions[0]?.audit;
  const logit = ctx.link === 'logit';
  const show = (s: number) =>
    logit ? `${s.toFixed(4)} log-odds (p = ${(1 / (1 + Math.exp(-s))).toFixed(4)})` : s.toFixed(4);
  out.push(
    `whybox credit decisions: ${exp.nRows} applicant(s); model ${first?.modelFile ?? ''} (sha256 ${first?.modelSha256?.slice(0, 12) ?? '?'}…), schema ${basename(ctx.schema.source)} (sha256 ${ctx.schema.sha256.slice(0, 12)}…)`,
  );
  out.push(
    `score: ${exp.outputs[0]}; ${ctx.adverse} is adverse; threshold ${ctx.thresholdGiven}${logit ? ` (log-odds ${ctx.threshold.toFixed(4)})` : ''}; up to ${report.top} reasons (protected attributes never)`,
  );
  out.push(
    exp.lime
      ? `contributions: LIME local weights (they do not add up to score − base); mean score ${show(report.baseline.baseValue)} over the ${report.baseline.background.summary}, for reference; lime, seed ${exp.meta.seed}, ${exp.lime.numSamples} samples per applicant, whybox ${exp.meta.version}`
      : `baseline: expected score ${show(report.baseline.baseValue)} over the background (${report.baseline.background.summary}); ${exp.method}${exp.variant ? ` (${exp.variant})` : ''}, seed ${exp.meta.seed}, budget ${exp.meta.budget}, whybox ${exp.meta.version}`,
  );
  report.decisions.forEach((d) => {
    const who = ctx.ids ? `${ctx.ids[d.index] ?? `row ${d.index}`} (row ${d.index})` : `row ${d.index}`;
    out.push('');
    out.push(
      `Applicant ${who}: ${d.decision === 'adverse' ? 'ADVERSE' : 'favorable'} — score ${show(d.decisionScore)}`,
    );
    if (d.decision === 'adverse' && d.reasons.length === 0)
      out.push('  (no attribute pushes the score toward the adverse outcome by more than the tolerance)');
    for (const reason of d.reasons)
      out.push(
        `  ${reason.rank}. ${reason.code ? `[${reason.code}] ` : ''}${reason.statement}  (${signed(reason.contribution)})`,
      );
  });
  const imp = globalImportance(exp);
  out.push('');
  out.push(
    `What matters most overall (mean |contribution| over ${exp.nRows} applicant${exp.nRows === 1 ? '' : 's'}): ${imp.players
      .slice(0, 8)
      .map((p, k) => `${p} ${imp.meanAbs[k].toPrecision(3)}`)
      .join(', ')}${imp.players.length > 8 ? ', ...' : ''}`,
  );
  return `${out.join('\n')}\n`;
}

function signed(v: number): string {
  return `${v >= 0 ? '+' : '−'}${Math.abs(v).toPrecision(3)}`;
}

function finite(s: string, flag: string): number {
  const v = Number(s);
  if (s.trim() === '' || !Number.isFinite(v)) throw new InvalidOptionError(flag, 'a finite number', s);
  return v;
}
