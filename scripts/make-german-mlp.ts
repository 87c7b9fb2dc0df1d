/**
 * Writes `benchmarks/fixtures/german-mlp.onnx`: an MLP 61-64-32-2 (ReLU, standardisation in
 * the graph, outputs `label` then `probabilities`, column 1 = P(bad)) trained on the real UCI
 * Statlog German credit data, encoded like `datasets/credit-demo/` (see
 * `benchmarks/lib/german.ts`). Same model shape and trainer as `make-demo.ts`.
 *
 * A seeded, stratified split puts 800 rows in training and 200 in a holdout. The weight decay
 * is chosen on a validation split inside the 800 training rows (600 fit / 200 validate, lowest
 * validation log-loss); the final model is then trained on all 800 rows and scored once on
 * the holdout. Also writes the split (`german-mlp.split.json`) and a README with the measured
 * accuracy / AUC.
 *
 * Checks with onnxruntime-node that the ONNX P(bad) reproduces the JS forward pass within
 * 1e-5 on all 1000 rows; exits 1 otherwise (or when the data are missing). Seeded and
 * reproducible: running it again rewrites byte-identical files.
 *
 * Not part of `npm test`. Usage: npx tsx scripts/make-german-mlp.ts
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GERMAN_ATTRIBUTES, GERMAN_DIR, germanAvailable, loadGerman } from '../benchmarks/lib/german.js';
import { demoSchema, NUMERIC_RANGES, REASON_TEMPLATES } from './lib/credit-reasons.js';
import { compactJson, markdownTable } from './lib/format.js';
import type { Dense } from './lib/nn.js';
import { runOnnx } from './lib/ort-check.js';
import { createRandom, type Random } from './lib/random.js';
import { buildScaledMlpModel, fitScaler, predictBad, type Scaler, standardise } from './lib/scaled-mlp.js';
import { accuracy, rocAuc, type TrainOptions, toDenseLayers, trainMlp } from './lib/train.js';

const OUT_DIR = fileURLToPath(new URL('../benchmarks/fixtures/', import.meta.url));
const MODEL_FILE = 'german-mlp.onnx';
/** The logistic regression (same trainer and split), for the German credit example. */
const LOGISTIC_FILE = 'german-logistic.onnx';
/** Schema and reason templates of the German credit example (examples/german-credit.ts). */
const EXAMPLE_DIR = fileURLToPath(new URL('../examples/german-credit/', import.meta.url));
/** Numeric ranges of the UCI data (german.doc; the demo's credit amount stops at 18000). */
const GERMAN_RANGES = { ...NUMERIC_RANGES, credit_amount: [250, 18424] } as const;
const SPLIT_FILE = 'german-mlp.split.json';

const SEEDS = { split: 4101, init: 4102 } as const;
const N_HOLDOUT = 200;
const N_VALIDATION = 200;
/**
 * Trainer settings of `make-demo.ts` (Adam 5e-4, minibatches of 32) except the epochs: 100
 * instead of 300 keeps the whole script well under a minute. Checked on the fit/validation
 * rows only (decays 0.03-0.15): 300 epochs reach the same best validation log-loss (0.492,
 * decay 0.1) in three times the time.
 */
const BASE = { epochs: 100, batchSize: 32, learningRate: 5e-4 } as const;
const MLP_SIZES = [61, 64, 32, 2] as const;
/** Logistic regression (no hidden layer), same trainer: a reference point for the MLP. */
const LOGISTIC_SIZES = [61, 2] as const;
/** Weight decays tried on the validation split. */
const WEIGHT_DECAYS = [0.01, 0.03, 0.06, 0.1, 0.15, 0.2] as const;
const ORT_TOLERANCE = 1e-5;

type Rows = number[][];

/** Indices 0..n-1 split into `take` and the rest, stratified by label, each sorted ascending. */
function stratifiedSplit(
  indices: readonly number[],
  labels: Uint8Array,
  take: number,
  rng: Random,
): { taken: number[]; rest: number[] } {
  const taken: number[] = [];
  const rest: number[] = [];
  const nBad = indices.filter((i) => labels[i] === 1).length;
  const takeBad = Math.round((take * nBad) / indices.length);
  for (const [cls, k] of [
    [1, takeBad],
    [0, take - takeBad],
  ] as const) {
    const members = rng.shuffle(indices.filter((i) => labels[i] === cls));
    taken.push(...members.slice(0, k));
    rest.push(...members.slice(k));
  }
  const asc = (a: number, b: number): number => a - b;
  return { taken: taken.sort(asc), rest: rest.sort(asc) };
}

