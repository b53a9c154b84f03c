// Folder 2: public listing, search and filter; admin create, conditional update (If-Match), stock
// adjustments. Captures productId, productVersion and productStock for the order folders.
import type { Folder, Step } from '../flow-types.js';
import { fails, forbidden, invalid, malformedId, noToken, notFound, ok, theProduct, unknownId } from './steps.js';

const productIs = `
  pm.expect(body.id).to.equal(v('productId'));
  pm.expect(body.sku).to.equal(v('productSku'));
`;
const etagIsVersion = "pm.expect(pm.response.headers.get('ETag')).to.equal('\"' + body.version + '\"');";
export const stockIs = (expr: string): string => `pm.expect(body.stock).to.equal(${expr});`;
const asAdmin = { auth: 'adminToken', ...theProduct };
const listedIds = 'body.items.map(function (p) { return p.id; })';

const steps: Step[] = [
  {
    op: 'GET /product',
    expect: 200,
    checks: { 'at most the default page of 20': "pm.expect(body.items.length).to.be.at.most(20);\nbody.items.forEach(function (p) { pm.expect(p.stock).to.be.at.least(0); });" },
  },
  noToken('POST /product', 'Create a product: no token -> 401', { body: { sku: 'PM-NOAUTH', name: 'Nope', priceCents: 1, stock: 1 } }),
  forbidden('POST /product', 'Create a product: customer -> 403', { auth: 'otherToken', body: { sku: 'PM-CUSTOMER', name: 'Nope', priceCents: 1, stock: 1 } }),
  {
    op: 'POST /product',
    auth: 'adminToken',
    pre: `
      const runId = pm.collectionVariables.get('runId');
      pm.collectionVariables.set('productSku', 'PM-' + runId.toUpperCase());
      pm.collectionVariables.set('productCategory', 'postman-' + runId);
    `,
    body: { sku: '{{productSku}}', name: 'Postman gizmo {{runId}}', description: 'Made by the Postman collection', priceCents: 1999, stock: 10, category: '{{productCategory}}' },
    expect: 201,
    checks: {
      'what was sent, in USD by default, at version 1': `
        pm.expect(body.sku).to.equal(v('productSku'));
        pm.expect(body.priceCents).to.equal(1999);
        pm.expect(body.currency).to.equal('USD');
        pm.expect(body.stock).to.equal(10);
        pm.expect(body.category).to.equal(v('productCategory'));
        pm.expect(body.version).to.equal(1);
      `,
      'ETag is the quoted version': etagIsVersion,
    },
    capture: { productId: 'body.id', productVersion: 'body.version' },
  },
  fails(409, 'sku-taken')('POST /product', 'Create a product: SKU taken -> 409', { auth: 'adminToken', body: { sku: '{{productSku}}', name: 'Duplicate', priceCents: 1, stock: 1 } }),
  invalid('POST /product', 'Create a product: invalid body -> 400', ['/sku', '/priceCents', '/currency', '/stock', '/colour'], {
    auth: 'adminToken',
    body: { sku: 'has space', name: 'Bad', priceCents: -1, currency: 'usd', stock: 1.5, colour: 'red' },
  }),
  {
    op: 'GET /product/{id}',
    ...theProduct,
    expect: 200,
    checks: { 'the product created': `${productIs}\npm.expect(body.name).to.equal('Postman gizmo ' + v('runId'));`, 'ETag is the quoted version': etagIsVersion },
  },
  {
    op: 'GET /product/{id}',
    name: 'Product: If-None-Match with its ETag -> 304',
    ...theProduct,
    headers: { 'If-None-Match': '"{{productVersion}}"' },
    expect: 304,
    checks: { 'no body, the same ETag': `pm.expect(pm.response.text()).to.equal('');\npm.expect(pm.response.headers.get('ETag')).to.equal('"' + v('productVersion') + '"');` },
  },
  notFound('GET /product/{id}', 'Product: unknown id -> 404', unknownId),
  notFound('GET /product/{id}', 'Product: malformed id -> 404', malformedId),
  {
    op: 'PATCH /product/{id}',
    ...asAdmin,
    headers: { 'If-Match': '"{{productVersion}}"' },
    body: { name: 'Postman gizmo {{runId}} deluxe', priceCents: 2499 },
    expect: 200,
    checks: {
      'changed, version incremented, stock untouched': `
        ${productIs}
        pm.expect(body.name).to.equal('Postman gizmo ' + v('runId') + ' deluxe');
        pm.expect(body.priceCents).to.equal(2499);
        pm.expect(body.version).to.equal(Number(v('productVersion')) + 1);
        pm.expect(body.stock).to.equal(10);
      `,
      'ETag is the quoted version': etagIsVersion,
    },
    capture: { staleVersion: "v('productVersion')", productVersion: 'body.version' },
  },
  fails(412, 'precondition-failed')('PATCH /product/{id}', 'Update a product: stale If-Match -> 412', { ...asAdmin, headers: { 'If-Match': '"{{staleVersion}}"' }, body: { priceCents: 1 } }),
  fails(412, 'precondition-failed')('PATCH /product/{id}', 'Update a product: If-None-Match with its ETag -> 412', { ...asAdmin, headers: { 'If-None-Match': '"{{productVersion}}"' }, body: { priceCents: 1 } }),
  fails(412, 'precondition-failed')('GET /product/{id}', 'Product: stale If-Match -> 412', { ...theProduct, headers: { 'If-Match': '"{{staleVersion}}"' } }),
  invalid('PATCH /product/{id}', 'Update a product: malformed If-Match -> 400', ['headers/if-match'], { ...asAdmin, headers: { 'If-Match': 'version-one' }, body: { priceCents: 1 } }),
  invalid('PATCH /product/{id}', 'Update a product: stock is not patchable -> 400', ['/stock'], { ...asAdmin, body: { stock: 1000 } }),
  forbidden('PATCH /product/{id}', 'Update a product: customer -> 403', { auth: 'customerToken', ...theProduct, body: { priceCents: 1 } }),
  notFound('PATCH /product/{id}', 'Update a product: unknown id -> 404', { auth: 'adminToken', ...unknownId, body: { priceCents: 1 } }),
  { op: 'POST /product/{id}/stock', ...asAdmin, headers: { 'Idempotency-Key': 'restock-{{runId}}' }, body: { delta: 5 }, expect: 200, checks: { 'restocked by 5': `${productIs}\n${stockIs('15')}` }, capture: { productStock: 'body.stock' } },
  {
    op: 'POST /product/{id}/stock',
    name: 'Stock: the same Idempotency-Key again (a retry after a timeout) -> 200, applied once',
    ...asAdmin,
    headers: { 'Idempotency-Key': 'restock-{{runId}}' },
    body: { delta: 5 },
    expect: 200,
    checks: { 'still 15': `${productIs}\n${stockIs('15')}` },
  },
  fails(422, 'idempotency-key-reused')('POST /product/{id}/stock', 'Stock: the same Idempotency-Key with another delta -> 422', { ...asAdmin, headers: { 'Idempotency-Key': 'restock-{{runId}}' }, body: { delta: 6 } }),
  invalid('POST /product/{id}/stock', 'Stock: zero delta -> 400', ['/delta'], { ...asAdmin, body: { delta: 0 } }),
  fails(409, 'insufficient-stock')('POST /product/{id}/stock', 'Stock: removing more than is unreserved -> 409', { ...asAdmin, body: { delta: -100000 } }),
  fails(412, 'precondition-failed')('POST /product/{id}/stock', 'Stock: stale If-Match -> 412', { ...asAdmin, headers: { 'If-Match': '"{{staleVersion}}"' }, body: { delta: 1 } }),
  notFound('POST /product/{id}/stock', 'Stock: unknown id -> 404', { auth: 'adminToken', ...unknownId, body: { delta: 1 } }),
  forbidden('POST /product/{id}/stock', 'Stock: customer -> 403', { auth: 'customerToken', ...theProduct, body: { delta: 1 } }),
  ok('GET /product', 'Search the catalog (q, word prefix)', {
    query: { q: 'gizmo {{runId}}' },
    checks: { 'finds the product': `pm.expect(${listedIds}).to.include(v('productId'));` },
  }),
  ok('GET /product', 'Filter the catalog by category', {
    query: { category: '{{productCategory}}' },
    checks: { 'exactly the product of this run': `pm.expect(${listedIds}).to.eql([v('productId')]);\npm.expect(body.nextCursor).to.equal(null);` },
  }),
  ok('GET /product/categories', "List the catalog's categories (what the category filter takes)", {
    query: { limit: '100' },
    checks: {
      'each category once, as text': `
        pm.expect(body.items.length).to.be.at.most(100);
        body.items.forEach(function (c) { pm.expect(c).to.be.a('string').and.not.empty; });
        pm.expect(new Set(body.items).size).to.equal(body.items.length);
      `,
    },
  }),
  ok('GET /product/categories', 'List the categories: first page of 1', {
    query: { limit: '1' },
    checks: { 'one category and a cursor': "pm.expect(body.items).to.have.lengthOf(1);\npm.expect(body.nextCursor).to.be.a('string').and.not.empty;" },
    capture: { categoriesCursor: 'body.nextCursor', firstCategory: 'body.items[0]' },
  }),
  ok('GET /product/categories', 'List the categories: next page (cursor)', {
    query: { limit: '100', cursor: '{{categoriesCursor}}' },
    checks: { 'the first page\'s category is not listed again': "pm.expect(body.items.length).to.be.at.least(1);\npm.expect(body.items).to.not.include(v('firstCategory'));" },
  }),
  invalid('GET /product/categories', 'List the categories: bad cursor -> 400', ['querystring/cursor'], { query: { cursor: 'not-a-cursor' } }),
  ok('GET /product', 'List the catalog: first page of 2', {
    query: { limit: '2' },
    checks: { 'two products and a cursor': "pm.expect(body.items).to.have.lengthOf(2);\npm.expect(body.nextCursor).to.be.a('string').and.not.empty;" },
    capture: { productsCursor: 'body.nextCursor', firstPageIds: `JSON.stringify(${listedIds})` },
  }),
  ok('GET /product', 'List the catalog: next page (cursor)', {
    query: { limit: '2', cursor: '{{productsCursor}}' },
    checks: {
      'no product of the first page again': `
        pm.expect(body.items.length).to.be.at.least(1);
        const first = JSON.parse(v('firstPageIds'));
        body.items.forEach(function (p) { pm.expect(first).to.not.include(p.id); });
      `,
    },
  }),
  invalid('GET /product', 'List the catalog: bad cursor -> 400', ['querystring/cursor'], { query: { cursor: 'not-a-cursor' } }),
  invalid('GET /product', 'List the catalog: limit 0 -> 400', ['querystring/limit'], { query: { limit: '0' } }),
];

export const catalog: Folder = {
  name: 'Catalog (/product)',
  description: 'Public listing, search and filter; admin create, conditional update (If-Match), stock adjustments.',
  steps,
};
