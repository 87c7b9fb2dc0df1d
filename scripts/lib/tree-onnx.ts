/**
 * Writes tree ensembles as ONNX `ai.onnx.ml` nodes (TreeEnsembleRegressor /
 * TreeEnsembleClassifier of opset 3, TreeEnsemble of opset 5) with onnx-proto, for the
 * tree fixtures and the tree benchmark. Deterministic: the same calls give the same bytes.
 */
import onnxProto from 'onnx-proto';
import type { SimpleTree } from './gbdt.js';
import { IR_VERSION, type OnnxNodeProto, type OnnxValueInfoProto } from './onnx-builder.js';
import type { Random } from './random.js';

const { onnx } = onnxProto;
const AT = onnx.AttributeProto.AttributeType;
const DT = onnx.TensorProto.DataType;

/** A mode of an internal node. */
export type Mode =
  | 'BRANCH_LEQ'
  | 'BRANCH_LT'
  | 'BRANCH_GTE'
  | 'BRANCH_GT'
  | 'BRANCH_EQ'
  | 'BRANCH_NEQ'
  | 'BRANCH_MEMBER';
const MODE_CODE: Record<Mode, number> = {
  BRANCH_LEQ: 0,
  BRANCH_LT: 1,
  BRANCH_GTE: 2,
  BRANCH_GT: 3,
  BRANCH_EQ: 4,
  BRANCH_NEQ: 5,
  BRANCH_MEMBER: 6,
};

/** One node of a tree to write: internal (`mode` set) or leaf (`weights`: [target, weight] pairs). */
export type WNode =
  | {
      readonly mode: Mode;
      readonly feature: number;
      readonly threshold: number;
      /** For BRANCH_MEMBER: the set. */
      readonly members?: readonly number[];
      readonly trueId: number;
      readonly falseId: number;
      readonly missingTrue: boolean;
    }
  | { readonly mode?: undefined; readonly weights: readonly (readonly [number, number])[] };

/** A tree to write; node 0 is the root. */
export type WTree = readonly WNode[];

/** The next float32 above `t`. */
export function nextUp32(t: number): number {
  const b = new Float32Array([t]);
  const u = new Uint32Array(b.buffer);
  if (t === 0) return 1.401298464324817e-45;
  if (t > 0) u[0]++;
  else u[0]--;
  return b[0];
}

/**
 * Converts a {@link SimpleTree} (x <= t goes left, NaN left when missingLeft) into a tree to
 * write. `modes` picks the written mode per node; each mode is an exact float32 rewrite of
 * the same split: LEQ t; GT t with the children swapped; LT nextUp32(t); GTE nextUp32(t)
 * swapped (NaN tracking flipped with the children).
 */
export function fromSimpleTree(
  tree: SimpleTree,
  leafWeights: (value: readonly number[]) => (readonly [number, number])[],
  modes: (node: number) => 'BRANCH_LEQ' | 'BRANCH_LT' | 'BRANCH_GTE' | 'BRANCH_GT' = () => 'BRANCH_LEQ',
): WTree {
  return tree.feature.map((f, k): WNode => {
    if (f < 0) return { weights: leafWeights(tree.value[k]) };
    const mode = modes(k);
    const swap = mode === 'BRANCH_GT' || mode === 'BRANCH_GTE';
    const t = mode === 'BRANCH_LT' || mode === 'BRANCH_GTE' ? nextUp32(tree.threshold[k]) : tree.threshold[k];
    return {
      mode,
      feature: f,
      threshold: t,
      trueId: swap ? tree.right[k] : tree.left[k],
      falseId: swap ? tree.left[k] : tree.right[k],
      missingTrue: swap ? !tree.missingLeft[k] : tree.missingLeft[k],
    };
  });
}

/** Random modes for {@link fromSimpleTree}. */
export function randomModes(rng: Random): (node: number) => 'BRANCH_LEQ' | 'BRANCH_LT' | 'BRANCH_GTE' | 'BRANCH_GT' {
  const all = ['BRANCH_LEQ', 'BRANCH_LT', 'BRANCH_GTE', 'BRANCH_GT'] as const;
  return () => all[rng.int(0, 3)];
}

