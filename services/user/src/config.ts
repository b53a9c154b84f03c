import { BaseEnv, DatabaseEnv, Port, Type, loadConfig, type Static } from '@ecommerce/kit';

export const UserEnv = {
  ...BaseEnv,
  ...DatabaseEnv,
  PORT: Port(3001),
  DB_SCHEMA: Type.String({ default: 'users' }),
  JWT_PRIVATE_KEY: Type.Optional(Type.String({ minLength: 1 })),
  JWT_PRIVATE_KEY_FILE: Type.Optional(Type.String({ minLength: 1 })),
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, maximum: 3600, default: 900 }),
  REFRESH_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 300, maximum: 90 * 86400, default: 30 * 86400 }),
  SERVICE_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, maximum: 3600, default: 600 }),
  ADMIN_EMAIL: Type.Optional(Type.String({ format: 'email', minLength: 3 })),
  ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 8, maxLength: 128 })),
  SERVICE_CLIENTS: Type.Optional(Type.String({ minLength: 2 })),
  SERVICE_CLIENTS_FILE: Type.Optional(Type.String({ minLength: 1 })),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: Type.Integer({ minimum: 1, default: 5 }),
  LOGIN_MAX_FAILURES_PER_ADDRESS: Type.Integer({ minimum: 1, default: 50 }),
  LOGIN_FAILURE_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 900 }),
  /** Proxies whose X-Forwarded-For is believed (proxy-addr syntax). */
  TRUST_PROXY: Type.String({ default: 'loopback,uniquelocal' }),
};
export type UserConfig = Static<ReturnType<typeof Type.Object<typeof UserEnv>>>;

export function loadUserConfig(env: NodeJS.ProcessEnv = process.env): UserConfig {
  return loadConfig(UserEnv, env);
}
