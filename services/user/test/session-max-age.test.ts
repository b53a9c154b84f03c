// A session's absolute lifetime (docs/api.md, SESSION_MAX_AGE_SECONDS; OWASP Session Management Cheat Sheet: an
// absolute timeout besides the idle one): a token family that keeps refreshing still ends MAX_AGE after its login.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { uuidv7 } from '@ecommerce/kit';
import { assertProblem, http, registerAccount, sql, stopAll, type TestDatabase } from '@ecommerce/test-support';
import { SessionRepository } from '../src/data/session-repository.js';
import { newRefreshToken, refreshTokenDigest } from '../src/model/session.js';
import { startUserStack } from './harness.js';

const MAX_AGE = 3;
const NAME = '__Secure-refresh-token';

interface Tokens {
  accessToken: string;
  refreshToken?: string;
  expiresIn: number;
}

let db: TestDatabase;
let user: Awaited<ReturnType<typeof startUserStack>>['user'];
let base: string;
before(async () => {
  ({ db, user } = await startUserStack({ SESSION_MAX_AGE_SECONDS: String(MAX_AGE) }));
  base = user.base;
});
after(() => stopAll(user, db));

async function account() {
  const { email, password, id } = await registerAccount(base, { tag: 'maxage' });
  return { id, credentials: { email, password } };
}

/** The Max-Age of each refresh cookie a response sets (one per path), and its value. */
function cookieOf(headers: Headers): { token: string; maxAges: number[] } {
  const lines = headers.getSetCookie();
  assert.equal(lines.length, 2, lines.join('\n'));
  const token = lines[0]!.slice(NAME.length + 1, lines[0]!.indexOf(';'));
  const maxAges = lines.map((l) => Number(/; Max-Age=(\d+);/.exec(l)![1]));
  return { token, maxAges };
}

const cookieHeader = (token: string) => ({ cookie: `${NAME}=${token}` });
const digest = (token: string) => refreshTokenDigest(token);

