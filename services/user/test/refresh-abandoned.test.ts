// A refresh whose caller goes away before its answer (a browser reloading the page that sent it) leaves the session
// as it was: the rotation commits only while its caller is still there, so the token the browser still holds is not
// spent behind its back (docs/api.md, "Refresh token in a cookie"). Reuse detection is untouched.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertProblem, http, registerAccount, sql } from '@ecommerce/test-support';
import { base, db, refreshAbandonedWhileWaiting, startUserServiceForFile, userServer } from './harness.js';

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
