import { USER_JWKS_PATH, USER_TOKEN_PATH } from '@ecommerce/contracts';
import { Type, type App } from '@ecommerce/kit';
import { clientCredentials } from '../../model/client-authentication.js';
import { issueServiceToken } from '../../use-cases/issue-service-token.js';
import { noStore } from '../no-store.js';
import { keepRecognizedParameters, withOAuthError } from './oauth-request.js';

export default async function tokenRoutes(app: App): Promise<void> {
  app.get(
    USER_JWKS_PATH,
    { schema: { summary: 'Public keys that verify every token this service signs', tags: ['keys'] } },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return app.tokenIssuer.jwks;
    },
  );

  app.post(
    USER_TOKEN_PATH,
    {
      schema: {
        summary: 'OAuth 2.0 client-credentials grant: a service token',
        description:
          'The client authenticates with HTTP Basic (`Authorization: Basic base64(client_id:client_secret)`, each part form-urlencoded first, RFC 6749 2.3.1) or with `client_id` and `client_secret` in the body; one method per request. A failed or missing client authentication is 401 with a Basic challenge. Parameters other than these four are ignored, and one sent with an empty value is as if omitted (RFC 6749 3.2, 3.1). A 400 or 401 names its OAuth error code in `error` (RFC 6749 5.2): `invalid_request`, `invalid_client`, `unsupported_grant_type`, `invalid_scope`.',
        tags: ['keys'],
        // HTTP Basic, or the credentials in the body (no scheme).
        security: [{ clientBasic: [] }, {}],
        body: Type.Object(
          {
            grant_type: Type.String({ minLength: 1, maxLength: 64 }),
            client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            client_secret: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
            scope: Type.Optional(Type.String({ maxLength: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ access_token: Type.String(), token_type: Type.Literal('Bearer'), expires_in: Type.Integer(), scope: Type.String() }),
        },
      },
      onRequest: noStore,
      preValidation: keepRecognizedParameters,
      onSend: withOAuthError,
      // Each call checks a client secret with argon2: a budget per caller address (TOKEN_MAX_PER_ADDRESS).
      preHandler: async (request) => app.rateLimiter.hit('token', request.ip),
    },
    async (request) => {
      const { body } = request;
      const { clientId, clientSecret } = clientCredentials(request.headers.authorization, body);
      const issued = await issueServiceToken(app, { grantType: body.grant_type, clientId, clientSecret, scope: body.scope });
      request.serviceClient = { clientId: issued.clientId, scopes: issued.scopes };
      return { access_token: issued.token, token_type: 'Bearer' as const, expires_in: issued.expiresIn, scope: issued.scopes.join(' ') };
    },
  );
}
