import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { stopAll, uniqueEmail, type Running, type TestDatabase } from '@ecommerce/test-support';
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
});
