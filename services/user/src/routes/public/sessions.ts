import { IdempotencyKey, ProblemError, Type, clientGone, type App } from '@ecommerce/kit';
import { checkCredentials, startSession } from '../../use-cases/login.js';
import { logout } from '../../use-cases/logout.js';
import { refreshSession } from '../../use-cases/refresh-session.js';
import { Email, Password, RefreshToken, RefreshTokenIn, TokenPair } from '../schemas.js';
import { noStore } from '../no-store.js';
import { PASSWORD_CHALLENGE, REFRESH_TOKEN_CHALLENGE } from '../session-challenge.js';
import { clearRefreshCookie, refreshTokenOf, setRefreshCookie } from './refresh-cookie.js';

const strict = { additionalProperties: false } as const;
const RefreshBody = Type.Object({ refreshToken: Type.Optional(RefreshToken) }, { ...strict, description: 'refreshToken may be left out when the refresh cookie is sent' });

export default async function sessionRoutes(app: App): Promise<void> {
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
      config: { challenge: PASSWORD_CHALLENGE, budgeted: true },
    },
    async (request, reply) => {
      const user = await checkCredentials(app, { email: request.body.email, password: request.body.password, address: request.ip });
      request.user = { id: user.id, role: user.role };
      const { pair, refreshExpiresIn } = await startSession(app, user);
      if (request.body.refreshTokenIn !== 'cookie') return pair;
      setRefreshCookie(reply, pair.refreshToken, refreshExpiresIn);
      return { ...pair, refreshToken: undefined };
    },
  );

  app.post(
    '/user/token/refresh',
    {
      schema: {
        summary: 'Exchange a refresh token for a new token pair (the old one is spent)',
        tags: ['accounts'],
        headers: Type.Object({
          'idempotency-key': Type.Optional(IdempotencyKey({
            description: 'Names this refresh: sent again with the same token and key after a lost answer (within 120 s, while the token it issued is unused), it is answered with a new pair instead of ending the session as a reuse',
          })),
        }),
        body: RefreshBody,
        response: { 200: TokenPair },
      },
      onRequest: noStore,
      config: { challenge: REFRESH_TOKEN_CHALLENGE, budgeted: true },
      preHandler: async (request) => app.rateLimiter.hit('token', request.ip),
    },
    async (request, reply) => {
      const { token, via } = refreshTokenOf(request, request.body.refreshToken);
      // A token refused (401: unknown, spent, expired; docs/api.md) is dead: the browser forgets the cookie. A database that
      // cannot answer says nothing about the token: the cookie stays and the client retries after the 503.
      // A caller that closed its connection before the rotation commits keeps its token unspent (the use case).
      // An Idempotency-Key lets a client whose answer was lost send the same refresh again (the use case).
      const { pair, refreshExpiresIn } = await refreshSession(app, token, { gone: () => clientGone(request) }, request.headers['idempotency-key']).catch((err: unknown) => {
        if (via === 'cookie' && err instanceof ProblemError && err.status === 401) clearRefreshCookie(reply);
        throw err;
      });
      if (via === 'body') return pair;
      // The token's own lifetime: shorter than the TTL near the session's maximum age.
      setRefreshCookie(reply, pair.refreshToken, refreshExpiresIn);
      return { ...pair, refreshToken: undefined };
    },
  );

  app.post(
    '/user/logout',
    {
      schema: {
        summary: 'Revoke the session of a refresh token',
        tags: ['accounts'],
        body: RefreshBody,
        response: { 204: Type.Null() },
      },
      onRequest: noStore,
      config: { challenge: REFRESH_TOKEN_CHALLENGE },
    },
    async (request, reply) => {
      const { token, via } = refreshTokenOf(request, request.body.refreshToken);
      // The browser forgets the cookie once the session is ended or found not live (401), whichever. A database that
      // could not answer (503) ended nothing: the cookie stays, so the logout can be sent again (the web app keeps
      // the session and says so); cleared, nobody could end a session that stays live on the server.
      await logout(app, token).catch((err: unknown) => {
        if (via === 'cookie' && err instanceof ProblemError && err.status === 401) clearRefreshCookie(reply);
        throw err;
      });
      if (via === 'cookie') clearRefreshCookie(reply);
      return reply.code(204).send(null);
    },
  );
}
