// A session's refreshes and its sign-out, each with its database connection cut at a statement fast-check picks (the
// test-support databaseProxy): the statement never sent, sent and run with its answer lost, answered and then the
// connection gone, or answered and then the session ended by the server (a FATAL); the database then away for a moment, or past the 3 s a rotation waits to learn whether its COMMIT
// went through. The client does what the web app does: a 503 is sent again as it was, a refresh with the same
// Idempotency-Key. Whatever is cut, the session is never forked (one live token, the one the client holds), never lost
// while the client could not know (no 401 to a refresh the client sent again), and a sign-out, once answered, or raced
// by a refresh, leaves no live token. A registration with its Idempotency-Key, cut alike and sent again, makes one
// account and answers it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { createTestDatabase, databaseProxy, http, registerAccount, sql, stopAll, uniqueEmail, type CutPoint, type DatabaseProxy, type HttpResult, type TestDatabase } from '@ecommerce/test-support';
import { startUserService } from './harness.js';

interface Tokens {
  accessToken: string;
  refreshToken: string;
}

let db: TestDatabase;
let proxy: DatabaseProxy;
let svc: Awaited<ReturnType<typeof startUserService>>;

before(async () => {
  db = await createTestDatabase();
  proxy = await databaseProxy(db.urls.user);
  svc = await startUserService(proxy.url, { DB_POOL_MAX: '3' });
});
after(async () => {
  await stopAll(svc);
  await proxy?.close();
  await stopAll(db);
});

const refresh = (token: string, key: string) =>
  http<Tokens>(svc.base, 'POST', '/user/token/refresh', { body: { refreshToken: token }, headers: { 'idempotency-key': key } });
const logout = (token: string) => http(svc.base, 'POST', '/user/logout', { body: { refreshToken: token } });

/** The family's tokens that are live (neither spent nor revoked), as the digests' hex. */
async function liveTokens(familyOf: string): Promise<string[]> {
  const rows = await sql<{ hash: string }>(
    db.urls.user,
    `SELECT encode(token_hash, 'hex') AS hash FROM users.refresh_tokens
      WHERE spent_at IS NULL AND revoked_at IS NULL
        AND family_id = (SELECT family_id FROM users.refresh_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8')))`,
    [familyOf],
  );
  return rows.map((r) => r.hash);
}

async function digest(token: string): Promise<string> {
  return (await sql<{ hash: string }>(db.urls.user, `SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex') AS hash`, [token]))[0]!.hash;
}

interface Cut {
  statement: string;
  at: CutPoint;
  /** 0: connections cut, the database there at once; else refused for this long. */
  awayMs: number;
}

/** Sends `send` with the cut armed, the database away for `awayMs`, then back; answers what `send` answered. */
async function cutDuring<T>(cut: Cut, send: () => Promise<T>): Promise<T> {
  const done = proxy.cutAt(cut.statement, { at: cut.at, refuse: cut.awayMs > 0 });
  const answer = send();
  await done;
  if (cut.awayMs > 0) {
    await sleep(cut.awayMs);
    await proxy.restore();
  }
  return answer;
}

/** The client's retries: a 503 is sent again (bounded); every attempt's status, the last answer. */
async function untilAnswered<T>(first: Promise<HttpResult<T>>, again: () => Promise<HttpResult<T>>): Promise<{ statuses: number[]; last: HttpResult<T> }> {
  const statuses: number[] = [];
  let res = await first;
  for (let i = 0; ; i++) {
    statuses.push(res.status);
    if (res.status !== 503) return { statuses, last: res };
    assert.ok(i < 40, `still 503 after ${i} retries: ${res.text}`);
    await sleep(150);
    res = await again();
  }
}

// Every statement of a rotation and of a sign-out, in order; a race arms one both send.
const REFRESH_STATEMENTS = ['refresh_lock_family', 'refresh_lock', 'refresh_spend', 'refresh_insert', 'COMMIT'];
const LOGOUT_STATEMENTS = ['refresh_lock_family', 'refresh_lock', 'refresh_revoke_family', 'COMMIT'];
const SHARED_STATEMENTS = ['refresh_lock_family', 'refresh_lock', 'COMMIT'];

// The COMMIT sent with its answer lost is the cut whose outcome the service cannot know: chosen most often.
const cutOf = (statements: string[]) =>
  fc.record({
    statement: fc.oneof({ arbitrary: fc.constant('COMMIT'), weight: 3 }, { arbitrary: fc.constantFrom(...statements), weight: 2 }),
    at: fc.oneof({ arbitrary: fc.constant<CutPoint>('sent'), weight: 2 }, { arbitrary: fc.constantFrom<CutPoint>('before', 'answered', 'ended'), weight: 2 }),
    // 3.5 s: past the 3 s a rotation whose COMMIT went unanswered asks whether it committed (a 503 then).
    awayMs: fc.oneof({ arbitrary: fc.constantFrom(0, 300), weight: 4 }, { arbitrary: fc.constant(3_500), weight: 1 }),
  });

type Step = { kind: 'refresh'; cut: Cut | null } | { kind: 'logout'; cut: Cut } | { kind: 'race'; cut: Cut };

const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('refresh' as const), cut: fc.option(cutOf(REFRESH_STATEMENTS), { nil: null }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('logout' as const), cut: cutOf(LOGOUT_STATEMENTS) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('race' as const), cut: cutOf(SHARED_STATEMENTS) }), weight: 1 },
);

