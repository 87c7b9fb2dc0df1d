/**
 * The HTTP service (fastify): explain and predict routes over configured models, model list,
 * health, readiness, Prometheus metrics and an OpenAPI document generated from the route
 * schemas. Limits, per-request deadlines, cancellation on disconnect, a bounded queue,
 * optional bearer auth and graceful shutdown.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import swagger from '@fastify/swagger';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import Fastify from 'fastify';
import secureJson from 'secure-json-parse';
import type { RawRecord } from '../data/encoder.js';
import { DataError, InvalidOptionError, WhyboxError } from '../errors.js';
import { defaultBudget } from '../estimators/kernel.js';
import { checkMethodOptions } from '../explain.js';
import type { Explainer, ExplainerCallOptions, ExplainerRows } from '../explainer.js';
import { certifiedRowJSON } from '../explanation/certify.js';
import { explanationToJSON } from '../explanation/explanation.js';
import { globalImportance } from '../explanation/importance.js';
import { reasonCodes, reasonsToJSON } from '../explanation/reasons.js';
import { DEFAULT_METHOD, getMethod } from '../methods/registry.js';
import type { WorkerPool } from '../parallel/pool.js';
import { VERSION } from '../version.js';
import type { Limits } from './config.js';
import { resolveLimits } from './config.js';
import { creditExplain } from './credit-extras.js';
import { Metrics } from './metrics.js';
import type { ServedModel } from './models.js';
import { QueueFullError, WorkQueue } from './queue.js';
import { redactingLogger } from './redact.js';
import type { ExplainBodyT, ModelParamsT, PredictBodyT } from './schemas.js';
import {
  ErrorSchema,
  ExplanationSchema,
  explainBody,
  httpOptionNames,
  ModelListSchema,
  ModelParams,
  PredictionSchema,
  predictBody,
  StatusSchema,
} from './schemas.js';
import { clientErrorHandler, frameworkErrors, transportOptions } from './transport.js';

/** Options of {@link createService}. */
export interface ServiceOptions {
  /** The models, by name (names as in URLs). */
  models: ReadonlyMap<string, ServedModel> | Readonly<Record<string, Explainer>>;
  /** Limits (missing ones take the defaults of `DEFAULT_LIMITS`). */
  limits?: Partial<Limits>;
  /** Bearer token: when set, every /v1 route needs `Authorization: Bearer <token>`. @defaultValue no auth */
  token?: string;
  /**
   * fastify's logger option (pino options, or false).
   * @defaultValue `{ level: 'info' }` — JSON lines on stdout
   */
  logger?: FastifyServerOptions['logger'];
  /** Close the models' explainers when the service closes. @defaultValue true */
  closeModels?: boolean;
  /** A worker pool shared by the models, closed after them. */
  pool?: WorkerPool;
}

/** A running (or ready to listen) service. */
export interface WhyboxService {
  readonly app: FastifyInstance;
  readonly limits: Limits;
  /** Starts listening; returns the address (`http://127.0.0.1:8080`). */
  listen(options: { port?: number; host?: string }): Promise<string>;
  /**
   * Graceful shutdown: stops accepting requests, lets the ones in flight finish (until the last
   * quarter — at most 500 ms — of `limits.shutdownTimeoutMs`, then cancels their work and answers
   * them 503), cuts the connections still open, then releases the models and the pool (ending
   * threads stuck in a hanging model). Resolves within `limits.shutdownTimeoutMs` (every step is
   * bounded by it); threads being ended may outlive it by a few tens of milliseconds. Safe to
   * call twice.
   */
  close(): Promise<void>;
  /** Requests waiting / computing. */
  readonly queueDepth: number;
  readonly inFlight: number;
}

/** Routes open without the bearer token (probes, metrics, the API document); every other route needs it. */
const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json']);

/** The deadline of a request passed. */
class DeadlineError extends Error {
  constructor(readonly ms: number) {
    super(`deadline of ${ms} ms`);
    this.name = 'DeadlineError';
  }
}
/** The client closed the connection before the answer. */
class ClientGoneError extends Error {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientGoneError';
  }
}
/** The server is shutting down and cancelled the work. */
class ShuttingDownError extends Error {
  constructor() {
    super('the server is shutting down');
    this.name = 'ShuttingDownError';
  }
}

