/**
 * The reason-code part of the credit demo (used by scripts/make-demo.ts): the raw-attribute
 * schema, the reason templates, raw-record CSVs, the ground truth as machine-readable JSON,
 * and the ground-truth model as an ONNX "scorecard" (so reason codes can be checked against
 * the planted effects end to end).
 */
import { buildModel, node, tensor, valueInfo } from './onnx-builder.js';

/** What the demo generator knows about an attribute. */
export interface DemoAttr {
  readonly kind: 'categorical' | 'numeric';
  readonly name: string;
  readonly meaning: string;
  readonly labels?: readonly string[];
}

/** Ranges of the numeric attributes (as drawn by the generator). */
export const NUMERIC_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  duration_months: [4, 72],
  credit_amount: [250, 18000],
  installment_rate: [1, 4],
  residence_since: [1, 4],
  age: [19, 75],
  existing_credits: [1, 4],
  people_liable: [1, 2],
};

/**
 * Protected attributes (ECOA / Regulation B prohibited bases): personal status encodes sex and
 * marital status, age, and foreign worker (national origin). Explained, never a reason.
 */
export const PROTECTED = ['personal_status', 'age', 'foreign_worker'] as const;

/**
 * Recourse settings of the schema: attributes an applicant cannot change (the past, time,
 * circumstances) are `mutable: false`; protected ones are never changed anyway. Numeric
 * attributes that may move one way only carry a `direction`; the credit amount moves in 50 DM steps.
 */
export const RECOURSE_FIELDS: Readonly<Record<string, Record<string, unknown>>> = {
  credit_history: { mutable: false },
  employment: { mutable: false },
  residence_since: { mutable: false },
  property: { mutable: false },
  housing: { mutable: false },
  job: { mutable: false },
  people_liable: { mutable: false },
  credit_amount: { direction: 'decrease', step: 50 },
  existing_credits: { direction: 'decrease' },
};

