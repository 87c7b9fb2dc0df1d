import type { Hierarchy } from './data/hierarchy.js';
import type { Players } from './data/players.js';
import { playersFromIndices } from './data/players.js';
import type { Alphabet, LengthAlign, LengthPolicy, OneHotRows, SequenceLayout, SequenceSet } from './data/sequences.js';
import { columnOf, detectLayout, fitLengths, oneHot, resolveAlphabet } from './data/sequences.js';
import type { GameEstimator, Plan } from './engine/interventional.js';
import { runInterventional } from './engine/interventional.js';
import { DataError, InvalidOptionError, ShapeError } from './errors.js';
import { defaultBudget } from './estimators/kernel.js';
import type { PartitionShapOptions } from './estimators/partition.js';
import type { ExplainOptions } from './explain.js';
import { checkMethodOptions, linkOf, paramsOf } from './explain.js';
import { createExplanation } from './explanation/explanation.js';
import type { SequenceExplanation, SequenceInfo, SequenceReference } from './explanation/sequence-explanation.js';
import { resolveBatchRows } from './games/evaluator.js';
import type { RegisteredMethod } from './methods/registry.js';
import { allOptions, DEFAULT_METHOD, getMethod } from './methods/registry.js';
import type { Model } from './models/model.js';
import { createBackground } from './sampling/background.js';
import { dinucleotideShuffle } from './sampling/dinucleotide-shuffle.js';
import { indexedStreams, randomSeed } from './sampling/rng.js';
import { VERSION } from './version.js';

/** Who the players are: every position, windows of `width` positions every `stride`, or positions in a hierarchy. */
export type SequencePlayers = 'position' | 'hierarchy' | { readonly window: number; readonly stride?: number };

export type { SequenceReference } from './explanation/sequence-explanation.js';

/** Sequence explanation methods. */
export type SequenceMethod = 'kernel' | 'permutation' | 'partition' | 'exact' | 'ism';

/** Options of {@link explainSequences}. */
export interface ExplainSequencesOptions
  extends Pick<
    ExplainOptions,
    | 'variant'
    | 'tolerance'
    | 'maxBudget'
    | 'topK'
    | 'antithetic'
    | 'seed'
    | 'firstRowIndex'
    | 'threads'
    | 'minParallelMs'
    | 'pool'
    | 'batchRows'
    | 'signal'
    | 'onProgress'
    | 'onWarning'
  > {
  /** @defaultValue 'ACGT' (IUPAC codes spread uniformly: N = 0.25 each) */
  alphabet?: string | Alphabet;
  /** Ambiguous letters: spread uniformly, or refuse. @defaultValue 'spread' */
  ambiguous?: 'spread' | 'error';
  /**
   * One-hot layout of the model input. @defaultValue detected from the model's input shape
   * (`[L, A]` → NLC, `[A, L]` → NCL) when the model has one and it is unambiguous, else 'NLC'
   */
  layout?: SequenceLayout;
  /** Players: `'position'`, `'hierarchy'` or `{ window, stride }`. @defaultValue 'position' */
  players?: SequencePlayers;
  /**
   * The reference that replaces absent positions: `'background'` sequences (interventional,
   * needs `background`), `'shuffle'` (dinucleotide-shuffled copies of each sequence),
   * `'uniform'` (all-N: 1/A per letter) or `'zeros'` (all-zero one-hot).
   * @defaultValue 'background' when `background` is given, else 'shuffle'
   */
  reference?: SequenceReference;
  /** Background sequences for `reference: 'background'`. */
  background?: SequenceSet | readonly string[];
  /** Shuffled copies per sequence for `reference: 'shuffle'`. @defaultValue 10 */
  shuffles?: number;
  /** @defaultValue 'partition' with hierarchy players, else 'kernel' */
  method?: SequenceMethod;
  /**
   * A hierarchy over the players for method 'partition' (e.g. from {@link hierarchyFromNested}).
   * @defaultValue the balanced binary hierarchy of contiguous segments
   */
  hierarchy?: Hierarchy;
  /**
   * Partition: sampled hierarchy-consistent orders (passes) instead of every context — see
   * {@link PartitionShapOptions.orders}. @defaultValue every context (exact Owen values at full budget)
   */
  orders?: number;
  /** Coalition values per sequence, or 'auto' (kernel). @defaultValue 2 · players + 2048 */
  budget?: number | 'auto';
  /**
   * Sequences whose length differs from the model's: refuse (`'error'`), pad with N (`'pad'`),
   * crop (`'crop'`) or either (`'fit'`) — see {@link LengthPolicy}; background sequences too.
   * @defaultValue 'error'
   */
  lengthPolicy?: LengthPolicy;
  /** Where a padded / cropped sequence sits in the model's window. @defaultValue 'center' */
  align?: LengthAlign;
  /** Names of the model's outputs (classes), e.g. `['EI', 'IE', 'N']`. @defaultValue the model's output names */
  outputNames?: readonly string[];
  /**
   * Number positions from an anchor (kept in `sequence.positionOffset` for the reports,
   * JSON and tracks): the first letter is `offset + 1`, skipping 0 when negative. @defaultValue 0
   */
  positionOffset?: number;
}

