import { InvalidOptionError } from '../errors.js';
import { combineDecomposed } from '../estimators/decomposed.js';
import { KERNEL_DEFAULTS, KERNEL_VARIANTS, kernelParts, kernelShap, kernelShapPart } from '../estimators/kernel.js';
import { budgetOption } from './budget.js';
import type { Claim } from './claims.js';
import type { MethodRun } from './run.js';
import type { MethodDescriptor } from './types.js';

/**
 * `kernel`: the Kernel SHAP family (variants decomposed, leverage, kernel, msr, shap).
 * Claims: efficiency exactly and convergence; linear in v for a fixed seed except `msr`
 * (a boosted-tree surrogate); exact once the budget covers all 2^n coalitions — which the
 * default budget does for n ≤ 11 — so with the default budget also symmetry, dummy and
 * exactness (on games of at most 11 players).
 */
export const kernelMethod: MethodDescriptor<MethodRun> = {
  name: 'kernel',
  summary: 'Kernel SHAP family (default): Shapley-kernel weighted least squares, efficiency exact, jackknife s.e.',
  kind: 'game',
  options: [
    budgetOption(true),
    {
      name: 'variant',
      kind: 'enum',
      values: KERNEL_VARIANTS,
      help: 'kernel variant',
      default: KERNEL_DEFAULTS.variant,
    },
    {
      name: 'tolerance',
      kind: 'number',
      positive: true,
      help: 'budget auto: stopping threshold (max s.e. / value range)',
      default: String(KERNEL_DEFAULTS.tolerance),
    },
    {
      name: 'maxBudget',
      kind: 'integer',
      min: 2,
      help: 'budget auto: cap',
      default: String(KERNEL_DEFAULTS.maxBudget),
    },
    { name: 'topK', kind: 'integer', min: 1, help: 'sparse mode: keep the K largest values' },
  ],
  shared: ['inputs', 'interventional', 'parallel'],
  inputs: ['tabular', 'sequences'],
  background: 'required',
  claims(options) {
    const claims: Claim[] = ['efficiency', 'convergence'];
    if ((options.variant ?? KERNEL_DEFAULTS.variant) !== 'msr') claims.push('linearity');
    if (options.budget === undefined) claims.push('symmetry', 'dummy', 'exactness');
    return claims;
  },
  check(options) {
    for (const name of ['tolerance', 'maxBudget'] as const)
      if (options[name] !== undefined && options.budget !== 'auto')
        throw new InvalidOptionError(name, "used with budget 'auto' only", options[name]);
  },
  serviceLimits: [
    {
      key: 'allowMsr',
      default: 0,
      help: "1 to allow variant 'msr' (its surrogate fit runs on the event loop, ~1 s a row)",
      check: (limit, { options }) =>
        options.variant === 'msr' && limit === 0
          ? {
              field: 'variant',
              message:
                "variant 'msr' fits its tree surrogate on the server's event loop (about a second a row); this server does not allow it (limits.allowMsr)",
            }
          : undefined,
    },
  ],
  run: {
    estimate: (game, options, ctx) => kernelShap(game, options, ctx),
    // the decomposed variant splits each row over groups of background rows (workers run them)
    split: {
      parts: (options, nPlayers, nBackground) => kernelParts(options, nPlayers, nBackground),
      estimatePart: (game, options, ctx, part) => kernelShapPart(game, options, ctx, part),
      combine: (parts, game) => combineDecomposed(parts, game),
    },
    gameRows: (options, nPlayers, nBackground) =>
      (options.budget === 'auto'
        ? Number(options.maxBudget ?? KERNEL_DEFAULTS.maxBudget) / 4
        : Number(options.budget ?? 2 * nPlayers + 2048)) * nBackground,
  },
};
