// Authorization for every route, including routes added later. The route list is each service's served OpenAPI
// document (`/<service>/openapi.json`) plus the internal routes (hidden from the documents; their methods are read
// from the product service's 405 `Allow`), and every route must be classified in ROUTES below: one missing from the
// table (a new route) or in the table but no longer served fails the test, so a new route is judged before it ships.
// For every protected route x refused caller a request that would otherwise succeed (proved at the end by sending it
// with the right caller) is refused with the documented status, as application/problem+json, with the documented
// WWW-Authenticate, and changes nothing in any table of the three schemas (read before and after).
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, randomUUID, createPublicKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, importPKCS8, type CryptoKey, type JWTPayload } from 'jose';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import pg from 'pg';
import { adminUrlOn, http, login, uniqueEmail } from '@ecommerce/test-support';
import { repoRoot } from '../src/paths.js';
import { startPlatform, type Platform } from '../src/platform.js';

type Service = 'user' | 'product' | 'order';
/** public: no token; user: any signed-in user; admin: an admin's token; a scope: a service token carrying it. */
type Guard = 'public' | 'user' | 'admin' | 'reservations:read' | 'reservations:write';
interface Route {
  service: Service;
  guard: Guard;
  /** The token's account is read on each request (docs/api.md): deleted -> 401 invalid_token, demoted -> 403. */
  rereadsAccount?: boolean;
  /** The `:id` / `:orderId` names a resource of its owner: another customer gets 404, not 403. */
  owned?: boolean;
  /** `?userId=` picks whose list: a customer naming another is 403 (docs/api.md). */
  listsOwners?: boolean;
}

/** Every route there is, keyed as the OpenAPI document spells it. A route missing here fails the test. */
const ROUTES: Record<string, Route> = {
  'POST /user/register': { service: 'user', guard: 'public' },
  'POST /user/login': { service: 'user', guard: 'public' },
  'POST /user/token/refresh': { service: 'user', guard: 'public' },
  'POST /user/logout': { service: 'user', guard: 'public' },
  'GET /user/.well-known/jwks.json': { service: 'user', guard: 'public' },
  // Client secret (HTTP Basic or the body), not a Bearer token: hostile-credentials.test and user.test cover it.
  'POST /user/oauth/token': { service: 'user', guard: 'public' },
  'GET /user/me': { service: 'user', guard: 'user', rereadsAccount: true },
  'GET /user/users': { service: 'user', guard: 'admin', rereadsAccount: true },
  'GET /product': { service: 'product', guard: 'public' },
  'GET /product/categories': { service: 'product', guard: 'public' },
  'GET /product/{id}': { service: 'product', guard: 'public' },
  'POST /product': { service: 'product', guard: 'admin' },
  'PATCH /product/{id}': { service: 'product', guard: 'admin' },
  'POST /product/{id}/stock': { service: 'product', guard: 'admin' },
  'DELETE /product/{id}': { service: 'product', guard: 'admin' },
  'POST /order': { service: 'order', guard: 'user' },
  'GET /order': { service: 'order', guard: 'user', listsOwners: true },
  'GET /order/{id}': { service: 'order', guard: 'user', owned: true },
  'POST /order/{id}/cancel': { service: 'order', guard: 'user', owned: true },
  'POST /internal/reservations': { service: 'product', guard: 'reservations:write' },
  'GET /internal/reservations': { service: 'product', guard: 'reservations:read' },
  'GET /internal/reservations/{orderId}': { service: 'product', guard: 'reservations:read' },
  'DELETE /internal/reservations/{orderId}': { service: 'product', guard: 'reservations:write' },
};
/** The internal paths (not in any OpenAPI document) and a concrete path for each, to ask its `Allow`. */
const INTERNAL_PATHS = ['/internal/reservations', '/internal/reservations/{orderId}'];

interface Request {
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
}
interface Caller {
  name: string;
  authorization: () => Promise<string | undefined>;
  status: 401 | 403 | 404;
  /** The exact WWW-Authenticate, or a pattern; null: none documented. */
  challenge: string | RegExp | null;
  /** A query string this caller adds to the request. */
  query?: () => string;
  /** Refused by the route's handler (whose resource, whose list), after the request is validated, not by its guard. */
  byHandler?: boolean;
}

