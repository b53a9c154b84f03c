// When tracing is on, how it exports, and what the instrumentation hooks scrub.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { pathOf } from '@ecommerce/kit';
import { envDetector } from '@opentelemetry/resources';
import { redactedUserAgent, userAgentOf } from '../src/redaction.js';
import { batchProcessorConfig, dropTraceHeaders, resourceAttributesProblem, exporterChoice, instrumentationChoice, redactedUrl, sqlOperationName, tracesUrlOf, tracingDecision } from '../src/index.js';

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

describe('tracesUrlOf (what npm start records in .data/stack.json for npm run monitoring)', () => {
  it('when tracing is on, then it is the URL spans are posted to: the base endpoint with /v1/traces, or the traces endpoint as it is; null when off or on the console', () => {
    assert.equal(tracesUrlOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), 'http://127.0.0.1:4318/v1/traces');
    assert.equal(tracesUrlOf({ OTEL_EXPORTER_OTLP_ENDPOINT: ' http://c:4318/otlp/ ' }), 'http://c:4318/otlp/v1/traces');
    assert.equal(tracesUrlOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://d:4318/t' }), 'http://d:4318/t');
    assert.equal(tracesUrlOf({}), null);
    assert.equal(tracesUrlOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }), null);
    assert.equal(tracesUrlOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }), null);
    assert.equal(tracesUrlOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'console' }), null);
  });
});

