import { readFile } from 'node:fs/promises';
import type { SequenceLayout } from '../data/sequences.js';
import { DataError, InvalidOptionError, WhyboxError } from '../errors.js';
import type { SequenceExplanation } from '../explain-sequences.js';
import type { SurrogateTree } from '../explainers/surrogate-tree.js';
import type { Explanation } from '../explanation/explanation.js';
import { explanationFromJSON } from '../explanation/explanation.js';
import { globalImportance } from '../explanation/importance.js';
import type { PlotKind } from '../explanation/plots/figure.js';
import { plotSvg, tagSvg } from '../explanation/plots/figure.js';
import { limeSpec } from '../explanation/plots/lime-plot.js';
import { positionTrackSvg, sequenceLogoSvg } from '../explanation/plots/sequence-logo.js';
import { profileSpec } from '../explanation/plots/sequence-plots.js';
import {
  beeswarmSpec,
  decisionSpec,
  dependenceSpec,
  forceSpec,
  heatmapSpec,
} from '../explanation/plots/shapley-plots.js';
import type { VegaLiteSpec } from '../explanation/plots/specs.js';
import { importanceSpec, waterfallSpec } from '../explanation/plots/specs.js';
import { formatSurrogateHtml } from '../explanation/plots/surrogate-report.js';
import { treeSpec } from '../explanation/plots/tree-plot.js';
import { formatHtml, playerValueText } from '../explanation/report.js';
import { formatSequenceHtml, logoMatrix } from '../explanation/sequence-report.js';
import type { Tree, TreeTask } from '../numerics/cart.js';
import { emit, int, parseFlags } from './args.js';

interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

export const REPORT_USAGE = `Usage: whybox report --in EXPLANATION.json [--format html|svg|vega] [--plot KIND] [--out FILE]

Re-renders a saved explanation (the JSON of "whybox explain --format json", of the sequence
mode, or of "whybox surrogate --format json") without the model.

  --in FILE.json           the saved JSON
  --format html|svg|vega   html: the full report (default); svg: one plot; vega: its Vega-Lite
                           spec (JSON, data inline; logos have none)
  --plot KIND              the plot for svg/vega: waterfall | force | lime (one row), bar |
                           beeswarm | dependence | heatmap | decision (all rows), profile | logo
                           (sequences), tree (surrogate). Default: waterfall (lime for LIME) with
                           one row, beeswarm with several, profile for sequences, tree for a
                           surrogate
  --row INDEX              the row of a one-row plot: its index in the explained input, as in
                           the JSON's rows[].index (default: the first row)
  --output K               the output (index) of the plot (default 0)
  --output-names A,B,C     sequences: class names; --position-offset K: positions from an anchor
  --out FILE               write to FILE instead of stdout
`;

