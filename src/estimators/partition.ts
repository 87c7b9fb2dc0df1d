import type { Hierarchy } from '../data/hierarchy.js';
import { balancedHierarchy, leavesOf } from '../data/hierarchy.js';
import { BudgetError, InvalidOptionError, ShapeError, throwIfAborted } from '../errors.js';
import type { Game } from '../games/game.js';
import { edgeMasks } from '../games/game.js';
import type { EstimatorContext, ShapleyEstimate } from './estimate.js';
import { resolveBudget } from './kernel.js';

/** Options of {@link partitionShap}. */
export interface PartitionShapOptions {
  /** Most coalition values per row, including ∅ and N. @defaultValue 2 · nPlayers + 2048 */
  budget?: number;
  /** The hierarchy over the players. @defaultValue {@link balancedHierarchy} (contiguous halves) */
  hierarchy?: Hierarchy;
  /** Coalitions evaluated per call of the game. @defaultValue 512 */
  batch?: number;
  /**
   * Sampled orders instead of every context: `orders` independent passes, each ordering the
   * children of every node it expands uniformly at random (a child's context = the siblings
   * before it). A binary node then costs 1 coalition per pass instead of 2 per context, and
   * the contexts do not double at each level, so one branch is resolved to single players in
   * about depth coalitions per pass. Unbiased for the Owen/Winter value (its definition is the
   * mean over such orders); efficiency is exact in every pass. @defaultValue undefined (every
   * context: the exact Owen values when the budget covers the tree)
   */
  orders?: number;
}

/** A round of batched expansions takes items with priority ≥ this fraction of the top one. */
const ROUND_FRACTION = 0.5;

/** Most children of one node (expanding a node of k children costs 2^k − 2 coalitions). */
export const MAX_PARTITION_CHILDREN = 16;

/**
 * Owen values (Winter values for deeper trees) of a hierarchy of players, computed top-down
 * as shap's PartitionExplainer does, within a budget of coalition values.
 *
 * A node T, reached in context S (the coalition of players outside T that are present) with
 * weight w, has the marginal Δ = v(S ∪ T) − v(S). Expanding T splits Δ among its children
 * by the Shapley value of the quotient game of its k children in context S: for a child c
 * and every set U of its siblings, the item (c, context S ∪ U, weight w · |U|!(k−|U|−1)!/k!)
 * is queued. Leaves take w · Δ. The queue is worked largest |w · Δ| first; when the budget
 * runs out, each unexpanded node's w · Δ is shared equally by its leaves (shap's
 * `lower_credit`). With budget for the whole tree the values are the exact Owen/Winter values
 * (for a single level of singletons: the Shapley values). Efficiency holds at any budget.
 *
 * Cost: a binary node costs 2 coalitions per context; a node at depth d is reached in up to
 * 2^d contexts, so resolving one leaf path of a balanced tree over L players costs
 * about 2^(depth+1) ≈ 2L coalitions, and the whole tree ≈ (2/3) L² — the budget decides how
 * deep the important branches are resolved.
 *
 * @throws {BudgetError} when a node has more than {@link MAX_PARTITION_CHILDREN} children.
 */
