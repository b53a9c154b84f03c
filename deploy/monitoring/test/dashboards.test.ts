// Dashboards as code: the committed JSON is exactly what the generator
// writes, every panel query is valid PromQL for a real Prometheus, and every
// metric it reads is one the services, postgres_exporter, the recording
// rules or Kubernetes actually expose.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  allDashboards,
  listPanelQueries,
  renderDashboard,
  substituteVariables,
} from '../src/dashboards/index.js';
import { listRuleFiles, readRuleFile } from '../src/overlay.js';
import { metricNames } from '../src/promql.js';
import { dashboardsDir, repoRoot } from '../src/paths.js';
import { instantQuery, startPrometheus, type RunningPrometheus } from '../src/prometheus-process.js';
import { missingTools } from '../src/tools.js';
import { needTools } from './support.js';

describe('dashboards', () => {
  test('committed JSON matches the generator (run `npm run dashboards`)', async () => {
    const generated = allDashboards();
    const committed = (await readdir(dashboardsDir)).filter((n) => n.endsWith('.json')).sort();
    assert.deepEqual(committed, generated.map((d) => d.file).sort(), 'dashboard files differ from the generator');
    for (const { file, dashboard } of generated) {
      const onDisk = await readFile(path.join(dashboardsDir, file), 'utf8');
      assert.ok(onDisk === renderDashboard(dashboard), `${file} drifted from src/dashboards: run \`npm run dashboards\` and commit`);
    }
  });

  test('five dashboards with unique uids, service and instance variables, panel ids', () => {
    const dashboards = allDashboards();
    assert.equal(dashboards.length, 5);
    assert.equal(new Set(dashboards.map((d) => d.dashboard.uid)).size, 5);
    for (const { dashboard } of dashboards) {
      const variables = (dashboard.templating?.list ?? []).map((v) => v.name);
      assert.deepEqual(variables, ['service', 'instance'], dashboard.title);
      const ids = (dashboard.panels ?? []).map((p) => p.id);
      assert.equal(new Set(ids).size, ids.length, `${dashboard.title}: duplicate panel ids`);
    }
  });

  test('every query names its dashboard and panel, and Kubernetes-only ones are marked', () => {
    const queries = listPanelQueries();
    assert.ok(queries.length >= 40, `only ${queries.length} queries`);
    for (const q of queries) {
      assert.ok(q.dashboardTitle && q.panelTitle && q.refId, JSON.stringify(q));
      const readsK8s = /\b(kube|container)_\w+/.test(q.expr);
      assert.equal(q.scope === 'kubernetes', readsK8s, `${q.panelTitle}: scope ${q.scope}`);
    }
    // The Kubernetes panels must not be the whole story anywhere.
    assert.ok(queries.some((q) => q.scope === 'kubernetes'));
    assert.ok(queries.filter((q) => q.scope === 'app').length > queries.length / 2);
  });

  test('every metric read is one that something exposes', async () => {
    const known = await knownMetricNames();
    const unknown: string[] = [];
    for (const q of listPanelQueries()) {
      for (const name of metricNames(substituteVariables(q.expr))) {
        if (!known.has(name)) unknown.push(`${q.dashboardTitle} / ${q.panelTitle}: ${name}`);
      }
    }
    assert.deepEqual(unknown, []);
  });

  describe('queries parse in a real Prometheus', () => {
    let prometheus: RunningPrometheus | undefined;
    before(async () => {
      if (missingTools(['prometheus']).length > 0) return;
      prometheus = await startPrometheus({ config: 'global:\n  scrape_interval: 1h\nscrape_configs: []\n' });
    });
    after(async () => prometheus?.stop());

    test('every panel query, with variables filled in', async (t) => {
      if (!needTools(t, ['prometheus']) || !prometheus) return;
      const failures: string[] = [];
      for (const q of listPanelQueries()) {
        const result = await instantQuery(prometheus.url, substituteVariables(q.expr));
        if (result.status !== 'success') failures.push(`${q.dashboardTitle} / ${q.panelTitle} ${q.refId}: ${result.error}`);
      }
      assert.deepEqual(failures, []);
    });

    test('the variable queries select valid series', async (t) => {
      if (!needTools(t, ['prometheus']) || !prometheus) return;
      for (const { dashboard } of allDashboards()) {
        for (const variable of dashboard.templating?.list ?? []) {
          const definition = String(variable.definition ?? '');
          const selector = /^label_values\((.+),\s*\w+\)$/.exec(definition)?.[1];
          assert.ok(selector, `${dashboard.title} $${variable.name}: ${definition}`);
          const result = await instantQuery(prometheus.url, substituteVariables(selector));
          assert.equal(result.status, 'success', `${definition}: ${result.error}`);
        }
      }
    });

    test('a broken query is reported (the check can fail)', async (t) => {
      if (!needTools(t, ['prometheus']) || !prometheus) return;
      const result = await instantQuery(prometheus.url, 'sum by (service (rate(x[5m]))');
      assert.equal(result.status, 'error');
      assert.equal(result.errorType, 'bad_data');
    });
  });
});

async function knownMetricNames(): Promise<Set<string>> {
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
  ]) known.add(name);
  const queries = await readFile(path.join(repoRoot, 'deploy', 'monitoring', 'postgres', 'queries.yml'), 'utf8');
  for (const m of queries.matchAll(/^\s+- (\w+):\n\s+usage: (?:COUNTER|GAUGE)/gm)) known.add(`pg_stat_statements_${m[1]}`);
  // Recording rules, Prometheus itself.
  for (const file of await listRuleFiles()) {
    for (const group of (await readRuleFile(file)).groups) for (const rule of group.rules) if (rule.record) known.add(rule.record);
  }
  for (const name of ['up', 'ALERTS']) known.add(name);
  // kube-state-metrics and cAdvisor.
  for (const name of [
    'kube_pod_container_resource_limits',
    'kube_pod_container_status_restarts_total',
    'container_cpu_usage_seconds_total',
    'container_cpu_cfs_throttled_periods_total',
    'container_cpu_cfs_periods_total',
    'container_memory_working_set_bytes',
  ]) known.add(name);
  return known;
}
