// Requests whose client is gone before the answer, traced through the whole platform (scripts/stack.js with tracing
// on), sent through the gateway and to the user service directly: a login whose client hangs up while it is worked on,
// one whose body stops half-way and whose client hangs up, one whose body never ends (the kit's 408 at the request
// timeout). Each process the request reached exports its server span, and that span says what the service's request
// log line and metrics say: a request its client left (499 in the log line) is Error with `error.type` =
// `client_closed` and no `http.response.status_code` (none was sent: semconv http-spans), the kit's own answer (400,
// 408) is that status; never the answer the route wrote to a closed connection (a 200 login nobody received). The log
// line of such a request carries the trace (trace_id, span_id) like any other request's.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { ReceivedSpan } from '../src/otlp-spans.js';
import { startTracedStack, type TracedStack } from './traced-stack.js';

const SERVER = 2;
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** Writes `text` on a new connection to `base`, and closes it `closeAfterMs` after the write (or when the server does). */
function hangUp(base: string, text: string, closeAfterMs: number): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    const socket = connect(Number(new URL(base).port), '127.0.0.1', () => socket.write(text, () => setTimeout(() => socket.destroy(), closeAfterMs)));
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (data += d));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(data));
  });
}

interface Sent {
  name: string;
  via: 'gateway' | 'direct';
  traceId: string;
  /** What the client read before the connection closed (the 408's problem, else nothing). */
  answer: string;
  /** The status the first process's log line and span must give it. */
  expected: number;
  /** The processes the request reached: the gateway reads a body whole before it calls the service (buffered-bodies.ts). */
  reached: string[];
}

