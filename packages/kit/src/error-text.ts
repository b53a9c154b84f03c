// An error's words as a log line or a span keeps them: the words of the code that raised it, never the data it quoted
// (PostgreSQL's `invalid input syntax for type uuid: "<value>"`, a function's RAISE naming a row's email). One rule for
// the services' log lines (error-log.ts) and the spans (packages/telemetry/src/error-messages.ts). No imports: the
// tracing preload loads this file alone, before the instrumented packages.

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
export function redactedErrorText(message: string): string {
  return message.replace(WORD, (word) => (KEPT_WORD.test(word) ? word : 'REDACTED'));
}

/** A stack (`<name>: <message>` then its frames) with its message lines redacted and its frames as they are. */
export function redactedStack(stack: string): string {
  return stack
    .split('\n')
    .map((line) => (FRAME.test(line) ? line : redactedErrorText(line)))
    .join('\n');
}
