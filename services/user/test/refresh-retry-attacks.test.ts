// The keyed retry of a lost refresh (refresh-retry.test) attacked: several clients at once on one session (the owner,
// a thief with a copy of the token, a thief with the token and the key), logouts among them, a role change or the
// session's maximum age between the lost answer and its retry, the process SIGKILLed between the spend and the COMMIT,
// a key sent twice or with odd characters. The contract: a spent token presented without its rotation's key (or with
// another, after the window, or after its successor was used) is 401 and revokes the whole family; at most one live
// token per family; nothing half-written.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { CONTROL_CHARACTER_KEYS, ORDER_CLIENT, assertErrorAt, assertProblem, heldLocks, http, rawExchange, rawKeyedPost, registerAccount, sql, startServiceProcess, waitFor } from '@ecommerce/test-support';
import { GENEROUS_BUDGETS, base, db, startUserService, startUserServiceForFile, testSigningKey } from './harness.js';

startUserServiceForFile();

interface Tokens {
  accessToken: string;
  refreshToken: string;
}

const sha = (s: string) => createHash('sha256').update(s).digest();

async function session(): Promise<{ token: string; userId: string; email: string }> {
  const { id, email, password } = await registerAccount(base, { tag: 'attack' });
  const res = await http<Tokens>(base, 'POST', '/user/login', { body: { email, password } });
  assert.equal(res.status, 200, res.text);
  return { token: res.body.refreshToken, userId: id, email };
}

const refresh = (token: string, key?: string, at = base) =>
  http<Tokens>(at, 'POST', '/user/token/refresh', { body: { refreshToken: token }, headers: key === undefined ? {} : { 'idempotency-key': key } });
const logout = (token: string) => http(base, 'POST', '/user/logout', { body: { refreshToken: token } });

/** The family of `token` as stored: how many tokens, how many live (neither spent nor revoked). */
async function family(token: string): Promise<{ n: number; live: number }> {
  const [row] = await sql<{ n: number; live: number }>(
    db.urls.user,
    `SELECT count(*)::int AS n, count(*) FILTER (WHERE spent_at IS NULL AND revoked_at IS NULL)::int AS live
      FROM users.refresh_tokens WHERE family_id = (SELECT family_id FROM users.refresh_tokens WHERE token_hash = $1)`,
    [sha(token)],
  );
  return row!;
}

async function tokenRow(token: string) {
  const [row] = await sql<{ spent: boolean; revoked: boolean; rotation_key: Buffer | null; successors: number }>(
    db.urls.user,
    `SELECT spent_at IS NOT NULL AS spent, revoked_at IS NOT NULL AS revoked, rotation_key,
        (SELECT count(*)::int FROM users.refresh_tokens s WHERE s.rotated_from = t.token_hash) AS successors
      FROM users.refresh_tokens t WHERE token_hash = $1`,
    [sha(token)],
  );
  return row!;
}

