import { fileURLToPath } from 'node:url';
import { Database } from './db.js';
import { Metrics } from './metrics.js';
import { database } from './plugins/database.js';
import type { ProxyTrust } from './proxy-trust.js';
import { createServer, type App } from './server.js';

const DEFAULT_DB_STARTUP_TIMEOUT_MS = 120_000;

export interface DataServiceOptions {
  name: string;
  prefix: string;
  description: string;
  config: {
    SERVICE_VERSION: string;
    LOG_LEVEL: string;
    FAULT_INJECTION: 'enabled' | 'disabled';
    DATABASE_URL: string;
    DB_SCHEMA: string;
    DB_POOL_MAX: number;
    /** How long start-up waits for the database, its database and its role (default 120 s). */
    DB_STARTUP_TIMEOUT_MS?: number;
  };
  /** The folder of the service's forward-only SQL migrations (a path, or a file: URL from import.meta.url). */
  migrations: string | URL;
  /** Registers the service's own plugins and routes; if it throws, the app (and its pool) is closed. */
  setup?: (app: App, db: Database) => Promise<void>;
  trustProxy?: ProxyTrust | false;
  logStream?: NodeJS.WritableStream;
}

/**
 * The part every database-backed service shares: metrics, the server (ready when the database answers),
 * its pool as `app.db` (closed with the app) and its migrations, applied before it serves.
 */
export async function createDataService(opts: DataServiceOptions): Promise<{ app: App; db: Database; metrics: Metrics }> {
  const { config } = opts;
  const metrics = new Metrics(opts.name, config.SERVICE_VERSION);
  const app = await createServer({
    name: opts.name,
    prefix: opts.prefix,
    version: config.SERVICE_VERSION,
    description: opts.description,
    logLevel: config.LOG_LEVEL,
    readiness: () => db.ready(),
    faultInjection: config.FAULT_INJECTION === 'enabled',
    metrics,
    ...(opts.trustProxy === undefined ? {} : { trustProxy: opts.trustProxy }),
    ...(opts.logStream ? { logStream: opts.logStream } : {}),
  });
  const db = new Database({ url: config.DATABASE_URL, schema: config.DB_SCHEMA, poolMax: config.DB_POOL_MAX, applicationName: `${opts.name}-service`, metrics, logger: app.log });
  try {
    await app.register(database, { db });
    // The database may not be up (or provisioned) yet when the service starts: wait, do not crash-loop.
    const migrations = opts.migrations instanceof URL ? fileURLToPath(opts.migrations) : opts.migrations;
    await db.whenAvailable(() => db.migrate(migrations), config.DB_STARTUP_TIMEOUT_MS ?? DEFAULT_DB_STARTUP_TIMEOUT_MS);
    await opts.setup?.(app, db);
  } catch (err) {
    await app.close();
    throw err;
  }
  return { app, db, metrics };
}
