/**
 * Tree ensembles read out of ONNX graphs (`ai.onnx.ml` TreeEnsembleRegressor /
 * TreeEnsembleClassifier, opsets 1–3, and TreeEnsemble, opset 5) into flat typed arrays,
 * and their margin (raw score: base values plus the sum of the leaf weights reached).
 *
 * Split semantics follow onnxruntime: a float input is compared in float32 (the row value
 * is rounded to float32, the threshold is the stored float32), NaN goes to the true branch
 * when `nodes_missing_value_tracks_true` is set and otherwise wherever the comparison sends
 * it (false for every mode except `BRANCH_NEQ`).
 */
import { readFile } from 'node:fs/promises';
import { describeFsError } from '../data/csv.js';
import { InvalidOptionError, ModelError, ShapeError } from '../errors.js';
import { decodeOnnxGraph, ONNX_DATA_TYPE, type OnnxAttribute, type OnnxGraph, type OnnxNode } from './onnx-protobuf.js';

/** Comparison modes of internal nodes, numbered as the opset-5 `nodes_modes` enumeration. */
export const TREE_MODES = [
  'BRANCH_LEQ',
  'BRANCH_LT',
  'BRANCH_GTE',
  'BRANCH_GT',
  'BRANCH_EQ',
  'BRANCH_NEQ',
  'BRANCH_MEMBER',
] as const;
/** A comparison mode. */
export type TreeMode = (typeof TREE_MODES)[number];

/** Transform the ensemble applies to its margin (`post_transform`). */
export type PostTransform = 'NONE' | 'LOGISTIC' | 'SOFTMAX' | 'SOFTMAX_ZERO' | 'PROBIT';

/**
 * A tree ensemble in flat arrays. Internal node `k` tests row value `x[feature[k]]`
 * (`mode[k]`, an index into {@link TREE_MODES}, against `threshold[k]` or the set
 * `memberValues[memberOffsets[k] .. memberOffsets[k+1]-1]`) and continues at
 * `trueChild[k]` or `falseChild[k]`. A child `c >= 0` is an internal node; `c < 0` is leaf
 * `~c` (that is `-c - 1`). Leaf `l` adds `leafWeight[j]` to target `leafTarget[j]` for
 * `j` in `leafOffsets[l] .. leafOffsets[l+1]-1` (weights already divided by the number of
 * trees for an `AVERAGE` aggregate). `roots[t]` is the root of tree t (a node or a leaf).
 *
 * margin(x)[t] = baseValues[t] + Σ_trees weights of the leaf x reaches for target t.
 */
export interface TreeEnsemble {
  /** Columns of an input row (the model's input width). */
  readonly nFeatures: number;
  /** Margins per row (targets, or classes of a classifier; 1 for a binary classifier that scores one class). */
  readonly nTargets: number;
  readonly roots: Int32Array;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly mode: Uint8Array;
  readonly trueChild: Int32Array;
  readonly falseChild: Int32Array;
  /** 1 when a NaN value goes to the true branch. */
  readonly missingTrue: Uint8Array;
  readonly memberOffsets: Int32Array;
  readonly memberValues: Float64Array;
  readonly leafOffsets: Int32Array;
  readonly leafTarget: Int32Array;
  readonly leafWeight: Float64Array;
  readonly baseValues: Float64Array;
  /** `'float32'`: row values are rounded to float32 before each comparison (float inputs, as onnxruntime does). */
  readonly splitPrecision: 'float32' | 'float64';
  /** Names of the margins: `margin[k]` (k the target or class index). */
  readonly outputNames: readonly string[];
  /** What the ensemble's own post_transform does to the margin. */
  readonly postTransform: PostTransform;
  /** Operator read (`ai.onnx.ml.TreeEnsembleClassifier` ...) and its opset. */
  readonly operator: string;
  readonly opset: number;
  /** Operators after the ensemble in the graph (Sigmoid, Softmax, ZipMap...), not part of the margin. */
  readonly after: readonly string[];
  /** Cast nodes folded in between the graph input and the ensemble. */
  readonly folded: readonly string[];
}

