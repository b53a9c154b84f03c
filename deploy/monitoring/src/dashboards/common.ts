// Building blocks shared by the five dashboards: datasource, variables,
// panel factories and the label filters every app-side query carries.
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  ConstantVariableBuilder,
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type Panel,
} from '@grafana/grafana-foundation-sdk/dashboard';
import type { Builder } from '@grafana/grafana-foundation-sdk/cog';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/** UIDs fixed by grafana/provisioning/datasources/datasources.yml. */
const PROMETHEUS = { type: 'prometheus', uid: 'prometheus' } as const;

/** SLO of every service, as in docs/monitoring.md and rules/services.yml. */
export const SLO = 0.995;
export const ERROR_BUDGET = 1 - SLO;

/** App-side series of the selected services and instances. */
export const APP = 'service=~"$service", instance=~"$instance"';
/** Probes and /metrics are not user traffic (same filter as the rules). */
export const NOT_PROBES = 'http_route!~"/livez|/readyz|/metrics"';
/**
 * Where docs/runbooks.md is read: the same base as the Prometheus configs'
 * `runbook_base_url` external label (a test keeps them equal). Panels link to
 * `${runbooks}#<alert>` through the hidden constant variable `runbooks`.
 */
const RUNBOOK_BASE_URL = 'https://docs.example.com/ecommerce/runbooks.md';

/** cAdvisor/kube-state-metrics name containers, not services: match "order" or "order-service". */
export const CONTAINER = 'container=~"($service)(-service)?"';
/** Shared and template databases say nothing about ours. */
export const OUR_DATABASES = 'datname!~"|template0|template1"';

interface QuerySpec {
  readonly expr: string;
  readonly legend?: string;
  /** Tables want one value per series, not a range. */
  readonly instant?: boolean;
}

const REF_IDS = 'ABCDEFGHIJ';

function targets(queries: readonly QuerySpec[]): DataqueryBuilder[] {
  return queries.map((q, i) => {
    const query = new DataqueryBuilder().refId(REF_IDS[i] ?? `Q${i}`).expr(q.expr).datasource(PROMETHEUS);
    if (q.legend) query.legendFormat(q.legend);
    if (q.instant) query.instant().format(PromQueryFormat.Table);
    else query.range();
    // Latency panels show the exemplars Prometheus keeps (the trace id of a sampled request), each a link
    // to its trace in Jaeger (datasources.yml: exemplarTraceIdDestinations).
    if (!q.instant && /_bucket\b/.test(q.expr)) query.exemplar(true);
    return query;
  });
}

export interface PanelSpec {
  readonly title: string;
  readonly description?: string;
  readonly unit?: string;
  readonly queries: readonly QuerySpec[];
  readonly width?: number;
  readonly height?: number;
  readonly min?: number;
  readonly max?: number;
  /** Absolute thresholds: [value, color] after the base colour. */
  readonly thresholds?: ReadonlyArray<readonly [number, string]>;
  /**
   * Colour below the first threshold; green by default. Red where a low
   * value is the failure (availability, "up" counts, budget left).
   */
  readonly base?: string;
  /** Alerts whose runbook section the panel links to (alert names). */
  readonly runbooks?: readonly string[];
  /** Dashboards (uid -> title) the panel links to for the detail. */
  readonly dashboards?: Readonly<Record<string, string>>;
}

function thresholds(spec: PanelSpec): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder()
    .mode(ThresholdsMode.Absolute)
    .steps([{ value: null, color: spec.base ?? 'green' }, ...(spec.thresholds ?? []).map(([value, color]) => ({ value, color }))]);
}

function panelLinks(spec: PanelSpec): DashboardLinkBuilder[] {
  const links: DashboardLinkBuilder[] = [];
  for (const [uid, title] of Object.entries(spec.dashboards ?? {})) {
    // Keeps the time range and the variables, as Grafana's dashboard links do.
    links.push(new DashboardLinkBuilder(title).type(DashboardLinkType.Link).url(`/d/${uid}?\${__url_time_range}&\${__all_variables}`));
  }
  for (const alert of spec.runbooks ?? []) {
    links.push(new DashboardLinkBuilder(`Runbook: ${alert}`).type(DashboardLinkType.Link).url(`\${runbooks}#${alert.toLowerCase()}`).targetBlank(true));
  }
  return links;
}

export function timeSeriesPanel(spec: PanelSpec): timeseries.PanelBuilder {
  const panel = new timeseries.PanelBuilder()
    .title(spec.title)
    .datasource(PROMETHEUS)
    .targets(targets(spec.queries))
    .unit(spec.unit ?? 'short')
    .span(spec.width ?? 12)
    .height(spec.height ?? 8)
    .fillOpacity(10)
    .thresholds(thresholds(spec))
    .legend(new common.VizLegendOptionsBuilder().displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom).showLegend(true));
  if (spec.description) panel.description(spec.description);
  if (spec.min !== undefined) panel.min(spec.min);
  if (spec.max !== undefined) panel.max(spec.max);
  const links = panelLinks(spec);
  if (links.length > 0) panel.links(links);
  return panel;
}