export type { SequenceExplanation, SequenceInfo } from './explanation/sequence-explanation.js';

/** Checks a {@link SequencePlayers} value. @throws {InvalidOptionError} naming `option`. */
export function checkSequencePlayers(spec: unknown, option = 'players'): SequencePlayers {
  if (spec === undefined) return 'position';
  if (spec === 'position' || spec === 'hierarchy') return spec;
  if (typeof spec === 'object' && spec !== null && 'window' in spec) {
    const w = spec as { window: number; stride?: number };
    checkWindow(w.window, w.stride ?? w.window, option);
    return { window: w.window, stride: w.stride ?? w.window };
  }
  throw new InvalidOptionError(option, "'position', 'hierarchy' or { window, stride? }", spec);
}

/**
 * The options of `explainSequences` that the method registry knows (the method's own and
 * the shared ones), for the same refusal and checks as `explain()`. `background` and
 * `players` mean sequences and positions here, so they are the sequence mode's own.
 */
function methodOptionsOf(options: ExplainSequencesOptions): Record<string, unknown> {
  const known = new Set(allOptions().map((o) => o.name));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options))
    if (known.has(k) && k !== 'background' && k !== 'players' && k !== 'groups') out[k] = v;
  return out;
}

function checkWindow(w: number, s: number, option: string): void {
  if (!Number.isInteger(w) || w < 1) throw new InvalidOptionError(option, 'a window width W >= 1', w);
  if (!Number.isInteger(s) || s < 1 || s > w)
    throw new InvalidOptionError(
      option,
      `a stride from 1 to the width ${w}`,
      s,
      'a stride above the width would leave positions in no window',
    );
}

/**
 * Player spans of the `c = ceil(W/S)` games that explain windows W wide every S positions:
 * game j holds the windows starting at (j + m·c)·S (disjoint, since c·S >= W), an edge
 * fragment [0, j·S) before the first and a gap fragment [k·S + W, (k + c)·S) after each window
 * when S does not divide W, so that every game's players partition the sequence. With S | W the
 * games are the W/S tilings shifted by S (no gaps).
 */
function tilings(L: number, w: number, stride: number): [number, number][][] {
  const c = Math.ceil(w / stride);
  const out: [number, number][][] = [];
  for (let j = 0; j < c; j++) {
    const spans: [number, number][] = [];
    const first = j * stride;
    if (first > 0) spans.push([0, first]);
    for (let a = first; a < L; a += c * stride) {
      const end = Math.min(a + w, L);
      spans.push([a, end]);
      const next = Math.min(a + c * stride, L);
      if (end < next) spans.push([end, next]);
    }
    out.push(spans);
  }
  return out;
}

function spanName(letters: string | undefined, [a, b]: readonly [number, number]): string {
  return b - a === 1 && letters === undefined ? `${a + 1}` : `${a + 1}-${b}`;
}

function spanPlayers(rows: OneHotRows, spans: readonly (readonly [number, number])[], names: string[]): Players {
  const A = rows.alphabet.letters.length;
  const L = rows.length;
  return playersFromIndices(
    L * A,
    spans.map(([a, b]) => {
      const cols: number[] = [];
      for (let p = a; p < b; p++) for (let c = 0; c < A; c++) cols.push(columnOf(rows.layout, L, A, p, c));
      return cols;
    }),
    names,
  );
}

