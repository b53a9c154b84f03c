// What a pinned Grafana release reads, taken from Grafana's own source at that release's tag, since no Grafana
// runs here: the newest dashboard schemaVersion it knows, the foundation SDK build generated from the same
// release line's schemas, and the panel and data source plugins it ships. test/grafana-release.test.ts holds the
// image compose and the manifests pin, the generated dashboards and the provisioning to the entry of that release.
// Pinning another Grafana means adding its entry, read from its source the same way (the files named below are
// also published, built from the release tag, as the npm packages @grafana/schema and @grafana/prometheus of the
// same version: that is where these were read).

export interface GrafanaRelease {
  /** The image tag (grafana/grafana:<version>). */
  readonly version: string;
  /**
   * The newest dashboard schemaVersion the release knows. A dashboard that says more gets no migration and is
   * read as it is, with fields this release may not know: the check wants the dashboards at or below it.
   */
  readonly newestSchemaVersion: number;
  /** Where newestSchemaVersion is defined in Grafana's source at the release tag. */
  readonly newestSchemaVersionSource: string;
  /**
   * The @grafana/grafana-foundation-sdk build made from this release line's schemas (its version starts with the
   * line, e.g. 11.6.0-cog...), whose types the dashboards are built and checked with; undefined when none exists.
   */
  readonly foundationSdkLine: string | undefined;
  /**
   * Core panel plugin ids that have a schema in this release (public/app/plugins/panel/<id>/panelcfg.cue,
   * published as @grafana/schema's raw/composable/<id>), and the dashboard's own `row`.
   */
  readonly panelTypes: readonly string[];
  /** Core data source plugin ids in this release (public/app/plugins/datasource/<id>/plugin.json, "id"). */
  readonly datasourceTypes: readonly string[];
}

const dashboardTypesSource = (tag: string, line: number, ext: string): string =>
  `packages/grafana-schema/src/raw/dashboard/x/dashboard_types.gen.ts at ${tag} (defaultDashboard.schemaVersion, ` +
  `generated from kinds/dashboard/dashboard_kind.cue); read in @grafana/schema@${tag.slice(1)} ` +
  `dist/esm/raw/dashboard/x/dashboard_types.gen.${ext}:${line}`;

/**
 * Core data source ids of 11.x this platform provisions or may add (Loki for traces to logs): prometheus
 * (packages/grafana-prometheus, @grafana/prometheus@11.3.0 and 11.6.0), loki and tempo (their dataquery schemas in
 * @grafana/schema@11.3.1 and 11.6.16), alertmanager and jaeger (public/app/plugins/datasource/<id>/plugin.json).
 */
const coreDatasources11 = ['prometheus', 'alertmanager', 'jaeger', 'loki', 'tempo'];

export const grafanaReleases: readonly GrafanaRelease[] = [
  {
    // The pin until December 2026: kept so the check shows what was wrong with it (dashboards said 42).
    version: '11.3.1',
    newestSchemaVersion: 39,
    newestSchemaVersionSource: dashboardTypesSource('v11.3.1', 134, 'js'),
    foundationSdkLine: undefined, // the SDK has builds for 10.1, 10.2, 10.4 and 11.6 only, then 0.0.x (schemaVersion 42)
    panelTypes: [
      'row', 'annotationslist', 'barchart', 'bargauge', 'candlestick', 'canvas', 'dashboardlist', 'datagrid', 'debug', 'gauge',
      'geomap', 'heatmap', 'histogram', 'logs', 'news', 'nodegraph', 'piechart', 'stat', 'statetimeline', 'statushistory',
      'table', 'text', 'timeseries', 'trend', 'xychart',
    ],
    datasourceTypes: coreDatasources11,
  },
  {
    // The newest release in which a Prometheus exemplar still opens its trace in the Jaeger data source: from
    // 12.1 Jaeger queries go to Grafana's backend (feature toggle jaegerBackendMigration "@default true" in
    // packages/grafana-data/src/types/featureToggles.gen.ts at v12.1.1; the toggle is gone in v12.2.0, the
    // frontend sending every query but an upload there), whose pkg/tsdb/jaeger/querydata.go looks a trace up only
    // for an empty queryType, while the exemplar link asks with queryType "traceql" (getDataLinks in
    // packages/grafana-prometheus/src/result_transformer.ts, the same in v11.3.0, v11.6.0 and v13.2.3), so the click
    // finds nothing (grafana/grafana#111448, open). 11.x's Jaeger data source runs a query with any other type but
    // search as a trace id in the browser (public/app/plugins/datasource/jaeger/datasource.ts).
    // And schemaVersion 42, what the 0.0.x SDK writes, first appears in v12.2.0.
    version: '11.6.16',
    newestSchemaVersion: 41,
    newestSchemaVersionSource: dashboardTypesSource('v11.6.16', 135, 'mjs'),
    foundationSdkLine: '11.6.',
    panelTypes: [
      'row', 'annotationslist', 'barchart', 'bargauge', 'candlestick', 'canvas', 'dashboardlist', 'datagrid', 'debug', 'gauge',
      'geomap', 'heatmap', 'histogram', 'logs', 'news', 'nodegraph', 'piechart', 'stat', 'statetimeline', 'statushistory',
      'table', 'text', 'timeseries', 'trend', 'xychart',
    ],
    datasourceTypes: coreDatasources11,
  },
];

/** The image tag of grafana/grafana in an image reference, or undefined. */
export function grafanaTag(image: string): string | undefined {
  return /^(?:docker\.io\/)?grafana\/grafana:([^@\s]+)$/.exec(image)?.[1];
}
