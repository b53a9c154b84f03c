// Hostile trace headers and secrets, through the whole traced platform (scripts/stack.js with tracing on), sent
// both through the gateway and to the service directly: malformed traceparent/tracestate (W3C Trace Context: an
// invalid traceparent is ignored and a new trace begins; an oversized tracestate is dropped, never a failure), secrets
// in bodies, queries, headers and cookies of requests that fail (none may reach an exported span), and requests
// refused early (Node, the router, the kit's guards): each answered one carries a traceresponse naming its span.
// No log line of any service holds a secret either (each request logs its path, redacted). Last, the database refuses
// a client's values in its own words (the schema changed under the user service): neither its 500s' spans nor their
// "unhandled error" lines hold them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { rawExchange } from '@ecommerce/test-support';
import fc from 'fast-check';
import pg from 'pg';
import type { ReceivedSpan } from '../src/index.js';
import { startTracedStack, type TracedStack } from './traced-stack.js';

const SERVER = 2;
const ADMIN = { email: 'admin@trace-hostile.test', password: `admin-${randomBytes(8).toString('hex')}` };
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const TRACERESPONSE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

interface Sent {
  name: string;
  via: 'gateway' | 'direct';
  raw: string;
  status: number;
  traceresponse: string | undefined;
  /** The caller's trace id when its traceparent is valid (the answer must be in it), else undefined (a new trace). */
  honoured: string | undefined;
  /** Trace ids the answer must not be in (an invalid traceparent's). */
  refused: string[];
}

