// A keyed write's retries (creating an account, placing an order): apart from client.ts, which the first visit loads.
import { isTimeout } from './client.js';

/**
 * A write named by an Idempotency-Key, sent until its answer is final: sent again with the same key (a repeat is safe,
 * it finds what the first try made) after a dropped connection, or while `again(answer)` says so (a 502/503/504:
 * the request may have arrived), after each wait of `delaysMs`. No answer in WRITE_TIMEOUT_MS ends it at once (the
 * shop is stuck, not flaky). Resolves to the last answer; rejects with the last failure.
 */
export async function sendKeyed<T>(send: () => Promise<T>, again: (answer: T) => boolean, delaysMs: readonly number[], sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0) await sleep(delaysMs[attempt - 1]!);
    try {
      const answer = await send();
      if (attempt === delaysMs.length || !again(answer)) return answer;
    } catch (err) {
      if (isTimeout(err) || attempt === delaysMs.length) throw err;
    }
  }
}
