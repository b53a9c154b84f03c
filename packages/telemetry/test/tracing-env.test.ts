// When tracing is on, how it exports, and what the instrumentation hooks scrub.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dropTraceHeaders, exporterChoice, instrumentationChoice, pathOf, redactedUrl, sqlOperationName, tracingDecision } from '../src/index.js';

describe('tracingDecision', () => {
  it('is off without an endpoint, with OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none', () => {
    assert.equal(tracingDecision({}).enabled, false);
    assert.equal(tracingDecision({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' }).enabled, false);
    assert.equal(tracingDecision({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'TRUE' }).enabled, false);
    assert.equal(tracingDecision({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }).enabled, false);
  });
  it('is on with either endpoint variable', () => {
    assert.deepEqual(tracingDecision({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }), { enabled: true, reason: 'http://c:4318' });
    assert.deepEqual(tracingDecision({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces', OTEL_SDK_DISABLED: 'false' }).enabled, true);
  });
});

describe('exporterChoice', () => {
  it('takes http/protobuf by default, http/json when asked, the traces-specific variable first', () => {
    assert.deepEqual(exporterChoice({}), { protocol: 'http/protobuf' });
    assert.deepEqual(exporterChoice({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }), { protocol: 'http/json' });
    assert.deepEqual(exporterChoice({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }), { protocol: 'http/protobuf' });
    assert.deepEqual(exporterChoice({ OTEL_TRACES_EXPORTER: 'console' }), { protocol: 'console' });
  });
  // The SDK reads an empty or blank variable as unset (OpenTelemetry's environment variable specification; core's
  // getStringFromEnv): an empty traces-specific protocol falls back to the general one, then to the default.
  it('when a protocol variable is empty or blank, then it counts as unset', () => {
    assert.deepEqual(exporterChoice({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: '', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }), { protocol: 'http/json' });
    assert.deepEqual(exporterChoice({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: ' ', OTEL_EXPORTER_OTLP_PROTOCOL: '' }), { protocol: 'http/protobuf' });
    assert.deepEqual(exporterChoice({ OTEL_EXPORTER_OTLP_PROTOCOL: '' }), { protocol: 'http/protobuf' });
  });
  it('refuses gRPC and unknown exporters, saying which', () => {
    assert.match((exporterChoice({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }) as { unsupported: string }).unsupported, /grpc/);
    assert.match((exporterChoice({ OTEL_TRACES_EXPORTER: 'zipkin' }) as { unsupported: string }).unsupported, /zipkin/);
  });
});

describe('redaction', () => {
  it('keeps query keys, drops their values and any user info', () => {
    assert.deepEqual(redactedUrl(new URL('http://u:pw@h:1/p?token=abc&email=a%40b.c&a=1&a=2')), {
      full: 'http://h:1/p?token=REDACTED&email=REDACTED&a=REDACTED&a=REDACTED',
      query: '?token=REDACTED&email=REDACTED&a=REDACTED&a=REDACTED',
    });
    assert.deepEqual(redactedUrl(new URL('http://h/p')), { full: 'http://h/p', query: '' });
    assert.equal(pathOf('/a/b?x=1'), '/a/b');
    assert.equal(pathOf('/a/b'), '/a/b');
  });
  it('drops hand-made trace headers from an undici header list, whatever their case', () => {
    const headers = ['accept', 'application/json', 'Traceparent', '00-x', 'authorization', 'Bearer t', 'tracestate', 'a=b'];
    dropTraceHeaders(headers);
    assert.deepEqual(headers, ['accept', 'application/json', 'authorization', 'Bearer t']);
    dropTraceHeaders('accept: x\r\n'); // undici 5's string form is left alone
  });
  it('names the SQL operation by its first keyword', () => {
    assert.equal(sqlOperationName('  select 1'), 'SELECT');
    assert.equal(sqlOperationName('WITH x AS (SELECT 1) UPDATE t SET a = 1'), 'WITH');
    assert.equal(sqlOperationName('$1'), 'UNKNOWN');
  });
});

describe('which instrumentations load (OTEL_NODE_ENABLED_INSTRUMENTATIONS / OTEL_NODE_DISABLED_INSTRUMENTATIONS)', () => {
  it('when neither is set, then all four', () => {
    assert.deepEqual([...instrumentationChoice({})], ['fastify', 'undici', 'pg', 'pino']);
  });
  it('when some are enabled, then only those; unknown names are ignored', () => {
    assert.deepEqual([...instrumentationChoice({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: ' pg, fastify ,http' })], ['fastify', 'pg']);
  });
  it('when some are disabled, then the rest; disabling applies after enabling', () => {
    assert.deepEqual([...instrumentationChoice({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pino,undici' })], ['fastify', 'pg']);
    assert.deepEqual([...instrumentationChoice({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'pg,undici', OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'undici' })], ['pg']);
    assert.deepEqual([...instrumentationChoice({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'fastify,undici,pg,pino' })], []);
  });
});
