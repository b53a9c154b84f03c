import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, type TestContext } from 'node:test';
import { listRuleFiles, readRuleFile } from '../src/overlay.js';
import { repoRoot } from '../src/paths.js';
import { instantQuery, startPrometheus, type RunningPrometheus } from '../src/prometheus-process.js';
import { INSTALL_HINT, missingTools, type Tool } from '../src/tools.js';

/**
 * True when the tools are installed. Otherwise fails with the install hint,
 * or skips when MONITORING_TOOLS=optional (machines that cannot install them).
 */
export function needTools(t: TestContext, tools: readonly Tool[]): boolean {
  const missing = missingTools(tools);
  if (missing.length === 0) return true;
  const message = `missing ${missing.join(', ')}: ${INSTALL_HINT}`;
  if (process.env.MONITORING_TOOLS === 'optional') {
    t.skip(`MONITORING_TOOLS=optional and ${message}`);
    return false;
  }
  assert.fail(message);
}

/**
 * A Prometheus with no targets for the enclosing describe block (started when the binary is installed): what it
 * answers to a query says whether the query parses. `current()` is undefined where it is not installed.
 */
export function emptyPrometheus(): { current: () => RunningPrometheus | undefined } {
  let prometheus: RunningPrometheus | undefined;
  before(async () => {
    if (missingTools(['prometheus']).length > 0) return;
    prometheus = await startPrometheus({ config: 'global:\n  scrape_interval: 1h\nscrape_configs: []\n' });
  });
  after(async () => prometheus?.stop());
  return { current: () => prometheus };
}

/** The queries a running Prometheus refuses, each as `<label>: <its error>`. */
export async function refusedQueries(url: string, queries: readonly { label: string; expr: string }[]): Promise<string[]> {
  const refused: string[] = [];
  for (const { label, expr } of queries) {
    const result = await instantQuery(url, expr);
    if (result.status !== 'success') refused.push(`${label}: ${result.error}`);
  }
  return refused;
}

/**
 * Every metric name something exposes: the services' contract (docs/configuration.md), postgres_exporter's
 * built-ins and our queries, the recording rules, Prometheus itself, kube-state-metrics, cAdvisor and the collector.
 */
export async function knownMetricNames(): Promise<Set<string>> {
  const known = new Set<string>();
  // The services' contract: the metrics table of docs/configuration.md.
  const contract = await readFile(path.join(repoRoot, 'docs', 'configuration.md'), 'utf8');
  for (const m of contract.matchAll(/`([a-z][a-z0-9_]+)`/g)) {
    const name = m[1] ?? '';
    known.add(name);
    for (const suffix of ['_bucket', '_count', '_sum']) known.add(name + suffix);
  }
  // prom-client default metrics beyond the ones the contract names.
  for (const name of ['process_start_time_seconds', 'nodejs_heap_size_total_bytes', 'nodejs_gc_duration_seconds_sum']) known.add(name);
  // postgres_exporter 0.11 built-ins (checked against a live exporter) and
  // our pg_stat_statements queries (postgres/queries.yml).
  for (const name of [
    'pg_up',
    'pg_settings_max_connections',
    'pg_stat_activity_count',
    'pg_stat_activity_max_tx_duration',
    'pg_stat_database_xact_commit',
    'pg_stat_database_xact_rollback',
    'pg_stat_database_blks_hit',
    'pg_stat_database_blks_read',
    'pg_stat_database_deadlocks',
    'pg_locks_count',
    'pg_scrape_collector_success',
    'pg_database_size_bytes',
  ]) known.add(name);
  const queries = await readFile(path.join(repoRoot, 'deploy', 'monitoring', 'postgres', 'queries.yml'), 'utf8');
  for (const m of queries.matchAll(/^\s+- (\w+):\n\s+usage: (?:COUNTER|GAUGE)/gm)) known.add(`pg_stat_statements_${m[1]}`);
  // Recording rules, Prometheus itself.
  for (const file of await listRuleFiles()) {
    for (const group of (await readRuleFile(file)).groups) for (const rule of group.rules) if (rule.record) known.add(rule.record);
  }
  // up and scrape_duration_seconds: Prometheus writes them for every target it scrapes.
  for (const name of ['up', 'scrape_duration_seconds', 'ALERTS']) known.add(name);
  // kube-state-metrics and cAdvisor.
  for (const name of [
    'kube_pod_container_resource_limits',
    'kube_pod_container_status_restarts_total',
    'container_cpu_usage_seconds_total',
    'container_cpu_cfs_throttled_periods_total',
    'container_cpu_cfs_periods_total',
    'container_memory_working_set_bytes',
    'container_memory_rss',
    'kube_deployment_status_condition',
  ]) known.add(name);
  // The OpenTelemetry Collector's own counters, as Prometheus scrapes them from 0.141 with the reader of
  // otel-collector.yaml (`_total`; deploy/k8s/test/tracing.test.ts pins what the names rest on).
  for (const name of [
    'otelcol_receiver_accepted_spans_total',
    'otelcol_receiver_refused_spans_total',
    'otelcol_exporter_sent_spans_total',
    'otelcol_exporter_send_failed_spans_total',
    'otelcol_exporter_enqueue_failed_spans_total',
  ]) known.add(name);
  return known;
}
