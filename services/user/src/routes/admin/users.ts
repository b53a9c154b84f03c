import { DEFAULT_PAGE_LIMIT, PageQuery, Page, Type, Unauthorized, decodeCursor, pageOf, type App } from '@ecommerce/kit';
import { getUser, listUsers, toUser } from '../accounts.js';
import type { UserDeps } from '../app.js';
import { UserSchema } from './schemas.js';

export function userRoutes(app: App, deps: UserDeps): void {
  const { db, auth } = deps;

  app.get(
    '/user/me',
    {
      onRequest: auth.user(),
      schema: { summary: 'The caller’s account', tags: ['users'], security: [{ bearer: [] }], response: { 200: UserSchema } },
    },
    async (request) => {
      try {
        return await getUser(db, request.user!.id);
      } catch {
        throw new Unauthorized('Account no longer exists');
      }
    },
  );

  app.get(
    '/user/users',
    {
      onRequest: auth.user('admin'),
      schema: {
        summary: 'List accounts (admin)',
        tags: ['users'],
        security: [{ bearer: [] }],
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(UserSchema) },
      },
    },
    async (request) => {
      const after = decodeCursor(request.query.cursor, 1);
      if (after && !/^[0-9a-f-]{36}$/.test(String(after[0]))) decodeCursor('!', 1);
      const limit = request.query.limit ?? DEFAULT_PAGE_LIMIT;
      const rows = await listUsers(db, limit, after ? String(after[0]) : null);
      return pageOf(rows, limit, (r) => [r.id], toUser);
    },
  );
}
