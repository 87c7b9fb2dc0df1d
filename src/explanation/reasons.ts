import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describeFsError, parseJsonText, readTextFile } from '../data/csv.js';
import { decodeValue } from '../data/encoder.js';
import { closest } from '../data/players.js';
import type { Attribute, Schema } from '../data/schema.js';
import { DataError, describe, InvalidOptionError } from '../errors.js';
import type { Background } from '../sampling/background.js';
import type { Explanation, ExplanationJSON } from './explanation.js';
import { dims } from './explanation.js';

/**
 * Reason templates, as written in a templates file:
 *
 * ```json
 * {
 *   "default": "{label}: {value}",
 *   "reasons": {
 *     "duration_months": { "code": "R01", "higher": "Loan term is too long ({value} months)",
 *                          "lower": "Loan term is too short ({value} months)" },
 *     "checking_status": { "code": "R02", "categories": { "<0DM": "Checking account is overdrawn" },
 *                          "text": "Checking account status: {value}" },
 *     "purpose": "Purpose of the credit: {value}"
 *   }
 * }
 * ```
 *
 * Placeholders: `{value}` (the applicant's raw value), `{baseline}` (the background's mean, or
 * most frequent category), `{label}` (the schema label), `{attribute}` (the name), `{code}`.
 */
export interface ReasonTemplatesFile {
  /** Statement for attributes without an entry. @defaultValue none: every attribute that can be a reason needs an entry */
  default?: string;
  reasons: Record<string, string | ReasonTemplateEntry>;
}

/** One attribute's templates. The statement is the first that applies: `categories[value]`, then `higher` / `lower` (numeric value above / below the baseline), then `text`, then the file's `default`. */
export interface ReasonTemplateEntry {
  /** A reason code printed with the statement (e.g. `"R01"`). */
  code?: string;
  text?: string;
  higher?: string;
  lower?: string;
  categories?: Record<string, string>;
}

/** Parsed reason templates (from {@link parseReasonTemplates} or {@link loadReasonTemplates}). */
export interface ReasonTemplates {
  readonly default?: string;
  readonly reasons: Readonly<Record<string, Readonly<ReasonTemplateEntry>>>;
  /** SHA-256 (hex) of the templates text, for audit records. */
  readonly sha256: string;
  readonly source: string;
}

const PLACEHOLDERS = ['value', 'baseline', 'label', 'attribute', 'code'];

/** Reads and validates a reason templates file (see {@link parseReasonTemplates}). */
export async function loadReasonTemplates(path: string, schema?: Schema): Promise<ReasonTemplates> {
  return parseReasonTemplates(await readTextFile(path), path, schema);
}

/**
 * Validates reason templates (JSON text or object). With a `schema`, also checks that every
 * entry names a schema attribute, every category key is a category of it, and that every
 * attribute that can be a reason (not `protected`) has a statement (or there is a `default`).
 * @throws {DataError} naming the file and the faulty entry.
 */
