import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describeFsError } from '../data/csv.js';
import type { LengthAlign, LengthPolicy, SequenceLayout, SequenceSet } from '../data/sequences.js';
import { detectLayout, loadSequences, resolveAlphabet } from '../data/sequences.js';
import { DataError, InvalidOptionError } from '../errors.js';
import type { ExplainProgress } from '../explain.js';
import type {
  ExplainSequencesOptions,
  SequenceMethod,
  SequencePlayers,
  SequenceReference,
} from '../explain-sequences.js';
import { checkSequencePlayers, explainSequences } from '../explain-sequences.js';
import { classSummaries, classSummariesToJSON } from '../explanation/class-summary.js';
import { findSeqlets, seqletsToTsv, shuffledCopies } from '../explanation/seqlets.js';
import { bedGraph, bedGraphFileName, writeModiscoFiles } from '../explanation/sequence-export.js';
import { formatSequenceHtml, formatSequenceText, sequenceExplanationToJSON } from '../explanation/sequence-report.js';
import { getMethod } from '../methods/registry.js';
import type { Model } from '../models/model.js';
import { resolveLink, resolveOutput, selectOutputs } from '../models/model.js';
import type { OnnxModel } from '../models/onnx-model.js';
import { loadOnnx } from '../models/onnx-model.js';
import { emit, int, parseRowList } from './args.js';
import { methodOptionsFromFlags, methodUsage } from './method-flags.js';
import { writeFileAtomic } from './output.js';

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

/** `--format` values of the sequence mode. */
const SEQUENCE_FORMATS = ['json', 'table', 'html', 'npz', 'bedgraph', 'seqlets', 'seqlets-tsv', 'summary'];

/** Flags of `whybox explain` that only the sequence mode takes. */
export const SEQUENCE_ONLY_FLAGS = [
  'sequences',
  'alphabet',
  'layout',
  'players',
  'reference',
  'shuffles',
  'output-names',
  'position-offset',
  'sequence-column',
  'id-column',
  'label-column',
  'length-policy',
  'align',
  'null-shuffles',
] as const;
/** Flags of `whybox explain` that the sequence mode refuses (tabular only). */
const TABULAR_ONLY_FLAGS = [
  'data',
  'groups',
  'summarize',
  // credit decisions (--schema) are a tabular mode (and LIME a tabular method: the registry refuses its flags)
  'schema',
  'reasons',
  'top',
  'threshold',
  'adverse',
] as const;

export const SEQUENCE_USAGE = `Sequence mode (one-hot DNA/RNA/protein models):
  whybox explain --model CNN.onnx --sequences SEQS.fa [options]

  --sequences FILE         FASTA, one sequence per line (optionally "sequence<TAB>label"), or a
                           CSV/TSV table with a header and a sequence column (e.g. the UCI
                           splice.csv: Class,Donor,Sequence); columns are detected and reported
                           on stderr, or named with --sequence-column / --id-column /
                           --label-column NAME|NUMBER
  --length-policy P        sequences whose length differs from the model's: error (default) |
                           pad (with N) | crop | fit (pad or crop); --align center (default) |
                           start | end says where the sequence sits in the model's window
  --alphabet A             ACGT (default; IUPAC N, R, Y... spread uniformly), ACGU, protein,
                           or any string of distinct letters
  --layout NLC|NCL         one-hot layout [L, A] or [A, L] (default: from the model's input shape)
  --players P              position (default) | window:W[:STRIDE] | hierarchy (Owen values)
  --reference R            background (with --background) | shuffle (dinucleotide shuffles of
                           each sequence; default without --background) | uniform (all-N) | zeros
  --background BG.fa       background sequences for --reference background
  --shuffles K             shuffled copies per sequence for --reference shuffle (default 10)
  --format F               table: top segments marked under the sequence; html: sequence logos
                           and the mean attribution profile per class; json; npz: ohe.npz and
                           attr.npz (N, 4, L) float32 for TF-MoDISco into --out DIR; bedgraph:
                           OUTPUT.bedGraph tracks into --out DIR (ids chr:start-end); seqlets |
                           seqlets-tsv: high-attribution segments with null p-values
  --null-shuffles K        seqlets: shuffled copies per sequence for the null (default 1)
                           summary: per class (the label column, else the predicted class)
                           the mean attribution profile and contribution logo, as JSON
  --output-names A,B,C     names of the explained outputs (classes) in the reports and JSON,
                           e.g. EI,IE,N (default: the model's output names)
  --position-offset K      number positions from an anchor: the first letter is K+1, skipping
                           0 when negative (-30: -30..-1, 1..30; default 0: 1..L)
  Also: --seed, --output, --link, --threads, --out, --rows, --batch-rows, --quiet.
  (partition --orders K: average K sampled hierarchy orders, e.g. 16 for L = 1000)

${methodUsage('sequences')}`;

