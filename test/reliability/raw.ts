/** Raw HTTP over `net.connect` (fetch normalises URLs; these tests need the bytes as sent). */
import { connect } from 'node:net';

/** A raw answer: the status code, the headers (lower-case names) and the body text. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends `head` (request line and headers, without the final blank line) and `body`; resolves with the answer. */
export function rawRequest(port: number, head: string, body = '', timeoutMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${head.split('\r\n')[0]}`));
    }, timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parse(Buffer.concat(chunks).toString('latin1')));
    });
    const lengthHeader = body ? `\r\nContent-Length: ${Buffer.byteLength(body)}` : '';
    // write, not end: a half-closed socket reads as a client that went away
    socket.write(`${head}${lengthHeader}\r\nConnection: close\r\n\r\n${body}`);
  });
}

/** A GET of `target` exactly as written (no encoding, no normalisation). */
export function rawGet(port: number, target: string, headers: string[] = []): Promise<RawAnswer> {
  return rawRequest(port, [`GET ${target} HTTP/1.1`, 'Host: 127.0.0.1', ...headers].join('\r\n'));
}

function parse(text: string): RawAnswer {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const [statusLine, ...lines] = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  let body = end < 0 ? '' : text.slice(end + 4);
  if (headers['transfer-encoding'] === 'chunked') body = unchunk(body);
  return { status: m ? Number(m[1]) : 0, headers, body };
}

function unchunk(s: string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const nl = s.indexOf('\r\n', i);
    if (nl < 0) break;
    const size = Number.parseInt(s.slice(i, nl), 16);
    if (!(size > 0)) break;
    out += s.slice(nl + 2, nl + 2 + size);
    i = nl + 2 + size + 2;
  }
  return out;
}
