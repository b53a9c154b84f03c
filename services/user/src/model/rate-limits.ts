import { TooManyRequests, type Queryable } from '@ecommerce/kit';

/** The budgets, per client address and window, of the endpoints that hash a password or mint a token. */
export interface RateBudgets {
  windowSeconds: number;
  register: number;
  login: number;
  token: number;
}
export type Bucket = Exclude<keyof RateBudgets, 'windowSeconds'>;

/**
 * Fixed-window request counters per (endpoint, client address) in PostgreSQL, shared by every
 * replica. Each counted request is one upsert; every request counts, answered or refused, so a
 * client that keeps hammering stays refused until the window ends.
 */
export class AddressRateLimiter {
  constructor(
    private readonly db: Queryable,
    private readonly budgets: RateBudgets,
  ) {}

  /** Counts one request; throws 429 (Retry-After: the rest of the window) when over the budget. */
  async hit(bucket: Bucket, address: string): Promise<void> {
    const res = await this.db.query<{ hits: number; remaining: number }>(
      'rate_limit_hit',
      `INSERT INTO request_counts AS c (key, hits, window_start) VALUES ($1, 1, now())
       ON CONFLICT (key) DO UPDATE SET
         hits = CASE WHEN c.window_start <= now() - make_interval(secs => $2) THEN 1 ELSE c.hits + 1 END,
         window_start = CASE WHEN c.window_start <= now() - make_interval(secs => $2) THEN now() ELSE c.window_start END
       RETURNING hits, EXTRACT(EPOCH FROM window_start + make_interval(secs => $2) - now())::float8 AS remaining`,
      [`${bucket}:${address}`, this.budgets.windowSeconds],
    );
    const row = res.rows[0];
    if (row && row.hits > this.budgets[bucket]) {
      throw new TooManyRequests(row.remaining, `Too many ${bucket} requests from this address; try again later`);
    }
  }

  /** Drops the counters of windows that are over. */
  async prune(): Promise<void> {
    await this.db.query('rate_limit_prune', 'DELETE FROM request_counts WHERE window_start <= now() - make_interval(secs => $1)', [this.budgets.windowSeconds]);
  }
}
