import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { Authenticator, type AuthenticatorOptions } from '../auth.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Token checks for route folders: `app.addHook('onRequest', app.auth.user('admin'))`. */
    auth: Authenticator;
  }
}

/** Registered by each service (createServer does not: the key set and roles are the service's). */
export const AUTHENTICATION_PLUGIN = 'kit-authentication';

/** Decorates `app.auth` with an Authenticator for the given issuer, audience, key set and roles. */
export const authentication = fp(
  async (app: FastifyInstance, opts: AuthenticatorOptions) => {
    app.decorate('auth', new Authenticator(opts));
  },
  { name: AUTHENTICATION_PLUGIN },
);