export function parseReasonTemplates(
  json: string | ReasonTemplatesFile | unknown,
  source = 'reasons',
  schema?: Schema,
): ReasonTemplates {
  const text = typeof json === 'string' ? json : JSON.stringify(json);
  let raw: unknown = json;
  if (typeof json === 'string') raw = parseJsonText(json, source);
  const fail = (path: string, message: string): never => {
    throw new DataError(`${path} ${message}`, { file: source });
  };
  if (!isObject(raw)) fail('the templates', `must be an object {"reasons": {...}}; got ${describe(raw)}`);
  const file = raw as Record<string, unknown>;
  for (const k of Object.keys(file))
    if (!['default', 'reasons', 'description', '$schema'].includes(k))
      fail('the templates', `have an unknown field ${JSON.stringify(k)}; allowed: default, reasons, description`);
  if (file.default !== undefined) checkStatement(file.default, 'default', fail);
  if (!isObject(file.reasons))
    fail('reasons', `must be an object {"attribute": "statement" | {...}}; got ${describe(file.reasons)}`);
  const reasons: Record<string, ReasonTemplateEntry> = {};
  for (const [name, entry] of Object.entries(file.reasons as Record<string, unknown>)) {
    const at = `reasons.${name}`;
    let attribute: Attribute | undefined;
    if (schema) {
      attribute = schema.attributes.find((a) => a.name === name);
      if (!attribute) {
        const near = closest(
          name,
          schema.attributes.map((a) => a.name),
        );
        fail(at, `names no attribute of the schema${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}`);
      }
    }
    if (typeof entry === 'string') {
      checkStatement(entry, at, fail);
      reasons[name] = { text: entry };
      continue;
    }
    if (!isObject(entry)) fail(at, `must be a statement string or an object; got ${describe(entry)}`);
    const e = entry as Record<string, unknown>;
    const out: ReasonTemplateEntry = {};
    for (const [k, v] of Object.entries(e)) {
      if (k === 'code') {
        if (typeof v !== 'string' || v === '') fail(`${at}.code`, `must be a non-empty string; got ${describe(v)}`);
        out.code = v as string;
      } else if (k === 'text' || k === 'higher' || k === 'lower') {
        checkStatement(v, `${at}.${k}`, fail);
        out[k] = v as string;
        if (k !== 'text' && attribute?.type === 'categorical')
          fail(`${at}.${k}`, `is for numeric attributes; ${name} is categorical (use "categories")`);
      } else if (k === 'categories') {
        if (!isObject(v)) fail(`${at}.categories`, `must be an object {"category": "statement"}; got ${describe(v)}`);
        if (attribute?.type === 'numeric')
          fail(`${at}.categories`, `is for categorical attributes; ${name} is numeric (use "higher" / "lower")`);
        for (const [c, s] of Object.entries(v as Record<string, unknown>)) {
          if (attribute?.type === 'categorical' && !attribute.categories.includes(c))
            fail(
              `${at}.categories`,
              `names ${JSON.stringify(c)}, which is not a category of ${name} (${attribute.categories.map((x) => JSON.stringify(x)).join(', ')})`,
            );
          checkStatement(s, `${at}.categories.${c}`, fail);
        }
        out.categories = { ...(v as Record<string, string>) };
      } else fail(at, `has an unknown field ${JSON.stringify(k)}; allowed: code, text, higher, lower, categories`);
    }
    reasons[name] = out;
  }
  if (schema && file.default === undefined) {
    const lacking = schema.attributes.filter((a) => {
      if (a.protected) return false;
      const e = reasons[a.name];
      if (!e) return true;
      if (e.text) return false;
      if (a.type === 'numeric') return !(e.higher && e.lower);
      return !a.categories.every((c) => e.categories?.[c] !== undefined);
    });
    if (lacking.length > 0)
      fail(
        'reasons',
        `give no statement for ${lacking.map((a) => JSON.stringify(a.name)).join(', ')} (in some cases): add entries (a "text" covers every case) or a top-level "default"; protected attributes need none`,
      );
  }
  return {
    default: file.default as string | undefined,
    reasons,
    sha256: createHash('sha256').update(text).digest('hex'),
    source,
  };
}

function checkStatement(v: unknown, at: string, fail: (path: string, message: string) => never): void {
  if (typeof v !== 'string' || v.trim() === '') fail(at, `must be a non-empty statement string; got ${describe(v)}`);
  for (const m of (v as string).matchAll(/\{([^{}]*)\}/g))
    if (!PLACEHOLDERS.includes(m[1]))
      fail(at, `uses the placeholder {${m[1]}}; allowed: ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`);
}

/** Which score direction is adverse: `'higher'` (a risk score, P(bad)) or `'lower'` (a credit score, P(good)). */
export type AdverseDirection = 'higher' | 'lower';

/** Default relative tolerance below which a contribution counts as ~0 (see {@link ReasonOptions.tolerance}). */
export const REASON_TOLERANCE = 0.005;

/** Options of {@link reasonCodes}. */
export interface ReasonOptions {
  /** The schema the explanation's players come from (attribute names, protected flags, decoding). */
  schema: Schema;
  templates: ReasonTemplates;
  /** Reasons per decision, at most. @defaultValue 4 (Regulation B commentary: more than four is not helpful) */
  top?: number;
  /** Decision threshold on the explained output (in its units: a probability, or log-odds with a logit link). @defaultValue 0.5 */
  threshold?: number;
  /** `'higher'`: a score above the threshold is adverse; `'lower'`: below it. Equal is never adverse. @defaultValue 'higher' */
  adverse?: AdverseDirection;
  /** Output of the explanation that is the score. @defaultValue 0 */
  output?: number;
  /**
   * Contributions toward the adverse outcome of at most `tolerance × Σ_p |φ_p|` (the row's
   * total attribution), or 1e-12, are ~0 and never listed. @defaultValue {@link REASON_TOLERANCE} (0.5%)
   */
  tolerance?: number;
  /** Which decisions get reasons: `'adverse'` ones only, or `'all'` (key factors of approvals too). @defaultValue 'adverse' */
  reasonsFor?: 'adverse' | 'all';
  /** The background the explanation used (baselines of `{baseline}` and of higher/lower templates). */
  background?: Background | { readonly data: Float64Array; readonly nRows: number };
  /** Audit fields the explanation does not know: the model file's SHA-256 (see {@link sha256File}) and its path. */
  audit?: { modelSha256?: string; modelFile?: string };
}

