// A refresh whose caller goes away before its answer (a browser reloading the page that sent it) leaves the session
// as it was: the rotation commits only while its caller is still there, so the token the browser still holds is not
// spent behind its back (docs/api.md, "Refresh token in a cookie"). Reuse detection is untouched.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertProblem, databaseProxy, http, registerAccount, sql, stopAllIfItFails, type DatabaseProxy } from '@ecommerce/test-support';
import { base, db, refreshAbandonedWhileWaiting, startUserService, startUserServiceForFile, userServer } from './harness.js';

startUserServiceForFile();

interface Tokens {
  accessToken: string;
  refreshToken: string;
}

async function session(): Promise<string> {
  const { email, password } = await registerAccount(base, { tag: 'abandoned' });
  const res = await http<Tokens>(base, 'POST', '/user/login', { body: { email, password } });
  assert.equal(res.status, 200, res.text);
  return res.body.refreshToken;
}

const refresh = (token: string) => http<Tokens>(base, 'POST', '/user/token/refresh', { body: { refreshToken: token } });

/**
 * A user service whose database connection goes through a proxy (databaseProxy), with a signed-in session: `use` gets
 * the proxy, the session's refresh token and a refresh call to that service.
 */
async function withProxiedSession(tag: string, use: (proxy: DatabaseProxy, token: string, refreshThere: (token: string) => ReturnType<typeof refresh>) => Promise<void>): Promise<void> {
  const proxy = await databaseProxy(db.urls.user);
  const svc = await stopAllIfItFails(startUserService(proxy.url), proxy);
  try {
    const { email, password } = await registerAccount(svc.base, { tag });
    const login = await http<Tokens>(svc.base, 'POST', '/user/login', { body: { email, password } });
    assert.equal(login.status, 200, login.text);
    await use(proxy, login.body.refreshToken, (token) => http<Tokens>(svc.base, 'POST', '/user/token/refresh', { body: { refreshToken: token } }));
  } finally {
    await svc.close();
    await proxy.close();
  }
}

/** The family's tokens as stored: how many, how many spent, how many revoked. */
async function family(token: string) {
  const [row] = await sql<{ n: number; spent: number; revoked: number }>(
    db.urls.user,
    `SELECT count(*)::int AS n, count(spent_at)::int AS spent, count(revoked_at)::int AS revoked FROM users.refresh_tokens
      WHERE family_id = (SELECT family_id FROM users.refresh_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8')))`,
    [token],
  );
  return row!;
}

describe('a refresh whose caller goes away', () => {
  it('when the client closes the connection while its refresh waits, then the rotation is rolled back: the same token refreshes once, the session lives, and a replay still revokes it', async () => {
    const token = await session();
    await refreshAbandonedWhileWaiting(base, userServer, db.urls.user, token);
    // Waits behind the abandoned refresh's transaction (the family's lock), so it sees what that one left.
    const next = await refresh(token);
    assert.equal(next.status, 200, next.text);
    assert.deepEqual(await family(token), { n: 2, spent: 1, revoked: 0 });
    assert.equal((await refresh(next.body.refreshToken)).status, 200);
    // The contract as before: the spent token presented again is refused and ends the whole session.
    const replay = await refresh(token);
    assertProblem(replay, 401);
    assert.match(String((replay.body as { detail?: string }).detail), /already used/);
    assert.equal((await family(token)).revoked, 3);
  });

  it('when a refresh is answered and its token is presented again at once, then 401 and the whole family is revoked (no grace for a spent token)', async () => {
    const token = await session();
    const next = await refresh(token);
    assert.equal(next.status, 200, next.text);
    assertProblem(await refresh(token), 401);
    assertProblem(await refresh(next.body.refreshToken), 401);
    assert.deepEqual(await family(token), { n: 2, spent: 1, revoked: 2 });
  });
});

describe('a refresh whose COMMIT is not answered', () => {
  it("when the rotation's COMMIT reaches the database and its connection is lost before the answer, then the refresh answers the new pair, not a 503 that leaves the client a spent token (its next refresh a reuse that ends the session)", async () => {
    // The connection lost at the COMMIT (a pg_terminate_backend, a proxy or a network that drops it, a server that
    // crashed after writing it): the user service cannot tell whether it committed, and said 503 ("judged nothing").
    await withProxiedSession('commit-lost', async (proxy, token, refreshThere) => {
      const cut = proxy.cutAt('COMMIT', { at: 'sent', refuse: false });
      const res = await refreshThere(token);
      await cut;
      assert.deepEqual(await family(token), { n: 2, spent: 1, revoked: 0 }, 'the rotation committed');
      assert.equal(res.status, 200, `the refresh: ${res.status} ${res.text}`);
      const next = await refreshThere(res.body.refreshToken);
      assert.equal(next.status, 200, 'the token it answered is the live one');
      assert.deepEqual(await family(token), { n: 3, spent: 2, revoked: 0 });
    });
  });

  it('when the rotation\'s COMMIT reaches the database and the database then refuses connections for a moment, then the refresh answers the new pair once it is back, not a 503 whose retry is a reuse that ends the session', async () => {
    // Asked on another connection whether it committed, the database refused too (a restart, a failover's blip): the
    // refresh answered 503, and the client's retry with the only token it had (spent) revoked the whole session.
    await withProxiedSession('commit-lost-away', async (proxy, token, refreshThere) => {
      const cut = proxy.cutAt('COMMIT', { at: 'sent', refuse: true });
      const answer = refreshThere(token);
      await cut;
      await sleep(500);
      await proxy.restore();
      const res = await answer;
      assert.deepEqual(await family(token), { n: 2, spent: 1, revoked: 0 }, 'the rotation committed');
      assert.equal(res.status, 200, `the refresh: ${res.status} ${res.text}`);
      const next = await refreshThere(res.body.refreshToken);
      assert.equal(next.status, 200, 'the token it answered is the live one');
      assert.deepEqual(await family(token), { n: 3, spent: 2, revoked: 0 });
    });
  });

  it('when the rotation\'s COMMIT is answered and the server then ends the session (FATAL 57P01 before it is ready again: a backend terminated as it finished), then the refresh answers the new pair, not a 503 that leaves the client a spent token', async () => {
    // pg fails the COMMIT with the FATAL, a pg.DatabaseError: the kit took it for a statement the server refused
    // (statementNotRun), so the refresh never asked whether its rotation was stored, and answered 503.
    await withProxiedSession('commit-ended', async (proxy, token, refreshThere) => {
      const cut = proxy.cutAt('COMMIT', { at: 'ended', refuse: false });
      const res = await refreshThere(token);
      await cut;
      assert.deepEqual(await family(token), { n: 2, spent: 1, revoked: 0 }, 'the rotation committed');
      assert.equal(res.status, 200, `the refresh: ${res.status} ${res.text}`);
      assert.equal((await refreshThere(res.body.refreshToken)).status, 200, 'the token it answered is the live one');
    });
  });

  it('when the connection is lost before the COMMIT is sent, then 503 and the token it was sent is as it was', async () => {
    await withProxiedSession('commit-lost', async (proxy, token, refreshThere) => {
      const cut = proxy.cutAt('COMMIT', { at: 'before', refuse: false });
      const res = await refreshThere(token);
      await cut;
      assertProblem(res, 503);
      assert.deepEqual(await family(token), { n: 1, spent: 0, revoked: 0 }, 'rolled back');
      assert.equal((await refreshThere(token)).status, 200, 'the same token refreshes');
    });
  });
});