interface Fit {
  readonly scaler: Scaler;
  readonly layers: Dense[];
  readonly finalLoss: number;
}

/** Fits the scaler on `rows` and trains the network on them (seeded initialisation and order). */
function trainModel(rows: Rows, y: readonly number[], sizes: readonly number[], weightDecay: number): Fit {
  const scaler = fitScaler(rows);
  let finalLoss = Number.NaN;
  const opts: TrainOptions = {
    ...BASE,
    sizes,
    weightDecay,
    onEpoch: (_, loss) => {
      finalLoss = loss;
    },
  };
  const params = trainMlp(standardise(rows, scaler).data, y, rows.length, opts, createRandom(SEEDS.init));
  return { scaler, layers: toDenseLayers(params), finalLoss };
}

/** Accuracy (threshold 0.5), ROC AUC and mean log-loss of P(bad) `p` against `y`. */
interface Scores {
  readonly acc: number;
  readonly auc: number;
  readonly logLoss: number;
}
function score(p: readonly number[], y: readonly number[]): Scores {
  const logLoss = -p.reduce((s, q, i) => s + Math.log(Math.max(y[i] === 1 ? q : 1 - q, 1e-300)), 0) / p.length;
  return { acc: accuracy(p, y), auc: rocAuc(p, y), logLoss };
}

interface Selection {
  readonly grid: readonly { readonly weightDecay: number; readonly train: Scores; readonly validation: Scores }[];
  readonly best: number;
}

/** Weight decay with the lowest validation log-loss (ties: the larger decay). */
function selectWeightDecay(
  sizes: readonly number[],
  fitRows: Rows,
  fitY: readonly number[],
  valRows: Rows,
  valY: readonly number[],
): Selection {
  const grid = WEIGHT_DECAYS.map((weightDecay) => {
    const m = trainModel(fitRows, fitY, sizes, weightDecay);
    return {
      weightDecay,
      train: score(predictBad(fitRows, m.scaler, m.layers), fitY),
      validation: score(predictBad(valRows, m.scaler, m.layers), valY),
    };
  });
  let best = grid[0];
  for (const g of grid) if (g.validation.logLoss <= best.validation.logLoss) best = g;
  return { grid, best: best.weightDecay };
}

const fmt = (v: number, digits = 3): string => v.toFixed(digits);

interface ModelReport {
  readonly selection: Selection;
  readonly finalLoss: number;
  readonly train: Scores;
  readonly holdout: Scores;
  readonly holdoutRange: readonly [number, number, number];
}

interface Report {
  readonly nBad: number;
  readonly split: { readonly fit: number[]; readonly validation: number[]; readonly holdout: number[] };
  readonly trainBadRate: number;
  readonly holdoutBadRate: number;
  readonly mlp: ModelReport;
  readonly logistic: ModelReport;
  readonly sha256: string;
  readonly bytes: number;
  readonly maxDiff: number;
}

