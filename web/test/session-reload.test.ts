// A reload during the page's own refresh keeps the session, in a real Chromium against the whole platform: the
// reload closes the connection of the refresh in flight, the gateway aborts it upstream, and the user service rolls
// the rotation back instead of spending the cookie the next page sends (docs/api.md, "Refresh token in a cookie").
// The refresh is held deterministically: the test holds its session's lock in PostgreSQL (every rotation takes it).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { holdSessionLock, metricValue, waitFor } from '@ecommerce/test-support';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath } from '../tools/browser.js';
import { startOwnStack, type OwnStack } from '../tools/stack.js';

const START_MS = 180_000;
const STEP_MS = 120_000;
const COOKIE = '__Secure-refresh-token';

let stack: OwnStack;
let browser: Browser;
let base: string;
const crashes: string[] = [];

before(
  async () => {
    const executablePath = chromiumPath();
    stack = await startOwnStack({}, (service, tail) => crashes.push(`${service}: ${tail.join('\n')}`));
    base = stack.urls.gateway;
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  },
  { timeout: START_MS },
);

after(async () => {
  await browser?.close();
  await stack?.stop();
  assert.deepEqual(crashes, [], 'a service crashed during the test');
});

const signedIn = (page: Page) => page.getByRole('button', { name: 'Sign out' });
/** The user service's requests waiting for a connection, a share of them, or their turn at one row (its /metrics). */
const pendingAtUser = async () => metricValue(await (await fetch(`${stack.urls.user}/metrics`)).text(), 'db_client_connection_pending_requests');

describe('a reload during the refresh', { concurrency: false }, () => {
  test('when a signed-in page is reloaded while its own refresh waits at the user service, then after the reload the user is still signed in (the abandoned rotation was rolled back)', { timeout: STEP_MS }, async () => {
    const email = `reload.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}@example.test`;
    const registered = await fetch(`${base}/user/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'correct-horse-9', name: 'Ada Reload' }) });
    assert.equal(registered.status, 201);
    const context = await browser.newContext({ baseURL: base });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('/signin');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct-horse-9');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await signedIn(page).waitFor();
    await page.goto('/cart');
    await signedIn(page).waitFor();

    const token = (await context.cookies()).find((c) => c.name === COOKIE && c.path === '/user/token/refresh')!.value;
    const held = await holdSessionLock(stack.adminUrl, token);
    try {
      // This page's session check: its refresh reaches the user service and waits there for the session's lock.
      await page.reload({ waitUntil: 'commit' });
      await waitFor('the page refresh to wait at the user service', async () => (await held.waiters()) === 1);
      // Reloaded again meanwhile: the browser drops that refresh, and the new page sends the same cookie, which
      // waits behind it: for its turn at the session in the user service (one refresh of a session waits in
      // PostgreSQL, the rest in the process: SessionRepository.transaction), counted in its pending requests.
      await page.reload({ waitUntil: 'commit' });
      await waitFor("the new page's refresh to wait behind the first", async () => (await held.waiters()) === 1 && (await pendingAtUser()) >= 1);
    } finally {
      await held.release();
    }
    await signedIn(page).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Sign in' }).count(), 0);
    // The session is really alive on the server: one more reload is signed in too.
    await page.reload();
    await signedIn(page).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });
});
