import { TokenEnv } from '@ecommerce/contracts';
import { BaseEnv, DatabaseEnv, DbSchema, MAX_TIMER_MS, Port, Type, Url, loadConfig, type Static } from '@ecommerce/kit';

export const ProductEnv = {
  ...BaseEnv,
  ...TokenEnv,
  ...DatabaseEnv,
  PORT: Port(3002),
  DB_SCHEMA: DbSchema('catalog'),
  /** The JWKS that verifies user and service tokens is read from this service. */
  USER_SERVICE_URL: Url('http://127.0.0.1:3001'),
  /** Seed a demo catalog when the products table is empty (first start of `npm start`). */
  SEED_DEMO_DATA: Type.Boolean({ default: true }),
  /** How long a stock adjustment's Idempotency-Key is remembered; a retry after that applies again. */
  STOCK_KEY_RETENTION_HOURS: Type.Integer({ minimum: 1, maximum: 24 * 365, default: 24 }),
  /** How often each replica deletes the keys past their retention. */
  STOCK_KEY_PRUNE_INTERVAL_MS: Type.Integer({ minimum: 1000, maximum: MAX_TIMER_MS, default: 3_600_000 }),
};
export type ProductConfig = Static<ReturnType<typeof Type.Object<typeof ProductEnv>>>;

export function loadProductConfig(env: NodeJS.ProcessEnv = process.env): ProductConfig {
  return loadConfig(ProductEnv, env);
}
