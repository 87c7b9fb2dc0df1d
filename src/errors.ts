/**
 * Typed errors. Every error whybox throws for bad input or a failing model is a
 * {@link WhyboxError} with a stable `code`; the message says what was wrong, what was
 * received, and how to fix it. Front doors (CLI, service) map these to exit codes / HTTP
 * statuses without parsing messages.
 */

/** Stable machine-readable error codes. */
export type WhyboxErrorCode =
  | 'INVALID_OPTION'
  | 'DATA'
  | 'SHAPE'
  | 'MODEL'
  | 'BUDGET'
  | 'ABORTED'
  | 'WORKER'
  | 'USAGE'
  | 'DEPENDENCY'
  | 'QUEUE';

/** Base class of all whybox errors. `userError` is true when the caller's input is at fault. */
export class WhyboxError extends Error {
  readonly code: WhyboxErrorCode;
  constructor(code: WhyboxErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WhyboxError';
    this.code = code;
  }
  /** True when the input (data, options, model file) is at fault rather than whybox. */
  get userError(): boolean {
    return this.code !== 'WORKER';
  }
}

/** An option has a wrong type or value. */
export class InvalidOptionError extends WhyboxError {
  readonly option: string;
  constructor(option: string, expected: string, received: unknown, hint?: string) {
    super('INVALID_OPTION', `${option} must be ${expected}; got ${describe(received)}${hint ? ` (${hint})` : ''}`);
    this.name = 'InvalidOptionError';
    this.option = option;
  }
}

/** Where in a file a data problem sits (1-based line and column, as editors count). */
export interface DataLocation {
  file?: string;
  line?: number;
  column?: number;
  columnName?: string;
  /** 0-based index of the record (row) in the caller's input, for raw records. */
  row?: number;
  /** The schema attribute at fault, for raw records. */
  attribute?: string;
}

/** Input data is unreadable, malformed or not finite. */
export class DataError extends WhyboxError {
  readonly location: DataLocation;
  constructor(message: string, location: DataLocation = {}, options?: { cause?: unknown }) {
    super('DATA', `${formatLocation(location)}${message}`, options);
    this.name = 'DataError';
    this.location = location;
  }
}

/** Array shapes do not agree (row lengths, output counts). */
export class ShapeError extends WhyboxError {
  constructor(message: string) {
    super('SHAPE', message);
    this.name = 'ShapeError';
  }
}

/** A model could not be loaded, threw while predicting, or returned non-finite values. */
export class ModelError extends WhyboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODEL', message, options);
    this.name = 'ModelError';
  }
}

/** A request would need more evaluations (or memory) than the method allows. */
export class BudgetError extends WhyboxError {
  constructor(message: string) {
    super('BUDGET', message);
    this.name = 'BudgetError';
  }
}

/** The caller aborted the work through an AbortSignal. */
export class AbortedError extends WhyboxError {
  constructor(message = 'the explanation was aborted', options?: { cause?: unknown }) {
    super('ABORTED', message, options);
    this.name = 'AbortedError';
  }
}

/**
 * A batch queue (BullMQ on Redis) cannot be reached, was lost mid-run, or a shard failed for
 * good: the message says which and what to do (rows already written are kept: `--resume`).
 */
export class QueueError extends WhyboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('QUEUE', message, options);
    this.name = 'QueueError';
  }
}

/** A worker thread failed for a reason that is not the model's or the input's fault. */
export class WorkerError extends WhyboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('WORKER', message, options);
    this.name = 'WorkerError';
  }
}

/**
 * An optional package that a part of whybox needs (onnxruntime-node for ONNX models, fastify for
 * the service, vega for rendered plots, fast-check for property tests) is not installed. The
 * message names the package and the one command that installs it (also in `command`).
 */
export class MissingDependencyError extends WhyboxError {
  /** The packages that are missing. */
  readonly packages: readonly string[];
  /** The shell command that installs them, as the message prints it. */
  readonly command: string;
  constructor(feature: string, packages: readonly string[], command: string, options?: { cause?: unknown }) {
    const names = packages.join(' and ');
    super(
      'DEPENDENCY',
      `${feature} needs the optional package${packages.length > 1 ? 's' : ''} ${names}, not installed in this project; install with: ${command}`,
      options,
    );
    this.name = 'MissingDependencyError';
    this.packages = packages;
    this.command = command;
  }
}

/** Throws {@link AbortedError} when `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const reason = signal.reason;
    throw reason instanceof WhyboxError
      ? reason
      : new AbortedError(`the explanation was aborted${reason instanceof Error ? `: ${reason.message}` : ''}`, {
          cause: reason,
        });
  }
}

/** A short, bounded description of a received value for error messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value))
    return `a ${value.constructor.name} of length ${(value as unknown as ArrayLike<number>).length}`;
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'Object'})`;
  return String(value);
}

function formatLocation(loc: DataLocation): string {
  const parts: string[] = [];
  if (loc.file) parts.push(loc.file);
  if (loc.line !== undefined) parts.push(`line ${loc.line}`);
  if (loc.column !== undefined)
    parts.push(`column ${loc.column}${loc.columnName ? ` (${JSON.stringify(loc.columnName)})` : ''}`);
  else if (loc.columnName) parts.push(`column ${JSON.stringify(loc.columnName)}`);
  if (loc.row !== undefined && loc.line === undefined) parts.push(`record ${loc.row}`);
  if (loc.attribute !== undefined && loc.columnName !== loc.attribute)
    parts.push(`attribute ${JSON.stringify(loc.attribute)}`);
  return parts.length > 0 ? `${parts.join(', ')}: ` : '';
}
