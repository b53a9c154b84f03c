// The product service started in-process for tests (exported as `@ecommerce/product-service/testing`).
import { startService } from '@ecommerce/test-support';
import { buildApp } from '../src/app.js';
import { loadProductConfig } from '../src/config.js';

/**
 * Starts the real product service in-process on a loopback port (random, or `port` to come back at the same
 * address), verifying tokens with the JWKS of the user service at userServiceUrl. The demo catalog is off
 * unless env says SEED_DEMO_DATA=true.
 */
export async function startProductService(databaseUrl: string, userServiceUrl: string, env: Record<string, string> = {}, port = 0) {
  const config = loadProductConfig({
    DATABASE_URL: databaseUrl,
    USER_SERVICE_URL: userServiceUrl,
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    PORT: String(port),
    SEED_DEMO_DATA: 'false',
    ...env,
  });
  return startService(buildApp, config, port);
}
