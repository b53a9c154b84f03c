// Each upstream's prefix forwarded as is, with the request id, the trace context and the client address
// this gateway saw; an upstream that is down or slow is a 503/504 problem, like the ingress would answer.
import { METHODS, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import proxy from '@fastify/http-proxy';
import fp from 'fastify-plugin';
import { Pool, type Dispatcher } from 'undici';
import { BadRequest, KIT_PLUGINS, ProblemError, ServiceUnavailable, bodylessRequestBodyProblem, clientGone, forwardedTracestate, loggedMessage, traceparentOf, type App } from '@ecommerce/kit';
import { bufferedBodyOf } from './buffered-bodies.js';
import type { Upstream } from '../upstreams.js';

export interface UpstreamProxyOptions {
  upstreams: Upstream[];
  /** Deadline for an upstream's answer headers, then for its body. */
  timeoutMs: number;
}

/** RFC 9110 7.6.1: the headers about one connection, which a proxy must not forward. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);

/**
 * Who the client is and how it reached us, as a client could claim it: the edge says that itself (X-Forwarded-For
 * and X-Forwarded-Proto below), so a client's own versions never reach a service, where a framework's proxy
 * support or a future rate limit could believe them. The scheme's other spellings (nginx's X-Forwarded-Scheme and
 * X-Scheme, X-Forwarded-Ssl, Microsoft's Front-End-Https, X-Url-Scheme) are claims of X-Forwarded-Proto's kind.
 */
const CLIENT_ADDRESS_CLAIMS = new Set([
  'forwarded',
  'x-real-ip',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-client-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'x-cluster-client-ip',
  'x-forwarded-scheme',
  'x-scheme',
  'x-forwarded-ssl',
  'front-end-https',
  'x-url-scheme',
]);

/**
 * Another URL, host or method than the request line's, as a client could claim it: the route and method the
 * gateway judged are the ones sent, so a framework or proxy behind that honoured one of these (IIS/Symfony's
 * X-Original-URL and X-Rewrite-URL, method-override middleware) could not be made to serve another route or method
 * than the one forwarded. So are the headers a proxy's sub-request for authorization names the original request with
 * (nginx auth_request's X-Original-URI and X-Original-Method, Traefik forwardAuth's X-Forwarded-Uri and
 * X-Forwarded-Method, X-Forwarded-Path, Envoy's X-Envoy-Original-Path): an authorizer behind that read them would judge
 * the route a client named, not the one sent. Nothing behind reads them today; they are dropped like the address
 * claims above.
 */
const ROUTING_OVERRIDE_CLAIMS = [
  'x-original-url',
  'x-rewrite-url',
  'x-original-uri',
  'x-original-method',
  'x-forwarded-uri',
  'x-forwarded-method',
  'x-forwarded-path',
  'x-envoy-original-path',
  'x-host',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
];

/**
 * The request fields the services read (route schemas, the kit's guards and preconditions): meant for the service,
 * never for one connection. RFC 9110 7.6.1 has a proxy drop every field its Connection names, and forbids a sender to
 * name such a field there; a client that did had it dropped on the way: its token (a 401 for a token sent), its
 * Idempotency-Key (a retried stock change applied twice, a retried refresh taken for a token's reuse and the session ended), its If-Match (a conditional change
 * made unconditional), its Content-Type. Such a request is refused instead (connectionOptionProblem), never forwarded
 * without them. The fields the gateway sets itself (X-Request-Id, traceparent, X-Forwarded-For, Host) need no entry.
 */
const SERVICE_FIELDS = new Set([
  'authorization',
  'cookie',
  'idempotency-key',
  'content-type',
  'content-encoding',
  'accept',
  'prefer',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
]);

/** The 400 for a Connection that names one of SERVICE_FIELDS (any case, anywhere in the list, on any of its lines). */
function connectionOptionProblem(connection: string | undefined): ProblemError | undefined {
  if (connection === undefined) return undefined;
  const named = connection
    .split(',')
    .map((option) => option.trim().toLowerCase())
    .find((option) => SERVICE_FIELDS.has(option));
  if (named === undefined) return undefined;
  return new BadRequest(`Connection names ${named}, a field for the service, not for one connection (RFC 9110 7.6.1): it would be dropped on the way`, [
    { path: 'headers/connection', message: `must not name ${named}` },
  ]);
}

/** What a client sends that never reaches a service (besides the hop-by-hop headers). */
const CLIENT_CLAIMS = new Set([...CLIENT_ADDRESS_CLAIMS, ...ROUTING_OVERRIDE_CLAIMS]);

const NONE = new Set<string>();

/**
 * Every method Node's parser reads but CONNECT (a tunnel, which the kit answers 405): the service behind knows which
 * of them a path serves, so its 405 and `Allow` reach the client (the proxy's default seven made any other a 404 here).
 */
const FORWARDED_METHODS = METHODS.filter((m) => m !== 'CONNECT');

/**
 * Headers without the hop-by-hop ones (and those their Connection names), without a traceresponse, and without
 * those named in `alsoDropped` (lower case).
 */
function endToEndHeaders<T extends Record<string, unknown>>(headers: T, alsoDropped: Set<string> = NONE): Partial<T> {
  const named = new Set(String(headers.connection ?? '').toLowerCase().split(',').map((h) => h.trim()));
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!HOP_BY_HOP.has(lower) && !named.has(lower) && lower !== 'traceresponse' && !alsoDropped.has(lower)) kept[name] = value;
  }
  return kept as Partial<T>;
}

