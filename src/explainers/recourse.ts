/**
 * Verified recourse (counterfactual explanations) for adverse decisions over a schema: small
 * sets of changes to mutable raw attributes that turn the decision favourable, each scored by
 * a model call on exactly the changed row before it is reported.
 *
 * The search is model-agnostic and runs inside a budget of model evaluations per applicant:
 * 1. every single change (each other category; for numeric attributes a grid of values toward
 *    each allowed bound, on the attribute's `step` grid), top adverse attributes first when
 *    Shapley values are given;
 * 2. a beam search that adds one change at a time (up to `maxChanges`), best margins first;
 * 3. a seeded random search over change sets (as DiCE's random sampler), weighted by how much
 *    each single change helped;
 * 4. sparsification: drop changes that are not needed, and move numeric changes back toward
 *    the applicant's value (bisection on the step grid) while the decision stays favourable;
 * 5. a diverse pick (different sets of changed attributes, no superset of a pick), re-scored
 *    by one last model call.
 */
import type { Dataset } from '../data/dataset.js';
import { decodeValue } from '../data/encoder.js';
import type { Attribute, CategoricalAttribute, NumericAttribute, Schema } from '../data/schema.js';
import { InvalidOptionError, ShapeError, throwIfAborted } from '../errors.js';
import type { Explanation } from '../explanation/explanation.js';
import type { Model } from '../models/model.js';
import { checkOutputs } from '../models/model.js';
import { indexedStreams, type Rng, randomSeed } from '../sampling/rng.js';

/** One changed attribute of a counterfactual (raw values, as in the applicant's record). */
export interface RecourseChange {
  attribute: string;
  from: string | number | null;
  to: string | number;
}

/** One verified counterfactual: its changes, the model's score of the changed row, and its cost. */
export interface Counterfactual {
  changes: RecourseChange[];
  /** The model's score of the changed row (explained output, after the model's link). */
  score: number;
  /** Σ over changes: |to − from| / scale (numeric), 1 (categorical). */
  cost: number;
}

/** Recourse of one row. */
export interface RowRecourse {
  /** Index of the row in the caller's input. */
  index: number;
  score: number;
  decision: 'adverse' | 'favorable';
  /** Up to `count` verified counterfactuals, fewest changes and lowest cost first; [] when none was found (or the decision is favourable). */
  recourse: Counterfactual[];
  /** `'found'`, `'none-within-budget'` (adverse, nothing found in the budget) or `'not-needed'` (favourable). */
  status: 'found' | 'none-within-budget' | 'not-needed';
  /** Model evaluations (rows scored) spent on this row. */
  evaluations: number;
}

/** The result of {@link recourse}. */
export interface RecourseReport {
  rows: RowRecourse[];
  options: {
    count: number;
    maxChanges: number;
    budget: number;
    threshold: number;
    adverse: 'higher' | 'lower';
    seed: number;
  };
  /** Model evaluations over all rows. */
  evaluations: number;
  seconds: number;
}

/** Options of {@link recourse}. */
export interface RecourseOptions {
  /** The schema the rows are encoded with (`encodeRecords`): mutability, directions, ranges, categories. */
  schema: Schema;
  /** Decision threshold on the score (model output units, after its link). @defaultValue 0.5 */
  threshold?: number;
  /** `'higher'`: a score above the threshold is adverse; `'lower'`: below. Equal is never adverse. @defaultValue 'higher' */
  adverse?: 'higher' | 'lower';
  /** Model output that is the score. @defaultValue 0 */
  output?: number;
  /** Counterfactuals per adverse row, at most. @defaultValue 3 */
  count?: number;
  /** Changed attributes per counterfactual, at most. @defaultValue 3 */
  maxChanges?: number;
  /** Model evaluations (rows scored) per row, at most. @defaultValue {@link RECOURSE_DEFAULTS}.budget (2000) */
  budget?: number;
  /** Seed of the random search. @defaultValue a random seed (recorded in `options.seed`) */
  seed?: number;
  /**
   * Background rows (schema columns): the cost scale of numeric attributes without a `scale`
   * (their median absolute deviation, as DiCE) and the range of those without `min`/`max`.
   * @defaultValue none (then `scale` falls back to the attribute's `std`)
   */
  background?: Dataset | { readonly data: Float64Array; readonly nRows: number };
  /**
   * Shapley values of the same rows (players: the schema's attributes, `schemaPlayers`): the
   * attributes that push the score most toward the adverse outcome are tried first.
   * @defaultValue none (attributes in schema order)
   */
  explanation?: Explanation;
  signal?: AbortSignal;
}

