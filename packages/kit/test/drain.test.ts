// A service process's graceful shutdown, as clients on real sockets see it: SIGTERM to a kit server run by runMain
// (fixtures/drain-server.ts), with keep-alive connections that are idle, connections accepted but not yet read,
// and a request in flight. Every request that reaches the process during the drain gets an HTTP answer (a 503
// problem with Retry-After and Connection: close, or its own), never a reset or a silent close.
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SERVER_LIMITS } from '../src/index.js';

const fixture = fileURLToPath(new URL('./fixtures/drain-server.js', import.meta.url));
const SHUTDOWN_TIMEOUT_MS = 10_000;

interface Service {
  child: ChildProcess;
  port: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** Resolves when the process logs that it drains (its SIGTERM handler ran; requests read from then on meet the drain). */
  draining: Promise<void>;
}

async function startService(env: Record<string, string> = {}): Promise<Service> {
  const child = fork(fixture, [], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS), ...env },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8');
  const draining = new Promise<void>((resolve) =>
    child.stdout!.on('data', (d: string) => {
      out += d;
      if (out.includes('"msg":"shutting down, draining requests"')) resolve();
    }),
  );
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null, at: Date.now() }));
  const [message] = (await Promise.race([once(child, 'message'), exited.then(() => Promise.reject(new Error('the fixture exited before listening')))])) as [{ type: string; port: number }];
  assert.equal(message.type, 'listening');
  return { child, port: message.port, exited, draining };
}

