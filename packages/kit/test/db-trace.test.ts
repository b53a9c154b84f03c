// With tracing on, a request that waited for a pooled database connection says so on its span (an event), in
// place of the pool-connect span per query that the pg instrumentation no longer makes; without a wait, nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { createTestDatabase, type TestDatabase } from '@ecommerce/test-support';
import { Database, Metrics } from '../src/index.js';

let testDb: TestDatabase;
let db: Database;
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('db-trace-test');

before(async () => {
  provider.register();
  testDb = await createTestDatabase();
  db = new Database({ url: testDb.urls.product, schema: 'catalog', poolMax: 1, applicationName: 'db-trace-test', metrics: new Metrics('t', '0', { defaultMetrics: false }) });
});
after(async () => {
  await db?.close();
  await testDb?.drop();
  await provider.shutdown();
});

/** Runs a query inside an active span named `name` and returns that span once ended. */
async function tracedQuery(name: string) {
  await tracer.startActiveSpan(name, async (span) => {
    await db.query('db_trace_ping', 'SELECT 1');
    span.end();
  });
  const span = exporter.getFinishedSpans().find((s) => s.name === name);
  assert.ok(span, `span ${name} was exported`);
  return span;
}

describe('pool waits on the trace', () => {
  it('when the only connection is free, then the span has no wait event', async () => {
    await db.ping(); // the pool's one connection is open and idle
    const span = await tracedQuery('no-wait');
    assert.deepEqual(span.events, []);
  });

  it('when the only connection is held for 60 ms, then the waiting request span has a db.client.connection.wait event of about that long', async () => {
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const holder = db.tx(async () => {
      holding();
      await sleep(60);
    });
    await held;
    const span = await tracedQuery('waited');
    await holder;
    const event = span.events.find((e) => e.name === 'db.client.connection.wait');
    assert.ok(event, `events: ${JSON.stringify(span.events)}`);
    const waited = Number(event.attributes?.['db.client.connection.wait_ms']);
    assert.ok(waited >= 40 && waited < 5_000, `waited ${waited} ms`);
  });
});
