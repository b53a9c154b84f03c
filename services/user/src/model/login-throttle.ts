import { setTimeout as sleep } from 'node:timers/promises';
import type { LoginFailureRepository } from '../data/login-failure-repository.js';
import { countedAddress } from './client-address.js';

export interface ThrottlePolicy {
  /** Failed logins for one account from one address before that pair is refused for a window. */
  maxPerAccountAddress: number;
  /** Failed logins from one address (any accounts) before the address is refused for a window. */
  maxPerAddress: number;
  windowSeconds: number;
  /** How long an attempt waits for attempts still being checked before it is refused (default 5 s). */
  queueMs?: number;
}

/**
 * Counts failed logins in PostgreSQL, so every replica sees the same counts (OWASP Authentication
 * Cheat Sheet). Keys are (account, address) and address, never the account alone: an account-wide
 * lock is one a stranger can put on anyone, and the owner's right password from their own address
 * must keep working. A key whose failures reach its limit is refused for one window. Attempts being checked count
 * too, apart from the failures (pending): a right password takes its attempt back, a wrong one makes it a failure.
 */
export class LoginThrottle {
  constructor(
    private readonly failures: LoginFailureRepository,
    private readonly policy: ThrottlePolicy,
  ) {}

  /**
   * Admits an attempt to have its password checked: answers 0 when it may be, else the seconds until the next may
   * be made. Attempts being checked count against the budget with the failures (claim), so guesses sent at once
   * cannot all pass a lock check first: 20 sent together were 20 checked, not 5. Every admitted attempt must be
   * settled: recordFailure, recordSuccess or abandon.
   *
   * A key may be over its limit only because of attempts still being checked, which may be right: this one then
   * waits for them (up to queueMs) instead of being refused, and is refused with a short wait if they are still
   * out. Refusing it for the window made 24 right logins at once, from one script, fail 8 of them.
   */
  async claimAttempt(email: string, address: string): Promise<number> {
    const [pair, byAddress] = [pairKey(email, address), addressKey(address)];
    const { windowSeconds, maxPerAccountAddress, maxPerAddress } = this.policy;
    // The monotonic clock: a wall clock stepped back would keep this attempt polling the database for that long.
    const deadline = performance.now() + (this.policy.queueMs ?? 5000);
    for (;;) {
      const locked = Math.ceil(await this.failures.lockedSeconds([pair, byAddress]));
      if (locked > 0) return locked;
      if (await this.failures.claim(pair, windowSeconds, maxPerAccountAddress)) {
        let admitted: boolean;
        try {
          admitted = await this.failures.claim(byAddress, windowSeconds, maxPerAddress);
        } catch (err) {
          // The pair's place is given back (best effort) before the error answers the request: nobody settles it.
          await this.failures.release(pair).catch(() => undefined);
          throw err;
        }
        if (admitted) return 0;
        await this.failures.release(pair);
      }
      if (performance.now() >= deadline) return 1;
      await sleep(50 + Math.random() * 100);
    }
  }

  /** A wrong password: the attempt becomes a failure of both keys, and a key at its limit is locked for one window. */
  async recordFailure(email: string, address: string): Promise<void> {
    await this.failures.fail(pairKey(email, address), this.policy.windowSeconds, this.policy.maxPerAccountAddress);
    await this.failures.fail(addressKey(address), this.policy.windowSeconds, this.policy.maxPerAddress);
  }

  /**
   * A right password: the pair's failures are cleared; the address keeps its count of real failures (it may be
   * guessing other accounts). The attempt no longer counts at either.
   */
  async recordSuccess(email: string, address: string): Promise<void> {
    await this.failures.succeed(pairKey(email, address));
    await this.failures.release(addressKey(address));
  }

  /** An admitted attempt that ended without a verdict (the database or the hash failed): it no longer counts. */
  async abandon(email: string, address: string): Promise<void> {
    await this.failures.release(pairKey(email, address));
    await this.failures.release(addressKey(address));
  }

  async prune(): Promise<void> {
    await this.failures.prune(this.policy.windowSeconds);
  }
}

// Counted addresses contain no '/', so the pair key is unambiguous whatever the email holds. An IPv6 client counts by
// its /64 (client-address.ts).
const pairKey = (email: string, address: string) => `pair:${countedAddress(address)}/${email}`;
const addressKey = (address: string) => `address:${countedAddress(address)}`;
