// Credentials from places the kit's body, query and path guards do not walk (headers), and other hostile shapes of
// the credentials the user service takes: each a clear 4xx problem, never a 500.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeJwt } from 'jose';
import { ORDER_CLIENT, assertProblem, http, uniqueEmail } from '@ecommerce/test-support';
import { base, startUserServiceForFile } from './harness.js';

startUserServiceForFile();

describe('client authentication by HTTP Basic at the token endpoint', () => {
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
  const token = (authorization: string) => http(base, 'POST', '/user/oauth/token', { body: { grant_type: 'client_credentials' }, headers: { authorization } });

  it('when the id or the secret holds a NUL (raw or form-encoded %00), then 401 with the Basic challenge, never a 500', async () => {
    const cases: [string, string][] = [
      ['a%00b', 'x'.repeat(16)],
      ['\u0000order-service', ORDER_CLIENT.secret],
      [`${ORDER_CLIENT.id}%00`, ORDER_CLIENT.secret],
      [ORDER_CLIENT.id, `${ORDER_CLIENT.secret}%00`],
      [ORDER_CLIENT.id, `${ORDER_CLIENT.secret}\u0000`],
    ];
    for (const [id, secret] of cases) {
      const res = await token(basic(id, secret));
      assertProblem(res, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm=/, `${JSON.stringify(id)}:${JSON.stringify(secret)} -> ${res.text}`);
    }
    // The right credentials still work afterwards.
    assert.equal((await token(basic(ORDER_CLIENT.id, ORDER_CLIENT.secret))).status, 200);
  });
});

describe('a body of a type the route does not read', () => {
  it('when the token endpoint or login is sent text/plain, multipart or another type, then 415 whose detail names the types that route reads (the form at the token endpoint), nothing issued', async () => {
    const type = fc.constantFrom('text/plain', 'text/plain; charset=utf-8', 'multipart/form-data; boundary=x', 'application/merge-patch+json', 'application/xml', 'application/jwt');
    await fc.assert(
      fc.asyncProperty(type, fc.constantFrom('/user/oauth/token', '/user/login'), async (contentType, path) => {
        const res = await http(base, 'POST', path, { raw: `grant_type=client_credentials&client_id=${ORDER_CLIENT.id}&client_secret=${ORDER_CLIENT.secret}`, headers: { 'content-type': contentType } });
        const p = assertProblem(res, 415, 'unsupported-media-type');
        const wanted = path === '/user/oauth/token' ? 'send application/x-www-form-urlencoded or application/json' : 'send application/json';
        assert.ok(p.detail.endsWith(wanted), `${path} ${contentType}: ${p.detail}`);
      }),
      { numRuns: 24 },
    );
  });
});

