// More refreshes and logouts than the pool holds, all of one session whose lock another session holds (a hand-run
// fix, a stuck transaction; a refresh or logout of that session that is itself slow): each waited in PostgreSQL on a
// pooled connection, for up to the 8 s statement timeout. A client sending its refresh again and again (every tab
// of a browser, a script) with more of them than DB_POOL_MAX (10) held every connection, and the rest of the service
// waited out the pool's 5 s queue and answered 503: /user/me, another customer's login. The share of the pool lock
// waits may hold (8 of 10) kept /user/me and logins answered, but one held session still took all 8, and every other
// customer's refresh and logout waited behind them for the share and answered 503 after 5 s. Now one of the session's
// refreshes and logouts at a time waits in PostgreSQL (a turn per session in the process): the held session costs
// one connection, the others are answered at once, each piled request answers 503 + Retry-After while the session is
// still held, and the session works once it is let go.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertProblem, holdSessionLock, http, registerAccount, timed, waitFor, type Timed } from '@ecommerce/test-support';
import { base, db, startUserServiceForFile } from './harness.js';

startUserServiceForFile();

type Answer = Awaited<ReturnType<typeof http>>;

async function signedIn(tag: string) {
  const { email, password } = await registerAccount(base, { tag });
  const res = await http<{ accessToken: string; refreshToken: string }>(base, 'POST', '/user/login', { body: { email, password } });
  assert.equal(res.status, 200, res.text);
  return { email, password, ...res.body };
}

const refresh = (refreshToken: string) => http<{ refreshToken: string }>(base, 'POST', '/user/token/refresh', { body: { refreshToken } });

/** How long the session is held: past the statement timeout (8 s), so each piled request is answered while it is held. */
const HOLD_MS = 9_000;
/** How many of the pool's connections the held session's piled requests may hold at once: the one whose turn it is. */
const HELD_SESSION_CONNECTIONS = 1;

describe('more refreshes and logouts than the pool holds, all behind one held session', { timeout: 120_000 }, () => {
  it("when a session's refreshes and logouts (24, with its current token and the one before it) pile up past the pool (DB_POOL_MAX 10) while another session holds its lock, then at most one of them waits in PostgreSQL at a time, /user/me, another customer's login, refresh and logout and /readyz are answered at once meanwhile (a login or refresh within 2 s, the others 1 s), each piled request answers 503 + Retry-After while the session is still held, and the session refreshes once it is let go", async (t) => {
    const held = await signedIn('pileup');
    const other = await signedIn('bystander');
    const leaving = await signedIn('bystander-out');
    // A tab that missed the session's last rotation still sends the token before it: the same session, another row.
    const rotated = await refresh(held.refreshToken);
    assert.equal(rotated.status, 200, rotated.text);
    const tokens = [held.refreshToken, rotated.body.refreshToken];
    const lock = await holdSessionLock(db.urls.user, tokens[1]!);
    const piled: Promise<Timed<Answer>>[] = [];
    // Each with the time it may take: a login hashes a password (argon2id, a few hundred ms on a busy machine).
    const reads: Promise<Timed<Answer> & { what: string; withinMs: number }>[] = [];
    const read = (what: string, withinMs: number, send: () => Promise<Answer>) => reads.push(timed(send).then((r) => ({ ...r, what, withinMs })));
    let mostWaiting = 0;
    let releasedAt: number;
    try {
      for (let i = 0; i < 12; i++) piled.push(timed(() => refresh(tokens[i % 2]!)));
      for (let i = 0; i < 12; i++) piled.push(timed(() => http(base, 'POST', '/user/logout', { body: { refreshToken: tokens[i % 2] } })));
      await waitFor('a refresh or logout waiting on the session', async () => (await lock.waiters()) >= 1);
      const until = performance.now() + HOLD_MS;
      // The connections the piled requests hold: each one waiting in PostgreSQL holds one.
      const watch = (async () => {
        while (performance.now() < until) {
          mostWaiting = Math.max(mostWaiting, await lock.waiters());
          await sleep(100);
        }
      })();
      // Another customer's session, refreshed one at a time (each spends the token the last one issued).
      const refreshes = (async () => {
        let token = other.refreshToken;
        while (performance.now() < until) {
          const r = await timed(() => refresh(token));
          reads.push(Promise.resolve({ ...r, what: 'refresh', withinMs: 2_000 }));
          if (r.res.status !== 200) break;
          token = (r.res.body as { refreshToken: string }).refreshToken;
          await sleep(500);
        }
      })();
      for (let i = 0; performance.now() < until; i++) {
        await sleep(500);
        // Another customer's session signs out meanwhile.
        if (i === 2) read('logout', 1_000, () => http(base, 'POST', '/user/logout', { body: { refreshToken: leaving.refreshToken } }));
        read('/user/me', 1_000, () => http(base, 'GET', '/user/me', { token: other.accessToken }));
        read('login', 2_000, () => http(base, 'POST', '/user/login', { body: { email: other.email, password: other.password } }));
        read('/readyz', 1_000, () => http(base, 'GET', '/readyz'));
      }
      await Promise.all([watch, refreshes]);
      await Promise.all(reads);
    } finally {
      releasedAt = performance.now();
      await lock.release();
    }
    const others = await Promise.all(reads);
    const said = others.map(({ what, res, ms }) => `${what} ${res.status} in ${Math.round(ms)} ms`).join(', ');
    t.diagnostic(`others: ${said}`);
    const answered = await Promise.all(piled);
    t.diagnostic(`piled: ${answered.map(({ res, ms }) => `${res.status} in ${Math.round(ms)} ms`).join(', ')}`);
    t.diagnostic(`most waiting in PostgreSQL on the held session at once: ${mostWaiting}`);
    assert.ok(mostWaiting <= HELD_SESSION_CONNECTIONS, `${mostWaiting} refreshes and logouts of the held session waited in PostgreSQL at once, each on a pooled connection`);
    assert.ok(
      others.every(({ res, ms, withinMs }) => [200, 204].includes(res.status) && ms < withinMs),
      `/user/me, another customer's login, refresh and logout and /readyz behind the held session answered: ${said}`,
    );
    for (const { res, ms, at } of answered) {
      assert.ok(at < releasedAt, `a piled request answered ${res.status} after ${Math.round(ms)} ms, once the session was let go`);
      assertProblem(res, 503, 'service-unavailable');
      assert.ok(Number(res.headers.get('retry-after')) >= 1, `Retry-After ${res.headers.get('retry-after')}`);
    }
    // Nothing piled went through (no rotation, no reuse, no logout): let go, the session's current token refreshes.
    const again = await refresh(tokens[1]!);
    assert.equal(again.status, 200, again.text);
  });
});
