import { fileURLToPath } from 'node:url';
import { Authenticator, Database, Metrics, createServer, jwksUrl, type App } from '@ecommerce/kit';
import type { ProductConfig } from './config.js';
import { seedDemoCatalog } from './demo-catalog.js';
import { productRoutes } from './routes/products.js';
import { reservationRoutes } from './routes/reservations.js';

const RESERVATION_RESULTS = ['reserved', 'insufficient_stock', 'replayed', 'released', 'not_found'] as const;
export type ReservationResult = (typeof RESERVATION_RESULTS)[number];

export interface CatalogMetrics {
  reservations: { inc(labels: { result: ReservationResult }, value?: number): void };
  stockouts: { inc(value?: number): void };
}

export interface ProductDeps {
  config: ProductConfig;
  db: Database;
  auth: Authenticator;
  metrics: CatalogMetrics;
}

const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

/** The product service: catalog, stock and reservations. Builds the app, does not listen. */
export async function buildApp(config: ProductConfig): Promise<App> {
  const metrics = new Metrics('product', config.SERVICE_VERSION);
  const db = new Database({ url: config.DATABASE_URL, schema: config.DB_SCHEMA, poolMax: config.DB_POOL_MAX, applicationName: 'product-service', metrics });
  const app = await createServer({
    name: 'product',
    prefix: '/product',
    version: config.SERVICE_VERSION,
    description: 'Catalog with search, admin product management, stock and (internal) reservations that never oversell.',
    logLevel: config.LOG_LEVEL,
    readiness: () => db.ping(),
    faultInjection: config.FAULT_INJECTION === 'enabled',
    metrics,
  });
  app.addHook('onClose', () => db.close());
  try {
    await db.migrate(MIGRATIONS);
    if (config.SEED_DEMO_DATA) {
      const seeded = await seedDemoCatalog(db);
      if (seeded) app.log.info({ products: seeded }, 'demo catalog seeded');
    }
  } catch (err) {
    await app.close();
    throw err;
  }
  const catalogMetrics: CatalogMetrics = {
    reservations: metrics.counter('reservations_total', 'Reservation requests by result.', ['result']),
    stockouts: metrics.counter('product_stockouts_total', 'Times a product’s available stock reached 0.'),
  };
  // Every result series exists from the start, so rate() and alerts see 0 rather than no data.
  for (const result of RESERVATION_RESULTS) catalogMetrics.reservations.inc({ result }, 0);
  const auth = new Authenticator({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, jwks: jwksUrl(config.USER_SERVICE_URL) });
  const deps: ProductDeps = { config, db, auth, metrics: catalogMetrics };
  productRoutes(app, deps);
  reservationRoutes(app, deps);
  return app;
}
