import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { METHODS, STATUS_CODES } from 'node:http';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Pool } from 'undici';
import { MAX_PIPELINED_REQUESTS, Metrics, NO_BODY_LIMIT, NotFound, PreconditionFailed, ProblemError, SERVER_LIMITS, ServiceUnavailable, TooManyRequests, Type, UUID_PATTERN, bodyLimitFor, containsUnstorableText, createServer, isUnavailableError, jsonTextFault, maxJsonBytes, repeatedMemberPointer, startupWaitReason } from '../src/index.js';
import { assertErrorAt, assertMethodNotAllowed, assertProblem, http, listenOnLoopback, rawExchange, rawExchangeInParts } from '@ecommerce/test-support';

async function server(logLevel = 'silent', lines?: string[]) {
  return createServer({
    name: 't',
    prefix: '/t',
    version: '0',
    description: 't',
    logLevel,
    readiness: async () => undefined,
    metrics: new Metrics('t', '0', { defaultMetrics: false }),
    docs: false,
    ...(lines ? { logStream: new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }) } : {}),
  });
}


describe('validation', () => {
  it('when an array has 100,000 bad items, then validation stops at maxItems: one error, a small body', async () => {
    const app = await server();
    app.post('/t/items', { bodyLimit: 2 * 1024 * 1024, schema: { body: Type.Object({ items: Type.Array(Type.Object({ id: Type.Integer() }, { additionalProperties: false }), { maxItems: 50 }) }) } }, async () => ({}));
    const base = await listenOnLoopback(app);
    try {
      const res = await http(base, 'POST', '/t/items', { raw: `{"items":[${Array(100_000).fill('{"x":"y"}').join(',')}]}`, headers: { 'content-type': 'application/json' } });
      const p = assertProblem(res, 400, 'validation-failed');
      assert.equal(p.errors?.length, 1);
      assert.equal(p.errors?.[0]?.path, '/items');
      assert.ok(res.text.length < 1024, `${res.text.length} bytes`);
    } finally {
      await app.close();
    }
  });

  it('when a field of a union type (string or null) is wrong, then one error names it: the failed constraint, or the types that would do', async () => {
    const app = await server();
    const Body = Type.Object({ description: Type.Optional(Type.Union([Type.String({ maxLength: 5 }), Type.Null()])), image: Type.Optional(Type.Union([Type.String({ pattern: '^/[a-z]+$' }), Type.Null()])), where: Type.Optional(Type.Union([Type.Literal('cookie'), Type.Literal('body')])) }, { additionalProperties: false });
    app.patch('/t/u', { schema: { body: Body } }, async () => ({}));
    const base = await listenOnLoopback(app);
    try {
      for (const [body, path, message] of [
        [{ description: 5 }, '/description', /^must be string or null$/],
        [{ description: 'toolong' }, '/description', /must be at most 5 characters long/],
        [{ image: '//evil' }, '/image', /must match pattern/],
        [{ image: ['x'] }, '/image', /^must be string or null$/],
        [{ where: 5 }, '/where', /^must be one of "cookie", "body"$/],
        [{ where: 'header' }, '/where', /^must be one of "cookie", "body"$/],
      ] as const) {
        const p = assertProblem(await http(base, 'PATCH', '/t/u', { body }), 400, 'validation-failed');
        assert.equal(p.errors?.length, 1, JSON.stringify(p.errors));
        assert.equal(p.errors?.[0]?.path, path);
        assert.match(p.errors?.[0]?.message ?? '', message);
      }
      assert.equal((await http(base, 'PATCH', '/t/u', { body: { description: null, image: '/ok' } })).status, 200);
    } finally {
      await app.close();
    }
  });

  it('says the common constraints in words a person reads (no regular expression, no <=), each at its path', async () => {
    const app = await server();
    const Body = Type.Object(
      {
        name: Type.Optional(Type.String({ minLength: 1, pattern: '\\S' })),
        sku: Type.Optional(Type.String({ pattern: '^\\S+$' })),
        email: Type.Optional(Type.String({ format: 'email' })),
        currency: Type.Optional(Type.String({ format: 'iso4217' })),
        id: Type.Optional(Type.String({ pattern: UUID_PATTERN })),
        stock: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
        note: Type.Optional(Type.String({ maxLength: 3 })),
        tags: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
        delta: Type.Optional(Type.Integer({ not: { const: 0 } })),
        patch: Type.Optional(Type.Object({ a: Type.Optional(Type.String()) }, { minProperties: 1 })),
      },
      { additionalProperties: false },
    );
    app.post('/t/words', { schema: { body: Body } }, async () => ({}));
    const base = await listenOnLoopback(app);
    try {
      for (const [body, path, message] of [
        [{ name: '   ' }, '/name', 'must not be blank'],
        [{ name: '' }, '/name', 'must not be empty'],
        [{ sku: 'A B' }, '/sku', 'must not contain spaces'],
        [{ email: 'a@b' }, '/email', 'must be an email address'],
        [{ currency: 'XYZ' }, '/currency', 'must be a currency code such as USD'],
        [{ id: 'nope' }, '/id', 'must be an id (a UUID)'],
        [{ stock: 11 }, '/stock', 'must be at most 10'],
        [{ stock: -1 }, '/stock', 'must be at least 0'],
        [{ note: 'long' }, '/note', 'must be at most 3 characters long'],
        [{ tags: [] }, '/tags', 'must have at least 1 item'],
        [{ delta: 0 }, '/delta', 'must not be 0'],
        [{ patch: {} }, '/patch', 'must have at least 1 field'],
      ] as const) {
        const p = assertProblem(await http(base, 'POST', '/t/words', { body }), 400, 'validation-failed');
        assert.deepEqual(p.errors, [{ path, message }], JSON.stringify(body));
      }
    } finally {
      await app.close();
    }
  });

  it('derives a body limit from a bounded schema, none from an unbounded one', () => {
    const bounded = Type.Object({ email: Type.String({ maxLength: 254 }), tags: Type.Array(Type.String({ maxLength: 10 }), { maxItems: 3 }), n: Type.Integer(), id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
    const max = maxJsonBytes(bounded);
    assert.ok(max > JSON.stringify({ email: 'é'.repeat(254), tags: ['a'.repeat(10), 'b'.repeat(10), 'c'.repeat(10)], n: -1e300, id: '0190b0d6-2b7c-7000-8000-000000000001' }).length);
    assert.equal(bodyLimitFor(bounded, 1024 * 1024), 16 * 1024);
    assert.equal(maxJsonBytes(Type.Object({ a: Type.String() }, { additionalProperties: false })), Infinity);
    assert.equal(maxJsonBytes(Type.Object({ a: Type.String({ maxLength: 1 }) })), Infinity, 'an open object is unbounded');
    assert.equal(bodyLimitFor(Type.Array(Type.Integer()), 1024 * 1024), undefined);
    // A schema's own bound holds beside its applicators: an allOf of patterns does not unbound a maxLength, nor an anyOf.
    const withPattern = Type.String({ maxLength: 64, allOf: [{ pattern: '^a' }] });
    assert.equal(maxJsonBytes(withPattern), maxJsonBytes(Type.String({ maxLength: 64 })));
    assert.equal(maxJsonBytes(Type.Union([withPattern, Type.Null()])), maxJsonBytes(Type.String({ maxLength: 64 })));
    assert.equal(maxJsonBytes(Type.String({ allOf: [{ type: 'string', maxLength: 3 }, { pattern: '^a' }] })), 2 + 12 * 3);
  });

  it('when a body is larger than its route derived limit, then 413 problem+json and the connection is closed', async () => {
    const app = await server();
    app.post('/t/small', { schema: { body: Type.Object({ name: Type.String({ maxLength: 100 }) }, { additionalProperties: false }) } }, async () => ({ ok: true }));
    const base = await listenOnLoopback(app);
    try {
      assert.equal((await http(base, 'POST', '/t/small', { body: { name: 'x' } })).status, 200);
      const res = await http(base, 'POST', '/t/small', { raw: `{${Array.from({ length: 5000 }, (_, i) => `"k${i}":0`).join(',')}}`, headers: { 'content-type': 'application/json' } });
      assertProblem(res, 413, 'payload-too-large');
      assert.equal(res.headers.get('connection'), 'close');
    } finally {
      await app.close();
    }
  });
});

describe('bodies nobody reads', () => {
  // 1 MiB of nested `[` is ~30 MB of heap once parsed: eight at once ran a 128 MB service out of memory.
  const nested = '['.repeat(512 * 1024) + ']'.repeat(512 * 1024);

  it('when a route has no body schema, then it takes `{}` and no body but refuses a larger one unparsed (413)', async () => {
    const app = await server();
    app.post('/t/:id/cancel', async () => ({ ok: true }));
    app.delete('/t/thing', async () => ({ ok: true }));
    const base = await listenOnLoopback(app);
    try {
      assert.equal((await http(base, 'POST', '/t/1/cancel')).status, 200);
      assert.equal((await http(base, 'POST', '/t/1/cancel', { body: {} })).status, 200);
      // Anything but an empty object is refused, as an unknown property is where a schema exists.
      const named = assertProblem(await http(base, 'POST', '/t/1/cancel', { body: { reason: 'x' } }), 400, 'validation-failed');
      assert.deepEqual(named.errors, [{ path: '/reason', message: 'unknown property' }]);
      for (const body of [[], 'text', 3, null]) assertProblem(await http(base, 'POST', '/t/1/cancel', { raw: JSON.stringify(body), headers: { 'content-type': 'application/json' } }), 400, 'validation-failed');
      assertProblem(await http(base, 'POST', '/t/1/cancel', { raw: nested, headers: { 'content-type': 'application/json' } }), 413, 'payload-too-large');
      assertProblem(await http(base, 'DELETE', '/t/thing', { raw: JSON.stringify({ pad: 'x'.repeat(4096) }), headers: { 'content-type': 'application/json' } }), 413, 'payload-too-large');
      // A Content-Type with no content (a client library typing every request) types nothing: served, however framed
      // (it was a 400 "The body is empty" for JSON, a 415 for text/plain). A body of that type is still judged.
      for (const [method, path] of [['POST', '/t/1/cancel'], ['DELETE', '/t/thing']] as const) {
        for (const type of ['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded']) {
          for (const [framing, body] of [['content-length: 0\r\n', ''], ['transfer-encoding: chunked\r\n', '0\r\n\r\n'], ['', '']]) {
            const answer = await rawExchange(base, `${method} ${path} HTTP/1.1\r\nHost: x\r\ncontent-type: ${type}\r\n${framing}Connection: close\r\n\r\n${body}`);
            assert.match(answer, /^HTTP\/1\.1 200 /, `${method} ${path} ${type} ${JSON.stringify(framing)}: ${answer.slice(0, 300)}`);
          }
        }
        assert.equal((await http(base, method, path, { raw: 'hello', headers: { 'content-type': 'text/plain' } })).status, 415);
        assertProblem(await http(base, method, path, { body: { a: 1 } }), 400, 'validation-failed');
      }
    } finally {
      await app.close();
    }
  });

  it('when a GET or HEAD carries a body, then it is read as any route without a body schema reads one: `{}` or nothing served, any other JSON 400, another type 415, over 1 KiB 413', async () => {
    // Fastify never read the body of a GET or HEAD: `{"a":1}`, text or 200 MB chunked after a GET were answered 200.
    const app = await server();
    let served = 0;
    app.get('/t/thing', async () => ((served += 1), { ok: true }));
    const base = await listenOnLoopback(app);
    const exchange = async (method: string, headers: string, body: string) => {
      const text = await rawExchange(base, `${method} /t/thing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers}\r\n${body}`);
      return { status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]), text };
    };
    const sized = (body: string, type = 'application/json') => `content-type: ${type}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`;
    try {
      for (const method of ['GET', 'HEAD']) {
        assert.equal((await exchange(method, '', '')).status, 200, `${method} without a body`);
        // A Content-Type a client sends on every request types no content here.
        for (const type of ['application/json', 'text/plain']) assert.equal((await exchange(method, `content-type: ${type}\r\n`, '')).status, 200, `${method} ${type}, no body`);
        assert.equal((await exchange(method, sized('{}'), '{}')).status, 200, `${method} {}`);
      }
      const before = served;
      await fc.assert(
        fc.asyncProperty(
          fc.jsonValue().filter((v) => !(v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)),
          fc.constantFrom('GET', 'HEAD'),
          fc.boolean(),
          async (value, method, chunked) => {
            const body = JSON.stringify(value);
            const head = chunked ? 'content-type: application/json\r\ntransfer-encoding: chunked\r\n' : sized(body);
            const res = await exchange(method, head, chunked ? `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n` : body);
            const expected = Buffer.byteLength(body) > NO_BODY_LIMIT ? 413 : 400;
            assert.equal(res.status, expected, `${method} ${body.slice(0, 100)}: ${res.text.slice(0, 300)}`);
          },
        ),
        { numRuns: 60 },
      );
      assert.equal((await exchange('GET', sized('hello', 'text/plain'), 'hello')).status, 415);
      assert.equal((await exchange('GET', 'content-length: 5\r\n', 'hello')).status, 415);
      assert.equal((await exchange('GET', 'transfer-encoding: chunked\r\n', '5\r\nhello\r\n0\r\n\r\n')).status, 415);
      assert.equal((await exchange('GET', sized(' '.repeat(4096)), ' '.repeat(4096))).status, 413);
      assert.equal(served, before, 'no refused request reached the handler');
      // An empty body is none, whatever its type and framing: as through the gateway (it was a 415 without a type).
      for (const method of ['GET', 'HEAD']) {
        for (const type of ['', 'content-type: application/json\r\n', 'content-type: text/plain\r\n']) {
          assert.equal((await exchange(method, `${type}transfer-encoding: chunked\r\n`, '0\r\n\r\n')).status, 200, `${method} ${type} empty chunked body`);
        }
      }
      // The type the kit parses such bodies as is its own: sent by a client, it is a type like any unknown one.
      assert.equal((await exchange('GET', sized('{}', 'application/x-body-of-bodyless-method'), '{}')).status, 415, 'the type named is judged, not trusted');
    } finally {
      await app.close();
    }
  });

  it('when a refused Content-Type is long (up to 12 KB), then the 415 names its first 64 characters: the answer, and the error the request\'s span records, stay small (property)', async () => {
    const app = await server();
    // What @fastify/otel records of a thrown error (its onError hook): the message, in the exception event and the stack.
    const recorded: string[] = [];
    app.addHook('onError', (_request, _reply, err, done) => (recorded.push(err.message), done()));
    app.get('/t/thing', async () => ({ ok: true }));
    app.post('/t/thing', { schema: { body: Type.Object({ a: Type.Optional(Type.String()) }) } }, async () => ({ ok: true }));
    const base = await listenOnLoopback(app);
    const token = fc.stringMatching(/^[a-z]{1,12}$/);
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(token, { minLength: 1, maxLength: 1500, size: 'max' }), fc.constantFrom('GET', 'POST'), async (words, method) => {
          recorded.length = 0;
          const type = `text/${words.join(' ')}`;
          const text = await rawExchange(base, `${method} /t/thing HTTP/1.1\r\nHost: x\r\nConnection: close\r\ncontent-type: ${type}\r\ncontent-length: 2\r\n\r\n{}`);
          const why = `${method}, a Content-Type of ${type.length} characters`;
          assert.match(text, /^HTTP\/1\.1 415 /, why);
          const problem = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { detail: string };
          assert.ok(problem.detail.length <= 160, `${why}: a detail of ${problem.detail.length} characters`);
          assert.ok(problem.detail.includes(type.slice(0, 64)), `${why}: ${problem.detail}`);
          for (const message of recorded) assert.ok(message.length <= 160, `${why}: an error message of ${message.length} characters`);
        }),
        { numRuns: 40 },
      );
    } finally {
      await app.close();
    }
  });

  it('when no route matches, then 404 (no such path) or 405 (another method) without parsing the body (malformed or huge alike), and the server keeps serving', async () => {
    const app = await server();
    app.get('/t/thing', async () => ({ ok: true }));
    const base = await listenOnLoopback(app);
    try {
      for (const [method, path, status] of [['OPTIONS', '/t/thing', 405], ['DELETE', '/t/thing', 405], ['POST', '/t/nowhere', 404]] as const) {
        for (const raw of ['{', nested]) {
          const res = await http(base, method, path, { raw, headers: { 'content-type': 'application/json' } });
          assertProblem(res, status, status === 404 ? 'not-found' : 'method-not-allowed');
        }
      }
      // Chunked (no Content-Length) is a body too.
      const chunked = await new Promise<string>((resolve, reject) => {
        const url = new URL(base);
        const socket = connect(Number(url.port), url.hostname, () => socket.end('POST /t/nowhere HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n1\r\n{\r\n0\r\n\r\n'));
        let text = '';
        socket.on('data', (c: Buffer) => (text += c.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      assert.match(chunked, /^HTTP\/1\.1 404 /);
      assert.equal((await http(base, 'GET', '/t/thing')).status, 200);
      assertProblem(await http(base, 'GET', '/t/nowhere'), 404, 'not-found');
    } finally {
      await app.close();
    }
  });
});

describe('bodies still arriving after the answer', () => {
  /**
   * Announces a 100 GB body (more than it can send before `capMs`) and streams it as fast as the server takes it;
   * answers the status line and how long the server kept the connection once it had answered (capped at `capMs`).
   */
  function endlessBody(base: string, head: string, capMs: number): Promise<{ status: number; keptMs: number }> {
    return new Promise((resolve) => {
      const socket = connect(Number(new URL(base).port), '127.0.0.1');
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let text = '';
      let answeredAt = 0;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(cap);
        socket.destroy();
        resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]), keptMs: answeredAt ? Date.now() - answeredAt : -1 });
      };
      const cap = setTimeout(finish, capMs);
      const pump = () => {
        while (!done && !socket.destroyed && socket.write(chunk));
      };
      socket.on('connect', () => {
        socket.write(`${head}Host: x\r\ncontent-type: application/json\r\ncontent-length: 100000000000\r\n\r\n`);
        pump();
      });
      socket.on('drain', pump);
      socket.on('data', (d: Buffer) => {
        if (!answeredAt) answeredAt = Date.now();
        text += d.toString('latin1');
      });
      socket.on('error', finish);
      socket.on('close', finish);
    });
  }

  it('when a request is answered before its body is read (404, 405, a 401 in onRequest), then the connection is closed, not drained until the request timeout; a small pipelined body keeps it open', async () => {
    const app = await server();
    app.get('/t/thing', async () => ({ ok: true }));
    app.post('/t/guarded', { onRequest: async () => { throw new ServiceUnavailable(); } }, async () => ({ ok: true }));
    const base = await listenOnLoopback(app);
    try {
      for (const [head, status] of [['PROPFIND /t/thing HTTP/1.1\r\n', 405], ['POST /t/nowhere HTTP/1.1\r\n', 404], ['POST /t/guarded HTTP/1.1\r\n', 503]] as const) {
        const res = await endlessBody(base, head, 8000);
        assert.equal(res.status, status, head);
        assert.ok(res.keptMs >= 0 && res.keptMs < 4000, `${head.trim()}: the connection stayed ${res.keptMs} ms after the answer`);
      }
      // A whole body already received is no reason to close: the next request on the connection is answered.
      const both = await rawExchange(base, 'PROPFIND /t/thing HTTP/1.1\r\nHost: x\r\ncontent-length: 2\r\n\r\n{}GET /t/thing HTTP/1.1\r\nHost: x\r\nconnection: close\r\n\r\n');
      assert.match(both, /^HTTP\/1\.1 405 [\s\S]*HTTP\/1\.1 200 /);
      assert.equal((await http(base, 'GET', '/t/thing')).status, 200);
    } finally {
      await app.close();
    }
  });
});

