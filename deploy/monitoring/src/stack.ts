// The local monitoring stack: Prometheus, Alertmanager, postgres_exporter
// and the webhook receiver, all on 127.0.0.1, started from the Debian
// binaries. Used by `npm run monitoring` (scripts/monitoring.js) and meant
// to be used in-process by the live proof (with `overlay: true`).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig, Port, processAlive, Type } from '@ecommerce/kit';
import YAML from 'yaml';
import { defaultOverlayOptions, readAlertmanagerConfig, readPrometheusConfig, remapPorts, withWebhookUrl, writeTestOverlay } from './overlay.js';
import { postgresQueriesPath, repoRoot, rulesDir } from './paths.js';
import { findTool, missingTools, TOOLS, type Tool } from './tools.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

/** The ports the shipped prometheus.yml and alertmanager.yml name. */
export const PORTS = { prometheus: 9090, alertmanager: 9093, postgresExporter: 9187, webhook: 9095 } as const;
export const DEFAULT_WEBHOOK_URL = `http://127.0.0.1:${PORTS.webhook}/alerts`;
/** The services' default metrics ports (docs/configuration.md; the gateway's METRICS_PORT), the scrape targets in prometheus.yml. */
export const TARGET_PORTS = { user: 3001, product: 3002, order: 3003, gateway: 9464 } as const;
/** Where `npm run monitoring` keeps its data (configs, logs, Prometheus's and Alertmanager's storage) unless given another. */
export const DEFAULT_DATA_DIR = path.join(repoRoot, '.data', 'monitoring');

/**
 * The data folder of the `npm start` to monitor: DATA_DIR, or `.data` in the checkout, as scripts/platform-lock.js
 * reads it (empty counts as unset). Reading `.data` alone, a platform started with its own DATA_DIR (the documented
 * way to run a second one) was never found: its ports went unscraped, the exporter had no database, and with no
 * `.data` folder at all the command died writing `.data/monitoring.json` (ENOENT, a stack trace).
 */
export function platformDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.DATA_DIR || path.join(repoRoot, '.data'));
}
/** The file the OTLP trace receiver of `npm run monitoring` (scripts/monitoring.js) appends each trace to, as a waterfall. */
export const tracesLogOf = (dataDir: string): string => path.join(dataDir, 'traces.log');
/**
 * Feature flags of every Prometheus here (this one, Kubernetes', compose's): exemplar storage keeps the
 * trace ids that the services attach to histogram samples in OpenMetrics exposition, which Prometheus 2.x
 * asks for first in its scrape Accept header (docs/tracing.md).
 */
export const PROMETHEUS_FEATURES = ['--enable-feature=exemplar-storage'] as const;
/** History `npm run monitoring` keeps: what the 30-day panels and the weekly comparison read, as compose and Kubernetes keep. */
export const LOCAL_RETENTION = '35d';

export type MonitoringPorts = { readonly [K in keyof typeof PORTS]: number };
export type TargetPorts = { readonly [K in keyof typeof TARGET_PORTS]: number };

export interface StackOptions {
  /** Shortened `for`, windows and Alertmanager timings (see overlay.ts). */
  readonly overlay?: boolean;
  /** Where Alertmanager sends notifications; the built-in receiver when unset. */
  readonly webhookUrl?: string;
  /** postgres_exporter DSN; see resolveDatabaseUrl() when unset. */
  readonly databaseUrl?: string;
  readonly exporter?: boolean;
  /** TSDB and logs; .data/monitoring by default, a temp dir with `overlay`. */
  readonly dataDir?: string;
  readonly log?: (line: string) => void;
  /** Listen ports of the monitoring processes; PORTS by default. */
  readonly ports?: Partial<MonitoringPorts>;
  /** Ports of the services to scrape; TARGET_PORTS by default (a second platform, e.g. the live test). */
  readonly targets?: Partial<TargetPorts>;
}

export interface RunningStack {
  readonly prometheusUrl: string;
  readonly alertmanagerUrl: string;
  readonly postgresExporterUrl?: string;
  readonly webhookUrl: string;
  /** The in-process receiver, when the stack started it. */
  readonly webhook?: WebhookReceiver;
  readonly dataDir: string;
  readonly configDir: string;
  /** Resolves when any child exits before stop() was called. */
  readonly crashed: Promise<string>;
  stop(): Promise<void>;
}

/**
 * The external labels the alert annotations build their links from
 * (`runbook_url`, `dashboard`): RUNBOOK_BASE_URL and GRAFANA_URL, else this
 * checkout's docs/runbooks.md as a file:// URL and a Grafana on 127.0.0.1:3000.
 */
