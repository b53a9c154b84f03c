import { readFileSync } from 'node:fs';
import { ConfigError } from '@ecommerce/kit';

export interface ServiceClientConfig {
  id: string;
  secret: string;
  scopes: string[];
}

/** SERVICE_CLIENTS (inline JSON) or SERVICE_CLIENTS_FILE: the clients of the client-credentials grant. */
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
