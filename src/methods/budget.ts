import type { OptionSpec } from './types.js';

/** The `budget` option of the sampling methods (`auto`: Kernel SHAP only). */
export function budgetOption(auto: boolean): OptionSpec {
  return {
    name: 'budget',
    kind: 'budget',
    auto,
    help: auto
      ? 'coalition values per row, or auto: grow until max s.e. / value range < tolerance'
      : 'coalition values per row',
    default: '2 x players + 2048',
  };
}
