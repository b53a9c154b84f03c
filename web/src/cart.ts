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
/** A press not yet in the cart: `ecommerce.cart-edit.v1:<page>:<n>`, its CartEdit as JSON, gone once applied. */
const EDIT = 'ecommerce.cart-edit.v1:';
/** The Web Lock a page holds while it has edits not yet applied: another page replays them only once it is free. */
const PAGE = 'ecommerce.cart-page:';

/** Whose cart is stored: a customer's id; none for a guest's (state.tsx puts it aside at a session's end, adopts it at a sign-in). */
export const CART_OWNER_KEY = 'ecommerce.cart-owner.v1';

/**
 * The cart once an order of `ordered` is placed: the units ordered of each product taken off the cart as it reads
 * now, so what went into it while the order was on its way (another tab added a product, or more of one) stays for
 * a next order. Clearing it all lost those.
 */
export function withoutOrdered<L extends { productId: string; quantity: number }>(current: readonly L[], ordered: readonly { productId: string; quantity: number }[]): L[] {
  const taken = new Map<string, number>();
  for (const o of ordered) taken.set(o.productId, (taken.get(o.productId) ?? 0) + o.quantity);
  return current.flatMap((l) => {
    const left = l.quantity - (taken.get(l.productId) ?? 0);
    return left > 0 ? [{ ...l, quantity: left }] : [];
  });
}

/**
 * What a press asks of the cart (Add to cart, a quantity, Remove), and what checkout's answers make of it (`take`:
 * a placed order's units off the cart, once per order; `cap`: lines lowered to what the shop has or one order
 * takes): data, so another page can apply it.
 */
export type CartEdit =
  | { add: CartProduct; quantity: number }
  | { set: string; quantity: number }
  | { take: { productId: string; quantity: number }[]; order: string }
  | { cap: { productId: string; quantity: number; stock?: number }[] };

export function applyEdit(lines: CartLine[], edit: CartEdit): CartLine[] {
  if ('take' in edit) return withoutOrdered(lines, edit.take);
  if ('cap' in edit) {
    const caps = new Map(edit.cap.map((c) => [c.productId.toLowerCase(), c]));
    return lines.flatMap((l) => {
      const c = caps.get(l.productId.toLowerCase());
      if (!c) return [l];
      const quantity = Math.min(l.quantity, c.quantity);
      return quantity > 0 ? [{ ...l, stock: c.stock ?? l.stock, quantity }] : [];
    });
  }
  return 'add' in edit ? addToCart(lines, edit.add, edit.quantity) : setQuantity(lines, edit.set, edit.quantity);
}

const units = (v: unknown): v is { productId: string; quantity: number; stock?: number }[] =>
  Array.isArray(v) &&
  v.every((u: Partial<{ productId: unknown; quantity: unknown; stock: unknown }> | null) => u !== null && typeof u === 'object' && typeof u.productId === 'string' && Number.isInteger(u.quantity) && (u.stock === undefined || Number.isInteger(u.stock)));

/** A sign-out written down like a press (`storedCart`'s signOut), stamped with the customer signing out. */
interface SignOut {
  out: true;
}

/**
 * An edit as stored and whose cart it was made for (null: a guest's, or a page's of a version before the stamp), or
 * null for anything else (another version's, a hand edit).
 */
function parseEdit(json: string | null): { edit: CartEdit | SignOut; owner: string | null } | null {
  try {
    const { owner, ...e } = (JSON.parse(json ?? 'null') ?? {}) as Partial<{ add: CartProduct; set: unknown; quantity: unknown; take: unknown; order: unknown; cap: unknown; out: unknown; owner: unknown }>;
    const of = (edit: CartEdit | SignOut) => ({ edit, owner: typeof owner === 'string' ? owner : null });
    if (e.out === true) return of({ out: true });
    if (units(e.take) && typeof e.order === 'string') return of(e as CartEdit);
    if (units(e.cap)) return of(e as CartEdit);
    if (!Number.isInteger(e.quantity)) return null;
    if (typeof e.set === 'string') return of(e as CartEdit);
    return e.add && parseCart(JSON.stringify([{ ...e.add, productId: e.add.id, quantity: 1 }])).length === 1 ? of(e as CartEdit) : null;
  } catch {
    return null;
  }
}

/** The orders whose units the cart gave up (`take`), the last few: an order's comes once, however often it is sent. */
const TAKEN = 'ecommerce.cart-taken.v1';

/** The part of `navigator.locks` the cart uses. */
export interface CartLocks {
  request<T>(name: string, options: { mode: 'exclusive' | 'shared' }, granted: () => T): Promise<Awaited<T>>;
  query(): Promise<{ held?: { name?: string }[] }>;
}

