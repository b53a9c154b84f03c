// Folder 3: placement with Idempotency-Key (replay, key reuse), stock effects, visibility, listing and
// cancellation, by the customer, another customer and the admin. Captures orderId for the archive folder.
import type { Folder, Step } from '../flow-types.js';
import { fails, forbidden, invalid, malformedId, noToken, notFound, ok, sameKey, type Rest, theOrder, theProduct, withNewKey } from './steps.js';
import { stockIs } from './catalog.js';

const orderBody = { items: [{ productId: '{{productId}}', quantity: 3 }] };
export const orderIs = `
  pm.expect(body.id).to.equal(v('orderId'));
  pm.expect(body.userId).to.equal(v('customerId'));
`;
const listIds = 'body.items.map(function (o) { return o.id; })';
const ownedBy = (idVar: string) => `body.items.forEach(function (o) { pm.expect(o.userId).to.equal(v('${idVar}')); });`;
/** Reads the product's stock after an order changed it (or did not). */
const stockAfter = (name: string, check: string, expr: string, rest: Rest = {}): Step =>
  ok('GET /product/{id}', name, { ...theProduct, checks: { [check]: stockIs(expr) }, ...rest });
const placing = { auth: 'customerToken', ...withNewKey };
const placed = { auth: 'customerToken', ...theOrder };

