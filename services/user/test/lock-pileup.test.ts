// More refreshes and logouts than the pool holds, all of one session whose lock another session holds (a hand-run
// fix, a stuck transaction; a refresh or logout of that session that is itself slow): each waits in PostgreSQL on a
// pooled connection, for up to the 8 s statement timeout. A client sending its refresh again and again (every tab
// of a browser, a script) with more of them than DB_POOL_MAX (10) held every connection, and the rest of the service
// waited out the pool's 5 s queue and answered 503: /user/me, another customer's login. They are answered at once
// meanwhile; each refresh and logout answers as it would, or 503 + Retry-After, and the session is never forked.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertProblem, holdSessionLock, http, registerAccount, waitFor } from '@ecommerce/test-support';
import { base, db, startUserServiceForFile } from './harness.js';

startUserServiceForFile();

type Answer = Awaited<ReturnType<typeof http>>;

async function timed(send: () => Promise<Answer>): Promise<{ res: Answer; ms: number }> {
  const t0 = performance.now();
  const res = await send();
  return { res, ms: performance.now() - t0 };
}

async function signedIn(tag: string) {
  const { email, password } = await registerAccount(base, { tag });
  const res = await http<{ accessToken: string; refreshToken: string }>(base, 'POST', '/user/login', { body: { email, password } });
  assert.equal(res.status, 200, res.text);
  return { email, password, ...res.body };
}

describe('more refreshes and logouts than the pool holds, all behind one held session', { timeout: 120_000 }, () => {
  it("when a session's refreshes and logouts pile up past the pool (DB_POOL_MAX 10) while another session holds its lock, then /user/me, another customer's login and /readyz are answered at once meanwhile (a login within 2 s, the others 1 s), each of them answers as it would or 503 + Retry-After, and at most one refresh rotates the session", async (t) => {
    const [held, other] = await Promise.all([signedIn('pileup'), signedIn('bystander')]);
    const lock = await holdSessionLock(db.urls.user, held.refreshToken);
    const refreshes: Promise<{ res: Answer; ms: number }>[] = [];
    const logouts: Promise<{ res: Answer; ms: number }>[] = [];
    // Each with the time it may take: a login hashes a password (argon2id, a few hundred ms on a busy machine).
    const reads: Promise<{ res: Answer; ms: number; what: string; withinMs: number }>[] = [];
    const read = (what: string, withinMs: number, send: () => Promise<Answer>) => reads.push(timed(send).then((r) => ({ ...r, what, withinMs })));
    try {
      const body = { refreshToken: held.refreshToken };
      for (let i = 0; i < 12; i++) refreshes.push(timed(() => http(base, 'POST', '/user/token/refresh', { body })));
      for (let i = 0; i < 12; i++) logouts.push(timed(() => http(base, 'POST', '/user/logout', { body })));
      // As many as may hold a connection at once wait on the lock (8 of 10 with the share; before, all 10).
      await waitFor('8 refreshes and logouts waiting on the session', async () => (await lock.waiters()) >= 8);
      for (let i = 0; i < 6; i++) {
        await sleep(250);
        read('/user/me', 1_000, () => http(base, 'GET', '/user/me', { token: other.accessToken }));
        read('login', 2_000, () => http(base, 'POST', '/user/login', { body: { email: other.email, password: other.password } }));
        read('/readyz', 1_000, () => http(base, 'GET', '/readyz'));
      }
      await Promise.all(reads);
    } finally {
      await lock.release();
    }
    const others = await Promise.all(reads);
    const said = others.map(({ what, res, ms }) => `${what} ${res.status} in ${Math.round(ms)} ms`).join(', ');
    t.diagnostic(`others: ${said}`);
    assert.ok(
      others.every(({ res, ms, withinMs }) => res.status === 200 && ms < withinMs),
      `/user/me, another login and /readyz behind the held session answered: ${said}`,
    );
    const refreshed = await Promise.all(refreshes);
    const loggedOut = await Promise.all(logouts);
    t.diagnostic(`refreshes: ${refreshed.map(({ res, ms }) => `${res.status} in ${Math.round(ms)} ms`).join(', ')}`);
    t.diagnostic(`logouts: ${loggedOut.map(({ res, ms }) => `${res.status} in ${Math.round(ms)} ms`).join(', ')}`);
    for (const [{ res }, answers] of [...refreshed.map((r) => [r, [200, 401]] as const), ...loggedOut.map((r) => [r, [204, 401]] as const)]) {
      if ((answers as readonly number[]).includes(res.status)) continue;
      assertProblem(res, 503, 'service-unavailable');
      assert.ok(Number(res.headers.get('retry-after')) >= 1, `Retry-After ${res.headers.get('retry-after')}`);
    }
    assert.ok(refreshed.filter(({ res }) => res.status === 200).length <= 1, 'the session was rotated more than once: forked');
  });
});