describe('metrics of unusual methods', () => {
  it('when every method Node parses is sent, then http_request_method names the common ones and _OTHER for the rest (a bounded label)', async () => {
    const app = await server();
    app.get('/t/thing', async () => ({ ok: true }));
    const base = await listenOnLoopback(app);
    try {
      for (const method of METHODS.filter((m) => m !== 'CONNECT')) {
        for (const path of ['/t/thing', '/t/nowhere']) await rawExchange(base, `${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      }
      const text = (await http(base, 'GET', '/metrics')).text;
      const labelled = new Set([...text.matchAll(/http_request_method="([^"]*)"/g)].map((m) => m[1]));
      assert.ok(labelled.has('PROPFIND') === false && labelled.has('_OTHER') && labelled.has('GET'), [...labelled].join(', '));
      for (const method of labelled) assert.ok(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY', '_OTHER'].includes(method!), method);
    } finally {
      await app.close();
    }
  });
});

describe('methods a path does not serve', () => {
  // A service's shape: each path pattern with the methods its routes serve.
  const ROUTES: [string, string[]][] = [
    ['/t/items', ['GET', 'POST']],
    ['/t/items/:id', ['GET', 'PATCH', 'DELETE']],
    ['/t/items/:id/stock', ['POST']],
    ['/t/session', ['OPTIONS', 'PUT']],
  ];
  /** Every method Node's parser reads but CONNECT (a tunnel, answered apart): Fastify's own and those it has no route table for (PROPFIND, M-SEARCH...). */
  const ANY_METHOD = METHODS.filter((m) => m !== 'CONNECT');

  /** The test app: the routes above, plus wildcard catch-alls that serve GET anywhere else (as the storefront's `/*` does). */
  async function routed(catchAll: boolean) {
    const app = await server();
    for (const [url, methods] of ROUTES) app.route({ method: methods, url, handler: async () => ({ served: true }) });
    if (catchAll) {
      app.get('/t/files/*', async () => ({ caught: 'files' }));
      app.get('/*', async () => ({ caught: 'all' }));
    }
    const base = await listenOnLoopback(app);
    return { app, base, pool: new Pool(base, { connections: 4 }) };
  }

  /** Sends `{}` with every method that may carry a body (QUERY must: a 400 without a Content-Type). */
  async function send(pool: Pool, method: string, path: string) {
    const body = ['GET', 'HEAD', 'TRACE'].includes(method) ? {} : { body: '{}', headers: { 'content-type': 'application/json' } };
    const res = await pool.request({ method: method as 'GET', path, ...body });
    const text = await res.body.text();
    return { status: res.statusCode, headers: new Headers(res.headers as Record<string, string>), body: text ? (JSON.parse(text) as unknown) : undefined, text };
  }

  const segment = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
  /** A concrete path of a route pattern, and the methods served there. */
  const knownPath = fc.tuple(fc.constantFrom(...ROUTES), segment).map(([[pattern, methods], id]) => ({ path: pattern.replace(':id', id), methods }));

  /** Checks the app with catch-alls on random paths, each asked with a random method of ANY_METHOD. */
  async function forAnyMethod<P>(paths: fc.Arbitrary<P>, numRuns: number, check: (pool: Pool, path: P, method: string) => Promise<void>) {
    const { app, pool } = await routed(true);
    try {
      await fc.assert(
        fc.asyncProperty(paths, fc.constantFrom(...ANY_METHOD), (path, method) => check(pool, path, method)),
        { numRuns },
      );
    } finally {
      await pool.close();
      await app.close();
    }
  }

  it('when a known path is asked with any method (Fastify\'s or one it does not route), then the route answers, or 405 with Allow naming what the path serves (HEAD with GET, OPTIONS only where served)', async () => {
    await forAnyMethod(knownPath, 300, async (pool, { path, methods }, method) => {
      const res = await send(pool, method, path);
      const served = methods.includes(method) || (method === 'HEAD' && methods.includes('GET'));
      if (served) return assert.equal(res.status, 200, `${method} ${path}: ${res.text}`);
      // GET and HEAD of a path no GET route serves fall to the catch-all, which does not make POST there a 405.
      if (method === 'GET' || method === 'HEAD') return assert.equal(res.status, 200, `${method} ${path} caught`);
      const allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : [])].sort().join(', ');
      const p = assertMethodNotAllowed(res, allow);
      assert.equal(p.detail, `${method} is not served at ${path}; allowed: ${allow}`);
    });
  });

  it('when a path only a wildcard catch-all serves is asked with another method, then 404: a catch-all makes no path exist', async () => {
    const unknownPath = fc
      .oneof(
        fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`),
        fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => `/t/files/${s.join('/')}`),
      )
      .filter((path) => !/^\/(t\/items|t\/session|livez|readyz|metrics)(\/|$)/.test(path));
    await forAnyMethod(unknownPath, 200, async (pool, path, method) => {
      const res = await send(pool, method, path);
      if (method === 'GET' || method === 'HEAD') return assert.equal(res.status, 200, `${method} ${path} caught`);
      assertProblem(res, 404, 'not-found');
      assert.equal(res.headers.get('allow'), null);
    });
  });

  it('when no route at all serves a path, then 404 for every method; the problem names the method and the path', async () => {
    const { app, pool } = await routed(false);
    try {
      for (const method of ['GET', 'POST', 'OPTIONS', 'PROPFIND']) {
        const p = assertProblem(await send(pool, method, '/t/nowhere/1'), 404, 'not-found');
        assert.equal(p.detail, `No route for ${method} /t/nowhere/1`);
      }
      // A known path with a query string is still that path.
      assertMethodNotAllowed(await send(pool, 'PUT', '/t/items?limit=5'), 'GET, HEAD, POST');
    } finally {
      await pool.close();
      await app.close();
    }
  });

  it('when a QUERY comes without a Content-Type, or any request with a Content-Type that is no media type (body or not), then 405 with Allow where the path is served, 404 where not: never the 400 or 415 Fastify answers before its not-found handler', async () => {
    // Fastify refuses an untyped QUERY (RFC 10008 2) and a malformed Content-Type before its not-found handler:
    // `curl -X QUERY` got a 400 everywhere, and `DELETE /user/me` with `Content-Type:` empty a 415.
    const { app, base, pool } = await routed(false);
    try {
      for (const [method, type] of [['QUERY', undefined], ['DELETE', ''], ['PUT', 'garbage'], ['QUERY', 'a/b c'], ['OPTIONS', 'application/json,text/plain']] as const) {
        for (const [framing, body] of [['', ''], ['Content-Length: 2\r\n', '{}'], ['Transfer-Encoding: chunked\r\n', '2\r\n{}\r\n0\r\n\r\n']] as const) {
          for (const [path, status, allow] of [['/t/items', 405, 'GET, HEAD, POST'], ['/t/items/1/stock', 405, 'POST'], ['/t/nowhere', 404, undefined]] as const) {
            const label = `${method} ${path} ${type === undefined ? 'no type' : JSON.stringify(type)} ${framing.trim() || 'no body'}`;
            const typed = type === undefined ? '' : `Content-Type: ${type}\r\n`;
            const answer = await rawExchange(base, `${method} ${path} HTTP/1.1\r\nHost: x\r\n${typed}${framing}Connection: close\r\n\r\n${body}`);
            assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} [\\s\\S]*content-type: application/problem\\+json`, 'i'), `${label}: ${answer.slice(0, 300)}`);
            assert.equal(/\r\nallow: ([^\r]*)/i.exec(answer)?.[1], allow, label);
            assert.match(answer, new RegExp(status === 405 ? `"detail":"${method} is not served at ${path}` : `"detail":"No route for ${method} ${path}"`), label);
          }
        }
      }
    } finally {
      await pool.close();
      await app.close();
    }
  });

  it('when a HEAD asks a path no route serves, or one served without GET, then the headers of its GET: the same 404 or 405, Allow and Content-Length (RFC 9110 9.3.2, 8.6), no body', async () => {
    const { app, pool } = await routed(false);
    try {
      const path = fc.oneof(
        fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`),
        segment.map((id) => `/t/items/${id}/stock`),
        fc.constant('/t/session'),
      );
      await fc.assert(
        fc.asyncProperty(path, async (p) => {
          const get = await send(pool, 'GET', p);
          const head = await send(pool, 'HEAD', p);
          assert.ok([404, 405].includes(get.status), `GET ${p}: ${get.status}`);
          assert.equal(head.status, get.status, p);
          assert.equal(head.text, '', p);
          for (const h of ['content-type', 'allow', 'cache-control']) assert.equal(head.headers.get(h), get.headers.get(h), `${p}: ${h}`);
          // It was the length of `No route for HEAD ...`, one more than the GET's body.
          assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(get.text)), p);
        }),
        { numRuns: 60 },
      );
    } finally {
      await pool.close();
      await app.close();
    }
  });

  it('when a CONNECT arrives, then its Allow names the methods the routes serve: OPTIONS only when one serves it', async () => {
    const { app, base, pool } = await routed(false);
    try {
      const answer = await rawExchange(base, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
      assert.match(answer, /^HTTP\/1\.1 405 [\s\S]*"type":"https:\/\/ecommerce\.local\/problems\/method-not-allowed"/);
      assert.match(answer, /\r\nAllow: DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT\r\n/);
    } finally {
      await pool.close();
      await app.close();
    }
  });
});

describe('UTF-8', () => {
  /** Sends a request in the given pieces (each its own write) and answers the status line's code and the body. */
  async function rawPost(base: string, path: string, pieces: Buffer[]): Promise<{ status: number; text: string }> {
    const url = new URL(base);
    const length = pieces.reduce((n, p) => n + p.length, 0);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, async () => {
        socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${length}\r\nconnection: close\r\n\r\n`);
        for (const piece of pieces) {
          socket.write(piece);
          await new Promise((r) => setTimeout(r, 20));
        }
      });
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]), text }));
      socket.on('error', reject);
    });
  }

  it('when a JSON body is not UTF-8 (Latin-1, a stray byte, a cut sequence), then 400 and nothing stored; UTF-8 split across packets and a BOM are fine', async () => {
    const app = await server();
    const seen: string[] = [];
    app.post('/t/name', { schema: { body: Type.Object({ name: Type.String({ maxLength: 100 }) }, { additionalProperties: false }) } }, async (request) => {
      seen.push(request.body.name);
      return { name: request.body.name };
    });
    const base = await listenOnLoopback(app);
    try {
      const utf8 = Buffer.from('{"name":"Café crème"}', 'utf8');
      const cut = utf8.indexOf(0xc3) + 1; // between the two bytes of é
      const ok = await rawPost(base, '/t/name', [utf8.subarray(0, cut), utf8.subarray(cut)]);
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await rawPost(base, '/t/name', [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8])])).status, 200, 'a BOM');
      for (const bad of [Buffer.from('{"name":"Café crème"}', 'latin1'), Buffer.from('{"name":"x\xff"}', 'latin1'), Buffer.concat([Buffer.from('{"name":"x"}'), Buffer.from([0xe2, 0x82])])]) {
        const res = await rawPost(base, '/t/name', [bad]);
        assert.equal(res.status, 400, res.text);
        assert.match(res.text, /not UTF-8/);
      }
      assert.deepEqual(seen, ['Café crème', 'Café crème']);
    } finally {
      await app.close();
    }
  });
});

