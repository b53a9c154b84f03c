// An error as a log line carries it (`{ err }`: the 500 handler's "unhandled error", a background task's failure): its
// type, code, the code's words and where it was raised; never the data it holds. pino's own serializer wrote every
// enumerable field: a PostgreSQL error's `detail` is the refused row (`Failing row contains (<id>, <email>, <name>,
// <password hash>, ...)`) or the duplicate key (`Key (email)=(<email>) already exists.`), its `where` the JSON or
// the statement it was reading, and its message may quote a value (`invalid input syntax for type uuid: "<value>"`,
// a function's RAISE naming the row's email). A span keeps an error's message by the same rule
// (packages/telemetry/src/error-messages.ts), the one of error-text.ts.
import { redactedErrorText, redactedStack } from './error-text.js';

/**
 * The fields of an error a log line keeps beside its type, message and stack: codes and the names of what failed
 * (PostgreSQL's schema, table, column, type, constraint and the server routine that raised it; a system call's; a
 * peer service's), never a value.
 */
const KEPT_FIELDS = ['code', 'errno', 'syscall', 'severity', 'schema', 'table', 'column', 'dataType', 'constraint', 'routine', 'statusCode', 'peer', 'kind'] as const;

export interface LoggedError {
  type: string;
  message: string;
  stack: string;
  aggregateErrors?: LoggedError[];
  [field: string]: unknown;
}

/** The error and its causes (`cause`), at most 5 deep. */
function causeChain(err: Error): Error[] {
  const chain = [err];
  for (let cause = err.cause; cause instanceof Error && chain.length < 5 && !chain.includes(cause); cause = cause.cause) chain.push(cause);
  return chain;
}

/** The messages of an error and its causes, as `err.message` would be written with them, by the rule of error-text.ts. */
function chainMessage(chain: Error[]): string {
  return redactedErrorText(chain.map((e) => e.message).join(': '));
}

/**
 * pino's `err` serializer, keeping only what says what failed and where (see the file's head): the type, the message
 * and stack with their causes' (as pino's own writes them), the KEPT_FIELDS, each error of an AggregateError.
 */
export function loggedError(err: Error): LoggedError {
  // pino hands it whatever was logged under `err`: anything but an error is written as it is, as pino's own does.
  if (!(err instanceof Error)) return err as unknown as LoggedError;
  const chain = causeChain(err);
  const kept: LoggedError = {
    type: err.constructor.name,
    message: chainMessage(chain),
    stack: redactedStack(chain.map((e, i) => `${i === 0 ? '' : 'caused by: '}${e.stack ?? `${e.name}: ${e.message}`}`).join('\n')),
  };
  const fields = err as unknown as Record<string, unknown>;
  for (const field of KEPT_FIELDS) {
    const value = fields[field];
    if (typeof value === 'string') kept[field] = redactedErrorText(value);
    else if (typeof value === 'number') kept[field] = value;
  }
  if (err instanceof AggregateError) kept.aggregateErrors = (err.errors as unknown[]).map((e) => loggedError(e as Error));
  return kept;
}

/**
 * An error's words for a log line's own field (`detail`, `reason`) where the whole `{ err }` is not wanted (a warning
 * said once an outage, without its stack): its message and its causes', by the rule of error-text.ts, as `err.message`
 * would be written. A string made from an error's message (a reason handed along) is redacted alike: a PostgreSQL
 * message quoting a row's email, an upstream error quoting a token, never reach the line.
 */
export function loggedMessage(err: unknown): string {
  if (err instanceof Error) return chainMessage(causeChain(err));
  return redactedErrorText(typeof err === 'string' ? err : String(err));
}
