// What a request must be before a handler sees it: JSON (other content types: 415), no larger than its
// route can accept (413, even before a 100-continue), valid against its schema (400), free of NUL characters.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isUtf8 } from 'node:buffer';
import { isIPv6 } from 'node:net';
import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { NO_BODY_LIMIT, bodyLimitFor } from '../body-limit.js';
import { BadRequest, ProblemError, problemBody } from '../errors.js';
import { ambiguousHeaderLines, headerLines } from '../header-lines.js';
import { jsonTextFault, pointerToken } from '../json-members.js';
import { pathOf } from '../request-target.js';
import { KIT_PLUGINS } from './names.js';
import { badlyEncodedOriginal, badlyEncodedUrl, namedContentType, noRoute, payloadTooLarge } from './problem-errors.js';
import { unservedAnswerIds } from './request-context.js';
import { SECURITY_HEADERS } from './security-headers.js';

export interface RequestGuardsOptions {
  /** The server's body limit: the ceiling of every derived route limit and of an announced 100-continue body. */
  bodyLimit: number;
  /** Bodies pass through unparsed (the gateway's proxy): the service that parses them checks their encoding. */
  bodiesStreamed?: boolean;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
function makeAjv(coerce: boolean): Ajv {
  // Bodies are strict (a string "5" is not a number); query strings and params are text, so they are coerced.
  // allErrors stays off: validation stops at the first error, so a hostile body (150,000 array items,
  // 100,000 unknown keys) costs one check instead of an error object per element (which ran a 128 MB heap
  // out of memory), and an array's maxItems is checked before any of its items.
  // verbose: an error carries its schema, so a `not` can say which value it refuses (problem-errors.ts).
  const ajv = new Ajv({ allErrors: false, removeAdditional: false, useDefaults: true, coerceTypes: coerce ? 'array' : false, strict: false, verbose: true });
  // `format: 'iso4217'`: a currency code the runtime's Intl knows (USD, EUR, JPY...), not any three letters.
  ajv.addFormat('iso4217', { type: 'string', validate: (code: string) => CURRENCIES.has(code) });
  return addFormats(ajv);
}

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

/** Decimal numerals as a person writes them: Ajv's coercion would also take `0x10`, `1e1`, ` 5` and `5 `. */
const NUMERALS = { integer: /^-?[0-9]{1,16}$/, number: /^-?[0-9]{1,16}(\.[0-9]{1,16})?$/ };

/**
 * A query string or path is text, coerced by Ajv where the schema wants a number; what it coerces is whatever
 * JavaScript's `+x` takes (`limit=0x10` was 16, `limit=%20` was 0). Each numeric property of an object schema
 * must first be a decimal numeral, else the same 400 as any type error.
 */
function strictNumbers(schema: unknown, validate: ValidateFunction): ValidateFunction {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  const numeric = Object.entries(properties).flatMap(([name, s]) => (s.type === 'integer' || s.type === 'number' ? [[name, s.type] as const] : []));
  if (numeric.length === 0) return validate;
  const strict = ((data: Record<string, unknown>, context?: Parameters<ValidateFunction>[1]) => {
    for (const [name, type] of numeric) {
      const value = data?.[name];
      if (typeof value === 'string' && !NUMERALS[type].test(value)) {
        strict.errors = [{ instancePath: `/${name}`, schemaPath: `#/properties/${name}/type`, keyword: 'type', params: { type }, message: `must be ${type}` }];
        return false;
      }
    }
    const ok = validate(data, context);
    strict.errors = validate.errors;
    return ok;
  }) as ValidateFunction;
  // Fastify hands Ajv's own functions (those with a schemaEnv) the request as parent, so a root value may be coerced.
  return Object.assign(strict, { schemaEnv: validate.schemaEnv });
}

/**
 * A problem answered on Node's own response (an `Expect` decided before Fastify sees the request), like every
 * problem answer: never stored, the connection closed, its X-Request-Id, traceresponse and security headers there.
 */
function endWithProblem(req: IncomingMessage, res: ServerResponse, problem: ProblemError): void {
  const body = JSON.stringify(problemBody(problem, pathOf(req.url ?? '/')));
  const ids = unservedAnswerIds(req);
  res
    .writeHead(problem.status, {
      ...SECURITY_HEADERS,
      'x-request-id': ids.requestId,
      traceresponse: ids.traceresponse,
      'content-type': 'application/problem+json',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      connection: 'close',
    })
    .end(body);
}

/** Whether the request carries a body: a non-zero Content-Length, or any Transfer-Encoding (chunked). */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * A route whose URL the server never reads beyond its path (`config: { urlUnread: true }`: the storefront's pages,
 * where the rest of the path and the query are the browser app's) is not refused for them: a link with a stray `%`
 * or a NUL still opens the shop, which says what it makes of it.
 */
function urlUnread(request: FastifyRequest): boolean {
  return (request.routeOptions.config as { urlUnread?: unknown } | undefined)?.urlUnread === true;
}

/** Whether the query string's percent-escapes are all `%XX` and decode to UTF-8 (true when there is none). */
function wellEncodedQuery(url: string): boolean {
  const q = url.indexOf('?');
  if (q === -1 || url.indexOf('%', q) === -1) return true;
  try {
    decodeURIComponent(url.slice(q + 1));
    return true;
  } catch {
    return false;
  }
}

/**
 * A coding of the body this server does not undo. Node frames `Transfer-Encoding: gzip, chunked` by its last coding
 * and hands the rest on undecoded: 501 (RFC 9112 6.1). A `Content-Encoding` would be parsed as its compressed bytes,
 * or a mislabelled plain body taken as it is: 415, as RFC 9110 8.4 allows. Not bytes parsed as if they were plain.
 */
function unappliedCoding(request: FastifyRequest): ProblemError | undefined {
  const only = (value: string | undefined, coding: string) => value === undefined || value.trim().toLowerCase() === coding;
  const transfer = request.headers['transfer-encoding'];
  if (!only(transfer, 'chunked')) return new ProblemError(501, 'not-implemented', 'Not Implemented', `Transfer-Encoding ${transfer!.slice(0, 64)} is not served: only chunked`);
  const content = request.headers['content-encoding'];
  if (!only(content, 'identity')) {
    return new ProblemError(415, 'unsupported-media-type', 'Unsupported media type', `Content-Encoding ${content!.slice(0, 64)} is not accepted: send the body uncompressed`);
  }
  return undefined;
}

/** Methods Fastify reads no body of, whose body (if one is sent) is read here as a bodyless route's (see requestGuards). */
const BODY_READ_ONLY_WHEN_SENT = new Set(['GET', 'HEAD']);
/** The type a GET or HEAD body is parsed as (whatever it was sent with, kept in sentContentTypes meanwhile). */
const BODY_OF_BODYLESS_METHOD = 'application/x-body-of-bodyless-method';
const sentContentTypes = new WeakMap<IncomingMessage, string | undefined>();

/**
 * Where bodies stream through (the gateway), the type a request goes on as when Fastify would refuse its own before
 * the service sees it (FORWARDED_AS_SENT); its parser puts back the one sent (or none) and passes the body on.
 */
const FORWARDED_AS_SENT = 'application/x-forwarded-as-sent';
const typesAsSent = new WeakMap<IncomingMessage, string | undefined>();

/** RFC 9110 8.3.1: `type/subtype` and parameters; what is not (`garbage`, an empty field, `a/b c`) Fastify answers 415. */
const MEDIA_TYPE = /^[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+[\t ]*(?:;.*)?$/;

/**
 * A request Fastify answers itself, whatever its route, before any handler (the not-found handler too): a QUERY
 * without a Content-Type (400, RFC 10008 2) and a Content-Type that is no media type (415), with a body or not.
 */
function refusedByFastify(request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  if (type === undefined) return request.method === 'QUERY';
  return !MEDIA_TYPE.test(type.trim());
}

/**
 * RFC 9112 3.2: Host = uri-host [ ":" port ], uri-host an IP-literal (`[...]`), an IPv4 address or a reg-name
 * (unreserved, sub-delims, %XX; RFC 3986 3.2.2), port digits. Any value was taken (`a b`, `x/y`, `a@b`, `[::1`, `é`),
 * where the same section says a server MUST answer 400: a proxy in front may read such a value another way.
 */
const HOST_VALUE = /^(?:\[(?:[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\.[\w.~!$&'()*+,;=:-]+)\]|(?:[\w.~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})*)(?::[0-9]*)?$/;

function isHostValue(host: string): boolean {
  if (!HOST_VALUE.test(host)) return false;
  // An IPv6 literal is checked as one (`[1:2]` matches the characters above and is no address).
  if (!host.startsWith('[') || host.startsWith('[v')) return true;
  return isIPv6(host.slice(1, host.indexOf(']')));
}

const badHost = () => new BadRequest('The Host header must be a host name or address and an optional port (RFC 9112 3.2)', [{ path: 'headers/host', message: 'must be a host and an optional port' }]);

const versionNotSupported = (version: string) =>
  new ProblemError(505, 'http-version-not-supported', 'HTTP Version Not Supported', `HTTP/${version.slice(0, 8)} is not served: send HTTP/1.1 (or 1.0)`);

/** `OPTIONS *`: no route serves the server as a whole. */
const notFoundAsterisk = () => new ProblemError(404, 'not-found', 'Not found', 'No route for OPTIONS *');

/**
 * An Idempotency-Key is one value (a Structured Field Item, draft-ietf-httpapi-idempotency-key-header), not a list.
 * Node joins the lines of a header it does not know with ", ", so "k, k" was a key neither line is: a retry whose
 * client appended the header to the first try's was placed as a new order.
 */
const repeatedIdempotencyKey = () =>
  new BadRequest('Idempotency-Key must be sent once', [{ path: 'headers/idempotency-key', message: 'must be sent once' }]);

export const requestGuards = fp<RequestGuardsOptions>(
  async (app, { bodyLimit, bodiesStreamed = false }) => {
    // `Expect: 100-continue` (curl sends it for bodies over 1 MiB): a body announced larger than any route
    // accepts is refused at once, before the client sends it; otherwise the 100 goes out and the request is
    // served as usual (this is what Node does when nobody listens for checkContinue).
    app.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      if (Number(req.headers['content-length'] ?? 0) > bodyLimit) {
        endWithProblem(req, res, payloadTooLarge(bodyLimit));
        return;
      }
      res.writeContinue();
      app.server.emit('request', req, res);
    });
    // Any other expectation: 417 as Node would answer, but as a problem (Node's own has no body).
    app.server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) =>
      endWithProblem(req, res, new ProblemError(417, 'expectation-failed', 'Expectation Failed', 'Only the expectation 100-continue is served')),
    );

    // HTTP/1.1 requires a Host header (RFC 9112 3.2). Node would answer its absence with a bare 400 and no body
    // (the server is created with requireHostHeader off for that reason), so it is refused here, as a problem,
    // once the request is counted and logged (onRequest hooks of later plugins have run) and before any body.
    // Two Host headers are refused too (the same section); Node keeps the first and drops the rest silently. So are
    // two Authorization or Content-Type lines, and more lines than Node reads (header-lines.ts): one pass over them.
    app.addHook('preParsing', (request, _reply, payload, done) => {
      // Node's parser takes HTTP/0.9 and HTTP/2.0 on an HTTP/1 connection (a 2.0 request line is no HTTP/2, which
      // opens with its preface), and they were served as HTTP/1.1 with a 200: 505, as RFC 9110 15.6.6 has it.
      if (request.raw.httpVersionMajor !== 1) return done(versionNotSupported(request.raw.httpVersion));
      if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) return done(new BadRequest('An HTTP/1.1 request must have a Host header'));
      if (request.headers.host !== undefined && !isHostValue(request.headers.host)) return done(badHost());
      const ambiguous = ambiguousHeaderLines(request.raw.rawHeaders);
      if (ambiguous) return done(ambiguous);
      // The asterisk-form target (RFC 9112 3.2.4) is OPTIONS's alone and names the server, no resource: the router
      // took `*` for the path `/` (the storefront answered GET * with its home page). No route serves it.
      if (request.raw.url === '*') return done(request.method === 'OPTIONS' ? notFoundAsterisk() : new BadRequest('The request target * is for OPTIONS only (RFC 9112 3.2.4)'));
      // Lines Node joined hold a comma: only then are the raw lines counted (not on every order's hot path).
      if (request.headers['idempotency-key']?.includes(',') && headerLines(request.raw.rawHeaders, 'idempotency-key') > 1) return done(repeatedIdempotencyKey());
      const coding = unappliedCoding(request);
      if (coding) return done(coding);
      // A browser's navigation to a badly encoded path was routed with its `%` escaped (routerErrorHandler): from
      // here on the URL is as it came, and only a page of the browser app takes it.
      const original = badlyEncodedOriginal(request.raw);
      if (original !== undefined) {
        request.raw.url = original;
        if (!urlUnread(request)) return done(badlyEncodedUrl());
      }
      // The router refuses a badly encoded path (routerErrorHandler); the query parser would decode `%ZZ` or `%FF`
      // (not UTF-8) leniently, so the query is held to the same rule here.
      if (!urlUnread(request) && !wellEncodedQuery(request.raw.url ?? '')) return done(badlyEncodedUrl());
      // No route: a 404 (or 405) before parsing, body or not, so an unknown method or path costs nobody a parse, and
      // nothing Fastify judges before its not-found handler answers in its place (refusedByFastify): `QUERY /user/me`
      // was a 400 "Method 'QUERY' must provide a 'Content-Type' header.", `DELETE /user/me` with `Content-Type:`
      // empty a 415, where no route serves the request.
      if (request.is404) return done(noRoute(request));
      // A GET or HEAD is read for a body (below) only when it has one: a Content-Type sent on every request by a
      // client's defaults types nothing there, and is not held against a request with no content (415, or JSON's
      // "The body is empty").
      // A route that takes no body (DELETE /product/:id, POST /order/:id/cancel) is judged the same way: a client
      // library that types every request (axios, Angular: `Content-Type: application/json`, no content) was a 400
      // "The body is empty", or a 415 with its text/plain default, where no body was asked for.
      if (BODY_READ_ONLY_WHEN_SENT.has(request.method) || (!bodiesStreamed && !request.is404 && request.routeOptions.schema?.body === undefined)) {
        if (!hasBody(request)) delete request.raw.headers['content-type'];
        else if (!bodiesStreamed) {
          // Whatever its type (or none), the body goes to the one parser that judges it as the gateway does, so an
          // empty one (chunked `0`) is no body there too, not a 415 for its missing type or JSON's "The body is empty".
          sentContentTypes.set(request.raw, request.raw.headers['content-type']);
          request.raw.headers['content-type'] = BODY_OF_BODYLESS_METHOD;
        }
      }
      // Through the gateway the service behind judges such a request (its 405, or its own answer), not Fastify here:
      // it goes on under a marker type whose parser puts back the one sent. (A Content-Type with no body on a route
      // that takes none is no body there: `DELETE /product/<id>` with `Content-Type:` empty was the gateway's 415.)
      if (bodiesStreamed && refusedByFastify(request)) {
        typesAsSent.set(request.raw, request.raw.headers['content-type']);
        request.raw.headers['content-type'] = FORWARDED_AS_SENT;
      }
      done(null, payload);
    });

    // Every API body is JSON: other content types get 415 instead of being parsed as text.
    app.removeContentTypeParser('text/plain');
    // JSON is UTF-8 (RFC 8259): a body that is not is refused (400), not decoded with its bad bytes replaced by
    // U+FFFD and stored so (a Latin-1 "Café" became "Caf\uFFFD"); then Fastify's own parser, as before. Not where
    // bodies stream through unparsed (the gateway's proxy adds its own parser for JSON; the service checks).
    if (!bodiesStreamed) {
      const parseJson = app.getDefaultJsonParser('error', 'error');
      app.removeContentTypeParser('application/json');
      app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
        if (!isUtf8(body)) return done(notUtf8(), undefined);
        const text = body.toString('utf8');
        parseJson(request, text, (err: Error | null, value?: unknown) => {
          if (err) return done(jsonRefusal(err, text), undefined);
          // A member named twice in one object: JSON.parse kept the last, a proxy or a log may have read the first.
          // A number whole only once rounded (1e-400 is 0): the schema would check a whole number never sent.
          const fault = value !== null && typeof value === 'object' ? jsonTextFault(text) : undefined;
          if (fault === undefined) return done(null, value);
          return done(fault.fault === 'repeated-member' ? repeatedMember(fault.pointer) : roundedNumber(fault.pointer), undefined);
        });
      });
    }
    // Fastify reads no body of a GET or HEAD (they are bodyless to it), so what one carried was never looked at: a GET
    // with `{"x":1}` was served, and 200 MB chunked after a GET were read and dropped with a 200. Read as for any route
    // without a body schema (at most NO_BODY_LIMIT, `{}` or nothing). Where bodies stream through, the proxy judges
    // them (bodylessRequestBodyProblem): it cannot forward one.
    for (const method of BODY_READ_ONLY_WHEN_SENT) app.addHttpMethod(method, { hasBody: true, overrideExisting: true });
    if (!bodiesStreamed) {
      app.addContentTypeParser(BODY_OF_BODYLESS_METHOD, { parseAs: 'buffer' }, (request, body: Buffer, done) => {
        if (!sentContentTypes.has(request.raw)) return done(unsupportedType(BODY_OF_BODYLESS_METHOD), undefined); // sent by a client
        const type = sentContentTypes.get(request.raw);
        if (type === undefined) delete request.raw.headers['content-type'];
        else request.raw.headers['content-type'] = type;
        const problem = bodylessRequestBodyProblem(type, body);
        return problem ? done(problem, undefined) : done(null, undefined);
      });
    }
    if (bodiesStreamed) {
      app.addContentTypeParser(FORWARDED_AS_SENT, (request, payload, done) => {
        // Sent so by a client, it streams through as any other type does there.
        if (typesAsSent.has(request.raw)) {
          const type = typesAsSent.get(request.raw);
          if (type === undefined) delete request.raw.headers['content-type'];
          else request.raw.headers['content-type'] = type;
        }
        done(null, payload);
      });
    }
    const bodyAjv = makeAjv(false);
    const textAjv = makeAjv(true);
    app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv.compile(schema) : strictNumbers(schema, textAjv.compile(schema))));
    // After validation (a hostile body with 100,000 unknown keys is refused by the schema at its first key,
    // not walked here), before any handler: no string with a NUL or a lone surrogate reaches PostgreSQL, which
    // answers a 500 (a lone surrogate is written back as \udXXX by JSON.stringify, which jsonb refuses).
    // A plain (not async) hook: it runs on every request, and a promise per request is avoidable cost.
    app.addHook('preHandler', (request, _reply, done) => done(unexpectedBody(request) ?? unstorableTextIn(request)));
    // Each route with a bounded body schema reads no more than its largest valid body (see body-limit.ts);
    // a route may still set its own bodyLimit.
    // A route with no body schema takes no body beyond a token one (NO_BODY_LIMIT).
    app.addHook('onRoute', (route) => {
      if (route.bodyLimit !== undefined) return;
      if (!route.schema?.body) {
        route.bodyLimit = NO_BODY_LIMIT;
        return;
      }
      const limit = bodyLimitFor(route.schema.body, bodyLimit);
      if (limit !== undefined) route.bodyLimit = limit;
    });
  },
  { name: KIT_PLUGINS.requestGuards, fastify: '5.x', dependencies: [KIT_PLUGINS.problemErrors] },
);

