// The status of a request's server span by the HTTP semantic conventions (semconv http-spans, "Status"): a 4xx
// is the client's error, not the server's, so the span's status stays Unset; a 5xx is Error (set by @fastify/otel,
// with `error.type` added as the span ends: span-error-type.ts). @fastify/otel records every error a route throws
// as Error, the 401s, 403s, 409s and 400s the services answer on purpose included: Jaeger drew a wrong password in
// red like a crash.
import { SpanStatusCode, type Span as ApiSpan, type SpanStatus } from '@opentelemetry/api';

/** Called once the reply's status is known and before the server span ends (an onSend hook). */
export function settleServerSpanStatus(span: ApiSpan, statusCode: number): void {
  // The API cannot set Unset over Error (setStatus ignores Unset), so the SDK span's status is reset; a no-op
  // span (not sampled, or no SDK) has none. The exception event stays: it says what was refused.
  // (the SDK's Span declares `status` writable; the type it exports for processors reads it only)
  const sdkSpan = span as ApiSpan & { status?: SpanStatus };
  if (statusCode >= 400 && statusCode < 500 && sdkSpan.status?.code === SpanStatusCode.ERROR) sdkSpan.status = { code: SpanStatusCode.UNSET };
  // A 5xx no route threw (reply.code(500).send()) is Error too, as @fastify/otel made it when it ended the span itself
  // (sdk.ts ends it now); a thrown one keeps the description @fastify/otel's onError gave it.
  else if (statusCode >= 500 && sdkSpan.status?.code !== SpanStatusCode.ERROR) span.setStatus({ code: SpanStatusCode.ERROR });
}
