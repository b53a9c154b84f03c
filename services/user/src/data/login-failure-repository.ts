import type { Queryable } from '@ecommerce/kit';

/** Failed-login counters per key, each with its window and lock (model/login-throttle.ts says which keys). */
export class LoginFailureRepository {
  constructor(private readonly db: Queryable) {}

  /** Seconds until the last of the locked keys unlocks (fractional), 0 when none is locked. */
  async lockedSeconds(keys: string[]): Promise<number> {
    const res = await this.db.query<{ seconds: number }>(
      'login_locked_for',
      `SELECT COALESCE(MAX(EXTRACT(EPOCH FROM locked_until - now())), 0)::float8 AS seconds
       FROM login_failures WHERE key = ANY($1::text[]) AND locked_until > now()`,
      [keys],
    );
    return res.rows[0]?.seconds ?? 0;
  }

  /**
   * Counts one failure in the key's window (a new window when the last one ended). Answers the key's count after
   * this one, in one statement, so concurrent callers see distinct counts. Locking is lockAtLimit's: a count may
   * include attempts still being checked.
   */
  async bump(key: string, windowSeconds: number): Promise<number> {
    const res = await this.db.query<{ failures: number }>(
      'login_failure_bump',
      `INSERT INTO login_failures AS f (key, failures, window_start) VALUES ($1, 1, now())
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN f.window_start < now() - make_interval(secs => $2) THEN 1 ELSE f.failures + 1 END,
         window_start = CASE WHEN f.window_start < now() - make_interval(secs => $2) THEN now() ELSE f.window_start END
       RETURNING failures`,
      [key, windowSeconds],
    );
    return res.rows[0]?.failures ?? 0;
  }

  /** Locks the key for one window from now when its count has reached max. */
  async lockAtLimit(key: string, windowSeconds: number, max: number): Promise<void> {
    await this.db.query(
      'login_failure_lock',
      'UPDATE login_failures SET locked_until = now() + make_interval(secs => $2) WHERE key = $1 AND failures >= $3',
      [key, windowSeconds, max],
    );
  }

  /** Takes back one counted failure (an attempt counted before it was checked turned out right); unlocks below max. */
  async unbump(key: string, max: number): Promise<void> {
    await this.db.query(
      'login_failure_unbump',
      `UPDATE login_failures SET failures = GREATEST(failures - 1, 0),
         locked_until = CASE WHEN failures - 1 < $2 THEN NULL ELSE locked_until END
       WHERE key = $1`,
      [key, max],
    );
  }

  async reset(key: string): Promise<void> {
    await this.db.query('login_reset', 'DELETE FROM login_failures WHERE key = $1', [key]);
  }

  /** Drops counters whose window and lock are over (the table would otherwise keep every address ever seen). */
  async prune(windowSeconds: number): Promise<void> {
    await this.db.query(
      'login_failures_prune',
      `DELETE FROM login_failures
       WHERE window_start < now() - make_interval(secs => $1) AND (locked_until IS NULL OR locked_until < now())`,
      [windowSeconds],
    );
  }
}
