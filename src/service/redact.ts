/**
 * Keeps secrets out of the service log: query parameters that look like credentials (and any
 * occurrence of the configured bearer token) are replaced before a URL is logged.
 */
import type { FastifyServerOptions } from 'fastify';

/** Query parameter names whose values are never logged. */
const SECRET_PARAM = /^(?:access[_-]?token|token|api[_-]?key|key|secret|password|auth(?:orization)?|bearer)$/i;

/** The URL with credential-like query values (and `token` wherever it appears) replaced by `[REDACTED]`. */
export function redactUrl(url: string, token?: string): string {
  let out = url;
  const q = out.indexOf('?');
  if (q >= 0) {
    const query = out
      .slice(q + 1)
      .split('&')
      .map((part) => {
        const eq = part.indexOf('=');
        const name = eq < 0 ? part : part.slice(0, eq);
        let decoded = name;
        try {
          decoded = decodeURIComponent(name);
        } catch {}
        return eq >= 0 && SECRET_PARAM.test(decoded) ? `${name}=[REDACTED]` : part;
      })
      .join('&');
    out = `${out.slice(0, q)}?${query}`;
  }
  if (token) {
    out = out.split(token).join('[REDACTED]');
    const encoded = encodeURIComponent(token);
    if (encoded !== token) out = out.split(encoded).join('[REDACTED]');
  }
  return out;
}

interface RawRequestLike {
  method?: string;
  url?: string;
  hostname?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/**
 * fastify's logger option with a request serializer that logs method, redacted URL, host and
 * peer (never headers, so never `Authorization`). `false` and pino instances pass through.
 */
export function redactingLogger(
  logger: FastifyServerOptions['logger'],
  token: string | undefined,
): FastifyServerOptions['logger'] {
  if (logger === false || logger === undefined) return logger;
  const base = logger === true ? {} : (logger as Record<string, unknown>);
  const serializers = (base.serializers as Record<string, unknown> | undefined) ?? {};
  return {
    ...base,
    serializers: {
      ...serializers,
      req: (req: RawRequestLike) => ({
        method: req.method,
        url: redactUrl(String(req.url ?? ''), token),
        host: req.hostname,
        remoteAddress: req.ip,
        remotePort: req.socket?.remotePort,
      }),
    },
  } as FastifyServerOptions['logger'];
}