let platform: Platform;
const base = {} as Record<Service, string>;
let db: pg.Client;
let signingKey: CryptoKey;
let publicPem: string;
const otherKey = generateKeyPairSync('ed25519').privateKey;
const clients = {
  order: { id: 'order-service', secret: randomBytes(18).toString('base64url'), scopes: ['reservations:write', 'reservations:read'] },
  reader: { id: 'reader', secret: randomBytes(18).toString('base64url'), scopes: ['reservations:read'] },
  writer: { id: 'writer', secret: randomBytes(18).toString('base64url'), scopes: ['reservations:write'] },
};
const t = {} as Record<'admin' | 'alice' | 'bob' | 'demoted' | 'deleted' | 'order' | 'reader' | 'writer' | 'noScope', string>;
const ids = { alice: '', bob: '', demoted: '', deleted: '', products: [] as string[], archivable: '', aliceOrder: '', reservedOrder: '' };
const served = new Map<string, Route>();
const cases: { route: string; caller: string; status: number }[] = [];

const serviceToken = async (c: { id: string; secret: string }) => {
  const res = await http<{ access_token: string }>(base.user, 'POST', '/user/oauth/token', { body: { grant_type: 'client_credentials', client_id: c.id, client_secret: c.secret } });
  assert.equal(res.status, 200, res.text);
  return res.body.access_token;
};