describe('exporterChoice', () => {
  it('when the endpoint in use is no http(s) URL, then tracing stays off, refused, naming the variable and at most the scheme, never the value (property)', () => {
    const noUrl = fc.oneof(
      fc.constantFrom('garbage', 'collector:4318', '127.0.0.1:4318', 'http://[::1', 'ftp://127.0.0.1:1', 'grpc://c:4317', 'file:///tmp/x', 'unix:///run/otel.sock', 'http//c:4318'),
      fc.stringMatching(/^[A-Za-z0-9:@%./_-]{1,40}$/).filter((v) => !URL.canParse(v) || !['http:', 'https:'].includes(new URL(v).protocol)),
    );
    fc.assert(
      fc.property(noUrl, fc.boolean(), (value, traces) => {
        const variable = traces ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
        const decision = tracingDecision({ [variable]: value, ...(traces ? { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' } : {}) });
        assert.equal(decision.enabled, false);
        assert.equal(decision.refused, true);
        assert.ok(decision.reason.startsWith(`${variable} is not an http:// or https:// URL`), decision.reason);
        if (value.trim().length > 6) assert.ok(!decision.reason.includes(value.trim()), decision.reason);
      }),
    );
    // http and https in any case, with credentials, a path or none: on. The console exporter needs no endpoint.
    for (const ok of ['HTTP://c:4318', 'https://u:p@c/otlp', 'http://[::1]:4318/v1/traces']) assert.equal(tracingDecision({ OTEL_EXPORTER_OTLP_ENDPOINT: ok }).enabled, true, ok);
    assert.equal(tracingDecision({ OTEL_EXPORTER_OTLP_ENDPOINT: 'garbage', OTEL_TRACES_EXPORTER: 'console' }).enabled, true);
  });
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
  // OpenTelemetry's environment variable specification: enum values SHOULD be read case-insensitively. Before,
  // OTEL_TRACES_EXPORTER=OTLP or OTEL_EXPORTER_OTLP_PROTOCOL=HTTP/JSON left tracing off as "not supported", and
  // OTEL_TRACES_EXPORTER=None was no "none".
  it('for any letter case of a supported exporter, protocol or none, then the choice is the lowercase value\'s', () => {
    const anyCase = (value: string) => fc.array(fc.boolean(), { minLength: value.length, maxLength: value.length }).map((upper) => [...value].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''));
    fc.assert(
      fc.property(fc.constantFrom('otlp', 'console', 'none'), fc.constantFrom('http/protobuf', 'http/json'), fc.boolean(), (exporter, protocol, tracesSpecific) =>
        fc.assert(
          fc.property(anyCase(exporter), anyCase(protocol), (e, p) => {
            const variable = tracesSpecific ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
            const lower = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: exporter, [variable]: protocol };
            const given = { ...lower, OTEL_TRACES_EXPORTER: e, [variable]: p };
            assert.deepEqual(tracingDecision(given), tracingDecision(lower), `${e} ${p}`);
            if (exporter !== 'none') assert.deepEqual(exporterChoice(given), exporterChoice(lower), `${e} ${p}`);
          }),
          { numRuns: 20 },
        ),
      ),
      { numRuns: 30 },
    );
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
  it('redacts a query key that is no name, and a path segment that is neither a name, a UUID nor a number', () => {
    assert.deepEqual(redactedUrl(new URL('http://h/user/a1b2c3/x@y.z/42/5f0c7e6d-3b2a-4c19-8d7e-0123456789ab/.well-known/jwks.json?eyJhbGciOiJIUzI1NiJ9=&limit=1&a%40b.c')), {
      full: 'http://h/user/REDACTED/REDACTED/42/5f0c7e6d-3b2a-4c19-8d7e-0123456789ab/.well-known/jwks.json?REDACTED=REDACTED&limit=REDACTED&REDACTED=REDACTED',
      query: '?REDACTED=REDACTED&limit=REDACTED&REDACTED=REDACTED',
    });
  });
  it('keeps at most 16 query parameters, then `&...`, each as before: a query of thousands of keys makes a url.full and url.query of bounded size (property)', () => {
    const key = fc.oneof(fc.stringMatching(/^[A-Za-z][A-Za-z_-]{0,31}$/), fc.string({ maxLength: 40 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.string({ maxLength: 20 })), { maxLength: 300, size: 'max' }), (pairs) => {
        const url = new URL('http://h:1/product');
        for (const [k, v] of pairs) url.searchParams.append(k, v);
        const { full, query } = redactedUrl(url);
        const expected = pairs.slice(0, 16).map(([k]) => `${/^[A-Za-z][A-Za-z_-]{0,31}$/.test(k) ? k : 'REDACTED'}=REDACTED`);
        if (pairs.length > 16) expected.push('...');
        // 16 keys of at most 32 characters, each `=REDACTED`, and `&...`: whatever the client sent.
        assert.ok(query.length <= 1 + 16 * 42 + 4, `${pairs.length} parameters: a url.query of ${query.length} characters`);
        assert.equal(query, expected.length === 0 ? '' : `?${expected.join('&')}`);
        assert.equal(full, `http://h:1/product${query}`);
      }),
      { numRuns: 300 },
    );
    // The shape a client sends to make the most of it: 6,000 one-letter keys in 12 KB.
    const many = redactedUrl(new URL(`http://h/product?${'a&'.repeat(6000)}`));
    assert.ok(many.full.length + many.query.length < 1_000, `url.full and url.query: ${many.full.length + many.query.length} characters`);
    assert.equal(many.query, `?${'a=REDACTED&'.repeat(16)}...`);
  });
  it('drops hand-made trace headers from an undici header list, whatever their case', () => {
    const headers = ['accept', 'application/json', 'Traceparent', '00-x', 'authorization', 'Bearer t', 'tracestate', 'a=b'];
    dropTraceHeaders(headers);
    assert.deepEqual(headers, ['accept', 'application/json', 'authorization', 'Bearer t']);
    dropTraceHeaders('accept: x\r\n'); // undici 5's string form is left alone
  });
  it('keeps a User-Agent\'s product names and versions only: no comment, no other token, at most 8', () => {
    assert.equal(redactedUserAgent('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'), 'Mozilla/5.0 AppleWebKit/537.36 Chrome/120.0.0.0 Safari/537.36');
    assert.equal(redactedUserAgent('Bot/1.0 (+mailto:a@b.test) key/abc123 a@b.test'), 'Bot/1.0 REDACTED REDACTED');
    assert.equal(redactedUserAgent('undici'), 'undici');
    assert.equal(redactedUserAgent('a '.repeat(20)), `${'a '.repeat(8)}...`);
    assert.equal(redactedUserAgent('x (unclosed a@b.test'), 'x');
    assert.equal(redactedUserAgent('(a@b.test)'), 'REDACTED');
    assert.equal(userAgentOf(['accept', 'x', 'User-Agent', 'one', 'user-agent', 'two']), 'two');
    assert.equal(userAgentOf('accept: x\r\nuser-agent: curl/8\r\n'), 'curl/8');
    assert.equal(userAgentOf(['accept', 'x']), undefined);
    fc.assert(
      fc.property(fc.string(), fc.emailAddress(), fc.string(), (before, email, after) => {
        const out = redactedUserAgent(`${before} ${email} ${after}`);
        assert.ok(!out.includes('@'), out);
        for (const token of out.split(' ')) assert.match(token, /^(REDACTED|\.\.\.|[A-Za-z][A-Za-z._-]{0,31}(\/\d[\d.]{0,15})?)$/);
      }),
    );
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

describe('batchProcessorConfig (OTEL_BSP_*)', () => {
  const variables = ['OTEL_BSP_SCHEDULE_DELAY', 'OTEL_BSP_EXPORT_TIMEOUT', 'OTEL_BSP_MAX_QUEUE_SIZE', 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE'] as const;
  it('when unset or blank, then the specification\'s defaults, and nothing said', () => {
    const said: string[] = [];
    assert.deepEqual(batchProcessorConfig({ OTEL_BSP_SCHEDULE_DELAY: ' ' }, (m) => said.push(m)), { scheduledDelayMillis: 5000, exportTimeoutMillis: 30000, maxQueueSize: 2048, maxExportBatchSize: 512 });
    assert.deepEqual(said, []);
  });
  it('when valid, then taken as they are', () => {
    const said: string[] = [];
    assert.deepEqual(batchProcessorConfig({ OTEL_BSP_SCHEDULE_DELAY: '0', OTEL_BSP_EXPORT_TIMEOUT: ' 100 ', OTEL_BSP_MAX_QUEUE_SIZE: '1', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '1' }, (m) => said.push(m)), { scheduledDelayMillis: 0, exportTimeoutMillis: 100, maxQueueSize: 1, maxExportBatchSize: 1 });
    assert.deepEqual(said, []);
  });
  it('when a batch is larger than the queue, then it is cut to the queue, and that is said', () => {
    const said: string[] = [];
    assert.equal(batchProcessorConfig({ OTEL_BSP_MAX_QUEUE_SIZE: '10', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '100' }, (m) => said.push(m)).maxExportBatchSize, 10);
    assert.equal(said.length, 1);
  });
  it('when the export timeout is 0, then it is said and the default used: the SDK timed every export out as it began, each said as failed', () => {
    const said: string[] = [];
    assert.equal(batchProcessorConfig({ OTEL_BSP_EXPORT_TIMEOUT: '0' }, (m) => said.push(m)).exportTimeoutMillis, 30000);
    assert.equal(said.length, 1);
    assert.match(said[0]!, /^OTEL_BSP_EXPORT_TIMEOUT="0"/);
  });
  it('when only the queue is set, smaller than the default batch, then the batch is cut to it and nothing is said: every value is valid (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 511 }), fc.constantFrom(undefined, '', ' '), (queue, batch) => {
        const said: string[] = [];
        const env = { OTEL_BSP_MAX_QUEUE_SIZE: String(queue), ...(batch === undefined ? {} : { OTEL_BSP_MAX_EXPORT_BATCH_SIZE: batch }) };
        const config = batchProcessorConfig(env, (m) => said.push(m));
        assert.equal(config.maxQueueSize, queue);
        assert.equal(config.maxExportBatchSize, queue);
        assert.deepEqual(said, []);
      }),
    );
  });
  it('whatever the values, then every setting is one the SDK can run with, and each refused value is said naming its variable', () => {
    const value = fc.oneof(fc.string(), fc.integer().map(String), fc.double().map(String), fc.constantFrom('0', '-1', '1e12', 'Infinity', 'NaN', '0x10', '1.5', '2147483648', ' 7 '));
    fc.assert(
      fc.property(fc.record(Object.fromEntries(variables.map((v) => [v, value])) as Record<(typeof variables)[number], fc.Arbitrary<string>>, { requiredKeys: [] }), (env) => {
        const said: string[] = [];
        const config = batchProcessorConfig(env, (m) => said.push(m));
        for (const [name, least] of [['scheduledDelayMillis', 0], ['exportTimeoutMillis', 1], ['maxQueueSize', 1], ['maxExportBatchSize', 1]] as const) {
          assert.ok(Number.isInteger(config[name]) && config[name] >= least && config[name] <= 2 ** 31 - 1, `${name}=${config[name]}`);
        }
        assert.ok(config.maxExportBatchSize <= config.maxQueueSize);
        for (const variable of variables) {
          const raw = env[variable]?.trim();
          const valid = !raw || (/^\d+$/.test(raw) && Number(raw) <= 2 ** 31 - 1 && (Number(raw) >= 1 || variable === 'OTEL_BSP_SCHEDULE_DELAY'));
          if (!valid) assert.ok(said.some((m) => m.startsWith(`${variable}=`)), `${variable}=${JSON.stringify(raw)} not said: ${said.join('; ')}`);
        }
      }),
    );
  });
});

describe('resourceAttributesProblem (OTEL_RESOURCE_ATTRIBUTES)', () => {
  // The SDK's own parser (private: the detector swallows its error), to compare with.
  const sdkParse = (raw: string) => (envDetector as unknown as { _parseResourceAttributes(raw: string): Record<string, string> })._parseResourceAttributes(raw);
  it('names the entry the SDK refuses, and takes what it takes', () => {
    assert.equal(resourceAttributesProblem(undefined), undefined);
    assert.equal(resourceAttributesProblem('a=b%2Cc, d = e ,,'), undefined);
    assert.match(resourceAttributesProblem('a=b,c=%ZZ') ?? '', /^entry 2 is not valid percent-encoding/);
    assert.match(resourceAttributesProblem('a=b=c') ?? '', /^entry 1 is not one key=value/);
    assert.match(resourceAttributesProblem('=x') ?? '', /^entry 1 has an empty key/);
    assert.match(resourceAttributesProblem(`a=${'v'.repeat(256)}`) ?? '', /over 255/);
  });
  it('whatever the value, then it finds a problem exactly when the SDK would throw the whole value away', () => {
    const piece = fc.oneof(fc.constantFrom('=', ',', '%', '%2C', '%ZZ', ' ', 'a', 'k.v', '%E0%A4%A'), fc.string({ maxLength: 4 }), fc.constant('x'.repeat(256)));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }).map((p) => p.join('')), (raw) => {
        let sdkThrows = false;
        try {
          sdkParse(raw);
        } catch {
          sdkThrows = true;
        }
        assert.equal(resourceAttributesProblem(raw) !== undefined, sdkThrows && raw.trim() !== '', JSON.stringify(raw));
      }),
      { numRuns: 2000 },
    );
  });
});
