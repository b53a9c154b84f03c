// Every metric our services expose is shown somewhere: the reverse of dashboards.test.ts ("every metric a panel
// reads is exposed"). The real platform (scripts/stack.js: the four services on free ports, the embedded
// PostgreSQL) is started and each service's /metrics scraped; every metric family found there must be read by a
// dashboard panel or an alert rule (directly, or through a recording rule that one of them reads), or stand in
// UNSHOWN below with the reason it is left out. A counter added to a service and put on no dashboard fails here, and
// one missing from docs/configuration.md's Metrics table, or a name in the Markdown that no service serves.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { listPanelQueries, substituteVariables } from '../src/dashboards/index.js';
import { listRuleFiles, readRuleFile, type Rule } from '../src/overlay.js';
import { repoRoot } from '../src/paths.js';
import { metricNames } from '../src/promql.js';

/**
 * Metrics a service exposes and no panel or alert reads, on purpose: one line each, why. prom-client's defaults
 * are most of them: the Runtime dashboard shows the ones that say something the others do not.
 */
const UNSHOWN: Readonly<Record<string, string>> = {
  process_cpu_user_seconds_total: 'the user + system split of process_cpu_seconds_total, which "CPU (cores)" shows',
  process_cpu_system_seconds_total: 'the user + system split of process_cpu_seconds_total, which "CPU (cores)" shows',
  process_virtual_memory_bytes: 'address space reserved, not used: V8 reserves far more than it touches; RSS is shown',
  process_heap_bytes: 'the whole process heap, within the RSS that "Memory: RSS vs limit" shows',
  nodejs_eventloop_lag_seconds: 'one sample at scrape time; the p99 of the interval (shown, and alerted on) is the reliable figure',
  nodejs_eventloop_lag_min_seconds: 'a statistic of the lag histogram beside the p99 that is shown',
  nodejs_eventloop_lag_max_seconds: 'a statistic of the lag histogram beside the p99 that is shown',
  nodejs_eventloop_lag_mean_seconds: 'a statistic of the lag histogram beside the p99 that is shown',
  nodejs_eventloop_lag_stddev_seconds: 'a statistic of the lag histogram beside the p99 that is shown',
  nodejs_eventloop_lag_p50_seconds: 'a statistic of the lag histogram beside the p99 that is shown',
  nodejs_eventloop_lag_p90_seconds: 'a statistic of the lag histogram beside the p99 that is shown',
  nodejs_active_resources: 'libuv resources by type, for debugging one process; open fds and active requests are shown',
  nodejs_active_resources_total: 'libuv resources, for debugging one process; open fds and active requests are shown',
  nodejs_active_handles: 'libuv handles by type (deprecated by Node for active resources), for debugging one process',
  nodejs_active_handles_total: 'libuv handles (deprecated by Node for active resources), for debugging one process',
  nodejs_active_requests: 'libuv requests by type (deprecated by Node for active resources), for debugging one process',
  nodejs_active_requests_total: 'libuv requests (deprecated by Node for active resources), for debugging one process',
  nodejs_external_memory_bytes: 'memory of C++ objects bound to JavaScript (Buffers), within the RSS that is shown',
  nodejs_heap_space_size_total_bytes: 'the V8 heap by space, for a heap investigation; the heap used/total is shown',
  nodejs_heap_space_size_used_bytes: 'the V8 heap by space, for a heap investigation; the heap used/total is shown',
  nodejs_heap_space_size_available_bytes: 'the V8 heap by space, for a heap investigation; the heap used/total is shown',
  nodejs_version_info: 'the Node.js version as labels: an info metric to join on, not a value to plot',
};

type ServiceName = 'user' | 'product' | 'order' | 'gateway';

/** What scripts/stack.js returns (the part used here); it is plain JavaScript. */
interface Platform {
  readonly urls: Readonly<Record<ServiceName, string>>;
  readonly gatewayMetricsPort: number;
  stop(): Promise<void>;
}
interface StackModule {
  startStack(options: { env: NodeJS.ProcessEnv; dataDir: string; freePorts?: boolean }): Promise<Platform>;
}

/** The metric families of one exposition (`# TYPE <name> <type>`), each with the series names it is read by. */
function families(exposition: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name = '', type] = m;
    const series = type === 'histogram' || type === 'summary' ? [name, `${name}_bucket`, `${name}_count`, `${name}_sum`] : [name];
    found.set(name, series);
  }
  return found;
}

/**
 * The names the dashboards and the alerts read: every panel query's, every alert's, and every recording rule's
 * whose record one of those reads (a recording rule read by nothing shows nothing).
 */
async function shownNames(): Promise<Set<string>> {
  const read = new Set<string>();
  const add = (expr: string) => {
    for (const name of metricNames(expr)) read.add(name);
  };
  for (const q of listPanelQueries()) add(substituteVariables(q.expr));
  const recording: Rule[] = [];
  for (const file of await listRuleFiles()) {
    for (const group of (await readRuleFile(file)).groups) {
      for (const rule of group.rules) {
        if (rule.alert) add(rule.expr);
        else if (rule.record) recording.push(rule);
      }
    }
  }
  // Through chains of records (a record read by a record read by an alert), until nothing is added.
  for (let size = -1; size !== read.size; ) {
    size = read.size;
    for (const rule of recording) if (read.has(rule.record ?? '')) add(rule.expr);
  }
  return read;
}

