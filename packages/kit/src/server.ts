import { Server, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { BODY_LIMIT } from './body-limit.js';
import { loggedError } from './error-log.js';
import { stdoutLogDestination } from './log-destination.js';
import { MAX_HEADER_LINES } from './header-lines.js';
import type { Metrics } from './metrics.js';
import { noteRouteSegments } from './path-redaction.js';
import type { ProxyTrust } from './proxy-trust.js';
import { faultSwitch } from './plugins/fault-switch.js';
import { health } from './plugins/health.js';
import { httpMetrics } from './plugins/http-metrics.js';
import { openapiDocs } from './plugins/openapi-docs.js';
import { allowHeader, notePageRoute, problemErrors, routerErrorHandler, writeClientError, writeRawProblem } from './plugins/problem-errors.js';
import { requestContext, requestIdOf } from './plugins/request-context.js';
import { preconditions } from './plugins/preconditions.js';
import { requestGuards } from './plugins/request-guards.js';
import { requestLog } from './plugins/request-log.js';
import { securityHeaders } from './plugins/security-headers.js';

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

declare module 'fastify' {
  interface FastifyInstance {
    serviceName: string;
  }
}

export interface ServerOptions {
  /** Service name: metric label, log field, OpenAPI title. */
  name: string;
  /** Public path prefix, e.g. `/<service>`; docs live under it. */
  prefix: string;
  version: string;
  description: string;
  logLevel: string;
  /** Throws when the service cannot serve (e.g. its database does not answer). */
  readiness: () => Promise<void>;
  faultInjection?: boolean;
  /** The service's metrics registry (`app.metrics`); the caller makes it, so it can add its own before the app exists. */
  metrics: Metrics;
  /** Where the JSON log lines go (stdout by default; tests capture them). */
  logStream?: NodeJS.WritableStream;
  /** Serve /metrics on this server (a proxy may serve it on a port of its own instead). */
  metricsRoute?: boolean;
  /** Serve /<prefix>/openapi.json and /<prefix>/docs. */
  docs?: boolean;
  /** Which peer may tell the client address in X-Forwarded-For (see proxyTrust), so request.ip is the client. */
  trustProxy?: ProxyTrust | false;
  /** The app passes request bodies through unparsed (the gateway): the parsing service checks them, not this one. */
  bodiesStreamed?: boolean;
  /** The app forwards If-Match and If-None-Match to the services that evaluate them (the gateway): see preconditions.ts. */
  preconditionsForwarded?: boolean;
  /** Socket-level limits (tests shorten them); defaults in SERVER_LIMITS. */
  limits?: Partial<typeof SERVER_LIMITS>;
}

/**
 * A slow client cannot hold a connection: the whole request (headers and body) must arrive within
 * requestTimeoutMs, headers within headersTimeoutMs (Node checks both every checkIntervalMs); a connection
 * that sends nothing is closed after headersTimeoutMs, one idle after its last answer after keepAliveMs. A browser or a proxy's keep-alive pool never sends
 * maxRequestsPerSocket requests on one connection; the cap only rotates connections (and their balancing).
 * keepAliveMs stays above a proxy's and common clients' own idle timeouts (undici: 4 s), so the server
 * never closes a connection a client is about to reuse. While draining, a connection with no request in progress
 * stays open drainIdleMs for one that is already on its way (see drainIdleConnections).
 */
export const SERVER_LIMITS = {
  requestTimeoutMs: 20_000,
  headersTimeoutMs: 10_000,
  checkIntervalMs: 1_000,
  keepAliveMs: 72_000,
  maxRequestsPerSocket: 10_000,
  drainIdleMs: 1_000,
  /** Log text waiting for stdout's reader, at most (characters); past it lines are dropped (log-destination.ts). */
  logBufferChars: 8 * 1024 * 1024,
};

/**
 * Requests read on one connection while the one before them is still being answered (HTTP/1.1 pipelining), at most;
 * see createServer. No browser pipelines, and a client that does sends a few.
 */
export const MAX_PIPELINED_REQUESTS = 32;

/** Requests read past MAX_PIPELINED_REQUESTS waiting on a connection, and so never run nor answered. */
const PIPELINED_REQUESTS_DROPPED = 'http_pipelined_requests_dropped_total';

/** One connection's answer being written and the requests read behind it, in order (see createServer). */
interface PipelinedLine {
  answering: ServerResponse;
  waiting: [IncomingMessage, ServerResponse][];
  full: boolean;
  /** Requests read once it was full: dropped, never run. */
  dropped: number;
}

/**
 * Node's header timeout starts at a request's first byte, so a connection that never sends one would stay open
 * for good (a thousand of them held a process's descriptors for minutes): one that has sent nothing
 * within headersTimeoutMs is closed.
 */
export function closeSilentConnections(server: RawServerDefault, headersTimeoutMs: number): void {
  server.on('connection', (socket: Socket) => {
    const timer = setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, headersTimeoutMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
}

/**
 * Node's server.close() destroys at once every connection with no request in progress: an idle keep-alive one
 * the client is reusing at that moment, or one accepted whose request is not read yet. The request on its way
 * then meets a closed or reset connection (ECONNRESET) instead of an answer. While draining, those connections
 * stay open for idleGraceMs: a request read on one is answered (the health plugin's 503 + Retry-After, with
 * Connection: close, so Node ends the connection after it). Then Node's own closeIdleConnections closes the ones
 * still between requests; one in the middle of a request keeps its connection until the answer.
 * The drain stays bounded: runMain caps the grace at half of SHUTDOWN_TIMEOUT_MS (capDrainIdle).
 */
function drainIdleConnections(server: RawServerDefault, idleGraceMs: number): void {
  let grace: NodeJS.Timeout | undefined;
  // server.close() calls this (Node >= 19); an own property shadows the prototype's.
  server.closeIdleConnections = () => {
    const ms = Math.min(idleGraceMs, drainIdleCaps.get(server) ?? Infinity);
    grace ??= setTimeout(() => Server.prototype.closeIdleConnections.call(server), ms).unref();
  };
}

const drainIdleCaps = new WeakMap<RawServerDefault, number>();

/** At most this long for idle connections in the drain: a process given SHUTDOWN_TIMEOUT_MS must finish inside it. */
export function capDrainIdle(server: RawServerDefault, ms: number): void {
  drainIdleCaps.set(server, ms);
}

/**
 * The origin form (/path?query) of a request target; an absolute-form one has its scheme and authority cut off,
 * its path kept verbatim (not normalized: `..` means what it means in the origin form).
 */
function originForm(req: { url?: string }): string {
  const url = req.url ?? '/';
  if (url.charCodeAt(0) === 47 /* "/" */) return url;
  const rest = url.replace(/^https?:\/\/[^/?#]*/i, '');
  if (rest === url) return url;
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/**
 * A request Node's parser reads as a protocol switch (an Upgrade header and `upgrade` in Connection: a WebSocket
 * handshake, curl --http2's h2c). No server of ours switches, so Node serves it as a plain request (RFC 9110 7.8 lets
 * a server ignore Upgrade), but its parser has stopped reading HTTP on that connection: what came with it in the same
 * packet (a pipelined request) was dropped unanswered on a connection kept open until the keep-alive timeout (72 s),
 * and whatever it cannot parse after it was read and thrown away, no 400, until the header timeout (10 s) closed the
 * connection. Its answer closes the connection instead (Connection: close): the client sends what is left on a new
 * one (RFC 9112 9.3.2).
 */
function asksUpgrade(req: IncomingMessage): boolean {
  return req.headers.upgrade !== undefined && /(?:^|,)[\t ]*upgrade[\t ]*(?:,|$)/i.test(String(req.headers.connection ?? ''));
}

/**
 * An HTTP/1.0 message with Transfer-Encoding: HTTP/1.0 has no chunked framing, so a hop in front that speaks 1.0 may
 * have framed its body otherwise, and what it took for a next request is in this body (request smuggling). RFC 9112
 * 6.1: such a message MUST be treated as faultily framed and its connection closed after it. Node read it chunked and
 * kept the connection alive (`Connection: keep-alive`), serving what followed.
 */
function framedAsHttp10Chunked(req: IncomingMessage): boolean {
  return req.httpVersionMajor === 1 && req.httpVersionMinor === 0 && req.headers['transfer-encoding'] !== undefined;
}

/**
 * A request framed by a transfer coding besides chunked (`identity, chunked`, `gzip, chunked`): Node reads it by its
 * last coding, chunked, and request-guards answers 501 (unappliedCoding). A hop in front that read `identity` as no
 * coding (RFC 2616) or skipped a coding it did not know framed that body otherwise, and took what follows it for a
 * next request (request smuggling): Node served that one on the kept-alive connection. Such a request's answer closes
 * the connection instead, like a Transfer-Encoding on HTTP/1.0 (RFC 9112 6.1, 6.3: a framing not read reliably).
 */
function framedByAnotherCoding(req: IncomingMessage): boolean {
  const coding = req.headers['transfer-encoding'];
  return coding !== undefined && coding.trim().toLowerCase() !== 'chunked';
}

/**
 * Node's own pause of a connection flooded with pipelined requests (its http server does this when their answers pile
 * up unread): the flag tells its parser to stop after the bytes in hand and keeps its body reads from resuming the
 * socket. socket.pause() alone stops nothing: the parser reads the socket's handle directly.
 */
function stopReading(socket: Socket): void {
  (socket as Socket & { _paused?: boolean })._paused = true;
  socket.pause();
}

/** A Fastify server with the kit's plugins registered, in the order their hooks must run; routes are the caller's. */
export async function createServer(opts: ServerOptions): Promise<App> {
  const limits = { ...SERVER_LIMITS, ...opts.limits };
  const app = Fastify({
    logger: {
      level: opts.logLevel,
      base: { service: opts.name, version: opts.version },
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', '*.password', '*.refreshToken', '*.accessToken', '*.client_secret', '*.secret'],
        censor: '[redacted]',
      },
      // An error's type, code, words and stack; never the data it holds (a PostgreSQL error's row, a value it quoted).
      serializers: { err: loggedError },
      stream: opts.logStream ?? stdoutLogDestination(opts.metrics, limits.logBufferChars),
    },
    // One line per request is written by the request-log plugin instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: requestIdOf,
    // An absolute-form target (GET http://host/path HTTP/1.1), which a server must accept (RFC 9112 3.2.2), is
    // routed by its path and query, like the origin form.
    rewriteUrl: originForm,
    bodyLimit: BODY_LIMIT,
    // requireHostHeader off: Node's own answer to a missing Host is a bare 400; request-guards answers a problem.
    http: { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: limits.checkIntervalMs, requireHostHeader: false },
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
    frameworkErrors: routerErrorHandler,
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Socket) => writeClientError(err, socket),
    // Requests that still arrive while draining are answered by the health plugin (problem+json, warn),
    // not by Fastify's fast path, which writes its own JSON.
    return503OnClosing: false,
    trustProxy: opts.trustProxy ?? false,
    ajv: { customOptions: {} },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.decorate('serviceName', opts.name);
  // Node's own default, set so that the number request-guards and auth check against is the one Node reads.
  app.server.maxHeadersCount = MAX_HEADER_LINES;
  closeSilentConnections(app.server, limits.headersTimeoutMs);
  drainIdleConnections(app.server, limits.drainIdleMs);
  // CONNECT (a proxy tunnel) is no route of ours: without a listener Node drops the connection with no answer.
  // Its target names no path (an authority, host:port), so its Allow is every method some route serves, and its
  // problem's instance the urn:uuid of the answer's X-Request-Id (writeRawProblem), not a "/" it never asked for.
  const served = new Set<string>();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) served.add(method);
    notePageRoute(app.server, route.config);
    // Every route's, the kit's own (/metrics, /livez...) too: the only segments a request no route took keeps in the
    // path its log line and span hold (path-redaction.ts).
    noteRouteSegments(route.url);
  });
  app.server.on('connect', (req: IncomingMessage, socket: Socket) => writeRawProblem(socket, 405, 'method-not-allowed', 'CONNECT is not served here', { extraHeader: `Allow: ${allowHeader(served)}`, req }));
  // Fastify's handler, wrapped. Node parses requests pipelined on one connection at once and emits each at once, so
  // one behind a request answered with Connection: close (a 413 or a malformed body refused, an Upgrade, an HTTP/1.0
  // chunked one) was run and only its answer dropped: a restock ran with nobody told. Each request now waits until
  // the one before it on its connection is answered, and is not run if that answer closed the connection (RFC 9112
  // 9.6: no further request is processed there). One whose connection must close is marked so before any handler.
  const closing = new WeakSet<object>();
  // Per connection: the answer being written, and the requests read behind it, in order. They wait in this queue, one
  // 'close' listener at a time: each used to wait on the answer in front of all of them, so 10,000 pipelined behind a
  // slow one put 10,000 listeners on it and ran together once it was answered. Nothing was written for them meanwhile,
  // so Node never stopped reading (it does when answers pile up unread): one connection held every request its client
  // sent, about 2 KB each. Past MAX_PIPELINED_REQUESTS the connection is read no more, those waiting are answered,
  // the last with Connection: close, and the rest are never run (RFC 9112 9.3.2: the client sends them again). Those
  // were dropped unseen: no answer, so no request metric or log line. Each is counted in
  // http_pipelined_requests_dropped_total, and the connection's close logs one warning with how many.
  const lines = new WeakMap<object, PipelinedLine>();
  const pipelinedDropped = opts.metrics.sharedCounter(
    PIPELINED_REQUESTS_DROPPED,
    `Requests pipelined on one connection past ${MAX_PIPELINED_REQUESTS} waiting: never run nor answered (the client sends them again).`,
  );
  const drop = (line: PipelinedLine) => {
    line.dropped++;
    pipelinedDropped.inc();
  };
  const handlers = app.server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  app.server.removeAllListeners('request');
  const serve = (req: IncomingMessage, res: ServerResponse): boolean => {
    const socket = req.socket;
    if (closing.has(socket) || socket.destroyed || socket.writableEnded) return false;
    const line = lines.get(socket);
    if (line) line.answering = res;
    else lines.set(socket, { answering: res, waiting: [], full: false, dropped: 0 });
    if (asksUpgrade(req) || framedAsHttp10Chunked(req) || framedByAnotherCoding(req)) {
      res.shouldKeepAlive = false;
      closing.add(socket);
    }
    for (const handler of handlers) handler.call(app.server, req, res);
    return true;
  };
  // 'close' comes after Node's own 'finish' listener, which ends the connection when that answer said close.
  const serveNextWhenAnswered = (line: PipelinedLine) =>
    line.answering.once('close', () => {
      const next = line.waiting.shift();
      if (!next) return;
      if (!serve(...next)) line.waiting.length = 0;
      else if (line.waiting.length > 0) serveNextWhenAnswered(line);
    });
  app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const line = lines.get(req.socket);
    if (line?.full) {
      stopReading(req.socket);
      drop(line);
      return;
    }
    if (!line || (line.waiting.length === 0 && line.answering.writableFinished)) {
      serve(req, res);
      return;
    }
    if (line.waiting.length >= MAX_PIPELINED_REQUESTS) {
      stopReading(req.socket);
      line.full = true;
      line.waiting.at(-1)![1].shouldKeepAlive = false;
      drop(line);
      // One line per connection, once the count is known.
      req.socket.once('close', () =>
        app.log.warn(
          { waiting: MAX_PIPELINED_REQUESTS, dropped: line.dropped },
          'too many requests pipelined on one connection: those read past the ones waiting were dropped, never run nor answered',
        ),
      );
      return;
    }
    line.waiting.push([req, res]);
    if (line.waiting.length === 1) serveNextWhenAnswered(line);
  });

  await app.register(problemErrors);
  await app.register(requestGuards, { bodyLimit: BODY_LIMIT, bodiesStreamed: opts.bodiesStreamed === true });
  await app.register(preconditions, { forwarded: opts.preconditionsForwarded === true });
  // onRequest hooks run in registration order: id and trace first, so even a faulted request is counted and logged.
  await app.register(requestContext);
  await app.register(httpMetrics, { metrics: opts.metrics, route: opts.metricsRoute !== false });
  // Before any onRequest hook that can fail a request (the fault switch's 500, health's draining 503): an answer
  // refused there carries the same headers as every other (the injected 500 went without nosniff, the CSP...).
  await app.register(securityHeaders);
  await app.register(faultSwitch, { enabled: opts.faultInjection === true });
  await app.register(requestLog);
  await app.register(health, { readiness: opts.readiness });
  if (opts.docs !== false) await app.register(openapiDocs, { name: opts.name, version: opts.version, description: opts.description, prefix: opts.prefix });
  return app;
}
