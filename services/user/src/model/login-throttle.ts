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

  async recordFailure(email: string, address: string): Promise<void> {
    await this.failures.bump(pairKey(email, address), this.policy.windowSeconds, this.policy.maxPerAccountAddress);
    await this.failures.bump(addressKey(address), this.policy.windowSeconds, this.policy.maxPerAddress);
  }

  /** A right password clears that pair's failures; the address's count stays (it may be guessing other accounts). */
  async recordSuccess(email: string, address: string): Promise<void> {
    await this.failures.reset(pairKey(email, address));
  }

  async prune(): Promise<void> {
    await this.failures.prune(this.policy.windowSeconds);
  }
}

// Addresses contain no '/', so the pair key is unambiguous whatever the email holds.
const pairKey = (email: string, address: string) => `pair:${address}/${email}`;
const addressKey = (address: string) => `address:${address}`;
