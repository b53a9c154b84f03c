import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { cartChangeWords } from '../src/cart-change.js';
import { formatMoney } from '../src/money.js';
import { CART_KEY, MAX_QUANTITY, addToCart, storedCart, type CartEdit, type CartLocks, type CartStorage, cartUnits, parseCart, setQuantity, type CartProduct } from '../src/cart.js';
import { cartTotals, isMixedCurrency, orderItems, refreshCart } from '../src/cart-order.js';

const product = (id: string, priceCents: number, stock: number, currency = 'USD'): CartProduct => ({ id, name: `P ${id}`, priceCents, currency, stock, imageUrl: null });

describe('cart', () => {
  it('when adding units, then one line per product, quantities add up and never pass the stock', () => {
    let cart = addToCart([], product('a', 1000, 3), 2);
    cart = addToCart(cart, product('a', 1000, 3), 2);
    assert.equal(cart.length, 1);
    assert.equal(cart[0]!.quantity, 3);
    cart = addToCart(cart, product('b', 250, 10), 1);
    // The prices the shopper sees go along as guards (never as the price charged).
    assert.deepEqual(orderItems(cart), [
      { productId: 'a', quantity: 3, expectedUnitPriceCents: 1000, expectedCurrency: cart[0]!.currency },
      { productId: 'b', quantity: 1, expectedUnitPriceCents: 250, expectedCurrency: cart[1]!.currency },
    ]);
    assert.deepEqual(addToCart([], product('c', 1, 0), 1), [], 'out of stock adds nothing');
  });

  it('when setting a quantity, then it is bounded by stock and 0 removes the line', () => {
    const cart = addToCart([], product('a', 1000, 5), 1);
    assert.equal(setQuantity(cart, 'a', 99)[0]!.quantity, 5);
    assert.equal(setQuantity(cart, 'a', 2.7)[0]!.quantity, 2);
    assert.deepEqual(setQuantity(cart, 'a', 0), []);
    assert.deepEqual(setQuantity(cart, 'a', -3), []);
  });

  it('when lines have one or several currencies, then there is one total per currency and mixed carts are flagged', () => {
    let cart = addToCart([], product('a', 1999, 10), 3);
    cart = addToCart(cart, product('b', 1, 10), 2);
    assert.deepEqual(cartTotals(cart), [{ currency: 'USD', totalCents: 5999, units: 5 }]);
    assert.equal(isMixedCurrency(cart), false);
    cart = addToCart(cart, product('c', 500, 10, 'EUR'), 1);
    assert.deepEqual(cartTotals(cart).map((t) => [t.currency, t.totalCents]), [['USD', 5999], ['EUR', 500]]);
    assert.equal(isMixedCurrency(cart), true);
    assert.equal(cartUnits(cart), 6);
  });

  it('for any sequence of adds and sets, then every quantity is within 1..min(stock, 1000) and totals equal the sum of lines', () => {
    const op = fc.record({ id: fc.constantFrom('a', 'b', 'c'), qty: fc.integer({ min: -5, max: 3000 }), set: fc.boolean() });
    const stocks: Record<string, number> = { a: 4, b: 2000, c: 0 };
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        let cart = addToCart([], product('a', 100, stocks.a!), 0);
        for (const o of ops) cart = o.set ? setQuantity(cart, o.id, o.qty) : addToCart(cart, product(o.id, 100, stocks[o.id]!), Math.max(0, o.qty));
        for (const l of cart) assert.ok(l.quantity >= 1 && l.quantity <= Math.min(l.stock, MAX_QUANTITY), JSON.stringify(l));
        assert.equal(cartTotals(cart).reduce((n, t) => n + t.totalCents, 0), cart.reduce((n, l) => n + l.quantity * l.priceCents, 0));
        assert.equal(new Set(cart.map((l) => l.productId)).size, cart.length);
      }),
    );
  });

  it('when the stored cart is damaged or from elsewhere, then only well-formed lines are kept', () => {
    const good = addToCart([], product('a', 100, 5), 1);
    assert.deepEqual(parseCart(JSON.stringify(good)), good);
    for (const bad of [null, '', 'not json', '{}', '[1,2]', JSON.stringify([{ ...good[0], quantity: 0 }]), JSON.stringify([{ ...good[0], priceCents: '1' }])]) assert.deepEqual(parseCart(bad), [], String(bad));
  });
});

