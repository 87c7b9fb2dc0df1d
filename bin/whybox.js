#!/usr/bin/env node
// Entry point of the `whybox` command: runs the compiled CLI (dist/). Installed packages ship
// dist/; in a source checkout (`git clone` + `npm install`) the first run builds it with the
// repo's TypeScript (`npm run build`), so `npm install && npx whybox demo` works on a fresh clone.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  const config = fileURLToPath(new URL('../tsconfig.build.json', import.meta.url));
  if (!existsSync(config) || !existsSync(tsc)) {
    process.stderr.write(`whybox: ${root}dist/ is missing; reinstall whybox (npm install whybox)\n`);
    process.exit(2);
  }
  process.stderr.write('whybox: building dist/ (first run in a source checkout)...\n');
  const built = spawnSync(process.execPath, [tsc, '-p', config], { stdio: 'inherit' });
  if (built.status !== 0) {
    process.stderr.write('whybox: the build failed; run `npm run build` to see why\n');
    process.exit(2);
  }
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