describe('requests whose client is gone before the answer, traced through the gateway and directly', () => {
  let stack: TracedStack;
  const sent: Sent[] = [];
  const propertyTraces: string[] = [];
  const lines: { service: string; line: Record<string, unknown> }[] = [];

  before(async () => {
    stack = await startTracedStack('trace_abandoned', {
      env: { LOG_LEVEL: 'info' },
      onLine: (service, line) => {
        try {
          lines.push({ service, line: JSON.parse(line) as Record<string, unknown> });
        } catch {
          // not a JSON line
        }
      },
    });
    const account = { email: `gone.${randomUUID()}@example.test`, password: `pw-${hex(8)}` };
    const registered = await fetch(`${stack.urls.gateway}/user/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...account, name: 'Gone' }) });
    assert.equal(registered.status, 201);
    const login = JSON.stringify(account);
    const head = (traceId: string, length: number) => `POST /user/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\ntraceparent: 00-${traceId}-${hex(8)}-01\r\n\r\n`;
    const send = async (name: string, expected: number, via: Sent['via'], text: (traceId: string) => string, closeAfterMs: number) => {
      const traceId = hex(16);
      const reached = via === 'direct' ? ['user'] : name.startsWith('gone while') ? ['gateway', 'user'] : ['gateway'];
      sent.push({ name, expected, via, traceId, reached, answer: await hangUp(via === 'gateway' ? stack.urls.gateway : stack.urls.user, text(traceId), closeAfterMs) });
    };
    const cases = (via: Sent['via']) => [
      // The whole body sent, then gone while the password is checked (argon2 takes longer than this).
      send('gone while its login is worked on', 499, via, (t) => `${head(t, login.length)}${login}`, 2),
      // Node's parser refuses the request cut short (the kit's 400, written to a connection the client may still read).
      send('gone with its body half sent', 400, via, (t) => `${head(t, login.length)}${login.slice(0, 10)}`, 300),
      // The body never ends: the kit answers 408 at the request timeout (20 s) and closes.
      send('its body not sent in time (408)', 408, via, (t) => `${head(t, login.length)}${login.slice(0, 10)}`, 60_000),
    ];
    // fast-check's hang-ups: a request (a login, a registration, a product page), its body cut anywhere or whole, the
    // connection closed 0-150 ms after the write, through the gateway or directly. Answered or not, each process that
    // logged it must have exported its span with the same status (compared below).
    const hangUps = fc.sample(fc.record({ route: fc.constantFrom('login', 'register', 'products'), cut: fc.double({ min: 0, max: 1, noNaN: true }), closeAfterMs: fc.integer({ min: 0, max: 150 }), via: fc.constantFrom('gateway' as const, 'direct' as const) }), 24);
    const anyHangUps = async () => {
      for (const { route, cut, closeAfterMs, via } of hangUps) {
        const traceId = hex(16);
        const body = route === 'register' ? JSON.stringify({ email: `gone.${randomUUID()}@example.test`, password: `pw-${hex(8)}`, name: 'Gone' }) : login;
        const text =
          route === 'products'
            ? `GET /product?limit=50 HTTP/1.1\r\nHost: x\r\ntraceparent: 00-${traceId}-${hex(8)}-01\r\n\r\n`
            : `${head(traceId, body.length).replace('/user/login', `/user/${route}`)}${body.slice(0, Math.round(body.length * cut))}`;
        propertyTraces.push(traceId);
        await hangUp(via === 'gateway' ? stack.urls.gateway : route === 'products' ? stack.urls.product : stack.urls.user, text, closeAfterMs);
      }
    };
    await Promise.all([...cases('gateway'), ...cases('direct'), anyHangUps()]);
    const exported = (s: Sent) => s.reached.every((service) => stack.receiver.spans.some((span) => span.traceId === s.traceId && span.kind === SERVER && span.service === service));
    const logged = () => lines.filter((l) => l.line['msg'] === 'request' && propertyTraces.includes(String(l.line['traceId'])));
    await stack.receiver.waitFor(() => sent.every(exported) && logged().every((l) => stack.receiver.spans.some((span) => span.traceId === l.line['traceId'] && span.kind === SERVER && span.service === l.service)), 20_000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
  });

  after(() => stack?.close());

  /**
   * Whether a server span says what the request's log line says. A request whose client went away is Error,
   * `client_closed`: its status code is the kit's 400 when the kit answered its body cut off, none for a 499 unless
   * `headersSent` (an answer whose headers went before the client left). Any other is its status code, a 4xx Unset
   * with no error.type (the kit's 408 too: that client is still there).
   */
  const saysLogged = (span: ReceivedSpan, logged: unknown, headersSent = false) => {
    const code = span.attributes['http.response.status_code'];
    const clientClosed = span.status.code === 2 && span.attributes['error.type'] === 'client_closed';
    if (logged === 499) return clientClosed && (headersSent ? typeof code === 'number' && code < 499 : code === undefined);
    if (code !== logged) return false;
    if (logged === 400 && clientClosed) return true;
    return typeof code !== 'number' || code >= 500 || (span.status.code === 0 && span.attributes['error.type'] === undefined);
  };

  const requestLine = (s: Sent, service: string) => lines.find((l) => l.service === service && l.line['msg'] === 'request' && l.line['traceId'] === s.traceId)?.line;

  it('then the one whose body never ended was answered 408, the others nothing', () => {
    for (const s of sent) {
      if (s.name.includes('408')) assert.match(s.answer, /^HTTP\/1\.1 408 /, `${s.name} ${s.via}`);
      else assert.equal(s.answer, '', `${s.name} ${s.via}`);
    }
  });

  it('then each process the request reached exported its server span, with the status its request log line gives (499: the client went away; 400 or 408: the kit\'s own answer), not the answer written to the closed connection', () => {
    const wrong: string[] = [];
    for (const s of sent) {
      for (const service of s.reached) {
        const span = stack.receiver.spans.find((sp) => sp.traceId === s.traceId && sp.kind === SERVER && sp.service === service);
        const line = requestLine(s, service);
        // The user service behind the gateway sees the gateway's call cut (499), whatever the client was told.
        const logged = line?.['status'];
        const what = `${s.name} ${s.via}: ${service} span ${span ? `${String(span.attributes['http.response.status_code'])} ${span.status.code} ${String(span.attributes['error.type'])}` : 'none'}, log ${String(logged)}`;
        if (!span || !line) wrong.push(what);
        else if (!saysLogged(span, logged)) wrong.push(what);
        else if (service === (s.via === 'gateway' ? 'gateway' : 'user') && logged !== s.expected) wrong.push(`${what}, expected ${s.expected}`);
        else if (span.attributes['http.route'] !== (service === 'gateway' ? '/user/*' : '/user/login')) wrong.push(`${what}: route ${String(span.attributes['http.route'])}`);
        // Its body cut off by a client that left: the kit's 400, and the span says the client went away.
        else if (s.name.includes('half sent') && span.attributes['error.type'] !== 'client_closed') wrong.push(`${what}: no client_closed`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('then each request log line carries the trace (trace_id and span_id of its server span)', () => {
    const wrong: string[] = [];
    for (const s of sent) {
      for (const service of s.reached) {
        const line = requestLine(s, service);
        const span = stack.receiver.spans.find((sp) => sp.traceId === s.traceId && sp.kind === SERVER && sp.service === service);
        if (line?.['trace_id'] !== s.traceId || line['span_id'] !== span?.spanId) wrong.push(`${s.name} ${s.via} ${service}: ${JSON.stringify(line)}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('then, for fast-check\'s hang-ups at any point, every request a process logged has its exported server span saying the same (499: client_closed, with the status code only when its headers were sent), and its line carries that span', () => {
    const wrong: string[] = [];
    const logged = lines.filter((l) => l.line['msg'] === 'request' && propertyTraces.includes(String(l.line['traceId'])));
    for (const { service, line } of logged) {
      const span = stack.receiver.spans.find((sp) => sp.traceId === line['traceId'] && sp.kind === SERVER && sp.service === service);
      const status = span?.attributes['http.response.status_code'];
      // A client gone while its answer was being written: the headers went (the span keeps their status), the body did
      // not all go. Before, @fastify/otel ended the span as the answer began and it said that status alone, a success.
      const writing = line['status'] === 499 && status !== undefined;
      if (!span || !saysLogged(span, line['status'], writing) || line['trace_id'] !== span.traceId || line['span_id'] !== span.spanId) wrong.push(`${service} ${String(line['route'])}: log ${String(line['status'])} trace_id ${String(line['trace_id'])}, span ${span ? `${String(status)} ${span.status.code} ${String(span.attributes['error.type'])} ${span.spanId}` : 'none'}`);
    }
    // And the other way: every server span of theirs was logged.
    for (const span of stack.receiver.spans.filter((sp) => sp.kind === SERVER && propertyTraces.includes(sp.traceId))) {
      if (!logged.some((l) => l.service === span.service && l.line['traceId'] === span.traceId)) wrong.push(`${span.service} ${span.name}: a span with no request line`);
    }
    assert.deepEqual(wrong, []);
    // Most hang-ups reached a process (a connection closed at once may be gone before its request is read).
    assert.ok(new Set(logged.map((l) => l.line['traceId'])).size >= propertyTraces.length / 2, `${logged.length} lines of ${propertyTraces.length} hang-ups`);
  });
});
