import type { App } from '@ecommerce/kit';
import { listenOnLoopback } from '@ecommerce/kit/testing';
import { buildApp } from '../src/app.js';
import { loadProductConfig } from '../src/config.js';

export interface Running {
  app: App;
  base: string;
  close(): Promise<void>;
}

/**
 * Starts the real product service in-process on a random loopback port, verifying tokens with the JWKS of the
 * user service at userServiceUrl. The demo catalog is off unless env says SEED_DEMO_DATA=true.
 */
export async function startProductService(databaseUrl: string, userServiceUrl: string, env: Record<string, string> = {}): Promise<Running> {
  const config = loadProductConfig({
    DATABASE_URL: databaseUrl,
    USER_SERVICE_URL: userServiceUrl,
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    PORT: '0',
    SEED_DEMO_DATA: 'false',
    ...env,
  });
  const app = await buildApp(config);
  return { app, base: await listenOnLoopback(app), close: () => app.close() };
}