describe('refreshCart', () => {
  const line = (id: string, priceCents: number, quantity: number, stock = 10) => addToCart([], product(id, priceCents, stock), quantity)[0]!;

  it('when prices, stock and the catalog moved, then the lines take the current values and every change is listed', async () => {
    const cart = [line('a', 1000, 5), line('b', 250, 3), line('c', 999, 1), line('d', 500, 2)];
    const catalog: Record<string, CartProduct | null> = {
      a: { ...product('a', 2000, 50), name: 'A renamed' },
      b: product('b', 250, 2),
      c: null,
      d: product('d', 500, 0),
    };
    const { lines, changes } = await refreshCart(cart, async (id) => catalog[id] ?? null);
    assert.deepEqual(lines.map((l) => [l.productId, l.name, l.priceCents, l.stock, l.quantity]), [['a', 'A renamed', 2000, 50, 5], ['b', 'P b', 250, 2, 2]]);
    assert.deepEqual(changes, [
      { kind: 'price', productId: 'a', name: 'A renamed', currency: 'USD', fromCents: 1000, toCents: 2000, fromCurrency: 'USD' },
      { kind: 'stock', productId: 'b', name: 'P b', from: 3, to: 2 },
      { kind: 'gone', productId: 'c', name: 'P c' },
      { kind: 'stock', productId: 'd', name: 'P d', from: 2, to: 0 },
    ]);
  });

  it('when a product changed its currency, then the change says the price seen before in the currency it was in', async () => {
    // An admin may change a product's currency: $12.50 became ¥1,250, and the cart said "now costs ¥1,250 (was ¥1,250)".
    const { lines, changes } = await refreshCart([line('a', 1250, 1)], async () => product('a', 1250, 10, 'JPY'));
    assert.deepEqual(lines.map((l) => [l.priceCents, l.currency]), [[1250, 'JPY']]);
    assert.equal(changes.length, 1);
    assert.deepEqual(cartChangeWords(changes[0]!), { before: '', name: 'P a', after: ` now costs ${formatMoney(1250, 'JPY')} (was ${formatMoney(1250, 'USD')}).` });
  });

  it('when the catalog cannot be read for a line, then that line stays as it was and no change is claimed', async () => {
    const cart = [line('a', 1000, 5), line('b', 250, 3)];
    const { lines, changes } = await refreshCart(cart, async (id) => {
      if (id === 'a') throw new Error('503');
      return product('b', 250, 10);
    });
    assert.deepEqual(lines, cart);
    assert.deepEqual(changes, []);
    assert.equal((await refreshCart(cart, async () => Promise.reject(new Error('503')))).unchecked, 2, 'both lines unchecked');
  });

  it('whatever the catalog says, the result is a valid cart whose lines it changed are listed (property)', async () => {
    const arbProduct = fc.record({ priceCents: fc.integer({ min: 0, max: 10_000 }), stock: fc.integer({ min: 0, max: 2000 }), currency: fc.constantFrom('USD', 'EUR') });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 1, max: 20 }), fc.option(arbProduct, { nil: null })), { maxLength: 8 }), async (rows) => {
        const cart = rows.map(([q], i) => line(`p${i}`, 100, q, 20));
        const { lines, changes } = await refreshCart(cart, async (id) => {
          const fresh = rows[Number(id.slice(1))]![1];
          return fresh ? { ...product(id, fresh.priceCents, fresh.stock, fresh.currency) } : null;
        });
        assert.deepEqual(parseCart(JSON.stringify(lines)), lines, 'still a well-formed cart');
        for (const l of lines) assert.ok(l.quantity >= 1 && l.quantity <= l.stock);
        for (const l of cart) {
          const after = lines.find((x) => x.productId === l.productId);
          const listed = changes.some((c) => c.productId === l.productId);
          const same = after && after.priceCents === l.priceCents && after.currency === l.currency && after.quantity === l.quantity;
          assert.equal(listed, !same, `${l.productId}: listed ${listed}, unchanged ${Boolean(same)}`);
        }
      }),
      { numRuns: 200 },
    );
  });
});

