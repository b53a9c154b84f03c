// Rows past their use deleted now and then, in short batches: the user service's expired refresh tokens and its
// registration keys past their retention, the product service's stock adjustment keys past theirs. One statement deletes at most PRUNE_BATCH rows (it locks only
// those, found by an index), a pass at most PRUNE_BATCHES_PER_PASS statements; what is left waits for the next pass.
import type { Counter } from 'prom-client';
import { housekeepEvery } from './housekeeping.js';
import type { App } from './server.js';

/** Rows one DELETE takes at most: a short statement that locks only rows nobody can use any more. */
const PRUNE_BATCH = 1000;
/** Statements a pass makes at most (20,000 rows). */
const PRUNE_BATCHES_PER_PASS = 20;

export interface BatchedPrune {
  /** Deletes at most `limit` rows in one statement, resolving to how many it deleted. */
  deleteBatch: (limit: number) => Promise<number>;
  intervalMs: number;
  /** The `task` label of the housekeeping metrics (housekeeping.ts): `refresh_tokens`, `stock_keys`... */
  task: string;
  /** Counts every row deleted. */
  pruned: Counter;
  /** What is deleted, for the log lines: `<what> pruned`, `pruning <what> failed`. */
  what: string;
  /** More fields of the line that says how many were pruned. */
  logFields?: Record<string, unknown>;
}

/**
 * Every intervalMs, a pass of batches until one deletes fewer than PRUNE_BATCH rows (or PRUNE_BATCHES_PER_PASS were
 * made). Every replica prunes: the statements are idempotent, so replicas pruning at once only find fewer rows. A slow
 * pass is never overlapped by the next; a failed one (the database away) is a warning, and the next pass tries again.
 * Each pass is timed and counted by housekeepEvery (housekeeping.ts), so a prune that stops shows.
 */
export function pruneInBatchesEvery(app: App, { deleteBatch, intervalMs, task, pruned, what, logFields }: BatchedPrune): void {
  const pass = async () => {
    let removed = 0;
    for (let i = 0; i < PRUNE_BATCHES_PER_PASS; i++) {
      const n = await deleteBatch(PRUNE_BATCH);
      removed += n;
      pruned.inc(n);
      if (n < PRUNE_BATCH) break;
    }
    if (removed) app.log.info({ removed, ...logFields }, `${what} pruned`);
  };
  housekeepEvery(app, { task, intervalMs, pass, what: `pruning ${what}` });
}
