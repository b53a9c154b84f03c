// An error's message as an exported span keeps it (status and exception event), through a real tracer provider with the
// processors in the preload's order: every word a secret could be is REDACTED, the code's words and the frames stay.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import fc from 'fast-check';
import { redactedErrorText as redactedErrorMessage } from '@ecommerce/kit/error-text';
import { ErrorMessageSpanProcessor } from '../src/error-messages.js';
import { ErrorTypeSpanProcessor } from '../src/span-error-type.js';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new ErrorTypeSpanProcessor(), new ErrorMessageSpanProcessor(), new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');

function ended(prepare: (span: Span) => void): ReadableSpan {
  exporter.reset();
  const span = tracer.startSpan('s');
  prepare(span);
  span.end();
  return exporter.getFinishedSpans()[0]!;
}

/** The secrets a client sends or the platform makes: tokens, JWT-like values and emails all have a digit or an `@`. */
const secret = fc
  .oneof(fc.stringMatching(/^[A-Za-z0-9_-]{8,48}$/), fc.tuple(fc.stringMatching(/^[A-Za-z0-9_-]{4,20}$/), fc.stringMatching(/^[A-Za-z0-9_-]{4,20}$/)).map((p) => p.join('.')), fc.emailAddress())
  .filter((v) => /[0-9@]/.test(v) && /[A-Za-z@]/.test(v) && !/^[0-9.]+$/.test(v));

describe('error messages in spans', () => {
  after(() => provider.shutdown());

  it('redacts a value PostgreSQL or a function quoted, in the status and the exception event, keeping the words, the SQLSTATE and the frames', () => {
    fc.assert(
      fc.property(secret, fc.constantFrom((v: string) => `invalid input syntax for type uuid: "${v}"`, (v: string) => `account ${v} is refused`, (v: string) => `value '${v}' is out of range`, (v: string) => `Unexpected token 's', ..."password":${v}"... is not valid JSON`), (value, template) => {
        const message = template(value);
        const error = Object.assign(new Error(message), { code: 'P0001' });
        const span = ended((s) => {
          s.recordException(error);
          s.setStatus({ code: SpanStatusCode.ERROR, message });
        });
        const text = JSON.stringify({ status: span.status, events: span.events });
        assert.ok(!text.includes(value), text);
        const event = span.events[0]!.attributes!;
        assert.equal(span.status.message, redactedErrorMessage(message));
        assert.equal(event['exception.message'], redactedErrorMessage(message));
        assert.equal(event['exception.type'], 'P0001');
        assert.match(String(event['exception.stacktrace']), /^Error: .*REDACTED.*\n {4}at /);
        assert.equal(span.attributes['error.type'], 'P0001');
      }),
    );
  });

  it('keeps what says what failed: names, numbers, addresses, SQLSTATEs, UUIDs and pg\'s own sanitized message', () => {
    for (const message of [
      'new row for relation "users" violates check constraint "users_email_key"',
      'connect ECONNREFUSED 127.0.0.1:3002',
      "PostgreSQL error of type 'error' occurred (code: 23505)",
      'price of 01a248c5-0247-72f4-9598-6b6c58dff6be changed (code: EC004)',
      'user-service: timeout',
    ]) {
      assert.equal(redactedErrorMessage(message), message);
      assert.equal(ended((s) => s.setStatus({ code: SpanStatusCode.ERROR, message })).status.message, message);
    }
  });

  it('leaves spans without an error as they were', () => {
    const span = ended((s) => s.setStatus({ code: SpanStatusCode.OK }));
    assert.deepEqual(span.status, { code: SpanStatusCode.OK });
    assert.deepEqual(span.events, []);
  });
});
