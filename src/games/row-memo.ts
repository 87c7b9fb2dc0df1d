/**
 * Open-addressing hash map from (background row, coalition bit set) to a slot number.
 *
 * The masked row for background row b and coalition S depends only on b and S ∩ D_b (the
 * players where b differs from the explained row), so an interventional game memoises model
 * outputs under that key and never sends the same row to the model twice. Keys live in
 * typed arrays; a lookup hashes `words + 1` integers and probes linearly.
 * @internal
 */
export class RowMemo {
  private readonly words: number;
  private cap: number;
  private mask: number;
  private bgs: Int32Array;
  private keys: Uint32Array;
  private slots: Int32Array;
  private count = 0;

  constructor(words: number, initialCapacity = 1 << 12) {
    this.words = words;
    this.cap = nextPow2(Math.max(16, initialCapacity));
    this.mask = this.cap - 1;
    this.bgs = new Int32Array(this.cap).fill(-1);
    this.keys = new Uint32Array(this.cap * words);
    this.slots = new Int32Array(this.cap);
  }

  get size(): number {
    return this.count;
  }

  /**
   * The slot stored for (b, key), or — when absent — stores `newSlot` and returns it.
   * `key` is read from `keyArr[off .. off+words-1]`.
   */
  getOrAdd(b: number, keyArr: Uint32Array, off: number, newSlot: number): number {
    if ((this.count + 1) * 2 > this.cap) this.grow();
    const W = this.words;
    let i = this.hash(b, keyArr, off) & this.mask;
    for (;;) {
      const e = this.bgs[i];
      if (e === -1) {
        this.bgs[i] = b;
        for (let w = 0; w < W; w++) this.keys[i * W + w] = keyArr[off + w];
        this.slots[i] = newSlot;
        this.count++;
        return newSlot;
      }
      if (e === b) {
        let same = true;
        for (let w = 0; w < W; w++)
          if (this.keys[i * W + w] !== keyArr[off + w]) {
            same = false;
            break;
          }
        if (same) return this.slots[i];
      }
      i = (i + 1) & this.mask;
    }
  }

  private hash(b: number, keyArr: Uint32Array, off: number): number {
    let h = Math.imul(b + 0x165667b1, 0x9e3779b1);
    for (let w = 0; w < this.words; w++) {
      h = Math.imul(h ^ keyArr[off + w], 0x85ebca77);
      h ^= h >>> 15;
    }
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }

  private grow(): void {
    const { bgs, keys, slots, cap, words } = this;
    this.cap = cap * 2;
    this.mask = this.cap - 1;
    this.bgs = new Int32Array(this.cap).fill(-1);
    this.keys = new Uint32Array(this.cap * words);
    this.slots = new Int32Array(this.cap);
    this.count = 0;
    for (let i = 0; i < cap; i++) if (bgs[i] !== -1) this.getOrAdd(bgs[i], keys, i * words, slots[i]);
  }
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
