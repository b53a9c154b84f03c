import fp from 'fastify-plugin';
import type { App } from '@ecommerce/kit';
import { pruneRegistrationKeysEvery } from '../background/prune-registration-keys.js';

/** Registrations' Idempotency-Keys past their retention are deleted now and then (background/prune-registration-keys.ts). */
export default fp(
  async (app: App, { retentionHours, intervalMs }: { retentionHours: number; intervalMs: number }) => {
    const pruned = app.metrics.counter('user_registration_keys_pruned_total', 'Registration Idempotency-Keys deleted past their retention.');
    pruneRegistrationKeysEvery(app, intervalMs, retentionHours, pruned);
  },
  { name: 'registration-key-prune', dependencies: ['repositories'] },
);