describe('JSON bodies refused', () => {
  it('when a body is not JSON, then 400 malformed-json says where it stops (never quoting it); a __proto__ or constructor.prototype key is named as the reason; nothing reaches the handler', async () => {
    const app = await server();
    let calls = 0;
    app.post('/t/obj', { schema: { body: Type.Object({}, { additionalProperties: true }) } }, async () => (calls++, { ok: true }));
    const base = await listenOnLoopback(app);
    try {
      const cases: [string, RegExp][] = [
        ['{"password":"hunter2"x}', /^The body is not valid JSON \(from character 22\)$/],
        ['{"a":1,}', /^The body is not valid JSON \(from character 8\)$/],
        ['{"email": ', /^The body is not valid JSON \(it ends too soon\)$/],
        ['abc', /^The body is not valid JSON$/],
        ['{"__proto__":{"role":"admin"}}', /"__proto__" key/],
        ['{"a":{"constructor":{"prototype":{"x":1}}}}', /"constructor" key holding "prototype"/],
      ];
      for (const [body, detail] of cases) {
        const res = await http<{ detail: string }>(base, 'POST', '/t/obj', { raw: body, headers: { 'content-type': 'application/json' } });
        assertProblem(res, 400, 'malformed-json');
        assert.match(res.body.detail, detail, body);
        assert.doesNotMatch(res.text, /hunter2/);
      }
      assert.equal(calls, 0);
      assert.equal((await http(base, 'POST', '/t/obj', { raw: '{"constructor":{"name":"x"}}', headers: { 'content-type': 'application/json' } })).status, 200);
    } finally {
      await app.close();
    }
  });
});

describe('JSON members named twice', () => {
  it('when an object in a JSON body names a member twice (however the name is escaped, at any depth), then 400 at that member, must be sent once; nothing reaches the handler, distinct names pass', async () => {
    const app = await server();
    let calls = 0;
    app.post('/t/any', { schema: { body: Type.Unknown() } }, async (request) => (calls++, request.body));
    const base = await listenOnLoopback(app);
    try {
      const cases: [string, string][] = [
        ['{"quantity":1,"quantity":1000}', '/quantity'],
        ['{"items":[{"productId":"a","quantity":1}],"items":[]}', '/items'],
        [String.raw`{"items":[{"q":1},{"q":2,"x":[1,{"y":"\\\"","z":0}],"q":3}]}`, '/items/1/q'],
        [String.raw`{"role":"customer","r\u006fle":"admin"}`, '/role'],
        [String.raw`[{"a/b~c":1,"a\/b~c":2}]`, '/0/a~1b~0c'],
        ['{"":1,"":2}', '/'],
        [' { "a" : { } , "a" : 1 } ', '/a'],
      ];
      for (const [body, path] of cases) {
        const res = await http(base, 'POST', '/t/any', { raw: body, headers: { 'content-type': 'application/json' } });
        const p = assertProblem(res, 400, 'validation-failed');
        assert.deepEqual(p.errors, [{ path, message: 'must be sent once' }], body);
      }
      // Nested 30,000 deep, the pointer is 60 KB: the answer stays small (validation errors do), the path cut short.
      const deep = await http(base, 'POST', '/t/any', { raw: `{"items":${'['.repeat(30_000)}{"a":1,"a":2}${']'.repeat(30_000)}}`, headers: { 'content-type': 'application/json' } });
      const deepProblem = assertProblem(deep, 400, 'validation-failed');
      assert.match(deepProblem.errors?.[0]?.path ?? '', /^\/items(\/0)+\.\.\.$/);
      assert.ok(deep.text.length < 1024, `${deep.text.length} bytes`);
      assert.equal(calls, 0);
      for (const body of ['{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}', String.raw`{"a":"\"a\":1,","b":"a"}`, String.raw`{"a\"":1,"a":2}`, '[1,"a","a"]']) {
        const res = await http(base, 'POST', '/t/any', { raw: body, headers: { 'content-type': 'application/json' } });
        assert.equal(res.status, 200, `${body}: ${res.text}`);
        assert.deepEqual(res.body, JSON.parse(body));
      }
    } finally {
      await app.close();
    }
  });

  it('finds a member named twice at its JSON pointer in any JSON text, and none where names are distinct', () => {
    // Writes a JSON value as JSON.stringify would, except that the object at `at` gets its name `again` once more,
    // each of its characters sometimes written as a \u escape, and white space anywhere between tokens.
    const write = (v: unknown, path: string, at: string | undefined, again: string, escapes: boolean[], ws: string): string => {
      if (Array.isArray(v)) return `[${ws}${v.map((x, i) => write(x, `${path}/${i}`, at, again, escapes, ws)).join(`${ws},${ws}`)}${ws}]`;
      if (v === null || typeof v !== 'object') return JSON.stringify(v);
      const entries = Object.entries(v);
      const token = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');
      const members = entries.map(([k, x]) => `${JSON.stringify(k)}${ws}:${ws}${write(x, `${path}/${token(k)}`, at, again, escapes, ws)}`);
      if (path === at) {
        const escaped = [...again].map((ch, i) => (escapes[i % escapes.length] ? Array.from({ length: ch.length }, (_, k) => `\\u${ch.charCodeAt(k).toString(16).padStart(4, '0')}`).join('') : JSON.stringify(ch).slice(1, -1))).join('');
        members.push(`"${escaped}"${ws}:${ws}0`);
      }
      return `{${ws}${members.join(`${ws},${ws}`)}${ws}}`;
    };
    const objectsIn = (v: unknown, path = ''): [string, string][] => {
      if (Array.isArray(v)) return v.flatMap((x, i) => objectsIn(x, `${path}/${i}`));
      if (v === null || typeof v !== 'object') return [];
      const entries = Object.entries(v);
      const own = entries.map(([k]): [string, string] => [path, k]);
      return [...own, ...entries.flatMap(([k, x]) => objectsIn(x, `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`))];
    };
    // Names in any Unicode (astral characters escaped as their two UTF-16 units) and lone surrogates.
    const value = fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.jsonValue({ maxDepth: 4, stringUnit: 'grapheme' }), fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' }));
    const ws = fc.constantFrom('', ' ', '\n\t ');
    fc.assert(
      fc.property(value, ws, (v, space) => {
        assert.equal(repeatedMemberPointer(write(v, '', undefined, '', [false], space)), undefined);
      }),
    );
    fc.assert(
      fc.property(value, fc.nat(), fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }), ws, (v, pick, escapes, space) => {
        const objects = objectsIn(v);
        fc.pre(objects.length > 0);
        const [at, name] = objects[pick % objects.length]!;
        const text = write(v, '', at, name, escapes, space);
        JSON.parse(text); // still JSON text, which the scanner takes
        assert.equal(repeatedMemberPointer(text), `${at}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`, text);
      }),
    );
  });
});

describe('JSON numbers whole only once rounded', () => {
  it('when a body holds a number that JSON.parse makes whole by rounding (1e-400 is 0, 1.0000000000000001 is 1), then 400 at that number and nothing reaches the handler; whole numbers however written pass', async () => {
    const app = await server();
    const seen: unknown[] = [];
    app.post(
      '/t/price',
      { schema: { body: Type.Object({ priceCents: Type.Integer({ minimum: 0 }), items: Type.Optional(Type.Array(Type.Object({ quantity: Type.Integer() }))) }) } },
      async (request) => (seen.push(request.body), request.body),
    );
    const base = await listenOnLoopback(app);
    try {
      const cases: [string, string][] = [
        ['{"priceCents":1e-400}', '/priceCents'],
        ['{"priceCents":-1E-400}', '/priceCents'],
        ['{"priceCents":0.1e-330}', '/priceCents'],
        ['{"priceCents":1.0000000000000001}', '/priceCents'],
        ['{"priceCents":999999999.99999999}', '/priceCents'],
        ['{"priceCents":5,"items":[{"quantity":1},{"quantity":2.00000000000000001}]}', '/items/1/quantity'],
      ];
      for (const [body, path] of cases) {
        const res = await http(base, 'POST', '/t/price', { raw: body, headers: { 'content-type': 'application/json' } });
        const p = assertProblem(res, 400, 'validation-failed');
        assert.deepEqual(p.errors, [{ path, message: 'must be a whole number as written, not one that only rounding makes whole' }], body);
      }
      assert.deepEqual(seen, []);
      for (const [body, priceCents] of [['{"priceCents":1e2}', 100], ['{"priceCents":-0}', 0], ['{"priceCents":100.0}', 100], ['{"priceCents":1.50e1}', 15], ['{"priceCents":0.0e-999}', 0], ['{"priceCents":12,"note":"1e-400"}', 12]] as const) {
        const res = await http<{ priceCents: number }>(base, 'POST', '/t/price', { raw: body, headers: { 'content-type': 'application/json' } });
        assert.equal(res.status, 200, `${body}: ${res.text}`);
        assert.equal(res.body.priceCents, priceCents, body);
      }
    } finally {
      await app.close();
    }
  });

  it('finds no fault in what JSON.stringify writes, and finds a fraction too small or too fine for a double wherever it is put (property)', () => {
    const value = fc.jsonValue({ maxDepth: 4 });
    fc.assert(fc.property(value, (v) => assert.equal(jsonTextFault(JSON.stringify(v)), undefined)));
    // A whole number n written with a fraction a double cannot hold (n.000...0001, or 1e-400 beside it): still JSON, read as n.
    const rounded = fc.tuple(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.constantFrom('.00000000000000000001', '.99999999999999999999')).map(([n, tail]) => `${n}${tail}`);
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 5 }), fc.nat(), rounded, (list, at, number) => {
        fc.pre(Number.isInteger(Number(number)));
        const i = list.length === 0 ? 0 : at % (list.length + 1);
        const text = `{"a":[${[...list.slice(0, i).map(String), number, ...list.slice(i).map(String)].join(',')}]}`;
        assert.deepEqual(jsonTextFault(text), { fault: 'rounded-number', pointer: `/a/${i}` }, text);
      }),
    );
  });
});

describe('query strings', () => {
  it('when a query parameter is sent twice (limit=1&limit=2, status=a&status=b, q=x&q=y), then 400 at it says must be sent once, not must be integer or one of', async () => {
    const app = await server();
    const query = Type.Object(
      { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })), status: Type.Optional(Type.Union([Type.Literal('reserved'), Type.Literal('released')])), q: Type.Optional(Type.String({ maxLength: 20 })), userId: Type.Optional(Type.String({ format: 'uuid' })) },
      { additionalProperties: false },
    );
    app.get('/t/list', { schema: { querystring: query } }, async (request) => ({ query: request.query }));
    const base = await listenOnLoopback(app);
    try {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(['limit', '1', '2'], ['limit', '5', '5'], ['status', 'reserved', 'released'], ['q', 'x', 'y'], ['userId', '0190a0a0-0000-7000-8000-000000000000', 'x']), fc.nat(3), async ([name, a, b], times) => {
          const qs = [a, b, ...Array<string>(times).fill(a)].map((v) => `${name}=${encodeURIComponent(v)}`).join('&');
          const p = assertProblem(await http(base, 'GET', `/t/list?${qs}`), 400, 'validation-failed');
          assert.deepEqual(p.errors, [{ path: `querystring/${name}`, message: 'must be sent once' }], qs);
        }),
        { numRuns: 30 },
      );
      assert.deepEqual((await http<{ query: unknown }>(base, 'GET', '/t/list?limit=5&status=reserved&q=x')).body.query, { limit: 5, status: 'reserved', q: 'x' });
    } finally {
      await app.close();
    }
  });

  it('when a number in the query is not a decimal numeral (0x10, 1e1, 2.0, a space), then 400 at it says so in words, not "must be integer"', async () => {
    const app = await server();
    const query = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })), ratio: Type.Optional(Type.Number({ minimum: 0 })) }, { additionalProperties: false });
    app.get('/t/list', { schema: { querystring: query } }, async (request) => ({ query: request.query }));
    const base = await listenOnLoopback(app);
    const words = { limit: 'must be a whole number in decimal digits, such as 20', ratio: 'must be a number in decimal digits, such as 2.5' };
    const notDecimal = fc.oneof(
      fc.nat(1000).map((n) => `0x${n.toString(16)}`),
      fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 2 })).map(([m, e]) => `${m}e${e}`),
      fc.nat(100).map((n) => ` ${n}`),
      fc.constantFrom('', 'abc', '+5', 'Infinity', 'NaN'),
    );
    try {
      await fc.assert(
        fc.asyncProperty(notDecimal, fc.constantFrom('limit' as const, 'ratio' as const), async (value, name) => {
          const qs = `${name}=${encodeURIComponent(value)}`;
          const p = assertProblem(await http(base, 'GET', `/t/list?${qs}`), 400, 'validation-failed');
          assert.deepEqual(p.errors, [{ path: `querystring/${name}`, message: words[name] }], qs);
        }),
        { numRuns: 60 },
      );
      // 2.0 is a decimal number, not a whole one.
      assert.deepEqual(assertProblem(await http(base, 'GET', '/t/list?limit=2.0'), 400, 'validation-failed').errors, [{ path: 'querystring/limit', message: words.limit }]);
      assert.deepEqual((await http<{ query: unknown }>(base, 'GET', '/t/list?limit=05&ratio=2.0')).body.query, { limit: 5, ratio: 2 });
      assert.deepEqual(assertProblem(await http(base, 'GET', '/t/list?limit=0'), 400, 'validation-failed').errors, [{ path: 'querystring/limit', message: 'must be at least 1' }]);
    } finally {
      await app.close();
    }
  });

  it('when a query escape is broken (%ZZ, a lone %, %FF that is not UTF-8), then 400 problem as for a path; good escapes pass', async () => {
    const app = await server();
    app.get('/t/search', async (request) => ({ query: request.query }));
    const base = await listenOnLoopback(app);
    try {
      for (const qs of ['q=%ZZ', 'q=%', 'q=ab%2', 'category=%FF', 'q=%C3', 'a=1&q=%E2%82']) {
        assertProblem(await http(base, 'GET', `/t/search?${qs}`), 400, 'bad-request');
      }
      const ok = await http<{ query: Record<string, string> }>(base, 'GET', '/t/search?q=caf%C3%A9+cr%C3%A8me&x=%25&y=a%2Bb');
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.body.query, { q: 'café crème', x: '%', y: 'a+b' });
      assert.equal((await http(base, 'GET', '/t/search?q=plain')).status, 200);
    } finally {
      await app.close();
    }
  });
});