/**
 * Why Fastify's parser refused a body, in words (its FST_ERR_CTP_INVALID_JSON_BODY says only "Malformed JSON"):
 * where the text stops being JSON, or, when it is JSON, the prototype-poisoning key it was refused for. Only on the
 * error path. The position alone: JSON.parse's message quotes the body, which may hold a password.
 */
function jsonRefusal(err: Error, text: string): Error {
  if ((err as { code?: string }).code !== 'FST_ERR_CTP_INVALID_JSON_BODY') return err;
  try {
    JSON.parse(text);
  } catch (parseErr) {
    return invalidJson(parseErr as Error);
  }
  return new ProblemError(400, 'malformed-json', 'Malformed JSON', 'The body has a "__proto__" key, or a "constructor" key holding "prototype": such keys are refused');
}

/** The 400 for a body JSON.parse refused, saying where from its message (never quoting it: the body may hold a password). */
function invalidJson(parseErr: Error): ProblemError {
  const at = /at position (\d+)/.exec(parseErr.message)?.[1];
  const where = at === undefined ? (/end of JSON input/.test(parseErr.message) ? ' (it ends too soon)' : '') : ` (from character ${Number(at) + 1})`;
  return new ProblemError(400, 'malformed-json', 'Malformed JSON', `The body is not valid JSON${where}`);
}

