import { IdempotencyKey, Type, VisibleText, type App } from '@ecommerce/kit';
import { refuseGuessablePassword, register } from '../../use-cases/register.js';
import { Email, Password, UserSchema } from '../schemas.js';

export default async function accountRoutes(app: App): Promise<void> {
  app.post(
    '/user/register',
    {
      schema: {
        summary: 'Register a customer account',
        tags: ['accounts'],
        headers: Type.Object({
          'idempotency-key': Type.Optional(IdempotencyKey({
            description: 'Names this registration: sent again with the same key and body (a retry after a lost answer), it answers 201 with the account it made and creates nothing; with another body, 422 idempotency-key-reused. Remembered REGISTER_KEY_RETENTION_HOURS (24)',
          })),
        }),
        body: Type.Object({ email: Email, password: Password, name: VisibleText(100) }, { additionalProperties: false }),
        response: { 201: UserSchema },
      },
      config: { budgeted: true },
      // Each registration costs an argon2 hash: a budget per client address (REGISTER_MAX_PER_ADDRESS). A password
      // refused as too easy to guess costs none, so it is refused before it counts.
      preHandler: async (request) => {
        refuseGuessablePassword(request.body);
        await app.rateLimiter.hit('register', request.ip);
      },
    },
    // An Idempotency-Key makes a retry after a lost answer safe: the account it made, not 409 email-taken (the use case).
    async (request, reply) => reply.code(201).send(await register(app, request.body, request.headers['idempotency-key'])),
  );
}
