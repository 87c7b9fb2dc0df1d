import { endianness } from 'node:os';
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
  const count = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0) || count !== data.length)
    throw new ShapeError(`an array of shape (${shape.join(', ')}) holds ${count} values; got ${data.length}`);
  const descr = data instanceof Float32Array ? '<f4' : '<f8';
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64);
  header += '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0); // \x93NUMPY, version 1.0
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = out.subarray(10 + header.length);
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