/**
 * A NUL, or a UTF-16 surrogate not in a pair (with the u flag a well-formed pair is one code point and does not
 * match): one pass over each string.
 */
const UNSTORABLE = /[\0\p{Cs}]/u;
/**
 * True when any string (or key) in a parsed query, params or JSON body holds text PostgreSQL cannot store: a NUL
 * character, or a lone surrogate (not Unicode at all; JSON allows it as an escape).
 */
export function containsUnstorableText(value: unknown): boolean {
  return unstorableTextAt(value) !== undefined;
}

/**
 * Where the first such string (or key) is, as a JSON pointer ("" for the value itself, "/items/0/name"), or
 * undefined when there is none: the refusal names the field, as every other 400 does, so a form can mark it.
 * Iterative, so a deeply nested body cannot overflow the stack; the pointer is built only for the one found.
 */
function unstorableTextAt(value: unknown): string | undefined {
  const stack: { v: unknown; parent: number; key: string }[] = [{ v: value, parent: -1, key: '' }];
  // Every entry popped, kept to walk the found one's parents back to the root.
  const seen: { parent: number; key: string }[] = [];
  const pointer = (at: number, last?: string): string => {
    const keys = last === undefined ? [] : [last];
    for (let i = at; i > 0; i = seen[i]!.parent) keys.push(seen[i]!.key);
    return keys
      .reverse()
      .map((k) => `/${pointerToken(k)}`)
      .join('');
  };
  while (stack.length > 0) {
    const { v, parent, key } = stack.pop()!;
    const at = seen.push({ parent, key }) - 1;
    if (typeof v === 'string') {
      if (UNSTORABLE.test(v)) return pointer(at);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], parent: at, key: String(i) });
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v);
      for (const [k] of entries) if (UNSTORABLE.test(k)) return pointer(at, k);
      for (let i = entries.length - 1; i >= 0; i--) stack.push({ v: entries[i]![1], parent: at, key: entries[i]![0] });
    }
  }
  return undefined;
}