/** One principal reason. */
export interface Reason {
  /** 1 = the strongest. */
  rank: number;
  attribute: string;
  label: string;
  code?: string;
  statement: string;
  /** The applicant's raw value (`null`: an unknown category encoded as zeros). */
  value: string | number | null;
  /** The background's mean (numeric) or most frequent category, when the background was given. */
  baseline?: string | number | null;
  /** φ of the attribute for the score (explanation units). */
  contribution: number;
}

/** Per-decision audit record: enough to reproduce and to trace the decision. */
export interface AuditRecord {
  row: number;
  decision: 'adverse' | 'favorable';
  score: number;
  threshold: number;
  adverse: AdverseDirection;
  output: string;
  modelSha256?: string;
  modelFile?: string;
  schemaSha256: string;
  templatesSha256: string;
  seed: number;
  method: string;
  variant?: string;
  budget: number | 'auto';
  exact: boolean;
  baseValue: number;
  background: { rows: number; summary: string };
  version: string;
}

/** One decision with its reasons. */
export interface Decision {
  /** Index of the row in the caller's input. */
  index: number;
  /** The score the decision is taken on (`decisionScore`, not `score`: LIME's `score` is its fit R²). */
  decisionScore: number;
  decision: 'adverse' | 'favorable';
  reasons: Reason[];
  audit: AuditRecord;
}

/** Reason codes of every explained row, and the baseline they are relative to. */
export interface ReasonReport {
  decisions: Decision[];
  baseline: {
    /** The expected score over the background: contributions are relative to it. */
    baseValue: number;
    background: { rows: number; summary: string };
    /** Per attribute: background mean (numeric) or most frequent category, when the background was given. */
    attributes?: Record<string, string | number | null>;
  };
  top: number;
  tolerance: number;
}

/**
 * The principal reasons of each decision: the attributes whose contributions pushed the score
 * toward the adverse outcome, largest first (ties: schema attribute order), at most `top`,
 * never a protected attribute and never a ~0 contribution (see `tolerance`), each rendered
 * through its template with the applicant's raw value.
 *
 * The explanation's players must be the schema's attributes (explain with
 * `players: schemaPlayers(schema)`).
 * @throws {InvalidOptionError} for bad options; {@link DataError} when the players are not
 *   the schema's attributes or a template is missing.
 * @example
 * const exp = await explain(model, encodeRecords(schema, records), { background, players: schemaPlayers(schema) });
 * const { decisions } = reasonCodes(exp, { schema, templates, threshold: 0.5, background });
 */