/**
 * A client that goes away before its answer aborts the request sent upstream for it, as an ingress does (nginx
 * closes its upstream connection): the service behind then sees its caller go. Without it a browser reloading during
 * its refresh had the rotation committed for an answer nobody would read, and the next page's refresh with the old
 * token ended the session as a reuse (docs/api.md, "Refresh token in a cookie").
 */
const clientSignals = new WeakMap<object, AbortSignal>();

/**
 * A path with a `..` segment, as written or percent-encoded: reply-from and http-proxy refuse it (a traversal out of
 * the prefix) with the detail "source/request contain invalid characters"; said plainly here instead, by their rules
 * (reply-from's buildURL: the decoded path is `..`, or has `/..` or `../`; http-proxy's validateDestination: a decoded
 * segment is `..` once a backslash, written or `%5C`, is read as a slash, as the WHATWG URL parser reads it for http,
 * so `/order/\..\metrics` is refused there). Undefined for every other path.
 */
function dotSegmentProblem(url: string): ProblemError | undefined {
  const end = url.indexOf('?');
  const path = end === -1 ? url : url.slice(0, end);
  if (!path.includes('..') && !/%2e/i.test(path)) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return undefined; // the kit's bad percent-encoding answer comes first
  }
  const dotsBySlash = decoded === '..' || decoded.includes('/..') || decoded.includes('../');
  if (!dotsBySlash && !decoded.replaceAll('\\', '/').split('/').includes('..')) return undefined;
  return new ProblemError(400, 'bad-request', 'Bad request', "The path has a '..' segment (or dots next to a slash), written or percent-encoded, or between backslashes: it is not forwarded");
}

/**
 * A GET or HEAD with a body (read whole by buffered-bodies): reply-from cannot send one upstream (it throws, a 500), and
 * Fastify served it with the body unread. Judged here as a service judges it (bodylessRequestBodyProblem): `{}` goes on
 * without it, anything else is the service's 400, 413 or 415.
 */
function bodylessRequestBody(request: ProxiedFastifyRequest): ProblemError | undefined {
  if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
  const body = bufferedBodyOf(request);
  if (body === undefined) return undefined;
  const problem = bodylessRequestBodyProblem(request.headers['content-type'], body);
  if (problem) return problem;
  request.body = undefined;
  for (const name of ['content-length', 'content-type', 'transfer-encoding']) delete request.raw.headers[name];
  return undefined;
}

type ProxiedFastifyRequest = { raw: IncomingMessage; url: string; method: string; headers: IncomingHttpHeaders; body: unknown };

/**
 * The proxied routes' preHandler: a `..` path, a Connection naming a field for the service or a GET's body refused; any
 * other watched for its client going (watchClient).
 */