/** An HTTP error with a code and a message safe to show. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/**
 * Creates the service (routes registered, not listening yet).
 * @example
 * const service = await createService({ models: { credit: explainer }, limits: { rowsPerRequest: 10 } });
 * await service.listen({ port: 8080, host: '127.0.0.1' });
 */
export async function createService(options: ServiceOptions): Promise<WhyboxService> {
  const limits = resolveLimits(options.limits);
  const models: ReadonlyMap<string, ServedModel> =
    options.models instanceof Map
      ? options.models
      : new Map(
          Object.entries(options.models as Record<string, Explainer>).map(([name, explainer]) => [
            name,
            { name, explainer },
          ]),
        );
  if (models.size === 0) throw new WhyboxError('INVALID_OPTION', 'the service needs at least one model');
  const queue = new WorkQueue(limits.concurrency, limits.queue);
  // this service's worker pools (the shared one and the explainers' own), for readiness: never
  // the other pools of the process (another service's, a batch job's)
  const pools = new Set<WorkerPool>();
  if (options.pool) pools.add(options.pool);
  for (const m of models.values()) {
    const p = m.explainer.workerPool;
    if (p) pools.add(p);
  }
  const lostSlots = () => {
    let n = 0;
    for (const p of pools) n += p.lostSlots;
    return n;
  };
  const metrics = new Metrics({
    queueDepth: () => queue.depth,
    inFlight: () => queue.active,
    lostSlots,
  });
  const active = new Set<AbortController>();
  const tokenDigest = options.token ? sha256(options.token) : undefined;
  if (options.token !== undefined && options.token.length === 0)
    throw new WhyboxError('INVALID_OPTION', 'the bearer token is empty; set a non-empty token or none');
  let draining = false;
  let closing: Promise<void> | undefined;

  const app = Fastify({
    logger: redactingLogger(options.logger ?? { level: 'info' }, options.token),
    ...transportOptions(limits),
    clientErrorHandler: clientErrorHandler(limits),
    frameworkErrors,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: false, // the onRequest hook answers 503 in the error shape while draining
    forceCloseConnections: 'idle',
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
  });

  // JSON bodies: prototype-poisoning keys refused with a clear message (fastify's own parser
  // reports them as "not valid JSON"); the body limit is fastify's
  app.removeAllContentTypeParsers(); // JSON only: anything else is a 415
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
    const body = String(text);
    if (body.trim() === '')
      return done(new HttpError(400, 'BAD_REQUEST', 'the request body is empty; send a JSON object'));
    try {
      done(null, secureJson.parse(body, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch (error) {
      const m = (error as Error).message;
      done(
        /prototype/i.test(m)
          ? new HttpError(
              400,
              'FORBIDDEN_KEY',
              'the body contains a "__proto__" or "constructor.prototype" key, which this server refuses',
            )
          : new HttpError(400, 'BAD_JSON', `the body is not valid JSON: ${m}`),
      );
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'whybox',
        version: VERSION,
        description: 'Shapley-value explanations of the configured models',
      },
      components: options.token ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } : {},
    },
  });

  const started = new WeakMap<FastifyRequest, number>();
  app.addHook('onRequest', async (request, reply) => {
    started.set(request, performance.now());
    reply.header('x-request-id', request.id);
    if (draining && request.routeOptions.url !== '/readyz' && request.routeOptions.url !== '/healthz') {
      reply.header('connection', 'close');
      throw new ShuttingDownError();
    }
    // deny by default: decided on the matched route (the router decodes %XX and strips an
    // absolute-form origin, so the raw URL says nothing); only the probes are public
    if (tokenDigest && !PUBLIC_ROUTES.has(request.routeOptions.url ?? '')) {
      const header = request.headers.authorization;
      const m = typeof header === 'string' ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
      if (!m || !timingSafeEqual(sha256(m[1]), tokenDigest)) {
        reply.header('www-authenticate', 'Bearer realm="whybox"');
        throw new HttpError(
          401,
          'UNAUTHORIZED',
          m ? 'the bearer token is not valid' : 'this server needs an Authorization: Bearer <token> header',
        );
      }
    }
  });
  // while shutting down, answers close their connection (keep-alive would hold the close)
  app.addHook('onSend', async (_request, reply, payload) => {
    if (draining) reply.header('connection', 'close');
    return payload;
  });
  const counted = new WeakSet<FastifyRequest>();
  const observe = (request: FastifyRequest, status: number) => {
    if (counted.has(request)) return;
    counted.add(request);
    const t0 = started.get(request);
    const seconds = t0 === undefined ? 0 : (performance.now() - t0) / 1000;
    metrics.observeRequest(request.routeOptions.url ?? 'unmatched', request.method, status, seconds);
  };
  app.addHook('onResponse', async (request, reply) => {
    observe(request, reply.statusCode);
  });
  app.addHook('onRequestAbort', async (request) => {
    observe(request, 499);
  });
  app.addHook('onTimeout', async (request) => {
    observe(request, 408);
  });

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const { status, body, retryAfter } = toHttpError(error, request, limits);
    if (status >= 500 && status !== 503 && status !== 504)
      request.log.error({ err: error }, 'request failed with an internal error');
    else if (status === 499) request.log.info('client closed the connection; the work was cancelled');
    else request.log.info({ code: body.error.code }, body.error.message);
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    if (reply.raw.destroyed) {
      observe(request, 499);
      return;
    }
    return reply.code(status).type('application/json').send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: {
        code: 'NOT_FOUND',
        message: `no route ${request.method} ${request.url.split('?')[0].slice(0, 100)}; see /openapi.json`,
      },
    }),
  );

  const lookup = (name: string): ServedModel => {
    const m = models.get(name);
    if (!m)
      throw new HttpError(
        404,
        'UNKNOWN_MODEL',
        `no model named ${JSON.stringify(name)}; configured models: ${[...models.keys()].join(', ')} (GET /v1/models)`,
        'name',
      );
    return m;
  };

  /** Runs `job` through the queue with the request's deadline and disconnect cancellation. */
  const guarded = async <T>(
    reply: FastifyReply,
    timeoutMs: number,
    job: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> => {
    if (draining) throw new ShuttingDownError();
    const ctl = new AbortController();
    active.add(ctl);
    const timer = setTimeout(() => ctl.abort(new DeadlineError(timeoutMs)), timeoutMs);
    const onClose = () => {
      if (!reply.raw.writableFinished) ctl.abort(new ClientGoneError());
    };
    reply.raw.on('close', onClose);
    try {
      const work = queue.run(() => job(ctl.signal), ctl.signal);
      const stopped = new Promise<never>((_, reject) => {
        if (ctl.signal.aborted) reject(ctl.signal.reason);
        ctl.signal.addEventListener('abort', () => reject(ctl.signal.reason), { once: true });
      });
      work.catch(() => undefined);
      stopped.catch(() => undefined);
      return await Promise.race([work, stopped]);
    } finally {
      clearTimeout(timer);
      reply.raw.off('close', onClose);
      active.delete(ctl);
    }
  };

  const errorResponses = { 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 503: ErrorSchema, 504: ErrorSchema };
  const security = options.token ? [{ bearer: [] }] : undefined;

  app.post<{ Params: ModelParamsT; Body: ExplainBodyT }>(
    '/v1/models/:name/explain',
    {
      schema: {
        summary: 'Explain rows (Shapley values)',
        description: 'Answers with the same object as `whybox explain --format json`.',
        params: ModelParams,
        body: explainBody(limits),
        response: { 200: ExplanationSchema, ...errorResponses },
        security,
      },
    },
    async (request, reply) => {
      const served = lookup(request.params.name);
      const ex = served.explainer;
      const body = request.body;
      const rows = rowsOf(body, ex);
      const reasons = served.reasons;
      if (body.top !== undefined && !reasons)
        throw new HttpError(
          400,
          'UNSUPPORTED',
          ex.schema
            ? `top: model ${JSON.stringify(served.name)} explains several outputs; reason codes need one (its "output" in the configuration)`
            : `top: model ${JSON.stringify(served.name)} has no schema, so no reason codes (they name raw attributes); configure "schema" and "reasons"`,
          'top',
        );
      if ((body.certify !== undefined || body.recourse !== undefined) && body.top === undefined)
        throw new HttpError(
          400,
          'VALIDATION',
          'certify and recourse need top (they extend the reason codes of a schema model)',
          body.certify !== undefined ? 'certify' : 'recourse',
        );
      if (body.top !== undefined && body.output !== undefined)
        throw new HttpError(
          400,
          'VALIDATION',
          "output cannot be combined with top: reason codes explain the model's configured score output",
          'output',
        );
      const method = getMethod(body.method ?? ex.defaults?.method ?? DEFAULT_METHOD, 'tabular');
      // the method's options in the request (every other field is the request's own)
      const given: Record<string, unknown> = {};
      for (const name of httpOptionNames()) if (body[name] !== undefined) given[name] = body[name];
      checkMethodOptions(method, given);
      const nPlayers = ex.players.names.length;
      const all = { ...given, budget: given.budget };
      for (const limit of method.serviceLimits ?? []) {
        const over = limit.check(limits[limit.key] ?? limit.default, { nPlayers, options: all });
        if (over)
          throw new HttpError(400, 'LIMIT', `${over.message} (model ${JSON.stringify(served.name)})`, over.field);
      }
      const takesBudget = method.options.some((o) => o.name === 'budget');
      const fallback = ex.defaults?.budget;
      const budget =
        (given.budget as number | 'auto' | undefined) ??
        (!takesBudget || (fallback === 'auto' && !method.options.find((o) => o.name === 'budget')?.auto)
          ? undefined
          : fallback);
      if (takesBudget && budget !== 'auto') {
        const effective = budget ?? defaultBudget(nPlayers);
        if (effective > limits.maxBudget)
          throw new HttpError(
            400,
            'LIMIT',
            `budget ${effective}${budget === undefined ? ' (the default for this model)' : ''} is above this server's limit of ${limits.maxBudget}; pass a smaller budget`,
            'budget',
          );
      }
      const timeoutMs = body.timeoutMs ?? limits.timeoutMs;
      if ((body.certify || body.recourse) && reasons && body.top !== undefined) {
        const top = body.top;
        const input =
          'records' in rows
            ? ex.encode(rows.records)
            : { data: Float64Array.from((rows as number[][]).flat()), nRows: (rows as number[][]).length };
        const res = await guarded(reply, timeoutMs, (signal) =>
          creditExplain(
            ex,
            reasons,
            input,
            { ...(given as ExplainerCallOptions), method: method.name, seed: body.seed, signal },
            { top, certify: body.certify, recourse: body.recourse },
            limits.maxBudget,
          ),
        );
        metrics.observeModelRows(served.name, res.exp.modelRows, res.exp.nRows);
        const json = reasonsToJSON(explanationToJSON(res.exp), res.report);
        json.rows = json.rows.map((row, r) => ({ ...row, ...certifiedRowJSON(res, r) }));
        return reply.type('application/json').send(
          JSON.stringify({
            ...json,
            ...(res.recourse ? { recourseOptions: res.recourse.options } : {}),
            importance: globalImportance(res.exp),
          }),
        );
      }
      const exp = await guarded(reply, timeoutMs, (signal) =>
        ex.explain(rows, {
          ...(given as ExplainerCallOptions),
          method: method.name,
          seed: body.seed,
          output: body.output,
          ...(budget === 'auto' && given.maxBudget === undefined ? { maxBudget: limits.maxBudget } : {}),
          signal,
        }),
      );
      metrics.observeModelRows(served.name, exp.modelRows, exp.nRows);
      const json = explanationToJSON(exp);
      if (body.top === undefined || !reasons || !ex.schema)
        return reply.type('application/json').send(JSON.stringify(json));
      // with `top`: the CLI's credit JSON (decisions, principal reasons, audit records, importance)
      const report = reasonCodes(exp, {
        schema: ex.schema,
        templates: reasons.templates,
        top: body.top,
        threshold: reasons.threshold,
        adverse: reasons.adverse,
        background: ex.background,
        audit: { modelSha256: reasons.modelSha256, modelFile: reasons.modelFile },
      });
      return reply
        .type('application/json')
        .send(JSON.stringify({ ...reasonsToJSON(json, report), importance: globalImportance(exp) }));
    },
  );

  app.post<{ Params: ModelParamsT; Body: PredictBodyT }>(
    '/v1/models/:name/predict',
    {
      schema: {
        summary: "The model's predictions for rows",
        params: ModelParams,
        body: predictBody(limits),
        response: { 200: PredictionSchema, ...errorResponses },
        security,
      },
    },
    async (request, reply) => {
      const served = lookup(request.params.name);
      const ex = served.explainer;
      const rows = rowsOf(request.body, ex);
      const timeoutMs = request.body.timeoutMs ?? limits.timeoutMs;
      const p = await guarded(reply, timeoutMs, (signal) => ex.predict(rows, { output: request.body.output, signal }));
      metrics.observeModelRows(served.name, p.nRows, p.nRows);
      const k = p.outputs.length;
      const predictions = Array.from({ length: p.nRows }, (_, r) =>
        Array.from(p.predictions.subarray(r * k, r * k + k)),
      );
      return reply
        .type('application/json')
        .send(JSON.stringify({ model: served.name, outputs: p.outputs, predictions }));
    },
  );

  app.get(
    '/v1/models',
    { schema: { summary: 'The configured models', response: { 200: ModelListSchema }, security } },
    async () => ({
      models: [...models.values()].map((m) => {
        const ex = m.explainer;
        return {
          name: m.name,
          ...(m.description ? { description: m.description } : {}),
          inputs: ex.nInputs,
          columns: [...ex.columns],
          players: [...ex.players.names],
          outputs: [...ex.outputs],
          allOutputs: [...ex.model.outputNames],
          background: ex.background ? { rows: ex.background.nRows, summary: ex.background.summary } : null,
          attributes: ex.schema
            ? ex.schema.attributes.map((a) =>
                a.type === 'numeric'
                  ? {
                      name: a.name,
                      type: a.type,
                      ...(a.min !== undefined ? { min: a.min } : {}),
                      ...(a.max !== undefined ? { max: a.max } : {}),
                      ...(a.integer ? { integer: true } : {}),
                    }
                  : { name: a.name, type: a.type, categories: [...a.categories] },
              )
            : null,
          explain: ex.background !== undefined,
          reasons: m.reasons ? { threshold: m.reasons.threshold, adverse: m.reasons.adverse } : null,
          threads: ex.threads,
          defaults: { ...(ex.defaults ?? {}) },
        };
      }),
    }),
  );

  app.get('/healthz', { schema: { summary: 'Liveness', response: { 200: StatusSchema } } }, async () => ({
    status: 'ok',
  }));
  app.get(
    '/readyz',
    { schema: { summary: 'Readiness (503 while shutting down)', response: { 200: StatusSchema, 503: StatusSchema } } },
    async (_request, reply) => {
      if (draining) return reply.code(503).send({ status: 'shutting down' });
      const lost = lostSlots();
      if (lost > 0)
        return reply
          .code(503)
          .send({ status: `degraded: ${lost} worker slot${lost > 1 ? 's' : ''} held by tasks past their time limit` });
      return { status: 'ready' };
    },
  );
  app.get('/metrics', { schema: { summary: 'Prometheus metrics (text format 0.0.4)' } }, async (_request, reply) =>
    reply.type(metrics.contentType).send(await metrics.render()),
  );
  app.get('/openapi.json', { schema: { summary: 'This OpenAPI document', hide: true } }, async () => app.swagger());

  await app.ready();
  app.server.maxConnections = limits.maxConnections;

  return {
    app,
    limits,
    get queueDepth() {
      return queue.depth;
    },
    get inFlight() {
      return queue.active;
    },
    async listen({ port = 8080, host = '127.0.0.1' }) {
      return app.listen({ port, host });
    },
    close() {
      closing ??= (async () => {
        draining = true;
        metrics.close();
        // Every step is bounded by the deadline T = shutdownTimeoutMs, W = min(500 ms, T/4) being
        // the final window: requests may finish until T − W, then their work is cancelled (they
        // answer 503); at T − W/2 connections still open are cut, the models are released and
        // the pool ends threads stuck in a hanging model, which takes tens of ms; by T close()
        // has resolved.
        const total = limits.shutdownTimeoutMs;
        const w = Math.min(SHUTDOWN_WINDOW_MS, total / 4);
        const t0 = Date.now();
        const until = (at: number) => at - (Date.now() - t0);
        const cancelAll = () => {
          for (const c of active) c.abort(new ShuttingDownError());
        };
        if (total === 0) cancelAll();
        const force = total > 0 ? setTimeout(cancelAll, total - w) : undefined;
        try {
          const closed = await within(app.close(), until(total - w / 2));
          if (!closed) app.server.closeAllConnections(); // a client still sending, or never reading
        } finally {
          if (force) clearTimeout(force);
          cancelAll(); // work still running past the HTTP phase stops now
          if (options.closeModels !== false)
            await within(
              Promise.allSettled([...models.values()].map((m) => m.explainer.close())),
              until(total - w / 2),
            );
          if (options.pool) await within(options.pool.close(Math.max(0, until(total - w / 2))), until(total));
        }
      })();
      return closing;
    },
  };
}

