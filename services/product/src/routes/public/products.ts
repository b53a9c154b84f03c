import { Readable } from 'node:stream';
import { DEFAULT_PAGE_LIMIT, PageQuery, Page, TextPageQuery, Type, decodeIdCursor, decodeTextCursor, type App } from '@ecommerce/kit';
import { getProduct } from '../../use-cases/get-product.js';
import { listCategories } from '../../use-cases/list-categories.js';
import { listProducts } from '../../use-cases/list-products.js';
import { CATEGORY_KEY_MAX_BYTES, CategoryFilter, ETagHeader, IdParams, ProductResponse, ProductSchema, ReadConditionHeaders, strict } from '../schemas.js';
import { conditionFailed, meetsCondition } from '../../model/version-condition.js';
import { EVALUATES_ENTITY_TAGS, etag, expectedVersions, holdsCurrentVersion } from '../version-headers.js';

export default async function catalogRoutes(app: App): Promise<void> {
  app.get(
    '/product',
    {
      schema: {
        summary: 'List the catalog (keyset pages; q searches name and description by word prefix; category filters exactly)',
        tags: ['products'],
        querystring: Type.Object(
          { ...PageQuery, q: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), category: Type.Optional(CategoryFilter) },
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
    '/product/categories',
    {
      schema: {
        summary: "The live catalog's categories, each once, in order (keyset pages): what GET /product's category filter takes",
        tags: ['products'],
        // Its cursor holds a category, longer than an id: up to 2,822 characters for 64 code points of U+FDFA.
        querystring: Type.Object(TextPageQuery(CATEGORY_KEY_MAX_BYTES), strict),
        response: { 200: Page(Type.String({ description: 'a category in Unicode NFKC, the form that stands for all its spellings' })) },
      },
    },
    async (request) => {
      const { limit = DEFAULT_PAGE_LIMIT, cursor } = request.query;
      return listCategories(app, { limit, after: decodeTextCursor(cursor) });
    },
  );

  app.get(
    '/product/:id',
    { config: EVALUATES_ENTITY_TAGS, schema: { summary: 'One product (404 for unknown, archived or malformed ids); If-None-Match: 304 when it holds the version, If-Match: 412 when it holds none', tags: ['products'], params: IdParams, headers: ReadConditionHeaders, response: { 200: ProductResponse, 304: Type.Null({ description: 'Not modified: If-None-Match holds the current version', headers: ETagHeader }) } } },
    async (request, reply) => {
      const product = await getProduct(app, request.params.id);
      reply.header('etag', etag(product));
      // RFC 9110 13.2.2: If-Match first, on a GET too (13.1.1: a server must not perform the method when it fails).
      const ifMatch = { ifMatch: expectedVersions(request.headers['if-match']), ifNoneMatch: null };
      if (!meetsCondition(ifMatch, product.version)) throw conditionFailed(ifMatch, product.version);
      // The ETag is a validator, so a client holding this version is told so (it was sent the product again).
      // No payload at all (not null, which the schema would serialize to "null" with a Content-Length of 4): a 304
      // has no body, and a client such as the gateway's refuses a length that does not match it. An empty stream, not
      // undefined: Fastify's HEAD route writes `Content-Length: 0` for an undefined payload, which a 304 must not carry
      // (RFC 9110 8.6: only the length of the 200's content); a stream it drains and sends no length for.
      if (holdsCurrentVersion(request.headers['if-none-match'], product)) return reply.code(304).send(Readable.from([]) as unknown as null);
      return reply.send(product);
    },
  );
}