const OPTIONS = {
  in: { type: 'string' },
  format: { type: 'string' },
  plot: { type: 'string' },
  row: { type: 'string' },
  output: { type: 'string' },
  'output-names': { type: 'string' },
  'position-offset': { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const ROW_KINDS: readonly PlotKind[] = ['waterfall', 'force', 'lime', 'logo'];

/** Runs `whybox report`; returns the exit code (errors are thrown to main's reporter). */
export async function runReport(args: readonly string[], io: Io): Promise<number> {
  const flags = parseFlags(args, OPTIONS, 'report');
  if (flags.help) {
    io.stdout.write(REPORT_USAGE);
    return 0;
  }
  if (!flags.in) throw new WhyboxError('USAGE', 'missing --in EXPLANATION.json (see whybox report --help)');
  const format = flags.format ?? 'html';
  if (!['html', 'svg', 'vega'].includes(format)) throw new InvalidOptionError('--format', 'html, svg or vega', format);
  if (flags.plot !== undefined && format === 'html')
    throw new InvalidOptionError('--plot', 'used with --format svg or vega (html has every plot)', flags.plot);
  let text: string;
  try {
    text = await readFile(flags.in, 'utf8');
  } catch (error) {
    throw new DataError(`cannot read it: ${(error as Error).message}`, { file: flags.in });
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DataError(`is not JSON: ${(error as Error).message}`, { file: flags.in });
  }
  if (!json || typeof json !== 'object') throw new DataError('is not a whybox JSON object', { file: flags.in });
  const o = flags.output === undefined ? 0 : int(flags.output, '--output', 0);
  const seqOptions = {
    outputNames: flags['output-names']?.split(',').map((s) => s.trim()),
    positionOffset:
      flags['position-offset'] === undefined
        ? undefined
        : int(flags['position-offset'], '--position-offset', Number.MIN_SAFE_INTEGER),
  };

  // a surrogate tree
  if (Array.isArray(json.nodes) && typeof json.task === 'string') {
    const s = surrogateFromJSON(json, flags.in);
    if (format === 'html') return done(await formatSurrogateHtml(s), flags.out, io);
    const kind = flags.plot ?? 'tree';
    if (kind !== 'tree') throw new InvalidOptionError('--plot', 'tree for a surrogate tree JSON', kind);
    const spec = treeSpec(s);
    return done(format === 'vega' ? specText(spec) : await plotSvg('tree', spec), flags.out, io);
  }

  let e: Explanation;
  try {
    e = explanationFromJSON(json);
  } catch (error) {
    if (error instanceof WhyboxError) throw new DataError(error.message, { file: flags.in });
    throw error;
  }
  if (o >= e.outputs.length)
    throw new InvalidOptionError('--output', `an output index in 0..${e.outputs.length - 1}`, flags.output);
  const seq = json.sequence ? withSequence(e, json.sequence as Record<string, unknown>, json, flags.in) : undefined;
  if (format === 'html')
    return done(seq ? await formatSequenceHtml(seq, seqOptions) : await formatHtml(e), flags.out, io);

  const kind = (flags.plot ??
    (seq ? 'profile' : e.nRows === 1 ? (e.lime ? 'lime' : 'waterfall') : 'beeswarm')) as PlotKind;
  const allowed: PlotKind[] = seq
    ? ['profile', 'logo', 'waterfall', 'bar', 'heatmap']
    : e.lime
      ? ['lime', 'bar', 'beeswarm', 'dependence', 'heatmap']
      : ['waterfall', 'force', 'bar', 'beeswarm', 'dependence', 'heatmap', 'decision'];
  if (!allowed.includes(kind))
    throw new InvalidOptionError('--plot', `one of ${allowed.join(', ')} for this explanation`, flags.plot);
  let r = 0;
  if (flags.row !== undefined) {
    if (!ROW_KINDS.includes(kind))
      throw new InvalidOptionError('--row', `used with a one-row plot (${ROW_KINDS.join(', ')})`, flags.row);
    const index = int(flags.row, '--row', 0);
    r = e.rowIndices.indexOf(index);
    if (r < 0)
      throw new InvalidOptionError(
        '--row',
        `one of the explained rows (${e.rowIndices.slice(0, 10).join(', ')}${e.nRows > 10 ? ', ...' : ''})`,
        flags.row,
      );
  }
  if (kind === 'logo') {
    if (format === 'vega')
      throw new InvalidOptionError('--format', 'svg for a logo (logos are drawn without Vega-Lite)', format);
    const s = seq as SequenceExplanation;
    const L = s.sequence.length;
    const svg =
      L > 200
        ? positionTrackSvg(
            Float64Array.from({ length: L }, (_, p) => {
              const m = logoMatrix(s, r, o);
              let v = 0;
              for (let c = 0; c < s.sequence.letters.length; c++) v += m[p * s.sequence.letters.length + c];
              return v;
            }),
          )
        : sequenceLogoSvg({ letters: s.sequence.letters, matrix: logoMatrix(s, r, o), length: L });
    return done(tagSvg(svg, 'logo', r), flags.out, io);
  }
  const imp = globalImportance(e, o);
  const specs: Record<string, () => VegaLiteSpec> = {
    waterfall: () => waterfallSpec(e, r, o, { valueText: (p) => `${e.players[p]} = ${playerValueText(e, r, p)}` }),
    force: () => forceSpec(e, r, { o }),
    lime: () => limeSpec(e, r, o),
    bar: () => importanceSpec(imp),
    beeswarm: () => beeswarmSpec(e, imp, { o }),
    dependence: () => dependenceSpec(e, imp, { o }),
    heatmap: () => heatmapSpec(e, imp, { o }),
    decision: () => decisionSpec(e, imp, { o }),
    profile: () =>
      profileSpec(seq as SequenceExplanation, {
        outputNames: seqOptions.outputNames,
        positionOffset: seqOptions.positionOffset,
      }),
  };
  const spec = specs[kind]();
  return done(
    format === 'vega' ? specText(spec) : await plotSvg(kind, spec, ROW_KINDS.includes(kind) ? r : undefined),
    flags.out,
    io,
  );
}

async function done(text: string, out: string | undefined, io: Io): Promise<number> {
  await emit(text.endsWith('\n') ? text : `${text}\n`, out, io);
  return 0;
}

function specText(spec: VegaLiteSpec): string {
  return `${JSON.stringify(spec, null, 2)}\n`;
}

/** The sequence explanation of a sequence-mode JSON (its `sequence` block). */
function withSequence(
  e: Explanation,
  s: Record<string, unknown>,
  json: Record<string, unknown>,
  file: string,
): SequenceExplanation {
  const need = (ok: boolean, field: string) => {
    if (!ok) throw new DataError(`sequence.${field} is missing or malformed`, { file });
  };
  need(typeof s.letters === 'string', 'letters');
  need(Number.isInteger(s.length), 'length');
  need(Array.isArray(s.spans) && (s.spans as unknown[]).length === e.players.length, 'spans');
  need(Array.isArray(s.sequences) && (s.sequences as unknown[]).length === e.nRows, 'sequences');
  const L = s.length as number;
  const A = (s.letters as string).length;
  const rows = json.rows as { hypothetical?: number[][][] }[];
  const nOut = e.outputs.length;
  let hypothetical: Float64Array | undefined;
  if (rows.every((r) => Array.isArray(r.hypothetical))) {
    hypothetical = new Float64Array(e.nRows * L * A * nOut);
    rows.forEach((row, r) => {
      (row.hypothetical as number[][][]).forEach((pos, p) => {
        pos.forEach((letter, c) => {
          hypothetical?.set(letter, ((r * L + p) * A + c) * nOut);
        });
      });
    });
  }
  return {
    ...e,
    sequence: {
      alphabet: String(s.alphabet ?? s.letters),
      letters: s.letters as string,
      layout: (s.layout === 'NCL' ? 'NCL' : 'NLC') as SequenceLayout,
      length: L,
      ids: Array.isArray(s.ids) ? (s.ids as string[]) : e.rowIndices.map(String),
      sequences: s.sequences as string[],
      players: (['position', 'window', 'hierarchy'].includes(String(s.players)) ? s.players : 'position') as
        | 'position'
        | 'window'
        | 'hierarchy',
      spans: (s.spans as [number, number][]).map(([a, b]) => [a, b] as const),
      reference: (s.reference ?? 'none') as SequenceExplanation['sequence']['reference'],
      ...(typeof s.tilings === 'number' ? { tilings: s.tilings } : {}),
      ...(hypothetical ? { hypothetical } : {}),
    },
  };
}

/** A surrogate tree from `whybox surrogate --format json` (its nodes, fidelity and settings). */
export function surrogateFromJSON(j: Record<string, unknown>, file = 'JSON'): SurrogateTree {
  type Node = {
    id: number;
    depth: number;
    samples: number;
    weight: number;
    impurity: number;
    value: number | number[];
    leaf: boolean;
    featureIndex?: number;
    threshold?: number;
    left?: number;
    right?: number;
  };
  const nodes = j.nodes as Node[];
  const features = j.features as string[];
  const task = j.task as TreeTask;
  const fid = j.fidelity as {
    holdout: SurrogateTree['fidelity'] | null;
    train: SurrogateTree['fidelity'];
    warning?: string;
  };
  if (!Array.isArray(features) || (task !== 'regression' && task !== 'classification') || !fid?.train)
    throw new DataError('is not a whybox surrogate JSON (features, task or fidelity missing)', { file });
  const n = nodes.length;
  const K = task === 'regression' ? 1 : (j.classes as string[]).length;
  const tree: Tree = {
    task,
    nFeatures: features.length,
    nValues: K,
    nNodes: n,
    feature: Int32Array.from(nodes, (x) => (x.leaf ? -1 : (x.featureIndex as number))),
    threshold: Float64Array.from(nodes, (x) => x.threshold ?? 0),
    left: Int32Array.from(nodes, (x) => x.left ?? -1),
    right: Int32Array.from(nodes, (x) => x.right ?? -1),
    value: Float64Array.from(nodes.flatMap((x) => (Array.isArray(x.value) ? x.value : [x.value]))),
    samples: Int32Array.from(nodes, (x) => x.samples),
    weight: Float64Array.from(nodes, (x) => x.weight),
    impurity: Float64Array.from(nodes, (x) => x.impurity),
    depth: Int32Array.from(nodes, (x) => x.depth),
    importance: Float64Array.from(features, (f) => {
      const imp = (j.importance as { feature: string; importance: number }[]).find((x) => x.feature === f);
      return imp?.importance ?? 0;
    }),
  };
  const rows = j.rows as { train: number; holdout: number };
  return {
    tree,
    task,
    featureNames: features,
    target: String(j.target),
    ...(Array.isArray(j.classes) ? { classes: j.classes as string[] } : {}),
    fidelity: fid.holdout ?? fid.train,
    trainFidelity: fid.train,
    trainRows: rows.train,
    holdoutRows: rows.holdout,
    maxDepth: j.maxDepth as number | 'auto',
    minSamplesLeaf: j.minSamplesLeaf as number,
    ...(j.pruning ? { pruning: j.pruning as SurrogateTree['pruning'] } : {}),
    ...(j.augmentation ? { augmentation: j.augmentation as SurrogateTree['augmentation'] } : {}),
    ...(fid.warning ? { warning: fid.warning } : {}),
    modelRows: j.modelRows as number,
    seconds: j.seconds as number,
    seed: j.seed as number,
  };
}
