import { readFileSync } from 'node:fs';
import { fc, test as fcTest } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRows, encodeRecords, loadRawCsv } from '../../src/data/encoder.js';
import type { Schema } from '../../src/data/schema.js';
import { loadSchema, parseSchema } from '../../src/data/schema.js';
import { InvalidOptionError } from '../../src/errors.js';
import type { RowRecourse } from '../../src/explainers/recourse.js';
import { recourse, recourseViolations } from '../../src/explainers/recourse.js';
import { fromFunction } from '../../src/models/function-model.js';
import type { Model } from '../../src/models/model.js';
import { loadOnnx } from '../../src/models/onnx-model.js';

const DEMO = 'datasets/credit-demo';

interface Truth {
  intercept: number;
  levelEffects: Record<string, Record<string, number>>;
  duration: { center: number; scale: number; coef: number };
  amount: { reference: number; coef: number };
  interaction: number;
  young: { below: number; coef: number };
  installment: { center: number; coef: number };
}
type Raw = Record<string, string | number | null>;
const truth = JSON.parse(readFileSync(`${DEMO}/truth.json`, 'utf8')) as Truth;

/** The planted ground truth's log-odds of P(bad), from the demo README's formula (independent of any model file). */
function trueLogit(x: Raw): number {
  let eta = truth.intercept;
  for (const [a, eff] of Object.entries(truth.levelEffects)) eta += eff[x[a] as string] ?? 0;
  const d = ((x.duration_months as number) - truth.duration.center) / truth.duration.scale;
  const m = Math.log2((x.credit_amount as number) / truth.amount.reference);
  eta += truth.duration.coef * d + truth.amount.coef * m + truth.interaction * d * m;
  eta += truth.young.coef * Math.max(0, truth.young.below - (x.age as number));
  eta += truth.installment.coef * ((x.installment_rate as number) - truth.installment.center);
  return eta;
}

/** Every single-attribute change the schema allows (numeric: every value on the step grid). */
function allSingleChanges(schema: Schema, x: Raw): { attribute: string; to: string | number }[] {
  const out: { attribute: string; to: string | number }[] = [];
  for (const a of schema.attributes) {
    if (!a.mutable) continue;
    if (a.type === 'categorical') {
      for (const c of a.categories) if (c !== x[a.name]) out.push({ attribute: a.name, to: c });
      continue;
    }
    const v = x[a.name] as number;
    const step = a.step ?? 1;
    const lo = a.direction === 'increase' ? v : (a.min as number);
    const hi = a.direction === 'decrease' ? v : (a.max as number);
    for (let k = Math.ceil((lo - v) / step); v + k * step <= hi; k++)
      if (k !== 0) out.push({ attribute: a.name, to: v + k * step });
  }
  return out;
}

