import fp from 'fastify-plugin';
import { Authenticator, type App } from '@ecommerce/kit';
import { userJwksUrl, type OrderConfig } from '../config.js';

declare module 'fastify' {
  interface FastifyInstance {
    auth: Authenticator;
  }
}

/** Verifies user access tokens against the user service's published keys (their JWKS URL: config.ts). */
export default fp(
  async (app: App, { config }: { config: OrderConfig }) => {
    app.decorate('auth', new Authenticator({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, jwks: userJwksUrl(config) }));
  },
  { name: 'auth' },
);
