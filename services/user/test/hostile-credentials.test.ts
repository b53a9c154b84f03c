// Credentials from places the kit's body, query and path guards do not walk (headers), and other hostile shapes of
// the credentials the user service takes: each a clear 4xx problem, never a 500.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ORDER_CLIENT, assertProblem, http } from '@ecommerce/test-support';
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
