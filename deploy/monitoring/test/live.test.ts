// The live proof (issue 4, part 9): the real platform (scripts/stack.js) and
// the real monitoring stack with the test overlay, on their own ports so they
// never meet a developer's `npm start` or the other tests. Realistic traffic,
// then:
//   (a) every dashboard query, variables filled in, returns series
//       (Kubernetes-only ones are listed and must parse; ALERTS ones are
//       evaluated while an alert fires);
//   (b) SIGKILL of the order service reaches the webhook as the page
//       ServiceNoReplicas through Alertmanager (its one-instance ticket
//       ServiceDown inhibited), with absolute runbook and dashboard links,
//       and resolves once it runs again; the Watchdog reaches its own receiver;
//   (c) the fault switch makes the product service answer 500 and
//       HighErrorRatio reaches the webhook, and resolves once it is off;
//   (d) PostgreSQL stopped: the order service's scrape stays up (its
//       pending-order stats are refreshed in the background, never at scrape
//       time), PostgresDown pages, and everything recovers once it is back.
// Every process started here is stopped in after(), also on failure. All
// traffic goes to 127.0.0.1.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { listPanelQueries, substituteVariables, type PanelQuery } from '../src/dashboards/index.js';
import { repoRoot } from '../src/paths.js';
import { instantQuery } from '../src/prometheus-process.js';
import { startMonitoringStack, type MonitoringPorts, type RunningStack } from '../src/stack.js';
import { INSTALL_HINT, missingTools, TOOLS } from '../src/tools.js';
import type { WebhookAlert, WebhookNotification } from '../src/webhook-receiver.js';

// The platform takes free ports (never a server this test did not start); the monitoring stack's own
// are away from `npm run monitoring` (9090, 9093, 9187, 9095).
const MONITORING_PORTS: MonitoringPorts = { prometheus: 19090, alertmanager: 19093, postgresExporter: 19187, webhook: 19095 };
const DATA_DIR = path.join(repoRoot, '.data', 'live-test');
const ALERT_TIMEOUT_MS = 90_000;

type ServiceName = 'user' | 'product' | 'order' | 'gateway';

/** What scripts/stack.js returns (the part used here); it is plain JavaScript. */
interface Platform {
  readonly urls: Readonly<Record<ServiceName, string>>;
  readonly ports: Readonly<Record<ServiceName, number>>;
  readonly gatewayMetricsPort: number;
  postgresPid(): number | null;
  readonly children: Map<string, ChildProcess>;
  readonly admin: { readonly email: string; readonly password: string };
  readonly logDir: string;
  readonly embedded: boolean;
  stop(): Promise<void>;
  /** Starts one service again with the environment the stack gave it; resolves when it is ready. */
  restart(name: ServiceName): Promise<ChildProcess>;
}
interface StackModule {
  startStack(options: {
    env: NodeJS.ProcessEnv;
    dataDir: string;
    freePorts?: boolean;
    onCrash?: (service: string, code: number | null, signal: string | null, tail: string[]) => void;
  }): Promise<Platform>;
}

const log = (line: string): void => console.log(`[live] ${line}`);
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

