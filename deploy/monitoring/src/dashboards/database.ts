// (c) Database, from both sides: the services' query timings, pool and
// prunes (db_client_*, *_pruned_total, housekeeping_*), and the server's view from
// postgres_exporter (pg_*).
// pg_* series are not per service, so only the app-side panels follow the
// service/instance variables.
import { APP, OUR_DATABASES, buildDashboard, statPanel, tablePanel, timeSeriesPanel } from './common.js';

const DB = `db_client_operation_duration_seconds`;

export const database = () =>
  buildDashboard({
    uid: 'ecommerce-database',
    title: 'E-commerce / Database',
    description: 'Query latency and pool usage per service, PostgreSQL connections, transactions, cache and pg_stat_statements.',
    tags: ['database', 'postgresql'],
    panels: [
      statPanel({
        title: 'PostgreSQL up',
        queries: [{ expr: 'max by (instance) (pg_up)', legend: '{{instance}}' }],
        // 0 is down: red.
        base: 'red',
        thresholds: [[1, 'green']],
        runbooks: ['PostgresDown', 'PostgresExporterDown'],
      }),
      statPanel({
        title: 'Connections / max_connections',
        unit: 'percentunit',
        queries: [{ expr: 'sum by (instance) (pg_stat_activity_count) / max by (instance) (pg_settings_max_connections)', legend: '{{instance}}' }],
        thresholds: [[0.6, 'orange'], [0.8, 'red']],
        runbooks: ['PostgresConnectionsNearMax', 'DbConnectionBudgetExceeded'],
      }),
      statPanel({
        title: 'Cache hit ratio',
        unit: 'percentunit',
        queries: [
          {
            expr:
              `sum(rate(pg_stat_database_blks_hit{${OUR_DATABASES}}[$__range]))` +
              ` / (sum(rate(pg_stat_database_blks_hit{${OUR_DATABASES}}[$__range])) + sum(rate(pg_stat_database_blks_read{${OUR_DATABASES}}[$__range])))`,
          },
        ],
      }),
      statPanel({
        title: 'Longest open transaction',
        unit: 's',
        queries: [{ expr: 'max(pg_stat_activity_max_tx_duration)' }],
        thresholds: [[60, 'orange'], [300, 'red']],
        runbooks: ['PostgresLongRunningTransaction'],
      }),
      timeSeriesPanel({
        title: 'Query p95 by query name',
        description: 'Measured in the services around each named query (the name is the db_query_name label).',
        unit: 's',
        queries: [
          {
            expr: `histogram_quantile(0.95, sum by (service, db_query_name, le) (rate(${DB}_bucket{${APP}}[$__rate_interval])))`,
            legend: '{{service}} {{db_query_name}}',
          },
        ],
        thresholds: [[0.25, 'red']],
        runbooks: ['DbSlowQueries'],
      }),
      timeSeriesPanel({
        title: 'Queries/s by query name and outcome',
        description: 'error_type is empty for success, else the SQLSTATE class.',
        unit: 'ops',
        queries: [
          {
            expr: `sum by (service, db_query_name, error_type) (rate(${DB}_count{${APP}}[$__rate_interval]))`,
            legend: '{{service}} {{db_query_name}} {{error_type}}',
          },
        ],
      }),
      timeSeriesPanel({
        title: 'Pool: connections by state, max, waiting',
        unit: 'short',
        queries: [
          { expr: `sum by (service, instance, state) (db_client_connection_count{${APP}})`, legend: '{{service}} {{instance}} {{state}}' },
          { expr: `max by (service, instance) (db_client_connection_max{${APP}})`, legend: '{{service}} {{instance}} max' },
          { expr: `sum by (service, instance) (db_client_connection_pending_requests{${APP}})`, legend: '{{service}} {{instance}} waiting' },
        ],
        runbooks: ['DbPoolSaturated'],
      }),
      timeSeriesPanel({
        title: 'Housekeeping: expired rows pruned',
        description:
          'Rows the services delete on a timer, in batches of 1,000, at most 20 a pass: expired refresh tokens (user, every REFRESH_TOKEN_PRUNE_INTERVAL_MS) and ' +
          "stock adjustments' Idempotency-Keys past their retention (product, every STOCK_KEY_PRUNE_INTERVAL_MS), registrations' Idempotency-Keys past theirs (user, every REGISTER_KEY_PRUNE_INTERVAL_MS). Flat at 0 while logins and restocks go on: no prune runs; 20,000 every pass: it falls behind.",
        unit: 'short',
        min: 0,
        queries: [
          {
            expr: `sum by (service, instance) (increase(user_refresh_tokens_pruned_total{${APP}}[$__rate_interval]))`,
            legend: 'refresh tokens {{service}} {{instance}}',
          },
          {
            expr: `sum by (service, instance) (increase(product_stock_keys_pruned_total{${APP}}[$__rate_interval]))`,
            legend: 'stock keys {{service}} {{instance}}',
          },
          {
            expr: `sum by (service, instance) (increase(user_registration_keys_pruned_total{${APP}}[$__rate_interval]))`,
            legend: 'registration keys {{service}} {{instance}}',
          },
        ],
      }),
      timeSeriesPanel({
        title: 'Housekeeping: time since last pass vs interval',
        description:
          'Per task and replica (housekeeping_* from packages/kit/src/housekeeping.ts): seconds since its last pass finished, ok or failed, and since its last ' +
          'ok pass, beside its configured interval (housekeeping_interval_seconds). Each should fall back to near 0 every interval; one that climbs past 3 intervals ' +
          '(at least 5 minutes) is a stopped loop (HousekeepingStalled) or one whose passes all fail (HousekeepingFailing).',
        unit: 's',
        min: 0,
        queries: [
          { expr: `time() - max by (service, instance, task) (housekeeping_last_run_timestamp_seconds{${APP}})`, legend: 'since last pass {{task}} {{instance}}' },
          { expr: `time() - max by (service, instance, task) (housekeeping_last_success_timestamp_seconds{${APP}})`, legend: 'since last ok pass {{task}} {{instance}}' },
          { expr: `max by (service, task) (housekeeping_interval_seconds{${APP}})`, legend: 'interval {{task}}' },
        ],
        runbooks: ['HousekeepingStalled', 'HousekeepingFailing'],
      }),
      timeSeriesPanel({
        title: 'Housekeeping: passes by result',
        description: 'Passes finished per task and result (housekeeping_passes_total): a failed one is logged as a warning with the error and tried again next interval.',
        unit: 'short',
        min: 0,
        queries: [
          {
            expr: `sum by (service, task, result) (increase(housekeeping_passes_total{${APP}}[$__rate_interval]))`,
            legend: '{{task}} {{result}}',
          },
        ],
        runbooks: ['HousekeepingFailing'],
      }),
      timeSeriesPanel({
        title: 'Session locks lost mid-pass',
        description:
          'Session advisory locks (packages/kit/src/db.ts withSessionLock: the order audit\'s, one replica at a time) whose connection ended while the pass ran: ' +
          'its backend terminated, the server restarted, the connection cut. The lock was free for another replica; the pass was told to stop at its next step, ' +
          'and the kit logged it once ("session lock ... lost"). Should stay at 0 outside database restarts and failovers.',
        unit: 'short',
        min: 0,
        queries: [{ expr: `sum by (service, instance) (increase(db_client_session_lock_lost_total{${APP}}[$__rate_interval]))`, legend: 'locks lost {{service}} {{instance}}' }],
      }),
      timeSeriesPanel({
        title: 'Stale prepared statements after a migration',
        description:
          'Statements a connection had prepared before a migration changed the type of a column they return (SQLSTATE 0A000 "cached plan must not change result type") ' +
          'or that the server no longer had (26000), per service (db_client_stale_statements_total, packages/kit/src/db.ts). Each retires the connections open then: ' +
          'a query outside a transaction runs again on a new one, a transaction answers 503 + Retry-After once. A burst right after a migration is expected; ' +
          'a steady rate is not (something deallocates statements: a pooler in transaction mode, DISCARD ALL).',
        unit: 'short',
        min: 0,
        queries: [{ expr: `sum by (service, instance) (increase(db_client_stale_statements_total{${APP}}[$__rate_interval]))`, legend: 'stale {{service}} {{instance}}' }],
      }),
      timeSeriesPanel({
        title: 'Server connections by state',
        unit: 'short',
        queries: [
          { expr: 'sum by (state) (pg_stat_activity_count)', legend: '{{state}}' },
          { expr: 'max(pg_settings_max_connections)', legend: 'max_connections' },
        ],
      }),
      timeSeriesPanel({
        title: 'Commits and rollbacks/s',
        unit: 'ops',
        queries: [
          { expr: `sum by (datname) (rate(pg_stat_database_xact_commit{${OUR_DATABASES}}[$__rate_interval]))`, legend: 'commit {{datname}}' },
          { expr: `sum by (datname) (rate(pg_stat_database_xact_rollback{${OUR_DATABASES}}[$__rate_interval]))`, legend: 'rollback {{datname}}' },
        ],
      }),
      timeSeriesPanel({
        title: 'Cache hit ratio by database',
        unit: 'percentunit',
        max: 1,
        queries: [
          {
            expr:
              `sum by (datname) (rate(pg_stat_database_blks_hit{${OUR_DATABASES}}[$__rate_interval]))` +
              ` / (sum by (datname) (rate(pg_stat_database_blks_hit{${OUR_DATABASES}}[$__rate_interval])) + sum by (datname) (rate(pg_stat_database_blks_read{${OUR_DATABASES}}[$__rate_interval])))`,
            legend: '{{datname}}',
          },
        ],
      }),
      timeSeriesPanel({
        title: 'Deadlocks',
        description: 'Locks are taken in product-id order, so this should stay at 0 (alert PostgresDeadlocks).',
        unit: 'short',
        queries: [{ expr: `sum by (datname) (increase(pg_stat_database_deadlocks{${OUR_DATABASES}}[$__rate_interval]))`, legend: '{{datname}}' }],
        thresholds: [[1, 'red']],
        runbooks: ['PostgresDeadlocks'],
      }),
      timeSeriesPanel({
        title: 'Longest transaction by state',
        unit: 's',
        queries: [{ expr: 'max by (datname, state) (pg_stat_activity_max_tx_duration)', legend: '{{datname}} {{state}}' }],
      }),
      tablePanel({
        title: 'Top statements by total time (pg_stat_statements)',
        description: 'Execution seconds per second over the range: the statements where the server spends its time.',
        width: 24,
        unit: 's',
        queries: [
          { expr: 'topk(10, sum by (datname, rolname, query) (rate(pg_stat_statements_exec_seconds[$__range])))' },
        ],
      }),
      tablePanel({
        title: 'Top statements by calls/s',
        unit: 'ops',
        queries: [{ expr: 'topk(10, sum by (datname, rolname, query) (rate(pg_stat_statements_calls[$__range])))' }],
      }),
      tablePanel({
        title: 'Slowest statements (mean)',
        unit: 's',
        queries: [{ expr: 'topk(10, max by (datname, rolname, query) (pg_stat_statements_mean_exec_seconds))' }],
      }),
    ],
  });