export function reasonCodes(exp: Explanation, options: ReasonOptions): ReasonReport {
  if (!options || typeof options !== 'object')
    throw new InvalidOptionError('options', 'an object with { schema, templates }', options);
  const { schema, templates } = options;
  if (!schema?.attributes || !schema.columns) throw new InvalidOptionError('schema', 'a Schema (loadSchema)', schema);
  if (!templates?.reasons)
    throw new InvalidOptionError('templates', 'ReasonTemplates (loadReasonTemplates)', templates);
  const top = options.top ?? 4;
  if (!Number.isInteger(top) || top < 1) throw new InvalidOptionError('top', 'a positive integer', top);
  const threshold = options.threshold ?? 0.5;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold))
    throw new InvalidOptionError('threshold', 'a finite number', threshold);
  const adverse = options.adverse ?? 'higher';
  if (adverse !== 'higher' && adverse !== 'lower')
    throw new InvalidOptionError('adverse', "'higher' or 'lower'", adverse);
  const tolerance = options.tolerance ?? REASON_TOLERANCE;
  if (typeof tolerance !== 'number' || !(tolerance >= 0) || tolerance >= 1)
    throw new InvalidOptionError('tolerance', 'a number in [0, 1)', tolerance);
  const reasonsFor = options.reasonsFor ?? 'adverse';
  if (reasonsFor !== 'adverse' && reasonsFor !== 'all')
    throw new InvalidOptionError('reasonsFor', "'adverse' or 'all'", reasonsFor);
  if (exp.lime?.discretizer === 'none')
    throw new InvalidOptionError(
      'the LIME discretizer',
      "'quartile' or 'decile' for reason codes",
      'none',
      "with Gaussian sampling a LIME weight is per training standard deviation, not the applicant's contribution: its sign does not say which way the applicant's value pushed the score",
    );
  const { nPlayers, nOutputs } = dims(exp);
  const o = options.output ?? 0;
  if (!Number.isInteger(o) || o < 0 || o >= nOutputs)
    throw new InvalidOptionError('output', `an output index in 0..${nOutputs - 1} (${exp.outputs.join(', ')})`, o);
  // players -> attributes
  const attrs = exp.players.map((p) => {
    const a = schema.attributes.find((x) => x.name === p);
    if (!a)
      throw new DataError(
        `the explanation's player ${JSON.stringify(p)} is no attribute of the schema ${schema.source}: explain with players: schemaPlayers(schema)`,
      );
    return a;
  });
  if (exp.columns.length !== schema.columns.length || exp.columns.some((c, i) => c !== schema.columns[i]))
    throw new DataError(
      `the explanation's columns are not the schema's ${schema.columns.length} model columns in order: encode the rows with encodeRecords(schema, ...)`,
    );
  const order = attrs.map((a) => schema.attributes.indexOf(a));
  const baselines = options.background ? backgroundBaselines(schema, options.background) : undefined;
  const sign = adverse === 'higher' ? 1 : -1;
  const d = exp.columns.length;
  const baseValue = exp.baseValues[o];
  const decisions: Decision[] = [];
  for (let r = 0; r < exp.nRows; r++) {
    const score = exp.predictions[r * nOutputs + o];
    const isAdverse = adverse === 'higher' ? score > threshold : score < threshold;
    let total = 0;
    for (let p = 0; p < nPlayers; p++) total += Math.abs(exp.values[(r * nPlayers + p) * nOutputs + o]);
    const floor = Math.max(1e-12, tolerance * total);
    const candidates: { p: number; push: number }[] = [];
    if (isAdverse || reasonsFor === 'all')
      for (let p = 0; p < nPlayers; p++) {
        if (attrs[p].protected) continue;
        const push = sign * exp.values[(r * nPlayers + p) * nOutputs + o];
        if (push > floor) candidates.push({ p, push });
      }
    candidates.sort((a, b) => b.push - a.push || order[a.p] - order[b.p]);
    const reasons = candidates.slice(0, top).map(({ p }, k): Reason => {
      const a = attrs[p];
      const value = decodeValue(a, exp.data, r * d, r);
      const baseline = baselines?.[a.name];
      const entry = templates.reasons[a.name];
      const statement = render(a, entry, templates, value, baseline);
      return {
        rank: k + 1,
        attribute: a.name,
        label: a.label,
        ...(entry?.code ? { code: entry.code } : {}),
        statement,
        value,
        ...(baselines ? { baseline } : {}),
        contribution: exp.values[(r * nPlayers + p) * nOutputs + o],
      };
    });
    const decision = isAdverse ? 'adverse' : 'favorable';
    decisions.push({
      index: exp.rowIndices[r],
      decisionScore: score,
      decision,
      reasons,
      audit: {
        row: exp.rowIndices[r],
        decision,
        score,
        threshold,
        adverse,
        output: exp.outputs[o],
        ...(options.audit?.modelSha256 ? { modelSha256: options.audit.modelSha256 } : {}),
        ...(options.audit?.modelFile ? { modelFile: options.audit.modelFile } : {}),
        schemaSha256: schema.sha256,
        templatesSha256: templates.sha256,
        seed: exp.meta.seed,
        method: exp.method,
        ...(exp.variant ? { variant: exp.variant } : {}),
        budget: exp.meta.budget,
        exact: exp.exact[r],
        baseValue,
        background: { ...exp.meta.background },
        version: exp.meta.version,
      },
    });
  }
  return {
    decisions,
    baseline: {
      baseValue,
      background: { ...exp.meta.background },
      ...(baselines ? { attributes: baselines } : {}),
    },
    top,
    tolerance,
  };
}

