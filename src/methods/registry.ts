/**
 * The method registry: the one place that says which methods whybox has. `explain()`,
 * `explainSequences()`, `createExplainer`, the CLI's flags and help, the service's request
 * schema and OpenAPI document, and whybox/testing's method list are derived from it.
 *
 * Adding a method = one new file in this folder (a {@link MethodDescriptor}) + one line in
 * {@link METHODS} (see CONTRIBUTING.md).
 */
import { InvalidOptionError } from '../errors.js';
import { GAME_METHODS } from './game-methods.js';
import { gradientMethod } from './gradient.js';
import { gradientInputMethod } from './gradient-input.js';
import { integratedGradientsMethod } from './integrated-gradients.js';
import { ismMethod } from './ism.js';
import { limeMethod } from './lime.js';
import { occlusionMethod } from './occlusion.js';
import { optionsOf } from './options.js';
import type { MethodRun } from './run.js';
import { smoothgradMethod } from './smoothgrad.js';
import { treeMethod } from './tree.js';
import type { InputKind, MethodDescriptor, OptionSpec } from './types.js';

/** A registered method. */
export type RegisteredMethod = MethodDescriptor<MethodRun>;

/** Every method, in the order help texts list them. */
export const METHODS: readonly RegisteredMethod[] = [
  ...GAME_METHODS,
  limeMethod,
  ismMethod,
  gradientMethod,
  gradientInputMethod,
  smoothgradMethod,
  integratedGradientsMethod,
  occlusionMethod,
  treeMethod,
];

/** The default method of tabular explanations. */
export const DEFAULT_METHOD = 'kernel';

/** Names of the registered methods (for `inputs`: those that explain that kind of input). */
export function methodNames(inputs?: InputKind): string[] {
  return METHODS.filter((m) => !inputs || m.inputs.includes(inputs)).map((m) => m.name);
}

/**
 * The descriptor of a method name. @throws {InvalidOptionError} naming `option`, listing the
 * methods for `inputs`, with a hint when the method exists for other inputs.
 */
export function getMethod(name: unknown, inputs: InputKind = 'tabular', option = 'method'): RegisteredMethod {
  const m = METHODS.find((d) => d.name === name);
  const names = methodNames(inputs);
  if (m?.inputs.includes(inputs)) return m;
  if (m)
    throw new InvalidOptionError(
      option,
      `one of ${names.join(', ')}`,
      name,
      inputs === 'tabular'
        ? `method '${m.name}' explains one-hot sequences: use explainSequences (CLI: whybox explain --sequences)`
        : `method '${m.name}' explains tabular rows, not sequences`,
    );
  throw new InvalidOptionError(option, `one of ${names.join(', ')}`, name);
}

/** Every option any method takes, once (the first spec of each name). */
export function allOptions(): OptionSpec[] {
  const seen = new Map<string, OptionSpec>();
  for (const m of METHODS) for (const o of optionsOf(m)) if (!seen.has(o.name)) seen.set(o.name, o);
  return [...seen.values()];
}