describe('recourse on the credit demo (scorecard.onnx is the planted ground truth)', () => {
  let schema: Schema;
  let scorecard: Model & { close(): Promise<void> };
  let raw: Raw[];
  let rows: ReturnType<typeof encodeRecords>;
  beforeAll(async () => {
    schema = await loadSchema(`${DEMO}/schema.json`);
    scorecard = (await loadOnnx(`${DEMO}/scorecard.onnx`, { select: [1] })) as Model & { close(): Promise<void> };
    const table = await loadRawCsv(`${DEMO}/applicants-many-raw.csv`);
    rows = encodeRecords(schema, { ...table, records: table.records.slice(0, 120), lines: table.lines.slice(0, 120) });
    raw = decodeRows(schema, rows);
  });
  afterAll(async () => {
    await scorecard?.close();
  });

  it('with one change allowed, finds exactly the planted levers: the attributes whose single change flips the true decision', async () => {
    const rep = await recourse(scorecard, rows, { schema, maxChanges: 1, count: 20, seed: 7 });
    let checked = 0;
    let withLever = 0;
    let withoutLever = 0;
    rep.rows.forEach((r, i) => {
      const eta = trueLogit(raw[i]);
      // the scorecard is the formula (float32): decisions agree away from the boundary
      expect(Math.abs(1 / (1 + Math.exp(-eta)) - r.score)).toBeLessThan(1e-5);
      if (eta <= 1e-4) return; // favourable (or too close to call)
      const levers = new Set<string>();
      let nearBoundary = false;
      for (const ch of allSingleChanges(schema, raw[i])) {
        const e = trueLogit({ ...raw[i], [ch.attribute]: ch.to });
        if (Math.abs(e) < 1e-4) nearBoundary = true;
        if (e <= 0) levers.add(ch.attribute);
      }
      if (nearBoundary) return;
      checked++;
      const found = new Set(r.recourse.map((c) => c.changes[0].attribute));
      expect(r.recourse.every((c) => c.changes.length === 1)).toBe(true);
      expect([...found].sort()).toEqual([...levers].sort());
      expect(r.status).toBe(levers.size > 0 ? 'found' : 'none-within-budget');
      if (levers.size > 0) withLever++;
      else withoutLever++;
    });
    expect(checked).toBeGreaterThan(15);
    expect(withLever).toBeGreaterThan(5);
    // the planted effects make some applicants unreachable by one change: they say so
    expect(withLever + withoutLever).toBe(checked);
  });

  it('every reported counterfactual re-scores favourable through the encoder, with the reported score; same seed, same counterfactuals', async () => {
    const sub = { ...rows, data: rows.data.slice(0, 40 * rows.columns.length), nRows: 40 };
    const a = await recourse(scorecard, sub, { schema, seed: 3 });
    const b = await recourse(scorecard, sub, { schema, seed: 3 });
    expect(JSON.stringify(b.rows)).toBe(JSON.stringify(a.rows));
    const adverse = a.rows.filter((r) => r.decision === 'adverse');
    expect(adverse.length).toBeGreaterThan(5);
    let n = 0;
    for (const r of adverse) {
      expect(r.status).toBe('found');
      expect(r.evaluations).toBeLessThanOrEqual(2000);
      expect(recourseViolations(schema, r)).toEqual([]);
      for (const cf of r.recourse) {
        expect(cf.changes.length).toBeLessThanOrEqual(3);
        const changed: Raw = { ...raw[r.index] };
        for (const ch of cf.changes) {
          expect(ch.from).toBe(raw[r.index][ch.attribute]);
          changed[ch.attribute] = ch.to;
        }
        const [s] = await scorecard.predict(encodeRecords(schema, [changed]).data, 1);
        expect(s).toBeCloseTo(cf.score, 12);
        expect(s).toBeLessThanOrEqual(0.5);
        expect(trueLogit(changed)).toBeLessThan(1e-4);
        n++;
      }
      // diverse: no counterfactual's attributes contain another's
      const sets = r.recourse.map((c) => new Set(c.changes.map((x) => x.attribute)));
      for (let i = 0; i < sets.length; i++)
        for (let j = 0; j < sets.length; j++)
          if (i !== j) expect([...sets[i]].every((x) => sets[j].has(x))).toBe(false);
    }
    expect(n).toBeGreaterThan(adverse.length);
  });

  it('a budget too small to find anything says so', async () => {
    const sub = { ...rows, data: rows.data.slice(0, 20 * rows.columns.length), nRows: 20 };
    const rep = await recourse(scorecard, sub, { schema, budget: 2, seed: 1 });
    for (const r of rep.rows) {
      expect(r.evaluations).toBeLessThanOrEqual(2);
      if (r.decision === 'adverse') {
        expect(r.status).toBe('none-within-budget');
        expect(r.recourse).toEqual([]);
      } else expect(r.status).toBe('not-needed');
    }
  });

  it('bad options are typed errors', async () => {
    await expect(recourse(scorecard, rows, { schema, count: 0 })).rejects.toThrow(InvalidOptionError);
    await expect(recourse(scorecard, rows, { schema, maxChanges: 1.5 })).rejects.toThrow(/maxChanges/);
    await expect(recourse(scorecard, rows, { schema, adverse: 'up' as never })).rejects.toThrow(/adverse/);
  });
});

// ---------------------------------------------------------------------------------------
// fuzzing: random schemas, applicants and linear models

const numericAttr = fc.record({
  type: fc.constant('numeric' as const),
  min: fc.integer({ min: -20, max: 0 }),
  span: fc.integer({ min: 1, max: 30 }),
  integer: fc.boolean(),
  direction: fc.constantFrom('increase', 'decrease', 'any', undefined),
  mutable: fc.constantFrom(true, false, undefined),
  protected: fc.boolean(),
  step: fc.constantFrom(undefined, 1, 2, 5),
});
const categoricalAttr = fc.record({
  type: fc.constant('categorical' as const),
  nCategories: fc.integer({ min: 2, max: 4 }),
  mutable: fc.constantFrom(true, false, undefined),
  protected: fc.boolean(),
});
const world = fc.record({
  attrs: fc.array(fc.oneof(numericAttr, categoricalAttr), { minLength: 1, maxLength: 5 }),
  weights: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 20, maxLength: 20 }),
  picks: fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { minLength: 10, maxLength: 10 }),
  seed: fc.integer({ min: 0, max: 1000 }),
});

