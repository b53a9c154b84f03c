// The requests that do not succeed, traced through the whole platform (scripts/stack.js with tracing on) and sent
// both through the gateway and to the service directly: each process the request reached exports an ended server
// span under the caller's trace, with the answer's status code, the route template, and the status the HTTP
// semantic conventions give it (a 4xx is the client's error: Unset; a 5xx is Error with error.type), and the
// service's request log line names that span.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { rawExchangeInParts } from '@ecommerce/test-support';
import type { OtlpReceiver, ReceivedSpan } from '../src/index.js';
import { startTracedStack, type TracedStack } from './traced-stack.js';

type Service = 'user' | 'product' | 'order';
const SERVER = 2;
const CLIENT = 3;
const UNSET = 0;
const ERROR = 2;

interface Sent {
  name: string;
  via: 'gateway' | 'direct';
  service: Service;
  traceId: string;
  callerSpanId: string;
  status: number;
  /** The route template the service's span must name; undefined: no route matched. */
  route: string | undefined;
  body: Record<string, unknown> | null;
  /** Every service whose server span the trace must hold. */
  reached: string[];
}

const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3}) /.exec(raw)?.[1] ?? 0);
const bodyOf = (raw: string) => {
  try {
    return JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
  } catch {
    return { raw };
  }
};

