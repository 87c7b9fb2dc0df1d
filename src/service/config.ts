/**
 * The service configuration (`whybox.config.json`): models, limits, auth. Validated with a
 * TypeBox schema at start-up; every problem is reported with its JSON path.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Static, TSchema } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { describeFsError } from '../data/csv.js';
import { InvalidOptionError, WhyboxError } from '../errors.js';
import { KERNEL_VARIANTS } from '../estimators/kernel.js';
import { METHODS, methodNames } from '../methods/registry.js';
import type { ServiceLimit } from '../methods/types.js';

/** A configuration file that cannot be used. */
export class ConfigError extends WhyboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_OPTION', message, options);
    this.name = 'ConfigError';
  }
}

/** Names of models in URLs: letters, digits, `_`, `-`, `.`; 1-64 characters. */
export const MODEL_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';

const MethodSchema = Type.Union(methodNames('tabular').map((m) => Type.Literal(m)));
const VariantSchema = Type.Union(KERNEL_VARIANTS.map((v) => Type.Literal(v)));

/** The per-method limits of the registry (`maxExactPlayers`, `maxLimeSamples`...), once each. */
function methodLimits() {
  const out = new Map<string, ServiceLimit>();
  for (const m of METHODS) for (const l of m.serviceLimits ?? []) if (!out.has(l.key)) out.set(l.key, l);
  return out;
}

/** Limits of the service (every request is checked against them). */
export const LimitsSchema = Type.Object(
  {
    ...Object.fromEntries(
      [...methodLimits().values()].map((l) => [
        l.key,
        Type.Optional(
          Type.Integer({ minimum: 0, ...(l.key === 'maxExactPlayers' ? { maximum: 20 } : {}), description: l.help }),
        ),
      ]),
    ),
    bodyBytes: Type.Optional(Type.Integer({ minimum: 1024, description: 'largest request body in bytes' })),
    rowsPerRequest: Type.Optional(Type.Integer({ minimum: 1, description: 'most rows (or records) per request' })),
    maxBudget: Type.Optional(Type.Integer({ minimum: 2, description: 'largest budget (and budget "auto" cap)' })),
    timeoutMs: Type.Optional(
      Type.Integer({ minimum: 1, description: 'per-request deadline (ms), queue wait included' }),
    ),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, description: 'requests computed at once' })),
    queue: Type.Optional(Type.Integer({ minimum: 0, description: 'requests waiting for a slot; more get 503' })),
    shutdownTimeoutMs: Type.Optional(
      Type.Integer({ minimum: 0, description: 'on SIGTERM, how long in-flight requests may finish' }),
    ),
    requestTimeoutMs: Type.Optional(
      Type.Integer({ minimum: 0, description: 'most time to receive a whole request, headers and body (0: none)' }),
    ),
    headersTimeoutMs: Type.Optional(
      Type.Integer({ minimum: 0, description: 'most time to receive the request headers' }),
    ),
    connectionTimeoutMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'idle socket timeout; must exceed timeoutMs (default: max(60000, timeoutMs + 10000))',
      }),
    ),
    keepAliveTimeoutMs: Type.Optional(
      Type.Integer({ minimum: 0, description: 'how long an idle keep-alive connection stays open' }),
    ),
    maxConnections: Type.Optional(
      Type.Integer({ minimum: 1, description: 'open connections at once; more are closed at accept' }),
    ),
    maxHeaderBytes: Type.Optional(
      Type.Integer({ minimum: 1024, description: 'largest request line and headers in bytes (more: 431)' }),
    ),
  },
  { additionalProperties: false },
);

/** Resolved limits: the service's own, and each method's (from the registry). */
export interface Limits {
  bodyBytes: number;
  rowsPerRequest: number;
  maxBudget: number;
  /** Most players for 'exact' (the exact method's limit). */
  maxExactPlayers: number;
  timeoutMs: number;
  concurrency: number;
  queue: number;
  shutdownTimeoutMs: number;
  /** Per-method limits of the registry (`maxLimeSamples`, `allowMsr`...). */
  [methodLimit: string]: number;
}

/** Default limits (see the README's "Limits" table). */
export const DEFAULT_LIMITS: Limits = {
  ...Object.fromEntries([...methodLimits().values()].map((l) => [l.key, l.default])),
  bodyBytes: 1_048_576,
  rowsPerRequest: 100,
  maxBudget: 8192,
  maxExactPlayers: 12,
  timeoutMs: 30_000,
  concurrency: 2,
  queue: 64,
  shutdownTimeoutMs: 30_000,
  requestTimeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  connectionTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 256,
  maxHeaderBytes: 16_384,
};

