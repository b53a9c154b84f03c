// Work a service does on a timer to keep its tables bounded (the prunes): every pass timed and counted, so an alert
// can tell a loop that stopped (HousekeepingStalled) or keeps failing (HousekeepingFailing) from one that merely
// found nothing to delete. The pruned-rows counters cannot: they stay flat both when nothing expired and when no
// pass runs. The intervals are exported too, since they are configurable: the alerts compare against them.
import type { Counter, Gauge } from 'prom-client';
import type { Metrics } from './metrics.js';
import type { App } from './server.js';
import { MAX_TIMER_MS } from './config.js';

export interface HousekeepingTask {
  /** The `task` label of its metrics, snake_case: what it keeps bounded (`refresh_tokens`, `stock_keys`). */
  task: string;
  intervalMs: number;
  /** One pass; a rejection is a failed pass: logged as a warning (`<what> failed`), counted, tried again next interval. */
  pass: () => Promise<void>;
  /** For the warning of a failed pass: `<what> failed`. */
  what: string;
}

interface HousekeepingMetrics {
  passes: Counter<'task' | 'result'>;
  lastRun: Gauge<'task'>;
  lastSuccess: Gauge<'task'>;
  interval: Gauge<'task'>;
}

// One set per registry (Metrics.sharedCounter, sharedGauge): every task of a service (and every app a process builds on
// one Metrics) shares the families.
function housekeepingMetrics(metrics: Metrics): HousekeepingMetrics {
  return {
    passes: metrics.sharedCounter('housekeeping_passes_total', 'Housekeeping passes finished, by task and result (ok, failed).', ['task', 'result']),
    lastRun: metrics.sharedGauge(
      'housekeeping_last_run_timestamp_seconds',
      'Unix time the last pass of the task finished, ok or failed (the loop start before its first pass).',
      ['task'],
    ),
    lastSuccess: metrics.sharedGauge(
      'housekeeping_last_success_timestamp_seconds',
      'Unix time the last pass of the task finished without error (the loop start before its first).',
      ['task'],
    ),
    interval: metrics.sharedGauge('housekeeping_interval_seconds', 'Configured time between two passes of the task.', ['task']),
  };
}

/**
 * Runs `pass` every intervalMs until the app closes. A pass still running when the next is due is not overlapped (that
 * one is skipped; a pass that never ends stops the task, which the last-run time shows). The timer does not keep the
 * process alive.
 */
export function housekeepEvery(app: App, { task, intervalMs, pass, what }: HousekeepingTask): void {
  // Node runs a longer interval every millisecond (a TimeoutOverflowWarning): a prune 2,300 times a second.
  if (!Number.isInteger(intervalMs) || intervalMs < 1 || intervalMs > MAX_TIMER_MS) {
    throw new RangeError(`${task}: interval ${intervalMs} ms is not a whole number from 1 to ${MAX_TIMER_MS}`);
  }
  const m = housekeepingMetrics(app.metrics);
  const now = () => Date.now() / 1000;
  m.interval.set({ task }, intervalMs / 1000);
  // Before the first pass, the loop's start stands for it: a loop that never finishes one still ages.
  m.lastRun.set({ task }, now());
  m.lastSuccess.set({ task }, now());
  m.passes.inc({ task, result: 'ok' }, 0);
  m.passes.inc({ task, result: 'failed' }, 0);
  let running = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      await pass();
      m.passes.inc({ task, result: 'ok' });
      m.lastSuccess.set({ task }, now());
    } catch (err) {
      m.passes.inc({ task, result: 'failed' });
      app.log.warn({ err, task }, `${what} failed`);
    } finally {
      m.lastRun.set({ task }, now());
      running = false;
    }
  };
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
}
