// PoolShare: at most limit() runs at once, the others in arrival order, each bounded in its wait.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { KeyedTurns, POOL_SHARE_FULL, PoolShare, lockWaitShare } from '../src/pool-share.js';

describe('the share of the pool lock waits may hold', () => {
  it('when the pool has N connections, then lock waits may hold all of a pool of one, else all but a quarter and at least one', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 8, 10, 20, 200].map(lockWaitShare), [1, 1, 2, 3, 4, 6, 8, 15, 150]);
    for (let max = 2; max <= 200; max++) {
      const share = lockWaitShare(max);
      assert.ok(share >= 1 && share < max, `${max}: ${share}`);
    }
  });

  it('when runs of any length arrive in any order under a limit that may change, then no more than the limit run at once, turns go in arrival order, and every run either runs or is refused after its wait', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ after: fc.integer({ min: 0, max: 5 }), takes: fc.integer({ min: 0, max: 8 }), fails: fc.boolean() }), { minLength: 1, maxLength: 25 }),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 6 }),
        async (runs, limits) => {
          let limitAt = 0;
          const limit = () => limits[Math.min(limitAt, limits.length - 1)]!;
          const share = new PoolShare(limit, 40);
          let running = 0;
          const started: number[] = [];
          const outcomes = await Promise.all(
            runs.map(async (run, i) => {
              await sleep(run.after);
              const queuedBehind = share.waiting;
              try {
                return await share.run(async () => {
                  running++;
                  started.push(i);
                  // The limit as it is when the run starts: a lowered one is not yet reached by those already running.
                  assert.ok(running <= Math.max(limit(), ...limits), `${running} running, limit ${limit()}`);
                  limitAt++;
                  await sleep(run.takes);
                  running--;
                  if (run.fails) throw new Error('the run failed');
                  return 'ran';
                });
              } catch (err) {
                return (err as Error).message === POOL_SHARE_FULL ? `refused behind ${queuedBehind}` : 'failed';
              }
            }),
          );
          for (const [i, outcome] of outcomes.entries()) {
            const run = runs[i]!;
            assert.ok(outcome === (run.fails ? 'failed' : 'ran') || outcome.startsWith('refused'), `${i}: ${outcome}`);
          }
          assert.equal(running, 0);
          assert.equal(share.waiting, 0, 'no waiter left behind');
        },
      ),
      { numRuns: 150 },
    );
  });

  it('when the limit holds still, then at most that many run at once and those that waited start in arrival order', async () => {
    const share = new PoolShare(() => 2, 1_000);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        share.run(async () => {
          order.push(i);
          most = Math.max(most, ++running);
          await sleep(5);
          running--;
        }),
      ),
    );
    assert.equal(most, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('when a run waits past its bound, then it is refused with the pool-full message, never runs, and the next waiter still gets its turn', async () => {
    const share = new PoolShare(() => 1, 30);
    let release!: () => void;
    const holding = share.run(() => new Promise<void>((r) => (release = r)));
    let ranLate = false;
    const late = share.run(async () => {
      ranLate = true;
    });
    await assert.rejects(late, new Error(POOL_SHARE_FULL));
    assert.equal(share.waiting, 0);
    const next = share.run(async () => 'next');
    release();
    await holding;
    assert.equal(await next, 'next');
    assert.equal(ranLate, false);
  });

  it('when the limit is raised while runs wait (a capped pool given back its size), then the waiters fill it at the next leave, not one at a time', async () => {
    let limit = 1;
    const share = new PoolShare(() => limit, 1_000);
    let running = 0;
    let most = 0;
    const run = (ms: number) =>
      share.run(async () => {
        most = Math.max(most, ++running);
        await sleep(ms);
        running--;
      });
    const first = run(20);
    const waiters = [run(50), run(50), run(50)];
    limit = 3;
    await Promise.all([first, ...waiters]);
    assert.equal(most, 3);
  });
});

describe('KeyedTurns: one run per key at a time', () => {
  it('when runs of one key pile up behind a run that does not end, then the others of that key wait (counted) and are refused past their bound, and runs of other keys go on at once', async () => {
    const turns = new KeyedTurns(40);
    let release!: () => void;
    const holding = turns.run('row-a', () => new Promise<void>((r) => (release = r)));
    let ranLate = 0;
    const late = Array.from({ length: 3 }, () => turns.run('row-a', async () => void ranLate++));
    assert.equal(turns.waiting, 3);
    assert.equal(await turns.run('row-b', async () => 'other row'), 'other row');
    for (const l of late) await assert.rejects(l, new Error(POOL_SHARE_FULL));
    assert.equal(turns.waiting, 0);
    assert.equal(ranLate, 0);
    const next = turns.run('row-a', async () => 'next');
    release();
    await holding;
    assert.equal(await next, 'next');
  });

  it('when runs of one key come at once, then they run one after the other in arrival order', async () => {
    const turns = new KeyedTurns(1_000);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        turns.run('row', async () => {
          order.push(i);
          most = Math.max(most, ++running);
          await sleep(5);
          running--;
        }),
      ),
    );
    assert.equal(most, 1);
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
  });
});
