import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse/sync';
import { DataError, InvalidOptionError } from '../errors.js';
import { describeFsError } from './csv.js';

/** Sequences read from a file: ids, sequences (upper case), optional labels. */
export interface SequenceSet {
  readonly ids: readonly string[];
  readonly sequences: readonly string[];
  /** Labels from a label column (one-per-line file or table), when present. */
  readonly labels?: readonly string[];
  /** Where they came from (for messages). */
  readonly source?: string;
  /** 1-based line of each sequence's first letter. */
  readonly lines: readonly number[];
}

/** One sequence as a reader yields it. */
export interface SequenceRecord {
  readonly id: string;
  /** Upper case. */
  readonly sequence: string;
  readonly label?: string;
  /** 1-based line of the sequence's first letter. */
  readonly line: number;
}

/** File formats of the sequence readers. */
export type SequenceFormat = 'auto' | 'fasta' | 'lines' | 'csv' | 'tsv';

/** Options of {@link parseSequences}, {@link loadSequences} and {@link readSequenceRecords}. */
export interface ParseSequencesOptions {
  /** File name for messages. @defaultValue 'sequences' (the path for files) */
  source?: string;
  /**
   * `'fasta'`, `'lines'` (one sequence per line, optionally `sequence<TAB or , or space>label`),
   * `'csv'` / `'tsv'` (a table with a header row and a sequence column), or `'auto'`: FASTA when
   * the first non-empty line starts with `>`; a table for a `.csv` / `.tsv` file, a first line
   * of three or more comma- or tab-separated cells, a column option, or a header naming a
   * `sequence` column beside another; else lines. @defaultValue 'auto'
   */
  format?: SequenceFormat;
  /**
   * Tables: the sequence column, by header name (case-insensitive) or 1-based number.
   * @defaultValue the column headed `sequence` / `seq` / `dna` / `rna` / `protein`, else the
   * column whose first value is the longest run of letters (8 or more)
   */
  sequenceColumn?: string;
  /** Tables: the id column. @defaultValue a column headed `id`, `name`, `seq_id`, `donor`, `region`…, else none (ids seq1, seq2, …) */
  idColumn?: string;
  /** Tables: the label column. @defaultValue a column headed `label`, `class`, `y`, `target`…, else none */
  labelColumn?: string;
  /** Called once with what the reader detected (format and columns), for a stderr line. */
  onInfo?: (message: string) => void;
}

const TABLE_FLAGS = ['sequenceColumn', 'idColumn', 'labelColumn'] as const;
const FLAG_NAME: Record<(typeof TABLE_FLAGS)[number], string> = {
  sequenceColumn: 'sequenceColumn (--sequence-column)',
  idColumn: 'idColumn (--id-column)',
  labelColumn: 'labelColumn (--label-column)',
};
const SEQ_HEADER = /^(seq|seqs|sequence|sequences|dna|rna|protein|nucleotides?)$/i;
const ID_HEADER =
  /^(id|ids|name|names|seq_?id|sequence_?id|seq_?name|identifier|donor|region|interval|locus|peak|coord|coords|coordinates)$/i;
const LABEL_HEADER = /^(label|labels|class|classes|y|target|category|group)$/i;

/** What {@link RecordParser} decided about a table. */
interface TableColumns {
  delimiter: string;
  header: string[];
  seq: number;
  id: number | undefined;
  label: number | undefined;
}

/**
 * A line-at-a-time parser of FASTA, one-per-line and table formats: the one state machine
 * behind the sync {@link parseSequences} and the streaming {@link readSequenceRecords}.
 */
class RecordParser {
  private readonly file: string;
  private readonly options: ParseSequencesOptions;
  private mode: 'fasta' | 'lines' | 'csv' | 'tsv' | undefined;
  private count = 0;
  // fasta
  private id: string | undefined;
  private parts: string[] = [];
  private headerLine = 0;
  private startLine = 0;
  // lines
  private withLabels: boolean | undefined;
  // tables
  private table: TableColumns | undefined;

  constructor(options: ParseSequencesOptions) {
    this.file = options.source ?? 'sequences';
    this.options = options;
    const format = options.format ?? 'auto';
    if (!['auto', 'fasta', 'lines', 'csv', 'tsv'].includes(format))
      throw new InvalidOptionError('format', "'auto', 'fasta', 'lines', 'csv' or 'tsv'", format);
    for (const f of TABLE_FLAGS) {
      const v = options[f];
      if (v !== undefined && (typeof v !== 'string' || v.trim() === ''))
        throw new InvalidOptionError(FLAG_NAME[f], 'a column name or 1-based column number', v);
      if (v !== undefined && (format === 'fasta' || format === 'lines'))
        throw new InvalidOptionError(FLAG_NAME[f], `unset with format '${format}' (columns are for CSV/TSV tables)`, v);
    }
    if (format !== 'auto') this.mode = format;
  }

