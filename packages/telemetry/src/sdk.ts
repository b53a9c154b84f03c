// The OpenTelemetry tracing SDK for Node (sdk-trace-node), started by the preload only when tracing is on.
// Configured by the standard OTEL_* variables, most read by the SDK pieces themselves: the exporter reads
// OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT/HEADERS/TIMEOUT/COMPRESSION, the provider OTEL_TRACES_SAMPLER(_ARG)
// (parent-based always-on by default) and the span limits, the batch processor OTEL_BSP_*, the env
// detector OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES. The preload picks the protocol (tracing-env.ts);
// OTEL_LOG_LEVEL is read here, and the OTLP headers checked before the exporter reads them.
// Not @opentelemetry/sdk-node: it loads the metrics and logs SDKs and every exporter (+35 MiB per service).
import diagnosticsChannel from 'node:diagnostics_channel';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inspect } from 'node:util';
import { context, diag, DiagLogLevel, SpanStatusCode, type Context, type DiagLogger, type Span as ApiSpan } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { detectResources, envDetector, hostDetector, osDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, NodeTracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace-node';
import { abandonedStatus, CLIENT_CLOSED_REQUEST, clientGone, onAnyAbandoned } from '@ecommerce/kit/client-connection';
import { noteRouteSegments } from '@ecommerce/kit/path-redaction';
import { tracedInstrumentations } from './instrumentations.js';
import { settleServerSpanStatus } from './server-span-status.js';
import { tracePropagator } from './trace-context-propagator.js';
import { ErrorMessageSpanProcessor } from './error-messages.js';
import { ErrorTypeSpanProcessor } from './span-error-type.js';
import { noteAnsweredUnrouted, UnroutedPathSpanProcessor } from './unrouted-path.js';
import { batchProcessorConfig, instrumentationChoice, logLevelChoice, otlpHeadersCheck, resourceAttributesProblem, samplerName, type ExporterProtocol } from './tracing-env.js';

// No ESM loader (module.register + import-in-the-middle): every patched module is reached through a
// CommonJS require even though the kit imports from ESM (pg's lib/client.js is required by pg itself, pino
// by fastify), and fastify and undici report through diagnostics_channel. The loader's thread would cost
// about 12 MiB per service for nothing; register it here if an ESM-only package ever needs patching.

/**
 * service.version: SERVICE_VERSION (the image's version, what the metrics and logs report too), else the started
 * program's package.json; OTEL_RESOURCE_ATTRIBUTES may override it.
 */
function serviceVersion(): string | undefined {
  const configured = process.env.SERVICE_VERSION?.trim();
  return configured ? configured : programVersion();
}

function programVersion(): string | undefined {
  let dir = process.argv[1] ? dirname(process.argv[1]) : process.cwd();
  for (let i = 0; i < 6; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const version = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
      return typeof version === 'string' ? version : undefined;
    }
    dir = dirname(dir);
  }
  return undefined;
}

interface OtelRequest {
  /** No route answers the request (Fastify's: routeOptions.url is undefined), read without building routeOptions. */
  is404: boolean;
  raw: { socket?: unknown };
  [slot: symbol]: ApiSpan | null | undefined;
}

interface OtelReply {
  statusCode: number;
  raw: { headersSent: boolean };
}

interface FastifyLike {
  addHook(name: 'preValidation', hook: (request: OtelRequest, reply: unknown, done: () => void) => void): unknown;
  addHook(name: 'onSend', hook: (request: OtelRequest, reply: OtelReply, payload: unknown, done: (err: null, payload: unknown) => void) => void): unknown;
  addHook(name: 'onResponse', hook: (request: OtelRequest, reply: OtelReply, done: () => void) => void): unknown;
  addHook(name: 'onClose', hook: () => Promise<void>): unknown;
  addHook(name: 'onRoute', hook: (route: { url: string }) => void): unknown;
  decorateRequest(name: symbol, value: null): unknown;
}

/**
 * @fastify/otel's request slot holding its server span (a Symbol of its own, not exported): looked for on the first
 * request, then known (null: none, the fastify instrumentation is off; @fastify/otel then ends its spans itself, at
 * onSend, as before: test/cut-answers.test.ts fails if an upgrade renames it).
 */
const FASTIFY_OTEL_SPAN_SLOT = 'fastify otel request spans';
let otelSpanSlot: symbol | null | undefined;

function otelSpanSlotOf(request: object): symbol | null {
  if (otelSpanSlot !== undefined) return otelSpanSlot;
  otelSpanSlot = null;
  for (let o: object | null = request; o && !otelSpanSlot; o = Object.getPrototypeOf(o) as object | null) {
    otelSpanSlot = Object.getOwnPropertySymbols(o).find((s) => s.description === FASTIFY_OTEL_SPAN_SLOT) ?? null;
  }
  return otelSpanSlot;
}

