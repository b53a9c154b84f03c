// (a) RED per service: rate, errors (5xx ratio), duration (p50/p95/p99),
// and the routes that carry the traffic.
import { APP, NOT_PROBES, buildDashboard, statPanel, tablePanel, timeSeriesPanel } from './common.js';

const COUNT = `http_server_request_duration_seconds_count{${APP}, ${NOT_PROBES}}`;
const ERRORS = `http_server_request_duration_seconds_count{${APP}, ${NOT_PROBES}, http_response_status_code=~"5.."}`;
const BUCKET = `http_server_request_duration_seconds_bucket{${APP}, ${NOT_PROBES}}`;

// `or 0 * ...`: prom-client only creates a 5xx series after the first 5xx, so
// a healthy service shows 0% instead of "No data".
const errorRatio = (by: string) =>
  `(sum by (${by}) (rate(${ERRORS}[$__rate_interval])) or 0 * sum by (${by}) (rate(${COUNT}[$__rate_interval])))` +
  ` / sum by (${by}) (rate(${COUNT}[$__rate_interval]))`;

const quantile = (q: number, by: string, window = '$__rate_interval') =>
  `histogram_quantile(${q}, sum by (${by}, le) (rate(${BUCKET}[${window}])))`;

export const servicesOverview = () =>
  buildDashboard({
    uid: 'ecommerce-services',
    title: 'E-commerce / Services overview (RED)',
    description: 'Request rate, 5xx ratio and latency per service, from http_server_request_duration_seconds.',
    tags: ['red', 'services'],
    panels: [
      statPanel({
        title: 'Targets up',
        description: 'Scrape targets answering, per service.',
        queries: [{ expr: 'sum by (service) (up{service=~"$service", instance=~"$instance"})', legend: '{{service}}' }],
        thresholds: [],
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
      }),
      statPanel({
        title: 'p95 latency',
        unit: 's',
        queries: [{ expr: quantile(0.95, 'service'), legend: '{{service}}' }],
        thresholds: [[0.25, 'orange'], [0.5, 'red']],
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
