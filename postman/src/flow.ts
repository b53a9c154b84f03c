// The walk through the public API that the Postman collection is generated from: one entry per request,
// in run order. Requests chain through collection variables (tokens, ids, versions, stock counts).
import type { Folder, Step } from './flow-types.js';

const jwtClaims = `
  const part = (i) => JSON.parse(require('atob')(body.accessToken.split('.')[i].replace(/-/g, '+').replace(/_/g, '/')));
`;
const newKey = "pm.collectionVariables.set('orderKey', pm.variables.replaceIn('{{$guid}}'));";
const isUser = (idVar: string, emailVar: string) => `
  pm.expect(body.id).to.equal(v('${idVar}'));
  pm.expect(body.email).to.equal(v('${emailVar}').toLowerCase());
`;
const noSecrets = `pm.expect(Object.keys(body)).to.not.include.members(['password', 'passwordHash', 'password_hash', 'hash']);`;
const unauthenticated = { problem: 'unauthorized', checks: { 'WWW-Authenticate asks for a Bearer token': "pm.expect(pm.response.headers.get('WWW-Authenticate')).to.match(/^Bearer/);" } };

const users: Step[] = [
  {
    op: 'POST /user/register',
    pre: `
      pm.collectionVariables.set('runId', Date.now().toString(36) + Math.random().toString(36).slice(2, 8));
      pm.collectionVariables.set('customerEmail', 'Customer.' + pm.collectionVariables.get('runId') + '@Example.com');
      pm.collectionVariables.set('customerPassword', 'correct-horse-' + pm.collectionVariables.get('runId'));
    `,
    body: { email: '{{customerEmail}}', password: '{{customerPassword}}', name: 'Postman Customer' },
    expect: 201,
    note: 'Starts a run: a fresh runId makes every email, SKU and category of this run unique. The email is mixed case on purpose.',
    checks: {
      'a customer, email stored lower case, no password material': `
        pm.expect(body.role).to.equal('customer');
        pm.expect(body.name).to.equal('Postman Customer');
        pm.expect(body.email).to.equal(v('customerEmail').toLowerCase());
        ${noSecrets}
      `,
    },
    capture: { customerId: 'body.id' },
  },
  {
    op: 'POST /user/register',
    name: 'Register: email taken (case-insensitive) -> 409',
    body: { email: '{{customerEmailUpper}}', password: 'another-password', name: 'Twin' },
    pre: "pm.collectionVariables.set('customerEmailUpper', pm.collectionVariables.get('customerEmail').toUpperCase());",
    expect: 409,
    problem: 'email-taken',
  },
  {
    op: 'POST /user/register',
    name: 'Register: invalid body -> 400 with errors[].path',
    body: { email: 'not-an-email', password: 'short', name: 'X', isAdmin: true },
    expect: 400,
    problem: 'validation-failed',
    errors: ['/email', '/password', '/isAdmin'],
  },
  {
    op: 'POST /user/login',
    name: 'Log in: wrong password -> 401',
    body: { email: '{{customerEmail}}', password: 'wrong-password' },
    expect: 401,
    problem: 'unauthorized',
    capture: { loginFailure: 'JSON.stringify({ type: body.type, title: body.title, detail: body.detail })' },
  },
  {
    op: 'POST /user/login',
    name: 'Log in: unknown email -> the same 401',
    body: { email: 'nobody.{{runId}}@example.com', password: 'wrong-password' },
    expect: 401,
    problem: 'unauthorized',
    checks: { 'same answer as a wrong password (no account enumeration)': "pm.expect(JSON.stringify({ type: body.type, title: body.title, detail: body.detail })).to.equal(v('loginFailure'));" },
  },
  {
    op: 'POST /user/login',
    name: 'Log in: missing password -> 400',
    body: { email: '{{customerEmail}}' },
    expect: 400,
    problem: 'validation-failed',
    errors: ['/password'],
  },
  {
    op: 'POST /user/login',
    body: { email: '{{customerEmail}}', password: '{{customerPassword}}' },
    expect: 200,
    checks: {
      'a Bearer pair that expires in 15 minutes': `
        pm.expect(body.tokenType).to.equal('Bearer');
        pm.expect(body.expiresIn).to.equal(900);
        pm.expect(body.refreshToken).to.be.a('string').and.not.empty;
      `,
      'the access token is an asymmetric JWT for this customer': `
        ${jwtClaims}
        const header = part(0);
        const claims = part(1);
        pm.expect(['EdDSA', 'ES256']).to.include(header.alg);
        pm.expect(claims.sub).to.equal(v('customerId'));
        pm.expect(claims.role).to.equal('customer');
        pm.expect(claims).to.include.keys('iss', 'aud', 'exp', 'jti');
        pm.expect(claims.exp - Math.floor(Date.now() / 1000)).to.be.within(800, 905);
      `,
    },
    capture: { customerToken: 'body.accessToken', customerRefresh: 'body.refreshToken', customerKid: "JSON.parse(require('atob')(body.accessToken.split('.')[0].replace(/-/g, '+').replace(/_/g, '/'))).kid" },
  },
  {
    op: 'GET /user/me',
    auth: 'customerToken',
    headers: { 'X-Request-Id': 'postman-{{runId}}-me' },
    expect: 200,
    checks: {
      'the caller': `${isUser('customerId', 'customerEmail')}
        pm.expect(body.role).to.equal('customer');
        ${noSecrets}`,
      'the X-Request-Id sent is echoed': "pm.expect(pm.response.headers.get('X-Request-Id')).to.equal('postman-' + v('runId') + '-me');",
    },
  },
  { op: 'GET /user/me', name: 'Me: no token -> 401', expect: 401, ...unauthenticated },
  { op: 'GET /user/me', name: 'Me: invalid token -> 401', bearer: 'not-a-jwt', expect: 401, problem: 'unauthorized' },
  {
    op: 'POST /user/token/refresh',
    body: { refreshToken: '{{customerRefresh}}' },
    expect: 200,
    checks: {
      'a new pair; the refresh token rotated': `
        pm.expect(body.tokenType).to.equal('Bearer');
        pm.expect(body.refreshToken).to.be.a('string').and.not.equal(v('customerRefresh'));
        pm.expect(body.accessToken).to.be.a('string').and.not.equal(v('customerToken'));
      `,
    },
    capture: { spentRefresh: "v('customerRefresh')", customerRefresh: 'body.refreshToken', customerToken: 'body.accessToken' },
  },
  {
    op: 'POST /user/token/refresh',
    name: 'Refresh: spent token reused -> 401',
    body: { refreshToken: '{{spentRefresh}}' },
    expect: 401,
    problem: 'unauthorized',
  },
  {
    op: 'POST /user/token/refresh',
    name: 'Refresh: the reuse revoked the family -> 401 for the newest token too',
    body: { refreshToken: '{{customerRefresh}}' },
    expect: 401,
    problem: 'unauthorized',
  },
  {
    op: 'POST /user/token/refresh',
    name: 'Refresh: malformed token -> 400',
    body: { refreshToken: 'short' },
    expect: 400,
    problem: 'validation-failed',
    errors: ['/refreshToken'],
  },
  {
    op: 'POST /user/login',
    name: 'Log in again (new session)',
    body: { email: '{{customerEmail}}', password: '{{customerPassword}}' },
    expect: 200,
    capture: { customerToken: 'body.accessToken', customerRefresh: 'body.refreshToken' },
  },
  { op: 'POST /user/logout', body: { refreshToken: '{{customerRefresh}}' }, expect: 204 },
  { op: 'POST /user/logout', name: 'Log out: already revoked -> 401', body: { refreshToken: '{{customerRefresh}}' }, expect: 401, problem: 'unauthorized' },
  { op: 'POST /user/token/refresh', name: 'Refresh: after logout -> 401', body: { refreshToken: '{{customerRefresh}}' }, expect: 401, problem: 'unauthorized' },
  {
    op: 'POST /user/register',
    name: 'Register a second customer',
    pre: "pm.collectionVariables.set('otherEmail', 'other.' + pm.collectionVariables.get('runId') + '@example.com');",
    body: { email: '{{otherEmail}}', password: 'correct-horse-other', name: 'Other Customer' },
    expect: 201,
    capture: { otherId: 'body.id' },
  },
  {
    op: 'POST /user/login',
    name: 'Log in as the second customer',
    body: { email: '{{otherEmail}}', password: 'correct-horse-other' },
    expect: 200,
    capture: { otherToken: 'body.accessToken' },
  },
  { op: 'GET /user/users', name: 'List accounts: customer -> 403', auth: 'customerToken', expect: 403, problem: 'forbidden' },
  { op: 'GET /user/users', name: 'List accounts: no token -> 401', expect: 401, ...unauthenticated },
  {
    op: 'POST /user/login',
    name: 'Log in as the admin',
    body: { email: '{{adminEmail}}', password: '{{adminPassword}}' },
    expect: 200,
    note: 'adminEmail/adminPassword come from the environment (the admin ensured at start-up from ADMIN_EMAIL/ADMIN_PASSWORD).',
    checks: { 'the token carries role admin': `${jwtClaims}\npm.expect(part(1).role).to.equal('admin');` },
    capture: { adminToken: 'body.accessToken' },
  },
  {
    op: 'GET /user/users',
    auth: 'adminToken',
    query: { limit: '1' },
    expect: 200,
    checks: {
      'one account and a cursor to the next page': `
        pm.expect(body.items).to.have.lengthOf(1);
        pm.expect(body.nextCursor).to.be.a('string').and.not.empty;
        ${noSecrets.replace('body', 'body.items[0]')}
      `,
    },
    capture: { usersCursor: 'body.nextCursor', firstUserId: 'body.items[0].id' },
  },
  {
    op: 'GET /user/users',
    name: 'List accounts: next page (cursor)',
    auth: 'adminToken',
    query: { limit: '100', cursor: '{{usersCursor}}' },
    expect: 200,
    checks: { 'the next page does not repeat the first': "pm.expect(body.items.length).to.be.at.least(1);\npm.expect(body.items.map(function (u) { return u.id; })).to.not.include(v('firstUserId'));" },
  },
  {
    op: 'GET /user/users',
    name: 'List accounts: limit out of range -> 400',
    auth: 'adminToken',
    query: { limit: '101' },
    expect: 400,
    problem: 'validation-failed',
    errors: ['querystring/limit'],
  },
  {
    op: 'GET /user/.well-known/jwks.json',
    expect: 200,
    schema: {
      type: 'object',
      required: ['keys'],
      properties: { keys: { type: 'array', minItems: 1, items: { type: 'object', required: ['kty', 'kid', 'alg'], properties: { kty: { type: 'string' }, kid: { type: 'string' }, alg: { type: 'string' } } } } },
    },
    checks: {
      'public keys only': "body.keys.forEach(function (k) { pm.expect(k).to.not.have.any.keys('d', 'p', 'q', 'dp', 'dq', 'qi', 'k'); });",
      'the key that signed the customer token is published': "pm.expect(body.keys.map(function (k) { return k.kid; })).to.include(v('customerKid'));",
    },
  },
  {
    op: 'POST /user/oauth/token',
    body: { grant_type: 'client_credentials', client_id: '{{serviceClientId}}', client_secret: '{{serviceClientSecret}}' },
    expect: 200,
    note: 'serviceClientId/serviceClientSecret come from the environment (the order service client `npm start` generates).',
    checks: {
      'a Bearer service token with reservation scopes': `
        pm.expect(body.token_type).to.equal('Bearer');
        pm.expect(body.expires_in).to.be.above(0);
        pm.expect(body.scope.split(' ')).to.include('reservations:write');
      `,
    },
    capture: { serviceToken: 'body.access_token' },
  },
  {
    op: 'POST /user/oauth/token',
    name: 'Service token: form-encoded grant',
    form: { grant_type: 'client_credentials', client_id: '{{serviceClientId}}', client_secret: '{{serviceClientSecret}}' },
    expect: 200,
    checks: { 'a Bearer service token': "pm.expect(body.token_type).to.equal('Bearer');" },
  },
  {
    op: 'POST /user/oauth/token',
    name: 'Service token: wrong secret -> 401',
    body: { grant_type: 'client_credentials', client_id: '{{serviceClientId}}', client_secret: 'wrong-secret' },
    expect: 401,
    problem: 'unauthorized',
  },
  {
    op: 'POST /user/oauth/token',
    name: 'Service token: unsupported grant -> 400',
    body: { grant_type: 'password', client_id: '{{serviceClientId}}', client_secret: 'wrong-secret' },
    expect: 400,
    problem: 'validation-failed',
    errors: ['/grant_type'],
  },
  { op: 'GET /user/me', name: 'Me: a service token is refused on user routes -> 401', auth: 'serviceToken', expect: 401, problem: 'unauthorized' },
];