/**
 * One browser's localStorage as its pages see it (Chromium's): each page reads and writes a copy of its own, and a
 * write reaches every page, in the order the browser took them, `delayMs` later; a page that starts (a new tab, the
 * next page of a tab) copies the browser's own, which has every write. A page gone writes nothing more.
 *
 * A page's own write of a key is not undone by another page's write that the browser took before it and that reaches
 * the page after it: until the page's write comes back (acknowledged, in the browser's order), another page's writes
 * of that key are not applied to its copy (Chromium's CachedStorageArea, MaybeApplyNonLocalMutationForKey), though
 * their storage events fire. So every copy ends as the browser's storage. Applied in the order they arrived, the copy
 * kept a write the browser had written over: the copy read a customer's press that the storage no longer held, and
 * the page's next change wrote it back into the guest's cart (CI, seed -258528796).
 */
function browserStorage(delayMs = 3) {
  const master = new Map<string, string>();
  const pages = new Set<{ copy: Map<string, string>; events: ((key: string) => void)[]; pending: Map<string, number> }>();
  return {
    master,
    page() {
      const mine = { copy: new Map(master), events: [] as ((key: string) => void)[], pending: new Map<string, number>() };
      pages.add(mine);
      /** This page's writes on their way to a page, and who waits until none is. */
      let sending = 0;
      let sent: (() => void)[] = [];
      const to = (map: Map<string, string>, key: string, value: string | null) => {
        if (value === null) map.delete(key);
        else map.set(key, value);
      };
      const put = (key: string, value: string | null) => {
        if (!pages.has(mine)) return;
        to(mine.copy, key, value);
        to(master, key, value);
        mine.pending.set(key, (mine.pending.get(key) ?? 0) + 1);
        // One delay for every write: the timers run in the order set, the browser's.
        for (const other of pages) {
          sending++;
          setTimeout(() => {
            if (--sending === 0) {
              sent.forEach((r) => r());
              sent = [];
            }
            if (other === mine) {
              const left = mine.pending.get(key)! - 1;
              if (left > 0) mine.pending.set(key, left);
              else mine.pending.delete(key);
              return;
            }
            if (!other.pending.has(key)) to(other.copy, key, value);
            other.events.forEach((e) => e(key));
          }, delayMs);
        }
      };
      const storage: CartStorage = {
        getItem: (key) => mine.copy.get(key) ?? null,
        setItem: (key, value) => put(key, value),
        removeItem: (key) => put(key, null),
        key: (i) => [...mine.copy.keys()][i] ?? null,
        get length() {
          return mine.copy.size;
        },
      };
      return {
        storage,
        events: mine.events,
        close: () => void pages.delete(mine),
        /** Once this page's writes reached every page. */
        delivered: () => (sending === 0 ? Promise.resolve() : new Promise<void>((r) => sent.push(r))),
      };
    },
  };
}

/** Tabs of one browser, a page each. */
function tabsOfOneBrowser(count: number, delayMs = 3) {
  const browser = browserStorage(delayMs);
  return Array.from({ length: count }, () => browser.page());
}

/**
 * The Web Locks of one origin: an exclusive lock has one holder at a time, in the order asked, granted a task after
 * the last holder ended (sooner than a storage write reaches another tab); `query` says the locks held.
 */
function webLocks(): CartLocks {
  const last = new Map<string, Promise<unknown>>();
  const held = new Map<string, number>();
  return {
    request<T>(name: string, options: { mode: 'exclusive' | 'shared' }, granted: () => T) {
      const before = options.mode === 'exclusive' ? (last.get(name) ?? Promise.resolve()) : Promise.resolve();
      const run = before
        .then(() => new Promise((r) => setTimeout(r, 0)))
        .then(async () => {
          held.set(name, (held.get(name) ?? 0) + 1);
          try {
            return await granted();
          } finally {
            held.set(name, held.get(name)! - 1);
            if (held.get(name) === 0) held.delete(name);
          }
        });
      if (options.mode === 'exclusive') last.set(name, run.catch(() => undefined));
      return run as Promise<Awaited<T>>;
    },
    query: async () => ({ held: [...held.keys()].map((name) => ({ name })) }),
  };
}

/** Two tabs, each adding `times` units of its own product, a press at a time, both at once; each tab's cart after. */
async function twoTabsAdding(locks: CartLocks | undefined, times: number): Promise<Record<string, number>[]> {
  const tabs = tabsOfOneBrowser(2);
  await Promise.all(
    tabs.map(async (tab, i) => {
      const cart = storedCart(tab.storage, locks);
      tab.events.push((key) => cart.seen(key));
      for (let n = 0; n < times; n++) {
        const added = cart.change((lines) => addToCart(lines, product(`tab${i}`, 100, 1000), 1));
        if (n % 3 === i) await added;
      }
      await cart.change((lines) => lines);
    }),
  );
  await new Promise((r) => setTimeout(r, 20));
  return tabs.map((t) => Object.fromEntries(parseCart(t.storage.getItem(CART_KEY)).map((l) => [l.productId, l.quantity])));
}

