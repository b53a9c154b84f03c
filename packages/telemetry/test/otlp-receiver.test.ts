// The OTLP receiver against the SDK's own exporters (in this process), and the waterfall it prints.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { formatWaterfall, startOtlpReceiver, type FinishedTrace, type ReceivedSpan } from '../src/index.js';

/** Records one small trace (a server span, a client child, a linked root elsewhere) and exports it. */
async function exportSample(url: string, exporter: 'protobuf' | 'json', compression: 'gzip' | 'none' = 'none') {
  const options = { url: `${url}/v1/traces`, compression } as ConstructorParameters<typeof ProtobufExporter>[0];
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'sample', 'service.version': '1.2.3' }),
    spanProcessors: [new SimpleSpanProcessor(exporter === 'json' ? new JsonExporter(options) : new ProtobufExporter(options))],
  });
  const tracer = provider.getTracer('receiver-test');
  const server = tracer.startSpan('GET /things/:id', { kind: SpanKind.SERVER, attributes: { 'http.route': '/things/:id', 'http.response.status_code': 200, cached: false, ratio: 0.5, tags: ['a', 'b'] } });
  const client = tracer.startSpan('pg.query:thing-by-id', { kind: SpanKind.CLIENT, attributes: { 'db.postgresql.plan': 'thing-by-id' } }, trace.setSpan(context.active(), server));
  client.addEvent('retry', { attempt: 2 });
  client.setStatus({ code: SpanStatusCode.ERROR, message: 'timeout' });
  client.end();
  server.end();
  const linked = tracer.startSpan('reconcile', { root: true, links: [{ context: server.spanContext(), attributes: { reason: 'settle' } }] });
  linked.end();
  await provider.forceFlush();
  await provider.shutdown();
  return { server: server.spanContext(), client: client.spanContext(), linked: linked.spanContext() };
}