const productIs = `
  pm.expect(body.id).to.equal(v('productId'));
  pm.expect(body.sku).to.equal(v('productSku'));
`;
const etagIsVersion = "pm.expect(pm.response.headers.get('ETag')).to.equal('\"' + body.version + '\"');";
const stockIs = (expr: string) => `pm.expect(body.stock).to.equal(${expr});`;

const products: Step[] = [
  {
    op: 'GET /product',
    expect: 200,
    checks: { 'at most the default page of 20': "pm.expect(body.items.length).to.be.at.most(20);\nbody.items.forEach(function (p) { pm.expect(p.stock).to.be.at.least(0); });" },
  },
  {
    op: 'POST /product',
    name: 'Create a product: no token -> 401',
    body: { sku: 'PM-NOAUTH', name: 'Nope', priceCents: 1, stock: 1 },
    expect: 401,
    ...unauthenticated,
  },
  {
    op: 'POST /product',
    name: 'Create a product: customer -> 403',
    auth: 'otherToken',
    body: { sku: 'PM-CUSTOMER', name: 'Nope', priceCents: 1, stock: 1 },
    expect: 403,
    problem: 'forbidden',
  },
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
  {
    op: 'POST /product',
    name: 'Create a product: SKU taken -> 409',
    auth: 'adminToken',
    body: { sku: '{{productSku}}', name: 'Duplicate', priceCents: 1, stock: 1 },
    expect: 409,
    problem: 'sku-taken',
  },
  {
    op: 'POST /product',
    name: 'Create a product: invalid body -> 400',
    auth: 'adminToken',
    body: { sku: 'has space', name: 'Bad', priceCents: -1, currency: 'usd', stock: 1.5, colour: 'red' },
    expect: 400,
    problem: 'validation-failed',
    errors: ['/sku', '/priceCents', '/currency', '/stock', '/colour'],
  },
  {
    op: 'GET /product/{id}',
    params: { id: '{{productId}}' },
    expect: 200,
    checks: { 'the product created': `${productIs}\npm.expect(body.name).to.equal('Postman gizmo ' + v('runId'));`, 'ETag is the quoted version': etagIsVersion },
  },
  { op: 'GET /product/{id}', name: 'Product: unknown id -> 404', params: { id: '{{$guid}}' }, expect: 404, problem: 'not-found' },
  { op: 'GET /product/{id}', name: 'Product: malformed id -> 404', params: { id: 'not-a-uuid' }, expect: 404, problem: 'not-found' },
  {
    op: 'PATCH /product/{id}',
    auth: 'adminToken',
    params: { id: '{{productId}}' },
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
  {
    op: 'PATCH /product/{id}',
    name: 'Update a product: stale If-Match -> 412',
    auth: 'adminToken',
    params: { id: '{{productId}}' },
    headers: { 'If-Match': '"{{staleVersion}}"' },
    body: { priceCents: 1 },
    expect: 412,
    problem: 'precondition-failed',
  },
  {
    op: 'PATCH /product/{id}',
    name: 'Update a product: malformed If-Match -> 400',
    auth: 'adminToken',
    params: { id: '{{productId}}' },
    headers: { 'If-Match': 'version-one' },
    body: { priceCents: 1 },
    expect: 400,
    problem: 'validation-failed',
    errors: ['headers/if-match'],
  },
  {
    op: 'PATCH /product/{id}',
    name: 'Update a product: stock is not patchable -> 400',
    auth: 'adminToken',
    params: { id: '{{productId}}' },
    body: { stock: 1000 },
    expect: 400,
    problem: 'validation-failed',
    errors: ['/stock'],
  },
  { op: 'PATCH /product/{id}', name: 'Update a product: customer -> 403', auth: 'customerToken', params: { id: '{{productId}}' }, body: { priceCents: 1 }, expect: 403, problem: 'forbidden' },
  { op: 'PATCH /product/{id}', name: 'Update a product: unknown id -> 404', auth: 'adminToken', params: { id: '{{$guid}}' }, body: { priceCents: 1 }, expect: 404, problem: 'not-found' },
  {
    op: 'POST /product/{id}/stock',
    auth: 'adminToken',
    params: { id: '{{productId}}' },
    body: { delta: 5 },
    expect: 200,
    checks: { 'restocked by 5': `${productIs}\n${stockIs('15')}` },
    capture: { productStock: 'body.stock' },
  },
  {
    op: 'POST /product/{id}/stock',
    name: 'Stock: zero delta -> 400',
    auth: 'adminToken',
    params: { id: '{{productId}}' },
    body: { delta: 0 },
    expect: 400,
    problem: 'validation-failed',
    errors: ['/delta'],
  },
  {
    op: 'POST /product/{id}/stock',
    name: 'Stock: removing more than is unreserved -> 409',
    auth: 'adminToken',
    params: { id: '{{productId}}' },
    body: { delta: -100000 },
    expect: 409,
    problem: 'insufficient-stock',
  },
  { op: 'POST /product/{id}/stock', name: 'Stock: unknown id -> 404', auth: 'adminToken', params: { id: '{{$guid}}' }, body: { delta: 1 }, expect: 404, problem: 'not-found' },
  { op: 'POST /product/{id}/stock', name: 'Stock: customer -> 403', auth: 'customerToken', params: { id: '{{productId}}' }, body: { delta: 1 }, expect: 403, problem: 'forbidden' },
  {
    op: 'GET /product',
    name: 'Search the catalog (q, word prefix)',
    query: { q: 'gizmo {{runId}}' },
    expect: 200,
    checks: { 'finds the product': "pm.expect(body.items.map(function (p) { return p.id; })).to.include(v('productId'));" },
  },
  {
    op: 'GET /product',
    name: 'Filter the catalog by category',
    query: { category: '{{productCategory}}' },
    expect: 200,
    checks: { 'exactly the product of this run': "pm.expect(body.items.map(function (p) { return p.id; })).to.eql([v('productId')]);\npm.expect(body.nextCursor).to.equal(null);" },
  },
  {
    op: 'GET /product',
    name: 'List the catalog: first page of 2',
    query: { limit: '2' },
    expect: 200,
    checks: { 'two products and a cursor': "pm.expect(body.items).to.have.lengthOf(2);\npm.expect(body.nextCursor).to.be.a('string').and.not.empty;" },
    capture: { productsCursor: 'body.nextCursor', firstPageIds: 'JSON.stringify(body.items.map(function (p) { return p.id; }))' },
  },
  {
    op: 'GET /product',
    name: 'List the catalog: next page (cursor)',
    query: { limit: '2', cursor: '{{productsCursor}}' },
    expect: 200,
    checks: {
      'no product of the first page again': `
        pm.expect(body.items.length).to.be.at.least(1);
        const first = JSON.parse(v('firstPageIds'));
        body.items.forEach(function (p) { pm.expect(first).to.not.include(p.id); });
      `,
    },
  },
  { op: 'GET /product', name: 'List the catalog: bad cursor -> 400', query: { cursor: 'not-a-cursor' }, expect: 400, problem: 'validation-failed', errors: ['querystring/cursor'] },
  { op: 'GET /product', name: 'List the catalog: limit 0 -> 400', query: { limit: '0' }, expect: 400, problem: 'validation-failed', errors: ['querystring/limit'] },
];

const orderBody = { items: [{ productId: '{{productId}}', quantity: 3 }] };
const orderIs = `
  pm.expect(body.id).to.equal(v('orderId'));
  pm.expect(body.userId).to.equal(v('customerId'));
`;
const listIds = 'body.items.map(function (o) { return o.id; })';

const orders: Step[] = [
  { op: 'POST /order', name: 'Place an order: no token -> 401', pre: newKey, headers: { 'Idempotency-Key': '{{orderKey}}' }, body: orderBody, expect: 401, ...unauthenticated },
  { op: 'POST /order', name: 'Place an order: no Idempotency-Key -> 400', auth: 'customerToken', body: orderBody, expect: 400, problem: 'validation-failed', errors: ['headers/idempotency-key'] },
  {
    op: 'POST /order',
    name: 'Place an order: invalid items -> 400',
    auth: 'customerToken',
    pre: newKey,
    headers: { 'Idempotency-Key': '{{orderKey}}' },
    body: { items: [{ productId: 'not-a-uuid', quantity: 0 }] },
    expect: 400,
    problem: 'validation-failed',
    errors: ['/items/0/productId', '/items/0/quantity'],
  },
  {
    op: 'POST /order',
    name: 'Place an order: a client-supplied price is refused -> 400',
    auth: 'customerToken',
    pre: newKey,
    headers: { 'Idempotency-Key': '{{orderKey}}' },
    body: { items: [{ productId: '{{productId}}', quantity: 1, unitPriceCents: 1 }] },
    expect: 400,
    problem: 'validation-failed',
    errors: ['/items/0/unitPriceCents'],
  },
  {
    op: 'POST /order',
    auth: 'customerToken',
    pre: newKey,
    headers: { 'Idempotency-Key': '{{orderKey}}' },
    body: orderBody,
    expect: 201,
    note: 'The Idempotency-Key is a fresh {{$guid}}, kept in `orderKey` for the replay.',
    checks: {
      'confirmed for the caller at the product service price': `
        pm.expect(body.status).to.equal('confirmed');
        pm.expect(body.userId).to.equal(v('customerId'));
        pm.expect(body.items).to.eql([{ productId: v('productId'), quantity: 3, unitPriceCents: 2499 }]);
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
    headers: { 'Idempotency-Key': '{{orderKey}}' },
    body: orderBody,
    expect: 200,
    checks: { 'the first answer again': `${orderIs}\npm.expect(body.status).to.equal('confirmed');\npm.expect(body.totalCents).to.equal(3 * 2499);\npm.expect(body.createdAt).to.equal(v('orderCreatedAt'));` },
  },
  {
    op: 'POST /order',
    name: 'Place an order: same key, other body -> 422',
    auth: 'customerToken',
    headers: { 'Idempotency-Key': '{{orderKey}}' },
    body: { items: [{ productId: '{{productId}}', quantity: 4 }] },
    expect: 422,
    problem: 'idempotency-key-reused',
  },
  {
    op: 'GET /product/{id}',
    name: 'Product: stock went down by the order (once)',
    params: { id: '{{productId}}' },
    expect: 200,
    checks: { 'stock is 15 - 3': stockIs("Number(v('productStock')) - 3") },
    capture: { productStock: 'body.stock' },
  },
  {
    op: 'POST /order',
    name: 'Place an order: unknown product -> 404',
    auth: 'customerToken',
    pre: newKey,
    headers: { 'Idempotency-Key': '{{orderKey}}' },
    body: { items: [{ productId: '{{$guid}}', quantity: 1 }] },
    expect: 404,
    problem: 'not-found',
  },
  {
    op: 'POST /product/{id}/stock',
    name: 'Stock: remove unreserved units, leaving 2',
    auth: 'adminToken',
    params: { id: '{{productId}}' },
    pre: "pm.collectionVariables.set('leaveTwo', String(2 - Number(pm.collectionVariables.get('productStock'))));",
    rawJson: '{ "delta": {{leaveTwo}} }',
    expect: 200,
    checks: { 'two left': stockIs('2') },
    capture: { productStock: 'body.stock' },
  },
  {
    op: 'POST /order',
    name: 'Place an order: insufficient stock -> 409, recorded as rejected',
    auth: 'customerToken',
    pre: newKey,
    headers: { 'Idempotency-Key': '{{orderKey}}' },
    // One more than is left, within the default per-line limit (MAX_QUANTITY_PER_LINE), as a real client would ask.
    body: { items: [{ productId: '{{productId}}', quantity: 3 }] },
    expect: 409,
    problem: 'insufficient-stock',
    checks: {
      'says what was short': `
        pm.expect(body.orderId).to.be.a('string');
        pm.expect(body.items).to.eql([{ productId: v('productId'), requested: 3, available: Number(v('productStock')) }]);
      `,
    },
    capture: { rejectedOrderId: 'body.orderId' },
  },
  {
    op: 'GET /product/{id}',
    name: 'Product: a rejected order took nothing',
    params: { id: '{{productId}}' },
    expect: 200,
    checks: { 'stock unchanged': stockIs("Number(v('productStock'))") },
  },
  {
    op: 'GET /order/{id}',
    auth: 'customerToken',
    params: { id: '{{orderId}}' },
    expect: 200,
    checks: { 'the order placed': `${orderIs}\npm.expect(body.status).to.equal('confirmed');\npm.expect(body.totalCents).to.equal(3 * 2499);` },
  },
  {
    op: 'GET /order/{id}',
    name: 'Order: the rejected one is recorded',
    auth: 'customerToken',
    params: { id: '{{rejectedOrderId}}' },
    expect: 200,
    checks: { 'status rejected': "pm.expect(body.id).to.equal(v('rejectedOrderId'));\npm.expect(body.status).to.equal('rejected');" },
  },
  { op: 'GET /order/{id}', name: 'Order: no token -> 401', params: { id: '{{orderId}}' }, expect: 401, ...unauthenticated },
  { op: 'GET /order/{id}', name: "Order: another user's -> 404", auth: 'otherToken', params: { id: '{{orderId}}' }, expect: 404, problem: 'not-found' },
  { op: 'GET /order/{id}', name: 'Order: malformed id -> 404', auth: 'customerToken', params: { id: 'not-a-uuid' }, expect: 404, problem: 'not-found' },
  {
    op: 'GET /order',
    auth: 'customerToken',
    expect: 200,
    checks: {
      "only the caller's orders, newest first": `
        pm.expect(${listIds}).to.include.members([v('orderId'), v('rejectedOrderId')]);
        body.items.forEach(function (o) { pm.expect(o.userId).to.equal(v('customerId')); });
        const created = body.items.map(function (o) { return o.createdAt; });
        pm.expect(created).to.eql(created.slice().sort().reverse());
      `,
    },
  },
  {
    op: 'GET /order',
    name: "List orders: another user sees none of the customer's",
    auth: 'otherToken',
    expect: 200,
    checks: { 'not the customer orders': `pm.expect(${listIds}).to.not.include(v('orderId'));\nbody.items.forEach(function (o) { pm.expect(o.userId).to.equal(v('otherId')); });` },
  },
  {
    op: 'GET /order',
    name: "List orders: a customer filtering by another user -> 403",
    auth: 'customerToken',
    query: { userId: '{{otherId}}' },
    expect: 403,
    problem: 'forbidden',
  },
  {
    op: 'GET /order',
    name: 'List orders: admin filtered by userId',
    auth: 'adminToken',
    query: { userId: '{{customerId}}' },
    expect: 200,
    checks: { "the customer's orders only": `pm.expect(${listIds}).to.include(v('orderId'));\nbody.items.forEach(function (o) { pm.expect(o.userId).to.equal(v('customerId')); });` },
  },
  {
    op: 'GET /order',
    name: 'List orders: admin, all users, page of 1',
    auth: 'adminToken',
    query: { limit: '1' },
    expect: 200,
    checks: { 'one order and a cursor': "pm.expect(body.items).to.have.lengthOf(1);\npm.expect(body.nextCursor).to.be.a('string').and.not.empty;" },
  },
  { op: 'GET /order', name: 'List orders: no token -> 401', expect: 401, ...unauthenticated },
  { op: 'POST /order/{id}/cancel', name: "Cancel: another user's order -> 404", auth: 'otherToken', params: { id: '{{orderId}}' }, expect: 404, problem: 'not-found' },
  { op: 'POST /order/{id}/cancel', name: 'Cancel: a rejected order -> 409', auth: 'customerToken', params: { id: '{{rejectedOrderId}}' }, expect: 409, problem: 'not-cancellable' },
  { op: 'POST /order/{id}/cancel', name: 'Cancel: no token -> 401', params: { id: '{{orderId}}' }, expect: 401, ...unauthenticated },
  {
    op: 'POST /order/{id}/cancel',
    auth: 'customerToken',
    params: { id: '{{orderId}}' },
    expect: 200,
    checks: { 'cancelled': `${orderIs}\npm.expect(body.status).to.equal('cancelled');` },
  },
  {
    op: 'GET /product/{id}',
    name: 'Product: the cancel returned the stock',
    params: { id: '{{productId}}' },
    expect: 200,
    checks: { 'stock back up by 3': stockIs("Number(v('productStock')) + 3") },
    capture: { productStock: 'body.stock' },
  },
  {
    op: 'POST /order/{id}/cancel',
    name: 'Cancel again: a no-op 200',
    auth: 'customerToken',
    params: { id: '{{orderId}}' },
    expect: 200,
    checks: { 'still cancelled': `${orderIs}\npm.expect(body.status).to.equal('cancelled');` },
  },
  {
    op: 'GET /product/{id}',
    name: 'Product: the repeated cancel returned nothing more',
    params: { id: '{{productId}}' },
    expect: 200,
    checks: { 'stock unchanged': stockIs("Number(v('productStock'))") },
  },
  {
    op: 'POST /order',
    name: 'Place an order as the second customer',
    auth: 'otherToken',
    pre: newKey,
    headers: { 'Idempotency-Key': '{{orderKey}}' },
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

const archive: Step[] = [
  { op: 'DELETE /product/{id}', name: 'Archive: no token -> 401', params: { id: '{{productId}}' }, expect: 401, ...unauthenticated },
  { op: 'DELETE /product/{id}', name: 'Archive: customer -> 403', auth: 'customerToken', params: { id: '{{productId}}' }, expect: 403, problem: 'forbidden' },
  { op: 'DELETE /product/{id}', auth: 'adminToken', params: { id: '{{productId}}' }, expect: 204 },
  { op: 'DELETE /product/{id}', name: 'Archive again -> 404', auth: 'adminToken', params: { id: '{{productId}}' }, expect: 404, problem: 'not-found' },
  { op: 'GET /product/{id}', name: 'Product: archived -> 404', params: { id: '{{productId}}' }, expect: 404, problem: 'not-found' },
  {
    op: 'GET /product',
    name: 'Catalog: the archived product is hidden',
    query: { category: '{{productCategory}}' },
    expect: 200,
    checks: { 'no products in the run category': 'pm.expect(body.items).to.eql([]);' },
  },
  { op: 'PATCH /product/{id}', name: 'Update: archived -> 404', auth: 'adminToken', params: { id: '{{productId}}' }, body: { priceCents: 1 }, expect: 404, problem: 'not-found' },
  { op: 'POST /product/{id}/stock', name: 'Stock: archived -> 404', auth: 'adminToken', params: { id: '{{productId}}' }, body: { delta: 1 }, expect: 404, problem: 'not-found' },
  {
    op: 'POST /order',
    name: 'Place an order: archived product -> 404',
    auth: 'customerToken',
    pre: newKey,
    headers: { 'Idempotency-Key': '{{orderKey}}' },
    body: { items: [{ productId: '{{productId}}', quantity: 1 }] },
    expect: 404,
    problem: 'not-found',
  },
  {
    op: 'GET /order/{id}',
    name: 'Order: still readable after its product is archived',
    auth: 'customerToken',
    params: { id: '{{orderId}}' },
    expect: 200,
    checks: { 'kept with its lines and prices': `${orderIs}\npm.expect(body.items).to.eql([{ productId: v('productId'), quantity: 3, unitPriceCents: 2499 }]);` },
  },
];

export const FLOW: readonly Folder[] = [
  { name: 'Accounts and sessions (/user)', description: 'Register, log in, refresh with rotation and reuse detection, log out, admin listing, JWKS and service tokens.', steps: users },
  { name: 'Catalog (/product)', description: 'Public listing, search and filter; admin create, conditional update (If-Match), stock adjustments.', steps: products },
  { name: 'Orders (/order)', description: 'Placement with Idempotency-Key (replay, key reuse), stock effects, visibility, listing, cancellation.', steps: orders },
  { name: 'Archive (/product DELETE)', description: 'Archiving hides a product from the catalog and new orders; old orders keep it.', steps: archive },
];
