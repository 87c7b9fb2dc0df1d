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
import type { Attribute, Schema } from '../data/schema.js';
import { loadSchema, schemaPlayers } from '../data/schema.js';
import { DataError, InvalidOptionError } from '../errors.js';
import type { ExplainOptions } from '../explain.js';
import { explain } from '../explain.js';
import type { RecourseReport } from '../explainers/recourse.js';
import { RECOURSE_DEFAULTS, recourse } from '../explainers/recourse.js';
import type { RowCertification } from '../explanation/certify.js';
import { CERTIFY_Z, certifiedRowJSON, certifyReasons } from '../explanation/certify.js';
import type { Explanation } from '../explanation/explanation.js';
import { explanationToJSON } from '../explanation/explanation.js';
import { globalImportance } from '../explanation/importance.js';
import { formatCreditHtml } from '../explanation/plots/credit-report.js';
import type { AdverseDirection, ReasonReport, ReasonTemplates } from '../explanation/reasons.js';
import {
  categoryLabel,
  loadReasonTemplates,
  parseReasonTemplates,
  reasonCodes,
  reasonsToJSON,
  sha256File,
} from '../explanation/reasons.js';
import type { Link, Model } from '../models/model.js';
import { int, UsageError } from './args.js';

/** Flags of the credit mode that `whybox explain` parses (spread into its options). */
export const CREDIT_FLAGS = {
  recourse: { type: 'boolean' },
  'max-changes': { type: 'string' },
  'recourse-count': { type: 'string' },
  'recourse-budget': { type: 'string' },
  certify: { type: 'boolean' },
  'certify-z': { type: 'string' },
} as const;

/** Usage text of {@link CREDIT_FLAGS}. */
export const CREDIT_USAGE = `  --recourse              per adverse applicant, up to --recourse-count counterfactuals: changes
                           to mutable attributes (schema "mutable", "direction", "step") that make
                           the decision favourable, each verified by a model call
  --max-changes N          changed attributes per counterfactual, at most (default ${RECOURSE_DEFAULTS.maxChanges})
  --recourse-count K       counterfactuals per applicant, at most (default ${RECOURSE_DEFAULTS.count})
  --recourse-budget N      model evaluations per applicant, at most (default ${RECOURSE_DEFAULTS.budget})
  --certify                raise the budget (doubling) until the reasons' set and order are
                           separated by --certify-z standard errors, or report the tie
  --certify-z Z            separation in standard errors (default ${CERTIFY_Z})
`;

/** Flags of the credit mode (strings as parsed). */
export interface CreditFlags {
  schema?: string;
  reasons?: string;
  top?: string;
  threshold?: string;
  adverse?: string;
  groups?: string;
  recourse?: boolean;
  'max-changes'?: string;
  'recourse-count'?: string;
  'recourse-budget'?: string;
  certify?: boolean;
  'certify-z'?: string;
}

/** The credit flags that need --schema (for the CLI's check). */
export const CREDIT_FLAG_NAMES = Object.keys(CREDIT_FLAGS) as (keyof typeof CREDIT_FLAGS)[];

/** Recourse and certification results of the credit mode. */
export interface CreditExtras {
  recourse?: RecourseReport;
  certification?: RowCertification[];
  z?: number;
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
  /** `--recourse` settings, when asked for. */
  readonly recourse?: { count: number; maxChanges: number; budget: number };
  /** `--certify` settings, when asked for. */
  readonly certify?: { z: number };
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
  for (const f of ['max-changes', 'recourse-count', 'recourse-budget'] as const)
    if (flags[f] !== undefined && !flags.recourse) throw new UsageError(`--${f} needs --recourse`);
  if (flags['certify-z'] !== undefined && !flags.certify) throw new UsageError('--certify-z needs --certify');
  const recourseSettings = flags.recourse
    ? {
        count:
          flags['recourse-count'] === undefined
            ? RECOURSE_DEFAULTS.count
            : int(flags['recourse-count'], '--recourse-count', 1),
        maxChanges:
          flags['max-changes'] === undefined
            ? RECOURSE_DEFAULTS.maxChanges
            : int(flags['max-changes'], '--max-changes', 1),
        budget:
          flags['recourse-budget'] === undefined
            ? RECOURSE_DEFAULTS.budget
            : int(flags['recourse-budget'], '--recourse-budget', 2),
      }
    : undefined;
  let certify: { z: number } | undefined;
  if (flags.certify) {
    const z = flags['certify-z'] === undefined ? CERTIFY_Z : finite(flags['certify-z'], '--certify-z');
    if (!(z > 0)) throw new InvalidOptionError('--certify-z', 'a number > 0', flags['certify-z']);
    certify = { z };
  }
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
    ...(recourseSettings ? { recourse: recourseSettings } : {}),
    ...(certify ? { certify } : {}),
  };
}

/**
 * Explains the credit rows, certified with `--certify`, and adds recourse with `--recourse`.
 * `rowIndices` are the rows' indices in the input (`--rows`).
 */
