import { InvalidOptionError } from '../errors.js';

/** Nodes and weights of a quadrature rule (same length, nodes ascending). */
export interface QuadratureRule {
  readonly nodes: Float64Array;
  readonly weights: Float64Array;
}

/** Most nodes {@link gaussLegendre} computes (Newton on P_n stays accurate far beyond this). */
export const GAUSS_LEGENDRE_MAX_NODES = 4096;

const cache = new Map<number, QuadratureRule>();

/**
 * The n-point Gauss–Legendre rule on [−1, 1]: ∫ f ≈ Σ_k w_k f(t_k), exact for every
 * polynomial of degree ≤ 2n − 1. Nodes are the roots of the Legendre polynomial P_n, found by
 * Newton's method from Tricomi's initial guess cos(π(k − 1/4)/(n + 1/2)); weights
 * w_k = 2 / ((1 − t_k²) P_n'(t_k)²). The rule is symmetric and its weights sum to 2.
 *
 * @throws {InvalidOptionError} when n is not an integer in 1..{@link GAUSS_LEGENDRE_MAX_NODES}.
 * @example
 * gaussLegendre(2); // nodes ±1/√3, weights 1, 1
 */
export function gaussLegendre(n: number): QuadratureRule {
  if (!Number.isInteger(n) || n < 1 || n > GAUSS_LEGENDRE_MAX_NODES)
    throw new InvalidOptionError('steps', `an integer in 1..${GAUSS_LEGENDRE_MAX_NODES} for Gauss–Legendre`, n);
  const hit = cache.get(n);
  if (hit) return hit;
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  const half = Math.floor((n + 1) / 2);
  for (let k = 1; k <= half; k++) {
    let t = Math.cos((Math.PI * (k - 0.25)) / (n + 0.5));
    let dp = 1;
    for (let iter = 0; iter < 100; iter++) {
      // P_n(t) and P_n'(t) by the three-term recurrence
      let p0 = 1;
      let p1 = t;
      for (let j = 2; j <= n; j++) {
        const p2 = ((2 * j - 1) * t * p1 - (j - 1) * p0) / j;
        p0 = p1;
        p1 = p2;
      }
      const pn = n === 1 ? t : p1;
      const pm = n === 1 ? 1 : p0;
      dp = (n * (t * pn - pm)) / (t * t - 1);
      const dt = pn / dp;
      t -= dt;
      if (Math.abs(dt) <= 1e-16 * Math.max(1, Math.abs(t))) break;
    }
    // one more derivative evaluation at the converged root, for the weight
    let p0 = 1;
    let p1 = t;
    for (let j = 2; j <= n; j++) {
      const p2 = ((2 * j - 1) * t * p1 - (j - 1) * p0) / j;
      p0 = p1;
      p1 = p2;
    }
    dp = n === 1 ? 1 : (n * (t * p1 - p0)) / (t * t - 1);
    const w = 2 / ((1 - t * t) * dp * dp);
    // k-th largest root at the top, mirrored at the bottom (the middle root of odd n is 0)
    nodes[n - k] = t;
    nodes[k - 1] = -t;
    weights[n - k] = w;
    weights[k - 1] = w;
  }
  if (n % 2 === 1) nodes[half - 1] = 0;
  const rule = { nodes, weights };
  cache.set(n, rule);
  return rule;
}

/**
 * The n-point Gauss–Legendre rule mapped to [0, 1]: nodes (t + 1)/2, weights w/2 (sum 1).
 * @throws {InvalidOptionError} as {@link gaussLegendre}.
 */
export function gaussLegendreUnit(n: number): QuadratureRule {
  const { nodes, weights } = gaussLegendre(n);
  return { nodes: nodes.map((t) => (t + 1) / 2), weights: weights.map((w) => w / 2) };
}
