// error.type on the spans that end in Error, through a real tracer provider (the processor runs as the SDK ends a
// span, before the batch sees it), for the failures the services' instrumentations record.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import fc from 'fast-check';
import { ErrorTypeSpanProcessor } from '../src/span-error-type.js';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new ErrorTypeSpanProcessor(), new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');

/** Ends a span prepared by `prepare` and returns the error.type it was exported with. */
function ended(prepare: (span: Span) => void, kind = SpanKind.CLIENT): unknown {
  exporter.reset();
  const span = tracer.startSpan('s', { kind });
  prepare(span);
  span.end();
  const [exported] = exporter.getFinishedSpans();
  return exported?.attributes['error.type'];
}

describe('error.type on spans that end in Error', () => {
  after(() => provider.shutdown());

  it('is the status code of an HTTP answer of 400 or more that made the span Error (undici sets none)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 599 }), (status) => {
        const type = ended((span) => {
          span.setAttribute('http.response.status_code', status);
          span.setStatus({ code: SpanStatusCode.ERROR });
        });
        assert.equal(type, String(status));
      }),
    );
  });

  it('is the recorded error\'s code for a request that got no answer (undici: a refused connection, a timeout)', () => {
    for (const code of ['ECONNREFUSED', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_SOCKET']) {
      const error = Object.assign(new Error(`connect failed (${code})`), { code });
      assert.equal(ended((span) => { span.recordException(error); span.setStatus({ code: SpanStatusCode.ERROR, message: error.message }); }), code);
    }
    assert.equal(ended((span) => { span.recordException(new TypeError('fetch failed')); span.setStatus({ code: SpanStatusCode.ERROR }); }), 'TypeError');
  });

  it('is the SQLSTATE for a failed query (pg records only a sanitized message naming it)', () => {
    const recorded = "PostgreSQL error of type 'error' occurred (code: 23505)";
    assert.equal(ended((span) => { span.recordException(recorded); span.setStatus({ code: SpanStatusCode.ERROR, message: 'duplicate key value' }); }), '23505');
  });

  it('is _OTHER when nothing says more, and one already set is kept', () => {
    assert.equal(ended((span) => span.setStatus({ code: SpanStatusCode.ERROR })), '_OTHER');
    assert.equal(ended((span) => { span.setAttribute('error.type', 'timeout'); span.setAttribute('http.response.status_code', 504); span.setStatus({ code: SpanStatusCode.ERROR }); }), 'timeout');
  });

  it('is absent from spans that did not end in Error: an exception recorded and a 4xx on an Unset span say nothing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), fc.boolean(), fc.constantFrom(SpanStatusCode.UNSET, SpanStatusCode.OK), (status, exception, code) => {
        const type = ended((span) => {
          span.setAttribute('http.response.status_code', status);
          if (exception) span.recordException(Object.assign(new Error('refused'), { code: 'E' }));
          span.setStatus({ code });
        }, SpanKind.SERVER);
        assert.equal(type, undefined);
      }),
    );
  });
});