describe('badly encoded paths', () => {
  it("when a browser navigates to a path with a broken escape, then only a route with config.urlUnread serves it (the path as it came); every other route, an unknown path and a non-navigation get the 400 problem", async () => {
    const app = await server();
    let served = 0;
    app.get('/t/items/:id', async () => (served++, {}));
    app.get('/t/page/*', { config: { urlUnread: true } }, async (request) => ({ url: request.url }));
    const base = await listenOnLoopback(app);
    const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    try {
      for (const segment of ['%ZZ', '%', 'a%FF', '%E2%82', '%%41']) {
        for (const path of [`/t/items/${segment}`, `/t/nothing/${segment}`, `/t/page/${segment}`]) {
          const plain = assertProblem(await http(base, 'GET', path), 400, 'bad-request');
          assert.equal((plain as { instance?: string }).instance, path);
        }
        for (const path of [`/t/items/${segment}`, `/t/nothing/${segment}?q=1`]) {
          const refused = assertProblem(await http(base, 'GET', path, { headers: html }), 400, 'bad-request');
          assert.equal((refused as { instance?: string }).instance, path.split('?')[0]);
        }
        const page = await http<{ url: string }>(base, 'GET', `/t/page/${segment}?q=%ZZ`, { headers: html });
        assert.equal(page.status, 200, segment);
        assert.equal(page.body.url, `/t/page/${segment}?q=%ZZ`);
        assert.equal((await http(base, 'POST', `/t/page/${segment}`, { headers: html })).status, 400);
      }
      assert.equal(served, 0);
    } finally {
      await app.close();
    }
  });

  it('when a server has no page of the browser app (a service), then a navigation to a broken path is the 400 before any hook of the route it would match runs (not its 401)', async () => {
    const app = await server();
    let hooks = 0;
    app.get('/t/orders/:id', { onRequest: (_request, _reply, done) => (hooks++, done(new ProblemError(401, 'unauthorized', 'Unauthorized', 'A token is needed'))) }, async () => ({}));
    const base = await listenOnLoopback(app);
    try {
      for (const segment of ['%ZZ', '%', 'a%FF', '%E2%82']) {
        const refused = assertProblem(await http(base, 'GET', `/t/orders/${segment}`, { headers: { accept: 'text/html' } }), 400, 'bad-request');
        assert.equal((refused as { instance?: string }).instance, `/t/orders/${segment}`);
      }
      assert.equal(hooks, 0);
      assertProblem(await http(base, 'GET', '/t/orders/1', { headers: { accept: 'text/html' } }), 401, 'unauthorized');
    } finally {
      await app.close();
    }
  });
});

