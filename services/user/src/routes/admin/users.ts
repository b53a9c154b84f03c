import { DEFAULT_PAGE_LIMIT, PageQuery, Page, Type, decodeIdCursor, type App } from '@ecommerce/kit';
import { listAccounts } from '../../use-cases/list-accounts.js';
import { UserSchema } from '../schemas.js';

export default async function userAdminRoutes(app: App): Promise<void> {
  app.get(
    '/user/users',
    {
      schema: {
        summary: 'List accounts (admin)',
        tags: ['users'],
        security: [{ bearer: [] }],
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(UserSchema) },
      },
    },
    async (request) => {
      return listAccounts(app, request.query.limit ?? DEFAULT_PAGE_LIMIT, decodeIdCursor(request.query.cursor));
    },
  );
}