const ML = 'ai.onnx.ml';
const TREE_OPS = new Set(['TreeEnsembleRegressor', 'TreeEnsembleClassifier', 'TreeEnsemble']);
const POST_TRANSFORMS: readonly PostTransform[] = ['NONE', 'SOFTMAX', 'LOGISTIC', 'SOFTMAX_ZERO', 'PROBIT'];
const AGGREGATES = ['AVERAGE', 'SUM', 'MIN', 'MAX'] as const;

/**
 * Reads the tree ensemble of an ONNX model (a path or the bytes).
 *
 * The graph must be: the one input, optionally through `Cast` nodes (folded in: the split
 * precision becomes that of the cast), into one tree-ensemble node; nodes after it
 * (`Sigmoid`, `Softmax`, `ZipMap`, ...) are listed in `after` and are not part of the
 * margin that {@link predictMargin} computes and TreeSHAP explains.
 *
 * @throws {ModelError} when the file cannot be read or is not ONNX, when the graph has no
 *   tree ensemble (or several), when another operator stands between the input and the
 *   ensemble (a scaler, a one-hot encoder: the error names it and suggests `exact` or
 *   `kernel`), for `MIN`/`MAX` aggregates (not additive over trees), and for malformed
 *   tree attributes.
 * @example
 * const ens = await readTreeEnsemble('gbdt.onnx');
 * predictMargin(ens, rows, nRows); // nRows × ens.nTargets log-odds
 */
export async function readTreeEnsemble(source: string | Uint8Array): Promise<TreeEnsemble> {
  let bytes: Uint8Array;
  if (typeof source === 'string') {
    try {
      bytes = await readFile(source);
    } catch (error) {
      throw new ModelError(describeFsError(error, source), { cause: error });
    }
  } else if (source instanceof Uint8Array) bytes = source;
  else throw new InvalidOptionError('source', 'a file path or a Uint8Array of ONNX bytes', source);
  return treeEnsembleFromGraph(decodeOnnxGraph(bytes), typeof source === 'string' ? source : 'the ONNX model');
}

/** {@link readTreeEnsemble} on an already decoded graph. */
export function treeEnsembleFromGraph(graph: OnnxGraph, label = 'the ONNX model'): TreeEnsemble {
  const trees = graph.nodes.filter((n) => TREE_OPS.has(n.opType) && n.domain === ML);
  const suggest = "explain it as a black box with method 'exact' (up to 24 players) or 'kernel'";
  if (trees.length === 0)
    throw new ModelError(
      `${label} has no ai.onnx.ml tree-ensemble node (operators: ${[...new Set(graph.nodes.map((n) => n.opType))].join(', ') || 'none'}); method 'tree' reads TreeEnsembleRegressor, TreeEnsembleClassifier or TreeEnsemble nodes — ${suggest}`,
    );
  if (trees.length > 1)
    throw new ModelError(
      `${label} has ${trees.length} tree-ensemble nodes; method 'tree' reads graphs with one — ${suggest}`,
    );
  const node = trees[0];
  if (graph.inputs.length !== 1)
    throw new ModelError(
      `${label} has ${graph.inputs.length} inputs; method 'tree' needs one tensor input — ${suggest}`,
    );
  const input = graph.inputs[0];
  // walk from the ensemble's input back to the graph input, through Cast nodes only
  const producer = new Map<string, OnnxNode>();
  for (const n of graph.nodes) for (const o of n.outputs) producer.set(o, n);
  const folded: string[] = [];
  let tensor = node.inputs[0];
  let elemType = 0;
  while (tensor !== input.name) {
    const p = producer.get(tensor);
    if (!p)
      throw new ModelError(
        `${label}: the tree ensemble reads ${JSON.stringify(tensor)}, which is neither the graph input nor computed from it`,
      );
    if (p.opType !== 'Cast' || p.domain !== '')
      throw new ModelError(
        `${label} applies operator ${p.opType}${p.domain ? ` (${p.domain})` : ''} (node ${JSON.stringify(p.name)}) before its tree ensemble; method 'tree' explains the ensemble's inputs, so it cannot see through ${p.opType} — ${suggest}, or export the ensemble on its own`,
      );
    const to = intAttr(p, 'to', 0);
    if (to !== ONNX_DATA_TYPE.FLOAT && to !== ONNX_DATA_TYPE.DOUBLE)
      throw new ModelError(
        `${label} casts its input to data type ${to} (node ${JSON.stringify(p.name)}) before the tree ensemble; method 'tree' folds in casts to float or double only — ${suggest}`,
      );
    if (elemType === 0) elemType = to;
    folded.push(`Cast(to=${to === ONNX_DATA_TYPE.FLOAT ? 'float' : 'double'})`);
    tensor = p.inputs[0];
  }
  if (input.elemType !== ONNX_DATA_TYPE.FLOAT && input.elemType !== ONNX_DATA_TYPE.DOUBLE)
    throw new ModelError(
      `${label} input ${JSON.stringify(input.name)} has data type ${input.elemType}; whybox feeds float or double rows`,
    );
  if (elemType === 0) elemType = input.elemType;
  // everything computed from the ensemble's outputs, in graph order
  const downstream = new Set(node.outputs);
  const after: string[] = [];
  for (const n of graph.nodes) {
    if (n === node) continue;
    if (n.inputs.some((i) => downstream.has(i))) {
      after.push(n.opType);
      for (const o of n.outputs) downstream.add(o);
    }
  }
  const opset = graph.opsets.get(ML) ?? 1;
  const dim = input.dims[1];
  const parsed = node.opType === 'TreeEnsemble' ? parseV5(node, label) : parseV3(node, label, suggest);
  let nFeatures = typeof dim === 'number' && dim > 0 ? dim : 0;
  for (let k = 0; k < parsed.feature.length; k++) {
    const f = parsed.feature[k];
    if (f < 0) throw new ModelError(`${label}: node ${k} tests feature ${f}; feature ids must be >= 0`);
    if (typeof dim === 'number' && dim > 0 && f >= dim)
      throw new ModelError(`${label}: a node tests feature ${f}, but the input has ${dim} columns`);
    if (!(typeof dim === 'number' && dim > 0)) nFeatures = Math.max(nFeatures, f + 1);
  }
  checkAcyclic(parsed, label);
  return {
    ...parsed,
    nFeatures,
    splitPrecision: elemType === ONNX_DATA_TYPE.FLOAT ? 'float32' : 'float64',
    operator: `${ML}.${node.opType}`,
    opset,
    after,
    folded: folded.reverse(),
  };
}

