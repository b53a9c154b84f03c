import type { Database } from '@ecommerce/kit';

/** Fixed-window request counters per key, shared by every replica. */
export class RequestCountRepository {
  constructor(private readonly db: Database) {}

  /**
   * Counts one request under the key; returns the window's count and the seconds left in it. Every login, refresh and
   * registration from an address writes its row first: with the row held by another session (an operator's psql, a
   * stuck transaction), they waited on every pooled connection, and the whole service answered 503. One at a time per
   * key waits in PostgreSQL (Database.lockWaiting), the rest in the process, each 503 + Retry-After in bounded time.
   */
  async hit(key: string, windowSeconds: number): Promise<{ hits: number; remaining: number } | undefined> {
    const res = await this.db.lockWaiting(() => this.db.query<{ hits: number; remaining: number }>(
      'rate_limit_hit',
      `INSERT INTO request_counts AS c (key, hits, window_start) VALUES ($1, 1, now())
       ON CONFLICT (key) DO UPDATE SET
         hits = CASE WHEN c.window_start <= now() - make_interval(secs => $2) THEN 1 ELSE c.hits + 1 END,
         window_start = CASE WHEN c.window_start <= now() - make_interval(secs => $2) THEN now() ELSE c.window_start END
       RETURNING hits, EXTRACT(EPOCH FROM window_start + make_interval(secs => $2) - now())::float8 AS remaining`,
      [key, windowSeconds],
    ), `request_counts:${key}`);
    return res.rows[0];
  }

  /** Drops the counters of windows that are over. */
  async prune(windowSeconds: number): Promise<void> {
    await this.db.query('rate_limit_prune', 'DELETE FROM request_counts WHERE window_start <= now() - make_interval(secs => $1)', [windowSeconds]);
  }
}
