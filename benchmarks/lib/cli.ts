/** The whybox CLI as a child process, for benchmarks that time whole commands and their memory. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './common.js';

const BIN = join(ROOT, 'bin/whybox.js');

/** Starts `whybox ARGS` (the built CLI) with its output collected. */
export function spawnCli(args: string[]): {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number>;
} {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d;
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d;
  });
  const exit = new Promise<number>((r) => child.once('exit', (c) => r(c ?? 1)));
  return { child, out: () => out, err: () => err, exit };
}

/** Runs a CLI command; returns its --json summary and its peak RSS (VmHWM, polled). */
export async function runCli(
  args: string[],
): Promise<{ summary: Record<string, unknown>; peakMb: number; seconds: number }> {
  const t0 = performance.now();
  const p = spawnCli(args);
  let peak = 0;
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.child.pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {
      // exited
    }
  }, 100);
  const code = await p.exit;
  clearInterval(poll);
  if (code !== 0) throw new Error(`whybox ${args.join(' ')} failed (${code}): ${p.err()}`);
  return { summary: JSON.parse(p.out()), peakMb: peak, seconds: (performance.now() - t0) / 1000 };
}
