// Several tabs of the shop in a real Chromium against the whole platform (harness.ts): one cart shared by the tabs
// (its Web Lock), orders and sign-outs seen in the other tabs, a session ended elsewhere and whose cart is put aside,
// and pages restored from the back/forward cache after a sign-out.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { describe, test } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { stopAll } from '@ecommerce/test-support';
import { CHROMIUM_ARGS, chromiumPath } from '../../tools/browser.js';
import { addToCart, adminAtProducts, api, base, cartWriteUnderWay, headerStates, holdCartLock, holdRequests, login, newProduct, newShopper, type Order, ordersOf, otherTabChange, recordHeaderStates, sessionEndsAtReload, shopperAtCheckout, signedInShopper, signInAs, stack, startStackAndBrowser, STEP_MS, stockOf, storedCart, unauthorized, uniqueEmail } from './harness.js';

startStackAndBrowser();

/**
 * Marks the page's document (`__marker`), and from its next pageshow on records in `__atShow` whether it was restored
 * from the back/forward cache (persisted) and what it holds before its first frame is drawn and in each of its first
 * frames: the time, the path, a Sign out button, `secret` (` ORDER`).
 */
async function recordFramesAtShow(page: Page, secret: string): Promise<void> {
  await page.evaluate((shownSecret) => {
    Object.assign(window, { __marker: 'orders-doc' });
    addEventListener('pageshow', (e) => {
      const frames: string[] = [];
      Object.assign(window, { __atShow: { persisted: e.persisted, path: location.pathname, frames } });
      const t0 = performance.now();
      const look = () => {
        const text = document.body.innerText;
        frames.push(`${Math.round(performance.now() - t0)}ms ${location.pathname}${text.includes('Sign out') ? ' Sign out' : ''}${text.includes(shownSecret) ? ' ORDER' : ''}`);
        if (frames.length < 6) requestAnimationFrame(look);
      };
      look();
    });
  }, secret);
}

/**
 * A new page of `context`, its errors collected: signed in as `email` at its orders page (which shows `productName`;
 * its frames recorded from its next pageshow on), then a full load of the cart (the orders page goes to the
 * back/forward cache) and signed out there.
 */
async function signedOutAfterOrders(context: BrowserContext, email: string, productName: string): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signInAs(page, email, 'correct-horse-9');
  await page.goto('/orders');
  await page.getByText(productName).first().waitFor();
  await recordFramesAtShow(page, productName);
  await page.goto('/cart');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('link', { name: 'Sign in' }).waitFor();
  return { page, errors };
}