export function linkLabels(env: NodeJS.ProcessEnv = process.env): { runbook_base_url: string; grafana_url: string } {
  const { RUNBOOK_BASE_URL, GRAFANA_URL } = monitoringSettings(env);
  return {
    runbook_base_url: RUNBOOK_BASE_URL ?? pathToFileURL(path.join(repoRoot, 'docs', 'runbooks.md')).href,
    grafana_url: (GRAFANA_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, ''),
  };
}

/**
 * The variables of `npm run monitoring` other than its ports, read as the services read theirs (the kit's loadConfig):
 * one set empty (`ALERT_WEBHOOK_URL=` in a shell or an env file) counts as unset. With `??` an empty
 * MONITORING_DATABASE_URL hid DATABASE_URL, an empty ALERT_WEBHOOK_URL gave Alertmanager a receiver without a URL, and
 * an empty RUNBOOK_BASE_URL or GRAFANA_URL made the alerts' links relative.
 */
export function monitoringSettings(env: NodeJS.ProcessEnv = process.env) {
  const text = Type.Optional(Type.String());
  return loadConfig({ MONITORING_DATABASE_URL: text, DATABASE_URL: text, ALERT_WEBHOOK_URL: text, RUNBOOK_BASE_URL: text, GRAFANA_URL: text }, env);
}

/**
 * The port of the OTLP trace receiver (scripts/monitoring.js): OTLP_RECEIVER_PORT, 4318 when unset or empty (0 picks
 * one). `Number(OTLP_RECEIVER_PORT ?? 4318)` took an empty value for port 0, a random port, while the services sent
 * their traces to 4318; anything but a port number is refused naming the variable.
 */
export function otlpReceiverPort(env: NodeJS.ProcessEnv = process.env): number {
  return loadConfig({ OTLP_RECEIVER_PORT: Port(4318) }, env).OTLP_RECEIVER_PORT;
}

/**
 * The line under the OTLP receiver's URL in npm run monitoring's banner: what to do, if anything, for the services'
 * spans to arrive at `receiverUrl`, from the .data/stack.json and stack.pid of the running `npm start` in `dataDir`.
 */
export function tracingAdvice(receiverUrl: string, dataDir = platformDataDir()): string {
  const start = `OTEL_EXPORTER_OTLP_ENDPOINT=${receiverUrl} npm start   (docs/tracing.md)`;
  const tracesUrl = runningStackTracesUrl(dataDir);
  if (tracesUrl === undefined) return `  trace the services: ${start}`;
  if (tracesUrl === null) return `  the running npm start does not trace: stop it and start it as ${start}`;
  // Never the other URL itself: it may hold credentials (the preload never prints it either).
  if (!sameReceiver(tracesUrl, `${receiverUrl}/v1/traces`)) return `  the running npm start sends its spans elsewhere: stop it and start it as ${start}`;
  return '  the running npm start sends its spans here';
}

/** The running npm start's `tracesUrl` (null: it does not trace); undefined when none runs or it did not say. */
function runningStackTracesUrl(dataDir: string): string | null | undefined {
  const read = (file: string) => {
    try {
      return readFileSync(path.join(dataDir, file), 'utf8');
    } catch {
      return undefined;
    }
  };
  const pid = Number(read('stack.pid')?.trim());
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return undefined; // none runs: its stack.json is stale
  let stack: { tracesUrl?: unknown };
  try {
    stack = JSON.parse(read('stack.json') ?? '') as typeof stack;
  } catch {
    return undefined; // still starting: not written yet
  }
  return typeof stack.tracesUrl === 'string' || stack.tracesUrl === null ? stack.tracesUrl : undefined;
}

/** A URL's host names for this machine's loopback (URL.hostname writes IPv6 in brackets). */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Whether two URLs reach the same receiver on this machine: scheme, port and path alike, hosts both loopback or equal. */
function sameReceiver(a: string, b: string): boolean {
  if (!URL.canParse(a) || !URL.canParse(b)) return false;
  const [x, y] = [new URL(a), new URL(b)];
  const host = (u: URL) => (LOOPBACK.has(u.hostname) ? 'loopback' : u.hostname);
  return x.protocol === y.protocol && x.port === y.port && x.pathname === y.pathname && host(x) === host(y) && !x.username && !x.password;
}

/**
 * Installs the Debian packages through the project script if any binary is missing. When that fails, the error
 * names what is still missing and what to do, not only that the script failed (its own output is above it).
 */
