/**
 * A bounded work queue: at most `concurrency` jobs run at once, at most `capacity` wait; more
 * are refused at once (the service answers 503 with Retry-After). A waiting job whose signal
 * aborts (deadline, client gone) leaves the queue without running.
 */
import { throwIfAborted } from '../errors.js';

/** The queue is full. */
export class QueueFullError extends Error {
  constructor(readonly depth: number) {
    super(`the server is busy (${depth} requests waiting); retry later`);
    this.name = 'QueueFullError';
  }
}

interface Waiter {
  start: () => void;
  fail: (error: unknown) => void;
}

export class WorkQueue {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    readonly concurrency: number,
    readonly capacity: number,
  ) {}

  /** Jobs waiting. */
  get depth(): number {
    return this.waiting.length;
  }

  /** Jobs running. */
  get active(): number {
    return this.running;
  }

  /**
   * Runs `job` when a slot is free. The slot is held until the job's promise settles (so work
   * that winds down after an abort still counts).
   * @throws {QueueFullError} at once when `capacity` jobs are waiting.
   */
  async run<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    throwIfAborted(signal);
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.capacity) throw new QueueFullError(this.waiting.length);
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          start: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
          fail: reject,
        };
        const onAbort = () => {
          const i = this.waiting.indexOf(waiter);
          if (i >= 0) this.waiting.splice(i, 1);
          try {
            throwIfAborted(signal);
          } catch (error) {
            reject(error);
          }
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(waiter);
      });
    } else this.running++;
    // the slot was handed over by release() (running already counts it) or taken above
    try {
      throwIfAborted(signal);
      return await job();
    } finally {
      this.release();
    }
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next.start();
    else this.running--;
  }
}
