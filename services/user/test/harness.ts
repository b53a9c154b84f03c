// The user service started in-process for tests (exported as `@ecommerce/user-service/testing`).
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before } from 'node:test';
import { ORDER_CLIENT, TEST_ADMIN, createTestDatabase, holdSessionLock, startService, stopAll, waitFor, type TestDatabase } from '@ecommerce/test-support';
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

/** A database of the test file's own (made with `database`'s options) with the user service on it (stop both with `stopAll(user, db)`). */
export async function startUserStack(env: Record<string, string> = {}, database: Parameters<typeof createTestDatabase>[0] = {}) {
  const db = await createTestDatabase(database);
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
/** The user service's HTTP server (to watch what reaches it). */
export let userServer: Server;
/** The user service's app (to reach its repositories). */
export let userApp: Awaited<ReturnType<typeof startUserService>>['app'];

/**
 * Registers the file's hooks: a database and the user service (with `env`) before its tests, both stopped
 * after them. `db` and `base` above are live bindings, filled in by the `before` hook.
 */
export function startUserServiceForFile(env: Record<string, string> = {}): void {
  let user: Awaited<ReturnType<typeof startUserService>> | undefined;
  before(async () => {
    ({ db, user } = await startUserStack(env));
    base = user.base;
    userApp = user.app;
    userServer = user.app.server as Server;
  });
  after(() => stopAll(user, db));
}

/**
 * Sends a refresh of `token` to `target` while its session is held, closes the connection once the refresh waits in
 * PostgreSQL and the user service (`userServer`) has seen the connection go, then lets the session go.
 */
export async function refreshAbandonedWhileWaiting(target: string, userServer: Server, userDbUrl: string, token: string): Promise<void> {
  const held = await holdSessionLock(userDbUrl, token);
  const arrived: ServerResponse[] = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/user/token/refresh') arrived.push(res);
  };
  userServer.on('request', onRequest);
  try {
    const body = JSON.stringify({ refreshToken: token });
    const req = httpRequest(`${target}/user/token/refresh`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
    req.on('error', () => undefined);
    req.on('response', () => assert.fail('the held refresh was answered'));
    req.end(body);
    await waitFor('the refresh to wait for its session', async () => (await held.waiters()) === 1 && arrived.length === 1);
    let gone = false;
    arrived[0]!.once('close', () => (gone = true));
    req.destroy();
    // The user service sees its caller go (through a gateway: only when the gateway aborts its upstream request).
    await waitFor('the user service to see the connection of the refresh close', async () => gone, 5000);
  } finally {
    userServer.off('request', onRequest);
    await held.release();
  }
}

