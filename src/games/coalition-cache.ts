import { maskKey } from '../sampling/coalitions.js';
import type { Game } from './game.js';

/**
 * Remembers coalition values so an estimator that revisits coalitions (the rounds of
 * `budget: 'auto'`) computes each v(S) once. `evaluations` counts distinct coalitions.
 */
export class CoalitionCache {
  private readonly game: Game;
  private readonly index = new Map<number | string, number>();
  private store: Float64Array;
  private size = 0;

  constructor(game: Game) {
    this.game = game;
    this.store = new Float64Array(1024 * game.nOutputs);
  }

  /** Distinct coalitions computed so far. */
  get evaluations(): number {
    return this.size;
  }

  /** Values (`count × nOutputs`) of the coalitions in `masks`, computing only new ones. */
  async values(masks: Uint8Array, count: number, signal?: AbortSignal): Promise<Float64Array> {
    const n = this.game.nPlayers;
    const nOut = this.game.nOutputs;
    const slot = new Int32Array(count);
    const missing: number[] = [];
    const pending = new Map<number | string, number>();
    for (let s = 0; s < count; s++) {
      const key = maskKey(masks, s * n, n);
      const at = this.index.get(key) ?? pending.get(key);
      if (at !== undefined) slot[s] = at;
      else {
        slot[s] = this.size + missing.length;
        pending.set(key, slot[s]);
        missing.push(s);
      }
    }
    if (missing.length > 0) {
      const sub = new Uint8Array(missing.length * n);
      missing.forEach((s, i) => {
        sub.set(masks.subarray(s * n, (s + 1) * n), i * n);
      });
      const vals = await this.game.values(sub, missing.length, signal);
      const need = (this.size + missing.length) * nOut;
      if (need > this.store.length) {
        const next = new Float64Array(Math.max(need, this.store.length * 2));
        next.set(this.store.subarray(0, this.size * nOut));
        this.store = next;
      }
      this.store.set(vals, this.size * nOut);
      for (const [key, at] of pending) this.index.set(key, at);
      this.size += missing.length;
    }
    const out = new Float64Array(count * nOut);
    for (let s = 0; s < count; s++) out.set(this.store.subarray(slot[s] * nOut, (slot[s] + 1) * nOut), s * nOut);
    return out;
  }
}
