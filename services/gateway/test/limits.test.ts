import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Readable } from 'node:stream';
import { request } from 'undici';
import fc from 'fast-check';
import { NO_BODY_LIMIT } from '@ecommerce/kit';
import { login, rawExchange, registerAccount, stopAll, uniqueEmail, type Running, type TestDatabase } from '@ecommerce/test-support';
import { startUserStack } from '@ecommerce/user-service/testing';
import { startGateway } from './harness.js';

let db: TestDatabase;
let user: Running;
let gw: Running & { port: number };

before(async () => {
  ({ db, user } = await startUserStack());
  const running = await startGateway({ USER_SERVICE_URL: user.base, PRODUCT_SERVICE_URL: user.base, ORDER_SERVICE_URL: user.base });
  gw = { ...running, port: Number(new URL(running.base).port) };
});
after(() => stopAll(gw, user, db));

async function registerAndLogin(): Promise<{ token: string }> {
  const { email, password } = await registerAccount(gw.base, { tag: 'getbody' });
  return { token: await login(gw.base, email, password) };
}

/** A raw HTTP/1.1 exchange: what the server wrote, and whether it closed the connection. */
class RawClient {
  readonly socket: Socket;
  data = '';
  closed = false;
  private readonly done: Promise<void>;
  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setEncoding('latin1');
    this.socket.on('data', (d: string) => (this.data += d));
    this.socket.on('error', () => undefined); // a reset while we still write is one way to be cut off
    this.done = new Promise((resolve) => this.socket.on('close', () => ((this.closed = true), resolve())));
  }
  async until(pred: (data: string) => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred(this.data) && !this.closed && Date.now() < deadline) await sleep(20);
  }
  async closedWithin(ms: number): Promise<boolean> {
    await Promise.race([this.done, sleep(ms)]);
    return this.closed;
  }
  write(text: string | Buffer): boolean {
    return !this.socket.destroyed && this.socket.write(text);
  }
  destroy(): void {
    this.socket.destroy();
  }
}

