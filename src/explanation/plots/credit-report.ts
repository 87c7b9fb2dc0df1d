import { decodeValue } from '../../data/encoder.js';
import type { Schema } from '../../data/schema.js';
import type { RecourseReport } from '../../explainers/recourse.js';
import type { Link } from '../../models/model.js';
import type { RowCertification } from '../certify.js';
import type { Explanation } from '../explanation.js';
import type { GlobalImportance } from '../importance.js';
import { globalImportance } from '../importance.js';
import type { ReasonReport } from '../reasons.js';
import { categoryLabel } from '../reasons.js';
import { esc } from '../report.js';
import { renderSvg } from './render.js';
import type { VegaLiteSpec } from './specs.js';
import { beeswarmSpec, importanceSpec, waterfallSpec } from './specs.js';

/** Options of {@link formatCreditHtml}. */
export interface CreditHtmlOptions {
  schema: Schema;
  /** @defaultValue globalImportance(exp) */
  importance?: GlobalImportance;
  /** Applicant ids per input row (shown in headings). */
  ids?: readonly string[];
  /** The link of the explained output (a logit link also shows probabilities). @defaultValue 'identity' */
  link?: Link;
  /** Decisions drawn as waterfalls (adverse ones first, then in row order). @defaultValue 10 */
  maxWaterfalls?: number;
  /** Recourse of the same rows ({@link recourse}), shown next to the reasons. @defaultValue none */
  recourse?: RecourseReport;
  /** Certification of the reasons ({@link certifyReasons}), shown next to them. @defaultValue none */
  certification?: readonly RowCertification[];
}

/**
 * One self-contained HTML page (inline SVG and CSS, no script that runs, no network) for
 * credit decisions: per decision its reasons and a waterfall, the global importance bars and
 * a beeswarm over all explained rows, the baseline and the audit record. Every plot's
 * Vega-Lite spec (data inline) is embedded next to it in a `<script type="application/json"
 * class="vega-lite-spec">` for reuse, and the report's data in `<script id="whybox-data">`.
 */