  get records(): number {
    return this.count;
  }

  /** Feeds line `no` (1-based); returns the records it completes. */
  push(raw: string, no: number): SequenceRecord[] {
    const line = no === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    const l = line.trim();
    if (l === '') return [];
    if (this.mode === undefined) {
      if (l.startsWith('#') || l.startsWith(';')) return [];
      this.mode = this.detect(l);
    }
    if (this.mode === 'fasta') return this.fasta(l, no);
    if (this.mode === 'lines') return this.lines(l, no);
    return this.tableLine(line, no);
  }

  /** Ends the input; returns the last record (FASTA). @throws {DataError} when nothing was read. */
  end(): SequenceRecord[] {
    const out = this.mode === 'fasta' ? this.flush() : [];
    if (this.count === 0) {
      if (this.mode === undefined)
        throw new DataError(
          'is empty: it needs FASTA records (">id" then the sequence), one sequence per line, or a CSV/TSV table with a sequence column',
          { file: this.file },
        );
      throw new DataError(
        this.mode === 'fasta'
          ? 'holds no FASTA records'
          : this.mode === 'lines'
            ? 'is empty: it holds no sequence lines'
            : 'holds a header but no rows',
        { file: this.file },
      );
    }
    return out;
  }

  private detect(first: string): 'fasta' | 'lines' | 'csv' | 'tsv' {
    const o = this.options;
    const table = TABLE_FLAGS.some((f) => o[f] !== undefined);
    if (first.startsWith('>')) {
      if (table)
        throw new InvalidOptionError(
          FLAG_NAME.sequenceColumn,
          'unset for a FASTA file',
          o.sequenceColumn ?? o.idColumn,
        );
      return 'fasta';
    }
    const tabs = first.split('\t').length;
    const commas = splitCsv(first, ',', this.file, 1).length;
    const delimiter = /\.tsv$/i.test(this.file) || (tabs >= 2 && tabs >= commas) ? 'tsv' : 'csv';
    if (table || Math.max(tabs, commas) >= 3) return delimiter;
    const cells = delimiter === 'tsv' ? first.split('\t') : splitCsv(first, ',', this.file, 1);
    // a two-column header naming a sequence column that is not the first (id,sequence)
    if (cells.length === 2 && SEQ_HEADER.test(cells[1].trim()) && !SEQ_HEADER.test(cells[0].trim())) return delimiter;
    return 'lines';
  }

  private fasta(l: string, no: number): SequenceRecord[] {
    if (l.startsWith(';') || l.startsWith('#')) return [];
    if (l.startsWith('>')) {
      const out = this.flush();
      this.headerLine = no;
      this.startLine = no + 1;
      this.id = l.slice(1).trim().split(/\s+/)[0] || `seq${this.count + out.length + 1}`;
      this.parts = [];
      return out;
    }
    if (this.id === undefined)
      throw new DataError('text before the first FASTA header (">id")', { file: this.file, line: no });
    this.parts.push(l.replace(/\s+/g, '').toUpperCase());
    return [];
  }

  private flush(): SequenceRecord[] {
    if (this.id === undefined) return [];
    const s = this.parts.join('');
    if (s.length === 0)
      throw new DataError(`FASTA record ${JSON.stringify(this.id)} has no sequence`, {
        file: this.file,
        line: this.headerLine,
      });
    this.count++;
    const rec = { id: this.id, sequence: s, line: this.startLine };
    this.id = undefined;
    this.parts = [];
    return [rec];
  }

