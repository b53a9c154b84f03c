// The kit as plugins a service can depend on by name, and the options that let a service pass in what the
// kit no longer knows (its roles, its token endpoint's name); one UUID grammar for code and schemas.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import fp from 'fastify-plugin';
import { SignJWT, exportJWK, importPKCS8 } from 'jose';
import { Authenticator, ClientCredentialsToken, DependencyError, KIT_PLUGINS, Metrics, UUID_PATTERN, createServer, isUuid, uuidv7 } from '../src/index.js';

function server(opts: { docs?: boolean } = {}) {
  return createServer({ name: 't', prefix: '/t', version: '0', description: 't', logLevel: 'silent', readiness: async () => undefined, metrics: new Metrics('t', '0', { defaultMetrics: false }), docs: opts.docs ?? false });
}

describe('plugins', () => {
  it('when createServer returns, then every kit plugin is registered by its name, and a service plugin can depend on one', async () => {
    const app = await server({ docs: true });
    try {
      for (const name of Object.values(KIT_PLUGINS).filter((n) => n !== KIT_PLUGINS.database)) assert.ok(app.hasPlugin(name), name);
      let seen: Metrics | undefined;
      await app.register(fp(async (instance) => void (seen = instance.metrics), { name: 'things', dependencies: [KIT_PLUGINS.httpMetrics] }));
      assert.equal(seen, app.metrics);
    } finally {
      await app.close();
    }
    // app.db is createDataService's: a plain server does not have it, and a plugin needing it says so.
    const plain = await server();
    await assert.rejects(async () => plain.register(fp(async () => undefined, { name: 'needs-db', dependencies: [KIT_PLUGINS.database] })), /kit-database/);
    await plain.close().catch(() => undefined);
  });
});

describe('readiness', () => {
  it('when many /readyz arrive at once, then one readiness check answers them all (200 while the dependency answers), and a /readyz after it settles checks again', async () => {
    // A dependency that takes a few checks at a time, as the gateway's probe pools (two connections per upstream,
    // 1.5 s each) did: the rest queued past their deadline, and 150 /readyz at once were 125 "not ready" with every
    // upstream up. Here a check beyond four at once fails. (A check is shared for 2 s at most, so on a machine slow
    // enough to stretch this 200 ms one past that, a second may run beside it; never sixty.)
    // The first check lasts until the sixty have all reached the server (1.5 s at most): on a busy machine their
    // arrival can spread past a 200 ms check, and the later ones then rightly started checks of their own.
    let running = 0;
    let checks = 0;
    let up = true;
    let arrived = 0;
    let allArrived = () => {};
    const sixty = new Promise<void>((resolve) => (allArrived = resolve));
    const readiness = async () => {
      checks++;
      running++;
      try {
        if (running > 4) throw new Error('dependency busy');
        await Promise.race([checks === 1 ? sixty : Promise.resolve(), new Promise((resolve) => setTimeout(resolve, checks === 1 ? 1500 : 0))]);
        await new Promise((resolve) => setTimeout(resolve, 200));
        if (!up) throw new Error('dependency down');
      } finally {
        running--;
      }
    };
    const app = await createServer({ name: 't', prefix: '/t', version: '0', description: 't', logLevel: 'silent', readiness, metrics: new Metrics('t', '0', { defaultMetrics: false }), docs: false });
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      app.server.on('request', () => ++arrived === 60 && allArrived());
      const { port } = app.server.address() as { port: number };
      const readyz = () => fetch(`http://127.0.0.1:${port}/readyz`).then(async (res) => (await res.arrayBuffer(), res.status));
      const statuses = await Promise.all(Array.from({ length: 60 }, readyz));
      assert.deepEqual([...new Set(statuses)], [200], `statuses: ${statuses.filter((s) => s !== 200).length} of 60 not 200`);
      assert.ok(checks <= 4, `${checks} readiness checks for 60 requests at once`);
      // Nothing is kept once a check settles: the dependency gone, the next /readyz says so.
      up = false;
      assert.equal(await readyz(), 503);
      up = true;
      assert.equal(await readyz(), 200);
    } finally {
      await app.close();
    }
  });
});

describe('ids', () => {
  it('isUuid and UUID_PATTERN (the schema form) accept the same ids', () => {
    const pattern = new RegExp(UUID_PATTERN);
    const valid = [uuidv7(), randomUUID(), randomUUID().toUpperCase(), '00000000-0000-0000-0000-000000000000', 'FFFFFFFF-ffff-FFFF-ffff-FFFFFFFFFFFF'];
    const invalid = ['0190b0d6-2b7c-0000-8000-000000000001', '0190b0d6-2b7c-7000-c000-000000000001', `${uuidv7()}0`, `urn:uuid:${uuidv7()}`, uuidv7().replace(/-/g, ''), '', 'not-a-uuid'];
    for (const id of valid) assert.ok(isUuid(id) && pattern.test(id), id);
    for (const id of invalid) assert.ok(!isUuid(id) && !pattern.test(id), id);
    assert.equal(isUuid(42), false);
  });
});