export async function formatCreditHtml(
  exp: Explanation,
  report: ReasonReport,
  options: CreditHtmlOptions,
): Promise<string> {
  const { schema } = options;
  const importance = options.importance ?? globalImportance(exp);
  const label = (name: string) => schema.attributes.find((a) => a.name === name)?.label ?? name;
  const d = exp.columns.length;
  const attrs = exp.players.map((p) => schema.attributes.find((a) => a.name === p));
  const rawValueAt = (r: number, p: number) => {
    const a = attrs[p];
    return a ? decodeValue(a, exp.data, r * d, r) : null;
  };
  const logit = options.link === 'logit';
  const prob = (s: number) => (logit ? ` (p = ${(1 / (1 + Math.exp(-s))).toFixed(4)})` : '');
  const first = report.decisions[0]?.audit;
  const threshold = first?.threshold;
  const who = (index: number) =>
    options.ids?.[index] !== undefined ? `${options.ids[index]} (row ${index})` : `row ${index}`;

  const figures: { id: string; kind: string; spec: VegaLiteSpec; row?: number }[] = [];
  const order = report.decisions
    .map((dec, r) => ({ dec, r }))
    .sort((a, b) => Number(b.dec.decision === 'adverse') - Number(a.dec.decision === 'adverse') || a.r - b.r)
    .slice(0, options.maxWaterfalls ?? 10);
  const waterfallRows = new Set(order.map((x) => x.r));
  for (const { r } of order)
    figures.push({
      id: `waterfall-${r}`,
      kind: 'waterfall',
      row: r,
      spec: waterfallSpec(exp, r, 0, {
        threshold,
        valueText: (p) => `${exp.players[p]} = ${showValue(rawValueAt(r, p))}`,
        title: exp.lime
          ? `${who(exp.rowIndices[r])}: ${exp.outputs[0]} ${fmt(exp.predictions[r * exp.outputs.length])}; LIME local model ${fmt(exp.lime.localPrediction[r * exp.outputs.length])} from intercept ${fmt(exp.lime.intercept[r * exp.outputs.length])}`
          : `${who(exp.rowIndices[r])}: ${exp.outputs[0]} ${fmt(exp.predictions[r * exp.outputs.length])} from base value ${fmt(exp.baseValues[0])}`,
      }),
    });
  figures.push({ id: 'importance', kind: 'importance', spec: importanceSpec(importance, { labels: (n) => n }) });
  figures.push({ id: 'beeswarm', kind: 'beeswarm', spec: beeswarmSpec(exp, importance, { schema }) });
  const svgs = new Map<string, string>();
  for (const f of figures) svgs.set(f.id, await renderSvg(f.spec));

  const figure = (id: string, caption: string) => {
    const f = figures.find((x) => x.id === id);
    if (!f) return '';
    return `<figure class="plot" id="${id}" data-plot="${f.kind}"${f.row !== undefined ? ` data-row="${f.row}"` : ''}>
${svgs.get(id)}
<figcaption>${esc(caption)} <span class="spec-note">(Vega-Lite spec embedded below this plot)</span></figcaption>
<script type="application/json" class="vega-lite-spec" data-plot="${f.kind}" data-for="${id}">${jsonForHtml(f.spec)}</script>
</figure>`;
  };

  const decisions = report.decisions
    .map((dec, r) => {
      const reasons =
        dec.reasons.length === 0
          ? `<p class="none">${dec.decision === 'adverse' ? 'No attribute pushes the score toward the adverse outcome beyond the tolerance.' : 'Favorable decision: no reasons required.'}</p>`
          : `<ol class="reasons">${dec.reasons
              .map(
                (x) =>
                  `<li data-attribute="${esc(x.attribute)}" data-contribution="${x.contribution}">${x.code ? `<span class="code">${esc(x.code)}</span> ` : ''}${esc(x.statement)} <span class="contrib">${esc(signed(x.contribution))}</span></li>`,
              )
              .join('')}</ol>`;
      const cert = options.certification?.[r];
      const stability =
        cert && cert.stability !== 'no-reasons'
          ? `<p class="stability" data-stable="${cert.reasonsStable}">${
              cert.stability === 'exact'
                ? 'Reasons stable: exact values.'
                : cert.reasonsStable
                  ? `Reasons stable: set and order separated by their standard errors (budget ${cert.budget}).`
                  : `Reasons <b>not settled</b>: tie between ${esc((cert.tie ?? []).map(label).join(', '))} (budget ${cert.budget}).`
            }</p>`
          : '';
      const rec = options.recourse?.rows[r];
      const recourse =
        rec && rec.decision === 'adverse'
          ? rec.recourse.length === 0
            ? `<p class="recourse none" data-recourse="0">No change of at most ${options.recourse?.options.maxChanges} attributes found that makes the decision favourable (${rec.evaluations} model evaluations).</p>`
            : `<div class="recourse" data-recourse="${rec.recourse.length}"><p>What would change the decision (each verified by the model):</p><ol>${rec.recourse
                .map(
                  (cf) =>
                    `<li data-score="${cf.score}" data-cost="${cf.cost}">${cf.changes
                      .map((ch) => {
                        const a = schema.attributes.find((x) => x.name === ch.attribute);
                        const show = (v: string | number | null) => showValue(a ? categoryLabel(a, v) : v);
                        return `<span class="change" data-attribute="${esc(ch.attribute)}">${esc(label(ch.attribute))}: ${esc(show(ch.from))} → <b>${esc(show(ch.to))}</b></span>`;
                      })
                      .join(
                        '; ',
                      )} <span class="contrib">(score ${esc(fmt(cf.score))}${esc(prob(cf.score))})</span></li>`,
                )
                .join('')}</ol></div>`
          : '';
      return `<section class="decision ${dec.decision}" id="decision-${r}" data-row="${dec.index}" data-decision="${dec.decision}" data-score="${dec.decisionScore}">
<h3>${esc(who(dec.index))}: <span class="verdict">${dec.decision === 'adverse' ? 'ADVERSE' : 'favorable'}</span> — score ${esc(fmt(dec.decisionScore))}${esc(prob(dec.decisionScore))}</h3>
${reasons}
${stability}
${recourse}
${waterfallRows.has(r) ? figure(`waterfall-${r}`, exp.lime ? `Waterfall of the LIME local model: from its intercept by the weights of the attributes, largest first, to its local prediction (weighted R² ${fmt(exp.lime.score[r * exp.outputs.length])}); LIME weights do not add up to the score.` : 'Waterfall: from the base value (expected score over the background) to this score, largest contributions first.') : ''}
</section>`;
    })
    .join('\n');

  const audit = first
    ? Object.entries({
        'model file': first.modelFile ?? '',
        'model sha256': first.modelSha256 ?? '',
        'schema sha256': first.schemaSha256,
        'templates sha256': first.templatesSha256,
        method: `${first.method}${first.variant ? ` (${first.variant})` : ''}`,
        budget: String(first.budget),
        seed: String(first.seed),
        'whybox version': first.version,
        output: first.output,
        threshold: `${first.threshold} (${first.adverse} is adverse)`,
      })
        .map(([k, v]) => `<tr><th>${esc(k)}</th><td><code>${esc(v)}</code></td></tr>`)
        .join('')
    : '';
  const baselineAttrs = report.baseline.attributes
    ? `<details><summary>Background baseline per attribute (mean, or most frequent category)</summary><table>${Object.entries(
        report.baseline.attributes,
      )
        .map(([k, v]) => `<tr><th>${esc(label(k))}</th><td>${esc(showValue(v))}</td></tr>`)
        .join('')}</table></details>`
    : '';
  const data = {
    decisions: report.decisions,
    baseline: report.baseline,
    importance,
    ...(options.recourse ? { recourse: options.recourse.rows } : {}),
    ...(options.certification ? { certification: options.certification } : {}),
  };
  const nAdverse = report.decisions.filter((x) => x.decision === 'adverse').length;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>whybox credit decisions</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse}td,th{padding:2px 10px;text-align:left;vertical-align:top}
