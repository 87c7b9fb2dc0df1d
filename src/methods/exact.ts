import { combineExact, exactPart, exactParts, exactShapley, MAX_EXACT_PLAYERS } from '../estimators/exact.js';
import { CLAIMS } from './claims.js';
import type { MethodRun } from './run.js';
import type { MethodDescriptor } from './types.js';

/** `exact`: all 2^n coalitions (every distinct masked row evaluated once). */
export const exactMethod: MethodDescriptor<MethodRun> = {
  name: 'exact',
  summary: 'exact Shapley values from all 2^n coalitions (at most 24 players)',
  kind: 'game',
  options: [],
  shared: ['inputs', 'interventional', 'parallel'],
  inputs: ['tabular', 'sequences'],
  background: 'required',
  maxPlayers: MAX_EXACT_PLAYERS,
  claims: () => CLAIMS,
  insteadOf: { budget: 'it always uses all 2^n coalitions' },
  serviceLimits: [
    {
      key: 'maxExactPlayers',
      default: 12,
      help: "most players for 'exact' (2^n coalitions)",
      check: (limit, { nPlayers }) =>
        nPlayers > limit
          ? {
              field: 'method',
              message: `method 'exact' evaluates all 2^${nPlayers} coalitions; this server allows it for at most ${limit} players; use method 'kernel' or 'permutation'`,
            }
          : undefined,
    },
  ],
  run: {
    estimate: (game, _options, ctx) => exactShapley(game, ctx),
    // groups of background rows, summed in order (workers run them)
    split: {
      parts: (_options, nPlayers, nBackground) => exactParts(nPlayers, nBackground),
      estimatePart: (game, _options, ctx, part) => exactPart(game, ctx, part),
      combine: (parts, game) => combineExact(parts, game),
    },
    gameRows: (_options, nPlayers, nBackground) => 2 ** Math.min(nPlayers, 30) * nBackground,
  },
};
