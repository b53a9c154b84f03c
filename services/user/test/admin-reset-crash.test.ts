// The configured admin's password reset at start-up (ensureAdmin) ends every session of the account. A process that
// dies between writing the new password and ending the sessions must not leave them alive: started again with the
// same configuration, it finds the password already set and has nothing left to tell it the sessions are stale.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ORDER_CLIENT, TEST_ADMIN, holdSessionLock, http, spawnServiceProcess, sql, waitFor } from '@ecommerce/test-support';
import { GENEROUS_BUDGETS, base, db, startUserService, startUserServiceForFile, testSigningKey } from './harness.js';

interface Tokens {
  refreshToken: string;
}

startUserServiceForFile();

describe('the admin password reset at start-up, cut by SIGKILL', () => {
  it('when the process is SIGKILLed after the new password is written and before the sessions are ended, then started again the old session is ended all the same', { timeout: 60_000 }, async () => {
    const old = await http<Tokens>(base, 'POST', '/user/login', { body: { email: TEST_ADMIN.email, password: TEST_ADMIN.password } });
    assert.equal(old.status, 200, old.text);
    const hashOf = async () => (await sql<{ password_hash: string }>(db.urls.user, 'SELECT password_hash FROM users.users WHERE email = $1', [TEST_ADMIN.email]))[0]!.password_hash;
    const hashBefore = await hashOf();
    const newPassword = 'rotated-Admin-Secret-4417';
    // The session's lock held here makes the restarted process wait right where ending the sessions begins.
    const held = await holdSessionLock(db.urls.user, old.body.refreshToken);
    const main = fileURLToPath(new URL('../src/main.js', import.meta.url));
    const proc = spawnServiceProcess(main, {
      ...GENEROUS_BUDGETS,
      DATABASE_URL: db.urls.user,
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
      JWT_PRIVATE_KEY: testSigningKey(),
      SERVICE_CLIENTS: JSON.stringify([ORDER_CLIENT]),
      ADMIN_EMAIL: TEST_ADMIN.email,
      ADMIN_PASSWORD: newPassword,
    });
    try {
      await waitFor('the restarted process to wait for the session it is ending', async () => (await held.waiters()) === 1, 30_000);
      assert.equal(await proc.kill(), 'SIGKILL');
    } finally {
      await proc.kill();
      await held.release();
    }
    console.log(`# SIGKILLed mid-reset: password ${(await hashOf()) === hashBefore ? 'unchanged (rolled back)' : 'already changed'}`);
    // The operator's process is started again, with the same configuration.
    const again = await startUserService(db.urls.user, { ADMIN_PASSWORD: newPassword });
    try {
      const refreshed = await http<Tokens>(again.base, 'POST', '/user/token/refresh', { body: { refreshToken: old.body.refreshToken } });
      assert.equal(refreshed.status, 401, `the session begun with the old password still refreshes: ${refreshed.text}`);
      assert.equal((await http(again.base, 'POST', '/user/login', { body: { email: TEST_ADMIN.email, password: TEST_ADMIN.password } })).status, 401);
      assert.equal((await http(again.base, 'POST', '/user/login', { body: { email: TEST_ADMIN.email, password: newPassword } })).status, 200);
    } finally {
      await again.close();
    }
  });
});
