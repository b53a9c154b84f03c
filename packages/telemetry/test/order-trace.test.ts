// One order through the whole platform (scripts/stack.js, the services as `npm start` runs them) with
// tracing on: the spans arrive as one tree under the caller's traceparent, across every process; the
// response names the trace, the latency histogram keeps it as an exemplar, and an order left pending (the
// product service down) is settled by a reconciler pass whose span links back to the trace that placed it.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { OtlpReceiver, ReceivedSpan } from '../src/index.js';
import { startTracedStack, type TracedStack } from './traced-stack.js';

const SERVER = 2;
const CLIENT = 3;

describe('one order placed through the gateway, traced', () => {
  let receiver: OtlpReceiver;
  let stack: TracedStack;
  let spans: ReceivedSpan[] = [];
  const caller = { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') };
  /** The caller of the order left pending, and what the reconciler did with it. */
  const pendingCaller = { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') };
  let traceresponse = '';
  let pendingOrderId = '';
  let reconcilerSpans: ReceivedSpan[] = [];
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const email = `trace.${randomUUID()}@example.test`;
  let token = '';

  before(async () => {
    stack = await startTracedStack('trace_test', {
      env: { LOG_LEVEL: 'warn' },
      // A pending order is due 5 s after it is placed, and a reconciler pass looks every 200 ms.
      serviceEnv: { order: { PENDING_DEADLINE_MS: '5000', RECONCILER_INTERVAL_MS: '200' } },
    });
    receiver = stack.receiver;
    const gw = stack.urls.gateway;
    const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(`${gw}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID(), ...headers }, body: JSON.stringify(body) });
      return { status: res.status, headers: res.headers, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
    };
    assert.equal((await post('/user/register', { email, password, name: 'Trace' })).status, 201);
    const login = await post('/user/login', { email, password });
    token = String(login.body?.['accessToken']);
    const page = (await (await fetch(`${gw}/product?limit=2`)).json()) as { items: { id: string }[] };
    const items = page.items.slice(0, 2).map((p) => ({ productId: p.id, quantity: 1 }));
    const placed = await post('/order', { items }, { authorization: `Bearer ${token}`, traceparent: `00-${caller.traceId}-${caller.spanId}-01` });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    traceresponse = placed.headers.get('traceresponse') ?? '';
    const ofOrder = (all: ReceivedSpan[]) => all.filter((s) => s.traceId === caller.traceId);
    spans = ofOrder(
      await receiver.waitFor((all) => {
        const mine = ofOrder(all);
        return mine.some((s) => s.service === 'gateway' && s.kind === SERVER) && mine.some((s) => s.service === 'product' && s.name.startsWith('pg.query'));
      }, 30_000),
    );
    // The last exports of a batch may trail the first by a schedule delay.
    await new Promise((r) => setTimeout(r, 500));
    spans = ofOrder(receiver.spans);

    // The product service stops: the next order is answered 503 and left pending; the product service comes
    // back and a reconciler pass settles the order once it is due.
    const product = stack.children.get('product');
    const gone = new Promise((r) => product?.once('exit', r));
    product?.kill('SIGKILL');
    await gone;
    const pending = await post('/order', { items: items.slice(0, 1) }, { authorization: `Bearer ${token}`, traceparent: `00-${pendingCaller.traceId}-${pendingCaller.spanId}-01` });
    assert.equal(pending.status, 503, JSON.stringify(pending.body));
    pendingOrderId = String(pending.body?.['orderId']);
    await stack.restart('product');
    // The pass that settled it (one that found the product service still down would have written nothing).
    const settled = (all: ReceivedSpan[]) =>
      all.find((s) => s.name === 'settle order' && s.attributes['order.id'] === pendingOrderId && all.some((q) => q.traceId === s.traceId && q.name.startsWith('pg.query:order_transition')));
    const settle = settled(await receiver.waitFor((all) => settled(all) !== undefined, 30_000));
    await new Promise((r) => setTimeout(r, 500));
    reconcilerSpans = receiver.spans.filter((s) => s.traceId === settle?.traceId);
  });

  after(() => stack?.close());

  const server = (service: string) => spans.find((s) => s.service === service && s.kind === SERVER);

  it('then the gateway server span is the one root, under the caller\'s span', () => {
    const gateway = server('gateway');
    assert.ok(gateway, spans.map((s) => `${s.service} ${s.name}`).join('\n'));
    assert.equal(gateway.parentSpanId, caller.spanId);
    const ids = new Set(spans.map((s) => s.spanId));
    const roots = spans.filter((s) => !ids.has(s.parentSpanId));
    assert.deepEqual(roots.map((s) => s.spanId), [gateway.spanId]);
  });

  it('then each server span is the child of the client span that called it: gateway -> order -> product', () => {
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const calledFrom = (service: string) => byId.get(server(service)?.parentSpanId ?? '');
    const toOrder = calledFrom('order');
    assert.equal(toOrder?.kind, CLIENT);
    assert.equal(toOrder?.service, 'gateway');
    const toProduct = calledFrom('product');
    assert.equal(toProduct?.kind, CLIENT);
    assert.equal(toProduct?.service, 'order');
    assert.equal(byId.get(toProduct.parentSpanId)?.spanId, server('order')?.spanId, 'the order service\'s client span is under its server span');
  });

  it('then the server spans name the route templates and the PostgreSQL spans hang under their service', () => {
    assert.equal(server('order')?.attributes['http.route'], '/order');
    assert.match(String(server('product')?.attributes['http.route']), /^\/internal\/reservations/);
    for (const service of ['order', 'product']) {
      const queries = spans.filter((s) => s.service === service && s.name.startsWith('pg.query'));
      assert.ok(queries.length > 0, `${service}: no PostgreSQL span`);
      for (const q of queries) assert.equal(q.attributes['db.system.name'], 'postgresql');
    }
  });

  it('then the response carries the trace id: the caller\'s, and the gateway\'s server span', () => {
    assert.equal(traceresponse, `00-${caller.traceId}-${server('gateway')?.spanId}-01`);
  });

  it('then the order service\'s latency histogram keeps the trace as an exemplar (OpenMetrics only)', async () => {
    const scrape = (accept?: string) => fetch(`${stack.urls.order}/metrics`, { headers: accept ? { accept } : {} });
    const open = await scrape('application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1');
    assert.match(open.headers.get('content-type') ?? '', /^application\/openmetrics-text; version=1\.0\.0/);
    const text = await open.text();
    assert.match(text, /\n# EOF\n$/);
    const exemplar = `# {trace_id="${caller.traceId}",span_id="${server('order')?.spanId}"}`;
    const line = text.split('\n').find((l) => l.startsWith('http_server_request_duration_seconds_bucket{') && l.includes(exemplar));
    assert.ok(line, 'no bucket holds the order\'s exemplar');
    assert.ok(line.includes('http_route="/order"') && line.includes('http_response_status_code="201"'), line);
    const classic = await scrape();
    assert.match(classic.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.ok(!(await classic.text()).includes('# {trace_id='), 'the classic format has no exemplars');
  });

  it('then a reconciler pass is a root span, and its settle span links to the trace that placed the order', () => {
    const names = reconcilerSpans.map((s) => `${s.service} ${s.name}`).join('\n');
    const root = reconcilerSpans.find((s) => s.name === 'reconcile pending orders');
    assert.ok(root, names);
    assert.equal(root.service, 'order');
    assert.equal(root.parentSpanId, '', 'a pass belongs to no request');
    const settle = reconcilerSpans.find((s) => s.name === 'settle order' && s.attributes['order.id'] === pendingOrderId);
    assert.equal(settle?.parentSpanId, root.spanId);
    // The link names the order service's server span of the request that placed it, under that caller's trace.
    const placedBy = receiver.spans.find((s) => s.traceId === pendingCaller.traceId && s.service === 'order' && s.kind === SERVER);
    assert.ok(placedBy, 'the pending order\'s own trace was exported');
    assert.deepEqual(settle.links.map((l) => [l.traceId, l.spanId]), [[pendingCaller.traceId, placedBy.spanId]]);
    // Its calls are traced under it: the product service's reservation and the order's PostgreSQL writes.
    assert.ok(reconcilerSpans.some((s) => s.service === 'product' && s.kind === SERVER), names);
    assert.ok(reconcilerSpans.some((s) => s.service === 'order' && s.name.startsWith('pg.query:order_transition')), names);
  });

  it('then no attribute holds the password, the email or the token', () => {
    const text = JSON.stringify([...spans, ...reconcilerSpans].map((s) => [s.attributes, s.resource, s.events]));
    for (const secret of [password, email, token]) assert.ok(!text.includes(secret));
  });
});
