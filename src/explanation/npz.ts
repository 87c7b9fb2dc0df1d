import { open, rename, unlink } from 'node:fs/promises';
import { endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';
import * as zlib from 'node:zlib';
import { zipSync } from 'fflate';
import { ShapeError } from '../errors.js';

/** An array to write: values in C (row-major) order and its shape. */
export interface NpyArray {
  readonly data: Float32Array | Float64Array;
  readonly shape: readonly number[];
}

/**
 * The bytes of a NumPy `.npy` file (format version 1.0): the magic string, a header dict
 * `{'descr': '<f4' | '<f8', 'fortran_order': False, 'shape': (...), }` padded with spaces to a
 * multiple of 64 bytes, then the little-endian values in C order — what `np.save` writes.
 *
 * Hand-written: the format is a 10-byte preamble and one line of text (the NPY spec), and no
 * maintained npm package writes it without pulling in a whole ndarray library.
 * @throws {ShapeError} when the shape does not match the number of values.
 */
export function npyBytes(array: NpyArray): Uint8Array {
  const { data, shape } = array;
  const head = npyHeader(shape, data instanceof Float32Array ? 'f4' : 'f8', data.length);
  const out = new Uint8Array(head.length + data.byteLength);
  out.set(head, 0);
  const body = out.subarray(head.length);
  if (endianness() === 'LE') body.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  else {
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const w = data.BYTES_PER_ELEMENT;
    for (let i = 0; i < data.length; i++)
      if (w === 4) view.setFloat32(i * 4, data[i], true);
      else view.setFloat64(i * 8, data[i], true);
  }
  return out;
}

/**
 * The preamble and header of a `.npy` file of `shape` and dtype `<f4` / `<f8` (see
 * {@link npyBytes}); the values follow it. `count`, when given, must be the shape's product.
 * @throws {ShapeError}
 */
export function npyHeader(shape: readonly number[], dtype: 'f4' | 'f8', count?: number): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0) || (count !== undefined && n !== count))
    throw new ShapeError(`an array of shape (${shape.join(', ')}) holds ${n} values; got ${count}`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<${dtype}', 'fortran_order': False, 'shape': (${dims}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64);
  header += '\n';
  if (header.length > 0xffff) throw new ShapeError(`an array of ${shape.length} dimensions is too many for .npy 1.0`);
  const out = new Uint8Array(10 + header.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0); // \x93NUMPY, version 1.0
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  return out;
}
/** Options of {@link npzBytes}. */
export interface NpzOptions {
  /** Deflate the members (`np.savez_compressed`) instead of storing them (`np.savez`). @defaultValue false */
  compress?: boolean;
}

/**
 * The bytes of a NumPy `.npz` file: a zip archive of `NAME.npy` members (zipped by fflate).
 * `np.load(path)['NAME']` reads each array back; `np.savez(path, x)` names its positional
 * array `arr_0`.
 */
export function npzBytes(arrays: Readonly<Record<string, NpyArray>>, options: NpzOptions = {}): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 | 6 }]> = {};
  for (const [name, a] of Object.entries(arrays))
    files[`${name}.npy`] = [npyBytes(a), { level: options.compress ? 6 : 0 }];
  // a fixed timestamp: the same arrays give the same bytes
  return zipSync(files, { mtime: new Date('2000-01-01T00:00:00Z') });
}

/** One array of a streamed `.npz` ({@link writeNpzFile}). */
export interface NpzStreamMember {
  /** The array's name: `np.load(path)[name]` (the member is `NAME.npy`). */
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: 'f4' | 'f8';
  /** The values' little-endian bytes in C order, in chunks of any size (read once). */
  readonly bytes: () => AsyncIterable<Uint8Array>;
}

/** Options of {@link writeNpzFile}. */
export interface NpzFileOptions extends NpzOptions {
  /**
   * Sizes and offsets from which zip64 records are written. @defaultValue 0xFFFFFFFF (the
   * classic zip limit, 4 GiB − 1); smaller values only to test the zip64 path
   */
  zip64Above?: number;
}