describe('storefront in Chromium: several tabs and the back/forward cache', { concurrency: false }, () => {
  test('one cart placed from two tabs at the same moment makes one order', { timeout: STEP_MS }, async () => {
    const { product, email, context, page } = await shopperAtCheckout({ stock: 20, name: 'Two-tab bowl' }, 3, 'tabs');
    const second = await context.newPage();
    await second.goto('/checkout');
    await second.getByRole('button', { name: 'Place order' }).waitFor();
    await page.getByRole('button', { name: 'Place order' }).isEnabled();
    await Promise.all([page.getByRole('button', { name: 'Place order' }).click(), second.getByRole('button', { name: 'Place order' }).click()]);
    await page.getByText('Thank you! Your order is confirmed.').waitFor();
    await second.getByText(/Your order is confirmed|confirmed/).first().waitFor();
    const orders = await ordersOf(await login(email, 'correct-horse-9'));
    assert.equal(orders.length, 1, JSON.stringify(orders));
    assert.equal(await stockOf(product.id), 17);
    await context.close();
  });

  test('two tabs adding different products to the cart at the same moment, many times: every unit added is in the cart, and each tab shows the other\'s additions with its own', { timeout: STEP_MS }, async () => {
    const [cup, plate] = [await newProduct({ name: 'Racing cup', stock: 500 }), await newProduct({ name: 'Racing plate', stock: 500 })];
    const { context, page, errors } = await newShopper();
    const other = await context.newPage();
    const times = 40;
    for (const [tab, product] of [[page, cup], [other, plate]] as const) {
      await tab.goto(`/products/${product.id}`);
      await tab.getByRole('heading', { name: product.name }).waitFor();
    }
    // Each tab presses Add to cart `times` times, a millisecond or two apart, both at once: each press is a
    // read-modify-write of the one stored cart, so a tab that wrote over the other's last press lost a unit.
    const press = (tab: Page) =>
      tab.evaluate(async (n) => {
        const button = [...document.querySelectorAll('button')].find((b) => b.textContent === 'Add to cart')!;
        for (let i = 0; i < n; i++) {
          button.click();
          await new Promise((r) => setTimeout(r, 1 + (i % 2)));
        }
      }, times);
    await Promise.all([press(page), press(other)]);
    const stored = async (tab: Page) =>
      tab.evaluate(() => Object.fromEntries((JSON.parse(localStorage.getItem('ecommerce.cart.v1') ?? '[]') as { name: string; quantity: number }[]).map((l) => [l.name, l.quantity])));
    const want = { 'Racing cup': times, 'Racing plate': times };
    for (const tab of [page, other]) {
      await tab.waitForFunction((n) => (JSON.parse(localStorage.getItem('ecommerce.cart.v1') ?? '[]') as { quantity: number }[]).reduce((s, l) => s + l.quantity, 0) >= n, times * 2).catch(() => undefined);
      assert.deepEqual(await stored(tab), want, 'no unit added in either tab was lost');
      // Each tab shows both: its own presses and the other's (the storage event), the header's badge too.
      await tab.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: `Cart, ${times * 2} items` }).waitFor();
    }
    await page.goto('/cart');
    for (const product of [cup, plate]) assert.equal(await page.getByLabel(`Quantity of ${product.name}`).inputValue(), String(times));
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('Add to cart pressed, then at once a full page load (a typed URL, a reload) while another tab\'s cart change holds the lock: the next page makes every press, once, in the order pressed', { timeout: STEP_MS }, async () => {
    const [lamp, vase] = [await newProduct({ name: 'Unloaded lamp', stock: 20 }), await newProduct({ name: 'Unloaded vase', stock: 20 })];
    const { context, page, errors } = await newShopper();
    const other = await context.newPage();
    await other.goto('/favicon.svg');
    // Another tab's change of the cart is under way (it holds the cart's Web Lock): this page's presses wait for it.
    const hold = () =>
      other.evaluate(() => new Promise<void>((held) => void navigator.locks.request('ecommerce.cart.v1', () => new Promise<void>((release) => (((window as unknown as { release: () => void }).release = release), held())))));
    const letGo = () => other.evaluate(() => (window as unknown as { release: () => void }).release());
    const stored = async (want: Record<string, number>) => {
      await page.waitForFunction((n) => (JSON.parse(localStorage.getItem('ecommerce.cart.v1') ?? '[]') as unknown[]).length >= n, Object.keys(want).length, { timeout: 5000 }).catch(() => undefined);
      return storedCart(page);
    };
    await page.goto(`/products/${lamp.id}`);
    await page.getByRole('heading', { name: lamp.name }).waitFor();
    await hold();
    await page.getByLabel('Quantity').fill('2');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.getByRole('button', { name: 'Add to cart' }).click();
    // Typed in the address bar: the page goes with both presses waiting for the lock.
    await page.goto('/cart');
    await page.getByRole('heading', { name: 'Cart', level: 1 }).waitFor();
    await letGo();
    assert.deepEqual(await stored({ [lamp.name]: 3 }), { [lamp.name]: 3 }, 'both presses (2, then 1) are in the cart, once each');
    await page.getByLabel(`Quantity of ${lamp.name}`).waitFor({ timeout: 5000 });
    assert.equal(await page.getByLabel(`Quantity of ${lamp.name}`).inputValue(), '3', 'the next page shows them');
    // A press, then a reload.
    await page.goto(`/products/${vase.id}`);
    await page.getByRole('heading', { name: vase.name }).waitFor();
    await hold();
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.reload();
    await page.getByRole('heading', { name: vase.name }).waitFor();
    await letGo();
    assert.deepEqual(await stored({ [lamp.name]: 3, [vase.name]: 1 }), { [lamp.name]: 3, [vase.name]: 1 });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cart, 4 items' }).waitFor({ timeout: 5000 });
    assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('ecommerce.cart-edit')).length), 0, 'no press is left to make');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a signed-in customer\'s Add to cart written down, the page gone before its turn, then a sign-out in another tab: the next page does not put the press in the guest\'s cart', { timeout: STEP_MS }, async () => {
    const lamp = await newProduct({ name: 'Owned lamp', stock: 20 });
    const { context, page, errors } = await shopperAtCheckout({ name: 'Owned mat', stock: 20 }, 1, 'journal-owner');
    const other = await context.newPage();
    await other.goto('/');
    await other.getByRole('button', { name: 'Sign out' }).waitFor();
    const hold = () =>
      other.evaluate(() => new Promise<void>((held) => void navigator.locks.request('ecommerce.cart.v1', () => new Promise<void>((release) => (((window as unknown as { release: () => void }).release = release), held())))));
    const letGo = () => other.evaluate(() => (window as unknown as { release: () => void }).release());
    await page.goto(`/products/${lamp.id}`);
    await page.getByRole('heading', { name: lamp.name }).waitFor();
    await hold();
    await page.getByRole('button', { name: 'Add to cart' }).click();
    // The page goes with the press waiting for the lock; the customer signs out in the other tab.
    await page.goto('/favicon.svg');
    assert.equal(await other.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('ecommerce.cart-edit')).length), 1, 'the press is written down');
    await other.getByRole('button', { name: 'Sign out' }).click();
    await other.locator('#signin-link').waitFor();
    await letGo();
    // The next page takes over what pages gone wrote down.
    await page.goto('/');
    await page.locator('#signin-link').waitFor();
    await page.waitForFunction(() => !Object.keys(localStorage).some((k) => k.startsWith('ecommerce.cart-edit')), undefined, { timeout: 5000 }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await storedCart(page), {}, 'the guest\'s cart has nothing of the customer\'s');
    assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('ecommerce.cart-edit')).length), 0, 'no press is left to make');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cart', exact: true }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('an order placed, then a reload before the cart took its units off (another tab\'s cart change holds the lock): the next page takes them off, once', { timeout: STEP_MS }, async () => {
    const { product, context, page, errors } = await shopperAtCheckout({ name: 'Reload kettle', stock: 20 }, 2, 'journal-take');
    const other = await context.newPage();
    await other.goto('/favicon.svg');
    const hold = () =>
      other.evaluate(() => new Promise<void>((held) => void navigator.locks.request('ecommerce.cart.v1', () => new Promise<void>((release) => (((window as unknown as { release: () => void }).release = release), held())))));
    const letGo = () => other.evaluate(() => (window as unknown as { release: () => void }).release());
    await page.getByText('Checking current prices and stock…').waitFor({ state: 'detached' });
    await hold();
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.getByText('Thank you! Your order is confirmed.').waitFor();
    assert.deepEqual(await storedCart(page), { [product.name]: 2 }, 'the units wait for the lock');
    await page.reload();
    await page.getByText('Thank you! Your order is confirmed.').waitFor({ state: 'detached' }).catch(() => undefined);
    await letGo();
    await page.waitForFunction(() => (JSON.parse(localStorage.getItem('ecommerce.cart.v1') ?? '[]') as unknown[]).length === 0, undefined, { timeout: 5000 }).catch(() => undefined);
    assert.deepEqual(await storedCart(page), {}, 'the ordered units are off the cart');
    assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('ecommerce.cart-edit')).length), 0, 'nothing is left to make');
    assert.equal(await stockOf(product.id), 18, 'one order');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a cart line removed in another tab while this tab\'s focus is in it (its Quantity) leaves the focus in the page\'s main region, not fallen to the body: the next Tab goes on in the page, not back to Skip to content; also when that empties the cart', { timeout: STEP_MS }, async () => {
    const [first, second] = [await newProduct({ name: 'Focus jar' }), await newProduct({ name: 'Focus lid' })];
    const { context, page, errors } = await newShopper();
    await addToCart(page, first!, 2);
    await addToCart(page, second!, 1);
    const other = await context.newPage();
    await page.goto('/cart');
    await other.goto('/cart');
    const focusedIn = async () => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);
    for (const [product, left] of [[first!, 1], [second!, 0]] as const) {
      await page.getByLabel(`Quantity of ${product.name}`).focus();
      await other.getByRole('button', { name: `Remove ${product.name}` }).click();
      await page.getByLabel(`Quantity of ${product.name}`).waitFor({ state: 'detached' });
      await page.waitForFunction(() => document.activeElement?.id === 'main').catch(() => undefined);
      assert.equal(await focusedIn(), 'main', `${product.name} removed elsewhere (${left} lines left): the focus fell to the body`);
    }
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => !!document.activeElement?.closest('main')), true, 'the next Tab is in the page');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("what this tab's cart said of its own change (\"Said jar: quantity 3. Cart total $40.50.\") goes once another tab changes the cart: it stayed under \"Your cart is empty.\" after the other tab removed the line, a total the cart no longer has", { timeout: STEP_MS }, async () => {
    const [first, second] = [await newProduct({ name: 'Said jar', priceCents: 1250 }), await newProduct({ name: 'Said lid', priceCents: 300 })];
    const { context, page, errors } = await newShopper();
    await addToCart(page, first!, 1);
    await addToCart(page, second!, 1);
    const other = await context.newPage();
    await page.goto('/cart');
    await other.goto('/cart');
    const said = page.getByRole('status').filter({ hasText: 'Cart total' });
    const quantity = page.getByLabel(`Quantity of ${first!.name}`);
    await quantity.fill('3');
    await quantity.press('Enter');
    await said.filter({ hasText: 'Said jar: quantity 3. Cart total $40.50.' }).waitFor();
    // The other tab following this change (it reads the cart again) does not take the sentence away.
    await other.getByLabel(`Quantity of ${first!.name}`).and(other.locator('[value="3"]')).waitFor();
    await page.waitForTimeout(1_000);
    assert.equal(await said.count(), 1, 'what this tab said of its own change stays while nothing else changes the cart');
    // A line removed elsewhere, then the last: the total said here is the cart's no more, each time.
    for (const product of [second!, first!]) {
      await other.getByRole('button', { name: `Remove ${product.name}` }).click();
      await page.getByLabel(`Quantity of ${product.name}`).waitFor({ state: 'detached' });
      await said.waitFor({ state: 'detached', timeout: 5_000 });
      if (product === second) {
        await quantity.fill('2');
        await quantity.press('Enter');
        await said.filter({ hasText: 'Said jar: quantity 2. Cart total $25.00.' }).waitFor();
      }
    }
    await page.getByText('Your cart is empty.').waitFor();
    assert.equal(await page.getByText('Cart total').count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("what the cart said of a change (\"Said cup: quantity 2. Cart total $25.00.\") goes with a sign-out in this tab: it stayed under \"Your cart is empty.\"", { timeout: STEP_MS }, async () => {
    const product = await newProduct({ name: 'Said cup', priceCents: 1250 });
    const { context, page, errors } = await signedInShopper('said-signout');
    await addToCart(page, product, 1);
    await page.goto('/cart');
    const quantity = page.getByLabel(`Quantity of ${product.name}`);
    await quantity.fill('2');
    await quantity.press('Enter');
    const said = page.getByRole('status').filter({ hasText: 'Cart total' });
    await said.filter({ hasText: 'Said cup: quantity 2. Cart total $25.00.' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('Your cart is empty.').waitFor();
    await said.waitFor({ state: 'detached', timeout: 5_000 });
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a product put in the cart from another tab while an order is on its way stays in the cart once the order is placed; only what was ordered leaves it', { timeout: STEP_MS }, async () => {
    const { product, email, context, page } = await shopperAtCheckout({ stock: 20, name: 'Ordered cup' }, 2, 'meanwhile');
    const later = await newProduct({ stock: 20, name: 'Later saucer' });
    const order = await holdRequests(page, '**/order');
    await page.getByRole('button', { name: 'Place order' }).click();
    await order.asked;
    // The order request is on its way: another tab of the shopper puts another product in the cart.
    const second = await context.newPage();
    await addToCart(second, later, 1);
    order.release();
    await page.getByText('Thank you! Your order is confirmed.').waitFor();
    const orders = await ordersOf(await login(email, 'correct-horse-9'));
    assert.equal(orders.length, 1);
    assert.equal(await stockOf(product.id), 18);
    assert.equal(await stockOf(later.id), 20, 'the later product was not ordered');
    // The old page emptied the cart: the saucer, never ordered, was gone from it in both tabs.
    for (const tab of [page, second]) {
      await tab.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cart, 1 item' }).waitFor();
    }
    await page.goto('/cart');
    await page.getByText('Later saucer').first().waitFor();
    assert.equal(await page.getByText('Ordered cup').count(), 0, 'the ordered product left the cart');
    // What is left is a new checkout: it is placed as an order of its own, not answered with the first one.
    await page.goto('/checkout');
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.getByText('Thank you! Your order is confirmed.').waitFor();
    assert.equal((await ordersOf(await login(email, 'correct-horse-9'))).length, 2);
    assert.equal(await stockOf(later.id), 19);
    await context.close();
  });

  test('an order placed or cancelled in one tab shows in the Orders list open in another tab, without a reload', { timeout: STEP_MS }, async () => {
    const { context, page } = await shopperAtCheckout({ stock: 10, name: 'Other-tab vase' }, 2, 'othertab');
    const second = await context.newPage();
    await second.goto('/orders');
    await second.getByRole('heading', { name: 'Orders', level: 1 }).waitFor();
    await second.getByText('No orders yet.').waitFor();
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.getByText('Thank you! Your order is confirmed.').waitFor();
    await second.getByText('2 × Other-tab vase').waitFor();
    // Cancelled in the first tab: the second one's status follows.
    await page.getByRole('button', { name: 'Cancel order' }).click();
    await page.getByRole('button', { name: 'Yes, cancel it' }).click();
    await page.getByText('cancelled', { exact: true }).waitFor();
    await second.getByText('cancelled', { exact: true }).waitFor();
    await context.close();
  });

  test('signing out in one tab signs the other tabs out; a session that ended elsewhere shows the sign-in form at checkout', { timeout: STEP_MS }, async () => {
    const { product, email, context, page, errors } = await shopperAtCheckout({ stock: 5, name: 'Session cup' }, 1, 'session');
    const second = await context.newPage();
    await second.goto('/orders');
    await second.getByRole('heading', { name: 'Orders', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await second.getByRole('link', { name: 'Sign in' }).waitFor();
    await second.goto('/orders');
    await second.waitForURL(/\/signin/);
    await second.close();
    // Signing out empties the cart too (a shared computer's next user does not see it).
    await page.goto('/cart');
    await page.getByText(/cart is empty/i).first().waitFor();
    await addToCart(page, product, 1);

    // Signed in again; then the session ends on the server's side (revoked, expired): the order is refused
    // and the refresh too. The page says so and offers the sign-in form, not a dead "Signed in as".
    await page.goto('/checkout');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct-horse-9');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: 'Place order' }).waitFor();
    // The focus follows to the order panel (the sign-in button it was on is gone), not back to the page's start.
    await page.waitForFunction(() => document.activeElement?.textContent?.trim() === 'Place your order');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Place order', 'the next Tab reaches the button');
    await page.route('**/order', (route) => (route.request().method() === 'POST' ? route.fulfill(unauthorized) : route.continue()));
    await page.route('**/user/token/refresh', (route) => route.fulfill(unauthorized));
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.getByRole('alert').filter({ hasText: 'session has ended' }).waitFor();
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    assert.equal(await page.getByText(/Signed in as/).count(), 0);
    assert.equal(await stockOf(product.id), 5);

    // Signing in there again: the order panel is back without the old alert (the old code kept "Your session has
    // ended; please sign in again." under "Signed in as"), and the order goes through.
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct-horse-9');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: 'Place order' }).waitFor();
    assert.equal(await page.getByText('session has ended').count(), 0, 'the ended session is not said once signed in again');
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.getByText('Thank you! Your order is confirmed.').waitFor();
    assert.equal(await stockOf(product.id), 4);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("a signed-in page kept in the browser's back/forward cache (left for another site) and signed out in another tab meanwhile comes back signed out on Back: none of the customer's orders, no Sign out", { timeout: STEP_MS }, async () => {
    // Playwright turns the back/forward cache off (--disable-back-forward-cache); a shopper's Chromium has it on, and a
    // page restored from it runs no script anew: what it showed comes back as it was unless the app follows what happened.
    const withCache = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, ignoreDefaultArgs: ['--disable-back-forward-cache'] });
    const elsewhere = createServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end('<!doctype html><title>elsewhere</title><p>elsewhere</p>');
    });
    // The listen inside the try, its failure (127.0.0.2 not there) thrown: before, a failure between the launch and
    // the try left the browser running, and the file waited for the runner's 20 min timeout.
    try {
      await new Promise<void>((resolve, reject) => elsewhere.once('error', reject).listen(0, '127.0.0.2', resolve));
      const email = uniqueEmail('bfcache');
      assert.equal((await api('POST', '/user/register', { email, password: 'correct-horse-9', name: 'Ada Shopper' }, '')).status, 201);
      const token = await login(email, 'correct-horse-9');
      const product = await newProduct({ name: 'Cached teapot' });
      const order = await api<Order>('POST', '/order', { items: [{ productId: product.id, quantity: 1 }] }, token, { 'idempotency-key': randomUUID() });
      assert.equal(order.status, 201, JSON.stringify(order.body));
      const context = await withCache.newContext({ baseURL: base });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.addInitScript(() => addEventListener('pageshow', (e) => Object.assign(window, { restored: e.persisted })));
      await signInAs(page, email, 'correct-horse-9');
      await page.goto('/orders');
      await page.getByText(/× Cached teapot/).waitFor();
      await page.goto(`http://127.0.0.2:${(elsewhere.address() as { port: number }).port}/`);
      const other = await context.newPage();
      await other.goto('/');
      await other.getByRole('button', { name: 'Sign out' }).click();
      await other.getByRole('link', { name: 'Sign in' }).waitFor();
      // A restored page fires no load event: wait for the commit, then for the page's own state.
      await page.goBack({ waitUntil: 'commit' });
      await page.waitForFunction(() => 'restored' in window);
      assert.equal(await page.evaluate(() => (window as unknown as { restored: boolean }).restored), true, 'not restored from the back/forward cache: this test shows nothing');
      await page.getByRole('link', { name: 'Sign in' }).waitFor();
      assert.equal(await page.getByText(/× Cached teapot/).count(), 0, "the customer's orders are still shown after the sign-out");
      assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0);
      assert.deepEqual(errors, []);
      await context.close();
    } finally {
      await stopAll(withCache, elsewhere);
    }
  });

  test("signing out forgets the admin's drafts (New product, an unsaved edit) in this tab and in the other tabs: signed in again, the forms are empty; a shared computer's next user finds nothing in the tab's storage", { timeout: STEP_MS }, async () => {
    const product = await newProduct({ name: 'Private vase', stock: 3 });
    const { context, page, errors } = await adminAtProducts();
    const form = page.getByRole('region', { name: 'New product' });
    await form.getByLabel('SKU').fill('SECRET-SKU-1');
    await form.getByLabel('Name').fill('Unreleased lamp');
    const other = await context.newPage();
    await other.goto(`/admin/products/${product.id}`);
    await other.getByLabel('Name', { exact: true }).fill('Private vase, renamed');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in' }).first().waitFor();
    await other.getByText('This area is for shop administrators.').waitFor();
    const stored = (p: Page) => p.evaluate(() => Object.entries(sessionStorage).filter(([k]) => k.includes('admin')));
    // The old app kept both in sessionStorage, and the other tab said "your changes to Private vase ... are kept in this tab".
    assert.deepEqual(await stored(page), [], 'nothing of the admin left in the tab that signed out');
    assert.deepEqual(await stored(other), [], 'nor in the other tab');
    assert.equal(await other.getByText('Your session has ended').count(), 0, 'no kept edit announced to whoever sits there next');
    await signInAs(page, stack.admin.email, stack.admin.password);
    await page.goto('/admin');
    await form.getByLabel('SKU').waitFor();
    assert.deepEqual([await form.getByLabel('SKU').inputValue(), await form.getByLabel('Name').inputValue()], ['', ''], 'the New product form is empty');
    await other.goto(`/admin/products/${product.id}`);
    await other.getByRole('button', { name: 'Save changes' }).waitFor();
    assert.equal(await other.getByLabel('Name', { exact: true }).inputValue(), 'Private vase', 'the edit page shows the product as saved');
    assert.equal(await other.getByText('before your session ended').count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("an admin's session that expired mid-edit keeps the edit for that admin only: another user signing in next in that tab finds nothing of it, and it does not come back after", { timeout: STEP_MS }, async () => {
    const product = await newProduct({ name: 'Expiring easel', stock: 2 });
    const { context, page, errors } = await adminAtProducts();
    await page.goto(`/admin/products/${product.id}`);
    await page.getByLabel('Name', { exact: true }).fill('Expiring easel, oak');
    await page.route(`**/product/${product.id}`, (route) => (route.request().method() === 'PATCH' ? route.fulfill(unauthorized) : route.fallback()));
    await page.route('**/user/token/refresh', (route) => route.fulfill(unauthorized));
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('alert').filter({ hasText: 'Your session has ended' }).waitFor({ timeout: 10_000 });
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    // Someone else signs in in that tab: a customer.
    const email = uniqueEmail('next-user');
    assert.equal((await api('POST', '/user/register', { email, password: 'correct-horse-9', name: 'Next User' }, '')).status, 201);
    await signInAs(page, email, 'correct-horse-9');
    const stored = await page.evaluate(() => Object.entries(sessionStorage).filter(([k]) => k.includes('admin')));
    assert.deepEqual(stored, [], 'the admin\'s edit is not in the tab of the next user');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in' }).first().waitFor();
    await signInAs(page, stack.admin.email, stack.admin.password);
    await page.goto(`/admin/products/${product.id}`);
    await page.getByRole('button', { name: 'Save changes' }).waitFor();
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Expiring easel');
    assert.equal(await page.getByText('before your session ended').count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("the cart is the signed-in customer's: a guest's is theirs at sign-in; one left by a customer whose session expired is not shown to the next customer who signs in in that tab; after a sign-out a guest's new cart is kept at the next sign-in", { timeout: STEP_MS }, async () => {
    const [mine, theirs] = [await newProduct({ name: 'Guest candle' }), await newProduct({ name: 'Customer A slippers' })];
    const accounts = await Promise.all(['cart-a', 'cart-b', 'cart-c'].map(async (tag) => {
      const email = uniqueEmail(tag);
      assert.equal((await api('POST', '/user/register', { email, password: 'correct-horse-9', name: 'Ada Shopper' }, '')).status, 201);
      return email;
    }));
    const { context, page, errors } = await newShopper();
    const cartNames = async () => {
      await page.goto('/cart');
      await page.getByRole('heading', { name: 'Cart', level: 1 }).waitFor();
      return page.locator('.line-name a').allInnerTexts();
    };
    // A guest's cart goes with the guest into their account.
    await addToCart(page, mine, 1);
    await signInAs(page, accounts[0]!, 'correct-horse-9');
    assert.deepEqual(await cartNames(), ['Guest candle']);
    await addToCart(page, theirs, 1);
    // A's session ends without a sign-out (expired, revoked): a reload's refresh is refused.
    await page.route('**/user/token/refresh', (route) => route.fulfill({ status: 401, contentType: 'application/problem+json', body: JSON.stringify({ type: 'about:blank', title: 'Unauthorized', status: 401 }) }));
    await page.reload();
    await page.getByRole('link', { name: 'Sign in' }).first().waitFor();
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await signInAs(page, accounts[1]!, 'correct-horse-9');
    // The old app showed B the cart of A, and Place order would have ordered it.
    assert.deepEqual(await cartNames(), [], "B does not get A's cart");
    assert.equal(await page.getByRole('link', { name: /^Cart, / }).count(), 0, 'the header counts nothing');
    // B signs out; a guest fills a cart and signs in as C: the guest's cart is C's (no stale owner empties it).
    await addToCart(page, theirs, 2);
    // Signed out while another tab's cart change is under way (the cart's lock held), then a page loaded at once: the
    // emptying waited its turn behind that change, the load came first, and the cart stayed for the next user.
    await holdCartLock(page);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in' }).first().waitFor();
    assert.deepEqual(await cartNames(), [], 'a sign-out empties the cart');
    await addToCart(page, mine, 2);
    await signInAs(page, accounts[2]!, 'correct-horse-9');
    assert.deepEqual(await cartNames(), ['Guest candle']);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("a customer's cart whose session expired is not shown to whoever uses the tab next, in this tab or another, nor orderable there; the customer signing in again gets it back with what was put in the cart meanwhile; another customer gets only that", { timeout: STEP_MS }, async () => {
    const [held, meanwhile] = [await newProduct({ name: 'Held lantern', stock: 9 }), await newProduct({ name: 'Meanwhile mug', stock: 9 })];
    const accounts = await Promise.all(['held-a', 'held-b'].map(async (tag) => {
      const email = uniqueEmail(tag);
      assert.equal((await api('POST', '/user/register', { email, password: 'correct-horse-9', name: 'Ada Shopper' }, '')).status, 201);
      return email;
    }));
    const { context, page, errors } = await newShopper();
    await signInAs(page, accounts[0]!, 'correct-horse-9');
    await addToCart(page, held, 2);
    const other = await context.newPage();
    other.on('pageerror', (e) => errors.push(e.message));
    await other.goto('/cart');
    await other.locator('.line-name a', { hasText: 'Held lantern' }).waitFor();
    const shownIn = async (p: Page, path: string) => {
      await p.goto(path);
      await p.locator('main h1').first().waitFor();
      return p.locator('.line-name a').allInnerTexts();
    };
    const stored = () => page.evaluate(() => localStorage.getItem('ecommerce.cart.v1') ?? '');
    // A's session ends without a sign-out (expired, revoked): a reload's refresh is refused.
    await recordHeaderStates(context);
    await page.route('**/user/token/refresh', (route) => route.fulfill(unauthorized));
    await page.reload();
    const header = page.getByRole('navigation', { name: 'Main' });
    await header.getByRole('link', { name: 'Sign in' }).waitFor();
    await header.getByRole('link', { name: 'Cart', exact: true }).waitFor();
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    // The old app showed A's cart to whoever sat at the tab next (the header's badge, the cart, checkout's lines
    // above a sign-in form), here and in the other tab; and for a frame the header said "Sign in" beside A's count
    // (the cart was put aside in an effect after that render). Every state of the header since the reload's first render.
    assert.deepEqual((await headerStates(page)).filter((s) => s.includes('Sign in') && !s.includes('Cart')), [], 'the header counts nothing once signed out');
    assert.equal(await page.getByRole('link', { name: /^Cart, / }).count(), 0, 'the header counts nothing');
    assert.deepEqual(await shownIn(page, '/cart'), [], "the cart page shows none of A's lines");
    // Not lost either: the page says a cart is kept for its customer (without what is in it) and how to get it back.
    await page.getByText('The cart of the customer who was signed in here is kept for them.').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Sign in' }).last().getAttribute('href'), '/signin?next=%2Fcart');
    assert.deepEqual(await shownIn(page, '/checkout'), [], 'nor does checkout, which offers the sign-in form');
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Place order' }).count(), 0);
    await other.getByRole('link', { name: 'Sign in' }).first().waitFor();
    assert.deepEqual(await shownIn(other, '/cart'), [], 'nor the other tab');
    assert.ok(!(await stored()).includes(held.id), "A's lines are not the tab's cart any more");
    // A signs in again at checkout: the order panel comes with A's cart, and the focus goes to it (the button
    // pressed is gone).
    await page.getByLabel('Email').fill(accounts[0]!);
    await page.getByLabel('Password').fill('correct-horse-9');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: 'Place order' }).waitFor();
    await page.waitForFunction(() => document.activeElement?.textContent?.trim() === 'Place your order');
    assert.deepEqual(await page.locator('.line-name a').allInnerTexts(), ['Held lantern']);
    // Expired again; the visitor shops as a guest; A signs in again: A's cart is back, and the guest's lines join it.
    await sessionEndsAtReload(page);
    await addToCart(page, meanwhile, 1);
    assert.deepEqual(await shownIn(page, '/cart'), ['Meanwhile mug']);
    await signInAs(page, accounts[0]!, 'correct-horse-9');
    assert.deepEqual((await shownIn(page, '/cart')).sort(), ['Held lantern', 'Meanwhile mug']);
    assert.equal(await page.getByLabel('Quantity of Held lantern').inputValue(), '2');
    await page.getByRole('link', { name: 'Cart, 3 items' }).waitFor();
    // Expired again; a guest's cart, then B signs in: B gets the guest's lines, none of A's (nor are they kept).
    await sessionEndsAtReload(page);
    await addToCart(page, meanwhile, 4);
    await signInAs(page, accounts[1]!, 'correct-horse-9');
    assert.deepEqual(await shownIn(page, '/cart'), ['Meanwhile mug']);
    assert.equal(await page.getByLabel('Quantity of Meanwhile mug').inputValue(), '4');
    assert.ok(!(await page.evaluate(() => JSON.stringify(localStorage))).includes(held.id), "nothing of A's cart is kept in B's browser storage");
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in' }).first().waitFor();
    await signInAs(page, accounts[0]!, 'correct-horse-9');
    assert.deepEqual(await shownIn(page, '/cart'), [], "A's cart did not outlive B's sign-in, and a sign-out keeps nothing");
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("a sign-in that brings back a customer's cart put aside, while another tab's change of the cart is under way, keeps the cart brought back, the guest's lines and the other tab's line", { timeout: STEP_MS }, async () => {
    const [kept, guest, meanwhile] = [await newProduct({ name: 'Kept kettle' }), await newProduct({ name: 'Guest gloves' }), await newProduct({ name: 'Other-tab toast rack' })];
    const { email, context, page, errors } = await signedInShopper('adopt-race');
    await addToCart(page, kept, 2);
    // The session ends without a sign-out (a reload's refresh refused): the cart is put aside; a guest adds one.
    await sessionEndsAtReload(page);
    await addToCart(page, guest, 1);
    const change = await otherTabChange(await context.newPage(), meanwhile);
    await signInAs(page, email, 'correct-horse-9');
    await cartWriteUnderWay(page, 'ecommerce.cart-owner.v1');
    await change.finish();
    // The old sign-in wrote the cart brought back beside the other tab's change, which then wrote over it.
    const want = { [kept.name]: 2, [guest.name]: 1, [meanwhile.name]: 1 };
    await page.waitForFunction((n) => (JSON.parse(localStorage.getItem('ecommerce.cart.v1') ?? '[]') as unknown[]).length >= n, 3, { timeout: 5000 }).catch(() => undefined);
    assert.deepEqual(await storedCart(page), want);
    await page.goto('/cart');
    await page.getByRole('link', { name: 'Cart, 4 items' }).waitFor({ timeout: 5000 });
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("a customer's cart put aside when their session ended, while another tab's change of the cart is under way: the other tab's line is put aside with it, and none of the customer's lines stays in the cart the next user sees", { timeout: STEP_MS }, async () => {
    const [kept, meanwhile] = [await newProduct({ name: 'Aside atlas' }), await newProduct({ name: 'Other-tab bookend' })];
    const { email, context, page, errors } = await signedInShopper('aside-race');
    await addToCart(page, kept, 2);
    const change = await otherTabChange(await context.newPage(), meanwhile);
    await sessionEndsAtReload(page);
    await cartWriteUnderWay(page, 'ecommerce.cart-held.v1');
    await change.finish();
    await page.waitForFunction(() => localStorage.getItem('ecommerce.cart-held.v1')?.includes('Other-tab bookend'), undefined, { timeout: 5000 }).catch(() => undefined);
    // The old put-aside emptied the cart beside the other tab's change, which then wrote the customer's lines back.
    assert.deepEqual(await storedCart(page), {}, "the next user's cart has none of the customer's lines");
    assert.deepEqual(await storedCart(page, 'ecommerce.cart-held.v1'), { [kept.name]: 2, [meanwhile.name]: 1 }, 'kept for the customer, with the other tab\'s line');
    assert.equal(await page.getByRole('link', { name: /^Cart, / }).count(), 0, 'the header counts nothing');
    await signInAs(page, email, 'correct-horse-9');
    await page.goto('/cart');
    await page.getByRole('link', { name: 'Cart, 3 items' }).waitFor({ timeout: 5000 });
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("a signed-out tab shows the customer's cart once another tab signs them in: the cart brought back there and what was added there before this tab learnt of the sign-in, in the header and on the cart page, with no press", { timeout: STEP_MS }, async () => {
    const [kept, added] = [await newProduct({ name: 'Brought-back bowl' }), await newProduct({ name: 'Other-tab teapot' })];
    const { email, context, page, errors } = await signedInShopper('other-tab-signin');
    await addToCart(page, kept, 2);
    await sessionEndsAtReload(page);
    const header = page.getByRole('navigation', { name: 'Main' });
    await page.goto('/');
    await header.getByRole('link', { name: 'Cart', exact: true }).waitFor();
    // This tab's check of the session another tab's sign-in starts is held: the other tab brings the cart back and
    // adds to it while this one is still signed out (it shows none of it, the cart's owner being that customer).
    const check = await holdRequests(page, '**/user/token/refresh');
    const other = await context.newPage();
    other.on('pageerror', (e) => errors.push(e.message));
    await signInAs(other, email, 'correct-horse-9');
    const otherHeader = other.getByRole('navigation', { name: 'Main' });
    await otherHeader.getByRole('link', { name: 'Cart, 2 items', exact: true }).waitFor();
    await addToCart(other, added, 1);
    await otherHeader.getByRole('link', { name: 'Cart, 3 items', exact: true }).waitFor();
    await check.asked;
    assert.equal(await header.getByRole('link', { name: /^Cart, / }).count(), 0, "signed out, the tab counts none of the customer's cart");
    check.release();
    // Signed in here too: the old tab counted nothing and showed an empty cart (the owner already this customer, the
    // stored cart was not read again) until the next change of the cart.
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await header.getByRole('link', { name: 'Cart, 3 items', exact: true }).waitFor({ timeout: 5000 });
    // The cart page, reached by the header's link (no page load): the customer's lines.
    await header.getByRole('link', { name: 'Cart, 3 items', exact: true }).click();
    await page.getByRole('heading', { name: 'Cart', level: 1 }).waitFor();
    assert.deepEqual((await page.locator('.line-name a').allInnerTexts()).sort(), ['Brought-back bowl', 'Other-tab teapot']);
    assert.equal(await page.getByLabel('Quantity of Brought-back bowl').inputValue(), '2');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('after signing out on the next page, Back to the orders page (restored whole from the back/forward cache) shows the ended session in no frame: no orders, no Sign out', { timeout: STEP_MS }, async () => {
    // Playwright turns the back/forward cache off; a shopper's Chromium has it on.
    const bf = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, ignoreDefaultArgs: ['--disable-back-forward-cache'] });
    try {
      const product = await newProduct({ name: `Bfcache lamp ${Date.now().toString(36)}` });
      const email = uniqueEmail('hibf');
      assert.equal((await api('POST', '/user/register', { email, password: 'correct-horse-9', name: 'Bf Shopper' }, '')).status, 201);
      const token = await login(email, 'correct-horse-9');
      assert.equal((await api('POST', '/order', { items: [{ productId: product.id, quantity: 1 }] }, token, { 'idempotency-key': randomUUID() })).status, 201);
      const context = await bf.newContext({ baseURL: base, viewport: { width: 1280, height: 900 } });
      const { page, errors } = await signedOutAfterOrders(context, email, product.name);
      // A page restored from the cache fires no load event.
      await page.goBack({ waitUntil: 'commit' });
      await page.waitForTimeout(1500);
      const after = await page.evaluate(() => ({
        restored: (window as { __marker?: string }).__marker === 'orders-doc',
        url: location.pathname,
        text: document.body.innerText,
        shown: (window as { __atShow?: { persisted: boolean; frames: string[] } }).__atShow,
      }));
      assert.equal(after.shown?.persisted, true, 'Back restored the orders page from the back/forward cache');
      assert.deepEqual(after.shown.frames.filter((f) => /Sign out|ORDER/.test(f)), [], 'the restored page (before its first frame, or in one) shows the ended session');
      assert.ok(!after.text.includes(product.name), `Back shows the signed-out session's orders (restored from the cache: ${after.restored})`);
      assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0, 'Back shows a Sign out button of the ended session');
      assert.deepEqual(errors, []);
      await context.close();
    } finally {
      await bf.close();
    }
  });

  test("after one customer signs out and another signs in on the same tab, Back to the first one's orders page (restored from the back/forward cache) shows none of the first one's orders in any frame, and ends signed in as the second", { timeout: STEP_MS }, async () => {
    const bf = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, ignoreDefaultArgs: ['--disable-back-forward-cache'] });
    try {
      const product = await newProduct({ name: `Bfcache vase ${Date.now().toString(36)}` });
      const [first, second] = [uniqueEmail('hibfa'), uniqueEmail('hibfb')];
      for (const email of [first, second]) assert.equal((await api('POST', '/user/register', { email, password: 'correct-horse-9', name: 'Bf Shopper' }, '')).status, 201);
      assert.equal((await api('POST', '/order', { items: [{ productId: product.id, quantity: 1 }] }, await login(first, 'correct-horse-9'), { 'idempotency-key': randomUUID() })).status, 201);
      // Chromium may keep a page out of its back/forward cache (a request of the page's in flight as it was left, a
      // busy machine): Back then loads the orders page anew, which must show none of the first customer's orders
      // either, but is not the case this test is for. So up to three tries, each in a new context, until one is
      // restored from the cache; none restored fails with Chromium's reasons. (A full run once went Back past a
      // page loaded anew, to about:blank.)
      const notRestored: string[] = [];
      for (let attempt = 1; ; attempt++) {
        const context = await bf.newContext({ baseURL: base, viewport: { width: 1280, height: 900 } });
        try {
          const { page, errors } = await signedOutAfterOrders(context, first, product.name);
          await signInAs(page, second, 'correct-horse-9');
          // Back through the sign-in page (its own document) and the cart to the first customer's orders page. Each
          // address Back reached is said if it goes past the shop (CI once failed here or after with no message kept).
          const reached: string[] = [page.url()];
          while (new URL(page.url()).pathname !== '/orders') {
            await page.goBack({ waitUntil: 'commit' });
            await page.waitForTimeout(300);
            reached.push(page.url());
            assert.ok(page.url().startsWith(base), `Back went past the shop: ${reached.join(' <- ')}`);
          }
          await page.waitForTimeout(1500);
          const shown = await page.evaluate(() => (window as unknown as { __atShow?: { persisted: boolean; frames: string[] } }).__atShow);
          assert.equal(await page.getByText(product.name).count(), 0, "the first customer's orders are shown");
          await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 5000 });
          const me = await page.evaluate(() => sessionStorage.getItem('ecommerce.tab-user'));
          assert.equal(me, (await api<{ id: string }>('GET', '/user/me', undefined, await login(second, 'correct-horse-9'))).body.id);
          assert.deepEqual(errors, []);
          if (shown?.persisted) {
            assert.deepEqual(shown.frames.filter((f) => f.includes('ORDER')), [], JSON.stringify(shown.frames));
            // Someone is signed in (the second customer): the restored page stays the orders page while it finds out
            // who. It drew the sign-in form at /signin?next=%2Forders (history replaced) until the storage events it
            // missed signed it in again; a Back pressed in that while (the loop above, 300 ms after Back, on a busy
            // CI machine) went on past the orders page to about:blank.
            assert.deepEqual(shown.frames.filter((f) => !/^\d+ms \/orders\b/.test(f)), [], `the restored orders page went elsewhere: ${JSON.stringify(shown.frames)}`);
            break;
          }
          const reasons = await page.evaluate(() => JSON.stringify((performance.getEntriesByType('navigation')[0] as PerformanceEntry & { notRestoredReasons?: unknown })?.notRestoredReasons ?? null));
          notRestored.push(`try ${attempt}: ${shown ? 'pageshow not persisted' : 'loaded anew'}, reasons ${reasons}`);
          assert.ok(attempt < 3, `Back never restored the orders page from the back/forward cache: this test shows nothing. ${notRestored.join('; ')}`);
        } finally {
          await context.close();
        }
      }
      if (notRestored.length > 0) console.log(`# back/forward cache: ${notRestored.join('; ')}`);
    } finally {
      await bf.close();
    }
  });
});
