import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/**
 * A small seeded random source for the generator scripts.
 *
 * Wraps pure-rand's xoroshiro128+ (a mutable generator in pure-rand 8) so that every draw
 * is a pure function of the seed and the sequence of calls: running a script twice gives
 * byte-identical outputs.
 */
export interface Random {
  /** Uniform in [0, 1), a multiple of 2^-53. */
  uniform(): number;
  /** Uniform integer in [from, to] (both included). */
  int(from: number, to: number): number;
  /** Standard normal N(0, 1) (Box–Muller, one value per two uniforms). */
  normal(): number;
  /** Index drawn with probability proportional to `weights[i]` (non-negative, not all 0). */
  categorical(weights: readonly number[]): number;
  /** Fisher–Yates shuffle of `items` in place; returns `items`. */
  shuffle<T>(items: T[]): T[];
}

/** Raw outputs discarded after seeding (see {@link createRandom}). */
const WARM_UP = 64;

/**
 * Creates a {@link Random} seeded with a 32-bit integer.
 *
 * @example
 * const rng = createRandom(42);
 * const z = rng.normal();
 */
export function createRandom(seed: number): Random {
  const gen = xoroshiro128plus(seed);
  // xoroshiro128plus(seed) starts from the low-entropy state (-1, ~seed, seed, 0): its first
  // outputs are nearly the same for every seed (the first uniform is ~1.0). Discard a few.
  for (let i = 0; i < WARM_UP; i++) gen.next();
  const uniform = (): number => uniformFloat64(gen);
  return {
    uniform,
    int(from, to) {
      // floor(u * n) has a bias of at most n / 2^53: irrelevant for the small ranges used here.
      return from + Math.floor(uniform() * (to - from + 1));
    },
    normal() {
      // 1 - u is in (0, 1], so the logarithm is finite.
      const u1 = 1 - uniform();
      const u2 = uniform();
      return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    },
    categorical(weights) {
      let total = 0;
      for (const w of weights) total += w;
      if (!(total > 0)) throw new Error('categorical: weights must contain a positive value');
      let u = uniform() * total;
      for (let i = 0; i < weights.length; i++) {
        u -= weights[i];
        if (u < 0) return i;
      }
      // Rounding can leave u marginally >= 0 after the loop: return the last positive weight.
      for (let i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i;
      return weights.length - 1;
    },
    shuffle(items) {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(uniform() * (i + 1));
        const tmp = items[i];
        items[i] = items[j];
        items[j] = tmp;
      }
      return items;
    },
  };
}
