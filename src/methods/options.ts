/**
 * Shared options (those of every method, and the groups a method opts into), and the
 * checks every front door applies the same way: an option's value against its spec, and
 * an option the chosen method does not take refused — never ignored.
 */
import { describe, InvalidOptionError } from '../errors.js';
import type { MethodDescriptor, OptionSpec, SharedGroup } from './types.js';

/** Options every method takes. */
export const CORE_OPTIONS: readonly OptionSpec[] = [
  { name: 'method', kind: 'enum', values: [], help: 'the method (a registered name)', flag: null, http: false },
  {
    name: 'seed',
    kind: 'integer',
    min: -Number.MAX_SAFE_INTEGER,
    max: Number.MAX_SAFE_INTEGER,
    help: 'seed of every random draw',
    default: 'random, recorded in meta.seed',
  },
  { name: 'batchRows', kind: 'integer', min: 1, help: 'rows per model call', default: '4096', http: false },
  {
    name: 'firstRowIndex',
    kind: 'integer',
    min: 0,
    help: "global index of the first row (a batch's chunk): row r draws from random stream firstRowIndex + r",
    default: '0',
    flag: null,
    http: false,
  },
  { name: 'signal', kind: 'object', help: 'an AbortSignal that cancels the work', flag: null, http: false },
  { name: 'onProgress', kind: 'function', help: 'progress callback', flag: null, http: false },
  { name: 'onWarning', kind: 'function', help: 'warning callback', flag: null, http: false },
];

/** Options of each shared group. */
export const SHARED_OPTIONS: Readonly<Record<SharedGroup, readonly OptionSpec[]>> = {
  inputs: [
    { name: 'background', kind: 'object', help: 'background (reference) rows', flag: null, http: false },
    { name: 'groups', kind: 'object', help: 'players: groups of columns', flag: null, http: false },
    { name: 'players', kind: 'object', help: 'players as a prebuilt Players', flag: null, http: false },
  ],
  interventional: [
    { name: 'backgroundWeights', kind: 'object', help: 'weight per background row', flag: null, http: false },
    {
      name: 'summarize',
      kind: 'object',
      help: 'summarise the background first ({ method, rows, seed })',
      flag: null,
      http: false,
    },
    {
      name: 'dedupe',
      kind: 'boolean',
      help: 'send each distinct masked row to the model once',
      default: 'true',
      flag: null,
      http: false,
    },
  ],
  parallel: [
    { name: 'threads', kind: 'integer', min: 1, help: 'worker threads for the model', flag: null, http: false },
    { name: 'pool', kind: 'object', help: 'a worker pool shared across explanations', flag: null, http: false },
    {
      name: 'concurrency',
      kind: 'integer',
      min: 1,
      help: 'rows explained concurrently',
      default: '1 on one thread; with workers, two per worker (one running, one queued)',
      flag: null,
      http: false,
    },
    {
      name: 'minParallelMs',
      kind: 'number',
      min: 0,
      help: 'start worker threads only once the rest of the job is projected above this many ms on one thread (0: at once)',
      default: '300',
      http: false,
    },
  ],
};

/** Every option a method takes: the core ones, its shared groups' and its own. */
export function optionsOf(method: MethodDescriptor): OptionSpec[] {
  return [...CORE_OPTIONS, ...method.shared.flatMap((g) => SHARED_OPTIONS[g]), ...method.options];
}

/** The names of the options a method takes. */
export function acceptedNames(method: MethodDescriptor): Set<string> {
  return new Set(optionsOf(method).map((o) => o.name));
}

/** True when an option counts as given (`undefined`, and `summarize: false`, do not). */
export function isGiven(name: string, value: unknown): boolean {
  return value !== undefined && !(name === 'summarize' && value === false);
}

/**
 * Throws {@link InvalidOptionError} for the first given option that `method` does not take,
 * naming the option (as `label` spells it: `--num-samples` on the CLI) and the method, and
 * which methods do take it.
 */
