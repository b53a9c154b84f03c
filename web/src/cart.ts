// The cart lives in the browser (localStorage); quantities are bounded by the stock last seen, totals are per currency.

export interface CartLine {
  productId: string;
  name: string;
  priceCents: number;
  currency: string;
  imageUrl: string | null;
  /** Units available when last seen; the server has the last word at checkout. */
  stock: number;
  quantity: number;
}

export interface CartProduct {
  id: string;
  name: string;
  priceCents: number;
  currency: string;
  imageUrl: string | null;
  stock: number;
}

/** The order service takes at most 1000 of one item and 50 lines. */
export const MAX_QUANTITY = 1000;
const MAX_LINES = 50;

/** A quantity as a cart line can hold it: whole, at most the stock and MAX_QUANTITY, at least 0. */
export function clamp(quantity: number, stock: number): number {
  return Math.max(0, Math.min(Math.floor(quantity), stock, MAX_QUANTITY));
}

/** Adds units of a product; never more than its stock. Returns a new cart. */
export function addToCart(cart: readonly CartLine[], product: CartProduct, quantity = 1): CartLine[] {
  const existing = cart.find((l) => l.productId === product.id);
  if (!existing && cart.length >= MAX_LINES) return [...cart];
  const wanted = (existing?.quantity ?? 0) + quantity;
  const line: CartLine = {
    productId: product.id,
    name: product.name,
    priceCents: product.priceCents,
    currency: product.currency,
    imageUrl: product.imageUrl,
    stock: product.stock,
    quantity: clamp(wanted, product.stock),
  };
  const rest = cart.filter((l) => l.productId !== product.id);
  return line.quantity > 0 ? (existing ? cart.map((l) => (l.productId === product.id ? line : l)) : [...rest, line]) : rest;
}

/** Sets a line's quantity (0 removes it), bounded by its stock. */
export function setQuantity(cart: readonly CartLine[], productId: string, quantity: number): CartLine[] {
  return cart.flatMap((l) => {
    if (l.productId !== productId) return [l];
    const q = clamp(quantity, l.stock);
    return q > 0 ? [{ ...l, quantity: q }] : [];
  });
}

export function cartUnits(cart: readonly CartLine[]): number {
  return cart.reduce((n, l) => n + l.quantity, 0);
}

/** Reads a stored cart, dropping anything that is not a well-formed line (old versions, hand edits). */
export function parseCart(json: string | null): CartLine[] {
  if (!json) return [];
  try {
    const value: unknown = JSON.parse(json);
    if (!Array.isArray(value)) return [];
    return value.filter(
      (l): l is CartLine =>
        typeof l === 'object' && l !== null &&
        typeof l.productId === 'string' && typeof l.name === 'string' && Number.isInteger(l.priceCents) &&
        typeof l.currency === 'string' && Number.isInteger(l.stock) && Number.isInteger(l.quantity) && l.quantity > 0 &&
        (l.imageUrl === null || typeof l.imageUrl === 'string'),
    ).slice(0, MAX_LINES);
  } catch {
    return [];
  }
}

/** Where the cart is kept: localStorage, one key shared by every tab of the shop. */
export const CART_KEY = 'ecommerce.cart.v1';

/** The stored cart's revision, `<count>:<random>`, written after each change made under the Web Lock. */
const REV_KEY = 'ecommerce.cart-rev.v1';
/** The Web Lock that names the last change's revision: held by its tab until it sees a later one. */
const MARK = 'ecommerce.cart-rev:';

/** The part of `navigator.locks` the cart uses. */
export interface CartLocks {
  request<T>(name: string, options: { mode: 'exclusive' | 'shared' }, granted: () => T): Promise<Awaited<T>>;
  query(): Promise<{ held?: { name?: string }[] }>;
}

const count = (rev: string | null | undefined) => Number(rev?.split(':')[0]) || 0;

/**
 * The cart as one tab stores it. Tabs change it at the same moment (Add to cart in two tabs), and a tab reads
 * localStorage from a copy of its own that another tab's write reaches a moment later: two read-modify-writes that
 * overlap lose one change. So a change is made under one Web Lock for every tab of the shop, and waits first until
 * this tab's copy has the last change made under it: the lock manager, which grants the lock in step with the lock
 * releases, names it (a lock `ecommerce.cart-rev:<revision>` its tab holds until it sees a later one), and the tab's
 * storage has it once `ecommerce.cart-rev.v1` reads that revision (written after the cart, so the cart came
 * first). The lock alone lost 7 units of 80 in the browser test: the grant came before the last write. Without Web
 * Locks (a page on plain http to a host other than localhost) a change is made at once, as before them.
 */
export function storedCart(storage: Pick<Storage, 'getItem' | 'setItem'>, locks?: CartLocks) {
  let release: (() => void) | undefined;
  const apply = (change: (lines: CartLine[]) => CartLine[]) => {
    const next = change(parseCart(storage.getItem(CART_KEY)));
    storage.setItem(CART_KEY, JSON.stringify(next));
    return next;
  };
  return {
    /** Reads the cart, applies `change`, writes the result and answers it. */
    change(change: (lines: CartLine[]) => CartLine[]): Promise<CartLine[]> {
      if (!locks) return Promise.resolve(apply(change));
      return locks.request(CART_KEY, { mode: 'exclusive' }, async () => {
        const { held = [] } = await locks.query();
        const last = held.flatMap((l) => (l.name?.startsWith(MARK) ? [l.name.slice(MARK.length)] : [])).sort((a, b) => count(b) - count(a))[0];
        // At most 2 s: the wait is for a write already sent.
        for (let waited = 0; last && storage.getItem(REV_KEY) !== last && waited < 2000; waited += 4) await new Promise((r) => setTimeout(r, 4));
        const next = apply(change);
        const rev = `${Math.max(count(last), count(storage.getItem(REV_KEY))) + 1}:${Math.random().toString(36).slice(2)}`;
        storage.setItem(REV_KEY, rev);
        release?.();
        await new Promise<void>((marked) => void locks.request(MARK + rev, { mode: 'shared' }, () => new Promise<void>((r) => ((release = r), marked()))));
        return next;
      });
    },
    /** A storage event: another tab's later change lets this tab's mark go. */
    seen(key: string | null) {
      if (key === REV_KEY) release?.();
    },
  };
}
