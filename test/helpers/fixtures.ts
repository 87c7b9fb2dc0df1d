/** The committed ONNX fixtures of test/fixtures (see scripts/README.md for their format). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type FixtureName = 'linear' | 'logistic' | 'mlp' | 'seq-cnn';

export interface FixtureExpected {
  inputShape: number[];
  nInputs: number;
  /** Flat input rows. */
  rows: number[][];
  /** Every output tensor, in the model's output order: one flat array per row. */
  outputs: Record<string, number[][]>;
}

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function fixturePath(name: FixtureName): string {
  return `${FIXTURES_DIR}${name}.onnx`;
}

export function fixtureExpected(name: FixtureName): FixtureExpected {
  return JSON.parse(readFileSync(`${FIXTURES_DIR}${name}.expected.json`, 'utf8')) as FixtureExpected;
}

/** The fixture's rows as one row-major Float64Array. */
export function fixtureRows(name: FixtureName): Float64Array {
  return Float64Array.from(fixtureExpected(name).rows.flat());
}