describe('failed requests, traced through the gateway and directly', () => {
  let receiver: OtlpReceiver;
  let stack: TracedStack;
  const sent: Sent[] = [];
  const lines: { service: string; line: Record<string, unknown> }[] = [];

  before(async () => {
    stack = await startTracedStack('trace_fail', {
      env: { LOG_LEVEL: 'info', FAULT_INJECTION: 'enabled' },
      onLine: (service: string, line: string) => {
        try {
          lines.push({ service, line: JSON.parse(line) as Record<string, unknown> });
        } catch {
          // not a JSON line
        }
      },
    });
    receiver = stack.receiver;
    const { gateway: gw } = stack.urls;
    const json = (body: unknown, headers: Record<string, string> = {}) => ({
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const email = `fail.${randomUUID()}@example.test`;
    const password = `pw-${randomBytes(8).toString('hex')}`;
    assert.equal((await fetch(`${gw}/user/register`, json({ email, password, name: 'Fail' }))).status, 201);
    const login = (await (await fetch(`${gw}/user/login`, json({ email, password }))).json()) as { accessToken: string };
    const auth = { authorization: `Bearer ${login.accessToken}` };
    const page = (await (await fetch(`${gw}/product?limit=20`)).json()) as { items: { id: string; stock: number }[] };
    // At most 10 units of a product per order (else 422): one with fewer in stock (the demo catalog has one).
    const scarce = page.items.find((p) => p.stock < 10);
    assert.ok(scarce, 'a product with less than 10 in stock');

    const send = async (name: string, service: Service, route: string | undefined, path: string, init: RequestInit = {}, alsoReached: Service[] = []) => {
      for (const via of ['gateway', 'direct'] as const) {
        const traceId = randomBytes(16).toString('hex');
        const callerSpanId = randomBytes(8).toString('hex');
        // A key of its own each time: the same key again would be answered from the first try, without the product service.
        const headers = { ...(init.headers as Record<string, string>), 'idempotency-key': randomUUID(), traceparent: `00-${traceId}-${callerSpanId}-01` };
        const res = await fetch(`${via === 'gateway' ? gw : stack.urls[service]}${path}`, { ...init, headers });
        const body = (await res.json().catch(() => null)) as Record<string, unknown> | null;
        sent.push({ name, via, service, traceId, callerSpanId, status: res.status, route, body, reached: [...(via === 'gateway' ? ['gateway'] : []), service, ...alsoReached] });
      }
    };
    await send('a 401 (no token)', 'order', '/order', '/order');
    await send('a 403 (a customer creating a product)', 'product', '/product', '/product', json({ sku: `S-${randomUUID()}`, name: 'n', priceCents: 1, currency: 'USD', stock: 1 }, auth));
    await send('a 400 (malformed JSON)', 'user', '/user/register', '/user/register', json('{"email":'));
    await send('a 409 (insufficient stock)', 'order', '/order', '/order', json({ items: [{ productId: scarce.id, quantity: 10 }] }, auth), ['product']);
    await send('a 404 (no such route)', 'product', undefined, '/product/no/such/route');
    await send('a 405 (a method the path does not serve)', 'product', undefined, '/product', { method: 'PATCH' });
    const fault = (errorRatio: number) =>
      fetch(`${stack.urls.product}/internal/fault`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errorRatio }) });
    assert.equal((await fault(1)).status, 200);
    await send('a 500 (a fault in the service)', 'product', '/product', '/product?limit=1');
    assert.equal((await fault(0)).status, 200);
    const exported = (all: ReceivedSpan[], s: Sent) => s.reached.every((service) => all.some((span) => span.traceId === s.traceId && span.kind === SERVER && span.service === service));
    const allExported = () => receiver.waitFor((all) => sent.every((s) => exported(all, s)), 30_000).catch((err: unknown) => {
      const missing = sent.filter((s) => !exported(receiver.spans, s)).map((s) => `${s.name} ${s.via} (${s.reached.join(', ')})`);
      throw new Error(`server spans missing: ${missing.join('; ')}`, { cause: err });
    });
    // Before the product service is killed: a killed process loses the spans it still batches.
    await allExported();

    // Then the product service gone: the gateway answers 503 itself (its span is the only server span).
    const product = stack.children.get('product');
    const gone = new Promise((r) => product?.once('exit', r));
    product?.kill('SIGKILL');
    await gone;
    const down = { traceId: randomBytes(16).toString('hex'), callerSpanId: randomBytes(8).toString('hex') };
    const res = await fetch(`${gw}/product?limit=1`, { headers: { traceparent: `00-${down.traceId}-${down.callerSpanId}-01` } });
    sent.push({ name: 'a 503 (the service down)', via: 'gateway', service: 'product', ...down, status: res.status, route: undefined, body: (await res.json()) as Record<string, unknown>, reached: ['gateway'] });

    await allExported();

    // Then the user service shutting down (SIGTERM): a login whose body is still arriving holds the drain open, and a
    // request begun before the signal and finished after it is refused 503 (kit health plugin). Both spans must
    // reach the receiver: the refusal's, and the in-flight one's, exported by the flush as the app closes.
    const user = stack.children.get('user');
    const { port } = new URL(stack.urls.user);
    const body = JSON.stringify({ email: `nobody.${randomUUID()}@example.test`, password: 'not-the-password-1' });
    const inFlight = rawExchangeInParts(Number(port));
    const held = { traceId: randomBytes(16).toString('hex'), callerSpanId: randomBytes(8).toString('hex') };
    await inFlight.write(`POST /user/login HTTP/1.1\r\nHost: u\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\ntraceparent: 00-${held.traceId}-${held.callerSpanId}-01\r\n\r\n${body.slice(0, 10)}`);
    const late = rawExchangeInParts(Number(port));
    const refusedIds = { traceId: randomBytes(16).toString('hex'), callerSpanId: randomBytes(8).toString('hex') };
    await late.write(`GET /user/me HTTP/1.1\r\nHost: u\r\ntraceparent: 00-${refusedIds.traceId}-${refusedIds.callerSpanId}-01\r\n`);
    await new Promise((r) => setTimeout(r, 200));
    const userExit = new Promise((r) => user?.once('exit', r));
    user?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    await late.write('\r\n');
    const refused = await late.ended;
    await inFlight.write(body.slice(10));
    const finished = await inFlight.ended;
    await userExit;
    sent.push({ name: 'a 503 (the service draining)', via: 'direct', service: 'user', ...refusedIds, status: statusOf(refused), route: '/user/me', body: bodyOf(refused), reached: ['user'] });
    sent.push({ name: 'a 401 (a login in flight while the service drains)', via: 'direct', service: 'user', ...held, status: statusOf(finished), route: '/user/login', body: bodyOf(finished), reached: ['user'] });
    await allExported();
    // The last exports of a batch may trail the first by a schedule delay.
    await new Promise((r) => setTimeout(r, 500));
  });

  after(() => stack?.close());

  const spansOf = (s: Sent) => receiver.spans.filter((span) => span.traceId === s.traceId);
  const serverOf = (s: Sent, service: string) => spansOf(s).find((span) => span.service === service && span.kind === SERVER);
  const describeSpans = (s: Sent) =>
    spansOf(s)
      .map((span) => `${span.service} ${span.name} kind=${span.kind} status=${span.status.code} ${String(span.attributes['http.response.status_code'])}`)
      .join('\n');

  it('then each answer has the status the API documents', () => {
    const expected: Record<string, number> = {
      'a 401 (no token)': 401,
      'a 403 (a customer creating a product)': 403,
      'a 400 (malformed JSON)': 400,
      'a 409 (insufficient stock)': 409,
      'a 404 (no such route)': 404,
      'a 405 (a method the path does not serve)': 405,
      'a 500 (a fault in the service)': 500,
      'a 503 (the service down)': 503,
      'a 503 (the service draining)': 503,
      'a 401 (a login in flight while the service drains)': 401,
    };
    for (const s of sent) assert.equal(s.status, expected[s.name], `${s.name} ${s.via}: ${JSON.stringify(s.body)}`);
  });

  it('then every process the request reached exported its server span, under the caller and linked across processes', () => {
    for (const s of sent.filter((x) => x.reached.includes(x.service))) {
      const service = serverOf(s, s.service);
      assert.ok(service, `${s.name} ${s.via}: no ${s.service} server span\n${describeSpans(s)}`);
      if (s.via === 'direct') {
        assert.equal(service.parentSpanId, s.callerSpanId, `${s.name} direct`);
        continue;
      }
      const gateway = serverOf(s, 'gateway');
      assert.ok(gateway, `${s.name}: no gateway server span\n${describeSpans(s)}`);
      assert.equal(gateway.parentSpanId, s.callerSpanId, s.name);
      const client = spansOf(s).find((span) => span.spanId === service.parentSpanId);
      assert.equal(client?.kind, CLIENT, `${s.name}: the ${s.service} span's parent is the gateway's client span`);
      assert.equal(client.service, 'gateway');
      assert.equal(client.parentSpanId, gateway.spanId, s.name);
    }
  });

  it('then each server span carries the answer\'s status code and the route template (none when no route matched)', () => {
    for (const s of sent) {
      for (const name of s.reached.filter((r) => r === 'gateway' || r === s.service)) {
        const span = serverOf(s, name);
        assert.equal(span?.attributes['http.response.status_code'], s.status, `${s.name} ${s.via} ${name}`);
      }
      if (s.reached.includes(s.service)) assert.equal(serverOf(s, s.service)?.attributes['http.route'], s.route, `${s.name} ${s.via}`);
    }
  });

  it('then a 4xx leaves the server spans\' status Unset (the client\'s error) and sets no error.type (semconv http-spans, Status)', () => {
    for (const s of sent.filter((x) => x.status < 500)) {
      for (const span of spansOf(s).filter((x) => x.kind === SERVER)) {
        assert.equal(span.status.code, UNSET, `${s.name} ${s.via}: ${span.service} ${span.name} has status ${span.status.code} ${span.status.message}`);
        assert.equal(span.attributes['error.type'], undefined, `${s.name} ${s.via}: ${span.service}`);
      }
    }
  });

  it('then a 5xx makes each server span Error with error.type, and the failing service records the exception', () => {
    for (const s of sent.filter((x) => x.status >= 500)) {
      for (const span of spansOf(s).filter((x) => x.kind === SERVER)) {
        assert.equal(span.status.code, ERROR, `${s.name} ${s.via}: ${span.service}`);
        assert.equal(span.attributes['error.type'], String(s.status), `${s.name} ${s.via}: ${span.service} error.type`);
      }
      const failing = serverOf(s, s.reached.includes(s.service) ? s.service : 'gateway');
      assert.ok(failing?.events.some((e) => e.name === 'exception'), `${s.name} ${s.via}: no exception event`);
    }
  });

  it('then every span that ended in Error, client and database spans included, says why in error.type', () => {
    for (const s of sent) {
      for (const span of spansOf(s).filter((x) => x.status.code === ERROR)) {
        assert.ok(typeof span.attributes['error.type'] === 'string' && span.attributes['error.type'] !== '', `${s.name} ${s.via}: ${span.service} ${span.name} is Error without error.type`);
      }
    }
    // A client span whose answer was 400 or more is Error (semconv, HTTP client spans) with that code as its type.
    const httpClient = (span: ReceivedSpan) => span.kind === CLIENT && span.attributes['http.request.method'] !== undefined;
    const refused = sent.find((s) => s.name === 'a 409 (insufficient stock)' && s.via === 'direct');
    assert.ok(refused);
    const reservation = spansOf(refused).find((span) => span.service === 'order' && httpClient(span));
    assert.equal(reservation?.status.code, ERROR, describeSpans(refused));
    assert.equal(reservation.attributes['error.type'], '409');
    // No answer at all: the gateway's call to the killed product service carries the connection's error code.
    const down = sent.find((s) => s.name === 'a 503 (the service down)');
    assert.ok(down);
    const proxied = spansOf(down).filter((span) => span.service === 'gateway' && httpClient(span));
    assert.ok(proxied.length > 0, describeSpans(down));
    for (const span of proxied) assert.match(String(span.attributes['error.type']), /^(ECONNREFUSED|ECONNRESET|UND_ERR_[A-Z_]+)$/, describeSpans(down));
  });

  it('then the order refused for want of stock is recorded as rejected, and the reservation\'s 409 is Unset on the product span too', async () => {
    for (const s of sent.filter((x) => x.name === 'a 409 (insufficient stock)')) {
      const product = serverOf(s, 'product');
      assert.equal(product?.attributes['http.response.status_code'], 409, describeSpans(s));
      assert.equal(product.status.code, UNSET, `${s.via}: product ${product.status.message}`);
      const orderId = String(s.body?.['orderId'] ?? '');
      assert.ok(orderId, JSON.stringify(s.body));
    }
  });

  it('then every span is named in a few words, a 404\'s too: no span named after the whole plugin chain (@fastify/otel\'s name for the not-found handler, which the kit answers before now)', () => {
    for (const s of sent) {
      for (const span of spansOf(s)) assert.ok(span.name.length <= 60 && !span.name.includes(' -> '), `${s.name} ${s.via}: ${span.service} span named ${JSON.stringify(span.name.slice(0, 120))}`);
    }
    assert.ok(sent.some((s) => s.status === 404 && spansOf(s).some((span) => span.service === s.service)), 'a 404 with spans of the service that answered it');
  });

  it('then the service\'s request log line carries the trace id and its server span\'s id', () => {
    for (const s of sent.filter((x) => x.status !== 404 && x.status !== 405 && x.reached.includes(x.service))) {
      const span = serverOf(s, s.service);
      const line = lines.find((l) => l.service === s.service && l.line['msg'] === 'request' && l.line['trace_id'] === s.traceId);
      assert.ok(line, `${s.name} ${s.via}: no request line with trace_id`);
      assert.equal(line.line['span_id'], span?.spanId, `${s.name} ${s.via}`);
    }
  });
});
