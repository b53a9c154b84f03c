// OpenTelemetry's HTTP server metrics: requests in progress and their duration by route and status,
// exposed on /metrics unless the service serves them elsewhere (the gateway: a port of its own).
import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import type { Metrics } from '../metrics.js';
import { metricsExposition } from '../metrics-exposition.js';
import { OPERATIONAL_PATHS } from '../operational-paths.js';
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

export const httpMetrics = fp<HttpMetricsOptions>(
  async (app, { metrics, route: serveRoute }) => {
    app.decorate('metrics', metrics);
    // Requests counted in http_server_active_requests, so each is taken off exactly once (answered or aborted).
    const activeCounted = new WeakSet<FastifyRequest>();
    // The gauge's child per method, as the histogram's below: no label object hashed twice per request.
    const active = new Map<string, { inc(): void; dec(): void }>();
    const activeFor = (method: string) => {
      let child = active.get(method);
      if (!child) {
        child = metrics.httpServerActiveRequests.labels({ http_request_method: method });
        active.set(method, child);
      }
      return child;
    };
    const notActive = (request: FastifyRequest) => {
      if (activeCounted.delete(request)) activeFor(request.method).dec();
    };
    app.addHook('onRequestAbort', (request, done) => {
      notActive(request);
      done();
    });
    app.addHook('onRequest', (request, _reply, done) => {
      if (!OPERATIONAL_PATHS.has(request.url)) {
        activeFor(request.method).inc();
        activeCounted.add(request);
      }
      done();
    });

    // Histogram children cached per (method, route, status): prom-client would otherwise hash a label object per request.
    const observers = new Map<string, { observe(v: number): void }>();
    app.addHook('onResponse', (request, reply, done) => {
      notActive(request);
      const route = request.routeOptions.url ?? 'unmatched';
      if (!OPERATIONAL_PATHS.has(route)) {
        const seconds = reply.elapsedTime / 1000;
        const { trace } = request;
        // A sampled OpenTelemetry span leaves its ids as the bucket's exemplar; untraced requests (tracing off:
        // `sampled` is never set) take the cached child and do no exemplar work at all.
        if (trace?.sampled) observeWithExemplar(metrics, request.method, route, reply.statusCode, seconds, trace.traceId, trace.spanId);
        else {
          const key = `${request.method} ${route} ${reply.statusCode}`;
          let observer = observers.get(key);
          if (!observer) {
            observer = metrics.httpServerDuration.labels({ http_request_method: request.method, http_route: route, http_response_status_code: String(reply.statusCode) });
            observers.set(key, observer);
          }
          observer.observe(seconds);
        }
      }
      done();
    });

    if (serveRoute) {
      app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
        const { contentType, body } = await metricsExposition(metrics.registry, request.headers.accept);
        reply.type(contentType);
        return body;
      });
    }
  },
  { name: KIT_PLUGINS.httpMetrics, fastify: '5.x' },
);

function observeWithExemplar(metrics: Metrics, method: string, route: string, status: number, seconds: number, traceId: string, spanId: string): void {
  metrics.httpServerDuration.observe({
    labels: { http_request_method: method, http_route: route, http_response_status_code: String(status) },
    value: seconds,
    // prom-client types exemplar labels as the metric's own label names; any names are valid at run time.
    exemplarLabels: { trace_id: traceId, span_id: spanId } as Record<string, string>,
  });
}
