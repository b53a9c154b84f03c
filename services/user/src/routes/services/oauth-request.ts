// The token request as RFC 6749 reads it, around the route's schema: the server "MUST ignore unrecognized request
// parameters" and treats a parameter "sent without a value" as omitted (3.2, 3.1), so a client library that adds
// `audience`, `resource` (RFC 8707) or an empty `client_id=` beside HTTP Basic is served, not refused; and an error
// answer names its OAuth error code (5.2) in `error`, beside the problem's own members.
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The parameters of a client-credentials token request (RFC 6749 4.4.2, 2.3.1, 3.3). */
export const TOKEN_PARAMETERS = ['grant_type', 'client_id', 'client_secret', 'scope'] as const;

/** A parsed body (form or JSON object) with only the recognized parameters that have a value; anything else as is. */
function recognizedParameters(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  const kept: Record<string, unknown> = {};
  for (const name of TOKEN_PARAMETERS) {
    if (!Object.hasOwn(body, name)) continue;
    const value = (body as Record<string, unknown>)[name];
    if (value !== '') kept[name] = value;
  }
  return kept;
}

/** preValidation: the schema (which refuses unknown members) sees the recognized parameters only. */
export function keepRecognizedParameters(request: FastifyRequest, _reply: FastifyReply, done: () => void): void {
  request.body = recognizedParameters(request.body);
  done();
}

/** The OAuth error code of a problem this route answers (RFC 6749 5.2); the throw site may have set one already. */
type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'invalid_scope';

/**
 * onSend: a 400 or 401 problem gets `error` (invalid_request unless its throw site named another; invalid_client for
 * a 401), so a client reading RFC 6749's error response finds it. Other answers (413, 415, 429, 5xx) are not OAuth
 * errors and are left as they are.
 */
export function withOAuthError(_request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void): void {
  const status = reply.statusCode;
  if ((status !== 400 && status !== 401) || typeof payload !== 'string') {
    done(null, payload);
    return;
  }
  try {
    const problem = JSON.parse(payload) as Record<string, unknown>;
    if (typeof problem.error !== 'string') {
      const error: OAuthErrorCode = status === 401 ? 'invalid_client' : 'invalid_request';
      done(null, JSON.stringify({ ...problem, error }));
      return;
    }
  } catch {
    // Not JSON: left as it is.
  }
  done(null, payload);
}