describe('the token request: its form body and its scope', () => {
  const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
  const tokenFor = (raw: string | Buffer, headers: Record<string, string> = {}) => http<{ access_token?: string; scope?: string; error?: string }>(base, 'POST', '/user/oauth/token', { raw, headers: { ...FORM, ...headers } });
  const credentials = `grant_type=client_credentials&client_id=${ORDER_CLIENT.id}&client_secret=${ORDER_CLIENT.secret}`;

  it('when the scope names allowed scopes with repeated, leading or trailing spaces, or one twice (form or JSON), then the token has each once, in the order first named; only spaces is as if omitted (every scope)', async () => {
    const scopes = fc.array(fc.constantFrom(...ORDER_CLIENT.scopes), { maxLength: 5 });
    const spaces = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 6, maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(scopes, spaces, fc.boolean(), fc.boolean(), fc.boolean(), async (named, gaps, lead, trail, asForm) => {
        const scope = (lead ? ' '.repeat(gaps[0]!) : '') + named.map((s, i) => (i ? ' '.repeat(gaps[i]!) : '') + s).join('') + (trail ? ' '.repeat(gaps[5]!) : '');
        const expected = named.length ? [...new Set(named)] : ORDER_CLIENT.scopes;
        const res = asForm
          ? await tokenFor(`${credentials}&scope=${encodeURIComponent(scope)}`)
          : await http<{ access_token?: string; scope?: string }>(base, 'POST', '/user/oauth/token', { body: { grant_type: 'client_credentials', client_id: ORDER_CLIENT.id, client_secret: ORDER_CLIENT.secret, scope } });
        assert.equal(res.status, 200, `${JSON.stringify(scope)}: ${res.text}`);
        assert.equal(res.body.scope, expected.join(' '), JSON.stringify(scope));
        assert.equal(decodeJwt(String(res.body.access_token)).scope, expected.join(' '), JSON.stringify(scope));
      }),
      { numRuns: 30 },
    );
  });

  it('when the form body is not UTF-8, or holds a bad percent-escape or one that is not UTF-8, in any field, then 400 (invalid_request) with no token, even with the right secret in an Authorization header', async () => {
    const basic = `Basic ${Buffer.from(`${ORDER_CLIENT.id}:${ORDER_CLIENT.secret}`).toString('base64')}`;
    const bad = fc.constantFrom<string | Buffer>(Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xe9]), '%FF', '%C3', '%E2%82', '%ED%A0%80', '%ZZ', '%', '%4');
    const fields = ['grant_type=client_credentials', `client_id=${ORDER_CLIENT.id}`, `client_secret=${ORDER_CLIENT.secret}`, 'scope=reservations:read'];
    await fc.assert(
      fc.asyncProperty(bad, fc.nat(fields.length - 1), fc.boolean(), fc.boolean(), async (broken, at, inName, byHeader) => {
        const parts = (byHeader ? fields.filter((f) => !f.startsWith('client_secret')) : fields).map((f) => Buffer.from(f));
        const i = at % parts.length;
        const field = parts[i]!.toString();
        const eq = field.indexOf('=');
        const cut = inName ? 2 : field.length;
        const glued = Buffer.concat([Buffer.from(field.slice(0, cut)), Buffer.from(broken), Buffer.from(field.slice(cut))]);
        parts[i] = glued;
        const body = Buffer.concat(parts.flatMap((p, j) => (j ? [Buffer.from('&'), p] : [p])));
        const res = await tokenFor(body, byHeader ? { authorization: basic } : {});
        assert.ok(eq > 0);
        assertProblem(res, 400);
        assert.equal(res.body.access_token, undefined);
      }),
      { numRuns: 40 },
    );
  });

  it('when a parameter is sent twice (RFC 6749 3.1), even under another escape of its name, then 400 invalid_request with no token', async () => {
    for (const extra of ['&client_secret=x', `&client_secret=${ORDER_CLIENT.secret}`, '&grant_type=client_credentials', '&scope=reservations:read&scope=reservations:write', '&%73cope=a&scope=b']) {
      const res = await tokenFor(credentials + extra);
      assertProblem(res, 400);
      assert.equal(res.body.access_token, undefined, extra);
      assert.equal(res.body.error, 'invalid_request', extra);
    }
    // The same body without them is served: an empty pair (`&&`) is no parameter.
    assert.equal((await tokenFor(`&${credentials}&&`)).status, 200);
  });

  // RFC 6749 3.2: "The authorization server MUST ignore unrecognized request parameters"; 3.1: "Parameters sent
  // without a value MUST be treated as if they were omitted from the request." They were 400s (unknown property).
  it('when unrecognized parameters (any name, any value, NUL and __proto__ included, some repeated) or empty-valued ones are added, form or JSON, then the token is the one the request without them gets', async () => {
    const known = new Set(['grant_type', 'client_id', 'client_secret', 'scope']);
    const name = fc.oneof(fc.constantFrom('audience', 'resource', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'client_assertion', 'Scope', 'grant_type '), fc.string({ minLength: 1, maxLength: 12 })).filter((n) => !known.has(n));
    const value = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('\u0000', 'a\u0000b', '', 'x'.repeat(300)));
    const extras = fc.array(fc.tuple(name, value, fc.boolean()), { maxLength: 5 });
    const basic = `Basic ${Buffer.from(`${ORDER_CLIENT.id}:${ORDER_CLIENT.secret}`).toString('base64')}`;
    await fc.assert(
      fc.asyncProperty(extras, fc.boolean(), fc.boolean(), fc.constantFrom<string | undefined>(undefined, 'reservations:read'), async (added, asForm, byHeader, scope) => {
        const params: [string, string][] = [['grant_type', 'client_credentials']];
        if (byHeader) params.push(['client_id', ''], ['client_secret', '']);
        else params.push(['client_id', ORDER_CLIENT.id], ['client_secret', ORDER_CLIENT.secret]);
        params.push(['scope', scope ?? '']);
        const headers: Record<string, string> = byHeader ? { authorization: basic } : {};
        let res;
        if (asForm) {
          const pairs = [...params, ...added.flatMap(([n, v, twice]) => (twice ? [[n, v], [n, `${v}2`]] : [[n, v]]))];
          res = await tokenFor(pairs.map(([n, v]) => `${encodeURIComponent(n!)}=${encodeURIComponent(v!)}`).join('&'), headers);
        } else {
          // JSON (this API's own addition to RFC 6749's form): an object names a member once, and `__proto__` is refused
          // in every JSON body (the kit's parser, before any route reads it).
          const body: Record<string, string> = Object.fromEntries(params);
          for (const [n, v] of added.filter(([n]) => n !== '__proto__')) Object.defineProperty(body, n, { value: v, enumerable: true, configurable: true, writable: true });
          res = await http<{ access_token?: string; scope?: string }>(base, 'POST', '/user/oauth/token', { body, headers });
        }
        const label = `${JSON.stringify(added)} form=${asForm} basic=${byHeader}`;
        assert.equal(res.status, 200, `${label}: ${res.text}`);
        const expected = scope ?? ORDER_CLIENT.scopes.join(' ');
        assert.equal(res.body.scope, expected, label);
        assert.equal(decodeJwt(String(res.body.access_token)).scope, expected, label);
      }),
      { numRuns: 40 },
    );
  });

  it('when the request fails, then its 400 or 401 problem names the OAuth error code (RFC 6749 5.2): invalid_request, invalid_client, unsupported_grant_type, invalid_scope', async () => {
    const cases: [string, number, string][] = [
      [`grant_type=password&client_id=${ORDER_CLIENT.id}&client_secret=${ORDER_CLIENT.secret}`, 400, 'unsupported_grant_type'],
      [`${credentials}&scope=admin`, 400, 'invalid_scope'],
      [`client_id=${ORDER_CLIENT.id}&client_secret=${ORDER_CLIENT.secret}`, 400, 'invalid_request'],
      [`grant_type=&client_id=${ORDER_CLIENT.id}&client_secret=${ORDER_CLIENT.secret}`, 400, 'invalid_request'],
      ['grant_type=client_credentials&client_id=nobody&client_secret=wrong-secret', 401, 'invalid_client'],
      ['grant_type=client_credentials', 401, 'invalid_client'],
      [`grant_type=client_credentials&client_id=${ORDER_CLIENT.id}&client_secret=not-the-secret`, 401, 'invalid_client'],
    ];
    for (const [body, status, error] of cases) {
      const res = await tokenFor(body);
      assertProblem(res, status);
      assert.equal(res.body.error, error, `${body}: ${res.text}`);
      assert.equal(res.body.access_token, undefined, body);
    }
  });
});