/** The request's rows (or raw records), checked against the model's inputs (400s name the row). */
function rowsOf(body: { rows?: number[][]; records?: RawRecord[] }, ex: Explainer): ExplainerRows {
  if (body.records !== undefined && body.rows !== undefined)
    throw new HttpError(400, 'VALIDATION', 'send either rows or records, not both', 'records');
  if (body.records !== undefined) {
    if (!ex.schema)
      throw new HttpError(
        400,
        'UNSUPPORTED',
        'records: this model takes rows of numbers (no schema is configured to encode raw records); send "rows"',
        'records',
      );
    return { records: body.records };
  }
  if (body.rows === undefined)
    throw new HttpError(
      400,
      'VALIDATION',
      ex.schema
        ? `rows or records is required: rows of ${ex.nInputs} numbers in the model's column order, or records {attribute: value}`
        : `rows is required: an array of rows of ${ex.nInputs} numbers in the model's column order`,
      'rows',
    );
  const d = ex.nInputs;
  const f32 = ex.model.inputType === 'float32';
  body.rows.forEach((row, r) => {
    if (row.length !== d)
      throw new HttpError(
        400,
        'VALIDATION',
        `rows[${r}] has ${row.length} values; the model takes ${d} inputs (columns ${ex.columns.slice(0, 4).join(', ')}${d > 4 ? ', ...' : ''})`,
        `rows[${r}]`,
      );
    for (let c = 0; c < d; c++)
      if (!Number.isFinite(row[c]))
        throw new HttpError(
          400,
          'VALIDATION',
          `rows[${r}][${c}] (column ${JSON.stringify(ex.columns[c])}) must be a finite number; got ${row[c]}`,
          `rows[${r}][${c}]`,
        );
      else if (f32 && !Number.isFinite(Math.fround(row[c])))
        throw new HttpError(
          400,
          'VALIDATION',
          `rows[${r}][${c}] (column ${JSON.stringify(ex.columns[c])}) is ${row[c]}, beyond the float32 range of this model's inputs (about ±3.4e38)`,
          `rows[${r}][${c}]`,
        );
  });
  return body.rows;
}