export function refuseInapplicable(
  method: MethodDescriptor,
  given: Readonly<Record<string, unknown>>,
  methods: readonly MethodDescriptor[],
  label: (name: string) => string = (n) => n,
): void {
  const accepted = acceptedNames(method);
  for (const [name, value] of Object.entries(given)) {
    if (!isGiven(name, value) || accepted.has(name)) continue;
    const takers = methods.filter((m) => acceptedNames(m).has(name)).map((m) => m.name);
    const instead = method.insteadOf?.[name];
    throw new InvalidOptionError(
      label(name),
      `unset for method '${method.name}'`,
      value,
      (instead ? `${instead}; ` : '') +
        (takers.length === 0
          ? 'no method takes it: check the spelling'
          : label(name).startsWith('--')
            ? `it is an option of --method ${takers.join(', ')}`
            : `it is an option of ${takers.map((t) => `'${t}'`).join(', ')}`),
    );
  }
}

/** What a spec allows, in words (for messages and help). */
export function expected(spec: OptionSpec): string {
  switch (spec.kind) {
    case 'integer':
      return spec.min !== undefined && spec.max !== undefined && spec.max < Number.MAX_SAFE_INTEGER
        ? `an integer in ${spec.min}..${spec.max}`
        : spec.min !== undefined && spec.min > -Number.MAX_SAFE_INTEGER
          ? `an integer >= ${spec.min}`
          : 'an integer';
    case 'number':
      return spec.positive ? 'a number > 0' : spec.min !== undefined ? `a number >= ${spec.min}` : 'a finite number';
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${(spec.values ?? []).join(', ')}`;
    case 'budget':
      return spec.auto ? "an integer >= 2 (coalition values per row) or 'auto'" : 'an integer >= 2';
    case 'list':
      return 'a list of names';
    case 'function':
      return 'a function';
    default:
      return 'an object';
  }
}

/** Checks a given value against its spec. @throws {InvalidOptionError} naming `label`. */
export function checkValue(spec: OptionSpec, value: unknown, label: string = spec.name): void {
  const fail = () => {
    throw new InvalidOptionError(label, expected(spec), value);
  };
  switch (spec.kind) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail();
      if (spec.min !== undefined && (value as number) < spec.min) fail();
      if (spec.max !== undefined && (value as number) > spec.max) fail();
      return;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) fail();
      if (spec.positive && !((value as number) > 0)) fail();
      if (spec.min !== undefined && (value as number) < spec.min) fail();
      if (spec.max !== undefined && (value as number) > spec.max) fail();
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail();
      return;
    case 'enum':
      if (typeof value !== 'string' || !(spec.values ?? []).includes(value)) fail();
      return;
    case 'budget':
      if (value === 'auto' && spec.auto) return;
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 2) fail();
      return;
    case 'list':
      if (!Array.isArray(value)) fail();
      return;
    case 'function':
      if (typeof value !== 'function') fail();
      return;
    default:
      if (value === null || (typeof value !== 'object' && typeof value !== 'function')) fail();
  }
}

/** Parses a CLI string for a spec (booleans: true/false; lists: comma-separated). */
export function parseFlagValue(spec: OptionSpec, text: string, label: string): unknown {
  const t = text.trim();
  let v: unknown = t;
  if (spec.kind === 'integer' || (spec.kind === 'budget' && t !== 'auto')) {
    v = /^-?\d+$/.test(t) ? Number(t) : Number.NaN;
  } else if (spec.kind === 'number') v = t === '' ? Number.NaN : Number(t);
  else if (spec.kind === 'boolean') {
    if (t !== 'true' && t !== 'false') throw new InvalidOptionError(label, 'true or false', text);
    v = t === 'true';
  } else if (spec.kind === 'list')
    v = t
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  if ((spec.kind === 'integer' || spec.kind === 'number' || spec.kind === 'budget') && Number.isNaN(v))
    throw new InvalidOptionError(label, expected(spec), text);
  try {
    checkValue(spec, v, label);
  } catch (error) {
    if (error instanceof InvalidOptionError) throw new InvalidOptionError(label, expected(spec), text);
    throw error;
  }
  return v;
}

/** The CLI flag of a spec (`null` when it has none). */
export function flagOf(spec: OptionSpec): string | null {
  if (spec.flag !== undefined) return spec.flag;
  if (spec.kind === 'object' || spec.kind === 'function') return null;
  return spec.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Whether a spec is an HTTP field. */
export function inHttp(spec: OptionSpec): boolean {
  return spec.http ?? (spec.kind !== 'object' && spec.kind !== 'function');
}

/** A short description of a value for messages (re-exported for front doors). */
export { describe };
