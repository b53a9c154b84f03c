// What the storefront's browser tests (web/test/browser/*.test.ts) share: each file starts the whole platform on spare
// ports and a Chromium (Debian's, driven by playwright-core) for its own tests, with startStackAndBrowser(); the
// helpers below act on them (the API as the admin, shoppers in new browser contexts, axe, screenshots). Heavy: run
// one file at a time, under `flock /tmp/ecommerce-heavy.lock`.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before } from 'node:test';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath } from '../../tools/browser.js';
import { repoRoot } from '../../tools/paths.js';
import { startOwnStack, type OwnStack } from '../../tools/stack.js';

const START_MS = 180_000;
export const STEP_MS = 120_000;
// Screenshots go to docs/screenshots when UPDATE_SCREENSHOTS=1 (committed), else to the stack's temp folder.
const SHOTS = process.env.UPDATE_SCREENSHOTS === '1';

export let stack: OwnStack;
export let browser: Browser;
export let base: string;
export let adminToken: string;
/** When adminToken was issued: it lives 15 minutes (the user service's ACCESS_TOKEN_TTL_SECONDS). */
let adminTokenAt = 0;
const crashes: string[] = [];
export const expectedDown = new Set<string>();

export interface Product {
  id: string;
  sku: string;
  name: string;
  stock: number;
  version: number;
  priceCents: number;
}
export interface Order {
  id: string;
  status: string;
  userId: string;
  createdAt: string;
  updatedAt: string;
}

export async function api<T>(method: string, url: string, body?: unknown, token = adminToken, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  // The suite outlives the admin's 15-minute token on a busy machine (a run of 20 minutes: every admin call after the
  // 15th minute answered 401 "Token expired", 53 tests failing): renewed after 10.
  if (token && token === adminToken && Date.now() - adminTokenAt > 10 * 60_000) token = await renewAdminToken();
  const res = await fetch(base + url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function renewAdminToken(): Promise<string> {
  adminToken = await login(stack.admin.email, stack.admin.password);
  adminTokenAt = Date.now();
  return adminToken;
}

export async function login(email: string, password: string): Promise<string> {
  const res = await api<{ accessToken: string }>('POST', '/user/login', { email, password }, '');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.accessToken;
}

let skuCounter = 0;
export async function newProduct(fields: Partial<{ name: string; stock: number; priceCents: number; category: string; currency: string }> = {}): Promise<Product> {
  const sku = `E2E-${process.pid}-${Date.now().toString(36)}-${++skuCounter}`.toUpperCase();
  const res = await api<Product>('POST', '/product', { sku, name: fields.name ?? `Test lamp ${skuCounter}`, priceCents: fields.priceCents ?? 1250, stock: fields.stock ?? 10, category: fields.category ?? 'e2e', ...(fields.currency ? { currency: fields.currency } : {}) });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

export async function stockOf(id: string): Promise<number> {
  const res = await api<Product>('GET', `/product/${id}`);
  assert.equal(res.status, 200);
  return res.body.stock;
}

/** No serious or critical axe violations on what the page shows now. */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `axe on ${what}`,
  );
}

export async function newShopper(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, errors };
}

const dialogsSeen = new WeakMap<Page, string[]>();
export function dialogsOf(page: Page): string[] {
  if (!dialogsSeen.has(page)) {
    const list: string[] = [];
    dialogsSeen.set(page, list);
    page.on('dialog', (d) => void (list.push(d.message()), d.dismiss()));
  }
  return dialogsSeen.get(page)!;
}

export function uniqueEmail(tag: string): string {
  return `${tag}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}@example.test`;
}

/** Signs up inline on the checkout page (the cart must not be empty). */
export async function createAccountAtCheckout(page: Page, email: string): Promise<void> {
  await page.goto('/checkout');
  await page.getByRole('button', { name: 'Create an account instead' }).click();
  await page.getByLabel('Name').fill('Ada Shopper');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('correct-horse-9');
  await page.getByRole('button', { name: 'Create account', exact: true }).click();
  await page.getByRole('button', { name: 'Place order' }).waitFor();
}

