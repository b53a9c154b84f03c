// Test overlay: the shipped rules and configs with time compressed, so the
// live proof can watch alerts fire and resolve in seconds. Generated from the
// shipped files every time, never copied by hand, so the overlay cannot drift
// from what ships. Names (e.g. "ratio_rate5m") stay as shipped: they name the
// production window, the overlay only shortens it.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { formatDuration, parseDuration } from './duration.js';
import { alertmanagerConfigPath, prometheusConfigPath, rulesDir } from './paths.js';

export interface OverlayOptions {
  /** Every `for`, range selector and offset is divided by this. */
  readonly factor: number;
  /** Range selectors never go below this: rate() needs a few scrapes. */
  readonly minRange: string;
  readonly scrapeInterval: string;
  readonly evaluationInterval: string;
  /** Alertmanager webhook URL for every receiver. */
  readonly webhookUrl: string;
  /** 127.0.0.1 ports in prometheus.yml to replace (shipped port -> port in use). */
  readonly portMap?: ReadonlyMap<number, number>;
  /** External labels to set over the shipped ones (e.g. the alert link bases). */
  readonly externalLabels?: Readonly<Record<string, string>>;
}

export const defaultOverlayOptions: OverlayOptions = {
  factor: 30,
  minRange: '10s',
  scrapeInterval: '2s',
  evaluationInterval: '2s',
  webhookUrl: 'http://127.0.0.1:9095/alerts',
};

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}
export interface RuleFile {
  groups: RuleGroup[];
}

/** Shipped rule files (not the promtool tests), sorted by name. */
export async function listRuleFiles(dir: string = rulesDir): Promise<string[]> {
  const names = await readdir(dir);
  return names.filter((n) => n.endsWith('.yml')).sort().map((n) => path.join(dir, n));
}

export async function readRuleFile(file: string): Promise<RuleFile> {
  return YAML.parse(await readFile(file, 'utf8')) as RuleFile;
}

function scale(duration: string, options: OverlayOptions, floor: number): string {
  const ms = parseDuration(duration);
  if (ms === 0) return duration;
  const scaled = Math.max(floor, Math.round(ms / options.factor / 1000) * 1000);
  return formatDuration(scaled);
}

/** Compress range selectors `[5m]` and `offset 10m` in a PromQL expression. */
export function compressExpr(expr: string, options: OverlayOptions): string {
  const minRange = parseDuration(options.minRange);
  return expr
    .replace(/\[(\w+)\]/g, (_m, d: string) => `[${scale(d, options, minRange)}]`)
    .replace(/\[(\w+):(\w*)\]/g, () => {
      // Subqueries would need their step scaled too; no rule uses one yet.
      throw new Error('subqueries are not supported by the test overlay');
    })
    .replace(/\boffset\s+(\w+)/g, (_m, d: string) => `offset ${scale(d, options, 1000)}`);
}

function compressRuleFile(file: RuleFile, options: OverlayOptions): RuleFile {
  return {
    groups: file.groups.map((group) => ({
      ...group,
      ...(group.interval ? { interval: options.evaluationInterval } : {}),
      rules: group.rules.map((rule) => ({
        ...rule,
        expr: compressExpr(rule.expr, options),
        ...(rule.for ? { for: scale(rule.for, options, 1000) } : {}),
      })),
    })),
  };
}

interface StaticConfig {
  targets?: string[];
  [key: string]: unknown;
}

export interface PrometheusConfig {
  global?: Record<string, unknown>;
  rule_files?: string[];
  alerting?: { alertmanagers?: Array<{ static_configs?: StaticConfig[]; [key: string]: unknown }>; [key: string]: unknown };
  scrape_configs?: Array<{ static_configs?: StaticConfig[]; [key: string]: unknown }>;
  [key: string]: unknown;
}

export async function readPrometheusConfig(): Promise<PrometheusConfig> {
  return YAML.parse(await readFile(prometheusConfigPath, 'utf8')) as PrometheusConfig;
}

/**
 * The config with every static `127.0.0.1:<port>` target (scrape targets and
 * Alertmanagers) moved to the port `portMap` gives, so a second platform and
 * monitoring stack (the live test) can run next to `npm start`.
 */
