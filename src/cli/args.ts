/**
 * Helpers shared by the CLI commands: strict flag parsing, integer flags, row lists, model
 * CSVs and writing the output. Error texts are part of the CLI's contract (tests match them).
 */
import type { ParseArgsConfig } from 'node:util';
import { parseArgs } from 'node:util';
import { loadCsv } from '../data/csv.js';
import type { Dataset } from '../data/dataset.js';
import { DataError, InvalidOptionError, WhyboxError } from '../errors.js';
import { checkOutNotInput, writeFileAtomic } from './output.js';

/** A usage error: exit code 2 with a one-line message. */
export class UsageError extends WhyboxError {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}

/** The parsed values of the flags declared in `T`, as node's parseArgs gives them. */
export type FlagValues<T> = {
  [K in keyof T]?: T[K] extends { type: 'boolean' }
    ? T[K] extends { multiple: true }
      ? boolean[]
      : boolean
    : T[K] extends { multiple: true }
      ? string[]
      : string;
};

/**
 * `node:util` parseArgs refuses `--seed -1` ("argument is ambiguous"): a value that starts
 * with `-` is taken for an option. Negative numbers are values, so `--flag -1` (and `-0.5`,
 * `-1e-3`) after a string option are joined into `--flag=-1` before parsing.
 */
export function joinNegativeValues(
  args: readonly string[],
  options: Readonly<Record<string, { readonly type: 'string' | 'boolean' }>>,
): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = args[i + 1];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\.?\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** Parses flags (strict, no positionals; negative numbers are values, see {@link joinNegativeValues}), mapping node's errors to usage errors naming `command`. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(
  args: readonly string[],
  options: T,
  command: string,
): FlagValues<T> {
  let values: FlagValues<T>;
  try {
    values = parseArgs({ args: joinNegativeValues(args, options), options, strict: true, allowPositionals: false })
      .values as FlagValues<T>;
  } catch (error) {
    const m = (error as Error).message.split('\n')[0];
    throw new UsageError(`${m.replace(/^Unknown option/, 'unknown option')} (see whybox ${command} --help)`);
  }
  // before any work: an --out that is an input file would destroy it
  checkOutNotInput(values as Record<string, unknown>);
  return values;
}

/** An integer flag ≥ min. */
export function int(s: string, flag: string, min: number): number {
  const v = Number(s);
  if (!/^-?\d+$/.test(s.trim()) || !Number.isSafeInteger(v) || v < min)
    throw new InvalidOptionError(flag, `an integer >= ${min === Number.MIN_SAFE_INTEGER ? '-2^53' : min}`, s);
  return v;
}

/**
 * Row numbers from a list like `0,3,10-12` (0-based, each below `nRows`); `expected` is what
 * the error says is allowed when a number is too large.
 */
export function parseRowList(
  spec: string,
  nRows: number,
  expected = `row numbers below ${nRows} (the data has ${nRows} rows)`,
): number[] {
  const indices: number[] = [];
  for (const part of spec.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new InvalidOptionError('--rows', 'a list like 0,3,10-12', spec);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new InvalidOptionError('--rows', 'ranges written low-high, like 10-12', part.trim());
    for (let i = a; i <= b; i++) {
      if (i >= nRows) throw new InvalidOptionError('--rows', expected, i);
      indices.push(i);
    }
  }
  return indices;
}

/** A numeric CSV whose header must have the model's `nInputs` columns (`flag` names the file's flag). */
export async function readCsvFor(
  path: string,
  model: { readonly nInputs: number; readonly inputType?: string },
  flag: string,
): Promise<Dataset> {
  const ds = await loadCsv(path, { float32: model.inputType === 'float32' });
  if (ds.columns.length !== model.nInputs)
    throw new DataError(
      `has ${ds.columns.length} columns but the model takes ${model.nInputs} inputs: the header must list the model's ${model.nInputs} input columns in order (${flag})`,
      { file: path, line: 1 },
    );
  return ds;
}

/** Writes `text` to the --out file (atomically: see {@link writeFileAtomic}), or to stdout without one. */
export async function emit(text: string, out: string | undefined, io: { stdout: { write(s: string): unknown } }) {
  if (out) await writeFileAtomic(out, text);
  else io.stdout.write(text);
}

/** Collapses a message to one line. */
export function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/** Where warnings go: `whybox: warning: ...` lines on stderr, or nowhere with --quiet. */
export function warner(io: { stderr: { write(s: string): unknown } }, quiet: boolean): (m: string) => void {
  return quiet ? () => undefined : (m) => io.stderr.write(`whybox: warning: ${oneLine(m)}\n`);
}
