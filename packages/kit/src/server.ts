import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import helmet from '@fastify/helmet';
import underPressure from '@fastify/under-pressure';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { ProblemError, problemBody, type FieldError } from './errors.js';
import { Metrics } from './metrics.js';
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
}

export const BODY_LIMIT = 1024 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
const OPERATIONAL_PATHS = new Set(['/livez', '/readyz', '/metrics']);

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
function makeAjv(coerce: boolean): Ajv {
  // Bodies are strict (a string "5" is not a number); query strings and params are text, so they are coerced.
  const ajv = new Ajv({ allErrors: true, removeAdditional: false, useDefaults: true, coerceTypes: coerce ? 'array' : false, strict: false });
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
    return503OnClosing: true,
    trustProxy: opts.trustProxy ?? false,
    ajv: { customOptions: {} },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Every API body is JSON: other content types get 415 instead of being parsed as text.
  app.removeContentTypeParser('text/plain');
  const bodyAjv = makeAjv(false);
  const textAjv = makeAjv(true);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));

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
    const level = reply.statusCode >= 500 ? 'error' : operational ? 'debug' : 'info';
    if ((LEVELS[level] ?? 30) < (LEVELS[request.log.level] ?? 30)) return;
    request.log[level](
      {
        reqId: request.id,
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
    sendProblem(new ProblemError(404, 'not-found', 'Not found', `No route for ${request.method} ${request.url.split('?')[0]}`), request, reply),
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
  return errors.map((e) => {
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

function sendProblem(err: FastifyError | ProblemError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const instance = request.url.split('?')[0] ?? '/';
  let problem: ProblemError;
  const fe = err as FastifyError & { validationContext?: string; type?: string };
  if (err instanceof ProblemError) {
    problem = err;
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
  } else {
    request.log.error({ err, reqId: request.id }, 'unhandled error');
    problem = new ProblemError(500, 'internal-error', 'Internal server error', `An unexpected error occurred; quote request id ${request.id}`);
  }
  for (const [k, v] of Object.entries(problem.headers)) reply.header(k, v);
  return reply.code(problem.status).type('application/problem+json').send(problemBody(problem, instance));
}