/** The server span taken from @fastify/otel at onSend, ended here when the answer is all written or its connection closes first. */
const ANSWERING_SPAN = Symbol('server span of an answer being written');

/**
 * Ends the server span of a request whose connection closed before its answer was all written (or before it began).
 * The kit's own answer written on the connection (a 408 for a body that did not come in time, a 400 for one Node's
 * parser refused) is the span's status code, as the request's log line says. When the client went away (it closed its
 * side of the connection mid-request: the kit's 400 for a body cut off, or no answer of the kit's), the span is Error
 * with `error.type` = `client_closed`; then a route's answer is its `http.response.status_code` only when its headers
 * were sent (semconv http-spans: "connection dropped before response body was sent"). A 408 (the client is still
 * there, too slow) stays a 4xx, Unset. Before, a span ended at onSend and said the answer's status, a success.
 */
function endAbandoned(span: ApiSpan, request: OtelRequest, reply: OtelReply): void {
  const written = abandonedStatus(request);
  if (written !== CLIENT_CLOSED_REQUEST) {
    span.setAttribute('http.response.status_code', written);
    settleServerSpanStatus(span, written);
  } else if (reply.raw.headersSent) span.setAttribute('http.response.status_code', reply.statusCode);
  if (written === CLIENT_CLOSED_REQUEST || clientEndedItsSide(request)) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.setAttribute('error.type', CLIENT_CLOSED);
  }
  span.end();
}

/** Whether the client closed its side of the connection (its FIN came: Node's parser read the end of the stream). */
function clientEndedItsSide(request: OtelRequest): boolean {
  const socket = request.raw.socket as { readableEnded?: boolean } | null | undefined;
  return socket?.readableEnded === true;
}

/** error.type of a server span whose client went away before its answer was all written. */
const CLIENT_CLOSED = 'client_closed';

/**
 * On every Fastify app, beside @fastify/otel: (1) the request's trace context is made active again after
 * the body is read (a body arrives on socket events, outside it), so auth hooks, handlers and their pg and
 * undici calls are children of the server span without a handler span of their own; (2) the server span is taken from
 * @fastify/otel at onSend (an instance onSend hook runs after its onError and before its route onSend, which ended the
 * span there, as the answer began): its status follows the answer's (server-span-status.ts), and it ends once the answer
 * is all written (onResponse), or when the connection closes first (the kit's abandoned request: endAbandoned), so an
 * answer cut off is not a success; (3) the spans still batched are flushed when the app
 * closes (the kit's shutdown path, before process.exit); (4) its routes' static segments are noted, the only ones
 * a server span of a request no route answered keeps in its url.path (unrouted-path.ts), and a request a route handed
 * to the not-found handler is noted as one.
 */
function attachToFastifyApps(provider: NodeTracerProvider): void {
  onAnyAbandoned((abandoned, reply) => {
    const request = abandoned as OtelRequest;
    const span = request[ANSWERING_SPAN];
    if (!span) return;
    request[ANSWERING_SPAN] = null;
    endAbandoned(span, request, reply as OtelReply);
  });
  diagnosticsChannel.subscribe('fastify.initialization', (message) => {
    const { fastify } = message as { fastify: FastifyLike };
    fastify.decorateRequest(ANSWERING_SPAN, null);
    fastify.addHook('preValidation', (request, _reply, done) => {
      const requestContext = (request as { opentelemetry?: () => { context?: Context } }).opentelemetry?.().context;
      if (requestContext) context.with(requestContext, done);
      else done();
    });
    fastify.addHook('onSend', (request, reply, payload, done) => {
      const slot = otelSpanSlotOf(request);
      const span = slot ? request[slot] : undefined;
      if (span && slot) {
        // @fastify/otel's route onSend (next) and not-found onResponse find no span: it is ended here.
        request[slot] = null;
        // A route that handed the request to the not-found handler: its url.path is a 404's (unrouted-path.ts).
        if (request.is404) noteAnsweredUnrouted(span);
        // An answer to a client already gone reaches no one.
        if (clientGone(request)) endAbandoned(span, request, reply);
        else {
          settleServerSpanStatus(span, reply.statusCode);
          request[ANSWERING_SPAN] = span;
        }
      }
      done(null, payload);
    });
    fastify.addHook('onResponse', (request, reply, done) => {
      const span = request[ANSWERING_SPAN];
      if (span) {
        request[ANSWERING_SPAN] = null;
        span.setAttribute('http.response.status_code', reply.statusCode);
        span.end();
      }
      done();
    });
    fastify.addHook('onClose', () => flushForShutdown(provider));
    // The names a request's path may show when no route took it (the kit's path-redaction.ts).
    fastify.addHook('onRoute', (route) => noteRouteSegments(route.url));
  });
}

