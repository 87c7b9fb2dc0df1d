/**
 * `npm run check:package`: whybox as a dependency, the way a new user gets it.
 *
 * Packs the package (`npm pack`), creates an empty project in a temporary folder and runs the
 * README's "Use whybox in your project" section in it, block by block, with plain npm (no
 * `.npmrc`, no npm_config_* variables, no ONNXRUNTIME_NODE_INSTALL unless a command sets it):
 * `npm install whybox` (pointed at the tarball), every file snippet with `node`, every shell
 * block with `sh`, the fastify example as a server answering two real requests. Between the
 * blocks it checks what the README promises: the default install has no heavy package, the CLI
 * and `whybox serve` print the install command of a missing optional part, the snippets
 * type-check under `strict` for `moduleResolution` `nodenext` and `bundler` (with
 * `whybox/testing` and `whybox/service`), and the package passes publint and
 * @arethetypeswrong/cli. Prints install sizes and times.
 *
 * Code blocks are found by the `<!-- check-readme ... -->` comment in front of them:
 * `file=NAME` writes the block to NAME, `run=node|sh|server` runs it, `stdout="..."` must appear
 * in its output, `typecheck=NAME.ts` also compiles it as TypeScript. Every code block of the
 * section must carry such a comment (so none can drift untested).
 *
 * Options: `--keep` keeps the temporary project; `--skip-offline` exits 0 with a message when the
 * npm registry cannot be reached; `--no-build` packs the dist/ there is (no prepack build).
 */
import { type SpawnSyncOptions, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INSTALL_COMMANDS } from '../src/optional-deps.js';

const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
const keep = process.argv.includes('--keep');
const skipOffline = process.argv.includes('--skip-offline');
const SECTION = '## Use whybox in your project';
const STEP_TIMEOUT = 180_000;

/** The environment a user's shell would have: no npm_* variables from `npm run`, no ORT switch. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    const key = k.toLowerCase();
    if (key.startsWith('npm_') || key === 'init_cwd' || key.startsWith('onnxruntime_node_install')) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

let passed = 0;
function ok(what: string): void {
  passed++;
  console.log(`ok - ${what}`);
}
function fail(what: string, detail = ''): never {
  console.error(`not ok - ${what}${detail ? `\n${detail}` : ''}`);
  process.exit(1);
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}
function run(cmd: string, args: string[], options: SpawnSyncOptions): Run {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: STEP_TIMEOUT, maxBuffer: 64 << 20, ...options });
  return {
    status: r.status,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? '') + (r.error ? `\n${r.error.message}` : ''),
    seconds: (performance.now() - t0) / 1000,
  };
}
function expectRun(what: string, r: Run, stdout?: string): void {
  if (r.status !== 0) fail(what, `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  if (stdout !== undefined && !r.stdout.includes(stdout))
    fail(what, `stdout lacks ${JSON.stringify(stdout)}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  ok(`${what} (${r.seconds.toFixed(1)} s)`);
}
/** npm's own warnings (EBADENGINE, install-scripts...) on a command that should print none. */
function npmWarnings(r: Run): string[] {
  return `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /^npm (warn|WARN)/.test(l));
}

function duBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) total += duBytes(p);
    else if (entry.isFile()) total += statSync(p).size;
  }
  return total;
}
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

// ---------------------------------------------------------------- README blocks
interface Block {
  lang: string;
  code: string;
  attrs: Record<string, string>;
  line: number;
}
function readmeBlocks(readme: string): Block[] {
  const lines = readme.split('\n');
  const start = lines.indexOf(SECTION);
  if (start < 0) fail(`README has a "${SECTION}" section`);
  let end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  if (end < 0) end = lines.length;
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\w*)\s*$/.exec(lines[i]);
    if (!fence) continue;
    let j = i + 1;
    while (j < lines.length && lines[j] !== '```') j++;
    const marker = /^<!-- check-readme(.*)-->$/.exec(lines[i - 1] ?? '');
    const inSection = i > start && i < end;
    if (inSection && !marker) fail(`README line ${i + 1}: a code block of "${SECTION}" without a check-readme comment`);
    if (marker) {
      const attrs: Record<string, string> = {};
      for (const m of marker[1].matchAll(/(\w+)=(?:"([^"]*)"|(\S+))/g)) attrs[m[1]] = m[2] ?? m[3];
      blocks.push({ lang: fence[1], code: `${lines.slice(i + 1, j).join('\n')}\n`, attrs, line: i + 1 });
    }
    i = j;
  }
  return blocks;
}

