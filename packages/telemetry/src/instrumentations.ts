// The maintained instrumentations the services need, configured so that a span carries no secret:
// Fastify (server spans named by route template), undici (service calls and the gateway's proxy; also
// fetch), pg (statement names and parameterized text, never parameter values) and pino (log lines get
// trace_id/span_id of the active span).
import diagnosticsChannel from 'node:diagnostics_channel';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import type { Span } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { pathOf } from '@ecommerce/kit/request-target';
import { dropTraceHeaders, needsRedaction, redactedUrl, redactedUserAgent, sqlOperationName, userAgentOf } from './redaction.js';
import { INSTRUMENTATION_NAMES, type InstrumentationName } from './tracing-env.js';

/** Probes and scrapes: a trace each every few seconds would bury the requests. */
const UNTRACED_PATHS = new Set(['/livez', '/readyz', '/metrics']);

/** The instrumentations named in `chosen` (instrumentationChoice: all unless OTEL_NODE_*_INSTRUMENTATIONS say otherwise). */
export function tracedInstrumentations(chosen: Set<InstrumentationName>): Instrumentation[] {
  const all: Record<InstrumentationName, () => Instrumentation> = {
    fastify: () => new FastifyOtelInstrumentation({
      // Registers itself on every Fastify instance when it is created: no plugin to add in the kit.
      registerOnInitialization: true,
      // One server span per request: no span per lifecycle hook nor for the handler (the preload keeps the
      // request's context active for them instead, see sdk.ts), so pg and undici spans are its children.
      instrumentHooks: false,
      instrumentHandler: false,
      ignorePaths: (route) => UNTRACED_PATHS.has(pathOf(route.url)),
      // With hooks and handlers off, @fastify/otel still wraps the not-found handler in a span of its own, named after
      // the whole chain of plugins on the app (about 400 characters in Jaeger's list): named after the handler alone.
      lifecycleHook: (span, { hookName }) => span.updateName(hookName),
      // url.path is @fastify/otel's (request.url, its query string too): the span's end rewrites it once, without the
      // query string and redacted (UnroutedPathSpanProcessor), before any exporter sees it.
      requestHook: (span, request) => {
        const route = request.routeOptions.url;
        span.updateName(route ? `${request.method} ${route}` : request.method);
      },
    }),
    undici: () => markingAborts(new UndiciInstrumentation({
      // Calls outside a request (start-up, timers) make no root spans of their own.
      requireParentforSpans: true,
      startSpanHook: (request) => {
        // The instrumentation records the call's User-Agent as it is: the gateway's proxy sends the client's.
        const userAgent = userAgentOf(request.headers);
        const agent = userAgent === undefined ? {} : { 'user_agent.original': redactedUserAgent(userAgent) };
        // The instrumentation's own url.full is already clean without a query string, user info or a path segment
        // that is neither a name nor a UUID.
        if (!needsRedaction(request.path, request.origin)) return agent;
        try {
          const { full, query } = redactedUrl(new URL(request.path, request.origin));
          return { ...agent, 'url.full': full, 'url.path': new URL(full).pathname, 'url.query': query };
        } catch {
          return agent;
        }
      },
      requestHook: (_span, request) => dropTraceHeaders(request.headers),
    })),
    pg: () => new PgInstrumentation({
      requireParentSpan: true,
      // No pg-pool.connect / pg.connect span per query (3 of 10 spans of an order); the kit's database puts a
      // pool wait of 1 ms or more on the active span as an event instead (kit/src/db.ts).
      ignoreConnectSpans: true,
      enhancedDatabaseReporting: false,
      requestHook: (span, { query }) => span.setAttribute('db.operation.name', sqlOperationName(query.text)),
    }),
    pino: () => new PinoInstrumentation({ disableLogSending: true }),
  };
  return INSTRUMENTATION_NAMES.filter((name) => chosen.has(name)).map((name) => all[name]());
}

/** The instrumentation's private record of each call's span (TypeScript's private: read here all the same). */
type CallRecords = { _recordFromReq?: WeakMap<object, { span: Span }> };

/**
 * A call aborted through its signal (the gateway's upstream call when its client goes, watchClient) is ended by the
 * instrumentation with nothing of it: no status, no exception, no error.type (it reads semconv as "a cancellation is no
 * error"), so in Jaeger it was a call that went well, with or without the answer's status. It keeps the Unset status
 * and gets `error.type` = `AbortError`. The channel's subscribers run in the order they subscribed: this one is
 * subscribed first, and the instrumentation's own (its span, in its private record) ends the span after. Only a failed
 * call reaches it.
 */
function markingAborts(instrumentation: UndiciInstrumentation): UndiciInstrumentation {
  const records = () => (instrumentation as unknown as CallRecords)._recordFromReq;
  const onError = (message: unknown) => {
    const { request, error } = message as { request: object; error: { name?: unknown } | null };
    if (error?.name === 'AbortError') records()?.get(request)?.span.setAttribute('error.type', 'AbortError');
  };
  // Its subscription is made as it is enabled (in its constructor): taken off and made again after this one.
  diagnosticsChannel.subscribe('undici:request:error', onError);
  instrumentation.disable();
  instrumentation.enable();
  return instrumentation;
}
