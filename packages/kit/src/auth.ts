import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { LRUCache } from 'lru-cache';
import { Forbidden, InsufficientScope, ServiceUnavailable, Unauthorized } from './errors.js';
import { ambiguousHeaderLines } from './header-lines.js';
import { isUuid } from './ids.js';

const ALGORITHMS = ['EdDSA', 'ES256'];
/** The `typ` header of every token the issuer signs, user and service alike (RFC 9068 2.1). */
const ACCESS_TOKEN_TYPE = 'at+jwt';
/** User access tokens and service tokens have different audiences, so neither is accepted where the other belongs. */
const SERVICE_AUDIENCE_SUFFIX = '-services';

export interface UserPrincipal {
  id: string;
  /** One of the Authenticator's `roles`. */
  role: string;
}
export interface ServicePrincipal {
  clientId: string;
  scopes: string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    user: UserPrincipal | null;
    serviceClient: ServicePrincipal | null;
  }
}

export interface AuthenticatorOptions {
  issuer: string;
  audience: string;
  /** Remote JWKS URL (services that verify another's tokens) or a local key set (the issuer itself). */
  jwks: URL | JSONWebKeySet | JWTVerifyGetKey;
  /** The roles a user token may carry; any other role is an invalid token. */
  roles: readonly string[];
}

/**
 * The issuer's key set could not be had: no answer, another status than 200 (a draining issuer's 503), a body cut off
 * (the issuer killed mid-answer) or not a key set. jose throws its generic JOSEError or JWKSInvalid for those, which
 * say nothing about the token (answered 401 "Invalid token" before, a client would drop a good session).
 */
function keySetUnavailable(err: unknown): boolean {
  return (
    err instanceof joseErrors.JWKSTimeout ||
    err instanceof joseErrors.JWKSInvalid ||
    (err instanceof joseErrors.JOSEError && err.code === joseErrors.JOSEError.code) ||
    (err instanceof TypeError && /fetch/i.test(err.message))
  );
}

/** After a failed refetch, how long tokens are verified with the keys last published before the issuer is asked again. */
const ISSUER_RETRY_MS = 30_000;

/**
 * With no key set had yet (a verifier started before the issuer) and the issuer not answering, how long tokens are
 * answered 503 (Retry-After: 1) before it is asked again: each token asked it, a connection per request.
 */
const FIRST_FETCH_RETRY_MS = 1_000;

/** How long a fetched key set is used before it is fetched again, and how often an unknown kid may cause a refetch. */
const JWKS_MAX_AGE_MS = 10 * 60_000;
const JWKS_COOLDOWN_MS = 30_000;

/**
 * jose refetches a key set older than its cacheMaxAge before every verification and fails when the issuer does not
 * answer, cached keys or not: ten minutes after the last fetch, an issuer down (killed, restarting) made every token
 * not verified before a 503. The keys it last published verify meanwhile; it is asked again every ISSUER_RETRY_MS.
 *
 * All three durations (max age, unknown-kid cooldown, retry) are measured here on the monotonic clock: jose measures
 * its own on Date.now, so after the wall clock stepped back (NTP, a resumed VM) the cached set was kept, and a rotated
 * key refused with 401, for as long as the step. The set is reloaded explicitly when they run out.
 */
function keysLastPublishedWhileDown(remote: ReturnType<typeof createRemoteJWKSet>): JWTVerifyGetKey {
  // Built from the set jose holds when a refetch fails; dropped once the issuer answers again.
  let lastPublished: JWTVerifyGetKey | undefined;
  let retryAt = 0;
  // No key set ever had and the issuer not answering: its failure is answered again until noKeysUntil.
  let noKeysFailure: unknown;
  let noKeysUntil = 0;
  let fetchedAt = -Infinity;
  const reload = async () => {
    await remote.reload();
    fetchedAt = performance.now();
  };
  return async (header, token) => {
    if (lastPublished && performance.now() < retryAt) return lastPublished(header, token);
    if (performance.now() < noKeysUntil) throw noKeysFailure;
    try {
      if (performance.now() - fetchedAt >= JWKS_MAX_AGE_MS) await reload();
      let key;
      try {
        key = await remote(header, token);
      } catch (err) {
        if (!(err instanceof joseErrors.JWKSNoMatchingKey) || performance.now() - fetchedAt < JWKS_COOLDOWN_MS) throw err;
        await reload();
        key = await remote(header, token);
      }
      lastPublished = undefined;
      noKeysUntil = 0;
      return key;
    } catch (err) {
      if (!keySetUnavailable(err)) throw err;
      const jwks = remote.jwks();
      if (!jwks) {
        noKeysFailure = err;
        noKeysUntil = performance.now() + FIRST_FETCH_RETRY_MS;
        throw err;
      }
      lastPublished = createLocalJWKSet(jwks);
      retryAt = performance.now() + ISSUER_RETRY_MS;
      return lastPublished(header, token);
    }
  };
}

