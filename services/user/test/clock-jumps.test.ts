// The login throttle's queue when the wall clock steps back (NTP, a resumed VM): the wait is measured on the monotonic
// clock, so a step cannot keep a login polling the database for the hour the clock went back. Date.now is stepped
// in-process: the only way to move a clock without moving the machine's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoginFailureRepository } from '../src/data/login-failure-repository.js';
import { LoginThrottle } from '../src/model/login-throttle.js';

describe('a wall clock that steps back', () => {
  it('when it steps back an hour while a login waits in the throttle\'s queue, then it is refused after queueMs (Retry-After 1), not an hour of polling later', async () => {
    const realNow = Date.now;
    const started = performance.now();
    let polls = 0;
    // Every place taken by attempts still being checked: the attempt queues.
    const failures = {
      lockedSeconds: async () => 0,
      claim: async () => {
        if (++polls === 1) {
          const stepped = realNow() - 3_600_000;
          const at = realNow();
          Date.now = () => stepped + (realNow() - at);
        }
        // Bounds the test (before the fix the queue polled for the hour the clock went back).
        if (performance.now() - started > 5_000) throw new Error('still queued 5 s in: the wait is measured on the wall clock');
        return null;
      },
      release: async () => undefined,
    } as unknown as LoginFailureRepository;
    try {
      const throttle = new LoginThrottle(failures, { maxPerAccountAddress: 5, maxPerAddress: 20, windowSeconds: 60, queueMs: 300 });
      assert.equal((await throttle.claimAttempt('ada@example.test', '192.0.2.1')).wait, 1);
    } finally {
      Date.now = realNow;
    }
    const tookMs = performance.now() - started;
    assert.ok(tookMs >= 250 && tookMs < 2_000, `refused after ${Math.round(tookMs)} ms (queueMs 300)`);
  });
});