export async function partitionShap(
  game: Game,
  options: PartitionShapOptions,
  ctx: EstimatorContext,
): Promise<ShapleyEstimate> {
  const n = game.nPlayers;
  const nOut = game.nOutputs;
  const budget = resolveBudget(options.budget, n);
  const h = options.hierarchy ?? balancedHierarchy(n);
  if (h.nPlayers !== n) throw new ShapeError(`the hierarchy covers ${h.nPlayers} players but the game has ${n}`);
  const batch = options.batch ?? 512;
  if (!Number.isInteger(batch) || batch < 1) throw new InvalidOptionError('batch', 'a positive integer', batch);
  const leaves = leavesOf(h);
  const root = n + h.children.length - 1;
  for (const kids of h.children)
    if (kids.length > MAX_PARTITION_CHILDREN)
      throw new BudgetError(
        `a node of the hierarchy has ${kids.length} children; expanding it needs 2^${kids.length} coalitions (at most ${MAX_PARTITION_CHILDREN} children per node): use a deeper hierarchy`,
      );

  const edges = await game.values(edgeMasks(n), 2, ctx.signal);
  let evaluations = 2;
  const f0 = edges.slice(0, nOut);
  const f1 = edges.slice(nOut, 2 * nOut);
  const nodeValue = new Float64Array((n + h.children.length) * nOut);
  const heap = new ItemHeap();
  const orders = options.orders;
  if (orders !== undefined && (!Number.isInteger(orders) || orders < 1))
    throw new InvalidOptionError('orders', 'a positive integer (sampled passes)', orders);
  const passes = orders ?? 1;
  for (let m = 0; m < passes; m++)
    heap.push({ node: root, context: new Uint8Array(n), f0, f1, weight: 1 / passes }, priority(f0, f1, 1 / passes));
  let complete = true;
  const shapleyWeight = (k: number) => {
    // w[u] = u!(k−u−1)!/k!
    const w = new Float64Array(k);
    for (let u = 0; u < k; u++) w[u] = 1 / (k * binom(k - 1, u));
    return w;
  };
  const weightsByK = new Map<number, Float64Array>();

  while (heap.size > 0) {
    throwIfAborted(ctx.signal);
    // gather a batch of expansions in priority order
    const jobs: { item: Item; kids: readonly number[]; at: number; perm?: Int32Array }[] = [];
    let rows = 0;
    let stopped = false;
    // a round expands items close to the top priority only (a batch must not spend the
    // budget on negligible branches just because they are in the queue)
    const top = heap.peekKey();
    while (heap.size > 0 && rows < batch) {
      if (rows > 0 && heap.peekKey() < ROUND_FRACTION * top) break;
      const item = heap.peek();
      if (item.node < n) {
        heap.pop();
        for (let o = 0; o < nOut; o++) nodeValue[item.node * nOut + o] += item.weight * (item.f1[o] - item.f0[o]);
        continue;
      }
      const kids = h.children[item.node - n];
      const cost = kids.length === 1 ? 0 : orders !== undefined ? kids.length - 1 : 2 ** kids.length - 2;
      if (evaluations + rows + cost > budget) {
        stopped = true;
        break;
      }
      heap.pop();
      if (kids.length === 1) {
        heap.push({ ...item, node: kids[0] }, priority(item.f0, item.f1, item.weight));
        continue;
      }
      const perm =
        orders !== undefined ? ctx.rng.shuffle(Int32Array.from({ length: kids.length }, (_, i) => i)) : undefined;
      jobs.push({ item, kids, at: rows, perm });
      rows += cost;
    }
    if (rows > 0) {
      const masks = new Uint8Array(rows * n);
      for (const { item, kids, at, perm } of jobs) {
        const k = kids.length;
        if (perm) {
          // prefixes of the sampled order: context ∪ first i children, i = 1..k−1
          const row = item.context.slice();
          for (let i = 0; i < k - 1; i++) {
            for (const p of leaves[kids[perm[i]]]) row[p] = 1;
            masks.set(row, (at + i) * n);
          }
          continue;
        }
        for (let u = 1; u < 2 ** k - 1; u++) {
          const row = masks.subarray((at + u - 1) * n, (at + u) * n);
          row.set(item.context);
          for (let j = 0; j < k; j++) if ((u >>> j) & 1) for (const p of leaves[kids[j]]) row[p] = 1;
        }
      }
      const values = await game.values(masks, rows, ctx.signal);
      evaluations += rows;
      for (const { item, kids, at, perm } of jobs) {
        const k = kids.length;
        if (perm) {
          const context = item.context.slice();
          let before: ArrayLike<number> = item.f0;
          for (let i = 0; i < k; i++) {
            const after = i === k - 1 ? item.f1 : values.subarray((at + i) * nOut, (at + i + 1) * nOut);
            heap.push(
              {
                node: kids[perm[i]],
                context: context.slice(),
                f0: Float64Array.from(before),
                f1: Float64Array.from(after),
                weight: item.weight,
              },
              priority(before, after, item.weight),
            );
            for (const p of leaves[kids[perm[i]]]) context[p] = 1;
            before = after;
          }
          continue;
        }
        const full = 2 ** k - 1;
        const vOf = (u: number) =>
          u === 0 ? item.f0 : u === full ? item.f1 : values.subarray((at + u - 1) * nOut, (at + u) * nOut);
        let w = weightsByK.get(k);
        if (!w) {
          w = shapleyWeight(k);
          weightsByK.set(k, w);
        }
        for (let j = 0; j < k; j++) {
          const bit = 1 << j;
          for (let u = 0; u <= full; u++) {
            if (u & bit) continue;
            const size = popcount(u);
            const weight = item.weight * w[size];
            const a = vOf(u);
            const b = vOf(u | bit);
            const context = item.context.slice();
            for (let i = 0; i < k; i++) if ((u >>> i) & 1) for (const p of leaves[kids[i]]) context[p] = 1;
            heap.push(
              { node: kids[j], context, f0: Float64Array.from(a), f1: Float64Array.from(b), weight },
              priority(a, b, weight),
            );
          }
        }
      }
    }
    ctx.onProgress?.({ done: evaluations, total: budget });
    if (stopped) {
      complete = false;
      break;
    }
  }
  // unexpanded nodes keep w · Δ
  while (heap.size > 0) {
    const item = heap.pop();
    if (item.node >= n) complete = false;
    for (let o = 0; o < nOut; o++) nodeValue[item.node * nOut + o] += item.weight * (item.f1[o] - item.f0[o]);
  }
  // lower credit: a node's value is shared equally by its leaves
  const values = new Float64Array(n * nOut);
  for (let node = 0; node < leaves.length; node++) {
    const ls = leaves[node];
    for (let o = 0; o < nOut; o++) {
      const v = nodeValue[node * nOut + o];
      if (v === 0) continue;
      const share = v / ls.length;
      for (const p of ls) values[p * nOut + o] += share;
    }
  }
  return { values, baseValue: f0, fullValue: f1, evaluations, exact: complete && orders === undefined };
}