/** Re-signs a real token's claims with changes: `key` null signs with the user service's own key. */
async function forge(real: string, changes: { payload?: JWTPayload; header?: Record<string, unknown>; key?: CryptoKey | Uint8Array; alg?: string } = {}): Promise<string> {
  const header = { ...decodeProtectedHeader(real), ...(changes.alg ? { alg: changes.alg } : {}), ...changes.header };
  const payload = { ...decodeJwt(real), ...changes.payload };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  for (const [k, v] of Object.entries(header)) if (v === undefined) delete (header as Record<string, unknown>)[k];
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(changes.key ?? signingKey);
}
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** Every refusal a valid token of the right kind can be turned into, whatever the route. */
function tokenRefusals(real: () => string, kind: 'user' | 'service'): Caller[] {
  const invalid = /^Bearer error="invalid_token"/;
  const c = (name: string, authorization: () => Promise<string | undefined>): Caller => ({ name, authorization, status: 401, challenge: invalid });
  const bearer = (f: () => Promise<string>) => async () => `Bearer ${await f()}`;
  const otherSigner = async () => importPKCS8(otherKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'EdDSA');
  return [
    { name: 'no token', authorization: async () => undefined, status: 401, challenge: 'Bearer' },
    { name: 'another scheme', authorization: async () => `Basic ${Buffer.from('a:b').toString('base64')}`, status: 401, challenge: 'Bearer' },
    c('malformed token', async () => 'Bearer not-a-jwt'),
    c('two tokens', async () => `Bearer ${real()} ${real()}`),
    c('token padded', async () => `Bearer ${real()}=`),
    c('signature cut', async () => `Bearer ${real().slice(0, -4)}`),
    c('alg none', async () => {
      const [h, p] = real().split('.');
      const header = { ...JSON.parse(Buffer.from(h!, 'base64url').toString()), alg: 'none' };
      return `Bearer ${b64(header)}.${p}.`;
    }),
    c('alg none, signature kept', async () => {
      const [h, p, s] = real().split('.');
      const header = { ...JSON.parse(Buffer.from(h!, 'base64url').toString()), alg: 'none' };
      return `Bearer ${b64(header)}.${p}.${s}`;
    }),
    c('HS256 keyed with the public key (PEM)', bearer(() => forge(real(), { alg: 'HS256', key: new TextEncoder().encode(publicPem) }))),
    c('HS256 keyed with the public key (raw)', bearer(() => forge(real(), { alg: 'HS256', key: new Uint8Array(createPublicKey(publicPem).export({ format: 'der', type: 'spki' }).subarray(-32)) }))),
    c('another Ed25519 key, same kid', bearer(async () => forge(real(), { key: await otherSigner() }))),
    c('another Ed25519 key, no kid', bearer(async () => forge(real(), { key: await otherSigner(), header: { kid: undefined } }))),
    c('the attacker\'s key embedded in the header (jwk)', bearer(async () => {
      const jwk = await exportJWK(createPublicKey(otherKey));
      return forge(real(), { key: await otherSigner(), header: { kid: undefined, jwk } });
    })),
    c('ES256 with another key, same kid', bearer(async () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      return forge(real(), { alg: 'ES256', key: await importPKCS8(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'ES256') });
    })),
    c('claims changed after signing', async () => {
      const [h, , s] = real().split('.');
      const claims = decodeJwt(real());
      const payload = { ...claims, exp: (claims.exp ?? now()) + 60, ...(kind === 'user' ? { role: 'admin' } : { scope: 'reservations:read reservations:write' }) };
      return `Bearer ${h}.${b64(payload)}.${s}`;
    }),
    c('wrong issuer', bearer(() => forge(real(), { payload: { iss: 'https://attacker.example' } }))),
    c('wrong audience', bearer(() => forge(real(), { payload: { aud: 'somebody-else' } }))),
    c('no audience', bearer(() => forge(real(), { payload: { aud: undefined } }))),
    c('expired', bearer(() => forge(real(), { payload: { iat: now() - 1000, exp: now() - 60 } }))),
    c('issued more than an hour ago, exp ahead', bearer(() => forge(real(), { payload: { iat: now() - 3700, exp: now() + 600 } }))),
    c('issued in the future', bearer(() => forge(real(), { payload: { iat: now() + 600, exp: now() + 1200 } }))),
    c('no exp', bearer(() => forge(real(), { payload: { exp: undefined } }))),
    c('no iat', bearer(() => forge(real(), { payload: { iat: undefined } }))),
    c('typ JWT, not at+jwt', bearer(() => forge(real(), { header: { typ: 'JWT' } }))),
    c('no typ', bearer(() => forge(real(), { header: { typ: undefined } }))),
    ...(kind === 'user'
      ? [
          c('role not one of the roles', bearer(() => forge(real(), { payload: { role: 'superuser' } }))),
          c('sub not a UUID', bearer(() => forge(real(), { payload: { sub: 'admin' } }))),
          c('service token as a user token', bearer(async () => t.order)),
          c('a token of the user audience without a role', bearer(() => forge(t.order, { payload: { aud: decodeJwt(t.alice).aud } }))),
        ]
      : [
          c('user token as a service token', bearer(async () => t.admin)),
        ]),
  ];
}

