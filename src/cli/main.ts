import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import type { Dataset } from '../data/dataset.js';
import { selectRows } from '../data/dataset.js';
import { definePlayers, loadGroupsJson } from '../data/players.js';
import { AbortedError, DataError, InvalidOptionError, WhyboxError } from '../errors.js';
import type { ExplainOptions, ExplainProgress } from '../explain.js';
import { explain } from '../explain.js';
import type { Explanation } from '../explanation/explanation.js';
import { explanationToJSON } from '../explanation/explanation.js';
import { formatHtml, formatTable } from '../explanation/report.js';
import { DEFAULT_METHOD, getMethod, methodNames } from '../methods/registry.js';
import type { Model } from '../models/model.js';
import { resolveLink, resolveOutput, selectOutputs } from '../models/model.js';
import type { OnnxModel } from '../models/onnx-model.js';
import { loadOnnx } from '../models/onnx-model.js';
import { VERSION } from '../version.js';
import { emit, int, oneLine, parseFlags, parseRowList, readCsvFor, UsageError, warner } from './args.js';
import { runCheck } from './check.js';
import type { CreditExtras } from './credit.js';
import {
  CREDIT_FLAG_NAMES,
  CREDIT_FLAGS,
  CREDIT_USAGE,
  explainCredit,
  formatDecisions,
  loadCredit,
  loadCreditBackground,
  renderCredit,
} from './credit.js';
import { runEvaluate } from './evaluate.js';
import { methodFlagConfig, methodOptionsFromFlags, methodUsage } from './method-flags.js';
import { runSequences, SEQUENCE_ONLY_FLAGS, SEQUENCE_USAGE } from './sequences.js';
import { runSurrogate } from './surrogate.js';

/** Where the CLI writes (injectable for tests). */
export interface CliIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

const USAGE = `whybox ${VERSION} — explain black-box models with Shapley values

Usage:
  whybox explain --model FILE.onnx --data ROWS.csv [options]
  whybox explain --schema SCHEMA.json --data RAW.csv --model FILE.onnx --reasons TEMPLATES.json
                 [--top 4] [--threshold 0.5] [options]
                                 credit decisions with principal reasons
  whybox explain --model CNN.onnx --sequences SEQS.fa [options]   (one-hot sequence models)
  whybox demo [options]          explain the bundled synthetic credit model
  whybox serve --config whybox.config.json [--port 8080] [--host 127.0.0.1]
  whybox serve --model NAME=FILE.onnx [--background BG.csv] [--groups GROUPS.json] --port P
  whybox batch --model FILE.onnx --data ROWS.csv --out FILE.jsonl [options]
                                 explain a whole file, streamed, one JSON line per row
                                 (--resume, --shard I/N, --queue redis://HOST:PORT)
  whybox worker --queue redis://HOST:PORT [--threads T] [--concurrency C]
                                 explain the shards of queued batches
  whybox check --model FILE.onnx --data ROWS.csv [options]     sanity-check explanations
  whybox evaluate --model FILE.onnx --data ROWS.csv [options]  faithfulness metrics
  whybox surrogate --model FILE.onnx --data ROWS.csv [--max-depth 4] [--format text|json|html]
                                 fit a global surrogate tree, with its fidelity and rules
  whybox report --in EXPLANATION.json [--format html|svg|vega] [--plot KIND] [--out FILE]
                                 re-render a saved explanation (or surrogate) as HTML, SVG or Vega-Lite
  whybox --help | --version

Run "whybox explain --help" or "whybox serve --help" for the options.
`;

