import { InvalidOptionError } from '../errors.js';
import type { Explanation } from './explanation.js';
import { dims } from './explanation.js';

/** "What matters most overall": per player, the mean |φ| (and mean φ) over the explained rows. */
export interface GlobalImportance {
  readonly output: string;
  readonly rows: number;
  /** Players by decreasing mean |φ| (ties: explanation order). */
  readonly players: readonly string[];
  readonly meanAbs: readonly number[];
  /** Mean signed φ, same order (the direction the attribute pushes on average). */
  readonly mean: readonly number[];
}

/**
 * Global importance of each player for one output: mean |φ| over every explained row
 * (shap's bar plot of `mean(|shap values|)`), sorted from the most important.
 * @example
 * const exp = await explain(model, manyRows, { background, players: schemaPlayers(schema) });
 * globalImportance(exp).players[0]; // the attribute that matters most overall
 */
export function globalImportance(exp: Explanation, output = 0): GlobalImportance {
  const { nPlayers, nOutputs } = dims(exp);
  if (!Number.isInteger(output) || output < 0 || output >= nOutputs)
    throw new InvalidOptionError('output', `an output index in 0..${nOutputs - 1}`, output);
  const sumAbs = new Float64Array(nPlayers);
  const sum = new Float64Array(nPlayers);
  for (let r = 0; r < exp.nRows; r++)
    for (let p = 0; p < nPlayers; p++) {
      const v = exp.values[(r * nPlayers + p) * nOutputs + output];
      sumAbs[p] += Math.abs(v);
      sum[p] += v;
    }
  const n = Math.max(1, exp.nRows);
  const order = Array.from({ length: nPlayers }, (_, p) => p).sort((a, b) => sumAbs[b] - sumAbs[a] || a - b);
  return {
    output: exp.outputs[output],
    rows: exp.nRows,
    players: order.map((p) => exp.players[p]),
    meanAbs: order.map((p) => sumAbs[p] / n),
    mean: order.map((p) => sum[p] / n),
  };
}