/** The request that succeeds with `right()`; `right` names the caller that may send it. */
function requestFor(key: string): { right: () => string; request: () => Request; success: number } {
  const admin = () => t.admin;
  switch (key) {
    case 'GET /user/me':
      return { right: () => t.alice, request: () => ({ path: '/user/me' }), success: 200 };
    case 'GET /user/users':
      return { right: admin, request: () => ({ path: '/user/users' }), success: 200 };
    case 'POST /product':
      return { right: admin, request: () => ({ path: '/product', body: { sku: `AUTHZ-${randomUUID()}`, name: 'Authz', priceCents: 100, stock: 5 } }), success: 201 };
    case 'PATCH /product/{id}':
      return { right: admin, request: () => ({ path: `/product/${ids.products[0]}`, body: { name: 'Renamed by authz' } }), success: 200 };
    case 'POST /product/{id}/stock':
      return { right: admin, request: () => ({ path: `/product/${ids.products[0]}/stock`, body: { delta: 1 } }), success: 200 };
    case 'DELETE /product/{id}':
      return { right: admin, request: () => ({ path: `/product/${ids.archivable}` }), success: 204 };
    case 'POST /order':
      return { right: () => t.alice, request: () => ({ path: '/order', headers: { 'idempotency-key': randomUUID() }, body: { items: [{ productId: ids.products[1], quantity: 1 }] } }), success: 201 };
    case 'GET /order':
      return { right: () => t.alice, request: () => ({ path: '/order' }), success: 200 };
    case 'GET /order/{id}':
      return { right: () => t.alice, request: () => ({ path: `/order/${ids.aliceOrder}` }), success: 200 };
    case 'POST /order/{id}/cancel':
      return { right: () => t.alice, request: () => ({ path: `/order/${ids.aliceOrder}/cancel` }), success: 200 };
    case 'POST /internal/reservations':
      return { right: () => t.writer, request: () => ({ path: '/internal/reservations', body: { orderId: randomUUID(), items: [{ productId: ids.products[1], quantity: 1 }] } }), success: 201 };
    case 'GET /internal/reservations':
      return { right: () => t.reader, request: () => ({ path: '/internal/reservations' }), success: 200 };
    case 'GET /internal/reservations/{orderId}':
      return { right: () => t.reader, request: () => ({ path: `/internal/reservations/${ids.reservedOrder}` }), success: 200 };
    case 'DELETE /internal/reservations/{orderId}':
      return { right: () => t.writer, request: () => ({ path: `/internal/reservations/${ids.reservedOrder}` }), success: 200 };
    default:
      throw new Error(`${key}: a protected route without a request that succeeds; add one to requestFor`);
  }
}

/** The refused callers of one route, from its guard. */
function refusalsOf(route: Route, right: () => string): Caller[] {
  const kind = route.guard === 'user' || route.guard === 'admin' ? 'user' : 'service';
  const callers = tokenRefusals(right, kind);
  const forbidden = (name: string, token: () => string, challenge: string | RegExp | null = null): Caller => ({ name, authorization: async () => `Bearer ${token()}`, status: 403, challenge });
  const invalidToken = (name: string, token: () => string): Caller => ({ name, authorization: async () => `Bearer ${token()}`, status: 401, challenge: /^Bearer error="invalid_token"/ });
  if (route.guard === 'admin') {
    callers.push(forbidden('a customer', () => t.alice));
    callers.push({ name: 'a customer signed with the real key', authorization: async () => `Bearer ${await forge(t.admin, { payload: { role: 'customer' } })}`, status: 403, challenge: null });
  }
  if (route.rereadsAccount) {
    callers.push(invalidToken('a deleted account', () => t.deleted));
    if (route.guard === 'admin') callers.push(forbidden('a demoted admin', () => t.demoted));
  }
  if (route.owned) callers.push({ name: "another customer's resource", authorization: async () => `Bearer ${t.bob}`, status: 404, challenge: null, byHandler: true });
  if (route.listsOwners) callers.push({ name: "a customer asking for another customer's list", authorization: async () => `Bearer ${t.bob}`, status: 403, challenge: null, byHandler: true, query: () => `userId=${ids.alice}` });
  if (route.guard === 'reservations:read' || route.guard === 'reservations:write') {
    const other = route.guard === 'reservations:read' ? () => t.writer : () => t.reader;
    callers.push(forbidden(`a service token without ${route.guard}`, other, `Bearer error="insufficient_scope", error_description="Scope ${route.guard} is required", scope="${route.guard}"`));
    callers.push(forbidden(`a service token with no scope`, () => t.noScope, /^Bearer error="insufficient_scope"/));
  }
  return callers;
}

/**
 * Every row of every table of the three schemas, as text: what a refused request must leave as it was. But the rate
 * counters of the public sign-in routes, which the user service prunes on its own clock (a 60 s window: a slow run
 * would see setup's rows go) and which no Bearer route touches.
 */
