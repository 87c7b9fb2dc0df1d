/**
 * Why whybox keeps its own normal quantile and erfc instead of simple-statistics' `probit` and
 * `errorFunction` (figures quoted in the README's "Dependencies" section):
 * `npx tsx scripts/measure-simple-statistics.ts`.
 *
 * Accuracy is measured as the round trip |Φ(q(p)) − p| relative to the tail probability
 * min(p, 1 − p), over p = k / 100000, with whybox's erfc-based Φ (relative error < 1.2e-7).
 */
import { errorFunction, probit } from 'simple-statistics';
import { erfc, normalCdf, normalQuantile } from '../src/sampling/normal.js';

let worstSs = 0;
let worstSsAt = 0;
let worstOurs = 0;
let worstZ = 0;
for (let k = 1; k < 100000; k++) {
  const p = k / 100000;
  const tail = Math.min(p, 1 - p);
  const ss = Math.abs(normalCdf(probit(p)) - p) / tail;
  if (ss > worstSs) {
    worstSs = ss;
    worstSsAt = p;
  }
  worstOurs = Math.max(worstOurs, Math.abs(normalCdf(normalQuantile(p)) - p) / tail);
  worstZ = Math.max(worstZ, Math.abs(probit(p) - normalQuantile(p)));
}
console.log(
  `normal quantile, worst relative round-trip error: simple-statistics probit ${worstSs.toExponential(2)} (p = ${worstSsAt}), whybox ${worstOurs.toExponential(2)}; largest |z| difference ${worstZ.toExponential(2)}`,
);
for (const x of [3, 5, 6, 8])
  console.log(
    `erfc(${x}): whybox ${erfc(x).toExponential(4)}, simple-statistics 1 - errorFunction ${(1 - errorFunction(x)).toExponential(4)}`,
  );