/** Parses `position`, `hierarchy`, `window:W` or `window:W:STRIDE` (the --players syntax). */
export function parseSequencePlayers(spec: string | undefined, option = '--players'): SequencePlayers {
  if (spec === undefined) return 'position';
  if (spec === 'position' || spec === 'hierarchy') return spec;
  const m = /^window:(\d+)(?::(\d+))?$/.exec(spec.trim());
  if (!m) throw new InvalidOptionError(option, "'position', 'hierarchy', 'window:W' or 'window:W:STRIDE'", spec);
  const window = Number(m[1]);
  return checkSequencePlayers({ window, stride: m[2] === undefined ? window : Number(m[2]) }, option);
}

/** The warning line (with its newline) of a bedGraph export that skipped `count` ids without coordinates. */
export function skippedIdsWarning(count: number, first: string): string {
  return `whybox: warning: ${count} sequence id(s) carry no chr:start-end coordinates and are not in the tracks (first: ${JSON.stringify(first)})\n`;
}

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
  if (!SEQUENCE_FORMATS.includes(format)) throw new InvalidOptionError('--format', SEQUENCE_FORMATS.join(', '), format);
  if ((format === 'npz' || format === 'bedgraph') && !flags.out)
    throw new InvalidOptionError(
      '--out',
      `a directory for --format ${format} (it writes ${format === 'npz' ? 'ohe.npz and attr.npz' : 'one OUTPUT.bedGraph per output'})`,
      undefined,
    );
  const nullShuffles =
    flags['null-shuffles'] === undefined ? 1 : int(String(flags['null-shuffles']), '--null-shuffles', 1);
  if (flags['null-shuffles'] !== undefined && !format.startsWith('seqlets'))
    throw new InvalidOptionError(
      '--null-shuffles',
      'used with --format seqlets or seqlets-tsv',
      flags['null-shuffles'],
    );
  const playersFlag = parseSequencePlayers(flags.players, '--players');
  const desc = getMethod(
    flags.method ?? (playersFlag === 'hierarchy' ? 'partition' : 'kernel'),
    'sequences',
    '--method',
  );
  const method = desc.name as SequenceMethod;
  const threads = flags.threads === undefined ? undefined : int(flags.threads, '--threads', 1);
  const methodOptions = methodOptionsFromFlags(flags, desc, threads === undefined ? {} : { threads });
  const alphabet = resolveAlphabet(flags.alphabet, '--alphabet');
  const checked = checkSequenceFlags(flags);
  let layout = checked.layout;
  const players = playersFlag;
  const reference = checked.reference;
  const shuffles = flags.shuffles === undefined ? undefined : int(flags.shuffles, '--shuffles', 1);
  const link = resolveLink(flags.link, '--link');
  const quiet = flags.quiet === true;
  const outputNames = checked.outputNames;
  const positionOffset =
    flags['position-offset'] === undefined
      ? undefined
      : int(String(flags['position-offset']), '--position-offset', Number.MIN_SAFE_INTEGER);

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
    const readOptions = {
      sequenceColumn: str(flags['sequence-column']),
      idColumn: str(flags['id-column']),
      labelColumn: str(flags['label-column']),
      onInfo: quiet ? undefined : (m: string) => io.stderr.write(`whybox: ${m}\n`),
    };
    if (outputNames && outputNames.length !== model.outputNames.length)
      throw new InvalidOptionError(
        '--output-names',
        `${model.outputNames.length} names, one per explained output (${model.outputNames.join(', ')})`,
        flags['output-names'],
      );
    let set: SequenceSet = await loadSequences(seqPath, readOptions);
    if (flags.rows !== undefined) set = pickRows(set, flags.rows);
    const background = flags.background ? await loadSequences(flags.background, readOptions) : undefined;
    const options: ExplainSequencesOptions = {
      ...(methodOptions as Partial<ExplainSequencesOptions>),
      alphabet,
      layout,
      players,
      reference,
      background,
      shuffles,
      method,
      signal,
      lengthPolicy: checked.lengthPolicy,
      align: checked.align,
      outputNames,
      positionOffset,
      onWarning: quiet ? () => undefined : (m) => io.stderr.write(`whybox: warning: ${m.replace(/\s*\n\s*/g, ' ')}\n`),
    };
    const bar = progress?.(set.sequences.length);
    let exp: Awaited<ReturnType<typeof explainSequences>>;
    try {
      exp = await explainSequences(model, set, { ...options, onProgress: bar?.update });
    } finally {
      bar?.stop();
    }
    const report = { positionOffset };
    if (format === 'npz' || format === 'bedgraph') {
      const dir = flags.out as string;
      await mkdir(dir, { recursive: true }).catch((error) => {
        throw new DataError(describeFsError(error, dir, true), {}, { cause: error });
      });
      const written: string[] = [];
      if (format === 'npz') {
        written.push(...(await writeModiscoFiles(exp, dir)));
        if (!exp.sequence.hypothetical && !quiet)
          io.stderr.write(
            `whybox: note: method '${method}' gives one value per position, so attr.npz holds actual contributions as the hypothetical ones; --method ism gives per-letter hypothetical contributions\n`,
          );
      } else {
        let skipped: readonly string[] = [];
        for (let o = 0; o < exp.outputs.length; o++) {
          const name = bedGraphFileName(exp.outputs, o);
          await writeFileAtomic(join(dir, name), bedGraph(exp, { output: o, onSkipped: (ids) => (skipped = ids) }));
          written.push(name);
        }
        if (skipped.length > 0 && !quiet) io.stderr.write(skippedIdsWarning(skipped.length, skipped[0]));
      }
      if (!quiet) io.stderr.write(`whybox: wrote ${written.map((w) => join(dir, w)).join(', ')}\n`);
      return 0;
    }
    if (format === 'seqlets' || format === 'seqlets-tsv') {
      const copies = shuffledCopies(exp.sequence.ids, exp.sequence.sequences, nullShuffles, exp.meta.seed);
      const nullExp = await explainSequences(model, copies, {
        ...options,
        lengthPolicy: undefined,
        align: undefined,
        outputNames,
        onWarning: () => undefined,
        seed: exp.meta.seed,
      });
      const found = findSeqlets(exp, nullExp);
      const text =
        format === 'seqlets'
          ? `${JSON.stringify({ method: exp.method, outputs: exp.outputs, nullShuffles, seqlets: found }, null, 2)}\n`
          : seqletsToTsv(found);
      await emit(text, flags.out, io);
      return 0;
    }
    if (format === 'summary') {
      const json = classSummariesToJSON(exp, classSummaries(exp));
      await emit(`${JSON.stringify(json, null, 2)}\n`, flags.out, io);
      return 0;
    }
    const text =
      format === 'json'
        ? `${JSON.stringify(sequenceExplanationToJSON(exp), null, 2)}\n`
        : format === 'html'
          ? await formatSequenceHtml(exp, report)
          : formatSequenceText(exp, report);
    await emit(text, flags.out, io);
    return 0;
  } finally {
    await onnx?.close();
  }
}

