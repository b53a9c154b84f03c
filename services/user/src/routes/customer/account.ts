import type { App } from '@ecommerce/kit';
import { getAccount } from '../../use-cases/get-account.js';
import { UserSchema } from '../schemas.js';

export default async function ownAccountRoutes(app: App): Promise<void> {
  app.get(
    '/user/me',
    { schema: { summary: 'The caller’s account', tags: ['users'], security: [{ bearer: [] }], response: { 200: UserSchema } } },
    async (request) => getAccount(app, request.user!.id),
  );
}
