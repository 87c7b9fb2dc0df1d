import { errorFunction, probit, quantileSorted, sampleRankCorrelation } from 'simple-statistics';
import { erfc, normalCdf, normalQuantile } from '../src/sampling/normal.js';
// probit accuracy: both against a tight reference (Acklam + 2 Halley steps on a high-precision CDF is our refine);
// the independent check: Φ(Φ⁻¹(p)) = p using our erfc (rel err < 1.2e-7) -> measure |Φ(q(p)) - p| / p
let worstSs = 0, worstOurs = 0, pWorst = 0;
for (let k = 1; k < 100000; k++) {
  const p = k / 100000;
  const a = Math.abs(normalCdf(probit(p)) - p) / Math.min(p, 1 - p);
  const b = Math.abs(normalCdf(normalQuantile(p)) - p) / Math.min(p, 1 - p);
  if (a > worstSs) { worstSs = a; pWorst = p; }
  worstOurs = Math.max(worstOurs, b);
}
console.log('probit: worst relative error of the tail probability, simple-statistics', worstSs.toExponential(2), 'at p', pWorst, 'ours', worstOurs.toExponential(2));
let zWorst = 0;
for (let k = 1; k < 100000; k++) { const p = k / 100000; zWorst = Math.max(zWorst, Math.abs(probit(p) - normalQuantile(p))); }
console.log('probit: worst |z difference| over p in (0,1) step 1e-5:', zWorst.toExponential(2));
// tail: 1 - erf(x) vs erfc(x) at x = 5, 6
for (const x of [3, 5, 6]) {
  const ssTail = 1 - errorFunction(x);
  console.log(`erfc(${x}): ours ${erfc(x).toExponential(4)} simple-statistics 1-erf ${ssTail.toExponential(4)}`);
}
// quantiles: numpy linear vs simple-statistics on 1..10, q = 0.25, 0.5, 0.75
const sorted = Float64Array.from({ length: 10 }, (_, i) => i + 1);
const lin = (q: number) => { const h = (sorted.length - 1) * q; const lo = Math.floor(h); return sorted[lo] + (h - lo) * (sorted[Math.min(lo + 1, 9)] - sorted[lo]); };
console.log('quartiles of 1..10: numpy linear', [0.25, 0.5, 0.75].map(lin), 'simple-statistics', [0.25, 0.5, 0.75].map((q) => quantileSorted(Array.from(sorted), q)));
console.log('rank corr with ties', sampleRankCorrelation([0, 0, 0, 1, 2], [0, 0, 0, 2, 1]));