const EXPLAIN_USAGE = `Usage: whybox explain --model FILE.onnx --data ROWS.csv [options]

  --model FILE.onnx        ONNX model (one float input; its first dimension is the batch)
  --data ROWS.csv          rows to explain: a header of the model's input columns, numbers only
  --background BG.csv      background rows, same columns (default: the --data rows)
  --groups GROUPS.json     {"name": ["column", ...]}: columns explained together (one-hot groups)
  --method M               ${methodNames('tabular').join(' | ')} (default ${DEFAULT_METHOD}; see Methods below)
  --seed S                 random seed (default: random, printed in the output)
  --output K|NAME          output to explain: an index, an output name such as
                           "probabilities[1]", or an output tensor name (default: all
                           columns of the probability output, else the first output)
  --link identity|logit    explain probabilities as log-odds with logit (default identity)
  --threads T              threads to compute on, this one included (default: all cores;
                           workers start only once the job is projected above
                           --min-parallel-ms, default 300; Shapley methods and LIME)
  --format json|table|html output format (default table)
  --out FILE               write the output to FILE instead of stdout
  --rows LIST              explain only these rows, e.g. 0,3,10-12 (0-based)
  --summarize K            summarise the background to K k-means medoids (seed 0, as the
                           library and the service; Shapley methods)
  --batch-rows N           rows per model call (default 4096)
  --quiet                  no progress bar, no warnings

Credit decisions (raw records in, decisions and reasons out):
  --schema SCHEMA.json     raw attributes -> model columns; --data is then a CSV of raw records
                           (header = attribute names; an "id" column names the applicants);
                           each attribute is one player; --background may be raw or encoded
  --reasons TEMPLATES.json reason statements per attribute (default: "label: value")
  --top K                  at most K reasons per adverse decision (default 4)
  --threshold T            decision threshold on the score (default 0.5; a probability with
                           --link logit)
  --adverse higher|lower   which side of the threshold is adverse (default higher: P(bad))
${CREDIT_USAGE}  With --schema, the score is the last column of the output chosen by --output (default:
  the probability output, i.e. P(class 1) of a two-class classifier). --format json adds per
  row "decisionScore", "decision", "reasons" and "audit", and top-level "baseline", "reasonOptions"
  and "importance"; --format html writes a self-contained report (waterfalls, importance,
  beeswarm, reasons).

${methodUsage('tabular')}
Exit codes: 0 success, 2 bad usage or bad input (one line on stderr), 1 internal error,
130 interrupted (Ctrl-C).

${SEQUENCE_USAGE}`;

const DEMO_USAGE = `Usage: whybox demo [options]

Explains five applicants of the bundled synthetic credit data (datasets/credit-demo) with the
bundled MLP (61 one-hot/numeric inputs -> P(bad)), attributes grouped as in groups.json, and a
k-means summary (50 medoids) of the 1000 training rows as background, then gives the decision
(P(bad) above 0.5 is adverse, or --threshold) and its principal reasons (reasons.json,
schema.json: protected attributes are never reasons).

Takes the explain options except --model, --data, --background, --groups, --rows,
--summarize, --schema and --reasons (fixed by the demo); --seed defaults to 42 and --output
to "probabilities[1]".
With --method lime the 1000 training rows (not summarised) are LIME's training data.
`;

