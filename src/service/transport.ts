/**
 * The service's transport limits and the answers fastify and Node give outside the routes,
 * in the service's one error shape `{ "error": { "code", "message" } }`: malformed HTTP (400),
 * header overflow (431), request timeout (408), bad percent-encoding (400) and over-long path
 * segments (414) — never echoing the URL.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { Limits } from './config.js';

/** fastify and Node server options from the limits (timeouts, header size, connection checks). */
export function transportOptions(limits: Limits): Partial<FastifyServerOptions> & {
  http: { maxHeaderSize: number; headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number };
} {
  const checks = [limits.headersTimeoutMs, limits.requestTimeoutMs].filter((t) => t > 0);
  return {
    bodyLimit: limits.bodyBytes,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node checks the header and request timeouts on this period (its default is 30 s)
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(Math.min(...checks, 4000) / 4))),
    },
  };
}

/** The one error body. */
export function errorBody(code: string, message: string, requestId?: string): string {
  return JSON.stringify({ error: { code, message, ...(requestId ? { requestId } : {}) } });
}

/**
 * Node's `clientError` (a request it could not parse or that timed out before reaching
 * fastify), answered in the error shape instead of Node's and fastify's own bodies.
 */
export function clientErrorHandler(limits: Limits) {
  return (error: Error & { code?: string }, socket: Socket): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    let status = 400;
    let code = 'BAD_REQUEST';
    let message = 'the request is not valid HTTP/1.1';
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      status = 408;
      code = 'REQUEST_TIMEOUT';
      message = `the request was not received within ${limits.requestTimeoutMs} ms (headers within ${limits.headersTimeoutMs} ms)`;
    } else if (error.code === 'HPE_HEADER_OVERFLOW') {
      status = 431;
      code = 'HEADERS_TOO_LARGE';
      message = `the request line and headers are larger than this server's limit of ${limits.maxHeaderBytes} bytes`;
    } else if (error.code === 'HPE_URI_TOO_LONG') {
      status = 414;
      code = 'URI_TOO_LONG';
      message = 'the request URL is too long';
    }
    const body = errorBody(code, message);
    if (socket.writable)
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    socket.destroy();
  };
}

/** fastify's router errors (bad percent-encoding, over-long parameters), without echoing the URL. */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const id = String(request.id);
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH')
    void reply
      .code(414)
      .type('application/json')
      .send(errorBody('URI_TOO_LONG', 'a path segment of the URL is longer than 100 characters', id));
  else if (error.code === 'FST_ERR_BAD_URL')
    void reply
      .code(400)
      .type('application/json')
      .send(
        errorBody('BAD_URL', 'the URL path has an invalid percent-encoding (% must be followed by two hex digits)', id),
      );
  else
    void reply
      .code(500)
      .type('application/json')
      .send(errorBody('INTERNAL', `internal error (request ${id}); see the server log`, id));
}
