// One order through the whole platform (scripts/stack.js, the services as `npm start` runs them) with
// tracing on: the spans arrive as one tree under the caller's traceparent, across every process.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../src/index.js';

interface Stack {
  urls: Record<'user' | 'product' | 'order' | 'gateway', string>;
  stop(): Promise<void>;
}
const repoRoot = join(import.meta.dirname, '..', '..', '..', '..');
const SERVER = 2;
const CLIENT = 3;

describe('one order placed through the gateway, traced', () => {
  let receiver: OtlpReceiver;
  let stack: Stack;
  let spans: ReceivedSpan[] = [];
  const caller = { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') };
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const email = `trace.${randomUUID()}@example.test`;
  let token = '';
  // Its own database on a shared server (DATABASE_URL), its own data folder.
  const database = process.env.DATABASE_URL ? `trace_test_${process.pid}` : undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'trace-test-'));

  before(async () => {
    receiver = await startOtlpReceiver({ port: 0, keepSpans: true });
    const { startStack } = (await import(pathToFileURL(join(repoRoot, 'scripts', 'stack.js')).href)) as { startStack(opts: object): Promise<Stack> };
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
    // An embedded PostgreSQL runs as the `postgres` system user when we are root: it must reach its folder.
    chmodSync(dataDir, 0o755);
    stack = await startStack({
      env: { ...clean, ...(database ? { DATABASE_NAME: database } : {}), OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100', LOG_LEVEL: 'warn' },
      dataDir,
      freePorts: true,
    });
    const gw = stack.urls.gateway;
    const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(`${gw}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID(), ...headers }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
    };
    assert.equal((await post('/user/register', { email, password, name: 'Trace' })).status, 201);
    const login = await post('/user/login', { email, password });
    token = String(login.body?.['accessToken']);
    const page = (await (await fetch(`${gw}/product?limit=2`)).json()) as { items: { id: string }[] };
    const items = page.items.slice(0, 2).map((p) => ({ productId: p.id, quantity: 1 }));
    const placed = await post('/order', { items }, { authorization: `Bearer ${token}`, traceparent: `00-${caller.traceId}-${caller.spanId}-01` });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
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
  });

  after(async () => {
    await stack?.stop();
    await receiver?.close();
    if (database && process.env.DATABASE_URL) {
      const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
      await admin.end();
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

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

  it('then no attribute holds the password, the email or the token', () => {
    const text = JSON.stringify(spans.map((s) => [s.attributes, s.resource, s.events]));
    for (const secret of [password, email, token]) assert.ok(!text.includes(secret));
  });
});
