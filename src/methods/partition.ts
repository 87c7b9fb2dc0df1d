import type { Hierarchy } from '../data/hierarchy.js';
import { balancedHierarchy } from '../data/hierarchy.js';
import { partitionShap } from '../estimators/partition.js';
import { budgetOption } from './budget.js';
import type { MethodRun } from './run.js';
import type { MethodDescriptor } from './types.js';

/**
 * `partition`: Owen / Winter values over a hierarchy of the players (default: the balanced
 * binary tree of contiguous player ranges). Efficiency holds at any budget; the expansion
 * order depends on the values, so no linearity, and unexpanded nodes share credit equally,
 * so no dummy.
 */
export const partitionMethod: MethodDescriptor<MethodRun> = {
  name: 'partition',
  summary: 'Owen values over a hierarchy of the players (balanced binary tree in column order by default)',
  kind: 'game',
  options: [
    budgetOption(false),
    {
      name: 'hierarchy',
      kind: 'object',
      help: 'the hierarchy over the players',
      default: 'the balanced binary hierarchy of contiguous player ranges',
    },
    {
      name: 'orders',
      kind: 'integer',
      min: 1,
      help: 'average K sampled hierarchy orders instead of every context (cheaper for deep trees)',
      default: 'every context',
    },
  ],
  shared: ['inputs', 'interventional', 'parallel'],
  inputs: ['tabular', 'sequences'],
  background: 'required',
  claims: () => ['efficiency'],
  run: {
    estimate: (game, options, ctx) =>
      partitionShap(
        game,
        {
          budget: options.budget as number | undefined,
          orders: options.orders as number | undefined,
          hierarchy: (options.hierarchy as Hierarchy | undefined) ?? balancedHierarchy(game.nPlayers),
        },
        ctx,
      ),
    gameRows: (options, nPlayers, nBackground) => Number(options.budget ?? 2 * nPlayers + 2048) * nBackground,
  },
};
