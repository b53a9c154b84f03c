// What the traced gateway sends upstream of the trace headers a client gave it (W3C Trace Context and Baggage): the real
// gateway (services/gateway) started with the preload, in front of an upstream of the test's that records the header
// lines it gets. The gateway copies the client's end-to-end headers to its proxy call, and the undici instrumentation
// then injects the propagators' own traceparent, tracestate and baggage: a copied one beside them is a second line.
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver } from '../src/index.js';

const preload = join(import.meta.dirname, '..', 'src', 'register.js');
const gatewayMain = join(import.meta.dirname, '..', '..', '..', '..', 'services', 'gateway', 'dist', 'src', 'main.js');
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** Each header line the upstream got whose name is one of the propagation headers, lowercased name -> values. */
type Lines = Record<'traceparent' | 'tracestate' | 'baggage', string[]>;

describe('the traced gateway, in front of an upstream that records the trace headers it gets', () => {
  let upstream: Server;
  let receiver: OtlpReceiver;
  let gateway: ChildProcess;
  let gatewayUrl = '';
  const received = new Map<string, Lines>();

  before(async () => {
    upstream = createServer((req, res) => {
      const lines: Lines = { traceparent: [], tracestate: [], baggage: [] };
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i]!.toLowerCase();
        if (name === 'traceparent' || name === 'tracestate' || name === 'baggage') lines[name].push(req.rawHeaders[i + 1]!);
      }
      received.set(String(req.headers['x-case']), lines);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    receiver = await startOtlpReceiver({ port: 0, keepSpans: true });
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
    gateway = fork(gatewayMain, {
      execArgv: ['--import', preload],
      env: {
        ...clean,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: 'gateway',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        HOST: '127.0.0.1',
        PORT: '0',
        METRICS_PORT: '0',
        LOG_LEVEL: 'info',
        USER_SERVICE_URL: upstreamUrl,
        PRODUCT_SERVICE_URL: upstreamUrl,
        ORDER_SERVICE_URL: upstreamUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let out = '';
    gatewayUrl = await new Promise<string>((resolve, reject) => {
      gateway.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const listening = /"msg":"Server listening at (http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
        if (listening) resolve(listening[1]!);
      });
      gateway.once('exit', (code) => reject(new Error(`the gateway exited (${code}): ${out}`)));
    });
  });

  after(async () => {
    if (gateway && gateway.exitCode === null && gateway.signalCode === null) {
      const exited = new Promise((resolve) => gateway.once('exit', resolve));
      gateway.kill('SIGTERM');
      await exited;
    }
    await receiver?.close();
    if (upstream) await new Promise((resolve) => upstream.close(resolve));
  });

  async function send(name: string, headers: Record<string, string>): Promise<{ lines: Lines; traceresponse: string }> {
    const res = await fetch(`${gatewayUrl}/product?limit=1`, { headers: { ...headers, 'x-case': name } });
    await res.arrayBuffer();
    assert.equal(res.status, 200, name);
    const lines = received.get(name);
    assert.ok(lines, `${name}: the upstream got no request`);
    return { lines, traceresponse: res.headers.get('traceresponse') ?? '' };
  }

  it('when the client sends baggage, then the upstream gets one baggage line (the propagator\'s), not the client\'s copied beside it', async () => {
    const secret = `s3cret${hex(8)}`;
    const traceId = hex(16);
    const { lines } = await send('baggage', { traceparent: `00-${traceId}-${hex(8)}-01`, baggage: `user=ada,token=${secret}` });
    assert.deepEqual(lines.baggage.length, 1, JSON.stringify(lines));
    assert.deepEqual(lines.baggage[0]!.split(',').sort(), ['token=' + secret, 'user=ada']);
    assert.equal(lines.traceparent.length, 1);
    assert.match(lines.traceparent[0]!, new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    // Nothing records baggage: its secret is in no exported span (server and client) of that trace.
    const spans = await receiver.waitFor((all) => all.filter((span) => span.traceId === traceId).length >= 2, 10_000);
    const text = JSON.stringify(spans.map((span) => ({ n: span.name, a: span.attributes, e: span.events, l: span.links, r: span.resource })), (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value));
    assert.ok(!text.includes(secret), text);
  });

  it('when the client sends baggage past W3C Baggage\'s limits (500 members, 9 KB), then what goes upstream is one line within them (180 members, 8192 bytes)', async () => {
    const members = Array.from({ length: 500 }, (_, i) => `k${i}=${'v'.repeat(12)}`).join(',');
    const { lines } = await send('baggage-large', { baggage: members });
    assert.ok(lines.baggage.length <= 1, JSON.stringify(lines.baggage.map((l) => l.length)));
    const sent = lines.baggage[0] ?? '';
    assert.ok(sent.length <= 8192 && sent.split(',').length <= 180, `${sent.length} bytes, ${sent.split(',').length} members`);
  });

  it('when the traceparent is valid, then its tracestate goes upstream once, unchanged; 33 members are cut to 32, one of 8 KB is not sent', async () => {
    const traceId = hex(16);
    const valid = await send('tracestate', { traceparent: `00-${traceId}-${hex(8)}-01`, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' });
    assert.deepEqual(valid.lines.tracestate, ['congo=t61rcWkgMzE,rojo=00f067aa0ba902b7']);
    const many = await send('tracestate-33', { traceparent: `00-${hex(16)}-${hex(8)}-01`, tracestate: Array.from({ length: 33 }, (_, i) => `k${i}=v${i}`).join(',') });
    assert.equal(many.lines.tracestate.length, 1);
    assert.equal(many.lines.tracestate[0]!.split(',').length, 32);
    // Not sent: no line, or (OpenTelemetry's propagator) an empty one, which W3C Trace Context says to accept.
    const big = await send('tracestate-8k', { traceparent: `00-${hex(16)}-${hex(8)}-01`, tracestate: `k=${'x'.repeat(8190)}` });
    assert.ok(big.lines.tracestate.every((line) => line === ''), JSON.stringify(big.lines.tracestate.map((l) => l.length)));
  });

  it('when a path is not traced (/livez, /readyz), then its traceresponse says so (flags 00) and names no exported span; a traced one says 01', async () => {
    const traced = await send('traced', {});
    const [, tracedId, , tracedFlags] = traced.traceresponse.split('-');
    assert.equal(tracedFlags, '01');
    const probes: string[] = [];
    for (const path of ['/livez', '/readyz']) {
      const caller = hex(16);
      const res = await fetch(`${gatewayUrl}${path}`, { headers: { traceparent: `00-${caller}-${hex(8)}-01` } });
      await res.arrayBuffer();
      const [, traceId, , flags] = (res.headers.get('traceresponse') ?? '').split('-');
      assert.equal(flags, '00', `${path}: ${res.headers.get('traceresponse')}`);
      probes.push(traceId!);
    }
    await receiver.waitFor((all) => all.some((span) => span.traceId === tracedId), 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(receiver.spans.filter((span) => probes.includes(span.traceId)), []);
  });

  it('when the traceparent is invalid, then the trace restarts and the client\'s tracestate is not sent on (W3C Trace Context: not parsed, cleaned up on restart)', async () => {
    const traceId = hex(16);
    const { lines, traceresponse } = await send('restart', { traceparent: `00-${traceId.toUpperCase()}-${hex(8)}-01`, tracestate: 'congo=t61rcWkgMzE' });
    assert.equal(lines.traceparent.length, 1);
    assert.ok(!lines.traceparent[0]!.includes(traceId), lines.traceparent[0]);
    assert.equal(lines.traceparent[0]!.split('-')[1], traceresponse.split('-')[1]);
    assert.deepEqual(lines.tracestate, []);
  });
});