type Attr = onnxProto.onnx.IAttributeProto;
const enc = new TextEncoder();
const ints = (name: string, v: readonly number[]): Attr => ({ name, type: AT.INTS, ints: [...v] });
const floats = (name: string, v: readonly number[]): Attr => ({ name, type: AT.FLOATS, floats: [...v] });
const int = (name: string, v: number): Attr => ({ name, type: AT.INT, i: v });
const str = (name: string, v: string): Attr => ({ name, type: AT.STRING, s: enc.encode(v) });
const strs = (name: string, v: readonly string[]): Attr => ({
  name,
  type: AT.STRINGS,
  strings: v.map((s) => enc.encode(s)),
});
function tensorAttr(name: string, values: readonly number[], type: 'float' | 'uint8' | 'double'): Attr {
  const k = type === 'uint8' ? 1 : type === 'float' ? 4 : 8;
  const raw = new Uint8Array(values.length * k);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => {
    if (type === 'uint8') view.setUint8(i, v);
    else if (type === 'float') view.setFloat32(i * 4, v, true);
    else view.setFloat64(i * 8, v, true);
  });
  const dataType = type === 'uint8' ? DT.UINT8 : type === 'float' ? DT.FLOAT : DT.DOUBLE;
  return { name, type: AT.TENSOR, t: { name, dims: [values.length], dataType, rawData: raw } };
}

/** Options of the opset-3 writers. */
export interface V3Options {
  readonly nTargets: number;
  readonly baseValues?: readonly number[];
  readonly postTransform?: string;
  readonly aggregate?: string;
  /** Classifier only: class labels (int64). */
  readonly classLabels?: readonly number[];
}

/** A TreeEnsembleRegressor (`Y`) or TreeEnsembleClassifier (`label`, `probabilities`) node of opset 3. */
export function treeNodeV3(
  kind: 'regressor' | 'classifier',
  trees: readonly WTree[],
  input: string,
  outputs: readonly string[],
  o: V3Options,
): OnnxNodeProto {
  const nodes = {
    treeids: [] as number[],
    nodeids: [] as number[],
    featureids: [] as number[],
    modes: [] as string[],
    values: [] as number[],
    t: [] as number[],
    f: [] as number[],
    miss: [] as number[],
  };
  const w = { treeids: [] as number[], nodeids: [] as number[], ids: [] as number[], weights: [] as number[] };
  trees.forEach((tree, ti) => {
    tree.forEach((n, k) => {
      nodes.treeids.push(ti);
      nodes.nodeids.push(k);
      if (n.mode === undefined) {
        nodes.featureids.push(0);
        nodes.modes.push('LEAF');
        nodes.values.push(0);
        nodes.t.push(0);
        nodes.f.push(0);
        nodes.miss.push(0);
        for (const [target, weight] of n.weights) {
          w.treeids.push(ti);
          w.nodeids.push(k);
          w.ids.push(target);
          w.weights.push(weight);
        }
      } else {
        if (n.mode === 'BRANCH_MEMBER') throw new Error('BRANCH_MEMBER needs opset 5');
        nodes.featureids.push(n.feature);
        nodes.modes.push(n.mode);
        nodes.values.push(n.threshold);
        nodes.t.push(n.trueId);
        nodes.f.push(n.falseId);
        nodes.miss.push(n.missingTrue ? 1 : 0);
      }
    });
  });
  const p = kind === 'regressor' ? 'target' : 'class';
  const attribute: Attr[] = [
    ints('nodes_treeids', nodes.treeids),
    ints('nodes_nodeids', nodes.nodeids),
    ints('nodes_featureids', nodes.featureids),
    strs('nodes_modes', nodes.modes),
    floats('nodes_values', nodes.values),
    ints('nodes_truenodeids', nodes.t),
    ints('nodes_falsenodeids', nodes.f),
    ints('nodes_missing_value_tracks_true', nodes.miss),
    ints(`${p}_treeids`, w.treeids),
    ints(`${p}_nodeids`, w.nodeids),
    ints(`${p}_ids`, w.ids),
    floats(`${p}_weights`, w.weights),
    str('post_transform', o.postTransform ?? 'NONE'),
  ];
  if (o.baseValues) attribute.push(floats('base_values', o.baseValues));
  if (kind === 'regressor') {
    attribute.push(int('n_targets', o.nTargets));
    attribute.push(str('aggregate_function', o.aggregate ?? 'SUM'));
  } else attribute.push(ints('classlabels_int64s', o.classLabels ?? Array.from({ length: o.nTargets }, (_, k) => k)));
  return {
    name: `TreeEnsemble${kind === 'regressor' ? 'Regressor' : 'Classifier'}_${outputs[0]}`,
    opType: kind === 'regressor' ? 'TreeEnsembleRegressor' : 'TreeEnsembleClassifier',
    domain: 'ai.onnx.ml',
    input: [input],
    output: [...outputs],
    attribute,
  };
}