section.decision{border-left:4px solid #ccc;padding-left:1em;margin:1.5em 0}
section.adverse{border-color:#ff0d57}section.favorable{border-color:#1e88e5}
.verdict{font-weight:bold}.code{font-family:monospace;background:#eee;padding:0 4px}
.contrib{color:#777;font-variant-numeric:tabular-nums}
figure.plot{margin:1em 0}figure.plot svg{max-width:100%;height:auto}
figcaption{color:#555;font-size:12px}.spec-note{color:#999}
</style></head><body>
<h1>whybox credit decisions</h1>
<p>${report.decisions.length} applicant(s), ${nAdverse} adverse. Contributions are ${exp.lime ? 'LIME local weights (a weighted linear model fitted around each applicant: per "in the applicant’s bin or category"; they do not add up to score − base value)' : 'Shapley values'} of each raw attribute (its one-hot columns together) for <b>${esc(exp.outputs[0])}</b>, ${exp.lime ? 'for reference the mean score' : 'relative to the <b>baseline</b>: the expected score'} ${esc(fmt(report.baseline.baseValue))}${esc(prob(report.baseline.baseValue))} over the background (${esc(report.baseline.background.summary)}). Red raises the score, blue lowers it. Up to ${report.top} principal reasons per adverse decision: attributes that pushed the score toward the adverse outcome, largest first; protected attributes are never reasons; contributions below ${report.tolerance * 100}% of the row's total |contribution| are not listed.</p>
${baselineAttrs}
<h2>Decisions</h2>
${decisions}
<h2>What matters most overall</h2>
${figure('importance', `Mean |contribution| per attribute over the ${exp.nRows} explained rows.`)}
${figure('beeswarm', 'Each dot is one applicant: its contribution for the attribute; colour: the attribute value (numeric attributes), blue low to red high.')}
<h2>Audit record</h2>
<table class="audit">${audit}</table>
<script type="application/json" id="whybox-data">${jsonForHtml(data)}</script>
</body></html>
`;
}

/** JSON safe inside a `<script>` element (no `</script>`, no `<!--`). */
function jsonForHtml(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

function showValue(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '(unknown)';
  return typeof v === 'number' ? String(Number(v.toPrecision(6))) : v;
}

function fmt(v: number): string {
  return Number(v.toPrecision(4)).toString();
}

function signed(v: number): string {
  return `${v >= 0 ? '+' : '−'}${fmt(Math.abs(v))}`;
}
