// The status of a request's server span by the HTTP semantic conventions (semconv http-spans, "Status"): a 4xx
// is the client's error, not the server's, so the span's status stays Unset; a 5xx is Error with `error.type`
// (the status code, as a string, when nothing more specific is known). @fastify/otel records every error a
// route throws as Error, the 401s, 403s, 409s and 400s the services answer on purpose included, and sets no
// `error.type`: Jaeger drew a wrong password in red like a crash, and a 503 said nothing a query could group by.
import { SpanStatusCode, type Span as ApiSpan, type SpanStatus } from '@opentelemetry/api';

const ERROR_TYPE = 'error.type';

/** Called once the reply's status is known and before the server span ends (an onSend hook). */
export function settleServerSpanStatus(span: ApiSpan, statusCode: number): void {
  if (statusCode >= 500) {
    // Error itself is set by @fastify/otel (with the thrown error's message, which a setStatus here would drop).
    span.setAttribute(ERROR_TYPE, String(statusCode));
    return;
  }
  // The API cannot set Unset over Error (setStatus ignores Unset), so the SDK span's status is reset; a no-op
  // span (not sampled, or no SDK) has none. The exception event stays: it says what was refused.
  // (the SDK's Span declares `status` writable; the type it exports for processors reads it only)
  const sdkSpan = span as ApiSpan & { status?: SpanStatus };
  if (statusCode >= 400 && sdkSpan.status?.code === SpanStatusCode.ERROR) sdkSpan.status = { code: SpanStatusCode.UNSET };
}