  private lines(l: string, no: number): SequenceRecord[] {
    if (l.startsWith('#') || l.startsWith(';')) return [];
    const cells = l.split(/\s*[\t,]\s*|\s+/);
    if (this.count === 0 && /^(seq|sequence)$/i.test(cells[0])) return []; // header
    if (cells.length > 2)
      throw new DataError(
        `has ${cells.length} columns; a sequence line holds a sequence and at most one label (got ${JSON.stringify(l.slice(0, 40))}) — for a table (e.g. label,name,sequence) give it a header row and a .csv/.tsv name, or name the column: --sequence-column NAME (format 'csv' / 'tsv', option sequenceColumn)`,
        { file: this.file, line: no },
      );
    const has = cells.length === 2;
    if (this.withLabels !== undefined && has !== this.withLabels)
      throw new DataError(
        `${has ? 'has a label column' : 'has no label column'} but earlier lines ${this.withLabels ? 'have one' : 'do not'}: give every line a label or none`,
        { file: this.file, line: no },
      );
    this.withLabels = has;
    this.count++;
    return [
      { id: `seq${this.count}`, sequence: cells[0].toUpperCase(), ...(has ? { label: cells[1] } : {}), line: no },
    ];
  }

  private tableLine(line: string, no: number): SequenceRecord[] {
    const delimiter = this.mode === 'tsv' ? '\t' : ',';
    if (!this.table) {
      const header = splitCsv(line, delimiter, this.file, no).map((h) => h.trim());
      this.table = { delimiter, header, seq: -1, id: undefined, label: undefined };
      return [];
    }
    const cells = splitCsv(line, delimiter, this.file, no).map((c) => c.trim());
    const t = this.table;
    if (t.seq < 0) this.resolveColumns(cells, no);
    if (cells.length !== t.header.length)
      throw new DataError(
        `has ${cells.length} cells but the header has ${t.header.length} (${t.header.map((h) => JSON.stringify(h)).join(', ')})`,
        { file: this.file, line: no },
      );
    const seq = cells[t.seq];
    if (seq === '')
      throw new DataError(`the sequence column ${JSON.stringify(t.header[t.seq])} is empty`, {
        file: this.file,
        line: no,
      });
    this.count++;
    const id = t.id === undefined ? `seq${this.count}` : cells[t.id] || `seq${this.count}`;
    return [
      {
        id,
        sequence: seq.replace(/\s+/g, '').toUpperCase(),
        ...(t.label === undefined ? {} : { label: cells[t.label] }),
        line: no,
      },
    ];
  }

  private resolveColumns(first: string[], no: number): void {
    const t = this.table as TableColumns;
    const o = this.options;
    const names = t.header.map((h) => JSON.stringify(h)).join(', ');
    const find = (flag: (typeof TABLE_FLAGS)[number]): number | undefined => {
      const want = o[flag];
      if (want === undefined) return undefined;
      const w = want.trim();
      if (/^\d+$/.test(w)) {
        const i = Number(w) - 1;
        if (i >= 0 && i < t.header.length) return i;
      }
      const i = t.header.findIndex((h) => h.toLowerCase() === w.toLowerCase());
      if (i < 0)
        throw new DataError(
          `has no column ${JSON.stringify(want)} for ${FLAG_NAME[flag]}: its header is ${names} (name one of them or give a 1-based number)`,
          { file: this.file, line: no - 1 },
        );
      return i;
    };
    const byHeader = (re: RegExp, skip: (number | undefined)[]) => {
      const i = t.header.findIndex((h, j) => re.test(h) && !skip.includes(j));
      return i < 0 ? undefined : i;
    };
    let seq = find('sequenceColumn');
    let how = 'given';
    if (seq === undefined) {
      seq = byHeader(SEQ_HEADER, []);
      how = 'by its header';
    }
    if (seq === undefined) {
      let best = -1;
      first.forEach((c, j) => {
        if (/^[A-Za-z*]{8,}$/.test(c) && (best < 0 || c.length > first[best].length)) best = j;
      });
      if (best >= 0) {
        seq = best;
        how = 'the longest run of letters';
      }
    }
    if (seq === undefined)
      throw new DataError(
        `found no sequence column: its header is ${names}; name it with --sequence-column NAME (option sequenceColumn)`,
        { file: this.file, line: no - 1 },
      );
    const id = find('idColumn') ?? (o.idColumn === undefined ? byHeader(ID_HEADER, [seq]) : undefined);
    const label = find('labelColumn') ?? (o.labelColumn === undefined ? byHeader(LABEL_HEADER, [seq, id]) : undefined);
    for (const [a, b, fa, fb] of [
      [seq, id, 'sequence', 'id'],
      [seq, label, 'sequence', 'label'],
      [id, label, 'id', 'label'],
    ] as const)
      if (a !== undefined && a === b)
        throw new InvalidOptionError(`--${fb}-column`, `a column other than the ${fa} column`, t.header[a]);
    t.seq = seq;
    t.id = id;
    t.label = label;
    const col = (i: number | undefined) => (i === undefined ? 'none' : JSON.stringify(t.header[i]));
    o.onInfo?.(
      `${this.file}: read as ${this.mode === 'tsv' ? 'TSV' : 'CSV'} with a header: sequence column ${col(seq)} (${how}), id column ${col(id)}, label column ${col(label)} (choose others with --sequence-column, --id-column, --label-column)`,
    );
  }
}

