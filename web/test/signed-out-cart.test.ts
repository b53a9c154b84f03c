// A signed-out page and the other tabs' changes to the stored cart (state.tsx's followStoredCart): whatever another
// tab writes (a customer's press made after this page signed out, their sign-out made in its turn, a guest's press, a
// sign-in taking the guest's cart in, the storage cleared), the page never shows a customer's cart: it shows the
// cart as stored when it is a guest's, and an empty one while it is a customer's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { CartProduct } from '../src/cart.js';

/** The browser's localStorage, shared by the tabs: each change is heard by the signed-out page as a `storage` event. */
const stored = new Map<string, string>();
let heard: ((key: string | null) => void) | undefined;
const localStorage = {
  getItem: (k: string) => stored.get(k) ?? null,
  setItem: (k: string, v: string) => {
    const changed = stored.get(k) !== v;
    stored.set(k, v);
    // A browser fires no event for a value written again unchanged.
    if (changed) heard?.(k);
  },
  removeItem: (k: string) => {
    if (stored.delete(k)) heard?.(k);
  },
  clear: () => (stored.clear(), heard?.(null)),
  key: (i: number) => [...stored.keys()][i] ?? null,
  get length() {
    return stored.size;
  },
};
const tab = new Map<string, string>();
Object.assign(globalThis, {
  // state.tsx follows other tabs' orders on a BroadcastChannel, which keeps Node's event loop alive: none here.
  BroadcastChannel: undefined,
  localStorage,
  sessionStorage: { getItem: (k: string) => tab.get(k) ?? null, setItem: (k: string, v: string) => void tab.set(k, v), removeItem: (k: string) => void tab.delete(k), clear: () => tab.clear() },
});
const { CART_KEY, CART_OWNER_KEY, parseCart, storedCart } = await import('../src/cart.js');
const { followStoredCart } = await import('../src/state.js');

const product = (id: string): CartProduct => ({ id, name: `P ${id}`, priceCents: 100, currency: 'USD', stock: 50, imageUrl: null });
const CUSTOMER = 'ada';

/** What another tab does: Ada's presses are for her cart ('c…' products), a guest's go into the cart as stored ('g…'). */
type Step = { do: 'customer press'; id: string } | { do: 'guest press'; id: string } | { do: 'sign-out' } | { do: 'sign-in' } | { do: 'clear' };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.constantFrom('c1', 'c2', 'c3').map((id): Step => ({ do: 'customer press', id })),
  fc.constantFrom('g1', 'g2').map((id): Step => ({ do: 'guest press', id })),
  fc.constant<Step>({ do: 'sign-out' }),
  fc.constant<Step>({ do: 'sign-in' }),
  fc.constant<Step>({ do: 'clear' }),
);

describe('a signed-out page and the stored cart', () => {
  it("when another tab writes a customer's cart not emptied yet (their sign-out not made yet) or any other change, then the signed-out page never shows a customer's items, and shows a guest's cart as stored", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('c1', 'c2', 'c3'), { minLength: 1, maxLength: 3 }), fc.array(stepArb, { minLength: 1, maxLength: 20 }), (initial, steps) => {
        stored.clear();
        // Ada's cart, hers: this page has signed out (followed another tab's sign-out), the cart not emptied yet.
        stored.set(CART_OWNER_KEY, CUSTOMER);
        stored.set(CART_KEY, JSON.stringify(initial.map((id) => ({ productId: id, name: `P ${id}`, priceCents: 100, currency: 'USD', imageUrl: null, stock: 50, quantity: 1 }))));
        let shown = parseCart(stored.get(CART_KEY) ?? null);
        const follow = followStoredCart(
          () => 'anonymous',
          (lines) => (shown = lines),
          () => undefined,
        );
        follow(CART_KEY);
        const customers = storedCart(localStorage, undefined, undefined, { whose: () => CUSTOMER });
        const guests = storedCart(localStorage, undefined, undefined, { whose: () => null });
        heard = (key) => {
          follow(key);
          if (key !== CART_KEY && key !== null) return;
          const owner = stored.get(CART_OWNER_KEY);
          const what = `after ${JSON.stringify(steps)}: shown ${JSON.stringify(shown.map((l) => l.productId))}, stored ${stored.get(CART_KEY)} of ${owner}`;
          assert.ok(!shown.some((l) => l.productId.startsWith('c')), `a customer's item shown signed out ${what}`);
          assert.deepEqual(shown, owner === undefined ? parseCart(stored.get(CART_KEY) ?? null) : [], what);
        };
        try {
          for (const step of steps) {
            // Ada's press, from a tab that shows her cart (a tab that shows a guest's presses as a guest).
            if (step.do === 'customer press') void (stored.get(CART_OWNER_KEY) === CUSTOMER ? customers : guests).edit({ add: product(step.id.replace('c', stored.get(CART_OWNER_KEY) === CUSTOMER ? 'c' : 'g')), quantity: 1 });
            else if (step.do === 'guest press') void guests.edit({ add: product(step.id), quantity: 1 });
            else if (step.do === 'sign-out') void customers.signOut(CUSTOMER);
            else if (step.do === 'clear') localStorage.clear();
            // A sign-in there (adoptCart, in short): the guest's cart becomes Ada's.
            else void customers.change((lines) => (localStorage.setItem(CART_OWNER_KEY, CUSTOMER), lines));
          }
        } finally {
          heard = undefined;
        }
      }),
      { numRuns: 500 },
    );
  });
});
