#!/usr/bin/env node
// Entry point of the `whybox` command: runs the compiled CLI (dist/, built by `npm install`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('whybox: dist/ is missing; run `npm run build` in the whybox folder first\n');
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
