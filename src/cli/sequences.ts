import type { SequenceLayout, SequenceSet } from '../data/sequences.js';
import { detectLayout, loadSequences, resolveAlphabet } from '../data/sequences.js';
import { InvalidOptionError } from '../errors.js';
import type { ExplainProgress } from '../explain.js';
import type { ExplainSequencesOptions, SequenceMethod, SequenceReference } from '../explain-sequences.js';
import { explainSequences, parseSequencePlayers } from '../explain-sequences.js';
import { formatSequenceHtml, formatSequenceText, sequenceExplanationToJSON } from '../explanation/sequence-report.js';
import type { Model } from '../models/model.js';
import { resolveLink, resolveOutput, selectOutputs } from '../models/model.js';
import type { OnnxModel } from '../models/onnx-model.js';
import { loadOnnx } from '../models/onnx-model.js';
import { emit, int, parseRowList } from './args.js';
import { LIME_FLAGS } from './lime.js';

/** The flags the sequence mode reads (a subset of `whybox explain`'s). */
export interface SequenceFlags {
  model?: string;
  sequences?: string;
  background?: string;
  alphabet?: string;
  layout?: string;
  players?: string;
  reference?: string;
  shuffles?: string;
  orders?: string;
  method?: string;
  budget?: string;
  seed?: string;
  output?: string;
  link?: string;
  threads?: string;
  format?: string;
  out?: string;
  rows?: string;
  'batch-rows'?: string;
  quiet?: boolean;
  [other: string]: string | boolean | undefined;
}

/** Flags of `whybox explain` that only the sequence mode takes. */
export const SEQUENCE_ONLY_FLAGS = [
  'sequences',
  'alphabet',
  'layout',
  'players',
  'reference',
  'shuffles',
  'orders',
] as const;
/** Flags of `whybox explain` that the sequence mode refuses (tabular only). */
const TABULAR_ONLY_FLAGS = [
  'data',
  'groups',
  'variant',
  'summarize',
  'tolerance',
  'max-budget',
  'top-k',
  // credit decisions (--schema) and LIME are tabular modes
  'schema',
  'reasons',
  'top',
  'threshold',
  'adverse',
  ...(Object.keys(LIME_FLAGS) as (keyof typeof LIME_FLAGS)[]),
] as const;

export const SEQUENCE_USAGE = `Sequence mode (one-hot DNA/RNA/protein models):
  whybox explain --model CNN.onnx --sequences SEQS.fa [options]

  --sequences FILE         FASTA, or one sequence per line (optionally "sequence<TAB>label")
  --alphabet A             ACGT (default; IUPAC N, R, Y... spread uniformly), ACGU, protein,
                           or any string of distinct letters
  --layout NLC|NCL         one-hot layout [L, A] or [A, L] (default: from the model's input shape)
  --players P              position (default) | window:W[:STRIDE] | hierarchy (Owen values)
  --reference R            background (with --background) | shuffle (dinucleotide shuffles of
                           each sequence; default without --background) | uniform (all-N) | zeros
  --background BG.fa       background sequences for --reference background
  --shuffles K             shuffled copies per sequence for --reference shuffle (default 10)
  --method M               kernel | permutation | partition | ism | exact (default kernel;
                           partition with --players hierarchy)
  --budget N               coalition values per sequence (default 2 x players + 2048; not ism)
  --orders K               partition: average K sampled hierarchy orders instead of every
                           context (much cheaper for long sequences; e.g. 16 for L = 1000)
  --format json|table|html table: top segments marked under the sequence; html: sequence logos
  Also: --seed, --output, --link, --threads, --out, --rows, --batch-rows, --quiet.
`;

const METHODS: readonly SequenceMethod[] = ['kernel', 'permutation', 'partition', 'ism', 'exact'];

