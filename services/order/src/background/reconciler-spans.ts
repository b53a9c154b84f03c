// The reconciler's spans: each pass and each audit is a trace of its own (a root span: no request runs it), so
// its PostgreSQL and product-service calls are traced like a request's; the span that settles an order links
// to the trace of the request that placed it. Through @opentelemetry/api only: without an SDK registered
// (tracing off) the tracer is the API's no-op and no stored traceparent is ever parsed.
import { propagation, ROOT_CONTEXT, SpanStatusCode, trace, type Span } from '@opentelemetry/api';

const tracer = trace.getTracer('order-reconciler');

export function inRootSpan<T>(name: string, work: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { root: true }, (span) => endedAfter(span, work));
}

/** `placedBy`: the W3C traceparent stored with the order when it was placed (null for older orders). */
export function inSettleSpan<T>(orderId: string, placedBy: string | null | undefined, work: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan('settle order', (span) => {
    if (span.isRecording()) {
      span.setAttribute('order.id', orderId);
      const placed = placedBy ? trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent: placedBy })) : undefined;
      if (placed) span.addLink({ context: placed });
    }
    return endedAfter(span, work);
  });
}

async function endedAfter<T>(span: Span, work: (span: Span) => Promise<T>): Promise<T> {
  try {
    return await work(span);
  } catch (err) {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}
