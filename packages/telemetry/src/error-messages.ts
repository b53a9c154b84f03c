// An error's message as a span keeps it: the words of the code that raised it, never the data it quoted. The
// instrumentations copy a failure's message as it is: pg puts PostgreSQL's own message in the span's status
// (`account <email> is refused` from a function's RAISE, `invalid input syntax for type uuid: "<value>"`), and
// @fastify/otel a 5xx's error in the server span's status and exception event (message and stack). A span processor
// rewrites them as the span ends, before any exporter sees it; the services' log lines follow the same rule
// (packages/kit/src/error-log.ts).
import type { Attributes } from '@opentelemetry/api';
import type { Span, SpanProcessor } from '@opentelemetry/sdk-trace-node';

/**
 * A word of a message kept as it is: a name (letters, `.`, `_`, `-`, at most 64), a number (digits and dots: a count, a
 * port, an address), a SQLSTATE or a UUID (the platform's ids). Anything else (a word with a digit and a letter, an
 * `@`, `%`, `+`...) is REDACTED: every token and email this platform makes or takes is such a word.
 */
const KEPT_WORD = /^(?:[\p{L}_.-]{1,64}|\d[\d.]{0,39}|[0-9A-Z]{5}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/u;
/** The words of a message: what lies between white space, quotes, brackets and the punctuation that joins a value to its name. */
const WORD = /[^\s"'`()[\]{}<>,;:=/\\]+/g;
/** A stack's frame line (`    at fn (file:line:column)`): the code's, kept. */
const FRAME = /^\s+at /;

/** The message with each word that is neither a name, a number nor an id replaced by REDACTED. */
export function redactedErrorMessage(message: string): string {
  return message.replace(WORD, (word) => (KEPT_WORD.test(word) ? word : 'REDACTED'));
}

/** A stack (`<name>: <message>` then its frames) with its message lines redacted and its frames as they are. */
function redactedStack(stack: string): string {
  return stack
    .split('\n')
    .map((line) => (FRAME.test(line) ? line : redactedErrorMessage(line)))
    .join('\n');
}

function redactExceptionEvent(attributes: Attributes | undefined): void {
  if (!attributes) return;
  const message = attributes['exception.message'];
  if (typeof message === 'string') attributes['exception.message'] = redactedErrorMessage(message);
  const stack = attributes['exception.stacktrace'];
  if (typeof stack === 'string') attributes['exception.stacktrace'] = redactedStack(stack);
}

/** Redacts the status message and every exception event of each span as it ends. After ErrorTypeSpanProcessor, which reads them. */
export class ErrorMessageSpanProcessor implements SpanProcessor {
  onStart(): void {}

  onEnding(span: Span): void {
    const message = span.status.message;
    if (message) span.setStatus({ code: span.status.code, message: redactedErrorMessage(message) });
    for (const event of span.events) if (event.name === 'exception') redactExceptionEvent(event.attributes);
  }

  onEnd(): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