export function ensureTools(
  log: (line: string) => void,
  { script = path.join(repoRoot, 'scripts', 'install-monitoring.sh'), tools = TOOLS }: { script?: string; tools?: readonly Tool[] } = {},
): void {
  const missing = missingTools(tools);
  if (missing.length === 0) return;
  log(`missing ${missing.join(', ')}: running scripts/install-monitoring.sh`);
  const result = spawnSync('bash', [script], { stdio: 'inherit' });
  const still = missingTools(tools);
  if (result.status !== 0 || still.length > 0) {
    const exit = result.error
      ? `could not be run (${result.error.message})`
      : result.status === null
        ? `was ended by ${result.signal ?? 'a signal'}`
        : `exited with ${result.status}`;
    throw new Error(
      `the monitoring tools are not installed (still missing: ${still.join(', ') || 'none, but the script failed'}); ` +
        `scripts/install-monitoring.sh ${exit}, its output is above. Fix what it printed (no root: run it with sudo; ` +
        `no apt-get: install Prometheus, Alertmanager and postgres_exporter by hand, on PATH under those names) ` +
        `and run npm run monitoring again`,
    );
  }
}

/**
 * DSN for postgres_exporter: MONITORING_DATABASE_URL, then DATABASE_URL, then
 * the `databaseUrl` that `npm start` writes to .data/stack.json.
 */
export async function resolveDatabaseUrl(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const { MONITORING_DATABASE_URL, DATABASE_URL } = monitoringSettings(env);
  const fromEnv = MONITORING_DATABASE_URL ?? DATABASE_URL;
  if (fromEnv) return fromEnv;
  const stackFile = path.join(platformDataDir(env), 'stack.json');
  if (!existsSync(stackFile)) return undefined;
  const stack = JSON.parse(await readFile(stackFile, 'utf8')) as { databaseUrl?: unknown };
  return typeof stack.databaseUrl === 'string' ? stack.databaseUrl : undefined;
}

/**
 * The services' metrics ports of the running `npm start`, from the .data/stack.json it writes: a platform started
 * on other ports (USER_PORT=0, GATEWAY_METRICS_PORT=..., the documented way past a taken port) is scraped where it
 * listens, not at the defaults (where nothing, or another checkout's platform, answers). Empty without the file.
 */
export async function resolveTargets(stackFile = path.join(platformDataDir(), 'stack.json')): Promise<Partial<TargetPorts>> {
  if (!existsSync(stackFile)) return {};
  const stack = JSON.parse(await readFile(stackFile, 'utf8')) as { ports?: Record<string, unknown>; gatewayMetricsPort?: unknown };
  const port = (value: unknown) => (Number.isInteger(value) && (value as number) > 0 && (value as number) < 65536 ? (value as number) : undefined);
  const found: Partial<Record<keyof TargetPorts, number | undefined>> = {
    user: port(stack.ports?.user),
    product: port(stack.ports?.product),
    order: port(stack.ports?.order),
    // The gateway is scraped on its metrics port, off its public one.
    gateway: port(stack.gatewayMetricsPort),
  };
  return Object.fromEntries(Object.entries(found).filter(([, value]) => value !== undefined)) as Partial<TargetPorts>;
}

/** lib/pq (the exporter's driver) defaults to sslmode=require; local servers have no TLS. */
export function exporterDsn(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  const local = LOOPBACK.has(url.hostname) || url.hostname === '';
  if (local && !url.searchParams.has('sslmode')) url.searchParams.set('sslmode', 'disable');
  return url.toString();
}

/** The variables of `npm run monitoring` that move its listen ports (scripts/monitoring.js reads them). */
export const PORT_VARIABLES = { prometheus: 'PROMETHEUS_PORT', alertmanager: 'ALERTMANAGER_PORT', postgresExporter: 'POSTGRES_EXPORTER_PORT', webhook: 'WEBHOOK_RECEIVER_PORT' } as const;

/** MonitoringPorts from the environment (PORT_VARIABLES); a value that is not a port number is refused, naming its variable. */
export function portsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<MonitoringPorts> {
  const ports: Partial<Record<keyof MonitoringPorts, number>> = {};
  for (const [key, variable] of Object.entries(PORT_VARIABLES) as Array<[keyof MonitoringPorts, string]>) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    const port = Number(value);
    if (!/^\d+$/.test(value.trim()) || port < 1 || port > 65535) throw new Error(`${variable} must be a port number from 1 to 65535 (got ${JSON.stringify(value)})`);
    ports[key] = port;
  }
  return ports;
}

async function assertPortFree(port: number, name: string, key: keyof MonitoringPorts): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', () =>
      reject(new Error(`127.0.0.1:${port} (${name}) is already in use (another npm run monitoring, or a ${name} of the system's?): stop it, or set ${PORT_VARIABLES[key]} to a free port`)),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

