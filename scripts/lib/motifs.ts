/**
 * Synthetic DNA with planted motifs, and a motif-scanner ONNX model from known weights, so
 * that the truth of a sequence attribution is known exactly.
 *
 * - Motif A = GATAAG, motif B = CACGTG (6-mers). Backgrounds are i.i.d. uniform bases
 *   redrawn until they hold no exact copy of either motif.
 * - The scanner: one-hot [batch, L, 4] (A, C, G, T) → Transpose → Conv1D with 2 filters =
 *   the log-odds position weight matrices of A and B (consensus probability 0.85, the other
 *   bases 0.05, against a uniform 0.25 background: +1.224 / −1.609), bias −6 → ReLU → max
 *   over positions (a+, b+) → logits [6·a+ − 4, 4·(a+ + b+) − 7.5] → Sigmoid. Output
 *   `probabilities` [batch, 2]:
 *   - output 0 ("single"): high (0.98) when motif A is present anywhere (an exact match scores
 *     7.34 − 6 = 1.34; one mismatch scores −1.49 → 0), else 0.018;
 *   - output 1 ("pair"): high (0.96) only when A and B are both present (one alone: 0.105).
 */
import { Rng } from '../../src/sampling/rng.js';
import { buildModel, node, tensor, valueInfo } from './onnx-builder.js';

export const BASES = 'ACGT';
export const MOTIF_A = 'GATAAG';
export const MOTIF_B = 'CACGTG';
/** Log-odds weights of the consensus base and of the others. */
export const PWM_MATCH = Math.log(0.85 / 0.25);
export const PWM_MISMATCH = Math.log(0.05 / 0.25);
export const CONV_BIAS = -6;

/** A labelled synthetic sequence and where its motifs were planted (-1 = absent). */
export interface MotifSequence {
  readonly sequence: string;
  /** 1 when output 0 / output 1 should fire. */
  readonly single: 0 | 1;
  readonly pair: 0 | 1;
  readonly startA: number;
  readonly startB: number;
}

/** Options of {@link generateMotifSequences}. */
export interface MotifDataOptions {
  length: number;
  count: number;
  seed: number;
  /** 'single': half carry A; 'pair': a quarter carry A and B, a quarter A only, a quarter B only, a quarter none. */
  kind: 'single' | 'pair';
}

/** Seeded sequences with planted motifs (same options → same sequences). */
export function generateMotifSequences(options: MotifDataOptions): MotifSequence[] {
  const { length: L, count, seed, kind } = options;
  if (L < 2 * MOTIF_A.length + 1) throw new Error(`length must be at least ${2 * MOTIF_A.length + 1}`);
  const rng = Rng.fromSeed(seed);
  const out: MotifSequence[] = [];
  const random = () => Array.from({ length: L }, () => BASES[rng.int(4)]).join('');
  const plant = (s: string, m: string, at: number) => s.slice(0, at) + m + s.slice(at + m.length);
  while (out.length < count) {
    const i = out.length;
    const wantA = kind === 'single' ? i % 2 === 0 : i % 4 === 0 || i % 4 === 1;
    const wantB = kind === 'pair' && (i % 4 === 0 || i % 4 === 2);
    let s = random();
    if (count1(s, MOTIF_A) + count1(s, MOTIF_B) > 0) continue;
    const startA = wantA ? rng.int(L - MOTIF_A.length + 1) : -1;
    let startB = -1;
    if (wantB) {
      // B does not overlap A
      for (let tries = 0; tries < 100 && startB < 0; tries++) {
        const b = rng.int(L - MOTIF_B.length + 1);
        if (startA < 0 || b + MOTIF_B.length <= startA || b >= startA + MOTIF_A.length) startB = b;
      }
      if (startB < 0) continue;
    }
    if (startA >= 0) s = plant(s, MOTIF_A, startA);
    if (startB >= 0) s = plant(s, MOTIF_B, startB);
    if (count1(s, MOTIF_A) !== (wantA ? 1 : 0) || count1(s, MOTIF_B) !== (wantB ? 1 : 0)) continue;
    out.push({
      sequence: s,
      single: wantA ? 1 : 0,
      pair: wantA && wantB ? 1 : 0,
      startA,
      startB,
    });
  }
  return out;
}

