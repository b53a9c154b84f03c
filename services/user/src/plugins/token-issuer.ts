import fp from 'fastify-plugin';
import { AUTHENTICATION_PLUGIN, type App } from '@ecommerce/kit';
import type { UserConfig } from '../config.js';
import type { SigningKey } from '../model/signing-key.js';
import { TokenIssuer } from '../model/token-issuer.js';

declare module 'fastify' {
  interface FastifyInstance {
    tokenIssuer: TokenIssuer;
  }
}

/** Signs access and service tokens with the service's key; the audiences are the ones `auth` verifies. */
export default fp(
  async (app: App, { config, key }: { config: UserConfig; key: SigningKey }) => {
    const audiences = { issuer: config.JWT_ISSUER, users: config.JWT_AUDIENCE, services: app.auth.serviceAudience };
    const lifetimes = { accessSeconds: config.ACCESS_TOKEN_TTL_SECONDS, refreshSeconds: config.REFRESH_TOKEN_TTL_SECONDS, serviceSeconds: config.SERVICE_TOKEN_TTL_SECONDS };
    app.decorate('tokenIssuer', new TokenIssuer(key, audiences, lifetimes));
  },
  { name: 'token-issuer', dependencies: [AUTHENTICATION_PLUGIN] },
);
