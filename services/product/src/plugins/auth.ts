import fp from 'fastify-plugin';
import { Authenticator, type App } from '@ecommerce/kit';
import type { ProductConfig } from '../config.js';

declare module 'fastify' {
  interface FastifyInstance {
    auth: Authenticator;
  }
}

/** Verifies user and service tokens locally with the user service's published keys (its JWKS). */
export default fp(
  async (app: App, { config }: { config: ProductConfig }) => {
    const jwks = new URL('/user/.well-known/jwks.json', config.USER_SERVICE_URL);
    app.decorate('auth', new Authenticator({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, jwks }));
  },
  { name: 'auth' },
);
