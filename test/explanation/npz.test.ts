import { execFileSync, spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { parse as parseNpy } from 'npyjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.js';
import type { NpzStreamMember } from '../../src/explanation/npz.js';
import { npzBytes, writeNpzFile } from '../../src/explanation/npz.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
if (!hasNumpy) console.warn('skipping the numpy read-back checks: python3 with numpy is not installed');

let tmp: TempDir;
beforeAll(async () => {
  tmp = await makeTempDir();
});
afterAll(async () => {
  await tmp?.remove();
});

/** A member whose bytes come in chunks of `chunk` bytes (cutting values apart). */
function member(name: string, data: Float32Array | Float64Array, shape: number[], chunk: number): NpzStreamMember {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return {
    name,
    shape,
    dtype: data instanceof Float32Array ? 'f4' : 'f8',
    bytes: async function* () {
      for (let i = 0; i < bytes.length; i += chunk) yield bytes.slice(i, i + chunk);
    },
  };
}

function npy(files: Record<string, Uint8Array>, name: string) {
  const u = files[`${name}.npy`];
  return parseNpy(u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer);
}

const a = Float32Array.from({ length: 2 * 3 * 7 }, (_, i) => Math.sin(i) * 10);
const b = Float64Array.from({ length: 11 }, (_, i) => i / 7 - 1);

describe('writeNpzFile (streamed .npz)', () => {
  it('stored: the same bytes as the in-memory npzBytes, whatever the chunking', async () => {
    const mem = npzBytes({ arr_0: { data: a, shape: [2, 3, 7] }, other: { data: b, shape: [11] } });
    for (const chunk of [1, 5, 64, 1 << 20]) {
      const path = join(tmp.path, `s${chunk}.npz`);
      const size = await writeNpzFile(path, [member('arr_0', a, [2, 3, 7], chunk), member('other', b, [11], chunk)]);
      const file = new Uint8Array(await readFile(path));
      expect(size).toBe(file.length);
      expect(Buffer.from(file).equals(Buffer.from(mem))).toBe(true);
    }
  });
  it('deflated and zip64 archives read back with every value (fflate, npyjs)', async () => {
    for (const [compress, zip64Above] of [
      [true, undefined],
      [false, 100],
      [true, 100],
      [false, 1],
    ] as const) {
      const path = join(tmp.path, `z-${compress}-${zip64Above}.npz`);
      await writeNpzFile(path, [member('arr_0', a, [2, 3, 7], 13), member('other', b, [11], 8)], {
        compress,
        zip64Above,
      });
      const raw = new Uint8Array(await readFile(path));
      // a zip64 archive ends in a zip64 end record and its locator before the classic end record
      const locator = new DataView(raw.buffer, raw.byteOffset).getUint32(raw.length - 42, true);
      expect(locator === 0x07064b50).toBe(zip64Above !== undefined);
      const files = unzipSync(raw);
      expect(Object.keys(files).sort()).toEqual(['arr_0.npy', 'other.npy']);
      const x = npy(files, 'arr_0');
      expect(x.shape).toEqual([2, 3, 7]);
      expect(Array.from(x.data as Float32Array)).toEqual(Array.from(a));
      const y = npy(files, 'other');
      expect(y.dtype).toBe('f8');
      expect(Array.from(y.data as Float64Array)).toEqual(Array.from(b));
    }
  });
  it.skipIf(!hasNumpy)('NumPy and zipfile read them: CRCs check, zip64 fields decode', async () => {
    const paths: string[] = [];
    for (const [compress, zip64Above] of [
      [false, undefined],
      [true, undefined],
      [false, 100],
      [true, 1],
    ] as const) {
      const path = join(tmp.path, `py-${compress}-${zip64Above}.npz`);
      await writeNpzFile(path, [member('arr_0', a, [2, 3, 7], 13), member('other', b, [11], 8)], {
        compress,
        zip64Above,
      });
      paths.push(path);
    }
    const script = `
import numpy as np, zipfile, json, sys
out = []
for p in sys.argv[1:]:
    z = zipfile.ZipFile(p)
    d = np.load(p)
    out.append({'bad': z.testzip(), 'sizes': [i.file_size for i in z.infolist()],
                'a': d['arr_0'].tolist(), 'shape': list(d['arr_0'].shape), 'b': d['other'].tolist(), 'bt': str(d['other'].dtype)})
print(json.dumps(out))`;
    const res = JSON.parse(execFileSync('python3', ['-c', script, ...paths], { encoding: 'utf8' }));
    for (const r of res) {
      expect(r.bad).toBeNull();
      expect(r.shape).toEqual([2, 3, 7]);
      expect(r.a.flat(2)).toEqual(Array.from(a));
      expect(r.bt).toBe('float64');
      expect(r.b).toEqual(Array.from(b));
    }
  });
  it('a source of the wrong length is a ShapeError and leaves no file behind', async () => {
    const path = join(tmp.path, 'bad.npz');
    const short = { ...member('arr_0', a.subarray(0, 40), [2, 3, 7], 16) };
    await expect(writeNpzFile(path, [short])).rejects.toThrow(ShapeError);
    await expect(writeNpzFile(path, [short])).rejects.toThrow(/needs 168 bytes of values; its source gave 160/);
    expect((await readdir(tmp.path)).filter((f) => f.includes('bad.npz'))).toEqual([]);
  });
});