function finalResponse(data: string): { status: number; headers: string; body: string } {
  const responses = data.split(/(?=HTTP\/1\.1 \d{3})/).filter((r) => !r.startsWith('HTTP/1.1 100'));
  const last = responses[0] ?? '';
  const [head = '', body = ''] = last.split('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), headers: head.toLowerCase(), body };
}

describe('gateway limits', () => {
  it('when a client sends Expect: 100-continue, then it gets 100 Continue and the request is served (not 503)', async () => {
    const body = JSON.stringify({ email: uniqueEmail('expect'), password: 'password-123', name: 'Expect' });
    const c = new RawClient(gw.port);
    try {
      c.write(`POST /user/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`);
      await c.until((d) => d.startsWith('HTTP/1.1 100'), 5000);
      assert.match(c.data, /^HTTP\/1\.1 100 Continue/);
      c.write(body);
      await c.until((d) => /HTTP\/1\.1 [2-5]\d\d [\s\S]*\r\n\r\n\{/.test(d.replace(/^HTTP\/1\.1 100[^\n]*\n\r\n/, '')), 10_000);
      const res = finalResponse(c.data);
      assert.equal(res.status, 201, c.data);
    } finally {
      c.destroy();
    }
  });

  it('when Expect: 100-continue announces a body over 1 MiB, then 413 problem+json at once, no 100, connection closed', async () => {
    const c = new RawClient(gw.port);
    try {
      c.write(`POST /user/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${5 * 1024 * 1024}\r\nExpect: 100-continue\r\n\r\n`);
      assert.ok(await c.closedWithin(5000), 'the connection is closed');
      assert.doesNotMatch(c.data, /HTTP\/1\.1 100/);
      const res = finalResponse(c.data);
      assert.equal(res.status, 413, c.data);
      assert.match(res.headers, /content-type: application\/problem\+json/);
      assert.match(res.headers, /cache-control: no-store/i, 'like every problem answer');
      assert.equal(JSON.parse(res.body).status, 413);
    } finally {
      c.destroy();
    }
  });

  it('when a 50 MB body is sent through the gateway, then 413 problem+json and the connection is closed (not 503, not left open)', async () => {
    const c = new RawClient(gw.port);
    try {
      c.write(`POST /user/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${50 * 1024 * 1024}\r\n\r\n`);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      // Keep sending like a real uploader would, until the server answers or closes.
      for (let sent = 0; sent < 8 * 1024 * 1024 && !c.closed && !c.data.includes('\r\n\r\n'); sent += chunk.length) {
        if (!c.write(chunk)) await sleep(5);
      }
      assert.ok(await c.closedWithin(5000), `the connection is closed (got ${c.data.slice(0, 200)})`);
      const res = finalResponse(c.data);
      assert.equal(res.status, 413, c.data);
      assert.match(res.headers, /content-type: application\/problem\+json/);
      assert.equal(JSON.parse(res.body).type, 'https://ecommerce.local/problems/payload-too-large');
    } finally {
      c.destroy();
    }
  });

  it('when 140 clients hold unfinished uploads to a service, then other requests to it through the gateway are answered at once (a body is read whole before it takes an upstream connection)', async () => {
    // Streamed through, each held upload kept one of the upstream pool's 128 connections until the 20 s request
    // timeout, and everything else to that service queued behind them.
    const holders = Array.from({ length: 140 }, () => new RawClient(gw.port));
    try {
      for (const c of holders) c.write(`POST /user/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"email":"`);
      await sleep(1000);
      const started = Date.now();
      const jwks = await request(`${gw.base}/user/.well-known/jwks.json`, { headersTimeout: 5000 });
      assert.equal(jwks.statusCode, 200, await jwks.body.text());
      const login = await request(`${gw.base}/user/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: uniqueEmail('held'), password: 'not-the-password-1' }),
        headersTimeout: 5000,
      });
      assert.equal(login.statusCode, 401, await login.body.text());
      assert.ok(Date.now() - started < 4500, `answered in ${Date.now() - started} ms (held behind the uploads, it waited 10-20 s)`);
      assert.ok(holders.every((c) => !c.closed && c.data === ''), 'the held uploads are still waited for, not answered');
    } finally {
      for (const c of holders) c.destroy();
    }
  });

  it('when the bodies being received pass the gateway budget, then 503 problem with Retry-After and connection closed, and the budget is given back when they go', async () => {
    const small = await startGateway({ USER_SERVICE_URL: user.base, PRODUCT_SERVICE_URL: user.base, ORDER_SERVICE_URL: user.base, BUFFERED_BODIES_MAX_BYTES: String(1024 * 1024) });
    const port = Number(new URL(small.base).port);
    // A body announced at 16 KiB or more takes 16 KiB of the budget at its first byte: 64 of them fill 1 MiB.
    const holders = Array.from({ length: 80 }, () => new RawClient(port));
    // One announced smaller takes its own length: 80 of 1,000 bytes fit, and none is refused.
    const smallHolders = Array.from({ length: 80 }, () => new RawClient(port));
    try {
      for (const c of smallHolders) c.write(`POST /user/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"email":"`);
      await sleep(1000);
      assert.deepEqual(smallHolders.filter((c) => c.data !== '').map((c) => c.data.slice(0, 40)), [], 'bodies of 1,000 bytes are charged 1,000 bytes');
      for (const c of smallHolders) c.destroy();
      await sleep(200);
      for (const c of holders) c.write(`POST /user/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20000\r\n\r\n{"email":"`);
      const deadline = Date.now() + 5000;
      while (holders.filter((c) => c.data !== '').length < 16 && Date.now() < deadline) await sleep(50);
      const refused = holders.filter((c) => c.data !== '');
      assert.equal(refused.length, 16, 'the bodies past the budget are refused, the others waited for');
      for (const c of refused) {
        await c.until((d) => d.includes('}'), 2000);
        const res = finalResponse(c.data);
        assert.equal(res.status, 503, c.data);
        assert.match(res.headers, /content-type: application\/problem\+json/);
        assert.match(res.headers, /retry-after: 1/);
        assert.match(res.headers, /connection: close/);
        assert.equal(JSON.parse(res.body).type, 'https://ecommerce.local/problems/service-unavailable');
      }
      for (const c of holders) c.destroy();
      await sleep(200);
      const login = await request(`${small.base}/user/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: uniqueEmail('budget'), password: 'not-the-password-1' }),
      });
      assert.equal(login.statusCode, 401, await login.body.text());
    } finally {
      for (const c of [...holders, ...smallHolders]) c.destroy();
      await stopAll(small);
    }
  });

  it('when a chunked body grows past 1 MiB, then 413 problem+json (the gateway counts what it streams)', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    async function* body() {
      yield Buffer.from('{"email":"');
      for (let i = 0; i < 40; i++) yield chunk; // 2.5 MiB
      yield Buffer.from('"}');
    }
    const res = await request(`${gw.base}/user/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Readable.from(body()) }).catch((err: Error) => err);
    // A server that answers 413 and closes may cut the upload before the client reads the answer; either
    // way the request is refused, never forwarded as a 503 or left hanging.
    if (res instanceof Error) {
      assert.match(String((res as { code?: string }).code ?? res.message), /ECONNRESET|EPIPE|UND_ERR_SOCKET|other side closed/i);
    } else {
      assert.equal(res.statusCode, 413, await res.body.text());
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    }
  });

  it('when a GET or HEAD carries a body, then the gateway answers as the service does: `{}` goes on without it, any other JSON 400, another type 415, over 1 KiB 413; never a 500, never served with the body unread', async () => {
    // Fastify read no body of a GET, so `{"a":1}` or text after one was served 200; read, reply-from threw on it (a 500).
    const { token } = await registerAndLogin();
    const exchange = async (method: string, path: string, headers: string, body: string) => {
      const text = await rawExchange(gw.base, `${method} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n${headers}\r\n${body}`);
      return { status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]), text };
    };
    const sized = (body: string, type = 'application/json') => `content-type: ${type}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`;
    for (const method of ['GET', 'HEAD']) {
      assert.equal((await exchange(method, '/user/me', '', '')).status, 200);
      assert.equal((await exchange(method, '/user/me', sized('{}'), '{}')).status, 200);
      assert.equal((await exchange(method, '/user/me', 'content-type: text/plain\r\n', '')).status, 200, 'a Content-Type and no body');
    }
    await fc.assert(
      fc.asyncProperty(
        fc.jsonValue().filter((v) => !(v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)),
        fc.constantFrom('GET', 'HEAD'),
        fc.constantFrom('/user/me', '/user/.well-known/jwks.json'),
        fc.boolean(),
        async (value, method, path, chunked) => {
          const body = JSON.stringify(value);
          const head = chunked ? 'content-type: application/json\r\ntransfer-encoding: chunked\r\n' : sized(body);
          const res = await exchange(method, path, head, chunked ? `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n` : body);
          assert.equal(res.status, Buffer.byteLength(body) > NO_BODY_LIMIT ? 413 : 400, `${method} ${path} ${body.slice(0, 100)}: ${res.text.slice(0, 300)}`);
          assert.match(res.text, /content-type: application\/problem\+json/i);
        },
      ),
      { numRuns: 40 },
    );
    assert.equal((await exchange('GET', '/user/me', sized('hello', 'text/plain'), 'hello')).status, 415);
    assert.equal((await exchange('GET', '/user/me', 'transfer-encoding: chunked\r\n', '5\r\nhello\r\n0\r\n\r\n')).status, 415);
    const big = await exchange('GET', '/user/me', sized(' '.repeat(4096)), ' '.repeat(4096));
    assert.equal(big.status, 413);
    assert.match(big.text, /"detail":"Bodies over 1024 bytes are refused"/);
  });
});

