// An error's message as a span keeps it: the words of the code that raised it, never the data it quoted. The
// instrumentations copy a failure's message as it is: pg puts PostgreSQL's own message in the span's status
// (`account <email> is refused` from a function's RAISE, `invalid input syntax for type uuid: "<value>"`), and
// @fastify/otel a 5xx's error in the server span's status and exception event (message and stack). A span processor
// rewrites them as the span ends, before any exporter sees it; the services' log lines follow the same rule
// (packages/kit/src/error-log.ts): the kit's rule, packages/kit/src/error-text.ts.
import type { Attributes } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/sdk-trace-node';
import { redactedErrorText, redactedStack } from '@ecommerce/kit/error-text';
import { SpanRewrite } from './span-rewrite.js';

function redactExceptionEvent(attributes: Attributes | undefined): void {
  if (!attributes) return;
  const message = attributes['exception.message'];
  if (typeof message === 'string') attributes['exception.message'] = redactedErrorText(message);
  const stack = attributes['exception.stacktrace'];
  if (typeof stack === 'string') attributes['exception.stacktrace'] = redactedStack(stack);
}

/** Redacts the status message and every exception event of each span as it ends. After ErrorTypeSpanProcessor, which reads them. */
export class ErrorMessageSpanProcessor extends SpanRewrite {
  onEnding(span: Span): void {
    const message = span.status.message;
    if (message) span.setStatus({ code: span.status.code, message: redactedErrorText(message) });
    for (const event of span.events) if (event.name === 'exception') redactExceptionEvent(event.attributes);
  }
}