const EXPLAIN_OPTIONS = {
  model: { type: 'string' },
  data: { type: 'string' },
  background: { type: 'string' },
  groups: { type: 'string' },
  method: { type: 'string' },
  output: { type: 'string' },
  link: { type: 'string' },
  threads: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  rows: { type: 'string' },
  summarize: { type: 'string' },
  schema: { type: 'string' },
  reasons: { type: 'string' },
  top: { type: 'string' },
  threshold: { type: 'string' },
  adverse: { type: 'string' },
  sequences: { type: 'string' },
  alphabet: { type: 'string' },
  layout: { type: 'string' },
  players: { type: 'string' },
  reference: { type: 'string' },
  shuffles: { type: 'string' },
  'output-names': { type: 'string' },
  'position-offset': { type: 'string' },
  'sequence-column': { type: 'string' },
  'id-column': { type: 'string' },
  'label-column': { type: 'string' },
  'length-policy': { type: 'string' },
  align: { type: 'string' },
  'null-shuffles': { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...methodFlagConfig(),
  ...CREDIT_FLAGS,
} as const;

type Flags = {
  [K in keyof typeof EXPLAIN_OPTIONS]?: (typeof EXPLAIN_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
} & Record<string, string | boolean | undefined>;

/** Runs the CLI and returns its exit code. */
export async function main(argv: readonly string[], io: CliIO = process): Promise<number> {
  const controller = new AbortController();
  const onSigint = () => controller.abort(new AbortedError('interrupted (Ctrl-C)'));
  process.once('SIGINT', onSigint);
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.stdout.write(USAGE);
      return 0;
    }
    if (command === '--version' || command === '-v') {
      io.stdout.write(`${VERSION}\n`);
      return 0;
    }
    if (command === 'explain')
      return await runExplain(parseFlags(rest, EXPLAIN_OPTIONS, 'explain'), io, controller.signal, false);
    if (command === 'demo')
      return await runExplain(parseFlags(rest, EXPLAIN_OPTIONS, 'demo'), io, controller.signal, true);
    if (command === 'serve') {
      process.removeListener('SIGINT', onSigint); // serve handles its own signals (graceful shutdown)
      const { runServe } = await import('./serve.js');
      return await runServe(rest, io);
    }
    if (command === 'batch') return await (await import('./batch.js')).runBatchCommand(rest, io, controller.signal);
    if (command === 'worker') return await (await import('./worker.js')).runWorkerCommand(rest, io, controller.signal);
    if (command === 'check') return await runCheck(rest, io, controller.signal);
    if (command === 'evaluate') return await runEvaluate(rest, io, controller.signal);
    if (command === 'surrogate') return await runSurrogate(rest, io, controller.signal);
    if (command === 'report') return await (await import('./report.js')).runReport(rest, io);
    throw new UsageError(
      `unknown command ${JSON.stringify(command)}; use "whybox explain", "whybox demo", "whybox batch", "whybox worker", "whybox check", "whybox evaluate", "whybox surrogate", "whybox report" or "whybox serve" (see whybox --help)`,
    );
  } catch (error) {
    return report(error, io);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

function report(error: unknown, io: CliIO): number {
  if (error instanceof AbortedError) {
    io.stderr.write(`whybox: ${error.message}\n`);
    return 130;
  }
  if (error instanceof WhyboxError && error.userError) {
    io.stderr.write(`whybox: ${oneLine(error.message)}\n`);
    return 2;
  }
  const e = error as Error;
  io.stderr.write(
    `whybox: internal error: ${oneLine(e?.message ?? String(error))} (please report it with the command you ran)\n`,
  );
  if (process.env.WHYBOX_DEBUG) io.stderr.write(`${e?.stack ?? ''}\n`);
  return 1;
}

async function runExplain(flags: Flags, io: CliIO, signal: AbortSignal, demo: boolean): Promise<number> {
  if (flags.help) {
    io.stdout.write(demo ? DEMO_USAGE : EXPLAIN_USAGE);
    return 0;
  }
  if (!demo && flags.sequences !== undefined)
    return runSequences(flags, io, signal, (rows) =>
      makeProgress(io, flags.quiet === true || (flags.format === 'json' && flags.out !== undefined), rows),
    );
  for (const f of SEQUENCE_ONLY_FLAGS)
    if (flags[f] !== undefined) throw new UsageError(`--${f} needs --sequences FILE (the sequence mode)`);
  const demoDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../datasets/credit-demo');
  if (demo) {
    for (const f of ['model', 'data', 'background', 'groups', 'rows', 'summarize', 'schema', 'reasons'] as const)
      if (flags[f] !== undefined)
        throw new UsageError(`--${f} is fixed by the demo; use "whybox explain" for your own files`);
  } else {
    if (flags.schema === undefined)
      for (const f of ['reasons', 'top', 'threshold', 'adverse', ...CREDIT_FLAG_NAMES] as const)
        if (flags[f] !== undefined)
          throw new UsageError(`--${f} needs --schema SCHEMA.json (see whybox explain --help)`);
    if (!flags.model) throw new UsageError('missing --model FILE.onnx (see whybox explain --help)');
    if (!flags.data) throw new UsageError('missing --data ROWS.csv (see whybox explain --help)');
  }
  const modelPath = demo ? `${demoDir}/model.onnx` : (flags.model as string);
  const dataPath = demo ? `${demoDir}/applicants.csv` : (flags.data as string);
  const bgPath = demo ? `${demoDir}/train.csv` : flags.background;
  const groupsPath = demo ? `${demoDir}/groups.json` : flags.groups;
  const format = flags.format ?? 'table';
  if (!['json', 'table', 'html'].includes(format))
    throw new InvalidOptionError('--format', 'json, table or html', format);
  const method = getMethod(flags.method ?? DEFAULT_METHOD, 'tabular', '--method');
  const threads = flags.threads === undefined ? undefined : int(flags.threads, '--threads', 1);
  const link = resolveLink(flags.link, '--link');
  const quiet = flags.quiet === true;
  const summarizeRows = demo ? 50 : flags.summarize === undefined ? undefined : int(flags.summarize, '--summarize', 1);
  const shared: Record<string, unknown> = {};
  // the demo summarises its 1000 training rows for the Shapley methods (LIME needs them all)
  if (summarizeRows && !(demo && !method.shared.includes('interventional')))
    shared.summarize = { method: 'kmeans', rows: summarizeRows };
  if (threads !== undefined) shared.threads = threads;
  const methodOptions = methodOptionsFromFlags(flags, method, shared);
  if (methodOptions.seed === undefined && demo) methodOptions.seed = 42;
  if ((demo || flags.schema !== undefined) && methodOptions.discretizer === 'none')
    throw new InvalidOptionError(
      '--discretizer',
      'quartile or decile with --schema (reason codes)',
      'none',
      "Gaussian LIME weights are per training std, not the applicant's contribution",
    );

  // no workers up front: measured, starting them while the model and data load made every
  // CLI run 50–70 ms slower on 2 cores (their start-up and exit cost more than they overlap);
  // the cost model starts them mid-run when the job is long (--min-parallel-ms)
  let model: Model | undefined;
  let onnx: OnnxModel | undefined;
  try {
    onnx = await loadOnnx(modelPath, { link });
    model = onnx;
    const output = demo && flags.output === undefined ? 'probabilities[1]' : flags.output;
    if (output !== undefined) {
      if (onnx.tensors.some((t) => t.name === output) && output !== onnx.tensor) {
        await onnx.close();
        onnx = await loadOnnx(modelPath, { link, tensor: output });
        model = onnx;
      } else if (!onnx.tensors.some((t) => t.name === output)) {
        const idx = resolveOutputFlag(onnx, output);
        model = selectOutputs(onnx, idx);
      }
    }
    const credit =
      demo || flags.schema !== undefined
        ? await loadCredit(
            flags,
            {
              schema: demo ? `${demoDir}/schema.json` : (flags.schema as string),
              reasons: demo ? `${demoDir}/reasons.json` : flags.reasons,
              data: demo ? `${demoDir}/applicants-raw.csv` : dataPath,
              model: modelPath,
            },
            link,
          )
        : undefined;
    if (credit && method.name === 'tree' && link !== 'logit')
      throw new InvalidOptionError(
        '--link',
        'logit with --method tree and --schema',
        link,
        "TreeSHAP explains the trees' margin, the log-odds of P(class 1): --link logit puts --threshold on that scale",
      );
    // the score of a decision: the last column left by --output (P(class 1) of two-class probabilities)
    if (credit && model.outputNames.length > 1) model = selectOutputs(model, model.outputNames.length - 1);
    const data = credit ? credit.data : await readCsvFor(dataPath, model, '--data');
    if (credit && data.columns.length !== model.nInputs)
      throw new DataError(
        `the schema encodes ${data.columns.length} model columns but the model takes ${model.nInputs} inputs: the schema's "columns" must be the model's input columns`,
        { file: credit.schema.source },
      );
    const rowIndices = flags.rows !== undefined ? parseRowList(flags.rows, data.nRows) : undefined;
    const rowsToExplain = rowIndices ? selectRows(data, rowIndices) : data;
    let background: Dataset = data;
    if (bgPath) {
      background = credit
        ? await loadCreditBackground(bgPath, credit.schema)
        : await readCsvFor(bgPath, model, '--background');
      if (!background.columns.every((c, i) => c === data.columns[i]))
        throw new DataError(
          `columns differ from the --data file's: both need the model's input columns in the same order`,
          {
            file: bgPath,
            line: 1,
          },
        );
    }
    const players = credit
      ? credit.players
      : definePlayers(data.columns, groupsPath ? await loadGroupsJson(groupsPath) : undefined, groupsPath);
    const progress = makeProgress(io, quiet || (format === 'json' && flags.out !== undefined), rowsToExplain.nRows);
    const options: ExplainOptions = {
      ...(methodOptions as Partial<ExplainOptions>),
      background,
      players,
      method: method.name,
      signal,
      onProgress: progress.update,
      onWarning: warner(io, quiet),
    };
    let exp: Explanation;
    let credited: { report: Awaited<ReturnType<typeof explainCredit>>['report']; extras: CreditExtras } | undefined;
    try {
      if (credit) {
        const c = await explainCredit(model, rowsToExplain, options, credit, background, rowIndices);
        exp = c.exp;
        credited = c;
      } else exp = await explain(model, rowsToExplain, options);
    } finally {
      progress.stop();
    }
    if (rowIndices) exp = { ...exp, rowIndices };
    let text: string;
    if (credit && credited) {
      const { report: reasons, extras } = credited;
      text =
        demo && format === 'table'
          ? `${render(exp, format, demo)}\nDecisions and principal reasons (P(bad) > ${credit.thresholdGiven} is adverse; protected attributes are never reasons)\n\n${formatDecisions(exp, reasons, credit, extras)}`
          : await renderCredit(exp, reasons, credit, format, extras);
    } else text = format === 'html' ? await formatHtml(exp) : render(exp, format, demo);
    await emit(text, flags.out, io);
    return 0;
  } finally {
    await onnx?.close();
  }
}

function render(e: Explanation, format: string, demo: boolean): string {
  if (format === 'json') return `${JSON.stringify(explanationToJSON(e), null, 2)}\n`;
  if (!demo) return formatTable(e);
  const lines = [
    'whybox demo: synthetic credit applicants (datasets/credit-demo), MLP 61 inputs -> P(bad)',
    '',
    'Predictions',
  ];
  for (let r = 0; r < e.nRows; r++)
    lines.push(`  applicant ${r}: P(bad) = ${e.predictions[r * e.outputs.length].toFixed(4)}`);
  return `${lines.join('\n')}\n\n${formatTable(e)}`;
}

function resolveOutputFlag(onnx: OnnxModel, output: string): number {
  try {
    return resolveOutput(onnx.outputNames, /^\d+$/.test(output) ? Number(output) : output);
  } catch {
    throw new InvalidOptionError(
      '--output',
      `an output index (0..${onnx.outputNames.length - 1}), one of ${JSON.stringify(onnx.outputNames)}, or a tensor name of ${JSON.stringify(onnx.tensors.map((t) => t.name))}`,
      output,
    );
  }
}

/** A progress bar on stderr that appears only when a run takes longer than a second. */
function makeProgress(io: CliIO, silent: boolean, rows: number) {
  let bar: cliProgress.SingleBar | undefined;
  let last: ExplainProgress | undefined;
  const timer = silent
    ? undefined
    : setTimeout(() => {
        if (!io.stderr.isTTY) return;
        bar = new cliProgress.SingleBar(
          {
            stream: io.stderr as NodeJS.WritableStream,
            format: 'explaining [{bar}] {percentage}% | row {row}/{rows} | {duration_formatted}',
            clearOnComplete: true,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(rows * 100, 0, { row: 0, rows });
        if (last) update(last);
      }, 1000);
  timer?.unref();
  const update = (p: ExplainProgress) => {
    last = p;
    if (!bar) return;
    const within = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
    bar.update(Math.min(rows * 100, Math.round((p.rowsDone + (p.rowsDone < rows ? within : 0)) * 100)), {
      row: Math.min(rows, p.rowsDone + 1),
      rows,
    });
  };
  return {
    update,
    stop() {
      if (timer) clearTimeout(timer);
      bar?.stop();
    },
  };
}