describe('every metric a service exposes is shown on a dashboard or read by an alert', { timeout: 3 * 60_000 }, () => {
  /** Metric family -> the services exposing it, from their /metrics. */
  const exposed = new Map<string, { series: string[]; services: ServiceName[] }>();
  let platform: Platform | undefined;

  before(async () => {
    // The embedded PostgreSQL, as in live.test.ts: the test's data stays out of a shared server.
    const { DATABASE_URL: _sharedServer, ...inherited } = process.env;
    const dataDir = path.join(repoRoot, '.data', 'metrics-shown-test');
    const { startStack } = (await import(pathToFileURL(path.join(repoRoot, 'scripts', 'stack.js')).href)) as StackModule;
    platform = await startStack({ env: { ...inherited, NODE_ENV: 'test', LOG_LEVEL: 'warn', DATA_DIR: dataDir }, dataDir, freePorts: true });
    const endpoints: Record<ServiceName, string> = {
      user: `${platform.urls.user}/metrics`,
      product: `${platform.urls.product}/metrics`,
      order: `${platform.urls.order}/metrics`,
      // The gateway serves its metrics on a port of its own, never on the public one.
      gateway: `http://127.0.0.1:${platform.gatewayMetricsPort}/metrics`,
    };
    for (const [service, url] of Object.entries(endpoints) as [ServiceName, string][]) {
      const res = await fetch(url);
      assert.equal(res.status, 200, `${service}: GET ${url}`);
      for (const [name, series] of families(await res.text())) {
        const entry = exposed.get(name) ?? { series, services: [] };
        entry.services.push(service);
        exposed.set(name, entry);
      }
    }
  }, { timeout: 2 * 60_000 });

  after(async () => platform?.stop());

  test('the scrape found the services\' own metrics (the check can fail)', () => {
    // One of each source: prom-client's defaults, the kit (its request histogram, its counters of what it drops), a
    // service's own counter, the order service's gauges.
    for (const name of ['process_cpu_seconds_total', 'http_server_request_duration_seconds', 'log_lines_dropped_total', 'http_pipelined_requests_dropped_total', 'users_registered_total', 'orders_pending']) {
      assert.ok(exposed.has(name), `${name} not exposed: ${[...exposed.keys()].join(', ')}`);
    }
    assert.deepEqual(exposed.get('http_server_request_duration_seconds')?.services.sort(), ['gateway', 'order', 'product', 'user']);
  });

  test('when a service exposes a metric, then a dashboard panel or an alert rule reads it, or UNSHOWN says why not', async () => {
    const shown = await shownNames();
    const unshown = [...exposed]
      .filter(([name, { series }]) => !(name in UNSHOWN) && !series.some((s) => shown.has(s)))
      .map(([name, { services }]) => `${name} (${services.join(', ')})`);
    assert.deepEqual(unshown, [], 'exposed, and on no dashboard panel and in no alert: show it (src/dashboards/), or add it to UNSHOWN with the reason');
  });

  // What a reader of the Markdown is told the services serve: docs/configuration.md's Metrics table is the
  // contract the other tests read (runbooks.test.ts and dashboards.test.ts take its names as "exposed"), and the
  // READMEs and docs/ pages name metrics in prose and queries that no test compared with a real /metrics.
  test("when a README or a page of docs/ names one of the services' metrics, then a service serves it, and each metric served (prom-client's defaults aside) is a row of docs/configuration.md's Metrics table", () => {
    const pages = [
      'README.md',
      ...readdirSync(path.join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
      ...['services', 'packages', 'deploy'].flatMap((top) => readdirSync(path.join(repoRoot, top)).map((name) => `${top}/${name}/README.md`)),
    ].filter((page) => existsSync(path.join(repoRoot, page)));
    // A name is one of ours when its first two words are a served family's (`orders_pending_*`, `db_client_*`,
    // `http_server_*`): labels (`http_route`, `db_query_name`) and tables (`stock_keys`) are not; records have a colon.
    const served = new Set([...exposed.values()].flatMap(({ series }) => series));
    const stems = new Set([...exposed.keys()].map((name) => name.split('_').slice(0, 2).join('_')));
    const wrong: string[] = [];
    for (const page of pages) {
      const text = readFileSync(path.join(repoRoot, page), 'utf8');
      const code = [...text.matchAll(/```[\s\S]*?```|`[^`\n]+`/g)].map((m) => m[0]).join('\n');
      for (const [name] of code.matchAll(/(?<![\w:.$/-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w:(])/g)) {
        if (stems.has(name.split('_').slice(0, 2).join('_')) && !served.has(name)) wrong.push(`${page}: ${name} is served by no service`);
      }
    }
    const config = readFileSync(path.join(repoRoot, 'docs', 'configuration.md'), 'utf8');
    const table = config.slice(config.indexOf('## Metrics'));
    const rows = new Set(table.split('\n').filter((line) => line.startsWith('| `')).map((line) => /^\| `([a-z_0-9]+)`/.exec(line)?.[1]));
    assert.ok(rows.size >= 30, `only ${rows.size} rows in docs/configuration.md's Metrics table`);
    for (const name of rows) if (name && !exposed.has(name)) wrong.push(`docs/configuration.md's Metrics table: ${name} is served by no service`);
    // prom-client's defaults, which the table's "prom-client defaults" row stands for with examples.
    for (const [name, { services }] of exposed) if (!rows.has(name) && !/^(process|nodejs)_/.test(name)) wrong.push(`${name} (${services.join(', ')}): no row in docs/configuration.md's Metrics table`);
    assert.deepEqual([...new Set(wrong)], []);
  });

  test('UNSHOWN lists only metrics that are exposed and shown nowhere (it does not go stale)', async () => {
    const shown = await shownNames();
    const stale = Object.keys(UNSHOWN).flatMap((name) => {
      const entry = exposed.get(name);
      if (!entry) return [`${name}: no service exposes it`];
      if (entry.series.some((s) => shown.has(s))) return [`${name}: shown after all, take it off UNSHOWN`];
      return [];
    });
    assert.deepEqual(stale, []);
  });
});
