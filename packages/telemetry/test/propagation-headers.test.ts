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
import { TraceState } from '@opentelemetry/core';
import fc from 'fast-check';
import { startOtlpReceiver, type OtlpReceiver } from '../src/index.js';

const preload = join(import.meta.dirname, '..', 'src', 'register.js');
const gatewayMain = join(import.meta.dirname, '..', '..', '..', '..', 'services', 'gateway', 'dist', 'src', 'main.js');
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** Each header line the upstream got whose name is one of the propagation headers, lowercased name -> values. */
type Lines = Record<'traceparent' | 'tracestate' | 'baggage', string[]>;

/** The real gateway in front of `upstreamUrl`, with the preload exporting to `receiverUrl`, or untraced without one. */
async function startGateway(upstreamUrl: string, receiverUrl?: string): Promise<{ gateway: ChildProcess; url: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  const gateway = fork(gatewayMain, {
    execArgv: receiverUrl ? ['--import', preload] : [],
    env: {
      ...clean,
      ...(receiverUrl ? { OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl, OTEL_SERVICE_NAME: 'gateway', OTEL_BSP_SCHEDULE_DELAY: '100' } : {}),
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
  const url = await new Promise<string>((resolve, reject) => {
    gateway.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const listening = /"msg":"Server listening at (http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (listening) resolve(listening[1]!);
    });
    gateway.once('exit', (code) => reject(new Error(`the gateway exited (${code}): ${out}`)));
  });
  return { gateway, url };
}

async function stopGateway(gateway: ChildProcess | undefined): Promise<void> {
  if (gateway && gateway.exitCode === null && gateway.signalCode === null) {
    const exited = new Promise((resolve) => gateway.once('exit', resolve));
    gateway.kill('SIGTERM');
    await exited;
  }
}

/** An upstream that records, by the request's `x-case` header, the trace header lines it got. */
async function startRecorder(received: Map<string, Lines>): Promise<{ upstream: Server; url: string }> {
  const upstream = createServer((req, res) => {
    const lines: Lines = { traceparent: [], tracestate: [], baggage: [] };
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!.toLowerCase();
      if (name === 'traceparent' || name === 'tracestate' || name === 'baggage') lines[name].push(req.rawHeaders[i + 1]!);
    }
    received.set(String(req.headers['x-case']), lines);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  return { upstream, url: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` };
}

const traceparents = fc.oneof(
  fc.record({ valid: fc.constant(true), line: fc.tuple(fc.stringMatching(/^[0-9a-f]{32}$/), fc.stringMatching(/^[0-9a-f]{16}$/), fc.constantFrom('00', '01')).filter(([t, s]) => /[1-9a-f]/.test(t) && /[1-9a-f]/.test(s)).map(([t, s, f]) => `00-${t}-${s}-${f}`) }),
  fc.record({
    valid: fc.constant(false),
    line: fc.constantFrom(
      `00-${'A'.repeat(32)}-${'b'.repeat(16)}-01`,
      `00-${'0'.repeat(32)}-${'b'.repeat(16)}-01`,
      `00-${'a'.repeat(32)}-${'0'.repeat(16)}-01`,
      `ff-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
      `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01-extra`,
      `00-${'a'.repeat(31)}-${'b'.repeat(16)}-01`,
      'garbage',
    ),
  }),
  fc.constant({ valid: false, line: undefined }),
);
/** A tracestate list member W3C Trace Context allows, and what else a client may put in a member's place. */
const validMember = fc.tuple(fc.stringMatching(/^[a-z][a-z0-9_*/-]{0,10}$/), fc.stringMatching(/^[!-+\--<>-~]{1,12}$/));
const hostileMember = fc.oneof(
  validMember.map(([k, v]) => `${k}=${v}`),
  fc.constantFrom('', ' ', 'UPPER=1', 'k', '=v', 'a=b=c', 'k=', 'k= v', '@x=1', 'a@B=1', `k=${'x'.repeat(300)}`, `big=${'y'.repeat(600)}`),
  fc.string({ maxLength: 8 }),
);
/** `wellFormed`: distinct valid members, which go on unchanged when within 512 characters. */
const tracestates = fc.oneof(
  fc.array(validMember, { minLength: 1, maxLength: 5 }).map((members) => ({ wellFormed: true, line: [...new Map(members)].map(([k, v]) => `${k}=${v}`).join(',') })),
  fc.constantFrom('', ' ', ',', ' , ,\t', `k=${'x'.repeat(600)}`).map((line) => ({ wellFormed: false, line })),
  // Past W3C Trace Context's limits or not valid: 33 to 1,000 members, members too long, invalid or named twice.
  fc.integer({ min: 33, max: 1000 }).map((n) => ({ wellFormed: false, line: Array.from({ length: n }, (_, i) => `k${i}=v${i}`).join(',') })),
  fc.array(hostileMember, { maxLength: 40 }).map((members) => ({ wellFormed: false, line: members.join(',') })),
);
/** A tracestate line with no member: empty, or only commas and spaces (W3C Trace Context: accept it, avoid sending it). */
const EMPTY_TRACESTATE = /^[ \t,]*$/;

