// The shared public contract (API.md, docs/api.md) as an outside client meets it: the whole platform as real
// processes (tests/src/platform.ts), every request through the gateway, nothing but HTTP. A check lives here when a
// client written against the contract saw the platform answer otherwise.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, registerAccount, type HttpResult } from '@ecommerce/test-support';
import { startPlatform, type Platform } from '../src/platform.js';

let platform: Platform;
let gateway: string;

before(
  async () => {
    platform = await startPlatform();
    gateway = platform.procs.gateway.base;
  },
  { timeout: 120_000 },
);

after(async () => {
  await platform?.stop();
});

function assertProblem(res: HttpResult, status: number): void {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal((res.body as { status?: number }).status, status);
}

async function session(): Promise<{ refreshToken: string }> {
  const account = await registerAccount(gateway, { tag: 'contract' });
  const res = await http<{ refreshToken: string }>(gateway, 'POST', '/user/login', { body: { email: account.email, password: account.password } });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

// API.md: POST /user/token/refresh and POST /user/logout fail with 401 only. A refresh token is opaque to the client:
// one it does not hold (a typo, a token of another system, one cut short, a JWT pasted by mistake) is an invalid
// token, not an invalid request. The schema asked for 20..200 characters, so `"nope"` was a 400 validation-failed.
describe('when a client sends a refresh token the platform never issued, whatever its length', () => {
  const unknownTokens = ['nope', '', 'x'.repeat(19), 'eyJhbGciOiJFZERTQSJ9.' + 'a'.repeat(600)];

  it('then POST /user/token/refresh answers 401, and a live session is untouched', async () => {
    const live = await session();
    for (const refreshToken of unknownTokens) {
      assertProblem(await http(gateway, 'POST', '/user/token/refresh', { body: { refreshToken } }), 401);
    }
    const rotated = await http<{ refreshToken: string }>(gateway, 'POST', '/user/token/refresh', { body: { refreshToken: live.refreshToken } });
    assert.equal(rotated.status, 200, rotated.text);
  });

  it('then POST /user/logout answers 401, and a live session is untouched', async () => {
    const live = await session();
    for (const refreshToken of unknownTokens) {
      assertProblem(await http(gateway, 'POST', '/user/logout', { body: { refreshToken } }), 401);
    }
    const out = await http(gateway, 'POST', '/user/logout', { body: { refreshToken: live.refreshToken } });
    assert.equal(out.status, 204, out.text);
  });

  it('then a refresh token that is not a string is still a 400 (wrong type)', async () => {
    const res = await http<{ errors: { path: string }[] }>(gateway, 'POST', '/user/token/refresh', { body: { refreshToken: 42 } });
    assertProblem(res, 400);
    assert.equal(res.body.errors[0]?.path, '/refreshToken');
  });
});
