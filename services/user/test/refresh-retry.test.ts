// A refresh whose answer was lost after its rotation committed (a browser that navigated while its page's refresh was
// on its way: the answer carrying the new cookie is dropped) can be sent again with its Idempotency-Key and is answered
// a new pair, instead of ending the session as a reuse. Without that key, a spent token is a reuse as before: the
// contract (shared API: "reuse of a spent refresh token revokes that token family") is untouched.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { assertProblem, http, registerAccount, sql } from '@ecommerce/test-support';
import { base, db, startUserServiceForFile } from './harness.js';

startUserServiceForFile();

interface Tokens {
  accessToken: string;
  refreshToken: string;
}

async function session(): Promise<string> {
  const { email, password } = await registerAccount(base, { tag: 'retry' });
  const res = await http<Tokens>(base, 'POST', '/user/login', { body: { email, password } });
  assert.equal(res.status, 200, res.text);
  return res.body.refreshToken;
}

const refresh = (token: string, key?: string) =>
  http<Tokens>(base, 'POST', '/user/token/refresh', { body: { refreshToken: token }, headers: key === undefined ? {} : { 'idempotency-key': key } });

/** A refresh that is answered; the answer's refresh token. */
async function refreshed(token: string, key?: string): Promise<string> {
  const res = await refresh(token, key);
  assert.equal(res.status, 200, res.text);
  return res.body.refreshToken;
}

/** The family's tokens as stored: how many, how many live (neither spent nor revoked), how many revoked. */
async function family(token: string) {
  const [row] = await sql<{ n: number; live: number; revoked: number }>(
    db.urls.user,
    `SELECT count(*)::int AS n, count(*) FILTER (WHERE spent_at IS NULL AND revoked_at IS NULL)::int AS live, count(revoked_at)::int AS revoked
      FROM users.refresh_tokens WHERE family_id = (SELECT family_id FROM users.refresh_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8')))`,
    [token],
  );
  return row!;
}

async function assertReuse(token: string, key?: string): Promise<void> {
  const res = await refresh(token, key);
  assertProblem(res, 401);
  assert.match(String((res.body as { detail?: string }).detail), /already used/);
  assert.equal((await family(token)).live, 0, 'the whole session is revoked');
}

describe('a refresh sent again after its answer was lost', () => {
  it('when the same token is sent again with the same Idempotency-Key, then a new pair comes back, the session lives on, and the token of the lost answer is a reuse that ends it', async () => {
    const token = await session();
    const key = randomUUID();
    const lost = await refreshed(token, key); // committed; the client never read this answer
    const again = await refreshed(token, key);
    assert.notEqual(again, lost);
    assert.deepEqual(await family(token), { n: 3, live: 1, revoked: 0 });
    const next = await refreshed(again, randomUUID());
    assert.deepEqual(await family(token), { n: 4, live: 1, revoked: 0 });
    // Whoever holds the lost answer's token forked the session: presenting it ends the session, newest token included.
    await assertReuse(lost);
    assertProblem(await refresh(next), 401);
  });

  it('when the spent token is sent without a key, or with another key, then it is a reuse as before: 401 and the whole family is revoked', async () => {
    for (const other of [undefined, randomUUID(), 'x']) {
      const token = await session();
      const fresh = await refreshed(token, randomUUID());
      await assertReuse(token, other);
      assertProblem(await refresh(fresh), 401);
    }
    // A token spent by a refresh that named no key has none to match: any key is a reuse.
    const token = await session();
    await refreshed(token);
    await assertReuse(token, randomUUID());
  });

  it('when the token the first answer carried was already used, then the same refresh sent again is a reuse: 401 and the session ends', async () => {
    const token = await session();
    const key = randomUUID();
    const first = await refreshed(token, key);
    await refreshed(first, randomUUID());
    await assertReuse(token, key);
  });

  it('when it is sent again after the retry window (120 s), then it is a reuse: 401 and the session ends', async () => {
    const token = await session();
    const key = randomUUID();
    await refreshed(token, key);
    await sql(db.urls.user, `UPDATE users.refresh_tokens SET spent_at = spent_at - interval '121 seconds' WHERE token_hash = sha256(convert_to($1, 'UTF8'))`, [token]);
    await assertReuse(token, key);
    // Just inside the window it is still the same refresh.
    const inside = await session();
    await refreshed(inside, key);
    await sql(db.urls.user, `UPDATE users.refresh_tokens SET spent_at = spent_at - interval '115 seconds' WHERE token_hash = sha256(convert_to($1, 'UTF8'))`, [inside]);
    await refreshed(inside, key);
  });

  it('when an empty or over-long key is sent, then 400 and the token is not spent', async () => {
    const token = await session();
    for (const key of ['', 'k'.repeat(256)]) assertProblem(await refresh(token, key), 400);
    assert.deepEqual(await family(token), { n: 1, live: 1, revoked: 0 });
  });

  it('when the same refresh is sent many times at once, then every answer is a pair, and exactly one token of the session is live afterwards: the last committed', async () => {
    const token = await session();
    const key = randomUUID();
    await refreshed(token, key);
    const answers = await Promise.all(Array.from({ length: 8 }, () => refresh(token, key)));
    assert.deepEqual(answers.map((a) => a.status), Array(8).fill(200));
    assert.equal((await family(token)).live, 1);
    const live = [];
    for (const a of answers) {
      const [row] = await sql<{ live: boolean }>(db.urls.user, `SELECT spent_at IS NULL AND revoked_at IS NULL AS live FROM users.refresh_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8'))`, [a.body.refreshToken]);
      if (row!.live) live.push(a.body.refreshToken);
    }
    assert.equal(live.length, 1);
    await refreshed(live[0]!);
  });

  it('for any run of answered refreshes, lost answers and their retries (property), a client that sends each lost refresh again keeps its session with one live token, and any token of a lost answer presented later ends it', async () => {
    const step = fc.oneof(fc.constant('answered' as const), fc.record({ lostTimes: fc.integer({ min: 1, max: 3 }) }));
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 5 }), fc.nat(), async (steps, pick) => {
        let current = await session();
        const lostTokens: string[] = [];
        for (const s of steps) {
          const key = randomUUID();
          if (s === 'answered') {
            current = await refreshed(current, key);
          } else {
            // The refresh goes out lostTimes times (the first and the retries whose answers were lost too), then once more, read.
            for (let i = 0; i < s.lostTimes; i++) lostTokens.push(await refreshed(current, key));
            current = await refreshed(current, key);
          }
          assert.equal((await family(current)).live, 1, 'one live token in the session');
          assert.equal((await family(current)).revoked, 0);
        }
        if (lostTokens.length > 0) {
          await assertReuse(lostTokens[pick % lostTokens.length]!);
          assertProblem(await refresh(current), 401);
        } else {
          await refreshed(current);
        }
      }),
      { numRuns: 15 },
    );
  });
});