function beforeProxying(request: ProxiedFastifyRequest, reply: { raw: ServerResponse }, done: (err?: Error) => void): void {
  const refused = dotSegmentProblem(request.url) ?? connectionOptionProblem(request.headers.connection) ?? bodylessRequestBody(request);
  if (refused) return done(refused);
  watchClient(request, reply);
  done();
}

/** The signal that aborts the request's upstream call when its client goes: one listener on the answer, no timer. */
function watchClient(request: { raw: { socket?: unknown } }, reply: { raw: ServerResponse }): void {
  const controller = new AbortController();
  const res = reply.raw;
  // Gone already (while its body was read, say): its 'close' has been and will not come again.
  if (clientGone(request)) controller.abort();
  // Closed before its answer was all written: the connection is gone (an answer written whole closes afterwards).
  res.once('close', () => {
    if (!res.writableEnded) controller.abort();
  });
  clientSignals.set(request, controller.signal);
}

/** How the request travels from rewriteRequestHeaders to the pool: reply-from passes no signal of its own to undici. */
const CLIENT_REQUEST = Symbol('client request');

type ProxiedRequest = Dispatcher.RequestOptions & { headers: Record<string | symbol, unknown> };
type RequestCallback = (err: Error | null, data: Dispatcher.ResponseData) => void;
type Logger = App['log'];
interface LoggedRequest {
  log: Logger;
  /** The target as the client sent it (origin form: an absolute-form one was cut to it by the kit's rewriteUrl). */
  url: string;
}

/** reply-from's line for a failed upstream call: the whole error, stack included (2 KB for an abort), at warn. */
const LIBRARY_ERROR_LINE = 'response errored';

/**
 * The request's logger without reply-from's line for a failed upstream call, set once a call failed (no cost on the
 * way of a request that succeeds): the onError below says it in one line (upstream, code, message), and a client gone
 * is the kit's one info line (499). A client's hang-up wrote a 2 KB warn line (an AbortError and its stack) each.
 */
function withoutLibraryErrorLine(request: LoggedRequest): void {
  const log = request.log;
  const warn = log.warn.bind(log) as (...args: unknown[]) => void;
  request.log = Object.create(log, {
    warn: { value: (...args: unknown[]) => (args[1] === LIBRARY_ERROR_LINE ? undefined : warn(...args)) },
  }) as Logger;
}

/**
 * An upstream's pool that sends each request with its client's signal (reply-from takes any object with `request`),
 * to the client's own target, and quiets reply-from's line when the call fails.
 *
 * The target goes on as the client sent it (the prefix is not rewritten): reply-from builds the upstream URL with the
 * WHATWG parser, which rewrote it. A backslash became a slash and a `.` or `%2e` segment was dropped, so
 * `/user/token\refresh` reached the user service as its refresh route (a 404 there directly) and `/product/x/%2e` as
 * `/product/x/`, while the gateway's log line named what was sent; `"`, `<`, `>`, `{`, `}` and a backtick were
 * percent-encoded. reply-from still checks its URL (a `..` or a target outside the prefix is refused before this, and
 * beforeProxying refuses a `..` segment however written), and the kit has refused a NUL, a bad escape and what Node
 * cannot parse, so the target is one undici sends as it is.
 */
class ClientAbortablePool {
  constructor(readonly pool: Pool) {}

  request(opts: ProxiedRequest, callback: RequestCallback): void {
    const { [CLIENT_REQUEST]: client, ...headers } = opts.headers;
    const request = client as LoggedRequest | undefined;
    const signal = request ? clientSignals.get(request) : undefined;
    const path = request ? request.url : opts.path;
    this.pool.request({ ...opts, path, headers: headers as Record<string, string>, signal }, (err, data) => {
      if (err && request) withoutLibraryErrorLine(request);
      callback(err, data);
    });
  }
}

/** An upstream error's code: undici's own (UND_ERR_*), or a system one (ECONNREFUSED) that reply-from wrapped as its cause. */
function upstreamErrorCode(error: Error): string {
  const { code, cause } = error as { code?: unknown; cause?: { code?: unknown } };
  if (typeof cause?.code === 'string') return cause.code;
  return typeof code === 'string' ? code : '';
}

