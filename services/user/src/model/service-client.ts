import { settingText } from './setting-text.js';
import { ConfigError } from '@ecommerce/kit';

export interface ServiceClientConfig {
  id: string;
  secret: string;
  scopes: string[];
}

/** RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** SERVICE_CLIENTS (inline JSON) or SERVICE_CLIENTS_FILE: the clients of the client-credentials grant. */
export function parseServiceClients(inline: string | undefined, file: string | undefined): ServiceClientConfig[] {
  const text = settingText('SERVICE_CLIENTS', inline, file);
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
  const clients = parsed as ServiceClientConfig[];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const c of clients) {
    // Listed twice, the last one won silently (its secret and scopes), whichever the operator meant.
    if (seen.has(c.id)) problems.push(`SERVICE_CLIENTS: ${c.id} is listed twice`);
    seen.add(c.id);
    // A token's scope claim is the scopes joined by spaces, read back split at spaces: "a b" was granted as a and b.
    for (const scope of c.scopes) if (!SCOPE_TOKEN.test(scope)) problems.push(`SERVICE_CLIENTS: ${c.id}'s scope ${JSON.stringify(scope)} is not one scope-token (RFC 6749 3.3: printable ASCII, no space, " or \\)`);
  }
  if (problems.length) throw new ConfigError(problems);
  return clients;
}
