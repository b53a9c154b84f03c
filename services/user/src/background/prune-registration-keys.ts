import { pruneInBatchesEvery, type App, type Counter } from '@ecommerce/kit';

/**
 * A registration's Idempotency-Key is remembered for REGISTER_KEY_RETENTION_HOURS (24), long enough for any client's
 * retry of a lost answer, then deleted, so registration_keys does not grow with every account. Every replica prunes
 * every REGISTER_KEY_PRUNE_INTERVAL_MS (a DELETE by age: idempotent), in the kit's short batches (batched-prune.ts)
 * found by the created_at index.
 */
export function pruneRegistrationKeysEvery(app: App, intervalMs: number, retentionHours: number, pruned: Counter): void {
  pruneInBatchesEvery(app, {
    deleteBatch: (limit) => app.registrationKeyRepository.prune(retentionHours, limit),
    intervalMs,
    task: 'registration_keys',
    pruned,
    what: 'registration keys',
    logFields: { retentionHours },
  });
}
