// Signing in and out and the session in a real Chromium against the whole platform (harness.ts): the sign-in forms,
// where a sign-in returns to, the session's refresh failing or held, expired tokens, Sign out, and what another
// origin or a crafted address cannot do (CSRF, clickjacking, tokens in URLs).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type BrowserContext, type Route } from 'playwright-core';
import { sameSitePath } from '../../src/return-path.js';
import { addToCart, api, assertAccessible, authFieldRefused, base, browser, dialogsOf, headerStates, holdRequests, login, newProduct, newShopper, ordersOf, problem, recordHeaderStates, reloadWithSessionCheckHeld, screenshot, shopperAtCheckout, signedInShopper, signInAs, stack, startStackAndBrowser, STEP_MS, stockOf, tryAgainWhileRefreshAnswers, uniqueEmail } from './harness.js';

startStackAndBrowser();


/** Every request of `context` to another host, refused and noted: the shop fetches nothing off its own host. */
async function offHost(context: BrowserContext): Promise<string[]> {
  const outside: string[] = [];
  await context.route((u) => !['127.0.0.1', 'localhost'].includes(u.hostname), (route) => (outside.push(route.request().url()), route.abort()));
  return outside;
}

describe('storefront in Chromium: signing in and out, the session', { concurrency: false }, () => {
  test('a page of another origin that opens the shop (window.open) keeps no handle on it: it cannot swap the shop for a look-alike page of its own, and the shop has no window.opener (Cross-Origin-Opener-Policy)', { timeout: STEP_MS }, async () => {
    // The other origin: another port of this host, as a page on another site would be.
    const attacker = createServer((request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end(request.url === '/look-alike' ? '<!doctype html><title>Sign in again</title><p>look-alike</p>' : '<!doctype html><title>elsewhere</title><p>elsewhere</p>');
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(attacker.address() as { port: number }).port}`;
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${origin}/`);
      const [shop] = await Promise.all([context.waitForEvent('page'), page.evaluate((url) => void Object.assign(window, { shop: window.open(url) }), `${base}/signin`)]);
      await shop.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
      assert.equal(await shop.evaluate(() => window.opener === null), true, 'the shop can reach the page that opened it');
      // To the opener the shop's window is gone (a separate browsing context group); a navigation of it does nothing.
      assert.equal(await page.evaluate(() => (window as unknown as { shop: Window }).shop.closed), true, 'the opener still holds the shop');
      await page.evaluate((url) => {
        try {
          (window as unknown as { shop: Window }).shop.location.href = url;
        } catch {
          // Refused outright is fine too.
        }
      }, `${origin}/look-alike`);
      await shop.waitForTimeout(1000);
      assert.equal(new URL(shop.url()).origin, base, `the shop became ${shop.url()}`);
      assert.equal(await shop.getByRole('button', { name: 'Sign in', exact: true }).count(), 1);
    } finally {
      await context.close();
      await new Promise((resolve) => attacker.close(resolve));
    }
  });

  test('a page of another origin (another port of this host, the same site; or another site) cannot sign the shopper out, renew their session, sign them in as someone else, read their account or frame the shop (CSRF, clickjacking)', { timeout: STEP_MS }, async () => {
    const { context, page, errors, email } = await signedInShopper('csrf');
    const shopperId = (await api<{ id: string }>('GET', '/user/me', undefined, await login(email, 'correct-horse-9'))).body.id;
    // Login CSRF: the other origin's own account, whose password holds the `=` a text/plain form puts between a field's
    // name and value, so that its body is the JSON of a valid sign-in.
    const theirs = { email: uniqueEmail('csrf-theirs'), password: 'attacker=horse-9' };
    assert.equal((await api('POST', '/user/register', { ...theirs, name: 'Mallory' }, '')).status, 201);
    const [namePart, valuePart] = JSON.stringify({ ...theirs, refreshTokenIn: 'cookie' }).split('=') as [string, string];
    // What a page can send without a CORS preflight: forms (text/plain, shaped as JSON), no-cors fetches, beacons;
    // and what needs one: a JSON fetch with the cookie, a read of /user/me. The shop grants no CORS at all.
    const attack = `<!doctype html><body>
      ${['/user/logout', '/user/token/refresh'].map((path, i) => `<form id="f${i}" method="POST" action="${base}${path}" enctype="text/plain" target="t${i}"><input name='{"a":"' value='"}'></form><iframe name="t${i}"></iframe>`).join('')}
      <form id="f2" method="POST" action="${base}/user/login" enctype="text/plain" target="t2"><input name='${namePart}' value='${valuePart}'></form><iframe name="t2"></iframe>
      <iframe id="framed" src="${base}/orders"></iframe>
      <script src="/attack.js"></script>`;
    const script = `(async () => {
      const results = {};
      const tries = {
        noCorsRefresh: ['/user/token/refresh', { method: 'POST', mode: 'no-cors', credentials: 'include', body: '{}' }],
        noCorsLogout: ['/user/logout', { method: 'POST', mode: 'no-cors', credentials: 'include', body: '{}' }],
        jsonRefresh: ['/user/token/refresh', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: '{}' }],
        readMe: ['/user/me', { credentials: 'include' }],
      };
      for (const [key, [path, init]] of Object.entries(tries)) {
        try { const r = await fetch(${JSON.stringify(base)} + path, init); results[key] = r.type + ' ' + r.status; } catch (e) { results[key] = 'refused'; }
      }
      try { navigator.sendBeacon(${JSON.stringify(base)} + '/user/logout', new Blob(['{}'], { type: 'application/json' })); } catch {}
      for (const id of ['f0', 'f1', 'f2']) document.getElementById(id).submit();
      window.results = results;
    })();`;
    const attacker = createServer((request, response) => {
      response.setHeader('content-type', request.url === '/attack.js' ? 'text/javascript' : 'text/html');
      response.end(request.url === '/attack.js' ? script : attack);
    });
    const answers: string[] = [];
    context.on('response', (r) => {
      if (r.request().frame().page() !== page && r.url().startsWith(`${base}/user/`)) answers.push(`${r.request().method()} ${new URL(r.url()).pathname} ${r.status()}${r.headers()['set-cookie'] ? ' set-cookie' : ''}`);
    });
    try {
      for (const host of ['127.0.0.1', '127.0.0.2']) {
        await new Promise<void>((resolve) => attacker.listen(0, host, resolve));
        const other = await context.newPage();
        await other.goto(`http://${host}:${(attacker.address() as { port: number }).port}/`);
        const results = await (await other.waitForFunction(() => (window as unknown as { results?: unknown }).results)).jsonValue();
        // Each form's answer is in its frame (or refused to be one): wait for the three.
        await other.waitForFunction(() => [...document.querySelectorAll('iframe[name]')].every((f) => { try { return (f as HTMLIFrameElement).contentDocument?.URL !== 'about:blank'; } catch { return true; } }));
        await other.waitForTimeout(500);
        assert.deepEqual(results, { noCorsRefresh: 'refused', noCorsLogout: 'refused', jsonRefresh: 'refused', readMe: 'refused' }, host);
        assert.deepEqual(other.frames().filter((f) => f.url().startsWith(base)).map((f) => f.url()), [], `${host}: the shop shows in a frame of another origin`);
        // The three forms reached the user service (no-cors fetches and the beacon did not), and were refused before it
        // looked at a cookie (415: not application/json), setting none.
        assert.deepEqual(answers.sort(), ['POST /user/login 415', 'POST /user/logout 415', 'POST /user/token/refresh 415'], host);
        answers.length = 0;
        await other.close();
        await new Promise((resolve) => attacker.close(resolve));
        // The shopper's own session is as it was: a reload renews it, as the shopper, not as the other origin's account.
        await page.reload();
        await page.getByRole('button', { name: 'Sign out' }).waitFor();
        assert.equal(await page.evaluate(() => sessionStorage.getItem('ecommerce.tab-user')), shopperId, `${host}: signed in as another account by another origin's form`);
      }
      assert.deepEqual(errors, []);
    } finally {
      attacker.close();
      await context.close();
    }
  });

  test('a sign-in link whose next address leaves the shop (/\\host, //host, a scheme, dot segments that leave //host) lands on the shop start after signing in', { timeout: STEP_MS }, async () => {
    const email = uniqueEmail('nextlink');
    assert.equal((await api('POST', '/user/register', { email, password: 'correct-horse-9', name: 'N' }, '')).status, 201);
    // /.//evil.example resolves to //evil.example: React Router refused it with the app's error page, the visitor stuck on /signin.
    for (const next of ['/%5Cevil.example', '//evil.example', 'https://evil.example/', '/.//evil.example', '/%2e//evil.example/x', '/orders']) {
      const { context, page, errors } = await newShopper();
      await page.goto(`/signin?next=${next}`);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill('correct-horse-9');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
      const url = new URL(page.url());
      assert.equal(url.origin, new URL(base).origin, next);
      assert.equal(url.pathname, next === '/orders' ? '/orders' : '/', next);
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      assert.deepEqual(errors, [], next);
      await context.close();
    }
  });

  test('Sign in from the header brings the visitor back to the page they were on (a product page, the cart), and the admin notice\'s Sign in to the admin page asked for, its filter too', { timeout: STEP_MS }, async () => {
    const email = uniqueEmail('back');
    assert.equal((await api('POST', '/user/register', { email, password: 'correct-horse-9', name: 'Back' }, '')).status, 201);
    const product = await newProduct({ name: 'Return lamp' });
    const { context, page, errors } = await newShopper();
    // The old code: the header's Sign in was /signin with no next, so every sign-in from it landed on the shop's start.
    for (const [from, expected] of [[`/products/${product.id}`, `/products/${product.id}`], ['/cart?x=1', '/cart?x=1']] as const) {
      await page.goto(from);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign in' }).click();
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill('correct-horse-9');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
      const url = new URL(page.url());
      assert.equal(url.pathname + url.search, expected, from);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign in' }).waitFor();
    }
    const filtered = `/admin/orders?userId=${randomUUID()}`;
    await page.goto(filtered);
    await page.getByRole('main').getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('Email').fill(stack.admin.email);
    await page.getByLabel('Password').fill(stack.admin.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'All orders', level: 2 }).waitFor();
    const url = new URL(page.url());
    assert.equal(url.pathname + url.search, filtered);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('signing in says it is under way, a refusal takes the focus, and a blank name is said in words; switching to the other form focuses its first field', { timeout: STEP_MS }, async () => {
    const product = await newProduct({ name: 'Auth lamp' });
    const { context, page, errors } = await newShopper();
    await addToCart(page, product, 1);
    await page.goto('/checkout');
    const login = await holdRequests(page, '**/user/login');
    await page.getByLabel('Email').fill(uniqueEmail('nobody'));
    await page.getByLabel('Password').fill('wrong-horse-9');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: 'Signing in…' }).waitFor();
    login.release();
    const refused = page.getByRole('alert').filter({ hasText: 'Email or password is wrong.' });
    await refused.waitFor();
    await page.waitForFunction(() => document.activeElement?.textContent === 'Email or password is wrong.');
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    // By keyboard, the other form: the focus on its first field, not left on the button under it.
    await page.getByRole('button', { name: 'Create an account instead' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => (document.activeElement as HTMLInputElement | null)?.labels?.[0]?.textContent === 'Name');
    await page.getByLabel('Name').fill('   ');
    await page.getByLabel('Email').fill(uniqueEmail('blank'));
    await page.getByLabel('Password').fill('correct-horse-9');
    await page.getByRole('button', { name: 'Create account', exact: true }).click();
    const blank = page.getByRole('alert').filter({ hasText: 'must not be blank' });
    await blank.waitFor();
    assert.doesNotMatch(await blank.innerText(), /pattern|\\S/);
    // A refusal about one field is said at that field (WCAG 3.3.1): marked invalid, described by the reason, focused.
    await authFieldRefused(page, 'Name', /must not be blank/);
    // A password anyone would guess first is refused, said in words.
    await page.getByLabel('Name').fill('Ada');
    await page.getByLabel('Password').fill('password123');
    await page.getByRole('button', { name: 'Create account', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'most common passwords' }).waitFor();
    await authFieldRefused(page, 'Password', /^At least 8 characters.* The password is one of the most common passwords/);
    assert.equal(await page.getByLabel('Name').getAttribute('aria-invalid'), null, 'Name still marked after its refusal was fixed');
    // An email that has an account already: at the Email field.
    const taken = uniqueEmail('taken');
    assert.equal((await api('POST', '/user/register', { email: taken, password: 'correct-horse-9', name: 'Ada Shopper' }, '')).status, 201);
    await page.getByLabel('Email').fill(taken);
    await page.getByLabel('Password').fill('correct-horse-9');
    await page.getByRole('button', { name: 'Create account', exact: true }).click();
    await authFieldRefused(page, 'Email', /^An account with this email exists already: sign in instead\.$/);
    assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), null, 'Password still marked after its refusal was fixed');
    await page.getByLabel('Email').fill(uniqueEmail('auth'));
    // The user service down, as the gateway says it (503 "The user service is unavailable", 504 "... did not answer
    // in time"): said to a shopper in the shop's words, not the platform's (the old form showed the gateway's detail).
    const gateway = (status: number, detail: string) => ({ status, contentType: 'application/problem+json', body: JSON.stringify({ type: 'https://ecommerce.local/problems/service-unavailable', title: 'Service unavailable', status, detail }) });
    await page.route('**/user/register', (route) => route.fulfill(gateway(504, 'The user service did not answer in time')));
    await page.getByLabel('Password').fill('correct-horse-9');
    await page.getByRole('button', { name: 'Create account', exact: true }).click();
    const notCreated = page.getByRole('alert').filter({ hasText: 'The shop could not create your account just now' });
    await notCreated.waitFor();
    assert.doesNotMatch(await notCreated.innerText(), /service/);
    await page.getByRole('button', { name: 'Use an existing account' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => (document.activeElement as HTMLInputElement | null)?.labels?.[0]?.textContent === 'Email');
    await page.route('**/user/login', (route) => route.fulfill(gateway(503, 'The user service is unavailable')));
    await page.getByLabel('Email').fill(uniqueEmail('down'));
    await page.getByLabel('Password').fill('correct-horse-9');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const notSignedIn = page.getByRole('alert').filter({ hasText: 'The shop could not sign you in just now' });
    await notSignedIn.waitFor();
    assert.doesNotMatch(await notSignedIn.innerText(), /service/);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a refusal said at a sign-up field goes once that field is changed: a fixed email is not still called wrong while the browser stops a short password', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await newShopper();
    await page.goto('/signin');
    await page.getByRole('button', { name: 'Create an account instead' }).click();
    await page.getByLabel('Name').fill('Ada Shopper');
    // Chromium's own check takes "a@b"; the user service does not.
    await page.getByLabel('Email').fill('a@b');
    await page.getByLabel('Password').fill('correct-horse-9');
    await page.getByRole('button', { name: 'Create account', exact: true }).click();
    await authFieldRefused(page, 'Email', /^Email must be an email address\.$/);
    // Fixed, and the password made too short: the browser stops the press (minlength), so no new answer clears the
    // old one. The form said "Email must be an email address." under the fixed email, marked invalid, as the
    // browser's bubble spoke of the password.
    await page.getByLabel('Email').fill(uniqueEmail('fixed'));
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account', exact: true }).click();
    assert.equal(await page.getByLabel('Password').evaluate((el) => (el as HTMLInputElement).validity.tooShort), true);
    assert.equal(await page.getByLabel('Email').getAttribute('aria-invalid'), null, 'Email still marked invalid after it was changed');
    assert.equal(await page.getByRole('alert').filter({ hasText: 'Email must be an email address' }).count(), 0, 'the refusal of the old email is still shown');
    // A change to another field leaves a field's refusal in place.
    await page.getByLabel('Password').fill('password123');
    await page.getByRole('button', { name: 'Create account', exact: true }).click();
    await authFieldRefused(page, 'Password', /most common passwords/);
    await page.getByLabel('Name').fill('Ada S. Shopper');
    assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true', 'a change to Name took the refusal of Password away');
    await page.getByLabel('Password').fill('correct-horse-9');
    assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), null);
    await page.getByRole('button', { name: 'Create account', exact: true }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('Sign in and Create account pressed by keyboard keep the focus while their answer is on its way ("Signing in…", "Creating account…"), and Enter again sends nothing more', { timeout: STEP_MS }, async () => {
    const { context, page } = await newShopper();
    const email = uniqueEmail('busy-focus');
    const focused = () => page.evaluate(() => ({ tag: document.activeElement?.tagName, text: document.activeElement?.textContent, disabled: document.activeElement?.getAttribute('aria-disabled') }));
    const sent: string[] = [];
    page.on('request', (r) => r.method() === 'POST' && ['/user/register', '/user/login'].includes(new URL(r.url()).pathname) && sent.push(new URL(r.url()).pathname));
    await page.goto('/signin');
    await page.getByRole('button', { name: 'Create an account instead' }).click();
    await page.getByLabel('Name').fill('Kay Board');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct-horse-9');
    let held = await holdRequests(page, '**/user/register');
    await page.getByRole('button', { name: 'Create account', exact: true }).focus();
    await page.keyboard.press('Enter');
    await held.asked;
    // The old form disabled the button: the focus fell to the page's body until the answer came.
    assert.deepEqual(await focused(), { tag: 'BUTTON', text: 'Creating account…', disabled: 'true' });
    await page.keyboard.press('Enter');
    await page.getByLabel('Password').press('Enter');
    held.release();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    await page.goto('/signin');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct-horse-9');
    held = await holdRequests(page, '**/user/login');
    await page.getByRole('button', { name: 'Sign in', exact: true }).focus();
    await page.keyboard.press('Enter');
    await held.asked;
    assert.deepEqual(await focused(), { tag: 'BUTTON', text: 'Signing in…', disabled: 'true' });
    await page.getByLabel('Password').press('Enter');
    held.release();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    // Creating the account signs in with it (one login), then the sign-in form's one.
    assert.deepEqual(sent, ['/user/register', '/user/login', '/user/login'], 'one request each');
    await context.close();
  });

  test('a refresh that fails with a 5xx or no answer keeps the session: a reload keeps the sign-in, and the periodic refresh keeps the token and tries again later', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await signedInShopper('blip');
    await page.clock.install();
    await page.reload();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    let mode: 'pass' | '503' | 'abort' = '503';
    let refreshes = 0;
    let routed = () => {};
    await page.route('**/user/token/refresh', (route) => {
      refreshes++;
      routed();
      if (mode === 'abort') return route.abort();
      return mode === '503' ? route.fulfill({ status: 503, contentType: 'application/problem+json', body: JSON.stringify({ title: 'Service Unavailable', status: 503 }) }) : route.continue();
    });
    // The user service has a bad moment at a reload: this browser is still signed in for the next one.
    const refused = page.waitForResponse('**/user/token/refresh');
    await page.reload();
    await refused;
    // The page has taken the answer (it says it could not confirm the sign-in) before the flag is looked at.
    await page.getByRole('alert').filter({ hasText: 'could not confirm your sign-in' }).waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('ecommerce.session')), '1', 'a 503 from the refresh keeps the sign-in flag');
    mode = 'pass';
    await page.reload();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    // The periodic refresh (at 80% of the token's 15 minutes) finds the service unreachable: the token is kept,
    // so signed-in calls still work, and the refresh is tried again later.
    mode = 'abort';
    const before = refreshes;
    // Waited for as it reaches the route (the request event can come before the route's count), within 30 s.
    const periodic = new Promise<void>((resolve) => {
      routed = resolve;
      setTimeout(resolve, 30_000).unref();
    });
    await page.clock.fastForward('12:30');
    await periodic;
    assert.ok(refreshes > before, 'the periodic refresh ran');
    await page.getByRole('link', { name: 'Orders', exact: true }).click();
    await page.getByText('No orders yet.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 1);
    mode = 'pass';
    const failed = refreshes;
    const renewed = page.waitForResponse((r) => r.url().endsWith('/user/token/refresh') && r.status() === 200);
    await page.clock.fastForward('02:00');
    await renewed;
    assert.ok(refreshes > failed, 'tried again later');
    assert.equal(await page.evaluate(() => localStorage.getItem('ecommerce.session')), '1');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a page whose refresh is answered after it is gone (the rotation committed, the answer with the new cookie lost) keeps the session: the next page sends that refresh again with its Idempotency-Key', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await signedInShopper('lost-refresh');
    const refreshCookies = async () => (await context.cookies()).filter((c) => c.name === '__Secure-refresh-token');
    const before = await refreshCookies();
    assert.equal(before.length, 2);
    let lost = 0;
    await page.route('**/user/token/refresh', async (route) => {
      if (lost++ > 0) return route.fallback();
      // The user service rotates (the cookie the page sent is spent from now on) and answers; the page never reads the
      // answer, and the browser keeps the cookie it had: what a navigation does to a refresh answered a moment too late.
      const res = await route.fetch();
      assert.equal(res.status(), 200, 'the rotation committed');
      await context.addCookies(before);
      await route.abort('aborted');
    });
    await page.reload();
    await page.waitForFunction(() => localStorage.getItem('ecommerce.refresh-key') !== null);
    await page.goto('/orders');
    await page.getByRole('heading', { name: 'Orders', level: 1 }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Sign out' }).waitFor();
    assert.equal(lost, 2, 'the next page refreshed once');
    assert.notEqual((await refreshCookies())[0]!.value, before[0]!.value, 'the cookie rotated');
    assert.equal(await page.evaluate(() => localStorage.getItem('ecommerce.refresh-key')), null, 'answered: the key is done with');
    // The session is alive on the server: another reload still finds it.
    await page.reload();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Sign out' }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a reload while the user service is unreachable (refresh 503 or 429, /user/me with no answer) keeps the session and says so with Try again; the sign-in page shows that instead of its form; only a refusal signs out', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await signedInShopper('unreachable');
    // One cookie for each of its two paths (/user/token/refresh, /user/logout).
    const refreshCookie = async () => (await context.cookies()).filter((c) => c.name === '__Secure-refresh-token' && c.value).length;
    assert.equal(await refreshCookie(), 2);
    const flag = () => page.evaluate(() => localStorage.getItem('ecommerce.session'));
    const unreachable = page.getByRole('alert').filter({ hasText: 'could not confirm your sign-in' });
    const header = page.getByRole('navigation', { name: 'Main' });

    // The refresh answers 503: the state says so; neither Sign in (the user is not signed out) nor Sign out.
    await page.route('**/user/token/refresh', (route) => route.fulfill(problem(503)));
    await page.reload();
    await unreachable.waitFor();
    assert.equal(await header.getByRole('link', { name: 'Sign in' }).count(), 0);
    assert.equal(await header.getByRole('button', { name: 'Sign out' }).count(), 0);
    assert.equal(await flag(), '1', 'the sign-in flag stays');
    assert.equal(await refreshCookie(), 2, 'the refresh cookie stays');
    await assertAccessible(page, 'home (session unreachable)');
    await screenshot(page, 'session-unreachable');

    // The sign-in page shows that state, not its form; Try again while it still fails says it again.
    await page.goto('/signin');
    await unreachable.waitFor();
    await page.getByText('This needs your sign-in, which the shop could not confirm just now').waitFor();
    assert.equal(await page.getByLabel('Email').count(), 0, 'no sign-in form');
    await assertAccessible(page, 'sign-in page (session unreachable)');
    await screenshot(page, 'signin-unreachable');
    await tryAgainWhileRefreshAnswers(page, 429);
    await unreachable.waitFor();
    assert.equal(await flag(), '1');

    // The user service is back: Try again signs in, and the sign-in page goes on to the shop.
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.waitForURL((u) => u.pathname === '/');
    assert.equal(await unreachable.count(), 0);

    // The refresh works but /user/me gets no answer (the token is kept): the orders page waits, no redirect to
    // sign in; Try again asks again and the orders show.
    await page.route('**/user/me', (route) => route.abort());
    await page.goto('/orders');
    await unreachable.waitFor();
    assert.equal(new URL(page.url()).pathname, '/orders', 'not sent to the sign-in page');
    assert.equal(await flag(), '1');
    assert.equal(await refreshCookie(), 2);
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.getByText('No orders yet.').waitFor();
    await header.getByRole('link', { name: 'Orders', exact: true }).waitFor();

    // A refusal (401) does sign out: the flag goes, and the header offers Sign in.
    await page.route('**/user/token/refresh', (route) => route.fulfill(problem(401)));
    await page.goto('/');
    // Wait for the refusal itself (the flag removed), then the header's Sign in.
    await page.waitForFunction(() => localStorage.getItem('ecommerce.session') === null);
    await header.getByRole('link', { name: 'Sign in' }).waitFor();
    assert.equal(await flag(), null);
    assert.equal(await unreachable.count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a reload of a signed-in page shows no "Sign in" while the session is checked: the signed-in header\'s places are kept, empty, and nothing moves when the check ends; a first visit shows Sign in at once and asks nothing', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await signedInShopper('no-flash');
    const header = page.locator('header.site-header');
    const nav = page.getByRole('navigation', { name: 'Main' });
    await recordHeaderStates(context);
    const boxes = async () => ({ header: await header.boundingBox(), cart: await nav.getByRole('link', { name: 'Cart' }).boundingBox(), mainTop: (await page.locator('main').boundingBox())?.y });

    for (const width of [1280, 320]) {
      // The refresh is held until the page has been looked at in its checking state.
      const refresh = await reloadWithSessionCheckHeld(page, width);
      assert.equal(await nav.getByRole('link', { name: 'Sign in' }).count(), 0, `${width} px: no Sign in while checking`);
      assert.equal(await nav.getByRole('button', { name: 'Sign out' }).count(), 0, `${width} px: no Sign out before it is known`);
      assert.equal(await nav.getByRole('link', { name: 'Orders' }).count(), 0, `${width} px: no Orders link before it is known`);
      const checking = await boxes();
      refresh.release();
      await nav.getByRole('button', { name: 'Sign out' }).waitFor();
      await nav.getByRole('link', { name: 'Orders' }).waitFor();
      assert.deepEqual(await boxes(), checking, `${width} px: the header and what follows did not move when the check ended`);
      assert.deepEqual(await headerStates(page), [['Cart'], ['Orders', 'Cart', 'Sign out']], `${width} px: the header's states`);
      await page.unrouteAll({ behavior: 'wait' });
    }
    assert.deepEqual(errors, []);
    await context.close();

    // Signed out (no hint): nothing to check, Sign in from the first render, and no refresh or /user/me asked.
    const visitor = await newShopper();
    await recordHeaderStates(visitor.context);
    const asked: string[] = [];
    visitor.page.on('request', (r) => /\/user\/(token\/refresh|me)$/.test(new URL(r.url()).pathname) && asked.push(r.url()));
    await visitor.page.goto('/');
    await visitor.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign in' }).waitFor();
    assert.deepEqual(await headerStates(visitor.page), [['Cart', 'Sign in']], 'Sign in from the first render');
    assert.deepEqual(asked, []);
    assert.deepEqual(visitor.errors, []);
    await visitor.context.close();
  });

  test("an admin's reload keeps the Admin link's place too while the session is checked: nothing in the header moves when it ends", { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await newShopper();
    await signInAs(page, stack.admin.email, stack.admin.password);
    assert.equal(await page.evaluate(() => localStorage.getItem('ecommerce.session')), 'admin');
    await recordHeaderStates(context);
    const nav = page.getByRole('navigation', { name: 'Main' });
    const boxes = async () => ({ cart: await nav.getByRole('link', { name: 'Cart' }).boundingBox(), nav: await nav.boundingBox() });
    for (const width of [1280, 320]) {
      const refresh = await reloadWithSessionCheckHeld(page, width);
      assert.equal(await nav.getByRole('link', { name: 'Admin' }).count(), 0, `${width} px: no Admin link before it is known`);
      const checking = await boxes();
      refresh.release();
      await nav.getByRole('link', { name: 'Admin' }).waitFor();
      assert.deepEqual(await boxes(), checking, `${width} px: the Cart link and the header's links did not move when the check ended`);
      assert.deepEqual(await headerStates(page), [['Cart'], ['Orders', 'Admin', 'Cart', 'Sign out']], `${width} px: the header's states`);
      await page.unrouteAll({ behavior: 'wait' });
    }
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('checkout reloaded while the user service is unreachable (refresh 503 or 429, /user/me with no answer) keeps the cart and waits for the session, no sign-in form; Try again places the order once it answers', { timeout: STEP_MS }, async () => {
    const { product, email, context, page, errors } = await shopperAtCheckout({ stock: 5, name: 'Patient teapot' }, 2, 'checkout-unreachable');
    const unreachable = page.getByRole('alert').filter({ hasText: 'could not confirm your sign-in' });
    const placePanel = page.getByRole('region', { name: 'Place your order' });
    const summary = page.getByRole('region', { name: 'Your order' });
    const cartKept = () => page.evaluate(() => (JSON.parse(localStorage.getItem('ecommerce.cart.v1') ?? '[]') as { productId: string; quantity: number }[]).map((l) => [l.productId, l.quantity]));
    /** Checkout as it must be while the session is not confirmed: the cart shown and kept, no sign-in form, no order button. */
    const waitsForSession = async (what: string) => {
      // The alert and the checkout's panels render from one state: what the page shows with it is what it shows.
      await unreachable.waitFor();
      assert.equal(await page.getByLabel('Email').count(), 0, `${what}: no sign-in form`);
      assert.equal(await page.getByRole('button', { name: 'Sign in', exact: true }).count(), 0, `${what}: no sign-in button`);
      assert.equal(await page.getByRole('button', { name: 'Place order' }).count(), 0, `${what}: no Place order before the session is confirmed`);
      await placePanel.getByText('This needs your sign-in, which the shop could not confirm just now').waitFor();
      assert.equal(new URL(page.url()).pathname, '/checkout', `${what}: still at checkout`);
      assert.deepEqual(await cartKept(), [[product.id, 2]], `${what}: the cart is kept`);
      await summary.getByRole('link', { name: 'Patient teapot' }).waitFor();
    };

    // The refresh answers 503 at the reload.
    await page.route('**/user/token/refresh', (route) => route.fulfill(problem(503)));
    await page.reload();
    await waitsForSession('refresh 503');
    await assertAccessible(page, 'checkout (session unreachable)');
    // Try again while it answers 429: the same.
    await tryAgainWhileRefreshAnswers(page, 429);
    await waitsForSession('refresh 429');
    await page.unrouteAll({ behavior: 'ignoreErrors' });

    // The refresh works, /user/me gets no answer.
    await page.route('**/user/me', (route) => route.abort());
    await page.reload();
    await waitsForSession('/user/me no answer');

    // The user service answers again: Try again shows the order panel, and the cart is ordered as it was.
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('button', { name: 'Place order' }).waitFor();
    assert.equal(await unreachable.count(), 0);
    await placePanel.getByText(`Signed in as ${email}.`).waitFor();
    assert.deepEqual(await cartKept(), [[product.id, 2]]);
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.getByText('Thank you! Your order is confirmed.').waitFor();
    assert.equal(await stockOf(product.id), 3);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a call refused with an expired token is refreshed and sent once more: the order is placed once under the same Idempotency-Key, a cancel and the orders list go through', { timeout: STEP_MS }, async () => {
    const { product, email, context, page, errors } = await shopperAtCheckout({ stock: 10, name: 'Renewed kettle' }, 1, 'renew');
    const expired = { status: 401, contentType: 'application/problem+json', body: JSON.stringify({ type: 'https://ecommerce.local/problems/unauthorized', title: 'Unauthorized', status: 401, detail: 'Invalid token' }) };
    const keys: string[] = [];
    await page.route('**/order', (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      keys.push(route.request().headers()['idempotency-key'] ?? '');
      return keys.length === 1 ? route.fulfill(expired) : route.continue();
    });
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.getByText('Thank you! Your order is confirmed.').waitFor();
    assert.equal(keys.length, 2, 'sent once more after the refresh');
    assert.equal(keys[1], keys[0], 'with the same Idempotency-Key');
    const token = await login(email, 'correct-horse-9');
    assert.equal((await ordersOf(token)).length, 1);
    assert.equal(await stockOf(product.id), 9);
    // A cancel refused the same way goes through after the refresh.
    let cancels = 0;
    await page.route('**/order/*/cancel', (route) => (++cancels === 1 ? route.fulfill(expired) : route.continue()));
    await page.getByRole('button', { name: 'Cancel order' }).click();
    await page.getByRole('button', { name: 'Yes, cancel it' }).click();
    await page.getByText('cancelled', { exact: true }).waitFor();
    assert.equal(cancels, 2);
    // And the orders list.
    let lists = 0;
    await page.route(/\/order\?/, (route) => (++lists === 1 ? route.fulfill(expired) : route.continue()));
    await page.getByRole('link', { name: 'All your orders' }).click();
    await page.getByText('1 × Renewed kettle').waitFor();
    assert.equal(await page.getByText('cannot be loaded').count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('Sign out that cannot reach the shop (no answer, or a 5xx) says it did not finish and can be pressed again', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await signedInShopper('signout');
    for (const fail of [(r: Route) => r.abort(), (r: Route) => r.fulfill({ status: 502, contentType: 'application/problem+json', body: JSON.stringify({ title: 'Bad Gateway', status: 502 }) })]) {
      await page.route('**/user/logout', fail);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('alert').filter({ hasText: 'Sign-out did not finish' }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 1, 'still signed in, so it can be pressed again');
      await page.unrouteAll({ behavior: 'ignoreErrors' });
    }
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    assert.equal(await page.getByRole('alert').filter({ hasText: 'Sign-out did not finish' }).count(), 0);
    assert.deepEqual((await context.cookies()).filter((c) => c.name === '__Secure-refresh-token' && c.value), []);
    await page.reload();
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the tokens of a session never travel in a URL or a Referer and their answers are no-store; the page and its scripts come nosniff with a Referrer-Policy; after sign-out the browser storage holds no token, email or user id; no sign-in next (javascript:, escaped //, tab, backslash) leaves this host', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await newShopper();
    dialogsOf(page);
    const outside = await offHost(context);
    const email = uniqueEmail('hitok');
    assert.equal((await api('POST', '/user/register', { email, password: 'correct-horse-9', name: 'Token Probe' }, '')).status, 201);
    const seen: { url: string; referer: string; method: string }[] = [];
    const tokens = new Set<string>();
    const cacheable: string[] = [];
    context.on('request', (r) => seen.push({ url: r.url(), referer: r.headers().referer ?? '', method: r.method() }));
    context.on('response', async (r) => {
      const h = await r.allHeaders();
      const setCookie = h['set-cookie'] ?? '';
      for (const m of setCookie.matchAll(/=([A-Za-z0-9_-]{20,})/g)) tokens.add(m[1]!);
      if (/\/user\/(login|token\/refresh|me|logout)/.test(r.url())) {
        if (!/no-store/.test(h['cache-control'] ?? '')) cacheable.push(`${r.request().method()} ${r.url()} ${r.status()} cache-control=${h['cache-control']}`);
        try {
          const body = (await r.json()) as { accessToken?: string; refreshToken?: string };
          if (body.accessToken) tokens.add(body.accessToken);
          if (body.refreshToken) tokens.add(body.refreshToken);
        } catch {
          // no JSON
        }
      }
    });
    const doc = await page.goto('/signin');
    const headers = await doc!.allHeaders();
    const asset = seen.find((s) => /\/assets\/.*\.js$/.test(s.url));
    const assetHeaders = asset ? await (await page.request.get(asset.url)).headers() : {};
    const shown = {
      doc: { nosniff: headers['x-content-type-options'], referrer: headers['referrer-policy'], xfo: headers['x-frame-options'], cc: headers['cache-control'] },
      asset: { nosniff: assetHeaders['x-content-type-options'], cc: assetHeaders['cache-control'], ct: assetHeaders['content-type'] },
    };
    assert.equal(shown.doc.nosniff, 'nosniff');
    assert.equal(shown.asset.nosniff, 'nosniff');
    assert.ok(['no-referrer', 'same-origin', 'strict-origin', 'strict-origin-when-cross-origin'].includes(shown.doc.referrer ?? ''), shown.doc.referrer);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct-horse-9');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    // A cart of this customer's (its owner noted in localStorage), and a reload (a refresh from the cookie).
    const product = await newProduct({ name: `Token probe lamp ${Date.now().toString(36)}` });
    await addToCart(page, product, 2);
    await page.goto('/orders');
    await page.reload();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.waitForLoadState('networkidle');
    const userId = await page.evaluate(() => sessionStorage.getItem('ecommerce.tab-user'));
    assert.ok(userId && (await page.evaluate(() => JSON.stringify(localStorage))).includes(product.id), 'the cart is stored while signed in');
    // While signed in, what a script of the page can read (storage, cookies, the window's own string properties, its
    // name, the history entry's state) holds neither token: the access token is in a module's variable, the refresh
    // token in an HttpOnly cookie (docs/web.md). After the sign-out below there is no cookie left to check.
    const readable = await page.evaluate(() => {
      const own: string[] = [];
      for (const key of Object.getOwnPropertyNames(window)) {
        try {
          const v: unknown = (window as unknown as Record<string, unknown>)[key];
          if (typeof v === 'string') own.push(v);
        } catch {
          // a property that throws on read
        }
      }
      return JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie, own, name: window.name, state: history.state as unknown });
    });
    assert.ok(tokens.size >= 2, `tokens seen while signed in: ${tokens.size}`);
    for (const t of tokens) assert.ok(!readable.includes(t), 'a token is readable by a script of the signed-in page');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    await page.waitForLoadState('networkidle');
    const storage = await page.evaluate(async () => ({
      local: Object.fromEntries(Object.entries(localStorage)),
      session: Object.fromEntries(Object.entries(sessionStorage)),
      caches: 'caches' in window ? await caches.keys() : [],
      idb: 'indexedDB' in window && indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name) : [],
      cookie: document.cookie,
    }));
    assert.ok(tokens.size >= 2, `tokens seen: ${tokens.size}`);
    for (const t of tokens) {
      for (const s of seen) {
        assert.ok(!s.url.includes(t) && !s.referer.includes(t), `a token in ${s.method} ${s.url} referer ${s.referer}`);
      }
      assert.ok(!JSON.stringify(storage).includes(t), 'a token is kept in the browser storage');
    }
    const kept = JSON.stringify(storage);
    assert.ok(!kept.includes(email) && !kept.includes(userId) && !kept.includes(product.id), `kept after sign-out: ${kept}`);
    assert.deepEqual(cacheable, []);
    // Open redirect: next= of any form stays on this host.
    for (const next of ['javascript:alert(1)', '%2F%2Fevil.example', '/%09/evil.example', '/\t/evil.example', '/%5C%5Cevil.example', 'http:evil.example', '/%0a/evil.example', '\\\\evil.example', '/ /evil.example']) {
      const url = `/signin?next=${next.includes('%') ? next : encodeURIComponent(next)}`;
      await page.goto(url);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill('correct-horse-9');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.waitForURL((u) => !u.pathname.startsWith('/signin'), { timeout: 5000 }).catch(() => undefined);
      const at = new URL(page.url());
      assert.equal(at.origin, new URL(base).origin, `${next} -> ${page.url()}`);
      assert.deepEqual(dialogsOf(page), [], next);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('link', { name: 'Sign in' }).waitFor();
    }
    assert.deepEqual(outside, []);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a signed-in visitor sent to the sign-in page with any crafted next (fast-check: schemes, //host, backslashes, tabs and controls, escaped and look-alike slashes, dot segments) lands on this host at the path sameSitePath names, with no request off this host, no dialog and no error', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await signedInShopper('next');
    const dialogs = dialogsOf(page);
    const outside = await offHost(context);
    const origin = new URL(base).origin;
    const piece = fc.constantFrom(
      '/', '//', '\\', '.', '..', '%2F', '%5C', '%252F', '%255C', '%C0%AF', '%EF%BC%8F', '%2e', '%2E%2E', '%00', '%09', '\t', '\n', '\r', '\u0000', ' ',
      '\u3000', '\uff0f', '\u200b', 'evil.example', '@', ':', ';', 'https:', 'javascript:', 'data:text/html,', 'alert(1)', '?', '#', 'orders', 'cart',
    );
    const next = fc.oneof(fc.array(piece, { minLength: 1, maxLength: 8 }).map((parts) => parts.join('')), fc.string({ unit: 'binary', maxLength: 24 }));
    const landed = async (): Promise<string> => {
      // Still on the sign-in page after 5 s (the router refused the address, an error page) is said by the asserts below.
      await page.waitForFunction(() => location.pathname !== '/signin', undefined, { timeout: 5000 }).catch(() => undefined);
      return page.evaluate(() => location.href);
    };
    const byHistory = (value: string) =>
      page.evaluate((search) => {
        history.pushState(null, '', `/signin?${search}`);
        dispatchEvent(new PopStateEvent('popstate'));
      }, new URLSearchParams({ next: value }).toString());
    const assertLanded = async (value: string, how: string) => {
      const at = new URL(await landed());
      assert.equal(at.origin, origin, `${how} ${JSON.stringify(value)}`);
      assert.equal(at.pathname + at.search + at.hash, sameSitePath(value, origin), `${how} ${JSON.stringify(value)}`);
    };
    // Some by a full navigation (a link followed from another site) and by the app's own history, then the property by
    // the app's own history: the router reads the address as it does after a navigation, without a reload (and a
    // session refresh) per run. A run of slashes further in (/%5C//, CI's counterexample) landed with one: React
    // Router's navigate makes it one, and sameSitePath named it as it was.
    for (const crafted of ['//evil.example/x', '/\t/evil.example', '/%5C//', '/orders//cart', '/x//..//evil.example', '/%252F%252Fevil.example', '/%2e%2e%2f%2fevil.example', '/%C0%AF/evil.example']) {
      await page.goto(`/signin?next=${encodeURIComponent(crafted)}`);
      await assertLanded(crafted, 'navigation');
      await byHistory(crafted);
      await assertLanded(crafted, 'history');
    }
    await fc.assert(
      fc.asyncProperty(next, async (value) => {
        await byHistory(value);
        await assertLanded(value, 'history');
      }),
      { numRuns: 60 },
    );
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    assert.deepEqual(outside, []);
    assert.deepEqual(dialogs, []);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('crafted page addresses (10,000-character and markup searches, ids, filters) run no script and fetch nothing off this host; the answers to a signed-in request for the user and order services are no-store or private', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await signedInShopper('hiurl');
    const outside = await offHost(context);
    const dialogs = dialogsOf(page);
    const cacheable: string[] = [];
    context.on('response', async (r) => {
      const req = await r.request().allHeaders();
      if (!req.authorization || /^\/product(\/|$)/.test(new URL(r.url()).pathname)) return;
      const cc = (await r.allHeaders())['cache-control'] ?? '';
      if (!/no-store|private/.test(cc)) cacheable.push(`${r.request().method()} ${new URL(r.url()).pathname} ${r.status()} ${cc}`);
    });
    await context.addInitScript(() => {
      const seen: string[] = [];
      Object.assign(window, { cspViolations: seen });
      document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const payload = `"><img src=x onerror=window.__xss=1><script>window.__xss=2</script>`;
    const huge = encodeURIComponent(payload + 'q'.repeat(10_000));
    const addresses = [
      `/?q=${huge}`,
      `/?q=${encodeURIComponent(payload)}&category=${encodeURIComponent(payload)}`,
      `/?category=${huge}`,
      `/products/${encodeURIComponent(payload)}`,
      `/products/${'9'.repeat(5000)}`,
      `/orders/${encodeURIComponent(payload)}`,
      `/orders`,
      `/cart?x=${huge}`,
      `/checkout`,
      `/signin?next=${encodeURIComponent('javascript:window.__xss=3')}`,
    ];
    for (const address of addresses) {
      await page.goto(address);
      await page.waitForLoadState('networkidle');
      const seen = await page.evaluate(() => ({ xss: (window as { __xss?: unknown }).__xss ?? null, csp: (window as unknown as { cspViolations: string[] }).cspViolations, scroll: document.documentElement.scrollWidth, width: innerWidth, h1: document.querySelector('h1')?.textContent ?? null }));
      assert.deepEqual({ xss: seen.xss, csp: seen.csp }, { xss: null, csp: [] }, address.slice(0, 80));
      assert.ok(seen.scroll <= seen.width, `${address.slice(0, 80)}: ${seen.scroll} > ${seen.width}`);
    }
    assert.deepEqual(outside, []);
    assert.deepEqual(dialogs, []);
    assert.deepEqual(cacheable, []);
    assert.deepEqual(errors, []);
    await context.close();
  });

  // Split from the crafted addresses' test: the two together (19 page loads, each to network idle) ran past STEP_MS on a
  // busy 2-core machine.
  test('the API reference pages given a url or configUrl of another host (or a javascript: one) run no script and fetch nothing off this host, signed in', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await signedInShopper('hiurl-docs');
    const outside = await offHost(context);
    const dialogs = dialogsOf(page);
    for (const service of ['user', 'product', 'order']) {
      for (const query of ['url=https://evil.example/spec.json', 'configUrl=https://evil.example/config.json', `url=${encodeURIComponent('javascript:window.__xss=4')}`]) {
        const res = await page.goto(`/${service}/docs/?${query}`);
        const h = await res!.allHeaders();
        assert.equal(res!.status(), 200);
        assert.ok(h['content-security-policy'], `/${service}/docs has a CSP`);
        assert.equal(h['x-frame-options'], 'DENY');
        await page.locator('.opblock').first().waitFor({ timeout: 15_000 }).catch(() => undefined);
        await page.waitForLoadState('networkidle');
        assert.equal(await page.evaluate(() => (window as { __xss?: unknown }).__xss ?? null), null, `/${service}/docs?${query}`);
      }
    }
    assert.deepEqual(outside, []);
    assert.deepEqual(dialogs, []);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a double click on Sign out signs out once, on the page it was pressed on: no second logout, no Sign in followed, no failed request', { timeout: STEP_MS }, async () => {
    const { email, context, page, errors } = await signedInShopper('signout-double');
    const product = await newProduct({ name: 'Double lamp' });
    const failed: string[] = [];
    page.on('console', (m) => m.type() === 'error' && failed.push(m.text()));
    const logouts: number[] = [];
    page.on('response', (r) => r.url().endsWith('/user/logout') && logouts.push(r.status()));
    for (const url of ['/', `/products/${product.id}`, '/orders']) {
      if (url !== '/') await signInAs(page, email, 'correct-horse-9');
      await page.goto(url);
      logouts.length = 0;
      const signOut = page.getByRole('banner').getByRole('button', { name: 'Sign out' });
      await signOut.waitFor();
      await signOut.dblclick();
      await page.getByRole('banner').getByRole('link', { name: 'Sign in' }).waitFor();
      // Orders needs a sign-in: it sends the signed-out to sign in (an effect after the signed-out render), back to it
      // after (docs/web.md).
      if (url === '/orders') await page.waitForURL((u) => u.pathname === '/signin').catch(() => undefined);
      await page.waitForTimeout(500);
      assert.equal(new URL(page.url()).pathname, url === '/orders' ? '/signin' : url, `${url}: where sign-out lands`);
      assert.equal(logouts.length, 1, `${url}: logouts answered ${logouts.join(', ')}`);
      assert.ok(logouts[0]! < 300, `${url}: logout answered ${logouts[0]}`);
      if (url === '/orders') continue;
      logouts.length = 0;
      // A slower double click: its second click comes once signed out, on the Sign in link now in Sign out's place.
      await signInAs(page, email, 'correct-horse-9');
      await page.goto(url);
      await signOut.waitFor();
      const box = (await signOut.boundingBox())!;
      const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
      await page.mouse.click(x, y);
      const signIn = page.getByRole('banner').getByRole('link', { name: 'Sign in' });
      await signIn.waitFor();
      const under = (await signIn.boundingBox())!;
      assert.ok(x >= under.x && x <= under.x + under.width && y >= under.y && y <= under.y + under.height, `${url}: Sign in is under the pointer`);
      await page.mouse.down({ clickCount: 2 });
      await page.mouse.up({ clickCount: 2 });
      await page.waitForTimeout(500);
      assert.equal(new URL(page.url()).pathname, url, `${url}: where a slower double click's sign-out lands`);
      assert.deepEqual(logouts.length, 1, `${url}: one logout for a slower double click`);
    }
    assert.deepEqual(failed, []);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('Sign out shows that it is under way while its logout is on its way (aria-disabled, aria-busy, dimmed, its text and place kept: the header does not move); a second press sends nothing; the focus then goes to Sign in, or stays on Sign out when the logout fails', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await signedInShopper('signout-busy');
    const logouts: string[] = [];
    page.on('request', (r) => r.url().endsWith('/user/logout') && logouts.push(r.method()));
    for (const outcome of ['fails', 'signs out'] as const) {
      await page.goto('/');
      const banner = page.getByRole('banner');
      const signOut = banner.getByRole('button', { name: 'Sign out' });
      await signOut.waitFor();
      const held = new Promise<Route>((resolve) => void page.route('**/user/logout', (route) => resolve(route)));
      const boxes = async () => [await signOut.boundingBox(), await banner.getByRole('link', { name: 'Cart' }).boundingBox(), await banner.boundingBox()];
      const before = await boxes();
      logouts.length = 0;
      await signOut.focus();
      await page.keyboard.press('Enter');
      const route = await held;
      await page.waitForFunction(() => document.querySelector('header button[aria-busy="true"]') !== null).catch(() => assert.fail(`${outcome}: Sign out shows nothing while its logout is on its way`));
      assert.equal(await signOut.getAttribute('aria-disabled'), 'true');
      assert.ok(Number(await signOut.evaluate((e) => getComputedStyle(e).opacity)) < 1, 'dimmed as the other busy buttons');
      assert.equal(await signOut.innerText(), 'Sign out');
      assert.deepEqual(await boxes(), before, `${outcome}: the header does not move`);
      if (outcome === 'fails') await screenshot(page, 'header-signing-out');
      // Pressed again (a key, a click where it is: Playwright's click() waits for an aria-disabled button to be
      // enabled): nothing more is sent, and the focus stays on it.
      await page.keyboard.press('Enter');
      const box = before[0]!;
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      await page.waitForTimeout(300);
      assert.deepEqual(logouts, ['POST'], `${outcome}: one logout`);
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Sign out');
      if (outcome === 'fails') {
        await route.abort('connectionfailed');
        await page.getByRole('alert').filter({ hasText: 'Sign-out did not finish' }).waitFor({ timeout: 10_000 });
        assert.equal(await signOut.getAttribute('aria-disabled'), null, 'pressable again');
        assert.equal(await signOut.getAttribute('aria-busy'), null);
        assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Sign out', 'the focus stays on Sign out to press it again');
      } else {
        await route.continue();
        await banner.getByRole('link', { name: 'Sign in' }).waitFor();
        await page.waitForFunction(() => document.activeElement?.textContent === 'Sign in').catch(async () => assert.fail(`the focus is on ${await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 80))}`));
      }
      await page.unrouteAll({ behavior: 'ignoreErrors' });
    }
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('signing out on a page that needs no sign-in (home, a product) puts the focus on the Sign in link that replaces Sign out', { timeout: STEP_MS }, async () => {
    const { email, context, page, errors } = await signedInShopper('signout-focus');
    const product = await newProduct({ name: 'Focus lamp' });
    for (const url of ['/', `/products/${product.id}`]) {
      if (url !== '/') await signInAs(page, email, 'correct-horse-9');
      await page.goto(url);
      const signOut = page.getByRole('banner').getByRole('button', { name: 'Sign out' });
      await signOut.focus();
      await page.keyboard.press('Enter');
      await page.getByRole('banner').getByRole('link', { name: 'Sign in' }).waitFor();
      await page
        .waitForFunction(() => document.activeElement?.closest('header') !== null && document.activeElement?.textContent === 'Sign in')
        .catch(async () => assert.fail(`${url}: the focus is on ${await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 80))}`));
      assert.equal(new URL(page.url()).pathname, url, 'still on the same page');
    }
    assert.deepEqual(errors, []);
    await context.close();
  });
});