/**
 * Explains a sequence model (one-hot input): which positions (or windows) drive each output.
 *
 * Positions are players (each the group of its A one-hot columns) of the interventional game
 * v(S) = E_ref f(x_S, ref_rest), whose reference is background sequences, dinucleotide
 * shuffles of x, all-N (uniform) or zeros; the Shapley values are estimated by Kernel or
 * Permutation SHAP, or Owen values over a balanced hierarchy of contiguous segments
 * (`partition`), or replaced by in-silico mutagenesis (`ism`). All outputs in one pass.
 *
 * @example
 * const exp = await explainSequences(model, await loadSequences('seqs.fa'), { method: 'partition', budget: 500, seed: 1 });
 * exp.players; // ['1', '2', ..., 'L'] (positions, 1-based)
 * @throws {DataError} for bad letters, unequal lengths, or a length the model does not take;
 *   {@link InvalidOptionError} for bad options.
 */
export async function explainSequences(
  model: Model,
  sequences: SequenceSet | readonly string[],
  options: ExplainSequencesOptions = {},
): Promise<SequenceExplanation> {
  const started = performance.now();
  const alphabet = resolveAlphabet(options.alphabet);
  const A = alphabet.letters.length;
  let set = toSet(sequences, 'sequences');
  const rowShape = (model as { rowShape?: readonly number[] }).rowShape;
  let layout = options.layout;
  if (layout !== undefined && layout !== 'NLC' && layout !== 'NCL')
    throw new InvalidOptionError('layout', "'NLC' or 'NCL'", layout);
  if (rowShape && layout === undefined) layout = detectLayout(rowShape, A);
  if (rowShape && rowShape.length === 2 && !rowShape.includes(A))
    throw new ShapeError(
      `the model input is [batch, ${rowShape.join(', ')}] but the ${alphabet.name} alphabet has ${A} letters: pass the model's alphabet (--alphabet)`,
    );
  layout ??= 'NLC';
  const modelL = Math.floor(model.nInputs / A);
  if (model.nInputs % A !== 0)
    throw new ShapeError(`the model takes ${model.nInputs} inputs, not a multiple of the alphabet's ${A} letters`);
  const outputNames = checkOutputNames(options.outputNames, model.outputNames);
  const positionOffset = options.positionOffset ?? 0;
  if (!Number.isInteger(positionOffset)) throw new InvalidOptionError('positionOffset', 'an integer', positionOffset);
  if (set.sequences.some((s) => s.length !== modelL) && (options.lengthPolicy ?? 'error') === 'error') {
    const r = set.sequences.findIndex((s) => s.length !== modelL);
    throw new DataError(
      `sequence ${JSON.stringify(set.ids[r])} has length ${set.sequences[r].length} but the model takes ${modelL} positions (${model.nInputs} inputs / ${A} letters): choose a length policy — lengthPolicy 'pad', 'crop' or 'fit' (CLI --length-policy; N padding / cropping, centred unless align 'start' or 'end')`,
      { file: set.source, line: set.lines[r] },
    );
  }
  const fitted = fitLengths(set, modelL, { policy: options.lengthPolicy, align: options.align, alphabet });
  const origins = fitted.origins;
  set = fitted.set;
  const L = modelL;
  const rows = oneHot(set, { alphabet, layout, ambiguous: options.ambiguous, length: modelL });
  const players = checkSequencePlayers(options.players);
  const desc = getMethod(options.method ?? (players === 'hierarchy' ? 'partition' : DEFAULT_METHOD), 'sequences');
  const method = desc.name as SequenceMethod;
  checkMethodOptions(desc, methodOptionsOf(options));
  if (players === 'hierarchy' && method !== 'partition')
    throw new InvalidOptionError(
      'players',
      `'position' or a window with method '${method}'`,
      'hierarchy',
      "hierarchy players are explained by Owen values: use method 'partition'",
    );
  const seed = options.seed ?? randomSeed();
  const kind: SequenceInfo['players'] =
    players === 'hierarchy' ? 'hierarchy' : typeof players === 'object' ? 'window' : 'position';
  const w = typeof players === 'object' ? players.window : 1;
  const stride = typeof players === 'object' ? (players.stride ?? players.window) : 1;
  if (w > L) throw new InvalidOptionError('players', `a window of at most the sequence length ${L}`, w);
  // a method's player limit holds for every tiling's game (with its edge and gap fragments)
  const games = tilings(L, w, stride);
  const gamePlayers = Math.max(...games.map((g) => g.length));
  const maxPlayers = desc.maxPlayers;
  if (maxPlayers !== undefined && gamePlayers > maxPlayers)
    throw new InvalidOptionError(
      'players',
      `at most ${maxPlayers} players per game with method '${method}'`,
      kind === 'position' ? `${L} positions` : `${gamePlayers} windows of ${w}`,
      `use windows of at least ${Math.ceil(L / maxPlayers)} positions (players { window: ${Math.ceil(L / maxPlayers)} }, CLI --players window:${Math.ceil(L / maxPlayers)}), or method 'partition', 'kernel' or 'permutation'`,
    );

  if (desc.run.explainOneHot) {
    if (options.reference !== undefined || options.background !== undefined)
      throw new InvalidOptionError(
        'reference',
        "unset for method 'ism' (mutants are compared with the sequence itself)",
        options.reference ?? 'background',
      );
    return oneHotExplanation(desc, model, rows, set, {
      w,
      stride,
      kind,
      seed,
      started,
      options,
      outputNames,
      extra: extraInfo(origins, positionOffset, set.labels),
    });
  }

  const reference: SequenceReference = options.reference ?? (options.background ? 'background' : 'shuffle');
  if (!['background', 'shuffle', 'uniform', 'zeros'].includes(reference))
    throw new InvalidOptionError('reference', "'background', 'shuffle', 'uniform' or 'zeros'", reference);
  if (reference === 'background' && !options.background)
    throw new InvalidOptionError('background', "background sequences for reference 'background'", undefined);
  if (reference !== 'background' && options.background)
    throw new InvalidOptionError('reference', "'background' when background sequences are given", reference);
  const shuffles = options.shuffles ?? 10;
  if (!Number.isInteger(shuffles) || shuffles < 1)
    throw new InvalidOptionError('shuffles', 'a positive integer', shuffles);

  // tilings of the players: one for positions / windows with stride = width
  const T = games.length;
  if (options.orders !== undefined && method !== 'partition')
    throw new InvalidOptionError('orders', "used with method 'partition' (or hierarchy players)", options.orders);
  if (options.hierarchy !== undefined && (method !== 'partition' || T > 1))
    throw new InvalidOptionError(
      'hierarchy',
      "used with method 'partition' and position or non-overlapping window players",
      options.hierarchy,
    );
  const reported = new Map<string, { span: [number, number]; tiling: number; index: number }>();
  games.forEach((spans, t) => {
    spans.forEach((span, index) => {
      const name = kind === 'window' ? spanName('w', span) : spanName(undefined, span);
      if (!reported.has(name)) reported.set(name, { span, tiling: t, index });
    });
  });
  const order = [...reported.entries()].sort(
    ([, a], [, b]) => a.span[0] - b.span[0] || a.span[1] - b.span[1] || a.tiling - b.tiling,
  );

  // the reference rows per explained row (shuffle) or shared (others)
  const perRow = reference === 'shuffle';
  const shared =
    reference === 'background'
      ? oneHot(
          fitLengths(toSet(options.background as SequenceSet | readonly string[], 'background'), L, {
            policy: options.lengthPolicy,
            align: options.align,
            alphabet,
          }).set,
          {
            alphabet,
            layout,
            ambiguous: options.ambiguous,
            length: L,
          },
        )
      : reference === 'uniform'
        ? { data: new Float64Array(L * A).fill(1 / A), nRows: 1 }
        : reference === 'zeros'
          ? { data: new Float64Array(L * A), nRows: 1 }
          : undefined;
  const nOut = model.outputNames.length;
  const n = order.length;
  const nRows = rows.nRows;
  // one stream per sequence: its shuffles come from split 0, tiling t from split t + 1 —
  // the same numbers whatever the other sequences, the order or the thread count
  const first = options.firstRowIndex ?? 0;
  const rowStreams = indexedStreams(
    seed,
    Array.from({ length: nRows }, (_, i) => first + i),
  );
  const splits = rowStreams.map((r) => Array.from({ length: T + 1 }, () => r.split()));
  const tilingPlayers = games.map((spans) =>
    spanPlayers(
      rows,
      spans,
      spans.map((sp) => (kind === 'window' ? spanName('w', sp) : spanName(undefined, sp))),
    ),
  );
  const all = Array.from({ length: nRows }, (_, i) => i);
  const plans: Plan[] = [];
  const planOf: { tiling: number }[] = [];
  if (perRow) {
    for (let r = 0; r < nRows; r++) {
      const shuffled = Array.from({ length: shuffles }, () => dinucleotideShuffle(set.sequences[r], splits[r][0]));
      const ref = oneHot(shuffled, { alphabet, layout, ambiguous: 'spread', length: L });
      const background = createBackground({ data: ref.data, nRows: ref.nRows, nColumns: L * A });
      for (let t = 0; t < T; t++) {
        plans.push({ players: tilingPlayers[t], background, rows: [r] });
        planOf.push({ tiling: t });
      }
    }
  } else {
    const ref = shared as { data: Float64Array; nRows: number };
    const background = createBackground({ data: ref.data, nRows: ref.nRows, nColumns: L * A });
    for (let t = 0; t < T; t++) {
      plans.push({ players: tilingPlayers[t], background, rows: all });
      planOf.push({ tiling: t });
    }
  }
  const own: Record<string, unknown> = {};
  for (const spec of desc.options) {
    const v = (options as Record<string, unknown>)[spec.name];
    if (v !== undefined) own[spec.name] = v;
  }
  if (method === 'partition' && own.hierarchy === undefined) delete own.hierarchy;
  const run = await runInterventional({
    model,
    data: rows.data,
    plans,
    method: desc.name,
    estimate: desc.run.estimate as GameEstimator,
    split: desc.run.split,
    gameRows: desc.run.gameRows,
    minParallelMs: options.minParallelMs,
    options: own,
    rng: (plan, r) => splits[r][planOf[plan].tiling + 1],
    designSeed: seed,
    batchRows: resolveBatchRows(options.batchRows),
    threads: options.threads,
    pool: options.pool,
    signal: options.signal,
    onProgress: options.onProgress
      ? (p) =>
          options.onProgress?.({
            rowsDone: Math.floor((p.unitsDone / Math.max(1, p.units)) * nRows),
            rows: nRows,
            done: p.done,
            total: p.total,
          })
      : undefined,
  });
  const values = new Float64Array(nRows * n * nOut);
  const stderr = new Float64Array(nRows * n * nOut);
  let hasStderr = true;
  const predictions = new Float64Array(nRows * nOut);
  const rowBase = new Float64Array(nRows * nOut);
  const exact = new Array<boolean>(nRows).fill(true);
  let evaluations = 0;
  const modelRows = run.modelRows;
  const threads = run.threads;
  plans.forEach((plan, pi) => {
    const t = planOf[pi].tiling;
    plan.rows.forEach((r, k) => {
      const u = run.results[pi][k];
      const est = u.estimate;
      evaluations += est.evaluations;
      if (!est.stderr) hasStderr = false;
      if (!est.exact) exact[r] = false;
      if (t === 0)
        for (let o = 0; o < nOut; o++) {
          predictions[r * nOut + o] = u.prediction[o];
          rowBase[r * nOut + o] = u.baseValue[o];
        }
      order.forEach(([, info], p) => {
        if (info.tiling !== t) return;
        for (let o = 0; o < nOut; o++) {
          const at = info.index * nOut + o;
          values[(r * n + p) * nOut + o] = est.values[at] / T;
          if (est.stderr) stderr[(r * n + p) * nOut + o] = est.stderr[at] / T;
        }
      });
    });
  });
  const usedBudget: number | 'auto' =
    desc.maxPlayers !== undefined && own.budget === undefined
      ? 2 ** games[0].length
      : ((own.budget as number | 'auto' | undefined) ?? defaultBudget(games[0].length));
  const baseValues = new Float64Array(nOut);
  for (let r = 0; r < rows.nRows; r++)
    for (let o = 0; o < nOut; o++) baseValues[o] += rowBase[r * nOut + o] / rows.nRows;
  const spans = order.map(([, info]) => info.span as readonly [number, number]);
  const base = createExplanation({
    method,
    players: order.map(([name]) => name),
    outputs: [...outputNames],
    columns: [...rows.columns],
    playerColumns: spans.map(([a, b]) => {
      const cols: number[] = [];
      for (let p = a; p < b; p++) for (let c = 0; c < A; c++) cols.push(columnOf(layout, L, A, p, c));
      return cols;
    }),
    nRows: rows.nRows,
    rowIndices: Array.from({ length: rows.nRows }, (_, i) => i),
    data: rows.data,
    baseValues,
    rowBaseValues: perRow ? rowBase : undefined,
    predictions,
    values,
    stderr: hasStderr ? stderr : undefined,
    exact,
    evaluations,
    modelRows,
    seconds: (performance.now() - started) / 1000,
    meta: {
      version: VERSION,
      seed,
      budget: usedBudget,
      background: {
        rows: perRow ? shuffles : (shared as { nRows: number }).nRows,
        summary:
          reference === 'shuffle'
            ? `${shuffles} dinucleotide shuffles of each sequence`
            : reference === 'background'
              ? 'background sequences'
              : reference === 'uniform'
                ? `uniform (all-N: 1/${A} per letter)`
                : 'all-zero one-hot',
      },
      threads,
      link: linkOf(model),
      params: paramsOf(own),
    },
  });
  return {
    ...base,
    sequence: {
      alphabet: alphabet.name,
      letters: alphabet.letters,
      layout,
      length: L,
      ids: [...set.ids],
      sequences: [...set.sequences],
      players: kind,
      spans,
      reference,
      ...(T > 1 ? { tilings: T } : {}),
      ...extraInfo(origins, positionOffset, set.labels),
    },
  };
}

