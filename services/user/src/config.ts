import { TokenEnv } from '@ecommerce/contracts';
import { BaseEnv, ConfigError, DatabaseEnv, DbSchema, MAX_TIMER_MS, MAX_TOKEN_AGE_SECONDS, Port, Type, loadConfig, proxyTrust, type Static } from '@ecommerce/kit';

/** The most a throttle counts (its columns are PostgreSQL integers, at most 2^31 - 1). */
const MAX_THROTTLE_COUNT = 1_000_000_000;
/** A throttle's longest window: a year, as SESSION_MAX_AGE_SECONDS. */
const MAX_THROTTLE_WINDOW_SECONDS = 365 * 86400;

export const UserEnv = {
  ...BaseEnv,
  ...TokenEnv,
  ...DatabaseEnv,
  PORT: Port(3001),
  DB_SCHEMA: DbSchema('users'),
  JWT_PRIVATE_KEY: Type.Optional(Type.String({ minLength: 1 })),
  JWT_PRIVATE_KEY_FILE: Type.Optional(Type.String({ minLength: 1 })),
  // Public keys published beside the signing key's, for rotating it: the next one, the previous one.
  JWT_PUBLIC_KEYS: Type.Optional(Type.String({ minLength: 1 })),
  JWT_PUBLIC_KEYS_FILE: Type.Optional(Type.String({ minLength: 1 })),
  // Every verifier refuses a token older than MAX_TOKEN_AGE_SECONDS (an hour) whatever its exp: no longer lifetime.
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, maximum: MAX_TOKEN_AGE_SECONDS, default: 900 }),
  REFRESH_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 300, maximum: 90 * 86400, default: 30 * 86400 }),
  // A session's absolute lifetime from its login, however often it refreshes (OWASP Session Management: an absolute
  // timeout besides the idle one). No floor above a second, so tests can watch one end; a year at most.
  SESSION_MAX_AGE_SECONDS: Type.Integer({ minimum: 1, maximum: 365 * 86400, default: 90 * 86400 }),
  // How often each replica deletes expired refresh tokens (background/prune-sessions.ts).
  REFRESH_TOKEN_PRUNE_INTERVAL_MS: Type.Integer({ minimum: 100, maximum: MAX_TIMER_MS, default: 300_000 }),
  // How long a registration's Idempotency-Key is remembered (a retry after that is a new registration: 409 email-taken
  // when the first one was made), and how often each replica deletes the keys past it (background/prune-registration-keys.ts).
  REGISTER_KEY_RETENTION_HOURS: Type.Integer({ minimum: 1, maximum: 24 * 365, default: 24 }),
  REGISTER_KEY_PRUNE_INTERVAL_MS: Type.Integer({ minimum: 100, maximum: MAX_TIMER_MS, default: 3_600_000 }),
  SERVICE_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, maximum: MAX_TOKEN_AGE_SECONDS, default: 600 }),
  // An address the login takes (routes/schemas.ts Email): the admin made from it must be able to sign in.
  ADMIN_EMAIL: Type.Optional(Type.String({ format: 'email', minLength: 3, maxLength: 254 })),
  ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 8, maxLength: 128 })),
  SERVICE_CLIENTS: Type.Optional(Type.String({ minLength: 2 })),
  SERVICE_CLIENTS_FILE: Type.Optional(Type.String({ minLength: 1 })),
  // The throttles' counts and windows go to PostgreSQL (integer columns, now() - the window): unbounded, 3000000000
  // failures or a window of 2^53 s was accepted at start and then made every login answer 500.
  // Failed logins (OWASP: per account from one address, and per address; no lock a stranger can put on an account).
  LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: Type.Integer({ minimum: 1, maximum: MAX_THROTTLE_COUNT, default: 5 }),
  LOGIN_MAX_FAILURES_PER_ADDRESS: Type.Integer({ minimum: 1, maximum: MAX_THROTTLE_COUNT, default: 50 }),
  LOGIN_FAILURE_WINDOW_SECONDS: Type.Integer({ minimum: 1, maximum: MAX_THROTTLE_WINDOW_SECONDS, default: 900 }),
  // Requests per client address and window on the endpoints that hash a password or mint tokens.
  AUTH_RATE_WINDOW_SECONDS: Type.Integer({ minimum: 1, maximum: MAX_THROTTLE_WINDOW_SECONDS, default: 60 }),
  // Per address and window, sized for a client's honest pace (a test suite signing up a customer per scenario), not
  // for one browser: API.md lists 429 on login only after repeated failures, and none on register. At most about
  // 10 argon2 hashes a second from one address, a third of what saturates a replica (docs/design.md).
  REGISTER_MAX_PER_ADDRESS: Type.Integer({ minimum: 1, maximum: MAX_THROTTLE_COUNT, default: 100 }),
  LOGIN_MAX_PER_ADDRESS: Type.Integer({ minimum: 1, maximum: MAX_THROTTLE_COUNT, default: 200 }),
  TOKEN_MAX_PER_ADDRESS: Type.Integer({ minimum: 1, maximum: MAX_THROTTLE_COUNT, default: 300 }),
  /** This service's own proxy (IPs, CIDRs, loopback, uniquelocal, linklocal; `none`): see proxyTrust. */
  TRUST_PROXY: Type.String({ default: 'loopback,uniquelocal' }),
};
export type UserConfig = Static<ReturnType<typeof Type.Object<typeof UserEnv>>>;

