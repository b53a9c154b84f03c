import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignJWT, base64url, decodeJwt, decodeProtectedHeader } from 'jose';
import { generateKeyPairSync } from 'node:crypto';
import { hash as argon2Hash } from '@node-rs/argon2';
import { ORDER_CLIENT, assertMethodNotAllowed, assertProblem, http, registerAccount, sql, uniqueEmail } from '@ecommerce/test-support';
import fc from 'fast-check';
import { ConfigError } from '@ecommerce/kit';
import { loadUserConfig } from '../src/config.js';
import { base, db, startUserService, startUserServiceForFile } from './harness.js';

interface Tokens {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  expiresIn: number;
}

startUserServiceForFile({ LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '3' });

const register = () => registerAccount(base);
async function login(email: string, password: string) {
  const res = await http<Tokens>(base, 'POST', '/user/login', { body: { email, password } });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

describe('POST /user/register', () => {
  it('when the body is valid, then it answers 201 with the User and no password hash', async () => {
    const email = uniqueEmail('New');
    const res = await http(base, 'POST', '/user/register', { body: { email, password: 'password-123', name: 'Grace' } });
    assert.equal(res.status, 201);
    assert.deepEqual(Object.keys(res.body).sort(), ['createdAt', 'email', 'id', 'name', 'role']);
    assert.equal(res.body.email, email.toLowerCase());
    assert.equal(res.body.role, 'customer');
    assert.match(String(res.body.id), /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(!Number.isNaN(Date.parse(String(res.body.createdAt))));
  });

  it('when the email exists in another case, then it answers 409 email-taken', async () => {
    const u = await register();
    const res = await http(base, 'POST', '/user/register', { body: { email: u.email.toUpperCase(), password: 'password-123', name: 'X' } });
    assertProblem(res, 409, 'email-taken');
  });

  it('when fields are missing, of the wrong type, too short or unknown, then it answers 400 with errors per path', async () => {
    const cases: [unknown, string][] = [
      [{ email: uniqueEmail(), name: 'A' }, '/password'],
      [{ email: uniqueEmail(), password: 'short', name: 'A' }, '/password'],
      [{ email: uniqueEmail(), password: 'x'.repeat(129), name: 'A' }, '/password'],
      [{ email: 'not-an-email', password: 'password-123', name: 'A' }, '/email'],
      [{ email: uniqueEmail(), password: 12345678, name: 'A' }, '/password'],
      [{ email: uniqueEmail(), password: 'password-123', name: '' }, '/name'],
      // Only invisible characters (zero-width space, word joiner, BOM, a lone combining mark): a blank name in the admin.
      [{ email: uniqueEmail(), password: 'password-123', name: '\u200b\u2060\ufeff\u0301' }, '/name'],
      // A character that reverses the text after it (U+202E), or isolates it: the admin's users list read backwards.
      [{ email: uniqueEmail(), password: 'password-123', name: 'Ada \u202egnp.exe' }, '/name'],
      [{ email: uniqueEmail(), password: 'password-123', name: 'Ada \u2067x' }, '/name'],
      [{ email: uniqueEmail(), password: 'password-123', name: 'A', role: 'admin' }, '/role'],
    ];
    for (const [body, path] of cases) {
      const res = await http(base, 'POST', '/user/register', { body });
      const p = assertProblem(res, 400, 'validation-failed');
      assert.ok(p.errors?.some((e) => e.path === path), `${JSON.stringify(body)} -> ${JSON.stringify(p.errors)}`);
    }
  });

  it('when the password is too easy to guess (blank, a run, common or breached, the email), then 400 on /password in words, and no account is made', async () => {
    for (const password of ['        ', '12345678', 'Password123']) {
      const email = uniqueEmail('Weak');
      const p = assertProblem(await http(base, 'POST', '/user/register', { body: { email, password, name: 'W' } }), 400, 'validation-failed');
      assert.equal(p.errors?.[0]?.path, '/password', JSON.stringify(p));
      assert.match(String(p.detail), /^The password /);
      // Nothing was made: the same email registers with a good password.
      assert.equal((await http(base, 'POST', '/user/register', { body: { email, password: 'correct-horse-1', name: 'W' } })).status, 201);
    }
    // Breached passwords (NIST SP 800-63B 5.1.1.2): the common-password list of @zxcvbn-ts/language-common.
    for (const password of ['passpass', 'testtest', 'Mustang1', 'blink182', 'batman123']) {
      const p = assertProblem(await http(base, 'POST', '/user/register', { body: { email: uniqueEmail('Breached'), password, name: 'W' } }), 400, 'validation-failed');
      assert.deepEqual(p.errors, [{ path: '/password', message: 'is one of the most common passwords; choose another' }], password);
      assert.equal(p.detail, 'The password is one of the most common passwords; choose another');
    }
    const email = uniqueEmail('Context');
    const local = email.split('@')[0]!;
    assertProblem(await http(base, 'POST', '/user/register', { body: { email, password: `${local}!`, name: 'W' } }), 400, 'validation-failed');
  });

  it('when the body is malformed JSON, then 400; over 1 MiB, then 413; not JSON, then 415', async () => {
    assertProblem(await http(base, 'POST', '/user/register', { raw: '{"email": ', headers: { 'content-type': 'application/json' } }), 400, 'malformed-json');
    const big = JSON.stringify({ email: uniqueEmail(), password: 'password-123', name: 'x'.repeat(1024 * 1024 + 10) });
    assertProblem(await http(base, 'POST', '/user/register', { raw: big, headers: { 'content-type': 'application/json' } }), 413, 'payload-too-large');
    assertProblem(await http(base, 'POST', '/user/register', { raw: 'email=a', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported-media-type');
  });

  it('when strings carry SQL metacharacters, then they are stored verbatim and nothing else happens', async () => {
    const name = `Robert'); DROP TABLE users; -- "\\ %_`;
    const email = `o'brien+${Date.now()}@example.test`;
    const res = await http(base, 'POST', '/user/register', { body: { email, password: `pa'ss"; --\\`, name } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.name, name);
    const t = await login(email, `pa'ss"; --\\`);
    const me = await http(base, 'GET', '/user/me', { token: t.accessToken });
    assert.equal(me.body.name, name);
    const inj = await http(base, 'POST', '/user/login', { body: { email: `x'or'1'='1@example.test`, password: `' OR '1'='1` } });
    assertProblem(inj, 401);
  });
});

describe('POST /user/login', () => {
  it('when credentials are right, then 200 with a Bearer EdDSA token carrying sub, role, iss, aud, exp (15 min), jti and a kid', async () => {
    const u = await register();
    const t = await login(u.email.toUpperCase(), u.password);
    assert.equal(t.tokenType, 'Bearer');
    assert.equal(t.expiresIn, 900);
    assert.ok(Buffer.from(t.refreshToken, 'base64url').length >= 32);
    const header = decodeProtectedHeader(t.accessToken);
    assert.equal(header.alg, 'EdDSA');
    assert.ok(header.kid);
    const claims = decodeJwt(t.accessToken);
    assert.equal(claims.sub, u.id);
    assert.equal(claims.role, 'customer');
    assert.equal(claims.aud, 'ecommerce');
    assert.equal(claims.iss, 'ecommerce-user-service');
    assert.ok(claims.jti);
    assert.equal(claims.exp! - claims.iat!, 900);
  });

  it('when a password is typed in another Unicode form than it was registered in (an accent as one code point or as a letter and a mark, a full-width digit), then it is the same password; a hash stored before normalization still takes what it was made from', async () => {
    const email = uniqueEmail('unicode');
    const nfc = 'Ångström-Über-42x';
    assert.equal((await http(base, 'POST', '/user/register', { body: { email, password: nfc, name: 'Ånders' } })).status, 201);
    const nfd = nfc.normalize('NFD');
    assert.notEqual(nfd, nfc);
    await login(email, nfd);
    await login(email, nfc);
    await login(email, 'Ångström-Über-４２x'.normalize('NFD'));
    assertProblem(await http(base, 'POST', '/user/login', { body: { email, password: 'Angstrom-Uber-42x' } }), 401, 'unauthorized');
    // An account whose hash was made from the decomposed characters themselves, as before.
    await sql(db.urls.user, 'UPDATE users.users SET password_hash = $2 WHERE email = $1', [email, await argon2Hash(nfd)]);
    await login(email, nfd);
  });

  it('when the email is unknown or the password wrong, then the same 401 answer', async () => {
    const u = await register();
    const wrong = assertProblem(await http(base, 'POST', '/user/login', { body: { email: u.email, password: 'wrong-password' } }), 401);
    const unknown = assertProblem(await http(base, 'POST', '/user/login', { body: { email: uniqueEmail(), password: 'wrong-password' } }), 401);
    assert.deepEqual({ ...wrong, instance: '' }, { ...unknown, instance: '' });
  });

  it('when a password or a refresh token is refused (login, refresh, logout), then the 401 challenges for what the resource takes (RFC 9110 11.6.1), not for a Bearer token it does not take; a route that takes one still says Bearer', async () => {
    const u = await register();
    const refused = {
      login: await http(base, 'POST', '/user/login', { body: { email: u.email, password: 'wrong-password' } }),
      refresh: await http(base, 'POST', '/user/token/refresh', { body: { refreshToken: 'a'.repeat(43) } }),
      logout: await http(base, 'POST', '/user/logout', { body: { refreshToken: 'a'.repeat(43) } }),
      me: await http(base, 'GET', '/user/me'),
    };
    assert.deepEqual(
      Object.fromEntries(Object.entries(refused).map(([name, res]) => [name, `${res.status} ${res.headers.get('www-authenticate')}`])),
      { login: '401 Password', refresh: '401 RefreshToken', logout: '401 RefreshToken', me: '401 Bearer' },
    );
    // The rest of the answer is as before: the problem, no-store.
    assertProblem(refused.login, 401, 'unauthorized');
    assert.equal(refused.refresh.headers.get('cache-control'), 'no-store');
  });

  it('when the OpenAPI document is read, then each route that takes credentials documents its 401 with the challenge, and a refused request carries that challenge', async () => {
    type Operation = { responses: Record<string, { headers?: Record<string, { description?: string }> }> };
    const doc = await http<{ paths: Record<string, Record<string, Operation>> }>(base, 'GET', '/user/openapi.json');
    const documented: Record<string, string> = {};
    for (const [path, item] of Object.entries(doc.body.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const header = op.responses['401']?.headers?.['WWW-Authenticate']?.description;
        if (!op.responses['401']) continue;
        const scheme = /`([A-Za-z]+)/.exec(header ?? '')?.[1];
        assert.ok(scheme, `${method} ${path}: a 401 without its challenge`);
        documented[`${method.toUpperCase()} ${path}`] = scheme;
      }
    }
    // A request each such route refuses for its credentials; a route added with a 401 must be added here.
    const refusals: Record<string, () => ReturnType<typeof http>> = {
      'POST /user/login': () => http(base, 'POST', '/user/login', { body: { email: uniqueEmail(), password: 'wrong-password' } }),
      'POST /user/token/refresh': () => http(base, 'POST', '/user/token/refresh', { body: { refreshToken: 'b'.repeat(43) } }),
      'POST /user/logout': () => http(base, 'POST', '/user/logout', { body: { refreshToken: 'b'.repeat(43) } }),
      'GET /user/me': () => http(base, 'GET', '/user/me', { token: 'not-a-token' }),
      'GET /user/users': () => http(base, 'GET', '/user/users'),
      'POST /user/oauth/token': () => http(base, 'POST', '/user/oauth/token', { body: { grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'x' } }),
    };
    assert.deepEqual(Object.keys(documented).sort(), Object.keys(refusals).sort(), 'the routes whose 401 is documented');
    assert.deepEqual(documented, { 'POST /user/login': 'Password', 'POST /user/token/refresh': 'RefreshToken', 'POST /user/logout': 'RefreshToken', 'GET /user/me': 'Bearer', 'GET /user/users': 'Bearer', 'POST /user/oauth/token': 'Basic' });
    for (const [operation, refuse] of Object.entries(refusals)) {
      const res = await refuse();
      assert.equal(res.status, 401, `${operation}: ${res.text}`);
      assert.equal(res.headers.get('www-authenticate')?.split(/[ ,]/)[0], Object.entries(documented).find(([op]) => op === operation)?.[1], operation);
    }
  });

  it('when an account fails repeatedly from one address, then 429 with Retry-After there, even with the right password', async () => {
    const u = await register();
    for (let i = 0; i < 3; i++) assertProblem(await http(base, 'POST', '/user/login', { body: { email: u.email, password: 'wrong-password' } }), 401);
    const res = await http(base, 'POST', '/user/login', { body: { email: u.email, password: u.password } });
    assertProblem(res, 429, 'too-many-requests');
    assert.ok(Number(res.headers.get('retry-after')) > 0);
  });

  it('when one client address fails against many accounts, then it is limited too', async () => {
    const other = await startUserService(db.urls.user, { LOGIN_MAX_FAILURES_PER_ADDRESS: '4', LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '100', TRUST_PROXY: 'loopback' });
    try {
      const ip = `203.0.113.${Math.floor(Math.random() * 250)}`;
      for (let i = 0; i < 4; i++) {
        assertProblem(await http(other.base, 'POST', '/user/login', { body: { email: uniqueEmail(), password: 'wrong-password' }, headers: { 'x-forwarded-for': ip } }), 401);
      }
      const u = await register();
      assertProblem(await http(other.base, 'POST', '/user/login', { body: { email: u.email, password: u.password }, headers: { 'x-forwarded-for': ip } }), 429);
      // another address is not affected
      assert.equal((await http(other.base, 'POST', '/user/login', { body: { email: u.email, password: u.password }, headers: { 'x-forwarded-for': '198.51.100.7' } })).status, 200);
    } finally {
      await other.close();
    }
  });
});

describe('refresh tokens', () => {
  it('when a refresh token is used, then a new pair comes back and the old token is spent', async () => {
    const u = await register();
    const t1 = await login(u.email, u.password);
    const r = await http<Tokens>(base, 'POST', '/user/token/refresh', { body: { refreshToken: t1.refreshToken } });
    assert.equal(r.status, 200);
    assert.notEqual(r.body.refreshToken, t1.refreshToken);
    assert.equal(decodeJwt(r.body.accessToken).sub, u.id);
    const again = await http(base, 'POST', '/user/token/refresh', { body: { refreshToken: t1.refreshToken } });
    assertProblem(again, 401);
  });

  it('when a spent token is reused, then the whole family is revoked', async () => {
    const u = await register();
    const t1 = await login(u.email, u.password);
    const t2 = (await http<Tokens>(base, 'POST', '/user/token/refresh', { body: { refreshToken: t1.refreshToken } })).body;
    assertProblem(await http(base, 'POST', '/user/token/refresh', { body: { refreshToken: t1.refreshToken } }), 401);
    assertProblem(await http(base, 'POST', '/user/token/refresh', { body: { refreshToken: t2.refreshToken } }), 401);
    // another session of the same user is unaffected
    const other = await login(u.email, u.password);
    assert.equal((await http(base, 'POST', '/user/token/refresh', { body: { refreshToken: other.refreshToken } })).status, 200);
  });

  it('when two refreshes race with one token, then exactly one succeeds', async () => {
    const u = await register();
    const t = await login(u.email, u.password);
    const results = await Promise.all([1, 2, 3].map(() => http(base, 'POST', '/user/token/refresh', { body: { refreshToken: t.refreshToken } })));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 401, 401]);
  });

  it('when a spent token is reused (or logged out with) while the session’s newer token is being rotated, then no token of that session works afterwards', async () => {
    // The thief refreshes the session's newest token at the moment its owner presents the old one: the rotation's new
    // token must be revoked with the rest of the family, whichever of the two requests the database takes first.
    const u = await register();
    const refresh = (refreshToken: string) => http<Tokens>(base, 'POST', '/user/token/refresh', { body: { refreshToken } });
    const survivors = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const spent = (await login(u.email, u.password)).refreshToken;
        const newest = (await refresh(spent)).body.refreshToken;
        const [ended, rotated] = await Promise.all([
          i % 2 === 0 ? refresh(spent) : http(base, 'POST', '/user/logout', { body: { refreshToken: spent } }),
          refresh(newest),
        ]);
        assert.equal(ended.status, i % 2 === 0 ? 401 : 204, ended.text);
        return rotated.status === 200 && (await refresh(rotated.body.refreshToken)).status === 200;
      }),
    );
    assert.equal(survivors.filter(Boolean).length, 0, 'a token rotated while its session was revoked still refreshes');
  });

  it('when logging out, then 204 and the refresh token no longer works; unknown tokens get 401', async () => {
    const u = await register();
    const t = await login(u.email, u.password);
    const out = await http(base, 'POST', '/user/logout', { body: { refreshToken: t.refreshToken } });
    assert.equal(out.status, 204);
    assertProblem(await http(base, 'POST', '/user/token/refresh', { body: { refreshToken: t.refreshToken } }), 401);
    assertProblem(await http(base, 'POST', '/user/logout', { body: { refreshToken: t.refreshToken } }), 401);
    assertProblem(await http(base, 'POST', '/user/logout', { body: { refreshToken: 'a'.repeat(43) } }), 401);
    assertProblem(await http(base, 'POST', '/user/logout', { body: {} }), 400);
  });

  it('when logging out with a token already rotated (a thief refreshed first), then the whole session ends: the newer token no longer works', async () => {
    const u = await register();
    const t = await login(u.email, u.password);
    const stolen = await http<Tokens>(base, 'POST', '/user/token/refresh', { body: { refreshToken: t.refreshToken } });
    assert.equal(stolen.status, 200);
    assert.equal((await http(base, 'POST', '/user/logout', { body: { refreshToken: t.refreshToken } })).status, 204);
    assertProblem(await http(base, 'POST', '/user/token/refresh', { body: { refreshToken: stolen.body.refreshToken } }), 401);
    assertProblem(await http(base, 'POST', '/user/logout', { body: { refreshToken: t.refreshToken } }), 401, undefined);
  });
});

describe('GET /user/me and token verification', () => {
  it('when the token is valid, then 200 User', async () => {
    const u = await register();
    const t = await login(u.email, u.password);
    const me = await http(base, 'GET', '/user/me', { token: t.accessToken });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, u.id);
    assert.equal(me.body.password_hash, undefined);
  });

  it('when the token is missing, tampered, expired, alg none, foreign-signed or a service token, then 401', async () => {
    const u = await register();
    const t = await login(u.email, u.password);
    const [h, p, s] = t.accessToken.split('.') as [string, string, string];
    const claims = decodeJwt(t.accessToken);
    const tampered = `${h}.${base64url.encode(JSON.stringify({ ...claims, role: 'admin' }))}.${s}`;
    const none = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${p}.`;
    const foreignKey = generateKeyPairSync('ed25519').privateKey;
    const header = decodeProtectedHeader(t.accessToken);
    const foreign = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'EdDSA', kid: header.kid!, typ: 'at+jwt' }).setSubject(u.id).setIssuer('ecommerce-user-service').setAudience('ecommerce').setIssuedAt().setExpirationTime('5m').sign(foreignKey);
    const svcTok = await http<{ access_token: string }>(base, 'POST', '/user/oauth/token', { body: { grant_type: 'client_credentials', client_id: ORDER_CLIENT.id, client_secret: ORDER_CLIENT.secret } });
    // RFC 6750 3: no credentials, a bare challenge; a token sent and refused, `invalid_token`.
    const bare = await http(base, 'GET', '/user/me');
    assertProblem(bare, 401);
    assert.equal(bare.headers.get('www-authenticate'), 'Bearer');
    for (const token of ['garbage', tampered, none, foreign, svcTok.body.access_token]) {
      const res = await http(base, 'GET', '/user/me', { token });
      assertProblem(res, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token", error_description="Invalid token"', token.slice(0, 20));
    }
    const short = await startUserService(db.urls.user, { ACCESS_TOKEN_TTL_SECONDS: '60' });
    try {
      const res = await http<Tokens>(short.base, 'POST', '/user/login', { body: { email: u.email, password: u.password } });
      assert.equal(res.status, 200, res.text);
      const st = res.body;
      assert.equal(decodeJwt(st.accessToken).exp! - decodeJwt(st.accessToken).iat!, 60);
    } finally {
      await short.close();
    }
  });

  it('when the Authorization header is Bearer with one or more spaces before the token, any case of the scheme (RFC 6750 2.1: "Bearer" 1*SP b64token), then 200; another scheme, no token, a tab or two tokens, then 401', async () => {
    const u = await register();
    const t = await login(u.email, u.password);
    for (const authorization of [`Bearer ${t.accessToken}`, `Bearer  ${t.accessToken}`, `bearer    ${t.accessToken}`, `BEARER ${t.accessToken}`]) {
      const me = await http(base, 'GET', '/user/me', { headers: { authorization } });
      assert.equal(me.status, 200, `${JSON.stringify(authorization.slice(0, 12))}: ${me.text}`);
    }
    // RFC 6750 3: no Bearer credentials, a bare challenge; something sent as a token that cannot be one, `invalid_token`.
    for (const authorization of [`Bearer${t.accessToken}`, `Basic ${t.accessToken}`, 'Bearer ']) {
      const res = assertProblem(await http(base, 'GET', '/user/me', { headers: { authorization } }), 401);
      assert.equal(res.detail, 'A Bearer token is required', authorization.slice(0, 12));
    }
    for (const authorization of [`Bearer\t${t.accessToken}`, `Bearer ${t.accessToken} ${t.accessToken}`, `Bearer ,${t.accessToken}`, 'Bearer h=.p.s', 'Bearer a"b']) {
      const res = await http(base, 'GET', '/user/me', { headers: { authorization } });
      assertProblem(res, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token", error_description="Invalid token: the Authorization header must be Bearer, a space and one token"', authorization.slice(0, 12));
    }
  });
});

describe('GET /user/users (admin)', () => {
  it('when a customer asks, then 403; without a token, then 401', async () => {
    const u = await register();
    const t = await login(u.email, u.password);
    assertProblem(await http(base, 'GET', '/user/users', { token: t.accessToken }), 403, 'forbidden');
    assertProblem(await http(base, 'GET', '/user/users'), 401);
  });

  it("when an admin's account is demoted or deleted while its access token is still live, then the list is refused at once: 403, then 401 invalid_token", async () => {
    const u = await register();
    await sql(db.urls.user, `UPDATE users.users SET role = 'admin' WHERE id = $1`, [u.id]);
    const admin = await login(u.email, u.password);
    assert.equal((await http(base, 'GET', '/user/users?limit=1', { token: admin.accessToken })).status, 200);
    await sql(db.urls.user, `UPDATE users.users SET role = 'customer' WHERE id = $1`, [u.id]);
    const demoted = assertProblem(await http(base, 'GET', '/user/users?limit=1', { token: admin.accessToken }), 403, 'forbidden');
    assert.equal(demoted.detail, 'This account is no longer an admin');
    await sql(db.urls.user, `UPDATE users.users SET role = 'admin' WHERE id = $1`, [u.id]);
    assert.equal((await http(base, 'GET', '/user/users?limit=1', { token: admin.accessToken })).status, 200, 'promoted back');
    await sql(db.urls.user, 'DELETE FROM users.users WHERE id = $1', [u.id]);
    const gone = await http(base, 'GET', '/user/users?limit=1', { token: admin.accessToken });
    assertProblem(gone, 401, 'unauthorized');
    assert.equal(gone.headers.get('www-authenticate'), 'Bearer error="invalid_token", error_description="Account no longer exists"');
  });

  it('when an admin walks the pages, then every user appears once, in order, with a null cursor at the end', async () => {
    for (let i = 0; i < 5; i++) await register();
    const admin = await login('admin@example.test', 'admin-password-123');
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const res = await http<{ items: { id: string; password_hash?: string }[]; nextCursor: string | null }>(base, 'GET', `/user/users${q}`, { token: admin.accessToken });
      assert.equal(res.status, 200);
      assert.ok(res.body.items.length <= 2);
      for (const item of res.body.items) assert.equal(item.password_hash, undefined);
      seen.push(...res.body.items.map((x) => x.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 1000);
    assert.equal(new Set(seen).size, seen.length);
    assert.deepEqual([...seen].sort(), seen);
    assert.ok(seen.length >= 6);
    assertProblem(await http(base, 'GET', '/user/users?limit=0', { token: admin.accessToken }), 400);
    assertProblem(await http(base, 'GET', '/user/users?limit=101', { token: admin.accessToken }), 400);
    assertProblem(await http(base, 'GET', '/user/users?cursor=bm90LWEtY3Vyc29y', { token: admin.accessToken }), 400);
  });
});

describe('keys and service tokens', () => {
  it('when the JWKS is read, then it holds public keys only, and the kid matches issued tokens', async () => {
    const jwks = await http<{ keys: Record<string, string>[] }>(base, 'GET', '/user/.well-known/jwks.json');
    assert.equal(jwks.status, 200);
    assert.ok(jwks.body.keys.length >= 1);
    for (const k of jwks.body.keys) {
      assert.equal(k.d, undefined);
      assert.ok(k.kid);
    }
  });

  it('when the OpenAPI document is read, then every operation declares the schema of its success answer, the JWKS too, and the keys served have the members it declares', async () => {
    type Schema = { properties?: Record<string, Schema>; required?: string[]; items?: Schema };
    type Operation = { responses: Record<string, { content?: Record<string, { schema?: Schema }> }> };
    const doc = await http<{ paths: Record<string, Record<string, Operation>> }>(base, 'GET', '/user/openapi.json');
    for (const [path, item] of Object.entries(doc.body.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const success = Object.entries(op.responses).filter(([code]) => /^2\d\d$/.test(code));
        assert.ok(success.length > 0, `${method} ${path} declares no success answer`);
        for (const [code, answer] of success) if (code !== '204') assert.ok(answer.content?.['application/json']?.schema, `${method} ${path} ${code} has no schema`);
      }
    }
    const key = doc.body.paths['/user/.well-known/jwks.json']!['get']!.responses['200']!.content!['application/json']!.schema!.properties!['keys']!.items!;
    const jwks = await http<{ keys: Record<string, string>[] }>(base, 'GET', '/user/.well-known/jwks.json');
    assert.ok(jwks.body.keys.length >= 1);
    for (const k of jwks.body.keys) {
      // Every member the issuer publishes is declared (else the serializer would drop it), every required one is sent.
      assert.deepEqual(Object.keys(k).filter((m) => !(m in key.properties!)), [], JSON.stringify(k));
      assert.deepEqual(key.required!.filter((m) => !(m in k)), [], JSON.stringify(k));
    }
  });

  it('when a client presents its secret (JSON or form), then 200 service token with its scopes; wrong secret or client 401; other grant 400', async () => {
    const json = await http<{ access_token: string; token_type: string; expires_in: number }>(base, 'POST', '/user/oauth/token', {
      body: { grant_type: 'client_credentials', client_id: ORDER_CLIENT.id, client_secret: ORDER_CLIENT.secret },
    });
    assert.equal(json.status, 200);
    assert.equal(json.body.token_type, 'Bearer');
    const claims = decodeJwt(json.body.access_token);
    assert.equal(claims.sub, 'order-service');
    assert.equal(claims.aud, 'ecommerce-services');
    assert.equal(claims.scope, 'reservations:write reservations:read');
    const form = await http(base, 'POST', '/user/oauth/token', {
      raw: new URLSearchParams({ grant_type: 'client_credentials', client_id: ORDER_CLIENT.id, client_secret: ORDER_CLIENT.secret, scope: 'reservations:read' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(form.status, 200);
    assert.equal(decodeJwt(String(form.body.access_token)).scope, 'reservations:read');
    assertProblem(await http(base, 'POST', '/user/oauth/token', { body: { grant_type: 'client_credentials', client_id: ORDER_CLIENT.id, client_secret: 'wrong-secret' } }), 401);
    assertProblem(await http(base, 'POST', '/user/oauth/token', { body: { grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'x' } }), 401);
    assertProblem(await http(base, 'POST', '/user/oauth/token', { body: { grant_type: 'password', client_id: ORDER_CLIENT.id, client_secret: ORDER_CLIENT.secret } }), 400);
    assertProblem(await http(base, 'POST', '/user/oauth/token', { body: { grant_type: 'client_credentials', client_id: ORDER_CLIENT.id, client_secret: ORDER_CLIENT.secret, scope: 'admin' } }), 400);
  });

  it('when a client authenticates with HTTP Basic (RFC 6749 2.3.1), then a service token; one method per request; a failed or missing one is 401 with a Basic challenge', async () => {
    const token = (authorization: string | undefined, body: Record<string, string> = { grant_type: 'client_credentials' }) =>
      http<{ access_token: string }>(base, 'POST', '/user/oauth/token', { body, headers: authorization === undefined ? {} : { authorization } });
    const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    const good = await token(basic(ORDER_CLIENT.id, ORDER_CLIENT.secret));
    assert.equal(good.status, 200, good.text);
    assert.equal(decodeJwt(good.body.access_token).sub, 'order-service');
    // Each part is form-urlencoded before base64: %2D is "-"; the scheme's name is case-insensitive.
    const encoded = await token(`basic ${Buffer.from(`${ORDER_CLIENT.id.replace('-', '%2D')}:${encodeURIComponent(ORDER_CLIENT.secret)}`).toString('base64')}`);
    assert.equal(encoded.status, 200, encoded.text);
    // As a form, as RFC 6749 clients send it, with the same client_id in the body as some libraries do.
    const form = await http<{ access_token: string }>(base, 'POST', '/user/oauth/token', {
      raw: new URLSearchParams({ grant_type: 'client_credentials', client_id: ORDER_CLIENT.id, scope: 'reservations:read' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(ORDER_CLIENT.id, ORDER_CLIENT.secret) },
    });
    assert.equal(form.status, 200, form.text);
    assert.equal(decodeJwt(form.body.access_token).scope, 'reservations:read');
    const challenged = (res: Awaited<ReturnType<typeof token>>) => {
      assertProblem(res, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm=/, res.text);
    };
    challenged(await token(basic(ORDER_CLIENT.id, 'wrong-secret')));
    challenged(await token(basic('nobody', ORDER_CLIENT.secret)));
    challenged(await token(undefined));
    challenged(await token(undefined, { grant_type: 'client_credentials', client_id: ORDER_CLIENT.id }));
    for (const malformed of ['Basic', 'Basic !!!!', 'Basic b3JkZXI=', `Basic ${Buffer.from(':secret').toString('base64')}`, `Basic ${Buffer.from([0x6f, 0x3a, 0xff]).toString('base64')}`, `Bearer ${good.body.access_token}`, basic(ORDER_CLIENT.id, '%E0%A4%A')]) {
      challenged(await token(malformed));
    }
    // Two methods in one request, or the body naming another client: 400, no token.
    assertProblem(await token(basic(ORDER_CLIENT.id, ORDER_CLIENT.secret), { grant_type: 'client_credentials', client_secret: ORDER_CLIENT.secret }), 400);
    assertProblem(await token(basic(ORDER_CLIENT.id, ORDER_CLIENT.secret), { grant_type: 'client_credentials', client_id: 'another-service' }), 400);
  });
});

describe('the configured admin (ADMIN_EMAIL) and the sessions of its account', () => {
  const refresh = (at: string, refreshToken: string) => http<Tokens>(at, 'POST', '/user/token/refresh', { body: { refreshToken } });

  it('when ADMIN_EMAIL is no address the login takes (a letter outside ASCII, a look-alike, a trailing dot, over 254 characters), then the configuration is refused, naming it; any address the login takes is accepted', async () => {
    // The config took any `x@y.z`: the service started and made an admin whose address every login refused (400), so
    // the admin `npm start` printed could never sign in.
    const configWith = (email: string) => () => loadUserConfig({ DATABASE_URL: db.urls.user, ADMIN_EMAIL: email, ADMIN_PASSWORD: 'operator-Secret-99x' });
    for (const email of ['admin@exämple.com', 'ａdmin@example.com', 'admin@exаmple.com', 'admin@example.com.', 'ad\u200bmin@example.com', `${'a'.repeat(250)}@example.com`]) {
      assertProblem(await http(base, 'POST', '/user/login', { body: { email, password: 'operator-Secret-99x' } }), 400);
      assert.throws(configWith(email), (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.includes('ADMIN_EMAIL')), email);
    }
    await fc.assert(
      fc.asyncProperty(fc.emailAddress({ size: 'small' }), async (email) => {
        fc.pre(email.length <= 254);
        configWith(email)();
        assert.notEqual((await http(base, 'POST', '/user/login', { body: { email, password: 'operator-Secret-99x' } })).status, 400, email);
      }),
      { numRuns: 20 },
    );
  });

  it('when a customer registered that address first, then promoting it at start-up leaves them no session and no password: no admin token from their refresh token', async () => {
    const email = uniqueEmail('Boss');
    assert.equal((await http(base, 'POST', '/user/register', { body: { email, password: 'attacker-Pw-7731', name: 'Mallory' } })).status, 201);
    const before = await login(email, 'attacker-Pw-7731');
    const rotated = await refresh(base, before.refreshToken);
    assert.equal(rotated.status, 200, 'the session works before the promotion');
    // An operator (re)starts the service with this address as the admin's, on the same database.
    const second = await startUserService(db.urls.user, { ADMIN_EMAIL: email, ADMIN_PASSWORD: 'operator-Secret-99x' });
    try {
      for (const at of [second.base, base]) assertProblem(await refresh(at, rotated.body.refreshToken), 401);
      assert.equal((await http(second.base, 'POST', '/user/login', { body: { email, password: 'attacker-Pw-7731' } })).status, 401);
      const admin = await http<Tokens>(second.base, 'POST', '/user/login', { body: { email, password: 'operator-Secret-99x' } });
      assert.equal(admin.status, 200, admin.text);
      assert.equal(decodeJwt(admin.body.accessToken)['role'], 'admin');
      // The admin's own new session refreshes as an admin's.
      const next = await refresh(second.base, admin.body.refreshToken);
      assert.equal(next.status, 200, next.text);
      assert.equal(decodeJwt(next.body.accessToken)['role'], 'admin');
    } finally {
      await second.close();
    }
  });

  it("when an account's role changed while a session was open (not revoked: a login racing the promotion), then that session is refused on refresh and revoked, never given the new role", async () => {
    const u = await register();
    const customer = await login(u.email, u.password);
    await sql(db.urls.user, `UPDATE users.users SET role = 'admin' WHERE id = $1`, [u.id]);
    const refused = assertProblem(await refresh(base, customer.refreshToken), 401);
    assert.match(String(refused.detail), /role changed/);
    // Revoked, not merely refused: the same token stays dead after the role is put back.
    await sql(db.urls.user, `UPDATE users.users SET role = 'customer' WHERE id = $1`, [u.id]);
    assertProblem(await refresh(base, customer.refreshToken), 401);
    // A new login is a new session with the role of now.
    const again = await login(u.email, u.password);
    assert.equal((await refresh(base, again.refreshToken)).status, 200);
  });
});

describe('methods a route does not serve', () => {
  it('when a route is asked with a method it does not serve (DELETE /user/me, PUT /user/register, DELETE /user/logout, PROPFIND), then 405 with Allow and nothing changes', async () => {
    const u = await register();
    const t = await login(u.email, u.password);
    assertMethodNotAllowed(await http(base, 'DELETE', '/user/me', { token: t.accessToken }), 'GET, HEAD');
    assertMethodNotAllowed(await http(base, 'PROPFIND', '/user/me', { token: t.accessToken }), 'GET, HEAD');
    assert.equal((await http(base, 'GET', '/user/me', { token: t.accessToken })).body.id, u.id);
    // A registration sent with PUT makes no account: the address is still free afterwards.
    const body = { email: uniqueEmail('put'), password: 'correct-horse-1', name: 'Put' };
    assertMethodNotAllowed(await http(base, 'PUT', '/user/register', { body }), 'POST');
    assert.equal((await http(base, 'POST', '/user/register', { body })).status, 201);
    // A logout sent with DELETE ends no session: the refresh token still works.
    assertMethodNotAllowed(await http(base, 'DELETE', '/user/logout', { body: { refreshToken: t.refreshToken } }), 'POST');
    assert.equal((await http(base, 'POST', '/user/token/refresh', { body: { refreshToken: t.refreshToken } })).status, 200);
    const put = await http(base, 'PUT', '/user/login', { body: { email: u.email, password: u.password } });
    assertMethodNotAllowed(put, 'POST');
    assert.equal(put.body.accessToken, undefined);
    assertMethodNotAllowed(await http(base, 'POST', '/user/.well-known/jwks.json'), 'GET, HEAD');
    assertMethodNotAllowed(await http(base, 'PATCH', '/user/users', { body: { role: 'admin' } }), 'GET, HEAD');
  });
});
