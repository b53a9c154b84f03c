import { BadRequest, Type, uuidv7, type App } from '@ecommerce/kit';
import { authenticateClient } from '../service-clients.js';
import { signToken } from '../signing-key.js';
import type { UserDeps } from '../app.js';
import { noStore } from './accounts.js';

export function tokenRoutes(app: App, deps: UserDeps): void {
  const { db, key, config, auth, limiter } = deps;

  app.get(
    '/user/.well-known/jwks.json',
    { schema: { summary: 'Public keys that verify every token this service signs', tags: ['keys'] } },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return key.jwks;
    },
  );

  app.post(
    '/user/oauth/token',
    {
      schema: {
        summary: 'OAuth 2.0 client-credentials grant: a service token',
        tags: ['keys'],
        body: Type.Object(
          {
            grant_type: Type.String({ minLength: 1, maxLength: 64 }),
            client_id: Type.String({ minLength: 1, maxLength: 64 }),
            client_secret: Type.String({ minLength: 1, maxLength: 256 }),
            scope: Type.Optional(Type.String({ maxLength: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ access_token: Type.String(), token_type: Type.Literal('Bearer'), expires_in: Type.Integer(), scope: Type.String() }),
        },
      },
      onRequest: noStore,
      // Each call checks a client secret with argon2: a budget per caller address (TOKEN_MAX_PER_ADDRESS).
      preHandler: async (request) => limiter.hit('token', request.ip),
    },
    async (request) => {
      const body = request.body;
      if (body.grant_type !== 'client_credentials') {
        throw new BadRequest('Only grant_type=client_credentials is supported', [{ path: '/grant_type', message: 'must be client_credentials' }]);
      }
      const allowed = await authenticateClient(db, body.client_id, body.client_secret);
      const requested = body.scope ? body.scope.split(' ').filter(Boolean) : allowed;
      const denied = requested.filter((s) => !allowed.includes(s));
      if (denied.length) throw new BadRequest(`Scope not allowed for this client: ${denied.join(' ')}`, [{ path: '/scope', message: 'contains a scope the client may not have' }]);
      request.serviceClient = { clientId: body.client_id, scopes: requested };
      const token = await signToken(key, { scope: requested.join(' ') }, {
        subject: body.client_id,
        issuer: config.JWT_ISSUER,
        audience: auth.serviceAudience,
        ttlSeconds: config.SERVICE_TOKEN_TTL_SECONDS,
        jti: uuidv7(),
        typ: 'at+jwt',
      });
      return { access_token: token, token_type: 'Bearer' as const, expires_in: config.SERVICE_TOKEN_TTL_SECONDS, scope: requested.join(' ') };
    },
  );
}
