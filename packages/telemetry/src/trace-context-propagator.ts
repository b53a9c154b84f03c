// The SDK's default propagators (W3C Trace Context and Baggage), with one change to what Trace Context writes.
import { trace, type Context, type TextMapSetter } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * W3C Trace Context's propagator, writing no tracestate line when the trace state has no member. The SDK's wrote an
 * empty `tracestate:` on every call of a trace whose caller sent one it could not keep (an 8 KB member, only commas or
 * spaces): Trace Context 3.3.1.1 says to accept an empty tracestate but to avoid sending one. The state is serialized
 * again only when the trace has one (a caller sent it), never on a call of a trace without.
 */
class TraceContextPropagator extends W3CTraceContextPropagator {
  override inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = trace.getSpanContext(context);
    if (spanContext?.traceState && spanContext.traceState.serialize() === '') {
      context = trace.setSpanContext(context, { ...spanContext, traceState: undefined });
    }
    super.inject(context, carrier, setter);
  }
}

/** What provider.register() registers by default, with TraceContextPropagator for the SDK's Trace Context one. */
export function tracePropagator(): CompositePropagator {
  return new CompositePropagator({ propagators: [new TraceContextPropagator(), new W3CBaggagePropagator()] });
}
