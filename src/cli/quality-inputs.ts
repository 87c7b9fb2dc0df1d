/**
 * Inputs shared by `whybox check` and `whybox evaluate`: flag parsing, the ONNX model (with
 * --output / --link), the data and background CSVs, groups, and the method under test.
 * Uses only whybox's public library API (and whybox/testing).
 */
import type { Dataset } from '../data/dataset.js';
import { selectRows } from '../data/dataset.js';
import type { Players } from '../data/players.js';
import { definePlayers, loadGroupsJson } from '../data/players.js';
import { DataError, InvalidOptionError } from '../errors.js';
import type { KernelVariant } from '../estimators/kernel.js';
import type { ExplainOptions } from '../explain.js';
import type { RegisteredMethod } from '../methods/registry.js';
import { DEFAULT_METHOD, getMethod, methodNames } from '../methods/registry.js';
import type { Model } from '../models/model.js';
import { resolveLink, resolveOutput, selectOutputs } from '../models/model.js';
import type { OnnxModel } from '../models/onnx-model.js';
import { loadOnnx } from '../models/onnx-model.js';
import type { Background } from '../sampling/background.js';
import { createBackground, LARGE_BACKGROUND_ROWS, summarizeSeeded } from '../sampling/background.js';
import type { AttributionMethod } from '../testing/method.js';
import { fromExplain, shapleyMethod } from '../testing/method.js';
import { int, parseFlags, parseRowList, readCsvFor, UsageError } from './args.js';
import { methodFlagConfig, methodOptionsFromFlags } from './method-flags.js';

/** Where the CLI writes (the same shape as main.ts's CliIO). */
export interface QualityIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

/** Flags common to check and evaluate. */
export const COMMON_OPTIONS = {
  model: { type: 'string' },
  data: { type: 'string' },
  background: { type: 'string' },
  groups: { type: 'string' },
  method: { type: 'string' },
  output: { type: 'string' },
  link: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  rows: { type: 'string' },
  summarize: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...methodFlagConfig(),
} as const;

/** Usage lines of the common flags. */
export const COMMON_USAGE = `  --model FILE.onnx        ONNX model (one float input; its first dimension is the batch)
  --data ROWS.csv          rows: a header of the model's input columns, numbers only
  --background BG.csv      background rows, same columns (default: the --data rows)
  --groups GROUPS.json     {"name": ["column", ...]}: columns attributed together
  --method M               ${methodNames('tabular').join(' | ')} (default kernel; their options as
                           for whybox explain, e.g. --variant, --budget, --num-samples)
  --seed S                 seed of every random draw (default 0)
  --output K|NAME          output: an index, a name such as "probabilities[1]", or an
                           output tensor name (default: every output, averaged)
  --link identity|logit    attribute probabilities as log-odds with logit (default identity)
  --rows LIST              only these rows, e.g. 0,3,10-12 (0-based)
  --summarize K            summarise the background to K k-means medoids
  --batch-rows N           rows per model call (default 4096)
  --out FILE               write the output to FILE instead of stdout
  --quiet                  no warnings
  LIME (--method lime): the --background rows are its training data`;

/** Parses flags (strict), mapping node's errors to usage errors. */
export function parseQualityFlags<T extends Record<string, { type: 'string' | 'boolean'; short?: string }>>(
  args: readonly string[],
  options: T,
  command: string,
): Record<string, string | boolean | undefined> {
  return parseFlags(args, options, command) as Record<string, string | boolean | undefined>;
}

/** Everything check and evaluate need, loaded and validated. */
export interface QualityInputs {
  readonly model: Model;
  readonly rows: Dataset;
  readonly background: Background;
  readonly players: Players;
  readonly method: AttributionMethod;
  readonly methodName: string;
  readonly budget?: number;
  readonly seed: number;
  readonly batchRows?: number;
  close(): Promise<void>;
}

