import type { Explanation } from './explanation.js';
import { dims } from './explanation.js';
import { globalImportance } from './importance.js';
import { figureHtml, makeFigure, REPORT_CSS } from './plots/figure.js';
import { limeSpec } from './plots/lime-plot.js';
import { beeswarmSpec, decisionSpec, dependenceSpec, forceSpec, heatmapSpec } from './plots/shapley-plots.js';
import { importanceSpec, waterfallSpec } from './plots/specs.js';
import { esc, fmt, playerValueText, sign } from './text.js';

/** Options of {@link formatTable} and {@link formatHtml}. */
export interface ReportOptions {
  /** Players listed per row and output (largest |value| first); the rest are summed. @defaultValue 12 */
  maxPlayers?: number;
  /** Significant digits. @defaultValue 4 */
  digits?: number;
}

interface Line {
  player: string;
  value: string;
  phi: number;
  se?: number;
}

function rowLines(e: Explanation, r: number, o: number, maxPlayers: number): { lines: Line[]; rest?: Line } {
  const { nPlayers, nOutputs } = dims(e);
  const all: Line[] = [];
  for (let p = 0; p < nPlayers; p++) {
    const at = (r * nPlayers + p) * nOutputs + o;
    // LIME: the readable condition (`duration > 24`) instead of the name; features not selected are left out
    if (e.lime && e.values[at] === 0) continue;
    const player = e.lime ? e.lime.conditions[r][p] : e.players[p];
    all.push({ player, value: playerValueText(e, r, p), phi: e.values[at], se: e.stderr?.[at] });
  }
  all.sort((a, b) => Math.abs(b.phi) - Math.abs(a.phi) || a.player.localeCompare(b.player));
  if (all.length <= maxPlayers) return { lines: all };
  const rest = all.slice(maxPlayers);
  return {
    lines: all.slice(0, maxPlayers),
    rest: {
      player: `(${rest.length} more)`,
      value: '',
      phi: rest.reduce((a, l) => a + l.phi, 0),
      se: undefined,
    },
  };
}

/**
 * A plain-text report: per explained row and output, the prediction, the base value and
 * the players sorted by |contribution|, with standard errors and bars.
 */
export function formatTable(e: Explanation, options: ReportOptions = {}): string {
  const maxPlayers = options.maxPlayers ?? 12;
  const digits = options.digits ?? 4;
  const { nOutputs } = dims(e);
  const out: string[] = [];
  const methodText = `${e.method}${e.variant ? ` (${e.variant})` : ''}`;
  out.push(
    `whybox ${methodText}: ${e.nRows} row(s), ${e.players.length} players, ${e.sensitivity ? '' : `${e.evaluations} ${e.lime ? 'samples' : 'coalition values'}, `}${e.modelRows} model rows, ${e.seconds.toFixed(2)} s (seed ${e.meta.seed})`,
  );
  for (let r = 0; r < e.nRows; r++) {
    for (let o = 0; o < nOutputs; o++) {
      out.push('');
      out.push(`Row ${e.rowIndices[r]} — ${e.outputs[o]}: ${headline(e, r, o, digits)}`);
      const { lines, rest } = rowLines(e, r, o, maxPlayers);
      const shown = rest ? [...lines, rest] : lines;
      const wP = Math.max(6, ...shown.map((l) => l.player.length));
      const wV = Math.min(24, Math.max(5, ...shown.map((l) => l.value.length)));
      const maxAbs = Math.max(1e-300, ...shown.map((l) => Math.abs(l.phi)));
      const hasSe = shown.some((l) => l.se !== undefined);
      out.push(
        `  ${(e.lime ? 'feature' : 'player').padEnd(wP)}  ${'value'.padEnd(wV)}  ${(e.lime ? 'weight' : 'contribution').padStart(13)}${hasSe ? `  ${'± s.e.'.padStart(9)}` : ''}`,
      );
      for (const l of shown) {
        const bar = '█'.repeat(Math.round((Math.abs(l.phi) / maxAbs) * 20));
        const value = l.value.length > wV ? `${l.value.slice(0, wV - 1)}…` : l.value;
        out.push(
          `  ${l.player.padEnd(wP)}  ${value.padEnd(wV)}  ${sign(l.phi, digits).padStart(13)}${hasSe ? `  ${l.se === undefined ? ''.padStart(9) : `±${fmt(l.se, 2)}`.padStart(9)}` : ''}  ${l.phi < 0 ? '-' : '+'}${bar}`,
        );
      }
    }
  }
  return `${out.join('\n')}\n`;
}

