// A load test's verdict on "after recovery": only the requests that STARTED once the platform was ready again.
// Taking the last N outcomes some seconds after recovery counted, under load, a request that started before it
// (a 503 that was right when it was asked) as a failure of the recovered platform.
import { setTimeout as sleep } from 'node:timers/promises';

/** An outcome stamped with when its request started (performance.now(), before it was sent). */
export interface Started {
  started: number;
}

/** The outcomes whose request started at or after `since`, in the order they came in. */
export function startedSince<T extends Started>(outcomes: readonly T[], since: number): T[] {
  return outcomes.filter((o) => o.started >= since);
}

/**
 * Waits (bounded by `withinMs`) until `count` outcomes that started at or after `since` are in, and returns how many
 * are: fewer than `count` only when the time ran out, which the caller asserts on with the number.
 */
export async function awaitStartedSince(outcomes: readonly Started[], since: number, count: number, withinMs: number): Promise<number> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    const n = startedSince(outcomes, since).length;
    if (n >= count || performance.now() >= deadline) return n;
    await sleep(50);
  }
}