type Parsed = Omit<TreeEnsemble, 'nFeatures' | 'splitPrecision' | 'operator' | 'opset' | 'after' | 'folded'>;

function attr(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attributes.get(name);
}
function intAttr(node: OnnxNode, name: string, fallback: number): number {
  return attr(node, name)?.i ?? fallback;
}
function ints(node: OnnxNode, name: string): readonly number[] | undefined {
  return attr(node, name)?.ints;
}
function numbers(node: OnnxNode, name: string): readonly number[] | undefined {
  const a = attr(node, name);
  if (!a) return undefined;
  if (a.t) return Array.from(a.t.values);
  return a.floats ?? a.ints;
}
/** A float list attribute or its `_as_tensor` twin. */
function floatsOrTensor(node: OnnxNode, name: string): readonly number[] | undefined {
  return numbers(node, name) ?? numbers(node, `${name}_as_tensor`);
}
function required<T>(v: T | undefined, node: OnnxNode, name: string, label: string): T {
  if (v === undefined) throw new ModelError(`${label}: ${node.opType} has no ${name} attribute`);
  return v;
}
function sameLength(
  label: string,
  node: OnnxNode,
  n: number,
  lists: Record<string, readonly unknown[] | undefined>,
): void {
  for (const [name, l] of Object.entries(lists))
    if (l !== undefined && l.length !== n)
      throw new ModelError(`${label}: ${node.opType} attribute ${name} has ${l.length} entries, expected ${n}`);
}

function aggregateCheck(name: string, label: string): 'SUM' | 'AVERAGE' {
  if (name === 'SUM' || name === 'AVERAGE') return name;
  throw new ModelError(
    `${label}: aggregate_function ${name} is not additive over trees, so its Shapley values have no tree decomposition; method 'tree' handles SUM and AVERAGE — explain a ${name} ensemble with method 'exact' or 'kernel'`,
  );
}

function postTransformOf(node: OnnxNode, label: string): PostTransform {
  const a = attr(node, 'post_transform');
  if (!a) return 'NONE';
  const p = a.s !== undefined ? a.s : POST_TRANSFORMS[a.i ?? 0];
  if (!POST_TRANSFORMS.includes(p as PostTransform))
    throw new ModelError(`${label}: unknown post_transform ${JSON.stringify(a.s ?? a.i)}`);
  return p as PostTransform;
}

