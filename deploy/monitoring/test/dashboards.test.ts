// Dashboards as code: the committed JSON is exactly what the generator
// writes, every panel query is valid PromQL for a real Prometheus, and every
// metric it reads is one the services, postgres_exporter, the recording
// rules or Kubernetes actually expose.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import {
  allDashboards,
  listPanelQueries,
  renderDashboard,
  substituteVariables,
} from '../src/dashboards/index.js';
import { metricNames } from '../src/promql.js';
import { dashboardsDir, prometheusK8sConfigPath, repoRoot, rulesDir } from '../src/paths.js';
import YAML from 'yaml';
import { instantQuery, startPrometheus, type RunningPrometheus } from '../src/prometheus-process.js';
import { emptyPrometheus, knownMetricNames, needTools, refusedQueries } from './support.js';

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

  test('five dashboards with unique uids, service and instance variables (runtime: namespace), panel ids', () => {
    const dashboards = allDashboards();
    assert.equal(dashboards.length, 5);
    assert.equal(new Set(dashboards.map((d) => d.dashboard.uid)).size, 5);
    for (const { dashboard } of dashboards) {
      const variables = (dashboard.templating?.list ?? []).map((v) => v.name);
      const filters = dashboard.uid === 'ecommerce-runtime' ? ['service', 'instance', 'namespace'] : ['service', 'instance'];
      assert.deepEqual(variables, [...filters, 'runbooks'], dashboard.title);
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

  test('failing values are red: a missed SLO, nothing up, the database down', () => {
    const stats = new Map(
      allDashboards().flatMap(({ dashboard }) => (dashboard.panels ?? []).map((p) => [p.title ?? '', p] as const)),
    );
    const steps = (title: string) => {
      const panel = stats.get(title) as { fieldConfig?: { defaults?: { thresholds?: { steps?: Array<{ value: number | null; color: string }> } } } } | undefined;
      assert.ok(panel, `no panel "${title}"`);
      return panel.fieldConfig?.defaults?.thresholds?.steps ?? [];
    };
    // [panel, a failing value, a healthy value]
    for (const [title, failing, healthy] of [
      ['Availability (30d)', 0.99, 0.999],
      ['Error budget left (30d)', -0.2, 0.8],
      ['PostgreSQL up', 0, 1],
      ['Database up', 0, 1],
      ['Targets up', 0, 2],
      ['Orders confirmed (1h) vs same hour last week', 0, 12],
    ] as const) {
      const s = steps(title);
      const colour = (v: number) => [...s].reverse().find((step) => step.value === null || v >= step.value)?.color;
      assert.equal(colour(failing), 'red', `${title}: ${failing} is ${colour(failing)}`);
      assert.equal(colour(healthy), 'green', `${title}: ${healthy} is ${colour(healthy)}`);
    }
  });

  // The Watchdog (rules/monitoring.yml) fires always, on purpose: the dead man's switch. A panel that counts firing
  // alerts must not count it, or a shop where nothing is wrong looks like one with a firing alert, in red.
  test('when nothing is wrong and only the Watchdog fires (the shipped rules, a real Prometheus), then "Firing alerts by severity" is not red; a real page is', async (t) => {
    if (!needTools(t, ['prometheus'])) return;
    const panel = allDashboards()
      .flatMap(({ dashboard }) => dashboard.panels ?? [])
      .find((p) => p.title === 'Firing alerts by severity') as
      | { targets?: Array<{ expr?: string }>; fieldConfig?: { defaults?: { thresholds?: { steps?: Array<{ value: number | null; color: string }> } } } }
      | undefined;
    assert.ok(panel, 'no panel "Firing alerts by severity"');
    const steps = panel.fieldConfig?.defaults?.thresholds?.steps ?? [];
    const colour = (v: number) => [...steps].reverse().find((step) => step.value === null || v >= step.value)?.color;
    const expr = substituteVariables(panel.targets?.[0]?.expr ?? '');
    const monitoringRules = await readFile(path.join(rulesDir, 'monitoring.yml'), 'utf8');
    const aPage = 'groups:\n  - name: a-page\n    rules:\n      - alert: SomethingBroke\n        expr: vector(1)\n        labels: { severity: page }\n';
    // What the panel shows once the rules have run: each value with its colour, by severity.
    const shown = async (extraRules?: string): Promise<Record<string, string | undefined>> => {
      const prometheus = await startPrometheus({
        config: `global: { evaluation_interval: 1s }\nrule_files: [monitoring.yml${extraRules ? ', extra.yml' : ''}]\nscrape_configs: []\n`,
        files: { 'monitoring.yml': monitoringRules, ...(extraRules ? { 'extra.yml': extraRules } : {}) },
      });
      try {
        const firing = extraRules ? 2 : 1;
        for (const deadline = Date.now() + 15_000; ; await new Promise((r) => setTimeout(r, 250))) {
          const alerts = await instantQuery(prometheus.url, 'count(ALERTS{alertstate="firing"})');
          if (Number((alerts.data?.result as Array<{ value: [number, string] }> | undefined)?.[0]?.value[1]) === firing) break;
          assert.ok(Date.now() < deadline, `the rules did not fire ${firing} alert(s) in 15 s`);
        }
        const result = await instantQuery(prometheus.url, expr);
        assert.equal(result.status, 'success', result.error);
        const samples = (result.data?.result ?? []) as Array<{ metric: Record<string, string>; value: [number, string] }>;
        return Object.fromEntries(samples.map((s) => [`${s.metric['severity'] ?? ''}=${s.value[1]}`, colour(Number(s.value[1]))]));
      } finally {
        await prometheus.stop();
      }
    };
    const healthy = await shown();
    assert.ok(!Object.values(healthy).includes('red'), `only the Watchdog fires, and the panel shows ${JSON.stringify(healthy)}`);
    const paging = await shown(aPage);
    assert.equal(paging['page=1'], 'red', `a page fires, and the panel shows ${JSON.stringify(paging)}`);
  });

  test('the services overview opens with "Is the shop healthy?": burn rate, orders vs last week, oldest pending order, database up', () => {
    const overview = allDashboards().find((d) => d.dashboard.uid === 'ecommerce-services')?.dashboard;
    const panels = overview?.panels ?? [];
    assert.equal(panels[0]?.type, 'row');
    assert.equal(panels[0]?.title, 'Is the shop healthy?');
    const top = panels.slice(1, panels.findIndex((p, i) => i > 0 && p.type === 'row'));
    assert.deepEqual(
      top.map((p) => p.title),
      ['Error budget burn (1h, worst)', 'Orders confirmed (1h) vs same hour last week', 'Oldest pending order', 'Database up'],
    );
    const exprs = listPanelQueries().filter((q) => q.dashboardUid === 'ecommerce-services').map((q) => q.expr);
    assert.ok(exprs.some((e) => /service_sli:errors:ratio_rate1h/.test(e)));
    assert.ok(exprs.some((e) => /offset 1w/.test(e) && /orders_settled_total\{result="confirmed"\}/.test(e)));
  });

  test('links: every dashboard to the others, panels to their runbook sections with the same base as the alerts', async () => {
    const runbooks = await readFile(path.join(repoRoot, 'docs', 'runbooks.md'), 'utf8');
    const headings = new Set([...runbooks.matchAll(/^##\s+(\S+)\s*$/gm)].map((m) => (m[1] ?? '').toLowerCase()));
    const uids = new Set(allDashboards().map((d) => d.dashboard.uid));
    const k8s = YAML.parse(await readFile(prometheusK8sConfigPath, 'utf8')) as { global: { external_labels: Record<string, string> } };
    let runbookLinks = 0;
    for (const { dashboard } of allDashboards()) {
      assert.ok(
        (dashboard.links ?? []).some((l) => l.type === 'dashboards' && l.tags.includes('ecommerce') && l.keepTime && l.includeVars),
        `${dashboard.title}: no link to the other dashboards`,
      );
      // No placement: Grafana 12.3+ draws a link with one only in its controls menu, which drops dashboard links.
      const placed = [...(dashboard.links ?? []), ...(dashboard.panels ?? []).flatMap((p) => ('links' in p ? (p.links ?? []) : []))].filter((l) => 'placement' in l);
      assert.deepEqual(placed, [], `${dashboard.title}: links with a placement`);
      const constant = (dashboard.templating?.list ?? []).find((v) => v.name === 'runbooks');
      assert.equal(constant?.query, k8s.global.external_labels.runbook_base_url, `${dashboard.title}: runbooks base differs from the alerts'`);
      for (const panel of dashboard.panels ?? []) {
        for (const link of ('links' in panel ? (panel.links ?? []) : []) as Array<{ url?: string }>) {
          const url = link.url ?? '';
          const runbook = /^\$\{runbooks\}#(\w+)$/.exec(url);
          const board = /^\/d\/([\w-]+)\?/.exec(url);
          assert.ok(runbook || board, `${dashboard.title} / ${panel.title}: link ${url}`);
          if (runbook) {
            runbookLinks++;
            assert.ok(headings.has(runbook[1] ?? ''), `${panel.title}: no runbook section #${runbook[1]}`);
          }
          if (board) assert.ok(uids.has(board[1]), `${panel.title}: no dashboard ${board[1]}`);
        }
      }
    }
    assert.ok(runbookLinks >= 15, `only ${runbookLinks} runbook links`);
  });

  test('runtime: Kubernetes panels follow the namespace filter; restarts per $__rate_interval', () => {
    const runtime = listPanelQueries().filter((q) => q.dashboardUid === 'ecommerce-runtime');
    for (const q of runtime.filter((r) => r.scope === 'kubernetes')) assert.match(q.expr, /namespace=~"\$namespace"/, `${q.panelTitle} ${q.refId}`);
    const restarts = runtime.filter((q) => q.panelTitle === 'Restarts');
    assert.equal(restarts.length, 2);
    for (const q of restarts) assert.match(q.expr, /\[\$__rate_interval\]/, q.expr);
    assert.ok(restarts.some((q) => /increase\(kube_pod_container_status_restarts_total/.test(q.expr)));
  });

  test('"Orders confirmed" counts the orders the reconciler confirmed too', () => {
    const q = listPanelQueries().find((p) => p.panelTitle === 'Orders confirmed (range)');
    assert.match(q?.expr ?? '', /orders_placed_total\{[^}]*result="confirmed"\}/);
    assert.match(q?.expr ?? '', /orders_settled_total\{[^}]*result="confirmed"\}/);
  });

  describe('queries parse in a real Prometheus', () => {
    const started = emptyPrometheus();
    let prometheus: RunningPrometheus | undefined;
    before(() => (prometheus = started.current()));

    test('every panel query, with variables filled in', async (t) => {
      if (!needTools(t, ['prometheus']) || !prometheus) return;
      const panels = listPanelQueries().map((q) => ({ label: `${q.dashboardTitle} / ${q.panelTitle} ${q.refId}`, expr: substituteVariables(q.expr) }));
      assert.deepEqual(await refusedQueries(prometheus.url, panels), []);
    });

    test('the variable queries select valid series', async (t) => {
      if (!needTools(t, ['prometheus']) || !prometheus) return;
      for (const { dashboard } of allDashboards()) {
        for (const variable of dashboard.templating?.list ?? []) {
          if (variable.type === 'constant') continue;
          const query = variable.query;
          const definition = String(typeof query === 'object' ? (query['query'] ?? '') : (query ?? ''));
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
