import { Type, VisibleText, type App } from '@ecommerce/kit';
import { refuseGuessablePassword, register } from '../../use-cases/register.js';
import { Email, Password, UserSchema } from '../schemas.js';

export default async function accountRoutes(app: App): Promise<void> {
  app.post(
    '/user/register',
    {
      schema: {
        summary: 'Register a customer account',
        tags: ['accounts'],
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
    async (request, reply) => reply.code(201).send(await register(app, request.body)),
  );
}