/**
 * A route with no body schema takes no body (NO_BODY_LIMIT bounds what is read): an empty object, as a client may
 * send, is fine; anything else is a 400 naming it, like an unknown property of a route that has a schema, rather
 * than silently ignored. A body the gateway streams through (request.body is the stream) is not looked at.
 */
function unexpectedBody(request: FastifyRequest): BadRequest | undefined {
  const body = parsedBody(request);
  if (body === undefined || request.routeOptions.schema?.body !== undefined) return undefined;
  return notEmpty(body);
}

/** The 400 for a parsed body where none is taken, naming its first key; undefined for an empty object. */
function notEmpty(body: unknown): BadRequest | undefined {
  const keys = body !== null && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : undefined;
  if (keys?.length === 0) return undefined;
  return new BadRequest('This request takes no body', [keys === undefined ? { path: '/', message: 'must be empty' } : { path: `/${keys[0]}`, message: 'unknown property' }]);
}

/** The request's parsed body; undefined when there is none or when it is a stream the gateway passes through unparsed. */
function parsedBody(request: FastifyRequest): unknown {
  return typeof (request.body as { pipe?: unknown } | null)?.pipe === 'function' ? undefined : request.body;
}

/**
 * The 400 for a NUL or a lone surrogate in params, query or body. Not walked: headers (Node's parser refuses a
 * NUL there: 400) and a body the gateway streams through unparsed (request.body is the stream; the service
 * behind checks it).
 */
