import type { Database } from '@ecommerce/kit';

/**
 * How long attempts still being checked count without word from them (a process that died, or a database connection
 * lost before they were settled, left them counted): from the first of a run of overlapping attempts, not the last.
 * Pushed back by each new attempt, a count a database blip left behind never ran out while the account (or the
 * office behind one address) kept logging in, and held places in its budget for good.
 */
export const PENDING_SECONDS = 30;

/** A key's run of attempts being checked: its pending_until, to the microsecond, as text (claim, releaseFromRun). */
const RUN = `(EXTRACT(EPOCH FROM pending_until) * 1000000)::bigint::text`;

/**
 * Login counters per key (model/login-throttle.ts says which keys), each with its window and lock: `failures`,
 * wrong passwords in the window, and `pending`, attempts being checked now.
 */
export class LoginFailureRepository {
  constructor(private readonly db: Database) {}

  /**
   * Runs a write of the key's row. Every login from an address writes its address key: with that row held by another
   * session (an operator's psql, a stuck transaction) the logins waited on every pooled connection, and the whole
   * service answered 503. One at a time per key waits in PostgreSQL (Database.lockWaiting), the rest in the process.
   */
  private write<T>(key: string, statement: () => Promise<T>): Promise<T> {
    return this.db.lockWaiting(statement, `login_failures:${key}`);
  }

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
   * Admits one attempt to be checked when the key is not locked and its failures and attempts being checked stay
   * within max with this one: then counts it as pending and answers true. One conditional UPDATE, which PostgreSQL
   * re-checks against the row's latest version when another claim got there first, so concurrent claims never
   * admit more than max. A window that ended starts over, unless the key is still locked. The attempts being checked
   * stop counting PENDING_SECONDS after the first of them was admitted (a new run begins when none is counted). The live counts are
   * written out in both SET and WHERE, on `f` alone: a subquery over the table would be re-checked against its own
   * snapshot instead of the latest row.
   *
   * Answers the run the attempt was counted in (its key's pending_until, in microseconds since the epoch), for
   * releaseFromRun and failInRun, or null when it was not admitted.
   */
  async claim(key: string, windowSeconds: number, max: number): Promise<string | null> {
    for (let tries = 0; tries < 2; tries++) {
      const admitted = await this.write(key, () => this.db.query<{ run: string }>(
        'login_attempt_claim',
        `WITH w AS (SELECT make_interval(secs => $2) AS len)
         UPDATE login_failures f SET
           failures = CASE WHEN f.window_start < now() - w.len THEN 0 ELSE f.failures END,
           window_start = CASE WHEN f.window_start < now() - w.len THEN now() ELSE f.window_start END,
           pending = CASE WHEN f.pending_until > now() THEN f.pending ELSE 0 END + 1,
           pending_until = CASE WHEN f.pending_until > now() AND f.pending > 0 THEN f.pending_until
             ELSE now() + make_interval(secs => ${PENDING_SECONDS}) END
         FROM w
         WHERE f.key = $1 AND (f.locked_until IS NULL OR f.locked_until <= now())
           AND CASE WHEN f.window_start < now() - w.len THEN 0 ELSE f.failures END
             + CASE WHEN f.pending_until > now() THEN f.pending ELSE 0 END < $3
         RETURNING ${RUN} AS run`,
        [key, windowSeconds, max],
      ));
      if (admitted.rowCount === 1) return admitted.rows[0]!.run;
      // No row (a first attempt), or one that refuses: a new row admits this attempt; an existing one refused it,
      // unless it was created between the two statements (then the UPDATE is tried once more).
      const created = await this.write(key, () => this.db.query<{ run: string }>(
        'login_attempt_first',
        `INSERT INTO login_failures (key, failures, window_start, pending, pending_until)
         VALUES ($1, 0, now(), 1, now() + make_interval(secs => ${PENDING_SECONDS}))
         ON CONFLICT (key) DO NOTHING
         RETURNING ${RUN} AS run`,
        [key],
      ));
      if (created.rowCount === 1) return created.rows[0]!.run;
    }
    return null;
  }

  /** An admitted attempt is over without a verdict (refused at another key, or an error): it no longer counts. */
  async release(key: string): Promise<void> {
    await this.write(key, () => this.db.query('login_attempt_release', 'UPDATE login_failures SET pending = GREATEST(pending - 1, 0) WHERE key = $1', [key]));
  }

  /**
   * release, for an attempt whose release failed and is tried again later (model/login-throttle.ts): only while the
   * run it was counted in (claim's answer) is the key's run. Once that run ended the attempt no longer counts, and
   * taking one off a later run would free a place of attempts that are still being checked.
   */
  async releaseFromRun(key: string, run: string): Promise<void> {
    await this.write(key, () => this.db.query('login_attempt_release_from_run', `UPDATE login_failures SET pending = GREATEST(pending - 1, 0) WHERE key = $1 AND ${RUN} = $2`, [key, run]));
  }

  /**
   * fail, for a wrong password whose failure could not be written and is tried again later: the failure counts (and
   * may lock) whatever the run; the attempt stops counting as being checked only in its own run (releaseFromRun).
   */
  async failInRun(key: string, run: string, windowSeconds: number, max: number): Promise<void> {
    await this.write(key, () => this.db.query(
      'login_attempt_failed_in_run',
      `UPDATE login_failures SET pending = CASE WHEN ${RUN} = $4 THEN GREATEST(pending - 1, 0) ELSE pending END, failures = failures + 1,
         locked_until = CASE WHEN failures + 1 >= $3 THEN now() + make_interval(secs => $2) ELSE locked_until END
       WHERE key = $1`,
      [key, windowSeconds, max, run],
    ));
  }

  /** A wrong password: the attempt becomes a failure; reaching max locks the key for one window from now. */
  async fail(key: string, windowSeconds: number, max: number): Promise<void> {
    await this.write(key, () => this.db.query(
      'login_attempt_failed',
      `UPDATE login_failures SET pending = GREATEST(pending - 1, 0), failures = failures + 1,
         locked_until = CASE WHEN failures + 1 >= $3 THEN now() + make_interval(secs => $2) ELSE locked_until END
       WHERE key = $1`,
      [key, windowSeconds, max],
    ));
  }

  /** A right password for the pair: its failures and lock are cleared, other attempts being checked still count. */
  async succeed(key: string): Promise<void> {
    await this.write(key, () => this.db.query('login_attempt_succeeded', 'UPDATE login_failures SET pending = GREATEST(pending - 1, 0), failures = 0, locked_until = NULL WHERE key = $1', [key]));
  }

  /** Drops counters whose window, lock and attempts are over (the table would otherwise keep every address ever seen). */
  async prune(windowSeconds: number): Promise<void> {
    await this.db.query(
      'login_failures_prune',
      `DELETE FROM login_failures
       WHERE window_start < now() - make_interval(secs => $1) AND (locked_until IS NULL OR locked_until < now())
         AND (pending_until IS NULL OR pending_until < now())`,
      [windowSeconds],
    );
  }
}
