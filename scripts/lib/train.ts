/**
 * Plain-TypeScript training of a small ReLU MLP classifier in float64 (softmax
 * cross-entropy, Adam, minibatches, L2 weight decay), plus the metrics reported for it.
 * Deterministic for a given {@link Random}.
 */
import { type Dense, denseLayer } from './nn.js';
import type { Random } from './random.js';

/** Options of {@link trainMlp}. */
export interface TrainOptions {
  /** Layer sizes, input first and number of classes last, e.g. [61, 64, 32, 2]. */
  readonly sizes: readonly number[];
  readonly epochs: number;
  readonly batchSize: number;
  /** Adam step size. */
  readonly learningRate: number;
  /** L2 penalty `lambda / 2 * |W|^2` on the weights (not the biases), added to the gradient. */
  readonly weightDecay: number;
  /** Called after each epoch with the mean training loss (without the penalty). */
  readonly onEpoch?: (epoch: number, loss: number) => void;
}

/** Trained parameters in float64, `w[l]` row-major `[sizes[l], sizes[l + 1]]`. */
export interface MlpParams {
  readonly sizes: readonly number[];
  readonly w: readonly Float64Array[];
  readonly b: readonly Float64Array[];
}

/**
 * Trains an MLP with ReLU hidden layers and a softmax output on `n` rows of `x` (flat,
 * row-major, already standardised) with integer class labels `y`.
 *
 * Initialisation is He-normal for the weights and zero for the biases; each epoch visits the
 * rows in a new random order.
 */
export function trainMlp(x: Float64Array, y: ArrayLike<number>, n: number, opts: TrainOptions, rng: Random): MlpParams {
  const { sizes, batchSize, learningRate, weightDecay } = opts;
  const nLayers = sizes.length - 1;
  const dIn = sizes[0];
  if (x.length !== n * dIn) throw new Error(`trainMlp: ${x.length} values for ${n} rows of ${dIn}`);
  const w = sizes.slice(1).map((out, l) => {
    const std = Math.sqrt(2 / sizes[l]);
    return Float64Array.from({ length: sizes[l] * out }, () => rng.normal() * std);
  });
  const b = sizes.slice(1).map((out) => new Float64Array(out));
  const params = [...w, ...b];
  const grads = params.map((p) => new Float64Array(p.length));
  const m1 = params.map((p) => new Float64Array(p.length));
  const m2 = params.map((p) => new Float64Array(p.length));
  const beta1 = 0.9;
  const beta2 = 0.999;
  const eps = 1e-8;
  let step = 0;

  // Activations per layer for one minibatch: acts[0] is the input, acts[l + 1] the output of
  // layer l (post-ReLU for hidden layers, softmax probabilities for the last one).
  const acts = sizes.map((s) => new Float64Array(batchSize * s));
  const deltas = sizes.map((s) => new Float64Array(batchSize * s));
  const order = Array.from({ length: n }, (_, i) => i);

  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    rng.shuffle(order);
    let lossSum = 0;
    for (let start = 0; start < n; start += batchSize) {
      const bs = Math.min(batchSize, n - start);
      for (let r = 0; r < bs; r++)
        acts[0].set(x.subarray(order[start + r] * dIn, (order[start + r] + 1) * dIn), r * dIn);

      // Forward.
      for (let l = 0; l < nLayers; l++) {
        const [din, dout] = [sizes[l], sizes[l + 1]];
        const h = acts[l];
        const a = acts[l + 1];
        for (let r = 0; r < bs; r++) {
          const ao = r * dout;
          for (let o = 0; o < dout; o++) a[ao + o] = b[l][o];
          for (let i = 0; i < din; i++) {
            const hi = h[r * din + i];
            if (hi === 0) continue;
            const wo = i * dout;
            for (let o = 0; o < dout; o++) a[ao + o] += hi * w[l][wo + o];
          }
          if (l < nLayers - 1) {
            for (let o = 0; o < dout; o++) if (a[ao + o] < 0) a[ao + o] = 0;
          } else {
            let max = -Infinity;
            for (let o = 0; o < dout; o++) max = Math.max(max, a[ao + o]);
            let sum = 0;
            for (let o = 0; o < dout; o++) {
              a[ao + o] = Math.exp(a[ao + o] - max);
              sum += a[ao + o];
            }
            for (let o = 0; o < dout; o++) a[ao + o] /= sum;
          }
        }
      }

      // Backward: d(mean cross-entropy)/d(logits) = (p - onehot) / bs.
      const last = nLayers;
      const nOut = sizes[last];
      for (let r = 0; r < bs; r++) {
        const label = y[order[start + r]];
        lossSum -= Math.log(Math.max(acts[last][r * nOut + label], 1e-300));
        for (let o = 0; o < nOut; o++)
          deltas[last][r * nOut + o] = (acts[last][r * nOut + o] - (o === label ? 1 : 0)) / bs;
      }
      for (let l = nLayers - 1; l >= 0; l--) {
        const [din, dout] = [sizes[l], sizes[l + 1]];
        const gw = grads[l];
        const gb = grads[nLayers + l];
        gw.fill(0);
        gb.fill(0);
        const h = acts[l];
        const d = deltas[l + 1];
        for (let r = 0; r < bs; r++) {
          for (let o = 0; o < dout; o++) gb[o] += d[r * dout + o];
          for (let i = 0; i < din; i++) {
            const hi = h[r * din + i];
            if (hi === 0) continue;
            const wo = i * dout;
            for (let o = 0; o < dout; o++) gw[wo + o] += hi * d[r * dout + o];
          }
        }
        for (let k = 0; k < gw.length; k++) gw[k] += weightDecay * w[l][k];
        if (l > 0) {
          // Delta of the previous (ReLU) layer: d W^T, zero where the unit was inactive.
          const dp = deltas[l];
          for (let r = 0; r < bs; r++) {
            for (let i = 0; i < din; i++) {
              if (h[r * din + i] <= 0) {
                dp[r * din + i] = 0;
                continue;
              }
              let s = 0;
              const wo = i * dout;
              for (let o = 0; o < dout; o++) s += d[r * dout + o] * w[l][wo + o];
              dp[r * din + i] = s;
            }
          }
        }
      }

      // Adam update.
      step++;
      const c1 = 1 - beta1 ** step;
      const c2 = 1 - beta2 ** step;
      params.forEach((p, k) => {
        const g = grads[k];
        const mk = m1[k];
        const vk = m2[k];
        for (let i = 0; i < p.length; i++) {
          mk[i] = beta1 * mk[i] + (1 - beta1) * g[i];
          vk[i] = beta2 * vk[i] + (1 - beta2) * g[i] * g[i];
          p[i] -= (learningRate * (mk[i] / c1)) / (Math.sqrt(vk[i] / c2) + eps);
        }
      });
    }
    opts.onEpoch?.(epoch, lossSum / n);
  }
  return { sizes: [...sizes], w, b };
}

