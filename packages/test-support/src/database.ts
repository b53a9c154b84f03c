// A PostgreSQL database of a test file's own, with each service's role and schema as deployed, and admin
// SQL for tests that look behind the API. The roles are test fixtures: the kit names no service.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { databaseRole, dropDatabase, provisionDatabase, serviceUrl, type ServiceDatabase } from '@ecommerce/kit';

type ServiceName = 'user' | 'product' | 'order';

/** The passwords every stack a test starts gives its roles (scripts/test.js), so stacks sharing a database agree. */
export const SERVICE_DB_PASSWORDS: Record<ServiceName, string> = { user: 'user-local-password', product: 'product-local-password', order: 'order-local-password' };

/** Each service's role and schema in database `name`, as deployed. */
export function serviceDatabases(name: string): Record<ServiceName, ServiceDatabase> {
  const of = (service: ServiceName, schema: string) => ({ role: databaseRole(name, service), password: SERVICE_DB_PASSWORDS[service], schema });
  return { user: of('user', 'users'), product: of('product', 'catalog'), order: of('order', 'orders') };
}

export interface TestDatabase {
  name: string;
  adminUrl: string;
  roles: Record<ServiceName, ServiceDatabase>;
  urls: Record<ServiceName, string>;
  /** Drops the database and its roles. */
  drop(): Promise<void>;
}

/**
 * A fresh database per test file, so runs and files never collide. DATABASE_URL is the admin connection. `lcCtype`
 * makes it with that LC_CTYPE rather than the server's default: 'C' is the embedded server's (scripts/embedded-db.js),
 * under which PostgreSQL's text search parser reads every non-ASCII character as a letter.
 */
export async function createTestDatabase(options: { lcCtype?: string } = {}): Promise<TestDatabase> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) throw new Error('DATABASE_URL (an admin connection) must be set; `npm test` sets it');
  const name = `test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  // Made here with its locale; provisioning then takes the database that exists.
  if (options.lcCtype !== undefined) await sql(adminUrl, `CREATE DATABASE ${name} TEMPLATE template0 LC_CTYPE ${pg.escapeLiteral(options.lcCtype)}`);
  const roles = serviceDatabases(name);
  try {
    await provisionDatabase(adminUrl, name, Object.values(roles));
  } catch (err) {
    // Made, or half provisioned: no TestDatabase to drop it (and its roles, maybe not granted yet), so they stayed.
    await dropDatabase(adminUrl, name).catch(() => undefined);
    for (const { role } of Object.values(roles)) await sql(adminUrl, `DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    throw err;
  }
  const urls = {
    user: serviceUrl(adminUrl, name, roles.user),
    product: serviceUrl(adminUrl, name, roles.product),
    order: serviceUrl(adminUrl, name, roles.order),
  };
  return { name, adminUrl, roles, urls, drop: () => dropDatabase(adminUrl, name) };
}

/**
 * The admin connection on the test's own database (`adminUrl` names the server's default one): for what only an admin
 * may do there, such as holding a service's rows locked or reading pg_stat_activity.
 */
export function adminUrlOn(db: Pick<TestDatabase, 'adminUrl' | 'name'>): string {
  const url = new URL(db.adminUrl);
  url.pathname = `/${db.name}`;
  return url.toString();
}

/** One statement on a connection of its own (a test reading or bending what a service stored). */
export async function sql<R extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(text, values)).rows;
  } finally {
    await c.end();
  }
}

/** A transaction of a connection of its own that has run `text` (say, SELECT ... FOR UPDATE) and holds its locks until end(). */
export async function heldLocks(url: string, text: string, values: unknown[] = []): Promise<{ end(): Promise<void> }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('BEGIN');
    await c.query(text, values);
  } catch (err) {
    await c.end();
    throw err;
  }
  return {
    async end() {
      try {
        await c.query('ROLLBACK');
      } finally {
        await c.end();
      }
    },
  };
}
