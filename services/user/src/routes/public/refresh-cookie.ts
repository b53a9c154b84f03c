// The refresh token as a cookie, for browser apps (OAuth 2.0 for Browser-Based Apps): the storefront keeps its
// access token in memory and never sees the refresh token. Asked for with `refreshTokenIn: "cookie"` at login;
// refresh and logout then read it from the cookie. Other clients keep the JSON flow unchanged.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BadRequest, ProblemError } from '@ecommerce/kit';

/** `__Secure-` makes browsers refuse the cookie unless it is set Secure (browsers treat 127.0.0.1/localhost as secure). */
const REFRESH_COOKIE = '__Secure-refresh-token';
/**
 * One copy per path that takes it, so the browser sends it to those two endpoints only (a cookie has one Path,
 * and the two routes share no prefix below /user). Both copies always carry the same token.
 */
const REFRESH_COOKIE_PATHS = ['/user/token/refresh', '/user/logout'] as const;

export type RefreshTokenIn = 'body' | 'cookie';

function cookieLines(value: string, maxAgeSeconds: number): string[] {
  return REFRESH_COOKIE_PATHS.map((path) => `${REFRESH_COOKIE}=${value}; Path=${path}; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Strict`);
}

/** Sets the cookie (token is base64url: no quoting needed) and keeps the response from any cache. */
export function setRefreshCookie(reply: FastifyReply, token: string, ttlSeconds: number): void {
  reply.header('set-cookie', cookieLines(token, ttlSeconds));
  reply.header('cache-control', 'no-store');
}

export function clearRefreshCookie(reply: FastifyReply): void {
  reply.header('set-cookie', cookieLines('', 0));
}

/**
 * The refresh token from the Cookie header, if the browser sent one. This service sets one cookie per path, host-only,
 * so a request to either path carries one: a second of the same name with another value was set by someone else (a
 * sibling subdomain's `Domain=` cookie, "cookie tossing"), and the browser may send it first. Taking the first would
 * sign the shopper into that cookie's session (or, when it is garbage, clear theirs with the 401); neither is taken.
 */
function refreshTokenFromCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  let found: string | undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0 || part.slice(0, eq).trim() !== REFRESH_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    if (value === '' || value === found) continue;
    if (found !== undefined) {
      throw new ProblemError(
        400,
        'ambiguous-refresh-cookie',
        'More than one refresh cookie',
        `The request carries two different ${REFRESH_COOKIE} cookies; this service sets one, so the other was set by another site (a parent domain's cookie). Neither is used: sign in again, and remove the other cookie`,
      );
    }
    found = value;
  }
  return found;
}

/**
 * Where this call's refresh token comes from: the body when it has one (the JSON flow), else the cookie.
 * A cookie is only honoured on an `application/json` request: a cross-site form cannot send that type without
 * a CORS preflight, which this service never grants (CSRF defence on top of SameSite=Strict).
 */
export function refreshTokenOf(request: FastifyRequest, fromBody: string | undefined): { token: string; via: RefreshTokenIn } {
  if (fromBody !== undefined) return { token: fromBody, via: 'body' };
  const fromCookie = refreshTokenFromCookie(request);
  if (fromCookie === undefined) {
    throw new BadRequest('refreshToken is required (in the body, or as the refresh cookie set at login with refreshTokenIn "cookie")', [
      { path: '/refreshToken', message: 'is required' },
    ]);
  }
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new ProblemError(415, 'unsupported-media-type', 'Unsupported media type', 'A refresh cookie is accepted on application/json requests only');
  }
  return { token: fromCookie, via: 'cookie' };
}