/** Counterfactuals the fuzzing checked (so that the property is not vacuous). */
let fuzzChecked = 0;
/** Adverse rows whose found / not-found status the brute force confirmed. */
let fuzzComplete = 0;

fcTest.prop([world], { numRuns: 40, seed: 19 })(
  'fuzz: never changes an immutable or protected attribute, never leaves a range, a category list or a direction; each counterfactual re-scores favourable',
  async ({ attrs, weights, picks, seed }) => {
    const file = {
      attributes: attrs.map((a, i) =>
        a.type === 'numeric'
          ? {
              name: `n${i}`,
              type: 'numeric',
              min: a.min,
              max: a.min + a.span,
              integer: a.integer,
              ...(a.direction ? { direction: a.direction } : {}),
              ...(a.mutable !== undefined && !(a.mutable && a.protected) ? { mutable: a.mutable } : {}),
              ...(a.protected ? { protected: true } : {}),
              ...(a.step !== undefined && (a.integer || a.step !== undefined) ? { step: a.step } : {}),
            }
          : {
              name: `c${i}`,
              type: 'categorical',
              categories: Array.from({ length: a.nCategories }, (_, k) => `k${k}`),
              ...(a.mutable !== undefined && !(a.mutable && a.protected) ? { mutable: a.mutable } : {}),
              ...(a.protected ? { protected: true } : {}),
            },
      ),
    };
    const schema = parseSchema(file, 'fuzz');
    const d = schema.columns.length;
    const model = fromFunction(
      (x: Float64Array) => {
        let s = 0;
        for (let j = 0; j < d; j++) s += weights[j % weights.length] * x[j];
        return s;
      },
      { nInputs: d },
    );
    // applicants: values picked inside the ranges and category lists
    const records = picks.map((u, r) =>
      Object.fromEntries(
        schema.attributes.map((a, i) => {
          const w = (u + 0.37 * (i + 1) * (r + 1)) % 1;
          if (a.type === 'categorical') return [a.name, a.categories[Math.floor(w * a.categories.length)]];
          const lo = a.min as number;
          const hi = a.max as number;
          const v = lo + w * (hi - lo);
          return [a.name, a.integer ? Math.round(v) : v];
        }),
      ),
    );
    const rows = encodeRecords(schema, records);
    // threshold: the median score, so that about half the applicants are adverse
    const scores = Array.from(await model.predict(rows.data, rows.nRows)).sort((a, b) => a - b);
    const threshold = scores[Math.floor(scores.length / 2)];
    const rep = await recourse(model, rows, { schema, threshold, seed, budget: 300, maxChanges: 2 });
    const raw = decodeRows(schema, rows);
    // completeness: the model is additive over attributes, so a counterfactual of <= 2 changes
    // exists iff the two best single-attribute improvements (brute force over every allowed
    // value on the step grid) cover the gap to the threshold
    for (const r of rep.rows as RowRecourse[]) {
      if (r.decision !== 'adverse') continue;
      const gains: number[] = [];
      for (const a of schema.attributes) {
        if (!a.mutable) continue;
        const x = raw[r.index][a.name] as string | number;
        const values: (string | number)[] = [];
        if (a.type === 'categorical') values.push(...a.categories.filter((c) => c !== x));
        else {
          const lo = a.min as number;
          const hi = a.max as number;
          const step = a.step ?? (a.integer ? 1 : (hi - lo) / 100);
          const kLo = a.direction === 'increase' ? 0 : Math.ceil((lo - (x as number)) / step - 1e-9);
          const kHi = a.direction === 'decrease' ? 0 : Math.floor((hi - (x as number)) / step + 1e-9);
          for (let k = kLo; k <= kHi; k++)
            if (k !== 0) {
              const v = (x as number) + k * step;
              values.push(a.integer ? Math.round(v) : Number(v.toPrecision(12)));
            }
        }
        let best = 0;
        for (const v of values) {
          const [sv] = await model.predict(encodeRecords(schema, [{ ...raw[r.index], [a.name]: v }]).data, 1);
          best = Math.max(best, r.score - sv);
        }
        gains.push(best);
      }
      gains.sort((p, q) => q - p);
      const reach = (gains[0] ?? 0) + (gains[1] ?? 0);
      const need = r.score - threshold;
      if (Math.abs(reach - need) < 1e-9) continue;
      expect(r.status, `reach ${reach}, need ${need}`).toBe(reach > need ? 'found' : 'none-within-budget');
      fuzzComplete++;
    }
    for (const r of rep.rows as RowRecourse[]) {
      expect(recourseViolations(schema, r)).toEqual([]);
      expect(r.evaluations).toBeLessThanOrEqual(300);
      for (const cf of r.recourse) {
        expect(cf.changes.length).toBeGreaterThan(0);
        expect(cf.changes.length).toBeLessThanOrEqual(2);
        const changed = { ...raw[r.index] };
        for (const ch of cf.changes) {
          const a = schema.attributes.find((x) => x.name === ch.attribute);
          expect(a?.mutable && !a.protected).toBe(true);
          changed[ch.attribute] = ch.to;
        }
        const [s] = await model.predict(encodeRecords(schema, [changed]).data, 1);
        expect(s).toBeCloseTo(cf.score, 9);
        expect(s).toBeLessThanOrEqual(threshold);
        fuzzChecked++;
      }
    }
  },
);