const steps: Step[] = [
  noToken('POST /order', 'Place an order: no token -> 401', { ...withNewKey, body: orderBody }),
  invalid('POST /order', 'Place an order: no Idempotency-Key -> 400', ['headers/idempotency-key'], { auth: 'customerToken', body: orderBody }),
  invalid('POST /order', 'Place an order: invalid items -> 400', ['/items/0/productId', '/items/0/quantity'], { ...placing, body: { items: [{ productId: 'not-a-uuid', quantity: 0 }] } }),
  invalid('POST /order', 'Place an order: a client-supplied price is refused -> 400', ['/items/0/unitPriceCents'], {
    ...placing,
    body: { items: [{ productId: '{{productId}}', quantity: 1, unitPriceCents: 1 }] },
  }),
  {
    op: 'POST /order',
    ...placing,
    body: orderBody,
    expect: 201,
    note: 'The Idempotency-Key is a fresh {{$guid}}, kept in `orderKey` for the replay.',
    checks: {
      'confirmed for the caller at the product service price': `
        pm.expect(body.status).to.equal('confirmed');
        pm.expect(body.userId).to.equal(v('customerId'));
        pm.expect(body.items).to.eql([{ productId: v('productId'), quantity: 3, unitPriceCents: 2499, name: 'Postman gizmo ' + v('runId') + ' deluxe' }]);
        pm.expect(body.totalCents).to.equal(3 * 2499);
        pm.expect(body.currency).to.equal('USD');
      `,
    },
    capture: { orderId: 'body.id', orderCreatedAt: 'body.createdAt' },
  },
  {
    op: 'POST /order',
    name: 'Place an order: replay (same key and body) -> 200, same order',
    auth: 'customerToken',
    ...sameKey,
    body: orderBody,
    expect: 200,
    checks: { 'the first answer again': `${orderIs}\npm.expect(body.status).to.equal('confirmed');\npm.expect(body.totalCents).to.equal(3 * 2499);\npm.expect(body.createdAt).to.equal(v('orderCreatedAt'));` },
  },
  fails(422, 'idempotency-key-reused')('POST /order', 'Place an order: same key, other body -> 422', { auth: 'customerToken', ...sameKey, body: { items: [{ productId: '{{productId}}', quantity: 4 }] } }),
  stockAfter('Product: stock went down by the order (once)', 'stock is 15 - 3', "Number(v('productStock')) - 3", { capture: { productStock: 'body.stock' } }),
  notFound('POST /order', 'Place an order: unknown product -> 404', { ...placing, body: { items: [{ productId: '{{$guid}}', quantity: 1 }] } }),
  fails(409, 'price-changed')('POST /order', 'Place an order: a price other than the one shown -> 409 price-changed, recorded as rejected', {
    ...placing,
    body: { items: [{ productId: '{{productId}}', quantity: 1, expectedUnitPriceCents: 2399, expectedCurrency: 'USD' }] },
    checks: {
      'names the moved line and its price now': `
        pm.expect(body.orderId).to.be.a('string');
        pm.expect(body.items).to.eql([{ productId: v('productId'), expectedUnitPriceCents: 2399, expectedCurrency: 'USD', unitPriceCents: 2499, currency: 'USD' }]);
      `,
    },
  }),
  stockAfter('Product: an order refused for its price took nothing', 'stock unchanged', "Number(v('productStock'))"),
  {
    op: 'POST /product/{id}/stock',
    name: 'Stock: remove unreserved units, leaving 2',
    auth: 'adminToken',
    ...theProduct,
    pre: "pm.collectionVariables.set('leaveTwo', String(2 - Number(pm.collectionVariables.get('productStock'))));",
    rawJson: '{ "delta": {{leaveTwo}} }',
    expect: 200,
    checks: { 'two left': stockIs('2') },
    capture: { productStock: 'body.stock' },
  },
  // One more than is left, within the default per-line limit (MAX_QUANTITY_PER_LINE), as a real client would ask.
  fails(409, 'insufficient-stock')('POST /order', 'Place an order: insufficient stock -> 409, recorded as rejected', {
    ...placing,
    body: { items: [{ productId: '{{productId}}', quantity: 3 }] },
    checks: {
      'says what was short': `
        pm.expect(body.orderId).to.be.a('string');
        pm.expect(body.items).to.eql([{ productId: v('productId'), requested: 3, available: Number(v('productStock')) }]);
      `,
    },
    capture: { rejectedOrderId: 'body.orderId' },
  }),
  stockAfter('Product: a rejected order took nothing', 'stock unchanged', "Number(v('productStock'))"),
  { op: 'GET /order/{id}', ...placed, expect: 200, checks: { 'the order placed': `${orderIs}\npm.expect(body.status).to.equal('confirmed');\npm.expect(body.totalCents).to.equal(3 * 2499);` } },
  ok('GET /order/{id}', 'Order: the rejected one is recorded', {
    auth: 'customerToken',
    params: { id: '{{rejectedOrderId}}' },
    checks: { 'status rejected': "pm.expect(body.id).to.equal(v('rejectedOrderId'));\npm.expect(body.status).to.equal('rejected');" },
  }),
  noToken('GET /order/{id}', 'Order: no token -> 401', theOrder),
  notFound('GET /order/{id}', "Order: another user's -> 404", { auth: 'otherToken', ...theOrder }),
  notFound('GET /order/{id}', 'Order: malformed id -> 404', { auth: 'customerToken', ...malformedId }),
  {
    op: 'GET /order',
    auth: 'customerToken',
    expect: 200,
    checks: {
      "only the caller's orders, newest first": `
        pm.expect(${listIds}).to.include.members([v('orderId'), v('rejectedOrderId')]);
        ${ownedBy('customerId')}
        const created = body.items.map(function (o) { return o.createdAt; });
        pm.expect(created).to.eql(created.slice().sort().reverse());
      `,
    },
  },
  ok('GET /order', "List orders: another user sees none of the customer's", {
    auth: 'otherToken',
    checks: { 'not the customer orders': `pm.expect(${listIds}).to.not.include(v('orderId'));\n${ownedBy('otherId')}` },
  }),
  forbidden('GET /order', 'List orders: a customer filtering by another user -> 403', { auth: 'customerToken', query: { userId: '{{otherId}}' } }),
  ok('GET /order', 'List orders: admin filtered by userId', {
    auth: 'adminToken',
    query: { userId: '{{customerId}}' },
    checks: { "the customer's orders only": `pm.expect(${listIds}).to.include(v('orderId'));\n${ownedBy('customerId')}` },
  }),
  ok('GET /order', 'List orders: admin, all users, page of 1', {
    auth: 'adminToken',
    query: { limit: '1' },
    checks: { 'one order and a cursor': "pm.expect(body.items).to.have.lengthOf(1);\npm.expect(body.nextCursor).to.be.a('string').and.not.empty;" },
    capture: { ordersCursor: 'body.nextCursor', firstOrderId: 'body.items[0].id' },
  }),
  ok('GET /order', 'List orders: admin, next page (cursor)', {
    auth: 'adminToken',
    query: { limit: '100', cursor: '{{ordersCursor}}' },
    checks: {
      'older orders only, not the first page again': `
        pm.expect(body.items.length).to.be.at.least(1);
        body.items.forEach(function (o) { pm.expect(o.id < v('firstOrderId')).to.equal(true); });
      `,
    },
  }),
  ok('GET /order', 'Find an order by its number (admin), typed in capitals', {
    auth: 'adminToken',
    // The shop shows an order as the last 8 characters of its id (web: order.id.slice(-8)).
    pre: "pm.collectionVariables.set('orderNumber', pm.collectionVariables.get('orderId').slice(-8).toUpperCase());",
    query: { number: '{{orderNumber}}' },
    note: 'The number is the last 8 hex digits of the order placed above, as the shop shows it, sent in capitals (any letter case).',
    checks: {
      'the order placed, and only orders with that number': `
        pm.expect(${listIds}).to.include(v('orderId'));
        body.items.forEach(function (o) { pm.expect(o.id.slice(-8)).to.equal(v('orderNumber').toLowerCase()); });
        const found = body.items.find(function (o) { return o.id === v('orderId'); });
        pm.expect(found.userId).to.equal(v('customerId'));
        pm.expect(found.totalCents).to.equal(3 * 2499);
      `,
    },
  }),
  ok('GET /order', "Find an order by its number and the customer (admin): another user's number finds nothing", {
    auth: 'adminToken',
    query: { number: '{{orderNumber}}', userId: '{{otherId}}' },
    checks: { "none: the order is the first customer's": 'pm.expect(body.items).to.eql([]);' },
  }),
  forbidden('GET /order', 'Find an order by its number: customer (their own order) -> 403', { auth: 'customerToken', query: { number: '{{orderNumber}}' } }),
  invalid('GET /order', 'Find an order by its number: not 8 hex digits -> 400', ['querystring/number'], { auth: 'adminToken', query: { number: 'ABCDEFG' } }),
  noToken('GET /order', 'List orders: no token -> 401'),
  invalid('GET /order', 'List orders: a status filter (there is none) -> 400', ['querystring/status'], { auth: 'customerToken', query: { status: 'confirmed' } }),
  notFound('POST /order/{id}/cancel', "Cancel: another user's order -> 404", { auth: 'otherToken', ...theOrder }),
  fails(409, 'not-cancellable')('POST /order/{id}/cancel', 'Cancel: a rejected order -> 409', { auth: 'customerToken', params: { id: '{{rejectedOrderId}}' } }),
  noToken('POST /order/{id}/cancel', 'Cancel: no token -> 401', theOrder),
  { op: 'POST /order/{id}/cancel', ...placed, expect: 200, checks: { cancelled: `${orderIs}\npm.expect(body.status).to.equal('cancelled');` } },
  stockAfter('Product: the cancel returned the stock', 'stock back up by 3', "Number(v('productStock')) + 3", { capture: { productStock: 'body.stock' } }),
  { op: 'POST /order/{id}/cancel', name: 'Cancel again: a no-op 200', ...placed, expect: 200, checks: { 'still cancelled': `${orderIs}\npm.expect(body.status).to.equal('cancelled');` } },
  stockAfter('Product: the repeated cancel returned nothing more', 'stock unchanged', "Number(v('productStock'))"),
  {
    op: 'POST /order',
    name: 'Place an order as the second customer',
    auth: 'otherToken',
    ...withNewKey,
    body: { items: [{ productId: '{{productId}}', quantity: 1 }] },
    expect: 201,
    checks: { 'confirmed for the second customer': "pm.expect(body.status).to.equal('confirmed');\npm.expect(body.userId).to.equal(v('otherId'));" },
    capture: { otherOrderId: 'body.id' },
  },
  {
    op: 'POST /order/{id}/cancel',
    name: "Cancel: an admin cancels a customer's order",
    auth: 'adminToken',
    params: { id: '{{otherOrderId}}' },
    expect: 200,
    checks: { 'cancelled, still theirs': "pm.expect(body.id).to.equal(v('otherOrderId'));\npm.expect(body.userId).to.equal(v('otherId'));\npm.expect(body.status).to.equal('cancelled');" },
  },
];

export const orders: Folder = {
  name: 'Orders (/order)',
  description: 'Placement with Idempotency-Key (replay, key reuse), stock effects, visibility, listing, cancellation.',
  steps,
};
