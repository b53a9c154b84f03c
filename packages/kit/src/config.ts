import { type Static, type TObject, type TProperties, type TSchema, Type } from '@sinclair/typebox';
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { fullFormats } from 'ajv-formats/dist/formats.js';

// TypeBox's own checker knows no formats; register the ones config uses (Ajv handles requests), by the rule Ajv checks
// requests with: config took any `x@y.z`, so an ADMIN_EMAIL such as `admin@exämple.com` or `admin@example.com.` made an
// admin whose address every login refused.
const EMAIL = fullFormats.email as RegExp;
if (!FormatRegistry.Has('email')) FormatRegistry.Set('email', (v) => EMAIL.test(v));

/**
 * A service's URL setting: one the WHATWG parser takes (its port 0..65535, a host), http or https, with no user or
 * password, no path, query or fragment: undici's pools take an origin alone (the gateway died at start on a path) and
 * the JWKS and token URLs are absolute paths that replace any path it held. The pattern alone took `http://`,
 * `http://host:99999` and `http://host/prefix`, and the gateway then died at start with an `Invalid URL` stack naming no variable.
 */
function isServiceUrl(v: string): boolean {
  if (!/^https?:\/\//.test(v) || !URL.canParse(v)) return false;
  const url = new URL(v);
  return url.hostname !== '' && url.username === '' && url.password === '' && url.pathname === '/' && url.search === '' && url.hash === '';
}
if (!FormatRegistry.Has('service-url')) FormatRegistry.Set('service-url', isServiceUrl);

/**
 * The longest delay Node's timers keep (2^31 - 1 ms, about 24.8 days): a longer one is set to 1 ms with a warning, so
 * an interval setting above it ran its task a thousand times a second. Every `*_MS` setting a timer takes stays below.
 */
export const MAX_TIMER_MS = 2_147_483_647;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Variables every process understands (see docs/configuration.md). */
export const BaseEnv = {
  // An address or a name to resolve; a blank or one with spaces inside (`HOST=" "`) is a typo, refused here by name.
  HOST: Type.String({ default: '127.0.0.1', minLength: 1, pattern: '^\\S+$' }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], {
    default: 'development',
  }),
  SERVICE_VERSION: Type.String({ default: '0.1.0' }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 0, maximum: 600_000, default: 10_000 }),
  FAULT_INJECTION: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')], { default: 'disabled' }),
};

export const DatabaseEnv = {
  DATABASE_URL: Type.String({ pattern: '^postgres(ql)?://' }),
  DB_POOL_MAX: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  /** Start-up waits this long for the server, the database and the service's role, then exits 1. */
  DB_STARTUP_TIMEOUT_MS: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 120_000 }),
};

/**
 * The schema a service's tables live in: a lower-case SQL name the kit writes unquoted-safe (db.ts), not `pg_...`,
 * which PostgreSQL keeps for itself. Checked here, DB_SCHEMA=Catalog or " " stops the start naming the variable; the
 * pool's own check said `invalid schema name` in a start-up stack, and `pg_catalog` got as far as a migration's
 * `permission denied`.
 */
export const SCHEMA_NAME_PATTERN = '^(?!pg_)[a-z_][a-z0-9_]{0,62}$';
export const DbSchema = (dflt: string) => Type.String({ pattern: SCHEMA_NAME_PATTERN, default: dflt });

export const Port = (dflt: number) => Type.Integer({ minimum: 0, maximum: 65535, default: dflt });
export const Url = (dflt?: string) =>
  dflt === undefined ? Type.String({ format: 'service-url' }) : Type.String({ format: 'service-url', default: dflt });

/** ` from 1 to 1000`, ` from 1`, ` at most 5`: a numeric setting's bounds, for its error. */
function bounds(schema: TSchema): string {
  const { minimum, maximum } = schema as { minimum?: number; maximum?: number };
  if (minimum !== undefined && maximum !== undefined) return ` from ${minimum} to ${maximum}`;
  if (minimum !== undefined) return ` from ${minimum}`;
  return maximum === undefined ? '' : ` at most ${maximum}`;
}

/**
 * The values a union of literals or a boolean allows, in words (TypeBox says "Expected union value" of LOG_LEVEL=loud,
 * "Expected boolean" of SEED_DEMO_DATA=yes); else undefined.
 */
function choices(schema: TSchema | undefined): string | undefined {
  if (schema?.type === 'boolean') return 'expected true or false';
  if (schema?.format === 'service-url') return 'expected an http:// or https:// origin: a host and a port 0..65535, no path, user or password';
  if (schema?.pattern === SCHEMA_NAME_PATTERN) return 'expected a schema name: a-z, 0-9 and _, not first a digit, at most 63 characters, not beginning pg_';
  if (schema?.pattern === '^\\S+$') return 'expected an address or a host name, with no spaces';
  if (schema?.type === 'number') return `expected a decimal number${bounds(schema)}`;
  if (schema?.type === 'integer' && (schema.minimum !== undefined || schema.maximum !== undefined)) return `expected a whole number${bounds(schema)}`;
  const values = (schema as { anyOf?: { const?: unknown }[] } | undefined)?.anyOf?.map((branch) => branch.const);
  if (!values?.length || values.some((v) => v === undefined)) return undefined;
  return `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
}

/**
 * Reads and validates environment variables once. Empty strings count as unset,
 * so `FOO=` in a compose file falls back to the default instead of failing oddly.
 */
export function loadConfig<P extends TProperties>(props: P, env: NodeJS.ProcessEnv = process.env): Static<TObject<P>> {
  const schema = Type.Object(props);
  const raw: Record<string, unknown> = {};
  const notDecimal: string[] = [];
  for (const key of Object.keys(props)) {
    const v = env[key];
    if (v === undefined || v === '') continue;
    // TypeBox converts with parseInt: "1e3" became 1, "1.5" 1, "0x10" 16, "0b11" 0, all without a word.
    if (props[key]?.type === 'integer' && !/^\s*[+-]?\d+\s*$/.test(v)) notDecimal.push(key);
    // And with parseFloat a number: "0x1" became 0, "0,05" (a decimal comma) 0, without a word.
    if (props[key]?.type === 'number' && !/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(v)) notDecimal.push(key);
    raw[key] = v;
  }
  const withDefaults = Value.Default(schema, raw);
  const converted = Value.Convert(schema, withDefaults) as Record<string, unknown>;
  for (const key of notDecimal) converted[key] = env[key];
  const problems = [...Value.Errors(schema, converted)].map((e) => {
    const name = e.path.replace(/^\//, '') || '(root)';
    const given = env[name];
    if (given === undefined || given === '') return `${name}: is required (${e.message})`;
    const decimal = props[name]?.type === 'number' ? 'expected a decimal number' : 'expected a whole number in decimal digits';
    const message = notDecimal.includes(name) ? decimal : (choices(props[name]) ?? e.message);
    return `${name}: ${message} (got ${JSON.stringify(name.match(/SECRET|PASSWORD|KEY|URL/) ? '<redacted>' : given)})`;
  });
  if (problems.length) throw new ConfigError(problems);
  const cfg = converted as Static<TObject<P>>;
  if ((cfg as { FAULT_INJECTION?: string }).FAULT_INJECTION === 'enabled' && (cfg as { NODE_ENV?: string }).NODE_ENV === 'production') {
    throw new ConfigError(['FAULT_INJECTION: cannot be enabled when NODE_ENV=production']);
  }
  return cfg;
}
