// The cart is a copy of what the shopper saw; the shop's prices and stock move. The cart and checkout pages
// bring it up to date when they open, and checkout again just before it places the order, so the total a
// shopper confirms is the one the order service charges, and every change is said.
import { useCallback, useEffect, useRef, useState } from 'react';
import { productApi } from './api/client.js';
import type { CartProduct } from './cart.js';
import { refreshCart, type CartChange } from './cart-order.js';
import { cartChangeWords } from './cart-change.js';
import { useCart } from './state.js';

/** The product as the shop sells it now; null when it is no longer sold (404); throws when that cannot be told. */
async function currentProduct(id: string): Promise<CartProduct | null> {
  const res = await productApi.GET('/product/{id}', { params: { path: { id } }, signal: AbortSignal.timeout(8000) });
  if (res.response.status === 404) return null;
  if (!res.data) throw new Error(`HTTP ${res.response.status}`);
  return res.data;
}

export interface CartCheck {
  /** True while the first look at the catalog is under way. */
  checking: boolean;
  /** What the last look changed (shown until the next one). */
  changes: CartChange[];
  /** Whether the last look could not read some line's product (the shop unreachable): that line is as last seen. */
  unchecked: boolean;
  /** Looks again, updates the cart, and answers what changed. */
  check(): Promise<CartChange[]>;
}

export function useCartCheck(): CartCheck {
  const cart = useCart();
  const lines = useRef(cart.lines);
  lines.current = cart.lines;
  const [checking, setChecking] = useState(cart.lines.length > 0);
  const [changes, setChanges] = useState<CartChange[]>([]);
  const [unchecked, setUnchecked] = useState(false);
  const check = useCallback(async () => {
    const before = lines.current;
    if (before.length === 0) return [];
    const fresh = await refreshCart(before, currentProduct);
    // Written only if the shopper did not change the cart meanwhile (another tab, a click). Not written down like a
    // press (cart.ts): over the cart it was made of only, it is the same made late or twice, and a page reloaded
    // before its turn looks again as it opens.
    if (lines.current === before && JSON.stringify(fresh.lines) !== JSON.stringify(before)) {
      void cart.replace((stored) => (JSON.stringify(stored) === JSON.stringify(before) ? fresh.lines : stored));
    }
    setChanges(fresh.changes);
    setUnchecked(fresh.unchecked > 0);
    return fresh.changes;
  }, [cart]);
  useEffect(() => {
    let live = true;
    void check().finally(() => live && setChecking(false));
    return () => {
      live = false;
    };
    // Once per visit of the page (check is stable while the cart context is): a later look is the caller's.
  }, []);
  return { checking, changes, unchecked, check };
}

/** What the cart and checkout say of the look at the shop: under way, or that it could not be made. */
export function checkWords(fresh: CartCheck): string | null {
  return fresh.checking
    ? 'Checking current prices and stock…'
    : fresh.unchecked
      ? 'The shop could not be reached to check current prices and stock, so your cart shows them as you last saw them. They are checked again when you place the order.'
      : null;
}

/** The changes of the last look, as one alert; nothing when there were none. */
export function CartChanges({ changes }: { changes: CartChange[] }) {
  if (changes.length === 0) return null;
  return (
    <div id="cart-changes" className="warning" role="alert" tabIndex={-1}>
      <p>Your cart was updated to the shop's current prices and stock:</p>
      <ul>
        {changes.map((c) => {
          const { before, name, after } = cartChangeWords(c);
          // The name isolated: one in a right-to-left script keeps its own direction inside the sentence.
          return (
            <li key={`${c.kind}-${c.productId}`}>
              {before}
              <bdi>{name}</bdi>
              {after}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
