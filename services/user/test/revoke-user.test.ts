// Ending every session of an account (its password or role reset by ensureAdmin at start-up) while one of them is
// being rotated: the rotation's new token must end with the rest, as a revoked family's does (user.test.ts).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { http, registerAccount } from '@ecommerce/test-support';
import { base, startUserServiceForFile, userApp } from './harness.js';

interface Tokens {
  refreshToken: string;
}

startUserServiceForFile();

describe('ending all sessions of an account', () => {
  it('when every session of an account is ended while one of its tokens is being rotated, then no token of the account refreshes afterwards', async () => {
    const refresh = (refreshToken: string) => http<Tokens>(base, 'POST', '/user/token/refresh', { body: { refreshToken } });
    const survivors = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const { id, email, password } = await registerAccount(base, { tag: 'revoke-user' });
        const login = await http<Tokens>(base, 'POST', '/user/login', { body: { email, password } });
        assert.equal(login.status, 200, login.text);
        // The refresh travels over HTTP, the revocation does not: staggered by 0 to 46 ms so some land mid-rotation.
        const revoked = sleep(i * 2).then(() => userApp.sessionRepository.revokeUser(id));
        const [, rotated] = await Promise.all([revoked, refresh(login.body.refreshToken)]);
        return rotated.status === 200 && (await refresh(rotated.body.refreshToken)).status === 200;
      }),
    );
    assert.equal(survivors.filter(Boolean).length, 0, 'a token rotated while its account’s sessions were ended still refreshes');
  });
});
