/**
 * A batch run as plain JSON: the model (by reference), the options, the background already
 * summarised (float64 bytes in base64, so every worker sees the same bits), players, schema and
 * templates as text. The CLI builds one; the one-process path and every queue worker turn it
 * into the same {@link ExplainBatchOptions}, which is what makes their lines the same bytes.
 */
import { createHash } from 'node:crypto';
import type { GroupSpec } from '../data/players.js';
import { parseSchema } from '../data/schema.js';
import type { SequenceSet } from '../data/sequences.js';
import { InvalidOptionError } from '../errors.js';
import type { AdverseDirection } from '../explanation/reasons.js';
import { parseReasonTemplates } from '../explanation/reasons.js';
import type { ModelSpec } from '../models/model.js';
import type { Background } from '../sampling/background.js';
import type { ExplainBatchOptions } from './explain-batch.js';

/** The model of a run: ONNX bytes by content hash, an ONNX file every worker reads, or a JS module. */
export type BatchModelRef =
  | {
      readonly kind: 'onnx-blob';
      readonly sha256: string;
      readonly bytes: number;
      readonly options: Record<string, unknown>;
    }
  | {
      readonly kind: 'onnx-path';
      readonly path: string;
      readonly sha256: string;
      readonly options: Record<string, unknown>;
    }
  | {
      readonly kind: 'module';
      readonly specifier: string;
      readonly exportName: string;
      readonly options: Record<string, unknown>;
    };

/** The serialised background (summarised once by the producer). */
export interface BackgroundJSON {
  readonly nRows: number;
  readonly nColumns: number;
  /** Float64 little-endian, base64. */
  readonly data: string;
  readonly weights: string;
  readonly summary: string;
  readonly seed?: number;
}

/** Everything a worker needs besides the rows. */
export interface BatchSpec {
  readonly version: 1;
  readonly mode: 'table' | 'credit' | 'sequences';
  readonly model: BatchModelRef;
  /** Options of each chunk's explain call (method, seed, budget, ...): JSON values only. */
  readonly options: Record<string, unknown>;
  readonly columns?: readonly string[];
  readonly groups?: GroupSpec;
  readonly background?: BackgroundJSON;
  readonly credit?: {
    readonly schemaText: string;
    readonly schemaSource: string;
    readonly templatesText?: string;
    readonly templatesSource?: string;
    readonly top?: number;
    readonly threshold?: number;
    readonly adverse?: AdverseDirection;
    readonly audit?: { modelSha256?: string; modelFile?: string };
    /** The background before summarising (the reasons' baselines), when it was summarised. */
    readonly reasonBackground?: BackgroundJSON;
  };
  readonly sequenceBackground?: { ids: string[]; sequences: string[]; lines: number[]; source?: string };
  readonly outputNames?: readonly string[];
}

/** Reason statements used when no templates file is given (as `whybox explain --schema`). */
const GENERIC_TEMPLATES = { default: '{label}: {value}', reasons: {} };

function f64ToBase64(a: Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function base64ToF64(s: string): Float64Array {
  const b = Buffer.from(s, 'base64');
  const out = new Float64Array(b.byteLength / 8);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** A background as JSON (exact: the float64 bytes). */
export function backgroundToJSON(bg: Background): BackgroundJSON {
  return {
    nRows: bg.nRows,
    nColumns: bg.nColumns,
    data: f64ToBase64(bg.data),
    weights: f64ToBase64(bg.weights),
    summary: bg.summary,
    ...(bg.seed !== undefined ? { seed: bg.seed } : {}),
  };
}

/** The background of {@link backgroundToJSON}. */
export function backgroundFromJSON(j: BackgroundJSON): Background {
  return {
    nRows: j.nRows,
    nColumns: j.nColumns,
    data: base64ToF64(j.data),
    weights: base64ToF64(j.weights),
    summary: j.summary,
    ...(j.seed !== undefined ? { seed: j.seed } : {}),
  };
}

/** The options of {@link explainBatch} that a spec stands for (everything but the model). */
export function batchOptionsFromSpec(spec: BatchSpec): ExplainBatchOptions {
  if (spec?.version !== 1) throw new InvalidOptionError('spec', 'a batch spec of version 1', spec?.version);
  const options: ExplainBatchOptions = { ...spec.options };
  if (spec.background) options.background = backgroundFromJSON(spec.background);
  if (spec.groups) options.groups = spec.groups;
  if (spec.credit) {
    const schema = parseSchema(spec.credit.schemaText, spec.credit.schemaSource);
    const templates = parseReasonTemplates(
      spec.credit.templatesText ?? GENERIC_TEMPLATES,
      spec.credit.templatesSource ?? '(generic statements)',
      schema,
    );
    options.credit = {
      schema,
      templates,
      top: spec.credit.top,
      threshold: spec.credit.threshold,
      adverse: spec.credit.adverse,
      audit: spec.credit.audit,
      ...(spec.credit.reasonBackground ? { reasonBackground: backgroundFromJSON(spec.credit.reasonBackground) } : {}),
    };
  }
  if (spec.sequenceBackground) options.background = spec.sequenceBackground as SequenceSet;
  if (spec.outputNames) options.outputNames = spec.outputNames;
  return options;
}

/** The model spec a worker rebuilds (ONNX bytes fetched by the caller for `onnx-blob`). */
export function modelSpecOf(ref: BatchModelRef, bytes?: Uint8Array): ModelSpec {
  if (ref.kind === 'module')
    return { kind: 'module', specifier: ref.specifier, exportName: ref.exportName, options: ref.options };
  if (ref.kind === 'onnx-path') return { kind: 'onnx', source: ref.path, options: ref.options };
  if (!bytes) throw new InvalidOptionError('model bytes', `the ONNX model ${ref.sha256.slice(0, 12)}…`, undefined);
  return { kind: 'onnx', source: bytes, options: ref.options };
}

/** SHA-256 (hex) of text or bytes. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A stable JSON text (object keys sorted), for hashing. */
export function stableJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJSON).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJSON((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}
