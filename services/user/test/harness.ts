// The user service started in-process for tests (exported as `@ecommerce/user-service/testing`).
import { generateKeyPairSync } from 'node:crypto';
import { after, before } from 'node:test';
import { ORDER_CLIENT, TEST_ADMIN, createTestDatabase, startService, stopAll, type Running, type TestDatabase } from '@ecommerce/test-support';
import { buildApp } from '../src/app.js';
import { loadUserConfig } from '../src/config.js';

export function testSigningKey(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** Every test registers and logs in from 127.0.0.1: budgets far above any suite's; the limit tests set their own. */
export const GENEROUS_BUDGETS = {
  REGISTER_MAX_PER_ADDRESS: '1000000',
  LOGIN_MAX_PER_ADDRESS: '1000000',
  TOKEN_MAX_PER_ADDRESS: '1000000',
  LOGIN_MAX_FAILURES_PER_ADDRESS: '1000000',
};

/** Starts the real user service in-process on a random loopback port, with TEST_ADMIN and ORDER_CLIENT. */
export async function startUserService(databaseUrl: string, env: Record<string, string> = {}) {
  const config = loadUserConfig({
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    PORT: '0',
    JWT_PRIVATE_KEY: testSigningKey(),
    SERVICE_CLIENTS: JSON.stringify([ORDER_CLIENT]),
    ADMIN_EMAIL: TEST_ADMIN.email,
    ADMIN_PASSWORD: TEST_ADMIN.password,
    ...GENEROUS_BUDGETS,
    ...env,
  });
  return startService(buildApp, config);
}

/** A database of the test file's own with the user service on it (stop both with `stopAll(user, db)`). */
export async function startUserStack(env: Record<string, string> = {}) {
  const db = await createTestDatabase();
  try {
    return { db, user: await startUserService(db.urls.user, env) };
  } catch (err) {
    await db.drop();
    throw err;
  }
}

/** The database and the base URL of the user service a test file runs against (see startUserServiceForFile). */
export let db: TestDatabase;
export let base: string;

/**
 * Registers the file's hooks: a database and the user service (with `env`) before its tests, both stopped
 * after them. `db` and `base` above are live bindings, filled in by the `before` hook.
 */
export function startUserServiceForFile(env: Record<string, string> = {}): void {
  let user: Running | undefined;
  before(async () => {
    ({ db, user } = await startUserStack(env));
    base = user.base;
  });
  after(() => stopAll(user, db));
}