/** Defaults of {@link RecourseOptions}. */
export const RECOURSE_DEFAULTS = Object.freeze({
  count: 3,
  maxChanges: 3,
  budget: 2000,
  threshold: 0.5,
  /** Grid values per side of a numeric attribute in the single-change sweep. */
  gridLevels: 6,
  /** States kept per depth of the beam search. */
  beamWidth: 8,
  /** Values per attribute tried when the beam adds a change. */
  valuesPerAttribute: 2,
});

interface Lever {
  /** Index into schema.attributes. */
  readonly a: number;
  readonly attr: Attribute;
  /** Candidate target values (raw). */
  readonly values: (string | number)[];
  /** Numeric: the cost scale and step grid. */
  readonly scale: number;
  readonly step: number;
}

type ChangeSet = ReadonlyMap<number, string | number>; // lever index -> value

/**
 * Counterfactuals for the adverse rows: up to `count` diverse sets of at most `maxChanges`
 * changes to mutable attributes (never a `protected` one, never outside `min`/`max`, the
 * category list or the attribute's `direction`) that make the model's decision favourable,
 * each verified by a model call. Same seed, same counterfactuals.
 * @throws {InvalidOptionError} for bad options; {@link ShapeError} when the rows are not the schema's columns.
 * @example
 * const rows = encodeRecords(schema, records);
 * const { rows: out } = await recourse(model, rows, { schema, threshold: 0.5, seed: 1 });
 * out[0].recourse[0]; // { changes: [{ attribute: 'checking_status', from: '<0DM', to: 'none' }], score: 0.41, cost: 1 }
 */