const GroupsSchema = Type.Record(Type.String(), Type.Array(Type.String(), { minItems: 1 }));

/** One served model. Paths are relative to the configuration file. */
export const ModelConfigSchema = Type.Object(
  {
    onnx: Type.Optional(Type.String({ minLength: 1, description: 'ONNX model file (or "module")' })),
    module: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'ES module file exporting the model function (or "onnx"); runs in the worker threads',
      }),
    ),
    export: Type.Optional(
      Type.String({ minLength: 1, description: 'with "module": the export name (default "default")' }),
    ),
    inputs: Type.Optional(
      Type.Integer({ minimum: 1, description: 'with "module": number of input columns (required)' }),
    ),
    outputs: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: 'with "module": output names (default ["output"])',
      }),
    ),
    batched: Type.Optional(
      Type.Boolean({ description: 'with "module": the function takes a whole batch (rows, nRows)' }),
    ),
    background: Type.Optional(
      Type.String({ minLength: 1, description: 'background CSV (header = model input columns)' }),
    ),
    groups: Type.Optional(Type.Union([Type.String({ minLength: 1 }), GroupsSchema])),
    summarize: Type.Optional(Type.Integer({ minimum: 1, description: 'k-means medoids of the background' })),
    output: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1 })])),
    tensor: Type.Optional(Type.String({ minLength: 1 })),
    link: Type.Optional(Type.Union([Type.Literal('identity'), Type.Literal('logit')])),
    schema: Type.Optional(Type.String({ minLength: 1, description: 'schema JSON of raw records' })),
    reasons: Type.Optional(
      Type.Union([Type.String({ minLength: 1 }), Type.Record(Type.String(), Type.Unknown())], {
        description: 'reason templates (file or inline); needs a schema (default: generic statements)',
      }),
    ),
    threshold: Type.Optional(
      Type.Number({ description: 'decision threshold on the explained output, in its units (default 0.5)' }),
    ),
    adverse: Type.Optional(
      Type.Union([Type.Literal('higher'), Type.Literal('lower')], {
        description: 'which side of the threshold is adverse (default higher)',
      }),
    ),
    description: Type.Optional(Type.String()),
    defaults: Type.Optional(
      Type.Object(
        {
          method: Type.Optional(MethodSchema),
          variant: Type.Optional(VariantSchema),
          budget: Type.Optional(Type.Union([Type.Integer({ minimum: 2 }), Type.Literal('auto')])),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type ModelConfig = Static<typeof ModelConfigSchema>;

/** The whole configuration file. */
export const ServiceConfigSchema = Type.Object(
  {
    $schema: Type.Optional(
      Type.String({ description: 'JSON Schema of this file, for editors (whybox/schemas/whybox.config.schema.json)' }),
    ),
    models: Type.Record(Type.String({ pattern: MODEL_NAME_PATTERN }), ModelConfigSchema, {
      minProperties: 1,
    }),
    limits: Type.Optional(LimitsSchema),
    threads: Type.Optional(Type.Integer({ minimum: 1, description: 'worker threads shared by the models' })),
    auth: Type.Optional(
      Type.Object(
        { tokenEnv: Type.String({ minLength: 1, description: 'environment variable holding the bearer token' }) },
        { additionalProperties: false },
      ),
    ),
    server: Type.Optional(
      Type.Object(
        {
          port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
          host: Type.Optional(Type.String({ minLength: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    logLevel: Type.Optional(
      Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
    ),
  },
  { additionalProperties: false },
);

export type ServiceConfig = Static<typeof ServiceConfigSchema>;

/**
 * Reads and validates a configuration file; relative paths in it are resolved against the
 * file's directory.
 * @throws {ConfigError} naming the file and the JSON path of the first problems.
 */
export async function loadServiceConfig(path: string): Promise<ServiceConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(describeFsError(error, path), { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  const config = checkServiceConfig(json, path);
  return resolvePaths(config, dirname(resolve(path)));
}

/**
 * Validates a configuration object.
 * @throws {ConfigError} listing up to 5 problems with their JSON paths.
 */
export function checkServiceConfig(json: unknown, source = 'config'): ServiceConfig {
  checkSchema(ServiceConfigSchema, json, source);
  const pattern = new RegExp(MODEL_NAME_PATTERN);
  for (const [name, m] of Object.entries((json as ServiceConfig).models)) {
    if (!pattern.test(name))
      throw new ConfigError(
        `${source}: model name ${JSON.stringify(name)} must match pattern ${MODEL_NAME_PATTERN} (letters, digits, _, -, .; it is part of the URL)`,
      );
    const at = `${source}: /models/${name}`;
    if ((m.onnx === undefined) === (m.module === undefined))
      throw new ConfigError(
        `${at}: give exactly one of "onnx" (an ONNX file) or "module" (an ES module exporting the model function)`,
      );
    if (m.module !== undefined && m.inputs === undefined)
      throw new ConfigError(`${at}: "module" needs "inputs", the number of input columns of the function`);
    if (m.onnx !== undefined) {
      const moduleOnly = (['export', 'inputs', 'outputs', 'batched'] as const).find((k) => m[k] !== undefined);
      if (moduleOnly)
        throw new ConfigError(`${at}: "${moduleOnly}" is for "module" models; an ONNX model describes its own inputs`);
    } else if (m.tensor !== undefined)
      throw new ConfigError(`${at}: "tensor" is for "onnx" models; a module model has one output list ("outputs")`);
  }
  return json as ServiceConfig;
}

function checkSchema(schema: TSchema, json: unknown, source: string): void {
  if (Value.Check(schema, json)) return;
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const e of Value.Errors(schema, json)) {
    const at = e.path || '/';
    if (seen.has(at)) continue;
    seen.add(at);
    problems.push(
      `${at}: ${e.message}${e.value === undefined ? '' : ` (got ${JSON.stringify(e.value)?.slice(0, 60)})`}`,
    );
    if (problems.length === 5) break;
  }
  throw new ConfigError(`${source} is not a valid whybox service configuration: ${problems.join('; ')}`);
}

function resolvePaths(config: ServiceConfig, dir: string): ServiceConfig {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(dir, p));
  const models: Record<string, ModelConfig> = {};
  for (const [name, m] of Object.entries(config.models)) {
    models[name] = {
      ...m,
      ...(m.onnx ? { onnx: abs(m.onnx) } : {}),
      ...(m.module ? { module: abs(m.module) } : {}),
      ...(m.background ? { background: abs(m.background) } : {}),
      ...(typeof m.groups === 'string' ? { groups: abs(m.groups) } : {}),
      ...(m.schema ? { schema: abs(m.schema) } : {}),
      ...(typeof m.reasons === 'string' ? { reasons: abs(m.reasons) } : {}),
    };
  }
  return { ...config, models };
}

/** Limits with defaults filled in. */
export function resolveLimits(limits: Partial<Limits> | undefined): Limits {
  const given = stripUndefined(limits ?? {});
  const out = { ...DEFAULT_LIMITS, ...given } as Limits;
  for (const [k, v] of Object.entries(out)) {
    if (!(k in DEFAULT_LIMITS))
      throw new InvalidOptionError(`limits.${k}`, `one of ${Object.keys(DEFAULT_LIMITS).join(', ')}`, k);
    if (!Number.isInteger(v) || v < 0) throw new InvalidOptionError(`limits.${k}`, 'a non-negative integer', v);
  }
  // the socket is idle while a request computes: its timeout must outlast the deadline
  if (given.connectionTimeoutMs === undefined) out.connectionTimeoutMs = Math.max(60_000, out.timeoutMs + 10_000);
  else if (out.connectionTimeoutMs > 0 && out.connectionTimeoutMs <= out.timeoutMs)
    throw new InvalidOptionError(
      'limits.connectionTimeoutMs',
      `0 or more than limits.timeoutMs (${out.timeoutMs})`,
      out.connectionTimeoutMs,
      'an idle socket is closed after it, and a request computing for up to timeoutMs sends nothing meanwhile',
    );
  if (out.requestTimeoutMs > 0 && out.headersTimeoutMs > out.requestTimeoutMs)
    throw new InvalidOptionError(
      'limits.headersTimeoutMs',
      `at most limits.requestTimeoutMs (${out.requestTimeoutMs})`,
      out.headersTimeoutMs,
    );
  if (out.maxConnections < 1)
    throw new InvalidOptionError('limits.maxConnections', 'an integer >= 1', out.maxConnections);
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
