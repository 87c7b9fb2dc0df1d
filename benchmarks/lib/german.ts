/**
 * Loader for the UCI Statlog (German Credit Data) set, `german.data`, encoded exactly like the
 * bundled synthetic demo `datasets/credit-demo/` (same 61 columns, same names and order, same
 * groups): 13 categorical attributes one-hot encoded as `<attribute>=<level>`, 7 numeric
 * attributes kept raw.
 *
 * Data: UCI Machine Learning Repository, "Statlog (German Credit Data)", donor Prof. Dr. Hans
 * Hofmann (Universität Hamburg), CC BY 4.0. Not bundled: read from `../shared/datasets/`
 * next to the repository (see that folder's README).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Default folder holding `german.data` (and `german.doc`): `<repo>/../shared/datasets`. */
export const GERMAN_DIR = fileURLToPath(new URL('../../../shared/datasets/', import.meta.url));

/** A categorical attribute: its UCI codes and the level labels used as column suffixes. */
export interface GermanCategorical {
  readonly kind: 'categorical';
  readonly name: string;
  /** Meaning, from `german.doc`. */
  readonly meaning: string;
  /** UCI codes in UCI order (A47 and A95, which never occur, are left out). */
  readonly codes: readonly string[];
  /** Level labels, one per code: column `<name>=<label>`. */
  readonly labels: readonly string[];
}

/** A numeric (integer) attribute, one raw column named like the attribute. */
export interface GermanNumeric {
  readonly kind: 'numeric';
  readonly name: string;
  /** Meaning, from `german.doc`. */
  readonly meaning: string;
}

/** One of the 20 attributes of `german.data`. */
export type GermanAttribute = GermanCategorical | GermanNumeric;

const cat = (name: string, meaning: string, levels: readonly (readonly [string, string])[]): GermanCategorical => ({
  kind: 'categorical',
  name,
  meaning,
  codes: levels.map((l) => l[0]),
  labels: levels.map((l) => l[1]),
});
const num = (name: string, meaning: string): GermanNumeric => ({ kind: 'numeric', name, meaning });

/**
 * The 20 attributes in `german.data` column order, with the names and level labels of
 * `datasets/credit-demo/` (keep both in sync with `scripts/make-demo.ts`).
 */
export const GERMAN_ATTRIBUTES: readonly GermanAttribute[] = [
  cat('checking_status', 'status of existing checking account', [
    ['A11', '<0DM'],
    ['A12', '0-200DM'],
    ['A13', '>=200DM'],
    ['A14', 'none'],
  ]),
  num('duration_months', 'duration of the credit in months'),
  cat('credit_history', 'credit history', [
    ['A30', 'none_taken/all_paid'],
    ['A31', 'all_paid_this_bank'],
    ['A32', 'existing_paid'],
    ['A33', 'past_delay'],
    ['A34', 'critical/other_credits'],
  ]),
  cat('purpose', 'purpose of the credit', [
    ['A40', 'car_new'],
    ['A41', 'car_used'],
    ['A42', 'furniture/equipment'],
    ['A43', 'radio/tv'],
    ['A44', 'domestic_appliances'],
    ['A45', 'repairs'],
    ['A46', 'education'],
    ['A48', 'retraining'],
    ['A49', 'business'],
    ['A410', 'other'],
  ]),
  num('credit_amount', 'credit amount (DM)'),
  cat('savings', 'savings account/bonds', [
    ['A61', '<100DM'],
    ['A62', '100-500DM'],
    ['A63', '500-1000DM'],
    ['A64', '>=1000DM'],
    ['A65', 'unknown/none'],
  ]),
  cat('employment', 'present employment since', [
    ['A71', 'unemployed'],
    ['A72', '<1y'],
    ['A73', '1-4y'],
    ['A74', '4-7y'],
    ['A75', '>=7y'],
  ]),
  num('installment_rate', 'installment rate in % of disposable income (1-4)'),
  cat('personal_status', 'personal status and sex', [
    ['A91', 'male_divorced/separated'],
    ['A92', 'female_divorced/separated/married'],
    ['A93', 'male_single'],
    ['A94', 'male_married/widowed'],
  ]),
  cat('other_debtors', 'other debtors/guarantors', [
    ['A101', 'none'],
    ['A102', 'co-applicant'],
    ['A103', 'guarantor'],
  ]),
  num('residence_since', 'present residence since (years, 1-4)'),
  cat('property', 'most valuable property', [
    ['A121', 'real_estate'],
    ['A122', 'savings_agreement/life_insurance'],
    ['A123', 'car/other'],
    ['A124', 'unknown/none'],
  ]),
  num('age', 'age in years'),
  cat('other_installment_plans', 'other installment plans', [
    ['A141', 'bank'],
    ['A142', 'stores'],
    ['A143', 'none'],
  ]),
  cat('housing', 'housing', [
    ['A151', 'rent'],
    ['A152', 'own'],
    ['A153', 'for_free'],
  ]),
  num('existing_credits', 'number of existing credits at this bank'),
  cat('job', 'job', [
    ['A171', 'unskilled_non_resident'],
    ['A172', 'unskilled_resident'],
    ['A173', 'skilled'],
    ['A174', 'highly_qualified/management'],
  ]),
  num('people_liable', 'number of people liable to provide maintenance for'),
  cat('telephone', 'telephone registered under the customer name', [
    ['A191', 'none'],
    ['A192', 'yes'],
  ]),
  cat('foreign_worker', 'foreign worker', [
    ['A201', 'yes'],
    ['A202', 'no'],
  ]),
];