function count1(s: string, m: string): number {
  let n = 0;
  for (let i = s.indexOf(m); i >= 0; i = s.indexOf(m, i + 1)) n++;
  return n;
}

/** Conv weights [2, 4, 6] of the two PWMs (filter, channel, tap). */
export function scannerWeights(): Float32Array {
  const w = new Float32Array(2 * 4 * 6);
  [MOTIF_A, MOTIF_B].forEach((m, f) => {
    for (let k = 0; k < 6; k++)
      for (let c = 0; c < 4; c++) w[(f * 4 + c) * 6 + k] = BASES[c] === m[k] ? PWM_MATCH : PWM_MISMATCH;
  });
  return w;
}

/** The scanner as ONNX bytes for sequences of length L (input [batch, L, 4] for NLC, [batch, 4, L] for NCL). */
export function scannerModel(L: number, layout: 'NLC' | 'NCL' = 'NLC'): Uint8Array {
  const nlc = layout === 'NLC';
  return buildModel({
    name: 'motif_scanner',
    docString: `whybox motif scanner: PWM conv for ${MOTIF_A} (output 0) and ${MOTIF_A}+${MOTIF_B} (output 1), L=${L}`,
    inputs: [valueInfo('dna', 'float', nlc ? ['batch', L, 4] : ['batch', 4, L])],
    outputs: [valueInfo('probabilities', 'float', ['batch', 2])],
    initializers: [
      tensor('conv_W', [2, 4, 6], scannerWeights()),
      tensor('conv_B', [2], Float32Array.of(CONV_BIAS, CONV_BIAS)),
      tensor('head_W', [2, 2], Float32Array.of(6, 4, 0, 4)),
      tensor('head_b', [2], Float32Array.of(-4, -7.5)),
    ],
    nodes: [
      nlc ? node('Transpose', ['dna'], ['dna_t'], { perm: { ints: [0, 2, 1] } }) : node('Identity', ['dna'], ['dna_t']),
      node('Conv', ['dna_t', 'conv_W', 'conv_B'], ['conv'], {
        kernel_shape: { ints: [6] },
        pads: { ints: [0, 0] },
        strides: { ints: [1] },
      }),
      node('Relu', ['conv'], ['conv_relu']),
      node('ReduceMax', ['conv_relu'], ['pooled'], { axes: { ints: [2] }, keepdims: { int: 0 } }),
      node('MatMul', ['pooled', 'head_W'], ['logits_']),
      node('Add', ['logits_', 'head_b'], ['logits']),
      node('Sigmoid', ['logits'], ['probabilities']),
    ],
  });
}

/** The scanner computed in float64 JavaScript (the reference the ONNX model is checked against). */
export function scannerReference(seq: string): [number, number] {
  const w = scannerWeights();
  const L = seq.length;
  const best = [0, 0];
  for (let f = 0; f < 2; f++)
    for (let p = 0; p + 6 <= L; p++) {
      let s = CONV_BIAS;
      for (let k = 0; k < 6; k++) s += w[(f * 4 + BASES.indexOf(seq[p + k])) * 6 + k];
      best[f] = Math.max(best[f], s);
    }
  const sig = (z: number) => 1 / (1 + Math.exp(-z));
  return [sig(6 * best[0] - 4), sig(4 * (best[0] + best[1]) - 7.5)];
}

/** FASTA text of sequences with ids and labels in the header. */
export function toFasta(seqs: readonly MotifSequence[], prefix: string): string {
  return seqs
    .map(
      (s, i) =>
        `>${prefix}${i + 1} single=${s.single} pair=${s.pair} A=${s.startA >= 0 ? s.startA + 1 : '-'} B=${s.startB >= 0 ? s.startB + 1 : '-'}\n${s.sequence}\n`,
    )
    .join('');
}
