// The status of a request's server span by the HTTP semantic conventions (semconv http-spans, "Status"): a 4xx
// is the client's error, not the server's, so the span's status stays Unset; a 5xx is Error (set by @fastify/otel,
// with `error.type` added as the span ends: span-error-type.ts). @fastify/otel records every error a route throws
// as Error, the 401s, 403s, 409s and 400s the services answer on purpose included: Jaeger drew a wrong password in
// red like a crash.
import { SpanStatusCode, type Span as ApiSpan, type SpanStatus } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/sdk-trace-node';
import { SpanRewrite } from './span-rewrite.js';

/** Called once the reply's status is known and before the server span ends (an onSend hook). */
export function settleServerSpanStatus(span: ApiSpan, statusCode: number): void {
  // The API cannot set Unset over Error (setStatus ignores Unset), so the SDK span's status is reset; a no-op
  // span (not sampled, or no SDK) has none. The exception event stays: it says what was refused.
  // (the SDK's Span declares `status` writable; the type it exports for processors reads it only)
  const sdkSpan = span as ApiSpan & { status?: SpanStatus };
  if (statusCode >= 400 && statusCode < 500 && sdkSpan.status?.code === SpanStatusCode.ERROR) sdkSpan.status = { code: SpanStatusCode.UNSET };
}

/**
 * Server spans whose client was gone before their answer was written (a route answering a login nobody waits for any
 * more, Fastify's 400 for a body cut off, one for a body that never came after the kit's 408), and the status the
 * service's request log line and metrics give such a request (the kit's abandonedStatus: 499, or the 400 or 408 the kit
 * wrote on the connection itself). @fastify/otel records the answer the route wrote to the closed connection, and sets
 * it as the span ends: the status is put back as the span ends, by AbandonedStatusSpanProcessor.
 */
const abandonedStatus = new WeakMap<object, number>();

/** Notes that this server span's request was answered after its client was gone, and its status as the kit logs it. */
export function noteAbandoned(span: object, status: number): void {
  abandonedStatus.set(span, status);
}

export class AbandonedStatusSpanProcessor extends SpanRewrite {
  onEnding(span: Span): void {
    const status = abandonedStatus.get(span);
    if (status !== undefined) span.setAttribute('http.response.status_code', status);
  }
}
