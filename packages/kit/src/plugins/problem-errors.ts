// Every failure a client sees is an RFC 9457 problem: thrown errors, unknown routes, what the router
// refuses before a route runs, and what Node's HTTP parser refuses before a request exists.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { ErrorObject } from 'ajv';
import { NotFound, ProblemError, countOf, ServiceUnavailable, errorCode, problemBody, type FieldError } from '../errors.js';
import { isUnavailableError } from '../db-errors.js';
import { bodyLimitWords } from '../body-limit.js';
import { loggedMessage } from '../error-log.js';
import { isUuid, UUID_PATTERN } from '../ids.js';
import { pathOf } from '../request-target.js';
import { CODE_PATTERN, DIRECTION_CONTROL_PATTERN, VISIBLE_TEXT_PATTERN } from '../text.js';
import { CLIENT_CLOSED_REQUEST, clientGone, noteRawAnswer } from '../client-connection.js';
import { KIT_PLUGINS } from './names.js';
import { traceRouterRefusal, unservedAnswerIds } from './request-context.js';
import { SECURITY_HEADERS } from './security-headers.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The `WWW-Authenticate` challenge of this route's 401s (RFC 9110 11.6.1: a challenge applicable to the resource),
     * when the route takes credentials other than the Bearer token the kit's Unauthorized challenges for: a password
     * or a refresh token in the body, a client's HTTP Basic. Whatever raised the 401, it carries this challenge; the
     * OpenAPI document says it too (openapi-docs).
     */
    challenge?: string;
    /**
     * The route answers 429 (TooManyRequests, with Retry-After) over a budget: a rate limit per caller address or
     * account, or a limit an operator may set. The OpenAPI document lists that 429 and its header (openapi-docs).
     */
    budgeted?: boolean;
  }
}

/** At most this many field errors are listed in a 400, so an error body stays small whatever the input. */
const MAX_FIELD_ERRORS = 20;
/** Paths are echoed in problems (instance, a 404's detail) only up to this length: an error body stays small. */
const MAX_ECHOED_PATH = 256;

/**
 * The title of each problem type named after its status, as the kit's own errors write it. A type has one title
 * (RFC 9457 3.1.3: it does not change from occurrence to occurrence): what Node's parser refuses or a library raises
 * is titled alike, not with the status line's reason phrase ("Bad Request" beside "Bad request" for `bad-request`).
 */
const STATUS_TITLES: Record<number, string> = { 400: 'Bad request', 404: 'Not found', 412: 'Precondition failed', 413: 'Payload too large', 415: 'Unsupported media type', 429: 'Too many requests' };
const titleOf = (status: number): string => STATUS_TITLES[status] ?? STATUS_CODES[status] ?? 'Error';

/** Fastify's client errors: status, type, title and detail (the title when none). */
const FASTIFY_CLIENT_ERRORS: Record<string, [number, string, string, string?]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'malformed-json', 'Malformed JSON'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'malformed-json', 'Malformed JSON', 'The body is empty; send a JSON value'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported-media-type', 'Unsupported media type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'bad-request', 'Bad request'],
};

/**
 * A refused Content-Type as a 415 names it: its first 64 characters, as a refused Content-Encoding or Transfer-Encoding.
 * The whole header (up to Node's 16 KB) was echoed in the answer and, the error's message, in the request's span
 * (its exception event, message and stack: twice the header, for any client to send to the trace store).
 */
export function namedContentType(contentType: string | undefined): string {
  return contentType === undefined ? '(none)' : contentType.slice(0, 64);
}

/** The 413 for a body over `limit` bytes, saying the limit (Fastify's own error said only "Payload too large"). */
export const payloadTooLarge = (limit: number): ProblemError =>
  new ProblemError(413, 'payload-too-large', 'Payload too large', `Bodies over ${bodyLimitWords(limit)} are refused`);

export const problemErrors = fp(
  async (app) => {
    app.setErrorHandler((err: FastifyError | ProblemError | Error, request, reply) => sendProblem(err, request, reply));
    app.setNotFoundHandler((request, reply) => sendProblem(noRoute(request), request, reply));
  },
  { name: KIT_PLUGINS.problemErrors, fastify: '5.x' },
);

