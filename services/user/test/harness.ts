import { generateKeyPairSync } from 'node:crypto';
import type { App } from '@ecommerce/kit';
import { listenOnLoopback } from '@ecommerce/kit/testing';
import { buildApp } from '../src/app.js';
import { loadUserConfig } from '../src/config.js';

export const ORDER_CLIENT = { id: 'order-service', secret: 'order-service-test-secret-0123456789', scopes: ['reservations:write', 'reservations:read'] };

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

export interface Running {
  app: App;
  base: string;
  close(): Promise<void>;
}

/** Starts the real user service in-process on a random loopback port. */
export async function startUserService(databaseUrl: string, env: Record<string, string> = {}): Promise<Running> {
  const config = loadUserConfig({
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    PORT: '0',
    JWT_PRIVATE_KEY: testSigningKey(),
    SERVICE_CLIENTS: JSON.stringify([ORDER_CLIENT]),
    ADMIN_EMAIL: 'admin@example.test',
    ADMIN_PASSWORD: 'admin-password-123',
    ...GENEROUS_BUDGETS,
    ...env,
  });
  const app = await buildApp(config);
  return { app, base: await listenOnLoopback(app), close: () => app.close() };
}
