/**
 * The CLI side of the method registry: every method option with a flag becomes a
 * `whybox explain` / `check` / `evaluate` flag, parsed by its spec and refused (exit 2,
 * one line) when the chosen method does not take it. The help text is generated too.
 */
import { checkMethodOptions } from '../explain.js';
import { expected, flagOf, parseFlagValue } from '../methods/options.js';
import type { RegisteredMethod } from '../methods/registry.js';
import { allOptions, DEFAULT_METHOD, METHODS } from '../methods/registry.js';
import type { InputKind, OptionSpec } from '../methods/types.js';
import { int } from './args.js';

/** Flags of shared options the commands parse themselves (name → flag). */
const SHARED_FLAGS: Readonly<Record<string, string>> = {
  background: 'background',
  groups: 'groups',
  summarize: 'summarize',
  threads: 'threads',
  seed: 'seed',
  batchRows: 'batch-rows',
};

/** The flag that spells an option name on the CLI. */
export function flagLabel(name: string): string {
  const shared = SHARED_FLAGS[name];
  if (shared) return `--${shared}`;
  const spec = allOptions().find((o) => o.name === name);
  const f = spec ? flagOf(spec) : null;
  return `--${f ?? name}`;
}

/** The specs that have CLI flags (method options and core options such as --seed). */
function flagged(): { spec: OptionSpec; flag: string }[] {
  const out: { spec: OptionSpec; flag: string }[] = [];
  for (const spec of allOptions()) {
    const flag = flagOf(spec);
    if (flag) out.push({ spec, flag });
  }
  return out;
}

/** parseArgs declarations of every registry flag (all take a string value). */
export function methodFlagConfig(): Record<string, { type: 'string' }> {
  const out: Record<string, { type: 'string' }> = {};
  for (const { flag } of flagged()) out[flag] = { type: 'string' };
  return out;
}

/**
 * The options given by flags for `method`: every registry flag parsed by its spec, plus
 * the shared `--summarize` and `--threads` (parsed by the caller, passed in `shared`);
 * an option the method does not take is refused naming the flag.
 * @throws {InvalidOptionError} naming the flag (exit 2).
 */
export function methodOptionsFromFlags(
  flags: Readonly<Record<string, unknown>>,
  method: RegisteredMethod,
  shared: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  const given: Record<string, unknown> = { ...shared };
  for (const { spec, flag } of flagged()) {
    const text = flags[flag];
    if (typeof text !== 'string') continue;
    given[spec.name] =
      spec.name === 'seed' ? int(text, '--seed', Number.MIN_SAFE_INTEGER) : parseFlagValue(spec, text, `--${flag}`);
  }
  checkMethodOptions(method, given, flagLabel);
  return given;
}

/** The help lines of the methods for `inputs`, with their flags. */
export function methodUsage(inputs: InputKind): string {
  const lines = [
    `Methods (--method M; default ${inputs === 'sequences' ? 'kernel, partition with --players hierarchy' : DEFAULT_METHOD}):`,
  ];
  for (const m of METHODS) {
    if (!m.inputs.includes(inputs)) continue;
    lines.push(`  ${m.name.padEnd(13)}${m.summary}`);
    for (const spec of m.options) {
      const flag = flagOf(spec);
      if (!flag) continue;
      const arg =
        spec.kind === 'boolean'
          ? 'true|false'
          : spec.kind === 'enum'
            ? (spec.values ?? []).join('|')
            : spec.kind === 'budget' && spec.auto
              ? 'N|auto'
              : spec.kind === 'list'
                ? 'LIST'
                : spec.kind === 'number'
                  ? 'X'
                  : 'N';
      const left = `    --${flag} ${arg}`;
      const text = `${spec.help}${spec.default ? ` (default ${spec.default})` : ''}`;
      lines.push(left.length < 29 ? `${left.padEnd(29)}${text}` : `${left}\n${' '.repeat(29)}${text}`);
    }
  }
  lines.push('  An option of another method is refused (exit 2), never ignored.');
  return `${lines.join('\n')}\n`;
}

/** For tests: every (flag, spec) pair. @internal */
export function registryFlags(): { spec: OptionSpec; flag: string; expected: string }[] {
  return flagged().map((f) => ({ ...f, expected: expected(f.spec) }));
}
