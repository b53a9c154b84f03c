// The storefront in a real Chromium against the whole platform (harness.ts): the app as the gateway serves it and
// when its script cannot load, the API types drift check, the catalog (search, categories, Load more), product pages
// and the cart (quantities, removing lines, live regions).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { type ElementHandle, type Locator, type Page } from 'playwright-core';
import { SERVICES, fetchDoc, renderTypes } from '../../tools/openapi-types.js';
import { apiDir } from '../../tools/paths.js';
import { addToCart, adminAtProducts, adminToken, api, assertAccessible, base, saysEachFailure, browser, holdCartLock, holdRequests, login, newProduct, newShopper, ordersOf, problem, type Product, screenshot, settledValue, signedInShopper, signInAs, stack, startStackAndBrowser, STEP_MS, storedQuantities } from './harness.js';

startStackAndBrowser();

describe('storefront in Chromium: the app, the catalog, product pages and the cart', { concurrency: false }, () => {
  test('the typed client in web/src/api matches the running services (run `npm run api -w web` when this fails)', async () => {
    for (const service of SERVICES) {
      const fresh = await renderTypes(service, await fetchDoc(base, service));
      const committed = await readFile(path.join(apiDir, `${service}.ts`), 'utf8');
      assert.ok(committed === fresh, `web/src/api/${service}.ts drifted from GET /${service}/openapi.json`);
    }
  });

  test('the gateway serves the app: HTML not cached with a strict CSP, hashed assets immutable, client routes fall back to index.html', async () => {
    const home = await fetch(`${base}/`);
    assert.equal(home.status, 200);
    assert.equal(home.headers.get('cache-control'), 'no-cache');
    const csp = home.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const html = await home.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(asset);
    const js = await fetch(base + asset, { headers: { 'accept-encoding': 'br, gzip' } });
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    for (const route of ['/products/anything', '/cart', '/checkout', '/orders', '/orders/x', '/signin', '/admin', '/admin/users']) {
      const r = await fetch(base + route);
      assert.equal(r.status, 200, route);
      assert.equal(r.headers.get('cache-control'), 'no-cache', route);
      assert.equal(await r.text(), html, route);
    }
    // The API keeps its own answers: JSON, problem+json for unknown paths, no storefront CSP.
    const missing = await fetch(`${base}/no-such-page`);
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type') ?? '', /problem\+json/);
    const list = await fetch(`${base}/product?limit=1`);
    assert.match(list.headers.get('content-type') ?? '', /application\/json/);
  });

  test('the shop and admin pages show their images (the products\' own files, in the shop, on a product page, in the cart) with no CSP violation, and an image from a data: URL put in the page is refused by img-src: the app needs none', { timeout: STEP_MS }, async () => {
    const listed = await api<{ items: (Product & { imageUrl: string | null })[] }>('GET', '/product?limit=100', undefined, '');
    const pictured = listed.body.items.find((p) => p.imageUrl && p.stock > 0);
    assert.ok(pictured, 'the demo catalog has a product with a picture in stock');
    const { context, page, errors } = await newShopper();
    await context.addInitScript(() => {
      const seen: string[] = [];
      Object.assign(window, { cspViolations: seen });
      document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const refusals: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) refusals.push(`${page.url()}: ${m.text()}`);
    });
    const violations = () => page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
    /** Every image of the page loaded (lazy ones made eager) and shown with a size, and no CSP violation; how many. */
    const imagesShown = async (what: string): Promise<number> => {
      await page.waitForLoadState('networkidle');
      const images = await page.evaluate(() =>
        Promise.all(
          [...document.images].map(async (img) => {
            img.loading = 'eager';
            const ok = await img.decode().then(
              () => true,
              () => false,
            );
            return { src: img.getAttribute('src'), ok, width: img.naturalWidth };
          }),
        ),
      );
      for (const image of images) assert.ok(image.ok && image.width > 0, `${what}: ${image.src} not shown`);
      assert.deepEqual(await violations(), [], what);
      return images.length;
    };
    await signInAs(page, stack.admin.email, stack.admin.password);
    await page.goto('/');
    await page.getByRole('link', { name: pictured.name }).first().waitFor();
    assert.ok((await imagesShown('shop')) > 0, 'the shop shows pictures');
    await addToCart(page, pictured);
    assert.ok((await imagesShown('product page')) > 0, 'the product page shows its picture');
    await page.goto('/cart');
    await page.getByRole('link', { name: pictured.name }).first().waitFor();
    assert.ok((await imagesShown('cart')) > 0, 'the cart shows the picture');
    for (const [where, ready] of [
      ['/admin', 'Create product'],
      [`/admin/products/${pictured.id}`, 'Save changes'],
      ['/admin/orders', undefined],
      ['/admin/users', undefined],
    ] as const) {
      await page.goto(where);
      if (ready) await page.getByRole('button', { name: ready }).first().waitFor();
      await imagesShown(where);
    }
    assert.deepEqual(refusals, []);
    // A 1x1 GIF as a data: URL: the page's CSP refuses it, and reports it.
    const probe = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          const img = new Image();
          img.onload = () => resolve('loaded');
          img.onerror = () => resolve('refused');
          img.src = 'data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';
          document.body.append(img);
        }),
    );
    assert.equal(probe, 'refused');
    await page.waitForFunction(() => (window as unknown as { cspViolations: string[] }).cspViolations.length > 0);
    assert.deepEqual(await violations(), ['img-src data']);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("the API reference pages (/user/docs, /product/docs, /order/docs) list their operations with no console error or failed request, also on the dev ingress's plain-http host name", { timeout: STEP_MS }, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`${r.url()}: ${r.failure()?.errorText}`));
    for (const origin of [base, 'http://ecommerce.local']) {
      for (const service of ['user', 'product', 'order']) {
        await page.goto(`${origin}/${service}/docs`);
        const operations = page.locator('.opblock');
        const shown = await operations.first().waitFor({ timeout: 15_000 }).then(
          () => true,
          () => false,
        );
        assert.ok(shown && (await operations.count()) >= 3, `${origin}/${service}/docs lists no operations:\n${problems.join('\n')}`);
      }
    }
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('browse, search as you type, filter by category, load more, and a product page with honest stock', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await newShopper();
    await page.goto('/');
    await page.getByRole('link', { name: 'Mechanical Keyboard TKL' }).waitFor();
    const cards = page.locator('main .grid > li.card');
    assert.equal(await cards.count(), 12);
    await assertAccessible(page, 'home');
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.getByRole('link', { name: 'Running Belt' }).waitFor();
    assert.ok((await cards.count()) > 12);

    await page.getByLabel('Search').fill('kett');
    await page.getByRole('link', { name: 'Gooseneck Electric Kettle' }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('main .grid > li.card').length === 1);
    await page.waitForURL((u) => u.searchParams.get('q') === 'kett');
    // The brand link is the whole shop again: the search field and the address let go of the search...
    await page.getByRole('link', { name: 'Northwind Supply' }).click();
    await page.getByRole('link', { name: 'Mechanical Keyboard TKL' }).waitFor();
    await settledValue(page.getByLabel('Search'), '', 'the brand link clears the search');
    await page.waitForTimeout(600);
    assert.equal(new URL(page.url()).search, '', 'the search does not come back into the address');
    assert.ok((await cards.count()) > 1, 'the whole catalog, not the one kettle');
    // ...and Back brings it back, field included.
    await page.goBack();
    await settledValue(page.getByLabel('Search'), 'kett', 'Back restores the search');
    await page.waitForFunction(() => document.querySelectorAll('main .grid > li.card').length === 1);
    await page.getByLabel('Search').fill('');
    await page.getByLabel('Category').selectOption('books');
    await page.getByRole('link', { name: 'The Pragmatic Programmer' }).waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('main .grid > li.card')].length === 4);
    await page.getByLabel('Search').fill('zzzz-nothing');
    // Said in the live region the product count is in (heard while typing), once.
    await page.getByRole('status').filter({ hasText: 'No products match “zzzz-nothing” in books.' }).waitFor();
    assert.equal(await page.getByText('No products match').count(), 1, 'said once');

    // Stock shown as it is: "Only 8 left"; the cap (stock 0) cannot be added.
    await page.getByLabel('Search').fill('Art of Computer');
    await page.getByLabel('Category').selectOption('');
    await page.getByRole('link', { name: /The Art of Computer Programming/ }).click();
    await page.getByRole('heading', { name: /The Art of Computer Programming/ }).waitFor();
    await page.getByText('Only 8 left').waitFor();
    await page.getByText('$79.99').waitFor();
    await assertAccessible(page, 'product page');
    await page.goto('/');
    await page.getByLabel('Search').fill('cap');
    await page.getByRole('link', { name: 'Baseball Cap' }).click();
    await page.getByText('Out of stock').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Add to cart' }).isDisabled(), true);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("the Category filter offers every category of the catalog, also one whose products all came after the catalog's first 100, and choosing it shows them", { timeout: STEP_MS }, async () => {
    // The catalog's live products, counted page by page; filled up to 100 so the next product is the 101st or later.
    let count = 0;
    for (let cursor: string | null = null, first = true; first || cursor; first = false) {
      const res: { status: number; body: { items: unknown[]; nextCursor: string | null } } = await api('GET', `/product?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200);
      count += res.body.items.length;
      cursor = res.body.nextCursor;
    }
    for (; count < 100; count++) await newProduct({ category: 'e2e-filler' });
    const category = `late-${Date.now().toString(36)}`;
    const late = await newProduct({ name: 'Late garden hose', category });
    const { context, page, errors } = await newShopper();
    await page.goto('/');
    await page.getByRole('link', { name: 'Mechanical Keyboard TKL' }).waitFor();
    const option = page.getByLabel('Category').locator(`option[value="${category}"]`);
    await option.waitFor({ state: 'attached' }).catch(() => undefined);
    assert.equal(await option.count(), 1, `the Category filter offers ${category}`);
    await page.getByLabel('Category').selectOption(category);
    await page.getByRole('link', { name: late.name }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the shop\'s Category filter is as wide as a field, not as its longest category: at 1280 px Search keeps most of the row beside a category of 64 characters in one word', { timeout: STEP_MS }, async () => {
    // First in the list of categories (the shop asks for the first 100), 64 characters in one word.
    const long = `A${'W'.repeat(55)}${Date.now().toString(36).slice(-8).padStart(8, '0')}`;
    await newProduct({ name: 'Long-category tin', category: long });
    const { context, page, errors } = await newShopper();
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto('/');
    await page.waitForFunction((c) => [...document.querySelectorAll('[role=search] select option')].some((o) => (o as HTMLOptionElement).value === c), long);
    const [field, list] = await Promise.all([page.getByRole('search').getByLabel('Search'), page.getByRole('search').getByLabel('Category')].map((l) => l.boundingBox()));
    // The list took the width of its longest option (746 px), the search field what was left (370 px).
    assert.ok(list!.width <= 260, `the Category list is ${Math.round(list!.width)} px wide`);
    assert.ok(field!.width >= 2 * list!.width, `Search ${Math.round(field!.width)} px beside a list of ${Math.round(list!.width)} px`);
    assert.ok(Math.abs(field!.y + field!.height - (list!.y + list!.height)) < 2, `not one row: ${JSON.stringify([field, list])}`);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a catalog that could not load says so; Try again by keyboard loads it and keeps the focus in the page', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await newShopper();
    // The product list fails (the shop's API is unreachable) until the shopper tries again.
    let failing = true;
    await page.route(/\/product(\?|$)/, (route) => (failing && route.request().method() === 'GET' ? route.abort() : route.continue()));
    await page.goto('/');
    const again = page.getByRole('button', { name: 'Try again' });
    await again.waitFor({ timeout: 30_000 });
    failing = false;
    await again.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'Mechanical Keyboard TKL' }).waitFor();
    // The button went while the catalog loaded: the focus is on the main region, not the page's start.
    await page.waitForFunction(() => document.activeElement?.id === 'main');
    assert.ok(errors.every((e) => /Failed to fetch|net::ERR_FAILED/i.test(e)), errors.join('\n'));
    await context.close();
  });

  test('a Category list that could not load says so by the filter, with a Try again that loads it and keeps the focus there; the products still show', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await newShopper();
    let failing = true;
    await page.route('**/product/categories*', (route) => (failing ? route.abort() : route.fallback()));
    await page.goto('/');
    await page.getByRole('link', { name: 'Mechanical Keyboard TKL' }).waitFor();
    // The old page offered "All categories" alone and said nothing.
    const said = page.getByRole('alert').filter({ hasText: 'The categories could not be loaded' });
    await said.waitFor({ timeout: 30_000 });
    await assertAccessible(page, 'home with the categories failed');
    failing = false;
    const again = said.getByRole('button', { name: 'Try again' });
    await again.focus();
    await page.keyboard.press('Enter');
    await page.getByLabel('Category').locator('option[value="books"]').waitFor({ state: 'attached' });
    await said.waitFor({ state: 'detached' });
    // The button went with the message: the focus is on the filter it was about, not the page's start.
    await page.waitForFunction(() => document.activeElement === document.querySelector('select'));
    await page.getByLabel('Category').selectOption('books');
    await page.getByRole('link', { name: 'The Pragmatic Programmer' }).waitFor();
    assert.ok(errors.every((e) => /Failed to fetch|net::ERR_FAILED/i.test(e)), errors.join('\n'));
    await context.close();
  });

  test('a search typed in the shop is one history entry: Back goes to the shop as it was before the search (not the page before the shop), refining it adds none, and a category chosen is an entry too', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await newShopper();
    await page.goto('/cart');
    await page.goto('/');
    await page.getByRole('link', { name: 'Mechanical Keyboard TKL' }).waitFor();
    const entries = await page.evaluate(() => history.length);
    await page.getByLabel('Search').fill('kett');
    await page.waitForURL((u) => u.searchParams.get('q') === 'kett');
    await page.getByLabel('Search').fill('kettle');
    await page.waitForURL((u) => u.searchParams.get('q') === 'kettle');
    assert.equal(await page.evaluate(() => history.length), entries + 1, 'one entry for the search, however refined');
    await page.getByLabel('Category').selectOption('home');
    await page.waitForURL((u) => u.searchParams.get('category') === 'home');
    assert.equal(await page.evaluate(() => history.length), entries + 2, 'the category is an entry of its own');
    await page.goBack();
    await page.waitForURL((u) => u.pathname === '/' && u.searchParams.get('q') === 'kettle' && !u.searchParams.has('category'));
    await page.goBack();
    await page.waitForURL((u) => u.pathname === '/' && u.search === '');
    await settledValue(page.getByLabel('Search'), '', 'Back empties the search field');
    await page.getByRole('link', { name: 'Mechanical Keyboard TKL' }).waitFor();
    // Searching again after Back is a new entry; Back then comes here again, not to the cart.
    await page.getByLabel('Search').fill('lamp');
    await page.waitForURL((u) => u.searchParams.get('q') === 'lamp');
    await page.goBack();
    await page.waitForURL((u) => u.pathname === '/' && u.search === '');
    await page.goBack();
    await page.waitForURL((u) => u.pathname === '/cart');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a cart reloaded says its prices and stock are being checked while the shop is asked (the total marked busy), then shows the current price', { timeout: STEP_MS }, async () => {
    const product = await newProduct({ name: 'Reloaded vase', priceCents: 1500, stock: 5 });
    const { context, page, errors } = await newShopper();
    await addToCart(page, product, 2);
    await page.goto('/cart');
    await page.getByLabel('Quantity of Reloaded vase').waitFor();
    await page.waitForLoadState('networkidle');
    assert.equal((await api('PATCH', `/product/${product.id}`, { priceCents: 1700 }, adminToken, { 'if-match': `"${product.version}"` })).status, 200);
    const read = await holdRequests(page, new RegExp(`/product/${product.id}$`));
    await page.reload();
    await read.asked;
    // The remembered cart shows, said to be under check: the old page showed $30.00 as the total, as if current.
    await page.getByRole('status').filter({ hasText: 'Checking current prices and stock…' }).waitFor();
    assert.equal(await page.getByRole('region', { name: 'Totals' }).getAttribute('aria-busy'), 'true');
    read.release();
    await page.getByText('Reloaded vase now costs $17.00 (was $15.00).').waitFor();
    await page.getByRole('status').filter({ hasText: 'Checking current prices and stock…' }).waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('region', { name: 'Totals' }).getAttribute('aria-busy'), null);
    assert.match(await page.getByRole('region', { name: 'Totals' }).innerText(), /\$34\.00/);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the cart\'s lines and its Checkout stay where they are when the check of prices and stock ends: nothing moves under the pointer (a double click on Remove landed beside it)', { timeout: STEP_MS }, async () => {
    const [cup, plate] = [await newProduct({ name: 'Steady cup', stock: 5 }), await newProduct({ name: 'Steady plate', stock: 5 })];
    const { context, page, errors } = await newShopper();
    await addToCart(page, cup, 1);
    await addToCart(page, plate, 1);
    const read = await holdRequests(page, new RegExp(`/product/(${cup.id}|${plate.id})$`));
    await page.goto('/cart');
    await read.asked;
    const checking = page.getByRole('status').filter({ hasText: 'Checking current prices and stock…' });
    await checking.waitFor();
    // Where each control is, in whole pixels (a text line and the empty line kept for it differ by a layout unit).
    const y = async (l: Locator) => Math.round((await l.boundingBox())?.y ?? NaN);
    const where = async () => ({
      remove: await y(page.getByRole('button', { name: 'Remove Steady cup' })),
      quantity: await y(page.getByLabel('Quantity of Steady plate')),
      checkout: await y(page.getByRole('link', { name: 'Checkout' })),
    });
    const before = await where();
    read.release();
    await checking.waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('region', { name: 'Totals' }).getAttribute('aria-busy'), null);
    // The old page: the status line went empty (no height), and everything under it moved up 25 px at once.
    assert.deepEqual(await where(), before);
    await page.setViewportSize({ width: 360, height: 740 });
    await page.reload();
    await page.getByRole('button', { name: 'Remove Steady cup' }).waitFor();
    const phone = await where();
    await page.waitForLoadState('networkidle');
    assert.deepEqual(await where(), phone, 'at 360 px');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a cart whose products cannot be read when it opens (the shop unreachable) says its prices and stock are as last seen, on the cart and at checkout, not shown as if current', { timeout: STEP_MS }, async () => {
    const product = await newProduct({ name: 'Unchecked bowl', stock: 5 });
    const { context, page, errors } = await newShopper();
    await addToCart(page, product, 1);
    await page.route(new RegExp(`/product/${product.id}$`), (route) => route.abort());
    const unchecked = 'The shop could not be reached to check current prices and stock, so your cart shows them as you last saw them. They are checked again when you place the order.';
    await page.goto('/cart');
    // The old cart showed the copy kept in this browser and said nothing of it.
    await page.getByRole('status').filter({ hasText: unchecked }).waitFor({ timeout: 30_000 });
    await page.goto('/checkout');
    await page.getByRole('status').filter({ hasText: unchecked }).waitFor({ timeout: 30_000 });
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.goto('/cart');
    await page.getByLabel('Quantity of Unchecked bowl').waitFor();
    await page.waitForLoadState('networkidle');
    assert.equal(await page.getByText(unchecked).count(), 0, 'said only while it could not be checked');
    assert.ok(errors.every((e) => /Failed to fetch|net::ERR_FAILED/i.test(e)), errors.join('\n'));
    await context.close();
  });

  test('a cart quantity typed as no number ("1o", a cleared field) is put back when left and the cart says why in its live region; the field is marked invalid meanwhile', { timeout: STEP_MS }, async () => {
    const product = await newProduct({ name: 'Typo cup', stock: 5 });
    const { context, page, errors } = await newShopper();
    await addToCart(page, product, 2);
    await page.goto('/cart');
    const qty = page.getByLabel('Quantity of Typo cup');
    await qty.fill('1o');
    assert.equal(await qty.getAttribute('aria-invalid'), 'true');
    await qty.press('Tab');
    await settledValue(qty, '2', 'put back');
    // The old cart put 2 back and said nothing.
    await page.getByRole('status').filter({ hasText: '“1o” is not a number of units: Typo cup stays at 2.' }).waitFor();
    assert.equal(await qty.getAttribute('aria-invalid'), null);
    await qty.fill('');
    await qty.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Quantity was empty: Typo cup stays at 2. Type 0 or press Remove to take it out.' }).waitFor();
    await settledValue(qty, '2', 'put back');
    // A number typed then takes the message away.
    await qty.fill('3');
    await page.getByRole('status').filter({ hasText: 'stays at' }).waitFor({ state: 'detached' });
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a cart quantity typed key by key is taken once settled or after a pause, not at each key: "1o" over 3 leaves 3 and says so, "12" is one change, a pause takes it, and a quantity typed fast then Checkout is the order\'s', { timeout: STEP_MS }, async () => {
    const product = await newProduct({ name: 'Keyed mug', stock: 20 });
    const { email, context, page, errors } = await signedInShopper('keyed');
    // Every quantity of this line written to the stored cart (the cart's change: each one a write and a look at the shop).
    await context.addInitScript((id) => {
      const writes: number[] = [];
      Object.assign(window, { cartWrites: writes });
      const setItem = Storage.prototype.setItem;
      Storage.prototype.setItem = function (key: string, value: string) {
        if (key === 'ecommerce.cart.v1') {
          const lines = JSON.parse(value) as { productId: string; quantity: number }[] | { lines: { productId: string; quantity: number }[] };
          const line = (Array.isArray(lines) ? lines : lines.lines).find((l) => l.productId === id);
          if (line) writes.push(line.quantity);
        }
        setItem.call(this, key, value);
      };
    }, product.id);
    const writes = async () => page.evaluate(() => (window as unknown as { cartWrites: number[] }).cartWrites.splice(0));
    await addToCart(page, product, 3);
    await page.goto('/cart');
    const qty = page.getByLabel('Quantity of Keyed mug');
    await settledValue(qty, '3', 'the cart has 3');
    await writes();
    // "1o" typed key by key (a pause shorter than a shopper's between keys): the old field took the "1" at once (the
    // cart dropped to 1) and then said "stays at 1".
    await qty.selectText();
    await qty.pressSequentially('1o', { delay: 150 });
    await page.waitForTimeout(900);
    assert.deepEqual(await writes(), [], 'nothing taken while "1o" was typed');
    await qty.press('Tab');
    await page.getByRole('status').filter({ hasText: '“1o” is not a number of units: Keyed mug stays at 3.' }).waitFor();
    await settledValue(qty, '3', 'put back to the quantity before the typing');
    await storedQuantities(page, [3], 'the cart keeps 3');
    assert.deepEqual(await writes(), [], 'nothing taken for "1o"');
    // "12" key by key, then Enter: one change, said with the cart's total.
    await qty.selectText();
    await qty.pressSequentially('12', { delay: 150 });
    await qty.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Keyed mug: quantity 12. Cart total' }).waitFor();
    await storedQuantities(page, [12], 'the cart has 12');
    assert.deepEqual(await writes(), [12], 'one change to 12, none to 1');
    // A number typed and left alone is taken after the pause, once, and leaving the field then takes nothing more.
    await qty.selectText();
    await qty.pressSequentially('5', { delay: 50 });
    await page.getByRole('status').filter({ hasText: 'Keyed mug: quantity 5. Cart total' }).waitFor();
    assert.equal(await qty.evaluate((el) => el === document.activeElement), true, 'still typing there');
    await qty.press('Tab');
    await page.waitForTimeout(300);
    assert.deepEqual(await writes(), [5], 'taken once after the pause');
    // Typed fast, then Checkout at once: the last key is the order's.
    await qty.selectText();
    await qty.pressSequentially('7');
    await page.getByRole('link', { name: 'Checkout' }).click();
    await page.getByRole('button', { name: 'Place order' }).waitFor();
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.getByText('Thank you! Your order is confirmed.').waitFor();
    assert.deepEqual(await writes(), [7], 'one change to 7');
    const [order] = await ordersOf(await login(email, 'correct-horse-9'));
    assert.deepEqual(
      (order as (typeof order & { items: { productId: string; quantity: number }[] }) | undefined)?.items.map((i) => [i.productId, i.quantity]),
      [[product.id, 7]],
      'the order has the 7 typed',
    );
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("the app's own script not loading (a deploy replaced it: 404) leaves no endless \"Loading the shop…\": the page says so at once (boot.js), with a link that reloads it", { timeout: STEP_MS }, async () => {
    const { context, page } = await newShopper();
    await page.route(/\/assets\/index-[^/]*\.js$/, (route) => route.fulfill({ status: 404, contentType: 'application/problem+json', body: '{"status":404}' }));
    const t0 = Date.now();
    await page.goto('/');
    const said = page.getByText('The shop could not be loaded');
    await said.waitFor({ state: 'visible', timeout: 15_000 });
    assert.ok(Date.now() - t0 < 8_000, `said at once, not after the slow connection's 8 s: ${Date.now() - t0} ms`);
    assert.equal(await page.getByText('Loading the shop…').isVisible(), false, 'no longer said to be loading');
    assert.equal(await page.getByText('Still loading the shop').isVisible(), false);
    await page.waitForTimeout(8_500);
    assert.equal(await page.getByText('Still loading the shop').isVisible(), false, 'not said to be slow once it failed');
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.getByRole('link', { name: 'Reload the page' }).click();
    await page.getByRole('link', { name: 'Mechanical Keyboard TKL' }).waitFor();
    assert.equal(await said.count(), 0, 'the app replaced the shell');
    await context.close();
  });

  test("the app's script still on its way after 8 s (a slow connection) is said to be, with no Reload (which would start the download again); the app then comes by itself", { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await newShopper();
    const script = await holdRequests(page, /\/assets\/index-[\w-]+\.js$/);
    await page.goto('/', { waitUntil: 'commit' });
    await script.asked;
    const slow = page.getByText('Still loading the shop: the connection is slow.');
    await page.waitForTimeout(2_000);
    assert.equal(await slow.isVisible(), false, 'not at once: the app normally replaces the shell within a second');
    await slow.waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await page.getByText('Loading the shop…').isVisible(), true);
    assert.equal(await page.getByRole('link', { name: 'Reload the page' }).isVisible(), false, 'no advice to reload a download still under way');
    assert.equal(await page.getByText('could not be loaded').isVisible(), false);
    script.release();
    await page.getByRole('link', { name: 'Mechanical Keyboard TKL' }).waitFor();
    assert.equal(await slow.count(), 0, 'the app replaced the shell');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a page whose code cannot be fetched (offline, or a deploy replaced it) says so with a Reload, instead of a blank app', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await newShopper();
    await page.goto('/');
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    await context.setOffline(true);
    await page.getByRole('link', { name: /Cart/ }).first().click();
    const alert = page.getByRole('alert').filter({ hasText: 'This page could not be loaded' });
    await alert.waitFor();
    await context.setOffline(false);
    await page.getByRole('button', { name: 'Reload' }).click();
    await page.getByRole('heading', { name: 'Cart' }).waitFor();
    // The failed fetch is the only error the page saw.
    assert.ok(errors.every((e) => /dynamically imported module|Failed to fetch|net::ERR_INTERNET_DISCONNECTED/i.test(e)), errors.join('\n'));
    await context.close();
  });

  test('the product page says how many units the cart took: stock and the per-line cap bound it, never the number typed', { timeout: STEP_MS }, async () => {
    const product = await newProduct({ stock: 5, name: 'Counted mug' });
    const { context, page, errors } = await newShopper();
    await page.goto(`/products/${product.id}`);
    await page.getByLabel('Quantity').fill('4');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.getByRole('status').filter({ hasText: 'Added 4 to your cart.' }).waitFor();
    // One unit is left to add: the field offers 1, and the message says 1 (it said 4 again).
    assert.equal(await page.getByLabel('Quantity').inputValue(), '1');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.getByRole('status').filter({ hasText: 'Added 1 to your cart.' }).waitFor();
    await page.getByText('All available units are in your cart.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Add to cart' }).isDisabled(), true);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('pressing Add to cart again says what the cart has now: the live region changes (a screen reader hears the second press), also after a double click', { timeout: STEP_MS }, async () => {
    const product = await newProduct({ stock: 20, name: 'Repeat mug' });
    const { context, page, errors } = await newShopper();
    await page.goto(`/products/${product.id}`);
    const status = page.getByRole('status').filter({ hasText: 'Added' });
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await status.filter({ hasText: 'Added 1 to your cart.' }).waitFor();
    assert.equal(await status.innerText(), 'Added 1 to your cart. View cart');
    // The old page said "Added 1 to your cart." again: the region did not change, and nothing was heard.
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await status.filter({ hasText: '2 in your cart now.' }).waitFor();
    await page.getByRole('button', { name: 'Add to cart' }).dblclick();
    await status.filter({ hasText: '4 in your cart now.' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cart, 4 items', exact: true }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the product page at the cart\'s cap of 1,000 units with more in stock says the cart holds the most it takes, not that all available units are in it', { timeout: STEP_MS }, async () => {
    const product = await newProduct({ stock: 5000, name: 'Plentiful peg' });
    const { context, page, errors } = await newShopper();
    await page.goto(`/products/${product.id}`);
    await page.getByLabel('Quantity').fill('1000');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    // Digits grouped as in every other sentence of the shop (the old page said "Added 1000").
    await page.getByRole('status').filter({ hasText: 'Added 1,000 to your cart.' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Add to cart' }).isDisabled(), true);
    // The old page said "All available units are in your cart." of a product with 4,000 more in stock.
    await page.getByText('Your cart has 1,000 of this product, the most a cart holds of one.').waitFor();
    assert.equal(await page.getByText('All available units are in your cart.').count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('on the product page, a quantity typed then Enter adds it to the cart (as the button does); Enter on a cleared field adds nothing', { timeout: STEP_MS }, async () => {
    const product = await newProduct({ name: 'Enter-key lamp', stock: 20 });
    const { context, page, errors } = await newShopper();
    await page.goto(`/products/${product.id}`);
    const quantity = page.getByLabel('Quantity');
    await quantity.fill('');
    await quantity.press('Enter');
    await settledValue(quantity, '1', 'a cleared field shows its value again');
    assert.equal(await page.locator('.added').innerText(), '', 'nothing added');
    // The old page took the first Enter for the field alone: nothing was added until a second one.
    await quantity.fill('3');
    await quantity.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Added 3 to your cart.' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cart, 3 items', exact: true }).waitFor();
    // More than is left: Enter adds what is left, and says so.
    await quantity.fill('50');
    await quantity.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Added 17 to your cart.' }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('on the product page, Add to cart pressed over a quantity that is no number ("1o", a cleared field) adds nothing and says why, as Enter does', { timeout: STEP_MS }, async () => {
    const product = await newProduct({ name: 'Typo lamp', stock: 20 });
    const { context, page, errors } = await newShopper();
    await page.goto(`/products/${product.id}`);
    const quantity = page.getByLabel('Quantity');
    const units = async () => JSON.parse((await page.evaluate(() => localStorage.getItem('ecommerce.cart.v1'))) ?? '[]').reduce((n: number, l: { quantity: number }) => n + l.quantity, 0) as number;
    // "1o" for 10: the field's blur (the button's press takes the focus) put back 1, and the press added that 1,
    // a quantity the shopper never typed, where Enter in the field adds nothing.
    await quantity.fill('1o');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.getByRole('status').filter({ hasText: 'Nothing was added: “1o” is not a number of units.' }).waitFor();
    assert.equal(await units(), 0, 'Add to cart over "1o" added to the cart');
    await settledValue(quantity, '1', 'the field shows its value again');
    assert.equal(await quantity.evaluate((el) => el === document.activeElement), true, 'the focus is back in Quantity');
    await quantity.fill('');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.getByRole('status').filter({ hasText: 'Nothing was added: Quantity was empty.' }).waitFor();
    assert.equal(await units(), 0, 'Add to cart over a cleared field added to the cart');
    // A number typed is added as before, and the message of the refused press goes with the press: the message's
    // chunk (the cart page's words, first asked by this number) held, "Nothing was added" stayed beside "Added 10".
    const words = await holdRequests(page, /\/assets\/CartPage-[\w-]+\.js$/);
    await quantity.fill('10');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.getByRole('status').filter({ hasText: 'Added 10 to your cart.' }).waitFor();
    assert.equal(await units(), 10);
    assert.equal(await page.getByText('Nothing was added').count(), 0);
    words.release();
    // The field shows 1 again: pressed now, the button adds it.
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.getByRole('status').filter({ hasText: 'Added 1 to your cart. 11 in your cart now.' }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('adding the last units a product has (Enter in Quantity, or Add to cart) disables both: the focus goes to the message\'s View cart link, not the page\'s start; units still left keep it where it was', { timeout: STEP_MS }, async () => {
    const product = await newProduct({ name: 'Last-units lamp', stock: 5 });
    const { context, page, errors } = await newShopper();
    const focused = () => page.evaluate(() => `${document.activeElement?.tagName.toLowerCase()} ${document.activeElement?.textContent?.trim() ?? ''}`.trim());
    await page.goto(`/products/${product.id}`);
    const quantity = page.getByLabel('Quantity');
    await quantity.fill('2');
    await quantity.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Added 2 to your cart.' }).waitFor();
    assert.equal(await quantity.evaluate((el) => el === document.activeElement), true, 'units left: the focus stays in Quantity');
    // More than is left, by keyboard: the 3 left go in, the field and the button are disabled.
    await quantity.fill('9');
    await quantity.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Added 3 to your cart.' }).waitFor();
    await page.waitForFunction(() => document.activeElement?.id === 'added-view-cart').catch(() => undefined);
    assert.equal(await focused(), 'a View cart', 'after the last units by Enter');
    assert.equal(await page.getByRole('button', { name: 'Add to cart' }).isDisabled(), true);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Cart', level: 1 }).waitFor();
    // The button pressed by keyboard, as the last unit goes in.
    const other = await newProduct({ name: 'Single-unit lamp', stock: 1 });
    await page.goto(`/products/${other.id}`);
    await page.getByRole('button', { name: 'Add to cart' }).focus();
    await page.keyboard.press('Space');
    await page.getByRole('status').filter({ hasText: 'Added 1 to your cart.' }).waitFor();
    await page.waitForFunction(() => document.activeElement?.id === 'added-view-cart').catch(() => undefined);
    assert.equal(await focused(), 'a View cart', 'after the last unit by the button');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('removing a cart line moves the focus to the next line, not to the page start', { timeout: STEP_MS }, async () => {
    const [a, b] = [await newProduct({ name: 'Focus cup' }), await newProduct({ name: 'Focus saucer' })];
    const { context, page, errors } = await newShopper();
    await addToCart(page, a, 1);
    await addToCart(page, b, 1);
    await page.goto('/cart');
    await page.getByRole('button', { name: 'Remove Focus cup' }).click();
    await page.waitForFunction((id) => document.activeElement?.id === `qty-${id}`, b.id);
    await page.getByRole('button', { name: 'Remove Focus saucer' }).click();
    await page.getByText(/cart is empty/i).first().waitFor();
    await page.waitForFunction(() => document.activeElement?.id === 'main');
    // A quantity of 0 then Tab removes the line too: the Remove button Tab was going to is gone with it.
    const c = await newProduct({ name: 'Focus plate' });
    await addToCart(page, a, 1);
    await addToCart(page, c, 1);
    await page.goto('/cart');
    await page.getByLabel('Quantity of Focus cup').fill('0');
    await page.keyboard.press('Tab');
    await page.waitForFunction((id) => document.activeElement?.id === `qty-${id}`, c.id);
    assert.equal(await page.getByLabel('Quantity of Focus cup').count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a double click on a cart line\'s Remove takes out that line only: the second click, landing on the next line\'s Remove that moved up under the pointer, removes nothing', { timeout: STEP_MS }, async () => {
    const names = ['Twice cup', 'Twice saucer', 'Twice plate'];
    const products: Product[] = [];
    for (const name of names) products.push(await newProduct({ name }));
    const { context, page, errors } = await newShopper();
    for (const p of products) await addToCart(page, p, 1);
    await page.goto('/cart');
    await page.getByRole('button', { name: 'Remove Twice cup' }).dblclick();
    await page.getByRole('status').filter({ hasText: 'Removed' }).waitFor();
    // The old code: "Twice saucer" went too, its Remove under the pointer when the second click came.
    assert.deepEqual(await page.locator('.lines > li .line-name > a').allInnerTexts(), ['Twice saucer', 'Twice plate']);
    assert.equal(await page.getByRole('status').filter({ hasText: 'Removed' }).innerText(), 'Removed Twice cup from your cart; it has 2 items now.');
    // A click after the double click's is a press of its own: it removes the line it is on.
    await page.waitForTimeout(600);
    await page.getByRole('button', { name: 'Remove Twice saucer' }).click();
    await page.getByRole('status').filter({ hasText: 'Removed Twice saucer' }).waitFor();
    assert.deepEqual(await page.locator('.lines > li .line-name > a').allInnerTexts(), ['Twice plate']);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('removing a cart line is said in a live region ("Removed <name> from your cart; it has 3 items now"), also the second of two lines with one name', { timeout: STEP_MS }, async () => {
    const [a, b, c] = [await newProduct({ name: 'Said mug' }), await newProduct({ name: 'Said mug' }), await newProduct({ name: 'Said jug' })];
    const { context, page, errors } = await newShopper();
    await addToCart(page, a, 2);
    await addToCart(page, b, 1);
    await addToCart(page, c, 3);
    await page.goto('/cart');
    const said = page.locator('main [role="status"]').filter({ hasText: 'Removed' });
    await page.getByRole('button', { name: 'Remove Said mug (item 1 of 3)' }).click();
    await said.filter({ hasText: 'Removed Said mug from your cart; it has 4 items now.' }).waitFor();
    await page.getByRole('button', { name: 'Remove Said mug', exact: true }).click();
    await said.filter({ hasText: 'Removed Said mug from your cart; it has 3 items now.' }).waitFor();
    assert.equal(await said.count(), 1, 'said once, in one live region');
    // A quantity of 0 then Enter removes the line too, and says so instead of nothing.
    await addToCart(page, a, 1);
    await page.goto('/cart');
    await page.getByLabel('Quantity of Said jug').fill('0');
    await page.keyboard.press('Enter');
    await said.filter({ hasText: 'Removed Said jug from your cart; it has 1 item now.' }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('removing the last cart line (Remove by keyboard, or a quantity of 0) is said in the live region the cart had ("Removed <name> from your cart; it is empty now"), which stays through the empty cart', { timeout: STEP_MS }, async () => {
    const only = await newProduct({ name: 'Last lamp' });
    const { context, page, errors } = await newShopper();
    await addToCart(page, only, 2);
    await page.goto('/cart');
    // The region a screen reader listens to, there before the press: a region drawn anew with its text is not always heard.
    const region = await page.locator('main p[role="status"].note').elementHandle();
    assert.ok(region, 'the cart has its live region');
    await page.getByRole('button', { name: 'Remove Last lamp' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('Your cart is empty.').waitFor();
    await page.waitForFunction(() => document.activeElement?.id === 'main');
    await page.waitForFunction((el) => el.isConnected && el.textContent === 'Removed Last lamp from your cart; it is empty now.', region).catch(async () =>
      assert.fail(`said: ${JSON.stringify(await page.locator('main [role="status"]').allInnerTexts())}, the region kept: ${await region.evaluate((el) => el.isConnected)}`),
    );
    // A quantity of 0 then Enter, the same.
    await addToCart(page, only, 1);
    await page.goto('/cart');
    const again = await page.locator('main p[role="status"].note').elementHandle();
    await page.getByLabel('Quantity of Last lamp').fill('0');
    await page.keyboard.press('Enter');
    await page.waitForFunction((el) => el!.isConnected && el!.textContent === 'Removed Last lamp from your cart; it is empty now.', again);
    await assertAccessible(page, 'the emptied cart');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a cart quantity typed above the stock (or above the 1,000 a cart holds of one product) is lowered and the lowering is said in a live region, in the shop\'s words', { timeout: STEP_MS }, async () => {
    const few = await newProduct({ name: 'Lowered mug', stock: 4 });
    const many = await newProduct({ name: 'Lowered nail', stock: 5000 });
    const { context, page, errors } = await newShopper();
    await addToCart(page, few, 1);
    await addToCart(page, many, 1);
    await page.goto('/cart');
    const status = page.locator('main').getByRole('status').filter({ hasText: /typed/ });
    const field = page.getByLabel('Quantity of Lowered mug');
    // The cart's lock held (another tab's change under way): the field shows the number it took at once, not the old
    // quantity until the stored cart answers (Tab showed 1, then 4).
    const lock = await holdCartLock(page);
    await field.fill('9');
    await status.filter({ hasText: 'Only 4 units of Lowered mug left; your cart now has 4 (you typed 9).' }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await field.inputValue(), '4');
    await lock.release();
    await page.waitForFunction(() => JSON.parse(localStorage.getItem('ecommerce.cart.v1')!)[0].quantity === 4);
    assert.equal(await field.inputValue(), '4');
    // The same number typed again over the lowered one (pasted): said again, not silently kept.
    await field.fill('');
    await field.fill('12');
    await status.filter({ hasText: '(you typed 12)' }).waitFor();
    // A quantity that fits takes the sentence away: it was about the number typed before.
    await field.fill('2');
    await status.waitFor({ state: 'detached' });
    await page.getByLabel('Quantity of Lowered nail').fill('2500');
    await status.filter({ hasText: 'Your cart has 1,000 of Lowered nail, the most a cart holds of one (you typed 2,500).' }).waitFor();
    // Said at once; stored once the cart's lock comes.
    await storedQuantities(page, [2, 1000], 'the cart stores the quantities shown');
    await assertAccessible(page, 'cart with a lowered quantity');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a cart quantity changed is said in the cart\'s live region once taken (the field left, Enter, an arrow key), not at each key typed: the line\'s new quantity and the cart\'s new total; the next change replaces it, and a quantity refused says why as before, with no total', { timeout: STEP_MS }, async () => {
    const pot = await newProduct({ name: 'Told teapot', stock: 6, priceCents: 1500, currency: 'EUR' });
    const saucer = await newProduct({ name: 'Told saucer', stock: 5000, priceCents: 250, currency: 'EUR' });
    const { context, page, errors } = await newShopper();
    await addToCart(page, pot, 1);
    await addToCart(page, saucer, 2);
    await page.goto('/cart');
    const totals = page.getByRole('region', { name: 'Totals' });
    await totals.filter({ hasText: '€20.00' }).waitFor();
    // The page's live regions, there before any change: one drawn anew with its text is not always heard.
    const before = await page.locator('main').getByRole('status').elementHandles();
    // Typed key by key, nothing is taken (the cart took each number at once: 1, then 12) nor said while typing; Enter
    // takes it, once, and says it with the total.
    const saucerQty = page.getByLabel('Quantity of Told saucer');
    await saucerQty.selectText();
    await saucerQty.pressSequentially('12');
    assert.deepEqual(await page.evaluate(() => (JSON.parse(localStorage.getItem('ecommerce.cart.v1') ?? '[]') as { quantity: number }[]).map((l) => l.quantity)), [1, 2], 'nothing taken while typing');
    assert.deepEqual((await cartStatuses(page)).filter((t) => /quantity|total/i.test(t)), [], 'nothing said while typing');
    await page.keyboard.press('Enter');
    await totals.filter({ hasText: '€45.00' }).waitFor();
    await storedQuantities(page, [1, 12], 'the number typed is taken');
    // The old cart said nothing: the total changed unheard.
    await cartSays(page, before, 'Told saucer: quantity 12. Cart total €45.00.', 'typed then Enter');
    // An arrow key is a step taken at once: said, in place of the sentence before.
    const potQty = page.getByLabel('Quantity of Told teapot');
    await potQty.focus();
    await page.keyboard.press('ArrowUp');
    await cartSays(page, before, 'Told teapot: quantity 2. Cart total €60.00.', 'an arrow key, the second change');
    await potQty.fill('3');
    await page.keyboard.press('Tab');
    await cartSays(page, before, 'Told teapot: quantity 3. Cart total €75.00.', 'typed then Tab');
    // Two steps in a row: the last is what the region says.
    await potQty.focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await cartSays(page, before, 'Told teapot: quantity 1. Cart total €45.00.', 'two arrow keys');
    // Refused, the quantity stays: said as before, with no total (nothing changed).
    await potQty.fill('abc');
    await page.keyboard.press('Tab');
    await cartSaysNoTotal(page, before, '“abc” is not a number of units: Told teapot stays at 1.', [1, 12], 'no number');
    await potQty.fill('');
    await potQty.press('Enter');
    await cartSaysNoTotal(page, before, 'Quantity was empty: Told teapot stays at 1. Type 0 or press Remove to take it out.', [1, 12], 'a cleared field');
    // Over the stock, and over the 1,000 a cart holds of one: the lowering is said, in the shop's words, not a quantity
    // of the number typed; typed again over the line at its most, the same.
    await potQty.fill('9');
    await page.keyboard.press('Tab');
    await cartSaysNoTotal(page, before, 'Only 6 units of Told teapot left; your cart now has 6 (you typed 9).', [6, 12], 'over the stock');
    await potQty.fill('7');
    await page.keyboard.press('Enter');
    await cartSaysNoTotal(page, before, 'Only 6 units of Told teapot left; your cart now has 6 (you typed 7).', [6, 12], 'over the stock again');
    await saucerQty.fill('2500');
    await page.keyboard.press('Tab');
    await cartSaysNoTotal(page, before, 'Your cart has 1,000 of Told saucer, the most a cart holds of one (you typed 2,500).', [6, 1000], 'over the limit');
    // A number typed, then an arrow key that cannot step (the line at its most): the typing is done, and said.
    await potQty.focus();
    await page.keyboard.press('ArrowDown');
    await cartSays(page, before, 'Told teapot: quantity 5. Cart total €2,575.00.', 'an arrow key after a lowering');
    await potQty.fill('6');
    await page.keyboard.press('ArrowUp');
    await cartSays(page, before, 'Told teapot: quantity 6. Cart total €2,590.00.', 'typed, then an arrow key at the most');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a product page quantity typed above what can still be added (the stock less the cart\'s, or the 1,000 a cart holds of one product) is lowered and the lowering is said in a live region, in the cart\'s words', { timeout: STEP_MS }, async () => {
    const few = await newProduct({ name: 'Lowered jug', stock: 4 });
    const many = await newProduct({ name: 'Lowered screw', stock: 5000 });
    const { context, page, errors } = await newShopper();
    await addToCart(page, few, 1);
    const status = page.locator('main').getByRole('status').filter({ hasText: /typed/ });
    const field = page.getByLabel('Quantity');
    await field.fill('9');
    await status.filter({ hasText: 'Only 4 units of Lowered jug left, 1 in your cart; you can add 3 (you typed 9).' }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await field.inputValue(), '3');
    // A quantity that fits takes the sentence away: it was about the number typed before.
    await field.fill('2');
    await status.waitFor({ state: 'detached' });
    await page.goto(`/products/${many.id}`);
    await page.getByRole('heading', { name: many.name }).waitFor();
    await field.fill('2500');
    await status.filter({ hasText: 'Your cart can have 1,000 of Lowered screw, the most a cart holds of one; you can add 1,000 (you typed 2,500).' }).waitFor();
    await assertAccessible(page, 'product page with a lowered quantity');
    // Adding takes it away too: the cart has them now, and the message says so.
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.getByRole('status').filter({ hasText: 'Added 1,000 to your cart.' }).waitFor();
    await status.waitFor({ state: 'detached' });
    assert.deepEqual(
      JSON.parse((await page.evaluate(() => localStorage.getItem('ecommerce.cart.v1')))!).map((l: { quantity: number }) => l.quantity),
      [1, 1000],
    );
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a quantity pasted of 7 characters or more ("1000000", "12 units.") is taken as typed: lowered and said on the product page and the cart, or put back as no number and said; it was dropped unsaid, and Add to cart added the last quantity', { timeout: STEP_MS }, async () => {
    const product = await newProduct({ name: 'Pasted pail', stock: 9 });
    const { context, page, errors } = await newShopper();
    await page.goto(`/products/${product.id}`);
    await page.getByRole('heading', { name: product.name }).waitFor();
    const field = page.getByLabel('Quantity');
    await field.fill('1000000');
    await page.getByRole('status').filter({ hasText: 'Only 9 units of Pasted pail left; you can add 9 (you typed 1,000,000).' }).waitFor();
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.getByRole('status').filter({ hasText: 'Added 9 to your cart.' }).waitFor();
    await page.goto('/cart');
    const line = page.getByLabel('Quantity of Pasted pail');
    await line.fill('3');
    await line.press('Tab');
    await storedQuantities(page, [3], 'the cart took 3');
    // Another tab's cart change under way (the cart's lock held): the 9 goes into the stored cart only after it, and the
    // field shows it meanwhile. The text put back says the 9 the field shows (it said "stays at 3", the stored line's).
    const lock = await holdCartLock(page);
    await line.fill('25000000');
    await page.getByRole('status').filter({ hasText: 'Only 9 units of Pasted pail left; your cart now has 9 (you typed 25,000,000).' }).waitFor();
    await line.press('Tab');
    assert.equal(await line.inputValue(), '9');
    await line.fill('12 units.');
    await line.press('Tab');
    await page.getByRole('status').filter({ hasText: '“12 units.” is not a number of units: Pasted pail stays at 9.' }).waitFor();
    assert.equal(await line.inputValue(), '9');
    await lock.release();
    await storedQuantities(page, [9], 'the cart stores the 9 shown');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('two cart lines of products with the same name: every control is named after its own line ("Remove Twin mug (item 1 of 2)"), none alike in the accessibility tree, and each removes its own line', { timeout: STEP_MS }, async () => {
    const [a, b] = [await newProduct({ name: 'Twin mug', priceCents: 900 }), await newProduct({ name: 'Twin mug', priceCents: 1100 })];
    const { context, page, errors } = await newShopper();
    await addToCart(page, a, 1);
    await addToCart(page, b, 1);
    await page.goto('/cart');
    await page.getByRole('list').filter({ hasText: 'Twin mug' }).first().waitFor();
    const tree = await page.getByRole('main').ariaSnapshot();
    const names = [...tree.matchAll(/- (button|spinbutton|textbox) "([^"]*)"/g)].map((m) => `${m[1]} ${m[2]}`);
    assert.ok(names.length >= 4, tree);
    assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), [], `controls named alike:\n${tree}`);
    assert.ok(names.includes('button Remove Twin mug (item 1 of 2)') && names.includes('button Remove Twin mug (item 2 of 2)'), tree);
    await page.getByRole('button', { name: 'Remove Twin mug (item 1 of 2)', exact: true }).click();
    await page.waitForFunction((id) => document.activeElement?.id === `qty-${id}`, b.id);
    // One line left: its name alone says which.
    await page.getByRole('button', { name: 'Remove Twin mug', exact: true }).waitFor();
    assert.equal(await page.getByLabel('Quantity of Twin mug', { exact: true }).getAttribute('id'), `qty-${b.id}`);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a search or category longer than the shop accepts, cut at an emoji, with a NUL or of more words than the service takes is cut to its limit or finds nothing, not called an outage', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await newShopper();
    const emoji = encodeURIComponent('\u{1F600}');
    // The old code cut the 64th and 200th UTF-16 unit, inside an emoji: the request could not be encoded and was never sent.
    for (const url of [`/?q=${'k'.repeat(300)}`, `/?category=${'c'.repeat(300)}`, `/?q=zqj${emoji.repeat(250)}`, `/?category=zqj${emoji.repeat(70)}`, '/?q=zzq%00qzz', '/?category=zz%00zz', `/?q=${Array.from({ length: 17 }, (_, i) => `w${i}q`).join('%20')}`]) {
      await page.goto(url);
      await page.getByText(/No products match/).or(page.getByText(/The catalog is unavailable/)).waitFor();
      assert.equal(await page.getByText(/The catalog is unavailable/).count(), 0, url);
      assert.ok((await page.getByLabel('Search').inputValue()).length <= 200, 'the search box holds at most its maxLength');
    }
    // A category no product can have (a direction override in it) finds nothing; one with nothing to see (a
    // zero-width space) is no filter, as an empty one is: each was sent, refused (400) and said to be an outage.
    await page.goto('/?category=zz%E2%80%AEzz');
    await page.getByText(/No products match/).or(page.getByText(/The catalog is unavailable/)).waitFor();
    assert.equal(await page.getByText(/The catalog is unavailable/).count(), 0, 'a category with a direction override');
    await page.goto('/?category=%E2%80%8B');
    await page.getByRole('link', { name: 'Mechanical Keyboard TKL' }).or(page.getByText(/The catalog is unavailable/)).waitFor();
    assert.equal(await page.getByText(/The catalog is unavailable/).count(), 0, 'a category of a zero-width space');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a product opened from a card shows at once from the list, said to be checked (no "Loading product…"), then as the shop has it now; one gone since says so', { timeout: STEP_MS }, async () => {
    const category = `cards-${Date.now().toString(36)}`;
    const same = await newProduct({ name: 'Card kettle', category, stock: 5, priceCents: 1500 });
    const renamed = await newProduct({ name: 'Card jug', category, stock: 5, priceCents: 1200 });
    const gone = await newProduct({ name: 'Card vase', category, stock: 5, priceCents: 900 });
    const { context, page, errors } = await newShopper();
    const main = page.locator('main');
    // Every text the page's heading and the loading line showed, from the click on.
    // The first text is the list page's own, taken when the record restarts, so a change of the list page
    // between that and the click (its stock read answering) cannot add it again: texts.slice(1) is the product page's.
    await page.addInitScript(() => {
      const seen: string[] = [];
      const current = () => {
        const h1 = document.querySelector('main h1')?.textContent ?? '';
        const loading = document.querySelector('main')?.textContent?.includes('Loading product') ? 'Loading product' : '';
        return [h1, loading].filter(Boolean).join(' | ');
      };
      Object.assign(window, { productTexts: seen, restartProductTexts: () => seen.splice(0, seen.length, current()) });
      new MutationObserver(() => {
        const line = current();
        if (line && seen[seen.length - 1] !== line) seen.push(line);
      }).observe(document, { subtree: true, childList: true, characterData: true });
    });
    const productPageTexts = async () => (await page.evaluate(() => (window as unknown as { productTexts: string[] }).productTexts)).slice(1);
    const openFromCard = async (p: Product, hold: boolean, meanwhile = async () => {}): Promise<() => void> => {
      await page.goto(`/?category=${category}`);
      await page.getByRole('link', { name: p.name }).waitFor();
      await meanwhile();
      let release = () => {};
      const held = new Promise<void>((r) => (release = r));
      if (hold) await page.route(`**/product/${p.id}`, async (route) => (await held, route.continue().catch(() => undefined)));
      await page.evaluate(() => (window as unknown as { restartProductTexts: () => void }).restartProductTexts());
      await page.getByRole('link', { name: p.name }).click();
      return release;
    };

    // The product's own read held: the page shows what the card had at once, said to be checked, Add to cart waiting.
    const release = await openFromCard(same, true);
    await main.getByRole('heading', { name: 'Card kettle', level: 1 }).waitFor();
    await main.getByText('$15.00').waitFor();
    await main.getByText('Checking the current price and stock…').waitFor();
    assert.equal(await main.getByRole('button', { name: 'Add to cart' }).isDisabled(), true, 'nothing added from what may be stale');
    release();
    await main.getByText('Checking the current price and stock…').waitFor({ state: 'detached' });
    await page.waitForFunction(() => !(document.querySelector('main button.primary') as HTMLButtonElement | null)?.disabled);
    assert.deepEqual(await productPageTexts(), ['Card kettle']);
    await page.unrouteAll({ behavior: 'ignoreErrors' });

    // Changed since the list was read: the list's name first (said to be checked), then the shop's, nothing else.
    await openFromCard(renamed, false, async () => {
      const current = (await api<Product>('GET', `/product/${renamed.id}`)).body;
      assert.equal((await api('PATCH', `/product/${renamed.id}`, { name: 'Card pitcher', priceCents: 1300 }, adminToken, { 'if-match': `"${current.version}"` })).status, 200);
    });
    await main.getByRole('heading', { name: 'Card pitcher', level: 1 }).waitFor();
    await main.getByText('$13.00').waitFor();
    assert.equal(await main.getByText('$12.00').count(), 0);
    const texts = await productPageTexts();
    assert.ok(texts.length > 0 && texts.every((t) => t === 'Card jug' || t === 'Card pitcher') && texts.at(-1) === 'Card pitcher', texts.join(', '));

    // Archived since: "Product not found", not the list's copy.
    await openFromCard(gone, false, async () => assert.ok((await api('DELETE', `/product/${gone.id}`)).status < 300));
    await main.getByRole('heading', { name: 'Product not found', level: 1 }).waitFor();
    assert.equal(await main.getByRole('button', { name: 'Add to cart' }).count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a Load more whose page cannot be read (503) keeps what is shown (the catalog\'s cards, the admin\'s rows), says so under the button with the focus back on it, and pressing again loads the page', { timeout: STEP_MS }, async () => {
    // More than a page of products in the shop and in the admin's table (50), whatever the earlier tests made.
    await Promise.all(Array.from({ length: 51 }, (_, i) => newProduct({ name: `Next-page bin ${i}` })));
    const failNextPage = (page: Page) => page.route(/\/product\?.*cursor=/, (route) => route.fulfill(problem(503)));
    const { context, page, errors } = await newShopper();
    await page.goto('/');
    const cards = page.locator('main ul.grid > li');
    await cards.first().waitFor();
    const admin = await adminAtProducts();
    const rows = admin.page.getByRole('region', { name: 'Products' }).locator('tbody tr');
    await rows.first().waitFor();
    for (const [what, p, items, more] of [
      ['catalog', page, cards, page.getByRole('button', { name: 'Load more' })],
      ['admin products', admin.page, rows, admin.page.getByRole('button', { name: 'Load more' })],
    ] as const) {
      const shown = await items.count();
      await failNextPage(p);
      await more.focus();
      await p.keyboard.press('Enter');
      await p.getByRole('alert').filter({ hasText: /could not be loaded just now; press Load more to try again/ }).waitFor();
      assert.equal(await items.count(), shown, `${what}: what was shown stays`);
      await p.waitForFunction(() => document.activeElement?.textContent === 'Load more').catch(() => undefined);
      assert.equal(await more.evaluate((el) => el === document.activeElement), true, `${what}: the focus is back on Load more`);
      await p.unrouteAll({ behavior: 'ignoreErrors' });
      await p.keyboard.press('Enter');
      await p.waitForFunction(([selector, n]) => document.querySelectorAll(selector).length > n, [what === 'catalog' ? 'main ul.grid > li' : '[aria-labelledby="products-h"] tbody tr', shown] as const);
      assert.equal(await p.getByRole('alert').filter({ hasText: 'could not be loaded just now' }).count(), 0, `${what}: the alert goes`);
    }
    assert.deepEqual(errors, []);
    await context.close();
    await admin.context.close();
  });

  test('a product page that cannot be loaded says which failure it was: the shop had a problem (a 500, its request id), did not answer in time (the gateway\'s 504, its request id), or could not be reached (no answer came)', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await newShopper();
    const id = randomUUID();
    // The old page said "This product cannot be loaded right now. Please try again in a moment." of all three.
    const said = (why: string) => page.getByRole('alert').filter({ hasText: `This product cannot be loaded right now: ${why}. Please try again in a moment.` }).waitFor({ timeout: 20_000 });
    await saysEachFailure(page, new RegExp(`/product/${id}$`), 'product', `/product/${id}`, () => page.goto(`/products/${id}`), said);
    assert.equal(await page.getByText('the shop had a problem').count(), 0);
    assert.ok(errors.every((e) => /Failed to fetch|net::ERR_FAILED/i.test(e)), errors.join('\n'));
    await context.close();
  });

  test('a product page seen before, opened again (Back) when reading it anew fails (503): the product stays, said to be maybe not the latest, not "cannot be loaded" in its place', { timeout: STEP_MS }, async () => {
    const product = await newProduct({ name: 'Seen-before lamp' });
    const { context, page, errors } = await newShopper();
    await page.goto(`/products/${product.id}`);
    await page.getByRole('heading', { level: 1, name: 'Seen-before lamp' }).waitFor();
    await page.getByRole('link', { name: 'Shop', exact: true }).click();
    await page.locator('main ul.grid > li').first().waitFor();
    // Past the 10 s the shop keeps a product as fresh: going back reads it again.
    await page.waitForTimeout(10_500);
    await page.route(new RegExp(`/product/${product.id}$`), (route) => (route.request().resourceType() === 'document' ? route.fallback() : route.fulfill(problem(503))));
    await page.goBack();
    await page.getByRole('alert').filter({ hasText: 'may not be the latest' }).waitFor({ timeout: 10_000 });
    assert.equal(await page.getByRole('heading', { level: 1, name: 'Seen-before lamp' }).count(), 1, 'the product is still shown');
    assert.equal(await page.getByText('This product cannot be loaded right now').count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('Load more pressed by keyboard on a slow network keeps the focus while its page is on its way (busy, not disabled: the focus fell to the page\'s body), a second Enter asks nothing more, and the focus then goes to the first item it loaded: the catalog, the admin products table, Your orders', { timeout: STEP_MS }, async () => {
    // More than a page of products in the admin's table (50) and of orders in Your orders (20).
    const product = await newProduct({ name: 'Slow-page pencil', stock: 100 });
    if (!(await api<{ nextCursor?: string }>('GET', '/product?limit=50')).body.nextCursor) await Promise.all(Array.from({ length: 51 }, (_, i) => newProduct({ name: `Slow-page bin ${i}` })));
    const shopper = await signedInShopper('slowpages');
    const token = await login(shopper.email, 'correct-horse-9');
    for (let i = 0; i < 21; i++) assert.equal((await api('POST', '/order', { items: [{ productId: product.id, quantity: 1 }] }, token, { 'idempotency-key': randomUUID() })).status, 201);
    const admin = await adminAtProducts();
    for (const [what, page, url, nextPage, items, first] of [
      ['catalog', shopper.page, '/', /\/product\?.*cursor=/, 'main ul.grid > li', 'a'],
      ['admin products', admin.page, '/admin', /\/product\?.*cursor=/, '[aria-labelledby="products-h"] tbody tr', 'a'],
      ['Your orders', shopper.page, '/orders', /\/order\?.*cursor=/, 'main ul.orders > li', '.order-title a'],
    ] as const) {
      await page.goto(url);
      await page.locator(items).first().waitFor();
      const more = page.getByRole('button', { name: 'Load more' });
      await more.waitFor();
      const shown = await page.locator(items).count();
      let asked = 0;
      page.on('request', (r) => void (nextPage.test(r.url()) && asked++));
      const held = await holdRequests(page, nextPage);
      await more.focus();
      await page.keyboard.press('Enter');
      await held.asked;
      // A few frames for React to draw the busy button.
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const busy = await page.evaluate(() => ({ tag: document.activeElement?.tagName, text: document.activeElement?.textContent, ariaDisabled: document.activeElement?.getAttribute('aria-disabled') }));
      assert.deepEqual(busy, { tag: 'BUTTON', text: 'Loading…', ariaDisabled: 'true' }, `${what}: the focus stays on Load more, shown and heard as busy, while its page is on its way`);
      await page.keyboard.press('Enter');
      await page.keyboard.press(' ');
      await page.waitForTimeout(300);
      held.release();
      await page
        .waitForFunction(([selector, n, link]) => document.activeElement === document.querySelectorAll(selector)[n]?.querySelector(link), [items, shown, first] as const)
        .catch(async () => assert.fail(`${what}: the focus is on ${await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 80))}, not the first item loaded`));
      assert.equal(asked, 1, `${what}: one request for the next page, however often Load more was pressed while it was on its way`);
      await page.unrouteAll({ behavior: 'ignoreErrors' });
    }
    assert.deepEqual([...shopper.errors, ...admin.errors], []);
    await shopper.context.close();
    await admin.context.close();
  });
  test('a product with no picture: a compact placeholder named "No picture", so on a 360 px phone its name, price and Add to cart are in view; the shop\'s card and the cart line keep their size', { timeout: STEP_MS }, async () => {
    const product = await newProduct({ name: 'Pictureless mug', stock: 4 });
    const { context, page, errors } = await newShopper();
    for (const [width, height] of [[360, 740], [1280, 900]] as const) {
      await page.setViewportSize({ width, height });
      await page.goto(`/products/${product.id}`);
      await page.getByRole('heading', { name: product.name }).waitFor();
      const placeholder = page.locator('.product .product-image');
      assert.equal(await placeholder.getAttribute('role'), 'img', `${width} px`);
      assert.match((await placeholder.getAttribute('aria-label')) ?? '', /^No picture of Pictureless mug$/, `${width} px`);
      const box = (await placeholder.boundingBox())!;
      assert.ok(box.height <= 128, `${width} px: the placeholder is ${box.height} px tall`);
      for (const what of [page.getByRole('heading', { name: product.name }), page.locator('.product-info .price'), page.getByRole('button', { name: 'Add to cart' })]) {
        const b = (await what.boundingBox())!;
        assert.ok(b.y + b.height <= height, `${width} px: ${await what.innerText()} ends at ${b.y + b.height}, below the fold (${height})`);
      }
      await screenshot(page, `product-no-picture-${width}`);
    }
    await addToCart(page, product);
    for (const width of [360, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      await page.goto(`/?q=${encodeURIComponent(product.name)}`);
      const card = page.locator('.card').filter({ hasText: product.name });
      await card.waitFor();
      const cardBox = (await card.locator('.product-image').boundingBox())!;
      assert.ok(Math.abs(cardBox.width - cardBox.height) <= 1, `${width} px: the card's placeholder is square as a picture (${cardBox.width}x${cardBox.height})`);
      assert.equal(await card.locator('.product-image').getAttribute('aria-hidden'), 'true', 'the card link is named by the product alone');
      await screenshot(page, `card-no-picture-${width}`);
      await page.goto('/cart');
      await page.locator('.line').filter({ hasText: product.name }).waitFor();
      const lineBox = (await page.locator('.line .product-image').boundingBox())!;
      assert.ok(lineBox.height <= 72 && lineBox.width <= 72, `${width} px: the cart line's placeholder is ${lineBox.width}x${lineBox.height}`);
      await screenshot(page, `cart-no-picture-${width}`);
    }
    await assertAccessible(page, 'the cart with a pictureless line');
    assert.deepEqual(errors, []);
    await context.close();
  });
});

/** The texts of the cart page's live regions, found by their role as the accessibility tree has them. */
function cartStatuses(page: Page): Promise<string[]> {
  return page.locator('main').getByRole('status').allInnerTexts();
}

/**
 * One of the cart page's live regions says `text` (waited for), in a region there before the change (`before`, read
 * by role then), and no other region says a cart total: the sentence replaced the one before.
 */
async function cartSays(page: Page, before: ElementHandle[], text: string, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  let said = await cartStatuses(page);
  while (!said.includes(text) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    said = await cartStatuses(page);
  }
  assert.ok(said.includes(text), `${what}: the cart's live regions say ${JSON.stringify(said)}, not ${JSON.stringify(text)}`);
  assert.deepEqual(said.filter((t) => /total/i.test(t)), /total/i.test(text) ? [text] : [], `${what}: one sentence, the last change's`);
  const kept = await Promise.all(before.map((r) => r.evaluate((el) => (el.isConnected ? el.textContent : null))));
  assert.ok(kept.includes(text), `${what}: said in a region the page had before the change (${JSON.stringify(kept)})`);
}

/** As cartSays, once the cart stored `quantities` and a moment after: a refused quantity says why, and no total. */
async function cartSaysNoTotal(page: Page, before: ElementHandle[], text: string, quantities: number[], what: string): Promise<void> {
  await cartSays(page, before, text, what);
  await storedQuantities(page, quantities, `${what}: the cart's quantities`);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await cartSays(page, before, text, `${what}, a moment later`);
  assert.deepEqual((await cartStatuses(page)).filter((t) => /quantity \d|total/i.test(t)), [], `${what}: no quantity or total said`);
}