describe('the stored cart changed by two tabs at once', () => {
  it('when each tab read-modify-writes its own copy of the storage at once, then a unit is lost (what happened before Web Locks)', async () => {
    const [first] = await twoTabsAdding(undefined, 20);
    assert.notDeepEqual(first, { tab0: 20, tab1: 20 });
  });

  it('when the changes take the Web Lock, and wait for the last change to reach their tab, then every unit of both tabs is in the cart, as both tabs read it', async () => {
    for (const seen of await twoTabsAdding(webLocks(), 20)) assert.deepEqual(seen, { tab0: 20, tab1: 20 });
  });

  it('when two tabs write one key at once, then each tab\'s copy ends as the browser\'s storage, the last write taken (the model)', async () => {
    const browser = browserStorage();
    const [first, second] = [browser.page(), browser.page()];
    first.storage.setItem(CART_KEY, 'first');
    second.storage.setItem(CART_KEY, 'second');
    first.storage.setItem('other', 'first');
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual([browser.master.get(CART_KEY), first.storage.getItem(CART_KEY), second.storage.getItem(CART_KEY), second.storage.getItem('other')], ['second', 'second', 'second', 'first']);
  });

  it('when a change is made under the lock, then it is the change applied to the cart as stored, and is answered', async () => {
    const [tab] = tabsOfOneBrowser(1);
    const cart = storedCart(tab!.storage, webLocks());
    await cart.change((lines) => addToCart(lines, product('a', 100, 5), 2));
    const answered = await cart.change((lines) => setQuantity(lines, 'a', 4));
    assert.deepEqual(parseCart(tab!.storage.getItem(CART_KEY)), answered);
    assert.equal(answered[0]!.quantity, 4);
  });
});

/**
 * The Web Locks of one origin with its pages (clients): an exclusive lock has one holder at a time, a shared one any
 * number while no exclusive is held, granted in the order asked, a task later. A page gone (unloaded) drops what it
 * asked and lets go of what it held: its callbacks never run.
 */
function lockManager() {
  interface Asked { name: string; exclusive: boolean; page: object; held: boolean; grant: () => void }
  let asked: Asked[] = [];
  const pump = () => {
    for (const r of asked) {
      if (r.held) continue;
      const before = asked.filter((o) => o.name === r.name).slice(0, asked.filter((o) => o.name === r.name).indexOf(r));
      if (r.exclusive ? before.length === 0 : before.every((o) => !o.exclusive && o.held)) {
        r.held = true;
        setTimeout(r.grant, 0);
      }
    }
  };
  const drop = (r: Asked) => {
    asked = asked.filter((o) => o !== r);
    pump();
  };
  return {
    page() {
      const page = {};
      let open = true;
      const locks: CartLocks = {
        request<T>(name: string, options: { mode: 'exclusive' | 'shared' }, granted: () => T) {
          return new Promise<Awaited<T>>((resolve, reject) => {
            if (!open) return;
            const r: Asked = {
              name,
              exclusive: options.mode === 'exclusive',
              page,
              held: false,
              grant: () => {
                if (!open) return;
                Promise.resolve().then(granted).then((v) => resolve(v as Awaited<T>), reject).finally(() => drop(r));
              },
            };
            asked.push(r);
            pump();
          });
        },
        query: async () => ({ held: asked.filter((r) => r.held).map((r) => ({ name: r.name })) }),
      };
      return {
        locks,
        /**
         * The page is gone: it runs nothing more, and the lock manager lets go of its locks `afterMs` later, and not
         * before `after` (in Chromium a page's end reaches it after the page's last storage writes reached the other
         * pages). Timers alone did not keep that order under CPU load: Node runs every due timer of one duration
         * before those of another, so the 5 ms release ran before 3 ms writes due earlier.
         */
        close(afterMs = 5, after: Promise<void> = Promise.resolve()) {
          open = false;
          setTimeout(
            () =>
              void after.then(() => {
                asked = asked.filter((r) => r.page !== page);
                pump();
              }),
            afterMs,
          );
        },
      };
    },
  };
}

