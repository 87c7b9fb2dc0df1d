import { InvalidOptionError } from '../errors.js';
import type { Rng } from './rng.js';

/**
 * A random sequence with exactly the same dinucleotide (letter-pair) counts as `s`, the same
 * first and the same last letter, drawn uniformly among all such sequences (Altschul &
 * Erickson 1985, via a random Eulerian path; the procedure of MEME's fasta-shuffle-letters
 * -kmer 2 and of the "dinucleotide-shuffled reference" used in DeepLIFT/DeepSHAP genomics).
 *
 * Letters are the string's own characters (an `N` is a letter like any other). The
 * sequence is a walk over the multigraph with one edge per adjacent pair; a uniform random
 * Eulerian walk is: (1) a uniform random arborescence of "last exit" edges toward the last
 * letter (Wilson's loop-erased random walks, each vertex's edges weighted by multiplicity),
 * (2) every vertex's other exit edges in uniformly random order, the last-exit edge last,
 * (3) the walk from the first letter (BEST theorem: each arborescence + orders pair is one
 * Eulerian path, and each path arises once).
 *
 * @example
 * dinucleotideShuffle('ACGTTGCA', Rng.fromSeed(1)); // same pair counts, starts with A, ends with A
 */
export function dinucleotideShuffle(s: string, rng: Rng): string {
  if (typeof s !== 'string') throw new InvalidOptionError('sequence', 'a string', s);
  const L = s.length;
  if (L <= 2) return s;
  // letters → vertex ids
  const ids = new Map<string, number>();
  const seq = new Int32Array(L);
  const letters: string[] = [];
  for (let i = 0; i < L; i++) {
    let v = ids.get(s[i]);
    if (v === undefined) {
      v = letters.length;
      ids.set(s[i], v);
      letters.push(s[i]);
    }
    seq[i] = v;
  }
  const V = letters.length;
  // out-edges (successor letters) per vertex, as lists
  const out: number[][] = Array.from({ length: V }, () => []);
  for (let i = 0; i < L - 1; i++) out[seq[i]].push(seq[i + 1]);
  const last = seq[L - 1];
  // (1) Wilson's algorithm: for each vertex with out-edges (except the root), a random walk
  // along uniformly chosen out-edges until the tree is hit; loop-erased by overwriting `next`
  const inTree = new Uint8Array(V);
  inTree[last] = 1;
  const nextEdge = new Int32Array(V).fill(-1); // index into out[v] of v's last-exit edge
  for (let v0 = 0; v0 < V; v0++) {
    if (inTree[v0] || out[v0].length === 0) continue;
    let u = v0;
    while (!inTree[u]) {
      nextEdge[u] = rng.int(out[u].length);
      u = out[u][nextEdge[u]];
    }
    u = v0;
    while (!inTree[u]) {
      inTree[u] = 1;
      u = out[u][nextEdge[u]];
    }
  }
  // (2) other exits in random order, the last-exit edge last
  const order: number[][] = out.map((edges, v) => {
    if (edges.length === 0) return [];
    if (v === last || nextEdge[v] < 0) {
      const e = edges.slice();
      rng.shuffle(e);
      return e;
    }
    const keep = edges[nextEdge[v]];
    const rest = edges.filter((_, i) => i !== nextEdge[v]);
    rng.shuffle(rest);
    rest.push(keep);
    return rest;
  });
  // (3) walk
  const used = new Int32Array(V);
  let u = seq[0];
  let r = letters[u];
  for (let i = 1; i < L; i++) {
    u = order[u][used[u]++];
    r += letters[u];
  }
  return r;
}

/** Counts of each letter pair `ab` in `s` (for checks). */
export function dinucleotideCounts(s: string): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + 1 < s.length; i++) {
    const k = s.slice(i, i + 2);
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}
