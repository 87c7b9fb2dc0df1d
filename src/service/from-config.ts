/**
 * A service from a configuration: loads and validates everything at start-up (models,
 * backgrounds, groups, the auth token) and fails fast with a message naming the problem.
 */
import type { FastifyServerOptions } from 'fastify';
import { createWorkerPool } from '../parallel/pool.js';
import type { ServiceConfig } from './config.js';
import { ConfigError, resolveLimits } from './config.js';
import { loadModels } from './models.js';
import type { WhyboxService } from './server.js';
import { createService } from './server.js';

/** Options of {@link serviceFromConfig}. */
export interface ServiceFromConfigOptions {
  /** fastify's logger option. @defaultValue `{ level: config.logLevel ?? 'info' }` */
  logger?: FastifyServerOptions['logger'];
  /** Environment to read the token variable from. @defaultValue process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Receives library warnings (large background...). @defaultValue logged as warnings */
  onWarning?: (message: string) => void;
}

/**
 * Creates a service from a validated configuration (see `loadServiceConfig`). Every model
 * shares one worker pool of `config.threads` threads (default: all cores).
 * @throws {ConfigError} naming the model or setting that cannot be used.
 */
export async function serviceFromConfig(
  config: ServiceConfig,
  options: ServiceFromConfigOptions = {},
): Promise<WhyboxService> {
  const env = options.env ?? process.env;
  let token: string | undefined;
  if (config.auth) {
    token = env[config.auth.tokenEnv];
    if (!token)
      throw new ConfigError(
        `auth.tokenEnv names the environment variable ${config.auth.tokenEnv}, which is not set or empty; export it with the bearer token clients must send`,
      );
  }
  // library warnings (a large background...) go to the log once the service (and its logger) exists
  const warnings: string[] = [];
  let log: ((m: string) => void) | undefined;
  const onWarning = options.onWarning ?? ((m: string) => (log ? log(m) : warnings.push(m)));
  // a task past the request deadline (plus a second) is a hang: its worker is replaced (or, with
  // ONNX sessions, its slot reported lost on /readyz)
  const pool = createWorkerPool({
    threads: config.threads,
    taskTimeoutMs: resolveLimits(config.limits).timeoutMs + 1000,
  });
  try {
    const models = await loadModels(config, { pool, onWarning });
    const service = await createService({
      models,
      limits: config.limits,
      token,
      logger: options.logger ?? { level: config.logLevel ?? 'info' },
      pool,
    });
    log = (m) => service.app.log.warn(m);
    for (const w of warnings) log(w);
    return service;
  } catch (error) {
    await pool.close();
    throw error;
  }
}