describe('the OTLP receiver', () => {
  for (const [exporter, compression] of [
    ['protobuf', 'none'],
    ['json', 'none'],
    ['protobuf', 'gzip'],
  ] as const) {
    it(`when the SDK exports ${exporter} (${compression}), then every field arrives as sent`, async () => {
      const receiver = await startOtlpReceiver({ port: 0, keepSpans: true });
      try {
        const sent = await exportSample(receiver.url, exporter, compression);
        const spans = await receiver.waitFor((all) => all.length === 3);
        const byId = (id: string) => spans.find((s) => s.spanId === id) as ReceivedSpan;
        const server = byId(sent.server.spanId);
        const client = byId(sent.client.spanId);
        const linked = byId(sent.linked.spanId);
        assert.equal(server.traceId, sent.server.traceId);
        assert.equal(server.parentSpanId, '');
        assert.equal(server.kind, 2);
        assert.equal(server.service, 'sample');
        assert.equal(server.resource['service.version'], '1.2.3');
        assert.deepEqual(
          { route: server.attributes['http.route'], status: server.attributes['http.response.status_code'], cached: server.attributes.cached, ratio: server.attributes.ratio, tags: server.attributes.tags },
          { route: '/things/:id', status: 200, cached: false, ratio: 0.5, tags: ['a', 'b'] },
        );
        assert.ok(server.endNs >= server.startNs && server.startNs > 1_600_000_000_000_000_000n);
        assert.equal(client.parentSpanId, server.spanId);
        assert.equal(client.kind, 3);
        assert.deepEqual(client.status, { code: 2, message: 'timeout' });
        assert.deepEqual(client.events, [{ name: 'retry', attributes: { attempt: 2 } }]);
        assert.equal(client.scope, 'receiver-test');
        assert.deepEqual(linked.links, [{ traceId: sent.server.traceId, spanId: sent.server.spanId, attributes: { reason: 'settle' } }]);
        assert.equal(exporter === 'json' ? receiver.stats.requests.json : receiver.stats.requests.protobuf, 3);
      } finally {
        await receiver.close();
      }
    });
  }

  it('when a trace has its root and goes quiet, then it is handed on once, whole', async () => {
    const traces: FinishedTrace[] = [];
    const receiver = await startOtlpReceiver({ port: 0, quietMs: 100, onTrace: (t) => traces.push(t) });
    try {
      const sent = await exportSample(receiver.url, 'protobuf');
      const deadline = Date.now() + 5000;
      while (traces.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const first = traces.find((t) => t.traceId === sent.server.traceId);
      assert.equal(first?.spans.length, 2);
      assert.equal(first?.complete, true);
      assert.equal(traces.length, 2);
      assert.equal(receiver.spans.length, 0, 'spans are not kept without keepSpans');
    } finally {
      await receiver.close();
    }
  });

  it('when the wall clock steps back an hour after a trace arrived, then it is still handed on once quiet, not an hour later', async () => {
    const traces: FinishedTrace[] = [];
    const receiver = await startOtlpReceiver({ port: 0, quietMs: 100, onTrace: (t) => traces.push(t) });
    const realNow = Date.now;
    try {
      await exportSample(receiver.url, 'protobuf');
      Date.now = () => realNow() - 3_600_000; // Date.now stepped in-process: NTP, a resumed VM
      const started = performance.now();
      while (traces.length < 2 && performance.now() - started < 2000) await new Promise((r) => setTimeout(r, 50));
      assert.equal(traces.length, 2, `${traces.length} of 2 traces handed on 2 s after going quiet (quietMs 100)`);
    } finally {
      Date.now = realNow;
      await receiver.close();
    }
  });

  it('when it only counts, then spans and traces are counted as a full read counts them, in both protocols, and none is kept', async () => {
    const counting = await startOtlpReceiver({ port: 0, quietMs: 100, countOnly: true });
    const reading = await startOtlpReceiver({ port: 0, quietMs: 100, onTrace: () => undefined });
    try {
      for (const receiver of [counting, reading]) {
        await exportSample(receiver.url, 'protobuf');
        await exportSample(receiver.url, 'protobuf', 'gzip');
        await exportSample(receiver.url, 'json');
      }
      const deadline = Date.now() + 5000;
      while ((counting.stats.traces < 6 || reading.stats.traces < 6) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(counting.stats, reading.stats);
      // SimpleSpanProcessor: one export request per span.
      assert.deepEqual(counting.stats, { requests: { protobuf: 6, json: 3, rejected: 0 }, spans: 9, traces: 6 });
      assert.equal(counting.spans.length, 0);
      await assert.rejects(startOtlpReceiver({ port: 0, countOnly: true, keepSpans: true }), /countOnly keeps no span/);
    } finally {
      await counting.close();
      await reading.close();
    }
  });

  it('when the request is not an OTLP trace export, then it is refused', async () => {
    const receiver = await startOtlpReceiver({ port: 0 });
    try {
      assert.equal((await fetch(`${receiver.url}/v1/metrics`, { method: 'POST', body: '{}' })).status, 404);
      assert.equal((await fetch(`${receiver.url}/v1/traces`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } })).status, 415);
      assert.equal((await fetch(`${receiver.url}/v1/traces`, { method: 'POST', body: '{', headers: { 'content-type': 'application/json' } })).status, 400);
      assert.equal((await fetch(`${receiver.url}/v1/traces`, { method: 'POST', body: Buffer.from([0xff, 0xff]), headers: { 'content-type': 'application/x-protobuf' } })).status, 400);
      assert.equal(receiver.stats.requests.rejected, 4);
    } finally {
      await receiver.close();
    }
  });

  it('when a gzipped body grows past the body limit (16 MB) once decompressed, then it is refused 413 without being decompressed whole, and the receiver serves on', async () => {
    const receiver = await startOtlpReceiver({ port: 0 });
    // 64 KB on the wire: 64 MB of zeros (a 1 MB one grew to 1 GB and held the event loop for 40 s).
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    try {
      for (const contentType of ['application/x-protobuf', 'application/json']) {
        const res = await fetch(`${receiver.url}/v1/traces`, { method: 'POST', body: bomb, headers: { 'content-type': contentType, 'content-encoding': 'gzip' } });
        assert.equal(res.status, 413, contentType);
        assert.match(await res.text(), /too large once decompressed/);
      }
      assert.equal((await fetch(`${receiver.url}/v1/metrics`, { method: 'POST', body: '{}' })).status, 404);
      assert.equal(receiver.stats.requests.rejected, 3);
    } finally {
      await receiver.close();
    }
  });
});