describe('the keyed retry of a lost refresh, attacked', () => {
  it('property: the owner, a thief with the token and a thief with the token and the key, each sending refreshes, retries and logouts at once on one session: at most one live token, a 200 only for the key the token was spent with, one token issued per 200, and nothing answered 200 once the session ended', async () => {
    // What a client presents: a token it knows (by index among those seen) and which key.
    const op = fc.record({
      kind: fc.constantFrom('refresh' as const, 'refresh' as const, 'refresh' as const, 'logout' as const),
      pick: fc.nat(),
      key: fc.constantFrom('its-own' as const, 'fresh' as const, 'none' as const),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 5 }), async (batches) => {
        const first = await session();
        // Every token seen, with the key its refresh was sent with (the owner's retry sends that one again).
        const seen: { token: string; key: string | undefined }[] = [{ token: first.token, key: undefined }];
        const answered: { presented: string; key: string | undefined; issued: string }[] = [];
        let ended = false;
        for (const batch of batches) {
          const results = await Promise.all(
            batch.map(async (o) => {
              const known = seen[o.pick % seen.length]!;
              if (o.kind === 'logout') return { o, known, key: undefined, res: await logout(known.token) };
              const key = o.key === 'its-own' ? (known.key ?? randomUUID()) : o.key === 'fresh' ? randomUUID() : undefined;
              return { o, known, key, res: await refresh(known.token, key) };
            }),
          );
          for (const { o, known, key, res } of results) {
            if (o.kind === 'logout') {
              if (res.status === 204) ended = true;
              else assertProblem(res, 401);
              continue;
            }
            if (res.status === 200) {
              const issued = (res.body as Tokens).refreshToken;
              answered.push({ presented: known.token, key, issued });
              // The key this token's refresh goes on with: the one it was just sent with (a retry sends it again).
              seen.push({ token: issued, key: undefined });
              const presented = seen.find((s) => s.token === known.token)!;
              presented.key = key;
            } else {
              assertProblem(res, 401);
              if (/already used/.test(String((res.body as { detail?: string }).detail))) ended = true;
            }
          }
          const state = await family(first.token);
          assert.ok(state.live <= 1, `at most one live token in the session (${state.live})`);
          if (ended) assert.equal(state.live, 0, 'a reuse or a logout ended the whole session');
        }
        // No 200 after the session ended: every token a 200 gave is accounted for, and the session has none live if it ended.
        for (const a of answered) {
          const row = await tokenRow(a.presented);
          assert.ok(row.spent, 'a token answered 200 is spent');
          assert.deepEqual(row.rotation_key, a.key === undefined ? null : sha(a.key), 'a 200 only with the key the token was spent with');
        }
        // One token issued per 200 answered for it, none for a refusal (nothing half-written, nothing extra).
        const per = new Map<string, number>();
        for (const a of answered) per.set(a.presented, (per.get(a.presented) ?? 0) + 1);
        for (const [presented, count] of per) assert.equal((await tokenRow(presented)).successors, count, 'one token issued per 200');
        assert.equal((await family(first.token)).n, answered.length + 1, 'the session holds its login token and one per 200, no more');
      }),
      { numRuns: 25 },
    );
  });

  it('when the account is promoted by ADMIN_EMAIL at start-up between the lost answer and its retry, then the retry is 401, the session stays ended, and no token of the new role is issued', { timeout: 60_000 }, async () => {
    const { token, email } = await session();
    const key = randomUUID();
    const lost = (await refresh(token, key)).body.refreshToken;
    const promoted = await startUserService(db.urls.user, { ADMIN_EMAIL: email, ADMIN_PASSWORD: 'promoted-Admin-Secret-8812' });
    try {
      const before = await family(token);
      assertProblem(await refresh(token, key, promoted.base), 401);
      assertProblem(await refresh(lost, undefined, promoted.base), 401);
      assert.deepEqual(await family(token), { n: before.n, live: 0 });
    } finally {
      await promoted.close();
    }
  });

  it('when the role changes in the database (no start-up to revoke) between the lost answer and its retry, then the retry is 401 and revokes the session: the lost token is not spent into a new one', async () => {
    const { token, userId } = await session();
    const key = randomUUID();
    const lost = (await refresh(token, key)).body.refreshToken;
    await sql(db.urls.user, `UPDATE users.users SET role = 'admin' WHERE id = $1`, [userId]);
    const res = await refresh(token, key);
    assertProblem(res, 401);
    assert.match(String((res.body as { detail?: string }).detail), /role/);
    assert.deepEqual(await family(token), { n: 2, live: 0 });
    assertProblem(await refresh(lost), 401);
  });

  it('when the session reaches its maximum age between the lost answer and its retry, then the retry is 401 and issues nothing', async () => {
    const { token } = await session();
    const key = randomUUID();
    await refresh(token, key);
    await sql(db.urls.user, `UPDATE users.refresh_tokens SET session_started_at = session_started_at - interval '91 days' WHERE family_id = (SELECT family_id FROM users.refresh_tokens WHERE token_hash = $1)`, [sha(token)]);
    assertProblem(await refresh(token, key), 401);
    assert.equal((await family(token)).n, 2, 'nothing issued');
  });

  it('when the retry races a logout of the same session (with the spent token or with the lost one), then the session always ends with no live token', async () => {
    for (let i = 0; i < 6; i++) {
      const { token } = await session();
      const key = randomUUID();
      const lost = (await refresh(token, key)).body.refreshToken;
      const [retried, out] = await Promise.all([refresh(token, key), logout(i % 2 === 0 ? token : lost)]);
      assert.equal(out.status, 204, out.text);
      assert.ok(retried.status === 200 || retried.status === 401, retried.text);
      assert.equal((await family(token)).live, 0);
      if (retried.status === 200) assertProblem(await refresh(retried.body.refreshToken), 401);
    }
  });

  it('when the family was revoked (a thief presented the spent token), then the owner\'s retry with the right key is 401 and issues nothing', async () => {
    const { token } = await session();
    const key = randomUUID();
    await refresh(token, key);
    assertProblem(await refresh(token), 401); // the thief, without the key
    assertProblem(await refresh(token, key), 401);
    assert.deepEqual(await family(token), { n: 2, live: 0 });
  });

  it('when the key is sent on two header lines, then 400 and the token is not spent; a key with a comma, spaces or non-ASCII bytes on one line names its refresh exactly', async () => {
    const { token } = await session();
    const body = JSON.stringify({ refreshToken: token });
    const twice = await rawExchange(
      base,
      `POST /user/token/refresh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nIdempotency-Key: k\r\nidempotency-key: k\r\nConnection: close\r\n\r\n${body}`,
    );
    assert.match(twice, /^HTTP\/1\.1 400 /);
    assert.match(twice, /must be sent once/);
    assert.equal((await family(token)).live, 1);
    assert.equal((await tokenRow(token)).spent, false);
    for (const odd of ['a,b', 'a b  c', 'clé-€']) {
      const s = await session();
      const send = (key: string) => {
        const text = `POST /user/token/refresh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(JSON.stringify({ refreshToken: s.token }))}\r\nIdempotency-Key: ${key}\r\nConnection: close\r\n\r\n${JSON.stringify({ refreshToken: s.token })}`;
        return rawExchange(base, text);
      };
      assert.match(await send(odd), /^HTTP\/1\.1 200 /);
      assert.match(await send(odd), /^HTTP\/1\.1 200 /, `the same odd key ${JSON.stringify(odd)} is the same refresh`);
      assert.match(await send(`${odd}x`), /^HTTP\/1\.1 401 /, 'another key is a reuse');
      assert.equal((await family(s.token)).live, 0);
    }
  });

  it('when the key is empty, over 255 characters or holds a control character, then 400 (a problem) and the token is not spent', async () => {
    const { token } = await session();
    for (const key of ['', 'k'.repeat(256)]) assertErrorAt(await refresh(token, key), 'headers/idempotency-key');
    for (const key of CONTROL_CHARACTER_KEYS) {
      assert.match(await rawKeyedPost(base, '/user/token/refresh', key, { refreshToken: token }), /^HTTP\/1\.1 400 [\s\S]*content-type: application\/problem\+json/i, JSON.stringify(key));
    }
    assert.deepEqual(await tokenRow(token), { spent: false, revoked: false, rotation_key: null, successors: 0 });
    assert.equal((await refresh(token, 'k'.repeat(255))).status, 200, 'a key of 255 characters is one');
  });

  it('when the key comes with the cookie flow and the retry with the body flow (or the reverse), then it is the same refresh; with another key on the cookie the cookie is cleared and the session revoked', async () => {
    const { email, password } = await registerAccount(base, { tag: 'attack-cookie' });
    const login = await http(base, 'POST', '/user/login', { body: { email, password, refreshTokenIn: 'cookie' } });
    const cookieOf = (res: { headers: Headers }) => /__Secure-refresh-token=([^;]*)/.exec(res.headers.get('set-cookie') ?? '')![1]!;
    const t0 = cookieOf(login);
    const key = randomUUID();
    const viaCookie = (token: string, k: string) => http(base, 'POST', '/user/token/refresh', { body: {}, headers: { cookie: `__Secure-refresh-token=${token}`, 'idempotency-key': k } });
    assert.equal((await viaCookie(t0, key)).status, 200); // lost
    const body = await refresh(t0, key);
    assert.equal(body.status, 200, body.text);
    assert.equal((await family(t0)).live, 1);
    const cookieAgain = await viaCookie(t0, key);
    assert.equal(cookieAgain.status, 200, cookieAgain.text);
    assertProblem(await refresh(body.body.refreshToken), 401); // its successor was spent by the retry: a reuse
    assert.equal((await family(t0)).live, 0);
    // Another key on the cookie: a reuse, the cookie goes.
    const other = await http(base, 'POST', '/user/login', { body: { email, password, refreshTokenIn: 'cookie' } });
    const u0 = cookieOf(other);
    assert.equal((await viaCookie(u0, randomUUID())).status, 200);
    const refused = await viaCookie(u0, randomUUID());
    assertProblem(refused, 401);
    assert.equal(cookieOf(refused), '');
    assert.equal((await family(u0)).live, 0);
  });

  it('when the process is SIGKILLed between the spend and the COMMIT, of a first refresh or of its retry, then nothing is half-written: the token is as it was, and the same refresh sent again is answered', { timeout: 90_000 }, async () => {
    for (const phase of ['first', 'retry'] as const) {
      const { token, userId } = await session();
      const key = randomUUID();
      if (phase === 'retry') await refresh(token, key); // committed, its answer lost
      const before = await family(token);
      const before0 = await tokenRow(token);
      // The account's row held FOR UPDATE: the new token's INSERT (its foreign key) waits, after the spend.
      const held = await heldLocks(db.urls.user, 'SELECT 1 FROM users.users WHERE id = $1 FOR UPDATE', [userId]);
      const main = fileURLToPath(new URL('../src/main.js', import.meta.url));
      const proc = await startServiceProcess(
        main,
        { ...GENEROUS_BUDGETS, DATABASE_URL: db.urls.user, LOG_LEVEL: 'silent', NODE_ENV: 'test', JWT_PRIVATE_KEY: testSigningKey(), SERVICE_CLIENTS: JSON.stringify([ORDER_CLIENT]) },
        { name: 'the spawned user process', readyTimeoutMs: 30_000 },
      );
      try {
        const sent = refresh(token, key, proc.base).catch(() => undefined);
        const waiting = async () =>
          Number((await sql<{ n: string }>(db.urls.user, `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO refresh_tokens%'`))[0]!.n) === 1;
        await waitFor('the refresh to wait in its INSERT, after the spend', waiting, 30_000);
        assert.equal(await proc.kill(), 'SIGKILL');
        await sent;
      } finally {
        await proc.kill();
        await held.end();
      }
      await waitFor('the killed transaction to be rolled back', async () => (await family(token)).live === before.live, 10_000);
      assert.deepEqual(await family(token), before, `${phase}: nothing written`);
      assert.deepEqual(await tokenRow(token), before0, `${phase}: the token as it was`);
      const again = await refresh(token, key);
      assert.equal(again.status, 200, again.text);
      assert.deepEqual(await family(token), { n: before.n + 1, live: 1 });
    }
  });
});