async function state(): Promise<string> {
  const tables = await db.query<{ s: string; t: string }>(
    `SELECT table_schema AS s, table_name AS t FROM information_schema.tables
      WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
        AND (table_schema, table_name) <> ('users', 'request_counts') ORDER BY 1, 2`,
  );
  const names = tables.rows.map((r) => `${r.s}.${r.t}`);
  for (const table of ['users.users', 'users.refresh_tokens', 'catalog.products', 'catalog.reservations', 'orders.orders']) assert.ok(names.includes(table), `${table} is read (${names.join(', ')})`);
  const out: string[] = [];
  for (const { s, t: name } of tables.rows) {
    const rows = await db.query(`SELECT to_jsonb(x)::text AS j FROM "${s}"."${name}" x ORDER BY 1`);
    out.push(`${s}.${name}: ${rows.rows.map((r: { j: string }) => r.j).join('\n')}`);
  }
  return out.join('\n');
}

before(
  async () => {
    const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    publicPem = createPublicKey(pem).export({ format: 'pem', type: 'spki' }).toString();
    signingKey = await importPKCS8(pem, 'EdDSA');
    const serviceClients = [...Object.values(clients), { id: 'no-scope', secret: 'no-scope-secret-000000000', scopes: [] as string[] }];
    platform = await startPlatform({
      serviceEnv: {
        user: { JWT_PRIVATE_KEY: pem, SERVICE_CLIENTS: JSON.stringify(serviceClients), REGISTER_MAX_PER_ADDRESS: '1000' },
        order: { SERVICE_CLIENT_ID: clients.order.id, SERVICE_CLIENT_SECRET: clients.order.secret },
      },
    });
    for (const s of ['user', 'product', 'order'] as const) base[s] = platform.procs[s].base;
    t.admin = await login(base.user, platform.admin.email, platform.admin.password);
    const jwks = await http<{ keys: { kid: string }[] }>(base.user, 'GET', '/user/.well-known/jwks.json');
    assert.equal(decodeProtectedHeader(t.admin).kid, jwks.body.keys[0]!.kid, 'the user service signs with the key the test gave it');
    for (const who of ['alice', 'bob', 'demoted', 'deleted'] as const) {
      const email = uniqueEmail(who);
      const reg = await http<{ id: string }>(base.user, 'POST', '/user/register', { body: { email, password: 'authz-route-pass-1', name: who } });
      assert.equal(reg.status, 201, reg.text);
      ids[who] = reg.body.id;
      t[who] = await login(base.user, email, 'authz-route-pass-1');
    }
    t.order = await serviceToken(clients.order);
    t.reader = await serviceToken(clients.reader);
    t.writer = await serviceToken(clients.writer);
    for (let i = 0; i < 3; i++) {
      const p = await http<{ id: string }>(base.product, 'POST', '/product', { token: t.admin, body: { sku: `AUTHZ-${randomUUID()}`, name: `Authz ${i}`, priceCents: 100, stock: 100 } });
      assert.equal(p.status, 201, p.text);
      if (i < 2) ids.products.push(p.body.id);
      else ids.archivable = p.body.id;
    }
    const o = await http<{ id: string }>(base.order, 'POST', '/order', { token: t.alice, headers: { 'idempotency-key': randomUUID() }, body: { items: [{ productId: ids.products[0], quantity: 1 }] } });
    assert.equal(o.status, 201, o.text);
    ids.aliceOrder = o.body.id;
    ids.reservedOrder = randomUUID();
    const r = await http(base.product, 'POST', '/internal/reservations', { token: t.writer, body: { orderId: ids.reservedOrder, items: [{ productId: ids.products[0], quantity: 1 }] } });
    assert.equal(r.status, 201, r.text);
    db = new pg.Client({ connectionString: adminUrlOn(platform.db) });
    await db.connect();
    // Two admins, one demoted and one deleted after their tokens were issued (as an operator would, in SQL), each
    // token used first, so that what a service remembers of a verified token is warm when the account changes.
    for (const who of ['demoted', 'deleted'] as const) {
      await db.query(`UPDATE users.users SET role = 'admin' WHERE id = $1`, [ids[who]]);
      t[who] = await login(base.user, (await db.query<{ email: string }>('SELECT email FROM users.users WHERE id = $1', [ids[who]])).rows[0]!.email, 'authz-route-pass-1');
      assert.equal(decodeJwt(t[who]).role, 'admin');
      for (const path of ['/user/me', '/user/users']) {
        const res = await http(base.user, 'GET', path, { token: t[who] });
        assert.equal(res.status, 200, `${who} before the change, ${path}: ${res.text}`);
      }
    }
    await db.query(`UPDATE users.users SET role = 'customer' WHERE id = $1`, [ids.demoted]);
    await db.query('DELETE FROM users.refresh_tokens WHERE user_id = $1', [ids.deleted]);
    await db.query('DELETE FROM users.users WHERE id = $1', [ids.deleted]);
    t.noScope = await serviceToken({ id: 'no-scope', secret: 'no-scope-secret-000000000' }).catch(() => '');
  },
  { timeout: 120_000 },
);

