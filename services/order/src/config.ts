import { TokenEnv } from '@ecommerce/contracts';
import { DEFAULT_AUDIT_BOUND } from './background/reconciler.js';
import { BaseEnv, ConfigError, DatabaseEnv, DbSchema, Port, Type, Url, loadConfig, type Static } from '@ecommerce/kit';

export type CrashPoint = 'none' | 'after-pending' | 'after-reserve' | 'after-cancelling' | 'after-release';

export const OrderEnv = {
  ...BaseEnv,
  ...TokenEnv,
  ...DatabaseEnv,
  PORT: Port(3003),
  DB_SCHEMA: DbSchema('orders'),
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
  /** How often the reconciler audits orders against the reservations held (one replica at a time). */
  AUDIT_INTERVAL_MS: Type.Integer({ minimum: 100, maximum: 86_400_000, default: 300_000 }),
  /**
   * An audit that would repair more than this many of a kind, and more than AUDIT_MAX_REPAIR_SHARE of what it checked
   * of that kind, repairs nothing (logs an error, orders_audit_held_repairs): a service pointed at the wrong database.
   */
  AUDIT_MAX_REPAIRS: Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: DEFAULT_AUDIT_BOUND.maxRepairs }),
  AUDIT_MAX_REPAIR_SHARE: Type.Number({ minimum: 0, maximum: 1, default: DEFAULT_AUDIT_BOUND.maxShare }),
  /** How often the pending-order gauges are refreshed in the background (a scrape never queries the database). */
  STATS_INTERVAL_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 5_000 }),
  /**
   * Units of one product per order (all its lines together). The default is the public contract's bound on a line's
   * quantity (API.md: 1..1000), so a client written against it is never refused a quantity it allows; lower it to cap.
   */
  MAX_QUANTITY_PER_LINE: Type.Integer({ minimum: 1, maximum: 1000, default: 1000 }),
  /**
   * Units one customer may order per clock hour, counted when the order is written (rejected ones too); 0: no limit,
   * the default (API.md lists no 429 for POST /order: an operator who wants the cap sets it).
   */
  MAX_UNITS_PER_CUSTOMER_PER_HOUR: Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 }),
  /** Test only (needs FAULT_INJECTION=enabled): SIGKILL the process at this point of placement or cancellation. */
  FAULT_CRASH_POINT: Type.Union(
    ['none', 'after-pending', 'after-reserve', 'after-cancelling', 'after-release'].map((p) => Type.Literal(p as CrashPoint)),
    { default: 'none' },
  ),
  PRODUCT_CONNECTIONS: Type.Integer({ minimum: 1, maximum: 1024, default: 64 }),
};
export type OrderConfig = Static<ReturnType<typeof Type.Object<typeof OrderEnv>>>;

/** Where the user service publishes the keys that sign access tokens. */
export function loadOrderConfig(env: NodeJS.ProcessEnv = process.env): OrderConfig {
  const cfg = loadConfig(OrderEnv, env);
  if (cfg.FAULT_CRASH_POINT !== 'none' && cfg.FAULT_INJECTION !== 'enabled') {
    throw new ConfigError(['FAULT_CRASH_POINT: needs FAULT_INJECTION=enabled (test only; refused in production)']);
  }
  return cfg;
}
