// (a) RED per service: rate, errors (5xx ratio), duration (p50/p95/p99),
// the routes that carry the traffic, requests in progress and the pipelined
// requests dropped unanswered.
import { MAX_PIPELINED_REQUESTS } from '@ecommerce/kit';
import { APP, ERROR_BUDGET, NOT_PROBES, buildDashboard, statPanel, tablePanel, timeSeriesPanel } from './common.js';

const COUNT = `http_server_request_duration_seconds_count{${APP}, ${NOT_PROBES}}`;
const ERRORS = `http_server_request_duration_seconds_count{${APP}, ${NOT_PROBES}, http_response_status_code=~"5..", http_response_status_code!~"501|505"}`; // 501/505: the client's framing, as in the SLI (rules/recording.yml)
const BUCKET = `http_server_request_duration_seconds_bucket{${APP}, ${NOT_PROBES}}`;

// `or 0 * ...`: prom-client only creates a 5xx series after the first 5xx, so
// a healthy service shows 0% instead of "No data".
const errorRatio = (by: string) =>
  `(sum by (${by}) (rate(${ERRORS}[$__rate_interval])) or 0 * sum by (${by}) (rate(${COUNT}[$__rate_interval])))` +
  ` / sum by (${by}) (rate(${COUNT}[$__rate_interval]))`;

const quantile = (q: number, by: string, window = '$__rate_interval') =>
  `histogram_quantile(${q}, sum by (${by}, le) (rate(${BUCKET}[${window}])))`;

/** Orders that ended confirmed: at placement, or later by the reconciler. */
const confirmedOrders = (window: string, offset = '') =>
  `sum(increase(orders_placed_total{result="confirmed"}[${window}]${offset}))` +
  ` + (sum(increase(orders_settled_total{result="confirmed"}[${window}]${offset})) or vector(0))`;

/** The first row: is the shop healthy? Whole-shop answers, no filter. */
const health = () => [
  statPanel({
    title: 'Error budget burn (1h, worst)',
    description: 'Burn rate of the worst service and SLI (app or edge) over the last hour: 1 spends the 30-day budget in 30 days; the fast page is at 14.4.',
    unit: 'short',
    queries: [{ expr: `max by (service, sli) (service_sli:errors:ratio_rate1h) / ${ERROR_BUDGET.toFixed(3)}`, legend: '{{service}} {{sli}}' }],
    thresholds: [[1, 'orange'], [6, 'red']],
    dashboards: { 'ecommerce-slo': 'Alerts & SLOs' },
    runbooks: ['SLOErrorBudgetBurnFast'],
  }),
  statPanel({
    title: 'Orders confirmed (1h) vs same hour last week',
    description: 'Confirmed at placement or by the reconciler. Alert NoConfirmedOrders when this hour has none and last week had 20.',
    unit: 'short',
    queries: [
      { expr: confirmedOrders('1h'), legend: 'last hour' },
      { expr: confirmedOrders('1h', ' offset 1w'), legend: 'same hour last week' },
    ],
    base: 'red',
    thresholds: [[1, 'green']],
    dashboards: { 'ecommerce-business': 'Business' },
    runbooks: ['NoConfirmedOrders'],
  }),
  statPanel({
    title: 'Oldest pending order',
    unit: 's',
    queries: [{ expr: 'max(orders_pending_oldest_age_seconds)' }],
    thresholds: [[120, 'orange'], [300, 'red']],
    dashboards: { 'ecommerce-business': 'Business' },
    runbooks: ['OrdersStuckPending'],
  }),
  statPanel({
    title: 'Database up',
    description: 'PostgreSQL as postgres_exporter sees it (1 = up). 0 or no data: see the Database dashboard and the services\' own errors.',
    queries: [{ expr: 'min(pg_up)' }],
    base: 'red',
    thresholds: [[1, 'green']],
    dashboards: { 'ecommerce-database': 'Database' },
    runbooks: ['PostgresDown'],
  }),
];