after(async () => {
  await db?.end().catch(() => undefined);
  await platform?.stop();
});

describe('authorization of every route', () => {
  it('when the served OpenAPI documents and the internal routes are listed, then each route is classified in the table, and each entry is served', async () => {
    for (const service of ['user', 'product', 'order'] as const) {
      const doc = await http<{ paths: Record<string, Record<string, { security?: unknown[] }>> }>(base[service], 'GET', `/${service}/openapi.json`);
      assert.equal(doc.status, 200, doc.text);
      for (const [path, ops] of Object.entries(doc.body.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          if (!['get', 'post', 'put', 'patch', 'delete', 'head', 'options'].includes(method)) continue;
          const key = `${method.toUpperCase()} ${path}`;
          const route = ROUTES[key];
          assert.ok(route, `${key} is served (in /${service}/openapi.json) and not classified in route-authorization.test's ROUTES: say who may call it`);
          assert.equal(route.service, service, key);
          // The document says the same: a route taking a Bearer token lists `security`, a public one does not.
          const bearer = (op.security ?? []).some((s) => typeof s === 'object' && s !== null && 'bearer' in s);
          assert.equal(bearer, route.guard !== 'public', `${key}: its OpenAPI security ${JSON.stringify(op.security)} against its guard ${route.guard}`);
          served.set(key, route);
        }
      }
    }
    for (const path of INTERNAL_PATHS) {
      const res = await fetch(`${base.product}${path.replace('{orderId}', randomUUID())}`, { method: 'PUT' });
      assert.equal(res.status, 405, `${path}: ${await res.text()}`);
      for (const method of (res.headers.get('allow') ?? '').split(',').map((m) => m.trim())) {
        if (method === 'HEAD' || method === 'OPTIONS') continue;
        const key = `${method} ${path}`;
        assert.ok(ROUTES[key], `${key} is served on the product service and not classified in ROUTES`);
        served.set(key, ROUTES[key]);
      }
    }
    const stale = Object.keys(ROUTES).filter((k) => !served.has(k));
    assert.deepEqual(stale, [], 'routes in the table that no service serves any more');
  });

  it('when the services\' route files are read, then every route they register is in the table (a route hidden from the documents too)', async () => {
    // A path is written as a string or as a constant (`USER_TOKEN_PATH`) of the shared contracts or the service.
    const sources = async (dir: string) => {
      const out: { file: string; text: string }[] = [];
      for (const file of await readdir(dir, { recursive: true })) if (file.endsWith('.ts')) out.push({ file: join(dir, file), text: await readFile(join(dir, file), 'utf8') });
      return out;
    };
    const constants = new Map<string, string>();
    for (const { text } of [...(await sources(join(repoRoot, 'packages', 'contracts', 'src'))), ...(await sources(join(repoRoot, 'services')).then((all) => all.filter((f) => f.file.includes('/src/'))))]) {
      for (const m of text.matchAll(/\bconst ([A-Z][A-Z0-9_]*) = '([^']*)'/g)) constants.set(m[1]!, m[2]!);
    }
    const found: string[] = [];
    for (const service of ['user', 'product', 'order'] as const) {
      for (const { file, text } of await sources(join(repoRoot, 'services', service, 'src', 'routes'))) {
        const calls = [...text.matchAll(/\bapp\.(get|post|put|patch|delete|head|options|all|route)\(\s*(?:'([^']*)'|([A-Z][A-Z0-9_]*)\b)?/g)];
        for (const m of calls) {
          const path = m[2] ?? (m[3] ? constants.get(m[3]) : undefined);
          // A route registered another way (app.route({...}), a computed path) is not read here: say so by failing.
          assert.ok(path !== undefined && m[1] !== 'route' && m[1] !== 'all', `${file}: a route this test cannot read (${m[0]})`);
          const key = `${m[1]!.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}')}`;
          found.push(key);
          assert.ok(ROUTES[key], `${file} registers ${key}, not classified in ROUTES`);
        }
      }
    }
    assert.deepEqual(Object.keys(ROUTES).filter((k) => !found.includes(k)).sort(), [], 'routes in the table that no route file registers');
  });

  it('when a protected route is called by any caller it refuses, then the documented status and challenge are answered, as a problem, and nothing changes', { timeout: 300_000 }, async () => {
    assert.ok(served.size > 0, 'the route list is read first');
    assert.ok(t.noScope, 'a client with no scope gets a token');
    const before = await state();
    const failures: string[] = [];
    const gateway = platform.procs.gateway.base;
    for (const [key, route] of served) {
      if (route.guard === 'public') continue;
      const method = key.split(' ')[0]!;
      const internal = key.includes(' /internal/');
      const { right, request } = requestFor(key);
      // Each refusal at the service itself and through the gateway (the internal routes are not routed there: 404 for
      // every caller, the right one included), and for a GET its HEAD too (Fastify's HEAD route of it).
      const callers = [...refusalsOf(route, right), ...(internal ? [{ name: 'the right caller', authorization: async () => `Bearer ${right()}`, status: 404, challenge: null } as Caller] : [])];
      // Directly also with what would be refused later if the caller were let through (docs/api.md: credentials come
      // first): a precondition that fails, and a body or query member the route does not take.
      const variants = ['as is', 'with a failing precondition', 'with an unknown member'] as const;
      for (const via of ['direct', 'gateway'] as const) {
        for (const verb of method === 'GET' ? ['GET', 'HEAD'] : [method]) {
          for (const variant of via === 'direct' ? variants : variants.slice(0, 1)) {
          for (const caller of callers) {
            if (caller.name === 'the right caller' && via === 'direct') continue;
            // Another customer's order (404) or list (403) is refused by the handler, after validation: a bad body or
            // query is a 400 whoever's the order, which says nothing of it.
            if (variant === 'with an unknown member' && caller.byHandler) continue;
            const req = request();
            const headers: Record<string, string> = { ...req.headers };
            const authorization = await caller.authorization();
            if (authorization !== undefined) headers.authorization = authorization;
            let query = caller.query?.();
            if (variant === 'with a failing precondition') {
              if (verb === 'GET' || verb === 'HEAD') headers['if-none-match'] = '*';
              else headers['if-match'] = '"no-such-version"';
            }
            if (variant === 'with an unknown member') {
              if (req.body !== undefined) req.body = { ...(req.body as object), unknownMember: 1 };
              else query = query ? `${query}&unknownMember=1` : 'unknownMember=1';
            }
            const path = query ? `${req.path}?${query}` : req.path;
            const status = via === 'gateway' && internal ? 404 : caller.status;
            const challengeWanted = via === 'gateway' && internal ? null : caller.challenge;
            const res = await http<{ status?: number }>(via === 'direct' ? base[route.service] : gateway, verb, path, { headers, body: req.body });
            cases.push({ route: key, caller: caller.name, status: res.status });
            const where = `${verb} ${path} (${key}, ${via}, ${variant}) as ${caller.name}`;
            const challenge = res.headers.get('www-authenticate');
            if (res.status !== status) failures.push(`${where}: ${res.status}, expected ${status}: ${res.text.slice(0, 200)}`);
            else if (!res.headers.get('content-type')?.startsWith('application/problem+json') || (verb !== 'HEAD' && res.body.status !== status)) failures.push(`${where}: not a problem with status ${status}: ${res.text.slice(0, 200)}`);
            else if (challengeWanted === null ? challenge !== null : typeof challengeWanted === 'string' ? challenge !== challengeWanted : !challengeWanted.test(challenge ?? '')) {
              failures.push(`${where}: WWW-Authenticate ${JSON.stringify(challenge)}, expected ${String(challengeWanted)}`);
            }
          }
          }
        }
      }
    }
    const afterwards = await state();
    assert.deepEqual(failures, [], `${failures.length} of ${cases.length} refusals wrong:\n${failures.join('\n')}`);
    assert.equal(afterwards, before, 'a refused request changed the database');
    const routes = new Set(cases.map((c) => c.route)).size;
    console.log(`route-authorization: ${cases.length} refused route x caller cases over ${routes} protected routes held`);
  });

  it('when a valid token has any one character replaced, then every protected route refuses it with 401 invalid_token, and nothing changes', { timeout: 120_000 }, async () => {
    const protectedRoutes = [...served].filter(([, r]) => r.guard !== 'public');
    assert.ok(protectedRoutes.length > 0, 'the route list is read first');
    const before = await state();
    const wrong: string[] = [];
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...protectedRoutes), fc.nat(), fc.integer({ min: 0x20, max: 0x7e }), async ([key, route], at, code) => {
        const { right, request } = requestFor(key);
        const token = right();
        const i = at % token.length;
        const mutated = token.slice(0, i) + String.fromCharCode(code) + token.slice(i + 1);
        fc.pre(mutated !== token);
        runs++;
        const req = request();
        const res = await http<{ status?: number }>(base[route.service], key.split(' ')[0]!, req.path, { headers: { ...req.headers, authorization: `Bearer ${mutated}` }, body: req.body });
        const challenge = res.headers.get('www-authenticate') ?? '';
        if (res.status !== 401 || !/^Bearer error="invalid_token"/.test(challenge) || !res.headers.get('content-type')?.startsWith('application/problem+json')) {
          wrong.push(`${key} with character ${i} of ${token.length} replaced by ${JSON.stringify(String.fromCharCode(code))}: ${res.status} ${challenge} ${res.text.slice(0, 160)}`);
        }
      }),
      { numRuns: 300 },
    );
    assert.deepEqual(wrong, []);
    assert.equal(await state(), before, 'a refused request changed the database');
    assert.ok(runs > 250, `${runs} runs`);
  });

  it('when each protected route is sent the same request by the caller it serves, then it succeeds (the refusals were of requests that would succeed)', async () => {
    assert.ok(cases.length > 0, 'the refusals ran first');
    // Orders before the product archive and the reservation release, which the others would find gone.
    const order = ['GET', 'POST', 'PATCH', 'DELETE'];
    const keys = [...served].filter(([, r]) => r.guard !== 'public').map(([k]) => k).sort((a, b) => order.indexOf(a.split(' ')[0]!) - order.indexOf(b.split(' ')[0]!));
    for (const key of keys) {
      const route = served.get(key)!;
      const { right, request, success } = requestFor(key);
      const req = request();
      const res = await http(base[route.service], key.split(' ')[0]!, req.path, { headers: { ...req.headers, authorization: `Bearer ${right()}` }, body: req.body });
      assert.equal(res.status, success, `${key} as its right caller: ${res.text.slice(0, 300)}`);
    }
    // The public reads need no token at all.
    const publicReads: Record<string, string> = { 'GET /user/.well-known/jwks.json': '/user/.well-known/jwks.json', 'GET /product': '/product', 'GET /product/categories': '/product/categories', 'GET /product/{id}': `/product/${ids.products[0]}` };
    for (const [key, route] of served) {
      if (route.guard !== 'public' || !key.startsWith('GET ')) continue;
      assert.ok(publicReads[key], `${key}: a public read without a request in publicReads`);
      const res = await http(base[route.service], 'GET', publicReads[key]);
      assert.equal(res.status, 200, `${key} with no token: ${res.text.slice(0, 300)}`);
    }
  });
});