/** The 61 model columns: the numeric attributes by name, the categorical ones as `<name>=<level>`. */
export const GERMAN_COLUMNS: readonly string[] = GERMAN_ATTRIBUTES.flatMap((a) =>
  a.kind === 'numeric' ? [a.name] : a.labels.map((l) => `${a.name}=${l}`),
);

/** The encoded German credit data returned by {@link loadGerman}. */
export interface GermanData {
  /** The 61 column names ({@link GERMAN_COLUMNS}). */
  readonly columns: string[];
  /** nRows × 61 values, row-major, in `german.data` row order (1000 rows for the UCI file). */
  readonly data: Float64Array;
  /** 1 = bad credit risk (UCI class 2), 0 = good (UCI class 1); one per row. */
  readonly labels: Uint8Array;
  /** The 13 categorical attributes → their one-hot columns (as `datasets/credit-demo/groups.json`). */
  readonly groups: Record<string, string[]>;
}

/**
 * Whether `german.data` can be read from `dir`. Benchmarks on the real data call this first
 * and skip with a message when it is false (the data are not part of the repository).
 *
 * @param dir - folder expected to hold `german.data`; defaults to {@link GERMAN_DIR}.
 */
export function germanAvailable(dir: string = GERMAN_DIR): boolean {
  return existsSync(join(dir, 'german.data'));
}

/**
 * Reads `german.data` (UCI original form: no header, 21 whitespace-separated fields per row,
 * 20 attributes then the class, 1 = good, 2 = bad) and encodes it like `datasets/credit-demo/`.
 *
 * @param dir - folder holding `german.data`; defaults to {@link GERMAN_DIR} (`<repo>/../shared/datasets`).
 * @returns the 61 columns, the row-major data, the labels (1 = bad) and the attribute groups.
 * @throws {Error} when the file is missing, or a line has the wrong number of fields, an
 *   unknown code, a non-integer numeric value or a class other than 1 or 2 (with its line number).
 *
 * @example
 * if (germanAvailable()) {
 *   const { columns, data, labels, groups } = loadGerman();
 *   // data.length === 1000 * 61, columns[0] === 'checking_status=<0DM'
 * }
 */
export function loadGerman(dir: string = GERMAN_DIR): GermanData {
  const path = join(dir, 'german.data');
  if (!existsSync(path)) throw new Error(`loadGerman: ${path} not found`);
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .map((l, i) => ({ no: i + 1, fields: l.trim().split(/\s+/) }))
    .filter((l) => l.fields[0] !== '');
  const nAttrs = GERMAN_ATTRIBUTES.length;
  const d = GERMAN_COLUMNS.length;
  const data = new Float64Array(lines.length * d);
  const labels = new Uint8Array(lines.length);
  lines.forEach(({ no, fields }, r) => {
    if (fields.length !== nAttrs + 1)
      throw new Error(`loadGerman: ${path}:${no}: ${fields.length} fields, expected ${nAttrs + 1}`);
    let c = r * d;
    GERMAN_ATTRIBUTES.forEach((a, k) => {
      const v = fields[k];
      if (a.kind === 'numeric') {
        if (!/^\d+$/.test(v)) throw new Error(`loadGerman: ${path}:${no}: ${a.name} = ${JSON.stringify(v)}`);
        data[c++] = Number(v);
      } else {
        const level = a.codes.indexOf(v);
        if (level < 0) throw new Error(`loadGerman: ${path}:${no}: unknown ${a.name} code ${JSON.stringify(v)}`);
        data[c + level] = 1;
        c += a.codes.length;
      }
    });
    const cls = fields[nAttrs];
    if (cls !== '1' && cls !== '2') throw new Error(`loadGerman: ${path}:${no}: class ${JSON.stringify(cls)}`);
    labels[r] = cls === '2' ? 1 : 0;
  });
  const groups: Record<string, string[]> = {};
  for (const a of GERMAN_ATTRIBUTES)
    if (a.kind === 'categorical') groups[a.name] = a.labels.map((l) => `${a.name}=${l}`);
  return { columns: [...GERMAN_COLUMNS], data, labels, groups };
}
