import { randomBytes, randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import helmet from '@fastify/helmet';
import underPressure from '@fastify/under-pressure';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { BadRequest, NotFound, ProblemError, ServiceUnavailable, errorCode, isUnavailableError, problemBody, type FieldError } from './errors.js';
import { Metrics } from './metrics.js';
import { bodyLimitFor } from './body-limit.js';
import type { ProxyTrust } from './proxy-trust.js';

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface TraceContext {
  traceId: string;
  /** This service's span for the request; outgoing calls use it as their parent. */
  spanId: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
    serviceName: string;
  }
  interface FastifyRequest {
    trace: TraceContext;
  }
}

export interface ServerOptions {
  /** Service name: metric label, log field, OpenAPI title. */
  name: string;
  /** Public path prefix, e.g. `/user`; docs live under it. */
  prefix: string;
  version: string;
  description: string;
  logLevel: string;
  /** Throws when the service cannot serve (e.g. its database does not answer). */
  readiness: () => Promise<void>;
  faultInjection?: boolean;
  metrics?: Metrics;
  /** Where the JSON log lines go (stdout by default; tests capture them). */
  logStream?: NodeJS.WritableStream;
  /** Serve /metrics on this server (the gateway serves it on a port of its own instead). */
  metricsRoute?: boolean;
  /** Serve /<prefix>/openapi.json and /<prefix>/docs (the gateway does not). */
  docs?: boolean;
  /** Which peer may tell the client address in X-Forwarded-For (see proxyTrust), so request.ip is the client. */
  trustProxy?: ProxyTrust | false;
  /** Socket-level limits (tests shorten them); defaults in SERVER_LIMITS. */
  limits?: Partial<typeof SERVER_LIMITS>;
}

export const BODY_LIMIT = 1024 * 1024;
/** The default body limit stays 1 MiB (API.md); routes whose bodies are small set a tighter `bodyLimit`. */
export const SMALL_BODY_LIMIT = 64 * 1024;
/** At most this many field errors are listed in a 400, so an error body stays small whatever the input. */
export const MAX_FIELD_ERRORS = 20;
/**
 * A slow client cannot hold a connection: the whole request (headers and body) must arrive within
 * requestTimeoutMs, headers within headersTimeoutMs (Node checks both every checkIntervalMs); a connection
 * idle that long without a request in progress is closed. A browser or a proxy's keep-alive pool never sends
 * maxRequestsPerSocket requests on one connection; the cap only rotates connections (and their balancing).
 * keepAliveMs stays above the gateway's and common clients' own idle timeouts (undici: 4 s), so the server
 * never closes a connection a client is about to reuse.
 */
export const SERVER_LIMITS = {
  requestTimeoutMs: 20_000,
  headersTimeoutMs: 10_000,
  checkIntervalMs: 1_000,
  keepAliveMs: 72_000,
  maxRequestsPerSocket: 10_000,
};
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
const OPERATIONAL_PATHS = new Set(['/livez', '/readyz', '/metrics']);

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
function makeAjv(coerce: boolean): Ajv {
  // Bodies are strict (a string "5" is not a number); query strings and params are text, so they are coerced.
  // allErrors stays off: validation stops at the first error, so a hostile body (150,000 array items,
  // 100,000 unknown keys) costs one check instead of an error object per element (which ran a 128 MB heap
  // out of memory), and an array's maxItems is checked before any of its items.
  const ajv = new Ajv({ allErrors: false, removeAdditional: false, useDefaults: true, coerceTypes: coerce ? 'array' : false, strict: false });
  return addFormats(ajv);
}

// Trace and span ids come from a pooled random buffer: one getRandomValues call per 256 ids, not one per request.
let pool = Buffer.alloc(0);
let poolOffset = 0;
export function randomHex(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return hex;
}

const PROBLEM_RESPONSE = {
  description: 'An RFC 9457 problem (validation errors carry errors[{path, message}])',
  content: {
    'application/problem+json': {
      schema: Type.Object(
        {
          type: Type.String({ format: 'uri' }),
          title: Type.String(),
          status: Type.Integer(),
          detail: Type.String(),
          instance: Type.String(),
          errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
        },
        { additionalProperties: true },
      ),
    },
  },
};

export function traceparentOf(trace: TraceContext): string {
  return `00-${trace.traceId}-${trace.spanId}-01`;
}