describe('hostile trace headers and secrets, traced through the gateway and directly', () => {
  let stack: TracedStack;
  const sent: Sent[] = [];
  const secrets: string[] = [];
  const secretTraces: string[] = [];
  const fuzz5xx: string[] = [];
  /** The answers to requests that met a database fault (each must be a 500: the fault was met). */
  const dbFault5xx: number[] = [];
  const logLines: string[] = [];
  /** The traces of the requests to fast-check's hostile paths, and the path each sent. */
  const pathTraces = new Map<string, string>();
  const earlySent: { name: string; via: string; status: number; traceresponse: string | undefined; caller: { traceId: string; spanId: string } }[] = [];

  before(async () => {
    // At info: each request's own line is written, the one a client's path reaches (kit request-log).
    stack = await startTracedStack('trace_hostile', { env: { LOG_LEVEL: 'info', ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password }, onLine: (service, line) => logLines.push(`${service} ${line}`) });
    const traceparents: { name: string; headers: string[]; honoured?: string; refused?: string[] }[] = [];
    const t = hex(16);
    const s = hex(8);
    const add = (name: string, headers: string[], honoured?: string, refused?: string[]) => traceparents.push({ name, headers, ...(honoured ? { honoured } : {}), ...(refused ? { refused } : {}) });
    add('valid', [`traceparent: 00-${t}-${s}-01`], t);
    const u = hex(16);
    add('uppercase hex', [`traceparent: 00-${u.toUpperCase()}-${s.toUpperCase()}-01`], undefined, [u, u.toUpperCase()]);
    const v = hex(16);
    add('version ff', [`traceparent: ff-${v}-${s}-01`], undefined, [v]);
    add('all-zero trace id', [`traceparent: 00-${'0'.repeat(32)}-${s}-01`], undefined, ['0'.repeat(32)]);
    const z = hex(16);
    add('all-zero span id', [`traceparent: 00-${z}-${'0'.repeat(16)}-01`], undefined, [z]);
    const e = hex(16);
    add('version 00 with an extra field', [`traceparent: 00-${e}-${s}-01-extra`], undefined, [e]);
    const w = hex(16);
    add('a trace id one short', [`traceparent: 00-${w.slice(1)}-${s}-01`], undefined, [w.slice(1)]);
    const a = hex(16);
    const b = hex(16);
    add('two traceparent lines', [`traceparent: 00-${a}-${s}-01`, `traceparent: 00-${b}-${s}-01`], undefined, [a, b]);
    const n = hex(16);
    add('non-ASCII', [`traceparent: 00-${n}-${s}-0\u00e9`], undefined, [n]);
    const ts = hex(16);
    add('a tracestate of 500 members', [`traceparent: 00-${ts}-${s}-01`, `tracestate: ${Array.from({ length: 500 }, (_, i) => `k${i}=v${i}`).join(',')}`], ts);
    const tl = hex(16);
    add('a tracestate with a 4000-character value', [`traceparent: 00-${tl}-${s}-01`, `tracestate: k=${'x'.repeat(4000)}`], tl);
    const tb = hex(16);
    add('a malformed tracestate', [`traceparent: 00-${tb}-${s}-01`, 'tracestate: ,,=,a=b=c,,UPPER=1,\u00e9=1'], tb);
    const tt = hex(16);
    add('a future version with extra fields', [`traceparent: 01-${tt}-${s}-01-whatever`], tt);

    const { port: gwPort } = new URL(stack.urls.gateway);
    const { port: productPort } = new URL(stack.urls.product);
    for (const tp of traceparents) {
      for (const [via, port] of [['gateway', gwPort], ['direct', productPort]] as const) {
        const raw = await rawExchange(`http://127.0.0.1:${port}`, `GET /product?limit=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${tp.headers.map((h) => `${h}\r\n`).join('')}\r\n`);
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
        const traceresponse = /\r\ntraceresponse: ([^\r]*)/i.exec(raw)?.[1];
        sent.push({ name: tp.name, via, raw: raw.slice(0, 400), status, traceresponse, honoured: tp.honoured, refused: tp.refused ?? [] });
      }
    }
    // Secrets a client sends, in every place a request has, on requests that fail in every way.
    const gw = stack.urls.gateway;
    for (let i = 0; i < 3; i++) {
      for (const base of [gw, stack.urls.user]) {
        const secret = () => {
          const v = `s3cr3t${hex(16)}`;
          secrets.push(v);
          return v;
        };
        const json = (body: unknown, headers: Record<string, string> = {}) => ({ method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
        const requests: [string, RequestInit][] = [
          ['/user/login', json({ email: `${secret()}@example.test`, password: secret() })],
          ['/user/login', json(`{"email":"a@b.test","password":"${secret()}"`)],
          ['/user/login', json(`{"email":"a@b.test","password":"${secret()}"}x`)],
          ['/user/login', json({ email: 'a@b.test', password: secret(), extra: secret() })],
          ['/user/login', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: `password=${secret()}` }],
          ['/user/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `email=a@b.test&password=${secret()}` }],
          ['/user/register', json({ email: `not an email ${secret()}`, password: secret(), name: secret() })],
          ['/user/register', json({ email: `${secret()}@example.test`, password: 'password', name: 'n' })],
          ['/user/token/refresh', json({}, { cookie: `__Secure-refresh-token=${secret()}` })],
          ['/user/token/refresh', json({ refreshToken: secret() })],
          ['/user/logout', json({ refreshToken: secret() })],
          ['/user/oauth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`order-service:${secret()}`).toString('base64')}` }, body: 'grant_type=client_credentials' }],
          ['/user/oauth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=client_credentials&client_id=order-service&client_secret=${secret()}` }],
          ['/user/oauth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=client_credentials&client_id=order-service&client_secret=${secret()}%ZZ` }],
          ['/user/oauth/token', json({ grant_type: 'client_credentials', client_id: secret(), client_secret: secret() })],
          ['/user/oauth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${secret()}` }, body: 'grant_type=client_credentials' }],
          [`/user/me?token=${secret()}`, { headers: { authorization: `Bearer ${secret()}` } }],
          ['/user/me', { headers: { authorization: `Bearer ${secret()}.${secret()}.${secret()}` } }],
          ['/user/me', { headers: { authorization: `Basic ${secret()}` } }],
          [`/user/users?cursor=${secret()}&limit=${secret()}`, {}],
          [`/product?cursor=${secret()}`, {}],
          [`/product?limit=${secret()}&q=${secret()}`, {}],
          [`/product?q=${secret()}%FF`, {}],
          [`/order?userId=${secret()}`, { headers: { authorization: `Bearer ${secret()}` } }],
          ['/order', json(`{"items":"${secret()}"}`, { 'idempotency-key': secret() })],
        ];
        for (const [path, init] of requests) {
          if (base !== gw && !path.startsWith('/user')) continue;
          const res = await fetch(`${base}${path}`, init);
          await res.arrayBuffer();
          assert.ok(res.status < 500, `${path}: ${res.status}`);
          secretTraces.push(TRACERESPONSE.exec(res.headers.get('traceresponse') ?? '')?.[1] ?? '');
        }
      }
    }
    // The flows that succeed, with their secrets: a registration named by an Idempotency-Key (made, replayed, the key
    // reused with another body: 422), a login, a refresh named by an Idempotency-Key sent twice (the replay answered),
    // a login to the refresh cookie and its refresh, a logout. Every key, email, password and token is a secret.
    for (const base of [gw, stack.urls.user]) {
      const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
        const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
        secretTraces.push(TRACERESPONSE.exec(res.headers.get('traceresponse') ?? '')?.[1] ?? '');
        const text = await res.text();
        return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, string>, cookie: /^[^=]+=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1] };
      };
      const account = { email: `ok${hex(12)}@example.test`, password: `pw-${hex(16)}`, name: 'Keyed' };
      const registerKey = `rk-${hex(16)}`;
      const refreshKey = `fk-${hex(16)}`;
      secrets.push(account.email, account.password, registerKey, refreshKey);
      const registered = [
        await post('/user/register', account, { 'idempotency-key': registerKey }),
        await post('/user/register', account, { 'idempotency-key': registerKey }),
        await post('/user/register', { ...account, name: 'Other' }, { 'idempotency-key': registerKey }),
      ];
      assert.deepEqual(registered.map((r) => r.status), [201, 201, 422]);
      const login = await post('/user/login', { email: account.email, password: account.password });
      const refreshed = [
        await post('/user/token/refresh', { refreshToken: login.body.refreshToken }, { 'idempotency-key': refreshKey }),
        await post('/user/token/refresh', { refreshToken: login.body.refreshToken }, { 'idempotency-key': refreshKey }),
      ];
      const cookieLogin = await post('/user/login', { email: account.email, password: account.password, refreshTokenIn: 'cookie' });
      const cookieRefresh = await post('/user/token/refresh', {}, { cookie: `__Secure-refresh-token=${cookieLogin.cookie ?? ''}` });
      const logout = await post('/user/logout', { refreshToken: refreshed[0]!.body.refreshToken });
      assert.deepEqual([login.status, ...refreshed.map((r) => r.status), cookieLogin.status, cookieRefresh.status, logout.status], [200, 200, 200, 200, 200, 204]);
      for (const r of [login, ...refreshed, cookieLogin, cookieRefresh]) secrets.push(...[r.body.accessToken, r.body.refreshToken, r.cookie].filter((v): v is string => typeof v === 'string'));
    }
    // Unique violations: PostgreSQL's error detail names the duplicate value (Key (email)=(...) already exists).
    const adminLogin = await fetch(`${gw}/user/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
    const { accessToken } = (await adminLogin.json()) as { accessToken: string };
    for (let i = 0; i < 2; i++) {
      const email = `dup${hex(16)}@example.test`;
      const sku = `SKU-${hex(16)}`;
      secrets.push(email, sku);
      for (let k = 0; k < 2; k++) {
        const headers = { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` };
        const answers = [
          await fetch(`${gw}/user/register`, { method: 'POST', headers, body: JSON.stringify({ email, password: `pw-${hex(16)}`, name: 'Dup' }) }),
          await fetch(`${gw}/product`, { method: 'POST', headers, body: JSON.stringify({ sku, name: 'Dup', priceCents: 100, currency: 'USD', stock: 1 }) }),
        ];
        for (const res of answers) {
          await res.arrayBuffer();
          assert.equal(res.status, k === 0 ? 201 : 409);
          secretTraces.push(TRACERESPONSE.exec(res.headers.get('traceresponse') ?? '')?.[1] ?? '');
        }
      }
    }
    // Secrets fast-check makes (tokens, JWT-like values, emails), put in every place of every route, the admin's
    // token on each (so a route answers past its auth): a path parameter, a segment past the route (a 404), a query
    // key and value, a header, a body. The one shape a span may keep is a name (letters, '.', '_', '-'; redaction.ts,
    // unrouted-path.ts), so the secrets have a digit or an '@', as every token and email this platform makes does.
    const fuzzSecret = fc
      .oneof(
        fc.stringMatching(/^[A-Za-z0-9_-]{12,48}$/),
        fc.tuple(fc.stringMatching(/^[A-Za-z0-9_-]{6,20}$/), fc.stringMatching(/^[A-Za-z0-9_-]{6,20}$/), fc.stringMatching(/^[A-Za-z0-9_-]{6,20}$/)).map((p) => p.join('.')),
        fc.emailAddress(),
      )
      .filter((v) => v.length >= 12 && /[0-9@]/.test(v));
    const fuzzRoutes: [string, string][] = [
      ['GET', '/product/{p}'], ['GET', '/product'], ['PATCH', '/product/{p}'], ['POST', '/product/{p}/stock'], ['DELETE', '/product/{p}'],
      ['GET', '/order/{p}'], ['POST', '/order/{p}/cancel'], ['GET', '/order'], ['POST', '/order'],
      ['GET', '/user/me'], ['GET', '/user/users'], ['POST', '/user/login'], ['POST', '/user/register'], ['POST', '/user/token/refresh'],
      ['POST', '/user/logout'], ['POST', '/user/oauth/token'], ['GET', '/user/.well-known/jwks.json'], ['POST', '/internal/reservations/{p}'],
    ];
    const places = ['param', 'extra', 'queryKey', 'queryValue', 'header', 'body'] as const;
    const fuzzCases = fc.sample(fc.tuple(fc.constantFrom(...fuzzRoutes), fc.constantFrom(...places), fuzzSecret), 45);
    for (const [[method, template], place, value] of fuzzCases) {
      secrets.push(value, encodeURIComponent(value));
      const v = encodeURIComponent(value);
      let path = template.includes('{p}') ? template.replace('{p}', place === 'param' ? v : '0b2f9e1c-5d4a-4e3b-9c2d-1a0b9c8d7e6f') : place === 'param' ? `${template}/${v}` : template;
      if (place === 'extra') path += `/${v}`;
      if (place === 'queryKey') path += `?${v}`;
      if (place === 'queryValue') path += `?limit=${v}&cursor=${v}`;
      const headers: Record<string, string> = { authorization: `Bearer ${accessToken}`, 'idempotency-key': `k-${hex(8)}` };
      if (place === 'header') Object.assign(headers, { 'x-customer-email': value, cookie: `__Secure-refresh-token=${v}`, 'if-match': `"${value}"` });
      const withBody = method !== 'GET' && method !== 'DELETE';
      const body = withBody ? JSON.stringify(place === 'body' ? { email: value, password: value, refreshToken: value, name: value, items: [{ productId: value, quantity: 1 }] } : {}) : undefined;
      const owner = template.startsWith('/user') ? stack.urls.user : template.startsWith('/order') ? stack.urls.order : stack.urls.product;
      for (const base of template.startsWith('/internal') ? [owner] : [gw, owner]) {
        const res = await fetch(`${base}${path}`, { method, headers: { ...headers, ...(withBody ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body } : {}) });
        await res.arrayBuffer();
        if (res.status >= 500) fuzz5xx.push(`${method} ${path} (${place}) via ${base === gw ? 'gateway' : 'direct'}: ${res.status}`);
        secretTraces.push(TRACERESPONSE.exec(res.headers.get('traceresponse') ?? '')?.[1] ?? '');
      }
    }
    // Paths fast-check makes of what a client may put in one (secrets, route names, names, UUIDs, numbers, empty
    // segments, up to 31 segments), under each service's prefix: routed (a parameter, the gateway's proxy wildcard) or
    // not (a 404). Their log lines and server spans are compared below.
    const pathSegment = fc.oneof(
      fuzzSecret.map(encodeURIComponent),
      fc.constantFrom('user', 'product', 'order', 'internal', 'reservations', 'stock', 'cancel', 'me', 'users', 'metrics', 'livez', 'readyz', '.well-known', 'jwks.json', 'oauth', 'token', ''),
      fc.uuid(),
      fc.stringMatching(/^[0-9]{1,24}$/),
      fc.stringMatching(/^[A-Za-z][A-Za-z._-]{0,40}$/),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
    );
    const hostilePaths = fc.sample(fc.tuple(fc.constantFrom('user', 'product', 'order', 'internal', 'metrics'), fc.array(pathSegment, { maxLength: 30, size: 'max' })), 40);
    for (const [first, rest] of hostilePaths) {
      const path = `/${[first, ...rest].join('/')}`;
      const owner = first === 'user' ? stack.urls.user : first === 'order' ? stack.urls.order : stack.urls.product;
      for (const base of [gw, owner]) {
        const traceId = hex(16);
        const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${accessToken}`, traceparent: `00-${traceId}-${hex(8)}-01` } });
        await res.arrayBuffer();
        if (res.status >= 500) fuzz5xx.push(`GET ${path} via ${base === gw ? 'gateway' : 'direct'}: ${res.status}`);
        pathTraces.set(traceId, path);
      }
    }
    // Requests refused early, by Node, the kit's guards or Fastify: each answered one gets its server span.
    const big = JSON.stringify({ email: 'a@b.test', password: 'x'.repeat(200_000) });
    const early: [string, string][] = [
      ['413 body too large', `POST /user/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${big.length}\r\nConnection: close\r\n\r\n${big}`],
      ['415 text/plain', 'POST /user/login HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab'],
      ['415 no content type', 'POST /user/login HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab'],
      ['415 gzip', 'POST /user/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'],
      ['400 bad path encoding', 'GET /user/%FF HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
      ['400 bad path encoding, cut escape', 'POST /user/login%E0%A4%A HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'],
      ['400 bad query encoding', 'GET /user/me?x=%ZZ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
      ['404 with a body', 'POST /user/nosuch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'],
      ['405', 'PATCH /user/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
      ['absolute-form', 'GET http://evil.example/user/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
      ['OPTIONS', 'OPTIONS /user/login HTTP/1.1\r\nHost: x\r\nOrigin: http://evil.example\r\nAccess-Control-Request-Method: POST\r\nConnection: close\r\n\r\n'],
      ['two content-types', 'POST /user/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'],
      ['two authorizations', 'GET /user/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\nConnection: close\r\n\r\n'],
      ['a huge header (431)', `GET /user/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\nConnection: close\r\n\r\n`],
      ['NUL in the query', 'GET /user/users?cursor=%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
      ['HEAD of a POST route', 'HEAD /user/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
    ];
    early.push(['404 a parameter too long', `GET /product/${'a'.repeat(150)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
    for (const [name, raw] of early) {
      for (const base of [gw, raw.includes(' /product/') ? stack.urls.product : stack.urls.user]) {
        const caller = { traceId: hex(16), spanId: hex(8) };
        const answer = await rawExchange(base, raw.replace('\r\nHost: x\r\n', `\r\nHost: x\r\ntraceparent: 00-${caller.traceId}-${caller.spanId}-01\r\n`));
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
        const tr = /\r\ntraceresponse: ([^\r]*)/i.exec(answer)?.[1];
        earlySent.push({ name, via: base === gw ? 'gateway' : 'direct', status, traceresponse: tr, caller });
      }
    }
    // The database refusing a client's values in its own words, each a 500 (last: the schema is changed under the user
    // service). A constraint an operator added: its violation's detail is the whole row (`Failing row contains (<id>,
    // <email>, <name>, <password hash>, ...)`), which the unhandled error's log line carried. A trigger that refuses a row
    // naming its value, as the platform's own PL/pgSQL functions name ids and prices in theirs (`account <email> is
    // refused`): pg's span status, the server span's exception event (message and stack) and the log line copied it.
    const schema = new pg.Client({ connectionString: stack.adminUrl });
    await schema.connect();
    try {
      const register = async (name?: string) => {
        const value = () => {
          const v = `s3cr3t${hex(16)}`;
          secrets.push(v);
          return v;
        };
        for (const base of [gw, stack.urls.user]) {
          const res = await fetch(`${base}/user/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: `${value()}@example.test`, password: value(), name: name ?? value() }) });
          await res.arrayBuffer();
          dbFault5xx.push(res.status);
          secretTraces.push(TRACERESPONSE.exec(res.headers.get('traceresponse') ?? '')?.[1] ?? '');
        }
      };
      await schema.query("ALTER TABLE users.users ADD CONSTRAINT hostile_name CHECK (name <> 'Refused by the database') NOT VALID");
      await register('Refused by the database');
      await schema.query('ALTER TABLE users.users DROP CONSTRAINT hostile_name');
      await schema.query(`CREATE FUNCTION users.hostile_refusal() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'account % is refused', NEW.email; END $$`);
      await schema.query('CREATE TRIGGER hostile_refusal BEFORE INSERT ON users.users FOR EACH ROW EXECUTE FUNCTION users.hostile_refusal()');
      await register();
    } finally {
      await schema.end();
    }
    const traceIdOf = (x: Sent) => TRACERESPONSE.exec(x.traceresponse ?? '')?.[1];
    await stack.receiver
      .waitFor((all) => [...secretTraces, ...pathTraces.keys()].every((id) => all.some((span) => span.traceId === id && span.kind === SERVER)) && sent.every((x) => all.some((span) => span.traceId === traceIdOf(x) && span.kind === SERVER && span.service === 'product')), 20_000)
      .catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
  });

  after(() => stack?.close());

  const spansOf = (traceId: string | undefined): ReceivedSpan[] => stack.receiver.spans.filter((span) => span.traceId === traceId);

  it('then no answer is a 5xx, and each carries one valid traceresponse', () => {
    for (const x of sent) {
      assert.equal(x.status, 200, `${x.name} ${x.via}: ${x.raw}`);
      assert.match(x.traceresponse ?? '', TRACERESPONSE, `${x.name} ${x.via}`);
    }
  });

  it('then a valid traceparent is followed, an invalid one starts a new trace (W3C Trace Context: ignore it)', () => {
    for (const x of sent) {
      const traceId = TRACERESPONSE.exec(x.traceresponse ?? '')?.[1];
      if (x.honoured) assert.equal(traceId, x.honoured, `${x.name} ${x.via}`);
      for (const bad of x.refused) assert.notEqual(traceId, bad.toLowerCase(), `${x.name} ${x.via}`);
    }
  });

  it('then the traceresponse names the exported server span of the process that answered, and the service reached is in that trace', () => {
    for (const x of sent) {
      const [, traceId, spanId] = TRACERESPONSE.exec(x.traceresponse ?? '') ?? [];
      const spans = spansOf(traceId);
      const answering = spans.find((span) => span.spanId === spanId);
      assert.ok(answering, `${x.name} ${x.via}: no span ${spanId} in trace ${traceId}: ${spans.map((sp) => `${sp.service} ${sp.name}`).join('; ')}`);
      assert.equal(answering.kind, SERVER);
      assert.equal(answering.service, x.via === 'gateway' ? 'gateway' : 'product', `${x.name} ${x.via}`);
      if (!x.honoured) assert.equal(answering.parentSpanId, '', `${x.name} ${x.via}: a new trace has a root span`);
      assert.ok(spans.some((span) => span.service === 'product' && span.kind === SERVER), `${x.name} ${x.via}: no product span in the trace`);
    }
  });

  it('then no secret a client sent is in any exported span', () => {
    assert.deepEqual(fuzz5xx, [], 'the fast-check secrets made no 5xx');
    assert.deepEqual(dbFault5xx, [500, 500, 500, 500], 'each database fault made a 500');
    const leaks: string[] = [];
    for (const span of stack.receiver.spans) {
      const text = JSON.stringify({ n: span.name, a: span.attributes, e: span.events, st: span.status, l: span.links, r: span.resource });
      for (const secret of secrets) if (text.includes(secret)) leaks.push(`${span.service} ${span.name}: ${text.slice(0, 1500)}`);
    }
    assert.deepEqual(leaks, []);
    // What failed is still said: the trigger's words, the SQLSTATE, with the email REDACTED.
    const refused = stack.receiver.spans.filter((span) => span.service === 'user' && span.name === 'POST /user/register' && span.status.code === 2);
    assert.ok(refused.some((span) => span.status.message === 'account REDACTED is refused' && span.events.some((e) => e.attributes['exception.message'] === 'account REDACTED is refused' && e.attributes['exception.type'] === 'P0001')), JSON.stringify(refused.map((span) => [span.status, span.events])).slice(0, 1500));
  });

  it('then no secret a client sent is in any log line of any service, and each request\'s line names its path redacted', () => {
    const leaks = logLines.filter((line) => secrets.some((secret) => line.includes(secret)));
    assert.deepEqual(leaks.map((line) => line.slice(0, 600)), []);
    // The database's errors are still said: their code, constraint and words, the values REDACTED.
    const unhandled = logLines.filter((line) => line.startsWith('user ') && line.includes('"msg":"unhandled error"')).map((line) => (JSON.parse(line.slice(5)) as { err: Record<string, unknown> }).err);
    assert.ok(unhandled.some((err) => err.code === '23514' && err.constraint === 'hostile_name' && err.table === 'users' && err.detail === undefined), JSON.stringify(unhandled).slice(0, 1500));
    assert.ok(unhandled.some((err) => err.code === 'P0001' && err.message === 'account REDACTED is refused'), JSON.stringify(unhandled).slice(0, 1500));
    assert.ok(logLines.some((line) => line.includes('"msg":"request"') && line.includes('REDACTED')), 'a request line with a redacted path');
  });

  it('then each request\'s log line holds the path its server span\'s url.path holds, whatever a client put in the path', () => {
    const lines = logLines
      .filter((line) => line.includes('"msg":"request"'))
      .map((line) => JSON.parse(line.slice(line.indexOf(' ') + 1)) as { msg?: string; traceId?: string; spanId?: string; route?: string; path?: string })
      .filter((line) => line.msg === 'request' && line.traceId !== undefined && pathTraces.has(line.traceId));
    const compared: string[] = [];
    const differ: string[] = [];
    for (const line of lines) {
      const span = stack.receiver.spans.find((sp) => sp.traceId === line.traceId && sp.spanId === line.spanId && sp.kind === SERVER);
      // Probes and scrapes are not traced (instrumentations.ts).
      if (!span && ['/livez', '/readyz', '/metrics'].includes(pathTraces.get(line.traceId!) ?? '')) continue;
      const urlPath = span?.attributes['url.path'];
      compared.push(line.traceId!);
      if (urlPath !== line.path) differ.push(`${span?.service ?? 'no span'} (route ${line.route}): log ${line.path}, span ${String(urlPath)}`);
    }
    assert.deepEqual(differ, []);
    assert.ok(new Set(compared).size >= pathTraces.size * 0.9, `${new Set(compared).size} of ${pathTraces.size} traces compared`);
  });

  it('then every request refused early is answered 4xx with a traceresponse, and one sampled names an exported server span with its status (no span only for a 431: Node answers it)', () => {
    const problems: string[] = [];
    for (const x of earlySent) {
      const [, traceId, spanId, flags] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/.exec(x.traceresponse ?? '') ?? [];
      const span = stack.receiver.spans.find((sp) => sp.traceId === traceId && sp.spanId === spanId);
      const line = `${x.name} ${x.via}: ${x.status} flags=${flags} span=${span ? `${span.service} ${span.name} route=${String(span.attributes['http.route'])} code=${String(span.attributes['http.response.status_code'])} st=${span.status.code} et=${String(span.attributes['error.type'])}` : 'none'}`;
      if (x.status < 400 && x.name !== 'OPTIONS' && x.name !== 'HEAD of a POST route') problems.push(line);
      if (x.status >= 500) problems.push(line);
      if (flags !== (x.status === 431 ? '00' : '01')) problems.push(line);
      if (flags === '01' && (traceId !== x.caller.traceId || span?.parentSpanId !== x.caller.spanId)) problems.push(`${line}: not under the caller's traceparent`);
      if (flags === '01' && (!span || span.attributes['http.response.status_code'] !== x.status || (x.status < 500 && span.status.code !== 0))) problems.push(line);
    }
    assert.deepEqual(problems, []);
  });
});