describe('the waterfall', () => {
  const span = (id: string, parent: string, service: string, name: string, startMs: number, endMs: number, attributes: ReceivedSpan['attributes'] = {}): ReceivedSpan => ({
    traceId: 't',
    spanId: id,
    parentSpanId: parent,
    name,
    kind: name.startsWith('pg') ? 3 : 2,
    startNs: BigInt(startMs * 1e6) + 1_700_000_000_000_000_000n,
    endNs: BigInt(endMs * 1e6) + 1_700_000_000_000_000_000n,
    attributes,
    links: [],
    events: [],
    status: { code: 0, message: '' },
    service,
    resource: {},
    scope: '',
  });

  it('prints each span under its parent with service, offset and duration, children in start order', () => {
    const text = formatWaterfall('abc', [
      span('c', 'b', 'order', 'pg.query:insert-order', 30, 40, { 'db.postgresql.plan': 'insert-order' }),
      span('a', '', 'gateway', 'POST /order/*', 0, 100, { 'http.response.status_code': 201 }),
      span('d', 'b', 'order', 'pg.query:find-order', 5, 10),
      span('b', 'a', 'order', 'POST /order', 2, 98),
    ]);
    const lines = text.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^trace abc {2}100\.0 ms {2}4 spans {2}2 services \(order, gateway\)$/);
    assert.match(lines[2] ?? '', /^ +0\.0 ms +100\.0 ms {2}\|=+\| {2}gateway {2}POST \/order\/\* {2}\(server\) 201$/);
    assert.match(lines[3] ?? '', / +2\.0 ms +96\.0 ms .*\| {2}order {6}POST \/order {2}\(server\)$/);
    assert.match(lines[4] ?? '', / +5\.0 ms +5\.0 ms .*order {8}pg\.query:find-order/);
    assert.match(lines[5] ?? '', /30\.0 ms +10\.0 ms .*order {8}pg\.query:insert-order {2}\(client\) statement insert-order$/);
  });

  it('when a trace has one span or one service, then its header says "1 span" and "1 service", not "1 spans" and "1 services"', () => {
    // Every reconciler pass (every 2 s in traces.log) was headed "2 spans  1 services (order)".
    const header = (spans: ReceivedSpan[]) => formatWaterfall('t', spans).split('\n')[0];
    assert.equal(header([span('a', '', 'order', 'reconcile pending orders', 0, 2), span('b', 'a', 'order', 'pg.query:order_claim_overdue ecommerce', 1, 2)]), 'trace t  2.0 ms  2 spans  1 service (order)');
    assert.equal(header([span('a', '', 'gateway', 'GET /order/*', 0, 3)]), 'trace t  3.0 ms  1 span  1 service (gateway)');
  });

  it("when docs/tracing.md gives the command that shows the orders only, then run on a traces.log it prints each order's whole trace and nothing else", () => {
    // It said `grep -A16 'gateway  POST /order' .data/monitoring/traces.log`: 16 lines after each match, whatever the
    // trace's length (an order after the first, its JWKS cached, has 12 spans), so the lines of the traces written next
    // came along (a reconciler pass, a GET /order/:id) and each order's own header line (trace id, spans) did not.
    const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'docs', 'tracing.md'), 'utf8').replace(/\n/g, ' ');
    const said = /; `([^`]*\.data\/monitoring\/traces\.log)` shows the orders only/.exec(doc);
    assert.ok(said, 'docs/tracing.md no longer says "`<command> .data/monitoring/traces.log` shows the orders only"');
    const of = (traceId: string, spans: ReceivedSpan[]) => formatWaterfall(traceId, spans.map((one) => ({ ...one, traceId })));
    const order = (traceId: string, db: number) =>
      of(traceId, [
        span('a', '', 'gateway', 'POST /order', 0, 100, { 'http.response.status_code': 201 }),
        span('b', 'a', 'gateway', 'POST', 1, 99, { 'http.response.status_code': 201 }),
        span('c', 'b', 'order', 'POST /order', 2, 98, { 'http.response.status_code': 201 }),
        ...Array.from({ length: db }, (_, i) => span(`d${i}`, 'c', 'order', `pg.query:q${i} ecommerce`, 10 + i, 11 + i, { 'db.postgresql.plan': `q${i}` })),
      ]);
    const others = [
      of('r1', [span('a', '', 'order', 'reconcile pending orders', 0, 2), span('b', 'a', 'order', 'pg.query:order_claim_overdue ecommerce', 1, 2)]),
      of('g1', [span('a', '', 'gateway', 'GET /order/*', 0, 5, { 'http.response.status_code': 200 }), span('b', 'a', 'order', 'GET /order/:id', 1, 4, { 'http.response.status_code': 200 })]),
      of('c1', [span('a', '', 'gateway', 'POST /order/*', 0, 9, { 'http.response.status_code': 200 }), span('b', 'a', 'order', 'POST /order/:id/cancel', 1, 8, { 'http.response.status_code': 200 })]),
    ];
    const [first, second] = [order('o1', 13), order('o2', 9)];
    // As scripts/monitoring.js appends them: each waterfall, then a blank line.
    const log = [others[0], first, others[1], second, others[2], others[0]].map((text) => `${text}\n`).join('');
    const dir = mkdtempSync(join(tmpdir(), 'traces-log-'));
    try {
      writeFileSync(join(dir, 'traces.log'), log);
      const shown = execFileSync('bash', ['-c', said[1]!.replace('.data/monitoring/traces.log', 'traces.log')], { cwd: dir, encoding: 'utf8' });
      assert.equal(shown.trim(), `${first}\n${second}`.trim());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