/**
 * W3C Trace Context 3.3 and the processing model, for any client traceparent and tracestate: a tracestate goes upstream
 * only when the traceparent it came with was valid (one that failed to parse is not followed and its tracestate is
 * not parsed; one without a traceparent is invalid and discarded), as one line, never an empty one, within 32 members
 * and 512 characters; a valid member list within 512 characters goes unchanged. Traced or not, the members that go on
 * are those OpenTelemetry's propagator keeps (its TraceState).
 */
async function checkTracestateForwarding(send: (name: string, headers: Record<string, string>) => Promise<{ lines: Lines }>, traced: boolean): Promise<void> {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(traceparents, tracestates, async (traceparent, { wellFormed, line: tracestate }) => {
      const name = `property-${traced}-${n++}`;
      const { lines } = await send(name, { ...(traceparent.line === undefined ? {} : { traceparent: traceparent.line }), tracestate });
      const why = `${traced ? 'traced' : 'untraced'}: traceparent ${traceparent.line} tracestate (${tracestate.length} characters) ${JSON.stringify(tracestate.slice(0, 200))} -> ${JSON.stringify(lines.tracestate.map((line) => (line.length > 200 ? `${line.slice(0, 200)}... (${line.length} characters)` : line)))}`;
      assert.equal(lines.traceparent.length, 1, why);
      assert.ok(lines.tracestate.length <= 1, why);
      assert.ok(!lines.tracestate.some((line) => EMPTY_TRACESTATE.test(line)), why);
      assert.ok(lines.tracestate.every((line) => line.length <= 512 && line.split(',').length <= 32), why);
      if (!traceparent.valid) assert.deepEqual(lines.tracestate, [], why);
      else {
        const kept = new TraceState(tracestate).serialize();
        assert.deepEqual(lines.tracestate, kept === '' ? [] : [kept], why);
        if (wellFormed && tracestate.length <= 512) assert.deepEqual(lines.tracestate, [tracestate], why);
      }
    }),
    { numRuns: 60 },
  );
}

/** Sends a GET through the gateway as case `name`; what the upstream got of the trace headers, and the traceresponse. */
async function sendThrough(gatewayUrl: string, received: Map<string, Lines>, name: string, headers: Record<string, string>): Promise<{ lines: Lines; traceresponse: string }> {
  const res = await fetch(`${gatewayUrl}/product?limit=1`, { headers: { ...headers, 'x-case': name } });
  await res.arrayBuffer();
  assert.equal(res.status, 200, name);
  const lines = received.get(name);
  assert.ok(lines, `${name}: the upstream got no request`);
  return { lines, traceresponse: res.headers.get('traceresponse') ?? '' };
}

interface RecordedGateway {
  url: string;
  /** The OTLP receiver the traced gateway exports to (none when untraced). */
  receiver: OtlpReceiver | undefined;
  send(name: string, headers: Record<string, string>): Promise<{ lines: Lines; traceresponse: string }>;
  close(): Promise<void>;
}

/** A gateway, traced to a receiver of its own or untraced (no preload), in front of an upstream that records the trace headers it gets. */
async function recordedGateway(traced: boolean): Promise<RecordedGateway> {
  const received = new Map<string, Lines>();
  // Each kept as soon as it runs: one started before a later step failed is closed here, no caller has it.
  let upstream: Server | undefined;
  let receiver: OtlpReceiver | undefined;
  let gateway: ChildProcess | undefined;
  const close = async () => {
    await stopGateway(gateway);
    await receiver?.close();
    await new Promise((resolve) => (upstream ? upstream.close(resolve) : resolve(undefined)));
  };
  try {
    const recorder = await startRecorder(received);
    upstream = recorder.upstream;
    if (traced) receiver = await startOtlpReceiver({ port: 0, keepSpans: true });
    const started = await startGateway(recorder.url, receiver?.url);
    gateway = started.gateway;
    return { url: started.url, receiver, send: (name, headers) => sendThrough(started.url, received, name, headers), close };
  } catch (err) {
    await close();
    throw err;
  }
}

