// The refresh token as an HttpOnly cookie for browser apps (docs/api.md, "Refresh token in a cookie"):
// asked for at login, scoped to the refresh and logout paths, rotated and cleared there, never in a body;
// the JSON flow is untouched for clients that do not ask.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { assertProblem, holdSessionLock, http, registerAccount, sql, waitFor } from '@ecommerce/test-support';
import { base, db, startUserServiceForFile } from './harness.js';

interface Tokens {
  accessToken: string;
  refreshToken?: string;
  tokenType: string;
  expiresIn: number;
}

startUserServiceForFile();

const NAME = '__Secure-refresh-token';

/** Email and password only: they are spread into login bodies, which allow nothing else. */
async function account() {
  const { email, password } = await registerAccount(base, { tag: 'cookie' });
  return { email, password };
}

/** The refresh cookies a response sets, by path. */
function cookiesOf(headers: Headers): Map<string, { value: string; attrs: string[] }> {
  const out = new Map<string, { value: string; attrs: string[] }>();
  for (const line of headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(';').map((s) => s.trim());
    const [name, value] = [pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1)];
    assert.equal(name, NAME);
    const path = attrs.find((a) => a.startsWith('Path='))!.slice(5);
    out.set(path, { value, attrs });
  }
  return out;
}

async function cookieLogin() {
  const a = await account();
  const res = await http<Tokens>(base, 'POST', '/user/login', { body: { ...a, refreshTokenIn: 'cookie' } });
  assert.equal(res.status, 200, res.text);
  const cookies = cookiesOf(res.headers);
  return { res, token: cookies.get('/user/token/refresh')!.value, cookies };
}

const cookieHeader = (token: string) => ({ cookie: `other=1; ${NAME}=${token}` });

