/**
 * Safe output files for the CLI: `--out` is written atomically (a temporary file in the same
 * directory, then a rename, so a failed write leaves the previous file intact), and an `--out`
 * that resolves to one of the command's input files (same path, symlink or hard link) is refused.
 */
import { statSync } from 'node:fs';
import { chmod, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describeFsError } from '../data/csv.js';
import { DataError, InvalidOptionError } from '../errors.js';

let serial = 0;

/**
 * Writes `text` to `path` atomically: a temporary file next to it (same file system) is
 * written and fsynced, then renamed over `path`. On any failure the temporary file is removed
 * and `path` keeps its previous content. An existing file's permission bits are kept.
 * @throws {DataError} naming `path` and what went wrong.
 */
export async function writeFileAtomic(path: string, text: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${++serial}.tmp`);
  let mode: number | undefined;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    mode = st.mode & 0o7777;
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT')
      throw new DataError(describeFsError(error, path, true), {}, { cause: error });
  }
  let created = false;
  try {
    const handle = await open(tmp, 'wx', 0o666);
    created = true;
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (mode !== undefined) await chmod(tmp, mode);
    await rename(tmp, path);
    created = false;
  } catch (error) {
    if (created) await unlink(tmp).catch(() => undefined);
    const code = (error as { code?: string }).code;
    const message =
      code === 'EFBIG' || code === 'ENOSPC' || code === 'EDQUOT'
        ? `${path}: cannot be written (${code === 'EFBIG' ? 'the file size limit was reached' : 'the disk is full'}); the previous file, if any, is unchanged`
        : describeFsError(error, path, true);
    throw new DataError(message, {}, { cause: error });
  }
}

/**
 * Refuses an `--out` that is one of the input files: `flags` are a command's parsed flags; every
 * other string value that names an existing file is compared with `--out` by device and inode
 * (so `./x`, symlinks and hard links count as the same file).
 * @throws {InvalidOptionError} naming the input flag.
 */
export function checkOutNotInput(flags: Readonly<Record<string, unknown>>, outFlag = 'out'): void {
  const out = flags[outFlag];
  if (typeof out !== 'string' || out === '') return;
  const target = identity(out);
  if (!target) return;
  for (const [name, value] of Object.entries(flags)) {
    if (name === outFlag) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v !== 'string' || v === '') continue;
      const id = identity(v);
      if (id && id.dev === target.dev && id.ino === target.ino)
        throw new InvalidOptionError(
          `--${outFlag}`,
          `a file that is not an input`,
          out,
          `it is the --${name} file ${JSON.stringify(v)}; writing the output there would destroy it — choose another path`,
        );
    }
  }
}

function identity(path: string): { dev: number; ino: number } | undefined {
  try {
    const st = statSync(path);
    return st.isFile() ? { dev: st.dev, ino: st.ino } : undefined;
  } catch {
    return undefined;
  }
}
