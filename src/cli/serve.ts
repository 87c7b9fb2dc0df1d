/**
 * `whybox serve`: the HTTP service, from a configuration file or the one-model shorthand.
 * Runs until SIGTERM / SIGINT, then shuts down gracefully (in-flight requests finish).
 */
import { resolve } from 'node:path';
import { importOptional } from '../optional-deps.js';
import type { ServiceConfig } from '../service/config.js';
import { checkServiceConfig, loadServiceConfig } from '../service/config.js';
import { parseFlags, UsageError as ServeUsageError } from './args.js';

/** Where `serve` writes its one-line messages (logs go to stdout as JSON lines). */
export interface ServeIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

export const SERVE_USAGE = `Usage: whybox serve --config whybox.config.json [--port 8080] [--host 127.0.0.1]
       whybox serve --model NAME=FILE.onnx [--background BG.csv] [--groups GROUPS.json] [--port P]

  --config FILE            service configuration (models, limits, auth; see the README)
  --port P                 port to listen on (default: the config's, else 8080; 0 = any free port)
  --host H                 address to listen on (default: the config's, else 127.0.0.1)
  --model NAME=FILE.onnx   shorthand: serve one ONNX model as NAME (no config file)
  --background BG.csv      shorthand: background rows (header = model input columns); without
                           it the model can only predict
  --groups GROUPS.json     shorthand: {"name": ["column", ...]} players
  --summarize K            shorthand: summarise the background to K k-means medoids
  --output K|NAME          shorthand: output explained by default ("probabilities[1]", 1...)
  --link identity|logit    shorthand: link of the model outputs
  --threads T              worker threads shared by the models (default: all cores)
  --token-env VAR          require "Authorization: Bearer <token>" with the token in $VAR
  --log-level L            fatal | error | warn | info | debug | trace | silent (default info)

Routes: POST /v1/models/NAME/explain, POST /v1/models/NAME/predict, GET /v1/models,
GET /healthz, GET /readyz, GET /metrics, GET /openapi.json. Logs: JSON lines on stdout.
SIGTERM or Ctrl-C: stop accepting requests, finish the ones in flight (work still running in
the last quarter of limits.shutdownTimeoutMs is cancelled), exit 0 by shutdownTimeoutMs.
`;

const SERVE_OPTIONS = {
  config: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  model: { type: 'string', multiple: true },
  background: { type: 'string' },
  groups: { type: 'string' },
  summarize: { type: 'string' },
  output: { type: 'string' },
  link: { type: 'string' },
  threads: { type: 'string' },
  'token-env': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Runs `whybox serve` until a shutdown signal; returns the exit code. Errors (bad flags, a
 * configuration or model that cannot be loaded) are thrown for main() to report (exit 2).
 */
export async function runServe(args: readonly string[], io: ServeIO): Promise<number> {
  const values: Record<string, string | string[] | boolean | undefined> = parseFlags(args, SERVE_OPTIONS, 'serve');
  if (values.help) {
    io.stdout.write(SERVE_USAGE);
    return 0;
  }
  const flag = (k: string) => values[k] as string | undefined;
  const models = (values.model as string[] | undefined) ?? [];
  const shorthand = ['background', 'groups', 'summarize', 'output', 'link'].filter((k) => flag(k) !== undefined);
  let config: ServiceConfig;
  if (flag('config') !== undefined) {
    if (models.length > 0 || shorthand.length > 0)
      throw new ServeUsageError(
        `--${models.length > 0 ? 'model' : shorthand[0]} is a shorthand for serving without a config file; with --config, put it in the configuration`,
      );
    config = await loadServiceConfig(flag('config') as string);
  } else {
    if (models.length === 0)
      throw new ServeUsageError('missing --config FILE or --model NAME=FILE.onnx (see whybox serve --help)');
    if (models.length > 1)
      throw new ServeUsageError('the shorthand serves one --model; use a --config file for several models');
    const m = /^([^=]+)=(.+)$/.exec(models[0]);
    if (!m) throw new ServeUsageError(`--model must be NAME=FILE.onnx; got ${JSON.stringify(models[0])}`);
    const summarize = flag('summarize') === undefined ? undefined : int(flag('summarize') as string, '--summarize', 1);
    const output = flag('output');
    config = checkServiceConfig(
      {
        models: {
          [m[1]]: {
            onnx: resolve(m[2]),
            ...(flag('background') ? { background: resolve(flag('background') as string) } : {}),
            ...(flag('groups') ? { groups: resolve(flag('groups') as string) } : {}),
            ...(summarize ? { summarize } : {}),
            ...(output !== undefined ? { output: /^\d+$/.test(output) ? Number(output) : output } : {}),
            ...(flag('link') ? { link: flag('link') } : {}),
          },
        },
      },
      'the --model flags',
    );
  }
  if (flag('threads') !== undefined) config = { ...config, threads: int(flag('threads') as string, '--threads', 1) };
  if (flag('token-env') !== undefined) config = { ...config, auth: { tokenEnv: flag('token-env') as string } };
  if (flag('log-level') !== undefined) {
    const level = flag('log-level') as string;
    if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level))
      throw new ServeUsageError(
        `--log-level must be one of fatal, error, warn, info, debug, trace, silent; got ${JSON.stringify(level)}`,
      );
    config = { ...config, logLevel: level as ServiceConfig['logLevel'] };
  }
  const port =
    flag('port') !== undefined ? int(flag('port') as string, '--port', 0, 65535) : (config.server?.port ?? 8080);
  const host = flag('host') ?? config.server?.host ?? '127.0.0.1';

  // fastify and @fastify/swagger are optional peers: a clear error with the install command when missing
  const { serviceFromConfig } = await importOptional('service', () => import('../service/from-config.js'));
  const service = await serviceFromConfig(config);
  let address: string;
  try {
    address = await service.listen({ port, host });
  } catch (error) {
    await service.close();
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL')
      throw new ServeUsageError(`cannot listen on ${host}:${port}: ${e.code} (${e.message})`);
    throw error;
  }
  io.stderr.write(`whybox: serving ${Object.keys(config.models).join(', ')} on ${address}\n`);
  return new Promise<number>((done) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      io.stderr.write(`whybox: ${signal}: finishing the requests in flight, then exiting\n`);
      const ms = service.limits.shutdownTimeoutMs;
      // service.close() resolves within shutdownTimeoutMs; then the process exits at once, even
      // if threads being ended still hold the event loop. The backstop covers a close that hangs.
      const backstop = setTimeout(() => {
        io.stderr.write(`whybox: shutdown did not finish within shutdownTimeoutMs (${ms} ms); exiting now\n`);
        process.exit(1);
      }, ms + 100);
      backstop.unref();
      const exit = (code: number) => {
        clearTimeout(backstop);
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        done(code);
        // after main() has returned (and set process.exitCode)
        setTimeout(() => process.exit(process.exitCode ?? code), 0).unref();
      };
      service.close().then(
        () => {
          io.stderr.write('whybox: stopped\n');
          exit(0);
        },
        (error) => {
          io.stderr.write(`whybox: shutdown failed: ${(error as Error).message}\n`);
          exit(1);
        },
      );
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}

function int(s: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = Number(s);
  if (!/^\d+$/.test(s.trim()) || v < min || v > max)
    throw new ServeUsageError(`${flag} must be an integer in ${min}..${max}; got ${JSON.stringify(s)}`);
  return v;
}
