import { Uuid } from '@ecommerce/contracts';
import { DEFAULT_PAGE_LIMIT, PageQuery, Page, Type, decodeIdCursor, type App } from '@ecommerce/kit';
import { listAccounts } from '../../use-cases/list-accounts.js';
import { Email, UserSchema } from '../schemas.js';

/** At most a page of ids: the customers of one page of orders (PageQuery's limit is at most 100). */
const MAX_IDS = 100;

const UsersQuery = Type.Object(
  {
    ...PageQuery,
    id: Type.Optional(
      Type.Array(Uuid, {
        minItems: 1,
        maxItems: MAX_IDS,
        description: `only the accounts with these ids (repeat the parameter: ?id=a&id=b; at most ${MAX_IDS}); ids that name no account are not in the page`,
      }),
    ),
    email: Type.Optional({ ...Email, description: 'only the account with this email (exact, in any letter case); none when no account has it' }),
  },
  { additionalProperties: false },
);

export default async function userAdminRoutes(app: App): Promise<void> {
  app.get(
    '/user/users',
    {
      schema: {
        summary: 'List accounts (admin)',
        description: 'Every account, or only those of `?id=` (a batch: the customers of a page of orders) or `?email=` (exact); an id or email that names no account is not in the page.',
        tags: ['users'],
        security: [{ bearer: [] }],
        querystring: UsersQuery,
        response: { 200: Page(UserSchema) },
      },
    },
    async (request) => {
      const { limit = DEFAULT_PAGE_LIMIT, cursor, id, email } = request.query;
      return listAccounts(app, limit, decodeIdCursor(cursor), { ids: id, email });
    },
  );
}
