// Accounts and tokens made through the user service's public API, the way a client gets them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { http } from './http.js';

/** The admin every in-process user service is started with (ADMIN_EMAIL / ADMIN_PASSWORD). */
export const TEST_ADMIN = { email: 'admin@example.test', password: 'admin-password-123' };

/** The order service's client at the user service (SERVICE_CLIENTS there, SERVICE_CLIENT_ID/SECRET at order). */
export const ORDER_CLIENT = { id: 'order-service', secret: 'order-service-test-secret-0123456789', scopes: ['reservations:write', 'reservations:read'] };

export function uniqueEmail(tag = 'user'): string {
  return `${tag}.${Date.now().toString(36)}.${randomBytes(4).toString('hex')}@example.test`;
}

export interface Account {
  id: string;
  email: string;
  password: string;
}

/** A new customer account (asserts the 201); `headers` to register from a given client address. */
export async function registerAccount(
  userBase: string,
  opts: { tag?: string; email?: string; password?: string; name?: string; headers?: Record<string, string> } = {},
): Promise<Account> {
  const { email = uniqueEmail(opts.tag), password = 'correct-horse-1', name = 'Ada', headers } = opts;
  const res = await http<{ id: string }>(userBase, 'POST', '/user/register', { body: { email, password, name }, ...(headers ? { headers } : {}) });
  assert.equal(res.status, 201, res.text);
  return { id: res.body.id, email, password };
}

/** The access token of a login (asserts the 200). */
export async function login(userBase: string, email: string, password: string): Promise<string> {
  const res = await http<{ accessToken: string }>(userBase, 'POST', '/user/login', { body: { email, password } });
  assert.equal(res.status, 200, res.text);
  return res.body.accessToken;
}

export const adminToken = (userBase: string): Promise<string> => login(userBase, TEST_ADMIN.email, TEST_ADMIN.password);

/** A new customer, logged in. */
export async function createCustomer(userBase: string, tag = 'buyer'): Promise<Account & { token: string }> {
  const account = await registerAccount(userBase, { tag });
  return { ...account, token: await login(userBase, account.email, account.password) };
}

/** A service token (client-credentials grant); the client's every scope unless `scope` narrows it. */
export async function serviceToken(userBase: string, client: { id: string; secret: string } = ORDER_CLIENT, scope?: string): Promise<string> {
  const res = await http<{ access_token: string }>(userBase, 'POST', '/user/oauth/token', {
    body: { grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret, ...(scope ? { scope } : {}) },
  });
  assert.equal(res.status, 200, res.text);
  return res.body.access_token;
}
