// PostgreSQL ends the user service's connections (pg_terminate_backend: an administrator, a failover's reset, a
// restart) again and again while logins, registrations (keyed and not) and refreshes run at once. No answer may be a
// 500 or a hang: each is its final answer or 503 problem+json + Retry-After; a keyed registration sent again after
// its 503 answers 201 with one account; a refresh token rotates at most once; and afterwards every path works again.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertProblem, http, registerAccount, sql, timed, uniqueEmail } from '@ecommerce/test-support';
import { base, db, startUserServiceForFile } from './harness.js';

startUserServiceForFile();

type Answer = Awaited<ReturnType<typeof http>>;

const KILL_MS = 5_000;

describe("the user service's database connections ended again and again under load", { timeout: 120_000 }, () => {
  it('when logins, registrations and refreshes run while PostgreSQL ends the service connections every 100-300 ms, then every answer is final or 503 + Retry-After within 10 s, a keyed registration retried makes one account, no refresh token rotates twice, and everything works afterwards', async (t) => {
    const accounts = await Promise.all(Array.from({ length: 6 }, () => registerAccount(base, { tag: 'killed' })));
    const answers: { what: string; res: Answer; ms: number }[] = [];
    const send = async (what: string, fn: () => Promise<Answer>) => {
      const { res, ms } = await timed(fn);
      answers.push({ what, res, ms });
      return res;
    };
    const until = performance.now() + KILL_MS;
    let kills = 0;
    const killer = (async () => {
      while (performance.now() < until) {
        await sleep(100 + Math.random() * 200);
        const ended = await sql(db.adminUrl, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND usename = $2', [db.name, db.roles.user.role]);
        kills += ended.length;
      }
    })();
    const keyed: { key: string; body: { email: string; password: string; name: string } }[] = [];
    const rotated = new Map<string, number>();
    const worker = async (i: number) => {
      const account = accounts[i % accounts.length]!;
      while (performance.now() < until) {
        const logged = await send('login', () => http(base, 'POST', '/user/login', { body: { email: account.email, password: account.password } }));
        if (logged.status === 200) {
          const token = (logged.body as { refreshToken: string }).refreshToken;
          const refreshed = await send('refresh', () => http(base, 'POST', '/user/token/refresh', { body: { refreshToken: token } }));
          if (refreshed.status === 200) rotated.set(token, (rotated.get(token) ?? 0) + 1);
        }
        const body = { email: uniqueEmail('killed-reg'), password: 'correct-horse-1', name: 'Ada' };
        const key = randomUUID();
        keyed.push({ key, body });
        await send('register', () => http(base, 'POST', '/user/register', { body, headers: { 'idempotency-key': key } }));
      }
    };
    await Promise.all([killer, ...Array.from({ length: 6 }, (_, i) => worker(i))]);
    const byStatus = new Map<string, number>();
    for (const { what, res } of answers) byStatus.set(`${what} ${res.status}`, (byStatus.get(`${what} ${res.status}`) ?? 0) + 1);
    t.diagnostic(`${kills} backends ended; ${[...byStatus].map(([k, n]) => `${k}: ${n}`).join(', ')}`);
    assert.ok(kills > 0, 'no connection of the service was ended');
    for (const { what, res, ms } of answers) {
      assert.ok(ms < 10_000, `${what} answered ${res.status} after ${Math.round(ms)} ms`);
      if ((what === 'login' && res.status === 200) || (what === 'refresh' && res.status === 200) || (what === 'register' && res.status === 201)) continue;
      assertProblem(res, 503, 'service-unavailable');
      assert.ok(Number(res.headers.get('retry-after')) >= 1, `${what}: Retry-After ${res.headers.get('retry-after')}`);
    }
    for (const [, n] of rotated) assert.equal(n, 1);
    // A keyed registration sent again (every one, as a client that lost the answer) answers 201 with one account.
    for (const { key, body } of keyed) {
      const again = await http(base, 'POST', '/user/register', { body, headers: { 'idempotency-key': key } });
      assert.equal(again.status, 201, `${key}: ${again.status} ${again.text}`);
      const rows = await sql(db.urls.user, 'SELECT 1 FROM users.users WHERE email = $1', [body.email]);
      assert.equal(rows.length, 1);
    }
    // Afterwards every path works.
    assert.equal((await http(base, 'GET', '/readyz')).status, 200);
    const a = accounts[0]!;
    const logged = await http<{ refreshToken: string }>(base, 'POST', '/user/login', { body: { email: a.email, password: a.password } });
    assert.equal(logged.status, 200, logged.text);
    assert.equal((await http(base, 'POST', '/user/token/refresh', { body: { refreshToken: logged.body.refreshToken } })).status, 200);
  });
});