/** A new product, a new shopper with `quantity` of it in the cart, signed up at checkout (the Place order button shown). */
export async function shopperAtCheckout(fields: Parameters<typeof newProduct>[0], quantity: number, tag: string) {
  const product = await newProduct(fields);
  const shopper = await newShopper();
  await addToCart(shopper.page, product, quantity);
  const email = uniqueEmail(tag);
  await createAccountAtCheckout(shopper.page, email);
  return { product, email, ...shopper };
}

export async function addToCart(page: Page, product: Product, quantity = 1): Promise<void> {
  await page.goto(`/products/${product.id}`);
  await page.getByRole('heading', { name: product.name }).waitFor();
  await page.getByLabel('Quantity').fill(String(quantity));
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.getByRole('status').filter({ hasText: 'Added' }).waitFor();
}

/** Signs in on the sign-in page (the header then offers Sign out). */
export async function signInAs(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/signin');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** A new account, signed in on a new page. */
export async function signedInShopper(tag: string) {
  const email = uniqueEmail(tag);
  assert.equal((await api('POST', '/user/register', { email, password: 'correct-horse-9', name: 'Ada Shopper' }, '')).status, 201);
  const shopper = await newShopper();
  await signInAs(shopper.page, email, 'correct-horse-9');
  return { email, ...shopper };
}

/** The text's last character is drawn left of all its others, as a right-to-left line has it. */
export async function endsOnTheLeft(where: string, shown: Locator, text: string): Promise<void> {
  const locator = shown.filter({ hasText: text }).first();
  await locator.waitFor();
  const lefts = await locator.evaluate((el, t) => {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const at = node.textContent!.indexOf(t);
      if (at < 0) continue;
      return [...t].map((_, i) => {
        const range = document.createRange();
        range.setStart(node, at + i);
        range.setEnd(node, at + i + 1);
        return range.getBoundingClientRect().left;
      });
    }
    return null;
  }, text);
  assert.ok(lefts, `${where}: "${text}" not found`);
  assert.equal(Math.min(...lefts), lefts.at(-1), `${where}: "${text}" ends elsewhere than on its left (drawn as left-to-right text)`);
}

/**
 * How many lines an element's text takes: the tops of its text's boxes (not of the elements inside it, such as an
 * amount's inline-block pieces, whose box starts above its text on the same line).
 */
export async function textLines(locator: Locator): Promise<number> {
  return locator.evaluate((el) => {
    const tops = new Set<number>();
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top));
    }
    return tops.size;
  });
}

/**
 * The words of an element's text that are split across lines other than after a hyphen of their own
 * ("Interpretatio|n", not "Data-|Intensive"): each piece of a word up to and with its hyphen is on one line.
 */
export async function wordsBrokenInside(locator: Locator): Promise<string[]> {
  return locator.evaluate((el) => {
    const broken: string[] = [];
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const piece of node.textContent!.matchAll(/[^\s-]+-?/g)) {
        const range = document.createRange();
        range.setStart(node, piece.index);
        range.setEnd(node, piece.index + piece[0].length);
        if (new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top))).size > 1) broken.push(piece[0]);
      }
    }
    return broken;
  });
}

/**
 * The words on the page (outside a table's own scrolling box) split across lines although they would fit whole on a
 * line of their block: "Checko|ut" in a 256 px wide heading that a 234 px "Checkout" fits. A word wider than its
 * line may break (it cannot do otherwise), and a break after a word's own hyphen is no break inside.
 */
export async function wordsBrokenThatFit(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const broken: string[] = [];
    const measure = document.createElement('canvas').getContext('2d')!;
    const walker = document.createTreeWalker(document.querySelector('main')!, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement!;
      if (el.closest('.visually-hidden, .table-wrap')) continue;
      let block: HTMLElement = el;
      while (getComputedStyle(block).display.startsWith('inline') && block.parentElement) block = block.parentElement;
      const blockStyle = getComputedStyle(block);
      const room = block.clientWidth - parseFloat(blockStyle.paddingLeft) - parseFloat(blockStyle.paddingRight);
      const style = getComputedStyle(el);
      measure.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      for (const piece of node.textContent!.matchAll(/[^\s-]+-?/g)) {
        const range = document.createRange();
        range.setStart(node, piece.index);
        range.setEnd(node, piece.index + piece[0].length);
        if (new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top))).size < 2) continue;
        const width = measure.measureText(piece[0]).width;
        if (width < room - 1) broken.push(`<${el.tagName.toLowerCase()}> "${piece[0]}" (${Math.round(width)} px) broken in a ${Math.round(room)} px line`);
      }
    }
    return broken;
  });
}

