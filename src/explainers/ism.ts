import type { SequenceLayout } from '../data/sequences.js';
import { columnOf } from '../data/sequences.js';
import { InvalidOptionError, ShapeError, throwIfAborted } from '../errors.js';
import type { Model } from '../models/model.js';

/** One-hot rows as {@link inSilicoMutagenesis} needs them. */
export interface OneHotInput {
  readonly data: Float64Array;
  readonly nRows: number;
  /** Sequence length L. */
  readonly length: number;
  /** Alphabet size A. */
  readonly channels: number;
  readonly layout: SequenceLayout;
}

/** Options of {@link inSilicoMutagenesis}. */
export interface IsmOptions {
  /** Mutant rows per model call. @defaultValue 4096 */
  batchRows?: number;
  signal?: AbortSignal;
  /** Called after each model call with rows done / rows in total. */
  onProgress?: (p: { done: number; total: number }) => void;
}

/** What in-silico mutagenesis measured. */
export interface IsmResult {
  /** f(x), `nRows × nOutputs`. */
  readonly predictions: Float64Array;
  /**
   * The hypothetical attribution matrix `nRows × L × A × nOutputs`:
   * Δ(p, b) = f(x with base b at p) − f(x), mean-centred over the A bases at each position.
   */
  readonly hypothetical: Float64Array;
  /**
   * The per-position track `nRows × L × nOutputs`: the hypothetical matrix projected onto
   * the observed one-hot (Σ_b x(p, b) · H(p, b)), so a base that the model needs scores high
   * and a base whose mutation would help scores low.
   */
  readonly track: Float64Array;
  /** Rows sent to the model (the rows themselves and every mutant). */
  readonly modelRows: number;
}

/**
 * In-silico mutagenesis (saturation mutagenesis; Alipanahi et al. 2015, Zhou & Troyanskaya
 * 2015): every position × every alternative letter is substituted and the change of every
 * model output recorded — (A − 1) · L mutant rows per sequence (A · L at ambiguous positions
 * such as N, where every pure letter is tried), sent in batches.
 *
 * The L × A matrix of changes (0 for the observed letter) is mean-centred per position
 * across the A letters (the convention of DeepLIFT / TF-MoDISco "hypothetical" scores,
 * which removes the part of a position's effect that any substitution would have), then
 * projected onto the observed letter for the per-position track.
 *
 * @throws {ShapeError} when the rows do not match L · A or the model's inputs.
 */
export async function inSilicoMutagenesis(model: Model, x: OneHotInput, options: IsmOptions = {}): Promise<IsmResult> {
  const { nRows, length: L, channels: A, layout } = x;
  const d = L * A;
  if (model.nInputs !== d)
    throw new ShapeError(`the model takes ${model.nInputs} inputs but ${L} positions × ${A} letters make ${d}`);
  if (x.data.length !== nRows * d)
    throw new ShapeError(`one-hot rows hold ${x.data.length} values; ${nRows} rows of ${d} need ${nRows * d}`);
  const batchRows = options.batchRows ?? 4096;
  if (!Number.isInteger(batchRows) || batchRows < 1)
    throw new InvalidOptionError('batchRows', 'a positive integer', batchRows);
  const nOut = model.outputNames.length;
  const predictions = await model.predict(x.data, nRows, options.signal);
  const hypothetical = new Float64Array(nRows * L * A * nOut);
  const track = new Float64Array(nRows * L * nOut);
  let modelRows = nRows;
  // mutants of every row: (position, letter) pairs where the letter differs from x
  const plans: Int32Array[] = [];
  let total = 0;
  for (let r = 0; r < nRows; r++) {
    const row = x.data.subarray(r * d, (r + 1) * d);
    const pairs: number[] = [];
    for (let p = 0; p < L; p++)
      for (let c = 0; c < A; c++) if (row[columnOf(layout, L, A, p, c)] !== 1) pairs.push(p * A + c);
    plans.push(Int32Array.from(pairs));
    total += pairs.length;
  }
  const Buf = model.inputType === 'float32' ? Float32Array : Float64Array;
  const chunk = new Buf(Math.min(batchRows, Math.max(1, total)) * d);
  const delta = new Float64Array(L * A * nOut);
  let done = 0;
  for (let r = 0; r < nRows; r++) {
    const row = x.data.subarray(r * d, (r + 1) * d);
    const pairs = plans[r];
    const fx = predictions.subarray(r * nOut, (r + 1) * nOut);
    delta.fill(0);
    for (let start = 0; start < pairs.length; start += batchRows) {
      throwIfAborted(options.signal);
      const m = Math.min(batchRows, pairs.length - start);
      for (let i = 0; i < m; i++) {
        const pc = pairs[start + i];
        const p = Math.floor(pc / A);
        const target = chunk.subarray(i * d, (i + 1) * d);
        target.set(row);
        for (let c = 0; c < A; c++) target[columnOf(layout, L, A, p, c)] = 0;
        target[columnOf(layout, L, A, p, pc % A)] = 1;
      }
      const out = await model.predict(chunk.subarray(0, m * d), m, options.signal);
      for (let i = 0; i < m; i++) {
        const pc = pairs[start + i];
        for (let o = 0; o < nOut; o++) delta[pc * nOut + o] = out[i * nOut + o] - fx[o];
      }
      modelRows += m;
      done += m;
      options.onProgress?.({ done, total });
    }
    for (let p = 0; p < L; p++) {
      for (let o = 0; o < nOut; o++) {
        let mean = 0;
        for (let c = 0; c < A; c++) mean += delta[(p * A + c) * nOut + o];
        mean /= A;
        let proj = 0;
        for (let c = 0; c < A; c++) {
          const h = delta[(p * A + c) * nOut + o] - mean;
          hypothetical[((r * L + p) * A + c) * nOut + o] = h;
          proj += row[columnOf(layout, L, A, p, c)] * h;
        }
        track[(r * L + p) * nOut + o] = proj;
      }
    }
  }
  return { predictions, hypothetical, track, modelRows };
}
