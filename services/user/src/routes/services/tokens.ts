import { USER_JWKS_PATH, USER_TOKEN_PATH } from '@ecommerce/contracts';
import { Type, type App, type Static } from '@ecommerce/kit';
import { CLIENT_CHALLENGE, clientCredentials } from '../../model/client-authentication.js';
import { issueServiceToken } from '../../use-cases/issue-service-token.js';
import { noStore } from '../no-store.js';
import { keepRecognizedParameters, withOAuthError } from './oauth-request.js';

/**
 * A published key: the public members of an Ed25519 (OKP) or P-256 (EC) key, as model/signing-key.ts exports them.
 * Declared, the document says what a verifier gets, and the serializer writes these members only: never a private one.
 */
const PublicJwk = Type.Object({
  kty: Type.Union([Type.Literal('OKP'), Type.Literal('EC')]),
  crv: Type.Union([Type.Literal('Ed25519'), Type.Literal('P-256')]),
  x: Type.String(),
  y: Type.Optional(Type.String({ description: 'EC (P-256) keys only' })),
  kid: Type.String({ description: 'the key\'s RFC 7638 thumbprint, the kid of the tokens it signs' }),
  alg: Type.Union([Type.Literal('EdDSA'), Type.Literal('ES256')]),
  use: Type.Literal('sig'),
});
const JwkSet = Type.Object({ keys: Type.Array(PublicJwk, { minItems: 1 }) }, { title: 'JWKS' });

export default async function tokenRoutes(app: App): Promise<void> {
  app.get(
    USER_JWKS_PATH,
    {
      schema: {
        summary: 'Public keys that verify every token this service signs',
        description: 'A JWK Set (RFC 7517): the signing key and the further keys of `JWT_PUBLIC_KEYS` (a rotation), public members only.',
        tags: ['keys'],
        response: { 200: JwkSet },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      // jose types a JWK's members as any string; signing-key.ts publishes only the ones above.
      return app.tokenIssuer.jwks as Static<typeof JwkSet>;
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
        // The form RFC 6749 4.4.2 asks for, or JSON (form-body.ts reads the form into the same object).
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
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
      // Every 401 here is a client that did not prove itself: a Basic challenge (also in the OpenAPI document).
      config: { challenge: CLIENT_CHALLENGE, budgeted: true },
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
