// (b) Runtime and resources: CPU, memory against the container limit, V8
// heap, event loop, GC, file descriptors, log lines dropped, restarts. process_* / nodejs_* come
// from every service; container_* and kube_* only exist in Kubernetes.
import { APP, CONTAINER, buildDashboard, timeSeriesPanel } from './common.js';

// The namespace filter (Kubernetes panels only: the apps' own series carry
// no namespace locally).
const NS = 'namespace=~"$namespace"';
const K8S = `${CONTAINER}, container!="POD", ${NS}`;

export const runtime = () =>
  buildDashboard({
    uid: 'ecommerce-runtime',
    title: 'E-commerce / Runtime & resources',
    description: 'Node.js process metrics (prom-client defaults) and, in Kubernetes, container usage against limits.',
    tags: ['runtime', 'resources'],
    variables: [['namespace', 'Namespace', 'label_values(kube_pod_container_resource_limits, namespace)']],
    panels: [
      timeSeriesPanel({
        title: 'CPU (cores)',
        description: 'A Node process runs JavaScript on one core: sustained values near 1 mean the event loop is saturated.',
        unit: 'short',
        queries: [
          { expr: `sum by (service, instance) (rate(process_cpu_seconds_total{${APP}}[$__rate_interval]))`, legend: '{{service}} {{instance}}' },
          {
            expr: `sum by (namespace, pod, container) (kube_pod_container_resource_limits{resource="cpu", ${K8S}})`,
            legend: 'limit {{pod}}',
          },
        ],
      }),
      timeSeriesPanel({
        title: 'CPU throttling (Kubernetes)',
        unit: 'percentunit',
        min: 0,
        queries: [
          {
            expr:
              `sum by (namespace, pod, container) (rate(container_cpu_cfs_throttled_periods_total{${K8S}}[$__rate_interval]))` +
              ` / sum by (namespace, pod, container) (rate(container_cpu_cfs_periods_total{${K8S}}[$__rate_interval]))`,
            legend: '{{pod}}',
          },
        ],
        thresholds: [[0.25, 'red']],
        runbooks: ['ContainerCpuThrottled'],
      }),
      timeSeriesPanel({
        title: 'Memory: RSS vs limit',
        unit: 'bytes',
        queries: [
          { expr: `process_resident_memory_bytes{${APP}}`, legend: 'RSS {{service}} {{instance}}' },
          {
            expr: `sum by (namespace, pod, container) (container_memory_working_set_bytes{${K8S}})`,
            legend: 'working set {{pod}}',
          },
          {
            // What ContainerMemoryNearLimit reads: the working set also counts active page cache.
            expr: `sum by (namespace, pod, container) (container_memory_rss{${K8S}})`,
            legend: 'anonymous (alert) {{pod}}',
          },
          {
            expr: `sum by (namespace, pod, container) (kube_pod_container_resource_limits{resource="memory", ${K8S}})`,
            legend: 'limit {{pod}}',
          },
        ],
      }),
      timeSeriesPanel({
        title: 'V8 heap used / total',
        unit: 'bytes',
        queries: [
          { expr: `nodejs_heap_size_used_bytes{${APP}}`, legend: 'used {{service}} {{instance}}' },
          { expr: `nodejs_heap_size_total_bytes{${APP}}`, legend: 'total {{service}} {{instance}}' },
        ],
      }),
      timeSeriesPanel({
        title: 'Event loop lag p99',
        description: 'Alert EventLoopLagHigh above 200ms for 5 minutes.',
        unit: 's',
        queries: [{ expr: `nodejs_eventloop_lag_p99_seconds{${APP}}`, legend: '{{service}} {{instance}}' }],
        thresholds: [[0.2, 'red']],
        runbooks: ['EventLoopLagHigh'],
      }),
      timeSeriesPanel({
        title: 'GC time per second by kind',
        unit: 's',
        queries: [
          {
            expr: `sum by (service, instance, kind) (rate(nodejs_gc_duration_seconds_sum{${APP}}[$__rate_interval]))`,
            legend: '{{service}} {{instance}} {{kind}}',
          },
        ],
      }),
      timeSeriesPanel({
        title: 'Open file descriptors (share of limit)',
        unit: 'percentunit',
        min: 0,
        max: 1,
        queries: [{ expr: `process_open_fds{${APP}} / process_max_fds{${APP}}`, legend: '{{service}} {{instance}}' }],
        thresholds: [[0.8, 'red']],
        runbooks: ['FileDescriptorsNearLimit'],
      }),
      timeSeriesPanel({
        title: 'Log lines dropped',
        description:
          'Lines a service dropped because its stdout was not read (a stalled log driver or pipe) once 8 MiB waited: lost, requests still served (log_lines_dropped_total). Alert LogLinesDropped on any.',
        unit: 'short',
        min: 0,
        queries: [
          { expr: `sum by (service, instance) (increase(log_lines_dropped_total{${APP}}[$__rate_interval]))`, legend: '{{service}} {{instance}}' },
        ],
        thresholds: [[1, 'red']],
        runbooks: ['LogLinesDropped'],
      }),
      timeSeriesPanel({
        title: 'Restarts',
        description: 'Process restarts seen by Prometheus (start time changed) and, in Kubernetes, container restarts.',
        unit: 'short',
        queries: [
          // Per interval, so a restart shows when it happened, not smeared over the range.
          { expr: `changes(process_start_time_seconds{${APP}}[$__rate_interval])`, legend: 'process {{service}} {{instance}}' },
          {
            expr: `sum by (namespace, pod, container) (increase(kube_pod_container_status_restarts_total{${CONTAINER}, ${NS}}[$__rate_interval]))`,
            legend: 'container {{pod}}',
          },
        ],
      }),
    ],
  });