async function assertPortsFree(ports: readonly number[]): Promise<void> {
  for (const port of ports) {
    await new Promise<void>((resolve, reject) => {
      const server = createServer();
      server.once('error', () => reject(new Error(`127.0.0.1:${port} is in use: a previous live test still running?`)));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
    });
  }
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds(timeoutMs)} waiting for ${what}`);
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------- HTTP client

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

async function call(url: string, method: string, options: { body?: unknown; token?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  if (!url.startsWith('http://127.0.0.1:')) throw new Error(`refusing to send traffic off loopback: ${url}`);
  const response = await fetch(url, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (e.g. a plain-text error); keep the text
  }
  return { status: response.status, body };
}

function field(body: unknown, name: string): string {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  if (typeof value !== 'string') throw new Error(`no string "${name}" in ${JSON.stringify(body)}`);
  return value;
}

/** Counts answers per step, and fails a step whose status is not the one the API documents. */
class Traffic {
  readonly tally = new Map<string, number>();

  async expect(step: string, expected: number, answer: Promise<Answer>): Promise<unknown> {
    const { status, body } = await answer;
    const key = `${step} ${status}`;
    this.tally.set(key, (this.tally.get(key) ?? 0) + 1);
    assert.equal(status, expected, `${step}: expected ${expected}, got ${status} ${JSON.stringify(body)}`);
    return body;
  }

  summary(): string {
    return [...this.tally.entries()].map(([k, n]) => `${k} x${n}`).join(', ');
  }
}

/** Steady background reads (product by id direct, product list via the gateway, user me) until stopped. */
class BackgroundLoad {
  private running = true;
  private readonly done: Promise<void>;
  readonly statuses = new Map<string, number>();

  constructor(urls: Readonly<Record<ServiceName, string>>, productIds: readonly string[], token: string) {
    const requests = [
      (i: number) => call(`${urls.product}/product/${productIds[i % productIds.length] ?? randomUUID()}`, 'GET'),
      () => call(`${urls.gateway}/product?limit=5`, 'GET'),
      () => call(`${urls.user}/user/me`, 'GET', { token }),
    ];
    this.done = (async () => {
      for (let i = 0; this.running; i++) {
        const request = requests[i % requests.length];
        const started = Date.now();
        const key = await (request ? request(i) : Promise.reject(new Error('no request')))
          .then((a) => `${['product', 'gateway', 'user'][i % 3]} ${a.status}`)
          .catch((e: unknown) => `error ${e instanceof Error ? e.name : 'unknown'}`);
        this.statuses.set(key, (this.statuses.get(key) ?? 0) + 1);
        // About 15 requests/s in all: above every alert's traffic floor, light on the machine.
        await sleep(Math.max(0, 66 - (Date.now() - started)));
      }
    })();
  }

  reset(): void {
    this.statuses.clear();
  }

  summary(): string {
    return [...this.statuses.entries()].sort().map(([k, n]) => `${k} x${n}`).join(', ');
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

// ------------------------------------------------------------------ webhook

interface Received {
  readonly notification: WebhookNotification;
  readonly alert: WebhookAlert;
}

async function webhookNotifications(webhookUrl: string): Promise<WebhookNotification[]> {
  const response = await fetch(webhookUrl, { signal: AbortSignal.timeout(5000) });
  assert.equal(response.status, 200);
  return (await response.json()) as WebhookNotification[];
}

async function waitForAlert(webhookUrl: string, match: { alertname: string; service?: string; status: 'firing' | 'resolved'; since: number }): Promise<Received> {
  return waitFor(`${match.alertname}{service="${match.service ?? ''}"} ${match.status} at the webhook`, ALERT_TIMEOUT_MS, async () => {
    for (const notification of await webhookNotifications(webhookUrl)) {
      if (Date.parse(notification.receivedAt) < match.since) continue;
      const alert = notification.alerts.find(
        (a) => a.status === match.status && a.labels.alertname === match.alertname && a.labels.service === match.service,
      );
      if (alert) return { notification, alert };
    }
    return undefined;
  });
}

function describeReceived(notifications: readonly WebhookNotification[], since: number): string[] {
  const seen = new Set<string>();
  for (const n of notifications) {
    if (Date.parse(n.receivedAt) < since) continue;
    for (const a of n.alerts) seen.add(`${a.labels.alertname ?? '?'}{service="${a.labels.service ?? ''}"} ${a.status} (receiver ${n.receiver})`);
  }
  return [...seen].sort();
}

// ------------------------------------------------------------- Prometheus

async function seriesCount(prometheusUrl: string, expr: string): Promise<{ count: number; error?: string }> {
  const result = await instantQuery(prometheusUrl, expr);
  if (result.status !== 'success') return { count: 0, error: `${result.errorType}: ${result.error}` };
  return { count: result.data?.result.length ?? 0 };
}

const queryName = (q: PanelQuery): string => `${q.dashboardTitle} / ${q.panelTitle} ${q.refId}`;

/** Polls until every query returns at least one series; returns the counts, or throws naming the empty ones. */
async function everyQueryHasSeries(prometheusUrl: string, queries: readonly PanelQuery[], timeoutMs: number): Promise<Map<PanelQuery, number>> {
  const counts = new Map<PanelQuery, number>();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const failures: string[] = [];
    for (const q of queries) {
      const { count, error } = await seriesCount(prometheusUrl, substituteVariables(q.expr));
      counts.set(q, count);
      if (error) failures.push(`${queryName(q)}: ${error}`);
      else if (count === 0) failures.push(`${queryName(q)}: no series`);
    }
    if (failures.length === 0) return counts;
    if (Date.now() > deadline) assert.deepEqual(failures, [], `dashboard queries without data after ${seconds(timeoutMs)}`);
    await sleep(2000);
  }
}

// ------------------------------------------------------------------- the run

describe('live proof: platform + monitoring (test overlay)', { timeout: 8 * 60_000 }, () => {
  let skipReason: string | undefined;
  let platform: Platform | undefined;
  let monitoring: RunningStack | undefined;
  let background: BackgroundLoad | undefined;
  const unexpectedExits: string[] = [];
  let expectedExitPid: number | undefined;
  let productIds: string[] = [];
  /** The PostgreSQL (d) started again; the stack only knows the first one. */
  let restartedDb: { stop(): Promise<void> } | undefined;
  let userToken = '';
  const startedAt = Date.now();
  const queries = listPanelQueries();

  before(async () => {
    const missing = missingTools(TOOLS);
    if (missing.length > 0 && process.env.MONITORING_TOOLS === 'optional') {
      skipReason = `MONITORING_TOOLS=optional and missing ${missing.join(', ')}: ${INSTALL_HINT}`;
      return;
    }
    await assertPortsFree(Object.values(MONITORING_PORTS));

    // Always the embedded PostgreSQL: it preloads pg_stat_statements (the
    // machine's server may not, and a test cannot restart it), and the test's
    // data stays out of the shared server.
    const { DATABASE_URL: _sharedServer, ...inherited } = process.env;
    const env: NodeJS.ProcessEnv = {
      ...inherited,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      FAULT_INJECTION: 'enabled',
      // An operator's per-order bound (the default is the API's 1,000 units of a product), so that the traffic has 422s.
      MAX_QUANTITY_PER_LINE: '10',
      DATA_DIR,
    };
    const { startStack } = (await import(pathToFileURL(path.join(repoRoot, 'scripts', 'stack.js')).href)) as StackModule;
    const t0 = Date.now();
    platform = await startStack({
      env,
      dataDir: DATA_DIR,
      freePorts: true,
      onCrash: (service, code, signal, tail) => {
        const child = platform?.children.get(service);
        if (child?.pid !== undefined && child.pid === expectedExitPid) return;
        unexpectedExits.push(`${service} exited (code ${code}, signal ${signal}):\n${tail.join('\n')}`);
      },
    });
    assert.ok(platform.embedded, 'the live test runs on the embedded PostgreSQL');
    log(`platform up in ${seconds(Date.now() - t0)}: ${Object.values(platform.urls).join(' ')} (embedded PostgreSQL, pid ${platform.postgresPid()})`);

    const t1 = Date.now();
    const stackJson = JSON.parse(readFileSync(path.join(DATA_DIR, 'stack.json'), 'utf8')) as { databaseUrl: string };
    monitoring = await startMonitoringStack({
      overlay: true,
      databaseUrl: stackJson.databaseUrl,
      webhookUrl: `http://127.0.0.1:${MONITORING_PORTS.webhook}/alerts`,
      ports: MONITORING_PORTS,
      // What Prometheus scrapes: the services' ports, and the gateway's own metrics port.
      targets: { ...platform.ports, gateway: platform.gatewayMetricsPort },
      log: (line) => log(line),
    });
    log(`monitoring up in ${seconds(Date.now() - t1)}: prometheus ${monitoring.prometheusUrl}, alertmanager ${monitoring.alertmanagerUrl}, webhook ${monitoring.webhookUrl}`);
  });

  after(async () => {
    await background?.stop().catch(() => undefined);
    await monitoring?.stop().catch((e: unknown) => log(`monitoring stop: ${String(e)}`));
    await platform?.stop().catch((e: unknown) => log(`platform stop: ${String(e)}`));
    await restartedDb?.stop().catch((e: unknown) => log(`database stop: ${String(e)}`));
    log(`total run time ${seconds(Date.now() - startedAt)}`);
  });

  test('when the platform starts, then every documented `result` of a business counter has a series at 0', async (t) => {
    if (skipReason || !platform) return t.skip(skipReason);
    // docs/configuration.md: without these, rates and alerts would see "no data" until a first event.
    const documented: Record<string, { service: ServiceName; results: string[] }> = {
      user_logins_total: { service: 'user', results: ['success', 'invalid_credentials', 'rate_limited'] },
      reservations_total: { service: 'product', results: ['reserved', 'insufficient_stock', 'replayed', 'released', 'not_found'] },
      orders_placed_total: { service: 'order', results: ['confirmed', 'rejected', 'pending', 'replayed', 'not_found'] },
      orders_settled_total: { service: 'order', results: ['confirmed', 'failed'] },
    };
    const missing: string[] = [];
    for (const [metric, { service, results }] of Object.entries(documented)) {
      const exposition: unknown = (await call(`${platform.urls[service]}/metrics`, 'GET')).body;
      assert.equal(typeof exposition, 'string');
      for (const result of results) {
        const line = String(exposition)
          .split('\n')
          .find((l) => l.startsWith(`${metric}{`) && l.includes(`result="${result}"`));
        if (!line) missing.push(`${metric}{result="${result}"} (${service})`);
      }
    }
    log(`business counters at start: ${missing.length === 0 ? 'every documented result value present' : `missing ${missing.join(', ')}`}`);
    assert.deepEqual(missing, []);
  });

  test('when users shop, then every service answers as documented', async (t) => {
    if (skipReason || !platform) return t.skip(skipReason);
    const { urls } = platform;
    const traffic = new Traffic();
    const run = randomUUID().slice(0, 8);

    const admin = field(await traffic.expect('admin login', 200, call(`${urls.gateway}/user/login`, 'POST', { body: platform.admin })), 'accessToken');
    const products: string[] = [];
    for (let i = 0; i < 5; i++) {
      const body = { sku: `LIVE-${run}-${i}`, name: `Live test item ${i}`, description: 'live monitoring test', priceCents: 500 + i * 100, stock: 1000, category: 'live-test' };
      products.push(field(await traffic.expect('create product', 201, call(`${urls.gateway}/product`, 'POST', { body, token: admin })), 'id'));
    }
    const scarce = field(
      await traffic.expect('create product', 201, call(`${urls.product}/product`, 'POST', { body: { sku: `LIVE-${run}-scarce`, name: 'Scarce item', priceCents: 9900, stock: 2, category: 'live-test' }, token: admin })),
      'id',
    );
    productIds = [...products, scarce];

    const tokens: string[] = [];
    for (let i = 0; i < 4; i++) {
      const email = `live.${run}.${i}@example.test`;
      const password = `live-password-${i}-${run}`;
      await traffic.expect('register', 201, call(`${urls.gateway}/user/register`, 'POST', { body: { email, password, name: `Live ${i}` } }));
      const token = field(await traffic.expect('login', 200, call(`${urls.gateway}/user/login`, 'POST', { body: { email, password } })), 'accessToken');
      tokens.push(token);
      await traffic.expect('me', 200, call(`${urls.gateway}/user/me`, 'GET', { token }));
    }
    await traffic.expect('login, wrong password', 401, call(`${urls.gateway}/user/login`, 'POST', { body: { email: `live.${run}.0@example.test`, password: 'not-the-password' } }));
    await traffic.expect('me, no token', 401, call(`${urls.user}/user/me`, 'GET'));
    userToken = tokens[0] ?? '';

    await traffic.expect('list products', 200, call(`${urls.gateway}/product?limit=5`, 'GET'));
    await traffic.expect('list products', 200, call(`${urls.gateway}/product?category=live-test&limit=20`, 'GET'));
    await traffic.expect('search products', 200, call(`${urls.product}/product?q=live`, 'GET'));
    for (const id of productIds) {
      await traffic.expect('read product', 200, call(`${urls.gateway}/product/${id}`, 'GET'));
      await traffic.expect('read product', 200, call(`${urls.product}/product/${id}`, 'GET'));
    }
    await traffic.expect('read unknown product', 404, call(`${urls.gateway}/product/${randomUUID()}`, 'GET'));

    const order = (token: string, items: Array<{ productId: string; quantity: number }>, key: string = randomUUID()) =>
      call(`${urls.gateway}/order`, 'POST', { body: { items }, token, headers: { 'idempotency-key': key } });
    const confirmed: string[] = [];
    for (const [i, token] of tokens.entries()) {
      for (let j = 0; j < 2; j++) {
        const items = [{ productId: products[(i + j) % products.length] ?? '', quantity: 1 + j }, { productId: products[(i + j + 1) % products.length] ?? '', quantity: 1 }];
        confirmed.push(field(await traffic.expect('place order', 201, order(token, items)), 'id'));
      }
    }
    const key = randomUUID();
    const first = field(await traffic.expect('place order', 201, order(tokens[0] ?? '', [{ productId: products[0] ?? '', quantity: 1 }], key)), 'id');
    const replay = field(await traffic.expect('place order, replayed key', 200, order(tokens[0] ?? '', [{ productId: products[0] ?? '', quantity: 1 }], key)), 'id');
    assert.equal(replay, first, 'a replay returns the first order');
    // The scarce item sells out (a stock-out), then orders for it are rejected.
    await traffic.expect('place order, last units', 201, order(tokens[1] ?? '', [{ productId: scarce, quantity: 2 }]));
    await traffic.expect('place order, out of stock', 409, order(tokens[2] ?? '', [{ productId: scarce, quantity: 1 }]));
    // Over the per-order limit of one product (MAX_QUANTITY_PER_LINE, 10 here): refused before any reservation.
    await traffic.expect('place order, over the quantity limit', 422, order(tokens[3] ?? '', [{ productId: products[0] ?? '', quantity: 1000 }]));
    await traffic.expect('place order, unknown product', 404, order(tokens[3] ?? '', [{ productId: randomUUID(), quantity: 1 }]));
    await traffic.expect('cancel order', 200, call(`${urls.gateway}/order/${confirmed[0] ?? ''}/cancel`, 'POST', { token: tokens[0] ?? '' }));
    await traffic.expect('list my orders', 200, call(`${urls.gateway}/order`, 'GET', { token: tokens[0] ?? '' }));
    await traffic.expect('read order', 200, call(`${urls.order}/order/${confirmed[1] ?? ''}`, 'GET', { token: tokens[0] ?? '' }));

    log(`traffic: ${traffic.summary()}`);
    background = new BackgroundLoad(urls, productIds, userToken);
    assert.deepEqual(unexpectedExits, []);
  });

  test('(a) when traffic has flowed, then every dashboard query returns series', async (t) => {
    if (skipReason || !monitoring || !background) return t.skip(skipReason ?? 'no traffic');
    const app = queries.filter((q) => q.scope === 'app');
    const kubernetes = queries.filter((q) => q.scope === 'kubernetes');
    const started = Date.now();
    const counts = await everyQueryHasSeries(monitoring.prometheusUrl, app, 90_000);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    log(`(a) ${app.length} app queries, each with >= 1 series (${total} series in all), after ${seconds(Date.now() - started)}; variables: service=.+ instance=.+ $__rate_interval=1m $__range=1h`);
    for (const q of app) log(`    ${String(counts.get(q)).padStart(3)}  ${queryName(q)}`);

    // Compared with a week ago: parse now, data after a week.
    const history = queries.filter((q) => q.scope === 'history');
    const notParsed: string[] = [];
    for (const q of [...kubernetes, ...history]) {
      const { error } = await seriesCount(monitoring.prometheusUrl, substituteVariables(q.expr));
      if (error) notParsed.push(`${queryName(q)}: ${error}`);
    }
    assert.deepEqual(notParsed, [], 'Kubernetes-only queries must parse');
    log(`(a) ${kubernetes.length} Kubernetes-only queries parse (no data outside Kubernetes, the documented exception):`);
    for (const q of kubernetes) log(`         ${queryName(q)} reads ${q.kubernetesMetrics.join(', ')}`);
    log(`(a) ${history.length} week-over-week queries parse (data after a week): ${history.map(queryName).join('; ')}`);
  });

  test('(b) when the order service is killed, then the page ServiceNoReplicas reaches the webhook with absolute links, and resolves after a restart', async (t) => {
    if (skipReason || !platform || !monitoring) return t.skip(skipReason);
    const order = platform.children.get('order');
    assert.ok(order?.pid, 'the order service runs');
    const exited = new Promise<void>((resolve) => order.once('exit', () => resolve()));
    expectedExitPid = order.pid;
    const faultAt = Date.now();
    order.kill('SIGKILL');
    await exited;
    log(`(b) order service (pid ${order.pid}) killed with SIGKILL`);

    // The only instance is gone: "no replica left" is the page. The
    // one-instance ticket ServiceDown is inhibited by it (same service).
    const down = await waitForAlert(monitoring.webhookUrl, { alertname: 'ServiceNoReplicas', service: 'order', status: 'firing', since: faultAt });
    const downAfter = Date.parse(down.notification.receivedAt) - faultAt;
    log(`(b) ServiceNoReplicas{service="order"} firing at the webhook (receiver ${down.notification.receiver}) ${seconds(downAfter)} after the kill`);
    assert.equal(down.notification.receiver, 'page');
    // Links are absolute: this checkout's runbooks (file://) and a Grafana URL.
    const runbook = down.alert.annotations.runbook_url ?? '';
    assert.equal(runbook, `${pathToFileURL(path.join(repoRoot, 'docs', 'runbooks.md')).href}#servicenoreplicas`);
    assert.match(readFileSync(new URL(runbook), 'utf8'), /^## ServiceNoReplicas$/m);
    assert.equal(down.alert.annotations.dashboard, 'http://127.0.0.1:3000/d/ecommerce-services');
    log(`(b) runbook_url ${runbook}, dashboard ${down.alert.annotations.dashboard ?? ''}`);

    // ALERTS has series only now: evaluate the alerting panels while this fires.
    const alerting = queries.filter((q) => q.scope === 'alerting');
    const counts = await everyQueryHasSeries(monitoring.prometheusUrl, alerting, 30_000);
    log(`(b) ${alerting.length} alerting queries evaluated while ServiceNoReplicas fires, each with >= 1 series: ${alerting.map((q) => `${queryName(q)} = ${counts.get(q)}`).join('; ')}`);

    const restartAt = Date.now();
    const child = await platform.restart('order');
    log(`(b) order service restarted (pid ${child.pid}), ready after ${seconds(Date.now() - restartAt)}`);

    const up = await waitForAlert(monitoring.webhookUrl, { alertname: 'ServiceNoReplicas', service: 'order', status: 'resolved', since: restartAt });
    log(`(b) ServiceNoReplicas{service="order"} resolved at the webhook ${seconds(Date.parse(up.notification.receivedAt) - restartAt)} after the restart (${seconds(Date.parse(up.notification.receivedAt) - faultAt)} after the kill)`);
    const received = await webhookNotifications(monitoring.webhookUrl);
    log(`(b) received since the kill: ${describeReceived(received, faultAt).join(', ')}`);
    // Inhibited: the per-instance ticket never reached anyone while the page was out.
    const ticket = received.filter((n) => Date.parse(n.receivedAt) >= faultAt && n.alerts.some((a) => a.labels.alertname === 'ServiceDown' && a.labels.service === 'order' && a.status === 'firing'));
    assert.deepEqual(ticket.map((n) => n.receiver), [], 'ServiceDown{order} was not inhibited by ServiceNoReplicas{order}');
    // The heartbeat reaches the dead man's switch receiver, and only that one.
    const heartbeats = received.filter((n) => n.alerts.some((a) => a.labels.alertname === 'Watchdog'));
    assert.ok(heartbeats.length > 0, 'no Watchdog notification');
    assert.deepEqual([...new Set(heartbeats.map((n) => n.receiver))], ['deadmansswitch']);
    expectedExitPid = undefined;
    assert.deepEqual(unexpectedExits, []);
  });

  test('(c) when the product service answers 500, then HighErrorRatio reaches the webhook, and resolves when it stops', async (t) => {
    if (skipReason || !platform || !monitoring || !background) return t.skip(skipReason ?? 'no traffic');
    const faultUrl = `${platform.urls.product}/internal/fault`;
    background.reset();
    const faultAt = Date.now();
    assert.equal((await call(faultUrl, 'PUT', { body: { errorRatio: 1 } })).status, 200);
    log('(c) product service fault switch on (errorRatio 1), background traffic continues');
    try {
      const firing = await waitForAlert(monitoring.webhookUrl, { alertname: 'HighErrorRatio', service: 'product', status: 'firing', since: faultAt });
      log(`(c) HighErrorRatio{service="product"} firing at the webhook (receiver ${firing.notification.receiver}, ${firing.alert.annotations.summary ?? ''}) ${seconds(Date.parse(firing.notification.receivedAt) - faultAt)} after the fault`);
    } finally {
      // Off even when the alert never came, so the platform is sane for after().
      await call(faultUrl, 'PUT', { body: { errorRatio: 0 } });
    }
    const faultTraffic = background.summary();
    assert.match(faultTraffic, /product 500/, 'the fault switch produced 500s');
    const recoveredAt = Date.now();
    log(`(c) fault switch off; traffic during the fault: ${faultTraffic}`);

    const resolved = await waitForAlert(monitoring.webhookUrl, { alertname: 'HighErrorRatio', service: 'product', status: 'resolved', since: recoveredAt });
    log(`(c) HighErrorRatio{service="product"} resolved at the webhook ${seconds(Date.parse(resolved.notification.receivedAt) - recoveredAt)} after the fault was removed`);
    log(`(c) received since the fault: ${describeReceived(await webhookNotifications(monitoring.webhookUrl), faultAt).join(', ')}`);
    assert.deepEqual(unexpectedExits, []);
  });

  test('(d) when PostgreSQL stops, then the order service is still scraped (up == 1), PostgresDown pages, and all recovers', async (t) => {
    if (skipReason || !platform || !monitoring) return t.skip(skipReason);
    const prometheusUrl = monitoring.prometheusUrl;
    const orderUrl = platform.urls.order;
    const value = async (expr: string): Promise<number | undefined> => {
      const result = await instantQuery(prometheusUrl, expr);
      const v = (result.data?.result[0] as { value?: [number, string] } | undefined)?.value?.[1];
      return v === undefined ? undefined : Number(v);
    };
    const pid = platform.postgresPid();
    assert.ok(pid, 'the embedded PostgreSQL runs');
    const { databaseUrl } = JSON.parse(readFileSync(path.join(DATA_DIR, 'stack.json'), 'utf8')) as { databaseUrl: string };
    const pgPort = Number(new URL(databaseUrl).port);
    const lastRefresh = await waitFor('a first pending-order stats refresh', 30_000, async () => ((await value('max(orders_stats_last_success_timestamp_seconds{service="order"})')) ?? 0) > 0 ? true : undefined);
    assert.ok(lastRefresh);

    // SIGINT: PostgreSQL's fast shutdown (clients disconnected, no recovery needed).
    const stoppedAt = Date.now();
    process.kill(pid, 'SIGINT');
    await waitFor('PostgreSQL to stop', 30_000, async () => {
      try {
        process.kill(pid, 0);
        return undefined;
      } catch {
        return true;
      }
    });
    log(`(d) PostgreSQL (pid ${pid}) stopped`);
    try {
      // The outage is real for the order service: not ready any more.
      await waitFor('the order service to report not ready', 30_000, async () => ((await call(`${orderUrl}/readyz`, 'GET').catch(() => ({ status: 0 }))).status === 503 ? true : undefined));
      const down = await waitForAlert(monitoring.webhookUrl, { alertname: 'PostgresDown', service: 'postgres-exporter', status: 'firing', since: stoppedAt });
      log(`(d) PostgresDown firing at the webhook (receiver ${down.notification.receiver}) ${seconds(Date.parse(down.notification.receivedAt) - stoppedAt)} after the stop`);
      // 8 scrapes (2 s apart in the overlay) after the outage began: every one succeeded.
      const window = Date.now();
      await sleep(16_000);
      const range = `${Math.floor((Date.now() - window) / 1000)}s`;
      const scrapes = await value(`count_over_time(up{service="order"}[${range}])`);
      const worst = await value(`min_over_time(up{service="order"}[${range}])`);
      const refreshed = await value('max(orders_stats_last_success_timestamp_seconds{service="order"})');
      log(`(d) with the database down for ${seconds(Date.now() - stoppedAt)}: ${scrapes} order scrapes in the last ${range}, min(up) = ${worst}; stats last refreshed ${refreshed === undefined ? '?' : seconds(stoppedAt - refreshed * 1000)} before the stop`);
      assert.ok((scrapes ?? 0) >= 4, `only ${scrapes} scrapes of the order service`);
      assert.equal(worst, 1, 'an order scrape failed while its database was down');
      // The gauges are stale, not fresh: the refresh did fail, the scrape did not.
      assert.ok(refreshed !== undefined && refreshed * 1000 <= stoppedAt + 1000, `stats refreshed after the stop (${refreshed})`);
      const paged = await instantQuery(prometheusUrl, 'ALERTS{alertname=~"ServiceDown|ServiceNoReplicas", service="order"}');
      assert.deepEqual(paged.data?.result ?? [], [], 'the order service was reported down because of its database');
    } finally {
      // Back on the same data directory and port, even when an assertion failed.
      const { startEmbeddedPostgres } = (await import(pathToFileURL(path.join(repoRoot, 'scripts', 'embedded-db.js')).href)) as {
        startEmbeddedPostgres(o: { dir: string; port: number }): Promise<{ child: ChildProcess; stop(): Promise<void> }>;
      };
      const db = await startEmbeddedPostgres({ dir: path.join(DATA_DIR, 'postgres'), port: pgPort });
      restartedDb = db;
      log(`(d) PostgreSQL started again (pid ${db.child.pid})`);
    }
    const backAt = Date.now();
    await waitFor('the order service to be ready again', 60_000, async () => ((await call(`${orderUrl}/readyz`, 'GET').catch(() => ({ status: 0 }))).status === 200 ? true : undefined));
    await waitFor('a pending-order stats refresh after the restart', 60_000, async () => (((await value('max(orders_stats_last_success_timestamp_seconds{service="order"})')) ?? 0) * 1000 >= backAt - 1000 ? true : undefined));
    const resolved = await waitForAlert(monitoring.webhookUrl, { alertname: 'PostgresDown', service: 'postgres-exporter', status: 'resolved', since: backAt });
    log(`(d) order ready and its stats fresh again; PostgresDown resolved ${seconds(Date.parse(resolved.notification.receivedAt) - backAt)} after the restart`);
    log(`(d) received since the stop: ${describeReceived(await webhookNotifications(monitoring.webhookUrl), stoppedAt).join(', ')}`);
    assert.deepEqual(unexpectedExits, []);
  });
});
