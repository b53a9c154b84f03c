// docs/runbooks.md is read during an incident, by someone who follows it to the letter: the panels it sends
// them to are panels of that dashboard, the files it names exist, the metrics its queries read are ones
// something exposes, and the queries parse in a real Prometheus.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { allDashboards } from '../src/dashboards/index.js';
import { repoRoot } from '../src/paths.js';
import { metricNames } from '../src/promql.js';
import { emptyPrometheus, knownMetricNames, needTools, refusedQueries } from './support.js';

/** Names in code spans that look like a bare metric but name a label, a setting, a role or a folder. */
const NOT_METRICS = new Set([
  'grafana_url', // alert labels
  'runbook_url',
  'runbook_base_url',
  'rule_group', // a label of Prometheus's own metrics
  'max_connections', // PostgreSQL settings, role, extension, folder
  'superuser_reserved_connections',
  'pg_read_all_stats',
  'pg_stat_statements',
  'pg_wal',
  'memory_limiter', // an OpenTelemetry Collector processor
]);

/** The runbooks' prose: fenced blocks left out (shell commands), each run of white space one space (a quoted panel title may wrap). */
async function runbooks(): Promise<string> {
  const text = await readFile(path.join(repoRoot, 'docs', 'runbooks.md'), 'utf8');
  return text.replace(/^```[\s\S]*?^```$/gm, ' ').replace(/\s+/g, ' ');
}

const codeSpans = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');

/**
 * The code spans that are PromQL: an aggregation (`sum by (service) (up)`), or a selector with or without
 * matchers and a comparison (`pg_up == 0`, `up{service="<svc>"}`, `orders_pending`). One bare word without `_`
 * (`order`, `edge`) is a label value, not a query. `<svc>` is filled in.
 */
function queries(text: string): string[] {
  return codeSpans(text)
    .map((span) => span.replaceAll('<svc>', 'order'))
    .filter(
      (span) =>
        /^(sum|avg|min|max|count|rate|increase)\b.*\(/.test(span) ||
        (/^[a-z_:][\w:]*(\{[^}]*\})?(\s*(==|!=|>=|<=|>|<)\s*[\d.]+)?$/.test(span) && /[_:{=<>]/.test(span)),
    );
}

describe('docs/runbooks.md', () => {
  test('when PostgreSQL hangs (takes connections, never answers), then the one database alert that fires, PostgresExporterDown, tells that apart from an exporter gone and sends the operator to the database', async () => {
    // Seen with npm start's PostgreSQL SIGSTOPped under npm run monitoring: pg_up stayed 1 then had no sample, the
    // exporter's scrapes ended in "context deadline exceeded", its log said nothing, and PostgresExporterDown alone
    // fired, whose runbook said to restart the exporter and check its credentials.
    const text = await readFile(path.join(repoRoot, 'docs', 'runbooks.md'), 'utf8');
    const section = (name: string) => (text.split(/^## /m).find((s) => s.startsWith(`${name}\n`)) ?? '').replace(/\s+/g, ' ');
    const exporterDown = section('PostgresExporterDown');
    assert.match(exporterDown, /context deadline exceeded/);
    assert.match(exporterDown, /connection refused/);
    assert.match(exporterDown, /`scrape_duration_seconds\{service="postgres-exporter"\}`/);
    assert.match(exporterDown, /\(#postgresdown\)/);
    assert.match(section('PostgresDown'), /`PostgresExporterDown` fires instead/);
  });

  test('when it names a panel (*Dashboard* "Panel title"), then that dashboard has a panel of that title', async () => {
    const text = await runbooks();
    const dashboards = allDashboards().map(({ dashboard }) => ({
      name: (dashboard.title ?? '').replace(/^E-commerce \/ /, ''),
      panels: new Set((dashboard.panels ?? []).map((p) => p.title ?? '')),
    }));
    const refs = [...text.matchAll(/\*([A-Z][^*]+)\* (?:→ )?"([^"]+)"/g)].map((m) => ({ board: m[1] ?? '', panel: m[2] ?? '' }));
    assert.ok(refs.length >= 10, `only ${refs.length} panel references`);
    const wrong: string[] = [];
    for (const { board, panel } of refs) {
      const dashboard = dashboards.find((d) => d.name.startsWith(board));
      if (!dashboard) wrong.push(`*${board}*: no such dashboard (${dashboards.map((d) => d.name).join(', ')})`);
      else if (!dashboard.panels.has(panel)) wrong.push(`*${board}* "${panel}": no such panel`);
    }
    assert.deepEqual(wrong, []);
  });

  test('when it names a file or folder of the repository, then it exists', async () => {
    const paths = codeSpans(await runbooks()).filter((span) => /^(deploy|docs|packages|scripts|services|tests|web|postman)\/[\w./*-]+$/.test(span));
    assert.ok(paths.length >= 2, `only ${paths.length} repository paths`);
    // A glob (rules/*.yml) must at least have its folder.
    assert.deepEqual(
      paths.filter((p) => !existsSync(path.join(repoRoot, p.includes('*') ? p.slice(0, p.lastIndexOf('/')) : p))),
      [],
    );
  });

  test('when a query reads a metric, then something exposes it', async () => {
    const known = await knownMetricNames();
    const found = queries(await runbooks());
    assert.ok(found.length >= 15, `only ${found.length} queries: ${found.join(' | ')}`);
    const unknown = found.flatMap((q) => metricNames(q).filter((name) => !known.has(name) && !NOT_METRICS.has(name)).map((name) => `${name} (in \`${q}\`)`));
    assert.deepEqual(unknown, [], 'not exposed by anything (a label, setting or value: add it to NOT_METRICS)');
  });

  describe('queries parse in a real Prometheus', () => {
    const prometheus = emptyPrometheus();

    test('every query', async (t) => {
      const running = prometheus.current();
      if (!needTools(t, ['prometheus']) || !running) return;
      assert.deepEqual(await refusedQueries(running.url, queries(await runbooks()).map((q) => ({ label: q, expr: q }))), []);
    });
  });
});