/** Runs `whybox explain --sequences ...`; returns the exit code. */
export async function runSequences(
  flags: SequenceFlags,
  io: { stdout: { write(s: string): unknown }; stderr: { write(s: string): unknown } },
  signal: AbortSignal,
  progress?: (rows: number) => { update(p: ExplainProgress): void; stop(): void },
): Promise<number> {
  for (const f of TABULAR_ONLY_FLAGS)
    if (flags[f] !== undefined)
      throw new InvalidOptionError(`--${f}`, 'unset with --sequences (it is for tabular --data)', flags[f]);
  if (!flags.model) throw new InvalidOptionError('--model', 'a model file (FILE.onnx)', undefined);
  const seqPath = flags.sequences as string;
  const format = flags.format ?? 'table';
  if (!['json', 'table', 'html'].includes(format))
    throw new InvalidOptionError('--format', 'json, table or html', format);
  const method = (flags.method ?? undefined) as SequenceMethod | undefined;
  if (method !== undefined && !METHODS.includes(method))
    throw new InvalidOptionError('--method', `one of ${METHODS.join(', ')}`, method);
  const alphabet = resolveAlphabet(flags.alphabet, '--alphabet');
  let layout = flags.layout as SequenceLayout | undefined;
  if (layout !== undefined && layout !== 'NLC' && layout !== 'NCL')
    throw new InvalidOptionError('--layout', 'NLC or NCL', layout);
  const players = parseSequencePlayers(flags.players, '--players');
  const reference = flags.reference as SequenceReference | undefined;
  if (reference !== undefined && !['background', 'shuffle', 'uniform', 'zeros'].includes(reference))
    throw new InvalidOptionError('--reference', 'background, shuffle, uniform or zeros', reference);
  if (reference === 'background' && !flags.background)
    throw new InvalidOptionError(
      '--background',
      'a file of background sequences with --reference background',
      undefined,
    );
  const budget = flags.budget === undefined ? undefined : int(flags.budget, '--budget', 2);
  const seed = flags.seed === undefined ? undefined : int(flags.seed, '--seed', Number.MIN_SAFE_INTEGER);
  const threads = flags.threads === undefined ? undefined : int(flags.threads, '--threads', 1);
  const shuffles = flags.shuffles === undefined ? undefined : int(flags.shuffles, '--shuffles', 1);
  const orders = flags.orders === undefined ? undefined : int(flags.orders, '--orders', 1);
  const batchRows = flags['batch-rows'] === undefined ? undefined : int(flags['batch-rows'], '--batch-rows', 1);
  const link = resolveLink(flags.link, '--link');
  const quiet = flags.quiet === true;

  let onnx: OnnxModel | undefined;
  try {
    onnx = await loadOnnx(flags.model, { link });
    let model: Model = onnx;
    const detected = detectLayout(onnx.rowShape, alphabet.letters.length);
    if (layout !== undefined && detected !== undefined && layout !== detected)
      throw new InvalidOptionError(
        '--layout',
        `${detected} for this model (its input is [batch, ${onnx.rowShape.join(', ')}] with ${alphabet.letters.length} letters)`,
        layout,
        'leave --layout out: it is read from the model where unambiguous',
      );
    if (layout === undefined) {
      layout = detected;
      if (layout === undefined && onnx.rowShape.length === 2 && onnx.rowShape[0] === onnx.rowShape[1])
        throw new InvalidOptionError(
          '--layout',
          'NLC or NCL',
          undefined,
          `the model input [batch, ${onnx.rowShape.join(', ')}] is square, so the layout cannot be told from it`,
        );
    }
    if (flags.output !== undefined) {
      const output = flags.output;
      if (onnx.tensors.some((t) => t.name === output) && output !== onnx.tensor) {
        await onnx.close();
        onnx = await loadOnnx(flags.model, { link, tensor: output });
        model = onnx;
      } else {
        let index: number;
        try {
          index = resolveOutput(onnx.outputNames, output);
        } catch {
          throw new InvalidOptionError(
            '--output',
            `an output index (0..${onnx.outputNames.length - 1}), one of ${JSON.stringify(onnx.outputNames)}, or a tensor name of ${JSON.stringify(onnx.tensors.map((t) => t.name))}`,
            output,
          );
        }
        model = selectOutputs(onnx, [index]);
      }
    }
    let set: SequenceSet = await loadSequences(seqPath);
    if (flags.rows !== undefined) set = pickRows(set, flags.rows);
    const background = flags.background ? await loadSequences(flags.background) : undefined;
    const options: ExplainSequencesOptions = {
      alphabet,
      layout,
      players,
      reference,
      background,
      shuffles,
      orders,
      method,
      budget,
      seed,
      threads,
      batchRows,
      signal,
      onWarning: quiet ? () => undefined : (m) => io.stderr.write(`whybox: warning: ${m.replace(/\s*\n\s*/g, ' ')}\n`),
    };
    const bar = progress?.(set.sequences.length);
    let exp: Awaited<ReturnType<typeof explainSequences>>;
    try {
      exp = await explainSequences(model, set, { ...options, onProgress: bar?.update });
    } finally {
      bar?.stop();
    }
    const text =
      format === 'json'
        ? `${JSON.stringify(sequenceExplanationToJSON(exp), null, 2)}\n`
        : format === 'html'
          ? formatSequenceHtml(exp)
          : formatSequenceText(exp);
    await emit(text, flags.out, io);
    return 0;
  } finally {
    await onnx?.close();
  }
}

function pickRows(set: SequenceSet, spec: string): SequenceSet {
  const n = set.sequences.length;
  const idx = parseRowList(spec, n, `sequence numbers below ${n} (the file has ${n})`);
  return {
    ids: idx.map((i) => set.ids[i]),
    sequences: idx.map((i) => set.sequences[i]),
    labels: set.labels ? idx.map((i) => (set.labels as readonly string[])[i]) : undefined,
    lines: idx.map((i) => set.lines[i]),
    source: set.source,
  };
}