describe('security headers on every answer', () => {
  // What securityHeaders sets on every answer (docs/web.md: X-Frame-Options "every answer of the services carries").
  const expected = { 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' };

  it('when any request reaches a server (a route, no route, a broken escape the router refuses, an id over the router\'s length, a NUL, a bad query), then nosniff, X-Frame-Options DENY, no-referrer and a CSP with frame-ancestors \'none\' (fast-check)', async () => {
    const app = await server();
    app.get('/t/items/:id', async () => ({}));
    app.post('/t/items', { schema: { body: Type.Object({ name: Type.String({ maxLength: 10 }) }) } }, async () => ({}));
    app.get('/t/page/*', { config: { urlUnread: true } }, async () => ({}));
    await app.ready();
    const segment = fc.constantFrom('items', 'page', 'nothing', '%ZZ', '%', 'a%FF', '%E2%82', '%00', '%2e%2e', '..', '%2F', 'x'.repeat(101), '<b>');
    const request = fc.record({
      method: fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS'),
      path: fc.array(segment, { minLength: 0, maxLength: 3 }).map((parts) => `/t/${parts.join('/')}`),
      query: fc.constantFrom('', '?q=1', '?q=%ZZ', '?q=%00', '?limit=1&limit=2'),
      accept: fc.constantFrom('text/html', 'application/json', '*/*'),
    });
    try {
      await fc.assert(
        fc.asyncProperty(request, async ({ method, path, query, accept }) => {
          const res = await app.inject({ method: method as 'GET', url: path + query, headers: { accept, 'content-type': 'application/json' }, ...(method === 'POST' ? { payload: '{"name":1}' } : {}) });
          const label = `${method} ${path}${query} (${accept}): ${res.statusCode}`;
          for (const [name, value] of Object.entries(expected)) assert.equal(res.headers[name], value, `${name} on ${label}`);
          assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/, label);
        }),
        { numRuns: 400 },
      );
    } finally {
      await app.close();
    }
  });

  it('when the test-only fault switch fails a request (FAULT_INJECTION, PUT /internal/fault), then its 500 problem carries the same security headers as every other answer', async () => {
    const app = await createServer({ name: 't', prefix: '/t', version: '0', description: 't', logLevel: 'silent', readiness: async () => undefined, metrics: new Metrics('t', '0', { defaultMetrics: false }), docs: false, faultInjection: true });
    app.get('/t/items', async () => ({}));
    const base = await listenOnLoopback(app);
    try {
      const served = await http(base, 'GET', '/t/items');
      assert.equal(served.status, 200);
      const securityNames = [...Object.keys(expected), 'content-security-policy', 'cross-origin-resource-policy', 'strict-transport-security'];
      for (const name of securityNames) assert.ok(served.headers.get(name), `${name} on a served answer`);
      assert.equal((await http(base, 'PUT', '/internal/fault', { body: { errorRatio: 1 } })).status, 200);
      for (const method of ['GET', 'POST', 'DELETE']) {
        const faulted = await http(base, method, '/t/items');
        assertProblem(faulted, 500, 'internal-error');
        for (const name of securityNames) assert.equal(faulted.headers.get(name), served.headers.get(name), `${name} on the injected ${method} 500`);
      }
    } finally {
      await app.close();
    }
  });

  it('when Node or the server answers before any route (unparsable, 431, TE with CL, CONNECT, an Expect, no Host, a broken escape), then the same security headers on that answer', async () => {
    const app = await server();
    app.post('/t/echo', async () => ({}));
    const base = await listenOnLoopback(app);
    const headersOf = (answer: string) => answer.split('\r\n\r\n')[0]!.toLowerCase();
    try {
      for (const [label, request] of [
        ['unparsable', 'BLAH\r\n\r\n'],
        ['431', `GET /t/echo HTTP/1.1\r\nHost: x\r\nX-A: ${'a'.repeat(20_000)}\r\n\r\n`],
        ['TE and CL', 'POST /t/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}'],
        ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'],
        ['Expect: foo', 'POST /t/echo HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}'],
        ['Expect: 100-continue, 5 MB', 'POST /t/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n'],
        ['no Host', 'GET /t/echo HTTP/1.1\r\nConnection: close\r\n\r\n'],
        ['broken escape', 'GET /t/%FF HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
      ] as const) {
        const head = headersOf(await rawExchange(base, request));
        assert.match(head, /^http\/1\.1 4\d\d /, `${label}: ${head.slice(0, 200)}`);
        for (const [name, value] of Object.entries(expected)) assert.ok(head.includes(`\r\n${name}: ${value.toLowerCase()}\r\n`), `${name} on ${label}: ${head}`);
        assert.match(head, /\r\ncontent-security-policy: [^\r]*frame-ancestors 'none'/, label);
      }
    } finally {
      await app.close();
    }
  });
});

describe('NUL', () => {
  it('finds a NUL in nested values and keys, iteratively', () => {
    assert.equal(containsUnstorableText({ a: [{ b: 'x\u0000' }] }), true);
    assert.equal(containsUnstorableText({ 'k\u0000': 1 }), true);
    assert.equal(containsUnstorableText({ a: ['\\u0000', 1, null, true] }), false);
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assert.equal(containsUnstorableText(deep), true);
    // A lone surrogate (JSON can carry one as an escape; PostgreSQL cannot store it), never a well-formed pair.
    assert.equal(containsUnstorableText({ name: 'x\ud800y' }), true);
    assert.equal(containsUnstorableText(['\udfff']), true);
    assert.equal(containsUnstorableText({ ['k\udc00']: 1 }), true);
    assert.equal(containsUnstorableText({ name: 'emoji 😀 and \u{1F680}' }), false);
  });

  it('when a query, a param or a body holds a NUL, then 400 before the handler runs', async () => {
    const app = await server();
    let ran = 0;
    app.post('/t/:id', { schema: { body: Type.Object({}, { additionalProperties: true }) } }, async () => (ran++, {}));
    const base = await listenOnLoopback(app);
    try {
      // Each refusal names where, as the validator names a field, so a form can mark the field it is about.
      assertErrorAt(await http(base, 'POST', '/t/a%00b', { body: {} }), 'params/id');
      assertErrorAt(await http(base, 'POST', '/t/a?q=%00', { body: {} }), 'querystring/q');
      assertErrorAt(await http(base, 'POST', '/t/a', { body: { deep: [{ s: 'fine' }, { s: 'a\u0000' }] } }), '/deep/1/s');
      assertErrorAt(await http(base, 'POST', '/t/a', { body: { 'a/b~c': 'x\u0000' } }), '/a~1b~0c');
      assertErrorAt(await http(base, 'POST', '/t/a', { body: { ok: 1, 'k\u0000': 1 } }), '/k\u0000');
      assertErrorAt(await http(base, 'POST', '/t/a', { raw: '{"name":"x\\ud800y"}', headers: { 'content-type': 'application/json' } }), '/name');
      assert.equal(ran, 0);
      assert.equal((await http(base, 'POST', '/t/a', { body: { s: 'fine \\u0000 as text' } })).status, 200);
    } finally {
      await app.close();
    }
  });
});

describe('errors and logs', () => {
  it('when a client puts a secret in the path (a parameter, past a route, an unknown route, a wildcard), then no log line holds it; route names, UUIDs and numbers stay', async () => {
    const lines: string[] = [];
    const app = await server('info', lines);
    app.get('/t/items/:id', async () => ({}));
    app.get('/t/v2/things', async () => ({}));
    app.get('/t/files/*', async () => ({}));
    const base = await listenOnLoopback(app);
    // Tokens, JWT-like values and emails, as the platform makes them: each has a digit or an '@' (a name of letters
    // alone is kept, as in a span: see docs/tracing.md).
    const secret = fc
      .oneof(
        fc.stringMatching(/^[A-Za-z0-9_-]{12,48}$/),
        fc.tuple(fc.stringMatching(/^[A-Za-z0-9_-]{6,20}$/), fc.stringMatching(/^[A-Za-z0-9_-]{6,20}$/)).map((p) => p.join('.')),
        fc.emailAddress(),
      )
      .filter((v) => v.length >= 12 && /[0-9@]/.test(v));
    const sent: string[] = [];
    try {
      await fc.assert(
        fc.asyncProperty(secret, fc.constantFrom('/t/items/{s}', '/t/items/{s}/more', '/t/{s}', '/t/nosuch/{s}', '/t/files/a/{s}', '/t/v2/things?token={s}', '/{s}/t'), async (value, shape) => {
          sent.push(value, encodeURIComponent(value));
          const res = await http(base, 'GET', shape.replace('{s}', encodeURIComponent(value)));
          assert.ok(res.status < 500, `${shape}: ${res.status}`);
        }),
        { numRuns: 60 },
      );
      const uuid = '0b2f9e1c-5d4a-4e3b-9c2d-1a0b9c8d7e6f';
      for (const path of [`/t/items/${uuid}`, '/t/items/42', '/t/items/plain-name', '/t/v2/things', `/t/${'a/'.repeat(2000)}`]) await http(base, 'GET', path);
      const logged = lines.map((l) => JSON.parse(l) as { msg: string; path?: string }).filter((l) => l.msg === 'request').map((l) => l.path ?? '');
      const leaks = lines.filter((line) => sent.some((v) => line.includes(v)));
      assert.deepEqual(leaks, [], 'a secret in a log line');
      assert.deepEqual(logged.slice(-5, -1), [`/t/items/${uuid}`, '/t/items/42', '/t/items/plain-name', '/t/v2/things']);
      assert.ok(logged.at(-1)!.length < 200 && logged.at(-1)!.endsWith('/...'), logged.at(-1));
    } finally {
      await app.close();
    }
  });

  it('maps connection failures (ECONNREFUSED, 57P01, 08006, pool timeout) to 503 with Retry-After, logged at warn; a bug is a 500 at error; reqId once per line', async () => {
    const lines: string[] = [];
    const app = await server('info', lines);
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const adminShutdown = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    app.get('/t/refused', async () => Promise.reject(refused));
    app.get('/t/shutdown', async () => Promise.reject(adminShutdown));
    app.get('/t/terminated', async () => Promise.reject(new Error('Connection terminated unexpectedly')));
    app.get('/t/pool', async () => Promise.reject(new Error('timeout exceeded when trying to connect')));
    app.get('/t/down', async () => Promise.reject(new ServiceUnavailable()));
    app.get('/t/bug', async () => Promise.reject(new TypeError('x is undefined')));
    const base = await listenOnLoopback(app);
    try {
      for (const path of ['/t/refused', '/t/shutdown', '/t/terminated', '/t/pool', '/t/down']) {
        const res = await http(base, 'GET', path, { headers: { 'x-request-id': `req${path.replace(/\//g, '-')}` } });
        assertProblem(res, 503, 'service-unavailable');
        assert.ok(Number(res.headers.get('retry-after')) >= 1, path);
      }
      assertProblem(await http(base, 'GET', '/t/bug', { headers: { 'x-request-id': 'req-bug' } }), 500, 'internal-error');
    } finally {
      await app.close();
    }
    for (const line of lines) assert.ok((line.match(/"reqId"/g) ?? []).length <= 1, `reqId twice: ${line}`);
    const parsed = lines.map((l) => JSON.parse(l) as { level: number; msg: string; reqId?: string; status?: number });
    const requestLines = parsed.filter((l) => l.msg === 'request');
    assert.equal(requestLines.length, 6);
    for (const l of requestLines) assert.equal(l.level, l.status === 503 ? 40 : 50, JSON.stringify(l));
    assert.ok(parsed.filter((l) => l.level >= 50).every((l) => l.reqId === 'req-bug'), 'only the bug is logged at error');
  });

  it("when a library answers a client error of its own (send's 403 and 416, a proxy's 400), then the problem's type and title name that status, not `bad-request`, and its headers (Content-Range) are kept", async () => {
    const app = await server();
    // As http-errors makes them (@fastify/send, @fastify/static, @fastify/http-proxy): a status, a message, maybe headers.
    app.get('/t/fail/:status', async (request) => {
      const status = Number((request.params as { status: string }).status);
      throw Object.assign(new Error(STATUS_CODES[status] ?? 'x'), { statusCode: status, status, headers: status === 416 ? { 'Content-Range': 'bytes */1141' } : undefined });
    });
    const base = await listenOnLoopback(app);
    const KIT_TITLES: Record<number, string> = {
      400: 'Bad request',
      404: new NotFound().title,
      412: new PreconditionFailed('x').title,
      413: 'Payload too large',
      415: 'Unsupported media type',
      429: new TooManyRequests(1).title,
    };
    // 407 aside: fetch treats a 407 (proxy authentication) as a network error.
    const clientErrors = Object.keys(STATUS_CODES).map(Number).filter((s) => s >= 400 && s < 500 && s !== 407);
    try {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...clientErrors), async (status) => {
          const res = await http(base, 'GET', `/t/fail/${status}`);
          const phrase = STATUS_CODES[status]!;
          const p = assertProblem(res, status, status === 400 ? 'bad-request' : phrase.toLowerCase().replace(/[^a-z0-9]+/g, '-'));
          // A type the kit's own errors answer too has their title (one title per type); any other, the phrase.
          assert.equal(p.title, KIT_TITLES[status] ?? phrase);
        }),
        { numRuns: 40 },
      );
      const range = await http(base, 'GET', '/t/fail/416');
      assertProblem(range, 416, 'range-not-satisfiable');
      assert.equal(range.headers.get('content-range'), 'bytes */1141');
    } finally {
      await app.close();
    }
  });

  it('classifies errors: unavailable vs not; start-up waits for a missing server, database or role but not for a syntax error', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', '57P01', '57P03', '08006', '08001', '53300', '53000', '53100', '53200', '40P01', '40001', '57P05', '55P03', '25P04']) assert.equal(isUnavailableError(Object.assign(new Error('x'), { code })), true, code);
    // 53400, a limit of the server's configuration (temp_file_limit, max_locks_per_transaction), meets the same statement again.
    // 40002 (a deferred constraint failing at COMMIT) is the request's own data, not a conflict that passes.
    for (const code of ['23505', '42601', '22P02', '53400', '40002', undefined]) assert.equal(isUnavailableError(Object.assign(new Error('x'), { code })), false, String(code));
    for (const code of ['57P03', '3D000', '28P01', '28000', '42501', 'ECONNREFUSED']) assert.ok(startupWaitReason(Object.assign(new Error('x'), { code })), code);
    assert.equal(startupWaitReason(Object.assign(new Error('x'), { code: '42601' })), undefined);
    // A statement cancelled by its timeout is a request's 503 but not a server to wait for (a migration would run again).
    assert.ok(isUnavailableError(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' })));
    assert.equal(startupWaitReason(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' })), undefined);
    assert.equal(startupWaitReason(Object.assign(new Error('terminating connection due to transaction timeout'), { code: '25P04' })), undefined);
    // Every failure a request answers 503 for is one start-up waits out: one list, not two that drift apart.
    const unavailable = [
      ...['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENETUNREACH', 'EAI_AGAIN', '57P01', '57P02', '08006', '08001', '53300', '53100', '53200'].map((code) => Object.assign(new Error('x'), { code })),
      new Error('Connection terminated unexpectedly'),
      new Error('Client has encountered a connection error and is not queryable'),
      new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], 'connect failed'),
    ];
    for (const err of unavailable) {
      assert.equal(isUnavailableError(err), true, err.message);
      assert.ok(startupWaitReason(err), `start-up waits out ${(err as { code?: string }).code ?? err.message}`);
    }
    for (const code of ['3D000', '28P01', '28000']) assert.equal(isUnavailableError(Object.assign(new Error('x'), { code })), false, `${code} is not a request's 503`);
  });

  it('when Node answers before Fastify (a request it cannot parse, 431, an Expect, CONNECT), then the answer still carries X-Request-Id and traceresponse: the caller\'s when sent', async () => {
    const app = await server();
    app.post('/t/echo', async () => ({}));
    const base = await listenOnLoopback(app);
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const sent = `X-Request-Id: caller-id-1\r\ntraceparent: 00-${trace}-00f067aa0ba902b7-01\r\n`;
    const headerOf = (answer: string, name: string) => new RegExp(`\\r\\n${name}: ([^\\r]*)`, 'i').exec(answer.split('\r\n\r\n')[0]!)?.[1];
    try {
      // Node's parser: no request was read, so new ones (a trace of flags 00: nothing of it is recorded).
      for (const [label, request] of [
        ['unparsable', 'BLAH\r\n\r\n'],
        ['431', `GET /t/echo HTTP/1.1\r\nHost: x\r\n${sent}X-A: ${'a'.repeat(20_000)}\r\n\r\n`],
        ['TE and CL', `POST /t/echo HTTP/1.1\r\nHost: x\r\n${sent}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}`],
      ] as const) {
        const answer = await rawExchange(base, request);
        assert.match(headerOf(answer, 'x-request-id') ?? '', /^[0-9a-f-]{36}$/, `${label}: ${answer.slice(0, 300)}`);
        assert.match(headerOf(answer, 'traceresponse') ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/, label);
      }
      // Node read the headers: the caller's id and trace id are echoed.
      for (const [label, request] of [
        ['CONNECT', `CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n${sent}\r\n`],
        ['Expect: foo', `POST /t/echo HTTP/1.1\r\nHost: x\r\n${sent}Expect: foo\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`],
        ['Expect: 100-continue, 5 MB', `POST /t/echo HTTP/1.1\r\nHost: x\r\n${sent}Expect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n`],
      ] as const) {
        const answer = await rawExchange(base, request);
        assert.match(answer, /^HTTP\/1\.1 4\d\d /, label);
        assert.equal(headerOf(answer, 'x-request-id'), 'caller-id-1', `${label}: ${answer.slice(0, 300)}`);
        assert.match(headerOf(answer, 'traceresponse') ?? '', new RegExp(`^00-${trace}-[0-9a-f]{16}-00$`), label);
      }
    } finally {
      await app.close();
    }
  });

  it('when one problem type is answered by different layers (Node\'s parser, the router, the body parser, the guards), then it has one title', async () => {
    const app = await server();
    app.post('/t/echo', { schema: { body: Type.Object({ a: Type.Optional(Type.String()) }) } }, async (request) => request.body);
    const base = await listenOnLoopback(app);
    const raw = (text: string) => rawExchange(base, text);
    const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { type: string; title: string };
    const post = (headers: string, body: string) => raw(`POST /t/echo HTTP/1.1\r\nHost: x\r\n${headers}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    try {
      const answers = [
        await raw('BLAH\r\n\r\n'), // Node's parser: bad-request
        await raw('GET /t/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), // the router: bad-request
        await raw('GET /t/echo?q=%ZZ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), // the guards: bad-request
        await post('Content-Type: application/json\r\n', ''), // an empty JSON body: malformed-json
        await post('Content-Type: application/json\r\n', '{'), // malformed-json
        await post('Content-Type: text/plain\r\n', '{}'), // unsupported-media-type
        await post('Content-Type: application/json\r\nContent-Encoding: gzip\r\n', '{}'), // unsupported-media-type
      ].map(bodyOf);
      const titles = new Map<string, Set<string>>();
      for (const { type, title } of answers) titles.set(type, (titles.get(type) ?? new Set()).add(title));
      assert.deepEqual(
        Object.fromEntries([...titles].map(([type, t]) => [type.replace(/.*\//, ''), [...t]])),
        { 'bad-request': ['Bad request'], 'malformed-json': ['Malformed JSON'], 'unsupported-media-type': ['Unsupported media type'] },
      );
      // The status line keeps HTTP's reason phrase.
      assert.match(await raw('BLAH\r\n\r\n'), /^HTTP\/1\.1 400 Bad Request\r\n/);
    } finally {
      await app.close();
    }
  });

  it('when the router or the HTTP parser refuses a request (or it lacks Host, or is a CONNECT), then problem+json naming no framework', async () => {
    const app = await server();
    app.get('/t/:id', async () => ({}));
    const base = await listenOnLoopback(app);
    const raw = (text: string) => rawExchange(base, text);
    try {
      assertProblem(await http(base, 'GET', `/t/${'x'.repeat(500)}`), 404, 'not-found');
      const bad = await http(base, 'GET', '/t/%E0%A4%A');
      assertProblem(bad, 400);
      assert.doesNotMatch(bad.text, /FST_|fastify/i);
      const big = await raw(`GET /t/a HTTP/1.1\r\nHost: x\r\nX-A: ${'a'.repeat(20_000)}\r\n\r\n`);
      assert.match(big, /^HTTP\/1\.1 431 [\s\S]*content-type: application\/problem\+json[\s\S]*"status":431/i);
      const junk = await raw('BLAH\r\n\r\n');
      assert.match(junk, /^HTTP\/1\.1 400 [\s\S]*application\/problem\+json/i);
      assert.match(junk, /cache-control: no-store/i);
      // HTTP/1.1 without Host: Node's own answer was a bare 400 with an empty body.
      const noHost = await raw('GET /t/a HTTP/1.1\r\nConnection: close\r\n\r\n');
      assert.match(noHost, /^HTTP\/1\.1 400 [\s\S]*application\/problem\+json[\s\S]*"detail":"An HTTP\/1\.1 request must have a Host header"/i);
      assert.match(noHost, /cache-control: no-store/i);
      // HTTP/1.0 has no such rule: served.
      assert.match(await raw('GET /t/a HTTP/1.0\r\n\r\n'), /^HTTP\/1\.1 200 /);
      // CONNECT: Node closed the connection without a word.
      const tunnel = await raw('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
      assert.match(tunnel, /^HTTP\/1\.1 405 [\s\S]*application\/problem\+json[\s\S]*"status":405/i);
      // Its Allow names the methods the routes serve: no OPTIONS here, where none serves it.
      assert.match(tunnel, /\r\nAllow: GET, HEAD\r\n/);
      // Two Host headers (RFC 9112 3.2): 400, not the first one silently.
      assert.match(await raw('GET /t/a HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400 [\s\S]*"detail":"A request must have one Host header"/);
      // An Idempotency-Key on two lines (one value, not a list): 400, not the key "k, k" Node's join made of them;
      // on any route, so through the gateway (which forwards the joined value) too. One line is served.
      assert.match(await raw('GET /t/a HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k\r\nidempotency-key: k\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400 [\s\S]*"path":"headers\/idempotency-key"/);
      assert.match(await raw('GET /t/a HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k, k\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /);
      // Authorization and Content-Type hold one value (RFC 9110), and Node keeps the first line of each and drops the
      // rest unseen: on two lines, in any letter case, the same value or not, a 400 naming the header, never the
      // first taken silently (a proxy reading the last would have authorized another caller). One line each is served.
      for (const [name, a, b] of [['Authorization', 'Bearer a', 'Bearer b'], ['authorization', 'Bearer a', 'Bearer a'], ['Content-Type', 'application/json', 'text/plain'], ['content-type', 'application/json', 'application/json']] as const) {
        const twice = await raw(`GET /t/a HTTP/1.1\r\nHost: x\r\n${name}: ${a}\r\n${name.toUpperCase()}: ${b}\r\nConnection: close\r\n\r\n`);
        assert.match(twice, new RegExp(`^HTTP/1\\.1 400 [\\s\\S]*cache-control: no-store[\\s\\S]*"path":"headers/${name.toLowerCase()}","message":"must be sent once"`, 'i'), `${name}: ${twice}`);
      }
      assert.match(await raw('GET /t/a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /);
      // Node reads at most 1,000 header lines and dropped the others unseen (a second Authorization among them): more
      // is a 431, whatever the count; up to it, the request is served.
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 990, max: 1100 }), async (lines) => {
          const filler = Array.from({ length: lines - 2 }, (_, i) => `x-${i % 7}: 1\r\n`).join('');
          const answer = await raw(`GET /t/a HTTP/1.1\r\nHost: x\r\n${filler}Connection: close\r\n\r\n`);
          if (lines > 1000) assert.match(answer, /^HTTP\/1\.1 431 [\s\S]*"detail":"A request may have at most 1000 header lines"/, `${lines} lines`);
          else assert.match(answer, /^HTTP\/1\.1 200 /, `${lines} lines`);
        }),
        { numRuns: 40, examples: [[1000], [1001], [1023], [1024]] },
      );
      // A transfer coding other than chunked (RFC 9112 6.1): 501, the body not parsed as if it were plain JSON.
      for (const coding of ['gzip, chunked', 'deflate, chunked', 'identity, chunked']) {
        const coded = await raw(`POST /t/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ${coding}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n`);
        assert.match(coded, /^HTTP\/1\.1 501 [\s\S]*application\/problem\+json[\s\S]*"detail":"Transfer-Encoding [^"]* is not served: only chunked"/i, coding);
      }
      assert.match(await raw('POST /t/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n'), /^HTTP\/1\.1 405 /);
      // A content coding (RFC 9110 8.4): 415, not a gzip body parsed as its compressed bytes nor a mislabelled one taken.
      for (const coding of ['gzip', 'br', 'deflate, gzip']) {
        const coded = await raw(`POST /t/a HTTP/1.1\r\nHost: x\r\nContent-Encoding: ${coding}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
        assert.match(coded, /^HTTP\/1\.1 415 [\s\S]*application\/problem\+json[\s\S]*"detail":"Content-Encoding [^"]* is not accepted: send the body uncompressed"/i, coding);
      }
      assert.match(await raw('GET /t/a HTTP/1.1\r\nHost: x\r\nContent-Encoding: identity\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /);
      // An expectation other than 100-continue: 417 as a problem (Node's own had no body).
      const expect = await raw('POST /t/a HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
      assert.match(expect, /^HTTP\/1\.1 417 [\s\S]*application\/problem\+json[\s\S]*"status":417/i);
      assert.match(expect, /cache-control: no-store/i);
      // An absolute-form target is served by its path (RFC 9112 3.2.2: a server must accept it), kept verbatim.
      assert.match(await raw('GET http://127.0.0.1/t/a?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /);
      assert.match(await raw('GET HTTP://example.com HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 404 [\s\S]*application\/problem\+json/);
      // The server still serves afterwards.
      assert.equal((await http(base, 'GET', '/t/a')).status, 200);
    } finally {
      await app.close();
    }
  });

  it('when a request line names HTTP/0.9 or HTTP/2.0 (which Node\'s HTTP/1 parser takes), then 505 problem, not served as HTTP/1.1; 1.0 and 1.1 are served', async () => {
    const app = await server();
    let served = 0;
    app.get('/t/:id', async () => ((served += 1), {}));
    app.post('/t/echo', async () => ((served += 1), {}));
    const base = await listenOnLoopback(app);
    try {
      for (const version of ['0.9', '2.0']) {
        for (const request of [`GET /t/a HTTP/${version}\r\nHost: x\r\n\r\n`, `POST /t/echo HTTP/${version}\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`, `GET /nope HTTP/${version}\r\n\r\n`]) {
          const answer = await rawExchange(base, request);
          assert.match(answer, /^HTTP\/1\.1 505 [\s\S]*application\/problem\+json[\s\S]*"status":505/i, `${request}: ${answer.slice(0, 200)}`);
        }
      }
      assert.equal(served, 0);
      assert.match(await rawExchange(base, 'GET /t/a HTTP/1.0\r\n\r\n'), /^HTTP\/1\.1 200 /);
      assert.match(await rawExchange(base, 'GET /t/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /);
    } finally {
      await app.close();
    }
  });

  it('when a client sends what the server does not do (HTTP/2.0 request line: 505; Transfer-Encoding gzip: 501), then its request line is logged at info like a 4xx, not at error like a bug (a 500)', async () => {
    const lines: string[] = [];
    const app = await server('info', lines);
    app.get('/t/:id', async () => ({}));
    app.post('/t/echo', async () => ({}));
    app.get('/t/bug/x', async () => Promise.reject(new TypeError('x is undefined')));
    const base = await listenOnLoopback(app);
    try {
      assert.match(await rawExchange(base, 'GET /t/a HTTP/2.0\r\nHost: x\r\n\r\n'), /^HTTP\/1\.1 505 /);
      assert.match(await rawExchange(base, 'POST /t/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n'), /^HTTP\/1\.1 501 /);
      assertProblem(await http(base, 'GET', '/t/bug/x'), 500, 'internal-error');
    } finally {
      await app.close();
    }
    const requests = lines.map((l) => JSON.parse(l) as { level: number; msg: string; status?: number }).filter((l) => l.msg === 'request');
    assert.deepEqual(requests.map((l) => [l.status, l.level]).sort(), [[500, 50], [501, 30], [505, 30]]);
  });

  it('when Node\'s parser refuses a request the server has already answered (a Transfer-Encoding not ending in chunked), then that one answer on the connection, no second one after it', async () => {
    const app = await server();
    app.get('/t/:id', async () => ({}));
    app.post('/t/echo', { schema: { body: Type.Object({ a: Type.Optional(Type.String()) }) } }, async (request) => request.body);
    const base = await listenOnLoopback(app);
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('xchunked', 'gzip', 'identity', 'deflate', 'chunked, gzip', 'br'),
          fc.constantFrom('POST /t/a', 'POST /t/echo', 'PUT /t/a', 'GET /t/a', 'POST /nope', 'DELETE /t/echo'),
          fc.constantFrom('{}', '{"a":"b"}', '', 'GET /t/b HTTP/1.1\r\nHost: x\r\n\r\n'),
          async (coding, target, body) => {
            const answer = await rawExchange(base, `${target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: ${coding}\r\nConnection: close\r\n\r\n${body}`);
            const statusLines = answer.match(/HTTP\/1\.1 \d{3} /g) ?? [];
            assert.equal(statusLines.length, 1, `${target} with ${coding}: ${answer}`);
            assert.match(answer, /^HTTP\/1\.1 (400|405|404|501) [\s\S]*application\/problem\+json/i, answer);
          },
        ),
        { numRuns: 60 },
      );
      assert.equal((await http(base, 'GET', '/t/a')).status, 200);
    } finally {
      await app.close();
    }
  });

  it('when a client sends its body slower than the request timeout, then it is cut off (408 problem) and the server keeps serving', async () => {
    const app = await createServer({ name: 't', prefix: '/t', version: '0', description: 't', logLevel: 'silent', readiness: async () => undefined, metrics: new Metrics('t', '0', { defaultMetrics: false }), docs: false, limits: { requestTimeoutMs: 1500, headersTimeoutMs: 1000, checkIntervalMs: 250 } });
    app.post('/t/echo', async (request) => request.body);
    const base = await listenOnLoopback(app);
    try {
      const t0 = Date.now();
      const result = await new Promise<{ data: string; ms: number }>((resolve) => {
        let data = '';
        const s = connect(Number(new URL(base).port), '127.0.0.1', () => s.write('POST /t/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{'));
        const timer = setInterval(() => s.writable && s.write(' '), 200);
        s.setEncoding('latin1');
        s.on('data', (d: string) => (data += d));
        s.on('error', () => undefined);
        s.on('close', () => (clearInterval(timer), resolve({ data, ms: Date.now() - t0 })));
      });
      assert.ok(result.ms < 4000, `held for ${result.ms} ms`);
      assert.match(result.data, /^HTTP\/1\.1 408 [\s\S]*application\/problem\+json/i);
      assert.equal((await http(base, 'GET', '/livez')).status, 200);
    } finally {
      await app.close();
    }
  });

  it('when Node refuses a request on its connection (408: its body or headers too slow; 400: not valid HTTP), then the problem\'s instance is the request\'s path when its request line and headers were read (a later request on a kept-alive connection: its own), else the answer\'s own id as urn:uuid, never "/" (fast-check)', async () => {
    const app = await createServer({ name: 't', prefix: '/t', version: '0', description: 't', logLevel: 'silent', readiness: async () => undefined, metrics: new Metrics('t', '0', { defaultMetrics: false }), docs: false, limits: { requestTimeoutMs: 1200, headersTimeoutMs: 800, checkIntervalMs: 200 } });
    // Any path reads its body: the refusal comes while it arrives, not a 404 before.
    app.post('/t/*', async (request) => request.body);
    app.get('/t/x', async () => ({}));
    const port = Number(new URL(await listenOnLoopback(app)).port);
    /** Each part written once the answers before it came (`first`: the answer count awaited before the next part); the last answer, parsed. */
    const exchange = (parts: string[]) =>
      new Promise<{ status: number; requestId: string; instance: unknown; answers: number }>((resolve) => {
        let data = '';
        const s = connect(port, '127.0.0.1');
        const answersIn = () => data.split(/(?=HTTP\/1\.1 \d{3} )/).filter(Boolean);
        let next = 0;
        const writeNext = () => {
          if (next < parts.length) s.write(parts[next++]!);
        };
        s.on('connect', writeNext);
        s.setEncoding('latin1');
        s.on('data', (d: string) => {
          data += d;
          if (answersIn().length >= next && /\r\n\r\n\{[^]*\}$/.test(data)) writeNext();
        });
        s.on('error', () => undefined);
        s.on('close', () => {
          const answers = answersIn();
          const last = answers.at(-1) ?? '';
          const [head = '', body = ''] = last.split('\r\n\r\n');
          resolve({
            status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]),
            requestId: /\r\nx-request-id: ([^\r]*)/i.exec(head)?.[1] ?? '',
            instance: (JSON.parse(body || '{}') as { instance?: unknown }).instance,
            answers: answers.length,
          });
        });
      });
    const served = 'GET /t/x HTTP/1.1\r\nHost: x\r\n\r\n';
    const segment = fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/).filter((x) => x !== '.' && x !== '..');
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.constantFrom('', '?q=1', '?a=b&c=%20'), fc.boolean(), async (segments, query, afterAnother) => {
          const path = `/t/${segments.join('/')}`;
          const before = afterAnother ? [served] : [];
          // The request line and headers were read: Node refuses a chunk of its body.
          const badChunk = await exchange([...before, `POST ${path}${query} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n`]);
          assert.equal(badChunk.status, 400, path);
          assert.equal(badChunk.instance, path, `bad chunk at ${path}${query}`);
          assert.equal(badChunk.answers, before.length + 1);
          // The request line was read but not (all) its headers: Node keeps it to itself, so the answer names its own id.
          const badHeader = await exchange([...before, `GET ${path}${query} HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n`]);
          assert.equal(badHeader.status, 400, path);
          assert.match(badHeader.requestId, new RegExp(UUID_PATTERN));
          assert.equal(badHeader.instance, `urn:uuid:${badHeader.requestId}`, `bad header at ${path}${query}`);
        }),
        { numRuns: 25 },
      );
      for (const [label, parts, status, instance] of [
        ['body too slow', ['POST /t/echo?x=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{'], 408, '/t/echo'],
        ['body too slow after a served request', [served, 'POST /t/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{'], 408, '/t/echo'],
        ['headers too slow', ['GET /t/slow HTTP/1.1\r\nHost: x\r\n'], 408, undefined],
        ['headers too slow after a served request', [served, 'GET /t/slow HTTP/1.1\r\nHost: x\r\n'], 408, undefined],
        ['not a request line', ['BLAH\r\n\r\n'], 400, undefined],
        ['not a request line after a served request', [served, 'GET /t/x y z HTTP/1.1\r\n\r\n'], 400, undefined],
      ] as const) {
        const answer = await exchange([...parts]);
        assert.equal(answer.status, status, label);
        assert.equal(answer.instance, instance ?? `urn:uuid:${answer.requestId}`, label);
        assert.notEqual(answer.instance, '/', label);
      }
    } finally {
      await app.close();
    }
  });

  it('when Node refuses a request whose line and headers it read (a bad chunk of its body: 400; its body too slow: 408), then the answer carries the X-Request-Id a routed answer gives that caller (its valid id, else a new one) and the caller\'s trace; one refused before its headers were read (a bad header line after the id) a new id, named by its instance (fast-check)', async () => {
    const app = await createServer({ name: 't', prefix: '/t', version: '0', description: 't', logLevel: 'silent', readiness: async () => undefined, metrics: new Metrics('t', '0', { defaultMetrics: false }), docs: false, limits: { requestTimeoutMs: 1000, headersTimeoutMs: 700, checkIntervalMs: 100 } });
    app.post('/t/echo', async (request) => request.body);
    const base = await listenOnLoopback(app);
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parsed = (answer: string) => {
      const [head = '', body = ''] = answer.split('\r\n\r\n');
      return {
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]),
        requestId: /\r\nx-request-id: ([^\r]*)/i.exec(head)?.[1] ?? '',
        traceresponse: /\r\ntraceresponse: ([^\r]*)/i.exec(head)?.[1] ?? '',
        instance: (JSON.parse(body || '{}') as { instance?: unknown }).instance,
      };
    };
    // Ids of the request-context rule (a plain token up to 128 characters) and others: spaces, symbols, too long.
    const id = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/),
      fc.stringMatching(/^[A-Za-z0-9._:-]{1,20}[ /@=+,;!~][A-Za-z0-9._:-]{1,20}$/),
      fc.stringMatching(/^[A-Za-z0-9]{129,140}$/),
      fc.uuid(),
    );
    /** The raw answer's id is the one a routed answer gives the same caller: its own when valid, else a new UUID. */
    const assertEchoedAsRouted = async (sent: string, answer: ReturnType<typeof parsed>, label: string) => {
      const routed = (await http(base, 'GET', '/t/nope', { headers: { 'x-request-id': sent } })).headers.get('x-request-id');
      if (routed === sent) assert.equal(answer.requestId, sent, label);
      else assert.match(answer.requestId, new RegExp(UUID_PATTERN), label);
      assert.match(answer.traceresponse, new RegExp(`^00-${trace}-[0-9a-f]{16}-00$`), label);
    };
    const headers = (sent: string) => `X-Request-Id: ${sent}\r\ntraceparent: 00-${trace}-00f067aa0ba902b7-01\r\n`;
    try {
      await fc.assert(
        fc.asyncProperty(id, async (sent) => {
          const badChunk = parsed(await rawExchange(base, `POST /t/echo HTTP/1.1\r\nHost: x\r\n${headers(sent)}Transfer-Encoding: chunked\r\n\r\nZZ\r\n`));
          assert.equal(badChunk.status, 400);
          assert.equal(badChunk.instance, '/t/echo');
          await assertEchoedAsRouted(sent, badChunk, `bad chunk, id ${JSON.stringify(sent)}`);
          // Its headers never read whole: Node hands over no request, so a new id, which the instance names.
          const badHeader = parsed(await rawExchange(base, `GET /t/echo HTTP/1.1\r\nHost: x\r\n${headers(sent)}Bad Header: y\r\n\r\n`));
          assert.equal(badHeader.status, 400);
          assert.match(badHeader.requestId, new RegExp(UUID_PATTERN));
          assert.notEqual(badHeader.requestId, sent);
          assert.equal(badHeader.instance, `urn:uuid:${badHeader.requestId}`);
        }),
        { numRuns: 60 },
      );
      // The body that never came: a 408 about a second later, so a few ids only, valid and not.
      await fc.assert(
        fc.asyncProperty(id, async (sent) => {
          const slow = parsed(await rawExchange(base, `POST /t/echo?x=1 HTTP/1.1\r\nHost: x\r\n${headers(sent)}Content-Type: application/json\r\nContent-Length: 10\r\n\r\n{`));
          assert.equal(slow.status, 408);
          assert.equal(slow.instance, '/t/echo');
          await assertEchoedAsRouted(sent, slow, `body too slow, id ${JSON.stringify(sent)}`);
        }),
        { numRuns: 4, examples: [['caller-id-1'], ['not valid']] },
      );
    } finally {
      await app.close();
    }
  });

  it('when clients open connections and send nothing, then each is closed after the header timeout, while a kept-alive connection that was served stays', async () => {
    const app = await createServer({ name: 't', prefix: '/t', version: '0', description: 't', logLevel: 'silent', readiness: async () => undefined, metrics: new Metrics('t', '0', { defaultMetrics: false }), docs: false, limits: { requestTimeoutMs: 1500, headersTimeoutMs: 800, checkIntervalMs: 250 } });
    app.get('/t/x', async () => ({}));
    const base = await listenOnLoopback(app);
    const port = Number(new URL(base).port);
    const t0 = Date.now();
    const silent = Array.from({ length: 50 }, () => {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      return new Promise<number>((resolve) => {
        // Bounded: a connection still open after 5 s is a failure, not a hang.
        const giveUp = setTimeout(() => (resolve(Infinity), s.destroy()), 5000);
        s.on('close', () => (clearTimeout(giveUp), resolve(Date.now() - t0)));
      });
    });
    // A served client on a kept-alive connection: its idle time is keepAliveMs's (72 s), not this timer's.
    const pool = new Pool(base, { connections: 1 });
    try {
      const first = await pool.request({ method: 'GET', path: '/t/x' });
      await first.body.dump();
      const closedAfter = await Promise.all(silent);
      assert.ok(Math.max(...closedAfter) < 3000, `silent connections held for ${Math.max(...closedAfter)} ms`);
      const again = await pool.request({ method: 'GET', path: '/t/x' });
      await again.body.dump();
      assert.equal(again.statusCode, 200);
      const connections = await new Promise<number>((resolve, reject) => app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
      assert.equal(connections, 1, 'the served connection is the only one left, still open');
    } finally {
      await pool.close();
      await app.close();
    }
  });

  it('when a request arrives while the server drains, then 503 problem+json with Retry-After (not the framework JSON), logged at warn', async () => {
    const lines: string[] = [];
    const app = await server('info', lines);
    app.get('/t/after', async () => ({ served: true }));
    // A slow preClose hook (like the order reconciler stopping) keeps the listener open for a moment.
    app.addHook('preClose', () => new Promise<void>((r) => setTimeout(r, 500)));
    const base = await listenOnLoopback(app);
    const closing = app.close();
    await new Promise((r) => setTimeout(r, 100));
    const res = await http(base, 'GET', '/t/after');
    await closing;
    assertProblem(res, 503, 'service-unavailable');
    assert.equal(res.headers.get('retry-after'), '1');
    const drained = lines.map((l) => JSON.parse(l) as { level: number; msg: string; status?: number }).find((l) => l.msg === 'request' && l.status === 503);
    assert.equal(drained?.level, 40);
  });

  it('caps requests per connection (the last answer says Connection: close) and applies the default socket limits', async () => {
    const defaults = await server();
    assert.equal(defaults.server.maxRequestsPerSocket, SERVER_LIMITS.maxRequestsPerSocket);
    assert.equal(defaults.server.requestTimeout, SERVER_LIMITS.requestTimeoutMs);
    assert.equal(defaults.server.headersTimeout, SERVER_LIMITS.headersTimeoutMs);
    assert.equal(defaults.server.keepAliveTimeout, SERVER_LIMITS.keepAliveMs);
    await defaults.close();
    const app = await createServer({ name: 't', prefix: '/t', version: '0', description: 't', logLevel: 'silent', readiness: async () => undefined, metrics: new Metrics('t', '0', { defaultMetrics: false }), docs: false, limits: { maxRequestsPerSocket: 3 } });
    app.get('/t/x', async () => ({}));
    const base = await listenOnLoopback(app);
    const pool = new Pool(base, { connections: 1 });
    try {
      const connection: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await pool.request({ method: 'GET', path: '/t/x' });
        await res.body.dump();
        connection.push(String(res.headers.connection));
      }
      assert.deepEqual(connection, ['keep-alive', 'keep-alive', 'close']);
      // the client opens a new connection and is served
      const again = await pool.request({ method: 'GET', path: '/t/x' });
      await again.body.dump();
      assert.equal(again.statusCode, 200);
    } finally {
      await pool.close();
      await app.close();
    }
  });
});

