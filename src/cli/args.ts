/**
 * `node:util` parseArgs refuses `--seed -1` ("argument is ambiguous"): a value that starts
 * with `-` is taken for an option. Negative numbers are values, so `--flag -1` (and `-0.5`,
 * `-1e-3`) after a string option are joined into `--flag=-1` before parsing.
 */
export function joinNegativeValues(
  args: readonly string[],
  options: Readonly<Record<string, { readonly type: 'string' | 'boolean' }>>,
): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = args[i + 1];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\.?\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}
