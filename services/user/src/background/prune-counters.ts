import { housekeepEvery, type App } from '@ecommerce/kit';

/** Counters of finished windows are deleted now and then (any replica may do it; it is idempotent), each pass timed and counted by the kit. */
export function pruneCountersEvery(app: App, intervalMs: number, counters: { prune(): Promise<void> }[]): void {
  housekeepEvery(app, {
    task: 'throttle_counters',
    intervalMs,
    pass: async () => void (await Promise.all(counters.map((c) => c.prune()))),
    what: 'pruning throttle counters',
  });
}
