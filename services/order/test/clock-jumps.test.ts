// The order service's waits and schedules when the wall clock steps (NTP correcting a drifted clock, a VM resumed, an
// operator's date -s): durations are measured on the monotonic clock, so a step back cannot stretch them. The drive
// lease itself is the database's (now() in SQL), not this process's. Date.now is stepped in-process: the only way to
// move a clock without moving the machine's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import { Reconciler } from '../src/background/reconciler.js';
import type { OrderRow } from '../src/model/order.js';
import type { OrderDeps } from '../src/use-cases/order-deps.js';
import { settleOrAwait } from '../src/use-cases/settle-order.js';

const HOUR_MS = 3_600_000;
const silent = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined, trace: () => undefined, fatal: () => undefined } as unknown as FastifyBaseLogger;

/** Runs fn with Date.now stepped by `stepMs` once `step()` is called; the real clock is back afterwards. */
async function withSteppableClock<T>(fn: (step: (stepMs: number) => void) => Promise<T>): Promise<T> {
  const realNow = Date.now;
  let offset = 0;
  Date.now = () => realNow() + offset;
  try {
    return await fn((stepMs) => (offset += stepMs));
  } finally {
    Date.now = realNow;
  }
}

describe('a wall clock that steps back', () => {
  it('when it steps back an hour while a retry waits for another driver, then the retry still answers after one driver wait (503 + Retry-After), not an hour later', async () => {
    const started = performance.now();
    const row = { id: '01a24436-77f4-73d9-8368-6089f0d2a75f', status: 'pending' } as OrderRow;
    const result = await withSteppableClock(async (step) => {
      let stepped = false;
      const repository = {
        claimDrive: async () => {
          if (!stepped) {
            stepped = true;
            step(-HOUR_MS);
          }
          return null; // a dead driver holds the lease
        },
        findById: async () => {
          // Bounds the test (before the fix the wait ran for the hour the clock went back).
          if (performance.now() - started > 5_000) throw new Error('still waiting 5 s in: the wait is measured on the wall clock');
          return row;
        },
        leaseLeftMs: async () => 7_000,
      };
      return settleOrAwait({ repository, driverWaitMs: 300, driveLeaseMs: 13_000 } as unknown as OrderDeps, row, {} as never);
    });
    const tookMs = performance.now() - started;
    assert.equal(result.retryAfterSeconds, 7);
    assert.ok(tookMs >= 250 && tookMs < 2_000, `answered after ${Math.round(tookMs)} ms (driver wait 300 ms)`);
  });

  it('when it steps back an hour after the reconciler started, then the audit still runs after its interval, not an hour later', async () => {
    let audits = 0;
    const repository = {
      claimOverdue: async () => [],
      pruneUsage: async () => undefined,
      withAuditLock: async () => {
        audits++;
        return { reservationWithoutOrder: 0, orderWithoutReservation: 0 };
      },
    };
    await withSteppableClock(async (step) => {
      const reconciler = new Reconciler({ repository } as unknown as OrderDeps, silent, 20, 200);
      step(-HOUR_MS);
      reconciler.start();
      try {
        await sleep(1_000);
      } finally {
        await reconciler.stop();
      }
    });
    assert.ok(audits >= 2, `${audits} audits in 1 s at a 200 ms interval`);
  });
});