describe('requests pipelined on one connection', () => {
  /** A server whose /t/slow waits for `release`, and every request Node reads counted in `read`. */
  async function pipelineServer(lines?: string[]) {
    const app = await server(lines ? 'warn' : 'silent', lines);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let slowAnswer: import('node:http').ServerResponse | undefined;
    app.get('/t/slow', async (_request, reply) => {
      slowAnswer = reply.raw;
      await released;
      return {};
    });
    const started: number[] = [];
    let running = 0;
    let mostAtOnce = 0;
    app.get('/t/step/:n', async (request) => {
      started.push(Number((request.params as { n: string }).n));
      mostAtOnce = Math.max(mostAtOnce, ++running);
      await new Promise((r) => setTimeout(r, 2));
      running--;
      return {};
    });
    const counts = { read: 0 };
    app.server.prependListener('request', () => counts.read++);
    const port = Number(new URL(await listenOnLoopback(app)).port);
    return { app, port, release, counts, started, slowAnswer: () => slowAnswer, mostAtOnce: () => mostAtOnce };
  }

  const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`;
  const statusesIn = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

  it('when requests are pipelined behind one still being answered, then each runs after the answer before it, in order, one at a time; no listener piles up on that answer', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const s = await pipelineServer();
    try {
      const n = 20;
      const exchange = rawExchangeInParts(s.port);
      await exchange.write(get('/t/slow') + Array.from({ length: n }, (_, i) => get(`/t/step/${i + 1}`)).join('') + `GET /t/step/${n + 1} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
      for (let waited = 0; s.counts.read < n + 2 && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
      assert.equal(s.counts.read, n + 2, 'every request was read');
      assert.deepEqual(s.started, [], 'none ran before the answer in front of it');
      const listeners = s.slowAnswer()!.listenerCount('close');
      assert.ok(listeners <= 4, `${listeners} 'close' listeners on the answer the others wait for`);
      s.release();
      const text = await exchange.ended;
      assert.deepEqual(statusesIn(text), Array<number>(n + 2).fill(200));
      assert.deepEqual(s.started, Array.from({ length: n + 1 }, (_, i) => i + 1), 'in the order sent');
      assert.equal(s.mostAtOnce(), 1, 'one at a time');
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message), []);
    } finally {
      process.off('warning', onWarning);
      s.release();
      await s.app.close();
    }
  });

  it(`when a client pipelines thousands of requests behind one still being answered, then the server stops reading at ${MAX_PIPELINED_REQUESTS} waiting: those are answered in order, the connection closes after them, the rest never run; other clients are served meanwhile`, async () => {
    const s = await pipelineServer();
    try {
      const exchange = rawExchangeInParts(s.port);
      await exchange.write(get('/t/slow'));
      // 3,000 requests in 30 packets: each read of the server's is one of them.
      for (let part = 0; part < 30; part++) {
        await exchange.write(Array.from({ length: 100 }, (_, i) => get(`/t/step/${part * 100 + i + 1}`)).join(''));
        await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, 200));
      // Read at most: the slow one, the packet that went past the cap (its requests were parsed together).
      assert.ok(s.counts.read <= 1 + MAX_PIPELINED_REQUESTS + 100, `${s.counts.read} requests read on one connection while its first is answered`);
      assert.deepEqual(s.started, []);
      const other = await http(`http://127.0.0.1:${s.port}`, 'GET', '/t/step/0');
      assert.equal(other.status, 200, 'another connection is served');
      s.release();
      const text = await exchange.ended;
      assert.deepEqual(statusesIn(text), Array<number>(1 + MAX_PIPELINED_REQUESTS).fill(200));
      assert.match(text.split('HTTP/1.1 ').at(-1)!, /^200[^]*\r\nconnection: close\r\n/i, 'the last answer closes the connection');
      assert.deepEqual(s.started, [0, ...Array.from({ length: MAX_PIPELINED_REQUESTS }, (_, i) => i + 1)], 'the waiting ones ran in order, no other');
    } finally {
      s.release();
      await s.app.close();
    }
  });
  it(`when requests pipelined behind one still being answered go past ${MAX_PIPELINED_REQUESTS} waiting, then each one dropped is counted in http_pipelined_requests_dropped_total and the connection logs one warning with that count; up to the cap, none`, async () => {
    // Requests read (Node parses a packet's requests together), less the first and those that waited: dropped.
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: MAX_PIPELINED_REQUESTS - 2, max: MAX_PIPELINED_REQUESTS + 150 }), fc.integer({ min: 1, max: 4 }), async (n, packets) => {
        const lines: string[] = [];
        const s = await pipelineServer(lines);
        try {
          const dropped = async () => (await s.app.metrics.registry.getSingleMetric('http_pipelined_requests_dropped_total')?.get())?.values[0]?.value;
          assert.equal(await dropped(), 0, 'the series exists at 0 before any drop');
          const exchange = rawExchangeInParts(s.port);
          await exchange.write(get('/t/slow'));
          // The last one closes the connection when it is answered (when it waited, not when it was dropped).
          const requests = Array.from({ length: n }, (_, i) => (i + 1 < n ? get(`/t/step/${i + 1}`) : `GET /t/step/${n} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`));
          const per = Math.ceil(n / packets);
          for (let i = 0; i < n; i += per) {
            await exchange.write(requests.slice(i, i + per).join(''));
            await new Promise((r) => setTimeout(r, 5));
          }
          await new Promise((r) => setTimeout(r, 50));
          s.release();
          const text = await exchange.ended;
          const warnings = () => lines.map((l) => JSON.parse(l) as { level: number; msg: string; dropped?: number }).filter((l) => l.level === 40);
          // The server's side of the connection closes just after the client's.
          for (let waited = 0; n > MAX_PIPELINED_REQUESTS && warnings().length === 0 && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
          const answered = statusesIn(text).length;
          const expected = s.counts.read - 1 - Math.min(n, MAX_PIPELINED_REQUESTS);
          assert.equal(answered, 1 + Math.min(n, MAX_PIPELINED_REQUESTS));
          assert.equal(await dropped(), expected, `${s.counts.read} read, ${answered} answered`);
          const warned = warnings();
          if (n <= MAX_PIPELINED_REQUESTS) assert.deepEqual(warned, []);
          else {
            assert.ok(expected > 0, `${n} pipelined, ${s.counts.read} read: nothing dropped`);
            assert.equal(warned.length, 1, JSON.stringify(warned));
            assert.equal(warned[0]?.dropped, expected);
            assert.match(warned[0]?.msg ?? '', /too many requests pipelined on one connection/);
          }
        } finally {
          s.release();
          await s.app.close();
        }
      }),
      { numRuns: 8 },
    );
  });
  it('when a request pipelined behind slow ones fails in Node (its body left unread past the request timeout, or not HTTP) or is a CONNECT, then no 408, 400 or 405 is written as the answer of the request under way: each answer that comes is its own request\'s, in order, and each request that ran got its own', async () => {
    const app = await createServer({
      name: 't', prefix: '/t', version: '0', description: 't', logLevel: 'silent', readiness: async () => undefined,
      metrics: new Metrics('t', '0', { defaultMetrics: false }), docs: false,
      limits: { headersTimeoutMs: 600, requestTimeoutMs: 800, checkIntervalMs: 50 },
    });
    const ran: string[] = [];
    app.get('/t/slow/:n', async (request) => {
      const n = (request.params as { n: string }).n;
      await new Promise((r) => setTimeout(r, 500));
      ran.push(n);
      return { n };
    });
    app.post('/t/sink', { bodyLimit: 1024 * 1024 }, async () => {
      ran.push('sink');
      return { n: 'sink' };
    });
    const port = Number(new URL(await listenOnLoopback(app)).port);
    const body = JSON.stringify({ x: 'y'.repeat(512 * 1024) });
    // Each behind three slow answers (1.5 s in all), with the answer it may get once theirs are written.
    const cases: Record<string, [request: string, answer: string]> = {
      // Its body waits unread behind them (Node stops reading it once its buffer is full): its 800 ms run out while
      // the second is being answered.
      'body unread past the request timeout': [`POST /t/sink HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, '200 sink'],
      'not HTTP': ['NOT HTTP\r\n\r\n', '400 -'],
      CONNECT: ['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', '405 -'],
    };
    try {
      for (const [name, [last, itsAnswer]] of Object.entries(cases)) {
        ran.length = 0;
        const exchange = rawExchangeInParts(port);
        await exchange.write(get('/t/slow/1') + get('/t/slow/2') + get('/t/slow/3') + last);
        const text = await exchange.ended;
        await new Promise((r) => setTimeout(r, 600)); // a handler still running once the connection closed ends
        const answers = text.split(/(?=HTTP\/1\.1 \d{3} )/).filter(Boolean).map((a) => `${statusesIn(a)[0]} ${/\{"n":"(\w+)"\}/.exec(a)?.[1] ?? '-'}`);
        const detail = `${name}: answers ${answers.join(', ')}; ran ${ran.join(', ')}`;
        assert.deepEqual(answers, ['200 1', '200 2', '200 3', itsAnswer].slice(0, answers.length), detail);
        assert.deepEqual(ran, answers.map((a) => a.split(' ')[1]).slice(0, ran.length), detail);
        assert.ok(ran.length <= answers.length, detail);
      }
    } finally {
      await app.close();
    }
  });
});

describe('a log reader that stalls', () => {
  it('when stdout is not read while requests keep coming, then the lines waiting for it stay bounded (heap after 20,000 requests as after 2,000), the rest are dropped and counted, and logging goes on once it is read', async () => {
    const child = fork(fileURLToPath(new URL('./fixtures/log-stall-server.js', import.meta.url)), [], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', LOG_BUFFER_CHARS: String(256 * 1024) },
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    // Nobody reads the logs: the pipe fills, then the server's lines wait for it.
    child.stdout!.pause();
    try {
      const [message] = (await once(child, 'message')) as [{ port: number }];
      const base = `http://127.0.0.1:${message.port}`;
      const pool = new Pool(base, { connections: 8 });
      const drive = async (from: number, to: number) => {
        for (let i = from; i < to; i += 100) {
          await Promise.all(Array.from({ length: 100 }, async (_, j) => (await pool.request({ method: 'GET', path: `/t/x?n=${i + j}` })).body.dump()));
        }
      };
      const heap = async () => ((await (await pool.request({ method: 'GET', path: '/t/heap' })).body.json()) as { heapUsed: number }).heapUsed;
      await drive(0, 2_000);
      const after2k = await heap();
      await drive(2_000, 20_000);
      const after20k = await heap();
      const grownMb = (after20k - after2k) / 2 ** 20;
      assert.ok(grownMb < 2.5, `the heap grew ${grownMb.toFixed(1)} MiB from 2,000 to 20,000 requests with stdout not read`);
      const metrics = await (await pool.request({ method: 'GET', path: '/metrics' })).body.text();
      const dropped = Number(/^log_lines_dropped_total\{[^}]*\} (\d+)/m.exec(metrics)?.[1]);
      assert.ok(dropped > 10_000, `log_lines_dropped_total ${dropped}`);
      // Read again: what waited comes out, then each new request's line.
      let out = '';
      let lastData = performance.now();
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (d: string) => ((out += d), (lastData = performance.now())));
      child.stdout!.resume();
      while (performance.now() - lastData < 300) await new Promise((r) => setTimeout(r, 50));
      out = '';
      await drive(20_000, 20_100);
      const logged = () => out.split('\n').filter((line) => line.includes('/t/x')).length;
      for (let waited = 0; logged() < 100 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
      assert.equal(logged(), 100, 'each request is logged once stdout is read again');
      await pool.close();
    } finally {
      child.kill();
    }
  });
});

