// How long a request took, for the tests that bound it (lock pile-ups, crashes, hangs): on performance.now(), the
// monotonic clock, so a step of the wall clock cannot stretch or shrink a measured wait.
import { performance } from 'node:perf_hooks';

/** An answer, how long it took from sending (ms) and when it came (`at`, on performance.now()). */
export interface Timed<T> {
  res: T;
  ms: number;
  at: number;
}

/** Calls `send` and answers what it answered with the time it took; a rejection passes through untimed. */
export async function timed<T>(send: () => Promise<T>): Promise<Timed<T>> {
  const sentAt = performance.now();
  const res = await send();
  const at = performance.now();
  return { res, ms: at - sentAt, at };
}
