import { readFileSync } from 'node:fs';
import { ConfigError, Unauthorized, type Database } from '@ecommerce/kit';
import { hashPassword, verifyPassword, burnPasswordCheck } from './passwords.js';

export interface ServiceClientConfig {
  id: string;
  secret: string;
  scopes: string[];
}

export function parseServiceClients(inline: string | undefined, file: string | undefined): ServiceClientConfig[] {
  let text = inline;
  if (!text && file) text = readFileSync(file, 'utf8');
  if (!text) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(['SERVICE_CLIENTS: is not valid JSON']);
  }
  const ok =
    Array.isArray(parsed) &&
    parsed.every(
      (c: unknown) =>
        typeof c === 'object' && c !== null &&
        typeof (c as ServiceClientConfig).id === 'string' && /^[a-z0-9-]{1,64}$/.test((c as ServiceClientConfig).id) &&
        typeof (c as ServiceClientConfig).secret === 'string' && (c as ServiceClientConfig).secret.length >= 16 &&
        Array.isArray((c as ServiceClientConfig).scopes) && (c as ServiceClientConfig).scopes.every((s) => typeof s === 'string'),
    );
  if (!ok) throw new ConfigError(['SERVICE_CLIENTS: must be [{"id": "a-z0-9-", "secret": "16+ chars", "scopes": ["..."]}]']);
  return parsed as ServiceClientConfig[];
}

/** Stores the configured clients with argon2id hashes of their secrets (re-hashing only when a secret changed). */
export async function syncServiceClients(db: Database, clients: ServiceClientConfig[]): Promise<void> {
  for (const c of clients) {
    const row = (await db.query<{ secret_hash: string }>('client_get', 'SELECT secret_hash FROM service_clients WHERE id = $1', [c.id])).rows[0];
    const secretHash = row && (await verifyPassword(row.secret_hash, c.secret)) ? row.secret_hash : await hashPassword(c.secret);
    await db.query(
      'client_upsert',
      `INSERT INTO service_clients (id, secret_hash, scopes) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET secret_hash = EXCLUDED.secret_hash, scopes = EXCLUDED.scopes, updated_at = now()`,
      [c.id, secretHash, c.scopes],
    );
  }
}

export async function authenticateClient(db: Database, clientId: string, secret: string): Promise<string[]> {
  const row = (await db.query<{ secret_hash: string; scopes: string[] }>('client_auth', 'SELECT secret_hash, scopes FROM service_clients WHERE id = $1', [clientId])).rows[0];
  if (!row) {
    await burnPasswordCheck(secret);
    throw new Unauthorized('Invalid client credentials');
  }
  if (!(await verifyPassword(row.secret_hash, secret))) throw new Unauthorized('Invalid client credentials');
  return row.scopes;
}
