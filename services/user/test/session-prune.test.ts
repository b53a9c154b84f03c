// Expired refresh tokens are deleted (REFRESH_TOKEN_PRUNE_INTERVAL_MS, background/prune-sessions.ts): every login and
// every refresh writes one, and before the prune they stayed forever. What the prune must not touch: a spent token
// still inside its lifetime (its reuse ends the session) and the family of a token without session_started_at.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { uuidv7 } from '@ecommerce/kit';
import { assertProblem, http, metricValue, registerAccount, sql, stopAll, waitFor, type TestDatabase } from '@ecommerce/test-support';
import { startUserStack } from './harness.js';

const MAX_AGE = 2;

interface Tokens {
  refreshToken: string;
}

let db: TestDatabase;
let user: Awaited<ReturnType<typeof startUserStack>>['user'];
let base: string;
before(async () => {
  ({ db, user } = await startUserStack({ SESSION_MAX_AGE_SECONDS: String(MAX_AGE), REFRESH_TOKEN_PRUNE_INTERVAL_MS: '200' }));
  base = user.base;
});
after(() => stopAll(user, db));

const tokensOf = async (userId: string) =>
  (await sql<{ n: number }>(db.urls.user, 'SELECT count(*)::int AS n FROM users.refresh_tokens WHERE user_id = $1', [userId]))[0]!.n;

async function login(credentials: { email: string; password: string }): Promise<Tokens> {
  const res = await http<Tokens>(base, 'POST', '/user/login', { body: credentials });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

describe('pruning expired refresh tokens', () => {
  it('when sessions log in and refresh, then their tokens are deleted once expired, not kept forever, and user_refresh_tokens_pruned_total counts each', async () => {
    const { id, email, password } = await registerAccount(base, { tag: 'prune' });
    const stored = async () => (await sql<{ n: number }>(db.urls.user, 'SELECT count(*)::int AS n FROM users.refresh_tokens'))[0]!.n;
    const prunedSoFar = async () => metricValue((await http(base, 'GET', '/metrics')).text, 'user_refresh_tokens_pruned_total');
    assert.equal(await stored(), 0, 'no token stored before the first login of the file');
    const prunedBefore = await prunedSoFar();
    const sessions = [];
    for (let i = 0; i < 5; i++) sessions.push(await login({ email, password }));
    const r = await http<Tokens>(base, 'POST', '/user/token/refresh', { body: { refreshToken: sessions[0]!.refreshToken } });
    assert.equal(r.status, 200, r.text);
    assert.equal(await tokensOf(id), 6, 'five logins and one refresh wrote six tokens');
    // The sessions end MAX_AGE s after their logins; a prune pass runs every 200 ms.
    await waitFor('expired refresh tokens pruned', async () => (await tokensOf(id)) === 0, MAX_AGE * 1000 + 3000).catch(async (err: unknown) => {
      assert.fail(`${await tokensOf(id)} expired refresh tokens still stored ${MAX_AGE + 3} s after their sessions ended (${String(err)})`);
    });
    // docs/configuration.md: the counter is the rows the prune deleted, these six and no other.
    assert.equal(await stored(), 0);
    assert.equal((await prunedSoFar()) - prunedBefore, 6, 'user_refresh_tokens_pruned_total moved by the tokens deleted');
    // A pruned token answers as an expired one did.
    assert.match(String(assertProblem(await http(base, 'POST', '/user/token/refresh', { body: { refreshToken: r.body.refreshToken } }), 401).detail), /Invalid or expired/);
  });

  it('when a spent token of a live session is presented after prune passes, then it is still a reuse and ends the session', async () => {
    const { email, password } = await registerAccount(base, { tag: 'prune-reuse' });
    const first = await login({ email, password });
    const second = await http<Tokens>(base, 'POST', '/user/token/refresh', { body: { refreshToken: first.refreshToken } });
    assert.equal(second.status, 200, second.text);
    await sleep(600); // three passes, all inside the session's MAX_AGE s
    assert.match(String(assertProblem(await http(base, 'POST', '/user/token/refresh', { body: { refreshToken: first.refreshToken } }), 401).detail), /already used/);
    assertProblem(await http(base, 'POST', '/user/token/refresh', { body: { refreshToken: second.body.refreshToken } }), 401);
  });

  it('when a family has a live token without session_started_at (written by an older replica), then its expired first token is kept, since its start is read from it', async () => {
    const { id } = await registerAccount(base, { tag: 'prune-legacy' });
    const family = uuidv7();
    await sql(db.urls.user,
      `INSERT INTO users.refresh_tokens (token_hash, family_id, user_id, role, session_started_at, expires_at, spent_at, created_at)
       VALUES ($1, $3, $4, 'customer', now() - interval '1 hour', now() - interval '1 minute', now() - interval '30 minutes', now() - interval '1 hour'),
              ($2, $3, $4, 'customer', NULL, now() + interval '1 hour', NULL, now() - interval '30 minutes')`,
      [randomBytes(32), randomBytes(32), family, id]);
    const gone = uuidv7();
    await sql(db.urls.user,
      `INSERT INTO users.refresh_tokens (token_hash, family_id, user_id, role, session_started_at, expires_at, created_at)
       VALUES ($1, $2, $3, 'customer', now() - interval '1 hour', now() - interval '1 minute', now() - interval '1 hour')`,
      [randomBytes(32), gone, id]);
    await waitFor('the other expired token pruned', async () => (await sql(db.urls.user, 'SELECT 1 FROM users.refresh_tokens WHERE family_id = $1', [gone])).length === 0, 3000);
    assert.equal((await sql(db.urls.user, 'SELECT 1 FROM users.refresh_tokens WHERE family_id = $1', [family])).length, 2);
  });
});
