import type { App } from '@ecommerce/kit';
import tokens from './tokens.js';

/**
 * For other services: the public keys that verify this service's tokens, and service tokens for clients
 * that prove themselves with their secret (in the body, so no token hook here).
 */
export default async function serviceRoutes(app: App): Promise<void> {
  await app.register(tokens);
}
