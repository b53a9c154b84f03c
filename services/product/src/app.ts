import { fileURLToPath } from 'node:url';
import { Authenticator, createDataService, jwksUrl, type App, type Database } from '@ecommerce/kit';
import type { ProductConfig } from './config.js';
import { seedDemoCatalog } from './demo-catalog.js';
import { productRoutes } from './routes/products.js';
import { reservationRoutes } from './routes/reservations.js';

const RESERVATION_RESULTS = ['reserved', 'insufficient_stock', 'replayed', 'released', 'not_found', 'mixed_currency', 'expired'] as const;
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
  const { app, db, metrics } = await createDataService({
    name: 'product',
    prefix: '/product',
    description: 'Catalog with search, admin product management, stock and (internal) reservations that never oversell.',
    config,
    migrations: MIGRATIONS,
  });
  if (config.SEED_DEMO_DATA) {
    try {
      const seeded = await seedDemoCatalog(db);
      if (seeded) app.log.info({ products: seeded }, 'demo catalog seeded');
    } catch (err) {
      await app.close();
      throw err;
    }
  }
  const catalogMetrics: CatalogMetrics = {
    reservations: metrics.counter('reservations_total', 'Reservation requests by result.', ['result'], RESERVATION_RESULTS.map((result) => ({ result }))),
    stockouts: metrics.counter('product_stockouts_total', 'Times a product’s available stock reached 0.'),
  };
  const auth = new Authenticator({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, jwks: jwksUrl(config.USER_SERVICE_URL) });
  const deps: ProductDeps = { config, db, auth, metrics: catalogMetrics };
  productRoutes(app, deps);
  reservationRoutes(app, deps);
  return app;
}
