/** The bounded work queue: concurrency, capacity, FIFO order, aborts while waiting. */
import { describe, expect, it } from 'vitest';
import { AbortedError } from '../../src/errors.js';
import { QueueFullError, WorkQueue } from '../../src/service/queue.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('WorkQueue', () => {
  it('runs at most `concurrency` jobs, queues up to `capacity`, refuses more, keeps FIFO order', async () => {
    const q = new WorkQueue(2, 2);
    const gates = Array.from({ length: 4 }, deferred);
    const started: number[] = [];
    let running = 0;
    let peak = 0;
    const jobs = gates.map((g, i) =>
      q.run(async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await g.promise;
        running--;
        return i;
      }),
    );
    await Promise.resolve();
    expect(q.active).toBe(2);
    expect(q.depth).toBe(2);
    await expect(q.run(async () => 9)).rejects.toThrow(QueueFullError);
    gates[1].resolve();
    gates[0].resolve();
    gates[3].resolve();
    gates[2].resolve();
    expect(await Promise.all(jobs)).toEqual([0, 1, 2, 3]);
    expect(started).toEqual([0, 1, 2, 3]);
    expect(peak).toBe(2);
    expect(q.active).toBe(0);
    expect(q.depth).toBe(0);
  });

  it('a waiting job whose signal aborts leaves the queue without running', async () => {
    const q = new WorkQueue(1, 5);
    const gate = deferred();
    const first = q.run(() => gate.promise);
    const c = new AbortController();
    let ran = false;
    const second = q.run(async () => {
      ran = true;
    }, c.signal);
    const third = q.run(async () => 3);
    await Promise.resolve();
    expect(q.depth).toBe(2);
    c.abort(new AbortedError('client gone'));
    await expect(second).rejects.toThrow('client gone');
    expect(q.depth).toBe(1);
    gate.resolve();
    await first;
    expect(await third).toBe(3);
    expect(ran).toBe(false);
    expect(q.active).toBe(0);
  });
});
