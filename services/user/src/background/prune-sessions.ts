import { pruneInBatchesEvery, type App, type Counter } from '@ecommerce/kit';

/**
 * Every login and every refresh writes a refresh token; without this they stayed forever (a signed-in client that
 * logs in or refreshes in a loop grew the table without bound). Each replica deletes expired tokens every
 * REFRESH_TOKEN_PRUNE_INTERVAL_MS, in the kit's short batches (batched-prune.ts; SKIP LOCKED keeps replicas pruning at
 * once off each other's rows).
 */
export function pruneExpiredSessionsEvery(app: App, intervalMs: number, pruned: Counter): void {
  pruneInBatchesEvery(app, { deleteBatch: (limit) => app.sessionRepository.pruneExpired(limit), intervalMs, task: 'refresh_tokens', pruned, what: 'expired refresh tokens' });
}