/** A readable label of a level name (`real_estate` → `real estate`, `a/b` → `a or b`). */
export function levelLabel(level: string): string {
  return level.replace(/_/g, ' ').replace(/\//g, ' or ');
}

/** The schema file: every attribute, with its label, range, protection and recourse settings. */
export function demoSchema(
  attrs: readonly DemoAttr[],
  columns: readonly string[],
  ranges: Readonly<Record<string, readonly [number, number]>> = NUMERIC_RANGES,
): unknown {
  return {
    name: 'credit-demo',
    description:
      'Raw attributes of the synthetic credit demo -> the 61 input columns of model.onnx and scorecard.onnx (one-hot categories, raw integers; the models standardise internally). Made by scripts/make-demo.ts.',
    attributes: attrs.map((a) => {
      const label = a.meaning.charAt(0).toUpperCase() + a.meaning.slice(1);
      const prot = (PROTECTED as readonly string[]).includes(a.name) ? { protected: true } : {};
      const rec = RECOURSE_FIELDS[a.name] ?? {};
      if (a.kind === 'categorical')
        return {
          name: a.name,
          type: 'categorical',
          label,
          categories: (a.labels ?? []).map((l) => (levelLabel(l) === l ? l : { value: l, label: levelLabel(l) })),
          ...prot,
          ...rec,
        };
      const [min, max] = ranges[a.name];
      return { name: a.name, type: 'numeric', label, min, max, integer: true, ...prot, ...rec };
    }),
    columns,
    policy: { unknownCategory: 'error', missing: 'error', outOfRange: 'error' },
  };
}

/** Reason statements (adverse-action wording) for every non-protected attribute. */
export const REASON_TEMPLATES = {
  description:
    'Statements for the principal reasons of an adverse credit decision (credit-demo). {value} is the applicant value, {baseline} the background mean or most frequent category.',
  reasons: {
    checking_status: {
      code: 'R01',
      categories: {
        '<0DM': 'Checking account balance is negative',
        '0-200DM': 'Checking account balance is low (0-200 DM)',
        '>=200DM': 'Checking account balance ({value})',
        none: 'No checking account with us',
      },
    },
    duration_months: {
      code: 'R02',
      higher: 'Loan term is too long ({value} months; typical {baseline})',
      lower: 'Loan term is short ({value} months)',
    },
    credit_history: {
      code: 'R03',
      categories: {
        'none_taken/all_paid': 'No credit taken, or all credits paid back duly',
        all_paid_this_bank: 'All credits at this bank paid back duly',
        existing_paid: 'Existing credits paid back duly till now',
        past_delay: 'Delinquency in paying off credits in the past',
        'critical/other_credits': 'Critical account or credits existing at other banks',
      },
    },
    purpose: { code: 'R04', text: 'Purpose of the credit ({value})' },
    credit_amount: {
      code: 'R05',
      higher: 'Credit amount is too high ({value} DM; typical {baseline} DM)',
      lower: 'Credit amount is low ({value} DM)',
    },
    savings: {
      code: 'R06',
      categories: {
        '<100DM': 'Insufficient savings (below 100 DM)',
        '100-500DM': 'Limited savings (100-500 DM)',
        '500-1000DM': 'Savings of 500-1000 DM',
        '>=1000DM': 'Savings of 1000 DM or more',
        'unknown/none': 'No known savings account',
      },
    },
    employment: {
      code: 'R07',
      categories: {
        unemployed: 'Currently unemployed',
        '<1y': 'Length of employment is too short (under 1 year)',
        '1-4y': 'Length of employment (1-4 years)',
        '4-7y': 'Length of employment (4-7 years)',
        '>=7y': 'Length of employment (7 years or more)',
      },
    },
    installment_rate: {
      code: 'R08',
      higher: 'Installments are too high relative to disposable income (rate {value} of 4)',
      lower: 'Installment rate ({value} of 4)',
    },
    other_debtors: { code: 'R09', text: 'Other debtors or guarantors ({value})' },
    residence_since: {
      code: 'R10',
      higher: 'Time at present residence ({value} years)',
      lower: 'Time at present residence is too short ({value} years)',
    },
    property: { code: 'R11', text: 'Property ({value})' },
    other_installment_plans: {
      code: 'R12',
      categories: {
        bank: 'Other installment plans with banks',
        stores: 'Other installment plans with stores',
        none: 'No other installment plans',
      },
    },
    housing: {
      code: 'R13',
      categories: {
        rent: 'Applicant rents housing',
        own: 'Applicant owns housing',
        for_free: 'Applicant lives for free',
      },
    },
    existing_credits: {
      code: 'R14',
      higher: 'Too many existing credits at this bank ({value})',
      lower: 'Number of existing credits at this bank ({value})',
    },
    job: { code: 'R15', text: 'Type of job ({value})' },
    people_liable: {
      code: 'R16',
      higher: 'Number of dependants ({value})',
      lower: 'Number of dependants ({value})',
    },
    telephone: { code: 'R17', text: 'No telephone registered ({value})' },
  },
} as const;

/** A raw-record CSV: an `id` column, then the attributes; category labels contain no commas. */
export function rawCsv(
  attrs: readonly DemoAttr[],
  records: readonly Record<string, number | string>[],
  ids: readonly string[],
): string {
  const header = ['id', ...attrs.map((a) => a.name)];
  const lines = records.map((r, i) =>
    [ids[i], ...attrs.map((a) => String(r[a.name]))]
      .map((c) => {
        if (/[",\n]/.test(c)) throw new Error(`CSV cell ${JSON.stringify(c)} would need quoting`);
        return c;
      })
      .join(','),
  );
  return `${[header.join(','), ...lines].join('\n')}\n`;
}

/** The ground truth, machine-readable (the same numbers as the README). */
export interface Truth {
  intercept: number;
  levelEffects: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** 0.6 · (duration − 20) / 12 */
  duration: { center: number; scale: number; coef: number };
  /** 0.35 · log2(amount / 2300) */
  amount: { reference: number; coef: number };
  /** 0.3 · d · m */
  interaction: number;
  /** 0.07 · max(0, 30 − age) */
  young: { below: number; coef: number };
  /** 0.2 · (installment_rate − 3) */
  installment: { center: number; coef: number };
}

/**
 * The ground truth as an ONNX model over the 61 demo columns: log-odds = intercept + x·w
 * (level effects, the linear parts) + 0.35 m + 0.3 d m + 0.07 relu(30 − age), p = sigmoid;
 * outputs `label` (ArgMax) and `probabilities` [1 − p, p] as the MLP does.
 */
export function buildScorecard(columns: readonly string[], truth: Truth): Uint8Array {
  const d = columns.length;
  const col = (name: string): number => {
    const i = columns.indexOf(name);
    if (i < 0) throw new Error(`no column ${name}`);
    return i;
  };
  const w = new Float32Array(d);
  for (const [attr, effects] of Object.entries(truth.levelEffects))
    for (const [level, e] of Object.entries(effects)) w[col(`${attr}=${level}`)] = e;
  w[col('duration_months')] = truth.duration.coef / truth.duration.scale;
  w[col('installment_rate')] = truth.installment.coef;
  const bias =
    truth.intercept -
    (truth.duration.coef * truth.duration.center) / truth.duration.scale -
    truth.installment.coef * truth.installment.center;
  const select = (name: string): Float32Array => {
    const s = new Float32Array(d);
    s[col(name)] = 1;
    return s;
  };
  const scalar = (name: string, v: number) => tensor(name, [1], Float32Array.of(v));
  return buildModel({
    name: 'credit_demo_scorecard',
    docString:
      'whybox credit-demo ground truth: P(bad) = sigmoid(intercept + level effects + 0.6 d + 0.35 m + 0.3 d m + 0.07 max(0, 30 - age) + 0.2 (rate - 3)), d = (duration - 20) / 12, m = log2(amount / 2300). Made by scripts/make-demo.ts.',
    inputs: [valueInfo('x', 'float', ['batch', d])],
    outputs: [valueInfo('label', 'int64', ['batch']), valueInfo('probabilities', 'float', ['batch', 2])],
    initializers: [
      tensor('w', [d, 1], w),
      scalar('bias', bias),
      tensor('sel_duration', [d, 1], select('duration_months')),
      tensor('sel_amount', [d, 1], select('credit_amount')),
      tensor('sel_age', [d, 1], select('age')),
      scalar('dur_center', truth.duration.center),
      scalar('dur_inv_scale', 1 / truth.duration.scale),
      scalar('amount_inv_ref', 1 / truth.amount.reference),
      scalar('amount_coef_ln2', truth.amount.coef / Math.LN2),
      scalar('inv_ln2', 1 / Math.LN2),
      scalar('interaction', truth.interaction),
      scalar('young_below', truth.young.below),
      scalar('young_coef', truth.young.coef),
      scalar('one', 1),
    ],
    nodes: [
      node('MatMul', ['x', 'w'], ['lin_']),
      node('Add', ['lin_', 'bias'], ['lin']),
      node('MatMul', ['x', 'sel_duration'], ['dur']),
      node('Sub', ['dur', 'dur_center'], ['dur_c']),
      node('Mul', ['dur_c', 'dur_inv_scale'], ['d']),
      node('MatMul', ['x', 'sel_amount'], ['amt']),
      node('Mul', ['amt', 'amount_inv_ref'], ['amt_r']),
      node('Log', ['amt_r'], ['ln_amt']),
      node('Mul', ['ln_amt', 'amount_coef_ln2'], ['amount_term']),
      node('Mul', ['ln_amt', 'inv_ln2'], ['m']),
      node('Mul', ['d', 'm'], ['dm']),
      node('Mul', ['dm', 'interaction'], ['interaction_term']),
      node('MatMul', ['x', 'sel_age'], ['age_']),
      node('Sub', ['young_below', 'age_'], ['young_']),
      node('Relu', ['young_'], ['young_r']),
      node('Mul', ['young_r', 'young_coef'], ['young_term']),
      node('Add', ['lin', 'amount_term'], ['z1']),
      node('Add', ['z1', 'interaction_term'], ['z2']),
      node('Add', ['z2', 'young_term'], ['logit']),
      node('Sigmoid', ['logit'], ['p_bad']),
      node('Sub', ['one', 'p_bad'], ['p_good']),
      node('Concat', ['p_good', 'p_bad'], ['probabilities'], { axis: { int: 1 } }),
      node('ArgMax', ['probabilities'], ['label'], { axis: { int: 1 }, keepdims: { int: 0 } }),
    ],
  });
}

/** Applicants in `applicants-many-raw.csv` (a separate seeded draw, for reason-code checks and the report). */
export const RAW_MANY = 400;