export const servicesOverview = () =>
  buildDashboard({
    uid: 'ecommerce-services',
    title: 'E-commerce / Services overview (RED)',
    description: 'Request rate, 5xx ratio and latency per service, from http_server_request_duration_seconds.',
    tags: ['red', 'services'],
    topRow: { title: 'Is the shop healthy?', panels: health(), restTitle: 'Services (RED)' },
    panels: [
      statPanel({
        title: 'Targets up',
        description: 'Scrape targets answering, per service.',
        queries: [{ expr: 'sum by (service) (up{service=~"$service", instance=~"$instance"})', legend: '{{service}}' }],
        // 0 targets up is the outage: red; any up is green.
        base: 'red',
        thresholds: [[1, 'green']],
        runbooks: ['ServiceNoReplicas', 'ServiceDown'],
      }),
      statPanel({
        title: 'Requests/s',
        unit: 'reqps',
        queries: [{ expr: `sum by (service) (rate(${COUNT}[$__rate_interval]))`, legend: '{{service}}' }],
      }),
      statPanel({
        title: '5xx ratio',
        unit: 'percentunit',
        queries: [{ expr: errorRatio('service'), legend: '{{service}}' }],
        thresholds: [[0.01, 'orange'], [0.05, 'red']],
        runbooks: ['HighErrorRatio'],
      }),
      statPanel({
        title: 'p95 latency',
        unit: 's',
        queries: [{ expr: quantile(0.95, 'service'), legend: '{{service}}' }],
        thresholds: [[0.25, 'orange'], [0.5, 'red']],
        runbooks: ['HighLatencyP95'],
      }),
      timeSeriesPanel({
        title: 'Requests/s by service',
        unit: 'reqps',
        queries: [{ expr: `sum by (service) (rate(${COUNT}[$__rate_interval]))`, legend: '{{service}}' }],
      }),
      timeSeriesPanel({
        title: '5xx ratio by service',
        description: 'Alerts: HighErrorRatio above 5%; SLO burn alerts above 14.4x/6x the 0.5% budget.',
        unit: 'percentunit',
        min: 0,
        queries: [{ expr: errorRatio('service'), legend: '{{service}}' }],
        thresholds: [[0.05, 'red']],
      }),
      timeSeriesPanel({
        title: 'Edge: 5xx ratio by backend (ingress-nginx, or the gateway locally)',
        description: 'What users got: includes the 502/503/504 the ingress answers itself when no pod is Ready, which the services never see (sli="edge" of the SLO).',
        unit: 'percentunit',
        min: 0,
        queries: [{ expr: 'service:edge_5xx:rate5m{service=~"$service"} / service:edge_requests:rate5m{service=~"$service"}', legend: '{{service}}' }],
        thresholds: [[0.05, 'red']],
        runbooks: ['HighErrorRatio', 'DeploymentNoAvailableReplica'],
      }),
      timeSeriesPanel({
        title: 'Edge: requests/s by backend',
        unit: 'reqps',
        queries: [{ expr: 'service:edge_requests:rate5m{service=~"$service"}', legend: '{{service}}' }],
      }),
      timeSeriesPanel({
        title: 'Latency p50 / p95 / p99 by service',
        unit: 's',
        queries: [
          { expr: quantile(0.5, 'service'), legend: '{{service}} p50' },
          { expr: quantile(0.95, 'service'), legend: '{{service}} p95' },
          { expr: quantile(0.99, 'service'), legend: '{{service}} p99' },
        ],
      }),
      timeSeriesPanel({
        title: 'Responses/s by status code',
        unit: 'reqps',
        queries: [
          {
            expr: `sum by (service, http_response_status_code) (rate(${COUNT}[$__rate_interval]))`,
            legend: '{{service}} {{http_response_status_code}}',
          },
        ],
      }),
      tablePanel({
        title: 'Top routes by request rate',
        unit: 'reqps',
        queries: [{ expr: `topk(10, sum by (service, http_request_method, http_route) (rate(${COUNT}[$__range])))` }],
      }),
      tablePanel({
        title: 'Slowest routes (p95)',
        unit: 's',
        queries: [{ expr: `topk(10, ${quantile(0.95, 'service, http_request_method, http_route', '$__range')})` }],
      }),
      timeSeriesPanel({
        title: 'Requests in progress',
        description:
          'Requests read and not yet answered (http_server_active_requests): rising while requests/s stays flat means answers wait (a slow database or peer); a drain waits for it to reach 0.',
        unit: 'short',
        min: 0,
        queries: [{ expr: `sum by (service, instance) (http_server_active_requests{${APP}})`, legend: '{{service}} {{instance}}' }],
      }),
      timeSeriesPanel({
        title: 'Pipelined requests dropped unanswered',
        description:
          `Requests a client pipelined on one connection past ${MAX_PIPELINED_REQUESTS} waiting (http_pipelined_requests_dropped_total): never run nor answered, so on no other panel; the client sends them again on a new connection. ` +
          'Not 0: a client flooding its connections; each such connection logs one warning with its count.',
        unit: 'short',
        min: 0,
        queries: [
          { expr: `sum by (service, instance) (increase(http_pipelined_requests_dropped_total{${APP}}[$__rate_interval]))`, legend: '{{service}} {{instance}}' },
        ],
        thresholds: [[1, 'red']],
      }),
      timeSeriesPanel({
        title: 'Calls to other services/s',
        description: 'Outgoing calls (http_client_request_duration_seconds) by target service, status and error type.',
        unit: 'reqps',
        queries: [
          {
            expr: `sum by (service, peer_service, http_response_status_code, error_type) (rate(http_client_request_duration_seconds_count{${APP}}[$__rate_interval]))`,
            legend: '{{service}} -> {{peer_service}} {{http_response_status_code}} {{error_type}}',
          },
        ],
      }),
      timeSeriesPanel({
        title: 'Calls to other services p95',
        unit: 's',
        queries: [
          {
            expr: `histogram_quantile(0.95, sum by (service, peer_service, le) (rate(http_client_request_duration_seconds_bucket{${APP}}[$__rate_interval])))`,
            legend: '{{service}} -> {{peer_service}}',
          },
        ],
      }),
    ],
  });