export async function createServer(opts: ServerOptions): Promise<App> {
  const metrics = opts.metrics ?? new Metrics(opts.name, opts.version);
  const limits = { ...SERVER_LIMITS, ...opts.limits };
  const app = Fastify({
    logger: {
      level: opts.logLevel,
      base: { service: opts.name, version: opts.version },
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', '*.password', '*.refreshToken', '*.accessToken', '*.client_secret', '*.secret'],
        censor: '[redacted]',
      },
      ...(opts.logStream ? { stream: opts.logStream } : {}),
    },
    // One line per request is written by our onResponse hook instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    bodyLimit: BODY_LIMIT,
    http: { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: limits.checkIntervalMs },
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
    // Errors the router raises before any route runs (bad percent-encoding, a path parameter over
    // maxParamLength) get the same problem+json as everything else; a too-long id names nothing: 404.
    frameworkErrors: (err, request, reply) => {
      const problem =
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new ProblemError(404, 'not-found', 'Not found', 'The resource does not exist')
          : new ProblemError(400, 'bad-request', 'Bad request', err.code === 'FST_ERR_BAD_URL' ? 'The URL is not valid (bad percent-encoding)' : 'The request is not valid');
      sendProblem(problem, request, reply);
    },
    // Errors Node's HTTP parser raises before Fastify sees a request (headers too large, request timeout,
    // malformed request line) are answered as problem+json too, and the connection is closed.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Socket) => writeClientError(err, socket),
    // Requests that still arrive while draining are answered by our onRequest hook (problem+json, warn),
    // not by Fastify's fast path, which writes its own JSON.
    return503OnClosing: false,
    trustProxy: opts.trustProxy ?? false,
    ajv: { customOptions: {} },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // `Expect: 100-continue` (curl sends it for bodies over 1 MiB): a body announced larger than any route
  // accepts is refused at once, before the client sends it; otherwise the 100 goes out and the request is
  // served as usual (this is what Node does when nobody listens for checkContinue).
  app.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (Number(req.headers['content-length'] ?? 0) > BODY_LIMIT) {
      const instance = (req.url ?? '/').split('?')[0] ?? '/';
      const body = JSON.stringify(problemBody(new ProblemError(413, 'payload-too-large', 'Payload too large', 'Payload too large'), instance));
      res.writeHead(413, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body), connection: 'close' }).end(body);
      return;
    }
    res.writeContinue();
    app.server.emit('request', req, res);
  });

  // Every API body is JSON: other content types get 415 instead of being parsed as text.
  app.removeContentTypeParser('text/plain');
  const bodyAjv = makeAjv(false);
  const textAjv = makeAjv(true);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));
  // After validation (a hostile body with 100,000 unknown keys is refused by the schema at its first key,
  // not walked here), before any handler: no string with a NUL reaches PostgreSQL, which answers a 500.
  app.addHook('preHandler', async (request) => refuseNul(request));
  // Each route with a bounded body schema reads no more than its largest valid body (see body-limit.ts);
  // a route may still set its own bodyLimit.
  app.addHook('onRoute', (route) => {
    if (route.bodyLimit === undefined && route.schema?.body) {
      const limit = bodyLimitFor(route.schema.body, BODY_LIMIT);
      if (limit !== undefined) route.bodyLimit = limit;
    }
  });

  app.decorate('metrics', metrics);
  app.decorate('serviceName', opts.name);
  app.decorateRequest('user', null);
  app.decorateRequest('serviceClient', null);
  app.decorateRequest('trace', null as unknown as TraceContext);

  let faultRatio = 0;
  // Requests counted in http_server_active_requests, so each is taken off exactly once (answered or aborted).
  const activeCounted = new WeakSet<FastifyRequest>();
  const notActive = (request: FastifyRequest) => {
    if (activeCounted.delete(request)) metrics.httpServerActiveRequests.dec({ http_request_method: request.method });
  };
  app.addHook('onRequestAbort', async (request) => notActive(request));
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    const tp = request.headers.traceparent;
    const m = typeof tp === 'string' ? TRACEPARENT.exec(tp) : null;
    request.trace = { traceId: m?.[1] ?? randomHex(16), spanId: randomHex(8) };
    if (!OPERATIONAL_PATHS.has(request.url)) {
      metrics.httpServerActiveRequests.inc({ http_request_method: request.method });
      activeCounted.add(request);
    }
    if (faultRatio > 0 && !OPERATIONAL_PATHS.has(request.url) && !request.url.startsWith('/internal/') && Math.random() < faultRatio) {
      throw new ProblemError(500, 'internal-error', 'Internal server error', 'Injected fault (test only)');
    }
  });

  // Histogram children cached per (method, route, status): prom-client would otherwise hash a label object per request.
  const observers = new Map<string, { observe(v: number): void }>();
  app.addHook('onResponse', async (request, reply) => {
    notActive(request);
    const route = request.routeOptions.url ?? 'unmatched';
    const operational = OPERATIONAL_PATHS.has(route);
    if (!operational) {
      const key = `${request.method} ${route} ${reply.statusCode}`;
      let observer = observers.get(key);
      if (!observer) {
        observer = metrics.httpServerDuration.labels({ http_request_method: request.method, http_route: route, http_response_status_code: String(reply.statusCode) });
        observers.set(key, observer);
      }
      observer.observe(reply.elapsedTime / 1000);
    }
    // One line per request; built only when its level is enabled (it is the hottest allocation here).
    // A 503 is expected (a dependency is down, the service is draining) and says so to the client: warn.
    // Only a 500 (a bug) or a 504 is an error. request.log already carries reqId.
    const status = reply.statusCode;
    const level = status >= 500 ? (status === 503 ? 'warn' : 'error') : operational ? 'debug' : 'info';
    if ((LEVELS[level] ?? 30) < (LEVELS[request.log.level] ?? 30)) return;
    request.log[level](
      {
        traceId: request.trace?.traceId,
        spanId: request.trace?.spanId,
        method: request.method,
        route,
        path: request.url.split('?')[0],
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
        userId: request.user?.id,
        clientId: request.serviceClient?.clientId,
      },
      'request',
    );
  });

  app.setErrorHandler((err: FastifyError | ProblemError | Error, request, reply) => sendProblem(err, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(new ProblemError(404, 'not-found', 'Not found', `No route for ${request.method.slice(0, 16)} ${echoedPath(request.url)}`), request, reply),
  );

  // The headers that matter for a JSON API (no HTML is served but the docs page, which sets its own CSP);
  // helmet's browser-document extras (DNS prefetch, download options, origin-agent-cluster...) are left out.
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'same-site' },
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  });
  await app.register(underPressure, { maxEventLoopDelay: 2000, exposeStatusRoute: false, retryAfter: 5 });

  if (opts.docs !== false) {
    await app.register(swagger, {
      // Every documented operation can also answer an RFC 9457 problem; say so once, here, for all of them.
      transform: ({ schema, url }) => {
        if (!schema || schema.hide) return { schema, url };
        const response = { ...(schema.response as Record<string, unknown> | undefined), '4XX': PROBLEM_RESPONSE, '5XX': PROBLEM_RESPONSE };
        return { schema: { ...schema, response }, url };
      },
      openapi: {
        openapi: '3.1.0',
        info: { title: `${opts.name} service`, version: opts.version, description: opts.description },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      },
    });
    await app.register(swaggerUi, { routePrefix: `${opts.prefix}/docs`, staticCSP: true });
    app.get(`${opts.prefix}/openapi.json`, { schema: { hide: true } }, async () => app.swagger());
  }

  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  app.addHook('onRequest', async (request) => {
    if (draining && !OPERATIONAL_PATHS.has(request.url)) {
      throw new ProblemError(503, 'service-unavailable', 'Service unavailable', 'The service is shutting down; retry', {}, { 'retry-after': '1' });
    }
  });
  // While draining, responses close their connection: a keep-alive socket would otherwise hold the
  // server open until its idle timeout, long after the last in-flight request finished.
  app.addHook('onSend', async (_request, reply) => {
    if (draining) reply.header('connection', 'close');
  });

  app.get('/livez', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async () => {
    if (draining) throw new ProblemError(503, 'not-ready', 'Not ready', 'Shutting down');
    try {
      await withTimeout(opts.readiness(), 2000);
    } catch (err) {
      app.log.warn({ err }, 'readiness check failed');
      throw new ProblemError(503, 'not-ready', 'Not ready', 'A dependency is not ready');
    }
    return { status: 'ready' };
  });
  if (opts.metricsRoute !== false) {
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    });
  }

  if (opts.faultInjection) {
    app.log.warn('FAULT_INJECTION is enabled: PUT /internal/fault can make this service fail (test only)');
    app.put(
      '/internal/fault',
      { schema: { hide: true, body: Type.Object({ errorRatio: Type.Number({ minimum: 0, maximum: 1 }) }, { additionalProperties: false }) } },
      async (request) => {
        faultRatio = request.body.errorRatio;
        return { errorRatio: faultRatio };
      },
    );
  }
  return app;
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function fieldErrors(errors: ErrorObject[], context: string | undefined): FieldError[] {
  const prefix = !context || context === 'body' ? '' : context;
  return errors.slice(0, MAX_FIELD_ERRORS).map((e) => {
    let path = e.instancePath;
    const p = e.params as { missingProperty?: string; additionalProperty?: string };
    if (e.keyword === 'required' && p.missingProperty) path += `/${p.missingProperty}`;
    if (e.keyword === 'additionalProperties' && p.additionalProperty) path += `/${p.additionalProperty}`;
    const message = e.keyword === 'additionalProperties' ? 'unknown property' : (e.message ?? 'is not valid');
    return { path: prefix + (path || (prefix ? '' : '/')), message };
  });
}

