// Alert and recording rules, Prometheus and Alertmanager configs, checked
// with the real tools: promtool check/test, amtool check-config.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import YAML from 'yaml';
import {
  compressExpr,
  defaultOverlayOptions,
  listRuleFiles,
  readAlertmanagerConfig,
  readPrometheusConfig,
  readRuleFile,
  remapPorts,
  withWebhookUrl,
  writeTestOverlay,
  type Rule,
} from '../src/overlay.js';
import { freeLoopbackPort } from '../src/prometheus-process.js';
import { parseDuration } from '../src/duration.js';
import {
  alertmanagerConfigPath,
  monitoringDir,
  prometheusComposeConfigPath,
  prometheusConfigPath,
  prometheusK8sConfigPath,
  repoRoot,
  ruleTestsDir,
} from '../src/paths.js';
import { linkLabels } from '../src/stack.js';
import { allDashboards } from '../src/dashboards/index.js';
import { metricNames } from '../src/promql.js';
import { missingTools, runTool } from '../src/tools.js';
import { needTools } from './support.js';

const SEVERITIES = new Set(['page', 'ticket', 'warning']);
/** The heartbeat: always firing, severity none, routed to the dead man's switch only. */
const WATCHDOG = 'Watchdog';
const RUNBOOK_BASE = '{{ $externalLabels.runbook_base_url }}';
const GRAFANA_BASE = '{{ $externalLabels.grafana_url }}';

async function allAlerts(): Promise<Array<Rule & { alert: string; file: string }>> {
  const alerts: Array<Rule & { alert: string; file: string }> = [];
  for (const file of await listRuleFiles()) {
    for (const group of (await readRuleFile(file)).groups) {
      for (const rule of group.rules) {
        if (rule.alert) alerts.push({ ...rule, alert: rule.alert, file: path.basename(file) });
      }
    }
  }
  return alerts;
}

interface AlertRuleTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: unknown[] | null;
}
interface PromtoolTestFile {
  rule_files: string[];
  tests: Array<{ alert_rule_test?: AlertRuleTest[] }>;
}

async function ruleTestFiles(): Promise<string[]> {
  return (await readdir(ruleTestsDir)).filter((n) => n.endsWith('.yml')).sort().map((n) => path.join(ruleTestsDir, n));
}