function unstorableTextIn(request: FastifyRequest): BadRequest | undefined {
  // Named as the validator names a field: `params/id`, `querystring/q`, a body's JSON pointer (`/name`).
  const urlAt = urlUnread(request)
    ? undefined
    : ([['params', request.params], ['querystring', request.query]] as const)
        .map(([part, value]) => {
          const at = unstorableTextAt(value);
          return at === undefined ? undefined : `${part}${at}`;
        })
        .find((at) => at !== undefined);
  const at = urlAt ?? unstorableTextAt(parsedBody(request));
  if (at === undefined) return undefined;
  return new BadRequest('Text must not contain NUL (\\u0000) characters nor unpaired surrogates (\\ud800-\\udfff)', [
    { path: at === '' ? '/' : memberPath(at), message: 'must not contain a NUL character (U+0000) or an unpaired surrogate' },
  ]);
}

/**
 * The answer a service gives the body of a GET or HEAD (requestGuards reads it as a route without a body schema reads
 * one), for a server that passes bodies through unparsed and whose proxy cannot forward that one (the gateway):
 * undefined when it is empty (no content, whatever its type: chunked `0`) or `{}`, which asks nothing, else the
 * service's 413, 415 or 400.
 */
export function bodylessRequestBodyProblem(contentType: string | undefined, body: Buffer): ProblemError | undefined {
  if (body.length === 0) return undefined;
  if (body.length > NO_BODY_LIMIT) return payloadTooLarge(NO_BODY_LIMIT);
  if (contentType?.split(';')[0]?.trim().toLowerCase() !== 'application/json') return unsupportedType(contentType);
  if (!isUtf8(body)) return notUtf8();
  const text = body.toString('utf8');
  if (text.trim() === '') return new ProblemError(400, 'malformed-json', 'Malformed JSON', 'The body is empty; send a JSON value');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (parseErr) {
    return invalidJson(parseErr as Error);
  }
  return notEmpty(value);
}

/** The longest member path a refusal names: a body nested 30,000 deep has a pointer of 60 KB (the answer stays small). */
const MAX_MEMBER_PATH = 256;
const memberPath = (path: string) => (path.length > MAX_MEMBER_PATH ? `${path.slice(0, MAX_MEMBER_PATH)}...` : path);
const repeatedMember = (path: string) =>
  new BadRequest('A JSON object names this member twice (RFC 8259 4, RFC 7493 2.3): send it once', [
    { path: memberPath(path), message: 'must be sent once' },
  ]);
const roundedNumber = (path: string) =>
  new BadRequest('A number in the body is a whole number only once rounded to a double (1e-400 reads as 0): send the number itself (RFC 7493 2.2)', [
    { path: memberPath(path), message: 'must be a whole number as written, not one that only rounding makes whole' },
  ]);
const notUtf8 = () => new BadRequest('The body is not UTF-8 text (JSON must be: RFC 8259)');
const unsupportedType = (contentType: string | undefined) =>
  new ProblemError(415, 'unsupported-media-type', 'Unsupported media type', `Content type ${namedContentType(contentType)} is not supported; send application/json`);