describe('refresh token in a cookie', () => {
  it('when login asks for the cookie, then the token is set HttpOnly; Secure; SameSite=Strict on the refresh and logout paths only, and not in the body', async () => {
    const { res, cookies, token } = await cookieLogin();
    assert.equal(res.body.refreshToken, undefined);
    assert.ok(res.body.accessToken);
    assert.deepEqual([...cookies.keys()].sort(), ['/user/logout', '/user/token/refresh']);
    for (const c of cookies.values()) {
      assert.equal(c.value, token);
      for (const attr of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Max-Age=2592000']) assert.ok(c.attrs.includes(attr), `${attr} in ${c.attrs.join('; ')}`);
    }
    assert.ok(Buffer.from(token, 'base64url').length >= 32);
    assert.equal(res.headers.get('cache-control'), 'no-store');
  });

  it('when refresh is called with the cookie and a JSON body {}, then a new access token comes back, the cookie rotates and the old one is spent', async () => {
    const { token } = await cookieLogin();
    const r = await http<Tokens>(base, 'POST', '/user/token/refresh', { body: {}, headers: cookieHeader(token) });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.accessToken);
    assert.equal(r.body.refreshToken, undefined);
    const next = cookiesOf(r.headers).get('/user/token/refresh')!.value;
    assert.notEqual(next, token);
    assert.equal(cookiesOf(r.headers).get('/user/logout')!.value, next);
    // Reuse of the spent cookie revokes the family: the rotated one dies too, and the browser is told to drop it.
    const reuse = await http(base, 'POST', '/user/token/refresh', { body: {}, headers: cookieHeader(token) });
    assertProblem(reuse, 401);
    assert.ok(reuse.headers.getSetCookie().every((l) => l.startsWith(`${NAME}=;`) && l.includes('Max-Age=0')));
    assertProblem(await http(base, 'POST', '/user/token/refresh', { body: {}, headers: cookieHeader(next) }), 401);
  });

  it('when logout is called with the cookie, then 204, the cookie is cleared on both paths and the session is over', async () => {
    const { token } = await cookieLogin();
    const out = await http(base, 'POST', '/user/logout', { body: {}, headers: cookieHeader(token) });
    assert.equal(out.status, 204, out.text);
    const cleared = cookiesOf(out.headers);
    assert.deepEqual([...cleared.keys()].sort(), ['/user/logout', '/user/token/refresh']);
    assert.ok([...cleared.values()].every((c) => c.value === '' && c.attrs.includes('Max-Age=0')));
    assertProblem(await http(base, 'POST', '/user/token/refresh', { body: {}, headers: cookieHeader(token) }), 401);
  });

  it('when the cookie comes with a form or text body or no content type (a cross-site form post), then 415 and nothing is spent', async () => {
    const { token } = await cookieLogin();
    for (const [path, type, raw] of [
      ['/user/token/refresh', 'application/x-www-form-urlencoded', ''],
      ['/user/token/refresh', 'text/plain', '{}'],
      ['/user/logout', 'application/x-www-form-urlencoded', 'x=1'],
    ] as const) {
      const res = await http(base, 'POST', path, { raw, headers: { ...cookieHeader(token), 'content-type': type } });
      assert.ok(res.status === 415 || res.status === 400, `${path} ${type}: ${res.status} ${res.text}`);
    }
    // Still live: the one legitimate refresh works.
    assert.equal((await http(base, 'POST', '/user/token/refresh', { body: {}, headers: cookieHeader(token) })).status, 200);
  });

  it('when a cross-site form posts a login or a registration, then 415: no session cookie is set and no account made', async () => {
    const email = `csrf.${Date.now()}@example.test`;
    for (const path of ['/user/login', '/user/register']) {
      const raw = new URLSearchParams({ email, password: 'correct-horse-1', name: 'Eve', refreshTokenIn: 'cookie' }).toString();
      const res = await http(base, 'POST', path, { raw, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' } });
      assertProblem(res, 415);
      assert.equal(res.headers.get('set-cookie'), null, path);
    }
    assertProblem(await http(base, 'POST', '/user/login', { body: { email, password: 'correct-horse-1' } }), 401);
  });

  it('when neither body nor cookie has a token, then 400 at /refreshToken as before; a garbage cookie is 401', async () => {
    for (const path of ['/user/token/refresh', '/user/logout']) {
      const res = await http(base, 'POST', path, { body: {} });
      const p = assertProblem(res, 400, 'validation-failed');
      assert.ok(p.errors?.some((e) => e.path === '/refreshToken'), JSON.stringify(p));
      assertProblem(await http(base, 'POST', path, { body: {}, headers: cookieHeader('a'.repeat(43)) }), 401);
    }
  });

  it('when a client does not ask (or asks for "body"), then the JSON flow is unchanged: token in the body, no cookie; a body token wins over a cookie', async () => {
    const a = await account();
    for (const extra of [{}, { refreshTokenIn: 'body' }]) {
      const res = await http<Tokens>(base, 'POST', '/user/login', { body: { ...a, ...extra } });
      assert.equal(res.status, 200, res.text);
      assert.equal(typeof res.body.refreshToken, 'string');
      assert.deepEqual(res.headers.getSetCookie(), []);
      const r = await http<Tokens>(base, 'POST', '/user/token/refresh', { body: { refreshToken: res.body.refreshToken }, headers: cookieHeader('b'.repeat(43)) });
      assert.equal(r.status, 200, r.text);
      assert.equal(typeof r.body.refreshToken, 'string');
      assert.deepEqual(r.headers.getSetCookie(), []);
    }
    assertProblem(await http(base, 'POST', '/user/login', { body: { ...a, refreshTokenIn: 'header' } }), 400);
  });
  it('when the refresh fails for a reason other than the token (its table cannot be read), then the cookie is kept; a garbage one is still cleared', async () => {
    const { token } = await cookieLogin();
    const { role, schema } = db.roles.user;
    // The service's role (the table's owner) gives up its rights on the refresh tokens for a moment: an error of the
    // database, not a refusal.
    await sql(db.urls.user, `REVOKE ALL ON ${schema}.refresh_tokens FROM ${role}`);
    try {
      const failed = await http(base, 'POST', '/user/token/refresh', { body: {}, headers: cookieHeader(token) });
      assert.ok(failed.status >= 500, failed.text);
      assert.deepEqual(failed.headers.getSetCookie(), [], 'the cookie is not cleared when the token was never judged');
    } finally {
      await sql(db.urls.user, `GRANT ALL ON ${schema}.refresh_tokens TO ${role}`);
    }
    const refused = await http(base, 'POST', '/user/token/refresh', { body: {}, headers: cookieHeader('garbage-token') });
    assert.equal(refused.status, 401);
    assert.ok(cookiesOf(refused.headers).get('/user/token/refresh')?.attrs.includes('Max-Age=0'), 'a refused token is cleared');
    // and the kept one still works
    assert.equal((await http(base, 'POST', '/user/token/refresh', { body: {}, headers: cookieHeader(token) })).status, 200);
  });

  it('when a logout loses its database connection (503), then the cookie is kept and the session is still live, so the logout can be sent again; that one ends it', async () => {
    const { token } = await cookieLogin();
    // The logout waits in PostgreSQL on the session's lock; its connection is then terminated (a failover, an
    // administrator, a server restart): the revocation never happened.
    const held = await holdSessionLock(db.urls.user, token);
    let failed;
    try {
      const sent = http(base, 'POST', '/user/logout', { body: {}, headers: cookieHeader(token) });
      await waitFor('the logout waiting on the session', async () => (await held.waiters()) === 1);
      await sql(
        db.adminUrl,
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
        [db.name],
      );
      failed = await sent;
    } finally {
      await held.release();
    }
    assertProblem(failed, 503);
    // Cleared, the browser could never send the logout again (the web app keeps the session and says so on a 503),
    // and the session would stay live on the server with nobody able to end it.
    assert.deepEqual(failed.headers.getSetCookie(), [], 'the cookie is kept while the session was not ended');
    const again = await http(base, 'POST', '/user/logout', { body: {}, headers: cookieHeader(token) });
    assert.equal(again.status, 204, again.text);
    assert.ok([...cookiesOf(again.headers).values()].every((c) => c.value === '' && c.attrs.includes('Max-Age=0')));
    assertProblem(await http(base, 'POST', '/user/token/refresh', { body: {}, headers: cookieHeader(token) }), 401);
  });

  it('when a request carries two different refresh cookies (another site tossed one in, before or after ours), then 400 ambiguous-refresh-cookie on refresh and logout: neither token is used, spent or cleared', async () => {
    // The other cookie: another account's live session (the tosser's own), or garbage (whose 401 used to clear ours).
    const victim = await cookieLogin();
    const tosser = await cookieLogin();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/user/token/refresh', '/user/logout'),
        fc.boolean(),
        fc.constantFrom(tosser.token, 'x'.repeat(43)),
        fc.array(fc.constantFrom('a=1', 'theme=dark', `${NAME}=`), { maxLength: 3 }),
        fc.constantFrom('; ', ';'),
        async (path, tossedFirst, tossed, others, separator) => {
          const pair = tossedFirst ? [`${NAME}=${tossed}`, `${NAME}=${victim.token}`] : [`${NAME}=${victim.token}`, `${NAME}=${tossed}`];
          const cookie = [...others, ...pair].join(separator);
          const res = await http(base, 'POST', path, { body: {}, headers: { cookie } });
          assertProblem(res, 400, 'ambiguous-refresh-cookie');
          assert.deepEqual(res.headers.getSetCookie(), [], 'no cookie cleared or set');
        },
      ),
      { numRuns: 24 },
    );
    // The same token twice is no ambiguity; then each session is still live and its own.
    const twice = await http<Tokens>(base, 'POST', '/user/token/refresh', { body: {}, headers: { cookie: `${NAME}=${victim.token}; ${NAME}=${victim.token}` } });
    assert.equal(twice.status, 200, twice.text);
    const next = cookiesOf(twice.headers).get('/user/token/refresh')!.value;
    const me = await http<{ email: string }>(base, 'GET', '/user/me', { token: twice.body.accessToken });
    assert.equal(me.status, 200, me.text);
    const tosserRefresh = await http<Tokens>(base, 'POST', '/user/token/refresh', { body: {}, headers: cookieHeader(tosser.token) });
    assert.equal(tosserRefresh.status, 200, tosserRefresh.text);
    const tosserMe = await http<{ email: string }>(base, 'GET', '/user/me', { token: tosserRefresh.body.accessToken });
    assert.notEqual(me.body.email, tosserMe.body.email);
    assert.equal((await http(base, 'POST', '/user/logout', { body: {}, headers: cookieHeader(next) })).status, 204);
  });

  it('when a logout finds no live session (a spent, revoked or unknown token), then 401 and the cookie is cleared all the same', async () => {
    const out = await http(base, 'POST', '/user/logout', { body: {}, headers: cookieHeader('no-such-token-0123456789abcdefghijklmnopqrstuv') });
    assertProblem(out, 401);
    assert.ok([...cookiesOf(out.headers).values()].every((c) => c.value === '' && c.attrs.includes('Max-Age=0')));
  });
});