// ---------------------------------------------------------------- the checks
function registryReachable(): boolean {
  const r = run('npm', ['ping'], { cwd: tmpdir(), env: userEnv(), timeout: 30_000 });
  return r.status === 0;
}

async function main(): Promise<void> {
  if (!registryReachable()) {
    if (skipOffline) {
      console.log('check-package: skipped (the npm registry is not reachable)');
      return;
    }
    fail('the npm registry is reachable (npm ping); use --skip-offline to skip this check offline');
  }
  const work = mkdtempSync(join(tmpdir(), 'whybox-package-'));
  const project = join(work, 'my-project');
  try {
    // 1. the tarball, as `npm publish` would upload it
    // --no-build: dist/ was just built (CI runs this after npm test), skip prepack's build
    const noBuild = process.argv.includes('--no-build') ? ['--ignore-scripts'] : [];
    const pack = run('npm', ['pack', '--json', ...noBuild, '--pack-destination', work], { cwd: repo, env: userEnv() });
    if (pack.status !== 0) fail('npm pack', pack.stderr);
    const info = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as {
      filename: string;
      size: number;
      unpackedSize: number;
      files: { path: string }[];
    }[];
    const tarball = join(work, info[0].filename);
    const shipped = info[0].files.map((f) => f.path);
    ok(
      `npm pack: ${info[0].filename}, ${shipped.length} files, ${mb(info[0].size)} packed (${pack.seconds.toFixed(1)} s)`,
    );
    for (const needed of ['LICENSE', 'CHANGELOG.md', 'README.md', 'datasets/credit-demo/model.onnx', 'bin/whybox.js'])
      if (!shipped.includes(needed)) fail(`the package ships ${needed}`);
    for (const map of shipped.filter((f) => f.endsWith('.map'))) {
      const sources = (JSON.parse(readFileSync(join(repo, map), 'utf8')) as { sources: string[] }).sources;
      for (const s of sources) {
        const target = join(map, '..', s).replaceAll('\\', '/');
        if (!shipped.includes(target)) fail(`source map ${map} points at ${target}, which is not in the package`);
      }
    }
    ok('every shipped source map points at a shipped file');

    // cjs-resolves-to-esm: attw's TypeScript predates require(esm); Node >= 20.19 (the engines
    // field) loads the ES module from require() and TypeScript >= 5.8 types it (module nodenext)
    const attw = run(
      join(repo, 'node_modules/.bin/attw'),
      [tarball, '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'ascii', '--no-color'],
      { cwd: work, env: userEnv() },
    );
    expectRun('@arethetypeswrong/cli (node10, node16 ESM, bundler)', attw);
    const publint = run(join(repo, 'node_modules/.bin/publint'), ['run', '--strict', tarball], {
      cwd: work,
      env: userEnv(),
    });
    expectRun('publint --strict', publint);

    // 2. the README section, block by block, in a new project
    const readme = readFileSync(join(repo, 'README.md'), 'utf8');
    const blocks = readmeBlocks(readme);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(project);
    const typecheck: string[] = [];
    let checkedMissing = false;
    const sizes: string[] = [];
    for (const b of blocks) {
      const where = `README line ${b.line}`;
      if (b.attrs.run === 'sh' || (!b.attrs.run && b.lang === 'sh')) {
        if (!checkedMissing && b.code.includes(INSTALL_COMMANDS.onnx)) {
          checkMissingParts(project);
          checkedMissing = true;
          sizes.push(`default install: files of ${mb(duBytes(join(project, 'node_modules')))}`);
        }
        // `npm install whybox` installs the tarball (the same package the registry would serve)
        const script = b.code.replace(/npm install whybox\b/g, `npm install ${JSON.stringify(tarball)}`);
        const r = run('sh', ['-ec', script], { cwd: project, env: userEnv() });
        expectRun(`${where}: sh ${b.code.split('\n')[0].slice(0, 60)}`, r, b.attrs.stdout);
        if (/npm install whybox\b/.test(b.code)) {
          const warnings = npmWarnings(r);
          if (warnings.length) fail('npm install whybox prints no npm warning', warnings.join('\n'));
          ok(`npm install whybox: no npm warning, ${r.seconds.toFixed(1)} s`);
          for (const heavy of [
            'onnxruntime-node',
            'fastify',
            'prom-client',
            'vega',
            'vega-lite',
            'fast-check',
            'bullmq',
            'ioredis',
          ])
            if (existsIn(project, heavy)) fail(`the default install leaves out ${heavy}`);
          ok(
            'the default install leaves out onnxruntime-node, fastify, prom-client, vega, vega-lite, fast-check, bullmq and ioredis',
          );
        }
        continue;
      }
      if (!b.attrs.file) fail(`${where}: a check-readme block needs file= or run=sh`);
      writeFileSync(join(project, b.attrs.file), b.code);
      if (b.attrs.typecheck) {
        writeFileSync(join(project, b.attrs.typecheck), b.code);
        typecheck.push(b.attrs.typecheck);
      }
      if (b.attrs.run === 'node') {
        const r = run(process.execPath, [b.attrs.file], { cwd: project, env: userEnv() });
        expectRun(`${where}: node ${b.attrs.file}`, r, b.attrs.stdout);
      } else if (b.attrs.run === 'server') await checkServer(project, b.attrs.file, where);
    }
    if (!checkedMissing) fail('the README section installs onnxruntime-node with the documented command');
    sizes.push(`with every optional part: files of ${mb(duBytes(join(project, 'node_modules')))}`);

    // 3. types, as a consumer's compiler sees them
    writeFileSync(
      join(project, 'consumer-types.mts'),
      `import { explain, fromFunction, type Explanation, MissingDependencyError } from 'whybox';
import { assertClaims } from 'whybox/testing';
import { createService, type ServiceConfig } from 'whybox/service';
const m = fromFunction((x) => x[0] * 2, { nInputs: 1 });
const b = fromFunction((rows, n) => rows.subarray(0, n), { nInputs: 1, batched: true });
export const checks: unknown[] = [explain, m, b, assertClaims, createService, MissingDependencyError];
export type T = [Explanation, ServiceConfig];
`,
    );
    typecheck.push('consumer-types.mts');
    for (const [module, resolution] of [
      ['nodenext', 'nodenext'],
      ['esnext', 'bundler'],
    ]) {
      const r = run(
        process.execPath,
        [
          join(repo, 'node_modules/typescript/bin/tsc'),
          '--strict',
          '--noEmit',
          '--skipLibCheck',
          'false',
          '--target',
          'es2022',
          '--module',
          module,
          '--moduleResolution',
          resolution,
          '--types',
          'node',
          '--typeRoots',
          join(repo, 'node_modules/@types'),
          ...typecheck,
        ],
        { cwd: project, env: userEnv() },
      );
      expectRun(`tsc --strict, moduleResolution ${resolution}: ${typecheck.join(', ')}`, r);
    }
    console.log(
      `check-package: ${passed} checks passed; node_modules ${sizes.join(', ')}${keep ? `; kept ${project}` : ''}`,
    );
  } finally {
    if (!keep) rmSync(work, { recursive: true, force: true });
  }
}

function existsIn(project: string, pkg: string): boolean {
  try {
    statSync(join(project, 'node_modules', pkg, 'package.json'));
    return true;
  } catch {
    return false;
  }
}

/** Before the optional parts are installed: the CLI and the service say which command adds them. */
function checkMissingParts(project: string): void {
  const whybox = join(project, 'node_modules/.bin/whybox');
  const demo = run(whybox, ['demo'], { cwd: project, env: userEnv() });
  if (demo.status !== 2 || !demo.stderr.includes(INSTALL_COMMANDS.onnx) || demo.stderr.trim().split('\n').length !== 1)
    fail('whybox demo without onnxruntime-node: exit 2 and one line with the install command', demo.stderr);
  ok(`whybox demo without onnxruntime-node: exit 2, "${demo.stderr.trim()}"`);
  const serve = run(whybox, ['serve', '--model', 'm=node_modules/whybox/datasets/credit-demo/model.onnx'], {
    cwd: project,
    env: userEnv(),
  });
  if (serve.status !== 2 || !serve.stderr.includes(INSTALL_COMMANDS.service))
    fail('whybox serve without fastify: exit 2 with the install command', serve.stderr);
  ok('whybox serve without fastify: exit 2 with its install command');
  const worker = run(whybox, ['worker', '--queue', 'redis://127.0.0.1:1'], { cwd: project, env: userEnv() });
  if (worker.status !== 2 || !worker.stderr.includes(INSTALL_COMMANDS.queue))
    fail('whybox worker without bullmq: exit 2 with the install command', worker.stderr);
  ok('whybox worker without bullmq: exit 2 with its install command');
  const lib = run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { loadOnnx, MissingDependencyError } from 'whybox';
try { await loadOnnx('node_modules/whybox/datasets/credit-demo/model.onnx'); process.exit(1); }
catch (e) { if (!(e instanceof MissingDependencyError)) throw e; console.log(e.command); }`,
    ],
    { cwd: project, env: userEnv() },
  );
  expectRun('loadOnnx without onnxruntime-node: MissingDependencyError', lib, INSTALL_COMMANDS.onnx);
}

/** The fastify example: start it, send two applicants, compare with the model's own P(bad). */
async function checkServer(project: string, file: string, where: string): Promise<void> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [file], { cwd: project, env: userEnv({ PORT: '0' }) });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d;
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d;
  });
  try {
    const url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no "Server listening" log line within 60 s\n${out}\n${err}`)),
        60_000,
      );
      const poll = setInterval(() => {
        const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          clearInterval(poll);
          clearTimeout(timer);
          resolveUrl(m[1]);
        }
      }, 50);
      child.once('exit', (code) => {
        clearInterval(poll);
        clearTimeout(timer);
        reject(new Error(`${file} exited with ${code}\n${out}\n${err}`));
      });
    }).catch((e: Error) => fail(`${where}: node ${file} starts`, e.message));
    // the truth: P(bad) straight from the ONNX model on the encoded applicant rows
    const truth = run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { loadCsv, loadOnnx } from 'whybox';
