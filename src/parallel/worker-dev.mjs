// Worker entry used when the pool itself runs from TypeScript sources (tests, benchmarks under
// tsx): registers tsx in this worker thread and loads worker.ts, so workers run exactly the code
// the caller runs — never a stale dist/ build. The published package uses dist/parallel/worker.js.
const { register } = await import('tsx/esm/api');
register();
const worker = await import('./worker.ts');
export const evaluate = worker.evaluate;
export const release = worker.release;
export const crash = worker.crash;
export const predict = worker.predict;
export const explainUnit = worker.explainUnit;
export const warm = worker.warm;
export const limeRows = worker.limeRows;