/**
 * A page of the browser: its copy of the storage and its Web Locks. Left (a full page load), it writes nothing more,
 * and the lock manager lets go of its locks a moment later. Its two halves spread into one object kept the locks'
 * `close` alone: a change under the lock that was under way when its page was left still wrote the cart, after its
 * lock had gone to the next page, over that page's change (a press lost, under CPU load).
 */
function browserPage(browser: ReturnType<typeof browserStorage>, locks: ReturnType<typeof lockManager>) {
  const page = browser.page();
  const own = locks.page();
  return { ...page, locks: own.locks, close: () => (page.close(), own.close(5, page.delivered())) };
}

/** Another tab holding the cart's lock until the function returned is called: a page's change waits its turn. */
async function anotherTabHoldsTheCart(locks: ReturnType<typeof lockManager>): Promise<() => void> {
  const holder = locks.page();
  let letGo!: () => void;
  void holder.locks.request(CART_KEY, { mode: 'exclusive' }, () => new Promise<void>((r) => (letGo = r)));
  await new Promise((r) => setTimeout(r, 5));
  return letGo;
}

describe('a press on a page that unloads before its turn', () => {
  const sold = (id: string) => product(id, 100, 1000);
  const quantities = (json: string | null) => Object.fromEntries(parseCart(json).map((l) => [l.productId, l.quantity]));

  it('when Add to cart is pressed while another tab holds the lock and the page is left at once, then the next page adds it, once', async () => {
    const browser = browserStorage();
    const locks = lockManager();
    const letGo = await anotherTabHoldsTheCart(locks);
    const first = browserPage(browser, locks);
    const cart = storedCart(first.storage, first.locks);
    void cart.edit({ add: sold('a'), quantity: 2 });
    void cart.edit({ set: 'a', quantity: 5 });
    void cart.edit({ add: sold('b'), quantity: 1 });
    // A full page load: the page goes with its presses waiting for the lock; the next page of the tab starts.
    first.close();
    const next = browserPage(browser, locks);
    const shown: Record<string, number>[] = [];
    storedCart(next.storage, next.locks).replay((lines) => shown.push(Object.fromEntries(lines.map((l) => [l.productId, l.quantity]))));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(quantities(browser.master.get(CART_KEY) ?? null), {}, 'nothing is made while the lock is held');
    letGo();
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(quantities(browser.master.get(CART_KEY) ?? null), { a: 5, b: 1 }, 'made in the order pressed');
    assert.deepEqual(shown, [{ a: 5, b: 1 }]);
    assert.deepEqual([...browser.master.keys()].filter((k) => k.startsWith('ecommerce.cart-edit')), [], 'every edit crossed out');
  });

  it('for any presses in two tabs, each page left at any moment (a lock held elsewhere meanwhile or not), then every press is in the cart once, as every tab reads it (property)', async () => {
    const step = fc.record({ tab: fc.integer({ min: 0, max: 1 }), act: fc.constantFrom('add', 'add', 'add', 'leave', 'hold'), gap: fc.integer({ min: 0, max: 4 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        const browser = browserStorage();
        const locks = lockManager();
        const open = () => {
          const page = browserPage(browser, locks);
          const cart = storedCart(page.storage, page.locks);
          page.events.push((key) => cart.seen(key));
          cart.replay(() => undefined);
          return { ...page, cart };
        };
        const tabs = [open(), open()];
        const pressed: Record<string, number> = {};
        for (const { tab, act, gap } of steps) {
          if (act === 'add') {
            void tabs[tab]!.cart.edit({ add: sold(`p${tab}`), quantity: 1 });
            pressed[`p${tab}`] = (pressed[`p${tab}`] ?? 0) + 1;
          } else if (act === 'leave') {
            tabs[tab]!.close();
            tabs[tab] = open();
          } else {
            const holder = locks.page();
            void holder.locks.request(CART_KEY, { mode: 'exclusive' }, () => new Promise((r) => setTimeout(r, 2 + gap * 3)));
          }
          if (gap > 0) await new Promise((r) => setTimeout(r, gap));
        }
        // Settled: no edit left in the browser's storage, and each tab's copy has the last write.
        for (let waited = 0; [...browser.master.keys()].some((k) => k.startsWith('ecommerce.cart-edit')) && waited < 3000; waited += 10) await new Promise((r) => setTimeout(r, 10));
        await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(quantities(browser.master.get(CART_KEY) ?? null), pressed);
        for (const tab of tabs) assert.deepEqual(quantities(tab.storage.getItem(CART_KEY)), pressed);
      }),
      { numRuns: 60 },
    );
  });
});

describe('a press made for a customer\'s cart', () => {
  const OWNER = 'ecommerce.cart-owner.v1';
  const sold = (id: string) => product(id, 100, 1000);
  const quantities = (json: string | null) => Object.fromEntries(parseCart(json).map((l) => [l.productId, l.quantity]));
  const settled = async (master: Map<string, string>) => {
    for (let waited = 0; [...master.keys()].some((k) => k.startsWith('ecommerce.cart-edit')) && waited < 3000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 20));
  };
  /** A sign-in as state.tsx's adoptCart makes it (nothing put aside): a guest's cart is kept, another customer's emptied. */
  const signIn = (page: { storage: CartStorage }, cart: ReturnType<typeof storedCart>, user: string) =>
    cart.change((lines) => {
      const owner = page.storage.getItem(OWNER);
      page.storage.setItem(OWNER, user);
      return owner === user || owner === null ? lines : [];
    });

  it('for any presses in two tabs, sign-outs (the page left at once after, or not) and sign-ins of two users, each page left at any moment, then the cart holds no press made for another cart than its own: only its customer\'s and a guest\'s (property)', async () => {
    const step = fc.record({
      tab: fc.integer({ min: 0, max: 1 }),
      act: fc.constantFrom('add', 'add', 'add', 'leave', 'hold', 'out', 'out, leave', 'in u1', 'in u2'),
      gap: fc.integer({ min: 0, max: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        const browser = browserStorage();
        browser.master.set(OWNER, 'u1');
        const locks = lockManager();
        // Who is signed in in the browser: a page loaded shows it; a page shows its own sign-in or sign-out at once.
        let session: string | null = 'u1';
        const open = () => {
          const page = browserPage(browser, locks);
          const shown = { user: session };
          const cart = storedCart(page.storage, page.locks, undefined, { whose: () => shown.user });
          page.events.push((key) => cart.seen(key));
          cart.replay(() => undefined);
          return { ...page, cart, shown };
        };
        const tabs = [open(), open()];
        for (const { tab, act, gap } of steps) {
          const t = tabs[tab]!;
          // Each press names the cart its page shows: a product of that customer's, or of a guest's.
          if (act === 'add') void t.cart.edit({ add: sold(`p-${t.shown.user ?? 'guest'}`), quantity: 1 });
          else if (act === 'leave') {
            t.close();
            tabs[tab] = open();
          } else if (act === 'hold') {
            const holder = locks.page();
            void holder.locks.request(CART_KEY, { mode: 'exclusive' }, () => new Promise((r) => setTimeout(r, 2 + gap * 3)));
          } else if (act.startsWith('out')) {
            // Sign out (state.tsx's clear) is there for a signed-in page only; a link followed at once after it unloads
            // the page before the sign-out's turn.
            if (t.shown.user === null) continue;
            void t.cart.signOut(t.shown.user);
            t.shown.user = session = null;
            if (act === 'out, leave') {
              t.close();
              tabs[tab] = open();
            }
          } else {
            void signIn(t, t.cart, act.slice(3));
            t.shown.user = session = act.slice(3);
          }
          if (gap > 0) await new Promise((r) => setTimeout(r, gap));
        }
        await settled(browser.master);
        const owner = browser.master.get(OWNER) ?? 'guest';
        const foreign = Object.keys(quantities(browser.master.get(CART_KEY) ?? null)).filter((id) => id !== 'p-guest' && id !== `p-${owner}`);
        assert.deepEqual(foreign, [], `the cart of ${owner}`);
      }),
      { numRuns: 200 },
    );
  });

  it('when a customer\'s press is made and its page signs out and is left at once (its locks let go before its writes reach the other tab), while that tab signs out too, then no press of theirs stays in the guest\'s cart', async () => {
    // CI's counterexample (seed -258528796): the other tab's sign-out was made from its copy before the gone page's
    // change reached it; that change then came, and the model's copy took it over its own later write, so the copy
    // read the customer's press again and the next change wrote it into the guest's cart.
    const once = async () => {
      const browser = browserStorage(8);
      browser.master.set(OWNER, 'u1');
      const locks = lockManager();
      const open = (page = browserPage(browser, locks)) => {
        const cart = storedCart(page.storage, page.locks, undefined, { whose: () => 'u1' });
        page.events.push((key) => cart.seen(key));
        cart.replay(() => undefined);
        return { ...page, cart };
      };
      // Its locks let go 5 ms after it is left, its writes reach the other tab 8 ms after they are made: as CI's loaded
      // machine ran the model's timers.
      const own = browser.page();
      const ownLocks = locks.page();
      const pressing = open({ ...own, locks: ownLocks.locks, close: () => (own.close(), ownLocks.close()) });
      // Right after its change's last write, the page signs out and a link is followed.
      const setItem = pressing.storage.setItem;
      pressing.storage.setItem = (key, value) => {
        setItem(key, value);
        if (key === 'ecommerce.cart-rev.v1') queueMicrotask(() => (void pressing.cart.signOut('u1'), pressing.close()));
      };
      void pressing.cart.edit({ add: sold('p-u1'), quantity: 1 });
      const other = open();
      void other.cart.signOut('u1');
      await settled(browser.master);
      return [browser.master.get(OWNER) ?? 'guest', JSON.stringify(quantities(browser.master.get(CART_KEY) ?? null)), JSON.stringify(quantities(other.storage.getItem(CART_KEY)))].join(' ');
    };
    const seen: string[] = [];
    for (let run = 0; run < 10; run++) seen.push(await once());
    assert.deepEqual(seen, Array(10).fill('guest {} {}'), 'the owner, the cart stored, the cart as the other tab reads it');
  });

  it('when a customer presses and the page goes before its turn, then the next page makes it in their cart; after their sign-out it is crossed out, even if they sign in again; a sign-out left to the next page spares the cart of the customer signed in again; after their session ended it goes into their cart put aside', async () => {
    const pressThenLeave = async (browser: ReturnType<typeof browserStorage>, locks: ReturnType<typeof lockManager>) => {
      const letGo = await anotherTabHoldsTheCart(locks);
      const first = browserPage(browser, locks);
      void storedCart(first.storage, first.locks).edit({ add: sold('a'), quantity: 2 });
      first.close();
      return letGo;
    };
    const next = (browser: ReturnType<typeof browserStorage>, locks: ReturnType<typeof lockManager>, elsewhere?: (edit: CartEdit, owner: string) => void) => {
      const page = browserPage(browser, locks);
      const cart = storedCart(page.storage, page.locks, undefined, { elsewhere });
      page.events.push((key) => cart.seen(key));
      return { ...page, cart };
    };
    // Still signed in: made.
    {
      const browser = browserStorage();
      browser.master.set(OWNER, 'u1');
      const locks = lockManager();
      const letGo = await pressThenLeave(browser, locks);
      const page = next(browser, locks);
      page.cart.replay(() => undefined);
      letGo();
      await settled(browser.master);
      assert.deepEqual(quantities(browser.master.get(CART_KEY) ?? null), { a: 2 });
    }
    // Signed out, then in again as the same customer, before a page takes the press over: crossed out at the sign-out.
    {
      const browser = browserStorage();
      browser.master.set(OWNER, 'u1');
      const locks = lockManager();
      const letGo = await pressThenLeave(browser, locks);
      const page = next(browser, locks);
      const out = page.cart.signOut('u1');
      letGo();
      await out;
      await signIn(page, page.cart, 'u1');
      next(browser, locks).cart.replay(() => undefined);
      await settled(browser.master);
      assert.deepEqual(quantities(browser.master.get(CART_KEY) ?? null), {});
      assert.deepEqual([...browser.master.keys()].filter((k) => k.startsWith('ecommerce.cart-edit')), []);
    }
    // Signed out, the page left at once (another tab held the lock: the sign-out's turn had not come), then signed in
    // again in another tab, and a press made there: the sign-out is made before that sign-in, not over the new cart by
    // the next page that takes the gone page's journal over.
    {
      const browser = browserStorage();
      browser.master.set(OWNER, 'u1');
      const locks = lockManager();
      const letGo = await anotherTabHoldsTheCart(locks);
      const first = browserPage(browser, locks);
      void storedCart(first.storage, first.locks).signOut('u1');
      first.close();
      letGo();
      const page = next(browser, locks);
      await signIn(page, page.cart, 'u1');
      await page.cart.edit({ add: sold('b'), quantity: 1 });
      next(browser, locks).cart.replay(() => undefined);
      await settled(browser.master);
      assert.deepEqual(quantities(browser.master.get(CART_KEY) ?? null), { b: 1 });
      assert.equal(browser.master.get(OWNER), 'u1');
    }
    // The session ended (the cart put aside for u1, a guest's now): it goes to u1's cart put aside, not the guest's.
    {
      const browser = browserStorage();
      browser.master.set(OWNER, 'u1');
      const locks = lockManager();
      const letGo = await pressThenLeave(browser, locks);
      const page = next(browser, locks);
      const aside = page.cart.change(() => (page.storage.removeItem(OWNER), []));
      letGo();
      await aside;
      const elsewhere: [CartEdit, string][] = [];
      next(browser, locks, (edit, owner) => elsewhere.push([edit, owner])).cart.replay(() => undefined);
      await settled(browser.master);
      assert.deepEqual(quantities(browser.master.get(CART_KEY) ?? null), {});
      assert.deepEqual(elsewhere, [[{ add: sold('a'), quantity: 2 }, 'u1']]);
    }
  });
});

describe('checkout\'s answers written down like a press', () => {
  const line = (id: string, quantity: number) => addToCart([], product(id, 100, 1000), quantity)[0]!;
  const quantities = (json: string | null) => Object.fromEntries(parseCart(json).map((l) => [l.productId, l.quantity]));

  it('for any cart, order and lines added meanwhile, when the page goes before its turn (a reload) and the same order comes again, then the next page takes the order\'s units off the cart once, and what was added stays (property)', async () => {
    const cartOf = fc.uniqueArray(fc.record({ id: fc.constantFrom('a', 'b', 'c', 'd'), quantity: fc.integer({ min: 1, max: 20 }) }), { selector: (l) => l.id, minLength: 1, maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(cartOf, cartOf, async (ordered, added) => {
        const browser = browserStorage();
        browser.master.set(CART_KEY, JSON.stringify(ordered.map((l) => line(l.id, l.quantity))));
        const locks = lockManager();
        const letGo = await anotherTabHoldsTheCart(locks);
        // The order's answer came: its units are to go, but another tab holds the cart; the page reloads.
        const units = ordered.map((l) => ({ productId: l.id, quantity: l.quantity }));
        const first = browserPage(browser, locks);
        void storedCart(first.storage, first.locks).edit({ take: units, order: 'o1' });
        first.close();
        const next = browserPage(browser, locks);
        const cart = storedCart(next.storage, next.locks);
        next.events.push((key) => cart.seen(key));
        cart.replay(() => undefined);
        for (const l of added) void cart.edit({ add: product(l.id, 100, 1000), quantity: l.quantity });
        letGo();
        // Place order pressed again on the reloaded page: the same key finds the same order.
        await cart.edit({ take: units, order: 'o1' });
        for (let waited = 0; [...browser.master.keys()].some((k) => k.startsWith('ecommerce.cart-edit')) && waited < 3000; waited += 10) await new Promise((r) => setTimeout(r, 10));
        const expected = Object.fromEntries(added.map((l) => [l.id, l.quantity]));
        assert.deepEqual(quantities(browser.master.get(CART_KEY) ?? null), expected);
      }),
      { numRuns: 40 },
    );
  });

  it('when a cap (short stock, an order\'s limit) is written and the page goes before its turn, then the next page lowers the lines to it, stock too, and removes those with none', async () => {
    const browser = browserStorage();
    browser.master.set(CART_KEY, JSON.stringify([line('a', 9), line('b', 3), line('c', 2)]));
    const locks = lockManager();
    const letGo = await anotherTabHoldsTheCart(locks);
    const first = browserPage(browser, locks);
    void storedCart(first.storage, first.locks).edit({ cap: [{ productId: 'a', quantity: 4, stock: 4 }, { productId: 'B', quantity: 5 }, { productId: 'c', quantity: 0, stock: 0 }] });
    first.close();
    const next = browserPage(browser, locks);
    storedCart(next.storage, next.locks).replay(() => undefined);
    letGo();
    for (let waited = 0; [...browser.master.keys()].some((k) => k.startsWith('ecommerce.cart-edit')) && waited < 3000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    const lines = parseCart(browser.master.get(CART_KEY) ?? null);
    assert.deepEqual(lines.map((l) => [l.productId, l.quantity, l.stock]), [['a', 4, 4], ['b', 3, 1000]]);
  });
});