/** TreeEnsembleRegressor / TreeEnsembleClassifier (ai.onnx.ml opsets 1–3). */
function parseV3(node: OnnxNode, label: string, suggest: string): Parsed {
  const classifier = node.opType === 'TreeEnsembleClassifier';
  const treeIds = required(ints(node, 'nodes_treeids'), node, 'nodes_treeids', label);
  const n = treeIds.length;
  const nodeIds = required(ints(node, 'nodes_nodeids'), node, 'nodes_nodeids', label);
  const featureIds = required(ints(node, 'nodes_featureids'), node, 'nodes_featureids', label);
  const modes = required(attr(node, 'nodes_modes')?.strings, node, 'nodes_modes', label);
  const values = required(floatsOrTensor(node, 'nodes_values'), node, 'nodes_values', label);
  const trueIds = required(ints(node, 'nodes_truenodeids'), node, 'nodes_truenodeids', label);
  const falseIds = required(ints(node, 'nodes_falsenodeids'), node, 'nodes_falsenodeids', label);
  const missing = ints(node, 'nodes_missing_value_tracks_true');
  sameLength(label, node, n, {
    nodes_nodeids: nodeIds,
    nodes_featureids: featureIds,
    nodes_modes: modes,
    nodes_values: values,
    nodes_truenodeids: trueIds,
    nodes_falsenodeids: falseIds,
    nodes_missing_value_tracks_true: missing,
  });
  const prefix = classifier ? 'class' : 'target';
  const wTree = required(ints(node, `${prefix}_treeids`), node, `${prefix}_treeids`, label);
  const wNode = required(ints(node, `${prefix}_nodeids`), node, `${prefix}_nodeids`, label);
  const wId = required(ints(node, `${prefix}_ids`), node, `${prefix}_ids`, label);
  const wValue = required(floatsOrTensor(node, `${prefix}_weights`), node, `${prefix}_weights`, label);
  sameLength(label, node, wTree.length, {
    [`${prefix}_nodeids`]: wNode,
    [`${prefix}_ids`]: wId,
    [`${prefix}_weights`]: wValue,
  });
  const base = floatsOrTensor(node, 'base_values') ?? [];
  const postTransform = postTransformOf(node, label);

  // targets (margins) and base values, as onnxruntime combines them
  let nTargets: number;
  let baseValues: Float64Array;
  let targetOf: (id: number) => number;
  let outputNames: string[];
  let aggregate: 'SUM' | 'AVERAGE' = 'SUM';
  if (classifier) {
    const labels = ints(node, 'classlabels_int64s') ?? attr(node, 'classlabels_strings')?.strings;
    if (!labels || labels.length === 0)
      throw new ModelError(`${label}: TreeEnsembleClassifier has neither classlabels_int64s nor classlabels_strings`);
    const nClasses = labels.length;
    const distinct = new Set(wId);
    for (const c of distinct)
      if (c < 0 || c >= nClasses) throw new ModelError(`${label}: class_ids holds ${c}, outside 0..${nClasses - 1}`);
    if (nClasses === 2 && distinct.size <= 1) {
      // binary classifier scoring one class: one margin (the positive class's score)
      nTargets = 1;
      baseValues = Float64Array.of(base.length === 2 ? base[1] : base.length === 1 ? base[0] : 0);
      targetOf = () => 0;
      outputNames = ['margin[1]'];
    } else {
      if (nClasses === 2 && base.length === 2)
        // onnxruntime then scores class 1 as base_values[1] + (class-0 sum) and class 0 as its negative
        throw new ModelError(
          `${label}: a binary TreeEnsembleClassifier whose leaves score both classes and that has two base_values is combined by onnxruntime in a way that is not the per-class sum of its leaves, so its margins are ambiguous; ${suggest}, or export it with one class scored (class_ids all 0) or without base_values`,
        );
      nTargets = nClasses;
      baseValues = new Float64Array(nClasses);
      for (let k = 0; k < Math.min(base.length, nClasses); k++) baseValues[k] = base[k];
      targetOf = (id) => id;
      outputNames = Array.from({ length: nClasses }, (_, k) => `margin[${k}]`);
    }
  } else {
    nTargets = intAttr(node, 'n_targets', 1);
    if (!Number.isInteger(nTargets) || nTargets < 1) throw new ModelError(`${label}: n_targets is ${nTargets}`);
    for (const t of wId)
      if (t < 0 || t >= nTargets) throw new ModelError(`${label}: target_ids holds ${t}, outside 0..${nTargets - 1}`);
    baseValues = new Float64Array(nTargets);
    if (base.length === nTargets) baseValues.set(base);
    else if (base.length === 1) baseValues[0] = base[0];
    targetOf = (id) => id;
    outputNames = Array.from({ length: nTargets }, (_, k) => `margin[${k}]`);
    aggregate = aggregateCheck(attr(node, 'aggregate_function')?.s ?? 'SUM', label);
  }

  // index nodes by (tree, node id)
  const key = (t: number, id: number) => `${t}:${id}`;
  const index = new Map<string, number>();
  for (let k = 0; k < n; k++) {
    const kk = key(treeIds[k], nodeIds[k]);
    if (index.has(kk)) throw new ModelError(`${label}: tree ${treeIds[k]} has node id ${nodeIds[k]} twice`);
    index.set(kk, k);
  }
  const isLeaf = (k: number) => modes[k] === 'LEAF';
  const internalIndex = new Int32Array(n).fill(-1);
  const leafIndex = new Int32Array(n).fill(-1);
  let nInternal = 0;
  let nLeaves = 0;
  for (let k = 0; k < n; k++) {
    if (isLeaf(k)) leafIndex[k] = nLeaves++;
    else {
      if (!TREE_MODES.includes(modes[k] as TreeMode) || modes[k] === 'BRANCH_MEMBER')
        throw new ModelError(`${label}: node ${nodeIds[k]} of tree ${treeIds[k]} has mode ${JSON.stringify(modes[k])}`);
      internalIndex[k] = nInternal++;
    }
  }
  const ref = (k: number) => (isLeaf(k) ? -leafIndex[k] - 1 : internalIndex[k]);
  const feature = new Int32Array(nInternal);
  const threshold = new Float64Array(nInternal);
  const mode = new Uint8Array(nInternal);
  const trueChild = new Int32Array(nInternal);
  const falseChild = new Int32Array(nInternal);
  const missingTrue = new Uint8Array(nInternal);
  const isChild = new Uint8Array(n);
  const child = (k: number, id: number, which: string) => {
    const c = index.get(key(treeIds[k], id));
    if (c === undefined)
      throw new ModelError(
        `${label}: node ${nodeIds[k]} of tree ${treeIds[k]} has ${which} child ${id}, which is not a node of that tree`,
      );
    isChild[c] = 1;
    return ref(c);
  };
  for (let k = 0; k < n; k++) {
    const i = internalIndex[k];
    if (i < 0) continue;
    feature[i] = featureIds[k];
    threshold[i] = values[k];
    mode[i] = TREE_MODES.indexOf(modes[k] as TreeMode);
    trueChild[i] = child(k, trueIds[k], 'true');
    falseChild[i] = child(k, falseIds[k], 'false');
    missingTrue[i] = missing?.[k] ? 1 : 0;
  }
  // roots: the one node of each tree that is nobody's child, trees in order of first appearance
  const treeOrder = new Set<number>();
  const rootOf = new Map<number, number>();
  for (let k = 0; k < n; k++) {
    treeOrder.add(treeIds[k]);
    if (isChild[k]) continue;
    if (rootOf.has(treeIds[k]))
      throw new ModelError(`${label}: tree ${treeIds[k]} has two roots (nodes no other node points to)`);
    rootOf.set(treeIds[k], k);
  }
  const roots = Int32Array.from([...treeOrder], (t) => {
    const r = rootOf.get(t);
    if (r === undefined) throw new ModelError(`${label}: tree ${t} has no root (its nodes form a cycle)`);
    return ref(r);
  });
  const scale = aggregate === 'AVERAGE' ? 1 / roots.length : 1;
  // leaf weights as CSR
  const counts = new Int32Array(nLeaves + 1);
  const leafOfWeight = new Int32Array(wTree.length);
  for (let j = 0; j < wTree.length; j++) {
    const k = index.get(key(wTree[j], wNode[j]));
    if (k === undefined || leafIndex[k] < 0)
      throw new ModelError(
        `${label}: a ${prefix} weight is for node ${wNode[j]} of tree ${wTree[j]}, which is not a leaf`,
      );
    leafOfWeight[j] = leafIndex[k];
    counts[leafIndex[k] + 1]++;
  }
  for (let l = 0; l < nLeaves; l++) counts[l + 1] += counts[l];
  const leafOffsets = counts.slice();
  const fill = counts.slice(0, nLeaves);
  const leafTarget = new Int32Array(wTree.length);
  const leafWeight = new Float64Array(wTree.length);
  for (let j = 0; j < wTree.length; j++) {
    const at = fill[leafOfWeight[j]]++;
    leafTarget[at] = targetOf(wId[j]);
    leafWeight[at] = wValue[j] * scale;
  }
  return {
    nTargets,
    roots,
    feature,
    threshold,
    mode,
    trueChild,
    falseChild,
    missingTrue,
    memberOffsets: new Int32Array(nInternal + 1),
    memberValues: new Float64Array(0),
    leafOffsets,
    leafTarget,
    leafWeight,
    baseValues,
    outputNames,
    postTransform,
  };
}