/** The optional parts of {@link SequenceInfo}: labels, window origins and the position offset. */
function extraInfo(
  origins: Int32Array | undefined,
  positionOffset: number,
  labels: readonly string[] | undefined,
): Partial<SequenceInfo> {
  return {
    ...(labels ? { labels: [...labels] } : {}),
    ...(origins ? { origins: Array.from(origins) } : {}),
    ...(positionOffset !== 0 ? { positionOffset } : {}),
  };
}

/** Checks `outputNames` against the model's outputs. */
function checkOutputNames(names: readonly string[] | undefined, model: readonly string[]): readonly string[] {
  if (names === undefined) return model;
  if (!Array.isArray(names) || names.some((x) => typeof x !== 'string' || x.trim() === ''))
    throw new InvalidOptionError('outputNames', 'an array of non-empty names, e.g. EI,IE,N', names);
  if (names.length !== model.length)
    throw new InvalidOptionError(
      'outputNames',
      `${model.length} names, one per model output (${model.join(', ')})`,
      names.join(','),
    );
  if (new Set(names).size !== names.length)
    throw new InvalidOptionError('outputNames', 'distinct names', names.join(','));
  return names.map((x) => x.trim());
}

function toSet(s: SequenceSet | readonly string[], what: string): SequenceSet {
  if (Array.isArray(s)) {
    if (s.length === 0) throw new DataError(`no ${what}: pass at least one sequence`);
    return {
      ids: s.map((_, i) => `seq${i + 1}`),
      sequences: s.map((x) => String(x).toUpperCase()),
      lines: [],
    };
  }
  const set = s as SequenceSet;
  if (!set || !Array.isArray(set.sequences))
    throw new InvalidOptionError(what, 'a SequenceSet (loadSequences) or an array of strings', s);
  if (set.sequences.length === 0) throw new DataError(`no ${what}`, { file: set.source });
  return set;
}

