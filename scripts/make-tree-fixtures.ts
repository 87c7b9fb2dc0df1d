/**
 * Writes the tree-ensemble fixtures of whybox to `test/fixtures/trees/`: small gradient
 * boosted ensembles and forests trained here (scripts/lib/gbdt.ts) and written as ONNX
 * `ai.onnx.ml` nodes (scripts/lib/tree-onnx.ts), then checks that onnxruntime-node runs
 * each one and agrees with the trees' own float64 predictions; exits 1 on a mismatch.
 *
 *  - gbdt-regressor-v3.onnx   TreeEnsembleRegressor (opset 3), 20 rounds depth 3, mixed
 *                             LEQ/LT/GTE/GT modes, NaN in column 0 tracked to either side
 *  - gbdt-regressor-v5.onnx   the same trees as one opset-5 TreeEnsemble node
 *  - gbdt-binary-v3.onnx      TreeEnsembleClassifier, 2 classes scored by one margin,
 *                             LOGISTIC, NaN in column 1 (outputs label, probabilities)
 *  - gbdt-multiclass-v3.onnx  TreeEnsembleClassifier, 3 classes, SOFTMAX, double input
 *                             cast to float (Cast folded in by the reader)
 *  - forest-v3.onnx           TreeEnsembleRegressor AVERAGE, 2 targets per leaf (a bagged forest)
 *  - gbdt-sigmoid-v3.onnx     a binary GBDT as a regressor followed by a Sigmoid node
 *  - random-v5.onnx           TreeEnsemble (opset 5), random trees with EQ/NEQ/MEMBER splits
 *                             on a categorical column, all modes, NaN tracking, 2 targets
 *  - credit-gbdt-v3.onnx      binary GBDT (30 rounds, depth 3) on datasets/credit-demo (61 columns)
 *  - scaled-v3.onnx           Scaler before the ensemble (refused by the reader)
 *  - max-v3.onnx              aggregate MAX (refused by the reader)
 *  - binary2-v3.onnx          binary classifier whose leaves score both classes (two margins)
 *  - binary2-base-v3.onnx     the same with two base_values (refused: onnxruntime does not add
 *                             them per class)
 *
 * Seeded: running it twice gives byte-identical files.
 * Usage: npx tsx scripts/make-tree-fixtures.ts
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { boost, forest, predictSimple, type SimpleTree } from './lib/gbdt.js';
import { valueInfo } from './lib/onnx-builder.js';
import { createRandom, type Random } from './lib/random.js';
import {
  attrs,
  buildTreeModel,
  castTo,
  fromSimpleTree,
  type Mode,
  plainNode,
  randomModes,
  treeNodeV3,
  treeNodeV5,
  type WNode,
  type WTree,
} from './lib/tree-onnx.js';

const OUT_DIR = fileURLToPath(new URL('../test/fixtures/trees/', import.meta.url));
const N_TRAIN = 400;

/** float32-exact normal data with `nanRate` NaNs in column `nanColumn`. */
function data(rng: Random, n: number, d: number, nanColumn = -1, nanRate = 0): Float64Array {
  const X = new Float64Array(n * d);
  for (let i = 0; i < n * d; i++) X[i] = Math.fround(rng.normal());
  if (nanColumn >= 0) for (let i = 0; i < n; i++) if (rng.uniform() < nanRate) X[i * d + nanColumn] = Number.NaN;
  return X;
}
const nz = (v: number) => (Number.isNaN(v) ? 0 : v);

