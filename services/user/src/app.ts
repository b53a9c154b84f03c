import { USER_ROLES } from '@ecommerce/contracts';
import { authentication, createDataService, proxyTrust, type App } from '@ecommerce/kit';
import type { UserConfig } from './config.js';
import { parseServiceClients } from './model/service-client.js';
import { loadPublishedKeys, loadSigningKey, publishing } from './model/signing-key.js';
import repositories from './plugins/repositories.js';
import provisioning from './plugins/provisioning.js';
import tokenIssuer from './plugins/token-issuer.js';
import throttles from './plugins/throttles.js';
import accountMetrics from './plugins/account-metrics.js';
import sessionPrune from './plugins/session-prune.js';
import registrationKeyPrune from './plugins/registration-key-prune.js';
import publicRoutes from './routes/public/index.js';
import customerRoutes from './routes/customer/index.js';
import adminRoutes from './routes/admin/index.js';
import serviceRoutes from './routes/services/index.js';

/** The user service: accounts, sessions, JWKS and service tokens. Builds the app, does not listen. */
export async function buildApp(config: UserConfig, opts: { logStream?: NodeJS.WritableStream } = {}): Promise<App> {
  // Read before anything starts: a bad key or client list fails fast, before the database is touched.
  // The key that signs, and in its JWKS the keys of a rotation (JWT_PUBLIC_KEYS): the next one and the previous one.
  const key = publishing(await loadSigningKey(config.JWT_PRIVATE_KEY, config.JWT_PRIVATE_KEY_FILE), await loadPublishedKeys(config.JWT_PUBLIC_KEYS, config.JWT_PUBLIC_KEYS_FILE));
  const clients = parseServiceClients(config.SERVICE_CLIENTS, config.SERVICE_CLIENTS_FILE);
  const { app } = await createDataService({
    name: 'user',
    prefix: '/user',
    description: 'Accounts, login sessions with rotating refresh tokens, the JWKS and OAuth client-credentials service tokens.',
    config,
    migrations: new URL('../../migrations', import.meta.url),
    trustProxy: proxyTrust(config.TRUST_PROXY),
    ...opts,
    setup: async (app, db) => {
      // Dependencies, as decorations: the SQL, start-up accounts, token checks and signing, throttles, counters, the prunes.
      await app.register(repositories, { db, sessionMaxAgeSeconds: config.SESSION_MAX_AGE_SECONDS });
      const admin = config.ADMIN_EMAIL && config.ADMIN_PASSWORD ? { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD } : null;
      await app.register(provisioning, { clients, admin });
      await app.register(authentication, { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, jwks: key.jwks, roles: USER_ROLES });
      await app.register(tokenIssuer, { config, key });
      await app.register(throttles, { db, config });
      await app.register(accountMetrics);
      await app.register(sessionPrune, { intervalMs: config.REFRESH_TOKEN_PRUNE_INTERVAL_MS });
      await app.register(registrationKeyPrune, { retentionHours: config.REGISTER_KEY_RETENTION_HOURS, intervalMs: config.REGISTER_KEY_PRUNE_INTERVAL_MS });
      // Routes, one folder per audience; a folder that needs a token checks it once, in its index.
      await app.register(publicRoutes);
      await app.register(customerRoutes);
      await app.register(adminRoutes);
      await app.register(serviceRoutes);
    },
  });
  return app;
}
