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
import type { Figure } from './figure.js';
import { figureHtml, jsonForHtml, makeFigure, REPORT_CSS, SORT_SCRIPT } from './figure.js';
import { beeswarmSpec, decisionSpec, dependenceSpec } from './shapley-plots.js';
import { importanceSpec, waterfallSpec } from './specs.js';

/** Options of {@link formatCreditHtml}. */
export interface CreditHtmlOptions {
  schema: Schema;
  /** @defaultValue globalImportance(exp) */
  importance?: GlobalImportance;
  /** Applicant ids per input row (shown in headings). */
  ids?: readonly string[];
  /** The link of the explained output (a logit link also shows probabilities). @defaultValue 'identity' */
  link?: Link;
  /** Decisions drawn as waterfalls (adverse ones first, then in row order). @defaultValue 100 */
  maxWaterfalls?: number;
  /** Recourse of the same rows ({@link recourse}), shown next to the reasons. @defaultValue none */
  recourse?: RecourseReport;
  /** Certification of the reasons ({@link certifyReasons}), shown next to them. @defaultValue none */
  certification?: readonly RowCertification[];
}

/**
 * One self-contained HTML page (inline SVG and CSS, no network) for credit decisions: a
 * summary table (adverse decisions first, sortable by a click with a tiny inline script,
 * each row linking to its applicant), per decision its reasons and a waterfall (full
 * attribute labels, the threshold drawn and named), then the global importance bars, a
 * beeswarm (every attribute coloured: numeric by value, categorical by category), dependence
 * plots and a decision plot over all explained rows, the baseline and the audit record. Every
 * plot's root is `<svg data-plot="KIND">`; its Vega-Lite spec (data inline) is embedded next to
 * it in a `<script type="application/json" class="vega-lite-spec">` for reuse, and the
 * report's data in `<script id="whybox-data">`. Applicant sections outside the viewport are not
 * laid out until scrolled to (CSS `content-visibility`), so hundreds of applicants open fast.
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

  const order = report.decisions
    .map((dec, r) => ({ dec, r }))
    .sort(
      (a, b) =>
        Number(b.dec.decision === 'adverse') - Number(a.dec.decision === 'adverse') ||
        (a.dec.decision === 'adverse' ? b.dec.decisionScore - a.dec.decisionScore : 0) ||
        a.r - b.r,
    );
  // waterfalls for the first decisions in that order (adverse ones first)
  const waterfallRows = new Set(order.slice(0, options.maxWaterfalls ?? 100).map((x) => x.r));
  const figures = new Map<string, Figure>();
  const labelled = (p: number) => label(exp.players[p]);
  for (const { r } of order) {
    if (!waterfallRows.has(r)) continue;
    const f = await makeFigure(
      `waterfall-${r}`,
      'waterfall',
      waterfallSpec(exp, r, 0, {
        threshold,
        valueText: (p) => `${labelled(p)} = ${showValue(rawValueAt(r, p))}`,
        title: exp.lime
          ? `${who(exp.rowIndices[r])}: ${exp.outputs[0]} ${fmt(exp.predictions[r * exp.outputs.length])}; LIME local model ${fmt(exp.lime.localPrediction[r * exp.outputs.length])} from intercept ${fmt(exp.lime.intercept[r * exp.outputs.length])}`
          : `${who(exp.rowIndices[r])}: ${exp.outputs[0]} ${fmt(exp.predictions[r * exp.outputs.length])} from base value ${fmt(exp.baseValues[0])}`,
      }),
      {
        row: r,
        caption: exp.lime
          ? `Waterfall of the LIME local model: from its intercept by the weights of the attributes, largest first, to its local prediction (weighted R² ${fmt(exp.lime.score[r * exp.outputs.length])}); LIME weights do not add up to the score.`
          : 'Waterfall: from the base value (expected score over the background) to this score, largest contributions first; the solid line is the decision threshold.',
      },
    );
    figures.set(f.id, f);
  }
  const many = { schema, labels: label };
  const globals: Figure[] = [
    await makeFigure('importance', 'bar', importanceSpec(importance, { labels: label }), {
      caption: `Mean |contribution| per attribute over the ${exp.nRows} explained rows.`,
    }),
    await makeFigure('beeswarm', 'beeswarm', beeswarmSpec(exp, importance, many), {
      caption:
        'Each dot is one applicant: its contribution for the attribute. Numeric attributes are coloured by value (blue low, red high); categorical ones by category, the categories ordered by their mean contribution on the same scale (listed at the right, lowest first).',
    }),
  ];
  if (exp.nRows >= 5)
    globals.push(
      await makeFigure('dependence', 'dependence', dependenceSpec(exp, importance, many), {
        caption:
          'Contribution against value for the four most important attributes, coloured by the attribute that interacts most with each.',
      }),
      await makeFigure('decision', 'decision', decisionSpec(exp, importance, { ...many, threshold }), {
        caption: `Each line is one applicant (up to 200): from the base value at the bottom, adding the contributions of the attributes from the least to the most important, to its score at the top.`,
      }),
    );
  for (const f of globals) figures.set(f.id, f);
  const figure = (id: string) => {
    const f = figures.get(id);
    return f ? figureHtml(f) : '';
  };

  const decisions = order
    .map(({ dec, r }) => {
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
      return `<section class="row decision ${dec.decision}" id="decision-${r}" data-row="${dec.index}" data-decision="${dec.decision}" data-score="${dec.decisionScore}">
<h3><a href="#summary">↑</a> ${esc(who(dec.index))}: <span class="verdict">${dec.decision === 'adverse' ? 'ADVERSE' : 'favorable'}</span> — score ${esc(fmt(dec.decisionScore))}${esc(prob(dec.decisionScore))}</h3>
${reasons}
${stability}
${recourse}
${figure(`waterfall-${r}`)}
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
  const summary = order
    .map(
      ({ dec, r }) =>
        `<tr data-row="${dec.index}"><td data-sort="${esc(options.ids?.[dec.index] ?? String(dec.index))}"><a href="#decision-${r}">${esc(who(dec.index))}</a></td><td>${dec.decision}</td><td class="num" data-sort="${dec.decisionScore}">${esc(fmt(dec.decisionScore))}${esc(prob(dec.decisionScore))}</td><td>${esc(dec.reasons[0] ? `${dec.reasons[0].code ? `[${dec.reasons[0].code}] ` : ''}${dec.reasons[0].statement}` : '')}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>whybox credit decisions</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${REPORT_CSS}
section.decision{border-left:4px solid #ccc;padding-left:1em;margin:1.5em 0}
section.adverse{border-color:#ff0d57}section.favorable{border-color:#1e88e5}
.verdict{font-weight:bold}.code{font-family:monospace;background:#eee;padding:0 4px}
.contrib{color:#777;font-variant-numeric:tabular-nums}h3 a{text-decoration:none;color:#999}
</style></head><body>
<h1>whybox credit decisions</h1>
<p>${report.decisions.length} applicant(s), ${nAdverse} adverse. Contributions are ${exp.lime ? 'LIME local weights (a weighted linear model fitted around each applicant: per "in the applicant’s bin or category"; they do not add up to score − base value)' : 'Shapley values'} of each raw attribute (its one-hot columns together) for <b>${esc(exp.outputs[0])}</b>, ${exp.lime ? 'for reference the mean score' : 'relative to the <b>baseline</b>: the expected score'} ${esc(fmt(report.baseline.baseValue))}${esc(prob(report.baseline.baseValue))} over the background (${esc(report.baseline.background.summary)}). Red raises the score, blue lowers it. Up to ${report.top} principal reasons per adverse decision: attributes that pushed the score toward the adverse outcome, largest first; protected attributes are never reasons; contributions below ${report.tolerance * 100}% of the row's total |contribution| are not listed.</p>
${baselineAttrs}
<h2 id="summary">Summary</h2>
<p>Adverse decisions first (highest score first), then favorable ones in input order; click a column heading to sort, an applicant to go to its reasons${waterfallRows.size < report.decisions.length ? ` (waterfalls for the first ${waterfallRows.size} in this order)` : ''}.</p>
<table class="summary"><thead><tr><th>applicant</th><th>decision</th><th class="num">score</th><th>first reason</th></tr></thead><tbody>
${summary}
</tbody></table>
<h2>What matters most overall</h2>
${globals.map((f) => figureHtml(f)).join('\n')}
<h2>Decisions</h2>
${decisions}
<h2>Audit record</h2>
<table class="audit">${audit}</table>
<script type="application/json" id="whybox-data">${jsonForHtml(data)}</script>
${SORT_SCRIPT}
</body></html>
`;
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