export async function recourse(
  model: Model,
  rows: Dataset | { readonly data: Float64Array; readonly nRows: number },
  options: RecourseOptions,
): Promise<RecourseReport> {
  const started = performance.now();
  if (!options || typeof options !== 'object')
    throw new InvalidOptionError('options', 'an object with at least { schema }', options);
  const { schema } = options;
  if (!schema?.attributes || !schema.columns) throw new InvalidOptionError('schema', 'a Schema (loadSchema)', schema);
  const d = schema.columns.length;
  if (model.nInputs !== d)
    throw new ShapeError(`the model takes ${model.nInputs} inputs but the schema encodes ${d} columns`);
  if (!rows || !(rows.data instanceof Float64Array) || rows.data.length !== rows.nRows * d)
    throw new ShapeError(`rows must hold nRows × ${d} values (the schema's columns, from encodeRecords)`);
  const count = posInt(options.count ?? RECOURSE_DEFAULTS.count, 'count');
  const maxChanges = posInt(options.maxChanges ?? RECOURSE_DEFAULTS.maxChanges, 'maxChanges');
  const budget = posInt(options.budget ?? RECOURSE_DEFAULTS.budget, 'budget');
  if (budget < 2) throw new InvalidOptionError('budget', 'an integer >= 2 (model evaluations per row)', budget);
  const threshold = options.threshold ?? RECOURSE_DEFAULTS.threshold;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold))
    throw new InvalidOptionError('threshold', 'a finite number', threshold);
  const adverse = options.adverse ?? 'higher';
  if (adverse !== 'higher' && adverse !== 'lower')
    throw new InvalidOptionError('adverse', "'higher' or 'lower'", adverse);
  const nOut = model.outputNames.length;
  const o = options.output ?? 0;
  if (!Number.isInteger(o) || o < 0 || o >= nOut)
    throw new InvalidOptionError('output', `an output index in 0..${nOut - 1}`, o);
  const seed = options.seed ?? randomSeed();
  if (!Number.isSafeInteger(seed)) throw new InvalidOptionError('seed', 'a safe integer', seed);
  const exp = options.explanation;
  if (exp !== undefined) {
    if (exp.nRows !== rows.nRows)
      throw new InvalidOptionError('explanation', `an explanation of the same ${rows.nRows} rows`, exp.nRows);
    if (exp.players.some((p, i) => p !== schema.attributes[i]?.name) || exp.players.length !== schema.attributes.length)
      throw new InvalidOptionError(
        'explanation',
        "an explanation whose players are the schema's attributes (explain with players: schemaPlayers(schema))",
        exp.players.slice(0, 4),
      );
  }
  const sign = adverse === 'higher' ? 1 : -1;
  /** ≥ 0 is favourable (equal to the threshold is never adverse). */
  const margin = (s: number) => sign * (threshold - s);
  const bg = options.background ? checkBackground(options.background, d) : undefined;
  const scales = schema.attributes.map((a) => (a.type === 'numeric' ? costScale(a, bg, d) : 1));
  const bounds = schema.attributes.map((a) => (a.type === 'numeric' ? rangeOf(a, bg, d) : undefined));

  const score = async (batch: Float64Array, n: number): Promise<Float64Array> => {
    const input =
      model.inputType === 'float32' ? Float32Array.from(batch.subarray(0, n * d)) : batch.subarray(0, n * d);
    const out = await model.predict(input, n, options.signal);
    checkOutputs(out, n, model.outputNames, 'the model');
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) s[i] = out[i * nOut + o];
    return s;
  };

  const rngs = indexedStreams(
    seed,
    Array.from({ length: rows.nRows }, (_, i) => i),
  );
  const results: RowRecourse[] = [];
  let total = 0;
  for (let r = 0; r < rows.nRows; r++) {
    throwIfAborted(options.signal);
    const x = rows.data.slice(r * d, (r + 1) * d);
    const index = exp?.rowIndices[r] ?? r;
    const res = await rowRecourse(x, r, index, rngs[r]);
    total += res.evaluations;
    results.push(res);
  }
  return {
    rows: results,
    options: { count, maxChanges, budget, threshold, adverse, seed },
    evaluations: total,
    seconds: (performance.now() - started) / 1000,
  };

  async function rowRecourse(x: Float64Array, r: number, index: number, rng: Rng): Promise<RowRecourse> {
    let used = 0;
    const [s0] = await score(x, 1);
    used++;
    if (margin(s0) >= 0)
      return { index, score: s0, decision: 'favorable', recourse: [], status: 'not-needed', evaluations: used };
    const current = schema.attributes.map((a) => decodeValue(a, x, 0, r));
    const levers = buildLevers(current);
    // adverse attributes first (Shapley values), then schema order
    if (exp) {
      const nP = exp.players.length;
      const nO = exp.outputs.length;
      const push = (l: Lever) => sign * exp.values[(r * nP + l.a) * nO + Math.min(o, nO - 1)];
      levers.sort((p, q) => push(q) - push(p) || p.a - q.a);
    }
    const seen = new Map<string, number>(); // key -> score
    const found = new Map<string, { set: ChangeSet; score: number }>();
    const key = (set: ChangeSet) =>
      [...set.entries()]
        .sort((p, q) => p[0] - q[0])
        .map(([l, v]) => `${l}=${v}`)
        .join('|');
    const rowOf = (set: ChangeSet, buf: Float64Array, at: number) => {
      buf.set(x, at);
      for (const [l, v] of set) encodeInto(levers[l].attr, v, buf, at);
    };
    // evaluations kept for the final verifying call on the reported rows
    const reserve = Math.min(count, budget - 1);
    const limit = budget - reserve;
    /** Scores the sets not seen yet (within the budget); returns each set's score (NaN when over budget). */
    const evaluate = async (sets: ChangeSet[]): Promise<number[]> => {
      const fresh: { set: ChangeSet; k: string }[] = [];
      const keys = sets.map(key);
      const pending = new Set<string>();
      keys.forEach((k, i) => {
        if (!seen.has(k) && !pending.has(k) && fresh.length < limit - used) {
          pending.add(k);
          fresh.push({ set: sets[i], k });
        }
      });
      if (fresh.length > 0) {
        throwIfAborted(options.signal);
        const buf = new Float64Array(fresh.length * d);
        fresh.forEach((f, i) => {
          rowOf(f.set, buf, i * d);
        });
        const s = await score(buf, fresh.length);
        used += fresh.length;
        fresh.forEach((f, i) => {
          seen.set(f.k, s[i]);
          if (margin(s[i]) >= 0) found.set(f.k, { set: f.set, score: s[i] });
        });
      }
      return keys.map((k) => seen.get(k) ?? Number.NaN);
    };

    // 1. single changes
    const singles: ChangeSet[] = [];
    levers.forEach((l, li) => {
      for (const v of l.values) singles.push(new Map([[li, v]]));
    });
    const singleScores = await evaluate(singles);
    // per lever: its values ranked by margin (best first), and its best margin
    const ranked = levers.map(() => [] as { v: string | number; m: number }[]);
    singles.forEach((s, i) => {
      const [[li, v]] = [...s.entries()];
      if (!Number.isNaN(singleScores[i])) ranked[li].push({ v, m: margin(singleScores[i]) });
    });
    for (const list of ranked) list.sort((p, q) => q.m - p.m);
    const m0 = margin(s0);
    const gain = ranked.map((list) => (list.length > 0 ? Math.max(0, list[0].m - m0) : 0));
    const order = levers.map((_, li) => li).sort((p, q) => gain[q] - gain[p] || p - q);

    // 2. beam search, one change more per depth
    let beam: { set: ChangeSet; m: number }[] = singles
      .map((set, i) => ({ set, m: margin(singleScores[i]) }))
      .filter((s) => !Number.isNaN(s.m) && s.m < 0)
      .sort((p, q) => q.m - p.m);
    for (let depth = 2; depth <= maxChanges && used < limit && found.size < 4 * count; depth++) {
      const next: ChangeSet[] = [];
      const width = RECOURSE_DEFAULTS.beamWidth;
      // one state per distinct attribute set keeps the beam diverse
      const picked: typeof beam = [];
      const attrSets = new Set<string>();
      for (const s of beam) {
        const ak = [...s.set.keys()].sort((p, q) => p - q).join(',');
        if (attrSets.has(ak)) continue;
        attrSets.add(ak);
        picked.push(s);
        if (picked.length >= width) break;
      }
      for (const s of picked)
        for (const li of order) {
          if (s.set.has(li) || gain[li] <= 0) continue;
          for (const { v } of ranked[li].slice(0, RECOURSE_DEFAULTS.valuesPerAttribute)) {
            const set = new Map(s.set);
            set.set(li, v);
            next.push(set);
          }
        }
      const scores = await evaluate(next);
      beam = next
        .map((set, i) => ({ set, m: margin(scores[i]) }))
        .filter((s) => !Number.isNaN(s.m) && s.m < 0)
        .sort((p, q) => q.m - p.m);
    }

    // 3. seeded random search over change sets (DiCE's random sampler), while few are found
    const helpful = order.filter((li) => gain[li] > 0 || ranked[li].length > 0);
    const share = Math.floor((limit - used) / 2);
    const stopAt = used + share;
    while (used < stopAt && found.size < 2 * count && helpful.length > 0) {
      const batch: ChangeSet[] = [];
      for (let t = 0; t < 32; t++) {
        const k = 1 + rng.int(Math.min(maxChanges, helpful.length));
        const set = new Map<number, string | number>();
        for (let guard = 0; set.size < k && guard < 8 * k; guard++) {
          // attributes weighted by their single-change gain (plus a floor so every one is tried)
          const li = weighted(
            rng,
            helpful,
            helpful.map((h) => gain[h] + 1e-3),
          );
          if (set.has(li)) continue;
          const list = ranked[li];
          // values: the better half of the ranking more often
          const j = rng.float() < 0.7 ? rng.int(Math.max(1, Math.ceil(list.length / 2))) : rng.int(list.length);
          set.set(li, list[j].v);
        }
        batch.push(set);
      }
      const before = used;
      await evaluate(batch);
      if (used === before) break; // everything drawn was seen already
    }

    // 4. sparsify and move numeric changes back toward the applicant's value
    const candidates = [...found.values()]
      .sort((p, q) => p.set.size - q.set.size || costOf(p.set) - costOf(q.set))
      .slice(0, 4 * count);
    const improved = new Map<string, { set: ChangeSet; score: number }>();
    for (const c of candidates) {
      if (used >= limit) {
        improved.set(key(c.set), c);
        continue;
      }
      const best = await sparsify(c.set, c.score);
      improved.set(key(best.set), best);
    }

    // 5. a diverse pick, then one verifying model call on exactly the reported rows
    const pool = [...improved.values()].sort(
      (p, q) => p.set.size - q.set.size || costOf(p.set) - costOf(q.set) || key(p.set).localeCompare(key(q.set)),
    );
    const chosen: { set: ChangeSet; score: number }[] = [];
    const attrsOf = (s: ChangeSet) => new Set([...s.keys()].map((li) => levers[li].a));
    for (const c of pool) {
      if (chosen.length >= count) break;
      const mine = attrsOf(c.set);
      const dominated = chosen.some((p) => [...attrsOf(p.set)].every((a) => mine.has(a)));
      if (!dominated) chosen.push(c);
    }
    let verified: { set: ChangeSet; score: number }[] = [];
    if (chosen.length > 0) {
      const buf = new Float64Array(chosen.length * d);
      chosen.forEach((c, i) => {
        rowOf(c.set, buf, i * d);
      });
      const s = await score(buf, chosen.length);
      used += chosen.length;
      verified = chosen.map((c, i) => ({ set: c.set, score: s[i] })).filter((c) => margin(c.score) >= 0);
    }
    const out: Counterfactual[] = verified.map((c) => ({
      changes: [...c.set.entries()]
        .sort((p, q) => levers[p[0]].a - levers[q[0]].a)
        .map(([li, v]) => ({ attribute: levers[li].attr.name, from: current[levers[li].a], to: v })),
      score: c.score,
      cost: Number(costOf(c.set).toPrecision(12)),
    }));
    return {
      index,
      score: s0,
      decision: 'adverse',
      recourse: out,
      status: out.length > 0 ? 'found' : 'none-within-budget',
      evaluations: used,
    };

    function costOf(set: ChangeSet): number {
      let c = 0;
      for (const [li, v] of set) {
        const l = levers[li];
        c += l.attr.type === 'numeric' ? Math.abs((v as number) - (current[l.a] as number)) / l.scale : 1;
      }
      return c;
    }

    async function sparsify(set0: ChangeSet, s: number): Promise<{ set: ChangeSet; score: number }> {
      let set = set0;
      let sc = s;
      // drop changes that are not needed (largest cost first)
      let dropped = true;
      while (dropped && set.size > 1 && used < limit) {
        dropped = false;
        const one = (li: number) => costOf(new Map([[li, set.get(li) as string | number]]));
        const byCost = [...set.keys()].sort((p, q) => one(q) - one(p) || p - q);
        const subsets = byCost.map((li) => {
          const t = new Map(set);
          t.delete(li);
          return t;
        });
        const scores = await evaluate(subsets);
        const ok = subsets.findIndex((_, i) => !Number.isNaN(scores[i]) && margin(scores[i]) >= 0);
        if (ok >= 0) {
          set = subsets[ok];
          sc = scores[ok];
          dropped = true;
        }
      }
      // numeric changes: bisect toward the applicant's value on the step grid
      for (const li of [...set.keys()]) {
        const l = levers[li];
        if (l.attr.type !== 'numeric') continue;
        const from = current[l.a] as number;
        const to = set.get(li) as number;
        let good = Math.round((to - from) / l.step); // steps of the favourable value
        let bad = 0; // the applicant's own value is not enough (the other changes alone failed)
        while (Math.abs(good - bad) > 1 && used < limit) {
          const mid = Math.trunc((good + bad) / 2);
          const t = new Map(set);
          t.set(li, snap(l.attr, from + mid * l.step));
          const [m] = await evaluate([t]);
          if (Number.isNaN(m)) break;
          if (margin(m) >= 0) {
            good = mid;
            set = t;
            sc = m;
          } else bad = mid;
        }
      }
      return { set, score: sc };
    }
  }

  function buildLevers(current: (string | number | null)[]): Lever[] {
    const out: Lever[] = [];
    schema.attributes.forEach((attr, a) => {
      if (!attr.mutable || attr.protected) return;
      const x = current[a];
      if (attr.type === 'categorical') {
        const values = attr.categories.filter((c) => c !== x);
        if (values.length > 0) out.push({ a, attr, values, scale: 1, step: 1 });
        return;
      }
      const [lo, hi] = bounds[a] as [number, number];
      const xv = x as number;
      const step = attr.step ?? (attr.integer ? 1 : hi > lo ? (hi - lo) / 100 : attr.std / 10);
      const kLo = attr.direction === 'increase' ? 0 : Math.ceil((lo - xv) / step - 1e-9);
      const kHi = attr.direction === 'decrease' ? 0 : Math.floor((hi - xv) / step + 1e-9);
      const ks = new Set<number>();
      const G = RECOURSE_DEFAULTS.gridLevels;
      for (let j = 1; j <= G; j++) {
        if (kHi > 0) ks.add(Math.max(1, Math.round((kHi * j) / G)));
        if (kLo < 0) ks.add(Math.min(-1, Math.round((kLo * j) / G)));
      }
      const values = [...ks]
        .sort((p, q) => p - q)
        .map((k) => snap(attr, xv + k * step))
        .filter((v) => v !== xv && inRange(attr, lo, hi, v));
      if (values.length > 0) out.push({ a, attr, values: [...new Set(values)], scale: scales[a], step });
    });
    return out;
  }
}

