import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { Authenticator, type AuthenticatorOptions } from '../auth.js';
import { KIT_PLUGINS } from './names.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Token checks for route folders: `app.addHook('onRequest', app.auth.user('admin'))`. */
    auth: Authenticator;
  }
}

/** Decorates `app.auth` with an Authenticator for the given issuer, audience, key set and roles. */
export const authentication = fp(
  async (app: FastifyInstance, opts: AuthenticatorOptions) => {
    app.decorate('auth', new Authenticator(opts));
  },
  { name: KIT_PLUGINS.authentication },
);
