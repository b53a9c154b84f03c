// Who and what a request is: its id (echoed as X-Request-Id), its trace context (the OpenTelemetry server span
// when tracing is on, else the caller's W3C traceparent; echoed as traceresponse) and, once an auth hook ran,
// its user or calling service.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { context, isSpanContextValid, propagation, ROOT_CONTEXT, SpanKind, trace, TraceFlags, type Context, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ServicePrincipal, UserPrincipal } from '../auth.js';
import { pooledRandomBytes } from '../ids.js';
import { tellAbandoned } from '../client-connection.js';
import { pathOf } from '../request-target.js';
import { KIT_PLUGINS } from './names.js';

export interface TraceContext {
  traceId: string;
  /** This service's span for the request; outgoing calls use it as their parent. */
  spanId: string;
  /** Set when the span is an OpenTelemetry span: whether it is sampled (recorded and exported). */
  sampled?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    trace: TraceContext;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// W3C Trace Context 3.2.2.1 and 4.3, as OpenTelemetry's propagator reads it with tracing on: any version but ff, a
// later version than 00 read up to its flags (fields it may add after them are skipped), 00 exactly four fields.
const TRACEPARENT = /^(?!ff)([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-.*)?$/;
const ALL_ZEROS = /^0+$/;

/** Fastify's genReqId: the caller's X-Request-Id when it is a plain token, else a new one. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Trace and span ids: hex of pooled random bytes (ids.ts), not one getRandomValues call per request. */
export function randomHex(bytes: number): string {
  return pooledRandomBytes(bytes).toString('hex');
}

/** A traceparent (or traceresponse) of this trace; flags 01 unless `sampled` says otherwise (by default the trace's own). */
export function traceparentOf(trace: TraceContext, sampled = trace.sampled !== false): string {
  return `00-${trace.traceId}-${trace.spanId}-${sampled ? '01' : '00'}`;
}

/**
 * The request's trace: its server span's (the active one @fastify/otel opened in its onRequest hook, which runs
 * before ours) when an SDK is registered; without one (the API's no-op context has no span) the caller's trace id is
 * kept with a span id of our own.
 */
function traceOf(span: Span | undefined, traceparent: string | string[] | undefined): TraceContext {
  if (span) {
    const { traceId, spanId, traceFlags } = span.spanContext();
    return { traceId, spanId, sampled: (traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED };
  }
  return { traceId: callerTraceId(traceparent) ?? randomHex(16), spanId: randomHex(8) };
}

/** The trace id of a valid W3C traceparent (undefined for none or an invalid one: a new trace, not that one). */
function callerTraceId(traceparent: string | string[] | undefined): string | undefined {
  const m = typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent) : null;
  if (!m || (m[1] === '00' && m[4] !== undefined)) return undefined;
  // W3C Trace Context: an all-zero trace id or parent id makes the header invalid.
  return !ALL_ZEROS.test(m[2]!) && !ALL_ZEROS.test(m[3]!) ? m[2]! : undefined;
}

/** W3C Trace Context 3.3.1: at most 32 list members, and a vendor need not pass on more than 512 characters. */
const TRACESTATE_MAX_MEMBERS = 32;
const TRACESTATE_MAX_CHARS = 512;
/** A list member's key (3.3.1.3.1: a simple key, or a multi-tenant `tenant@system` one) and value (3.3.1.3.2), as OpenTelemetry checks them. */
const TRACESTATE_KEY = /^(?:[a-z][_0-9a-z*/-]{0,255}|[a-z0-9][_0-9a-z*/-]{0,240}@[a-z][_0-9a-z*/-]{0,13})$/;
const TRACESTATE_VALUE = /^[ -+\--<>-~]{0,255}[!-+\--<>-~]$/;

/**
 * The list members of a tracestate line that go on, as OpenTelemetry's propagator (tracing on) keeps them: each valid
 * member in order, skipping a member past 512 characters in all, at most 32; a key given twice takes its first place
 * and its last value. Empty when none is left.
 */
function keptTracestate(line: string): string {
  const members = new Map<string, string>();
  let length = 0;
  for (const part of line.split(',')) {
    const member = part.trim();
    const equals = member.indexOf('=');
    if (equals === -1) continue;
    const key = member.slice(0, equals);
    const value = member.slice(equals + 1);
    if (!TRACESTATE_KEY.test(key) || !TRACESTATE_VALUE.test(value)) continue;
    const next = length + member.length + (members.size > 0 ? 1 : 0);
    if (next > TRACESTATE_MAX_CHARS) continue;
    members.set(key, value);
    length = next;
    if (members.size >= TRACESTATE_MAX_MEMBERS) break;
  }
  return [...members].map(([key, value]) => `${key}=${value}`).join(',');
}

/**
 * The caller's tracestate as a proxy sends it on with tracing off (with tracing on, the propagator writes its own).
 * W3C Trace Context 3.3 and its processing model: only with the valid traceparent it came with (one that failed to
 * parse starts a new trace and its tracestate is not parsed; one without a traceparent is invalid and discarded), and
 * never a line with no member, which is to be accepted but not sent. Its members are kept as tracing on keeps them
 * (keptTracestate: valid ones, at most 32 and 512 characters). Before, the gateway copied the client's line whatever
 * came with it, and then, with a valid traceparent, whatever it held: 1,000 members or 8 KB went to the service
 * behind, where tracing on sends none of it. A request without a tracestate (nearly all) costs one header lookup.
 */
export function forwardedTracestate(headers: IncomingMessage['headers']): string | undefined {
  const given = headers.tracestate;
  if (given === undefined || callerTraceId(headers.traceparent) === undefined) return undefined;
  const kept = keptTracestate(typeof given === 'string' ? given : given.join(','));
  return kept === '' ? undefined : kept;
}

/**
 * X-Request-Id and traceresponse for an answer Node writes before any Fastify request exists (a request it could not
 * parse, an `Expect` or CONNECT it answers itself): every answer carries them (docs/api.md). The caller's id and trace
 * when its headers were read, else new ones; flags 00, as no span of it is recorded.
 */
export function unservedAnswerIds(req?: IncomingMessage): { requestId: string; traceresponse: string } {
  const traceId = callerTraceId(req?.headers.traceparent) ?? randomHex(16);
  return { requestId: req ? requestIdOf(req) : randomUUID(), traceresponse: traceparentOf({ traceId, spanId: randomHex(8), sampled: false }) };
}

/**
 * A request the router refuses before any route runs (Fastify's frameworkErrors: a badly encoded path, a path
 * parameter too long) runs no onRequest hook: neither @fastify/otel's, which opens the server span, nor ours. Its
 * answer was sent with no X-Request-Id nor traceresponse, and with tracing on nothing of it was recorded. It gets
 * here what a routed request gets: a server span under the caller's traceparent (named by the method alone, no
 * http.route: like a 404), ended with the answer's status, and the two headers. With tracing off the API's no-op
 * tracer makes an invalid span and the kit's own ids are used, as for every other request.
 */
export function traceRouterRefusal(request: FastifyRequest, reply: FastifyReply): void {
  const span = trace.getTracer('@ecommerce/kit').startSpan(
    request.method,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'url.path': pathOf(request.url) } },
    propagation.extract(ROOT_CONTEXT, request.headers),
  );
  identify(request, reply, isSpanContextValid(span.spanContext()) ? span : undefined);
  reply.raw.once('close', () => {
    span.setAttribute('http.response.status_code', reply.statusCode);
    span.end();
  });
}

