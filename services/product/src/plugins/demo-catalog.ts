import fp from 'fastify-plugin';
import type { App } from '@ecommerce/kit';
import { seedDemoCatalog } from '../use-cases/seed-demo-catalog.js';

/** With SEED_DEMO_DATA, a first start fills the empty catalog, so `npm start` shows something at once. */
export default fp(
  async (app: App, { enabled }: { enabled: boolean }) => {
    if (!enabled) return;
    const seeded = await seedDemoCatalog(app);
    if (seeded) app.log.info({ products: seeded }, 'demo catalog seeded');
  },
  { name: 'demo-catalog', dependencies: ['repositories'] },
);
