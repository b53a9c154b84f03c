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