/** Loads the model, rows, background, players and method named by the flags. */
export async function loadQualityInputs(
  flags: Record<string, string | boolean | undefined>,
  command: string,
  warn: (m: string) => void,
): Promise<QualityInputs> {
  const str = (k: string) => (typeof flags[k] === 'string' ? (flags[k] as string) : undefined);
  const modelPath = str('model');
  const dataPath = str('data');
  if (!modelPath) throw new UsageError(`missing --model FILE.onnx (see whybox ${command} --help)`);
  if (!dataPath) throw new UsageError(`missing --data ROWS.csv (see whybox ${command} --help)`);
  const desc = getMethod(str('method') ?? DEFAULT_METHOD, 'tabular', '--method');
  const summarize = str('summarize') === undefined ? undefined : int(str('summarize') as string, '--summarize', 1);
  const methodOptions = methodOptionsFromFlags(
    flags,
    desc,
    summarize === undefined ? {} : { summarize: { method: 'kmeans', rows: summarize } },
  );
  const budget = methodOptions.budget as number | undefined;
  if (budget === ('auto' as unknown))
    throw new InvalidOptionError('--budget', 'a number for check and evaluate', 'auto');
  const seed = (methodOptions.seed as number | undefined) ?? 0;
  const batchRows = methodOptions.batchRows as number | undefined;
  const link = resolveLink(str('link'), '--link');

  let onnx: OnnxModel | undefined = await loadOnnx(modelPath, { link });
  try {
    let model: Model = onnx;
    const output = str('output');
    if (output !== undefined) {
      if (onnx.tensors.some((t) => t.name === output)) {
        if (output !== onnx.tensor) {
          await onnx.close();
          onnx = undefined;
          onnx = await loadOnnx(modelPath, { link, tensor: output });
          model = onnx;
        }
      } else {
        const o = onnx;
        let idx: number;
        try {
          idx = resolveOutput(o.outputNames, /^\d+$/.test(output) ? Number(output) : output);
        } catch {
          throw new InvalidOptionError(
            '--output',
            `an output index (0..${o.outputNames.length - 1}), one of ${JSON.stringify(o.outputNames)}, or a tensor name of ${JSON.stringify(o.tensors.map((t) => t.name))}`,
            output,
          );
        }
        model = selectOutputs(o, idx);
      }
    }
    const data = await readCsvFor(dataPath, model, '--data');
    const rowSpec = str('rows');
    const rows = rowSpec !== undefined ? selectRows(data, parseRowList(rowSpec, data.nRows)) : data;
    const bgPath = str('background');
    let bgData = data;
    if (bgPath) {
      bgData = await readCsvFor(bgPath, model, '--background');
      if (!bgData.columns.every((c, i) => c === data.columns[i]))
        throw new DataError(
          "columns differ from the --data file's: both need the model's input columns in the same order",
          {
            file: bgPath,
            line: 1,
          },
        );
    }
    let background = createBackground(bgData);
    if (summarize !== undefined) background = summarizeSeeded(background, { method: 'kmeans', rows: summarize });
    else if (background.nRows > LARGE_BACKGROUND_ROWS)
      warn(
        `background has ${background.nRows} rows: every coalition value costs ${background.nRows} model rows; pass --summarize 50 to trade a little fidelity for speed`,
      );
    const groupsPath = str('groups');
    const players = definePlayers(data.columns, groupsPath ? await loadGroupsJson(groupsPath) : undefined, groupsPath);
    const opened = onnx;
    return {
      model,
      rows,
      background,
      players,
      method: methodFor(desc, methodOptions),
      methodName:
        desc.name === 'kernel'
          ? `kernel (${(methodOptions.variant as string | undefined) ?? 'decomposed'})`
          : desc.name,
      budget,
      seed,
      batchRows,
      close: async () => {
        await opened?.close();
      },
    };
  } catch (error) {
    await onnx?.close();
    throw error;
  }
}

/** The options every quality measure takes from the inputs. */
export function measureOptions(inputs: QualityInputs) {
  const { background, players, method, budget, seed, batchRows } = inputs;
  return { background, players, method, budget, seed, batchRows };
}

/**
 * The method under test: a game method through {@link shapleyMethod} (its variant and
 * antithetic setting from the flags), an explainer over a model (LIME...) through explain()
 * on each row's model task, with the background rows as its training data; claims are the
 * registry's.
 */
function methodFor(desc: RegisteredMethod, options: Record<string, unknown>): AttributionMethod {
  const own: Record<string, unknown> = {};
  for (const spec of desc.options) if (options[spec.name] !== undefined) own[spec.name] = options[spec.name];
  if (desc.run.estimate)
    return shapleyMethod(desc.name, {
      variant: own.variant as KernelVariant | undefined,
      antithetic: own.antithetic as boolean | undefined,
    });
  const { budget: _b, ...rest } = own;
  return fromExplain({
    name: desc.name,
    explain: { method: desc.name, ...(rest as Partial<ExplainOptions>) },
    claims: desc.claims(own),
  });
}

/** A number flag > 0. */
export function positive(s: string, flag: string): number {
  const v = Number(s);
  if (!Number.isFinite(v) || v < 0) throw new InvalidOptionError(flag, 'a number >= 0', s);
  return v;
}
