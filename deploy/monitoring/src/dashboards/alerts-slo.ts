// (e) Alerts and SLOs: what is firing, how fast each service burns its error
// budget, and how much budget is left over 30 days.
import { ERROR_BUDGET, SLO, buildDashboard, statPanel, tablePanel, timeSeriesPanel } from './common.js';

// From the 5-minute recording rules (one sample per evaluation), never from
// 30 days of raw samples: per service and SLI (app, edge).
const ratio30d =
  'sum_over_time(service_sli:errors:rate5m{service=~"$service"}[30d]) / sum_over_time(service_sli:requests:rate5m{service=~"$service"}[30d])';

const burn = (window: string) => ({
  expr: `service_sli:errors:ratio_rate${window}{service=~"$service"} / ${ERROR_BUDGET.toFixed(3)}`,
  legend: `{{service}} {{sli}} ${window}`,
});

export const alertsSlo = () =>
  buildDashboard({
    uid: 'ecommerce-slo',
    title: 'E-commerce / Alerts & SLOs',
    description: `Firing alerts and the availability SLO (${(SLO * 100).toFixed(1)}% of requests without 5xx over 30 days).`,
    tags: ['alerts', 'slo'],
    panels: [
      statPanel({
        title: 'Firing alerts by severity',
        description: 'Firing alerts, without the Watchdog (the heartbeat that fires always, on purpose); 0 when none fires.',
        // Not the Watchdog: it always fires (rules/monitoring.yml), and would paint a healthy shop red.
        queries: [{ expr: 'count by (severity) (ALERTS{alertstate="firing", alertname!="Watchdog"}) or on () vector(0)', legend: '{{severity}}' }],
        thresholds: [[1, 'red']],
      }),
      statPanel({
        title: 'Availability (30d)',
        unit: 'percentunit',
        width: 9,
        queries: [{ expr: `1 - (${ratio30d})`, legend: '{{service}} {{sli}}' }],
        // Below the SLO is a missed SLO: red.
        base: 'red',
        thresholds: [[SLO, 'green']],
      }),
      statPanel({
        title: 'Error budget left (30d)',
        description: 'Share of the 0.5% error budget not yet spent in the last 30 days; negative means the SLO is missed.',
        unit: 'percentunit',
        width: 9,
        queries: [{ expr: `1 - (${ratio30d}) / ${ERROR_BUDGET.toFixed(3)}`, legend: '{{service}} {{sli}}' }],
        // Negative: the SLO is missed (red); little left: orange.
        base: 'red',
        thresholds: [[0, 'orange'], [0.5, 'green']],
      }),
      tablePanel({
        title: 'Firing and pending alerts',
        width: 24,
        queries: [{ expr: 'max by (alertname, alertstate, severity, service, instance) (ALERTS)' }],
      }),
      timeSeriesPanel({
        title: 'Burn rate, fast windows (page at 14.4x over 1h and 5m)',
        unit: 'short',
        queries: [burn('5m'), burn('1h')],
        thresholds: [[14.4, 'red']],
        runbooks: ['SLOErrorBudgetBurnFast'],
      }),
      timeSeriesPanel({
        title: 'Burn rate, medium windows (page at 6x over 6h and 30m)',
        unit: 'short',
        queries: [burn('30m'), burn('6h')],
        thresholds: [[6, 'red']],
        runbooks: ['SLOErrorBudgetBurnMedium'],
      }),
      timeSeriesPanel({
        title: 'Burn rate, slow windows (ticket at 3x over 1d/2h, 1x over 3d/6h)',
        unit: 'short',
        queries: [burn('2h'), burn('1d'), burn('3d')],
        thresholds: [[1, 'orange'], [3, 'red']],
        runbooks: ['SLOErrorBudgetBurnSlow'],
      }),
      timeSeriesPanel({
        title: 'Alerts over time',
        unit: 'short',
        queries: [{ expr: 'count by (alertname, alertstate) (ALERTS)', legend: '{{alertname}} {{alertstate}}' }],
      }),
    ],
  });
