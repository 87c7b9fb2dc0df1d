import { describe, expect, it } from 'vitest';
import type { RawRecord } from '../../src/data/encoder.js';
import { encodeRecords } from '../../src/data/encoder.js';
import type { SchemaFile } from '../../src/data/schema.js';
import { parseSchema, schemaPlayers } from '../../src/data/schema.js';
import { DataError, InvalidOptionError } from '../../src/errors.js';
import { explain } from '../../src/explain.js';
import type { Explanation } from '../../src/explanation/explanation.js';
import { explanationToJSON } from '../../src/explanation/explanation.js';
import { globalImportance } from '../../src/explanation/importance.js';
import {
  backgroundBaselines,
  parseReasonTemplates,
  REASON_TOLERANCE,
  reasonCodes,
  reasonsToJSON,
} from '../../src/explanation/reasons.js';
import { fromFunction } from '../../src/models/function-model.js';

/** Columns: term, amount, housing=rent, housing=own, housing=free, age, region (no weight). */
const FILE: SchemaFile = {
  attributes: [
    { name: 'term', type: 'numeric', label: 'Loan term' },
    { name: 'amount', type: 'numeric', mean: 1000, std: 500 },
    { name: 'housing', type: 'categorical', categories: ['rent', 'own', 'free'] },
    { name: 'age', type: 'numeric', protected: true },
    { name: 'region', type: 'categorical', categories: ['north', 'south'] },
  ],
};
const schema = parseSchema(FILE, 'toy-schema.json');
// linear score: φ_a = w·(x − mean background) exactly (independent truth)
const W = [0.1, 0.3, 0.5, 0, -0.2, -0.05, 0, 0];
const score = (r: ArrayLike<number>) => W.reduce((s, w, i) => s + w * r[i], 0);
const model = fromFunction((r: Float64Array) => [score(r)], { nInputs: 8 });

const templates = parseReasonTemplates(
  {
    reasons: {
      term: { code: 'T1', higher: 'Term too long ({value} > {baseline})', lower: 'Term short ({value})' },
      amount: 'Amount {value} ({label})',
      housing: { code: 'H1', categories: { rent: 'Renting' }, text: 'Housing: {value}' },
    },
    default: '{attribute} is {value}',
  },
  'reasons.json',
  schema,
);

const bgRecords: RawRecord[] = [
  { term: 10, amount: 1000, housing: 'own', age: 40, region: 'north' },
  { term: 20, amount: 1500, housing: 'own', age: 30, region: 'south' },
  { term: 30, amount: 500, housing: 'free', age: 50, region: 'north' },
];
const bg = encodeRecords(schema, bgRecords);

async function explainRecords(records: RawRecord[]): Promise<Explanation> {
  return explain(model, encodeRecords(schema, records), {
    background: bg,
    players: schemaPlayers(schema),
    method: 'exact',
    threads: 1,
    seed: 3,
  });
}