describe('alert rules', () => {
  test('promtool check rules accepts every rule file', async (t) => {
    if (!needTools(t, ['promtool'])) return;
    const files = await listRuleFiles();
    assert.ok(files.length > 0);
    const result = runTool('promtool', ['check', 'rules', ...files]);
    assert.equal(result.status, 0, result.output);
  });

  test('promtool test rules passes', async (t) => {
    if (!needTools(t, ['promtool'])) return;
    const result = runTool('promtool', ['test', 'rules', ...(await ruleTestFiles())]);
    assert.equal(result.status, 0, result.output);
  });

  test('every alert has severity, summary, description, an absolute runbook link and a dashboard', async () => {
    const runbooks = await readFile(path.join(repoRoot, 'docs', 'runbooks.md'), 'utf8');
    const headings = new Set([...runbooks.matchAll(/^##\s+(\S+)\s*$/gm)].map((m) => (m[1] ?? '').toLowerCase()));
    const dashboardUids = new Set(allDashboards().map((d) => d.dashboard.uid));
    const alerts = await allAlerts();
    assert.ok(alerts.length >= 30, `only ${alerts.length} alerts`);
    const names = new Set<string>();
    for (const rule of alerts) {
      assert.ok(!names.has(rule.alert), `${rule.alert} defined twice`);
      names.add(rule.alert);
      const severity = rule.labels?.severity ?? '';
      assert.ok(SEVERITIES.has(severity) || (rule.alert === WATCHDOG && severity === 'none'), `${rule.alert}: severity ${severity}`);
      assert.ok(rule.annotations?.summary, `${rule.alert}: summary`);
      assert.ok(rule.annotations?.description, `${rule.alert}: description`);
      const anchor = rule.alert.toLowerCase();
      // Absolute once rendered: the base comes from an external label that
      // every Prometheus config sets (checked below).
      assert.equal(rule.annotations?.runbook_url, `${RUNBOOK_BASE}#${anchor}`, `${rule.alert}: runbook_url`);
      assert.ok(headings.has(anchor), `docs/runbooks.md has no "## ${rule.alert}" section`);
      const dashboard = rule.annotations?.dashboard ?? '';
      assert.ok(dashboard.startsWith(`${GRAFANA_BASE}/d/`), `${rule.alert}: dashboard annotation "${dashboard}"`);
      const uid = dashboard.slice(`${GRAFANA_BASE}/d/`.length);
      assert.ok(dashboardUids.has(uid), `${rule.alert}: no dashboard with uid ${uid}`);
    }
  });

  // docs/monitoring.md is where a reader looks an alert up before its runbook: its "## Alerts" table had no row for
  // OrderAuditRepairsHeld (a page), and its file table counted 37 alerts when the rules held 47.
  test("when docs/monitoring.md's Alerts table lists the alerts, then each alert of the rules is a row once, with its `for` and severity, and the count the page gives is theirs", async () => {
    const doc = await readFile(path.join(repoRoot, 'docs', 'monitoring.md'), 'utf8');
    const section = doc.slice(doc.indexOf('\n## Alerts\n'), doc.indexOf('\n## ', doc.indexOf('\n## Alerts\n') + 1));
    const rows = section
      .split('\n')
      .filter((line) => /^\| [A-Z]\w+ \|/.test(line))
      .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
    const alerts = await allAlerts();
    assert.ok(rows.length >= 30, `only ${rows.length} rows in docs/monitoring.md's "## Alerts" table`);
    const wrong: string[] = [];
    for (const name of new Set([...alerts.map((a) => a.alert), ...rows.map(([name = '']) => name)])) {
      const said = rows.filter(([row]) => row === name);
      const rule = alerts.find((a) => a.alert === name);
      if (!rule) wrong.push(`${name}: a row, no alert of that name in deploy/monitoring/rules`);
      else if (said.length !== 1) wrong.push(`${name}: ${said.length} rows`);
      else {
        const [, , forCell = '', severityCell = ''] = said[0] ?? [];
        const severity = rule.labels?.severity ?? '';
        const ms = (text: string) => (text === '0' ? 0 : /^(\d+(ms|[ywdhms]))+$/.test(text) ? parseDuration(text) : Number.NaN);
        if (ms(forCell) !== ms(rule.for ?? '0s')) wrong.push(`${name}: for ${rule.for ?? '0'}, the row says ${forCell}`);
        if (severityCell.split(' ')[0] !== severity) wrong.push(`${name}: severity ${severity}, the row says ${severityCell}`);
      }
    }
    for (const [, count] of doc.matchAll(/\b(\d+) alerts\b/g)) if (Number(count) !== alerts.length) wrong.push(`"${count} alerts": the rules hold ${alerts.length}`);
    assert.deepEqual(wrong, []);
  });

  test('every Prometheus config sets absolute link bases for the alert annotations', async () => {
    const configs = [prometheusConfigPath, prometheusK8sConfigPath, prometheusComposeConfigPath];
    for (const file of configs) {
      const config = YAML.parse(await readFile(file, 'utf8')) as { global?: { external_labels?: Record<string, string> } };
      const labels = config.global?.external_labels ?? {};
      for (const key of ['runbook_base_url', 'grafana_url']) {
        const value = labels[key] ?? '';
        assert.match(value, /^(https?|file):\/\/\S+$/, `${path.basename(file)}: ${key} = "${value}"`);
      }
    }
    // `npm run monitoring` points runbook links at this checkout, or RUNBOOK_BASE_URL.
    const local = linkLabels({});
    assert.equal(local.runbook_base_url, pathToFileURL(path.join(repoRoot, 'docs', 'runbooks.md')).href);
    assert.deepEqual(linkLabels({ RUNBOOK_BASE_URL: 'https://wiki.example/rb', GRAFANA_URL: 'https://grafana.example/' }), {
      runbook_base_url: 'https://wiki.example/rb',
      grafana_url: 'https://grafana.example',
    });
  });

  test('SLO burn pages have a traffic floor on both windows', async () => {
    for (const rule of await allAlerts()) {
      if (!rule.alert.startsWith('SLOErrorBudgetBurn')) continue;
      const windows = [...rule.expr.matchAll(/service_sli:errors:ratio_rate(\w+)/g)].map((m) => m[1]);
      assert.ok(windows.length >= 2, rule.alert);
      for (const w of windows) assert.match(rule.expr, new RegExp(`service_sli:requests:rate${w} \\* \\d+ >= \\d+`), `${rule.alert}: no floor on ${w}`);
    }
  });

  test('every alert has a promtool case where it fires and one where it stays silent', async () => {
    const fires = new Set<string>();
    const silent = new Set<string>();
    for (const file of await ruleTestFiles()) {
      const parsed = YAML.parse(await readFile(file, 'utf8')) as PromtoolTestFile;
      for (const group of parsed.tests) {
        for (const c of group.alert_rule_test ?? []) {
          ((c.exp_alerts ?? []).length > 0 ? fires : silent).add(c.alertname);
        }
      }
    }
    for (const { alert } of await allAlerts()) {
      assert.ok(fires.has(alert), `no promtool case where ${alert} fires`);
      // The Watchdog is never silent: that is its point.
      if (alert !== WATCHDOG) assert.ok(silent.has(alert), `no promtool case where ${alert} stays silent`);
    }
  });
});

describe('prometheus config', () => {
  test('promtool check config accepts the local config', (t) => {
    if (!needTools(t, ['promtool'])) return;
    const result = runTool('promtool', ['check', 'config', prometheusConfigPath]);
    assert.equal(result.status, 0, result.output);
  });
});

describe('alertmanager config', () => {
  test('amtool check-config accepts it', (t) => {
    if (!needTools(t, ['amtool'])) return;
    const result = runTool('amtool', ['check-config', alertmanagerConfigPath]);
    assert.equal(result.status, 0, result.output);
  });

  test('each severity reaches its own receiver', (t) => {
    if (!needTools(t, ['amtool'])) return;
    for (const [labels, receiver] of [
      [['severity=page', 'alertname=ServiceNoReplicas', 'service=order'], 'page'],
      [['severity=ticket', 'alertname=ServiceDown', 'service=order'], 'ticket'],
      [['severity=ticket', 'alertname=HighErrorRatio', 'service=order'], 'ticket'],
      [['severity=none', 'alertname=Watchdog'], 'deadmansswitch'],
      [['severity=warning', 'alertname=DbSlowQueries'], 'warning'],
      [['alertname=Unlabelled'], 'warning'],
    ] as const) {
      const result = runTool('amtool', ['config', 'routes', 'test', `--config.file=${alertmanagerConfigPath}`, ...labels]);
      assert.equal(result.status, 0, result.output);
      assert.equal(result.stdout.trim(), receiver, result.output);
    }
  });

  test('inhibition rules name only alerts that exist', async () => {
    const names = new Set((await allAlerts()).map((a) => a.alert));
    const text = await readFile(alertmanagerConfigPath, 'utf8');
    const config = YAML.parse(text) as { inhibit_rules: Array<{ source_matchers: string[]; target_matchers: string[] }> };
    for (const rule of config.inhibit_rules) {
      for (const matcher of [...rule.source_matchers, ...rule.target_matchers]) {
        const m = /^alertname=~?"(.+)"$/.exec(matcher);
        if (!m) continue;
        for (const name of (m[1] ?? '').split('|')) assert.ok(names.has(name), `inhibit rule names unknown alert ${name}`);
      }
    }
  });
});

describe('test overlay', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'overlay-'));
    await writeTestOverlay(dir);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('is accepted by promtool and amtool', async (t) => {
    if (!needTools(t, ['promtool', 'amtool'])) return;
    const rules = (await readdir(path.join(dir, 'rules'))).map((n) => path.join(dir, 'rules', n));
    let result = runTool('promtool', ['check', 'rules', ...rules]);
    assert.equal(result.status, 0, result.output);
    result = runTool('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')]);
    assert.equal(result.status, 0, result.output);
    result = runTool('amtool', ['check-config', path.join(dir, 'alertmanager.yml')]);
    assert.equal(result.status, 0, result.output);
  });

  test('has the same rules as shipped, only faster', async () => {
    const shipped = await listRuleFiles();
    for (const file of shipped) {
      const original = await readRuleFile(file);
      const overlay = await readRuleFile(path.join(dir, 'rules', path.basename(file)));
      assert.equal(overlay.groups.length, original.groups.length);
      original.groups.forEach((group, g) => {
        group.rules.forEach((rule, r) => {
          const fast = overlay.groups[g]?.rules[r];
          assert.ok(fast, `${file}: rule ${r} missing in overlay`);
          assert.equal(fast.alert, rule.alert);
          assert.equal(fast.record, rule.record);
          assert.deepEqual(fast.labels, rule.labels);
          assert.deepEqual(fast.annotations, rule.annotations);
          assert.equal(fast.expr, compressExpr(rule.expr, defaultOverlayOptions));
          if (rule.for) assert.ok(parseDuration(fast.for ?? '0s') < parseDuration(rule.for), `${rule.alert}: for`);
        });
      });
    }
  });

  test('never shortens the shipped files themselves', async () => {
    // Guard against someone "fixing" a slow live proof in the shipped rules.
    for (const rule of await allAlerts()) {
      if (rule.for) assert.ok(parseDuration(rule.for) >= 60_000, `${rule.alert}: shipped for ${rule.for} < 1m`);
    }
    const prometheus = YAML.parse(await readFile(prometheusConfigPath, 'utf8')) as { global: { evaluation_interval: string } };
    assert.ok(parseDuration(prometheus.global.evaluation_interval) >= 15_000);
    assert.equal(path.relative(monitoringDir, dir).startsWith('..'), true, 'overlay written outside the shipped tree');
  });
  test('moves the static targets to other ports when given a port map (second stack next to npm start)', async () => {
    const moved = remapPorts(await readPrometheusConfig(), new Map([[3003, 13003], [9093, 19093], [9187, 19187]]));
    const scrape = (moved.scrape_configs ?? []).flatMap((c) => (c.static_configs ?? []).flatMap((s) => s.targets ?? []));
    assert.ok(scrape.includes('127.0.0.1:13003') && scrape.includes('127.0.0.1:19093') && scrape.includes('127.0.0.1:19187'), scrape.join(' '));
    assert.ok(scrape.includes('127.0.0.1:3001') && !scrape.includes('127.0.0.1:3003'), scrape.join(' '));
    const alertmanagers = (moved.alerting?.alertmanagers ?? []).flatMap((a) => (a.static_configs ?? []).flatMap((s) => s.targets ?? []));
    assert.deepEqual(alertmanagers, ['127.0.0.1:19093']);
    // The shipped file itself is untouched.
    assert.match(await readFile(prometheusConfigPath, 'utf8'), /127\.0\.0\.1:3003/);
  });
});

