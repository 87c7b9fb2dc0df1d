import {
  combinePermutation,
  PERMUTATION_DEFAULTS,
  permutationParts,
  permutationShap,
  permutationShapPart,
} from '../estimators/permutation.js';
import { budgetOption } from './budget.js';
import type { MethodRun } from './run.js';
import type { MethodDescriptor } from './types.js';

/**
 * `permutation`: antithetic permutation sampling. Walks telescope (efficiency), a dummy
 * gets exactly 0 (every marginal contribution is 0), linear for a fixed seed; symmetry
 * holds only in expectation.
 */
export const permutationMethod: MethodDescriptor<MethodRun> = {
  name: 'permutation',
  summary: 'permutation sampling with antithetic pairs; s.e. from the spread of the pair means',
  kind: 'game',
  options: [
    budgetOption(false),
    {
      name: 'antithetic',
      kind: 'boolean',
      help: 'walk each permutation forward and reversed',
      default: String(PERMUTATION_DEFAULTS.antithetic),
    },
  ],
  shared: ['inputs', 'interventional', 'parallel'],
  inputs: ['tabular', 'sequences'],
  background: 'required',
  claims: () => ['efficiency', 'dummy', 'linearity', 'convergence'],
  run: {
    estimate: (game, options, ctx) => permutationShap(game, options, ctx),
    // the decomposed variant splits each row over groups of background rows (workers run them)
    split: {
      parts: (options, nPlayers, nBackground) => permutationParts(options, nPlayers, nBackground),
      estimatePart: (game, options, ctx, part) => permutationShapPart(game, options, ctx, part),
      combine: (parts, game) => combinePermutation(parts, game),
    },
    gameRows: (options, nPlayers, nBackground) => Number(options.budget ?? 2 * nPlayers + 2048) * nBackground,
  },
};