describe('reasonCodes', () => {
  it('ranks the attributes pushing toward the adverse outcome, renders templates, skips protected ones', async () => {
    const exp = await explainRecords([{ term: 50, amount: 2000, housing: 'rent', age: 90, region: 'north' }]);
    // truth: term 0.1·(50−20)=3, amount 0.3·(2−(0+1−1)/3)=0.6, housing rent 0.5 − mean(own,own,free)=0.5−(−0.2/3)
    const report = reasonCodes(exp, { schema, templates, threshold: 1, background: bg });
    const [dec] = report.decisions;
    expect(dec.decision).toBe('adverse');
    expect(dec.reasons.map((r) => r.attribute)).toEqual(['term', 'amount', 'housing']);
    expect(dec.reasons[0].contribution).toBeCloseTo(3, 10);
    expect(dec.reasons[1].contribution).toBeCloseTo(0.6, 10);
    expect(dec.reasons[2].contribution).toBeCloseTo(0.5 + 0.2 / 3, 10);
    expect(dec.reasons.map((r) => r.statement)).toEqual(['Term too long (50 > 20)', 'Amount 2000 (amount)', 'Renting']);
    expect(dec.reasons[0]).toMatchObject({ rank: 1, code: 'T1', label: 'Loan term', value: 50, baseline: 20 });
    // age pushes down (−0.05·(90−40)) here, so nothing protected could appear anyway; make age adverse:
    const young = await explainRecords([{ term: 50, amount: 2000, housing: 'rent', age: 0, region: 'north' }]);
    const phiAge = young.values[3];
    expect(phiAge).toBeCloseTo(-0.05 * (0 - 40), 10); // +2: the second-largest push
    expect(
      reasonCodes(young, { schema, templates, threshold: 1, background: bg }).decisions[0].reasons.map(
        (r) => r.attribute,
      ),
    ).toEqual(['term', 'amount', 'housing']);
  });

  it('respects top, the adverse direction, the threshold and reasonsFor', async () => {
    const exp = await explainRecords([
      { term: 50, amount: 2000, housing: 'rent', age: 40, region: 'north' },
      { term: 1, amount: 100, housing: 'free', age: 40, region: 'north' },
    ]);
    const top1 = reasonCodes(exp, { schema, templates, top: 1, threshold: 1, background: bg });
    expect(top1.decisions[0].reasons.map((r) => r.attribute)).toEqual(['term']);
    expect(top1.decisions[1]).toMatchObject({ decision: 'favorable', reasons: [] });
    // 'lower' is adverse: row 1 has a low score; its reasons are the attributes pulling it down
    const low = reasonCodes(exp, { schema, templates, adverse: 'lower', threshold: 1, background: bg });
    expect(low.decisions.map((d) => d.decision)).toEqual(['favorable', 'adverse']);
    expect(low.decisions[1].reasons.map((r) => r.attribute)).toEqual(['term', 'amount', 'housing']);
    expect(low.decisions[1].reasons[0].statement).toBe('Term short (1)');
    expect(low.decisions[1].reasons[2].statement).toBe('Housing: free');
    for (const r of low.decisions[1].reasons) expect(r.contribution).toBeLessThan(0);
    // a score equal to the threshold is not adverse
    const at = reasonCodes(exp, { schema, templates, threshold: exp.predictions[0], background: bg });
    expect(at.decisions[0].decision).toBe('favorable');
    const all = reasonCodes(exp, { schema, templates, threshold: 100, reasonsFor: 'all', background: bg });
    expect(all.decisions[0].reasons.length).toBe(3);
  });

  it('never lists ~0 contributions (tolerance) and breaks ties by schema order', async () => {
    // term +1 over the mean gives φ 0.1; amount chosen to give exactly 0.1 too (1000+500/3·... )
    const exp = await explainRecords([{ term: 21, amount: 1000 + 500 / 3, housing: 'own', age: 40, region: 'south' }]);
    const phi = Array.from(exp.values);
    expect(phi[0]).toBeCloseTo(0.1, 12);
    expect(phi[1]).toBeCloseTo(0.1, 12);
    // force an exact tie and a tiny value by editing a copy of the explanation
    const values = Float64Array.from(phi);
    values[1] = values[0];
    values[2] = 1e-9;
    const edited = { ...exp, values };
    const rep = reasonCodes(edited, { schema, templates, threshold: -100, background: bg });
    expect(rep.decisions[0].reasons.map((r) => r.attribute)).toEqual(['term', 'amount']);
    expect(rep.tolerance).toBe(REASON_TOLERANCE);
    // the same explanation with its players listed in reverse: ties still follow the schema order
    const reversed = {
      ...edited,
      players: [...edited.players].reverse(),
      playerColumns: [...edited.playerColumns].reverse(),
      values: Float64Array.from(values).reverse(),
    };
    const swapped = reasonCodes(reversed, { schema, templates, threshold: -100, background: bg });
    expect(swapped.decisions[0].reasons.map((r) => r.attribute)).toEqual(['term', 'amount']);
    // a large tolerance drops everything
    expect(
      reasonCodes(edited, { schema, templates, threshold: -100, tolerance: 0.9, background: bg }).decisions[0].reasons,
    ).toEqual([]);
  });

  it('records the baseline and a complete audit record', async () => {
    const exp = await explainRecords([{ term: 50, amount: 2000, housing: 'rent', age: 40, region: 'north' }]);
    const rep = reasonCodes(exp, {
      schema,
      templates,
      background: bg,
      audit: { modelSha256: 'ab'.repeat(32), modelFile: 'm.onnx' },
    });
    expect(rep.baseline.baseValue).toBeCloseTo(
      bgRecords.reduce((s, _, b) => s + score(bg.data.subarray(b * 8)), 0) / 3,
    );
    expect(rep.baseline.attributes).toEqual({ term: 20, amount: 1000, housing: 'own', age: 40, region: 'north' });
    expect(rep.decisions[0].audit).toMatchObject({
      row: 0,
      decision: 'adverse',
      modelSha256: 'ab'.repeat(32),
      modelFile: 'm.onnx',
      schemaSha256: schema.sha256,
      templatesSha256: templates.sha256,
      seed: 3,
      method: 'exact',
      budget: 32,
      exact: true,
      threshold: 0.5,
      adverse: 'higher',
      background: { rows: 3 },
    });
    expect(rep.decisions[0].audit.version).toMatch(/^\d+\.\d+\.\d+/);
    const json = reasonsToJSON(explanationToJSON(exp), rep);
    expect(json.rows[0]).toMatchObject({ index: 0, decision: 'adverse', reasons: rep.decisions[0].reasons });
    expect(json.players).toEqual(exp.players);
    expect(json.reasonOptions).toMatchObject({ top: 4, threshold: 0.5, adverse: 'higher' });
  });

  it('rejects explanations whose players are not the schema attributes, and bad options', async () => {
    const exp = await explainRecords([{ term: 50, amount: 2000, housing: 'rent', age: 40, region: 'north' }]);
    expect(() => reasonCodes({ ...exp, players: ['x', ...exp.players.slice(1)] }, { schema, templates })).toThrow(
      /player "x" is no attribute of the schema/,
    );
    expect(() => reasonCodes(exp, { schema, templates, top: 0 })).toThrow(InvalidOptionError);
    expect(() => reasonCodes(exp, { schema, templates, adverse: 'up' as never })).toThrow(InvalidOptionError);
    expect(() => reasonCodes(exp, { schema, templates, threshold: Number.NaN })).toThrow(InvalidOptionError);
    // a higher/lower template needs the background to know the direction
    expect(() => reasonCodes(exp, { schema, templates })).toThrow(/background/);
  });
});