const m = await loadOnnx('node_modules/whybox/datasets/credit-demo/model.onnx', { select: [1] });
const rows = await loadCsv('node_modules/whybox/datasets/credit-demo/applicants.csv');
console.log(JSON.stringify(Array.from(await m.predict(rows.data, rows.nRows))));
await m.close();`,
      ],
      { cwd: project, env: userEnv() },
    );
    if (truth.status !== 0) fail('P(bad) of the demo applicants from the ONNX model', truth.stderr);
    const pBad = JSON.parse(truth.stdout) as number[];
    const schema = JSON.parse(
      readFileSync(join(project, 'node_modules/whybox/datasets/credit-demo/schema.json'), 'utf8'),
    ) as {
      attributes: { name: string; type: string }[];
    };
    const numeric = new Set(schema.attributes.filter((a) => a.type === 'numeric').map((a) => a.name));
    const csv = readFileSync(join(project, 'node_modules/whybox/datasets/credit-demo/applicants-raw.csv'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    const header = csv[0];
    let sawDecline = false;
    let sawAccept = false;
    for (let i = 1; i < csv.length; i++) {
      const record: Record<string, string | number> = {};
      header.forEach((h, c) => {
        if (h !== 'id') record[h] = numeric.has(h) ? Number(csv[i][c]) : csv[i][c];
      });
      const res = await fetch(`${url}/loans/decision`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(record),
      });
      const body = (await res.json()) as { decision: string; pBad: number; reasons: { statement: string }[] };
      const p = pBad[i - 1];
      const expected = p > 0.5 ? 'decline' : 'accept';
      if (res.status !== 200 || Math.abs(body.pBad - p) > 1e-5 || body.decision !== expected)
        fail(`${where}: applicant ${csv[i][0]} (P(bad) ${p.toFixed(4)}) is answered ${expected}`, JSON.stringify(body));
      if (expected === 'decline' && body.reasons.length === 0) fail(`${where}: a decline comes with reasons`);
      if (expected === 'decline') sawDecline = true;
      else sawAccept = true;
    }
    if (!sawDecline || !sawAccept) fail(`${where}: the demo applicants include a decline and an accept`);
    ok(
      `${where}: node ${file} declines P(bad) > 0.5 with reasons and accepts the others (${csv.length - 1} applicants, ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
  }
}

await main();