export const upstreamProxy = fp<UpstreamProxyOptions>(
  async (app, { upstreams, timeoutMs }) => {
    // Fastify routes the standard methods and QUERY; the others (PROPFIND, LOCK...) are added, each possibly with a body.
    for (const method of FORWARDED_METHODS) if (!app.supportedMethods.includes(method)) app.addHttpMethod(method, { hasBody: true });
    for (const u of upstreams) {
      const service = u.prefix.slice(1);
      // undici (keep-alive pool) rather than node:http: the profile showed http.Agent as the gateway's main cost.
      const pool = new Pool(u.url, { connections: 128, pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      // reply-from leaves a pool it was given open: closed with the server.
      app.addHook('onClose', () => pool.close());
      await app.register(proxy, {
        upstream: u.url,
        prefix: u.prefix,
        rewritePrefix: u.prefix,
        httpMethods: FORWARDED_METHODS,
        undici: new ClientAbortablePool(pool) as unknown as Pool,
        preHandler: beforeProxying,
        // reply-from's two info lines per request ("fetching from remote server", "response received"): the kit's
        // one request line already says what was asked, the answer's status and its time.
        disableRequestLogging: true,
        replyOptions: {
          // Never sent again: reply-from retried a GET answered 503 up to ten times (Retry-After read as milliseconds),
          // eleven requests to a service for each one a client sent, just when it said it could take no more. The 503
          // and its Retry-After go to the client, who decides; an ingress does not retry a 503 either.
          retryDelay: () => null,
          onError: (reply, { error }) => {
            // Aborted for a client gone (watchClient): not the upstream's fault, and nobody to answer; the kit logs
            // and counts an error on a closed connection as a 499.
            if (clientGone(reply.request)) return reply.send(error);
            const code = upstreamErrorCode(error);
            const timedOut = /TIMEOUT/i.test(code) || (error as { statusCode?: number }).statusCode === 504;
            reply.log.warn({ upstream: u.prefix, code, detail: loggedMessage(error) }, 'upstream error');
            reply.send(
              timedOut
                ? new ProblemError(504, 'upstream-timeout', 'Gateway timeout', `The ${service} service did not answer in time`)
                : new ServiceUnavailable(`The ${service} service is unavailable`),
            );
          },
          // The client quotes the edge's trace and span (the kit's request context set them), not the upstream's;
          // and the client's connection is this server's to manage (a client's `Connection: close` is honoured).
          rewriteHeaders: (headers) => endToEndHeaders(headers),
          rewriteRequestHeaders: (request, headers) => {
            // `Expect: 100-continue` was answered by this server already (Node sends the 100 before the
            // request is routed); undici refuses to send it upstream, which made every such request a 503.
            // The client's hop-by-hop headers are about its connection to us: undici refuses `Keep-Alive` and
            // `Upgrade` (any client could make a 503, counted as the upstream's error), the rest mean nothing there.
            const { expect: _expect, tracestate: _tracestate, ...rest } = endToEndHeaders(headers, CLIENT_CLAIMS);
            const tracestate = forwardedTracestate(request.headers);
            return {
              ...rest,
              [CLIENT_REQUEST]: request,
              'x-request-id': request.id,
              traceparent: traceparentOf(request.trace),
              // The client's, only with the traceparent it came with (with tracing on the propagator writes its own).
              ...(tracestate === undefined ? {} : { tracestate }),
              // Set, never appended: the client address this gateway sees (request.ip is the peer unless
              // TRUST_PROXY names a proxy in front of us). A client-sent X-Forwarded-For would otherwise
              // choose the address the user service throttles.
              'x-forwarded-for': request.ip,
              'x-forwarded-proto': request.protocol,
            };
          },
        },
      });
    }
  },
  { name: 'gateway-upstream-proxy', fastify: '5.x', dependencies: [KIT_PLUGINS.requestContext, KIT_PLUGINS.problemErrors] },
);