function str(v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
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

/**
 * The checks of the sequence flags `whybox explain --sequences` and `whybox batch --sequences`
 * share: `--layout`, `--reference` (with `--background` when it is `background`),
 * `--output-names`, `--length-policy` and `--align` (which needs a policy that pads or crops).
 */
export function checkSequenceFlags(flags: {
  readonly layout?: unknown;
  readonly reference?: unknown;
  readonly background?: unknown;
  readonly 'output-names'?: unknown;
  readonly 'length-policy'?: unknown;
  readonly align?: unknown;
}): {
  layout?: SequenceLayout;
  reference?: SequenceReference;
  outputNames?: string[];
  lengthPolicy?: LengthPolicy;
  align?: LengthAlign;
} {
  const layout = flags.layout as SequenceLayout | undefined;
  if (layout !== undefined && layout !== 'NLC' && layout !== 'NCL')
    throw new InvalidOptionError('--layout', 'NLC or NCL', layout);
  const reference = flags.reference as SequenceReference | undefined;
  if (reference !== undefined && !['background', 'shuffle', 'uniform', 'zeros'].includes(reference))
    throw new InvalidOptionError('--reference', 'background, shuffle, uniform or zeros', reference);
  if (reference === 'background' && !flags.background)
    throw new InvalidOptionError(
      '--background',
      'a file of background sequences with --reference background',
      undefined,
    );
  const raw = flags['output-names'];
  const outputNames = typeof raw === 'string' ? raw.split(',').map((x) => x.trim()) : undefined;
  if (outputNames?.some((x) => x === ''))
    throw new InvalidOptionError('--output-names', 'comma-separated non-empty names, e.g. EI,IE,N', raw);
  const lengthPolicy = flags['length-policy'] as LengthPolicy | undefined;
  if (lengthPolicy !== undefined && !['error', 'pad', 'crop', 'fit'].includes(lengthPolicy))
    throw new InvalidOptionError('--length-policy', 'error, pad, crop or fit', lengthPolicy);
  const align = flags.align as LengthAlign | undefined;
  if (align !== undefined && !['center', 'start', 'end'].includes(align))
    throw new InvalidOptionError('--align', 'center, start or end', align);
  if (align !== undefined && (lengthPolicy ?? 'error') === 'error')
    throw new InvalidOptionError(
      '--align',
      'unset without --length-policy pad, crop or fit',
      align,
      'it places a padded or cropped sequence in the model window, and the default policy neither pads nor crops',
    );
  return { layout, reference, outputNames, lengthPolicy, align };
}
