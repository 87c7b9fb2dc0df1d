/**
 * What a method can claim about its values. The Shapley axioms, plus:
 * - `'convergence'`: the error against the exact Shapley values shrinks as the budget grows;
 * - `'exactness'`: the values equal the exact Shapley values (within the property's
 *   tolerance) at the method's budget.
 * A method lists only what it guarantees; LIME, for example, claims none of the Shapley
 * axioms (its weights are a local linear surrogate's, not Shapley values).
 */
export type Claim = 'efficiency' | 'symmetry' | 'dummy' | 'linearity' | 'convergence' | 'exactness';

/** Every claim, in a fixed order. */
export const CLAIMS: readonly Claim[] = ['efficiency', 'symmetry', 'dummy', 'linearity', 'convergence', 'exactness'];