/** TreeEnsemble (ai.onnx.ml opset 5). */
function parseV5(node: OnnxNode, label: string): Parsed {
  const featureIds = required(ints(node, 'nodes_featureids'), node, 'nodes_featureids', label);
  const n = featureIds.length;
  const splits = required(numbers(node, 'nodes_splits'), node, 'nodes_splits', label);
  const modes = required(numbers(node, 'nodes_modes'), node, 'nodes_modes', label);
  const trueIds = required(ints(node, 'nodes_truenodeids'), node, 'nodes_truenodeids', label);
  const falseIds = required(ints(node, 'nodes_falsenodeids'), node, 'nodes_falsenodeids', label);
  const trueLeaf = required(ints(node, 'nodes_trueleafs'), node, 'nodes_trueleafs', label);
  const falseLeaf = required(ints(node, 'nodes_falseleafs'), node, 'nodes_falseleafs', label);
  const missing = ints(node, 'nodes_missing_value_tracks_true');
  sameLength(label, node, n, {
    nodes_splits: splits,
    nodes_modes: modes,
    nodes_truenodeids: trueIds,
    nodes_falsenodeids: falseIds,
    nodes_trueleafs: trueLeaf,
    nodes_falseleafs: falseLeaf,
    nodes_missing_value_tracks_true: missing,
  });
  const targets = required(ints(node, 'leaf_targetids'), node, 'leaf_targetids', label);
  const weights = required(numbers(node, 'leaf_weights'), node, 'leaf_weights', label);
  sameLength(label, node, targets.length, { leaf_weights: weights });
  const nLeaves = targets.length;
  const nTargets = intAttr(node, 'n_targets', Math.max(1, ...targets.map((t) => t + 1)));
  for (const t of targets)
    if (t < 0 || t >= nTargets) throw new ModelError(`${label}: leaf_targetids holds ${t}, outside 0..${nTargets - 1}`);
  const rootIds = required(ints(node, 'tree_roots'), node, 'tree_roots', label);
  const aggregate = aggregateCheck(AGGREGATES[intAttr(node, 'aggregate_function', 1)] ?? 'unknown', label);
  const members = numbers(node, 'membership_values') ?? [];
  const memberOffsets = new Int32Array(n + 1);
  const memberValues: number[] = [];
  let cursor = 0;
  const mode = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const m = modes[k];
    if (!Number.isInteger(m) || m < 0 || m > 6) throw new ModelError(`${label}: node ${k} has mode ${m}`);
    mode[k] = m;
    if (m === 6) {
      // this node's set: the values up to the next NaN
      while (cursor < members.length && !Number.isNaN(members[cursor])) memberValues.push(members[cursor++]);
      cursor++;
    }
    memberOffsets[k + 1] = memberValues.length;
  }
  const ref = (k: number, id: number, leaf: number, which: string) => {
    const limit = leaf ? nLeaves : n;
    if (!Number.isInteger(id) || id < 0 || id >= limit)
      throw new ModelError(`${label}: node ${k} has ${which} ${leaf ? 'leaf' : 'node'} ${id}, outside 0..${limit - 1}`);
    return leaf ? -id - 1 : id;
  };
  const scale = aggregate === 'AVERAGE' ? 1 / rootIds.length : 1;
  return {
    nTargets,
    roots: Int32Array.from(rootIds, (r) => ref(-1, r, 0, 'root')),
    feature: Int32Array.from(featureIds),
    threshold: Float64Array.from(splits),
    mode,
    trueChild: Int32Array.from(trueIds, (id, k) => ref(k, id, trueLeaf[k], 'true')),
    falseChild: Int32Array.from(falseIds, (id, k) => ref(k, id, falseLeaf[k], 'false')),
    missingTrue: Uint8Array.from(missing ?? new Array<number>(n).fill(0), (v) => (v ? 1 : 0)),
    memberOffsets,
    memberValues: Float64Array.from(memberValues),
    leafOffsets: Int32Array.from({ length: nLeaves + 1 }, (_, l) => l),
    leafTarget: Int32Array.from(targets),
    leafWeight: Float64Array.from(weights, (w) => w * scale),
    baseValues: new Float64Array(nTargets),
    outputNames: Array.from({ length: nTargets }, (_, k) => `margin[${k}]`),
    postTransform: postTransformOf(node, label),
  };
}