/** Rounds away floating-point noise of `from + k · step` (and keeps integers integer). */
function snap(a: NumericAttribute, v: number): number {
  return a.integer ? Math.round(v) : Number(v.toPrecision(12));
}

function inRange(a: NumericAttribute, lo: number, hi: number, v: number): boolean {
  return v >= lo && v <= hi && (!a.integer || Number.isInteger(v));
}

/** Writes raw value `v` of attribute `a` into the encoded row at `buf[at..]`. */
function encodeInto(a: Attribute, v: string | number, buf: Float64Array, at: number): void {
  if (a.type === 'numeric') {
    buf[at + a.columnIndices[0]] = ((v as number) - a.mean) / a.std;
    return;
  }
  for (const c of a.columnIndices) buf[at + c] = 0;
  const k = (a as CategoricalAttribute).categories.indexOf(v as string);
  const col = a.categoryColumn[k];
  if (col >= 0) buf[at + a.columnIndices[col]] = 1;
}

function checkBackground(
  bg: { readonly data: Float64Array; readonly nRows: number },
  d: number,
): { data: Float64Array; nRows: number } {
  if (!(bg.data instanceof Float64Array) || bg.data.length !== bg.nRows * d || bg.nRows < 1)
    throw new ShapeError(`background must hold nRows × ${d} values (the schema's columns), at least one row`);
  return bg;
}

