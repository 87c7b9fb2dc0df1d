/**
 * One chunk of a batch, explained: the rows of a {@link BatchChunk} through `explain` (or
 * `explainSequences`) with `firstRowIndex` at the chunk's start, then one JSON line per row.
 * The same function runs in `explainBatch` (one process) and in queue workers, so a row's
 * line is the same bytes wherever and in whatever chunk it is explained.
 */

import { csvNumbers } from '../data/csv.js';
import type { Dataset } from '../data/dataset.js';
import type { RawTable } from '../data/encoder.js';
import { encodeRecords } from '../data/encoder.js';
import type { Players } from '../data/players.js';
import type { Schema } from '../data/schema.js';
import type { SequenceSet } from '../data/sequences.js';
import { DataError, InvalidOptionError } from '../errors.js';
import type { EvaluatorProvider, ExplainOptions } from '../explain.js';
import { explain } from '../explain.js';
import type { ExplainSequencesOptions } from '../explain-sequences.js';
import { explainSequences } from '../explain-sequences.js';
import type { Explanation } from '../explanation/explanation.js';
import { explanationToJSON } from '../explanation/explanation.js';
import type { AdverseDirection, ReasonTemplates } from '../explanation/reasons.js';
import { reasonCodes, reasonsToJSON } from '../explanation/reasons.js';
import { sequenceExplanationToJSON } from '../explanation/sequence-report.js';
import type { Model } from '../models/model.js';
import type { Background } from '../sampling/background.js';
import type { BatchChunk, SequenceChunk, TableChunk } from './source.js';

/** The credit-decision settings of a batch (`--schema`): reasons and decisions per row. */
export interface BatchCredit {
  readonly schema: Schema;
  readonly templates: ReasonTemplates;
  /** @defaultValue 4 */
  readonly top?: number;
  /** On the explained output's scale (log-odds under a logit link). @defaultValue 0.5 */
  readonly threshold?: number;
  /** @defaultValue 'higher' */
  readonly adverse?: AdverseDirection;
  /** Audit fields: the model file's SHA-256 and name. */
  readonly audit?: { modelSha256?: string; modelFile?: string };
  /**
   * The background before summarising, for the reasons' baselines ("typical" values), as
   * `whybox explain --schema` uses it. @defaultValue the run's background
   */
  readonly reasonBackground?: Background;
}

/** What every chunk of one batch shares. */
export interface BatchContext {
  readonly model: Model;
  /** `table`: numeric model columns; `credit`: raw records and a schema; `sequences`. */
  readonly mode: 'table' | 'credit' | 'sequences';
  /**
   * Options of `explain` / `explainSequences` (method, seed, budget...) without the rows'
   * inputs; `background` is the background summarised once for the whole run.
   */
  readonly options: Readonly<Record<string, unknown>>;
  /** Table and credit modes: the players. */
  readonly players?: Players;
  /** Table and credit modes: the background (already summarised). */
  readonly background?: Background;
  readonly credit?: BatchCredit;
  /** Sequences: their background set (reference 'background'). */
  readonly sequenceBackground?: SequenceSet;
  /** Sequences: names given to the outputs. */
  readonly outputNames?: readonly string[];
  /** A worker pool shared by every chunk (Shapley methods). */
  readonly pool?: EvaluatorProvider;
  readonly signal?: AbortSignal;
  readonly onWarning?: (message: string) => void;
}

/** One explained row: its global index and its JSON line (without the newline). */
export interface BatchLine {
  readonly index: number;
  readonly line: string;
}

/** The explanation of a chunk's rows as `--format json` would give them (for the run's metadata). */
export interface ChunkResult {
  readonly lines: BatchLine[];
  /** The JSON of the explanation without its rows (the first chunk's, for the metadata). */
  readonly head: Record<string, unknown>;
  readonly evaluations: number;
  readonly modelRows: number;
}

function tableRows(ctx: BatchContext, chunk: TableChunk): { rows: Dataset; ids?: string[] } {
  if (ctx.mode === 'credit') {
    const schema = (ctx.credit as BatchCredit).schema;
    const table: RawTable = {
      header: chunk.header,
      records: chunk.cells.map((cells, r) => {
        if (cells.length !== chunk.header.length)
          throw new DataError(
            `has ${cells.length} fields but the header has ${chunk.header.length}: every record needs one value per column (leave a cell empty for a missing value)`,
            { file: chunk.source, line: chunk.lines[r] },
          );
        const rec: Record<string, string> = {};
        chunk.header.forEach((h, c) => {
          rec[h] = cells[c];
        });
        return rec;
      }),
      lines: chunk.lines,
      source: chunk.source,
    };
    const rows = encodeRecords(schema, table);
    const idAt = chunk.header.indexOf('id');
    return { rows, ids: idAt >= 0 ? chunk.cells.map((c) => c[idAt]) : undefined };
  }
  const data = csvNumbers(
    chunk.header,
    chunk.cells.map((record, r) => ({ record: record as string[], info: { lines: chunk.lines[r] } })),
    { source: chunk.source, float32: ctx.model.inputType === 'float32' },
  );
  return { rows: { columns: chunk.header, data, nRows: chunk.cells.length } };
}