it('the fuzzing checked counterfactuals (not a vacuous property)', () => {
  expect(fuzzChecked).toBeGreaterThan(20);
  expect(fuzzComplete).toBeGreaterThan(20);
});

describe('schema recourse fields', () => {
  it('parse with defaults, and refuse bad values naming the attribute', () => {
    const s = parseSchema({
      attributes: [
        { name: 'x', type: 'numeric', direction: 'increase', step: 2, scale: 5, integer: true },
        { name: 'c', type: 'categorical', categories: [{ value: 'a', label: 'Alpha' }, 'b'], mutable: false },
        { name: 'p', type: 'numeric', protected: true },
      ],
    });
    const [x, c, p] = s.attributes;
    expect(x).toMatchObject({ mutable: true, direction: 'increase', step: 2, scale: 5 });
    expect(c).toMatchObject({ mutable: false, categories: ['a', 'b'], categoryLabels: ['Alpha', 'b'] });
    expect(p).toMatchObject({ mutable: false, direction: 'any' });
    const bad = (attr: Record<string, unknown>) => () => parseSchema({ attributes: [{ name: 'q', ...attr }] });
    expect(bad({ type: 'numeric', direction: 'up' })).toThrow(
      /"q"\)\.direction must be "increase", "decrease" or "any"/,
    );
    expect(bad({ type: 'numeric', step: 0 })).toThrow(/"q"\)\.step must be > 0/);
    expect(bad({ type: 'numeric', integer: true, step: 0.5 })).toThrow(/"q"\)\.step must be a whole number/);
    expect(bad({ type: 'numeric', scale: -1 })).toThrow(/"q"\)\.scale must be > 0/);
    expect(bad({ type: 'numeric', mutable: 'yes' })).toThrow(/"q"\)\.mutable must be true or false/);
    expect(bad({ type: 'numeric', protected: true, mutable: true })).toThrow(
      /"q"\)\.mutable is true but the attribute is protected/,
    );
    expect(bad({ type: 'categorical', categories: [{ value: 'a' }] })).toThrow(
      /categories\[0\]\.label must be a non-empty string/,
    );
    expect(bad({ type: 'categorical', categories: ['a'], direction: 'increase' })).toThrow(/unknown field "direction"/);
  });

  it('a mutable numeric attribute without min/max needs background rows for its range', async () => {
    const schema = parseSchema({ attributes: [{ name: 'x', type: 'numeric', integer: true }] });
    const model = fromFunction((x: Float64Array) => x[0], { nInputs: 1 });
    const rows = encodeRecords(schema, [{ x: 3 }]);
    await expect(recourse(model, rows, { schema, threshold: 0 })).rejects.toThrow(/background rows/);
    const rep = await recourse(model, rows, {
      schema,
      threshold: 0,
      background: encodeRecords(schema, [{ x: -4 }, { x: 5 }]),
      seed: 1,
    });
    // the background range is [-4, 5]; the favourable region is x <= 0: the smallest change is to 0
    expect(rep.rows[0].recourse[0].changes).toEqual([{ attribute: 'x', from: 3, to: 0 }]);
  });
});
