// OpenTelemetry's HTTP server metrics: requests in progress and their duration by route and status,
// exposed on /metrics unless the service serves them elsewhere (the gateway: a port of its own).
import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { HTTP_BUCKETS, type Metrics } from '../metrics.js';
import { metricsExposition } from '../metrics-exposition.js';
import { abandonedStatus } from '../client-connection.js';
import { OPERATIONAL_PATHS } from '../operational-paths.js';
import { abandonedReply, onAbandoned } from './request-context.js';
import { KIT_PLUGINS } from './names.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

export interface HttpMetricsOptions {
  metrics: Metrics;
  /** Serve GET /metrics on this server. */
  route: boolean;
}

/**
 * The methods named in `http_request_method` (OpenTelemetry's HTTP semantic conventions, and QUERY, which the routes
 * may serve); any other is `_OTHER`, as the conventions say. Every method Node parses reaches a route or a 405 now (the
 * gateway forwards them all): each of the 25 WebDAV, UPnP and such methods made its own series per route and status,
 * a scan of them quadrupled the gateway's (1,700 to 6,800 lines).
 */
const LABELLED_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);

/** A request's method as `http_request_method` reads it. */
function methodLabel(method: string): string {
  return LABELLED_METHODS.has(method) ? method : '_OTHER';
}

export const httpMetrics = fp<HttpMetricsOptions>(
  async (app, { metrics, route: serveRoute }) => {
    app.decorate('metrics', metrics);
    // Requests counted in http_server_active_requests, so each is taken off exactly once (answered or aborted).
    const activeCounted = new WeakSet<FastifyRequest>();
    // The gauge's child per method, as the histogram's below: no label object hashed twice per request.
    const active = new Map<string, { inc(): void; dec(): void }>();
    const activeFor = (method: string) => {
      const label = methodLabel(method);
      let child = active.get(label);
      if (!child) {
        child = metrics.httpServerActiveRequests.labels({ http_request_method: label });
        active.set(label, child);
      }
      return child;
    };
    const notActive = (request: FastifyRequest) => {
      if (activeCounted.delete(request)) activeFor(request.method).dec();
    };
    app.addHook('onRequest', (request, _reply, done) => {
      if (!OPERATIONAL_PATHS.has(request.url)) {
        activeFor(request.method).inc();
        activeCounted.add(request);
      }
      done();
    });

    // One entry per (method, route, status): the histogram's child (prom-client would otherwise hash a label object
    // per request) and when each bucket last took an exemplar.
    const series = new Map<string, Series>();
    const observe = (request: FastifyRequest, status: number, seconds: number) => {
      const route = request.routeOptions.url ?? 'unmatched';
      if (OPERATIONAL_PATHS.has(route)) return;
      const method = methodLabel(request.method);
      const key = `${method} ${route} ${status}`;
      let s = series.get(key);
      if (!s) {
        const labels = { http_request_method: method, http_route: route, http_response_status_code: String(status) };
        s = { labels, child: metrics.httpServerDuration.labels(labels), exemplarAt: new Float64Array(HTTP_BUCKETS.length + 1).fill(-Infinity) };
        series.set(key, s);
      }
      // A sampled OpenTelemetry span leaves its ids as its bucket's exemplar when that bucket's is older than
      // EXEMPLAR_MIN_AGE_MS; every other observation (and every one with tracing off: `sampled` is never set)
      // takes the cached child and does no exemplar work.
      const { trace } = request;
      if (trace?.sampled && exemplarDue(s, seconds)) {
        metrics.httpServerDuration.observe({
          labels: s.labels,
          value: seconds,
          // prom-client types exemplar labels as the metric's own label names; any names are valid at run time.
          exemplarLabels: { trace_id: trace.traceId, span_id: trace.spanId } as Record<string, string>,
        });
      } else s.child.observe(seconds);
    };
    // A request whose connection closed before its answer (the client went away while its route worked or its body
    // arrived, or the kit answered on the socket: a request timeout) gets no onResponse: it was counted nowhere, so a
    // client could have any amount of work done unseen by the latency and error panels, and one whose body was read
    // whole was never taken off the active requests (Fastify's onRequestAbort does not run for it): each left the
    // gauge one higher for good. It is taken off and observed here, as 499 (or the kit's own status: 408).
    onAbandoned(app, (request, reply) => {
      notActive(request);
      observe(request, abandonedStatus(request), reply.elapsedTime / 1000);
    });
    app.addHook('onRequestAbort', (request, done) => {
      notActive(request);
      done();
    });
    app.addHook('onResponse', (request, reply, done) => {
      notActive(request);
      if (!abandonedReply(request)) observe(request, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });

    if (serveRoute) {
      app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
        const { contentType, body } = await metricsExposition(metrics.registry, request.headers.accept);
        // The format follows the Accept header: a cache between must not answer one scraper with another's.
        reply.type(contentType).header('vary', 'accept');
        return body;
      });
    }
  },
  { name: KIT_PLUGINS.httpMetrics, fastify: '5.x' },
);

interface Series {
  labels: Record<'http_request_method' | 'http_route' | 'http_response_status_code', string>;
  child: { observe(value: number): void };
  /** performance.now() of each bucket's last exemplar (index: the first upper bound >= the value; last: +Inf). */
  exemplarAt: Float64Array;
}

/**
 * How often a bucket's exemplar may be replaced. A scrape shows one exemplar per bucket, the latest; replacing it on
 * every sampled request (hundreds a second) cost prom-client two label hashes each, for exemplars nobody reads. A
 * bucket not hit for a second (a slow outlier's) still takes the first sampled request that lands in it. Prometheus'
 * own Java client limits its exemplar sampling the same way.
 */
const EXEMPLAR_MIN_AGE_MS = 1000;

function exemplarDue(s: Series, seconds: number): boolean {
  let bucket = 0;
  while (bucket < HTTP_BUCKETS.length && seconds > HTTP_BUCKETS[bucket]!) bucket++;
  const now = performance.now();
  if (now - s.exemplarAt[bucket]! < EXEMPLAR_MIN_AGE_MS) return false;
  s.exemplarAt[bucket] = now;
  return true;
}
