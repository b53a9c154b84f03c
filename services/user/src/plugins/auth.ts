import fp from 'fastify-plugin';
import { Authenticator, type App } from '@ecommerce/kit';
import type { JSONWebKeySet } from 'jose';
import type { UserConfig } from '../config.js';

declare module 'fastify' {
  interface FastifyInstance {
    auth: Authenticator;
  }
}

/** Verifies the tokens this service signed, against its own key set (no HTTP round trip to itself). */
export default fp(
  async (app: App, { config, jwks }: { config: UserConfig; jwks: JSONWebKeySet }) => {
    app.decorate('auth', new Authenticator({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, jwks }));
  },
  { name: 'auth' },
);
