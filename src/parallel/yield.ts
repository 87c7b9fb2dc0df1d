/**
 * Cooperative time slicing for estimator loops on the main thread: {@link yieldToLoop} lets the
 * event loop run (other requests, health probes, abort signals, timers) once a slice of
 * {@link SLICE_MS} has passed since the last yield, and costs a clock read otherwise.
 */

/** Longest stretch (ms) of estimator work between two turns of the event loop. */
export const SLICE_MS = 5;

let last = performance.now();

/** Yields to the event loop (setImmediate) when {@link SLICE_MS} have passed since the last yield. */
export async function yieldToLoop(): Promise<void> {
  const now = performance.now();
  if (now - last < SLICE_MS) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  last = performance.now();
}