export function statPanel(spec: PanelSpec): stat.PanelBuilder {
  const panel = new stat.PanelBuilder()
    .title(spec.title)
    .datasource(PROMETHEUS)
    .targets(targets(spec.queries))
    .unit(spec.unit ?? 'short')
    .span(spec.width ?? 6)
    .height(spec.height ?? 4)
    .graphMode(common.BigValueGraphMode.Area)
    .thresholds(thresholds(spec))
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
  if (spec.description) panel.description(spec.description);
  if (spec.min !== undefined) panel.min(spec.min);
  if (spec.max !== undefined) panel.max(spec.max);
  const links = panelLinks(spec);
  if (links.length > 0) panel.links(links);
  return panel;
}

export function tablePanel(spec: PanelSpec): table.PanelBuilder {
  const panel = new table.PanelBuilder()
    .title(spec.title)
    .datasource(PROMETHEUS)
    .targets(targets(spec.queries.map((q) => ({ ...q, instant: true }))))
    .unit(spec.unit ?? 'short')
    .span(spec.width ?? 12)
    .height(spec.height ?? 8)
    .thresholds(thresholds(spec))
    // Instant table queries return a Time column that says nothing here.
    .withTransformation({ id: 'organize', options: { excludeByName: { Time: true } } });
  if (spec.description) panel.description(spec.description);
  const links = panelLinks(spec);
  if (links.length > 0) panel.links(links);
  return panel;
}

function variable(name: string, label: string, query: string): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(PROMETHEUS)
    // No `definition` (the query's display text): Grafana 11.6's dashboard schema has no such field, and the
    // query object below is what Grafana runs.
    .query({ query, refId: `${name}-variable`, qryType: 1 })
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    // ".+" rather than Grafana's "(a|b|c)" so new instances show up at once.
    .allValue('.+')
    .current({ selected: true, text: ['All'], value: ['$__all'] });
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  /** A first row (e.g. "Is the shop healthy?"); the panels follow in a row of their own. */
  readonly topRow?: { readonly title: string; readonly panels: ReadonlyArray<Builder<Panel>>; readonly restTitle: string };
  readonly panels: ReadonlyArray<Builder<Panel>>;
  /** Extra query variables after service and instance: [name, label, label_values query]. */
  readonly variables?: ReadonlyArray<readonly [string, string, string]>;
}

export function buildDashboard(spec: DashboardSpec): ReturnType<DashboardBuilder['build']> {
  const builder = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(['ecommerce', ...spec.tags])
    .editable()
    .timezone('browser')
    .tooltip(DashboardCursorSync.Crosshair)
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .withVariable(variable('service', 'Service', 'label_values(up{service=~"user|product|order|gateway"}, service)'))
    .withVariable(variable('instance', 'Instance', 'label_values(up{service=~"$service"}, instance)'));
  for (const [name, label, query] of spec.variables ?? []) builder.withVariable(variable(name, label, query));
  // Hidden: the runbooks' base for panel links (not a filter).
  builder.withVariable(new ConstantVariableBuilder('runbooks').value(RUNBOOK_BASE_URL).description('Base URL of docs/runbooks.md'));
  // Every other dashboard of the set, one click away, same time range and filters.
  builder.link(new DashboardLinkBuilder('E-commerce dashboards').type(DashboardLinkType.Dashboards).tags(['ecommerce']).asDropdown(true).includeVars(true).keepTime(true));
  if (spec.topRow) {
    builder.withRow(new RowBuilder(spec.topRow.title));
    spec.topRow.panels.forEach((panel) => builder.withPanel(panel));
    builder.withRow(new RowBuilder(spec.topRow.restTitle));
  }
  spec.panels.forEach((panel) => builder.withPanel(panel));
  const built = builder.build();
  // Stable panel ids: Grafana uses them in links and for panel state.
  (built.panels ?? []).forEach((panel, i) => {
    panel.id = i + 1;
  });
  // The 0.0.x SDK gave every link `placement: "inControlsMenu"` (the 11.6 build has no such field). Grafana 11.6
  // (the pinned image) ignores it, but from 12.3 on a dashboard link with a placement is drawn only in the controls
  // menu, which leaves out links to dashboards (DashboardLinksControls, getDashboardControlsLinks): the
  // "E-commerce dashboards" link would vanish. Kept for a later SDK.
  for (const link of [...(built.links ?? []), ...(built.panels ?? []).flatMap((panel) => ('links' in panel ? (panel.links ?? []) : []))]) {
    delete (link as { placement?: unknown }).placement;
  }
  return built;
}
