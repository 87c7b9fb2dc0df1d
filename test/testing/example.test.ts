/** The README's "Test your explanations" example runs (against dist/, through `whybox/testing`). */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

it('examples/test-your-explanations.mjs passes under node --test', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--test', 'examples/test-your-explanations.mjs'], {
    cwd: ROOT,
  });
  expect(stdout).toMatch(/# pass 3/);
  expect(stdout).toMatch(/# fail 0/);
  expect(stdout).toMatch(/efficiency violated by method "leave-one-out"/);
});