function readme(r: Report): string {
  const nParams = MLP_SIZES.slice(1).reduce((acc, out, l) => acc + (MLP_SIZES[l] + 1) * out, 0);
  const mark = (x: number, best: number): string => (x === best ? ' (chosen)' : '');
  const gridTable = markdownTable(
    [
      'weight decay',
      'MLP fit AUC',
      'MLP val log-loss',
      'MLP val AUC',
      'MLP val acc',
      'logistic val log-loss',
      'logistic val AUC',
    ],
    r.mlp.selection.grid.map((g, i) => {
      const lr = r.logistic.selection.grid[i];
      return [
        String(g.weightDecay),
        fmt(g.train.auc),
        fmt(g.validation.logLoss, 4) + mark(g.weightDecay, r.mlp.selection.best),
        fmt(g.validation.auc),
        fmt(g.validation.acc),
        fmt(lr.validation.logLoss, 4) + mark(lr.weightDecay, r.logistic.selection.best),
        fmt(lr.validation.auc),
      ];
    }),
  );
  const resultRow = (name: string, m: ModelReport): string[] => [
    name,
    fmt(m.train.acc),
    fmt(m.train.auc),
    fmt(m.holdout.acc),
    fmt(m.holdout.auc),
    fmt(m.holdout.logLoss),
  ];
  const resultTable = markdownTable(
    ['model', 'train acc', 'train AUC', 'holdout acc', 'holdout AUC', 'holdout log-loss'],
    [
      resultRow(`MLP 61-64-32-2 (this file, decay ${r.mlp.selection.best})`, r.mlp),
      resultRow(
        `logistic regression, same trainer (decay ${r.logistic.selection.best}; \`${LOGISTIC_FILE}\`)`,
        r.logistic,
      ),
      ['always "good"', fmt(1 - r.trainBadRate), '0.500', fmt(1 - r.holdoutBadRate), '0.500', ''],
    ],
  );
  const [pMin, pMean, pMax] = r.mlp.holdoutRange;
  const accNote =
    r.mlp.holdout.acc - (1 - r.holdoutBadRate) < 0.03
      ? '\nAt that threshold the MLP does little better than always answering "good" on this holdout,\nwhile its ranking (AUC) is informative.'
      : '';
  return `# benchmarks/fixtures

Generated by \`npx tsx scripts/make-german-mlp.ts\` (seeded: running it again rewrites
byte-identical files; this README is generated too, do not edit it by hand). Not run by
\`npm test\`; the benchmarks that use the model skip when \`../shared/datasets/german.data\`
is missing.

## german-mlp.onnx

A credit-risk classifier trained on the **real** UCI Statlog (German Credit Data) set, for
benchmarks on real rather than synthetic data. ${r.bytes.toLocaleString('en-US')} bytes, sha256
\`${r.sha256}\`.

- Input \`x\` float [batch, 61]: the 1000 UCI rows encoded by \`loadGerman()\` in
  \`benchmarks/lib/german.ts\`, with exactly the columns (names, order, one-hot levels) of
  \`datasets/credit-demo/train.csv\`: 13 categorical attributes one-hot encoded as
  \`<attribute>=<level>\` (A47 and A95 never occur and have no column), 7 numeric attributes
  raw (months, DM, years, counts). Attribute groups: \`loadGerman().groups\` (same as
  \`datasets/credit-demo/groups.json\`).
- Graph (ONNX IR 8, opset 13), as \`datasets/credit-demo/model.onnx\`: \`Sub\` mean, \`Mul\` 1/std
  (mean and population std of the ${r.split.fit.length + r.split.validation.length} training rows, not all 1000 as in the demo) → dense 61→64, ReLU → dense
  64→32, ReLU → dense 32→2 → \`Softmax\`. Outputs, in this order: \`label\` int64 [batch]
  (ArgMax, 1 = bad) and \`probabilities\` float [batch, 2], **column 1 = P(bad)**.
  ${nParams.toLocaleString('en-US')} parameters.
- onnxruntime-node reproduces the float64 JS forward pass on all 1000 rows:
  max |ΔP(bad)| = ${r.maxDiff.toExponential(1)} (the script fails above ${ORT_TOLERANCE.toExponential(0)}).

### How it was made

1. Labels: UCI class 2 (bad) → 1, class 1 (good) → 0; ${r.nBad} bad of 1000.
2. Split (seed ${SEEDS.split}, stratified by label): ${r.split.holdout.length} **holdout** rows
   (${Math.round(r.holdoutBadRate * r.split.holdout.length)} bad), never used for any choice, and ${r.split.fit.length + r.split.validation.length} training rows. Within
   those, ${r.split.validation.length} **validation** rows (also stratified) to choose the weight decay.
   Row indices (0-based, \`german.data\` line − 1): \`${SPLIT_FILE}\`
   (\`fit\` + \`validation\` = training rows, \`holdout\`).
3. Trainer (\`scripts/lib/train.ts\`, plain TypeScript, float64): softmax cross-entropy,
   Adam (learning rate ${BASE.learningRate}), minibatches of ${BASE.batchSize}, ${BASE.epochs} epochs, He-normal
   initialisation (seed ${SEEDS.init}), L2 weight decay on the weights added to the gradient.
4. Weight decay: for each value below, fit the scaler and the network on the ${r.split.fit.length} fit rows
   and score the ${r.split.validation.length} validation rows; keep the lowest validation log-loss (a
   proper score: AUC alone ignores calibration, and the strongest decays push every P(bad)
   towards the base rate while keeping a decent ranking).
5. Retrain with the chosen decay (**${r.mlp.selection.best}**) on all ${r.split.fit.length + r.split.validation.length} training rows (scaler refitted on them);
   final mean training loss ${fmt(r.mlp.finalLoss, 4)}. Score the holdout once.

Validation (${r.split.fit.length} fit rows / ${r.split.validation.length} validation rows):

${gridTable}

### Holdout results

${resultTable}

Accuracy thresholds P(bad) at 0.5.${accNote} On the holdout the model's P(bad) ranges from ${fmt(pMin)}
to ${fmt(pMax)} (mean ${fmt(pMean)}). With ${r.split.holdout.length} holdout rows the AUC has a standard error of
about 0.04, so do not read much into small differences. \`german.doc\` also gives a cost
matrix (a bad applicant classed as good costs 5, the reverse 1); the model is not tuned for
it. It is a benchmark model to explain, not a good credit model.

## Data licence

UCI Machine Learning Repository, "Statlog (German Credit Data)", donor Prof. Dr. Hans
Hofmann, Institut für Statistik und Ökonometrie, Universität Hamburg; licensed
**CC BY 4.0** (https://doi.org/10.24432/C5NC77). The data themselves are not in this
repository: \`german.data\` is read from \`../shared/datasets/\`. The model weights are derived
from them.
`;
}

