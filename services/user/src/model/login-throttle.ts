import type { Queryable } from '@ecommerce/kit';

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
    private readonly db: Queryable,
    private readonly policy: ThrottlePolicy,
  ) {}

  /** Seconds until the first of the keys unlocks, or 0 when none is locked. */
  async lockedFor(email: string, address: string): Promise<number> {
    const res = await this.db.query<{ seconds: number }>(
      'login_locked_for',
      `SELECT COALESCE(MAX(EXTRACT(EPOCH FROM locked_until - now())), 0)::float8 AS seconds
       FROM login_failures WHERE key = ANY($1::text[]) AND locked_until > now()`,
      [[pairKey(email, address), addressKey(address)]],
    );
    return Math.ceil(res.rows[0]?.seconds ?? 0);
  }

  async recordFailure(email: string, address: string): Promise<void> {
    await this.bump(pairKey(email, address), this.policy.maxPerAccountAddress);
    await this.bump(addressKey(address), this.policy.maxPerAddress);
  }

  /** A right password clears that pair's failures; the address's count stays (it may be guessing other accounts). */
  async recordSuccess(email: string, address: string): Promise<void> {
    await this.db.query('login_reset', 'DELETE FROM login_failures WHERE key = $1', [pairKey(email, address)]);
  }

  /** Drops counters whose window and lock are over (the table would otherwise keep every address ever seen). */
  async prune(): Promise<void> {
    await this.db.query(
      'login_failures_prune',
      `DELETE FROM login_failures
       WHERE window_start < now() - make_interval(secs => $1) AND (locked_until IS NULL OR locked_until < now())`,
      [this.policy.windowSeconds],
    );
  }

  private async bump(key: string, max: number): Promise<void> {
    await this.db.query(
      'login_failure_bump',
      `WITH w AS (SELECT make_interval(secs => $2) AS len)
       INSERT INTO login_failures AS f (key, failures, window_start, locked_until)
       SELECT $1, 1, now(), CASE WHEN 1 >= $3 THEN now() + w.len END FROM w
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN f.window_start < now() - (SELECT len FROM w) THEN 1 ELSE f.failures + 1 END,
         window_start = CASE WHEN f.window_start < now() - (SELECT len FROM w) THEN now() ELSE f.window_start END,
         locked_until = CASE
           WHEN (CASE WHEN f.window_start < now() - (SELECT len FROM w) THEN 1 ELSE f.failures + 1 END) >= $3
           THEN now() + (SELECT len FROM w) ELSE f.locked_until END`,
      [key, this.policy.windowSeconds, max],
    );
  }
}

// Addresses contain no '/', so the pair key is unambiguous whatever the email holds.
const pairKey = (email: string, address: string) => `pair:${address}/${email}`;
const addressKey = (address: string) => `address:${address}`;
