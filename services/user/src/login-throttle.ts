import type { Queryable } from '@ecommerce/kit';

export interface ThrottlePolicy {
  maxPerAccount: number;
  maxPerAddress: number;
  windowSeconds: number;
}

/**
 * Counts failed logins per account and per client address in PostgreSQL, so every
 * replica sees the same counts. Reaching the limit locks the key for one window.
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
      [[`account:${email}`, `address:${address}`]],
    );
    return Math.ceil(res.rows[0]?.seconds ?? 0);
  }

  async recordFailure(email: string, address: string): Promise<void> {
    await this.bump(`account:${email}`, this.policy.maxPerAccount);
    await this.bump(`address:${address}`, this.policy.maxPerAddress);
  }

  async recordSuccess(email: string): Promise<void> {
    await this.db.query('login_reset', 'DELETE FROM login_failures WHERE key = $1', [`account:${email}`]);
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