function modelReport(
  sizes: readonly number[],
  rows: Rows,
  y: readonly number[],
  split: Report['split'],
): ModelReport & { fit: Fit; all: number[] } {
  const pick = (idx: readonly number[]): Rows => idx.map((i) => rows[i]);
  const pickY = (idx: readonly number[]): number[] => idx.map((i) => y[i]);
  const trainIdx = [...split.fit, ...split.validation].sort((a, b) => a - b);
  const selection = selectWeightDecay(
    sizes,
    pick(split.fit),
    pickY(split.fit),
    pick(split.validation),
    pickY(split.validation),
  );
  const m = trainModel(pick(trainIdx), pickY(trainIdx), sizes, selection.best);
  const all = predictBad(rows, m.scaler, m.layers);
  const hp = split.holdout.map((i) => all[i]);
  return {
    selection,
    finalLoss: m.finalLoss,
    train: score(
      trainIdx.map((i) => all[i]),
      pickY(trainIdx),
    ),
    holdout: score(hp, pickY(split.holdout)),
    holdoutRange: [Math.min(...hp), hp.reduce((a, b) => a + b, 0) / hp.length, Math.max(...hp)],
    fit: m,
    all,
  };
}

async function main(): Promise<void> {
  if (!germanAvailable()) {
    console.error(`make-german-mlp: ${GERMAN_DIR}german.data not found; nothing written`);
    process.exitCode = 1;
    return;
  }
  const started = Date.now();
  const g = loadGerman();
  const d = g.columns.length;
  const n = g.labels.length;
  if (d !== MLP_SIZES[0] || n !== 1000) throw new Error(`expected 1000 rows x 61 columns, got ${n} x ${d}`);
  const rows: Rows = Array.from({ length: n }, (_, r) => Array.from(g.data.subarray(r * d, (r + 1) * d)));
  const y = Array.from(g.labels);

  const rng = createRandom(SEEDS.split);
  const outer = stratifiedSplit(
    Array.from({ length: n }, (_, i) => i),
    g.labels,
    N_HOLDOUT,
    rng,
  );
  const inner = stratifiedSplit(outer.rest, g.labels, N_VALIDATION, rng);
  const split = { fit: inner.rest, validation: inner.taken, holdout: outer.taken };
  const nBad = y.reduce((a, b) => a + b, 0);
  const badRate = (idx: readonly number[]): number => idx.filter((i) => y[i] === 1).length / idx.length;
  const trainBadRate = badRate([...split.fit, ...split.validation]);
  const holdoutBadRate = badRate(split.holdout);

  const mlp = modelReport(MLP_SIZES, rows, y, split);
  const logistic = modelReport(LOGISTIC_SIZES, rows, y, split);
  const trainSeconds = (Date.now() - started) / 1000;

  for (const [name, m] of [
    ['mlp', mlp],
    ['logistic', logistic],
  ] as const) {
    for (const gr of m.selection.grid)
      console.log(
        `${name} decay ${String(gr.weightDecay).padEnd(4)}: fit AUC ${fmt(gr.train.auc)} | validation ` +
          `log-loss ${fmt(gr.validation.logLoss)} AUC ${fmt(gr.validation.auc)} acc ${fmt(gr.validation.acc)}`,
      );
    console.log(
      `${name} chosen decay ${m.selection.best}: train acc ${fmt(m.train.acc)} AUC ${fmt(m.train.auc)} | ` +
        `holdout acc ${fmt(m.holdout.acc)} AUC ${fmt(m.holdout.auc)} log-loss ${fmt(m.holdout.logLoss)}`,
    );
  }
  console.log(`training and selection: ${trainSeconds.toFixed(1)} s`);

  const model = buildScaledMlpModel(
    'german_credit_mlp',
    'whybox benchmark model: P(bad) of a UCI Statlog German credit applicant (CC BY 4.0, donor Hans Hofmann) ' +
      'from 61 one-hot/numeric columns; standardisation inside the graph, MLP 61-64-32-2 (ReLU), softmax. ' +
      'Made by scripts/make-german-mlp.ts.',
    mlp.fit.scaler,
    mlp.fit.layers,
  );
  const sha256 = createHash('sha256').update(model).digest('hex');
  const logisticModel = buildScaledMlpModel(
    'german_credit_logistic',
    'whybox example model: P(bad) of a UCI Statlog German credit applicant (CC BY 4.0, donor Hans Hofmann) ' +
      'from 61 one-hot/numeric columns; standardisation inside the graph, logistic regression (softmax over 2 logits). ' +
      'Made by scripts/make-german-mlp.ts.',
    logistic.fit.scaler,
    logistic.fit.layers,
  );

  // Check the ONNX model against the JS forward pass on all rows before writing anything else.
  const { outputNames, outputs } = await runOnnx(model, rows.flat(), n, [d]);
  const failures: string[] = [];
  if (outputNames.join() !== 'label,probabilities') failures.push(`outputs are ${outputNames.join(', ')}`);
  const pOrt = outputs.probabilities.map((r) => r[1]);
  const maxDiff = Math.max(...pOrt.map((p, i) => Math.abs(p - mlp.all[i])));
  const labelMismatch = outputs.label.filter(
    ([l], i) => Math.abs(mlp.all[i] - 0.5) > 1e-5 && l !== (mlp.all[i] > 0.5 ? 1 : 0),
  ).length;
  const ok = Number.isFinite(maxDiff) && maxDiff <= ORT_TOLERANCE && labelMismatch === 0;
  console.log(
    `${MODEL_FILE} on german.data (${n} rows): max|P_ort(bad) - P_js(bad)| = ${maxDiff.toExponential(3)}, ` +
      `label mismatches ${labelMismatch} ${ok ? 'ok' : 'FAIL'}`,
  );
  if (!ok) failures.push(`diff ${maxDiff}, ${labelMismatch} label mismatches`);
  {
    const { outputs: lo } = await runOnnx(logisticModel, rows.flat(), n, [d]);
    const diff = Math.max(...lo.probabilities.map((r, i) => Math.abs(r[1] - logistic.all[i])));
    const lok = Number.isFinite(diff) && diff <= ORT_TOLERANCE;
    console.log(`${LOGISTIC_FILE}: max|P_ort(bad) - P_js(bad)| = ${diff.toExponential(3)} ${lok ? 'ok' : 'FAIL'}`);
    if (!lok) failures.push(`${LOGISTIC_FILE}: diff ${diff}`);
  }
  if (failures.length > 0) {
    console.error(`MISMATCH (nothing written):\n  ${failures.join('\n  ')}`);
    process.exitCode = 1;
    return;
  }

  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(`${OUT_DIR}${MODEL_FILE}`, model);
  writeFileSync(`${OUT_DIR}${LOGISTIC_FILE}`, logisticModel);
  mkdirSync(EXAMPLE_DIR, { recursive: true });
  const schema = demoSchema(
    GERMAN_ATTRIBUTES.map((a) => ({ ...a, labels: a.kind === 'categorical' ? a.labels : undefined })),
    g.columns,
    GERMAN_RANGES,
  ) as Record<string, unknown>;
  schema.name = 'german-credit';
  schema.description =
    'Raw attributes of UCI Statlog German credit (level labels as in benchmarks/lib/german.ts) -> the 61 input columns of benchmarks/fixtures/german-mlp.onnx and german-logistic.onnx. Made by scripts/make-german-mlp.ts.';
  writeFileSync(`${EXAMPLE_DIR}schema.json`, compactJson(schema));
  writeFileSync(`${EXAMPLE_DIR}reasons.json`, compactJson(REASON_TEMPLATES));
  writeFileSync(`${OUT_DIR}${SPLIT_FILE}`, compactJson(split));
  writeFileSync(
    `${OUT_DIR}README.md`,
    readme({ nBad, split, trainBadRate, holdoutBadRate, mlp, logistic, sha256, bytes: model.length, maxDiff }),
  );
  console.log(`wrote ${OUT_DIR}${MODEL_FILE} (${model.length} bytes, sha256 ${sha256}), ${SPLIT_FILE}, README.md`);
}

await main();
