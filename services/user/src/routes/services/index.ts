import type { App } from '@ecommerce/kit';
import { acceptFormBodies } from './form-body.js';
import { TOKEN_PARAMETERS } from './oauth-request.js';
import tokens from './tokens.js';

/**
 * For other services: the public keys that verify this service's tokens, and service tokens for clients
 * that prove themselves with their secret (HTTP Basic or the body, so no token hook here).
 */
export default async function serviceRoutes(app: App): Promise<void> {
  // Form bodies (RFC 6749's token request) here only: everywhere else a form is a cross-site post (a login
  // CSRF could plant an attacker's session in a victim's browser) and answers 415 like any non-JSON body.
  acceptFormBodies(app, TOKEN_PARAMETERS);
  await app.register(tokens);
}