export type CartStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem' | 'key' | 'length'>;

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
 *
 * Waiting for the lock, a press was lost when its page unloaded first (Add to cart, then a reload or a typed URL):
 * so an edit is written down at the press (`ecommerce.cart-edit.v1:<page>:<n>`), applied and crossed out under
 * the lock, and a page that starts applies those of pages gone (`replay`). A page holds the lock
 * `ecommerce.cart-page:<page>` while it has edits not yet applied, so another page takes them over only once it is
 * gone: applied once, as they are crossed out in the same change (and the rev wait shows it to every tab).
 *
 * A press is for the cart its page showed (`whose`: a customer's id, null for a guest's), and is stamped with it: one
 * made while that customer was signed in and applied after their sign-out, or after another user signed in, went
 * into the guest's or the other user's cart. It is applied only to that customer's cart (`ecommerce.cart-owner.v1`
 * names it); for another cart it goes to `elsewhere` (state.tsx: their cart put aside, if it is) and is crossed out.
 * A guest's press goes into the cart as stored, whoever's it is: a sign-in takes the guest's cart in (adoptCart).
 *
 * A sign-out is written down the same way and made in its turn (`signOut`): the customer's cart emptied and nobody's,
 * and the presses written down for a customer's cart crossed out, in one change under the lock. Emptied at once as
 * well, outside the lock, it was written over by another tab's change under way, made from that tab's copy of the
 * customer's cart: the customer's lines, their press with them, stayed in the guest's cart when the page unloaded
 * before its turn (a link followed right after Sign out). Written down, a page gone before its turn leaves it to the
 * next page, as its presses.
 */
