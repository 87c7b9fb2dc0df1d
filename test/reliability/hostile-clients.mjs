// Four hostile clients against 127.0.0.1:PORT for MS milliseconds, in their own process (so
// their CPU is not the server's): slow-loris sockets, 900 KB unknown attribute names and
// category values, malformed HTTP, and connection churn (or, with FLOOD=1, back-to-back
// explanations of budget 2048 instead of the churn: legitimate load, for the figure).
// Prints the request counts as JSON. Usage: node hostile-clients.mjs PORT MS RECORD_JSON
import { connect } from 'node:net';

const [port, ms, recordJson] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const record = JSON.parse(recordJson);
const end = Date.now() + ms;
const only = process.env.ONLY ? process.env.ONLY.split(',') : undefined;
const on = (name) => !only || only.includes(name);
const counts = { loris: 0, bigKey: 0, malformed: 0, churn: 0, flood: 0, statuses: {} };

function send(text) {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (c) => {
      got += c.toString('latin1');
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 'none';
      counts.statuses[status] = (counts.statuses[status] ?? 0) + 1;
      resolve();
    });
    s.write(text);
  });
}
/** Each client waits between requests: 20 ms (100 ms after a 900 KB body, 50 ms after a burst of connections). */
const pause = (ms = 20) => new Promise((r) => setTimeout(r, ms));
const post = (body) =>
  send(
    `POST /v1/models/credit/explain HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );

const loris = (async () => {
  const open = [];
  while (on('loris') && Date.now() < end) {
    if (open.length < 40) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      s.write('POST /v1/models/credit/explain HTTP/1.1\r\nHost: x\r\n');
      open.push(s);
      counts.loris++;
    }
    for (const s of open) if (s.writable) s.write('X');
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const s of open) s.destroy();
})();
const bigKeyBody = JSON.stringify({ records: [record], ['x'.repeat(900_000)]: 'y' });
const bigValueBody = JSON.stringify({ records: [{ ...record, purpose: 'x'.repeat(900_000) }] });
const bigKey = (async () => {
  while (on('bigKey') && Date.now() < end) {
    await post(bigKeyBody);
    await pause(100);
    await post(bigValueBody);
    await pause(100);
    counts.bigKey += 2;
  }
})();
const malformed = (async () => {
  while (on('malformed') && Date.now() < end) {
    await send('GET /%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await send(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    await send('\x00\x01garbage\r\n\r\n');
    await pause();
    counts.malformed += 3;
  }
})();
const floodBody = JSON.stringify({ records: [record, record], budget: 2048, seed: 1 });
const fourth =
  process.env.FLOOD === '1'
    ? (async () => {
        while (Date.now() < end) {
          await post(floodBody);
          counts.flood++;
        }
      })()
    : (async () => {
        // connections opened and dropped at once, in bursts of 10 (200 a second)
        while (on('churn') && Date.now() < end) {
          await Promise.all(
            Array.from(
              { length: 10 },
              () =>
                new Promise((resolve) => {
                  const s = connect(port, '127.0.0.1', () => s.destroy());
                  s.on('error', () => undefined);
                  s.on('close', resolve);
                }),
            ),
          );
          counts.churn += 10;
          await pause(50);
        }
      })();
await Promise.all([loris, bigKey, malformed, fourth]);
process.stdout.write(JSON.stringify(counts));
