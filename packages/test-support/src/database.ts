// A PostgreSQL database of a test file's own, with each service's role and schema as deployed, and admin
// SQL for tests that look behind the API. The roles are test fixtures: the kit names no service.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { dropDatabase, provisionDatabase, serviceUrl, type ServiceDatabase } from '@ecommerce/kit';

export const SERVICE_DATABASES = {
  user: { role: 'ecommerce_user', password: 'user-local-password', schema: 'users' },
  product: { role: 'ecommerce_product', password: 'product-local-password', schema: 'catalog' },
  order: { role: 'ecommerce_order', password: 'order-local-password', schema: 'orders' },
} satisfies Record<string, ServiceDatabase>;

export interface TestDatabase {
  name: string;
  adminUrl: string;
  urls: Record<keyof typeof SERVICE_DATABASES, string>;
  drop(): Promise<void>;
}

/** A fresh database per test file, so runs and files never collide. DATABASE_URL is the admin connection. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) throw new Error('DATABASE_URL (an admin connection) must be set; `npm test` sets it');
  const name = `test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await provisionDatabase(adminUrl, name, Object.values(SERVICE_DATABASES));
  const urls = {
    user: serviceUrl(adminUrl, name, SERVICE_DATABASES.user),
    product: serviceUrl(adminUrl, name, SERVICE_DATABASES.product),
    order: serviceUrl(adminUrl, name, SERVICE_DATABASES.order),
  };
  return { name, adminUrl, urls, drop: () => dropDatabase(adminUrl, name) };
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