export async function explainCredit(
  model: Model,
  rows: Dataset,
  options: ExplainOptions,
  ctx: CreditContext,
  background: Dataset,
  rowIndices?: readonly number[],
): Promise<{ exp: Explanation; report: ReasonReport; extras: CreditExtras }> {
  const extras: CreditExtras = {};
  let exp: Explanation;
  if (ctx.certify) {
    if (options.budget === 'auto')
      throw new InvalidOptionError(
        '--budget',
        'a number (or unset) with --certify',
        'auto',
        '--certify doubles the budget itself',
      );
    const res = await certifyReasons((r, budget) => explain(model, r, { ...options, budget }), rows, {
      schema: ctx.schema,
      templates: ctx.templates,
      top: ctx.top,
      threshold: ctx.threshold,
      adverse: ctx.adverse,
      background,
      method: options.method,
      budget: options.budget,
      z: ctx.certify.z,
    });
    exp = res.explanation;
    extras.certification = res.certification?.map((c) => ({ ...c, index: rowIndices?.[c.index] ?? c.index }));
    extras.z = res.z;
  } else exp = await explain(model, rows, options);
  if (rowIndices) exp = { ...exp, rowIndices };
  const report = await creditReport(exp, ctx, background);
  if (ctx.recourse) {
    const rec = await recourse(model, rows, {
      schema: ctx.schema,
      threshold: ctx.threshold,
      adverse: ctx.adverse,
      count: ctx.recourse.count,
      maxChanges: ctx.recourse.maxChanges,
      budget: ctx.recourse.budget,
      seed: exp.meta.seed,
      background,
      explanation: exp.lime ? undefined : exp,
      signal: options.signal,
    });
    extras.recourse = rec;
  }
  return { exp, report, extras };
}

/** Per-row JSON fields of the extras (merged into the rows of `--format json`). */
export function extrasRowJSON(extras: CreditExtras | undefined, r: number): Record<string, unknown> {
  return extras ? certifiedRowJSON(extras, r) : {};
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
  extras?: CreditExtras,
): Promise<string> {
  const importance = globalImportance(exp);
  if (format === 'json') {
    const json = reasonsToJSON(explanationToJSON(exp), report);
    const rows = json.rows.map((row, r) => ({ ...row, ...extrasRowJSON(extras, r) }));
    const top: Record<string, unknown> = {};
    if (extras?.recourse) top.recourseOptions = extras.recourse.options;
    if (extras?.certification) top.certify = { z: extras.z };
    return `${JSON.stringify({ ...json, rows, ...top, importance }, null, 2)}\n`;
  }
  if (format === 'html')
    return formatCreditHtml(exp, report, {
      schema: ctx.schema,
      importance,
      ids: ctx.ids,
      link: ctx.link,
      recourse: extras?.recourse,
      certification: extras?.certification,
    });
  return formatDecisions(exp, report, ctx, extras);
}

/** The plain-text decisions: per applicant the decision, the score and the reasons. */
export function formatDecisions(
  exp: Explanation,
  report: ReasonReport,
  ctx: CreditContext,
  extras?: CreditExtras,
): string {
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
  report.decisions.forEach((d, r) => {
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
    const c = extras?.certification?.[r];
    if (c && c.stability !== 'no-reasons')
      out.push(
        c.stability === 'exact'
          ? `  reasons stable: yes (exact values)${c.tie ? `; exactly equal: ${c.tie.join(', ')}` : ''}`
          : c.reasonsStable
            ? `  reasons stable: yes (separated by ${extras?.z} s.e. at budget ${c.budget})`
            : `  reasons stable: NO — tie between ${c.tie?.join(', ')} at budget ${c.budget} (the order among them is not settled)`,
      );
    const rec = extras?.recourse?.rows[r];
    if (rec && rec.decision === 'adverse') {
      if (rec.recourse.length === 0)
        out.push(
          `  no counterfactual of at most ${extras?.recourse?.options.maxChanges} changes found within ${rec.evaluations} model evaluations`,
        );
      else {
        out.push('  what would change the decision (each verified by the model):');
        rec.recourse.forEach((cf, k) => {
          const changes = cf.changes
            .map((ch) => {
              const a = ctx.schema.attributes.find((x) => x.name === ch.attribute);
              return `${a?.label ?? ch.attribute}: ${showRaw(a, ch.from)} → ${showRaw(a, ch.to)}`;
            })
            .join('; ');
          out.push(
            `    ${String.fromCharCode(97 + (k % 26))}) ${changes}  (score ${show(cf.score)}, cost ${cf.cost.toPrecision(3)})`,
          );
        });
      }
    }
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

function showRaw(a: Attribute | undefined, v: string | number | null): string {
  const shown = a ? categoryLabel(a, v) : v;
  return shown === null ? '(unknown)' : String(shown);
}

function signed(v: number): string {
  return `${v >= 0 ? '+' : '−'}${Math.abs(v).toPrecision(3)}`;
}

function finite(s: string, flag: string): number {
  const v = Number(s);
  if (s.trim() === '' || !Number.isFinite(v)) throw new InvalidOptionError(flag, 'a finite number', s);
  return v;
}