describe('a client that goes away', () => {
  it('when the client closes the connection and the handler then fails, then it is logged once at info, not as an unhandled error', async () => {
    const lines: string[] = [];
    const app = await server('info', lines);
    let failed!: () => void;
    const handlerFailed = new Promise<void>((resolve) => (failed = resolve));
    app.get('/t/slow', async (request) => {
      await new Promise<void>((resolve) => request.raw.socket.once('close', () => resolve()));
      setImmediate(failed);
      throw Object.assign(new Error('Request aborted'), { code: 'UND_ERR_ABORTED' });
    });
    const base = new URL(await listenOnLoopback(app));
    try {
      const socket = connect(Number(base.port), base.hostname);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write('GET /t/slow HTTP/1.1\r\nHost: t\r\n\r\n');
      await new Promise((r) => setTimeout(r, 50));
      socket.destroy();
      await handlerFailed;
      await new Promise((r) => setTimeout(r, 50));
      const events = lines.map((l) => JSON.parse(l) as { level: number; msg: string; status?: number });
      assert.ok(!events.some((e) => e.level >= 50), lines.join(''));
      assert.ok(events.some((e) => e.level === 30 && e.msg === 'client closed the connection'), lines.join(''));
    } finally {
      await app.close();
    }
  });
});

describe('requests left without an answer', () => {
  type Kind = 'answered' | 'gone while served' | 'gone after its body' | 'gone mid-body' | 'body too slow';
  /** Sends one request of `kind` on a connection of its own and resolves once that connection is closed. */
  function send(port: number, kind: Kind): Promise<void> {
    return new Promise((resolve) => {
      const s = connect(port, '127.0.0.1');
      const giveUp = setTimeout(() => s.destroy(), 5000);
      let drip: NodeJS.Timeout | undefined;
      s.on('error', () => undefined);
      s.on('data', () => (kind === 'answered' ? s.end() : undefined));
      s.on('close', () => (clearTimeout(giveUp), clearInterval(drip), resolve()));
      s.once('connect', () => {
        if (kind === 'answered' || kind === 'gone while served') s.write('GET /t/slow HTTP/1.1\r\nHost: t\r\n\r\n');
        else if (kind === 'gone after its body') s.write('POST /t/slow HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
        else s.write('POST /t/echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
        if (kind === 'gone while served' || kind === 'gone after its body' || kind === 'gone mid-body') setTimeout(() => s.destroy(), 50);
        if (kind === 'body too slow') drip = setInterval(() => s.writable && s.write(' '), 100);
      });
    });
  }

  it('when clients go away before their answer (while the route works, its body read or not, or mid-body) or their body is too slow (408), then each request is still counted once in the latency histogram and logged once, with the same status (property)', async () => {
    const lines: string[] = [];
    const metrics = new Metrics('t', '0', { defaultMetrics: false });
    const app = await createServer({
      name: 't', prefix: '/t', version: '0', description: 't', logLevel: 'info', readiness: async () => undefined, metrics, docs: false,
      logStream: new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }),
      limits: { requestTimeoutMs: 700, headersTimeoutMs: 600, checkIntervalMs: 100 },
    });
    const slow = async () => {
      await new Promise((r) => setTimeout(r, 250));
      return {};
    };
    app.get('/t/slow', slow);
    // Its body read whole: Node does not say such a request aborted when its client goes (Fastify's onRequestAbort).
    app.post('/t/slow', slow);
    app.post('/t/echo', async (request) => request.body);
    const port = Number(new URL(await listenOnLoopback(app)).port);
    const counts = async () => {
      const counted = new Map<string, number>();
      for (const family of await metrics.registry.getMetricsAsJSON()) {
        if (family.name !== 'http_server_request_duration_seconds') continue;
        for (const v of family.values) {
          const key = `${v.labels.http_route} ${v.labels.http_response_status_code}`;
          if ((v as { metricName?: string }).metricName?.endsWith('_count')) counted.set(key, (counted.get(key) ?? 0) + v.value);
        }
      }
      return counted;
    };
    const logged = () => {
      const byStatus = new Map<string, number>();
      for (const line of lines) {
        const e = JSON.parse(line) as { msg?: string; route?: string; status?: number };
        if (e.msg === 'request') byStatus.set(`${e.route} ${e.status}`, (byStatus.get(`${e.route} ${e.status}`) ?? 0) + 1);
      }
      return byStatus;
    };
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.constantFrom<Kind>('answered', 'gone while served', 'gone after its body', 'gone mid-body', 'body too slow'), { minLength: 1, maxLength: 6 }), async (kinds) => {
          lines.length = 0;
          const before = await counts();
          await Promise.all(kinds.map((kind) => send(port, kind)));
          // The routes of requests whose client went away finish their work after it (250 ms).
          await new Promise((r) => setTimeout(r, 400));
          const after = await counts();
          const added = new Map([...after].map(([key, n]) => [key, n - (before.get(key) ?? 0)] as const).filter(([, n]) => n > 0));
          const sent = (k: Kind) => kinds.filter((kind) => kind === k).length;
          const why = `${JSON.stringify(kinds)}: counted ${JSON.stringify([...added])}, logged ${JSON.stringify([...logged()])}`;
          assert.equal([...added.values()].reduce((a, b) => a + b, 0), kinds.length, why);
          assert.deepEqual(logged(), added, why);
          assert.equal(added.get('/t/slow 200') ?? 0, sent('answered'), why);
          assert.equal(added.get('/t/slow 499') ?? 0, sent('gone while served') + sent('gone after its body'), why);
          assert.equal(added.get('/t/echo 408') ?? 0, sent('body too slow'), why);
          // A body cut off: Node's parser meets the end of the connection mid-body (the kit answers 400) or a reset (499).
          assert.equal((added.get('/t/echo 400') ?? 0) + (added.get('/t/echo 499') ?? 0), sent('gone mid-body'), why);
          const active = (await metrics.registry.getSingleMetricAsString('http_server_active_requests')).split('\n').filter((l) => l && !l.startsWith('#') && !l.endsWith(' 0'));
          assert.deepEqual(active, [], why);
        }),
        // No shrinking: the server's gauge and counts carry over from one run to the next (a leak shows in later runs).
        { numRuns: 12, endOnFailure: true },
      );
    } finally {
      await app.close();
    }
  });
});

