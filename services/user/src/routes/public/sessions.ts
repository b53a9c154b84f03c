import { Type, TooManyRequests, Unauthorized, uuidv7, type App } from '@ecommerce/kit';
import { findUserByEmail, normalizeEmail, registerUser, toUser } from '../accounts.js';
import { burnPasswordCheck, verifyPassword } from '../passwords.js';
import { issueRefreshToken, revokeRefreshToken, rotateRefreshToken } from '../sessions.js';
import { signToken } from '../signing-key.js';
import { clearRefreshCookie, refreshTokenOf, setRefreshCookie } from '../refresh-cookie.js';
import type { UserDeps } from '../app.js';
import { Email, Password, RefreshToken, RefreshTokenIn, TokenPair, UserSchema } from './schemas.js';

const strict = { additionalProperties: false } as const;

/** onRequest hook: token answers are never kept by a cache (RFC 6749 5.1), errors included, so it runs before anything can fail. */
export async function noStore(_request: unknown, reply: { header(name: string, value: string): unknown }): Promise<void> {
  reply.header('cache-control', 'no-store');
  reply.header('pragma', 'no-cache');
}

export function accountRoutes(app: App, deps: UserDeps): void {
  const { db, config, key, throttle, limiter } = deps;
  const registered = app.metrics.counter('users_registered_total', 'Accounts registered.');
  const logins = app.metrics.counter('user_logins_total', 'Login attempts by result.', ['result'], [
    { result: 'success' },
    { result: 'invalid_credentials' },
    { result: 'rate_limited' },
  ]);

  async function tokenPair(userId: string, role: string, familyId?: string) {
    const accessToken = await signToken(key, { role }, {
      subject: userId,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      jti: uuidv7(),
      typ: 'at+jwt',
    });
    const refresh = familyId ? undefined : await issueRefreshToken(db, userId, config.REFRESH_TOKEN_TTL_SECONDS);
    return { accessToken, tokenType: 'Bearer' as const, expiresIn: config.ACCESS_TOKEN_TTL_SECONDS, refreshToken: refresh?.token ?? '' };
  }

  app.post(
    '/user/register',
    {
      schema: {
        summary: 'Register a customer account',
        tags: ['accounts'],
        body: Type.Object({ email: Email, password: Password, name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }) }, strict),
        response: { 201: UserSchema },
      },
      // Each registration costs an argon2 hash: a budget per client address (REGISTER_MAX_PER_ADDRESS).
      preHandler: async (request) => limiter.hit('register', request.ip),
    },
    async (request, reply) => {
      const user = await registerUser(db, request.body);
      registered.inc();
      return reply.code(201).send(user);
    },
  );

  app.post(
    '/user/login',
    {
      schema: {
        summary: 'Log in with email and password',
        tags: ['accounts'],
        body: Type.Object({ email: Email, password: Password, refreshTokenIn: Type.Optional(RefreshTokenIn) }, strict),
        response: { 200: TokenPair },
      },
      onRequest: noStore,
    },
    async (request, reply) => {
      const email = normalizeEmail(request.body.email);
      // Every attempt, right or wrong, costs an argon2 hash: a request budget per address first.
      try {
        await limiter.hit('login', request.ip);
      } catch (err) {
        logins.inc({ result: 'rate_limited' });
        throw err;
      }
      const locked = await throttle.lockedFor(email, request.ip);
      if (locked > 0) {
        logins.inc({ result: 'rate_limited' });
        throw new TooManyRequests(locked, 'Too many failed logins for this account from this address, or from this address; try again later');
      }
      const row = await findUserByEmail(db, email);
      // Unknown email and wrong password take the same path, time and answer.
      const ok = row ? await verifyPassword(row.password_hash, request.body.password) : (await burnPasswordCheck(request.body.password), false);
      if (!row || !ok) {
        await throttle.recordFailure(email, request.ip);
        logins.inc({ result: 'invalid_credentials' });
        throw new Unauthorized('Email or password is wrong');
      }
      await throttle.recordSuccess(email, request.ip);
      logins.inc({ result: 'success' });
      request.user = { id: row.id, role: row.role };
      const pair = await tokenPair(row.id, toUser(row).role);
      if (request.body.refreshTokenIn !== 'cookie') return pair;
      setRefreshCookie(reply, pair.refreshToken, config.REFRESH_TOKEN_TTL_SECONDS);
      return { ...pair, refreshToken: undefined };
    },
  );

  app.post(
    '/user/token/refresh',
    {
      schema: {
        summary: 'Exchange a refresh token for a new token pair (the old one is spent)',
        tags: ['accounts'],
        body: Type.Object({ refreshToken: Type.Optional(RefreshToken) }, { ...strict, description: 'refreshToken may be left out when the refresh cookie is sent' }),
        response: { 200: TokenPair },
      },
      onRequest: noStore,
      preHandler: async (request) => limiter.hit('token', request.ip),
    },
    async (request, reply) => {
      const { token, via } = refreshTokenOf(request, request.body.refreshToken);
      const { userId, next } = await rotateRefreshToken(db, token, config.REFRESH_TOKEN_TTL_SECONDS).catch((err: unknown) => {
        if (via === 'cookie') clearRefreshCookie(reply);
        throw err;
      });
      const user = (await db.query<{ role: string }>('user_role', 'SELECT role FROM users WHERE id = $1', [userId])).rows[0];
      if (!user) throw new Unauthorized('Account no longer exists');
      const pair = await tokenPair(userId, user.role, next.familyId);
      if (via === 'body') return { ...pair, refreshToken: next.token };
      setRefreshCookie(reply, next.token, config.REFRESH_TOKEN_TTL_SECONDS);
      return { ...pair, refreshToken: undefined };
    },
  );

  app.post(
    '/user/logout',
    {
      schema: {
        summary: 'Revoke the session of a refresh token',
        tags: ['accounts'],
        body: Type.Object({ refreshToken: Type.Optional(RefreshToken) }, { ...strict, description: 'refreshToken may be left out when the refresh cookie is sent' }),
        response: { 204: Type.Null() },
      },
      onRequest: noStore,
    },
    async (request, reply) => {
      const { token, via } = refreshTokenOf(request, request.body.refreshToken);
      // The browser forgets the cookie whether or not the session was still live.
      if (via === 'cookie') clearRefreshCookie(reply);
      await revokeRefreshToken(db, token);
      return reply.code(204).send(null);
    },
  );
}