describe('Authenticator roles', () => {
  it('when a service names its roles, then a token with another role is invalid (401) and a role outside the route list is forbidden (403)', async () => {
    const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const key = await importPKCS8(pem, 'EdDSA', { extractable: true });
    const { d: _d, ...pub } = await exportJWK(key);
    const auth = new Authenticator({ issuer: 'iss', audience: 'aud', jwks: { keys: [{ ...pub, kid: 'k1', alg: 'EdDSA' }] }, roles: ['member', 'staff'] });
    const token = (role: string) =>
      new SignJWT({ role }).setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'at+jwt' }).setSubject(uuidv7()).setIssuer('iss').setAudience('aud').setIssuedAt().setExpirationTime('5m').sign(key);
    const app = await server();
    app.get('/t/any', { preHandler: auth.user() }, async (request) => ({ role: request.user?.role }));
    app.get('/t/staff', { preHandler: auth.user('staff') }, async () => ({}));
    try {
      const call = async (path: string, role: string) => (await app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${await token(role)}` } })).statusCode;
      assert.equal(await call('/t/any', 'member'), 200);
      assert.equal(await call('/t/any', 'admin'), 401);
      assert.equal(await call('/t/staff', 'staff'), 200);
      assert.equal(await call('/t/staff', 'member'), 403);
    } finally {
      await app.close();
    }
  });
});

describe('Authenticator answers', () => {
  it('when a route answers a token bearer, then Cache-Control: no-store (their data is kept by no cache, the browser\'s own included); a route may set its own', async () => {
    const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const key = await importPKCS8(pem, 'EdDSA', { extractable: true });
    const { d: _d, ...pub } = await exportJWK(key);
    const auth = new Authenticator({ issuer: 'iss', audience: 'aud', jwks: { keys: [{ ...pub, kid: 'k1', alg: 'EdDSA' }] }, roles: ['member'] });
    const sign = (aud: string, claims: Record<string, unknown>) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'at+jwt' }).setSubject(uuidv7()).setIssuer('iss').setAudience(aud).setIssuedAt().setExpirationTime('5m').sign(key);
    const app = await server();
    app.get('/t/me', { preHandler: auth.user() }, async (request) => ({ id: request.user?.id }));
    app.get('/t/internal', { preHandler: auth.service('things:read') }, async () => ({}));
    app.get('/t/own', { preHandler: auth.user() }, async (_request, reply) => reply.header('cache-control', 'private, max-age=60').send({}));
    app.get('/t/public', async () => ({}));
    try {
      const get = async (url: string, token?: string) => app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });
      const me = await get('/t/me', await sign('aud', { role: 'member' }));
      assert.equal(me.statusCode, 200);
      assert.equal(me.headers['cache-control'], 'no-store');
      const internal = await get('/t/internal', await sign(auth.serviceAudience, { scope: 'things:read' }));
      assert.equal(internal.statusCode, 200);
      assert.equal(internal.headers['cache-control'], 'no-store');
      assert.equal((await get('/t/own', await sign('aud', { role: 'member' }))).headers['cache-control'], 'private, max-age=60');
      assert.equal((await get('/t/public')).headers['cache-control'], undefined, 'a public answer is left to its route');
    } finally {
      await app.close();
    }
  });
});

describe('ClientCredentialsToken', () => {
  it('when the token endpoint cannot be reached, then the DependencyError names it by its host, or by the given peer', async () => {
    const unreachable = 'http://127.0.0.1:9/oauth/token';
    const byHost = new ClientCredentialsToken({ tokenUrl: unreachable, clientId: 'c', clientSecret: 's' });
    await assert.rejects(byHost.get(), (e: unknown) => e instanceof DependencyError && e.peer === '127.0.0.1:9' && e.kind === 'connection');
    const named = new ClientCredentialsToken({ tokenUrl: unreachable, clientId: 'c', clientSecret: 's', peer: 'issuer' });
    await assert.rejects(named.get(), (e: unknown) => e instanceof DependencyError && e.peer === 'issuer');
  });

  /** Waits for a fetch the token started in the background (its one in flight), however it ends. */
  const refreshed = async (token: ClientCredentialsToken) => {
    await (token as unknown as { inflight: Promise<unknown> | null }).inflight?.catch(() => undefined);
  };

  /**
   * A token endpoint on a free port whose `answer` decides each request (`issue()` answers the next token, t1, t2, ...
   * of 600 s), a ClientCredentialsToken for it, and the monotonic clock the token's lifetime is measured on, moved on
   * by `clock.passed` to stand for time passing; all undone afterwards.
   */
  async function withTokenEndpoint(
    answer: (req: IncomingMessage, res: ServerResponse, issue: () => void) => void,
    body: (token: ClientCredentialsToken, clock: { passed: number; real: () => number }, failures: { reason: string; usableForMs: number }[]) => Promise<void>,
  ): Promise<void> {
    let issued = 0;
    const endpoint = createHttpServer((req, res) =>
      answer(req, res, () => {
        issued++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `t${issued}`, token_type: 'Bearer', expires_in: 600 }));
      }),
    );
    endpoint.listen(0, '127.0.0.1');
    await once(endpoint, 'listening');
    const { port } = endpoint.address() as { port: number };
    const real = performance.now.bind(performance);
    const clock = { passed: 0, real };
    performance.now = () => real() + clock.passed;
    const failures: { reason: string; usableForMs: number }[] = [];
    const onBackgroundFailure = (err: unknown, usableForMs: number) => void failures.push({ reason: (err as Error).message, usableForMs });
    try {
      await body(new ClientCredentialsToken({ tokenUrl: `http://127.0.0.1:${port}/token`, clientId: 'c', clientSecret: 's', onBackgroundFailure }), clock, failures);
    } finally {
      delete (performance as { now?: unknown }).now;
      endpoint.closeAllConnections();
      endpoint.close();
    }
  }

  it('when the token endpoint is away at refresh time (80% of the lifetime), then the token in hand is used up to 90%, the endpoint asked again every 5 s, and a new one fetched once it is back; a token the peer refused (401) is never used again', async () => {
    let asked = 0;
    let away: 'no' | 'draining' | 'reset' = 'no';
    const answer = (req: IncomingMessage, res: ServerResponse, issue: () => void) => {
      asked++;
      if (away === 'reset') return void req.socket.destroy();
      if (away === 'draining') return void res.writeHead(503, { 'content-type': 'application/problem+json' }).end('{}');
      issue();
    };
    await withTokenEndpoint(answer, async (token, clock, failures) => {
      assert.equal(await token.get(), 't1');
      away = 'draining';
      clock.passed = 500_000; // past 480 s (80%), before 540 s (90%)
      assert.equal(await token.get(), 't1', 'due for refresh: the token in hand is sent while a new one is fetched');
      await refreshed(token);
      assert.equal(asked, 2);
      assert.equal(await token.get(), 't1', 'the endpoint answered 503: the token in hand is still good');
      await refreshed(token);
      assert.equal(asked, 2, 'not asked again at once');
      away = 'reset';
      clock.passed += 5_000;
      assert.equal(await token.get(), 't1', 'no answer at all: the same');
      await refreshed(token);
      assert.equal(asked, 3, 'asked again after 5 s');
      // Each background failure is told (the order service logs it), with how long the token in hand is still sent.
      assert.equal(failures.length, 2, 'both background failures told');
      assert.equal(failures[0]!.reason, 'token endpoint answered 503');
      assert.ok(failures[0]!.usableForMs > 39_000 && failures[0]!.usableForMs <= 40_000, `usable for ${failures[0]!.usableForMs} ms after the first failure`);
      assert.ok(failures[1]!.usableForMs > 34_000 && failures[1]!.usableForMs <= 35_000, `usable for ${failures[1]!.usableForMs} ms after the second`);
      clock.passed = 541_000; // past 90%: too close to its end to be sent
      await assert.rejects(token.get(), (e: unknown) => e instanceof DependencyError && e.kind === 'connection');
      away = 'no';
      assert.equal(await token.get(), 't2', 'back: a new token');
      away = 'draining';
      await assert.rejects(token.get(true), /token endpoint answered 503/);
      await assert.rejects(token.get(), /token endpoint answered 503/, 'refused by the peer: not offered again');
    });
  });

  it('when the token endpoint accepts connections but never answers at refresh time, then no call waits for it: each is sent with the token in hand at once, and the new one is used once it comes', async () => {
    let hang = false;
    const hanging: ServerResponse[] = [];
    const answer = (_req: IncomingMessage, res: ServerResponse, issue: () => void) => (hang ? void hanging.push(res) : issue());
    await withTokenEndpoint(answer, async (token, clock) => {
      assert.equal(await token.get(), 't1');
      hang = true;
      clock.passed = 500_000;
      for (let i = 0; i < 20; i++) {
        const started = clock.real();
        assert.equal(await token.get(), 't1');
        // Before, the call due for refresh waited for the endpoint's answer, up to the fetch's 3 s timeout. The bound is
        // a third of that, not 100 ms: on a loaded machine (CI, load 10-20 on 2 cores) one await can be held that long.
        assert.ok(clock.real() - started < 1_000, `call ${i} waited ${Math.round(clock.real() - started)} ms for the token endpoint`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(hanging.length <= 1, `one fetch at a time, not ${hanging.length}`);
      hang = false;
      for (const res of hanging.splice(0)) res.socket?.destroy();
      await refreshed(token);
      clock.passed += 5_000;
      assert.equal(await token.get(), 't1', 'the hung fetch failed: the token in hand, a fetch started again');
      await refreshed(token);
      assert.equal(await token.get(), 't2', 'the new token once it came');
    });
  });
});
