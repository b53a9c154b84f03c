// Answers cut off by the client, traced: the gateway (a real process with the tracing preload, on port 0) in front of
// an upstream of the test's own (node:net) that answers its headers and then only part of its body, or nothing, and
// clients on raw sockets that go away. The gateway's server span and its upstream call's client span must each be
// exported, ended, and say that the request did not complete (status Error, `error.type`), with
// `http.response.status_code` only when an answer's headers were sent (semconv http-spans, "HTTP server call:
// connection dropped before response body was sent"). Before, the server span ended as the answer began (@fastify/otel
// ends it in onSend): a 200 whose body never reached the client was a plain success.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver } from '../src/index.js';
import type { ReceivedSpan } from '../src/otlp-spans.js';

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;
const repoRoot = join(import.meta.dirname, '..', '..', '..', '..');
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** The upstream: /readyz 200; /user/slow a 200 with 10 of its 1000 body bytes, then nothing; /user/never nothing at all. */
function startUpstream(): Promise<{ server: Server; url: string; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      while (head.includes('\r\n\r\n')) {
        const end = head.indexOf('\r\n\r\n') + 4;
        const line = head.slice(0, head.indexOf('\r\n'));
        head = head.slice(end);
        if (line.includes('/readyz')) socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
        else if (line.includes('/user/slow')) socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(10)}`);
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, sockets, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

/** The gateway with the tracing preload, on port 0; resolves with its port once it listens. */
function startGateway(upstream: string, receiver: OtlpReceiver): Promise<{ child: ChildProcess; port: number }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  const child = spawn(process.execPath, ['--import', pathToFileURL(join(import.meta.dirname, '..', 'src', 'register.js')).href, join(repoRoot, 'services', 'gateway', 'dist', 'src', 'main.js')], {
    env: { ...env, LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: '0', METRICS_PORT: '0', USER_SERVICE_URL: upstream, PRODUCT_SERVICE_URL: upstream, ORDER_SERVICE_URL: upstream, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'gateway', OTEL_BSP_SCHEDULE_DELAY: '100' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.on('message', (m: { type?: string; port?: number }) => {
      if (m.type === 'listening' && m.port) resolve({ child, port: m.port });
    });
    child.once('exit', (code) => reject(new Error(`the gateway exited (${String(code)})`)));
  });
}

/** Sends `GET path` with a traceparent of `traceId`; closes the connection `closeMs` after the answer's headers came, or after `closeMs` when `afterHeaders` is false. */
function cutOff(port: number, path: string, traceId: string, closeMs: number, afterHeaders: boolean): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\ntraceparent: 00-${traceId}-${hex(8)}-01\r\n\r\n`);
      if (!afterHeaders) setTimeout(() => socket.destroy(), closeMs);
    });
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      const had = data.includes('\r\n\r\n');
      data += d;
      if (afterHeaders && !had && data.includes('\r\n\r\n')) setTimeout(() => socket.destroy(), closeMs);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(data));
  });
}

describe('answers cut off by the client, through the traced gateway', () => {
  let receiver: OtlpReceiver;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let gateway: { child: ChildProcess; port: number } | undefined;
  const traces = { beforeHeaders: hex(16), midBody: hex(16), whole: hex(16) };
  const answers: Record<string, string> = {};

  before(async () => {
    receiver = await startOtlpReceiver({ port: 0, keepSpans: true });
    upstream = await startUpstream();
    gateway = await startGateway(upstream.url, receiver);
    // Gone 100 ms after its request, while the upstream has not answered: the upstream call is aborted (watchClient).
    answers.beforeHeaders = await cutOff(gateway.port, '/user/never', traces.beforeHeaders, 100, false);
    // Gone 1 ms after the answer's headers, its body incomplete (10 of 1000 bytes).
    answers.midBody = await cutOff(gateway.port, '/user/slow', traces.midBody, 1, true);
    // A whole answer (the upstream's /readyz, proxied) read to its end: a success, as before.
    answers.whole = await cutOff(gateway.port, '/user/readyz', traces.whole, 200, false);
    const both = (traceId: string) => [SERVER, CLIENT].every((kind) => receiver.spans.some((s) => s.traceId === traceId && s.kind === kind));
    await receiver.waitFor(() => Object.values(traces).every(both), 10_000).catch(() => undefined);
  });

  after(async () => {
    if (gateway && gateway.child.exitCode === null) {
      const exited = new Promise((r) => gateway!.child.once('exit', r));
      gateway.child.kill('SIGTERM');
      await exited;
    }
    for (const socket of upstream?.sockets ?? []) socket.destroy();
    await new Promise((r) => (upstream ? upstream.server.close(r) : r(undefined)));
    await receiver?.close();
  });

  const spanOf = (traceId: string, kind: number): ReceivedSpan | undefined => receiver.spans.find((s) => s.traceId === traceId && s.kind === kind);
  const said = (span: ReceivedSpan | undefined) => (span ? `${span.name}: status ${span.status.code}, http.response.status_code ${String(span.attributes['http.response.status_code'])}, error.type ${String(span.attributes['error.type'])}` : 'no span');

  it('then the clients read what they did: nothing, the headers and part of the body, a whole answer', () => {
    assert.equal(answers.beforeHeaders, '');
    assert.match(answers.midBody ?? '', /^HTTP\/1\.1 200 [^]*\r\n\r\nx{10}$/);
    assert.match(answers.whole ?? '', /^HTTP\/1\.1 200 [^]*\r\n\r\n\{\}$/);
  });

  it('then a client gone before any answer: the server span is Error, error.type client_closed, no status code (none was sent)', () => {
    const span = spanOf(traces.beforeHeaders, SERVER);
    assert.deepEqual(
      { status: span?.status.code, code: span?.attributes['http.response.status_code'], errorType: span?.attributes['error.type'] },
      { status: ERROR, code: undefined, errorType: 'client_closed' },
      said(span),
    );
  });

  it('then its upstream call, aborted for it, has an ended client span that says so: error.type AbortError, no status code, its status left Unset (not OK)', () => {
    const span = spanOf(traces.beforeHeaders, CLIENT);
    assert.deepEqual(
      { status: span?.status.code, code: span?.attributes['http.response.status_code'], errorType: span?.attributes['error.type'] },
      { status: 0, code: undefined, errorType: 'AbortError' },
      said(span),
    );
  });

  it('then a client gone 1 ms after the headers, the body incomplete: the server span keeps the 200 it sent, and is Error, error.type client_closed', () => {
    const span = spanOf(traces.midBody, SERVER);
    assert.deepEqual(
      { status: span?.status.code, code: span?.attributes['http.response.status_code'], errorType: span?.attributes['error.type'] },
      { status: ERROR, code: 200, errorType: 'client_closed' },
      said(span),
    );
  });

  it('then its upstream call, whose body was cut off for it, has an ended client span that says so: the 200 it received, error.type AbortError', () => {
    const span = spanOf(traces.midBody, CLIENT);
    assert.deepEqual(
      { status: span?.status.code, code: span?.attributes['http.response.status_code'], errorType: span?.attributes['error.type'] },
      { status: 0, code: 200, errorType: 'AbortError' },
      said(span),
    );
  });

  it('then a whole answer read to its end: both spans a plain 200, no error.type', () => {
    for (const kind of [SERVER, CLIENT]) {
      const span = spanOf(traces.whole, kind);
      assert.deepEqual(
        { status: span?.status.code, code: span?.attributes['http.response.status_code'], errorType: span?.attributes['error.type'] },
        { status: 0, code: 200, errorType: undefined },
        said(span),
      );
    }
  });
});
