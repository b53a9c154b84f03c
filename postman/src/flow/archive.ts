// Folder 4: archiving hides a product from the catalog and from new orders; the orders that have it keep it.
import type { Folder, Step } from '../flow-types.js';
import { fails, forbidden, noToken, notFound, ok, theOrder, theProduct, withNewKey } from './steps.js';
import { orderIs } from './orders.js';

const asAdmin = { auth: 'adminToken', ...theProduct };

const steps: Step[] = [
  noToken('DELETE /product/{id}', 'Archive: no token -> 401', theProduct),
  forbidden('DELETE /product/{id}', 'Archive: customer -> 403', { auth: 'customerToken', ...theProduct }),
  fails(412, 'precondition-failed')('DELETE /product/{id}', 'Archive: stale If-Match -> 412', { ...asAdmin, headers: { 'If-Match': '"{{staleVersion}}"' } }),
  { op: 'DELETE /product/{id}', ...asAdmin, expect: 204 },
  notFound('DELETE /product/{id}', 'Archive again -> 404', asAdmin),
  notFound('GET /product/{id}', 'Product: archived -> 404', theProduct),
  ok('GET /product', 'Catalog: the archived product is hidden', { query: { category: '{{productCategory}}' }, checks: { 'no products in the run category': 'pm.expect(body.items).to.eql([]);' } }),
  notFound('PATCH /product/{id}', 'Update: archived -> 404', { ...asAdmin, body: { priceCents: 1 } }),
  notFound('POST /product/{id}/stock', 'Stock: archived -> 404', { ...asAdmin, body: { delta: 1 } }),
  notFound('POST /order', 'Place an order: archived product -> 404', { auth: 'customerToken', ...withNewKey, body: { items: [{ productId: '{{productId}}', quantity: 1 }] } }),
  ok('GET /order/{id}', 'Order: still readable after its product is archived', {
    auth: 'customerToken',
    ...theOrder,
    checks: {
      // The order names what was bought even though the shop no longer sells it.
      'kept with its lines, prices and product name': `${orderIs}\npm.expect(body.items).to.eql([{ productId: v('productId'), quantity: 3, unitPriceCents: 2499, name: 'Postman gizmo ' + v('runId') + ' deluxe' }]);`,
    },
  }),
];

export const archive: Folder = {
  name: 'Archive (/product DELETE)',
  description: 'Archiving hides a product from the catalog and new orders; old orders keep it.',
  steps,
};