function columnValues(a: NumericAttribute, bg: { data: Float64Array; nRows: number }, d: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < bg.nRows; b++) out.push(bg.data[b * d + a.columnIndices[0]] * a.std + a.mean);
  return out;
}

/** The cost scale: the schema's `scale`, else the background's median absolute deviation, else `std`. */
function costScale(a: NumericAttribute, bg: { data: Float64Array; nRows: number } | undefined, d: number): number {
  if (a.scale !== undefined) return a.scale;
  if (bg) {
    const v = columnValues(a, bg, d).sort((p, q) => p - q);
    const med = median(v);
    const mad = median(v.map((x) => Math.abs(x - med)).sort((p, q) => p - q));
    if (mad > 0) return mad;
    const spread = v[v.length - 1] - v[0];
    if (spread > 0) return spread / 4;
  }
  return a.std;
}

/** The allowed range: the schema's `min`/`max`, else the background's observed range. */
function rangeOf(
  a: NumericAttribute,
  bg: { data: Float64Array; nRows: number } | undefined,
  d: number,
): [number, number] | undefined {
  if (a.min !== undefined && a.max !== undefined) return [a.min, a.max];
  if (!bg) {
    if (!a.mutable) return undefined;
    throw new InvalidOptionError(
      'background',
      `background rows (the range of the mutable attribute ${JSON.stringify(a.name)}, which has no "min"/"max" in the schema)`,
      undefined,
      'give the schema min and max, mark the attribute "mutable": false, or pass background rows',
    );
  }
  const v = columnValues(a, bg, d);
  return [a.min ?? Math.min(...v), a.max ?? Math.max(...v)];
}