async function oneHotExplanation(
  desc: RegisteredMethod,
  model: Model,
  rows: OneHotRows,
  set: SequenceSet,
  ctx: {
    w: number;
    stride: number;
    kind: SequenceInfo['players'];
    seed: number;
    started: number;
    options: ExplainSequencesOptions;
    outputNames: readonly string[];
    extra: Partial<SequenceInfo>;
  },
): Promise<SequenceExplanation> {
  const { w, stride, kind, seed, started, options, outputNames } = ctx;
  const L = rows.length;
  const A = rows.alphabet.letters.length;
  const nOut = model.outputNames.length;
  const explainOneHot = desc.run.explainOneHot as NonNullable<RegisteredMethod['run']['explainOneHot']>;
  const res = await explainOneHot(
    model,
    { data: rows.data, nRows: rows.nRows, length: L, channels: A, layout: rows.layout },
    {
      options: {},
      batchRows: options.batchRows,
      signal: options.signal,
      onProgress: options.onProgress
        ? (p) => {
            // mutants of all sequences are counted together: map them to sequences done
            const frac = (p.done / Math.max(1, p.total)) * rows.nRows;
            const rowsDone = Math.min(rows.nRows, Math.floor(frac));
            options.onProgress?.({ rowsDone, rows: rows.nRows, done: frac - rowsDone, total: 1 });
          }
        : undefined,
    },
  );
  const spans: [number, number][] = [];
  if (kind === 'window') for (let a = 0; a < L; a += stride) spans.push([a, Math.min(a + w, L)]);
  else for (let p = 0; p < L; p++) spans.push([p, p + 1]);
  const n = spans.length;
  const values = new Float64Array(rows.nRows * n * nOut);
  for (let r = 0; r < rows.nRows; r++)
    spans.forEach(([a, b], j) => {
      for (let p = a; p < b; p++)
        for (let o = 0; o < nOut; o++) values[(r * n + j) * nOut + o] += res.track[(r * L + p) * nOut + o];
    });
  warnIfSaturated(res.predictions, res.track, rows.nRows, L, outputNames, linkOf(model), options.onWarning);
  const meanPred = new Float64Array(nOut);
  for (let r = 0; r < rows.nRows; r++) for (let o = 0; o < nOut; o++) meanPred[o] += res.predictions[r * nOut + o];
  const base = createExplanation({
    method: desc.name,
    players: spans.map((s) => (kind === 'window' ? spanName('w', s) : spanName(undefined, s))),
    outputs: [...outputNames],
    columns: [...rows.columns],
    playerColumns: spans.map(([a, b]) => {
      const cols: number[] = [];
      for (let p = a; p < b; p++) for (let c = 0; c < A; c++) cols.push(columnOf(rows.layout, L, A, p, c));
      return cols;
    }),
    nRows: rows.nRows,
    rowIndices: Array.from({ length: rows.nRows }, (_, i) => i),
    data: rows.data,
    // ISM has no reference: the base value is f(x) itself (Σ values does not add up to f(x) − base)
    baseValues: meanPred.map((v) => v / rows.nRows),
    rowBaseValues: res.predictions,
    predictions: res.predictions,
    values,
    exact: new Array(rows.nRows).fill(true),
    evaluations: res.modelRows,
    modelRows: res.modelRows,
    seconds: (performance.now() - started) / 1000,
    meta: {
      version: VERSION,
      seed,
      budget: res.modelRows,
      background: { rows: 0, summary: `none (${desc.name})` },
      threads: 1,
      link: linkOf(model),
    },
  });
  return {
    ...base,
    sequence: {
      alphabet: rows.alphabet.name,
      letters: rows.alphabet.letters,
      layout: rows.layout,
      length: L,
      ids: [...set.ids],
      sequences: [...set.sequences],
      players: kind,
      spans,
      reference: 'none',
      ...(res.hypothetical ? { hypothetical: res.hypothetical } : {}),
      ...ctx.extra,
    },
  };
}