export async function ordersOf(token: string): Promise<Order[]> {
  const res = await api<{ items: Order[] }>('GET', '/order?limit=100', undefined, token);
  assert.equal(res.status, 200);
  return res.body.items;
}

/**
 * A field's value once the page has settled: a value that follows the address is set by an effect after the
 * render that shows the new page, so reading it at once can see the previous value.
 */
export async function settledValue(locator: Locator, expected: string | RegExp, message: string): Promise<string> {
  // A budget for a busy machine (a wrong value that stays fails after it); a right one returns at once.
  const deadline = Date.now() + 15_000;
  let value = await locator.inputValue();
  while (!(typeof expected === 'string' ? value === expected : expected.test(value)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await locator.inputValue();
  }
  if (typeof expected === 'string') assert.equal(value, expected, message);
  else assert.match(value, expected, message);
  return value;
}

/** The field is marked invalid and its description (aria-describedby) says why. */
export async function assertFieldError(page: Page, label: string, text: RegExp): Promise<void> {
  const field = page.getByLabel(label, { exact: true });
  await page.waitForFunction((l) => [...document.querySelectorAll('label')].some((x) => x.textContent === l && document.getElementById(x.htmlFor)?.getAttribute('aria-invalid') === 'true'), label);
  const describedBy = await field.getAttribute('aria-describedby');
  assert.ok(describedBy, `${label}: no aria-describedby`);
  assert.match(await page.locator(`[id="${describedBy}"]`).innerText(), text);
}

/**
 * The sign-in or create-account form's field refused: marked invalid, its description (every id of its
 * aria-describedby, in order) says why, it has the focus, and the reason is said once (no second copy under the form).
 */
export async function authFieldRefused(page: Page, label: string, text: RegExp): Promise<void> {
  const field = page.getByLabel(label, { exact: true });
  await page.waitForFunction((l) => [...document.querySelectorAll('label')].some((x) => x.textContent === l && document.getElementById(x.htmlFor)?.getAttribute('aria-invalid') === 'true'), label);
  const described = await field.evaluate((el) =>
    (el.getAttribute('aria-describedby') ?? '')
      .split(' ')
      .filter(Boolean)
      .map((id) => document.getElementById(id)?.textContent ?? `(no element ${id})`)
      .join(' '),
  );
  assert.match(described, text, `${label}: its description`);
  // The form focuses the field in an effect after the render that marks it: a look at once could come between the two.
  await page
    .waitForFunction((el) => el === document.activeElement, await field.elementHandle())
    .catch(async () => assert.fail(`${label}: not focused after its refusal (the focus is on ${await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 80))})`));
  assert.equal(await page.getByRole('alert').count(), 1, `${label}: the reason is said more than once`);
}

/** The page has no horizontal scroll at its current width. */
export async function assertNoHorizontalScroll(page: Page, what: string): Promise<void> {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width, `${what}: content is ${scroll}px wide in a ${width}px window`);
}

/**
 * Records what the header's navigation offers (its links' and buttons' words) each time that changes, from the
 * first render of every page the context loads on: a state shown for one frame is caught too.
 */
export async function recordHeaderStates(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const seen: string[][] = [];
    Object.assign(window, { headerStates: seen });
    new MutationObserver(() => {
      const items = [...document.querySelectorAll('header nav a, header nav button')].map((e) => e.textContent!.trim());
      if (items.length && items.join() !== seen.at(-1)?.join()) seen.push(items);
    }).observe(document, { childList: true, subtree: true, characterData: true });
  });
}

export async function headerStates(page: Page): Promise<string[][]> {
  return page.evaluate(() => (window as unknown as { headerStates: string[][] }).headerStates);
}

/** A user-service answer the page gets instead of the real one (page.route), as the service writes its problems. */
export function problem(status: number) {
  return { status, contentType: 'application/problem+json', body: JSON.stringify({ title: 'Unavailable', status }) };
}

/**
 * Two answers a read can fail with (web/src/failure.ts), as the platform gives them, each with its X-Request-Id: the
 * kit's 500 (its detail names the request id) and the gateway's 504 for an upstream too slow (upstream-proxy.ts: the
 * path as instance, the id only in the header). The third failure, no answer, is `route.abort('failed')`.
 */