function median(sorted: number[]): number {
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

function weighted(rng: Rng, items: readonly number[], weights: readonly number[]): number {
  let total = 0;
  for (const w of weights) total += w;
  let u = rng.float() * total;
  for (let i = 0; i < items.length; i++) {
    u -= weights[i];
    if (u <= 0) return items[i];
  }
  return items[items.length - 1];
}

function posInt(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new InvalidOptionError(name, 'a positive integer', v);
  return v;
}

/** Every counterfactual's changes respect the schema (for tests and audits); returns the violations. */
export function recourseViolations(schema: Schema, row: RowRecourse): string[] {
  const out: string[] = [];
  for (const cf of row.recourse)
    for (const ch of cf.changes) {
      const a = schema.attributes.find((x) => x.name === ch.attribute);
      if (!a) {
        out.push(`${ch.attribute}: no such attribute`);
        continue;
      }
      if (a.protected || !a.mutable) out.push(`${a.name}: not mutable`);
      if (a.type === 'categorical') {
        if (!a.categories.includes(ch.to as string)) out.push(`${a.name}: ${ch.to} is no category`);
      } else {
        const v = ch.to as number;
        if (typeof v !== 'number' || !Number.isFinite(v)) out.push(`${a.name}: ${v} is not a number`);
        if (a.min !== undefined && v < a.min) out.push(`${a.name}: ${v} < min ${a.min}`);
        if (a.max !== undefined && v > a.max) out.push(`${a.name}: ${v} > max ${a.max}`);
        if (a.integer && !Number.isInteger(v)) out.push(`${a.name}: ${v} is not an integer`);
        const from = ch.from as number;
        if (a.direction === 'increase' && v < from) out.push(`${a.name}: decreased`);
        if (a.direction === 'decrease' && v > from) out.push(`${a.name}: increased`);
      }
      if (ch.to === ch.from) out.push(`${a.name}: unchanged`);
    }
  return out;
}
