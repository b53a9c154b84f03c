// `error.type` on every span that ends in Error, as the semantic conventions ask ("Conditionally Required: if the
// operation ended with an error"): a query in Jaeger or the collector can then group failures by kind. The
// instrumentations leave it out of the span: undici puts it only on its duration metric (a refused connection)
// or not at all (a 4xx/5xx answer, which makes a client span Error), pg only on its metric, and @fastify/otel
// never. One rule for all, applied as the span ends (a span processor's onEnding, while the span is writable):
// the HTTP status code when there is one of 400 or more, else the recorded exception's type (undici's error
// code, e.g. ECONNREFUSED or UND_ERR_HEADERS_TIMEOUT), else the SQLSTATE pg's sanitized exception message names,
// else `_OTHER` (semconv's fallback). A 4xx server span is not Error (server-span-status.ts), so it gets none.
import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan, Span } from '@opentelemetry/sdk-trace-node';
import { SpanRewrite } from './span-rewrite.js';

const ERROR_TYPE = 'error.type';
/** pg's instrumentation records `PostgreSQL error of type '<name>' occurred (code: <SQLSTATE>)`, nothing else. */
const SQLSTATE = /\(code: ([0-9A-Z]{5})\)$/;

/** The error.type a span that ended in Error should carry (see the file's head). */
function errorTypeOf(span: Pick<ReadableSpan, 'attributes' | 'events'>): string {
  const status = span.attributes['http.response.status_code'];
  if (typeof status === 'number' && status >= 400) return String(status);
  const exception = span.events.find((event) => event.name === 'exception')?.attributes;
  const type = exception?.['exception.type'];
  if (typeof type === 'string' && type !== '') return type;
  const message = exception?.['exception.message'];
  return (typeof message === 'string' ? SQLSTATE.exec(message)?.[1] : undefined) ?? '_OTHER';
}

export class ErrorTypeSpanProcessor extends SpanRewrite {
  onEnding(span: Span): void {
    if (span.status.code === SpanStatusCode.ERROR && span.attributes[ERROR_TYPE] === undefined) span.setAttribute(ERROR_TYPE, errorTypeOf(span));
  }
}