const FASTIFY_CLIENT_ERRORS: Record<string, [number, string, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'malformed-json', 'Malformed JSON'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'malformed-json', 'Empty JSON body'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload-too-large', 'Payload too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported-media-type', 'Unsupported media type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'bad-request', 'Bad request'],
};

/** Paths are echoed in problems (instance, a 404's detail) only up to this length: an error body stays small. */
const MAX_ECHOED_PATH = 256;
function echoedPath(url: string): string {
  const path = url.split('?')[0] ?? '/';
  return path.length > MAX_ECHOED_PATH ? `${path.slice(0, MAX_ECHOED_PATH)}...` : path;
}

function sendProblem(err: FastifyError | ProblemError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const instance = echoedPath(request.url);
  let problem: ProblemError;
  const fe = err as FastifyError & { validationContext?: string; type?: string };
  if (err instanceof ProblemError) {
    problem = err;
  } else if (fe.validation && fe.validationContext === 'params') {
    // A path parameter that cannot be an id (too long, wrong shape) names no resource, like an unknown id.
    problem = new NotFound();
  } else if (fe.validation) {
    const errors = fieldErrors(fe.validation as ErrorObject[], fe.validationContext);
    problem = new ProblemError(400, 'validation-failed', 'Request is not valid', `${errors.length} field(s) failed validation`, { errors });
  } else if (fe.code && FASTIFY_CLIENT_ERRORS[fe.code]) {
    const [status, slug, title] = FASTIFY_CLIENT_ERRORS[fe.code]!;
    problem = new ProblemError(status, slug, title, status === 415 ? `Content type ${String(request.headers['content-type'] ?? '(none)')} is not supported; send application/json` : title);
  } else if (err instanceof SyntaxError || fe.type === 'entity.parse.failed') {
    problem = new ProblemError(400, 'malformed-json', 'Malformed JSON', 'The body is not valid JSON');
  } else if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    problem = new ProblemError(fe.statusCode, 'bad-request', 'Bad request', fe.message);
  } else if (fe.statusCode === 503) {
    problem = new ProblemError(503, 'service-unavailable', 'Service unavailable', 'The service is overloaded or shutting down', {}, { 'retry-after': '5' });
  } else if (isUnavailableError(err)) {
    // The database (or a connection to it) is gone: expected during an outage, answered 503 + Retry-After.
    request.log.warn({ code: errorCode(err), msg: err.message }, 'dependency unavailable');
    problem = new ServiceUnavailable();
  } else {
    request.log.error({ err }, 'unhandled error');
    problem = new ProblemError(500, 'internal-error', 'Internal server error', `An unexpected error occurred; quote request id ${request.id}`);
  }
  for (const [k, v] of Object.entries(problem.headers)) reply.header(k, v);
  if (problem.status === 413) lingeringClose(reply);
  return reply.code(problem.status).type('application/problem+json').send(problemBody(problem, instance));
}

