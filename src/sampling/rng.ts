import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';
import { InvalidOptionError } from '../errors.js';

/**
 * A seeded random source (xoroshiro128+ from pure-rand). Every stochastic function in
 * whybox takes one explicitly; nothing reads global random state. Independent streams come
 * from {@link Rng.jump} (2^64 steps apart), never from ad-hoc reseeding.
 */
export class Rng {
  private readonly gen: JumpableRandomGenerator;

  private constructor(gen: JumpableRandomGenerator) {
    this.gen = gen;
  }

  /**
   * A generator for `seed`, any safe integer. The 128-bit state is expanded from the seed's
   * low and high 32 bits by splitmix32, so nearby seeds (and negative ones) start far apart
   * (pure-rand's own `xoroshiro128plus(seed)` state gives similar first draws).
   * @throws {InvalidOptionError} when `seed` is not a safe integer.
   */
  static fromSeed(seed: number): Rng {
    if (!Number.isSafeInteger(seed)) throw new InvalidOptionError('seed', 'a safe integer', seed);
    // two splitmix32 streams, from the low and the (offset) high 32 bits of the seed; the
    // high stream is rotated before the xor so that swapping the halves changes the state
    const lo = splitmix32(seed >>> 0);
    const hi = splitmix32((Math.floor(seed / 0x100000000) | 0) ^ 0x6a09e667);
    const mix = () => {
      const h = hi();
      return lo() ^ ((h << 13) | (h >>> 19));
    };
    const state = [mix(), mix(), mix(), mix()];
    if (!state.some((w) => w !== 0)) state[0] = 1;
    return new Rng(xoroshiro128plusFromState(state));
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  float(): number {
    return uniformFloat64(this.gen);
  }

  /** A uniform integer in [0, n), n ≤ 2^32 (rejection on 32-bit draws: exactly uniform). */
  int(n: number): number {
    if (n > 0x100000000) return uniformInt(this.gen, 0, n - 1);
    const limit = 0x100000000 - (0x100000000 % n);
    let x = this.gen.next() >>> 0;
    while (x >= limit) x = this.gen.next() >>> 0;
    return x % n;
  }

  /** A standard normal variate (Box–Muller). */
  normal(): number {
    let u = this.float();
    while (u === 0) u = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }

  /** Shuffles `a` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: number }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** The generator's 128-bit state (four 32-bit words), to rebuild it elsewhere with {@link Rng.fromState}. */
  state(): number[] {
    return [...this.gen.getState()];
  }

  /**
   * A generator in a state returned by {@link Rng.state} (a worker thread continues the
   * caller's stream exactly).
   * @throws {InvalidOptionError} when `state` is not four 32-bit integers, not all zero.
   */
  static fromState(state: readonly number[]): Rng {
    if (
      !Array.isArray(state) ||
      state.length !== 4 ||
      !state.every((w) => Number.isInteger(w) && w >= -0x80000000 && w <= 0xffffffff) ||
      state.every((w) => w === 0)
    )
      throw new InvalidOptionError('state', 'four 32-bit integers, not all zero (from Rng.state())', state);
    return new Rng(xoroshiro128plusFromState(state));
  }

  /** An independent copy in the same state. */
  clone(): Rng {
    return new Rng(this.gen.clone());
  }

  /** Advances this generator by 2^64 steps and returns a copy of the state it left. */
  split(): Rng {
    const child = new Rng(this.gen.clone());
    this.gen.jump();
    return child;
  }
}

/**
 * One independent stream per index: stream `i` is the base generator jumped `i + 1` times,
 * so the numbers a row gets depend only on the seed and its index — not on which other
 * rows are explained, in what order, or on how many threads.
 *
 * Jumping costs about a microsecond, so reaching stream `i` from the seed costs O(i): for
 * batches explained chunk by chunk at large indices (`firstRowIndex`), the base generator's
 * state is remembered every {@link STREAM_CHECKPOINT} jumps (a few recent seeds), and a
 * later call starts from the nearest checkpoint below its smallest index. The streams are
 * the same either way.
 */
export function indexedStreams(seed: number, indices: ArrayLike<number>): Rng[] {
  const order = Array.from({ length: indices.length }, (_, k) => k).sort((a, b) => indices[a] - indices[b]);
  const out = new Array<Rng>(indices.length);
  if (order.length === 0) {
    Rng.fromSeed(seed); // validates the seed
    return out;
  }
  let checkpoints = CHECKPOINTS.get(seed);
  if (!checkpoints) {
    checkpoints = [Rng.fromSeed(seed)];
    CHECKPOINTS.set(seed, checkpoints);
    if (CHECKPOINTS.size > CHECKPOINT_SEEDS) CHECKPOINTS.delete(CHECKPOINTS.keys().next().value as number);
  }
  // the base after k·STREAM_CHECKPOINT splits is checkpoints[k]; stream i needs i + 1 splits
  const first = indices[order[0]] + 1;
  const c = Math.min(checkpoints.length - 1, Math.floor(first / STREAM_CHECKPOINT));
  const base = checkpoints[c].clone();
  let splits = c * STREAM_CHECKPOINT;
  for (const k of order) {
    while (splits < indices[k] + 1) {
      base.split();
      splits++;
      if (splits % STREAM_CHECKPOINT === 0 && splits / STREAM_CHECKPOINT === checkpoints.length)
        checkpoints.push(base.clone());
    }
    out[k] = base.clone();
  }
  return out;
}

/** Jumps between remembered states of {@link indexedStreams}' base generator. */
export const STREAM_CHECKPOINT = 1024;
/** Seeds whose checkpoints are kept (the most recent first used). */
const CHECKPOINT_SEEDS = 8;
const CHECKPOINTS = new Map<number, Rng[]>();

/** A fresh seed from the platform's cryptographic source, for runs where none was given. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/** splitmix32: a 32-bit mixing sequence used to expand a seed into generator state. */
function splitmix32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let t = a ^ (a >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    return t ^ (t >>> 15);
  };
}