async function waitUntilReady(url: string, name: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before it was ready`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} not ready at ${url} after ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function waitUntilAlertmanagerKnown(prometheusUrl: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}`);
    try {
      const body = (await (await fetch(`${prometheusUrl}/api/v1/alertmanagers`)).json()) as { data?: { activeAlertmanagers?: unknown[] } };
      if ((body.data?.activeAlertmanagers ?? []).length > 0) return;
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) throw new Error(`prometheus knows no Alertmanager after ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startMonitoringStack(options: StackOptions = {}): Promise<RunningStack> {
  const log = options.log ?? ((line: string) => console.log(line));
  ensureTools(log);

  const dataDir = options.dataDir ?? (options.overlay ? await mkdtemp(path.join(tmpdir(), 'monitoring-overlay-')) : DEFAULT_DATA_DIR);
  const configDir = path.join(dataDir, 'config');
  const logDir = path.join(dataDir, 'logs');
  await mkdir(configDir, { recursive: true });
  await mkdir(logDir, { recursive: true });

  const ports: MonitoringPorts = { ...PORTS, ...options.ports };
  const targets: TargetPorts = { ...TARGET_PORTS, ...(options.targets ?? (await resolveTargets())) };
  if (!options.targets && (Object.keys(TARGET_PORTS) as Array<keyof TargetPorts>).some((k) => targets[k] !== TARGET_PORTS[k])) {
    log(`scraping npm start's ports from ${path.relative(repoRoot, path.join(platformDataDir(), 'stack.json'))}: user ${targets.user}, product ${targets.product}, order ${targets.order}, gateway metrics ${targets.gateway}`);
  }
  // Every 127.0.0.1:<default port> the shipped prometheus.yml names, to the port in use.
  const portMap = new Map<number, number>([
    ...(Object.keys(PORTS) as Array<keyof typeof PORTS>).map((k): [number, number] => [PORTS[k], ports[k]]),
    ...(Object.keys(TARGET_PORTS) as Array<keyof typeof TARGET_PORTS>).map((k): [number, number] => [TARGET_PORTS[k], targets[k]]),
  ]);
  const ownWebhookUrl = `http://127.0.0.1:${ports.webhook}/alerts`;
  const webhookUrl = options.webhookUrl ?? monitoringSettings().ALERT_WEBHOOK_URL ?? ownWebhookUrl;
  const ownReceiver = webhookUrl === ownWebhookUrl;
  const databaseUrl = options.exporter === false ? undefined : (options.databaseUrl ?? (await resolveDatabaseUrl()));

  await assertPortFree(ports.prometheus, 'prometheus', 'prometheus');
  await assertPortFree(ports.alertmanager, 'alertmanager', 'alertmanager');
  if (databaseUrl) await assertPortFree(ports.postgresExporter, 'postgres_exporter', 'postgresExporter');
  if (ownReceiver) await assertPortFree(ports.webhook, 'webhook receiver', 'webhook');

  // Alert links: absolute, to this checkout's runbooks unless told otherwise.
  const externalLabels = linkLabels();
  // Configs: the shipped ones (ports remapped), or the overlay generated from them.
  let prometheusConfig = path.join(configDir, 'prometheus.yml');
  let alertmanagerConfig = path.join(configDir, 'alertmanager.yml');
  if (options.overlay) {
    const overlayDir = path.join(configDir, 'overlay');
    await writeTestOverlay(overlayDir, { ...defaultOverlayOptions, webhookUrl, portMap, externalLabels });
    prometheusConfig = path.join(overlayDir, 'prometheus.yml');
    alertmanagerConfig = path.join(overlayDir, 'alertmanager.yml');
  } else {
    const prometheus = remapPorts(await readPrometheusConfig(), portMap);
    prometheus.rule_files = [path.join(rulesDir, '*.yml')];
    prometheus.global = { ...prometheus.global, external_labels: { ...(prometheus.global?.external_labels as Record<string, string> | undefined), ...externalLabels } };
    await writeFile(prometheusConfig, `# rendered from deploy/monitoring/prometheus/prometheus.yml\n${YAML.stringify(prometheus, { lineWidth: 0 })}`);
    const rendered = withWebhookUrl(await readAlertmanagerConfig(), webhookUrl);
    await writeFile(alertmanagerConfig, `# rendered from deploy/monitoring/alertmanager/alertmanager.yml\n${YAML.stringify(rendered)}`);
  }

  const children: Array<{ name: string; child: ChildProcess }> = [];
  let stopping = false;
  let reportCrash: (message: string) => void = () => undefined;
  const crashed = new Promise<string>((resolve) => (reportCrash = resolve));

  const launch = (name: string, binary: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess => {
    const file = findTool(binary as (typeof TOOLS)[number]);
    if (!file) throw new Error(`${binary} not found`);
    const out = createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' });
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    child.once('exit', (code, signal) => {
      if (!stopping) reportCrash(`${name} exited (code ${code}, signal ${signal}); see ${path.join(logDir, `${name}.log`)}`);
    });
    children.push({ name, child });
    return child;
  };

  let webhook: WebhookReceiver | undefined;
  const stop = async (): Promise<void> => {
    stopping = true;
    // Only our own children, by pid; SIGKILL if one ignores SIGTERM.
    await Promise.all(
      children.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    await webhook?.close();
    if (options.overlay && !options.dataDir) await rm(dataDir, { recursive: true, force: true });
  };

  try {
    if (ownReceiver) {
      webhook = await startWebhookReceiver({ port: ports.webhook, logFile: path.join(dataDir, 'alerts.jsonl'), log });
    }
    const alertmanager = launch('alertmanager', 'prometheus-alertmanager', [
      `--config.file=${alertmanagerConfig}`,
      `--storage.path=${path.join(dataDir, 'alertmanager')}`,
      `--web.listen-address=127.0.0.1:${ports.alertmanager}`,
      // Empty: no gossip cluster, which would listen on 0.0.0.0:9094.
      '--cluster.listen-address=',
      // Links in notifications name this address, not http://<host name>:<port>/ (the default).
      `--web.external-url=http://127.0.0.1:${ports.alertmanager}/`,
    ]);
    // Alertmanager first: alerts Prometheus sends before it listens are lost
    // until the next resend (1 minute later).
    await waitUntilReady(`http://127.0.0.1:${ports.alertmanager}/-/ready`, 'alertmanager', alertmanager);
    const prometheus = launch('prometheus', 'prometheus', [
      `--config.file=${prometheusConfig}`,
      `--storage.tsdb.path=${path.join(dataDir, 'prometheus')}`,
      `--storage.tsdb.retention.time=${LOCAL_RETENTION}`,
      `--web.listen-address=127.0.0.1:${ports.prometheus}`,
      // Every alert's generatorURL names this address, not http://<host name>:<port>/ (the default).
      `--web.external-url=http://127.0.0.1:${ports.prometheus}/`,
      // Lets tests reload the config (POST /-/reload); loopback only.
      '--web.enable-lifecycle',
      // Exemplars (trace ids on latency samples), as in Kubernetes and compose.
      ...PROMETHEUS_FEATURES,
      // Prometheus marks an alert sent even when the send failed, and resends
      // only after this delay (1m by default): compressed like the rest.
      ...(options.overlay ? ['--rules.alert.resend-delay=2s'] : []),
    ]);
    let exporter: ChildProcess | undefined;
    if (databaseUrl) {
      exporter = launch(
        'postgres-exporter',
        'prometheus-postgres-exporter',
        [
          `--web.listen-address=127.0.0.1:${ports.postgresExporter}`,
          `--extend.query-path=${postgresQueriesPath}`,
          // 0.11's bgwriter collector reads columns PostgreSQL 17 moved to
          // pg_stat_checkpointer and fails every scrape; nothing here uses it.
          '--no-collector.bgwriter',
        ],
        { ...process.env, DATA_SOURCE_NAME: exporterDsn(databaseUrl) },
      );
    } else {
      log('no database URL (MONITORING_DATABASE_URL, DATABASE_URL or .data/stack.json): postgres_exporter not started');
    }
    await waitUntilReady(`http://127.0.0.1:${ports.prometheus}/-/ready`, 'prometheus', prometheus);
    // Its notifier learns the Alertmanager a few seconds after start; alerts
    // sent before are dropped (and only resent after --rules.alert.resend-delay).
    await waitUntilAlertmanagerKnown(`http://127.0.0.1:${ports.prometheus}`, prometheus);
    if (exporter) await waitUntilReady(`http://127.0.0.1:${ports.postgresExporter}/metrics`, 'postgres_exporter', exporter);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    prometheusUrl: `http://127.0.0.1:${ports.prometheus}`,
    alertmanagerUrl: `http://127.0.0.1:${ports.alertmanager}`,
    ...(databaseUrl ? { postgresExporterUrl: `http://127.0.0.1:${ports.postgresExporter}/metrics` } : {}),
    webhookUrl,
    ...(webhook ? { webhook } : {}),
    dataDir,
    configDir,
    crashed,
    stop,
  };
}
