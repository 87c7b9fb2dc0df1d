import { loadCsv } from '../data/csv.js';
import { DataError, InvalidOptionError, WhyboxError } from '../errors.js';
import type { SurrogateTreeOptions } from '../explainers/surrogate-tree.js';
import { surrogateRulesText, surrogateToJSON, surrogateTree } from '../explainers/surrogate-tree.js';
import { formatSurrogateHtml } from '../explanation/plots/surrogate-report.js';
import { resolveLink } from '../models/model.js';
import type { OnnxModel } from '../models/onnx-model.js';
import { loadOnnx } from '../models/onnx-model.js';
import { emit, int, parseFlags, readCsvFor } from './args.js';

/** Where the command writes (the CLI's io). */
interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

export const SURROGATE_USAGE = `Usage: whybox surrogate --model FILE.onnx --data ROWS.csv [options]

Fits a global surrogate decision tree (CART) to the model's predictions on the rows and
reports its fidelity on held-out rows, its if/then rules and feature importances.

  --model FILE.onnx        ONNX model (one float input; its first dimension is the batch)
  --data ROWS.csv          rows: a header of the model's input columns, numbers only
  --max-depth N|auto       deepest split level, 1..64 (default 4); auto: grow to depth 10
                           and prune by cost-complexity, choosing the pruning by 5-fold
                           cross-validation on the training rows (1-SE rule)
  --ccp-alpha A            prune the tree at cost-complexity A (with a numeric --max-depth)
  --augment N              add N model-labelled synthetic rows (real training rows with
                           columns resampled from other rows) to the training rows; the
                           output reports the held-out fidelity without them too
  --threshold T            regression on a probability: report how often tree and model fall
                           on the same side of T (default 0.5 when every output is in [0, 1])
  --min-leaf N             fewest rows per leaf (default 1)
  --task T                 regression | classification (default classification when the
                           model has several outputs, i.e. the argmax; else regression)
  --output K|NAME          regression: the output to fit, an index or a name such as
                           "probabilities[1]" (needed when the model has several outputs)
  --link identity|logit    fit log-odds of probabilities with logit (default identity)
  --holdout F              fraction of rows held out to measure fidelity (default 0.2; 0 =
                           measure on the training rows)
  --weights W.csv          a weight per --data row: a one-column CSV with a header (the fit
                           weighs rows by it; fidelity stays unweighted)
  --sample-rows N          use a random subset of N rows
  --seed S                 seed of the subset and the holdout split (default: random, printed)
  --format text|json|html  output format (default text); html: the tree drawn, rules, importances
  A warning (text, JSON "fidelity.warning", HTML) says when the held-out fidelity is weak:
  R² below 0.5, accuracy below 0.8 or no better than the most frequent class, or decision
  agreement below 0.8.
  --out FILE               write the output to FILE instead of stdout
  --batch-rows N           rows per model call (default 4096)
`;

