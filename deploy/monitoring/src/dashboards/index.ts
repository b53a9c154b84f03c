// The five dashboards, and every query in them, for the generator and for
// tests that evaluate each query against a real Prometheus.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { alertsSlo } from './alerts-slo.js';
import { business } from './business.js';
import { database } from './database.js';
import { runtime } from './runtime.js';
import { servicesOverview } from './services-overview.js';

export interface GeneratedDashboard {
  /** File name under grafana/dashboards/. */
  readonly file: string;
  readonly dashboard: Dashboard;
}

export function allDashboards(): GeneratedDashboard[] {
  return [
    { file: 'services-overview.json', dashboard: servicesOverview() },
    { file: 'runtime.json', dashboard: runtime() },
    { file: 'database.json', dashboard: database() },
    { file: 'business.json', dashboard: business() },
    { file: 'alerts-slo.json', dashboard: alertsSlo() },
  ];
}

/** The committed form: stable key order from the builders, 2-space JSON. */
export function renderDashboard(dashboard: Dashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}

/**
 * Where a query can return data:
 * - `app`: services and postgres_exporter, any environment with traffic;
 * - `kubernetes`: reads kube-state-metrics (kube_*) or cAdvisor (container_*);
 * - `alerting`: reads ALERTS, so it has series only while an alert is pending or firing;
 * - `history`: compares with a week ago (`offset 1w`), so it needs a week of data.
 */
type QueryScope = 'app' | 'kubernetes' | 'alerting' | 'history';

export interface PanelQuery {
  readonly dashboardUid: string;
  readonly dashboardTitle: string;
  readonly panelTitle: string;
  readonly refId: string;
  /** As written in the dashboard, with Grafana variables. */
  readonly expr: string;
  readonly instant: boolean;
  readonly scope: QueryScope;
  /** Kubernetes-only metric names the query reads (empty for other scopes). */
  readonly kubernetesMetrics: readonly string[];
}

interface PanelTarget {
  refId?: string;
  expr?: string;
  instant?: boolean;
}

function queryScope(expr: string): { scope: QueryScope; kubernetesMetrics: string[] } {
  const kubernetesMetrics = [...new Set([...expr.matchAll(/\b((?:kube|container)_[a-zA-Z0-9_]+)/g)].map((m) => m[1] ?? ''))].sort();
  if (kubernetesMetrics.length > 0) return { scope: 'kubernetes', kubernetesMetrics };
  if (/\bALERTS\b/.test(expr)) return { scope: 'alerting', kubernetesMetrics: [] };
  if (/\boffset\s+1w\b/.test(expr)) return { scope: 'history', kubernetesMetrics: [] };
  return { scope: 'app', kubernetesMetrics: [] };
}

/** Every panel query of every dashboard, read back from the built JSON. */
export function listPanelQueries(dashboards: readonly GeneratedDashboard[] = allDashboards()): PanelQuery[] {
  const queries: PanelQuery[] = [];
  for (const { dashboard } of dashboards) {
    for (const panel of dashboard.panels ?? []) {
      if (!('targets' in panel)) continue;
      for (const target of (panel.targets ?? []) as PanelTarget[]) {
        if (!target.expr) continue;
        queries.push({
          dashboardUid: dashboard.uid ?? '',
          dashboardTitle: dashboard.title ?? '',
          panelTitle: panel.title ?? '',
          refId: target.refId ?? '',
          expr: target.expr,
          instant: target.instant === true,
          ...queryScope(target.expr),
        });
      }
    }
  }
  return queries;
}

export interface VariableValues {
  /** Regex for `service=~"$service"`; default ".+" (Grafana's All). */
  readonly service?: string;
  readonly instance?: string;
  readonly namespace?: string;
  /** Values for Grafana's built-in interval variables. */
  readonly rateInterval?: string;
  readonly interval?: string;
  readonly range?: string;
}

/** Replaces Grafana variables as Grafana would before sending the query. */
export function substituteVariables(expr: string, values: VariableValues = {}): string {
  const table: Record<string, string> = {
    __rate_interval: values.rateInterval ?? '1m',
    __interval: values.interval ?? '15s',
    __range: values.range ?? '1h',
    service: values.service ?? '.+',
    instance: values.instance ?? '.+',
    namespace: values.namespace ?? '.+',
  };
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (match, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const value = table[name];
    if (value === undefined) throw new Error(`unknown variable ${match} in ${expr}`);
    return value;
  });
}