/**
 * The request's trace (traceOf), and the answer's X-Request-Id and traceresponse (W3C Trace Context level 2 draft: the
 * trace id a client or support can quote). Its flags say whether this service recorded the request: 01 only for a
 * sampled span; 00 with tracing off and for the paths no span is made for (/livez, /readyz, /metrics), which said 01
 * while nothing of them was recorded.
 */
function identify(request: FastifyRequest, reply: FastifyReply, span: Span | undefined): void {
  request.trace = traceOf(span, request.headers.traceparent);
  reply.header('x-request-id', request.id).header('traceresponse', traceparentOf(request.trace, request.trace.sampled === true));
}

/** The requests read and not answered yet, their replies and their trace context (the server span's, when tracing is on). */
const inFlight = new WeakMap<FastifyRequest, { reply: FastifyReply; context: Context }>();
/** The requests whose connection closed before their answer, and their replies (for the time they took). */
const abandoned = new WeakMap<FastifyRequest, FastifyReply>();

/**
 * The reply of a request whose connection closed before its answer was written (the client went away, or the kit
 * answered on the socket itself), else undefined. Such a request gets no onResponse; the metrics and the request log
 * count and log it when it is abandoned instead (onAbandoned, abandonedStatus).
 */
export function abandonedReply(request: FastifyRequest): FastifyReply | undefined {
  return abandoned.get(request);
}

type AbandonedListener = (request: FastifyRequest, reply: FastifyReply) => void;
/** What each server's plugins do with a request abandoned (by the Node server: every Fastify context of it shares them). */
const abandonedListeners = new WeakMap<object, AbandonedListener[]>();

/** Calls `listener` once for each request of this app's server whose connection closes before its answer (in the order registered). */
export function onAbandoned(app: FastifyInstance, listener: AbandonedListener): void {
  const listeners = abandonedListeners.get(app.server) ?? [];
  listeners.push(listener);
  abandonedListeners.set(app.server, listeners);
}

/** The request is no longer in flight and was never answered: noted, and told to the listeners, once. */
function abandon(request: FastifyRequest): void {
  const entry = inFlight.get(request);
  if (!entry) return;
  const { reply } = entry;
  inFlight.delete(request);
  abandoned.set(request, reply);
  // In the request's context: its log line carries the trace (trace_id, span_id), as an answered request's does; the
  // connection's close event runs outside it.
  context.with(entry.context, () => {
    for (const listener of abandonedListeners.get(request.server.server) ?? []) listener(request, reply);
    tellAbandoned(request, reply);
  });
}

export const requestContext = fp(
  async (app) => {
    app.decorateRequest('trace', null as unknown as TraceContext);
    app.decorateRequest('user', null as UserPrincipal | null);
    app.decorateRequest('serviceClient', null as ServicePrincipal | null);
    app.addHook('onRequest', (request, reply, done) => {
      identify(request, reply, trace.getSpan(context.active()));
      // A request answered has run onResponse (at the answer's 'finish', before its 'close'); one whose connection
      // closed first never will. Fastify's onRequestAbort misses those whose body was read whole: Node does not call
      // such a request aborted (a login whose client hung up while its password was hashed).
      inFlight.set(request, { reply, context: context.active() });
      reply.raw.once('close', () => abandon(request));
      done();
    });
    app.addHook('onResponse', (request, _reply, done) => {
      inFlight.delete(request);
      done();
    });
    app.addHook('onRequestAbort', (request, done) => {
      // Node says a request aborted when its connection closes with the answer unfinished, or with its body unread
      // after an answer (a 404 sent at once): only the first is still in flight.
      abandon(request);
      done();
    });
  },
  { name: KIT_PLUGINS.requestContext, fastify: '5.x' },
);
