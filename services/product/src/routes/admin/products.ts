import { Type, type App } from '@ecommerce/kit';
import { adjustStock } from '../../use-cases/adjust-stock.js';
import { archiveProduct } from '../../use-cases/archive-product.js';
import { createProduct } from '../../use-cases/create-product.js';
import { updateProduct } from '../../use-cases/update-product.js';
import { ConditionHeaders, IdParams, NewProductBody, ProductPatchBody, ProductResponse, StockBody, StockHeaders } from '../schemas.js';
import { EVALUATES_ENTITY_TAGS, etag, versionCondition } from '../version-headers.js';

const admin = { tags: ['products'], security: [{ bearer: [] }] };

export default async function productAdminRoutes(app: App): Promise<void> {
  app.post(
    '/product',
    { schema: { summary: 'Create a product (admin)', ...admin, body: NewProductBody, response: { 201: ProductResponse } } },
    async (request, reply) => {
      const product = await createProduct(app, request.body);
      // Location: the new product's address (RFC 9110 §15.3.2), the same path through the gateway.
      return reply.code(201).header('etag', etag(product)).header('location', `/product/${product.id}`).send(product);
    },
  );

  app.patch(
    '/product/:id',
    {
      config: EVALUATES_ENTITY_TAGS,
      schema: {
        summary: 'Update a product (admin); If-Match: "<version>" (or If-None-Match) makes it conditional (412 on mismatch)',
        ...admin,
        params: IdParams,
        headers: ConditionHeaders,
        body: ProductPatchBody,
        response: { 200: ProductResponse },
      },
    },
    async (request, reply) => {
      const product = await updateProduct(app, request.params.id, request.body, versionCondition(request.headers));
      return reply.header('etag', etag(product)).send(product);
    },
  );

  app.post(
    '/product/:id/stock',
    {
      config: EVALUATES_ENTITY_TAGS,
      schema: {
        summary: 'Restock (positive delta) or remove unreserved units (negative delta) (admin); If-Match: "<version>" (or If-None-Match) makes it conditional (412 on mismatch)',
        ...admin,
        params: IdParams,
        headers: StockHeaders,
        body: StockBody,
        response: { 200: ProductResponse },
      },
    },
    async (request, reply) => {
      const product = await adjustStock(app, request.params.id, request.body.delta, request.headers['idempotency-key'], versionCondition(request.headers));
      return reply.header('etag', etag(product)).send(product);
    },
  );

  app.delete(
    '/product/:id',
    {
      config: EVALUATES_ENTITY_TAGS,
      schema: {
        summary: 'Archive a product (admin): hidden from the catalog, kept for old orders; If-Match: "<version>" (or If-None-Match) makes it conditional (412 on mismatch)',
        ...admin,
        params: IdParams,
        headers: ConditionHeaders,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await archiveProduct(app, request.params.id, versionCondition(request.headers));
      return reply.code(204).send(null);
    },
  );
}