/**
 * The trained parameters as float32-rounded {@link Dense} layers (what goes into ONNX).
 * Parameters below {@link FLUSH_BELOW} in magnitude (weight decay drives dead units' weights
 * toward 0) are set to exactly 0: they cannot change a float32 output, but their products
 * are denormal floats, which made CPU inference of the German model 2.6x slower.
 */
export function toDenseLayers(params: MlpParams): Dense[] {
  const flush = (v: Float64Array) => v.map((x) => (Math.abs(x) < FLUSH_BELOW ? 0 : x));
  return params.w.map((w, l) => denseLayer(params.sizes[l], params.sizes[l + 1], flush(w), flush(params.b[l])));
}

/** Magnitude below which trained parameters are exported as 0. */
export const FLUSH_BELOW = 1e-12;

/**
 * Area under the ROC curve of `scores` for binary `labels` (1 = positive), by the
 * Mann–Whitney rank statistic with mid-ranks for ties.
 *
 * @throws {Error} when a class is missing.
 */
export function rocAuc(scores: readonly number[], labels: readonly number[]): number {
  const idx = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
  const ranks = new Float64Array(scores.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
    for (let k = i; k <= j; k++) ranks[idx[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  let nPos = 0;
  let rankSum = 0;
  labels.forEach((l, i) => {
    if (l === 1) {
      nPos++;
      rankSum += ranks[i];
    }
  });
  const nNeg = labels.length - nPos;
  if (nPos === 0 || nNeg === 0) throw new Error('rocAuc: needs both classes');
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Share of rows where `score > threshold` agrees with the binary label. */
export function accuracy(scores: readonly number[], labels: readonly number[], threshold = 0.5): number {
  let ok = 0;
  scores.forEach((s, i) => {
    if ((s > threshold ? 1 : 0) === labels[i]) ok++;
  });
  return ok / scores.length;
}
