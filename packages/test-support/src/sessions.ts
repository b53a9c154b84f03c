// A refresh token's session (its family) held still from outside the user service: every rotation and revocation
// takes the family's advisory lock first (services/user data/session-repository.ts), so a refresh sent while a test
// holds it waits in PostgreSQL, where the test can see it and do what it wants to the caller meanwhile.
import { createHash } from 'node:crypto';
import pg from 'pg';

export interface HeldSessionLock {
  /** Transactions of this database waiting on an advisory lock (a refresh or logout of the held session, say). */
  waiters(): Promise<number>;
  /** Lets the waiting transactions go on (in the order they came), and closes the connection. */
  release(): Promise<void>;
}

/** Holds the advisory lock of `refreshToken`'s family on a connection of its own (`userDbUrl`: the user service's database). */
export async function holdSessionLock(userDbUrl: string, refreshToken: string): Promise<HeldSessionLock> {
  const c = new pg.Client({ connectionString: userDbUrl });
  await c.connect();
  const hash = createHash('sha256').update(refreshToken).digest();
  const { rowCount } = await c.query(`SELECT pg_advisory_lock(hashtextextended(family_id::text, 0)) FROM users.refresh_tokens WHERE token_hash = $1`, [hash]);
  if (rowCount !== 1) {
    await c.end();
    throw new Error('holdSessionLock: no such refresh token');
  }
  return {
    waiters: async () =>
      Number(
        (
          await c.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
          )
        ).rows[0]!.n,
      ),
    release: async () => {
      await c.end();
    },
  };
}