interface Fixture {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly nFeatures: number;
  readonly inputType: 'float32' | 'float64';
  /** Expected ORT output per row (null: not checked, the model is refused by whybox but ORT runs it). */
  readonly expect: ((row: Float64Array) => number[]) | null;
  readonly output: string;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
function treeSum(trees: readonly SimpleTree[], row: Float64Array, d: number, k = 0): number {
  let s = 0;
  for (const t of trees) s += predictSimple(t, row, 0, d)[k];
  return s;
}

const fixtures: Fixture[] = [];

// 1, 2: regression GBDT, opset 3 and opset 5 (same trees)
{
  const rng = createRandom(101);
  const d = 5;
  const X = data(rng, N_TRAIN, d, 0, 0.15);
  const y = Float64Array.from({ length: N_TRAIN }, (_, i) => {
    const x = X.subarray(i * d, i * d + d);
    return (
      nz(x[0]) * x[1] + Math.sin(2 * x[2]) + (x[3] > 0 ? 1 : 0) + (Number.isNaN(x[0]) ? 0.7 : 0) + 0.1 * rng.normal()
    );
  });
  const b = boost(X, N_TRAIN, d, y, 'regression', { rounds: 20, maxDepth: 3, learningRate: 0.3 }, rng);
  const trees = b.trees.map((r) => r[0]);
  const modes = randomModes(rng);
  const wtrees = trees.map((t) => fromSimpleTree(t, (v) => [[0, v[0]]], modes));
  const expect = (row: Float64Array) => [b.base[0] + treeSum(trees, row, d)];
  fixtures.push({
    name: 'gbdt-regressor-v3',
    bytes: buildTreeModel({
      name: 'gbdt-regressor-v3',
      inputs: [valueInfo('x', 'float', ['batch', d])],
      outputs: [valueInfo('y', 'float', ['batch', 1])],
      nodes: [treeNodeV3('regressor', wtrees, 'x', ['y'], { nTargets: 1, baseValues: [b.base[0]] })],
      mlOpset: 3,
    }),
    nFeatures: d,
    inputType: 'float32',
    expect,
    output: 'y',
  });
  // opset 5 has no base values: the base goes into one extra single-leaf tree
  const v5 = [...wtrees, [{ weights: [[0, b.base[0]]] }] as WTree];
  fixtures.push({
    name: 'gbdt-regressor-v5',
    bytes: buildTreeModel({
      name: 'gbdt-regressor-v5',
      inputs: [valueInfo('x', 'float', ['batch', d])],
      outputs: [valueInfo('y', 'float', ['batch', 1])],
      nodes: [treeNodeV5(v5, 'x', 'y', { nTargets: 1 })],
      mlOpset: 5,
    }),
    nFeatures: d,
    inputType: 'float32',
    expect,
    output: 'y',
  });
}

// 3: binary classifier, one margin, LOGISTIC
{
  const rng = createRandom(202);
  const d = 6;
  const X = data(rng, N_TRAIN, d, 1, 0.2);
  const y = Float64Array.from({ length: N_TRAIN }, (_, i) => {
    const x = X.subarray(i * d, i * d + d);
    const z = 1.5 * x[0] - nz(x[1]) + x[2] * x[3] + (Number.isNaN(x[1]) ? 1 : 0);
    return rng.uniform() < sigmoid(2 * z) ? 1 : 0;
  });
  const b = boost(X, N_TRAIN, d, y, 'binary', { rounds: 15, maxDepth: 3, learningRate: 0.3 }, rng);
  const trees = b.trees.map((r) => r[0]);
  const modes = randomModes(rng);
  const wtrees = trees.map((t) => fromSimpleTree(t, (v) => [[0, v[0]]], modes));
  fixtures.push({
    name: 'gbdt-binary-v3',
    bytes: buildTreeModel({
      name: 'gbdt-binary-v3',
      inputs: [valueInfo('x', 'float', ['batch', d])],
      outputs: [valueInfo('label', 'int64', ['batch']), valueInfo('probabilities', 'float', ['batch', 2])],
      nodes: [
        treeNodeV3('classifier', wtrees, 'x', ['label', 'probabilities'], {
          nTargets: 2,
          baseValues: [b.base[0]],
          postTransform: 'LOGISTIC',
          classLabels: [0, 1],
        }),
      ],
      mlOpset: 3,
    }),
    nFeatures: d,
    inputType: 'float32',
    expect: (row) => {
      const p = sigmoid(b.base[0] + treeSum(trees, row, d));
      return [1 - p, p];
    },
    output: 'probabilities',
  });
}

// 4: multi-class classifier, SOFTMAX, double input cast to float
{
  const rng = createRandom(303);
  const d = 5;
  const X = data(rng, N_TRAIN, d);
  const y = Float64Array.from({ length: N_TRAIN }, (_, i) => {
    const x = X.subarray(i * d, i * d + d);
    const s = [x[0] + x[1], x[2] - x[0], 0.5 * x[3] * x[4]];
    return s.indexOf(Math.max(...s));
  });
  const K = 3;
  const b = boost(X, N_TRAIN, d, y, 'multiclass', { rounds: 8, maxDepth: 3, learningRate: 0.4, nClasses: K }, rng);
  const modes = randomModes(rng);
  const wtrees: WTree[] = [];
  b.trees.forEach((round) => {
    round.forEach((t, k) => {
      wtrees.push(fromSimpleTree(t, (v) => [[k, v[0]]], modes));
    });
  });
  fixtures.push({
    name: 'gbdt-multiclass-v3',
    bytes: buildTreeModel({
      name: 'gbdt-multiclass-v3',
      inputs: [valueInfo('x', 'double', ['batch', d])],
      outputs: [valueInfo('label', 'int64', ['batch']), valueInfo('probabilities', 'float', ['batch', K])],
      nodes: [
        plainNode('Cast', ['x'], ['xf'], castTo('float')),
        treeNodeV3('classifier', wtrees, 'xf', ['label', 'probabilities'], {
          nTargets: K,
          postTransform: 'SOFTMAX',
          classLabels: [0, 1, 2],
        }),
      ],
      mlOpset: 3,
    }),
    nFeatures: d,
    inputType: 'float64',
    expect: (row) => {
      const m = Array.from({ length: K }, (_, k) => b.trees.reduce((a, r) => a + predictSimple(r[k], row, 0, d)[0], 0));
      const mx = Math.max(...m);
      const e = m.map((v) => Math.exp(v - mx));
      const s = e.reduce((a, v) => a + v, 0);
      return e.map((v) => v / s);
    },
    output: 'probabilities',
  });
}

// 5: forest, AVERAGE, two targets per leaf
{
  const rng = createRandom(404);
  const d = 4;
  const X = data(rng, N_TRAIN, d);
  const y0 = Float64Array.from({ length: N_TRAIN }, (_, i) => X[i * d] * 2 + (X[i * d + 1] > 0.3 ? 1 : -1));
  const y1 = Float64Array.from({ length: N_TRAIN }, (_, i) => X[i * d + 2] * X[i * d + 3] + 0.5 * X[i * d]);
  const trees = forest(X, N_TRAIN, d, [y0, y1], { trees: 8, maxDepth: 4, maxFeatures: 3 }, rng);
  const wtrees = trees.map((t) =>
    fromSimpleTree(t, (v) => [
      [0, v[0]],
      [1, v[1]],
    ]),
  );
  fixtures.push({
    name: 'forest-v3',
    bytes: buildTreeModel({
      name: 'forest-v3',
      inputs: [valueInfo('x', 'float', ['batch', d])],
      outputs: [valueInfo('y', 'float', ['batch', 2])],
      nodes: [treeNodeV3('regressor', wtrees, 'x', ['y'], { nTargets: 2, aggregate: 'AVERAGE' })],
      mlOpset: 3,
    }),
    nFeatures: d,
    inputType: 'float32',
    expect: (row) => [0, 1].map((k) => treeSum(trees, row, d, k) / trees.length),
    output: 'y',
  });
}

// 6: binary GBDT written as a regressor + Sigmoid
{
  const rng = createRandom(505);
  const d = 4;
  const X = data(rng, N_TRAIN, d);
  const y = Float64Array.from({ length: N_TRAIN }, (_, i) =>
    rng.uniform() < sigmoid(2 * X[i * d] - X[i * d + 1] * X[i * d + 2]) ? 1 : 0,
  );
  const b = boost(X, N_TRAIN, d, y, 'binary', { rounds: 10, maxDepth: 2, learningRate: 0.3 }, rng);
  const trees = b.trees.map((r) => r[0]);
  const wtrees = trees.map((t) => fromSimpleTree(t, (v) => [[0, v[0]]]));
  fixtures.push({
    name: 'gbdt-sigmoid-v3',
    bytes: buildTreeModel({
      name: 'gbdt-sigmoid-v3',
      inputs: [valueInfo('x', 'float', ['batch', d])],
      outputs: [valueInfo('p', 'float', ['batch', 1])],
      nodes: [
        treeNodeV3('regressor', wtrees, 'x', ['score'], { nTargets: 1, baseValues: [b.base[0]] }),
        plainNode('Sigmoid', ['score'], ['p']),
      ],
      mlOpset: 3,
    }),
    nFeatures: d,
    inputType: 'float32',
    expect: (row) => [sigmoid(b.base[0] + treeSum(trees, row, d))],
    output: 'p',
  });
}

// 7: random opset-5 trees with categorical splits
{
  const rng = createRandom(606);
  const d = 4; // column 3 is categorical (0..4)
  const trees: WTree[] = [];
  for (let t = 0; t < 6; t++) {
    const nodes: WNode[] = [];
    const target = t % 2;
    const grow = (depth: number): number => {
      const id = nodes.length;
      nodes.push({ weights: [] });
      if (depth >= 4 || (depth >= 2 && rng.uniform() < 0.25)) {
        nodes[id] = { weights: [[target, Math.fround(rng.normal())]] };
        return id;
      }
      const feature = rng.int(0, d - 1);
      let mode: Mode;
      let threshold = 0;
      let members: number[] | undefined;
      if (feature === 3) {
        mode = (['BRANCH_EQ', 'BRANCH_NEQ', 'BRANCH_MEMBER'] as const)[rng.int(0, 2)];
        if (mode === 'BRANCH_MEMBER') members = [0, 1, 2, 3, 4].filter(() => rng.uniform() < 0.5);
        else threshold = rng.int(0, 4);
      } else {
        mode = (['BRANCH_LEQ', 'BRANCH_LT', 'BRANCH_GTE', 'BRANCH_GT'] as const)[rng.int(0, 3)];
        threshold = Math.fround(rng.normal() * 0.8);
      }
      const trueId = grow(depth + 1);
      const falseId = grow(depth + 1);
      nodes[id] = { mode, feature, threshold, members, trueId, falseId, missingTrue: rng.uniform() < 0.5 };
      return id;
    };
    grow(0);
    trees.push(nodes);
  }
  const evalTree = (tree: WTree, row: Float64Array): [number, number] => {
    let c = 0;
    for (;;) {
      const n = tree[c];
      if (n.mode === undefined) return n.weights[0] as [number, number];
      const v = Math.fround(row[n.feature]);
      let go: boolean;
      if (Number.isNaN(v) && n.missingTrue) go = true;
      else if (n.mode === 'BRANCH_LEQ') go = v <= n.threshold;
      else if (n.mode === 'BRANCH_LT') go = v < n.threshold;
      else if (n.mode === 'BRANCH_GTE') go = v >= n.threshold;
      else if (n.mode === 'BRANCH_GT') go = v > n.threshold;
      else if (n.mode === 'BRANCH_EQ') go = v === n.threshold;
      else if (n.mode === 'BRANCH_NEQ') go = v !== n.threshold;
      else go = (n.members ?? []).includes(v);
      c = go ? n.trueId : n.falseId;
    }
  };
  fixtures.push({
    name: 'random-v5',
    bytes: buildTreeModel({
      name: 'random-v5',
      inputs: [valueInfo('x', 'float', ['batch', d])],
      outputs: [valueInfo('y', 'float', ['batch', 2])],
      nodes: [treeNodeV5(trees, 'x', 'y', { nTargets: 2 })],
      mlOpset: 5,
    }),
    nFeatures: d,
    inputType: 'float32',
    expect: (row) => {
      const out = [0, 0];
      for (const t of trees) {
        const [k, w] = evalTree(t, row);
        out[k] += w;
      }
      return out;
    },
    output: 'y',
  });
}

// credit: a binary GBDT on the bundled credit data (61 one-hot columns), for the CLI's --schema / --reasons
{
  const demo = fileURLToPath(new URL('../datasets/credit-demo/', import.meta.url));
  const lines = readFileSync(`${demo}train.csv`, 'utf8').trim().split('\n');
  const d = lines[0].split(',').length;
  const X = Float64Array.from(lines.slice(1).flatMap((l) => l.split(',').map((v) => Math.fround(Number(v)))));
  const n = lines.length - 1;
  const y = readFileSync(`${demo}labels.csv`, 'utf8').trim().split('\n').slice(1).map(Number);
  const rng = createRandom(707);
  const b = boost(X, n, d, y, 'binary', { rounds: 30, maxDepth: 3, learningRate: 0.2 }, rng);
  const trees = b.trees.map((r) => r[0]);
  const wtrees = trees.map((t) => fromSimpleTree(t, (v) => [[0, v[0]]]));
  fixtures.push({
    name: 'credit-gbdt-v3',
    bytes: buildTreeModel({
      name: 'credit-gbdt-v3',
      inputs: [valueInfo('x', 'float', ['batch', d])],
      outputs: [valueInfo('label', 'int64', ['batch']), valueInfo('probabilities', 'float', ['batch', 2])],
      nodes: [
        treeNodeV3('classifier', wtrees, 'x', ['label', 'probabilities'], {
          nTargets: 2,
          baseValues: [b.base[0]],
          postTransform: 'LOGISTIC',
          classLabels: [0, 1],
        }),
      ],
      mlOpset: 3,
    }),
    nFeatures: d,
    inputType: 'float32',
    expect: (row) => {
      const p = sigmoid(b.base[0] + treeSum(trees, row, d));
      return [1 - p, p];
    },
    output: 'probabilities',
  });
}

// 8, 9: graphs whybox refuses
{
  const tiny: WTree = [
    { mode: 'BRANCH_LEQ', feature: 0, threshold: 0, trueId: 1, falseId: 2, missingTrue: false },
    { weights: [[0, 1]] },
    { weights: [[0, 2]] },
  ];
  fixtures.push({
    name: 'scaled-v3',
    bytes: buildTreeModel({
      name: 'scaled-v3',
      inputs: [valueInfo('x', 'float', ['batch', 2])],
      outputs: [valueInfo('y', 'float', ['batch', 1])],
      nodes: [
        plainNode(
          'Scaler',
          ['x'],
          ['xs'],
          [attrs.floats('offset', [1, 0]), attrs.floats('scale', [2, 1])],
          'ai.onnx.ml',
        ),
        treeNodeV3('regressor', [tiny], 'xs', ['y'], { nTargets: 1 }),
      ],
      mlOpset: 3,
    }),
    nFeatures: 2,
    inputType: 'float32',
    expect: (row) => [(Math.fround(row[0]) - 1) * 2 <= 0 ? 1 : 2],
    output: 'y',
  });
  // binary, both classes scored by the leaves: read as two margins; with two base values refused
  const both: WTree = [
    { mode: 'BRANCH_LEQ', feature: 0, threshold: 0, trueId: 1, falseId: 2, missingTrue: false },
    { mode: 'BRANCH_GT', feature: 1, threshold: 0.5, trueId: 3, falseId: 4, missingTrue: true },
    {
      weights: [
        [0, -0.5],
        [1, 0.5],
      ],
    },
    {
      weights: [
        [0, 0.25],
        [1, -0.75],
      ],
    },
    {
      weights: [
        [0, 1],
        [1, 0.125],
      ],
    },
  ];
  const bothScores = (row: Float64Array) => {
    const a = Math.fround(row[0]);
    const b = Math.fround(row[1]);
    if (!(a <= 0)) return [-0.5, 0.5];
    return b > 0.5 || Number.isNaN(b) ? [0.25, -0.75] : [1, 0.125];
  };
  for (const withBase of [false, true])
    fixtures.push({
      name: withBase ? 'binary2-base-v3' : 'binary2-v3',
      bytes: buildTreeModel({
        name: withBase ? 'binary2-base-v3' : 'binary2-v3',
        inputs: [valueInfo('x', 'float', ['batch', 2])],
        outputs: [valueInfo('label', 'int64', ['batch']), valueInfo('probabilities', 'float', ['batch', 2])],
        nodes: [
          treeNodeV3('classifier', [both, both], 'x', ['label', 'probabilities'], {
            nTargets: 2,
            postTransform: 'SOFTMAX',
            classLabels: [0, 1],
            baseValues: withBase ? [0.1, 0.2] : undefined,
          }),
        ],
        mlOpset: 3,
      }),
      nFeatures: 2,
      inputType: 'float32',
      expect: withBase
        ? null
        : (row) => {
            const m = bothScores(row).map((v) => 2 * v);
            const mx = Math.max(...m);
            const e = m.map((v) => Math.exp(v - mx));
            return e.map((v) => v / (e[0] + e[1]));
          },
      output: 'probabilities',
    });
  fixtures.push({
    name: 'max-v3',
    bytes: buildTreeModel({
      name: 'max-v3',
      inputs: [valueInfo('x', 'float', ['batch', 2])],
      outputs: [valueInfo('y', 'float', ['batch', 1])],
      nodes: [treeNodeV3('regressor', [tiny, tiny], 'x', ['y'], { nTargets: 1, aggregate: 'MAX' })],
      mlOpset: 3,
    }),
    nFeatures: 2,
    inputType: 'float32',
    expect: (row) => [Math.fround(row[0]) <= 0 ? 1 : 2],
    output: 'y',
  });
}

// check every fixture with onnxruntime on random rows (NaN in every column now and then)
mkdirSync(OUT_DIR, { recursive: true });
const check = createRandom(7);
let failed = false;
for (const f of fixtures) {
  const n = 200;
  const rows = new Float64Array(n * f.nFeatures);
  for (let i = 0; i < rows.length; i++) {
    const c = i % f.nFeatures;
    const u = check.uniform();
    rows[i] = u < 0.05 ? Number.NaN : f.name === 'random-v5' && c === 3 ? check.int(0, 5) : Math.fround(check.normal());
  }
  const session = await InferenceSession.create(f.bytes, { logSeverityLevel: 3, intraOpNumThreads: 1 });
  const feed =
    f.inputType === 'float32'
      ? new Tensor('float32', Float32Array.from(rows), [n, f.nFeatures])
      : new Tensor('float64', Float64Array.from(rows), [n, f.nFeatures]);
  const out = await session.run({ [session.inputNames[0]]: feed });
  await session.release();
  const got = out[f.output].data as Float32Array;
  const width = got.length / n;
  let max = 0;
  for (let r = 0; r < n; r++) {
    const e = f.expect ? f.expect(rows.subarray(r * f.nFeatures, (r + 1) * f.nFeatures)) : [];
    for (let k = 0; k < e.length; k++) max = Math.max(max, Math.abs(e[k] - got[r * width + k]));
  }
  const ok = max < 1e-5;
  failed ||= !ok;
  writeFileSync(`${OUT_DIR}${f.name}.onnx`, f.bytes);
  console.log(
    `${f.name}.onnx  ${f.bytes.length} bytes  max |onnxruntime - trees| = ${max.toExponential(2)}${ok ? '' : '  MISMATCH'}`,
  );
}
if (failed) process.exit(1);
