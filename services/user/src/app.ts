import { fileURLToPath } from 'node:url';
import formbody from '@fastify/formbody';
import { Authenticator, createDataService, proxyTrust, type App, type Database } from '@ecommerce/kit';
import type { UserConfig } from './config.js';
import { ensureAdmin } from './accounts.js';
import { LoginThrottle } from './login-throttle.js';
import { AddressRateLimiter } from './rate-limits.js';
import { parseServiceClients, syncServiceClients } from './service-clients.js';
import { loadSigningKey, type SigningKey } from './signing-key.js';
import { accountRoutes } from './routes/accounts.js';
import { tokenRoutes } from './routes/tokens.js';
import { userRoutes } from './routes/users.js';

export interface UserDeps {
  config: UserConfig;
  db: Database;
  key: SigningKey;
  auth: Authenticator;
  throttle: LoginThrottle;
  limiter: AddressRateLimiter;
}

const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

/** The user service: accounts, sessions, JWKS and service tokens. Builds the app, does not listen. */
export async function buildApp(config: UserConfig, opts: { logStream?: NodeJS.WritableStream } = {}): Promise<App> {
  const key = await loadSigningKey(config.JWT_PRIVATE_KEY, config.JWT_PRIVATE_KEY_FILE);
  const clients = parseServiceClients(config.SERVICE_CLIENTS, config.SERVICE_CLIENTS_FILE);
  const { app, db } = await createDataService({
    name: 'user',
    prefix: '/user',
    description: 'Accounts, login sessions with rotating refresh tokens, the JWKS and OAuth client-credentials service tokens.',
    config,
    migrations: MIGRATIONS,
    trustProxy: proxyTrust(config.TRUST_PROXY),
    ...opts,
  });
  try {
    await syncServiceClients(db, clients);
    if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
      const admin = await ensureAdmin(db, config.ADMIN_EMAIL, config.ADMIN_PASSWORD);
      app.log.info({ adminId: admin.id }, 'admin account ensured');
    }
  } catch (err) {
    await app.close();
    throw err;
  }
  await app.register(formbody);
  const auth = new Authenticator({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, jwks: key.jwks });
  const throttle = new LoginThrottle(db, {
    maxPerAccountAddress: config.LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS,
    maxPerAddress: config.LOGIN_MAX_FAILURES_PER_ADDRESS,
    windowSeconds: config.LOGIN_FAILURE_WINDOW_SECONDS,
  });
  const limiter = new AddressRateLimiter(db, {
    windowSeconds: config.AUTH_RATE_WINDOW_SECONDS,
    register: config.REGISTER_MAX_PER_ADDRESS,
    login: config.LOGIN_MAX_PER_ADDRESS,
    token: config.TOKEN_MAX_PER_ADDRESS,
  });
  // Counters of finished windows are deleted now and then (any replica may do it; it is idempotent).
  const prune = setInterval(() => {
    Promise.all([throttle.prune(), limiter.prune()]).catch((err: unknown) => app.log.warn({ err }, 'pruning throttle counters failed'));
  }, 5 * 60_000);
  prune.unref();
  app.addHook('onClose', async () => clearInterval(prune));
  const deps: UserDeps = { config, db, key, auth, throttle, limiter };
  accountRoutes(app, deps);
  userRoutes(app, deps);
  tokenRoutes(app, deps);
  return app;
}