export function storedCart(
  storage: CartStorage,
  locks?: CartLocks,
  edited: (lines: CartLine[], edit: CartEdit) => CartLine[] = applyEdit,
  {
    whose = () => storage.getItem(CART_OWNER_KEY),
    elsewhere,
    signedOut,
  }: { whose?: () => string | null; elsewhere?: (edit: CartEdit, owner: string) => void; signedOut?: () => void } = {},
) {
  let release: (() => void) | undefined;
  const page = Math.random().toString(36).slice(2);
  let made = 0;
  let pending = 0;
  let done: (() => void) | undefined;
  const read = () => parseCart(storage.getItem(CART_KEY));
  /** The keys of this tab's copy that start with `prefix`, taken before any is removed. */
  const keysFrom = (prefix: string) => {
    const keys: string[] = [];
    for (let i = 0; i < storage.length; i++) {
      const key = storage.key(i);
      if (key?.startsWith(prefix)) keys.push(key);
    }
    return keys;
  };
  const write = (next: CartLine[]) => storage.setItem(CART_KEY, JSON.stringify(next));
  /** Whether an edit is still to make: an order's `take` is made once (a second Place order of the same cart finds it made). */
  const due = (edit: CartEdit) => {
    if (!('take' in edit)) return true;
    let taken: unknown;
    try {
      taken = JSON.parse(storage.getItem(TAKEN) ?? '[]');
    } catch {
      taken = [];
    }
    const orders = Array.isArray(taken) ? taken.filter((o): o is string => typeof o === 'string') : [];
    if (orders.includes(edit.order)) return false;
    storage.setItem(TAKEN, JSON.stringify([...orders, edit.order].slice(-20)));
    return true;
  };
  /**
   * A sign-out of `owner`'s cart, made under the lock: that cart (null: whichever is stored) empty and nobody's, and
   * `signedOut` told (state.tsx: a cart put aside goes). Then the presses written down for a customer's cart other than
   * the one stored are crossed out, of every page (a page still waiting to make one finds it crossed out): nothing of
   * it is put aside. A cart that is not theirs any more (put aside at their session's end, another customer's signed
   * in since) stays as it is.
   */
  const signOutOf = (lines: CartLine[], owner: string | null): CartLine[] => {
    const theirs = owner === null || owner === storage.getItem(CART_OWNER_KEY);
    if (theirs) storage.removeItem(CART_OWNER_KEY);
    signedOut?.();
    const now = storage.getItem(CART_OWNER_KEY);
    for (const key of keysFrom(EDIT)) {
      const of = parseEdit(storage.getItem(key))?.owner;
      if (of != null && of !== now) storage.removeItem(key);
    }
    return theirs ? [] : lines;
  };
  /** The sign-outs written down in this tab's copy, of every page. */
  const signOutsWritten = () =>
    keysFrom(EDIT).filter((key) => {
      const stored = parseEdit(storage.getItem(key));
      return stored !== null && 'out' in stored.edit;
    });
  /**
   * Runs `run` on the cart as stored, under the lock once this tab's copy has the last change; writes what it answers.
   * The sign-outs written down before it was asked come first: made here if not made yet (their page gone before
   * their turn, or still waiting), so a customer signed out and then in again keeps the new cart.
   */
  const locked = <T>(run: (lines: CartLine[]) => { next?: CartLine[]; answer: T }): Promise<T> => {
    if (!locks) {
      const { next, answer } = run(read());
      if (next) write(next);
      return Promise.resolve(answer);
    }
    const outs = signOutsWritten();
    return locks.request(CART_KEY, { mode: 'exclusive' }, async () => {
      const { held = [] } = await locks.query();
      const last = held.flatMap((l) => (l.name?.startsWith(MARK) ? [l.name.slice(MARK.length)] : [])).sort((a, b) => count(b) - count(a))[0];
      // At most 2 s: the wait is for a write already sent.
      for (let waited = 0; last && storage.getItem(REV_KEY) !== last && waited < 2000; waited += 4) await new Promise((r) => setTimeout(r, 4));
      let lines = read();
      let signedOutFirst = false;
      for (const key of outs) {
        const out = parseEdit(storage.getItem(key));
        if (!out || !('out' in out.edit)) continue;
        storage.removeItem(key);
        lines = signOutOf(lines, out.owner);
        signedOutFirst = true;
      }
      const { next = signedOutFirst ? lines : undefined, answer } = run(lines);
      if (!next) return answer;
      write(next);
      const rev = `${Math.max(count(last), count(storage.getItem(REV_KEY))) + 1}:${Math.random().toString(36).slice(2)}`;
      storage.setItem(REV_KEY, rev);
      release?.();
      await new Promise<void>((marked) => void locks.request(MARK + rev, { mode: 'shared' }, () => new Promise<void>((r) => ((release = r), marked()))));
      return answer;
    });
  };
  /** The edits a page left, in the order made. */
  const editsOf = (of: string) =>
    keysFrom(`${EDIT}${of}:`).sort((a, b) => count(a.slice(EDIT.length + of.length + 1)) - count(b.slice(EDIT.length + of.length + 1)));
  /** Writes `entry` down for the cart of `owner` (the page may unload before the lock comes), then makes it under the lock. */
  const writtenDown = <T>(entry: CartEdit | SignOut, owner: string | null, answer: (before: CartLine[], after: CartLine[]) => T): Promise<T> => {
    const key = `${EDIT}${page}:${++made}`;
    if (pending++ === 0) void locks?.request(PAGE + page, { mode: 'exclusive' }, () => (pending ? new Promise<void>((r) => (done = r)) : undefined));
    storage.setItem(key, JSON.stringify({ ...entry, owner }));
    return locked((before) => {
      // Made already by a page that took this one for gone: nothing more to make of it.
      if (storage.getItem(key) === null) return { answer: answer(before, before) };
      const { next = before } = applyStored(() => [key])(before);
      return { next, answer: answer(before, next) };
    }).finally(() => {
      if (--pending > 0) return;
      done?.();
      done = undefined;
    });
  };
  /** Applies the edits stored under `keys` that are still there, crossing them out in the same change. */
  const applyStored = (keys: () => string[]) => (lines: CartLine[]) => {
    let next: CartLine[] | undefined;
    for (const key of keys()) {
      const stored = parseEdit(storage.getItem(key));
      storage.removeItem(key);
      if (stored && 'out' in stored.edit) next = signOutOf(next ?? lines, stored.owner);
      if (!stored || 'out' in stored.edit || !due(stored.edit)) continue;
      if (stored.owner === null || stored.owner === storage.getItem(CART_OWNER_KEY)) next = edited(next ?? lines, stored.edit);
      else {
        elsewhere?.(stored.edit, stored.owner);
        // Written, under a new revision, though the cart is the same: a tab that takes the page for gone then sees it crossed out.
        next ??= lines;
      }
    }
    return { next, answer: next ?? lines };
  };
  return {
    /** Reads the cart, applies `change`, writes the result and answers it. */
    change(change: (lines: CartLine[]) => CartLine[]): Promise<CartLine[]> {
      return locked((lines) => {
        const next = change(lines);
        return { next, answer: next };
      });
    },
    /**
     * Applies a press: written down at once (the page may unload before the lock comes), then made under the lock.
     * Answers the cart before and after it.
     */
    edit(edit: CartEdit): Promise<{ before: CartLine[]; after: CartLine[] }> {
      if (!locks) {
        const before = read();
        const after = due(edit) ? edited(before, edit) : before;
        write(after);
        return Promise.resolve({ before, after });
      }
      return writtenDown(edit, whose(), (before, after) => ({ before, after }));
    },
    /**
     * A sign-out of `owner` (state.tsx's clear; null: whoever's cart is stored): written down at once, like a press, and
     * made in its turn among the tabs' changes, by this page or, gone first, by the next (the page shows an empty cart
     * at once). Answers the cart as stored once made.
     */
    signOut(owner: string | null): Promise<CartLine[]> {
      if (!locks) {
        const after = signOutOf(read(), owner);
        write(after);
        return Promise.resolve(after);
      }
      return writtenDown({ out: true }, owner, (_, after) => after);
    },
    /** Applies the edits pages now gone left (pressed, then unloaded before the lock came); `applied` hears each cart made. */
    replay(applied: (lines: CartLine[]) => void) {
      if (!locks) return;
      const pages = new Set(keysFrom(EDIT).map((key) => key.slice(EDIT.length).split(':')[0]!));
      pages.delete(page);
      for (const gone of pages) void locks.request(PAGE + gone, { mode: 'exclusive' }, () => locked(applyStored(() => editsOf(gone))).then(applied));
    },
    /** A storage event: another tab's later change lets this tab's mark go. */
    seen(key: string | null) {
      if (key === REV_KEY) release?.();
    },
  };
}