export function loadUserConfig(env: NodeJS.ProcessEnv = process.env): UserConfig {
  const config = loadConfig(UserEnv, env);
  // Given both ways, the inline one won without a word: a key or client list moved to a mounted Secret file while the
  // old variable stayed set went on signing with (or granting) the old one, and the file was never even read.
  const twice = (['JWT_PRIVATE_KEY', 'JWT_PUBLIC_KEYS', 'SERVICE_CLIENTS'] as const).filter((name) => config[name] !== undefined && config[`${name}_FILE`] !== undefined);
  if (twice.length > 0) throw new ConfigError(twice.map((name) => `${name} and ${name}_FILE: both are set; give one (the inline one was used and the file ignored)`));
  try {
    proxyTrust(config.TRUST_PROXY);
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
  return { ...config, SERVICE_CLIENTS: withSecretsFromEnv(config.SERVICE_CLIENTS, env) };
}

/**
 * A SERVICE_CLIENTS entry may name the variable holding its secret (`"secretEnv": "ORDER_CLIENT_SECRET"`) instead of
 * holding it. Kubernetes pastes a `$(VAR)` value into another verbatim, so a secret from a secret manager with a `"`
 * or `\` inside the JSON broke it and the service did not start; read from its own variable, any secret works.
 * Anything that is not such an entry is left as it is, for parseServiceClients to judge.
 */
function withSecretsFromEnv(inline: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  let parsed: unknown;
  try {
    parsed = inline === undefined ? undefined : JSON.parse(inline);
  } catch {
    return inline;
  }
  const named = (c: unknown): c is Record<string, unknown> & { secretEnv: unknown } => typeof c === 'object' && c !== null && 'secretEnv' in c;
  if (!Array.isArray(parsed) || !parsed.some(named)) return inline;
  const errors: string[] = [];
  const clients = parsed.map((c: unknown) => {
    if (!named(c)) return c;
    const { secretEnv, ...client } = c;
    const secret = typeof secretEnv === 'string' ? env[secretEnv] : undefined;
    if ('secret' in client) errors.push(`SERVICE_CLIENTS: ${String(client['id'])} has both secret and secretEnv`);
    else if (secret === undefined) errors.push(`SERVICE_CLIENTS: ${String(client['id'])}'s secretEnv ${String(secretEnv)} is not set`);
    return { ...client, secret };
  });
  if (errors.length > 0) throw new ConfigError(errors);
  return JSON.stringify(clients);
}