describe('absolute session lifetime (SESSION_MAX_AGE_SECONDS)', () => {
  it('when a session keeps refreshing, then a refresh after its maximum age is 401 as for an expired token, though the refresh TTL is 30 days', async () => {
    const { credentials } = await account();
    const login = await http<Tokens>(base, 'POST', '/user/login', { body: credentials });
    assert.equal(login.status, 200, login.text);
    const loggedInAt = Date.now();
    await sleep(1200);
    const first = await http<Tokens>(base, 'POST', '/user/token/refresh', { body: { refreshToken: login.body.refreshToken } });
    assert.equal(first.status, 200, first.text);
    // Past the session's end by the service's clock too (the login's transaction began before its answer came back).
    await sleep(MAX_AGE * 1000 + 150 - (Date.now() - loggedInAt));
    const late = await http<Tokens>(base, 'POST', '/user/token/refresh', { body: { refreshToken: first.body.refreshToken } });
    assert.match(String(assertProblem(late, 401).detail), /Invalid or expired refresh token/);
    // Logout answers as for any dead token.
    assertProblem(await http(base, 'POST', '/user/logout', { body: { refreshToken: first.body.refreshToken } }), 401);
  });

  it('when a cookie session rotates, then the cookie\'s Max-Age and expiresIn count down to the session\'s end, each token ends at it, and then the cookie is cleared', async () => {
    const { credentials } = await account();
    const login = await http<Tokens>(base, 'POST', '/user/login', { body: { ...credentials, refreshTokenIn: 'cookie' } });
    assert.equal(login.status, 200, login.text);
    const loggedInAt = Date.now();
    const c0 = cookieOf(login.headers);
    assert.deepEqual(c0.maxAges, [MAX_AGE, MAX_AGE], 'min(REFRESH_TOKEN_TTL_SECONDS, SESSION_MAX_AGE_SECONDS) at login');
    assert.equal(login.body.expiresIn, MAX_AGE, 'the access token does not outlive the session either');

    await sleep(1200);
    const r = await http<Tokens>(base, 'POST', '/user/token/refresh', { body: {}, headers: cookieHeader(c0.token) });
    assert.equal(r.status, 200, r.text);
    const c1 = cookieOf(r.headers);
    const [maxAge] = c1.maxAges;
    assert.ok(maxAge! >= 1 && maxAge! < MAX_AGE, `Max-Age ${maxAge} counts down from ${MAX_AGE}`);
    assert.deepEqual(c1.maxAges, [maxAge, maxAge]);
    assert.equal(r.body.expiresIn, maxAge);
    // Stored: the rotated token keeps the login's start and expires exactly at start + max age.
    const rows = await sql<{ same_start: boolean; at_end: boolean }>(
      db.urls.user,
      `SELECT n.session_started_at = o.session_started_at AS same_start, n.expires_at = o.session_started_at + make_interval(secs => $3) AS at_end
         FROM users.refresh_tokens o, users.refresh_tokens n WHERE o.token_hash = $1 AND n.token_hash = $2`,
      [digest(c0.token), digest(c1.token), MAX_AGE],
    );
    assert.deepEqual(rows, [{ same_start: true, at_end: true }]);

    await sleep(MAX_AGE * 1000 + 150 - (Date.now() - loggedInAt));
    const late = await http(base, 'POST', '/user/token/refresh', { body: {}, headers: cookieHeader(c1.token) });
    assertProblem(late, 401);
    assert.ok(late.headers.getSetCookie().every((l) => l.startsWith(`${NAME}=;`) && l.includes('Max-Age=0')));
  });

  it('when a token was written without the session start (before the migration, or by an old replica), then its family counts from its first token', async () => {
    const { credentials } = await account();
    const login = await http<Tokens>(base, 'POST', '/user/login', { body: credentials });
    const refreshed = await http<Tokens>(base, 'POST', '/user/token/refresh', { body: { refreshToken: login.body.refreshToken } });
    assert.equal(refreshed.status, 200, refreshed.text);
    // The family as an old one: no start stored, its login MAX_AGE + 10 s ago, its live token valid 30 days more.
    await sql(
      db.urls.user,
      `UPDATE users.refresh_tokens SET session_started_at = NULL,
         created_at = CASE WHEN token_hash = $1 THEN now() - make_interval(secs => $2) ELSE created_at END
       WHERE family_id = (SELECT family_id FROM users.refresh_tokens WHERE token_hash = $1)`,
      [digest(login.body.refreshToken!), MAX_AGE + 10],
    );
    assertProblem(await http(base, 'POST', '/user/token/refresh', { body: { refreshToken: refreshed.body.refreshToken } }), 401);

    // One whose first token is recent still refreshes, and its new token carries the start from then on.
    const fresh = await http<Tokens>(base, 'POST', '/user/login', { body: credentials });
    await sql(db.urls.user, 'UPDATE users.refresh_tokens SET session_started_at = NULL WHERE token_hash = $1', [digest(fresh.body.refreshToken!)]);
    const next = await http<Tokens>(base, 'POST', '/user/token/refresh', { body: { refreshToken: fresh.body.refreshToken } });
    assert.equal(next.status, 200, next.text);
    const [row] = await sql<{ start_is_login: boolean }>(
      db.urls.user,
      `SELECT n.session_started_at = o.created_at AS start_is_login FROM users.refresh_tokens o, users.refresh_tokens n WHERE o.token_hash = $1 AND n.token_hash = $2`,
      [digest(fresh.body.refreshToken!), digest(next.body.refreshToken!)],
    );
    assert.equal(row?.start_is_login, true);
  });

  it('for any TTL, maximum age and session age, then a new token lives min(TTL, what is left of the session), and the session is over exactly at its maximum age (property)', async () => {
    const { id: userId } = await account();
    const sessionMicros = (maxAge: number) => fc.oneof(fc.constantFrom(0, maxAge * 1e6 - 1, maxAge * 1e6, maxAge * 1e6 + 1), fc.integer({ min: 0, max: maxAge * 1e6 + 1e6 }));
    const cases = fc.record({ ttl: fc.integer({ min: 300, max: 90 * 86400 }), maxAge: fc.integer({ min: 1, max: 365 * 86400 }) }).chain(({ ttl, maxAge }) =>
      sessionMicros(maxAge).map((ageMicros) => ({ ttl, maxAge, ageMicros })),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ ttl, maxAge, ageMicros }) => {
        // One transaction: now() stands still, so the session's age is exact to the microsecond.
        await user.app.sessionRepository.transaction(async (_sessions, tx) => {
          const sessions = new SessionRepository(tx, maxAge);
          const [{ start }] = (await tx.query<{ start: string }>('test_start', `SELECT (now() - $1::bigint * interval '1 microsecond')::text AS start`, [ageMicros])).rows as [{ start: string }];
          const token = newRefreshToken();
          const secondsLeft = await sessions.insert(digest(token), uuidv7(), userId, 'customer', ttl, start, null);
          const [{ micros }] = (await tx.query<{ micros: string }>('test_expiry', `SELECT (extract(epoch FROM expires_at - now()) * 1000000)::bigint AS micros FROM refresh_tokens WHERE token_hash = $1`, [digest(token)])).rows as [{ micros: string }];
          const leftMicros = maxAge * 1e6 - ageMicros;
          assert.equal(Number(micros), Math.min(ttl * 1e6, leftMicros), 'expires at min(now + TTL, start + max age)');
          assert.equal(secondsLeft, Math.ceil(Math.min(ttl * 1e6, leftMicros) / 1e6) || 0, 'its lifetime in whole seconds, rounded up');
          assert.equal((await sessions.lock(digest(token)))!.expired, ageMicros >= maxAge * 1e6, 'over at start + max age, not before');
        });
      }),
      { numRuns: 60 },
    );
  });
});
