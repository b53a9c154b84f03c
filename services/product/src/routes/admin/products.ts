import { DEFAULT_PAGE_LIMIT, BadRequest, Page, PageQuery, Type, decodeCursor, pageOf, type App } from '@ecommerce/kit';
import { adjustStock, archiveProduct, createProduct, getProduct, isUuid, listProducts, toProduct, updateProduct, type Product } from '../catalog.js';
import type { ProductDeps } from '../app.js';
import { Category, NewProductBody, ProductPatchBody, ProductSchema, StockBody, strict } from './schemas.js';

const IdParams = Type.Object({ id: Type.String() });
const admin = { tags: ['products'], security: [{ bearer: [] }] };
// Auth runs onRequest, before the body is parsed and validated: an anonymous caller learns 401, not the schema.

/** `If-Match: "<version>"` (or `*`, any version); anything else is a 400 rather than a silent unconditional write. */
function expectedVersion(header: string | undefined): number | null {
  if (header === undefined || header.trim() === '*') return null;
  const m = /^\s*(?:"(\d{1,9})"|(\d{1,9}))\s*$/.exec(header);
  if (!m) throw new BadRequest('If-Match must be the quoted product version, e.g. "3"', [{ path: 'headers/if-match', message: 'must be "<version>"' }]);
  return Number(m[1] ?? m[2]);
}

function etag(p: Product): string {
  return `"${p.version}"`;
}

export function productRoutes(app: App, deps: ProductDeps): void {
  const { db, auth, metrics } = deps;

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
      const after = decodeCursor(cursor, 1);
      if (after && !isUuid(after[0])) decodeCursor('!', 1);
      const rows = await listProducts(db, { limit, afterId: after ? String(after[0]) : null, q, category });
      return pageOf(rows, limit, (r) => [r.id], toProduct);
    },
  );

  app.get(
    '/product/:id',
    { schema: { summary: 'One product (404 for unknown, archived or malformed ids)', tags: ['products'], params: IdParams, response: { 200: ProductSchema } } },
    async (request, reply) => {
      const product = await getProduct(db, request.params.id);
      return reply.header('etag', etag(product)).send(product);
    },
  );

  app.post(
    '/product',
    {
      onRequest: auth.user('admin'),
      schema: { summary: 'Create a product (admin)', ...admin, body: NewProductBody, response: { 201: ProductSchema } },
    },
    async (request, reply) => {
      const product = await createProduct(db, request.body);
      return reply.code(201).header('etag', etag(product)).send(product);
    },
  );

  app.patch(
    '/product/:id',
    {
      onRequest: auth.user('admin'),
      schema: {
        summary: 'Update a product (admin); If-Match: "<version>" makes it conditional (412 on mismatch)',
        ...admin,
        params: IdParams,
        headers: Type.Object({ 'if-match': Type.Optional(Type.String({ maxLength: 100 })) }),
        body: ProductPatchBody,
        response: { 200: ProductSchema },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request.headers['if-match']);
      const product = await updateProduct(db, request.params.id, request.body, version);
      return reply.header('etag', etag(product)).send(product);
    },
  );

  app.post(
    '/product/:id/stock',
    {
      onRequest: auth.user('admin'),
      schema: {
        summary: 'Restock (positive delta) or remove unreserved units (negative delta) (admin)',
        ...admin,
        params: IdParams,
        body: StockBody,
        response: { 200: ProductSchema },
      },
    },
    async (request, reply) => {
      const product = await adjustStock(db, request.params.id, request.body.delta);
      if (product.stock === 0) metrics.stockouts.inc();
      return reply.header('etag', etag(product)).send(product);
    },
  );

  app.delete(
    '/product/:id',
    {
      onRequest: auth.user('admin'),
      schema: { summary: 'Archive a product (admin): hidden from the catalog, kept for old orders', ...admin, params: IdParams, response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      await archiveProduct(db, request.params.id);
      return reply.code(204).send(null);
    },
  );
}