describe('a session whose database connection is cut mid-refresh or mid-sign-out', { timeout: 300_000 }, () => {
  it('when a rotation\'s COMMIT goes through with its answer lost and the database stays away past the 3 s the service asks, then 503, and the same refresh sent again with its key answers a new pair: one live token, the client\'s', async () => {
    const { email, password } = await registerAccount(svc.base, { tag: 'cuts' });
    const login = await http<Tokens>(svc.base, 'POST', '/user/login', { body: { email, password } });
    assert.equal(login.status, 200, login.text);
    const token = login.body.refreshToken;
    const key = randomUUID();
    const first = await cutDuring({ statement: 'COMMIT', at: 'sent', awayMs: 3_500 }, () => refresh(token, key));
    assert.equal(first.status, 503, first.text);
    assert.equal((await liveTokens(token)).length, 1, 'the rotation committed: the token it issued is live, the one sent spent');
    assert.notDeepEqual(await liveTokens(token), [await digest(token)]);
    const { statuses, last } = await untilAnswered(refresh(token, key), () => refresh(token, key));
    assert.equal(last.status, 200, `the retry (${statuses.join(', ')}): ${last.text}`);
    assert.deepEqual(await liveTokens(token), [await digest(last.body.refreshToken)], 'one live token, the one the retry answered');
    assert.equal((await refresh(last.body.refreshToken, randomUUID())).status, 200);
  });

  it('property: for any run of refreshes, sign-outs and sign-outs racing a refresh, each cut anywhere, the session has one live token, the client\'s, until it is signed out, and none after; no refresh sent again is refused', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 4 }), async (steps) => {
        const { email, password } = await registerAccount(svc.base, { tag: 'cuts' });
        const login = await http<Tokens>(svc.base, 'POST', '/user/login', { body: { email, password } });
        assert.equal(login.status, 200, login.text);
        const first = login.body.refreshToken;
        let token = first;
        let signedOut = false;
        for (const s of steps) {
          if (signedOut) break;
          if (s.kind === 'refresh') {
            const key = randomUUID();
            const sent = s.cut ? cutDuring(s.cut, () => refresh(token, key)) : refresh(token, key);
            const { statuses, last } = await untilAnswered(sent, () => refresh(token, key));
            assert.equal(last.status, 200, `a refresh (${statuses.join(', ')}): ${last.text}`);
            token = last.body.refreshToken;
            assert.deepEqual(await liveTokens(first), [await digest(token)], `after a refresh cut at ${JSON.stringify(s.cut)}: one live token, the client's`);
          } else if (s.kind === 'logout') {
            const { statuses, last } = await untilAnswered(cutDuring(s.cut, () => logout(token)), () => logout(token));
            // A 401 only to a sign-out sent again after a 503 whose revocation had committed.
            if (last.status !== 204) assert.ok(last.status === 401 && statuses.length > 1, `a sign-out (${statuses.join(', ')}): ${last.text}`);
            signedOut = true;
          } else {
            const key = randomUUID();
            const held = token;
            const [renewed, out] = await cutDuring(s.cut, () =>
              Promise.all([untilAnswered(refresh(held, key), () => refresh(held, key)), untilAnswered(logout(held), () => logout(held))]),
            );
            assert.ok(renewed.last.status === 200 || renewed.last.status === 401, `the racing refresh: ${renewed.last.status} ${renewed.last.text}`);
            assert.ok(out.last.status === 204 || (out.last.status === 401 && out.statuses.length > 1), `the racing sign-out (${out.statuses.join(', ')}): ${out.last.text}`);
            signedOut = true;
          }
        }
        if (signedOut) {
          assert.deepEqual(await liveTokens(first), [], 'signed out: no live token');
          assert.equal((await refresh(token, randomUUID())).status, 401);
        } else {
          assert.equal((await refresh(token, randomUUID())).status, 200, 'the client\'s token refreshes');
        }
      }),
      { numRuns: 14 },
    );
  });
});

describe('a registration whose database connection is cut', { timeout: 120_000 }, () => {
  const register = (b: object, key: string) => http<{ id: string; email: string }>(svc.base, 'POST', '/user/register', { body: b, headers: { 'idempotency-key': key } });

  it('property: for any cut of a registration with its Idempotency-Key (at the key\'s look-up, the account\'s insert, the key\'s claim or the COMMIT), sent again until answered, then 201 with one account, the key names it, and the key sent again answers it alike', async () => {
    await fc.assert(
      fc.asyncProperty(cutOf(['registration_key_find', 'user_insert', 'registration_key_claim']).filter((c) => c.awayMs < 3_500), async (cut) => {
        const b = { email: uniqueEmail('cuts'), password: `cuts-pass-${randomUUID()}`, name: 'Ada Lovelace' };
        const key = randomUUID();
        const { statuses, last } = await untilAnswered(cutDuring(cut, () => register(b, key)), () => register(b, key));
        assert.equal(last.status, 201, `a registration cut at ${JSON.stringify(cut)} (${statuses.join(', ')}): ${last.text}`);
        const made = await sql<{ id: string; keyed: string | null }>(
          db.urls.user,
          'SELECT u.id, k.user_id AS keyed FROM users.users u LEFT JOIN users.registration_keys k ON k.idempotency_key = $2 WHERE u.email = $1',
          [b.email.toLowerCase(), key],
        );
        assert.deepEqual(made, [{ id: last.body.id, keyed: last.body.id }], 'one account, the one answered, named by the key');
        const again = await register(b, key);
        assert.equal(again.status, 201, again.text);
        assert.deepEqual(again.body, last.body);
        assert.equal((await http(svc.base, 'POST', '/user/login', { body: { email: b.email, password: b.password } })).status, 200);
      }),
      { numRuns: 10 },
    );
  });
});
