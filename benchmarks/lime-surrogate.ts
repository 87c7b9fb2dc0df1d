/**
 * LIME and the global surrogate tree.
 *
 * 1. LIME time per explanation, d = 20 players, 5000 samples, split into model time
 *    (Explanation.lime.modelSeconds: model.predict calls) and LIME's own time (sampling,
 *    kernel, selection, ridge) — for the ONNX logistic fixture (20 inputs) and a cheap JS
 *    function model, per discretizer and feature selection.
 *    Then LIME's phases for one explanation, the first implementation (baselines/lime-v1.ts,
 *    main at 5383178) and the current one side by side on the same inputs (interleaved,
 *    medians): sampling, kernel weights, weighted moments, feature selection, final ridge,
 *    next to the model's time on the same 5000 rows.
 * 2. CART fit time, 10k and 100k rows x 20 features, depth 4 and 8: whybox's presorted CART
 *    vs ml-cart 2.1.1 side by side in this run. ml-cart tries every distinct value of every
 *    feature and re-splits the node's rows for each (O(rows² · features) per node), so it is
 *    run on growing sizes until one fit exceeds ML_CART_CAP_S; larger sizes are reported as
 *    skipped with the scaling measured.
 * Run: npm run bench -- lime-surrogate [--quick] [--lime-only | --tree-only]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { DecisionTreeRegression } from 'ml-cart';
import { definePlayers } from '../src/data/players.js';
import { kernelWeights, resolveLimeSettings, ridgeFit } from '../src/explainers/lime.js';
import { momentsWorkspace, selectFeatures, weightedMoments } from '../src/explainers/lime-fit.js';
import { predictInChunks } from '../src/games/evaluator.js';
import type { FeatureSelection, LimeDiscretizer, Model } from '../src/index.js';
import { fromFunction, lime, loadOnnx, Rng } from '../src/index.js';
import { fitTree, treePredict } from '../src/numerics/cart.js';
import { limeSample, limeStats } from '../src/sampling/lime-sampler.js';
import { kernelWeightsV1, limeSampleV1, ridgeFitV1, selectFeaturesV1, weightedMomentsV1 } from './baselines/lime-v1.js';
import { fmt, median, printTable, ROOT, saveResult } from './lib/common.js';

const quick = process.argv.includes('--quick');
const runLime = !process.argv.includes('--tree-only');
const runTree = !process.argv.includes('--lime-only');
const D = 20;
const rng = Rng.fromSeed(1);
const nTrain = 1000;
const train = new Float64Array(nTrain * D);
for (let i = 0; i < train.length; i++) train[i] = rng.normal() * (1 + (i % D) / 10);
const rowsToExplain = quick ? 3 : 10;
const X = new Float64Array(rowsToExplain * D);
for (let i = 0; i < X.length; i++) X[i] = rng.normal();

const onnx = await loadOnnx(`${ROOT}test/fixtures/logistic.onnx`, { select: [1], intraOpThreads: 1 });
const onnxPhases = await loadOnnx(`${ROOT}test/fixtures/logistic.onnx`, { select: [1], intraOpThreads: 1 });
const jsModel = fromFunction(
  (rows: Float64Array, n: number) => {
    const out = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += (j % 3 === 0 ? Math.sin(rows[r * D + j]) : 0.1 * j) * rows[r * D + j];
      out[r] = s;
    }
    return out;
  },
  { nInputs: D, batched: true },
);

const limeRows: (string | number)[][] = [];
const limeOut: Record<string, unknown>[] = [];
if (runLime) {
  const configs: [string, Model, LimeDiscretizer, FeatureSelection][] = [
    ['onnx logistic', onnx, 'quartile', 'auto'],
    ['onnx logistic', onnx, 'none', 'auto'],
    ['onnx logistic', onnx, 'quartile', 'forward_selection'],
    ['onnx logistic', onnx, 'quartile', 'lasso_path'],
    ['js function', jsModel, 'quartile', 'auto'],
    ['js function', jsModel, 'none', 'none'],
  ];
  for (const [label, model, discretizer, featureSelection] of configs) {
    const totals: number[] = [];
    const models: number[] = [];
    for (let rep = 0; rep < (quick ? 2 : 4); rep++) {
      const t0 = performance.now();
      const e = await lime(
        model,
        { data: X, nRows: rowsToExplain },
        {
          training: { data: train, nRows: nTrain },
          discretizer,
          featureSelection,
          numSamples: 5000,
          seed: rep,
        },
      );
      const total = (performance.now() - t0) / rowsToExplain;
      if (rep === 0) continue; // warm-up
      totals.push(total);
      models.push(((e.lime?.modelSeconds ?? 0) * 1000) / rowsToExplain);
    }
    const t = median(totals);
    const m = median(models);
    limeRows.push([label, discretizer, featureSelection, fmt(t, 1), fmt(m, 1), fmt(t - m, 1), fmt(t / m, 2)]);
    limeOut.push({ model: label, discretizer, featureSelection, msPerRow: t, modelMsPerRow: m, limeMsPerRow: t - m });
  }
  console.log(
    `LIME, d = ${D}, 5000 samples per row, ${rowsToExplain} rows, training ${nTrain} rows, 1 thread (load average ${loadavg()[0].toFixed(1)})`,
  );
  printTable(['model', 'discretizer', 'selection', 'ms / row', 'model ms', 'LIME ms', 'total / model'], limeRows);
}
await onnx.close();

// ---- LIME phases: v1 vs current, same inputs ----
const phaseRows: (string | number)[][] = [];
const phaseOut: Record<string, unknown>[] = [];
if (runLime) {
  const cols = Array.from({ length: D }, (_, j) => `x${j}`);
  const players = definePlayers(cols);
  const ws = momentsWorkspace();
  const n = 5000;
  const reps = quick ? 8 : 24;
  for (const [discretizer, selection] of [
    ['quartile', 'auto'],
    ['quartile', 'forward_selection'],
    ['quartile', 'lasso_path'],
    ['none', 'auto'],
  ] as [LimeDiscretizer, FeatureSelection][]) {
    const stats = limeStats({ data: train, nRows: nTrain }, players, cols, discretizer, new Set());
    const s = resolveLimeSettings({ discretizer, featureSelection: selection, numSamples: n }, D);
    const T: Record<string, number[]> = {};
    const add = (k: string, v: number) => {
      T[k] ??= [];
      T[k].push(v);
    };
    for (let rep = 0; rep < reps + 2; rep++) {
      const x = X.subarray((rep % rowsToExplain) * D, ((rep % rowsToExplain) + 1) * D);
      for (const impl of rep % 2 === 0 ? ['v1', 'new'] : ['new', 'v1']) {
        const v1 = impl === 'v1';
        const r = Rng.fromSeed(rep);
        const cpuNow = () => {
          const u = process.cpuUsage();
          return (u.user + u.system) / 1000;
        };
        let c0 = cpuNow();
        let t0 = performance.now();
        const sample = v1 ? limeSampleV1(stats, x, n, r) : limeSample(stats, x, n, r);
        const tSample = performance.now() - t0;
        const cSample = cpuNow() - c0;
        t0 = performance.now();
        const Y = await predictInChunks(onnxPhases, sample.rows, n, 4096, undefined);
        const tModel = performance.now() - t0;
        const w = new Float64Array(n);
        t0 = performance.now();
        (v1 ? kernelWeightsV1 : kernelWeights)(sample.z, n, D, s, w);
        const tKernel = performance.now() - t0;
        c0 = cpuNow();
        t0 = performance.now();
        const m = v1 ? weightedMomentsV1(sample.z, Y, w, n, D, 1) : weightedMoments(sample.z, Y, w, n, D, 1, ws);
        const tMoments = performance.now() - t0;
        const cMoments = cpuNow() - c0;
        const z0 = sample.z.subarray(0, D);
        t0 = performance.now();
        const S = (v1 ? selectFeaturesV1 : selectFeatures)(m, 0, s.numFeatures, s.featureSelection, z0);
        const tSelect = performance.now() - t0;
        t0 = performance.now();
        (v1 ? ridgeFitV1 : ridgeFit)(sample.z, Y, w, m, 0, S, s.alpha);
        const tFit = performance.now() - t0;
        if (rep < 2) continue; // warm-up
        add(`${impl} sample`, tSample);
        add(`${impl} kernel`, tKernel);
        add(`${impl} moments`, tMoments);
        add(`${impl} select`, tSelect);
        add(`${impl} fit`, tFit);
        add(`${impl} lime`, tSample + tKernel + tMoments + tSelect + tFit);
        add(`${impl} sample cpu`, cSample);
        add(`${impl} moments cpu`, cMoments);
        add('model', tModel);
      }
    }
    const med = (k: string) => median(T[k]);
    for (const phase of ['sample', 'kernel', 'moments', 'select', 'fit', 'lime']) {
      const a = med(`v1 ${phase}`);
      const b = med(`new ${phase}`);
      phaseRows.push([
        discretizer,
        selection,
        phase === 'lime' ? 'LIME total (no model)' : phase,
        fmt(a, 2),
        fmt(b, 2),
        fmt(a / b, 1),
        phase === 'lime' ? fmt(b / med('model'), 2) : '',
        T[`v1 ${phase} cpu`] ? `${fmt(med(`v1 ${phase} cpu`), 2)} / ${fmt(med(`new ${phase} cpu`), 2)}` : '',
      ]);
      phaseOut.push({
        discretizer,
        selection,
        phase,
        v1Ms: a,
        newMs: b,
        speedup: a / b,
        modelMs: med('model'),
        ...(T[`v1 ${phase} cpu`] ? { v1CpuMs: med(`v1 ${phase} cpu`), newCpuMs: med(`new ${phase} cpu`) } : {}),
      });
    }
    phaseRows.push([discretizer, selection, 'model (ONNX, 5000 rows)', fmt(med('model'), 2), '', '', '', '']);
  }
  console.log(
    `\nLIME phases per explanation (ms, medians over ${reps} interleaved repeats), d = ${D}, 5000 samples, output 1 (load average ${loadavg()[0].toFixed(1)})`,
  );
  printTable(
    ['discretizer', 'selection', 'phase', 'v1 ms', 'now ms', 'v1 / now', 'now / model', 'CPU ms v1 / now'],
    phaseRows,
  );
}
await onnxPhases.close();

// ---- CART ----
function data(n: number, seed: number) {
  const r = Rng.fromSeed(seed);
  const Xt = new Float64Array(n * D);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < D; j++) Xt[i * D + j] = r.normal();
    const x = Xt.subarray(i * D, (i + 1) * D);
    y[i] = (x[0] > 0 ? 2 : -1) + Math.sin(2 * x[1]) + 0.5 * x[2] * x[3] + 0.1 * r.normal();
  }
  return { X: Xt, y };
}
function r2(y: Float64Array, p: ArrayLike<number>): number {
  let m = 0;
  for (const v of y) m += v;
  m /= y.length;
  let sse = 0;
  let sst = 0;
  for (let i = 0; i < y.length; i++) {
    sse += (y[i] - p[i]) ** 2;
    sst += (y[i] - m) ** 2;
  }
  return 1 - sse / sst;
}
const ML_CART_CAP_S = quick ? 5 : 30;
const treeRows: (string | number)[][] = [];
const treeOut: Record<string, unknown>[] = [];
const test = data(5000, 99);
if (runTree) {
  const sizes = [10_000, 100_000];
  {
    // warm-up: compile the fit's hot loops before anything is timed
    const w = data(20_000, 7);
    fitTree(w.X, 20_000, D, w.y, { maxDepth: 6 });
  }
  const cartSizes = [1000, 2000, 4000, 10_000, 100_000];
  for (const depth of [4, 6, 8]) {
    for (const n of sizes) {
      const { X: Xt, y } = data(n, n + depth);
      const times: number[] = [];
      let fid = 0;
      for (let rep = 0; rep < (n >= 100_000 ? 2 : 3); rep++) {
        const t0 = performance.now();
        const t = fitTree(Xt, n, D, y, { maxDepth: depth });
        times.push((performance.now() - t0) / 1000);
        fid = r2(test.y, treePredict(t, test.X, 5000));
      }
      treeRows.push(['whybox', n, depth, fmt(median(times), 3), fmt(fid, 3), '']);
      treeOut.push({ impl: 'whybox', rows: n, depth, seconds: median(times), testR2: fid });
    }
    // ml-cart on growing sizes until one fit passes the cap (depths 4 and 8 only)
    if (depth === 6) continue;
    let last = 0;
    for (const n of cartSizes) {
      if (last > ML_CART_CAP_S) {
        treeRows.push(['ml-cart', n, depth, `skipped (> ${ML_CART_CAP_S} s at a smaller size)`, '', '']);
        treeOut.push({ impl: 'ml-cart', rows: n, depth, skipped: true });
        continue;
      }
      const { X: Xt, y } = data(n, n + depth);
      const rows2d = Array.from({ length: n }, (_, i) => Array.from(Xt.subarray(i * D, (i + 1) * D)));
      const ours0 = performance.now();
      fitTree(Xt, n, D, y, { maxDepth: depth });
      const ours = (performance.now() - ours0) / 1000;
      const t0 = performance.now();
      const m = new DecisionTreeRegression({ maxDepth: depth, minNumSamples: 2 });
      m.train(rows2d, Array.from(y));
      last = (performance.now() - t0) / 1000;
      const testRows = Array.from({ length: 5000 }, (_, i) => Array.from(test.X.subarray(i * D, (i + 1) * D)));
      const fid = r2(test.y, m.predict(testRows));
      treeRows.push(['ml-cart', n, depth, fmt(last, 3), fmt(fid, 3), fmt(last / ours, 0)]);
      treeOut.push({
        impl: 'ml-cart',
        rows: n,
        depth,
        seconds: last,
        testR2: fid,
        oursSeconds: ours,
        ratio: last / ours,
      });
    }
  }
  console.log(`\nCART regression fit, ${D} features (continuous), test R² on 5000 fresh rows, 1 thread`);
  printTable(['impl', 'rows', 'depth', 'fit s', 'test R²', 'ml-cart / whybox'], treeRows);
}
const load = loadavg().map((x) => x.toFixed(1));
console.log(`load average at the end: ${load.join(' ')} (2 cores; other processes share them)`);
// a partial run (--lime-only / --tree-only) keeps the other part of the previous results
const previous = (() => {
  try {
    return JSON.parse(readFileSync(`${ROOT}benchmarks/results/lime-surrogate.json`, 'utf8'));
  } catch {
    return {};
  }
})();
saveResult('lime-surrogate', {
  lime: runLime ? limeOut : previous.lime,
  limePhases: runLime ? phaseOut : previous.limePhases,
  tree: runTree ? treeOut : previous.tree,
  loadAverage: load,
  at: new Date().toISOString(),
});
