/** `whybox surrogate --format html`: the tree drawn, its fidelity (and warning), rules and importances. */
import type { SurrogateTree } from '../../explainers/surrogate-tree.js';
import { surrogateImportance, surrogateRules } from '../../explainers/surrogate-tree.js';
import { esc } from '../report.js';
import { figureHtml, makeFigure, REPORT_CSS } from './figure.js';
import type { VegaLiteSpec } from './specs.js';
import { fmt, SCHEMA_URL, UP } from './specs.js';
import { fidelitySentence, treeSpec } from './tree-plot.js';

/** Bars of the surrogate's feature importances (impurity decrease), features with importance > 0. */
export function surrogateImportanceSpec(s: SurrogateTree): VegaLiteSpec {
  const values = surrogateImportance(s)
    .filter((x) => x.importance > 0)
    .map((x, rank) => ({ ...x, rank }));
  return {
    $schema: SCHEMA_URL,
    title: 'Surrogate feature importance (share of impurity decrease)',
    width: 360,
    height: { step: 18 },
    data: { values },
    mark: { type: 'bar', color: UP },
    encoding: {
      y: { field: 'feature', type: 'nominal', sort: { field: 'rank' }, title: null, axis: { labelLimit: 400 } },
      x: { field: 'importance', type: 'quantitative', title: 'importance' },
      tooltip: [
        { field: 'feature', type: 'nominal' },
        { field: 'importance', type: 'quantitative', format: '.4f' },
      ],
    },
  };
}

/** A self-contained HTML page of a surrogate tree (no network). */
export async function formatSurrogateHtml(s: SurrogateTree): Promise<string> {
  const tree = await makeFigure('tree', 'tree', treeSpec(s), {
    caption: 'The tree, root on top; the left branch of a split holds the rows that satisfy its condition.',
  });
  const figs = [tree];
  if (surrogateImportance(s).some((x) => x.importance > 0))
    figs.push(await makeFigure('importance', 'bar', surrogateImportanceSpec(s)));
  const total = s.tree.samples[0];
  const rules = surrogateRules(s)
    .map(
      (r) =>
        `<tr><td>${esc(r.conditions.length ? r.conditions.join(' and ') : 'always')}</td><td class="num">${esc(typeof r.prediction === 'number' ? fmt(r.prediction) : `${r.prediction} (p ${fmt(r.probabilities?.[r.prediction] ?? 0)})`)}</td><td class="num">${r.samples}</td><td class="num">${((100 * r.samples) / total).toFixed(1)}%</td></tr>`,
    )
    .join('\n');
  const perClass = s.fidelity.perClass
    ? `<table><tr><th>class</th><th class="num">rows</th><th class="num">agreement</th><th class="num">precision</th></tr>${s.fidelity.perClass.map((c) => `<tr><td>${esc(c.class)}</td><td class="num">${c.support}</td><td class="num">${fmt(c.agreement)}</td><td class="num">${fmt(c.precision)}</td></tr>`).join('')}</table>`
    : '';
  const decision = s.fidelity.decision
    ? `<p>Decisions: tree and model fall on the same side of ${s.fidelity.decision.threshold} for ${(100 * s.fidelity.decision.agreement).toFixed(1)}% of the rows.</p>`
    : '';
  const augmentation = s.augmentation
    ? `<p>Trained with ${s.augmentation.rows} model-labelled synthetic rows; the same fit without them: ${s.task === 'regression' ? `R² ${fmt(s.augmentation.fidelityWithout.r2 as number)}` : `accuracy ${fmt(s.augmentation.fidelityWithout.accuracy as number)}`} on the same rows.</p>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>whybox surrogate tree</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${REPORT_CSS}
figure#tree{overflow-x:auto}figure#tree svg{max-width:none}</style></head><body>
<h1>whybox surrogate tree</h1>
<p>A ${s.task} tree of <b>${esc(s.target)}</b> fitted on ${s.trainRows} rows${s.pruning ? `, pruned at cost-complexity α ${fmt(s.pruning.alpha)}${s.pruning.method === 'cross-validation' ? ' (chosen by cross-validation)' : ''}` : ''} (seed ${s.seed}). ${esc(fidelitySentence(s).replace(/^f/, 'F'))}.</p>
${s.warning ? `<p class="warning" id="fidelity-warning"><b>Warning:</b> ${esc(s.warning)}</p>` : ''}
${decision}${perClass}${augmentation}
${figs.map(figureHtml).join('\n')}
<h2>Rules</h2>
<table class="rules"><thead><tr><th>if</th><th class="num">then</th><th class="num">rows</th><th class="num">share</th></tr></thead><tbody>
${rules}
</tbody></table>
</body></html>
`;
}
