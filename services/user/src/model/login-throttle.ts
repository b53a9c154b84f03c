import type { LoginFailureRepository } from '../data/login-failure-repository.js';

export interface ThrottlePolicy {
  /** Failed logins for one account from one address before that pair is refused for a window. */
  maxPerAccountAddress: number;
  /** Failed logins from one address (any accounts) before the address is refused for a window. */
  maxPerAddress: number;
  windowSeconds: number;
}

/**
 * Counts failed logins in PostgreSQL, so every replica sees the same counts (OWASP Authentication
 * Cheat Sheet). Keys are (account, address) and address, never the account alone: an account-wide
 * lock is one a stranger can put on anyone, and the owner's right password from their own address
 * must keep working. Reaching a limit refuses that key for one window.
 */
export class LoginThrottle {
  constructor(
    private readonly failures: LoginFailureRepository,
    private readonly policy: ThrottlePolicy,
  ) {}

  /** Seconds until the first of the keys unlocks, or 0 when none is locked. */
  async lockedFor(email: string, address: string): Promise<number> {
    return Math.ceil(await this.failures.lockedSeconds([pairKey(email, address), addressKey(address)]));
  }

  /**
   * Counts an attempt as a failure before its password is checked. Answers 0 when it is within both budgets,
   * else the seconds until the next may be made: a key counted at or past its limit is locked for one window
   * from now (bump). Counting after the check let concurrent guesses all pass the lock check first: 20 sent at
   * once were 20 checked, not 5. An attempt over budget is refused without a check.
   */
  async claimAttempt(email: string, address: string): Promise<number> {
    const pair = await this.failures.bump(pairKey(email, address), this.policy.windowSeconds, this.policy.maxPerAccountAddress);
    const byAddress = await this.failures.bump(addressKey(address), this.policy.windowSeconds, this.policy.maxPerAddress);
    return pair <= this.policy.maxPerAccountAddress && byAddress <= this.policy.maxPerAddress ? 0 : this.policy.windowSeconds;
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
