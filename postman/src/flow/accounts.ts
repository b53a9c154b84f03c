// Folder 1: register, log in, refresh with rotation and reuse detection, log out, admin listing, JWKS and
// service tokens. Later folders use what this one captures (customerToken, otherToken, adminToken, ...).
import type { Folder, Step } from '../flow-types.js';
import { fails, forbidden, invalid, jwtClaims, noSecrets, noToken, ok, unauthorized } from './steps.js';

const isCustomer = `
  pm.expect(body.id).to.equal(v('customerId'));
  pm.expect(body.email).to.equal(v('customerEmail').toLowerCase());
`;
const asCustomer = { email: '{{customerEmail}}', password: '{{customerPassword}}' };
const grant = { grant_type: 'client_credentials', client_id: '{{serviceClientId}}', client_secret: '{{serviceClientSecret}}' };

const steps: Step[] = [
  {
    op: 'POST /user/register',
    pre: `
      pm.collectionVariables.set('runId', Date.now().toString(36) + Math.random().toString(36).slice(2, 8));
      pm.collectionVariables.set('customerEmail', 'Customer.' + pm.collectionVariables.get('runId') + '@Example.com');
      pm.collectionVariables.set('customerPassword', 'correct-horse-' + pm.collectionVariables.get('runId'));
    `,
    headers: { 'Idempotency-Key': 'register-{{runId}}' },
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
    name: 'Register: the same Idempotency-Key again (a retry after a lost answer) -> 201, the same account',
    headers: { 'Idempotency-Key': 'register-{{runId}}' },
    body: { email: '{{customerEmail}}', password: '{{customerPassword}}', name: 'Postman Customer' },
    expect: 201,
    checks: { 'the account the first try made, not 409 email-taken': isCustomer },
  },
  fails(422, 'idempotency-key-reused')('POST /user/register', 'Register: the same Idempotency-Key with another body -> 422', {
    headers: { 'Idempotency-Key': 'register-{{runId}}' },
    body: { email: '{{customerEmail}}', password: 'another-password-{{runId}}', name: 'Postman Customer' },
  }),
  fails(409, 'email-taken')('POST /user/register', 'Register: email taken (case-insensitive) -> 409', {
    body: { email: '{{customerEmailUpper}}', password: 'another-password', name: 'Twin' },
    pre: "pm.collectionVariables.set('customerEmailUpper', pm.collectionVariables.get('customerEmail').toUpperCase());",
  }),
  invalid('POST /user/register', 'Register: invalid body -> 400 with errors[].path', ['/email', '/password', '/isAdmin'], { body: { email: 'not-an-email', password: 'short', name: 'X', isAdmin: true } }),
  unauthorized('POST /user/login', 'Log in: wrong password -> 401', {
    body: { email: '{{customerEmail}}', password: 'wrong-password' },
    capture: { loginFailure: 'JSON.stringify({ type: body.type, title: body.title, detail: body.detail })' },
  }),
  unauthorized('POST /user/login', 'Log in: unknown email -> the same 401', {
    body: { email: 'nobody.{{runId}}@example.com', password: 'wrong-password' },
    checks: { 'same answer as a wrong password (no account enumeration)': "pm.expect(JSON.stringify({ type: body.type, title: body.title, detail: body.detail })).to.equal(v('loginFailure'));" },
  }),
  invalid('POST /user/login', 'Log in: missing password -> 400', ['/password'], { body: { email: '{{customerEmail}}' } }),
  {
    op: 'POST /user/login',
    body: asCustomer,
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
      'the caller': `${isCustomer}
        pm.expect(body.role).to.equal('customer');
        ${noSecrets}`,
      'the X-Request-Id sent is echoed': "pm.expect(pm.response.headers.get('X-Request-Id')).to.equal('postman-' + v('runId') + '-me');",
    },
  },
  noToken('GET /user/me', 'Me: no token -> 401'),
  unauthorized('GET /user/me', 'Me: invalid token -> 401', { bearer: 'not-a-jwt' }),
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
  unauthorized('POST /user/token/refresh', 'Refresh: spent token reused -> 401', { body: { refreshToken: '{{spentRefresh}}' } }),
  unauthorized('POST /user/token/refresh', 'Refresh: the reuse revoked the family -> 401 for the newest token too', { body: { refreshToken: '{{customerRefresh}}' } }),
  // Any string is judged as a token (an unknown one is 401); one that is no string is malformed.
  invalid('POST /user/token/refresh', 'Refresh: malformed token -> 400', ['/refreshToken'], { body: { refreshToken: 12345 } }),
  { op: 'POST /user/login', name: 'Log in again (new session)', body: asCustomer, expect: 200, capture: { customerToken: 'body.accessToken', customerRefresh: 'body.refreshToken' } },
  { op: 'POST /user/logout', body: { refreshToken: '{{customerRefresh}}' }, expect: 204 },
  unauthorized('POST /user/logout', 'Log out: already revoked -> 401', { body: { refreshToken: '{{customerRefresh}}' } }),
  unauthorized('POST /user/token/refresh', 'Refresh: after logout -> 401', { body: { refreshToken: '{{customerRefresh}}' } }),
  {
    op: 'POST /user/register',
    name: 'Register a second customer',
    pre: "pm.collectionVariables.set('otherEmail', 'other.' + pm.collectionVariables.get('runId') + '@example.com');",
    body: { email: '{{otherEmail}}', password: 'correct-horse-other', name: 'Other Customer' },
    expect: 201,
    capture: { otherId: 'body.id' },
  },
  { op: 'POST /user/login', name: 'Log in as the second customer', body: { email: '{{otherEmail}}', password: 'correct-horse-other' }, expect: 200, capture: { otherToken: 'body.accessToken' } },
  forbidden('GET /user/users', 'List accounts: customer -> 403', { auth: 'customerToken' }),
  noToken('GET /user/users', 'List accounts: no token -> 401'),
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
  invalid('GET /user/users', 'List accounts: limit out of range -> 400', ['querystring/limit'], { auth: 'adminToken', query: { limit: '101' } }),
  ok('GET /user/users', 'Look up accounts by id (admin): a batch, ?id=a&id=b&id=<unknown>', {
    auth: 'adminToken',
    query: { id: ['{{otherId}}', '{{customerId}}', '{{$guid}}'] },
    note: 'The customers of a page of orders in one request (at most 100 ids); an id that names no account is left out, not a 404.',
    checks: {
      'exactly the two accounts, in id order; the unknown id is left out': `
        const ids = [v('customerId'), v('otherId')].sort();
        pm.expect(body.items.map(function (u) { return u.id; })).to.eql(ids);
        pm.expect(body.nextCursor).to.equal(null);
        const customer = body.items.find(function (u) { return u.id === v('customerId'); });
        pm.expect(customer.email).to.equal(v('customerEmail').toLowerCase());
        pm.expect(customer.role).to.equal('customer');
        body.items.forEach(function (u) { ${noSecrets.replace('body', 'u')} });
      `,
    },
  }),
  invalid('GET /user/users', 'Look up accounts by id: more than 100 ids -> 400', ['querystring/id'], {
    auth: 'adminToken',
    query: { id: Array.from({ length: 101 }, (_, i) => `00000000-0000-7000-8000-${i.toString(16).padStart(12, '0')}`) },
  }),
  invalid('GET /user/users', 'Look up accounts by id: an id that is no UUID -> 400', ['querystring/id/1'], { auth: 'adminToken', query: { id: ['{{customerId}}', 'not-a-uuid'] } }),
  ok('GET /user/users', 'Look up an account by email (admin), in another letter case', {
    auth: 'adminToken',
    pre: "pm.collectionVariables.set('customerEmailUpper', pm.collectionVariables.get('customerEmail').toUpperCase());",
    query: { email: '{{customerEmailUpper}}' },
    note: 'The email was registered mixed case (`Customer.<runId>@Example.com`) and is sent here in capitals: exact, in any letter case.',
    checks: {
      'exactly the registered customer': `
        pm.expect(body.items).to.have.lengthOf(1);
        ${isCustomer.replace(/body\./g, 'body.items[0].')}
        pm.expect(body.nextCursor).to.equal(null);
        ${noSecrets.replace('body', 'body.items[0]')}
      `,
    },
  }),
  ok('GET /user/users', 'Look up an account by email: no such account -> 200, no items', {
    auth: 'adminToken',
    query: { email: 'nobody.{{runId}}@example.com' },
    checks: { 'an empty page, not a 404': "pm.expect(body.items).to.eql([]);\npm.expect(body.nextCursor).to.equal(null);" },
  }),
  ok('GET /user/users', 'Look up accounts by id and email: the accounts matching both', {
    auth: 'adminToken',
    query: { id: '{{otherId}}', email: '{{customerEmail}}' },
    checks: { 'none: the id is the other customer': "pm.expect(body.items).to.eql([]);" },
  }),
  invalid('GET /user/users', 'Look up an account by email: not an address -> 400', ['querystring/email'], { auth: 'adminToken', query: { email: 'not-an-email' } }),
  forbidden('GET /user/users', 'Look up an account by email: customer (their own email) -> 403', { auth: 'customerToken', query: { email: '{{customerEmail}}' } }),
  {
    op: 'GET /user/.well-known/jwks.json',
    expect: 200,
    checks: {
      'public keys only': "body.keys.forEach(function (k) { pm.expect(k).to.not.have.any.keys('d', 'p', 'q', 'dp', 'dq', 'qi', 'k'); });",
      'the key that signed the customer token is published': "pm.expect(body.keys.map(function (k) { return k.kid; })).to.include(v('customerKid'));",
    },
  },
  {
    op: 'POST /user/oauth/token',
    body: grant,
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
  { op: 'POST /user/oauth/token', name: 'Service token: form-encoded grant', form: grant, expect: 200, checks: { 'a Bearer service token': "pm.expect(body.token_type).to.equal('Bearer');" } },
  unauthorized('POST /user/oauth/token', 'Service token: wrong secret -> 401', { body: { ...grant, client_secret: 'wrong-secret' } }),
  invalid('POST /user/oauth/token', 'Service token: unsupported grant -> 400', ['/grant_type'], { body: { ...grant, grant_type: 'password', client_secret: 'wrong-secret' } }),
  unauthorized('GET /user/me', 'Me: a service token is refused on user routes -> 401', { auth: 'serviceToken' }),
];

export const accounts: Folder = {
  name: 'Accounts and sessions (/user)',
  description: 'Register, log in, refresh with rotation and reuse detection, log out, admin listing, JWKS and service tokens.',
  steps,
};