describe('the length of a new password, counted as it is hashed (NFKC)', () => {
  // Each has 8 or more code points as sent (the schema's minimum), and fewer characters once normalized, which is
  // the password that is hashed and that any form of it opens: Hangul jamo compose into syllables (8 into 3), a
  // letter and its combining mark into one character.
  const short = [
    ['\u1112\u1161\u11ab\u1100\u116e\u11a8\u110b\u1165', 3],
    ['xqze\u0301n\u0303u\u0308', 6],
    ['mo\u0301n\u0303e\u0301z\u030c', 5],
  ] as const;

  it('when it is under 8 characters once normalized, then 400 on /password and no account; the same characters to 8, then 201', async () => {
    for (const [password, characters] of short) {
      assert.ok([...password].length >= 8 && [...password.normalize('NFKC')].length === characters);
      const email = uniqueEmail('Short');
      const res = await http(base, 'POST', '/user/register', { body: { email, password, name: 'S' } });
      const p = assertProblem(res, 400, 'validation-failed');
      assert.equal(p.errors?.[0]?.path, '/password', res.text);
      assert.match(String(p.errors?.[0]?.message), /at least 8 characters/);
      // Nothing was made: the email is free, and a password of 8 characters or more of the same kind is taken.
      assert.equal((await http(base, 'POST', '/user/register', { body: { email, password: `${password}${'\u1112\u1161\u11ab'.repeat(2)}mqp9`, name: 'S' } })).status, 201);
    }
  });
});
