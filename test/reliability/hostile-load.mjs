// Four hostile clients against 127.0.0.1:PORT for MS milliseconds, in their own process:
// slow bodies (40 sockets dripping one byte of a declared 100 KB body every 100 ms), 900 KB
// unknown category values and field names back to back, a keep-alive flood of cheap invalid
// requests (bad JSON, wrong types, unknown models) back to back, and two loops of real
// explanations (kernel, budget 256) of the module model, which runs in the service's workers.
// Prints the counts and the statuses seen as JSON. Usage: node hostile-load.mjs PORT MS RECORD_JSON
// (ONLY=slowBodies,bigStrings,invalid,explain runs some of them.)

import { Agent, request } from 'node:http';
import { connect } from 'node:net';

const [port, ms, recordJson] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const record = JSON.parse(recordJson);
const end = Date.now() + ms;
const only = process.env.ONLY ? process.env.ONLY.split(',') : undefined;
const on = (name) => !only || only.includes(name);
const counts = { slowBodies: 0, bigStrings: 0, invalid: 0, explained: 0, statuses: {} };
const seen = (status) => {
  counts.statuses[status] = (counts.statuses[status] ?? 0) + 1;
};

const agent = new Agent({ keepAlive: true, maxSockets: 4 });
function post(path, body, { keepAlive = false } = {}) {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent: keepAlive ? agent : false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          seen(res.statusCode);
          resolve(res.statusCode);
        });
      },
    );
    req.on('error', () => {
      seen('error');
      resolve(0);
    });
    req.end(body);
  });
}

const slowBodies = (async () => {
  const open = new Set();
  while (on('slowBodies') && Date.now() < end) {
    while (open.size < 40) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      s.on('data', (d) => seen(/^HTTP\/1\.1 (\d{3})/.exec(d.toString('latin1'))?.[1] ?? 'data'));
      s.on('close', () => open.delete(s));
      s.write(
        'POST /v1/models/credit/explain HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"records": [',
      );
      open.add(s);
      counts.slowBodies++;
    }
    for (const s of open) if (s.writable) s.write(' ');
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const s of open) s.destroy();
})();

const bigValue = JSON.stringify({ records: [{ ...record, purpose: 'x'.repeat(900_000) }] });
// a 900 KB unknown field (inside a record an unknown attribute is an allowed extra, e.g. an id)
const bigName = JSON.stringify({ records: [record], ['y'.repeat(900_000)]: 'car_new' });
const bigStrings = (async () => {
  while (on('bigStrings') && Date.now() < end) {
    await post('/v1/models/credit/explain', counts.bigStrings % 2 ? bigName : bigValue);
    counts.bigStrings++;
  }
})();

const invalidBodies = [
  '{"records": [',
  '{"rows": "all"}',
  JSON.stringify({ records: [record], method: 'shapley' }),
  JSON.stringify({ records: [{ ...record, purpose: 'yacht' }] }),
  JSON.stringify({ records: [record], budget: -1 }),
];
const invalid = (async () => {
  while (on('invalid') && Date.now() < end) {
    const k = counts.invalid % (invalidBodies.length + 1);
    if (k === invalidBodies.length) await post('/v1/models/nope/explain', '{}', { keepAlive: true });
    else await post('/v1/models/credit/explain', invalidBodies[k], { keepAlive: true });
    counts.invalid++;
  }
})();

const explainBody = JSON.stringify({ records: [record], budget: 256, seed: 1 });
const explain = async () => {
  while (on('explain') && Date.now() < end) {
    if ((await post('/v1/models/credit/explain', explainBody, { keepAlive: true })) === 200) counts.explained++;
  }
};

await Promise.all([slowBodies, bigStrings, invalid, explain(), explain()]);
agent.destroy();
process.stdout.write(JSON.stringify(counts));