interface InhibitRule {
  source_matchers: string[];
  target_matchers: string[];
  equal?: string[];
}

/** Alert names an `alertname=` or `alertname=~` matcher list names. */
function alertNamesOf(matchers: readonly string[]): string[] {
  return matchers.flatMap((m) => {
    const match = /^alertname=~?"(.+)"$/.exec(m);
    return match ? (match[1] ?? '').split('|') : [];
  });
}

describe('inhibition', () => {
  test('only whole-service or certain causes inhibit; exporter-only causes never silence app-side alerts', async () => {
    const alerts = new Map((await allAlerts()).map((a) => [a.alert, a]));
    // What only postgres_exporter sees: every metric read is pg_* (or a record of them).
    const exporterOnly = (name: string): boolean => {
      const names = metricNames(alerts.get(name)?.expr ?? '');
      return names.length > 0 && names.every((n) => /^(instance:)?pg_/.test(n));
    };
    const config = YAML.parse(await readFile(alertmanagerConfigPath, 'utf8')) as { inhibit_rules: InhibitRule[] };
    for (const rule of config.inhibit_rules) {
      const sources = alertNamesOf(rule.source_matchers);
      const targets = alertNamesOf(rule.target_matchers);
      assert.ok(sources.length > 0 && targets.length > 0, JSON.stringify(rule));
      // One instance down out of several says nothing about the service.
      assert.ok(!sources.includes('ServiceDown'), 'ServiceDown (one instance) must not inhibit anything');
      for (const source of sources) assert.equal(alerts.get(source)?.labels?.severity, 'page', `${source} inhibits but is not a page`);
      if (sources.every(exporterOnly)) {
        for (const target of targets) assert.ok(exporterOnly(target), `${sources.join('|')} (exporter-only) inhibits app-side ${target}`);
      }
    }
  });

  describe('in a real Alertmanager', () => {
    let dir = '';
    let url = '';
    let child: ChildProcess | undefined;
    before(async () => {
      if (missingTools(['prometheus-alertmanager']).length > 0) return;
      dir = await mkdtemp(path.join(tmpdir(), 'alertmanager-'));
      // Receivers to the discard port: nothing here may reach a real receiver.
      const config = withWebhookUrl(await readAlertmanagerConfig(), 'http://127.0.0.1:9/alerts');
      await writeFile(path.join(dir, 'alertmanager.yml'), YAML.stringify(config));
      const port = await freeLoopbackPort();
      url = `http://127.0.0.1:${port}`;
      child = spawn(
        'prometheus-alertmanager',
        [`--config.file=${path.join(dir, 'alertmanager.yml')}`, `--storage.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='],
        { stdio: 'ignore' },
      );
      for (let i = 0; ; i++) {
        try {
          if ((await fetch(`${url}/-/ready`)).ok) break;
        } catch {
          // not listening yet
        }
        if (i > 150) throw new Error('alertmanager did not start');
        await sleep(200);
      }
    });
    after(async () => {
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child?.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const alert = (labels: Record<string, string>) => ({
      labels,
      annotations: { summary: 'test' },
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 10 * 60_000).toISOString(),
    });
    const key = (labels: Record<string, string>): string =>
      Object.entries(labels)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${v}`)
        .join(',');

    test('one pod down hides nothing; no replica left hides the service; PostgresDown hides no app-side alert', async (t) => {
      if (!needTools(t, ['prometheus-alertmanager'])) return;
      const expectations: Array<[Record<string, string>, 'active' | 'suppressed']> = [
        // order: one of its instances is down; its SLO page must still page.
        [{ alertname: 'ServiceDown', service: 'order', instance: '10.0.0.1:3003', severity: 'ticket' }, 'active'],
        [{ alertname: 'SLOErrorBudgetBurnFast', service: 'order', sli: 'app', severity: 'page', slo: 'availability' }, 'active'],
        // product: no replica left: the page says it all.
        [{ alertname: 'ServiceNoReplicas', service: 'product', severity: 'page' }, 'active'],
        [{ alertname: 'ServiceDown', service: 'product', instance: '10.0.0.2:3002', severity: 'ticket' }, 'suppressed'],
        [{ alertname: 'SLOErrorBudgetBurnFast', service: 'product', sli: 'edge', severity: 'page', slo: 'availability' }, 'suppressed'],
        [{ alertname: 'HighErrorRatio', service: 'product', sli: 'app', severity: 'ticket' }, 'suppressed'],
        // user: every pod NotReady (kube-state-metrics): the same.
        [{ alertname: 'DeploymentNoAvailableReplica', service: 'user', deployment: 'user-service', namespace: 'ecommerce', severity: 'page' }, 'active'],
        [{ alertname: 'SLOErrorBudgetBurnFast', service: 'user', sli: 'edge', severity: 'page', slo: 'availability' }, 'suppressed'],
        // PostgreSQL down as the exporter sees it (maybe only its credentials).
        [{ alertname: 'PostgresDown', instance: '10.0.0.9:9187', severity: 'page' }, 'active'],
        [{ alertname: 'PostgresConnectionsNearMax', instance: '10.0.0.9:9187', server: 'postgres:5432', severity: 'warning' }, 'suppressed'],
        [{ alertname: 'DbPoolSaturated', service: 'order', instance: '10.0.0.1:3003', severity: 'warning' }, 'active'],
        [{ alertname: 'OrdersStuckPending', service: 'order', severity: 'ticket' }, 'active'],
        [{ alertname: 'Watchdog', severity: 'none' }, 'active'],
      ];
      const posted = await fetch(`${url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(expectations.map(([labels]) => alert(labels))),
      });
      assert.equal(posted.status, 200, await posted.text());
      // The inhibitor sees new source alerts asynchronously: poll until stable.
      const want = new Map(expectations.map(([labels, state]) => [key(labels), state]));
      let got = new Map<string, string>();
      for (let i = 0; i < 50; i++) {
        const body = (await (await fetch(`${url}/api/v2/alerts`)).json()) as Array<{ labels: Record<string, string>; status: { state: string } }>;
        got = new Map(body.map((a) => [key(a.labels), a.status.state]));
        if ([...want].every(([k, v]) => got.get(k) === v)) break;
        await sleep(200);
      }
      for (const [k, v] of want) assert.equal(got.get(k), v, `${k}: expected ${v}, got ${got.get(k)}`);
    });
  });
});

/** One Kubernetes object of deploy/k8s/base, in the namespace kustomization.yaml puts everything in. */
interface K8sObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: {
    template?: { metadata?: { labels?: Record<string, string> } };
    volumeClaimTemplates?: { metadata: { name: string } }[];
  };
  rules?: { resources?: string[] }[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string }[];
}

async function baseManifests(): Promise<K8sObject[]> {
  const dir = path.join(repoRoot, 'deploy', 'k8s', 'base');
  const namespace = (YAML.parse(await readFile(path.join(dir, 'kustomization.yaml'), 'utf8')) as { namespace: string }).namespace;
  const objects: K8sObject[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
    for (const doc of YAML.parseAllDocuments(await readFile(path.join(dir, file), 'utf8'))) {
      const object = doc.toJS() as K8sObject | null;
      if (object?.kind) objects.push({ ...object, metadata: { ...object.metadata, namespace: object.kind.startsWith('Cluster') || object.kind === 'Namespace' ? undefined : namespace } });
    }
  }
  return objects;
}

/**
 * Every kubectl command of docs/runbooks.md, whole: a line of a fenced block (its # comment left out), or a code
 * span of the prose, where a long one wraps between lines (`get pods -l` then `app.kubernetes.io/name=...` on the
 * next line: read by line, its selector went unchecked).
 */
function kubectlCommands(runbooks: string): string[] {
  const fenced = [...runbooks.matchAll(/^```\w*\n([\s\S]*?)^```$/gm)].flatMap((m) => (m[1] ?? '').split('\n').map((line) => line.replace(/\s#.*$/, '')));
  const prose = [...runbooks.replace(/^```[\s\S]*?^```$/gm, ' ').matchAll(/`([^`]+)`/g)].map((m) => (m[1] ?? '').replace(/\s+/g, ' '));
  return [...fenced, ...prose].flatMap((text) => [...text.matchAll(/kubectl [^`]+/g)].map((m) => m[0].trim()));
}

describe('runbooks', () => {
  test('every kubectl command names its namespace and selects pods by the labels the manifests set', async () => {
    const runbooks = await readFile(path.join(repoRoot, 'docs', 'runbooks.md'), 'utf8');
    const manifests = (await readdir(path.join(repoRoot, 'deploy', 'k8s', 'base'))).filter((f) => f.endsWith('.yaml'));
    const names = new Set<string>();
    for (const file of manifests) {
      const text = await readFile(path.join(repoRoot, 'deploy', 'k8s', 'base', file), 'utf8');
      for (const m of text.matchAll(/app\.kubernetes\.io\/name:\s*([\w-]+)/g)) names.add(m[1] ?? '');
    }
    // ingress-nginx's own pods are labelled by its chart.
    names.add('ingress-nginx');
    const commands = kubectlCommands(runbooks);
    assert.ok(commands.length >= 15, `only ${commands.length} kubectl commands`);
    // The platform's namespace is whatever the overlay sets: the runbooks name it $NAMESPACE, defined once with the
    // base's default (deploy/k8s/test/namespace.test.ts renders the platform in another one).
    const base = (YAML.parse(await readFile(path.join(repoRoot, 'deploy', 'k8s', 'base', 'kustomization.yaml'), 'utf8')) as { namespace: string }).namespace;
    assert.ok(runbooks.includes(`\`NAMESPACE=${base}\``), 'the runbooks define $NAMESPACE and its default');
    for (const command of commands) {
      assert.match(command, /-n ("\$NAMESPACE"|ingress-nginx|kube-system)(\s|$)/, command);
      for (const selector of command.matchAll(/-l (\S+)/g)) {
        const m = /^app\.kubernetes\.io\/name=([\w<>-]+)$/.exec(selector[1] ?? '');
        assert.ok(m, `${command}: select by app.kubernetes.io/name`);
        const name = (m[1] ?? '').replace('<svc>', 'order').replace('<deployment>', 'order-service');
        assert.ok(names.has(name), `${command}: no pods labelled app.kubernetes.io/name=${name}`);
      }
    }
  });

  test('when a kubectl command selects pods or names an object, then the manifests put it in the namespace the command names', async () => {
    const objects = await baseManifests();
    // The namespace of the pods each app.kubernetes.io/name labels (ingress-nginx's own chart is not in the base).
    const podNamespace = new Map<string, string>();
    for (const o of objects) {
      const name = o.spec?.template?.metadata?.labels?.['app.kubernetes.io/name'];
      if (name && o.metadata.namespace) podNamespace.set(name, o.metadata.namespace);
    }
    const kinds: Record<string, string[]> = {
      networkpolicy: ['NetworkPolicy'],
      endpoints: ['Service'],
      service: ['Service'],
      deploy: ['Deployment'],
      statefulset: ['StatefulSet'],
      hpa: ['HorizontalPodAutoscaler'],
    };
    // A StatefulSet's pods (postgres-0) and claims (data-postgres-0).
    const exists = (namespace: string, kind: string, name: string) =>
      kind === 'pod' || kind === 'pvc'
        ? objects.some(
            (o) =>
              o.kind === 'StatefulSet' &&
              o.metadata.namespace === namespace &&
              (kind === 'pod' ? [o.metadata.name] : (o.spec?.volumeClaimTemplates ?? []).map((t) => `${t.metadata.name}-${o.metadata.name}`)).some((prefix) => new RegExp(`^${prefix}-\\d+$`).test(name)),
          )
        : objects.some((o) => (kinds[kind] ?? []).includes(o.kind) && o.metadata.namespace === namespace && o.metadata.name === name);
    const wrong: string[] = [];
    let named = 0;
    for (const command of kubectlCommands(await readFile(path.join(repoRoot, 'docs', 'runbooks.md'), 'utf8'))) {
      const given = /-n (\S+)/.exec(command)?.[1] ?? '';
      // $NAMESPACE: the platform's, here the base's (baseManifests puts every object there).
      const namespace = given === '"$NAMESPACE"' ? (objects.find((o) => o.kind === 'Deployment')?.metadata.namespace ?? '') : given;
      for (const selector of command.matchAll(/-l app\.kubernetes\.io\/name=([\w-]+)/g)) {
        const actual = podNamespace.get(selector[1] ?? '');
        if (actual && actual !== namespace) wrong.push(`${command}: ${selector[1]} runs in namespace ${actual}`);
      }
      // kubectl -n <ns> get|describe|edit|delete|scale <kind> <name>, and logs|exec <pod>.
      const object = /-n \S+ (?:(?:get|describe|edit|delete|scale) (networkpolicy|endpoints|service|deploy|statefulset|hpa|pvc|pod) ([a-z][\w-]*)\b|(?:logs|exec) ([a-z][\w-]*-\d+)\b)/.exec(command);
      if (object) {
        named++;
        const [kind, name] = object[3] ? ['pod', object[3]] : [object[1] ?? '', object[2] ?? ''];
        if (!exists(namespace, kind, name)) wrong.push(`${command}: no ${kind} ${name} in namespace ${namespace}`);
      }
    }
    assert.ok(named >= 8, `only ${named} commands naming an object`);
    assert.deepEqual(wrong, []);
  });

  test('when it (or docs/monitoring.md) names a resource Prometheus reads the nodes through (nodes/...), then a ClusterRole bound to its service account grants it', async () => {
    const objects = await baseManifests();
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'prometheus') as { spec: { template: { spec: { serviceAccountName: string } } } } | undefined;
    const account = deployment?.spec.template.spec.serviceAccountName ?? '';
    assert.ok(account, 'the prometheus Deployment names its service account');
    const roles = objects.filter((o) => o.kind === 'ClusterRoleBinding' && o.subjects?.some((s) => s.kind === 'ServiceAccount' && s.name === account)).map((o) => o.roleRef?.name);
    const granted = new Set(objects.filter((o) => o.kind === 'ClusterRole' && roles.includes(o.metadata.name)).flatMap((o) => (o.rules ?? []).flatMap((r) => r.resources ?? [])));
    // The runbooks (a 401/403 from the kubelet) and docs/monitoring.md (running the upstream image by hand).
    const docs = (await Promise.all(['runbooks.md', 'monitoring.md'].map((f) => readFile(path.join(repoRoot, 'docs', f), 'utf8')))).join('\n');
    const named = [...docs.matchAll(/`(nodes\/\w+)`/g)].map((m) => m[1] ?? '');
    assert.ok(named.length >= 1, 'the runbooks name no nodes/... resource');
    assert.deepEqual(named.filter((r) => !granted.has(r)), [], `granted to ${account}: ${[...granted].join(', ')}`);
  });
});
