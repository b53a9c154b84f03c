// Credentials from places the kit's body, query and path guards do not walk (headers), and other hostile shapes of
// the credentials the user service takes: each a clear 4xx problem, never a 500.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
