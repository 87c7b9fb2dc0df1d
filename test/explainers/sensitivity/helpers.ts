/** Test helpers of the sensitivity methods: ONNX initializers (the weights) and fixture rows. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

/** The float initializers of an ONNX file by name (the model's weights, read from the file itself). */
export function onnxInitializers(path: string): Record<string, Float64Array> {
  const m = onnxProto.onnx.ModelProto.decode(readFileSync(path));
  const out: Record<string, Float64Array> = {};
  for (const t of m.graph?.initializer ?? []) {
    if (t.floatData && t.floatData.length > 0) out[t.name ?? ''] = Float64Array.from(t.floatData);
    else if (t.rawData) {
      const raw = t.rawData;
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      out[t.name ?? ''] = Float64Array.from({ length: raw.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
    }
  }
  return out;
}

/** The input rows of a fixture's expected JSON. */
export function fixtureRows(name: string): number[][] {
  return JSON.parse(readFileSync(`${FIXTURES}${name}.expected.json`, 'utf8')).rows;
}

/** ‖a − b‖ / ‖b‖. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}
