// Every page in a real Chromium against the whole platform (harness.ts): hostile and long content, right-to-left
// names, widths from 320 px and 200% text, the header's place, focus and titles, screenshots of the main pages
// (Lighthouse is lighthouse.test.ts, run alone after every other file).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { addToCart, adminAtProducts, adminEditLink, adminToken, api, assertAccessible, assertNoHorizontalScroll, base, browser, contrastRatio, endsOnTheLeft, holdRequests, login, newProduct, newShopper, type Order, type Product, screenshot, shopperAtCheckout, signedInShopper, signInAs, stack, startStackAndBrowser, STEP_MS, textLines, uniqueEmail, wordsBrokenInside, wordsBrokenThatFit } from './harness.js';

startStackAndBrowser();

describe('storefront in Chromium: layout, hostile content and every page', { concurrency: false }, () => {
  test('the header has the same height and the name the same place in the page as served (before the script runs) and in the app, at 320, 412 and 1280 px, for a visitor and for an admin with a cart', { timeout: STEP_MS }, async () => {
    const product = await newProduct({ stock: 5 });
    const visitor = await newShopper();
    const admin = await newShopper();
    await signInAs(admin.page, stack.admin.email, stack.admin.password);
    await addToCart(admin.page, product, 2);
    for (const [who, { page, errors }] of [['visitor', visitor], ['admin', admin]] as const) {
      const header = page.locator('header.site-header');
      const boxes = async () => ({ header: await header.boundingBox(), name: await header.locator('.brand').boundingBox() });
      for (const width of [320, 412, 1280]) {
        await page.setViewportSize({ width, height: 800 });
        // The app's script is held: what is measured first is index.html's shell with the stylesheet.
        const script = await holdRequests(page, /\/assets\/index-[\w-]+\.js$/);
        await page.goto('/', { waitUntil: 'commit' });
        await page.waitForFunction(() => document.querySelector('header .brand') !== null && getComputedStyle(document.querySelector('header.site-header')!).backgroundColor !== 'rgba(0, 0, 0, 0)');
        const shell = await boxes();
        assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0, `${who} ${width} px: the script ran before it was released`);
        script.release();
        const nav = page.getByRole('navigation', { name: 'Main' });
        await (who === 'admin' ? nav.getByRole('link', { name: 'Admin' }) : nav.getByRole('link', { name: 'Sign in' })).waitFor();
        await nav.getByRole('link', { name: who === 'admin' ? 'Cart, 2 items' : 'Cart' }).waitFor();
        assert.deepEqual(await boxes(), shell, `${who} ${width} px: the header as served and in the app`);
        await page.unrouteAll({ behavior: 'wait' });
      }
      assert.deepEqual(errors, []);
    }
    await visitor.context.close();
    await admin.context.close();
  });

  test('a very long product name wraps in the admin products table at 1280 px: every column stays on screen', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await newShopper();
    await page.setViewportSize({ width: 1280, height: 800 });
    const long = Array.from({ length: 4 }, () => 'Donaudampfschifffahrtsgesellschaftskapitänsmützenhalter').join(' ').slice(0, 195);
    // One product of the first page gets the long name (which page a new product lands on depends on the catalog).
    await page.route(/\/product\?limit=50/, async (route) => {
      const res = await route.fetch();
      const body = (await res.json()) as { items: Product[] };
      body.items[0]!.name = long;
      await route.fulfill({ response: res, json: body });
    });
    await signInAs(page, stack.admin.email, stack.admin.password);
    await page.goto('/admin');
    await page.getByRole('rowheader', { name: long }).waitFor();
    await page.waitForLoadState('networkidle');
    const { table, box } = await page.evaluate(() => ({ table: document.querySelector('table')!.scrollWidth, box: document.querySelector('.table-wrap')!.clientWidth }));
    assert.ok(table <= box, `the table is ${table}px wide in a ${box}px box`);
    const edit = await page.getByRole('link', { name: `Edit ${long}` }).boundingBox();
    assert.ok(edit && edit.x + edit.width <= 1280, `the Edit link is at ${edit?.x}px`);
    await screenshot(page, 'admin-long-name');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a SKU and a category of 64 characters in one word, and an email of 125, wrap in the admin products and users tables at 1280 px: every column stays on screen', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await newShopper();
    await page.setViewportSize({ width: 1280, height: 800 });
    // The longest the services take: a SKU and a category of 64 characters, an email's local part of 64 (one word each).
    const sku = `SKU-${'X'.repeat(60)}`;
    const category = 'C'.repeat(64);
    const email = `${'x'.repeat(64)}@${'y'.repeat(55)}.test`;
    await page.route(/\/product\?limit=50/, async (route) => {
      const res = await route.fetch();
      const body = (await res.json()) as { items: (Product & { category: string | null })[] };
      Object.assign(body.items[0]!, { sku, category });
      await route.fulfill({ response: res, json: body });
    });
    await page.route(/\/user\/users\?/, async (route) => {
      const res = await route.fetch();
      const body = (await res.json()) as { items: { email: string }[] };
      body.items[0]!.email = email;
      await route.fulfill({ response: res, json: body });
    });
    await signInAs(page, stack.admin.email, stack.admin.password);
    // The cells kept these on one line: the products table was 1,832 px wide in its 1,126 px box, Edit off screen.
    for (const [path, text] of [['/admin', sku], ['/admin/users', email]] as const) {
      await page.goto(path);
      const row = page.getByRole('row').filter({ hasText: text });
      await row.waitFor();
      const { table, box } = await page.evaluate(() => ({ table: document.querySelector('table')!.scrollWidth, box: document.querySelector('.table-wrap')!.clientWidth }));
      assert.ok(table <= box, `${path}: the table is ${table}px wide in a ${box}px box`);
      const link = await row.getByRole('link').boundingBox();
      assert.ok(link && link.x + link.width <= 1280, `${path}: the row's link is at ${link?.x}px`);
    }
    await screenshot(page, 'admin-long-email');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a product name, description and category and a customer name written as HTML, script, SVG or a javascript: URL are shown as text on every page (shop, shop by category, product, cart, checkout, order, orders, admin pages and an order there, the tab title): no script runs, nothing the CSP has to refuse', { timeout: STEP_MS }, async () => {
    const tag = `Zxq${Date.now().toString(36)}`;
    const markup = (mark: string) => `<img src=x onerror="window.__xss='${mark}'"><script>window.__xss='${mark}s'</script><svg onload="window.__xss='${mark}v'"></svg>`;
    const name = `${tag} <img src=x onerror="window.__xss='n'"> "><svg/onload=window.__xss='q'>`;
    const description = `${markup('d')} <a href="javascript:window.__xss='a'">click</a> {{constructor.constructor('window.__xss=1')()}}`;
    const category = `<b onmouseover="window.__xss='c'">${tag}</b>`;
    const sku = `XSS-${tag}`.toUpperCase();
    const created = await api<Product>('POST', '/product', { sku, name, description, category, priceCents: 1250, stock: 10 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const product = created.body;
    const email = uniqueEmail('xss');
    const customer = `<img src=x onerror="window.__xss='u'">${tag}`;
    assert.equal((await api('POST', '/user/register', { email, password: 'correct-horse-9', name: customer }, '')).status, 201);

    const { context, page, errors } = await newShopper();
    const dialogs: string[] = [];
    page.on('dialog', (d) => void (dialogs.push(d.message()), d.dismiss()));
    await context.addInitScript(() => {
      const seen: string[] = [];
      Object.assign(window, { cspViolations: seen });
      document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const inert = async (what: string, text: string) => {
      await page.getByText(text, { exact: false }).first().waitFor();
      await page.waitForLoadState('networkidle');
      const seen = await page.evaluate(() => ({ xss: (window as { __xss?: unknown }).__xss ?? null, csp: (window as unknown as { cspViolations: string[] }).cspViolations }));
      assert.deepEqual(seen, { xss: null, csp: [] }, what);
      assert.deepEqual(dialogs, [], what);
      assert.equal(await page.locator('main img[src="x"], main script, main svg[onload], main a[href^="javascript:"], main b[onmouseover]').count(), 0, `${what}: markup from the data became elements`);
    };
    await page.goto(`/?q=${tag}`);
    await inert('shop', name);
    await page.goto(`/?category=${encodeURIComponent(category)}`);
    await inert('shop by category', name);
    await page.goto(`/products/${product.id}`);
    await inert('product page', name);
    assert.equal(await page.locator('main .description').textContent(), description, 'the description is its text, not markup');
    assert.equal(await page.title(), `${name}: Northwind Supply`, 'the tab title holds the name as text');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    // Stored before the page is left: a cart change waits for the other tabs' last one (a full load meanwhile drops it).
    await page.getByRole('status').filter({ hasText: 'Added' }).waitFor();
    await page.goto('/cart');
    await inert('cart', name);
    await page.goto(`/signin?next=/checkout`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct-horse-9');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.getByText('Thank you! Your order is confirmed.').waitFor();
    await inert('order page', name);
    const orderId = new URL(page.url()).pathname.split('/').pop()!;
    await page.goto('/orders');
    await inert('orders', name);
    await page.getByRole('button', { name: 'Sign out' }).click();
    // Signed out before the next page loads: that load would cut the logout on its way.
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    await signInAs(page, stack.admin.email, stack.admin.password);
    await page.goto(`/admin/products/${product.id}`);
    await page.getByLabel('Description').waitFor();
    assert.equal(await page.getByLabel('Description').inputValue(), description);
    await inert('admin edit page', 'View in the shop');
    await page.goto(`/admin/orders?userId=${(await api<{ id: string }>('GET', '/user/me', undefined, await login(email, 'correct-horse-9'))).body.id}`);
    await inert('admin orders', 'confirmed');
    await page.goto(`/admin/orders/${orderId}`);
    await inert('admin order page', name);
    await page.goto('/admin/users');
    await page.getByRole('region', { name: 'Users table' }).waitFor();
    await page.waitForLoadState('networkidle');
    while ((await page.getByRole('rowheader', { name: customer }).count()) === 0) {
      assert.ok(await page.getByRole('button', { name: 'Load more' }).count(), 'the customer is in no page of the users table');
      await page.getByRole('button', { name: 'Load more' }).click();
      await page.waitForLoadState('networkidle');
    }
    await inert('admin users', customer);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a 200-character unbroken product name, a 5,000-character description with direction overrides, </script> and an iframe srcdoc, and a markup customer name keep every page (shop, product, cart, checkout, orders, admin) inside a 360 px window with no script run; an inline script and a string timer put in the page are refused by the CSP, which reports them', { timeout: STEP_MS }, async () => {
    const tag = `Hiq${Date.now().toString(36)}`;
    // 200 characters with no break opportunity, `</script>` and an attribute breakout; a 5,000-character description
    // with RTL overrides, an SVG with a script, and no space at all in its first 3,000 characters.
    const name = `${tag}</script><script>window.__xss='n'</script>${'W'.repeat(200)}`.slice(0, 200);
    const description = `${'\u202E'}<svg><script>window.__xss='d'</script></svg>${'x'.repeat(3000)}\u202Dlrm <iframe srcdoc="<script>parent.__xss='f'</script>"></iframe> ${'long words '.repeat(160)}`.slice(0, 5000);
    const category = `${tag}"><b>${'C'.repeat(64)}`.slice(0, 64);
    const sku = `HI-${tag}`.toUpperCase();
    const created = await api<Product>('POST', '/product', { sku, name, description, category, priceCents: 123456789, stock: 10 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const product = created.body;
    const email = uniqueEmail('hiprobe');
    const customer = `${'M'.repeat(90)}</script><img src=x onerror=window.__xss='u'>`.slice(0, 100);
    const reg = await api('POST', '/user/register', { email, password: 'correct-horse-9', name: customer }, '');
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const { context, page, errors } = await newShopper();
    await page.setViewportSize({ width: 360, height: 800 });
    const dialogs: string[] = [];
    page.on('dialog', (d) => void (dialogs.push(d.message()), d.dismiss()));
    await context.addInitScript(() => {
      const seen: string[] = [];
      Object.assign(window, { cspViolations: seen });
      document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const check = async (what: string) => {
      await page.waitForLoadState('networkidle');
      const seen = await page.evaluate(() => ({ xss: (window as { __xss?: unknown }).__xss ?? null, csp: (window as unknown as { cspViolations: string[] }).cspViolations, scroll: document.documentElement.scrollWidth, width: innerWidth }));
      assert.deepEqual({ xss: seen.xss, csp: seen.csp }, { xss: null, csp: [] }, what);
      assert.deepEqual(dialogs, [], what);
      assert.ok(seen.scroll <= seen.width, `${what}: content is ${seen.scroll}px wide in a ${seen.width}px window`);
    };
    await page.goto(`/?q=${tag}`);
    await page.getByText(tag).filter({ visible: true }).first().waitFor();
    await check('shop');
    await page.goto(`/products/${product.id}`);
    await page.getByRole('heading', { name: tag }).waitFor();
    await check('product page');
    await screenshot(page, 'long-markup-product-360');
    // A real violation: an inline script put in the page is refused, and the page hears of it.
    const refused = await page.evaluate(async () => {
      const s = document.createElement('script');
      s.textContent = "window.__inline = 'ran'";
      document.body.append(s);
      // A string timer is compiled by the page itself (an eval of this evaluate would be DevTools', which CSP spares).
      (setTimeout as unknown as (code: string, ms: number) => void)("window.__evaled = 'ran'", 0);
      await new Promise((r) => setTimeout(r, 100));
      const w = window as { __inline?: string; __evaled?: string };
      return { inline: w.__inline ?? 'refused', evaled: w.__evaled ?? 'refused', violations: (window as unknown as { cspViolations: string[] }).cspViolations.splice(0) };
    });
    assert.equal(refused.inline, 'refused');
    assert.equal(refused.evaled, 'refused');
    assert.ok(refused.violations.some((v) => v.startsWith('script-src')), JSON.stringify(refused.violations));
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.getByRole('status').filter({ hasText: 'Added' }).waitFor();
    await page.goto('/cart');
    await page.getByText(tag).filter({ visible: true }).first().waitFor();
    await check('cart');
    await page.goto(`/signin?next=/checkout`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct-horse-9');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: 'Place order' }).waitFor();
    await check('checkout');
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.getByText('Thank you! Your order is confirmed.').waitFor();
    await check('order page');
    await page.goto('/orders');
    await page.getByText(tag).filter({ visible: true }).first().waitFor();
    await check('orders');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    await signInAs(page, stack.admin.email, stack.admin.password);
    await page.goto(`/admin/products/${product.id}`);
    await page.getByLabel('Description').waitFor();
    await check('admin edit page');
    await page.goto(`/admin?q=${tag}`);
    await page.waitForLoadState('networkidle');
    await check('admin products');
    const userId = (await api<{ id: string }>('GET', '/user/me', undefined, await login(email, 'correct-horse-9'))).body.id;
    await page.goto(`/admin/orders?userId=${userId}`);
    await page.getByText('confirmed').first().waitFor();
    await check('admin orders');
    await page.goto('/admin/users');
    await page.getByRole('region', { name: 'Users table' }).waitFor();
    await check('admin users');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('"Signed in as <email>." at checkout keeps its full stop with the email at every width from 320 to 420 px (360 among them), and a 60-character email still fits the screen', { timeout: STEP_MS }, async () => {
    const product = await newProduct({ stock: 5 });
    const tag = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const long = `${'stop.'.repeat(12)}${tag}`.slice(0, 60 - '@example.test'.length) + '@example.test';
    assert.equal(long.length, 60);
    for (const email of [`ada.${tag}@example.test`, long]) {
      assert.equal((await api('POST', '/user/register', { email, password: 'correct-horse-9', name: 'Ada Shopper' }, '')).status, 201);
      const { context, page, errors } = await newShopper();
      await signInAs(page, email, 'correct-horse-9');
      await addToCart(page, product, 1);
      await page.goto('/checkout');
      const said = page.locator('p').filter({ hasText: `Signed in as ${email}.` });
      await said.waitFor();
      for (let width = 320; width <= 420; width += 2) {
        await page.setViewportSize({ width, height: 800 });
        const m = await said.evaluate((p) => {
          const chars: [Text, number][] = [];
          const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
          for (let n = walker.nextNode() as Text | null; n; n = walker.nextNode() as Text | null) for (let i = 0; i < n.data.length; i++) chars.push([n, i]);
          const top = ([node, i]: [Text, number]) => {
            const range = document.createRange();
            range.setStart(node, i);
            range.setEnd(node, i + 1);
            return range.getBoundingClientRect().top;
          };
          return { stop: top(chars.at(-1)!), last: top(chars.at(-2)!), overflow: p.scrollWidth - p.clientWidth, right: p.getBoundingClientRect().right, pageOverflow: document.documentElement.scrollWidth - innerWidth };
        });
        assert.equal(m.stop, m.last, `${email.length}-character email at ${width} px: the full stop on the email's line`);
        assert.ok(m.overflow <= 0 && m.right <= width && m.pageOverflow <= 0, `${email.length}-character email at ${width} px fits: ${JSON.stringify(m)}`);
      }
      assert.deepEqual(errors, []);
      await context.close();
    }
  });

  test('at 200% text on a 390 px phone, the cart and checkout keep a button and a price whole (no word broken letter by letter)', { timeout: STEP_MS }, async () => {
    const product = await newProduct({ name: 'Big-text lamp', priceCents: 12_999 });
    const context = await browser.newContext({ baseURL: base, viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, bypassCSP: true });
    const page = await context.newPage();
    await addToCart(page, product, 10);
    for (const url of ['/cart', '/checkout']) {
      await page.goto(url);
      await page.locator('.line-total').first().waitFor();
      await page.addStyleTag({ content: 'html { font-size: 200% !important; }' });
      if (url === '/cart') assert.equal(await textLines(page.getByRole('button', { name: 'Remove Big-text lamp' })), 1, 'Remove on one line');
      assert.equal(await textLines(page.locator('.line-total').first()), 1, `${url}: the line total on one line`);
      await assertNoHorizontalScroll(page, `${url} at 200% text`);
      await screenshot(page, `big-text-${url.slice(1)}`);
    }
    await context.close();
  });

  test('at 200% text on a 320 px phone, a cart and a checkout line keep everything in their box (the quantity field too), and the line\'s name wraps between words', { timeout: STEP_MS }, async () => {
    const product = await newProduct({ name: 'Adjustable terracotta lamp', priceCents: 4_999 });
    const context = await browser.newContext({ baseURL: base, viewport: { width: 320, height: 700 }, deviceScaleFactor: 1, bypassCSP: true });
    const page = await context.newPage();
    await addToCart(page, product, 2);
    for (const url of ['/cart', '/checkout']) {
      await page.goto(url);
      await page.locator('.line-total').first().waitFor();
      await page.addStyleTag({ content: 'html { font-size: 200% !important; }' });
      const outside = await page.locator('.line').first().evaluate((line) => {
        const box = line.getBoundingClientRect();
        const style = getComputedStyle(line);
        const [left, right] = [box.left + parseFloat(style.borderLeftWidth), box.right - parseFloat(style.borderRightWidth)];
        return [...line.querySelectorAll('*')]
          .filter((e) => !e.classList.contains('visually-hidden'))
          .map((e) => ({ e, r: e.getBoundingClientRect() }))
          .filter(({ r }) => r.width > 0 && (r.left < left - 0.5 || r.right > right + 0.5))
          .map(({ e, r }) => `${e.tagName.toLowerCase()}${e.className ? `.${e.className}` : ''} ${Math.round(r.left)}-${Math.round(r.right)} outside ${Math.round(left)}-${Math.round(right)}`);
      });
      assert.deepEqual(outside, [], `${url}: out of the line's box`);
      assert.deepEqual(await wordsBrokenInside(page.locator('.line-name a').first()), [], `${url}: the name broken inside a word`);
      await assertNoHorizontalScroll(page, `${url} at 200% text on 320 px`);
      await screenshot(page, `big-text-320-${url.slice(1)}`);
    }
    await context.close();
  });

  test('the largest amounts (KWD and BHD with three decimals, JPY, USD; 1,000 units at the highest price) fit their boxes on a 320 px phone, and on a 390 px one at 200% text: broken between currency and number, or after a thousands separator, never inside a group', { timeout: STEP_MS }, async () => {
    const products = await Promise.all(
      (['KWD', 'BHD', 'JPY', 'USD'] as const).map((currency) => newProduct({ name: `Top ${currency} bar`, priceCents: 1_000_000_000, stock: 1000, currency })),
    );
    const context = await browser.newContext({ baseURL: base, viewport: { width: 320, height: 800 }, bypassCSP: true });
    const page = await context.newPage();
    for (const product of products) await addToCart(page, product, 1000);
    const overflowing = () =>
      page.evaluate(() => {
        const out: string[] = [];
        for (const el of document.querySelectorAll<HTMLElement>('main *')) {
          if (el.closest('.visually-hidden') || ['auto', 'scroll', 'hidden'].includes(getComputedStyle(el).overflowX)) continue;
          if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) out.push(`${el.className || el.tagName} "${el.textContent!.slice(0, 40)}": ${el.scrollWidth} > ${el.clientWidth}`);
        }
        return out;
      });
    // Where an amount goes on to the next line: only after its currency's space or a thousands separator.
    const breaksInsideGroups = () =>
      page.evaluate(() => {
        const bad: string[] = [];
        for (const amount of document.querySelectorAll('.money-run')) {
          const range = document.createRange();
          let lastTop: number | undefined;
          let previous = '';
          const walker = document.createTreeWalker(amount, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (let i = 0; i < node.textContent!.length; i++) {
              range.setStart(node, i);
              range.setEnd(node, i + 1);
              const top = Math.round(range.getBoundingClientRect().top);
              if (lastTop !== undefined && top > lastTop + 2 && previous !== ',') bad.push(`${amount.textContent}: broken after "${previous}"`);
              lastTop = top;
              previous = node.textContent![i]!;
            }
          }
        }
        return bad;
      });
    for (const [width, text] of [[320, '100%'], [390, '200%']] as const) {
      await page.setViewportSize({ width, height: 800 });
      for (const url of ['/cart', '/checkout', `/products/${products[0]!.id}`, '/?category=e2e']) {
        await page.goto(url);
        await page.locator('.money-run').first().waitFor();
        await page.waitForLoadState('networkidle');
        if (text === '200%') await page.addStyleTag({ content: 'html { font-size: 200% !important; }' });
        const what = `${url} at ${width} px, ${text} text`;
        assert.deepEqual(await overflowing(), [], what);
        assert.deepEqual(await breaksInsideGroups(), [], what);
        await assertNoHorizontalScroll(page, what);
      }
    }
    await page.setViewportSize({ width: 320, height: 800 });
    await page.goto('/cart');
    await page.locator('.line-total').first().waitFor();
    assert.equal(await page.locator('.line-total').first().innerText(), 'KWD\u00a01,000,000,000.000', 'the words unchanged');
    await screenshot(page, 'cart-largest-amounts-320');
    await context.close();
  });

  test('the keyboard focus shows on the dark header: each control there has an outline of at least 3:1 against it (WCAG 2.4.7, 1.4.11)', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await signedInShopper('focus');
    // A fresh load: the focus at the page's start.
    await page.goto('/');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Sign out' }).waitFor();
    const reached: string[] = [];
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      const f = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        const style = getComputedStyle(el);
        return {
          name: el.textContent!.trim(),
          // The skip link shows over the header too.
          onHeader: !!el.closest('header') || el.classList.contains('skip'),
          outline: style.outlineStyle,
          width: parseFloat(style.outlineWidth),
          colour: style.outlineColor,
          header: getComputedStyle(document.querySelector('header')!).backgroundColor,
        };
      });
      if (!f.onHeader) break;
      reached.push(f.name);
      assert.ok(f.outline !== 'none' && f.width >= 2, `${f.name}: an outline (${f.outline} ${f.width}px)`);
      const ratio = contrastRatio(f.colour, f.header);
      assert.ok(ratio >= 3, `${f.name}: its outline ${f.colour} on the header's ${f.header} is ${ratio.toFixed(2)}:1`);
    }
    assert.deepEqual(reached, ['Skip to content', 'Northwind Supply', 'Orders', 'Cart', 'Sign out']);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('Skip to content puts the focus on the main region and adds nothing to the history: the address keeps no #main, and Back goes to the page before', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await newShopper();
    await page.goto('/');
    await page.getByRole('heading', { level: 1, name: 'Good things, honestly in stock' }).waitFor();
    await page.goto('/cart');
    await page.getByRole('heading', { level: 1, name: 'Cart' }).waitFor();
    const entries = await page.evaluate(() => history.length);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.id === 'main');
    assert.equal(new URL(page.url()).hash, '', 'no #main in the address');
    assert.equal(await page.evaluate(() => history.length), entries, 'no history entry');
    // The next Tab goes on in the page, past the header.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => !!document.activeElement?.closest('main')), true);
    // Back leaves the cart (before, it only took "#main" off the address and stayed).
    await page.goBack();
    await page.waitForURL((url) => url.pathname === '/');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a link followed opens its page at the top, as a page the browser loads does: a product opened from a card low in the shop on a 360 px phone shows the header and its picture, not the page scrolled past them; Back puts the shop where it was', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await newShopper();
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto('/');
    const card = page.locator('ul.grid > li.card').last().locator('a.card-link');
    await card.waitFor();
    await card.scrollIntoViewIfNeeded();
    const inShop = await page.evaluate(() => window.scrollY);
    assert.ok(inShop > 740, `the last card is ${inShop} px down the shop`);
    await card.click();
    await page.waitForURL(/\/products\//);
    await page.getByRole('heading', { level: 1 }).waitFor();
    // The layout scrolls and focuses in an effect after the render that shows the new page.
    await page.waitForFunction(() => window.scrollY === 0 && document.activeElement?.id === 'main').catch(() => undefined);
    assert.equal(await page.evaluate(() => window.scrollY), 0, 'the product page opened scrolled down');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'main', 'the focus is on the new page');
    await page.goBack();
    await page.waitForURL((url) => url.pathname === '/');
    await card.waitFor();
    await page.waitForFunction((y) => Math.abs(window.scrollY - y) < 2, inShop);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('every page has its own title (WCAG 2.4.2)', { timeout: STEP_MS }, async () => {
    const { product, context, page } = await shopperAtCheckout({ stock: 5, name: 'Titled jar' }, 1, 'title');
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.getByText('Thank you! Your order is confirmed.').waitFor();
    const id = new URL(page.url()).pathname.split('/').pop()!;
    await page.waitForFunction((t) => document.title === t, `Order ${id.slice(-8)}: Northwind Supply`);
    // An id no product has, and addresses the platform refuses before any service looks (400): not found, no Try
    // again. A broken escape or a NUL in the address is the shop's page too, not the API's problem+json text.
    for (const path of ['/products/00000000-0000-7000-8000-000000000000', '/products/..%2F..%2Fuser%2Fme', '/products/a..%2F..%2Fb', '/products/%ZZ', '/products/%E2%82', '/products/a%00b']) {
      await page.goto(path);
      await page.getByRole('heading', { name: 'Product not found' }).waitFor();
      await page.waitForFunction(() => document.title === 'Product not found: Northwind Supply');
      assert.equal(await page.getByRole('button', { name: 'Try again' }).count(), 0, path);
    }
    // An id no order has, or another customer's order, and addresses refused before any service looks.
    const others = await api<Order>('POST', '/order', { items: [{ productId: product.id, quantity: 1 }] }, adminToken, { 'idempotency-key': randomUUID() });
    assert.equal(others.status, 201);
    for (const path of ['/orders/..%2F..%2Fuser%2Fme', '/orders/%ZZ', '/orders/00000000-0000-7000-8000-000000000000', `/orders/${others.body.id}`]) {
      await page.goto(path);
      await page.getByRole('heading', { name: 'Order not found' }).waitFor();
      await page.waitForFunction(() => document.title === 'Order not found: Northwind Supply').catch(async () => assert.fail(`${path}: title is "${await page.title()}"`));
    }
    for (const path of ['/no-such-page', '/no-such-%FF-page']) {
      assert.equal((await page.goto(path))?.status(), 404, path);
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();
      await page.waitForFunction(() => document.title === 'Page not found: Northwind Supply');
    }
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    await signInAs(page, stack.admin.email, stack.admin.password);
    for (const [url, title] of [
      ['/admin', 'Products: Admin: Northwind Supply'],
      [`/admin/products/${product.id}`, 'Edit Titled jar: Admin: Northwind Supply'],
      ['/admin/orders', 'All orders: Admin: Northwind Supply'],
      [`/admin/orders/${id}`, `Order ${id.slice(-8)}: Admin: Northwind Supply`],
      ['/admin/users', 'Users: Admin: Northwind Supply'],
      ['/admin/products/%ZZ', 'Product not found: Admin: Northwind Supply'],
      ['/admin/orders/00000000-0000-7000-8000-000000000000', 'Order not found: Admin: Northwind Supply'],
    ] as const) {
      await page.goto(url);
      await page.waitForFunction((t) => document.title === t, title).catch(async () => assert.fail(`${url}: title is "${await page.title()}", not "${title}"`));
    }
    await context.close();
  });

  test("an unknown address shows the shop's not-found page, and long unbroken names wrap instead of widening the page", { timeout: STEP_MS }, async () => {
    const context = await browser.newContext({ baseURL: base, viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    const res = await page.goto('/no-such-page');
    assert.equal(res?.status(), 404);
    await page.getByRole('heading', { level: 1 }).waitFor();
    assert.ok(await page.getByRole('link', { name: /shop|home|browse/i }).count(), 'a way back to the shop');
    assert.equal(await page.locator('pre').count(), 0, 'no raw JSON');
    await assertAccessible(page, 'not found');
    const long = await newProduct({ name: `Unbreakable${'x'.repeat(180)}`, category: `c${'y'.repeat(60)}` });
    await page.goto(`/products/${long.id}`);
    await page.getByRole('button', { name: 'Add to cart' }).waitFor();
    await assertNoHorizontalScroll(page, 'product with a 191-character name (phone)');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    // Stored before the page is left: a cart change waits for the other tabs' last one (a full load meanwhile drops it).
    await page.getByRole('status').filter({ hasText: 'Added' }).waitFor();
    await page.goto('/cart');
    await page.getByRole('heading', { name: 'Cart' }).waitFor();
    await assertNoHorizontalScroll(page, 'cart with a 191-character name (phone)');
    await page.goto(`/?q=Unbreakable`);
    await page.getByRole('link', { name: /Unbreakable/ }).first().waitFor();
    await assertNoHorizontalScroll(page, 'home with a 191-character name (phone)');
    await context.close();
  });

  test('a product description written on several lines in the admin\'s Description box keeps its lines in the shop; a long one still fits a phone', { timeout: STEP_MS }, async () => {
    const { context, page, errors } = await newShopper();
    await page.setViewportSize({ width: 390, height: 844 });
    // The admin's Description is a multi-line box; the old page ran the lines into one paragraph ("Features: - Warm light - Three ...").
    const lines = ['Features:', '- Warm light', '- Three brightness levels', '', 'Care: wipe with a dry cloth.'];
    const res = await api<Product>('POST', '/product', { sku: `DESC-${Date.now().toString(36)}`.toUpperCase(), name: 'Lamp with notes', description: lines.join('\n'), priceCents: 1500, stock: 3 });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    await page.goto(`/products/${res.body.id}`);
    const description = page.getByText('Features:');
    await description.waitFor();
    assert.equal(await description.innerText(), lines.join('\n'));
    assert.equal(await textLines(description), lines.filter((l) => l !== '').length, 'one line each (the empty one is a gap, not a line box)');
    // Spaces are still collapsed and long words still wrap: the page does not widen.
    const long = await api<Product>('POST', '/product', { sku: `DESC-${Date.now().toString(36)}-L`.toUpperCase(), name: 'Lamp with a long note', description: `${'w'.repeat(300)}\n  two   spaces`, priceCents: 1500, stock: 3 });
    await page.goto(`/products/${long.body.id}`);
    await page.getByText('two spaces').waitFor();
    await assertNoHorizontalScroll(page, 'product with a 300-character word in its description (phone)');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a product name or description in a right-to-left script reads in its own direction wherever it is shown (shop, product page, cart, checkout, order, admin): its last character (a bang, a full stop) ends it, on its left', { timeout: STEP_MS }, async () => {
    // Begun by a digit, ended by a bang and a full stop: characters of no direction of their own, which a
    // left-to-right line puts at its left and right ends (the Unicode bidirectional algorithm).
    const name = '3 مصابيح مكتب!';
    const description = 'ضوء دافئ للقراءة.';
    const category = `rtl-${Date.now().toString(36)}`;
    const product = await newProduct({ name, category });
    assert.equal((await api('PATCH', `/product/${product.id}`, { description }, adminToken, { 'if-match': `"${product.version}"` })).status, 200);
    const shopper = await signedInShopper('rtl');
    const { page, context, errors } = shopper;
    await page.goto(`/?category=${category}`);
    await endsOnTheLeft('shop card', page.locator('.card-name'), name);
    await page.goto(`/products/${product.id}`);
    await endsOnTheLeft('product heading', page.getByRole('heading', { level: 1 }), name);
    await endsOnTheLeft('product description', page.locator('.description'), description);
    await page.getByRole('button', { name: 'Add to cart' }).click();
    // Stored before the page is left: a cart change waits for the other tabs' last one (a full load meanwhile drops it).
    await page.getByRole('status').filter({ hasText: 'Added' }).waitFor();
    await page.goto('/cart');
    await endsOnTheLeft('cart line', page.locator('.line-name a'), name);
    await page.goto('/checkout');
    await endsOnTheLeft('checkout line', page.locator('.line-name a'), name);
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/);
    const orderId = page.url().split('/').at(-1)!;
    await endsOnTheLeft('order page line', page.locator('.order-items li'), name);
    await page.goto('/orders');
    await endsOnTheLeft('orders list line', page.locator('.order-items li'), name);
    await context.close();
    assert.deepEqual(errors, []);
    const admin = await adminAtProducts();
    await endsOnTheLeft('admin products table', (await adminEditLink(admin.page, name)).locator('xpath=ancestor::tr/th'), name);
    await admin.page.goto(`/admin/products/${product.id}`);
    await endsOnTheLeft('admin edit heading', admin.page.locator('#edit-h'), name);
    await admin.page.goto(`/admin/orders/${orderId}`);
    await endsOnTheLeft('admin order line', admin.page.getByRole('region', { name: 'Order lines' }).getByRole('link', { name }), name);
    assert.deepEqual(admin.errors, []);
    await admin.context.close();
  });

  test('a product name in a right-to-left script keeps its own direction in what the cart and checkout say about it: a price changed, more than one order takes, a price changed while placing, short stock', { timeout: STEP_MS }, async () => {
    // Begun by a digit and ended by a bang: in a sentence of left-to-right words, the name's 3 went to its left and its
    // bang to its right, unless the name is isolated (<bdi>) as it is in the cart's lines.
    const name = '3 مصابيح مكتب!';
    const { product, context, page, errors } = await shopperAtCheckout({ stock: 50, name, priceCents: 1000 }, 12, 'rtl-words');
    const reprice = async (priceCents: number) => {
      const current = (await api<Product>('GET', `/product/${product.id}`)).body;
      assert.equal((await api('PATCH', `/product/${product.id}`, { priceCents }, adminToken, { 'if-match': `"${current.version}"` })).status, 200);
    };
    await reprice(2000);
    await page.goto('/cart');
    await endsOnTheLeft('cart: a price changed', page.locator('#cart-changes li'), name);
    await page.goto('/checkout');
    await page.getByRole('button', { name: 'Place order' }).click();
    await endsOnTheLeft('checkout: more than one order takes', page.locator('#checkout-error'), name);
    await page.route('**/order', async (route) => {
      if (route.request().method() === 'POST' && (await api<Product>('GET', `/product/${product.id}`)).body.priceCents === 2000) await reprice(3000);
      await route.continue();
    });
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.locator('#checkout-error').filter({ hasText: 'changed as you placed the order' }).waitFor();
    await endsOnTheLeft('checkout: a price changed while placing', page.locator('#checkout-error'), name);
    await page.unroute('**/order');
    // Nine of the ten go elsewhere, and the last look cannot read the shop: the order service refuses the order.
    assert.equal((await api('POST', `/product/${product.id}/stock`, { delta: -49 })).status, 200);
    await page.route(`**/product/${product.id}`, (route) => (route.request().method() === 'GET' ? route.abort() : route.continue()));
    await page.getByRole('button', { name: 'Place order' }).click();
    await endsOnTheLeft('checkout: short stock', page.locator('#checkout-short li'), name);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('on a 320 px phone, product names wrap between words (or after a hyphen), never inside a word that fits the line; nothing scrolls sideways', { timeout: STEP_MS }, async () => {
    const context = await browser.newContext({ baseURL: base, viewport: { width: 320, height: 700 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    await page.goto('/');
    await page.getByRole('link', { name: 'Structure and Interpretation of Computer Programs' }).waitFor();
    await page.waitForLoadState('networkidle');
    const names = page.locator('main .grid .card-name');
    assert.ok((await names.count()) >= 12);
    for (const name of await names.all()) assert.deepEqual(await wordsBrokenInside(name), [], `home at 320 px: "${await name.innerText()}"`);
    await assertNoHorizontalScroll(page, 'home at 320 px');
    await screenshot(page, 'home-320');
    await page.getByRole('link', { name: 'Structure and Interpretation of Computer Programs' }).click();
    const heading = page.getByRole('heading', { level: 1, name: 'Structure and Interpretation of Computer Programs' });
    await heading.waitFor();
    assert.deepEqual(await wordsBrokenInside(heading), [], 'product page heading at 320 px');
    await assertNoHorizontalScroll(page, 'product at 320 px');
    // A word longer than the line itself still wraps inside the page rather than widening it.
    const long = await newProduct({ name: `Unbreakable${'x'.repeat(120)} lamp` });
    await page.goto('/?q=Unbreakable');
    await page.getByRole('link', { name: /Unbreakable/ }).first().waitFor();
    await assertNoHorizontalScroll(page, 'home at 320 px with a 120-letter word');
    await page.goto(`/products/${long.id}`);
    await page.getByRole('button', { name: 'Add to cart' }).waitFor();
    await assertNoHorizontalScroll(page, 'product at 320 px with a 120-letter word');
    await context.close();
  });

  test('the admin order page at 320 px: the page does not scroll sideways; the order lines scroll in their own named region, which the keyboard reaches and scrolls to the last column', { timeout: STEP_MS }, async () => {
    const product = await newProduct({ name: 'Narrow desk lamp', priceCents: 123456 });
    const placed = await api<Order>('POST', '/order', { items: [{ productId: product.id, quantity: 2 }] }, adminToken, { 'idempotency-key': randomUUID() });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    const context = await browser.newContext({ baseURL: base, viewport: { width: 320, height: 700 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await signInAs(page, stack.admin.email, stack.admin.password);
    await page.goto(`/admin/orders/${placed.body.id}`);
    const lines = page.getByRole('region', { name: 'Order lines' });
    await page.getByRole('link', { name: 'Narrow desk lamp' }).waitFor();
    await page.waitForLoadState('networkidle');
    assert.equal(await lines.count(), 1, 'the order lines are a region named "Order lines"');
    const fit = await page.evaluate(() => ({ scroll: document.scrollingElement!.scrollWidth, width: innerWidth }));
    assert.ok(fit.scroll <= fit.width, `the page is ${fit.scroll}px wide in a ${fit.width}px window`);
    const scroller = () => lines.evaluate((el) => ({ left: el.scrollLeft, width: el.clientWidth, content: el.scrollWidth, focused: el === document.activeElement }));
    const start = await scroller();
    assert.ok(start.content > start.width, `the table (${start.content}px) is wider than its box (${start.width}px) at 320 px, what this test is about`);
    const lastColumn = lines.getByRole('columnheader', { name: 'Line total' });
    const inView = async () => {
      const [cell, box] = [await lastColumn.boundingBox(), await lines.boundingBox()];
      return !!cell && !!box && cell.x >= box.x && cell.x + cell.width <= box.x + box.width + 0.5;
    };
    assert.equal(await inView(), false, 'the last column starts out of view');
    await assertAccessible(page, 'admin order at 320 px');

    // By keyboard: Tab from the customer link above the table reaches the region, and the arrow keys scroll it.
    await page.getByRole('link', { name: /^All orders of customer / }).focus();
    await page.keyboard.press('Tab');
    assert.equal((await scroller()).focused, true, 'Tab reaches the order lines region');
    for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => {
      const el = document.querySelector<HTMLElement>('[role="region"][aria-label="Order lines"]')!;
      return el.scrollLeft + el.clientWidth >= el.scrollWidth - 1;
    });
    assert.equal(await inView(), true, 'the last column is in view once scrolled');
    assert.equal(await lines.getByRole('cell', { name: '$2,469.12' }).count(), 1);
    await screenshot(page, 'admin-order-320-scrolled');

    // Where the table fits (1280 px), the region is no tab stop: the keyboard goes on to the product link.
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.waitForFunction(() => !document.querySelector('[role="region"][aria-label="Order lines"]')!.hasAttribute('tabindex'));
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('at 200% text on a 320 px phone, the admin order page\'s facts put each label above its value: the Order ID, the customer\'s id and the dates are not broken letter by letter beside a label column as wide as "Last change", nor wider than their panel', { timeout: STEP_MS }, async () => {
    const product = await newProduct({ name: 'Big-text desk lamp' });
    const placed = await api<Order>('POST', '/order', { items: [{ productId: product.id, quantity: 1 }] }, adminToken, { 'idempotency-key': randomUUID() });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    const context = await browser.newContext({ baseURL: base, viewport: { width: 320, height: 640 }, deviceScaleFactor: 1, bypassCSP: true });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await signInAs(page, stack.admin.email, stack.admin.password);
    await page.goto(`/admin/orders/${placed.body.id}`);
    await page.getByRole('link', { name: 'Big-text desk lamp' }).waitFor();
    await page.addStyleTag({ content: 'html { font-size: 200% !important; }' });
    const facts = page.locator('dl.facts');
    // The old page: "Last change" took 218 px of the 254, each id a column of one character (1,728 px tall).
    assert.deepEqual(await wordsBrokenInside(facts), [], 'an id or a date broken inside a piece that fits a line');
    const outside = await facts.evaluate((dl) => {
      const box = dl.closest('.panel')!.getBoundingClientRect();
      return [...dl.children].filter((c) => c.getBoundingClientRect().right > box.right + 0.5 || c.scrollWidth > c.clientWidth + 1).map((c) => c.textContent);
    });
    assert.deepEqual(outside, [], 'facts wider than their panel');
    await assertNoHorizontalScroll(page, 'admin order at 200% text');
    // Where there is room (100% text, 320 px too) the labels stay beside their values.
    await page.reload();
    await page.getByRole('link', { name: 'Big-text desk lamp' }).waitFor();
    const beside = await facts.evaluate((dl) => {
      const [dt, dd] = [dl.children[0]!.getBoundingClientRect(), dl.children[1]!.getBoundingClientRect()];
      return Math.round(dt.top) === Math.round(dd.top) && dd.left > dt.right;
    });
    assert.equal(beside, true, 'at 100% text a label is beside its value');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('every main page fits a phone (390 px, no horizontal scroll) and a desktop; screenshots', { timeout: STEP_MS }, async () => {
    const product = (await api<{ items: Product[] }>('GET', '/product?q=keyboard')).body.items[0]!;
    for (const [label, viewport] of [
      ['desktop', { width: 1280, height: 900 }],
      ['phone', { width: 390, height: 844 }],
    ] as const) {
      const context = await browser.newContext({ baseURL: base, viewport, deviceScaleFactor: 1 });
      const page = await context.newPage();
      await page.goto('/');
      await page.getByRole('link', { name: 'Mechanical Keyboard TKL' }).waitFor();
      await page.locator('img').first().waitFor();
      await page.waitForLoadState('networkidle');
      await assertNoHorizontalScroll(page, `home ${label}`);
      await screenshot(page, `home-${label}`);
      await page.goto(`/products/${product.id}`);
      await page.getByRole('button', { name: 'Add to cart' }).waitFor();
      await page.waitForLoadState('networkidle');
      await assertNoHorizontalScroll(page, `product ${label}`);
      await screenshot(page, `product-${label}`);
      await page.getByRole('button', { name: 'Add to cart' }).click();
      // Stored before the page is left: a cart change waits for the other tabs' last one (a full load meanwhile drops it).
      await page.getByRole('status').filter({ hasText: 'Added' }).waitFor();
      await page.goto('/cart');
      await page.getByRole('heading', { name: 'Cart' }).waitFor();
      await assertNoHorizontalScroll(page, `cart ${label}`);
      await screenshot(page, `cart-${label}`);
      await page.goto('/checkout');
      await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
      await assertNoHorizontalScroll(page, `checkout ${label}`);
      await screenshot(page, `checkout-${label}`);
      await page.getByLabel('Email').fill(stack.admin.email);
      await page.getByLabel('Password').fill(stack.admin.password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      // An order of the admin's own, so the orders page shows one (it lists the signed-in user's orders only).
      await page.getByRole('button', { name: 'Place order' }).click();
      await page.getByText('Thank you! Your order is confirmed.').waitFor();
      await page.waitForURL((u) => u.pathname.startsWith('/orders/'));
      const placedId = new URL(page.url()).pathname.split('/').pop()!;
      await page.goto('/orders');
      await page.getByRole('heading', { name: 'Orders', level: 1 }).waitFor();
      await page.getByText(/× Mechanical Keyboard TKL/).first().waitFor();
      await page.waitForLoadState('networkidle');
      await assertNoHorizontalScroll(page, `orders ${label}`);
      await screenshot(page, `orders-${label}`);
      await page.goto('/admin');
      await page.getByRole('table').waitFor();
      await assertNoHorizontalScroll(page, `admin ${label}`);
      await screenshot(page, `admin-${label}`);
      // The admin's view of one order: two full UUIDs in it.
      await page.goto(`/admin/orders/${placedId}`);
      await page.getByRole('link', { name: 'Mechanical Keyboard TKL' }).waitFor();
      await page.waitForLoadState('networkidle');
      await assertNoHorizontalScroll(page, `admin order ${label}`);
      await screenshot(page, `admin-order-${label}`);
      await context.close();
    }
  });

  test('at 200% text size on a 390 px phone, no page scrolls sideways (WCAG 1.4.4 and 1.4.10)', { timeout: STEP_MS }, async () => {
    const product = (await api<{ items: Product[] }>('GET', '/product?q=keyboard')).body.items[0]!;
    // The user's larger text, as a root font size: the app's sizes are rem. The strict CSP would refuse the
    // injected style sheet, hence bypassCSP for this page alone.
    const context = await browser.newContext({ baseURL: base, viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, bypassCSP: true });
    const page = await context.newPage();
    for (const [what, url] of [
      ['home', '/'],
      ['product', `/products/${product.id}`],
      ['cart', '/cart'],
      ['checkout', '/checkout'],
      ['sign-in', '/signin'],
      ['admin', '/admin'],
      ['admin edit', `/admin/products/${product.id}`],
    ] as const) {
      if (what === 'admin') await signInAs(page, stack.admin.email, stack.admin.password);
      await page.goto(url);
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      await page.waitForLoadState('networkidle');
      await page.addStyleTag({ content: 'html { font-size: 200% !important; }' });
      assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).fontSize), '32px', 'the larger text applies');
      await assertNoHorizontalScroll(page, `${what} at 200% text`);
    }
    await context.close();
  });

  test('at 200% text on a 320 px phone, no page breaks a word that would fit its line (the checkout\'s heading, a product name, a card\'s words) and none scrolls sideways: shop, product, cart, checkout, orders, sign-in, admin', { timeout: STEP_MS }, async () => {
    const product = await newProduct({ name: 'Adjustable terracotta lamp', priceCents: 4_999 });
    const context = await browser.newContext({ baseURL: base, viewport: { width: 320, height: 700 }, deviceScaleFactor: 1, bypassCSP: true });
    const page = await context.newPage();
    await addToCart(page, product, 2);
    const pages = [
      ['home', '/', 'link'],
      ['product', `/products/${product.id}`, 'button'],
      ['cart', '/cart', 'button'],
      ['checkout', '/checkout', 'button'],
      ['sign-in', '/signin', 'button'],
      ['admin signed out', '/admin', 'link'],
      ['orders', '/orders', 'link'],
      ['admin', '/admin', 'table'],
      ['admin edit', `/admin/products/${product.id}`, 'button'],
      ['admin orders', '/admin/orders', 'heading'],
      ['not found', '/no-such-page', 'link'],
    ] as const;
    for (const [what, url, role] of pages) {
      if (what === 'orders') await signInAs(page, stack.admin.email, stack.admin.password);
      await page.goto(url);
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      await page.locator('main').getByRole(role).first().waitFor();
      await page.waitForLoadState('networkidle');
      await page.addStyleTag({ content: 'html { font-size: 200% !important; }' });
      assert.deepEqual(await wordsBrokenThatFit(page), [], `${what} at 200% text on 320 px`);
      await assertNoHorizontalScroll(page, `${what} at 200% text on 320 px`);
    }
    await context.close();
  });
});