export const failedAnswers = {
  internal: (requestId: string, instance: string) => ({ status: 500, contentType: 'application/problem+json', headers: { 'x-request-id': requestId }, body: JSON.stringify({ type: 'https://ecommerce.local/problems/internal-error', title: 'Internal server error', status: 500, detail: `An unexpected error occurred; quote request id ${requestId}`, instance }) }),
  gatewayTimeout: (requestId: string, service: string, instance: string) => ({ status: 504, contentType: 'application/problem+json', headers: { 'x-request-id': requestId }, body: JSON.stringify({ type: 'https://ecommerce.local/problems/upstream-timeout', title: 'Gateway timeout', status: 504, detail: `The ${service} service did not answer in time`, instance }) }),
};

/**
 * Answers the page's calls to `url` with each failure in turn, the kit's 500 and the gateway's 504 (each with a request
 * id of its own) and then no answer at all, pressing Try again between them, and waits until the page says each as
 * `said` words it (`the` is "the", or "The" where the failure opens the sentence). `open` shows the page that calls.
 */
export async function saysEachFailure(page: Page, url: RegExp, service: string, instance: string, open: () => Promise<unknown>, said: (why: string) => Promise<unknown>, the = 'the'): Promise<void> {
  const [internalId, timeoutId] = [randomUUID(), randomUUID()];
  let answer: 'internal' | 'timeout' | 'none' = 'internal';
  await page.route(url, (route) => {
    if (route.request().resourceType() === 'document') return route.fallback();
    if (answer === 'none') return route.abort('failed');
    return route.fulfill(answer === 'internal' ? failedAnswers.internal(internalId, instance) : failedAnswers.gatewayTimeout(timeoutId, service, instance));
  });
  await open();
  await said(`${the} shop had a problem (error 500, request id ${internalId})`);
  answer = 'timeout';
  await page.getByRole('button', { name: 'Try again' }).click();
  await said(`${the} shop did not answer in time (request id ${timeoutId})`);
  answer = 'none';
  await page.getByRole('button', { name: 'Try again' }).click();
  await said(`${the} shop could not be reached, no answer came`);
}

/** The user service's answer to an expired token, for a call or a refresh the test refuses. */
export const unauthorized = { status: 401, contentType: 'application/problem+json', body: JSON.stringify({ type: 'https://ecommerce.local/problems/unauthorized', title: 'Unauthorized', status: 401, detail: 'The token has expired' }) };

/**
 * The page's session ends without a sign-out: its reload's refresh is refused (401). The page is signed out once it
 * says Sign in (a customer's cart put aside); the refresh answers again after.
 */
export async function sessionEndsAtReload(page: Page): Promise<void> {
  await page.route('**/user/token/refresh', (route) => route.fulfill(unauthorized));
  await page.reload();
  await page.getByRole('link', { name: 'Sign in' }).first().waitFor();
  await page.unrouteAll({ behavior: 'ignoreErrors' });
}

/** Presses Try again while every session refresh answers `status`, and waits for that answer. */
export async function tryAgainWhileRefreshAnswers(page: Page, status: number): Promise<void> {
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await page.route('**/user/token/refresh', (route) => route.fulfill(problem(status)));
  const tried = page.waitForResponse((r) => r.url().endsWith('/user/token/refresh') && r.status() === status);
  await page.getByRole('button', { name: 'Try again' }).click();
  await tried;
}

/**
 * Holds the page's requests matching `url` until `release` (then they go on as usual); `asked` settles at the first.
 * A state the page shows while it waits for them can then be looked at.
 */
export async function holdRequests(page: Page, url: string | RegExp, method?: string): Promise<{ asked: Promise<void>; release: () => void }> {
  let asked!: () => void;
  let release!: () => void;
  const firstAsked = new Promise<void>((resolve) => (asked = resolve));
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(url, async (route) => {
    // Only this method's (when given): a read of the same address goes on at once.
    if (method && route.request().method() !== method) return route.fallback();
    asked();
    await held;
    await route.fallback();
  });
  return { asked: firstAsked, release };
}