describe('the traced gateway, in front of an upstream that records the trace headers it gets', () => {
  let gw: RecordedGateway | undefined;
  let receiver: OtlpReceiver;
  let gatewayUrl = '';

  before(async () => {
    gw = await recordedGateway(true);
    receiver = gw.receiver!;
    gatewayUrl = gw.url;
  });

  after(() => gw?.close());

  const send = (name: string, headers: Record<string, string>) => gw!.send(name, headers);

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
    // Not sent: no line (OpenTelemetry's propagator wrote an empty one, which W3C Trace Context says to avoid).
    const big = await send('tracestate-8k', { traceparent: `00-${hex(16)}-${hex(8)}-01`, tracestate: `k=${'x'.repeat(8190)}` });
    assert.deepEqual(big.lines.tracestate.map((l) => l.length), []);
  });

  it('for any traceparent (valid, invalid, none) and tracestate (valid, empty, oversized, 1,000 members, invalid members) a client sends, the upstream gets a tracestate only with the traceparent it came with, never an empty one, within 32 members and 512 characters: the members tracing on keeps', async () => {
    await checkTracestateForwarding((name, headers) => send(name, headers), true);
  });

  it('when a client sends a query of 6,000 keys (12 KB), then the proxy call\'s client span keeps 16 of them: no span many times the size of the request', async () => {
    const traceId = hex(16);
    const res = await fetch(`${gatewayUrl}/product?${'a&'.repeat(6000)}limit=1`, { headers: { traceparent: `00-${traceId}-${hex(8)}-01`, 'x-case': 'query-keys' } });
    await res.arrayBuffer();
    assert.equal(res.status, 200);
    // OTLP's span kind 3: the gateway's client span of its call upstream.
    const isClient = (span: { traceId: string; kind: number }) => span.traceId === traceId && span.kind === 3;
    const client = (await receiver.waitFor((all) => all.some(isClient), 10_000)).find(isClient)!;
    const text = JSON.stringify(client.attributes);
    assert.ok(text.length < 2_000, `the client span's attributes are ${text.length} characters`);
    assert.equal(client.attributes['url.query'], `?${'a=REDACTED&'.repeat(16)}...`);
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

describe('the untraced gateway (no preload), in front of an upstream that records the trace headers it gets', () => {
  let gw: RecordedGateway | undefined;

  before(async () => {
    gw = await recordedGateway(false);
  });

  after(() => gw?.close());

  const send = (name: string, headers: Record<string, string>) => gw!.send(name, headers);

  it('when the traceparent is invalid or absent, then the client\'s tracestate is not sent on; an empty one is not sent either; a valid pair goes on, the trace id kept', async () => {
    const traceId = hex(16);
    const restart = await send('off-restart', { traceparent: `00-${traceId.toUpperCase()}-${hex(8)}-01`, tracestate: 'congo=t61rcWkgMzE' });
    assert.ok(!restart.lines.traceparent[0]!.includes(traceId), restart.lines.traceparent[0]);
    assert.deepEqual(restart.lines.tracestate, []);
    assert.deepEqual((await send('off-alone', { tracestate: 'congo=t61rcWkgMzE' })).lines.tracestate, []);
    assert.deepEqual((await send('off-empty', { traceparent: `00-${hex(16)}-${hex(8)}-01`, tracestate: ' , ' })).lines.tracestate, []);
    const kept = await send('off-kept', { traceparent: `00-${traceId}-${hex(8)}-01`, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' });
    assert.match(kept.lines.traceparent[0]!, new RegExp(`^00-${traceId}-`));
    assert.deepEqual(kept.lines.tracestate, ['congo=t61rcWkgMzE,rojo=00f067aa0ba902b7']);
  });

  it('for any traceparent (valid, invalid, none) and tracestate (valid, empty, oversized, 1,000 members, invalid members) a client sends, the upstream gets a tracestate only with the traceparent it came with, never an empty one, within 32 members and 512 characters: the members tracing on keeps', async () => {
    await checkTracestateForwarding((name, headers) => send(name, headers), false);
  });
});