interface ErrorBody {
  error: { code: string; message: string; field?: string; requestId?: string };
}

/**
 * The final window (ms) of a shutdown, at most a quarter of `shutdownTimeoutMs`: work still
 * running at its start is cancelled, then connections are cut and the threads ended (see
 * `WhyboxService.close`).
 */
export const SHUTDOWN_WINDOW_MS = 500;

/** Waits for `work` at most `ms` (never rejects); true when it settled in time. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Maps any error to a status and a body that is safe to show (no stack, no paths). */
function toHttpError(
  error: unknown,
  request: FastifyRequest,
  limits: Limits,
): { status: number; body: ErrorBody; retryAfter?: number } {
  const requestId = String(request.id);
  const make = (status: number, code: string, message: string, field?: string) => ({
    status,
    body: { error: { code, message, ...(field ? { field } : {}), requestId } },
  });
  if (error instanceof HttpError) return make(error.status, error.code, error.message, error.field);
  if (error instanceof DeadlineError)
    return make(
      504,
      'DEADLINE',
      `the request did not finish within its deadline of ${error.ms} ms and its work was cancelled; send fewer rows or a smaller budget, or a larger timeoutMs (at most ${limits.timeoutMs})`,
    );
  if (error instanceof ClientGoneError) return make(499, 'CLIENT_CLOSED', error.message);
  if (error instanceof ShuttingDownError)
    return { ...make(503, 'SHUTTING_DOWN', 'the server is shutting down; retry on another instance'), retryAfter: 1 };
  if (error instanceof QueueFullError) return { ...make(503, 'BUSY', error.message), retryAfter: 1 };
  const fe = error as FastifyError;
  if (fe?.validation) return validationError(fe, request, make);
  if (error instanceof WhyboxError) {
    if (!error.userError) return make(500, 'INTERNAL', `internal error (request ${requestId}); see the server log`);
    // library messages may name files (a model module...): never show paths to clients
    if (error.code === 'MODEL') return make(422, 'MODEL', scrub(error.message));
    const loc = error instanceof DataError ? error.location : undefined;
    const field =
      loc?.file === 'records' && loc.row !== undefined
        ? `records[${loc.row}]${loc.attribute ? `.${loc.attribute}` : ''}`
        : error instanceof InvalidOptionError
          ? error.option
          : undefined;
    return make(400, error.code, scrub(error.message), field);
  }
  if (
    typeof fe?.statusCode === 'number' &&
    fe.statusCode >= 400 &&
    fe.statusCode < 500 &&
    fe.code?.startsWith('FST_')
  ) {
    const code =
      fe.statusCode === 413 ? 'BODY_TOO_LARGE' : fe.statusCode === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'BAD_REQUEST';
    const message =
      fe.statusCode === 413
        ? `the request body is larger than this server's limit of ${limits.bodyBytes} bytes`
        : fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe instanceof SyntaxError
          ? `the body is not valid JSON: ${fe.message}`
          : fe.message;
    return make(fe.statusCode, code, message);
  }
  if (error instanceof SyntaxError && (error as FastifyError).statusCode === 400)
    return make(400, 'BAD_REQUEST', `the body is not valid JSON: ${error.message}`);
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
    return make(fe.statusCode, 'BAD_REQUEST', fe.message);
  return make(500, 'INTERNAL', `internal error (request ${requestId}); see the server log`);
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

function validationError(
  error: FastifyError,
  request: FastifyRequest,
  make: (status: number, code: string, message: string, field?: string) => { status: number; body: ErrorBody },
) {
  const errors = (error.validation ?? []) as unknown as AjvError[];
  const context = (error as { validationContext?: string }).validationContext ?? 'body';
  const first = errors.find((e) => e.keyword !== 'anyOf') ?? errors[0];
  if (!first) return make(400, 'VALIDATION', error.message);
  const root = context === 'params' ? request.params : request.body;
  if (first.keyword === 'additionalProperties') {
    const raw = String(first.params.additionalProperty);
    const extra = raw.length > 60 ? `${raw.slice(0, 57)}...` : raw; // never echo a megabyte key
    const field = joinField(pointerField(first.instancePath), extra);
    return make(400, 'VALIDATION', `unknown field ${JSON.stringify(field)}${allowedFields(context)}`, field);
  }
  if (first.keyword === 'required') {
    const field = joinField(pointerField(first.instancePath), String(first.params.missingProperty));
    return make(400, 'VALIDATION', `${field} is required`, field);
  }
  const field = pointerField(first.instancePath) || context;
  let same = errors.filter((e) => e.instancePath === first.instancePath && e.keyword !== 'anyOf');
  // a literal ("auto") also reports "must be string": keep only the literal
  if (same.some((e) => e.keyword === 'const'))
    same = same.filter((e) => !(e.keyword === 'type' && e.params.type === 'string'));
  const wants = [...new Set(same.map(phrase))].join(' or ');
  const value = valueAt(root, first.instancePath);
  return make(400, 'VALIDATION', `${field} ${wants}; got ${describeValue(value)}`, field);
}

function phrase(e: AjvError): string {
  if (e.keyword === 'const') return `must be ${JSON.stringify(e.params.allowedValue)}`;
  if (e.keyword === 'type') return `must be ${e.params.type === 'number' ? 'a number' : `of type ${e.params.type}`}`;
  return e.message ?? 'is not valid';
}

function allowedFields(context: string): string {
  return context === 'body' ? ' (see /openapi.json for the fields of this route)' : '';
}

/** `/rows/0/1` -> `rows[0][1]`. */
function pointerField(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out ? `.${part}` : part;
  }
  return out;
}

function joinField(parent: string, child: string): string {
  return parent ? `${parent}.${child}` : child;
}

function valueAt(root: unknown, pointer: string): unknown {
  let v: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return `${v} (a number too large for a double)`;
  if (Array.isArray(v)) return `an array of ${v.length} items`;
  if (v !== null && typeof v === 'object') return 'an object';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** Removes file paths and URLs from a message shown to clients. */
export function scrub(message: string): string {
  return message
    .replace(/file:\/\/\S+/g, '<path>')
    .replace(/(?:[A-Za-z]:)?(?:[\\/][\w.@+-]+){2,}[\\/]?/g, '<path>')
    .replace(/\s*\n\s*/g, ' ');
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
