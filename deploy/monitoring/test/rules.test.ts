// Alert and recording rules, Prometheus and Alertmanager configs, checked
// with the real tools: promtool check/test, amtool check-config.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import { compressExpr, defaultOverlayOptions, listRuleFiles, readPrometheusConfig, readRuleFile, remapPorts, writeTestOverlay, type Rule } from '../src/overlay.js';
import { parseDuration } from '../src/duration.js';
import {
  alertmanagerConfigPath,
  monitoringDir,
  prometheusConfigPath,
  repoRoot,
  ruleTestsDir,
} from '../src/paths.js';
import { runTool } from '../src/tools.js';
import { needTools } from './support.js';

const SEVERITIES = new Set(['page', 'ticket', 'warning']);

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

  test('every alert has severity, summary, description and a runbook section', async () => {
    const runbooks = await readFile(path.join(repoRoot, 'docs', 'runbooks.md'), 'utf8');
    const headings = new Set([...runbooks.matchAll(/^##\s+(\S+)\s*$/gm)].map((m) => (m[1] ?? '').toLowerCase()));
    const alerts = await allAlerts();
    assert.ok(alerts.length >= 20, `only ${alerts.length} alerts`);
    const names = new Set<string>();
    for (const rule of alerts) {
      assert.ok(!names.has(rule.alert), `${rule.alert} defined twice`);
      names.add(rule.alert);
      assert.ok(SEVERITIES.has(rule.labels?.severity ?? ''), `${rule.alert}: severity ${rule.labels?.severity}`);
      assert.ok(rule.annotations?.summary, `${rule.alert}: summary`);
      assert.ok(rule.annotations?.description, `${rule.alert}: description`);
      const anchor = rule.alert.toLowerCase();
      assert.equal(rule.annotations?.runbook_url, `docs/runbooks.md#${anchor}`, `${rule.alert}: runbook_url`);
      assert.ok(headings.has(anchor), `docs/runbooks.md has no "## ${rule.alert}" section`);
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
      assert.ok(silent.has(alert), `no promtool case where ${alert} stays silent`);
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
      [['severity=page', 'alertname=ServiceDown', 'service=order'], 'page'],
      [['severity=ticket', 'alertname=HighErrorRatio', 'service=order'], 'ticket'],
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
