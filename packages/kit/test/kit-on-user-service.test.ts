// The kit's plugins as a real service shows them (the user service, from its public entry): request ids,
// request log lines, problem answers and security headers, health, metrics, OpenAPI and readiness.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import pg from 'pg';
import { assertProblem, http, listenOnLoopback, metricLine, rawExchange, registerAccount, uniqueEmail } from '@ecommerce/test-support';
import { UUID_PATTERN, isUuid } from '@ecommerce/kit';
import { buildApp } from '@ecommerce/user-service';
import { loadUserConfig } from '@ecommerce/user-service/config';
import { GENEROUS_BUDGETS, base, db, startUserService, startUserServiceForFile, testSigningKey } from '@ecommerce/user-service/testing';

startUserServiceForFile();

const register = () => registerAccount(base);

describe('kit behaviour on the user service', () => {
  it('when a request id is given it is echoed, else one is generated', async () => {
    const given = await http(base, 'GET', '/livez', { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(given.headers.get('x-request-id'), 'abc-123');
    const generated = await http(base, 'GET', '/livez');
    assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const bad = await http(base, 'GET', '/livez', { headers: { 'x-request-id': 'bad id with spaces' } });
    assert.notEqual(bad.headers.get('x-request-id'), 'bad id with spaces');
  });

  it('when requests are served, then each writes one JSON log line with ids, trace context, route, status and latency, and no secrets', async () => {
    const lines: string[] = [];
    const app = await buildApp(loadUserConfig({ DATABASE_URL: db.urls.user, LOG_LEVEL: 'info', JWT_PRIVATE_KEY: testSigningKey(), ...GENEROUS_BUDGETS }), {
      logStream: new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }),
    });
    try {
      const logBase = await listenOnLoopback(app);
      const email = uniqueEmail('log');
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      await http(logBase, 'POST', '/user/register', { body: { email, password: 'secret-password-1', name: 'Logged' } });
      await http(logBase, 'POST', '/user/login', { body: { email, password: 'secret-password-1' }, headers: { 'x-request-id': 'log-req-1', traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
      const request = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
      const login = request.find((l) => l.reqId === 'log-req-1');
      assert.ok(login, 'a request line for the login');
      assert.equal(login.traceId, traceId);
      assert.match(String(login.spanId), /^[0-9a-f]{16}$/);
      assert.equal(login.route, '/user/login');
      assert.equal(login.status, 200);
      assert.equal(typeof login.durationMs, 'number');
      assert.ok(login.userId, 'the user id is logged once known');
      const all = lines.join('\n');
      assert.doesNotMatch(all, /secret-password-1/);
      assert.doesNotMatch(all, new RegExp(email.replace(/[.+]/g, '\\$&')));
    } finally {
      await app.close();
    }
  });

  it('when a route is unknown, then 404 problem; security headers are set', async () => {
    const res = await http(base, 'GET', '/user/nope');
    assertProblem(res, 404, 'not-found');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.ok(res.headers.get('strict-transport-security'));
  });

  it('when a CONNECT arrives (its target an authority, host:port, no path), then 405 whose instance is the urn:uuid of the answer\'s own X-Request-Id, never "/": that id the one a routed answer gives the same caller (fast-check, raw socket)', async () => {
    const authority = fc.tuple(fc.domain(), fc.integer({ min: 1, max: 65535 })).map(([host, port]) => `${host}:${port}`);
    // No id, a UUID, another token of the request-context rule (echoed, but no UUID), an id that is refused.
    const id = fc.option(fc.oneof(fc.uuid(), fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/), fc.stringMatching(/^[A-Za-z0-9]{1,20}[ /@=+][A-Za-z0-9]{1,20}$/)), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(authority, id, async (target, sent) => {
        const idLine = sent === undefined ? '' : `X-Request-Id: ${sent}\r\n`;
        const answer = await rawExchange(base, `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${idLine}\r\n`);
        const [head = '', body = ''] = answer.split('\r\n\r\n');
        assert.match(head, /^HTTP\/1\.1 405 /, answer.slice(0, 200));
        const requestId = /\r\nx-request-id: ([^\r]*)/i.exec(head)?.[1] ?? '';
        const problem = JSON.parse(body) as { type: string; instance: string };
        assert.equal(problem.type, 'https://ecommerce.local/problems/method-not-allowed');
        assert.notEqual(problem.instance, '/');
        assert.match(problem.instance, new RegExp(`^urn:uuid:${UUID_PATTERN.slice(1)}`), problem.instance);
        const routed = (await http(base, 'GET', '/user/nope', { headers: sent === undefined ? {} : { 'x-request-id': sent } })).headers.get('x-request-id');
        if (sent !== undefined && routed === sent) assert.equal(requestId, sent);
        // The answer's id names the occurrence whenever it can: whenever it is a UUID (a new one, or the caller's).
        if (isUuid(requestId)) assert.equal(problem.instance, `urn:uuid:${requestId}`);
      }),
      { numRuns: 60 },
    );
  });

  it('when any route answers, then it carries the same security headers, and the docs page its own CSP', async () => {
    const expected = {
      'content-security-policy': "default-src 'none';frame-ancestors 'none'",
      'cross-origin-resource-policy': 'same-site',
      'referrer-policy': 'no-referrer',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    };
    for (const [method, path] of [['GET', '/livez'], ['GET', '/user/nope'], ['POST', '/user/login'], ['GET', '/user/openapi.json']] as const) {
      const res = await http(base, method, path, method === 'POST' ? {} : undefined);
      for (const [name, value] of Object.entries(expected)) assert.equal(res.headers.get(name), value, `${method} ${path}: ${name}`);
      assert.equal(res.headers.get('x-powered-by'), null);
    }
    const docs = await http(base, 'GET', '/user/docs/');
    assert.equal(docs.status, 200);
    assert.match(docs.headers.get('content-security-policy') ?? '', /script-src/, 'the docs page sets its own CSP');
    assert.equal(docs.headers.get('x-content-type-options'), 'nosniff');
    // A browser without frame-ancestors reads X-Frame-Options: both say the page is never framed.
    assert.match(docs.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(docs.headers.get('x-frame-options'), 'DENY');
  });

  it('when the docs page is served, then its CSP takes files from this origin only, upgrades nothing to https, and allows no inline style but the <style> swagger-ui itself draws, by its hash', async () => {
    const csp = (await http(base, 'GET', '/user/docs/')).headers.get('content-security-policy') ?? '';
    const directives = new Map(
      csp
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .filter(([name]) => name)
        .map(([name, ...values]) => [name!, values]),
    );
    // On a plain-http host (the dev ingress's http://ecommerce.local) it sent every file of the page to https: a blank page.
    assert.equal(directives.has('upgrade-insecure-requests'), false, csp);
    for (const [name, values] of directives) {
      for (const value of values) assert.match(value, /^('self'|'none'|data:|'sha256-[A-Za-z0-9+/]+=*')$/, `${name} allows ${value}`);
    }
    // The <style> elements swagger-ui's scripts create (its top bar's logo), hashed as the browser does.
    const staticDir = path.join(path.dirname(createRequire(import.meta.url).resolve('@fastify/swagger-ui')), 'static');
    const hashes = ['swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js'].flatMap((file) =>
      [...readFileSync(path.join(staticDir, file), 'utf8').matchAll(/createElement\("style",null,("(?:[^"\\]|\\.)*")\)/g)].map(
        (m) => `'sha256-${createHash('sha256').update(JSON.parse(m[1]!) as string).digest('base64')}'`,
      ),
    );
    assert.ok(hashes.length > 0, 'no inline <style> found in swagger-ui: has its bundle changed shape?');
    assert.deepEqual(directives.get('style-src'), ["'self'", ...new Set(hashes)]);
  });

  it('when probed, then livez/readyz are 200 and metrics expose the OTel names with the service label', async () => {
    assert.equal((await http(base, 'GET', '/livez')).status, 200);
    assert.equal((await http(base, 'GET', '/readyz')).status, 200);
    await register();
    const m = await http(base, 'GET', '/metrics');
    assert.equal(m.status, 200);
    assert.ok(metricLine(m.text, 'http_server_request_duration_seconds_count', ['http_route="/user/register"', 'service="user"', 'http_response_status_code="201"']));
    assert.ok(metricLine(m.text, 'db_client_operation_duration_seconds_count', ['db_query_name="user_insert"', 'db_operation_name="INSERT"']));
    assert.match(m.text, /users_registered_total\{[^}]*\} [1-9]/);
    assert.match(m.text, /process_resident_memory_bytes/);
    // in progress now: none but the scrape itself, which is not counted
    assert.ok(metricLine(m.text, 'http_server_active_requests', ['http_request_method="POST"', 'service="user"'])?.endsWith(' 0'));
    assert.match(m.text, /db_client_connection_max\{[^}]*\} 10/);
  });

  it('when the OpenAPI document is read, then it is 3.1 and lists every public route; docs page is HTML', async () => {
    const doc = await http<{ openapi: string; paths: Record<string, unknown> }>(base, 'GET', '/user/openapi.json');
    assert.equal(doc.status, 200);
    assert.equal(doc.body.openapi, '3.1.0');
    for (const p of ['/user/register', '/user/login', '/user/token/refresh', '/user/logout', '/user/me', '/user/users', '/user/.well-known/jwks.json', '/user/oauth/token']) {
      assert.ok(doc.body.paths[p], `missing ${p}`);
    }
    type Op = { parameters?: { name: string; required?: boolean }[]; responses: Record<string, { content?: Record<string, unknown> }> };
    const list = (doc.body.paths['/user/users'] as { get: Op }).get;
    assert.equal(list.parameters?.find((p) => p.name === 'limit')?.required ?? false, false, 'limit has a default, so it is optional');
    assert.ok(list.responses['4XX']?.content?.['application/problem+json'], 'errors are documented as problem+json');
    const page = await fetch(`${base}/user/docs`, { redirect: 'follow' });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    // A query string broke the page (its script asked for /user/docs?url=..././json): it is dropped by a redirect.
    for (const path of ['/user/docs', '/user/docs/']) {
      const withQuery = await fetch(`${base}${path}?url=https://evil.example/openapi.json`, { redirect: 'manual' });
      assert.equal(withQuery.status, 302, path);
      assert.equal(withQuery.headers.get('location'), path);
    }
    assert.equal((await fetch(`${base}/user/docs/json`)).status, 200, 'the document the page asks for');
  });

  it('when a docs path is asked with a query the kit takes, then it ends on the page or its file within one redirect, never redirected to itself', async () => {
    // swagger-ui sends /static/index.html to the page by replacing its end, which a query hides: it redirected to
    // itself, ?x=1 and all, for ever (a browser's ERR_TOO_MANY_REDIRECTS, a client's loop).
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/user/docs', '/user/docs/', '/user/docs/static/index.html', '/user/docs/json'), fc.constantFrom('x=1', 'url=https://evil.example/openapi.json', '', 'a=1&b=%20'), async (path, query) => {
        const first = await fetch(`${base}${path}?${query}`, { redirect: 'manual' });
        await first.arrayBuffer();
        if (first.status === 200) return;
        assert.equal(first.status, 302, `${path}?${query}`);
        const location = first.headers.get('location') ?? '';
        assert.notEqual(location, `${path}?${query}`, 'redirected to itself');
        const next = await fetch(new URL(location, base), { redirect: 'manual' });
        await next.arrayBuffer();
        assert.equal(next.status, 200, `${path}?${query} -> ${location}`);
      }),
      { numRuns: 30 },
    );
  });

  it('when a docs route is asked with a query the kit refuses (a broken escape, bytes that are not UTF-8, a NUL), then the 400 problem as for any route and as through the gateway, never a redirect that drops it', async () => {
    const bad = fc.tuple(fc.constantFrom('', 'a=1&', 'url=x&'), fc.constantFrom('x=%ZZ', 'x=%', 'x=%F', '%ZZ', 'x=%FF', 'x=%C3', 'x=%E2%82', 'x=%00', 'x=a%00b', 'x=%ED%A0%80'));
    await fc.assert(
      fc.asyncProperty(bad, fc.constantFrom('/user/docs', '/user/docs/', '/user/docs/json', '/user/docs/static/index.html', '/user/openapi.json'), async ([before, query], path) => {
        const res = await http(base, 'GET', `${path}?${before}${query}`);
        assert.equal(res.headers.get('location'), null, `${path}?${before}${query}`);
        // A broken escape is a bad request; a NUL decoded from a good one is text the kit does not take.
        assertProblem(res, 400, query.includes('%00') ? 'validation-failed' : 'bad-request');
      }),
      { numRuns: 60 },
    );
  });

  it('when the database refuses connections, then readyz answers 503 problem and a request needing it 503 + Retry-After (not a 500), and both serve again once it is back', async () => {
    const admin = new pg.Client({ connectionString: db.adminUrl });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
      assertProblem(await http(base, 'GET', '/readyz'), 503, 'not-ready');
      assert.equal((await http(base, 'GET', '/livez')).status, 200);
      // A request that needs a connection is told the database is away (it was a 500 "internal-error": the server's
      // refusal, SQLSTATE 55000, was taken for a bug), and nothing is written.
      const email = uniqueEmail('refused');
      const refused = await http(base, 'POST', '/user/register', { body: { email, password: 'correct-horse-1', name: 'Ada' } });
      assertProblem(refused, 503, 'service-unavailable');
      assert.ok(Number(refused.headers.get('retry-after')) >= 1, 'Retry-After');
      await admin.query(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
      assert.equal((await http(base, 'GET', '/readyz')).status, 200);
      assert.equal((await http(base, 'POST', '/user/register', { body: { email, password: 'correct-horse-1', name: 'Ada' } })).status, 201, 'the refused registration wrote nothing');
    } finally {
      await admin.query(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    assert.equal((await http(base, 'GET', '/readyz')).status, 200);
  });

  it('when the database takes no writes (a standby after a failover, or set read-only), then writes answer 503 + Retry-After, and once it takes them again the service writes again', async () => {
    const admin = new pg.Client({ connectionString: db.adminUrl });
    await admin.connect();
    const register = () => http(base, 'POST', '/user/register', { body: { email: uniqueEmail('read-only'), password: 'correct-horse-1', name: 'Ada' } });
    try {
      // New connections reach a server that refuses writes (SQLSTATE 25006), as the old primary does once demoted.
      await admin.query(`ALTER DATABASE ${db.name} SET default_transaction_read_only = on`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
      for (let i = 0; i < 3; i++) {
        const refused = await register();
        assertProblem(refused, 503, 'service-unavailable');
        assert.ok(Number(refused.headers.get('retry-after')) >= 1, 'Retry-After');
      }
      await admin.query(`ALTER DATABASE ${db.name} RESET default_transaction_read_only`);
      // The connections made meanwhile stay read-only as long as they live: each must be given up at its first refusal
      // (a pool of them kept failing every write, 500, for as long as traffic kept them in use).
      const after: number[] = [];
      for (let i = 0; i < 30 && after.at(-1) !== 201; i++) after.push((await register()).status);
      assert.equal(after.at(-1), 201, `registrations once the database takes writes: ${after.join(' ')}`);
      assert.ok(after.every((s) => s === 201 || s === 503), after.join(' '));
      assert.ok(after.length <= 11, `each read-only connection refused once at most: ${after.join(' ')}`);
    } finally {
      await admin.query(`ALTER DATABASE ${db.name} RESET default_transaction_read_only`);
      await admin.end();
    }
  });

  it('when a replica starts while its database is closed to connections, then it waits, and serves once the database is open', async () => {
    const admin = new pg.Client({ connectionString: db.adminUrl });
    await admin.connect();
    let started: Awaited<ReturnType<typeof startUserService>> | undefined;
    try {
      await admin.query(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
      // Refused with 55000 at its first connection, the start-up gave up at once (exit 1 in a process), where a server
      // that is starting (57P03) or full (53300) is waited for.
      const starting = startUserService(db.urls.user, { DB_STARTUP_TIMEOUT_MS: '30000' });
      const early = await Promise.race([starting.then(() => 'started', (err: Error) => `failed: ${err.message}`), new Promise((r) => setTimeout(r, 1500, 'waiting'))]);
      assert.equal(early, 'waiting');
      await admin.query(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
      started = await starting;
      assert.equal((await http(started.base, 'GET', '/readyz')).status, 200);
    } finally {
      await admin.query(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
      await admin.end();
      await started?.close();
    }
  });
});