/** The 400 for a URL whose path (the router) or query (request-guards) has a broken percent-escape. */
export function badlyEncodedUrl(): ProblemError {
  return new ProblemError(400, 'bad-request', 'Bad request', 'The URL is not valid (bad percent-encoding)');
}

/**
 * The answer for a method and path no route serves: 405 with `Allow` when some route serves the path with other
 * methods (RFC 9110 15.5.6), 404 when none does.
 */
export function noRoute(request: FastifyRequest): ProblemError {
  // A HEAD is answered with the headers of its GET (RFC 9110 9.3.2), Content-Length included (8.6): its problem is the
  // GET's, word for word (`No route for HEAD /x` made the length one more than the GET's body).
  const method = (request.method === 'HEAD' ? 'GET' : request.method).slice(0, 16);
  const path = echoedPath(request.url);
  const allowed = allowedMethods(request.server, pathOf(request.url));
  // A route of this very method sent its request here (reply.callNotFound: @fastify/static's file gone, or refused by
  // its allowedPath): the resource is missing, a 404; a 405 said the method asked was not served, and allowed it.
  if (allowed.length === 0 || allowed.includes(request.method)) return new ProblemError(404, 'not-found', 'Not found', `No route for ${method} ${path}`);
  const allow = allowHeader(allowed);
  return new ProblemError(405, 'method-not-allowed', 'Method Not Allowed', `${method} is not served at ${path}; allowed: ${allow}`, {}, { allow });
}

/**
 * The methods some route serves at this URL's path, asked of the router method by method. A wildcard match does
 * not count: a catch-all (the storefront's `/*`) would make every path exist.
 */
function allowedMethods(app: FastifyInstance, path: string): string[] {
  return app.supportedMethods.filter((method) => {
    const found = app.findRoute({ method: method as HTTPMethods, url: path }) as ReturnType<FastifyInstance['findRoute']> | null;
    return found !== null && !('*' in found.params);
  });
}

/** An `Allow` value. HEAD is among the methods wherever GET is: Fastify routes HEAD for every GET route (exposeHeadRoutes). */
export function allowHeader(methods: Iterable<string>): string {
  return [...new Set(methods)].sort().join(', ');
}

/** Raw requests routed once more with their path's `%` escaped (escapedForPages), and the URL they came with. */
const pathsEscaped = new WeakMap<IncomingMessage, string>();

/** The URL a request came with when its badly encoded path was routed once more escaped (undefined for the rest). */
export function badlyEncodedOriginal(raw: IncomingMessage): string | undefined {
  return pathsEscaped.get(raw);
}

/**
 * The Node servers that serve a page of the browser app (a route with `config.urlUnread`, noted as routes are added:
 * server.ts). Only they route a navigation to a badly encoded path once more: on a service, which has none, the
 * second routing would run the matched route's onRequest hooks (authentication: a 401) before its 400.
 */
const serversWithPages = new WeakSet<object>();

export function notePageRoute(server: object, config: unknown): void {
  if ((config as { urlUnread?: unknown } | undefined)?.urlUnread === true) serversWithPages.add(server);
}

/**
 * Every route `scope` adds from now on is a page of the browser app (the storefront's): its URL past the route is
 * the app's to read (`config.urlUnread`, request-guards), and a navigation to a badly encoded path may reach it.
 * (A root onRoute hook runs before a scope's, so notePageRoute alone would not see the config set here.)
 */
export function markPageRoutes(scope: FastifyInstance): void {
  serversWithPages.add(scope.server);
  scope.addHook('onRoute', (route) => {
    route.config = { ...(route.config as object | undefined), urlUnread: true } as typeof route.config;
  });
}

/** A browser's navigation: GET or HEAD asking for text/html (fetch, curl, scripts and images do not). */
function isNavigation(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return (request.method === 'GET' || request.method === 'HEAD') && accept !== undefined && /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept);
}