/** A minimal problem+json answer written straight to the socket, for errors Node's parser raises before any request exists. */
function writeClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, slug, detail] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request-timeout', 'The request was not received in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers-too-large', 'The request line and headers are too large']
        : [400, 'bad-request', 'The request is not valid HTTP'];
  const title = STATUS_CODES[status] ?? 'Error';
  const body = JSON.stringify(problemBody(new ProblemError(status, slug, title, detail), '/'));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroySoon();
}

const NUL = '\u0000';
/**
 * True when any string (or key) in a parsed query, params, headers or JSON body holds a NUL character,
 * which PostgreSQL cannot store in text. Iterative, so a deeply nested body cannot overflow the stack.
 */
export function containsNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes(NUL)) return true;
    } else if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        if (k.includes(NUL)) return true;
        stack.push(item);
      }
    }
  }
  return false;
}

export function refuseNul(request: FastifyRequest): void {
  if (containsNul(request.params) || containsNul(request.query) || containsNul(request.body) || containsNul(request.headers)) {
    throw new BadRequest('Text must not contain NUL (\\u0000) characters');
  }
}

/**
 * The rest of a too-large body is not read: the connection is closed after the answer instead of
 * draining megabytes. Node would destroy the socket right after the response (destroySoon); with body
 * bytes still arriving, the kernel then resets the connection and the client often never reads the 413.
 * So close the way nginx does ("lingering close"): FIN after the answer, keep reading and discarding
 * for up to 2 s while the client notices, then destroy.
 */
export function lingeringClose(reply: FastifyReply): void {
  reply.header('connection', 'close');
  const socket = reply.raw.socket;
  if (!socket) return;
  socket.destroySoon = function (this: Socket) {
    this.end();
    this.resume();
    setTimeout(() => this.destroy(), 2000).unref();
  };
}