describe('a service that is shutting down', () => {
  it('answers a request that arrives while draining 503 problem+json with Retry-After and Connection: close, and finishes the one in flight', async () => {
    const app = await server();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    app.get('/t/slow', async () => {
      await held;
      return { done: true };
    });
    app.get('/t/fast', async () => ({ fast: true }));
    const base = await listenOnLoopback(app);
    const port = Number(new URL(base).port);
    try {
      const inFlight = rawExchangeInParts(port);
      await inFlight.write('GET /t/slow HTTP/1.1\r\nHost: t\r\n\r\n');
      // Begun before the close (so its connection is not idle and stays open), finished after it.
      const late = rawExchangeInParts(port);
      await late.write('GET /t/fast HTTP/1.1\r\nHost: t\r\n');
      await new Promise((r) => setTimeout(r, 50));
      const closing = app.close();
      await new Promise((r) => setTimeout(r, 50));
      await late.write('\r\n');
      const refused = await late.ended;
      assert.match(refused, /^HTTP\/1\.1 503 /);
      assert.match(refused, /\r\ncontent-type: application\/problem\+json/i);
      assert.match(refused, /\r\nretry-after: 1\r\n/i);
      assert.match(refused, /\r\nconnection: close\r\n/i);
      assert.match(refused, /"status":503/);
      release();
      const finished = await inFlight.ended;
      assert.match(finished, /^HTTP\/1\.1 200 /);
      assert.match(finished, /\r\nconnection: close\r\n/i);
      assert.match(finished, /\{"done":true\}/);
      await closing;
    } finally {
      release();
    }
  });
});

describe('If-Match and If-None-Match on a route that sends no ETag (RFC 9110 13.1.1, 13.1.2)', () => {
  const tag = fc.oneof(fc.stringMatching(/^[a-z0-9]{0,6}$/).map((t) => `"${t}"`), fc.stringMatching(/^[a-z0-9]{0,6}$/).map((t) => `W/"${t}"`));
  const field = fc.oneof(fc.constant('*'), fc.array(tag, { minLength: 1, maxLength: 3 }).map((tags) => tags.join(', ')), fc.constantFrom('nonsense', '"open', 'W/x', '*, "a"'));
  const method = fc.constantFrom('GET', 'HEAD', 'POST', 'PATCH', 'DELETE');
  const isTags = (f: string) => f === '*' || /^(W\/)?"[a-z0-9]*"(, (W\/)?"[a-z0-9]*")*$/.test(f);
  // `*` among tags (two field lines joined): any, for If-None-Match as the kit reads it; no one precondition for
  // If-Match, a 400.
  const anyOf = (f: string) => f === '*' || f === '*, "a"';
  const safe = (m: string) => m === 'GET' || m === 'HEAD';
  /** What the conditions call for on an existing resource without an ETag: 200 when they hold. */
  const judged = (m: string, ifMatch: string | undefined, ifNoneMatch: string | undefined) =>
    (ifMatch !== undefined && !isTags(ifMatch)) || (ifNoneMatch !== undefined && !safe(m) && !isTags(ifNoneMatch) && !anyOf(ifNoneMatch))
      ? 400
      : ifMatch !== undefined && ifMatch !== '*'
        ? 412
        : ifNoneMatch !== undefined && anyOf(ifNoneMatch)
          ? safe(m)
            ? 304
            : 412
          : 200;
  const conditions = (ifMatch: string | undefined, ifNoneMatch: string | undefined) => {
    const headers: Record<string, string> = {};
    if (ifMatch !== undefined) headers['if-match'] = ifMatch;
    if (ifNoneMatch !== undefined) headers['if-none-match'] = ifNoneMatch;
    return headers;
  };

  it('when a request carries them, then the method is performed only when they hold: If-Match as *, If-None-Match with tags; else 412 (If-None-Match: * on GET or HEAD: 304, no body), and 400 for a field that is not entity tags; routes with config.entityTags, and the probes, are left to judge them', async () => {
    const app = await server();
    let performed = 0;
    for (const m of ['GET', 'POST', 'PATCH', 'DELETE'] as const) {
      app.route({ method: m, url: '/t/thing', handler: async (_request, reply) => (performed++, reply.header('cache-control', 'private, max-age=5').send({ ok: true })) });
      app.route({ method: m, url: '/t/tagged', config: { entityTags: true }, handler: async () => (performed++, { ok: true }) });
    }
    const base = await listenOnLoopback(app);
    try {
      await fc.assert(
        fc.asyncProperty(method, fc.option(field, { nil: undefined }), fc.option(field, { nil: undefined }), async (m, ifMatch, ifNoneMatch) => {
          const headers = conditions(ifMatch, ifNoneMatch);
          const expected = judged(m, ifMatch, ifNoneMatch);
          const before = performed;
          const res = await http(base, m, '/t/thing', { headers });
          assert.equal(res.status, expected, `${m} If-Match ${ifMatch} If-None-Match ${ifNoneMatch}: ${res.text}`);
          if (expected === 304) {
            // RFC 9110 15.4.5: no content, no length; the 200's Cache-Control kept.
            assert.equal(res.text, '');
            assert.equal(res.headers.get('content-length'), null);
            assert.equal(res.headers.get('content-type'), null);
            assert.equal(res.headers.get('cache-control'), 'private, max-age=5');
          } else if (expected !== 200 && m !== 'HEAD') {
            assertProblem(res, expected, expected === 412 ? 'precondition-failed' : 'validation-failed');
          }
          // A method that changes something is not performed when they fail (a GET's handler may run: it changes nothing).
          if (expected !== 200 && !safe(m)) assert.equal(performed, before, 'nothing performed');
          // A route that judges them itself, and a probe, are answered by their own handler.
          assert.equal((await http(base, m, '/t/tagged', { headers })).status, 200);
          assert.equal((await http(base, m === 'HEAD' ? 'HEAD' : 'GET', '/livez', { headers })).status, 200);
        }),
        { numRuns: 150 },
      );
    } finally {
      await app.close();
    }
  });

  it('when the request without them would not be answered 2xx (an unknown or hidden resource, a refused caller), then that answer (a route\'s own preHandler\'s 429 too), not a 412 or 304, and nothing is performed (RFC 9110 13.2.1)', async () => {
    // Before: the kit answered 412 ahead of the route, so `POST /order/<unknown>/cancel` with `If-Match: "7"` was a
    // 412 where without it the answer is 404.
    const app = await server();
    const existing = new Set(['a1', 'b2']);
    let performed = 0;
    let looked = 0;
    const find = async (id: string) => {
      looked++;
      if (!existing.has(id)) throw new NotFound('No such thing');
    };
    app.addHook('onRequest', async (request) => {
      if (request.headers.authorization === 'Bearer denied') throw new ProblemError(403, 'forbidden', 'Forbidden', 'Not yours');
    });
    for (const m of ['GET', 'POST', 'DELETE'] as const) {
      app.route<{ Params: { id: string } }>({
        method: m,
        url: '/t/things/:id',
        config: { preconditionTarget: (request) => find((request.params as { id: string }).id) },
        handler: async (request) => {
          await find(request.params.id);
          if (m !== 'GET') performed++;
          return { id: request.params.id };
        },
      });
    }
    // A route's own preHandler (a rate limit) refuses before the method too: its 429 is the answer without them.
    let limitedPerformed = 0;
    app.post('/t/limited', { preHandler: async () => { throw new TooManyRequests(1, 'Slow down'); } }, async () => (limitedPerformed++, { ok: true }));
    const base = await listenOnLoopback(app);
    try {
      for (const headers of [{ 'if-match': '"x"' }, { 'if-none-match': '*' }, { 'if-match': 'nonsense' }] as Record<string, string>[]) {
        assertProblem(await http(base, 'POST', '/t/limited', { headers }), 429);
      }
      assert.equal(limitedPerformed, 0);
      await fc.assert(
        fc.asyncProperty(
          method.filter((m) => m !== 'PATCH'),
          fc.option(field, { nil: undefined }),
          fc.option(field, { nil: undefined }),
          fc.constantFrom('a1', 'zz', 'b2', 'nope'),
          fc.boolean(),
          async (m, ifMatch, ifNoneMatch, id, denied) => {
            const headers = conditions(ifMatch, ifNoneMatch);
            if (denied) headers.authorization = 'Bearer denied';
            const conditioned = judged(m, ifMatch, ifNoneMatch);
            // A field that is not entity tags is bad input (400), as a route with ETags answers it.
            const expected = denied ? 403 : conditioned === 400 ? 400 : !existing.has(id) ? 404 : conditioned;
            const before = performed;
            const res = await http(base, m, `/t/things/${id}`, { headers });
            assert.equal(res.status, expected, `${m} ${id} If-Match ${ifMatch} If-None-Match ${ifNoneMatch}${denied ? ' denied' : ''}: ${res.text}`);
            if (m !== 'HEAD' && expected >= 400) assertProblem(res, expected);
            if (expected !== 200) assert.equal(performed, before, 'nothing performed');
          },
        ),
        { numRuns: 200 },
      );
      assert.ok(looked > 0);
    } finally {
      await app.close();
    }
  });
});