describe('parseReasonTemplates', () => {
  const bad: [string, unknown, RegExp][] = [
    [
      'an unknown attribute',
      { reasons: { trm: 'x' }, default: 'y' },
      /reasons\.trm names no attribute of the schema \(did you mean "term"\?\)/,
    ],
    ['a bad placeholder', { reasons: { term: 'Term {valu}' }, default: 'y' }, /uses the placeholder \{valu\}/],
    [
      'an unknown category',
      { reasons: { housing: { categories: { villa: 'x' } } }, default: 'y' },
      /names "villa", which is not a category of housing/,
    ],
    ['higher on a categorical', { reasons: { housing: { higher: 'x' } }, default: 'y' }, /is for numeric attributes/],
    ['missing statements', { reasons: { term: 'x' } }, /give no statement for "amount", "housing", "region"/],
    ['an empty statement', { reasons: { term: ' ' }, default: 'y' }, /must be a non-empty statement/],
    ['not JSON', '{', /not valid JSON/],
  ];
  for (const [what, json, message] of bad)
    it(`rejects ${what}`, () => {
      expect(() => parseReasonTemplates(json, 'r.json', schema)).toThrow(DataError);
      expect(() => parseReasonTemplates(json, 'r.json', schema)).toThrow(message);
    });

  it('needs no statement for protected attributes', () => {
    expect(() =>
      parseReasonTemplates({ reasons: { term: 'a', amount: 'b', housing: 'c', region: 'd' } }, 'r.json', schema),
    ).not.toThrow();
  });
});

describe('globalImportance and baselines', () => {
  it('is the mean |φ| per attribute, sorted', async () => {
    const exp = await explainRecords([
      { term: 50, amount: 2000, housing: 'rent', age: 40, region: 'north' },
      { term: 10, amount: 500, housing: 'own', age: 60, region: 'north' },
    ]);
    const imp = globalImportance(exp);
    const truth = exp.players.map((_, p) => (Math.abs(exp.values[p]) + Math.abs(exp.values[5 + p])) / 2);
    imp.players.forEach((name, k) => {
      expect(imp.meanAbs[k]).toBeCloseTo(truth[exp.players.indexOf(name)], 12);
      if (k > 0) expect(imp.meanAbs[k]).toBeLessThanOrEqual(imp.meanAbs[k - 1]);
    });
    expect(imp.players[0]).toBe('term');
    expect(imp.players.at(-1)).toBe('region'); // weight 0: exactly 0
  });

  it('weights the background baselines', () => {
    const b = backgroundBaselines(schema, {
      data: bg.data,
      nRows: 3,
      nColumns: 8,
      weights: Float64Array.of(0.1, 0.1, 0.8),
      summary: '',
    });
    expect(b.term).toBeCloseTo(0.1 * 10 + 0.1 * 20 + 0.8 * 30, 10);
    expect(b.housing).toBe('free');
  });
});
