// A bound on how many of the pool's connections may be held by work that can wait on another session's row lock.

/** Thrown when a turn is not had within the wait: the pool's own queue says the same (db-errors: 'busy', 503). */
export const POOL_SHARE_FULL = 'pool share full: every connection lock waits may hold is held';

/**
 * How many of a pool of `max` connections lock waits may hold: all of a pool of one, else all but a quarter (at least
 * one) kept for the rest. A product row locked by another session (a stuck transaction, a hand-run fix) held every
 * release and admin write on it for the lock timeout, each on a pooled connection; with the order service's cancels
 * sent again behind it the pool was theirs, and reads of any other product waited out the pool's 5 s queue and
 * answered 503 (services/order/test/db-limits.test.ts, on a slow machine).
 */
export function lockWaitShare(max: number): number {
  return max <= 1 ? 1 : max - Math.max(1, Math.floor(max / 4));
}

/**
 * At most limit() runs of fn at once; the others wait in arrival order, at most waitMs each (then POOL_SHARE_FULL).
 * limit() is read at each turn, so a pool capped below its size (a connection limit) lowers the share with it.
 */
export class PoolShare {
  private running = 0;
  private readonly queue: { go: () => void }[] = [];

  constructor(
    private readonly limit: () => number,
    private readonly waitMs: number,
  ) {}

  /** Work waiting for its turn. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Nothing running, nothing waiting. */
  get idle(): boolean {
    return this.running === 0 && this.queue.length === 0;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running < this.limit() && this.queue.length === 0) this.running++;
    else await this.turn();
    try {
      return await fn();
    } finally {
      this.leave();
    }
  }

  /** Resolves once a leaving run gives this one its place, or rejects after waitMs. */
  private turn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter = {
        go: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.queue.splice(this.queue.indexOf(waiter), 1);
        reject(new Error(POOL_SHARE_FULL));
      }, this.waitMs);
      this.queue.push(waiter);
    });
  }

  private leave(): void {
    this.running--;
    // As many as the limit now allows: a lowered one lets the running count fall first, a raised one is filled.
    while (this.queue.length > 0 && this.running < this.limit()) {
      this.running++;
      this.queue.shift()!.go();
    }
  }
}

/**
 * PoolShare per key, one run at a time each: work on one row (a counter) waits for its turn in the process, not on a
 * pooled connection. Statements on one row take its lock one after the other anyway, so nothing is lost while no
 * other session holds it; when one does, only one of them waits in PostgreSQL.
 */
export class KeyedTurns {
  private readonly shares = new Map<string, PoolShare>();

  constructor(private readonly waitMs: number) {}

  /** Work waiting for its turn, of every key. */
  get waiting(): number {
    let n = 0;
    for (const share of this.shares.values()) n += share.waiting;
    return n;
  }

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let share = this.shares.get(key);
    if (!share) this.shares.set(key, (share = new PoolShare(() => 1, this.waitMs)));
    try {
      return await share.run(fn);
    } finally {
      // A key's share lives as long as work of it runs or waits: the map holds no more than the rows being written.
      if (share.idle && this.shares.get(key) === share) this.shares.delete(key);
    }
  }
}