const ZIP_LIMIT = 0xffffffff;
const DOS_DATE_2000 = (20 << 9) | (1 << 5) | 1; // 2000-01-01, time 00:00:00: same arrays, same bytes

/**
 * Writes a NumPy `.npz` to `path` with the members' values streamed from their sources (memory
 * stays at one chunk, whatever the arrays' sizes): each `NAME.npy` member is stored (or
 * deflated with `compress`), its CRC-32 and sizes patched into its local header after it is
 * written; archives or members of 4 GiB and more get zip64 records (which NumPy's `np.load`
 * and Python's `zipfile` read). Written to a temporary file beside `path` and renamed, so
 * `path` is never left half-written.
 *
 * Hand-written rather than fflate's streaming `Zip`: that one writes no zip64 records (a
 * 100,000 × 4 × 2,114 float32 array is 3.4 GB) and cannot seek back to patch sizes.
 * @returns the size of the file in bytes.
 * @throws {ShapeError} when a member's source yields more or fewer bytes than its shape holds.
 */
export async function writeNpzFile(
  path: string,
  members: readonly NpzStreamMember[],
  options: NpzFileOptions = {},
): Promise<number> {
  const limit = options.zip64Above ?? ZIP_LIMIT;
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fh = await open(tmp, 'wx', 0o666);
  let pos = 0;
  const write = async (b: Uint8Array, at?: number) => {
    let done = 0;
    while (done < b.length) {
      const { bytesWritten } = await fh.write(b, done, b.length - done, at === undefined ? pos + done : at + done);
      done += bytesWritten;
    }
    if (at === undefined) pos += b.length;
  };
  const central: Uint8Array[] = [];
  try {
    for (const m of members) {
      const name = Buffer.from(`${m.name}.npy`, 'utf8');
      const head = npyHeader(m.shape, m.dtype);
      const expected = m.shape.reduce((a, b) => a * b, 1) * (m.dtype === 'f4' ? 4 : 8);
      const size = head.length + expected;
      const offset = pos;
      // deflate can grow incompressible data by ~0.03%: take zip64 in the local header with room to spare
      const local64 = size + Math.ceil(size / 1000) + 1024 >= limit;
      const local = new DataView(new ArrayBuffer(30 + name.length + (local64 ? 20 : 0)));
      const method = options.compress ? 8 : 0;
      local.setUint32(0, 0x04034b50, true);
      local.setUint16(4, local64 ? 45 : 20, true);
      local.setUint16(8, method, true);
      local.setUint16(12, DOS_DATE_2000, true);
      local.setUint16(26, name.length, true);
      local.setUint16(28, local64 ? 20 : 0, true);
      new Uint8Array(local.buffer).set(name, 30);
      if (local64) {
        local.setUint16(30 + name.length, 0x0001, true);
        local.setUint16(32 + name.length, 16, true);
      }
      await write(new Uint8Array(local.buffer));
      let crc = zlib.crc32(head);
      let seen = 0;
      const start = pos;
      if (options.compress) {
        const deflate = zlib.createDeflateRaw({ level: 6 });
        const drained = (async () => {
          for await (const out of deflate) await write(out as Buffer);
        })();
        const push = (b: Uint8Array) => new Promise<void>((res, rej) => deflate.write(b, (e) => (e ? rej(e) : res())));
        try {
          await push(head);
          for await (const chunk of m.bytes()) {
            seen += chunk.length;
            crc = zlib.crc32(chunk, crc);
            await push(chunk);
          }
        } finally {
          deflate.end();
          await drained;
        }
      } else {
        await write(head);
        for await (const chunk of m.bytes()) {
          seen += chunk.length;
          crc = zlib.crc32(chunk, crc);
          await write(chunk);
        }
      }
      if (seen !== expected)
        throw new ShapeError(
          `the .npz member ${m.name} of shape (${m.shape.join(', ')}) needs ${expected} bytes of values; its source gave ${seen}`,
        );
      const stored = pos - start;
      if (!local64 && stored >= limit)
        throw new ShapeError(`the .npz member ${m.name} deflated to ${stored} bytes, past the zip limit`);
      const patch = new DataView(new ArrayBuffer(12));
      patch.setUint32(0, crc, true);
      patch.setUint32(4, local64 ? ZIP_LIMIT : stored, true);
      patch.setUint32(8, local64 ? ZIP_LIMIT : size, true);
      await write(new Uint8Array(patch.buffer), offset + 14);
      if (local64) {
        const sizes = new DataView(new ArrayBuffer(16));
        sizes.setBigUint64(0, BigInt(size), true);
        sizes.setBigUint64(8, BigInt(stored), true);
        await write(new Uint8Array(sizes.buffer), offset + 34 + name.length);
      }
      // its central directory entry
      const cd64 = local64 || offset >= limit;
      const cd = new DataView(new ArrayBuffer(46 + name.length + (cd64 ? 28 : 0)));
      cd.setUint32(0, 0x02014b50, true);
      cd.setUint16(4, cd64 ? 45 : 20, true);
      cd.setUint16(6, cd64 ? 45 : 20, true);
      cd.setUint16(10, method, true);
      cd.setUint16(14, DOS_DATE_2000, true);
      cd.setUint32(16, crc, true);
      cd.setUint32(20, cd64 ? ZIP_LIMIT : stored, true);
      cd.setUint32(24, cd64 ? ZIP_LIMIT : size, true);
      cd.setUint16(28, name.length, true);
      cd.setUint16(30, cd64 ? 28 : 0, true);
      cd.setUint32(42, cd64 ? ZIP_LIMIT : offset, true);
      new Uint8Array(cd.buffer).set(name, 46);
      if (cd64) {
        const x = 46 + name.length;
        cd.setUint16(x, 0x0001, true);
        cd.setUint16(x + 2, 24, true);
        cd.setBigUint64(x + 4, BigInt(size), true);
        cd.setBigUint64(x + 12, BigInt(stored), true);
        cd.setBigUint64(x + 20, BigInt(offset), true);
      }
      central.push(new Uint8Array(cd.buffer));
    }
    const cdStart = pos;
    for (const c of central) await write(c);
    const cdSize = pos - cdStart;
    const n = members.length;
    const eocd64 = cdStart >= limit || cdSize >= limit || pos >= limit || n >= 0xffff;
    if (eocd64) {
      const at = pos;
      const z = new DataView(new ArrayBuffer(56 + 20));
      z.setUint32(0, 0x06064b50, true);
      z.setBigUint64(4, 44n, true);
      z.setUint16(12, 45, true);
      z.setUint16(14, 45, true);
      z.setBigUint64(24, BigInt(n), true);
      z.setBigUint64(32, BigInt(n), true);
      z.setBigUint64(40, BigInt(cdSize), true);
      z.setBigUint64(48, BigInt(cdStart), true);
      z.setUint32(56, 0x07064b50, true); // the locator
      z.setBigUint64(64, BigInt(at), true);
      z.setUint32(72, 1, true);
      await write(new Uint8Array(z.buffer));
    }
    const end = new DataView(new ArrayBuffer(22));
    end.setUint32(0, 0x06054b50, true);
    end.setUint16(8, Math.min(n, 0xffff), true);
    end.setUint16(10, Math.min(n, 0xffff), true);
    end.setUint32(12, eocd64 ? ZIP_LIMIT : cdSize, true);
    end.setUint32(16, eocd64 ? ZIP_LIMIT : cdStart, true);
    await write(new Uint8Array(end.buffer));
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
    return pos;
  } catch (error) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
}
