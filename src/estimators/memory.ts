/**
 * Memory caps checked before large allocations: an estimator that would need more than
 * {@link memoryCap} bytes for its samples or coalitions refuses with a {@link BudgetError}
 * (one line: what, how much, the cap, and what to pass instead) instead of dying of an
 * out-of-memory crash minutes later.
 */
import { totalmem } from 'node:os';
import { BudgetError } from '../errors.js';

/** The largest single working set an estimator may allocate: half of the machine's (or the container's) memory, at most 16 GiB. */
export function memoryCap(): number {
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  const mem = constrained && constrained > 0 ? Math.min(constrained, totalmem()) : totalmem();
  return Math.min(mem / 2, 16 * 2 ** 30);
}

/** `bytes` in MiB/GiB for messages. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'an unbounded amount of memory';
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${Math.ceil(bytes / 2 ** 20)} MiB`;
}

/**
 * Throws when `bytes` (an estimate of what `what` allocates) is above the cap.
 * @param hint how to ask for less, e.g. "pass a smaller --num-samples".
 * @throws {BudgetError}
 */
export function checkMemory(what: string, bytes: number, hint: string, cap = memoryCap()): void {
  if (bytes > cap)
    throw new BudgetError(
      `${what} would need about ${formatBytes(bytes)} of memory, above the limit of ${formatBytes(cap)} (half of this machine's memory); ${hint}`,
    );
}
