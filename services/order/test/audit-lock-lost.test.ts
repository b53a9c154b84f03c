// The audit runs in one replica at a time, under a session advisory lock on a connection of its own. That connection
// ending mid-audit (its backend terminated, the server restarted) frees the lock for another replica: the audit must
// learn it and stop, not go on beside the next holder. Real order and product services and PostgreSQL; the audit run
// on demand (the reconciler's timer is off); only this test's own order-service backend is terminated.
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { describe, it } from 'node:test';
import { http, metricValue, sql, stopAllIfItFails, waitFor } from '@ecommerce/test-support';
import { startProductService } from '@ecommerce/product-service/testing';
import type { AuditResult } from '../src/background/reconciler.js';
import { startOrderService } from './harness.js';
import { db, startUserSideForFile, user } from './user-side.js';

startUserSideForFile();

/** The order repository's audit lock key (services/order/src/data/order-repository.ts). */
const AUDIT_LOCK = 0x6f617564;

describe('the audit whose lock connection ends mid-pass', () => {
  it('when the audit lock\'s backend is terminated while the audit waits on the product service, then the audit stops with SessionLockLost once the answer comes, another audit runs meanwhile, and the loss is on /metrics', { timeout: 60_000 }, async () => {
    const product = await startProductService(db.urls.product, user.base);
    // In front of the product service: the first list of held reservations is held back until the test lets it go.
    let listing = 0;
    let letGo: () => void = () => undefined;
    const held = new Promise<void>((r) => (letGo = r));
    const proxy = createHttpServer(async (req, res) => {
      if (req.url?.startsWith('/internal/reservations?') && listing++ === 0) await held;
      const answer = await fetch(`${product.base}${req.url}`, { method: req.method, headers: { authorization: req.headers.authorization ?? '' } });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await answer.arrayBuffer()));
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const o = await stopAllIfItFails(startOrderService(db.urls.order, user.base, `http://127.0.0.1:${(proxy.address() as { port: number }).port}`, { RECONCILER_ENABLED: 'false' }), product, proxy);
    try {
      const reconciler = (o.app as unknown as { reconciler: { auditOnce(): Promise<AuditResult | null> } }).reconciler;
      const [{ name }] = (await sql<{ name: string }>(db.urls.order, 'SELECT current_database() AS name')) as [{ name: string }];
      const first = reconciler.auditOnce().then(
        (value) => ({ value, err: undefined }),
        (err: Error) => ({ value: undefined, err }),
      );
      await waitFor('the audit to ask for the held reservations', async () => listing > 0);
      const killed = await sql<{ done: boolean }>(
        db.adminUrl,
        `SELECT pg_terminate_backend(a.pid, 5000) AS done FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.objid = $1 AND a.application_name = 'order-service' AND a.datname = $2`,
        [AUDIT_LOCK, name],
      );
      assert.deepEqual(killed, [{ done: true }], 'the audit lock\'s backend was found and terminated');
      // The lock is free: another audit (here the same process, as another replica would) takes it and runs.
      assert.deepEqual(await reconciler.auditOnce(), { reservationWithoutOrder: 0, orderWithoutReservation: 0 }, 'a second audit ran');
      letGo();
      const { value, err } = await first;
      assert.equal(err?.name, 'SessionLockLost', `the first audit stopped, it did not go on to ${JSON.stringify(value)}`);
      const metrics = (await http(o.base, 'GET', '/metrics')).text;
      assert.equal(metricValue(metrics, 'db_client_session_lock_lost_total', []), 1);
      assert.ok(await reconciler.auditOnce(), 'the audit runs again afterwards');
    } finally {
      letGo();
      await o.close();
      await product.close();
      proxy.closeAllConnections();
      proxy.close();
    }
  });
});
