import { USER_JWKS_PATH, USER_ROLES } from '@ecommerce/contracts';
import { authentication, createDataService, type App } from '@ecommerce/kit';
import type { ProductConfig } from './config.js';
import repositories from './plugins/repositories.js';
import demoCatalog from './plugins/demo-catalog.js';
import catalogMetrics from './plugins/catalog-metrics.js';
import stockKeyPrune from './plugins/stock-key-prune.js';
import publicRoutes from './routes/public/index.js';
import adminRoutes from './routes/admin/index.js';
import internalRoutes from './routes/internal/index.js';

/** The product service: catalog, stock and reservations. Builds the app, does not listen. */
export async function buildApp(config: ProductConfig): Promise<App> {
  const { app } = await createDataService({
    name: 'product',
    prefix: '/product',
    description: 'Catalog with search, admin product management, stock and (internal) reservations that never oversell.',
    config,
    migrations: new URL('../../migrations', import.meta.url),
    setup: async (app, db) => {
      // Dependencies, as decorations: the SQL, the demo catalog (first start), counters, token verification.
      await app.register(repositories, { db });
      await app.register(demoCatalog, { enabled: config.SEED_DEMO_DATA });
      await app.register(catalogMetrics);
      await app.register(stockKeyPrune, { retentionHours: config.STOCK_KEY_RETENTION_HOURS, intervalMs: config.STOCK_KEY_PRUNE_INTERVAL_MS });
      const jwks = new URL(USER_JWKS_PATH, config.USER_SERVICE_URL);
      await app.register(authentication, { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, jwks, roles: USER_ROLES });
      // Routes, one folder per audience; each folder's index adds its auth check once.
      await app.register(publicRoutes);
      await app.register(adminRoutes);
      await app.register(internalRoutes);
    },
  });
  return app;
}