/**
 * A browser navigating to a path with a broken escape (`/products/%ZZ`, `%FF`) is routed once more with every `%`
 * of its path taken literally (`%25`), so a page of the browser app (a route with `config.urlUnread`: the
 * storefront's) still opens and says the address names nothing; every other route refuses it with the same 400 as
 * before (request-guards), which then sees the URL as it came. False for anything else.
 */
function escapedForPages(request: FastifyRequest, reply: FastifyReply): boolean {
  const raw = request.raw;
  if (!serversWithPages.has(request.server.server) || !isNavigation(request) || pathsEscaped.has(raw) || raw.url === undefined) return false;
  const end = raw.url.search(/[?#]/);
  const path = end === -1 ? raw.url : raw.url.slice(0, end);
  pathsEscaped.set(raw, raw.url);
  raw.url = path.replaceAll('%', '%25') + raw.url.slice(path.length);
  request.server.routing(raw, reply.raw);
  return true;
}

/**
 * Fastify's `frameworkErrors`: errors the router raises before any route runs (bad percent-encoding, a path
 * parameter over maxParamLength) get the same problem+json as everything else; a too-long id names nothing: 404.
 */
export function routerErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_BAD_URL' && escapedForPages(request, reply)) return;
  const problem =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new ProblemError(404, 'not-found', 'Not found', 'The resource does not exist')
      : err.code === 'FST_ERR_BAD_URL'
        ? badlyEncodedUrl()
        : new ProblemError(400, 'bad-request', 'Bad request', 'The request is not valid');
  traceRouterRefusal(request, reply);
  // No onRequest hook runs for it, securityHeaders' neither: the headers every other answer gets.
  reply.headers(SECURITY_HEADERS);
  sendProblem(problem, request, reply);
}

function echoedPath(url: string): string {
  const path = pathOf(url);
  return path.length > MAX_ECHOED_PATH ? `${path.slice(0, MAX_ECHOED_PATH)}...` : path;
}

/**
 * Ajv stops at the first error, except inside a union (`anyOf`: `Type.Union`, `Type.Optional(... | null)`),
 * where it reports each branch and then the union. That is one error to a client: the branch whose type
 * matched and failed a constraint ("must match pattern"), or else the types that would do ("must be string
 * or null"), at the union's path.
 */
function firstErrors(errors: ErrorObject[]): ErrorObject[] {
  const union = errors.find((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  if (!union) return errors;
  const branches = errors.filter((e) => e !== union && e.instancePath.startsWith(union.instancePath));
  // A union of literals ('cookie' | 'body'): the values that would do.
  const constants = branches.filter((e) => e.keyword === 'const' && e.instancePath === union.instancePath);
  if (constants.length > 0 && branches.every((e) => e.instancePath === union.instancePath && (e.keyword === 'const' || e.keyword === 'type'))) {
    const values = constants.map((e) => JSON.stringify((e.params as { allowedValue?: unknown }).allowedValue));
    return [{ ...union, message: `must be one of ${values.join(', ')}` }];
  }
  const matched = branches.find((e) => e.keyword !== 'type' && e.keyword !== 'anyOf' && e.keyword !== 'oneOf');
  if (matched) return [matched];
  const types = [...new Set(branches.flatMap((e) => (e.instancePath === union.instancePath ? [String((e.params as { type?: unknown }).type)] : [])))];
  return [{ ...union, message: types.length > 0 ? `must be ${types.join(' or ')}` : (union.message ?? 'is not valid') }];
}

function fieldErrors(errors: ErrorObject[], context: string | undefined): FieldError[] {
  const prefix = !context || context === 'body' ? '' : context;
  return firstErrors(errors).slice(0, MAX_FIELD_ERRORS).map((e) => {
    let path = e.instancePath;
    const p = e.params as { missingProperty?: string; additionalProperty?: string };
    if (e.keyword === 'required' && p.missingProperty) path += `/${p.missingProperty}`;
    if (e.keyword === 'additionalProperties' && p.additionalProperty) path += `/${p.additionalProperty}`;
    const message =
      e.keyword === 'additionalProperties' ? 'unknown property' : sentTwice(e, context) ? 'must be sent once' : (numeralMessage(e, context) ?? plainMessage(e));
    return { path: prefix + (path || (prefix ? '' : '/')), message };
  });
}

/**
 * A number in a query string is text, taken only as a decimal numeral (request-guards' strictNumbers). Ajv's "must be
 * integer" read as nonsense to whoever sent `limit=0x10`, `limit=1e1` or `limit=2.0`, which are integers. (A path
 * parameter that fails its schema is a 404, never these words.)
 */
function numeralMessage(e: ErrorObject, context: string | undefined): string | undefined {
  if (e.keyword !== 'type' || context !== 'querystring') return undefined;
  const type = (e.params as { type?: unknown }).type;
  if (type === 'integer') return 'must be a whole number in decimal digits, such as 20';
  if (type === 'number') return 'must be a number in decimal digits, such as 2.5';
  return undefined;
}

/**
 * A query parameter given twice (`limit=1&limit=2`) reaches the schema as an array of its values, and Ajv said
 * "must be integer" or "must be one of ..." of a value that was both; it is the repetition that is refused, as for a
 * header sent on two lines.
 */
function sentTwice(e: ErrorObject, context: string | undefined): boolean {
  return context === 'querystring' && Array.isArray(e.data) && (e.parentSchema as { type?: unknown } | undefined)?.type !== 'array';
}

const FORMAT_WORDS: Record<string, string> = {
  email: 'must be an email address',
  iso4217: 'must be a currency code such as USD',
  'date-time': 'must be a date and time such as 2026-12-03T10:00:00Z',
  uuid: 'must be an id (a UUID)',
};

/**
 * Ajv's message in words a person reads (shown as is by the storefront and the admin): no regular expressions
 * for the common patterns, no `<=`. A schema with a pattern of its own says it in words by `x-pattern-message`
 * (an OpenAPI extension, which Ajv ignores); a pattern without words keeps Ajv's message (it is the contract).
 */
function plainMessage(e: ErrorObject): string {
  const p = e.params as { format?: string; pattern?: string; limit?: number };
  switch (e.keyword) {
    case 'format':
      return FORMAT_WORDS[p.format ?? ''] ?? `must be a valid ${p.format ?? 'value'}`;
    case 'pattern': {
      const words = (e.parentSchema as { 'x-pattern-message'?: unknown } | undefined)?.['x-pattern-message'];
      if (typeof words === 'string') return words;
      if (p.pattern === '\\S') return 'must not be blank';
      if (p.pattern === VISIBLE_TEXT_PATTERN) return 'must not be blank (a letter, digit or symbol, not only spaces or invisible characters)';
      if (p.pattern === '^\\S+$') return 'must not contain spaces';
      if (p.pattern === CODE_PATTERN) return 'must not contain spaces, control characters or invisible characters';
      if (p.pattern === UUID_PATTERN) return FORMAT_WORDS.uuid!;
      break;
    }
    case 'minLength':
      return p.limit === 1 ? 'must not be empty' : `must be at least ${p.limit} characters long`;
    case 'maxLength':
      return `must be at most ${p.limit} characters long`;
    case 'minimum':
      return `must be at least ${p.limit}`;
    case 'maximum':
      return `must be at most ${p.limit}`;
    case 'minItems':
      return `must have at least ${countOf(p.limit ?? 0, 'item')}`;
    case 'maxItems':
      return `must have at most ${countOf(p.limit ?? 0, 'item')}`;
    case 'minProperties':
      return `must have at least ${countOf(p.limit ?? 0, 'field')}`;
    case 'not': {
      if ((e.schema as { pattern?: unknown } | undefined)?.pattern === DIRECTION_CONTROL_PATTERN) {
        return 'must not contain characters that change the text direction (U+202A to U+202E, U+2066 to U+2069)';
      }
      // The refused value, when the schema names one (`not: { const: 0 }`); Ajv's own is "must NOT be valid".
      const refused = (e.schema as { const?: unknown } | undefined)?.const;
      return refused === undefined ? 'is not an allowed value' : `must not be ${JSON.stringify(refused)}`;
    }
  }
  return e.message ?? 'is not valid';
}

/**
 * The body types a 415 tells the client to send: JSON, and a form where the route's scope reads one (the token
 * endpoint, whose contract is the form of RFC 6749 4.4.2: it said "send application/json" only).
 */
function acceptedTypes(request: FastifyRequest): string {
  return request.server.hasContentTypeParser('application/x-www-form-urlencoded') ? 'application/x-www-form-urlencoded or application/json' : 'application/json';
}

function problemOf(err: FastifyError | ProblemError | Error, request: FastifyRequest): ProblemError {
  const fe = err as FastifyError & { validationContext?: string; type?: string };
  if (err instanceof ProblemError) return err;
  // A path parameter that cannot be an id (too long, wrong shape) names no resource, like an unknown id.
  if (fe.validation && fe.validationContext === 'params') return new NotFound();
  if (fe.validation) {
    const errors = fieldErrors(fe.validation as ErrorObject[], fe.validationContext);
    return new ProblemError(400, 'validation-failed', 'Request is not valid', `${countOf(errors.length, 'field')} failed validation`, { errors });
  }
  // The route's own limit (POST /order's 64 KiB, a bodyless route's 1 KiB), which its 413 names.
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return payloadTooLarge(request.routeOptions.bodyLimit);
  const clientError = fe.code ? FASTIFY_CLIENT_ERRORS[fe.code] : undefined;
  if (clientError) {
    const [status, slug, title, detail = title] = clientError;
    return new ProblemError(status, slug, title, status === 415 ? `Content type ${namedContentType(request.headers['content-type'])} is not supported; send ${acceptedTypes(request)}` : detail);
  }
  if (err instanceof SyntaxError || fe.type === 'entity.parse.failed') return new ProblemError(400, 'malformed-json', 'Malformed JSON', 'The body is not valid JSON');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return libraryClientError(fe.statusCode, fe.message, (fe as { headers?: unknown }).headers);
  if (fe.statusCode === 503) {
    return new ProblemError(503, 'service-unavailable', 'Service unavailable', 'The service is overloaded or shutting down', {}, { 'retry-after': '5' });
  }
  if (isUnavailableError(err)) {
    // The database (or a connection to it) is gone: expected during an outage, answered 503 + Retry-After.
    request.log.warn({ code: errorCode(err), detail: loggedMessage(err) }, 'dependency unavailable');
    return new ServiceUnavailable();
  }
  if (clientGone(request)) {
    // The client closed the connection before its answer (a proxied answer is then cut, UND_ERR_ABORTED): nothing
    // failed here and nothing can be answered: an info line, not an "unhandled error" with its stack (nginx's 499).
    request.log.info({ code: errorCode(err) }, 'client closed the connection');
    return new ProblemError(CLIENT_CLOSED_REQUEST, 'client-closed-request', 'Client closed request', 'The client closed the connection before the answer');
  }
  request.log.error({ err }, 'unhandled error');
  return new ProblemError(500, 'internal-error', 'Internal server error', `An unexpected error occurred; quote request id ${request.id}`);
}

/**
 * A client error a library raised itself (http-errors: @fastify/send's 403 and 416, the proxy's 400): a problem
 * named after its status (a 416 was `bad-request`, "Bad request"), with the headers the library gave it (a 416
 * names the length in `Content-Range`, RFC 9110 15.5.17), as Fastify's own error handler keeps them.
 */
function libraryClientError(status: number, message: string, headers: unknown): ProblemError {
  const phrase = titleOf(status);
  const kept: Record<string, string> = {};
  if (headers && typeof headers === 'object') for (const [k, v] of Object.entries(headers)) if (typeof v === 'string') kept[k.toLowerCase()] = v;
  return new ProblemError(status, phrase.toLowerCase().replace(/[^a-z0-9]+/g, '-'), phrase, message, {}, kept);
}

function sendProblem(err: FastifyError | ProblemError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const problem = problemOf(err, request);
  for (const [k, v] of Object.entries(problem.headers)) reply.header(k, v);
  const challenge = request.routeOptions.config?.challenge;
  if (problem.status === 401 && typeof challenge === 'string') reply.header('www-authenticate', challenge);
  // A problem describes this request at this moment: never stored by a browser or a shared cache (a 404 or 410
  // is heuristically cacheable otherwise), and the auth routes promise no-store on every answer.
  reply.header('cache-control', 'no-store');
  if (problem.status === 413) lingeringClose(reply);
  else boundUnreadBody(request, reply);
  return reply.code(problem.status).type('application/problem+json').send(problemBody(problem, echoedPath(request.url)));
}

/** Fastify's `clientErrorHandler`: a minimal problem+json written straight to the socket, for errors Node's parser raises before any request exists. */
export function writeClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  // A request pipelined behind one still being answered (it waits in the server's queue, its body unread): an answer
  // written now would be read as the answer of the one under way (a 408 for a GET that then ran), and the close cut
  // that one off. The connection closes after it instead; the failed request is not answered (RFC 9112 9.3.2).
  const earlier = answerOfAnEarlierRequest(socket);
  if (earlier) {
    if (!closingAfter.has(socket)) {
      closingAfter.add(socket);
      earlier.once('finish', () => socket.destroySoon());
    }
    return;
  }
  // Once Node read the request's line and headers (its body was arriving), the answer is that request's: its path, and
  // the caller's X-Request-Id and trace. A fresh id was sent instead, unlike every other answer.
  const req = requestRead(socket);
  const more = { req, instance: req?.url === undefined ? undefined : echoedPath(req.url) };
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') writeRawProblem(socket, 408, 'request-timeout', 'The request was not received in time', more);
  else if (err.code === 'HPE_HEADER_OVERFLOW') writeRawProblem(socket, 431, 'headers-too-large', 'The request line and headers are too large', more);
  else writeRawProblem(socket, 400, 'bad-request', 'The request is not valid HTTP', more);
}

/**
 * The request Node's parser is in the middle of, once it has read its request line and headers (its body was
 * arriving: a timeout, a bad chunk). Before that Node keeps the request line and headers to itself (llhttp's buffer,
 * never handed to JS) or could not parse them, and a request of the connection already read whole is another's.
 */
function requestRead(socket: Socket): IncomingMessage | undefined {
  const parsing = (socket as Socket & { parser?: { incoming?: IncomingMessage | null } | null }).parser?.incoming;
  return parsing && !parsing.complete ? parsing : undefined;
}

/**
 * The instance of a refusal whose request target is no path or is not known (not read, or not parsable; a CONNECT's
 * authority): the answer's own X-Request-Id as a URN (RFC 9457 3.1.5 allows a non-resolvable URI), which names this
 * occurrence, rather than a "/" that names a path the client never asked for. A caller's id that is no UUID (any
 * token of request-context's rule) cannot be a urn:uuid: a new UUID names the occurrence then.
 */
function occurrenceUrn(requestId: string): string {
  return `urn:uuid:${isUuid(requestId) ? requestId : randomUUID()}`;
}

const closingAfter = new WeakSet<Socket>();

/** The answer Node is writing on the socket, if any (its http server's own field). */
function answerUnderWay(socket: Socket): ServerResponse | null | undefined {
  return (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
}

/**
 * The answer under way on the socket when it is not the answer of the request Node's parser was reading (that one's
 * is either the one under way, its body still arriving, or none yet): the answer of a request before it.
 */
function answerOfAnEarlierRequest(socket: Socket): ServerResponse | undefined {
  const underWay = answerUnderWay(socket);
  if (!underWay || underWay.writableFinished) return undefined;
  const parsing = (socket as Socket & { parser?: { incoming?: IncomingMessage | null } | null }).parser?.incoming;
  return parsing && underWay.req === parsing && !parsing.complete ? undefined : underWay;
}

/** SECURITY_HEADERS as header lines, for the answers written on the socket itself. */
const RAW_SECURITY_HEADERS = Object.entries(SECURITY_HEADERS)
  .map(([name, value]) => `${name}: ${value}\r\n`)
  .join('');

/** What a raw problem may add: a header line (`Allow: ...`), the request Node read (its ids), the problem's instance. */
interface RawProblemMore {
  extraHeader?: string;
  req?: IncomingMessage;
  /** The request's path; without one, the answer's own X-Request-Id as a URN (occurrenceUrn). */
  instance?: string;
}

/**
 * A problem+json answer written on a socket that has no Fastify request (a parse error, a CONNECT), then closed; with
 * an X-Request-Id, a traceresponse (the request's, when Node read its headers) and the security headers like every answer.
 */
export function writeRawProblem(socket: Socket, status: number, slug: string, detail: string, more: RawProblemMore = {}): void {
  const { extraHeader, req, instance } = more;
  if (socket.destroyed) return;
  // Node's parser may refuse what follows a request's headers (a Transfer-Encoding not ending in chunked) once the
  // request was answered (a 405, the guards' 501): a second answer written after that one would be read as the
  // answer to a next request. The connection is closed after the one under way, as Node itself does.
  const underWay = answerUnderWay(socket);
  // A CONNECT pipelined behind a request still being answered: written now, its answer was read as that one's (which
  // ran, and whose own answer the close cut off). It comes after.
  if (req && underWay && underWay.req !== req && !underWay.writableFinished) {
    underWay.once('finish', () => writeRawProblem(socket, status, slug, detail, more));
    return;
  }
  if (underWay?.headersSent) {
    if (underWay.writableFinished) socket.destroySoon();
    else underWay.once('finish', () => socket.destroySoon());
    return;
  }
  if (socket.writable) {
    const extra = extraHeader ? `${extraHeader}\r\n` : '';
    const ids = unservedAnswerIds(req);
    const body = JSON.stringify(problemBody(new ProblemError(status, slug, titleOf(status), detail), instance ?? occurrenceUrn(ids.requestId)));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nX-Request-Id: ${ids.requestId}\r\ntraceresponse: ${ids.traceresponse}\r\n${RAW_SECURITY_HEADERS}` +
        `Content-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\n${extra}Connection: close\r\n\r\n${body}`,
    );
    // A request whose route was under way (its body arriving: a timeout, a bad chunk) is counted and logged with it.
    noteRawAnswer(socket, status);
  }
  socket.destroySoon();
}


/** How long a body still arriving after its answer (a 413's, or one sent before the body was read) is read and discarded before the connection is closed. */
const LINGER_MS = 2000;

/**
 * A body still arriving once its answer is sent (the answer came before the body was read: no route, a 405, a token
 * refused in onRequest) is read and discarded by Node, whatever its size, until the request timeout: 20 s at line
 * rate, one connection kept a core busy and took 15 GB. It gets the grace a 413 gets, then the connection is closed.
 * A body that ends within it (a small one, in the same packets) keeps the connection: the next request is served.
 */
function boundUnreadBody(request: FastifyRequest, reply: FastifyReply): void {
  const req = request.raw;
  if (req.complete) return;
  reply.raw.once('finish', () => {
    if (req.complete) return;
    const timer = setTimeout(() => {
      // A stand-in socket (app.inject's) has no destroy and no body to bound.
      if (!req.complete) req.socket?.destroy?.();
    }, LINGER_MS).unref();
    req.once('end', () => clearTimeout(timer));
  });
}

/**
 * The rest of a too-large body is not read: the connection is closed after the answer instead of
 * draining megabytes. Node would destroy the socket right after the response (destroySoon); with body
 * bytes still arriving, the kernel then resets the connection and the client often never reads the 413.
 * So close the way nginx does ("lingering close"): FIN after the answer, keep reading and discarding
 * for up to 2 s while the client notices, then destroy.
 */
function lingeringClose(reply: FastifyReply): void {
  reply.header('connection', 'close');
  const socket = reply.raw.socket;
  if (!socket) return;
  socket.destroySoon = function (this: Socket) {
    this.end();
    this.resume();
    setTimeout(() => this.destroy(), LINGER_MS).unref();
  };
}