/** Every tree is a tree: no node reached twice from the roots (which would loop or share subtrees). */
function checkAcyclic(p: Parsed, label: string): void {
  const seen = new Uint8Array(p.feature.length);
  const stack: number[] = [];
  for (const r of p.roots) {
    if (r >= 0) stack.push(r);
    while (stack.length > 0) {
      const k = stack.pop() as number;
      if (seen[k]) throw new ModelError(`${label}: node ${k} is reached twice; the trees must not share nodes or loop`);
      seen[k] = 1;
      if (p.trueChild[k] >= 0) stack.push(p.trueChild[k]);
      if (p.falseChild[k] >= 0) stack.push(p.falseChild[k]);
    }
  }
}

/**
 * Whether internal node `k` sends value `v` (already rounded to the split precision) to
 * its true branch.
 * @internal
 */
export function goesTrue(e: TreeEnsemble, k: number, v: number): boolean {
  if (Number.isNaN(v) && e.missingTrue[k]) return true;
  const t = e.threshold[k];
  switch (e.mode[k]) {
    case 0:
      return v <= t;
    case 1:
      return v < t;
    case 2:
      return v >= t;
    case 3:
      return v > t;
    case 4:
      return v === t;
    case 5:
      return v !== t;
    default: {
      for (let j = e.memberOffsets[k]; j < e.memberOffsets[k + 1]; j++) if (e.memberValues[j] === v) return true;
      return false;
    }
  }
}