const OPTIONS = {
  model: { type: 'string' },
  data: { type: 'string' },
  'max-depth': { type: 'string' },
  'ccp-alpha': { type: 'string' },
  augment: { type: 'string' },
  threshold: { type: 'string' },
  'min-leaf': { type: 'string' },
  task: { type: 'string' },
  output: { type: 'string' },
  link: { type: 'string' },
  holdout: { type: 'string' },
  'sample-rows': { type: 'string' },
  weights: { type: 'string' },
  seed: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  'batch-rows': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Runs `whybox surrogate`; returns the exit code (errors are thrown to main's reporter). */
export async function runSurrogate(args: readonly string[], io: Io, signal: AbortSignal): Promise<number> {
  const flags = parseFlags(args, OPTIONS, 'surrogate');
  if (flags.help) {
    io.stdout.write(SURROGATE_USAGE);
    return 0;
  }
  if (!flags.model) throw new WhyboxError('USAGE', 'missing --model FILE.onnx (see whybox surrogate --help)');
  if (!flags.data) throw new WhyboxError('USAGE', 'missing --data ROWS.csv (see whybox surrogate --help)');
  const format = flags.format ?? 'text';
  if (format !== 'text' && format !== 'json' && format !== 'html')
    throw new InvalidOptionError('--format', 'text, json or html', format);
  const task = flags.task;
  if (task !== undefined && task !== 'regression' && task !== 'classification')
    throw new InvalidOptionError('--task', 'regression or classification', task);
  const options: SurrogateTreeOptions = {
    task,
    maxDepth:
      flags['max-depth'] === undefined
        ? 4
        : flags['max-depth'] === 'auto'
          ? 'auto'
          : int(flags['max-depth'], '--max-depth', 1),
    ccpAlpha: flags['ccp-alpha'] === undefined ? undefined : nonNegative(flags['ccp-alpha'], '--ccp-alpha'),
    augment: flags.augment === undefined ? undefined : int(flags.augment, '--augment', 1),
    threshold: flags.threshold === undefined ? undefined : finite(flags.threshold, '--threshold'),
    minSamplesLeaf: flags['min-leaf'] === undefined ? undefined : int(flags['min-leaf'], '--min-leaf', 1),
    holdout: flags.holdout === undefined ? undefined : fraction(flags.holdout, '--holdout'),
    sampleRows: flags['sample-rows'] === undefined ? undefined : int(flags['sample-rows'], '--sample-rows', 2),
    seed: flags.seed === undefined ? undefined : int(flags.seed, '--seed', Number.MIN_SAFE_INTEGER),
    batchRows: flags['batch-rows'] === undefined ? undefined : int(flags['batch-rows'], '--batch-rows', 1),
    output: flags.output === undefined ? undefined : /^\d+$/.test(flags.output) ? Number(flags.output) : flags.output,
    signal,
  };
  if (typeof options.maxDepth === 'number' && options.maxDepth > 64)
    throw new InvalidOptionError('--max-depth', 'an integer in 1..64', flags['max-depth']);
  const link = resolveLink(flags.link, '--link');
  let onnx: OnnxModel | undefined;
  try {
    onnx = await loadOnnx(flags.model, { link });
    const data = await readCsvFor(flags.data, onnx, '--data');
    if (flags.weights) {
      const wds = await loadCsv(flags.weights);
      if (wds.columns.length !== 1 || wds.nRows !== data.nRows)
        throw new DataError(
          `must hold one column with one weight per --data row (${data.nRows}); got ${wds.columns.length} column(s) and ${wds.nRows} row(s) (--weights)`,
          { file: flags.weights },
        );
      options.sampleWeights = wds.data;
    }
    let s: Awaited<ReturnType<typeof surrogateTree>>;
    try {
      s = await surrogateTree(onnx, data, options);
    } catch (error) {
      // name the CLI flag rather than the library option ("output must be ..." -> "--output must be ...")
      const flag = error instanceof InvalidOptionError ? FLAG_OF[error.option] : undefined;
      if (flag && error instanceof InvalidOptionError)
        throw new WhyboxError('INVALID_OPTION', `${flag}${error.message.slice(error.option.length)}`, { cause: error });
      throw error;
    }
    const text =
      format === 'json'
        ? `${JSON.stringify(surrogateToJSON(s), null, 2)}\n`
        : format === 'html'
          ? await formatSurrogateHtml(s)
          : surrogateRulesText(s);
    await emit(text, flags.out, io);
    return 0;
  } finally {
    await onnx?.close();
  }
}

const FLAG_OF: Readonly<Record<string, string>> = {
  task: '--task',
  output: '--output',
  sampleRows: '--sample-rows',
  holdout: '--holdout',
  maxDepth: '--max-depth',
  minSamplesLeaf: '--min-leaf',
  sampleWeights: '--weights',
  ccpAlpha: '--ccp-alpha',
  augment: '--augment',
  threshold: '--threshold',
};

function nonNegative(s: string, flag: string): number {
  const v = Number(s);
  if (s.trim() === '' || !Number.isFinite(v) || v < 0) throw new InvalidOptionError(flag, 'a number >= 0', s);
  return v;
}

function finite(s: string, flag: string): number {
  const v = Number(s);
  if (s.trim() === '' || !Number.isFinite(v)) throw new InvalidOptionError(flag, 'a finite number', s);
  return v;
}

function fraction(s: string, flag: string): number {
  const v = Number(s);
  if (s.trim() === '' || !Number.isFinite(v) || v < 0 || v >= 1)
    throw new InvalidOptionError(flag, 'a fraction in [0, 1)', s);
  return v;
}
