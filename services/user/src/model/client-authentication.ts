// How a client proves itself at the token endpoint (RFC 6749 2.3.1): HTTP Basic with its id and secret, which the
// RFC says the server MUST support, or both in the request body. One method per request.
import { BadRequest, ProblemError, containsUnstorableText } from '@ecommerce/kit';

/** The challenge of a client that must authenticate (RFC 6749 5.2, RFC 7617). */
export const CLIENT_CHALLENGE = 'Basic realm="ecommerce-services", charset="UTF-8"';

/** 401 for a client that did not prove itself: no credentials, malformed ones, an unknown id or a wrong secret. */
export function invalidClient(detail = 'Invalid client credentials'): ProblemError {
  return new ProblemError(401, 'unauthorized', 'Unauthorized', detail, {}, { 'www-authenticate': CLIENT_CHALLENGE });
}

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** The schema's bounds for the body's fields, applied to the header's too. */
const MAX_ID = 64;
const MAX_SECRET = 256;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One part of the Basic pair: application/x-www-form-urlencoded before base64 (RFC 6749 2.3.1), so `+` is a space. */
function formDecoded(part: string): string | null {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

/**
 * The client's id and secret from `Authorization: Basic ...`; undefined when no Authorization header was sent.
 * Anything else in that header (another scheme, bad base64, not UTF-8, no colon, an empty or too long part, a NUL) is a
 * failed authentication, the same 401 as a wrong secret.
 */
function basicCredentials(header: string | undefined): ClientCredentials | undefined {
  if (header === undefined) return undefined;
  const match = /^Basic +(\S+) *$/i.exec(header);
  const encoded = match?.[1];
  if (!encoded || encoded.length % 4 !== 0 || !BASE64.test(encoded)) throw invalidClient('Client credentials must be HTTP Basic: base64 of id:secret');
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(encoded, 'base64'));
  } catch {
    throw invalidClient('Client credentials must be UTF-8');
  }
  const colon = decoded.indexOf(':');
  const clientId = colon > 0 ? formDecoded(decoded.slice(0, colon)) : null;
  const clientSecret = colon > 0 ? formDecoded(decoded.slice(colon + 1)) : null;
  if (!clientId || !clientSecret || clientId.length > MAX_ID || clientSecret.length > MAX_SECRET) throw invalidClient('Client credentials must be HTTP Basic: base64 of id:secret');
  // A header is not walked by the kit's NUL guard like a body is: a NUL in the id (`%00`) reached PostgreSQL, a 500.
  if (containsUnstorableText([clientId, clientSecret])) throw invalidClient('Client credentials must not contain NUL characters');
  return { clientId, clientSecret };
}

/**
 * The credentials of a token request: from the Basic header or from the body, never both (RFC 6749 2.3: one
 * method per request). A body `client_id` beside Basic is allowed when it names the same client (some libraries
 * send it); a body secret beside Basic is a 400. Neither: 401 with the Basic challenge.
 */
export function clientCredentials(header: string | undefined, body: { client_id?: string | undefined; client_secret?: string | undefined }): ClientCredentials {
  const basic = basicCredentials(header);
  if (basic) {
    if (body.client_secret !== undefined) {
      throw new BadRequest('Send the client secret once: in the Authorization header or in the body, not both', [{ path: '/client_secret', message: 'must be absent with HTTP Basic client authentication' }]);
    }
    if (body.client_id !== undefined && body.client_id !== basic.clientId) {
      throw new BadRequest('client_id names another client than the Authorization header', [{ path: '/client_id', message: 'must match the HTTP Basic client id' }]);
    }
    return basic;
  }
  if (body.client_id === undefined || body.client_secret === undefined) throw invalidClient('Client authentication required: HTTP Basic, or client_id and client_secret in the body');
  return { clientId: body.client_id, clientSecret: body.client_secret };
}