function render(
  a: Attribute,
  entry: ReasonTemplateEntry | undefined,
  templates: ReasonTemplates,
  value: string | number | null,
  baseline: string | number | null | undefined,
): string {
  let t: string | undefined;
  if (entry?.categories && typeof value === 'string') t = entry.categories[value];
  if (t === undefined && a.type === 'numeric' && typeof value === 'number' && typeof baseline === 'number') {
    if (value > baseline) t = entry?.higher;
    else if (value < baseline) t = entry?.lower;
  }
  if (
    t === undefined &&
    a.type === 'numeric' &&
    baseline === undefined &&
    (entry?.higher || entry?.lower) &&
    !entry?.text
  )
    throw new InvalidOptionError(
      'background',
      `the background rows (the reason template of ${JSON.stringify(a.name)} depends on whether the value is above or below the background mean)`,
      undefined,
    );
  t ??= entry?.text ?? templates.default;
  if (t === undefined)
    throw new DataError(
      `has no statement for attribute ${JSON.stringify(a.name)} with value ${describe(value)}: add an entry (a "text" covers every case) or a top-level "default"`,
      { file: templates.source },
    );
  const values: Record<string, string> = {
    value: showValue(categoryLabel(a, value)),
    baseline: baseline === undefined ? '' : showValue(categoryLabel(a, baseline)),
    label: a.label,
    attribute: a.name,
    code: entry?.code ?? '',
  };
  return t.replace(/\{([^{}]*)\}/g, (_, k: string) => values[k] ?? `{${k}}`);
}

/**
 * The display form of a raw value: a categorical attribute's category label (schema
 * `categories: [{ "value", "label" }]`), else the value itself.
 */
export function categoryLabel(a: Attribute, value: string | number | null): string | number | null {
  if (a.type !== 'categorical' || typeof value !== 'string') return value;
  const k = a.categories.indexOf(value);
  return k >= 0 ? (a.categoryLabels?.[k] ?? value) : value;
}

function showValue(v: string | number | null): string {
  if (v === null) return '(unknown)';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  return v;
}

/**
 * Per attribute, the background's baseline raw value: the weighted mean of a numeric
 * attribute, the most frequent category of a categorical one (ties: the first category).
 */
export function backgroundBaselines(
  schema: Schema,
  background: Background | { readonly data: Float64Array; readonly nRows: number },
): Record<string, string | number | null> {
  const d = schema.columns.length;
  const n = background.nRows;
  if (background.data.length !== n * d)
    throw new DataError(
      `background holds ${background.data.length} values; ${n} rows of ${d} schema columns need ${n * d}`,
    );
  const w = 'weights' in background ? background.weights : new Float64Array(n).fill(1 / n);
  const out: Record<string, string | number | null> = {};
  for (const a of schema.attributes) {
    if (a.type === 'numeric') {
      let s = 0;
      let ws = 0;
      for (let b = 0; b < n; b++) {
        s += w[b] * (decodeValue(a, background.data, b * d, b) as number);
        ws += w[b];
      }
      out[a.name] = Number((s / ws).toPrecision(6));
    } else {
      const counts = new Map<string | null, number>();
      for (let b = 0; b < n; b++) {
        const v = decodeValue(a, background.data, b * d, b) as string | null;
        counts.set(v, (counts.get(v) ?? 0) + w[b]);
      }
      let best: string | null = null;
      let bestW = -1;
      for (const c of [...a.categories, null]) {
        const cw = counts.get(c) ?? 0;
        if (cw > bestW) {
          bestW = cw;
          best = c;
        }
      }
      out[a.name] = best;
    }
  }
  return out;
}

/** SHA-256 (hex) of a file's bytes, for the `modelSha256` of audit records. */
export async function sha256File(path: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new DataError(describeFsError(error, path), {}, { cause: error });
  }
  return createHash('sha256').update(bytes).digest('hex');
}

function isObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The `--format json` contract extended with reasons: every ExplanationJSON field, plus per row `decisionScore`, `decision`, `reasons`, `audit`, and top-level `baseline` and `reasonOptions`. */
export type ExplanationWithReasonsJSON = Omit<ExplanationJSON, 'rows'> & {
  rows: (ExplanationJSON['rows'][number] & Omit<Decision, 'index'>)[];
  baseline: ReasonReport['baseline'];
  reasonOptions: { top: number; tolerance: number; threshold: number; adverse: AdverseDirection; output: string };
};

/** Adds a {@link ReasonReport} to the JSON form of its explanation (extends, renames nothing). */
export function reasonsToJSON(json: ExplanationJSON, report: ReasonReport): ExplanationWithReasonsJSON {
  if (json.rows.length !== report.decisions.length)
    throw new InvalidOptionError('report', `one decision per row (${json.rows.length})`, report.decisions.length);
  const first = report.decisions[0]?.audit;
  return {
    ...json,
    rows: json.rows.map((row, r) => {
      const { index: _index, ...rest } = report.decisions[r];
      return { ...row, ...rest };
    }),
    baseline: report.baseline,
    reasonOptions: {
      top: report.top,
      tolerance: report.tolerance,
      threshold: first?.threshold ?? 0.5,
      adverse: first?.adverse ?? 'higher',
      output: first?.output ?? json.outputs[0],
    },
  };
}