/** How long a shutdown waits for the last spans to be sent; a pod's grace period must not go to the tracer. */
const SHUTDOWN_FLUSH_MS = 3_000;

/**
 * Sends the spans still batched, but never fails or holds a shutdown: a collector that is unreachable (not
 * deployed, DNS gone during a node drain) costs those spans and a warning, not exit code 1.
 */
async function flushForShutdown(provider: NodeTracerProvider): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      diag.warn(`tracing: spans not flushed within ${SHUTDOWN_FLUSH_MS} ms of shutdown; dropped`);
      resolve();
    }, SHUTDOWN_FLUSH_MS);
  });
  const flushed = provider.forceFlush().catch((err: unknown) => diag.warn('tracing: could not flush spans at shutdown; dropped', err));
  await Promise.race([flushed, timeout]);
  clearTimeout(timer);
}

async function spanExporter(protocol: ExporterProtocol): Promise<SpanExporter> {
  if (protocol === 'console') return new ConsoleSpanExporter();
  if (protocol === 'http/json') return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
  return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
}

/** One JSON line on stderr in the services' log format (pino's levels), like the preload's own warning. */
function stderrLine(level: number, message: string, args: unknown[]): void {
  const details = args.map((arg) => (arg instanceof Error ? arg.message : typeof arg === 'string' ? arg : inspect(arg, { breakLength: Infinity, depth: 2 })));
  process.stderr.write(`${JSON.stringify({ level, time: Date.now(), pid: process.pid, msg: [message, ...details].join(' ') })}\n`);
}

const diagnostics: DiagLogger = {
  error: (message, ...args) => stderrLine(50, message, args),
  warn: (message, ...args) => stderrLine(40, message, args),
  info: (message, ...args) => stderrLine(30, message, args),
  debug: (message, ...args) => stderrLine(20, message, args),
  verbose: (message, ...args) => stderrLine(10, message, args),
};

export async function startTracing(protocol: ExporterProtocol): Promise<NodeTracerProvider> {
  // The SDK's diagnostics at OTEL_LOG_LEVEL, info by default as the specification says: without a logger the SDK says
  // nothing, and a bad OTEL_TRACES_SAMPLER_ARG (1.5, -1, "10%"), an OTEL_BSP_* value or a failing export went unreported.
  // At info the SDK adds only a line to a failed export (why it was not retried); a request or a start adds none.
  const logLevel = logLevelChoice(process.env.OTEL_LOG_LEVEL);
  diag.setLogger(diagnostics, { logLevel: DiagLogLevel[logLevel.level], suppressOverrideMessage: true });
  if (logLevel.problem) diag.warn(`tracing: ${logLevel.problem}`);
  for (const variable of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS']) {
    const { problems, kept } = otlpHeadersCheck(variable, process.env[variable]);
    for (const problem of problems) diag.warn(`tracing: ${problem}`);
    // Read by the exporter itself, below: without the entries that would fail every export.
    if (kept !== undefined) process.env[variable] = kept;
  }
  // Read by the provider itself, below, which matches the names exactly.
  const sampler = samplerName(process.env.OTEL_TRACES_SAMPLER);
  if (sampler !== undefined) process.env.OTEL_TRACES_SAMPLER = sampler;
  const batching = batchProcessorConfig(process.env, (message) => diag.warn(`tracing: ${message}`));
  const resourceProblem = resourceAttributesProblem(process.env.OTEL_RESOURCE_ATTRIBUTES);
  if (resourceProblem) diag.warn(`tracing: OTEL_RESOURCE_ATTRIBUTES is ignored, every entry of it (the SDK's rule): ${resourceProblem}`);
  const version = serviceVersion();
  // No process detector: its command line is no business of a trace; pid and runtime are enough.
  const resource = resourceFromAttributes({
    ...(version ? { 'service.version': version } : {}),
    'process.pid': process.pid,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
  }).merge(detectResources({ detectors: [hostDetector, osDetector, envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new ErrorTypeSpanProcessor(), new ErrorMessageSpanProcessor(), new UnroutedPathSpanProcessor(), new BatchSpanProcessor(await spanExporter(protocol), batching)] });
  provider.register({ propagator: tracePropagator() });
  registerInstrumentations({ instrumentations: tracedInstrumentations(instrumentationChoice(process.env)), tracerProvider: provider });
  attachToFastifyApps(provider);
  return provider;
}
