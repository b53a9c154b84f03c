import { setTimeout as sleep } from 'node:timers/promises';
import type { LoginFailureRepository } from '../data/login-failure-repository.js';

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
 * must keep working. A key whose failures reach its limit is refused for one window.
 */
export class LoginThrottle {
  constructor(
    private readonly failures: LoginFailureRepository,
    private readonly policy: ThrottlePolicy,
  ) {}

  /**
   * Counts an attempt as a failure before its password is checked (recordSuccess takes it back), so guesses
   * sent at once cannot all pass a lock check first: 20 sent together were 20 checked, not 5. Answers 0 when
   * the attempt may be checked, else the seconds until the next may be made.
   *
   * A key may be over its limit only because of attempts still being checked, which may be right: this one
   * then waits for them (up to queueMs) instead of being refused, and is refused with a short wait if they
   * are still out. Refusing it for the window made 24 right logins at once, from one script, fail 8 of them.
   */
  async claimAttempt(email: string, address: string): Promise<number> {
    const keys = [pairKey(email, address), addressKey(address)];
    const deadline = Date.now() + (this.policy.queueMs ?? 5000);
    for (;;) {
      const locked = Math.ceil(await this.failures.lockedSeconds(keys));
      if (locked > 0) return locked;
      const pair = await this.failures.bump(keys[0]!, this.policy.windowSeconds);
      const byAddress = await this.failures.bump(keys[1]!, this.policy.windowSeconds);
      if (pair <= this.policy.maxPerAccountAddress && byAddress <= this.policy.maxPerAddress) return 0;
      // Not checked, so not counted.
      await this.failures.unbump(keys[0]!, this.policy.maxPerAccountAddress);
      await this.failures.unbump(keys[1]!, this.policy.maxPerAddress);
      if (Date.now() >= deadline) return 1;
      await sleep(50 + Math.random() * 100);
    }
  }

  /** A wrong password, already counted by claimAttempt: a key at its limit is locked for one window. */
  async recordFailure(email: string, address: string): Promise<void> {
    await this.failures.lockAtLimit(pairKey(email, address), this.policy.windowSeconds, this.policy.maxPerAccountAddress);
    await this.failures.lockAtLimit(addressKey(address), this.policy.windowSeconds, this.policy.maxPerAddress);
  }

  /**
   * A right password: the pair's failures are cleared; the address keeps its count of real failures (it may be
   * guessing other accounts) but not this attempt's, counted by claimAttempt.
   */
  async recordSuccess(email: string, address: string): Promise<void> {
    await this.failures.reset(pairKey(email, address));
    await this.failures.unbump(addressKey(address), this.policy.maxPerAddress);
  }

  async prune(): Promise<void> {
    await this.failures.prune(this.policy.windowSeconds);
  }
}

// Addresses contain no '/', so the pair key is unambiguous whatever the email holds.
const pairKey = (email: string, address: string) => `pair:${address}/${email}`;
const addressKey = (address: string) => `address:${address}`;
