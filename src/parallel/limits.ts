import { availableParallelism } from 'node:os';

/** Most worker threads per core: each worker holds its own model copy and buffers, so more only costs memory. */
export const MAX_THREADS_PER_CORE = 4;

/** The largest `threads` accepted: {@link MAX_THREADS_PER_CORE} × os.availableParallelism(). */
export function maxThreads(): number {
  return MAX_THREADS_PER_CORE * availableParallelism();
}