/**
 * The longest a token may live by its `iat`, whatever its `exp` says: the issuer signs none for longer
 * (ACCESS_TOKEN_TTL_SECONDS and SERVICE_TOKEN_TTL_SECONDS take this as their maximum). Given it, jose also refuses an `iat`
 * in the future beyond the clock tolerance (RFC 7519 4.1.6: when the token was issued), which it accepts otherwise: a
 * token claiming to be issued tomorrow lived until tomorrow plus its lifetime.
 */
export const MAX_TOKEN_AGE_SECONDS = 3600;
/** Clock skew allowed between the issuer and a verifier, on `exp`, `nbf` and `iat` alike. */
const CLOCK_TOLERANCE_SECONDS = 5;

/**
 * One part of a JWS compact serialization (RFC 7515 2 and 7.1): base64url without padding, in its one spelling (RFC
 * 4648 3.5: the bits past the last byte are zero, so 2 characters of a last group end in A, Q, g or w, 3 end in one of
 * every fourth letter; a length of 1 mod 4 is no bytes at all).
 */
const JWS_PART = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?$/;

/** Three non-empty parts (header, payload, signature), each as JWS_PART: the only spelling of a signed JWT. */
function isCompactJws(token: string): boolean {
  const parts = token.split('.');
  return parts.length === 3 && parts.every((part) => part.length > 0 && JWS_PART.test(part));
}

/** How many verified tokens are remembered; a token string maps to its verified claims until it expires. */
const VERIFIED_CACHE_SIZE = 10_000;

export class Authenticator {
  private readonly getKey: JWTVerifyGetKey;
  private readonly roles: readonly string[];
  // Clients send the same token for its whole life (15 min), so a signature is checked once, not per request.
  // Only successful verifications are kept, each until its own `exp`, least recently used first out.
  private readonly verified = new LRUCache<string, { audience: string; payload: JWTPayload }>({ max: VERIFIED_CACHE_SIZE });

  constructor(private readonly opts: AuthenticatorOptions) {
    this.roles = opts.roles;
    if (opts.jwks instanceof URL) {
      // jose caches the set and times out after 5 s. When to fetch it again (its age, an unknown kid) is decided by
      // keysLastPublishedWhileDown alone: jose's own refetch on an unknown kid came on top of it, two fetches per
      // cooldown where one was meant, so jose is told its set never ages.
      this.getKey = keysLastPublishedWhileDown(createRemoteJWKSet(opts.jwks, { cooldownDuration: Infinity, cacheMaxAge: Infinity, timeoutDuration: 5_000 }));
    } else if (typeof opts.jwks === 'function') {
      this.getKey = opts.jwks;
    } else {
      this.getKey = createLocalJWKSet(opts.jwks);
    }
  }

  get serviceAudience(): string {
    return this.opts.audience + SERVICE_AUDIENCE_SUFFIX;
  }

  async verify(token: string, audience: string): Promise<JWTPayload> {
    const hit = this.verified.get(token);
    if (hit && hit.audience === audience) return hit.payload;
    // Before the signature (a cached token passed it already: nothing else is cached): jose decodes base64url
    // leniently, so each token had other spellings it took (its signature with `=` padding, or with another last
    // character that decodes to the same bytes), each a cache entry and a signature check of its own.
    if (!isCompactJws(token)) throw new Unauthorized('Invalid token', true);
    const payload = await this.verifySignature(token, audience);
    // jose allows 5 s of clock skew past `exp`; such a token is served but not remembered (a ttl of 0 means forever).
    // Nor is one remembered past its maximum age, which may come before its `exp`.
    const ttl = Math.min(payload.exp ?? 0, (payload.iat ?? 0) + MAX_TOKEN_AGE_SECONDS) * 1000 - Date.now();
    if (ttl > 0) this.verified.set(token, { audience, payload }, { ttl });
    return payload;
  }