/** A row value as the ensemble compares it. @internal */
export function splitValue(e: TreeEnsemble, v: number): number {
  return e.splitPrecision === 'float32' ? Math.fround(v) : v;
}

/**
 * The margin of each row: `nRows × nTargets` values, base values plus the leaf weights
 * reached (summed in float64; onnxruntime sums float models in float32, so its outputs
 * differ in the last float32 bits).
 *
 * @throws {ShapeError} when `rows` holds fewer than `nRows × nFeatures` values.
 * @example
 * predictMargin(ens, Float64Array.of(0.5, 1, 2), 1); // Float64Array [margin]
 */
export function predictMargin(e: TreeEnsemble, rows: ArrayLike<number>, nRows: number): Float64Array {
  const d = e.nFeatures;
  if (!Number.isInteger(nRows) || nRows < 0) throw new ShapeError(`nRows must be a non-negative integer; got ${nRows}`);
  if (rows.length < nRows * d)
    throw new ShapeError(`rows holds ${rows.length} values but ${nRows} rows of ${d} features need ${nRows * d}`);
  const T = e.nTargets;
  const out = new Float64Array(nRows * T);
  for (let r = 0; r < nRows; r++) {
    const o = r * T;
    for (let t = 0; t < T; t++) out[o + t] = e.baseValues[t];
    for (const root of e.roots) {
      let c = root;
      while (c >= 0) c = goesTrue(e, c, splitValue(e, rows[r * d + e.feature[c]])) ? e.trueChild[c] : e.falseChild[c];
      const l = -c - 1;
      for (let j = e.leafOffsets[l]; j < e.leafOffsets[l + 1]; j++) out[o + e.leafTarget[j]] += e.leafWeight[j];
    }
  }
  return out;
}