function splitCsv(line: string, delimiter: string, file: string, no: number): string[] {
  if (!line.includes('"')) return line.split(delimiter);
  try {
    const rows = parse(line, { delimiter, relax_column_count: true, relax_quotes: true }) as string[][];
    return rows[0] ?? [''];
  } catch (error) {
    throw new DataError(`not valid CSV: ${(error as Error).message}`, { file, line: no }, { cause: error });
  }
}

function toSet(records: SequenceRecord[], source: string): SequenceSet {
  const hasLabels = records.some((r) => r.label !== undefined);
  return {
    ids: records.map((r) => r.id),
    sequences: records.map((r) => r.sequence),
    labels: hasLabels ? records.map((r) => r.label ?? '') : undefined,
    source,
    lines: records.map((r) => r.line),
  };
}

/**
 * Parses FASTA, one-sequence-per-line or CSV/TSV text. Letters are upper-cased (soft-masked
 * lower case is accepted); FASTA sequences may span lines; blank lines and `#` / `;` comment
 * lines are skipped. In the line format an optional second column (separated by a tab, a
 * comma or spaces) is a label, and a first line `sequence,label` (a header) is skipped.
 * Tables have a header row; the sequence, id and label columns are detected (reported through
 * `onInfo`) or named by the options.
 *
 * @throws {DataError} for an empty input, a FASTA record without a sequence, text before the
 *   first `>` header, a line of too many columns (with a hint to read it as a table), or a
 *   table without a recognisable sequence column.
 */
export function parseSequences(text: string, options: ParseSequencesOptions = {}): SequenceSet {
  const source = options.source ?? 'sequences';
  const p = new RecordParser({ ...options, source });
  const out: SequenceRecord[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) for (const r of p.push(lines[i], i + 1)) out.push(r);
  for (const r of p.end()) out.push(r);
  return toSet(out, source);
}

/**
 * Streams the sequences of a file (or of `{ text }`) as records, one at a time, without
 * holding the file in memory: the reader for `whybox batch` and other pipelines. Same
 * formats and checks as {@link parseSequences}.
 *
 * @example
 * for await (const rec of readSequenceRecords('splice.csv')) console.log(rec.id, rec.label, rec.sequence.length);
 */
export async function* readSequenceRecords(
  input: string | { readonly text: string },
  options: ParseSequencesOptions = {},
): AsyncGenerator<SequenceRecord> {
  const source = options.source ?? (typeof input === 'string' ? input : 'sequences');
  const p = new RecordParser({ ...options, source });
  if (typeof input !== 'string') {
    const lines = input.text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) yield* p.push(lines[i], i + 1);
    yield* p.end();
    return;
  }
  // open first so that a missing file is a DataError, not a stream error event
  try {
    await (await open(input, 'r')).close();
  } catch (error) {
    throw new DataError(describeFsError(error, input), {}, { cause: error });
  }
  const stream = createReadStream(input, { encoding: 'utf8' });
  const rl = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let no = 0;
  try {
    for await (const line of rl) {
      no++;
      yield* p.push(line, no);
    }
  } catch (error) {
    if (error instanceof DataError || error instanceof InvalidOptionError) throw error;
    throw new DataError(describeFsError(error, input), {}, { cause: error });
  } finally {
    rl.close();
    stream.destroy();
  }
  yield* p.end();
}

/** Collects records (e.g. from {@link readSequenceRecords}) into a {@link SequenceSet}. */
export async function collectSequences(
  records: AsyncIterable<SequenceRecord> | Iterable<SequenceRecord>,
  source = 'sequences',
): Promise<SequenceSet> {
  const out: SequenceRecord[] = [];
  for await (const r of records) out.push(r);
  return toSet(out, source);
}

/** Reads a FASTA, one-per-line or CSV/TSV file (streamed; {@link readSequenceRecords}). */
export async function loadSequences(path: string, options: ParseSequencesOptions = {}): Promise<SequenceSet> {
  const source = options.source ?? path;
  return collectSequences(readSequenceRecords(path, { ...options, source }), source);
}
