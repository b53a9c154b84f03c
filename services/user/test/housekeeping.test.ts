// Every housekeeping pass is timed and counted (packages/kit/src/housekeeping.ts), so the alerts of
// deploy/monitoring/rules/database.yml see a prune that stopped (HousekeepingStalled) or keeps failing
// (HousekeepingFailing): the pruned-rows counters stay flat both when nothing expired and when no pass runs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, metricValue, sql, stopAll, waitFor, type TestDatabase } from '@ecommerce/test-support';
import { startUserStack } from './harness.js';

const INTERVAL_MS = 200;

let db: TestDatabase;
let user: Awaited<ReturnType<typeof startUserStack>>['user'];
before(async () => {
  ({ db, user } = await startUserStack({ REGISTER_KEY_PRUNE_INTERVAL_MS: String(INTERVAL_MS), REFRESH_TOKEN_PRUNE_INTERVAL_MS: String(INTERVAL_MS) }));
});
after(() => stopAll(user, db));

interface TaskMetrics {
  lastRun: number;
  lastSuccess: number;
  ok: number;
  failed: number;
  interval: number;
}

async function taskMetrics(task: string): Promise<TaskMetrics> {
  const text = (await http(user.base, 'GET', '/metrics')).text;
  const of = (name: string, parts: string[] = []) => metricValue(text, name, [`task="${task}"`, ...parts]);
  return {
    lastRun: of('housekeeping_last_run_timestamp_seconds'),
    lastSuccess: of('housekeeping_last_success_timestamp_seconds'),
    ok: of('housekeeping_passes_total', ['result="ok"']),
    failed: of('housekeeping_passes_total', ['result="failed"']),
    interval: of('housekeeping_interval_seconds'),
  };
}

describe('housekeeping metrics', () => {
  it('when the prunes run, then each task exports its configured interval, and its last-run and last-success times advance with every ok pass counted', async () => {
    assert.equal((await taskMetrics('registration_keys')).interval, INTERVAL_MS / 1000);
    assert.equal((await taskMetrics('refresh_tokens')).interval, INTERVAL_MS / 1000);
    assert.equal((await taskMetrics('throttle_counters')).interval, 300, 'the throttle counters are pruned every 5 minutes');
    for (const task of ['registration_keys', 'refresh_tokens']) {
      const first = await taskMetrics(task);
      assert.ok(first.lastRun > 0 && first.lastSuccess > 0, `${task}: the loop's start stands for its first pass`);
      await waitFor(`${task}: two more ok passes`, async () => (await taskMetrics(task)).ok >= first.ok + 2, 5000);
      const later = await taskMetrics(task);
      assert.ok(later.lastRun > first.lastRun, `${task}: last run ${later.lastRun} did not advance from ${first.lastRun}`);
      assert.ok(later.lastSuccess > first.lastSuccess, `${task}: last success ${later.lastSuccess} did not advance from ${first.lastSuccess}`);
      assert.ok(Math.abs(later.lastRun - Date.now() / 1000) < 5, `${task}: last run ${later.lastRun} is not a recent Unix time`);
      assert.equal(later.failed, 0);
    }
  });

  it('when the table a prune deletes from is gone, then its passes are counted failed and its last-run time advances while its last-success time stays; once back, ok passes resume', async () => {
    await sql(db.urls.user, 'ALTER TABLE users.registration_keys RENAME TO registration_keys_away');
    let broken: TaskMetrics;
    try {
      // A pass already past its DELETE may still finish ok: wait for the first failure, then watch from there.
      await waitFor('a failed pass', async () => (await taskMetrics('registration_keys')).failed >= 1, 5000);
      broken = await taskMetrics('registration_keys');
      await waitFor('two more failed passes', async () => (await taskMetrics('registration_keys')).failed >= broken.failed + 2, 5000);
      const later = await taskMetrics('registration_keys');
      assert.equal(later.lastSuccess, broken.lastSuccess, 'a failed pass moved the last-success time');
      assert.equal(later.ok, broken.ok, 'a failed pass was counted ok');
      assert.ok(later.lastRun > broken.lastRun, 'a failed pass did not move the last-run time');
      const other = await taskMetrics('refresh_tokens');
      assert.equal(other.failed, 0, "another task's passes were counted failed");
    } finally {
      await sql(db.urls.user, 'ALTER TABLE users.registration_keys_away RENAME TO registration_keys');
    }
    await waitFor('an ok pass again', async () => (await taskMetrics('registration_keys')).lastSuccess > broken.lastSuccess, 5000);
  });
});
