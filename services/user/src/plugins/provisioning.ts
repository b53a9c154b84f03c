import fp from 'fastify-plugin';
import type { App } from '@ecommerce/kit';
import type { ServiceClientConfig } from '../model/service-client.js';
import { ensureAdmin } from '../use-cases/ensure-admin.js';
import { syncServiceClients } from '../use-cases/sync-service-clients.js';

interface Options {
  clients: ServiceClientConfig[];
  admin: { email: string; password: string } | null;
}

/** At start-up, before anything is served: the configured service clients are stored and the admin exists. */
export default fp(
  async (app: App, { clients, admin }: Options) => {
    const removed = await syncServiceClients(app, clients);
    if (removed.length) app.log.warn({ clientIds: removed }, 'service clients no longer configured removed');
    if (admin) {
      const account = await ensureAdmin(app, admin.email, admin.password);
      app.log.info({ adminId: account.id }, 'admin account ensured');
    }
  },
  { name: 'provisioning', dependencies: ['repositories'] },
);