/**
 * ISM on a probability near 0 or 1 measures almost nothing: a substitution cannot move a
 * saturated sigmoid/softmax. Warns (once per output) when most sequences are saturated and no
 * substitution moves the output by 1% — the logit shows the same effects unsquashed.
 */
export function warnIfSaturated(
  predictions: Float64Array,
  track: Float64Array,
  nRows: number,
  L: number,
  outputs: readonly string[],
  link: string,
  onWarning: ((m: string) => void) | undefined,
): void {
  if (link === 'logit') return;
  const nOut = outputs.length;
  const warn = onWarning ?? ((m: string) => process.emitWarning(m, 'WhyboxWarning'));
  for (let o = 0; o < nOut; o++) {
    let saturated = 0;
    let inUnit = true;
    let largest = 0;
    for (let r = 0; r < nRows; r++) {
      const p = predictions[r * nOut + o];
      if (!(p >= 0 && p <= 1)) inUnit = false;
      if (p < 0.01 || p > 0.99) saturated++;
      for (let i = 0; i < L; i++) largest = Math.max(largest, Math.abs(track[(r * L + i) * nOut + o]));
    }
    if (!inUnit || saturated * 2 < nRows || largest >= 0.01) continue;
    warn(
      `ism: output ${JSON.stringify(outputs[o])} is saturated (within 0.01 of 0 or 1 in ${saturated} of ${nRows} sequences), so single-letter substitutions barely move it (largest |change| ${largest.toPrecision(2)}): explain the logit instead (CLI --link logit, loadOnnx(path, { link: 'logit' })), where the same effects are not squashed`,
    );
  }
}
