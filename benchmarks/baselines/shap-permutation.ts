/**
 * A faithful port of shap's PermutationExplainer (`shap/explainers/_permutation.py`,
 * `explain_row`, no clustering, no main effects) with the independent (interventional) masker
 * and its delta masking (`MaskedModel`), the baseline whybox's permutation estimator is
 * compared with. It shares no code with src/ on purpose.
 *
 * Per permutation: `npermutations = max_evals // (2·M + 1)`; the varying features (those where
 * some background row differs from x) are shuffled; masks are mask 0 (all off), then each
 * feature switched on in that order, then each switched off in the same order (2·M + 1 masks);
 * the forward pass adds `out[i+1] − out[i]`, the backward pass `out[i] − out[i+1]`; values are
 * the sums / (2 · npermutations). Delta masking: a mask toggling feature j re-evaluates only the
 * background rows that differ from x at j (the others keep their last output); mask 0 evaluates
 * every background row. Model rows are counted that way.
 */

/** Rows → outputs (`nRows × 1`). */
export type BatchFn = (rows: Float64Array, nRows: number) => Promise<Float64Array>;

export interface ShapPermutationResult {
  readonly phi: Float64Array;
  /** Model rows evaluated (delta masking). */
  readonly modelRows: number;
  readonly permutations: number;
}

/**
 * shap-style permutation SHAP of output 0 for row `x` against equally weighted `background`
 * rows (`nb × d`), features = column groups `groups` (e.g. the 4 one-hot columns of a position).
 */
export async function shapPermutationBaseline(
  f: BatchFn,
  x: Float64Array,
  background: Float64Array,
  nb: number,
  groups: readonly (readonly number[])[],
  maxEvals: number,
  random: () => number,
): Promise<ShapPermutationResult> {
  const d = x.length;
  const M = groups.length;
  const differs = (b: number, j: number) => groups[j].some((c) => background[b * d + c] !== x[c]);
  const inds = Array.from({ length: M }, (_, j) => j).filter((j) => {
    for (let b = 0; b < nb; b++) if (differs(b, j)) return true;
    return false;
  });
  const varying = groups.map((_, j) => Array.from({ length: nb }, (_, b) => b).filter((b) => differs(b, j)));
  const phi = new Float64Array(M);
  const npermutations = Math.floor(maxEvals / (2 * inds.length + 1));
  if (npermutations === 0) throw new Error(`max_evals=${maxEvals} is too low: at least ${2 * inds.length + 1}`);
  let modelRows = 0;
  for (let p = 0; p < npermutations; p++) {
    // np.random.shuffle (Fisher–Yates from the end)
    for (let i = inds.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [inds[i], inds[j]] = [inds[j], inds[i]];
    }
    // the masks: 0 = all off, then on in order, then off in order
    const steps = [...inds, ...inds];
    const state = Array.from({ length: nb }, (_, b) => background.slice(b * d, (b + 1) * d));
    const on = new Uint8Array(M);
    // rows to evaluate: mask 0 on every background row, then the varying rows of each step
    const rowsBuf: number[] = [];
    const owner: { step: number; b: number }[] = [];
    for (let b = 0; b < nb; b++) {
      for (let c = 0; c < d; c++) rowsBuf.push(state[b][c]);
      owner.push({ step: 0, b });
    }
    steps.forEach((j, s) => {
      on[j] ^= 1;
      for (const b of varying[j]) {
        for (const c of groups[j]) state[b][c] = on[j] ? x[c] : background[b * d + c];
        for (let c = 0; c < d; c++) rowsBuf.push(state[b][c]);
        owner.push({ step: s + 1, b });
      }
    });
    const out = await f(Float64Array.from(rowsBuf), owner.length);
    modelRows += owner.length;
    // outputs per mask: the mean over background rows of their current outputs
    const current = new Float64Array(nb);
    const masks = new Float64Array(steps.length + 1);
    let at = 0;
    for (let s = 0; s <= steps.length; s++) {
      while (at < owner.length && owner[at].step === s) {
        current[owner[at].b] = out[at];
        at++;
      }
      let acc = 0;
      for (let b = 0; b < nb; b++) acc += current[b];
      masks[s] = acc / nb;
    }
    let i = 0;
    for (const ind of inds) {
      phi[ind] += masks[i + 1] - masks[i];
      i++;
    }
    for (const ind of inds) {
      phi[ind] += masks[i] - masks[i + 1];
      i++;
    }
  }
  for (let j = 0; j < M; j++) phi[j] /= 2 * npermutations;
  return { phi, modelRows, permutations: npermutations };
}