/** A TreeEnsemble node (ai.onnx.ml opset 5), float thresholds and weights. */
export function treeNodeV5(
  trees: readonly WTree[],
  input: string,
  output: string,
  o: { nTargets: number; postTransform?: number; aggregate?: number },
): OnnxNodeProto {
  const f = {
    feature: [] as number[],
    splits: [] as number[],
    modes: [] as number[],
    t: [] as number[],
    fl: [] as number[],
    tl: [] as number[],
    fll: [] as number[],
    miss: [] as number[],
  };
  const leaves = { target: [] as number[], weight: [] as number[] };
  const members: number[] = [];
  const roots: number[] = [];
  for (const tree of trees) {
    // map this tree's node ids to global node / leaf indices; a single-leaf tree gets a dummy node
    const nodeIndex = new Map<number, number>();
    const leafIndex = new Map<number, number>();
    let nextNode = f.feature.length;
    tree.forEach((n, k) => {
      if (n.mode !== undefined) nodeIndex.set(k, nextNode++);
    });
    tree.forEach((n, k) => {
      if (n.mode !== undefined) return;
      // opset 5 leaves have one target each: a multi-target leaf is not representable
      if (n.weights.length !== 1) throw new Error('opset-5 leaves carry exactly one weight');
      leafIndex.set(k, leaves.target.length);
      leaves.target.push(n.weights[0][0]);
      leaves.weight.push(n.weights[0][1]);
    });
    if (tree[0].mode === undefined) {
      roots.push(f.feature.length);
      const l = leafIndex.get(0) as number;
      f.feature.push(0);
      f.splits.push(0);
      f.modes.push(0);
      f.t.push(l);
      f.fl.push(l);
      f.tl.push(1);
      f.fll.push(1);
      f.miss.push(0);
      continue;
    }
    roots.push(nodeIndex.get(0) as number);
    tree.forEach((n) => {
      if (n.mode === undefined) return;
      const ref = (id: number) =>
        tree[id].mode === undefined ? ([leafIndex.get(id), 1] as const) : ([nodeIndex.get(id), 0] as const);
      const [ti, tLeaf] = ref(n.trueId);
      const [fi, fLeaf] = ref(n.falseId);
      f.feature.push(n.feature);
      f.splits.push(n.mode === 'BRANCH_MEMBER' ? 0 : n.threshold);
      f.modes.push(MODE_CODE[n.mode]);
      f.t.push(ti as number);
      f.tl.push(tLeaf);
      f.fl.push(fi as number);
      f.fll.push(fLeaf);
      f.miss.push(n.missingTrue ? 1 : 0);
      if (n.mode === 'BRANCH_MEMBER') members.push(...(n.members ?? []), Number.NaN);
    });
  }
  const attribute: Attr[] = [
    ints('nodes_featureids', f.feature),
    tensorAttr('nodes_splits', f.splits, 'float'),
    tensorAttr('nodes_modes', f.modes, 'uint8'),
    ints('nodes_truenodeids', f.t),
    ints('nodes_falsenodeids', f.fl),
    ints('nodes_trueleafs', f.tl),
    ints('nodes_falseleafs', f.fll),
    ints('nodes_missing_value_tracks_true', f.miss),
    ints('leaf_targetids', leaves.target),
    tensorAttr('leaf_weights', leaves.weight, 'float'),
    ints('tree_roots', roots),
    int('n_targets', o.nTargets),
    int('post_transform', o.postTransform ?? 0),
    int('aggregate_function', o.aggregate ?? 1),
  ];
  if (members.length > 0) attribute.push(tensorAttr('membership_values', members, 'float'));
  return {
    name: `TreeEnsemble_${output}`,
    opType: 'TreeEnsemble',
    domain: 'ai.onnx.ml',
    input: [input],
    output: [output],
    attribute,
  };
}

/** A plain node of domain `domain`. */
export function plainNode(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attribute: Attr[] = [],
  domain = '',
): OnnxNodeProto {
  return { name: `${opType}_${outputs[0]}`, opType, domain, input: [...inputs], output: [...outputs], attribute };
}

/** `Cast(to)` node attribute helper. */
export const castTo = (to: 'float' | 'double'): Attr[] => [int('to', to === 'float' ? DT.FLOAT : DT.DOUBLE)];

/** Encodes a graph with default-domain opset 13 and `ai.onnx.ml` opset `mlOpset`. */
export function buildTreeModel(spec: {
  inputs: readonly OnnxValueInfoProto[];
  outputs: readonly OnnxValueInfoProto[];
  nodes: readonly OnnxNodeProto[];
  mlOpset: number;
  name: string;
}): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'whybox-scripts',
    producerVersion: '1',
    opsetImport: [
      { domain: '', version: 13 },
      { domain: 'ai.onnx.ml', version: spec.mlOpset },
    ],
    graph: {
      name: spec.name,
      input: [...spec.inputs],
      output: [...spec.outputs],
      node: [...spec.nodes],
      initializer: [],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Extra attribute builders for callers. */
export const attrs = { ints, floats, int, str, strs, tensorAttr };