  private async verifySignature(token: string, audience: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, this.getKey, {
        algorithms: ALGORITHMS,
        issuer: this.opts.issuer,
        audience,
        // RFC 9068 4 (and RFC 8725 3.11): an access token says so in its header; a JWT of another kind signed with
        // the same key (an ID token, a JWT refresh token some day) is not taken for one.
        typ: ACCESS_TOKEN_TYPE,
        requiredClaims: ['sub', 'exp', 'iat'],
        maxTokenAge: MAX_TOKEN_AGE_SECONDS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      });
      return payload;
    } catch (err) {
      if (keySetUnavailable(err)) {
        throw new ServiceUnavailable('The token issuer cannot be reached to verify the token');
      }
      if (err instanceof joseErrors.JOSEError) throw new Unauthorized(err instanceof joseErrors.JWTExpired ? 'Token expired' : 'Invalid token', true);
      throw err;
    }
  }

  /** preHandler: a valid user access token, optionally with one of the given roles. */
  user(...roles: string[]): preHandlerAsyncHookHandler {
    return async (request, reply) => {
      privateAnswer(reply);
      const payload = await this.verify(bearer(request), this.opts.audience);
      const role = payload.role;
      if (typeof role !== 'string' || !this.roles.includes(role)) throw new Unauthorized('Invalid token', true);
      // User ids are UUIDs; a signed token naming anything else (a key leak, another issuer's format) is
      // refused here, before it reaches a uuid column and turns into a 500.
      if (!isUuid(payload.sub)) throw new Unauthorized('Invalid token', true);
      request.user = { id: payload.sub.toLowerCase(), role };
      if (roles.length && !roles.includes(role)) throw new Forbidden();
    };
  }

  /** preHandler: a valid service token (client-credentials grant) carrying the scope. */
  service(scope: string): preHandlerAsyncHookHandler {
    return async (request, reply) => {
      privateAnswer(reply);
      const payload = await this.verify(bearer(request), this.serviceAudience);
      const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
      request.serviceClient = { clientId: String(payload.sub), scopes };
      if (!scopes.includes(scope)) throw new InsufficientScope(scope);
    };
  }
}

/**
 * An answer for a token's bearer (their orders, their account, the user list) is kept by no cache, the browser's
 * own included: a shared computer's disk cache would otherwise hold it after sign-out. A route may still set its own.
 */
function privateAnswer(reply: FastifyReply): void {
  reply.header('cache-control', 'no-store');
}

// RFC 6750 2.1: credentials = "Bearer" 1*SP b64token (the scheme in any case, one or more spaces; Basic at the
// token endpoint takes as many). One space only refused `Bearer  <token>` from clients that pad.
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i;

/** "Bearer" and then something: a token was sent, whatever its shape. */
const BEARER_SENT = /^Bearer\s+\S/i;

function bearer(request: FastifyRequest): string {
  // Checked here too, not only by the request guards (preParsing): routes check tokens onRequest, before them, and a
  // token judged from the first of two Authorization lines (Node drops the second) must not be answered for.
  const ambiguous = ambiguousHeaderLines(request.raw.rawHeaders);
  if (ambiguous) throw ambiguous;
  const header = request.headers.authorization;
  const m = typeof header === 'string' ? BEARER.exec(header.trim()) : null;
  if (m?.[1]) return m[1];
  // RFC 6750 3: no Bearer credentials, a bare challenge; something sent as one that cannot be a token (`h=.p.s`, two
  // tokens, a tab), `invalid_token` like any other token refused, rather than "a token is required".
  if (typeof header === 'string' && BEARER_SENT.test(header.trim())) throw new Unauthorized('Invalid token: the Authorization header must be Bearer, a space and one token', true);
  throw new Unauthorized('A Bearer token is required');
}
