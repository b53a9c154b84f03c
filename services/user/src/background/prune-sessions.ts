import type { App, Counter } from '@ecommerce/kit';

/** Rows one DELETE takes: a short statement that locks only rows nobody can use any more. */
const PRUNE_BATCH = 1000;
/** Batches per pass at most (20,000 rows); what is left waits for the next pass. */
const PRUNE_BATCHES_PER_PASS = 20;

/**
 * Every login and every refresh writes a refresh token; without this they stayed forever (a signed-in client that
 * logs in or refreshes in a loop grew the table without bound). Each replica deletes expired tokens every
 * REFRESH_TOKEN_PRUNE_INTERVAL_MS, in batches of PRUNE_BATCH, each its own statement (idempotent: replicas pruning at
 * once only find fewer rows, SKIP LOCKED keeps them off each other's rows).
 */
export function pruneExpiredSessionsEvery(app: App, intervalMs: number, pruned: Counter): void {
  let running = false;
  const pass = async () => {
    if (running) return; // a slow pass is never overlapped by the next
    running = true;
    let removed = 0;
    try {
      for (let i = 0; i < PRUNE_BATCHES_PER_PASS; i++) {
        const n = await app.sessionRepository.pruneExpired(PRUNE_BATCH);
        removed += n;
        pruned.inc(n);
        if (n < PRUNE_BATCH) break;
      }
    } finally {
      running = false;
    }
    if (removed) app.log.info({ removed }, 'expired refresh tokens pruned');
  };
  const timer = setInterval(() => void pass().catch((err: unknown) => app.log.warn({ err }, 'pruning expired refresh tokens failed')), intervalMs);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
}
