// A span processor that only rewrites a span as it ends (onEnding, while the span is writable, before any exporter
// sees it): the other four methods of SpanProcessor have nothing to do. The three such processors of sdk.ts extend it.
import type { Span, SpanProcessor } from '@opentelemetry/sdk-trace-node';

export abstract class SpanRewrite implements SpanProcessor {
  onStart(): void {}

  abstract onEnding(span: Span): void;

  onEnd(): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
