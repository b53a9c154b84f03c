import { DEFAULT_PAGE_LIMIT, PageQuery, Page, Type, decodeIdCursor, type App } from '@ecommerce/kit';
import { getProduct } from '../../use-cases/get-product.js';
import { listProducts } from '../../use-cases/list-products.js';
import { Category, IdParams, ProductSchema, strict } from '../schemas.js';
import { etag } from '../version-headers.js';

export default async function catalogRoutes(app: App): Promise<void> {
  app.get(
    '/product',
    {
      schema: {
        summary: 'List the catalog (keyset pages; q searches name and description by word prefix; category filters exactly)',
        tags: ['products'],
        querystring: Type.Object(
          { ...PageQuery, q: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), category: Type.Optional(Category) },
          strict,
        ),
        response: { 200: Page(ProductSchema) },
      },
    },
    async (request) => {
      const { limit = DEFAULT_PAGE_LIMIT, cursor, q, category } = request.query;
      return listProducts(app, { limit, afterId: decodeIdCursor(cursor), q, category });
    },
  );

  app.get(
    '/product/:id',
    { schema: { summary: 'One product (404 for unknown, archived or malformed ids)', tags: ['products'], params: IdParams, response: { 200: ProductSchema } } },
    async (request, reply) => {
      const product = await getProduct(app, request.params.id);
      return reply.header('etag', etag(product)).send(product);
    },
  );
}