export function remapPorts(config: PrometheusConfig, portMap: ReadonlyMap<number, number>): PrometheusConfig {
  const remapTarget = (target: string): string => {
    const match = /^127\.0\.0\.1:(\d+)$/.exec(target);
    const port = portMap.get(Number(match?.[1]));
    return match && port !== undefined ? `127.0.0.1:${port}` : target;
  };
  const remapStatic = (configs: StaticConfig[] | undefined): StaticConfig[] | undefined =>
    configs?.map((c) => (c.targets ? { ...c, targets: c.targets.map(remapTarget) } : c));
  const withStatic = <T extends { static_configs?: StaticConfig[] }>(item: T): T =>
    item.static_configs ? { ...item, static_configs: remapStatic(item.static_configs) } : item;
  return {
    ...config,
    ...(config.alerting
      ? { alerting: { ...config.alerting, ...(config.alerting.alertmanagers ? { alertmanagers: config.alerting.alertmanagers.map(withStatic) } : {}) } }
      : {}),
    ...(config.scrape_configs ? { scrape_configs: config.scrape_configs.map(withStatic) } : {}),
  };
}

interface AlertmanagerRoute {
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  routes?: AlertmanagerRoute[];
  [key: string]: unknown;
}

interface AlertmanagerConfig {
  route: AlertmanagerRoute;
  receivers: Array<{ name: string; webhook_configs?: Array<{ url: string; [key: string]: unknown }> }>;
  [key: string]: unknown;
}

function fastRoute(route: AlertmanagerRoute, top: boolean): AlertmanagerRoute {
  const timed: AlertmanagerRoute = { ...route };
  // Child routes inherit from the root unless they set their own value.
  if (top || route.group_wait) timed.group_wait = '1s';
  if (top || route.group_interval) timed.group_interval = '5s';
  if (top || route.repeat_interval) timed.repeat_interval = '1h';
  if (route.routes) timed.routes = route.routes.map((r) => fastRoute(r, false));
  return timed;
}

/** Alertmanager config with every webhook pointed at `url`. */
export function withWebhookUrl(config: AlertmanagerConfig, url: string): AlertmanagerConfig {
  return {
    ...config,
    receivers: config.receivers.map((r) => ({
      ...r,
      ...(r.webhook_configs ? { webhook_configs: r.webhook_configs.map((w) => ({ ...w, url })) } : {}),
    })),
  };
}

export async function readAlertmanagerConfig(): Promise<AlertmanagerConfig> {
  return YAML.parse(await readFile(alertmanagerConfigPath, 'utf8')) as AlertmanagerConfig;
}

const HEADER = '# GENERATED by deploy/monitoring/src/overlay.ts from the shipped file. Do not edit.\n';

/**
 * Writes <dir>/prometheus.yml, <dir>/alertmanager.yml and <dir>/rules/*.yml.
 * Returns the paths written.
 */
export async function writeTestOverlay(dir: string, options: OverlayOptions = defaultOverlayOptions): Promise<string[]> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(dir, 'rules'), { recursive: true });
  const written: string[] = [];

  for (const file of await listRuleFiles()) {
    const target = path.join(dir, 'rules', path.basename(file));
    const compressed = compressRuleFile(await readRuleFile(file), options);
    await writeFile(target, HEADER + YAML.stringify(compressed, { lineWidth: 0 }));
    written.push(target);
  }

  const prometheus = remapPorts(await readPrometheusConfig(), options.portMap ?? new Map());
  prometheus.global = {
    ...prometheus.global,
    scrape_interval: options.scrapeInterval,
    scrape_timeout: options.scrapeInterval,
    evaluation_interval: options.evaluationInterval,
    // The shipped labels (alert link bases) stay unless overridden.
    external_labels: { ...(prometheus.global?.external_labels as Record<string, string> | undefined), environment: 'test-overlay', ...options.externalLabels },
  };
  prometheus.rule_files = ['rules/*.yml'];
  const prometheusPath = path.join(dir, 'prometheus.yml');
  await writeFile(prometheusPath, HEADER + YAML.stringify(prometheus, { lineWidth: 0 }));
  written.push(prometheusPath);

  const alertmanager = withWebhookUrl(await readAlertmanagerConfig(), options.webhookUrl);
  alertmanager.route = fastRoute(alertmanager.route, true);
  const alertmanagerPath = path.join(dir, 'alertmanager.yml');
  await writeFile(alertmanagerPath, HEADER + YAML.stringify(alertmanager, { lineWidth: 0 }));
  written.push(alertmanagerPath);
  return written;
}
