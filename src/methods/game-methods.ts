/**
 * The game methods of the registry (those whose run is an estimator over a row's
 * interventional game), in help order. Worker threads load just these to run units of an
 * explanation; {@link METHODS} in `registry.ts` lists them with every other method.
 */
import { exactMethod } from './exact.js';
import { kernelMethod } from './kernel.js';
import { partitionMethod } from './partition.js';
import { permutationMethod } from './permutation.js';
import type { MethodRun } from './run.js';
import type { MethodDescriptor } from './types.js';

/** The registered game methods. */
export const GAME_METHODS: readonly MethodDescriptor<MethodRun>[] = [
  kernelMethod,
  exactMethod,
  permutationMethod,
  partitionMethod,
];

/** The game method `name` (worker threads; names come from the main thread's registry). */
export function gameMethod(name: string): MethodDescriptor<MethodRun> {
  const m = GAME_METHODS.find((d) => d.name === name);
  if (!m?.run.estimate) throw new Error(`internal: '${name}' is not a registered game method`);
  return m;
}