/** Options of {@link formatHtml}. */
export interface HtmlReportOptions extends ReportOptions {
  /** Rows that get their own plot (waterfall, or LIME's weights), in row order. @defaultValue 50 */
  maxRowPlots?: number;
  /** Rows (the first ones) that also get a force plot (Shapley values only). @defaultValue 5 */
  maxForcePlots?: number;
  /** Outputs that get the plots over all rows (bar, beeswarm, dependence, heatmap, decision). @defaultValue 3 */
  maxOutputs?: number;
}

/**
 * A self-contained HTML report (inline SVG and CSS, no network): per row and output a table
 * of the players and a plot — a waterfall (Shapley values) or LIME's weights with their
 * conditions and the local fit's R², plus a force plot for the first rows — and, over all rows, per output the importance bars, a
 * beeswarm, dependence plots, a heatmap and a decision plot (see `plots/`). Each plot's root
 * is `<svg data-plot="KIND">`, with its Vega-Lite spec embedded next to it.
 */
export async function formatHtml(e: Explanation, options: HtmlReportOptions = {}): Promise<string> {
  const maxPlayers = options.maxPlayers ?? 20;
  const digits = options.digits ?? 4;
  const maxRowPlots = options.maxRowPlots ?? 50;
  const { nOutputs } = dims(e);
  const sections: string[] = [];
  for (let r = 0; r < e.nRows; r++)
    for (let o = 0; o < nOutputs; o++) {
      const { lines, rest } = rowLines(e, r, o, maxPlayers);
      const shown = rest ? [...lines, rest] : lines;
      const maxAbs = Math.max(1e-300, ...shown.map((l) => Math.abs(l.phi)));
      const hasSe = shown.some((l) => l.se !== undefined);
      const rows = shown
        .map((l) => {
          const w = ((Math.abs(l.phi) / maxAbs) * 100).toFixed(1);
          const cls = l.phi < 0 ? 'neg' : 'pos';
          return `<tr><td>${esc(l.player)}</td><td>${esc(l.value)}</td><td class="num">${esc(sign(l.phi, digits))}</td>${hasSe ? `<td class="num">${l.se === undefined ? '' : `±${esc(fmt(l.se, 2))}`}</td>` : ''}<td class="bar"><div class="${cls}" style="width:${w}%"></div></td></tr>`;
        })
        .join('\n');
      let plot = '';
      if (r < maxRowPlots) {
        const f = e.lime
          ? await makeFigure(`lime-${r}-${o}`, 'lime', limeSpec(e, r, o), { row: r })
          : await makeFigure(
              `waterfall-${r}-${o}`,
              'waterfall',
              waterfallSpec(e, r, o, { valueText: (p) => `${e.players[p]} = ${playerValueText(e, r, p)}` }),
              { row: r },
            );
        plot = figureHtml(f);
        if (!e.lime && r < (options.maxForcePlots ?? 5))
          plot += `\n${figureHtml(await makeFigure(`force-${r}-${o}`, 'force', forceSpec(e, r, { o }), { row: r }))}`;
      }
      sections.push(`<section class="row" id="row-${r}-${o}"><h2>Row ${e.rowIndices[r]} — ${esc(e.outputs[o])}</h2>
<p>${esc(headline(e, r, o, digits))}</p>
${plot}
<table><thead><tr><th>${e.lime ? 'feature' : 'player'}</th><th>value</th><th>${e.lime ? 'weight' : 'contribution'}</th>${hasSe ? '<th>± s.e.</th>' : ''}<th></th></tr></thead>
<tbody>
${rows}
</tbody></table></section>`);
    }
  const overall: string[] = [];
  if (e.nRows >= 2)
    for (let o = 0; o < Math.min(nOutputs, options.maxOutputs ?? 3); o++) {
      const imp = globalImportance(e, o);
      const what = e.lime ? 'LIME weight' : 'contribution';
      const figs = [
        await makeFigure(
          `bar-${o}`,
          'bar',
          importanceSpec(imp, { title: `Mean |${what}| to ${e.outputs[o]} over ${e.nRows} rows` }),
          {
            caption: `Mean |${what}| per player over the rows.`,
          },
        ),
        await makeFigure(`beeswarm-${o}`, 'beeswarm', beeswarmSpec(e, imp, { o }), {
          caption: `One dot per row at its ${what}; numeric players coloured by value (blue low, red high), categorical (one-hot) players by category ordered by mean effect.`,
        }),
      ];
      if (e.nRows >= 5)
        figs.push(
          await makeFigure(`dependence-${o}`, 'dependence', dependenceSpec(e, imp, { o }), {
            caption: `${what} against value for the top players, coloured by the player interacting most with each.`,
          }),
          await makeFigure(`heatmap-${o}`, 'heatmap', heatmapSpec(e, imp, { o }), {
            caption: 'Rows ordered by the similarity of their explanations; the line above is the prediction.',
          }),
        );
      if (!e.lime)
        figs.push(
          await makeFigure(`decision-${o}`, 'decision', decisionSpec(e, imp, { o }), {
            caption:
              'Each line is one row: from the base value (bottom) through the cumulative contributions to its prediction (top).',
          }),
        );
      overall.push(
        `<section class="overall"><h2>Over all ${e.nRows} rows — ${esc(e.outputs[o])}</h2>\n${figs.map(figureHtml).join('\n')}</section>`,
      );
    }
  const limeNote = e.lime
    ? " LIME weights are the local linear model's coefficients; they do not add up to prediction − base value."
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>whybox explanation</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${REPORT_CSS}
td.bar{width:240px}td.bar div{height:12px}
.pos{background:#ff0d57}.neg{background:#1e88e5}
</style></head><body>
<h1>whybox explanation</h1>
<p>${esc(e.method)}${e.variant ? ` (${esc(e.variant)})` : ''}: ${e.nRows} row(s), ${e.players.length} players, ${e.sensitivity ? '' : `${e.evaluations} ${e.lime ? 'samples' : 'coalition values'}, `}${e.modelRows} model rows, ${e.seconds.toFixed(2)} s, seed ${e.meta.seed}, background ${esc(e.meta.background.summary)}. Red raises the output, blue lowers it.${limeNote}${e.nRows > maxRowPlots ? ` Plots for the first ${maxRowPlots} rows.` : ''}</p>
${overall.join('\n')}
${sections.join('\n')}
</body></html>
`;
}

/** The line above a row's table: prediction = base + Σ (Shapley), or LIME's local model. */
function headline(e: Explanation, r: number, o: number, digits: number): string {
  const at = r * e.outputs.length + o;
  const pred = e.predictions[at];
  if (e.lime)
    return `prediction ${fmt(pred, digits)}; local model: intercept ${fmt(e.lime.intercept[at], digits)}, local prediction ${fmt(e.lime.localPrediction[at], digits)}, weighted R² ${fmt(e.lime.score[at], 3)} (weights per feature below)`;
  const base = e.rowBaseValues ? e.rowBaseValues[at] : e.baseValues[o];
  return `prediction ${fmt(pred, digits)} = base value ${fmt(base, digits)} ${sign(pred - base, digits)}${e.exact[r] ? ' (exact)' : ''}`;
}

export { esc, fmt, playerValueText, sign };
