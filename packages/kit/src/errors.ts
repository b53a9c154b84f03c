// One error type with an HTTP mapping: every failure a client sees is an RFC 9457 problem.
export const PROBLEM_BASE = 'https://ecommerce.local/problems/';

/** "1 unit", "3 units", "0 units": a count in a problem's words, singular for exactly one (not "1 unit(s)"). */
export function countOf(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

export interface FieldError {
  path: string;
  message: string;
}

export class ProblemError extends Error {
  readonly status: number;
  readonly slug: string;
  readonly title: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    slug: string,
    title: string,
    detail?: string,
    extensions: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
    this.name = 'ProblemError';
    this.status = status;
    this.slug = slug;
    this.title = title;
    this.extensions = extensions;
    this.headers = headers;
  }
}

export class BadRequest extends ProblemError {
  constructor(detail: string, errors: FieldError[] = []) {
    super(400, 'validation-failed', 'Request is not valid', detail, errors.length ? { errors } : {});
  }
}

/** A quoted-string's characters (RFC 9110 5.6.4) without escapes: what an auth-param's value may hold here. */
const QUOTABLE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * RFC 6750 3: the Bearer challenge. Without credentials it names no error; a token that was sent but is not
 * valid (bad signature, expired, revoked, its account gone) says `invalid_token`; a token without the scope a
 * route needs says `insufficient_scope` and which. A client library reads these to refresh or to give up.
 */
function bearerChallenge(error?: 'invalid_token' | 'insufficient_scope', description?: string, scope?: string): string {
  if (!error) return 'Bearer';
  const params = [`error="${error}"`];
  if (description && QUOTABLE.test(description)) params.push(`error_description="${description}"`);
  if (scope && QUOTABLE.test(scope)) params.push(`scope="${scope}"`);
  return `Bearer ${params.join(', ')}`;
}

export class Unauthorized extends ProblemError {
  /** `invalidToken`: a Bearer token was sent and is refused (not a missing one, nor a password or a refresh token). */
  constructor(detail = 'Missing, invalid or expired credentials', invalidToken = false) {
    super(401, 'unauthorized', 'Unauthorized', detail, {}, { 'www-authenticate': bearerChallenge(invalidToken ? 'invalid_token' : undefined, detail) });
  }
}

export class Forbidden extends ProblemError {
  constructor(detail = 'You are not allowed to do this', headers: Record<string, string> = {}) {
    super(403, 'forbidden', 'Forbidden', detail, {}, headers);
  }
}

/** 403 for a valid token that lacks the scope a route needs (RFC 6750 3.1 `insufficient_scope`). */
export class InsufficientScope extends Forbidden {
  constructor(scope: string) {
    super(`Scope ${scope} is required`, { 'www-authenticate': bearerChallenge('insufficient_scope', `Scope ${scope} is required`, scope) });
  }
}

export class NotFound extends ProblemError {
  constructor(detail = 'The resource does not exist') {
    super(404, 'not-found', 'Not found', detail);
  }
}

export class Conflict extends ProblemError {
  constructor(slug: string, detail: string, extensions: Record<string, unknown> = {}) {
    super(409, slug, 'Conflict', detail, extensions);
  }
}

export class PreconditionFailed extends ProblemError {
  constructor(detail: string) {
    super(412, 'precondition-failed', 'Precondition failed', detail);
  }
}

export class UnprocessableEntity extends ProblemError {
  constructor(slug: string, detail: string) {
    super(422, slug, 'Unprocessable entity', detail);
  }
}

export class TooManyRequests extends ProblemError {
  constructor(retryAfterSeconds: number, detail = 'Too many attempts, try again later') {
    super(429, 'too-many-requests', 'Too many requests', detail, {}, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
  }
}

export class ServiceUnavailable extends ProblemError {
  constructor(detail = 'A dependency is unavailable, try again later', extensions: Record<string, unknown> = {}, retryAfterSeconds = 1) {
    super(503, 'service-unavailable', 'Service unavailable', detail, extensions, { 'retry-after': String(retryAfterSeconds) });
  }
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  [key: string]: unknown;
}

export function problemBody(err: ProblemError, instance: string): ProblemBody {
  return {
    ...err.extensions,
    type: PROBLEM_BASE + err.slug,
    title: err.title,
    status: err.status,
    detail: err.message,
    instance,
  };
}

export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

// Connection-level failures: the database (or the network to it) is down, restarting or full.
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '53300']);
// 57014 a statement cancelled (statement_timeout: the server too slow to answer in time), 57P01 admin shutdown,
// 57P02 crash shutdown, 57P03 cannot connect now, 57P05 a session ended by idle_session_timeout (the server's notice
// read as the answer to a statement sent on the pooled connection it ended: a 500 before); 08xxx connection exceptions; 25006 a write sent to a server that
// takes none (a standby, the old primary during a failover: no service asks for a read-only transaction itself);
// 53000/53100/53200 the server short of resources, its disk full or out of memory (passing, unlike 53400, a limit of
// its configuration, which the same statement meets again); 40P01 a deadlock and 40001 a serialization failure (a
// conflict with recovery on a standby too): the server rolled the transaction back to end a conflict with another
// session, and the same request sent again succeeds (they were a 500, a bug, for what another session did); 55P03 a
// lock not had within lock_timeout (set on the role or database by its administrator; no service asks for NOWAIT):
// another session holds it, as a statement_timeout's 57014; 25P04 a session ended by transaction_timeout
// (PostgreSQL 17, set by the administrator), its transaction rolled back, as 57014 again.
const UNAVAILABLE_SQLSTATE = /^(57014|57P0[1235]|08...|25006|25P04|53[012]00|40001|40P01|55P03)$/;
// pg and pg-pool report these without a code.
const UNAVAILABLE_MESSAGE = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable|Client was closed and is not queryable|Connection terminated unexpectedly|Query read timeout)/;

/**
 * A statement this connection prepared before that no longer stands: a migration changed the type of a column it
 * returns (0A000 'cached plan must not change result type', raised by RevalidateCachedQuery: the server's message may be
 * in another language) or the server has no such prepared statement any more (26000, e.g. after DISCARD ALL). Every
 * later call of it on that connection fails the same way; on a new connection it is prepared again and runs. The
 * statement was not run. Database discards such connections (db.ts); a request that still meets it answers 503 +
 * Retry-After, its retry runs on a new connection.
 */
export function isStaleStatement(err: unknown): boolean {
  const code = errorCode(err);
  if (code === '26000') return true;
  if (code !== '0A000') return false;
  const { routine, message } = err as { routine?: unknown; message?: unknown };
  return routine === 'RevalidateCachedQuery' || (typeof message === 'string' && /cached plan must not change result type/.test(message));
}

/** True for errors that mean "a dependency is unavailable right now" (answered 503 + Retry-After), not a bug. */
export function isUnavailableError(err: unknown): boolean {
  if (err instanceof ProblemError || err === null || typeof err !== 'object') return false;
  if (isStaleStatement(err)) return true;
  const code = errorCode(err);
  if (code !== undefined && (UNAVAILABLE_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  if (err instanceof AggregateError) return err.errors.some(isUnavailableError);
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message);
}