/** One client connection, read by hand: what it received, whether it was reset, whether the server closed it. */
class Connection {
  readonly socket: Socket;
  text = '';
  error: string | null = null;
  closed = false;
  private readonly ready: Promise<void>;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setEncoding('utf8');
    this.socket.on('data', (d: string) => (this.text += d));
    this.socket.on('error', (err: NodeJS.ErrnoException) => (this.error = err.code ?? err.message));
    this.socket.on('close', () => (this.closed = true));
    this.ready = once(this.socket, 'connect').then(() => undefined);
  }

  connected(): Promise<void> {
    return this.ready;
  }

  /** Sends one request and waits for its whole answer (Content-Length), the connection's end, or an error. */
  async exchange(path: string, timeoutMs = 5_000): Promise<string> {
    const from = this.text.length;
    if (!this.socket.destroyed) this.socket.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`);
    const t0 = Date.now();
    for (;;) {
      const answer = this.text.slice(from);
      const head = answer.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)/i.exec(answer);
      if (head >= 0 && length && answer.length >= head + 4 + Number(length[1])) return answer;
      if (this.closed || this.error) return answer;
      if (Date.now() - t0 > timeoutMs) return answer;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Whether the server ends the connection (after an answer with Connection: close). */
  async endsWithin(ms: number): Promise<boolean> {
    const t0 = Date.now();
    while (!this.closed && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 5));
    return this.closed;
  }
}

function assertAnsweredAndClosed(answer: string, connection: Connection, label: string): void {
  assert.match(answer, /^HTTP\/1\.1 (503|200) /, `${label}: no answer (${connection.error ?? (connection.closed ? 'closed' : 'open')}): ${JSON.stringify(answer)}`);
  assert.match(answer, /\r\nconnection: close\r\n/i, `${label}: ${answer}`);
  if (answer.startsWith('HTTP/1.1 503')) {
    assert.match(answer, /\r\nretry-after: 1\r\n/i, label);
    assert.match(answer, /\r\ncontent-type: application\/problem\+json/i, label);
  }
}

describe('a service process that gets SIGTERM, with clients on real sockets', { timeout: 120_000 }, () => {
  it('when requests arrive during the drain on idle keep-alive connections and on connections accepted but not yet read, then each is answered with Connection: close (none reset), the one in flight finishes, and the process exits 0 within its drain bound', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ idle: fc.integer({ min: 1, max: 4 }), fresh: fc.integer({ min: 1, max: 4 }), sendAfterMs: fc.integer({ min: 0, max: 300 }), inFlight: fc.boolean() }),
        async ({ idle, fresh, sendAfterMs, inFlight }) => {
          // A grace well past the latest send (300 ms), so a loaded machine's scheduling cannot outlast it.
          const service = await startService({ DRAIN_IDLE_MS: '3000' });
          const sockets: Connection[] = [];
          try {
            // Keep-alive connections that have been served once and are idle now.
            const idles = Array.from({ length: idle }, () => new Connection(service.port));
            sockets.push(...idles);
            for (const c of idles) assert.match(await c.exchange('/t/fast'), /^HTTP\/1\.1 200 [\s\S]*\r\nconnection: keep-alive\r\n/i);
            // Connections the server has accepted, on which the client has sent nothing yet.
            const fresh_ = Array.from({ length: fresh }, () => new Connection(service.port));
            sockets.push(...fresh_);
            await Promise.all(fresh_.map((c) => c.connected()));
            let slow: Promise<string> | undefined;
            let slowConnection: Connection | undefined;
            if (inFlight) {
              slowConnection = new Connection(service.port);
              sockets.push(slowConnection);
              slow = slowConnection.exchange('/t/slow?ms=800');
            }
            // Give the process a moment to accept them (and to start the slow request).
            await new Promise((r) => setTimeout(r, 100));
            const signalled = Date.now();
            service.child.kill('SIGTERM');
            await service.draining;
            await new Promise((r) => setTimeout(r, sendAfterMs));
            const answers = await Promise.all([...idles, ...fresh_].map((c) => c.exchange('/t/fast')));
            answers.forEach((a, i) => assertAnsweredAndClosed(a, [...idles, ...fresh_][i]!, `${i < idle ? 'idle keep-alive' : 'fresh'} connection ${i}, sent ${sendAfterMs} ms into the drain`));
            for (const c of [...idles, ...fresh_]) assert.ok(await c.endsWithin(2_000), 'the server closes the connection after its answer');
            if (slow && slowConnection) {
              const finished = await slow;
              assert.match(finished, /^HTTP\/1\.1 200 /, finished);
              assert.match(finished, /\r\nconnection: close\r\n/i, finished);
              assert.match(finished, /\{"slow":true\}/);
            }
            const exit = await service.exited;
            assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null });
            assert.ok(exit.at - signalled < SHUTDOWN_TIMEOUT_MS / 2, `drained in ${exit.at - signalled} ms`);
          } finally {
            for (const c of sockets) c.socket.destroy();
            if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
            await service.exited;
          }
        },
      ),
      { numRuns: 6, includeErrorInReport: true },
    );
  });

  it('when keep-alive connections stay idle through the drain, then the process closes them and exits 0 promptly (the idle grace, not the keep-alive timeout)', async () => {
    const service = await startService();
    const connections = Array.from({ length: 3 }, () => new Connection(service.port));
    try {
      for (const c of connections) assert.match(await c.exchange('/t/fast'), /^HTTP\/1\.1 200 /);
      const signalled = Date.now();
      service.child.kill('SIGTERM');
      const exit = await service.exited;
      assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null });
      assert.ok(exit.at - signalled < SERVER_LIMITS.drainIdleMs + 2_000, `exited ${exit.at - signalled} ms after SIGTERM`);
      for (const c of connections) assert.ok(await c.endsWithin(1_000), 'closed by the server');
      for (const c of connections) assert.equal(c.error, null, 'closed, not reset');
    } finally {
      for (const c of connections) c.socket.destroy();
    }
  });
  it('when SHUTDOWN_TIMEOUT_MS is shorter than the idle grace, then idle connections are closed within half of it and the process exits 0 (not killed by its own timeout)', async () => {
    const service = await startService({ SHUTDOWN_TIMEOUT_MS: '400' });
    const connections = Array.from({ length: 2 }, () => new Connection(service.port));
    try {
      for (const c of connections) assert.match(await c.exchange('/t/fast'), /^HTTP\/1\.1 200 /);
      service.child.kill('SIGTERM');
      const exit = await service.exited;
      assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null });
    } finally {
      for (const c of connections) c.socket.destroy();
    }
  });
});
