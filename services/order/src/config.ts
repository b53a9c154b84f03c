import { BaseEnv, ConfigError, DatabaseEnv, Port, Type, Url, loadConfig, type Static } from '@ecommerce/kit';

export const OrderEnv = {
  ...BaseEnv,
  ...DatabaseEnv,
  PORT: Port(3003),
  DB_SCHEMA: Type.String({ default: 'orders' }),
  USER_SERVICE_URL: Url('http://127.0.0.1:3001'),
  PRODUCT_SERVICE_URL: Url('http://127.0.0.1:3002'),
  SERVICE_CLIENT_ID: Type.String({ minLength: 1 }),
  SERVICE_CLIENT_SECRET: Type.String({ minLength: 16 }),
  /** Deadline of one reservation call. */
  RESERVATION_TIMEOUT_MS: Type.Integer({ minimum: 50, maximum: 60_000, default: 2_000 }),
  /** A pending order older than this is settled by the reconciler; must exceed the call deadline with retries. */
  PENDING_DEADLINE_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 15_000 }),
  RECONCILER_INTERVAL_MS: Type.Integer({ minimum: 50, maximum: 600_000, default: 2_000 }),
  RECONCILER_ENABLED: Type.Boolean({ default: true }),
  /** Test only (needs FAULT_INJECTION=enabled): SIGKILL the process at this point of order placement. */
  FAULT_CRASH_POINT: Type.Union([Type.Literal('none'), Type.Literal('after-pending'), Type.Literal('after-reserve')], { default: 'none' }),
  PRODUCT_CONNECTIONS: Type.Integer({ minimum: 1, maximum: 1024, default: 64 }),
};
export type OrderConfig = Static<ReturnType<typeof Type.Object<typeof OrderEnv>>>;

export function loadOrderConfig(env: NodeJS.ProcessEnv = process.env): OrderConfig {
  const cfg = loadConfig(OrderEnv, env);
  if (cfg.FAULT_CRASH_POINT !== 'none' && cfg.FAULT_INJECTION !== 'enabled') {
    throw new ConfigError(['FAULT_CRASH_POINT: needs FAULT_INJECTION=enabled (test only; refused in production)']);
  }
  return cfg;
}