function withoutRows(json: { rows: unknown }): Record<string, unknown> {
  const { rows: _rows, ...head } = json as Record<string, unknown>;
  return head;
}

/** Explains one chunk (consecutive rows from `chunk.start`) and returns its lines, in index order. */
export async function explainChunk(ctx: BatchContext, chunk: BatchChunk): Promise<ChunkResult> {
  if (chunk.kind === 'sequences') return explainSequenceChunk(ctx, chunk);
  if (ctx.mode === 'sequences')
    throw new InvalidOptionError('chunk', 'a sequence chunk for a sequence batch', chunk.kind);
  const { rows, ids } = tableRows(ctx, chunk);
  const n = rows.nRows;
  const options: ExplainOptions = {
    ...(ctx.options as Partial<ExplainOptions>),
    background: ctx.background as Background,
    players: ctx.players,
    firstRowIndex: chunk.start,
    ...(ctx.pool ? { pool: ctx.pool } : {}),
    signal: ctx.signal,
    onWarning: ctx.onWarning,
  };
  const rowIndices = Array.from({ length: n }, (_, r) => chunk.start + r);
  const exp: Explanation = { ...(await explain(ctx.model, rows, options)), rowIndices };
  const plain = explanationToJSON(exp);
  let json = plain as unknown as { rows: Record<string, unknown>[] };
  if (ctx.credit) {
    const c = ctx.credit;
    const report = reasonCodes(exp, {
      schema: c.schema,
      templates: c.templates,
      top: c.top,
      threshold: c.threshold,
      adverse: c.adverse,
      background: c.reasonBackground ?? ctx.background,
      audit: c.audit,
    });
    json = reasonsToJSON(plain, report) as unknown as { rows: Record<string, unknown>[] };
  }
  const lines = json.rows.map((row, r) => {
    const { index: _index, ...rest } = row;
    const index = chunk.start + r;
    return { index, line: JSON.stringify({ index, ...(ids ? { id: ids[r] } : {}), ...rest }) };
  });
  return { lines, head: withoutRows(json), evaluations: exp.evaluations, modelRows: exp.modelRows };
}

async function explainSequenceChunk(ctx: BatchContext, chunk: SequenceChunk): Promise<ChunkResult> {
  if (ctx.mode !== 'sequences') throw new InvalidOptionError('chunk', 'a table chunk for a table batch', chunk.kind);
  const set: SequenceSet = {
    ids: chunk.ids,
    sequences: chunk.sequences,
    labels: chunk.labels,
    lines: chunk.lines,
    source: chunk.source,
  };
  const options: ExplainSequencesOptions = {
    ...(ctx.options as ExplainSequencesOptions),
    ...(ctx.sequenceBackground ? { background: ctx.sequenceBackground } : {}),
    firstRowIndex: chunk.start,
    ...(ctx.pool ? { pool: ctx.pool } : {}),
    signal: ctx.signal,
    onWarning: ctx.onWarning,
  };
  let exp = await explainSequences(ctx.model, set, options);
  if (ctx.outputNames) {
    if (ctx.outputNames.length !== exp.outputs.length)
      throw new InvalidOptionError(
        '--output-names',
        `${exp.outputs.length} names, one per explained output (${exp.outputs.join(', ')})`,
        ctx.outputNames.join(','),
      );
    exp = { ...exp, outputs: ctx.outputNames };
  }
  exp = { ...exp, rowIndices: Array.from({ length: set.sequences.length }, (_, r) => chunk.start + r) };
  const json = sequenceExplanationToJSON(exp) as unknown as { rows: Record<string, unknown>[]; sequence: unknown };
  // with a length policy that pads or crops, each line says where its window starts in the
  // input sequence (`origin`, as `sequence.origins[r]` of the JSON explanation; 0 when it had
  // the model's length), whatever the other sequences of its chunk
  const policy = ctx.options.lengthPolicy;
  const fits = policy !== undefined && policy !== 'error';
  const origins = exp.sequence.origins;
  const lines = json.rows.map((row, r) => {
    const { index: _index, ...rest } = row;
    const index = chunk.start + r;
    return {
      index,
      line: JSON.stringify({
        index,
        id: chunk.ids[r],
        // the explained sequence: the input's, padded / cropped to the model's length
        sequence: exp.sequence.sequences[r],
        ...(fits ? { origin: origins ? origins[r] : 0 } : {}),
        ...(chunk.labels ? { label: chunk.labels[r] } : {}),
        ...rest,
      }),
    };
  });
  const head = withoutRows(json);
  const seq = { ...(json.sequence as Record<string, unknown>) };
  delete seq.ids;
  delete seq.sequences;
  delete seq.origins; // the first chunk's: each line has its own
  head.sequence = seq;
  return { lines, head, evaluations: exp.evaluations, modelRows: exp.modelRows };
}
