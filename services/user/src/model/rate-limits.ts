import { TooManyRequests } from '@ecommerce/kit';
import type { RequestCountRepository } from '../data/request-count-repository.js';
import { countedAddress } from './client-address.js';

/** The budgets, per client address and window, of the endpoints that hash a password or mint a token. */
export interface RateBudgets {
  windowSeconds: number;
  register: number;
  login: number;
  token: number;
}
type Bucket = Exclude<keyof RateBudgets, 'windowSeconds'>;

/**
 * Fixed-window request counters per (endpoint, client address; an IPv6 client's /64) in PostgreSQL, shared by every
 * replica. Each counted request is one upsert; every request counts, answered or refused, so a
 * client that keeps hammering stays refused until the window ends.
 */
export class AddressRateLimiter {
  constructor(
    private readonly counts: RequestCountRepository,
    private readonly budgets: RateBudgets,
  ) {}

  /** Counts one request; throws 429 (Retry-After: the rest of the window) when over the budget. */
  async hit(bucket: Bucket, address: string): Promise<void> {
    const row = await this.counts.hit(`${bucket}:${countedAddress(address)}`, this.budgets.windowSeconds);
    if (row && row.hits > this.budgets[bucket]) {
      throw new TooManyRequests(row.remaining, `Too many ${bucket} requests from this address; try again later`);
    }
  }

  async prune(): Promise<void> {
    await this.counts.prune(this.budgets.windowSeconds);
  }
}
