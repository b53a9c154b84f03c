import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** OpenTelemetry's advised buckets for http.server.request.duration (seconds). */
export const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** Queries are usually sub-millisecond; start lower than HTTP. */
const DB_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * One registry per service instance (not the prom-client global), so several apps
 * can live in one test process. Metric names follow OTel semantic conventions.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpServerDuration: Histogram<'http_request_method' | 'http_route' | 'http_response_status_code'>;
  readonly httpClientDuration: Histogram<
    'peer_service' | 'http_request_method' | 'http_route' | 'http_response_status_code' | 'error_type'
  >;
  readonly dbOperationDuration: Histogram<'db_query_name' | 'db_operation_name' | 'error_type'>;
  /** OTel http.server.active_requests: requests read and not yet answered (drain and saturation). */
  readonly httpServerActiveRequests: Gauge<'http_request_method'>;

  constructor(service: string, version: string, opts: { defaultMetrics?: boolean } = {}) {
    this.registry.setDefaultLabels({ service, service_version: version });
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
    // Exemplars (trace ids of sampled requests) are written only in the OpenMetrics exposition
    // (metrics-exposition.ts); prom-client refuses them on a registry whose default format is the classic
    // one, so the histogram is registered after it is made.
    this.httpServerDuration = new Histogram({
      name: 'http_server_request_duration_seconds',
      help: 'Duration of HTTP server requests.',
      labelNames: ['http_request_method', 'http_route', 'http_response_status_code'],
      buckets: HTTP_BUCKETS,
      enableExemplars: true,
      registers: [],
    });
    this.registry.registerMetric(this.httpServerDuration);
    this.httpClientDuration = new Histogram({
      name: 'http_client_request_duration_seconds',
      help: 'Duration of HTTP client requests to other services.',
      labelNames: ['peer_service', 'http_request_method', 'http_route', 'http_response_status_code', 'error_type'],
      buckets: HTTP_BUCKETS,
      registers: [this.registry],
    });
    this.httpServerActiveRequests = new Gauge({
      name: 'http_server_active_requests',
      help: 'HTTP server requests in progress.',
      labelNames: ['http_request_method'],
      registers: [this.registry],
    });
    this.dbOperationDuration = new Histogram({
      name: 'db_client_operation_duration_seconds',
      help: 'Duration of database client operations, by query name.',
      labelNames: ['db_query_name', 'db_operation_name', 'error_type'],
      buckets: DB_BUCKETS,
      registers: [this.registry],
    });
  }

  /**
   * A counter; `initial` label sets are created at 0 so their series exist before the first event
   * (rates and alerts on a result that has not happened yet then see 0, not "no data").
   */
  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = [], initial: Partial<Record<L, string>>[] = []): Counter<L> {
    const c = new Counter({ name, help, labelNames, registers: [this.registry] });
    if (labelNames.length === 0) c.inc(0);
    for (const labels of initial) c.inc(labels, 0);
    return c;
  }

  /**
   * The registry's counter of that name, made on first use (at 0 when label-less): for a counter every server (or task)
   * on one Metrics shares (a process may build several apps on it). `counter` itself keeps refusing a name registered twice.
   */
  sharedCounter<L extends string = string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return (this.registry.getSingleMetric(name) as Counter<L> | undefined) ?? this.counter(name, help, labelNames);
  }

  /** The registry's gauge of that name, made on first use: as sharedCounter, for a gauge. */
  sharedGauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    return (this.registry.getSingleMetric(name) as Gauge<L> | undefined) ?? this.gauge(name, help, labelNames);
  }

  gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    collect?: (this: Gauge<L>) => void | Promise<void>,
  ): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry], ...(collect ? { collect } : {}) });
  }
}
