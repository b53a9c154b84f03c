import { ProblemError } from '@ecommerce/kit';
import type { ServiceClientRepository } from '../data/service-client-repository.js';
import { invalidClient } from '../model/client-authentication.js';
import { burnPasswordCheck, verifyPassword } from '../model/passwords.js';
import type { TokenIssuer } from '../model/token-issuer.js';

interface Deps {
  serviceClientRepository: ServiceClientRepository;
  tokenIssuer: TokenIssuer;
}

export interface ServiceTokenRequest {
  grantType: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated; absent: every scope the client may have. */
  scope?: string | undefined;
}

/** OAuth 2.0 client-credentials grant: a service token carrying the requested scopes, each one the client may have. */
export async function issueServiceToken(deps: Deps, req: ServiceTokenRequest): Promise<{ clientId: string; scopes: string[]; token: string; expiresIn: number }> {
  if (req.grantType !== 'client_credentials') {
    throw oauthBadRequest('unsupported_grant_type', 'Only grant_type=client_credentials is supported', '/grant_type', 'must be client_credentials');
  }
  const allowed = await authenticateClient(deps.serviceClientRepository, req.clientId, req.clientSecret);
  const requested = requestedScopes(req.scope) ?? allowed;
  const denied = requested.filter((s) => !allowed.includes(s));
  if (denied.length) throw oauthBadRequest('invalid_scope', `Scope not allowed for this client: ${denied.join(' ')}`, '/scope', 'contains a scope the client may not have');
  const token = await deps.tokenIssuer.serviceToken(req.clientId, requested.join(' '));
  return { clientId: req.clientId, scopes: requested, token, expiresIn: deps.tokenIssuer.lifetimes.serviceSeconds };
}

/** A 400 like the kit's BadRequest that names its OAuth error code (RFC 6749 5.2) in `error`. */
function oauthBadRequest(error: 'unsupported_grant_type' | 'invalid_scope', detail: string, path: string, message: string): ProblemError {
  return new ProblemError(400, 'validation-failed', 'Request is not valid', detail, { errors: [{ path, message }], error });
}

/**
 * The scopes a request names (RFC 6749 3.3: space-delimited, order of no meaning): each once, in the order first
 * named, the empty ones between repeated spaces dropped; null when it names none (absent, empty or only spaces: RFC
 * 6749 3.1, a parameter without a value is as if omitted), which asks for every scope the client may have. The
 * token said "a a" for `scope=a%20%20a` and was issued with no scope at all for `scope=%20`.
 */
function requestedScopes(scope: string | undefined): string[] | null {
  const named = [...new Set(scope?.split(' ').filter(Boolean))];
  return named.length ? named : null;
}

/** The client's scopes; an unknown client costs the same argon2 check as a wrong secret. */
async function authenticateClient(clients: ServiceClientRepository, clientId: string, secret: string): Promise<string[]> {
  const row = await clients.credentials(clientId);
  if (!row) {
    await burnPasswordCheck(secret);
    throw invalidClient();
  }
  if (!(await verifyPassword(row.secret_hash, secret))) throw invalidClient();
  return row.scopes;
}