/**
 * Holds the cart's Web Lock in the page, as another tab's cart change under way does: this tab's changes of the stored
 * cart wait for it (cart.ts storedCart) until `release`. A page loaded meanwhile lets it go.
 */
export async function holdCartLock(page: Page): Promise<{ release: () => Promise<void> }> {
  await page.evaluate(() => new Promise<void>((held) => void navigator.locks.request('ecommerce.cart.v1', () => new Promise<void>((release) => {
    (window as unknown as { releaseCart: () => void }).releaseCart = release;
    held();
  }))));
  return { release: () => page.evaluate(() => (window as unknown as { releaseCart: () => void }).releaseCart()) };
}

/**
 * The stored cart's quantities, once it has them: a cart page says what a quantity typed did at once, and stores it when
 * the cart's Web Lock comes (after another tab's change), so a read at once can see the quantities before.
 */
export async function storedQuantities(page: Page, expected: number[], message: string): Promise<void> {
  const read = () => page.evaluate(() => (JSON.parse(localStorage.getItem('ecommerce.cart.v1') ?? '[]') as { quantity: number }[]).map((l) => l.quantity));
  await page.waitForFunction((want) => JSON.stringify((JSON.parse(localStorage.getItem('ecommerce.cart.v1') ?? '[]') as { quantity: number }[]).map((l) => l.quantity)) === want, JSON.stringify(expected)).catch(() => undefined);
  assert.deepEqual(await read(), expected, message);
}

/** Reloads a signed-in page `width` px wide with its session check's refresh held: the header shows its checking state. */
export async function reloadWithSessionCheckHeld(page: Page, width: number): Promise<{ release: () => void }> {
  await page.setViewportSize({ width, height: 800 });
  const refresh = await holdRequests(page, '**/user/token/refresh');
  await page.reload();
  await refresh.asked;
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cart' }).waitFor();
  return refresh;
}

/** The stored cart as the page reads it: each line's product name and quantity. */
export async function storedCart(page: Page, key = 'ecommerce.cart.v1'): Promise<Record<string, number>> {
  return page.evaluate((key) => {
    const value = JSON.parse(localStorage.getItem(key) ?? '[]') as { name: string; quantity: number }[] | { lines: { name: string; quantity: number }[] };
    return Object.fromEntries((Array.isArray(value) ? value : value.lines).map((l) => [l.name, l.quantity]));
  }, key);
}

/**
 * Another tab's change of the cart, made as storedCart (web/src/cart.ts) makes one, under the cart's Web Lock: begun
 * now (it read the cart as stored), it writes that cart with one unit of `product` added, then a new revision, when
 * `finish` is called. `tab` is a page of the shop's origin apart from the app (the favicon), so nothing else of it
 * runs there.
 */
export async function otherTabChange(tab: Page, product: Product): Promise<{ finish: () => Promise<void> }> {
  await tab.goto('/favicon.svg');
  const line = { productId: product.id, name: product.name, priceCents: product.priceCents, currency: 'USD', imageUrl: null, stock: product.stock, quantity: 1 };
  await tab.evaluate(
    (line) =>
      new Promise<void>((began) => {
        void navigator.locks.request('ecommerce.cart.v1', async () => {
          const read = JSON.parse(localStorage.getItem('ecommerce.cart.v1') ?? '[]') as unknown[];
          began();
          await new Promise<void>((finish) => ((window as unknown as { finish: () => void }).finish = finish));
          localStorage.setItem('ecommerce.cart.v1', JSON.stringify([...read, line]));
          const rev = `${(Number(localStorage.getItem('ecommerce.cart-rev.v1')?.split(':')[0]) || 0) + 1}:other`;
          localStorage.setItem('ecommerce.cart-rev.v1', rev);
          // Held as a tab holds it until it sees a later change (storedCart): the next change waits for this write.
          void navigator.locks.request(`ecommerce.cart-rev:${rev}`, { mode: 'shared' }, () => new Promise<void>(() => undefined));
        });
      }),
    line,
  );
  return { finish: () => tab.evaluate(() => (window as unknown as { finish: () => void }).finish()) };
}

/**
 * Waits until `page` wrote the cart's keys itself (`key` set) or asked for the cart's Web Lock to write them: what a
 * sign-in or a session's end does to the cart is under way, before another tab's change held meanwhile ends.
 */
