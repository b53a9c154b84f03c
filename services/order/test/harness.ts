// The order service for tests: in-process, or as a real child process (for SIGKILL tests).
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ORDER_CLIENT, sql, startService, startServiceProcess, stockOf, type ServiceProcess, type TestDatabase } from '@ecommerce/test-support';
import { startProductService } from '@ecommerce/product-service/testing';
import { buildApp } from '../src/app.js';
import { loadOrderConfig } from '../src/config.js';

export function orderEnv(databaseUrl: string, userBase: string, productBase: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    USER_SERVICE_URL: userBase,
    PRODUCT_SERVICE_URL: productBase,
    SERVICE_CLIENT_ID: ORDER_CLIENT.id,
    SERVICE_CLIENT_SECRET: ORDER_CLIENT.secret,
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    PORT: '0',
    // Tests race hundreds of orders from a few customers; the limits have their own tests.
    MAX_UNITS_PER_CUSTOMER_PER_HOUR: '1000000',
    ...env,
  };
}

export async function startOrderService(databaseUrl: string, userBase: string, productBase: string, env: Record<string, string> = {}) {
  return startService(buildApp, loadOrderConfig(orderEnv(databaseUrl, userBase, productBase, env)));
}

/** The product service and the order service in front of it, on the test file's database. */
export async function startProductAndOrder(db: TestDatabase, userBase: string, env: Record<string, string> = {}) {
  const product = await startProductService(db.urls.product, userBase);
  try {
    return { product, order: await startOrderService(db.urls.order, userBase, product.base, env) };
  } catch (err) {
    await product.close();
    throw err;
  }
}

/** The order service as a real child process (for SIGKILL tests), ready on `port`. */
export function spawnOrderProcess(env: Record<string, string>, port: number): Promise<ServiceProcess> {
  return startServiceProcess(fileURLToPath(new URL('../src/main.js', import.meta.url)), env, { port, name: 'order process' });
}

/**
 * The stock invariant over the orders `ids`, once each is final: an order's reservation is held exactly when it is
 * confirmed, and the product's stock is `stockBefore` (its start and restocks) less the confirmed orders' units.
 * Answers the orders as stored.
 */
export async function assertStockMatchesOrders(db: TestDatabase, ids: readonly string[], productBase: string, productId: string, stockBefore: number) {
  const orders = await sql<{ id: string; status: string; units: number }>(
    db.urls.order,
    "SELECT id, status, (SELECT sum((l->>'quantity')::int) FROM jsonb_array_elements(items) l)::int AS units FROM orders.orders WHERE id = ANY($1::uuid[])",
    [ids],
  );
  const held = new Set(
    (await sql<{ order_id: string }>(db.urls.product, "SELECT order_id FROM catalog.reservations WHERE order_id = ANY($1::uuid[]) AND status = 'reserved'", [ids])).map((r) => r.order_id),
  );
  for (const o of orders) assert.equal(held.has(o.id), o.status === 'confirmed', `order ${o.id} is ${o.status}, its reservation ${held.has(o.id) ? 'held' : 'not held'}`);
  const confirmedUnits = orders.filter((o) => o.status === 'confirmed').reduce((n, o) => n + o.units, 0);
  assert.equal(await stockOf(productBase, productId), stockBefore - confirmedUnits, JSON.stringify(orders));
  return orders;
}