interface Item {
  node: number;
  context: Uint8Array;
  f0: Float64Array;
  f1: Float64Array;
  weight: number;
}

function priority(a: ArrayLike<number>, b: ArrayLike<number>, w: number): number {
  let m = 0;
  for (let o = 0; o < a.length; o++) m = Math.max(m, Math.abs(b[o] - a[o]));
  return m * w;
}

function popcount(x: number): number {
  let c = 0;
  while (x) {
    x &= x - 1;
    c++;
  }
  return c;
}

function binom(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/** A max-heap of items by priority; ties in insertion order (deterministic). */
class ItemHeap {
  private readonly items: Item[] = [];
  private readonly keys: number[] = [];
  private readonly order: number[] = [];
  private counter = 0;
  get size(): number {
    return this.items.length;
  }
  peek(): Item {
    return this.items[0];
  }
  peekKey(): number {
    return this.keys[0];
  }
  push(item: Item, key: number): void {
    this.items.push(item);
    this.keys.push(key);
    this.order.push(this.counter++);
    let i = this.items.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): Item {
    const top = this.items[0];
    const last = this.items.length - 1;
    this.swap(0, last);
    this.items.pop();
    this.keys.pop();
    this.order.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.items.length && this.before(l, m)) m = l;
      if (r < this.items.length && this.before(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
  private before(a: number, b: number): boolean {
    return this.keys[a] > this.keys[b] || (this.keys[a] === this.keys[b] && this.order[a] < this.order[b]);
  }
  private swap(a: number, b: number): void {
    [this.items[a], this.items[b]] = [this.items[b], this.items[a]];
    [this.keys[a], this.keys[b]] = [this.keys[b], this.keys[a]];
    [this.order[a], this.order[b]] = [this.order[b], this.order[a]];
  }
}