export async function cartWriteUnderWay(page: Page, key: string): Promise<void> {
  await page.waitForFunction(async (key) => localStorage.getItem(key) !== null || ((await navigator.locks.query()).pending ?? []).some((l) => l.name === 'ecommerce.cart.v1'), key);
}

/**
 * A product's Edit link in the admin products table, which lists 50 a page, oldest first: Load more until it is
 * there (the suite makes more than 50 products before some admin tests).
 */
/** The Edit link of the product named `name` in the admin's table (of its row with `sku`, when other tests made products of that name too). */
export async function adminEditLink(page: Page, name: string, sku?: string): Promise<Locator> {
  const rows = sku === undefined ? page : page.getByRole('row').filter({ hasText: sku });
  // A product whose name sounds like another's on the page has its SKU in its link's name ('Edit Mug, SKU MUG-2').
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const link = rows.getByRole('link', { name: new RegExp(`^Edit ${escaped}(, SKU .+)?$`) });
  await page.getByRole('region', { name: 'Products table' }).waitFor();
  while ((await link.count()) === 0) {
    const more = page.getByRole('button', { name: 'Load more' });
    assert.ok(await more.count(), `no Edit link for ${name} and no more products to load`);
    const rows = await page.locator('[aria-labelledby="products-h"] tbody tr').count();
    await more.click();
    await page.waitForFunction((n) => document.querySelectorAll('[aria-labelledby="products-h"] tbody tr').length > n, rows);
  }
  return link;
}

/** The contrast ratio of two opaque colours as getComputedStyle gives them ("rgb(r, g, b)"), as WCAG defines it. */
export function contrastRatio(a: string, b: string): number {
  const luminance = (colour: string) => {
    const [r, g, bl] = colour.match(/[\d.]+/g)!.slice(0, 3).map((v) => {
      const x = Number(v) / 255;
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = SHOTS ? path.join(repoRoot, 'docs', 'screenshots') : path.join(stack.dataDir, 'screenshots');
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: false });
}

/** An admin signed in on a new page, on the products page. */
export async function adminAtProducts() {
  const shopper = await newShopper();
  await signInAs(shopper.page, stack.admin.email, stack.admin.password);
  await shopper.page.goto('/admin');
  await shopper.page.getByRole('button', { name: 'Create product' }).waitFor();
  return shopper;
}

/**
 * Registers the hooks of a browser test file (call it at its top level): before its tests, the whole platform on
 * spare ports (stack, base, adminToken) and a Chromium (browser); after them, both stopped, and an assertion that no
 * service crashed meanwhile (but for one a test stopped on purpose: expectedDown).
 */
export function startStackAndBrowser(): void {
  before(
    async () => {
      const executablePath = chromiumPath();
      stack = await startOwnStack(
        // Every shopper of this suite registers from 127.0.0.1: more than the default budget of 10 per address. And each
        // page load of a signed-in page renews its session there too: the suite's tests one after another passed the
        // default 60 token requests a minute (the title test, reloading a dozen pages, was then told 429 and shown
        // "cannot reach the shop" instead of its Sign out button). An operator's per-order bound of 10 units of a product (the
        // default is the API's 1,000), for the checkout's refusal of more.
        { SEED_DEMO_DATA: 'true', PENDING_DEADLINE_MS: '4000', RECONCILER_INTERVAL_MS: '500', RESERVATION_TIMEOUT_MS: '1000', REGISTER_MAX_PER_ADDRESS: '100', TOKEN_MAX_PER_ADDRESS: '1000', MAX_QUANTITY_PER_LINE: '10' },
        (service, tail) => {
          if (!expectedDown.has(service)) crashes.push(`${service}: ${tail.join('\n')}`);
        },
      );
      base = stack.urls.gateway;
      await renewAdminToken();
      // http://ecommerce.local, the dev ingress's plain-http host (docs/api.md), is this gateway: a host name that is not loopback.
      browser = await chromium.launch({ executablePath, args: [...CHROMIUM_ARGS, `--host-resolver-rules=MAP ecommerce.local 127.0.0.1:${new URL(base).port}`] });
    },
    { timeout: START_MS },
  );

  after(async () => {
    await browser?.close();
    await stack?.stop();
    assert.deepEqual(crashes, [], 'a service crashed during the browser tests');
  });
}
