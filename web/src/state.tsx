// App-wide state: who is signed in, and the cart (kept in localStorage, shared by tabs).
import { createContext, useCallback, useContext, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { flushSync } from 'react-dom';
import { useQueryClient } from '@tanstack/react-query';
import { CART_KEY, CART_OWNER_KEY, addToCart as add, applyEdit, parseCart, storedCart, type CartEdit, type CartLine, type CartProduct } from './cart.js';
import { sessionEvents } from './api/client.js';
import { followOtherTabsOrders } from './order-events.js';
import { SESSION_HINT_KEY, currentUser, forgetSession, forgetUser, restoreSession, sessionHeldBy, sessionToCheck, signIn, signOut, userSignedOut, type Restored, type SessionUser } from './session.js';

interface Auth {
  /**
   * 'loading': a session this browser remembers is being checked (a reload, Try again); 'unreachable': signed in
   * on this browser, but the user service did not answer at load (the session is kept).
   */
  status: 'loading' | Restored['status'];
  user: SessionUser | null;
  /** Asks the user service again after 'unreachable'. */
  retry(): void;
  signIn(email: string, password: string): Promise<void>;
  /** `key`: the form submission's Idempotency-Key, kept for its retries (register.ts createAccount). */
  createAccount(name: string, email: string, password: string, key: string): Promise<void>;
  signOut(): Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<SessionUser | null>(null);
  // Without the hint there is nothing to check: signed out from the first render, so "Sign in" shows at once.
  const [status, setStatus] = useState<Auth['status']>(() => (sessionToCheck() ? 'loading' : 'anonymous'));
  const queries = useQueryClient();
  const apply = useCallback((r: Restored) => {
    setUser(r.status === 'signed-in' ? r.user : null);
    setStatus(r.status);
  }, []);
  useEffect(() => {
    let live = true;
    void restoreSession().then((r) => live && apply(r));
    return () => {
      live = false;
    };
  }, [apply]);
  // The user this page shows (null: none), for the listeners below, registered once.
  const shownUser = useRef(user);
  useLayoutEffect(() => {
    shownUser.current = user;
  }, [user]);
  // The session this page shows is over and someone is signed in now (another user, or the same one again): drawn as a
  // page load checking the session ('loading', nothing of the last one's), then whoever it is.
  const recheck = useCallback(() => {
    forgetSession();
    flushSync(() => {
      queries.clear();
      setUser(null);
      setStatus('loading');
    });
    shownUser.current = null;
    void restoreSession().then((r) => {
      if (r.status === 'signed-in') queries.clear();
      apply(r);
    });
  }, [queries, apply]);
  useEffect(() => {
    const ended = () => {
      forgetSession();
      queries.clear();
      setUser(null);
      setStatus('anonymous');
    };
    // A refresh was refused (the session is over); or one worked after the page loaded without (the user
    // service was down then).
    const restored = () => void currentUser().then((u) => (queries.clear(), setUser(u), setStatus('signed-in')), () => undefined);
    // Another tab signed out (the hint went) or in (it came): follow it.
    const onStorage = (e: StorageEvent) => {
      // A value for another value is the role noted (session.ts), not a sign-in or out: nothing to follow.
      if (e.key !== SESSION_HINT_KEY || (e.oldValue !== null && e.newValue !== null)) return;
      if (e.newValue === null) {
        // Someone signed in since (a page the back/forward cache restored gets the events it missed in a row): not
        // drawn signed out (a page needing a sign-in went to the sign-in form, its address replaced) but checked.
        // What the tab kept went at that sign-out, or goes at the next user's (currentUser). A page showing no session
        // (checked already, at pageshow) waits for that check, or the sign-in's own event.
        if (sessionToCheck()) return void (shownUser.current && recheck());
        // Signed out there (not expired): what this tab kept for that user goes too.
        if (e.oldValue === 'out') forgetUser();
        ended();
      } else void restoreSession().then((r) => r.status === 'signed-in' && (queries.clear(), apply(r)));
    };
    sessionEvents.addEventListener('ended', ended);
    sessionEvents.addEventListener('restored', restored);
    addEventListener('storage', onStorage);
    const unfollow = followOtherTabsOrders(queries);
    return () => {
      sessionEvents.removeEventListener('ended', ended);
      sessionEvents.removeEventListener('restored', restored);
      removeEventListener('storage', onStorage);
      unfollow();
    };
  }, [queries, apply, recheck]);
  // Back or Forward to a page the browser kept whole (the back/forward cache), shown with the user it was left with:
  // signed out since (on the next page, or another tab), or someone else's session now. Found in pageshow, which runs
  // before the restored page's first frame, and drawn at once (flushSync): the storage events it missed come after that
  // frame, which showed the ended session's orders and its Sign out. Someone else signed in meanwhile: the session is
  // checked as at a page load ('loading'), not drawn signed out, which took a page that needs a sign-in (the orders) to
  // the sign-in form, its address replaced, until the storage events signed it in again (a Back pressed then went past
  // it). Registered once, at mount: re-added at each change of `user` (a renewal that signed in a page loaded while the
  // user service was down), it ran after pageshow listeners added since.
  useEffect(() => {
    const onShow = (e: PageTransitionEvent) => {
      const shown = shownUser.current;
      if (!e.persisted || !shown || sessionHeldBy(shown.id)) return;
      if (sessionToCheck()) return recheck();
      forgetSession();
      flushSync(() => {
        queries.clear();
        setUser(null);
        setStatus('anonymous');
      });
      shownUser.current = null;
    };
    addEventListener('pageshow', onShow);
    return () => removeEventListener('pageshow', onShow);
  }, [queries, recheck]);
  const value = useMemo<Auth>(
    () => ({
      status,
      user,
      retry() {
        setStatus('loading');
        void restoreSession().then((r) => {
          if (r.status === 'signed-in') queries.clear();
          apply(r);
        });
      },
      async signIn(email, password) {
        const u = await signIn(email, password);
        queries.clear();
        setUser(u);
        setStatus('signed-in');
      },
      async createAccount(name, email, password, key) {
        const { createAccount } = await import('./register.js');
        const u = await createAccount(name, email, password, key);
        queries.clear();
        setUser(u);
        setStatus('signed-in');
      },
      async signOut() {
        // Throws when the user service could not end the session: the user is still signed in and can try again.
        await signOut();
        queries.clear();
        setUser(null);
        setStatus('anonymous');
      },
    }),
    [status, user, queries, apply],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const a = useContext(AuthContext);
  if (!a) throw new Error('useAuth outside AuthProvider');
  return a;
}

const NONCE_KEY = 'ecommerce.checkout-nonce.v1';
/** A customer's cart put aside when their session ended without a sign-out: theirs again at their next sign-in. */
const HELD_CART_KEY = 'ecommerce.cart-held.v1';

interface HeldCart {
  owner: string;
  lines: CartLine[];
  nonce: string | null;
}

/** Whether the cart is a customer's (a signed-in user's, or one whose session ended and is not put aside yet). */
const owned = () => localStorage.getItem(CART_OWNER_KEY) !== null;

/** Whether a customer's cart is put aside in this browser (the pages then say that signing in brings it back). */
const cartHeld = () => localStorage.getItem(HELD_CART_KEY) !== null;

/**
 * The cart a page shows of the one stored: a signed-out page shows no customer's cart (one whose session ended, not
 * put aside yet, or not emptied yet by a sign-out waiting for its turn); any other page shows the cart as stored.
 */
function shownCart(status: Auth['status']): CartLine[] {
  return status === 'anonymous' && owned() ? [] : parseCart(localStorage.getItem(CART_KEY));
}

/**
 * Another tab changed the cart, or put one aside or brought it back: a `storage` event of `key` (null: the storage
 * cleared). The cart shown is the one stored now (shownCart), not the event's value: a change this tab made since (its
 * own Add to cart) is in the one and not in the other. `status`: this page's, when the event comes.
 */
export function followStoredCart(status: () => Auth['status'], show: (lines: CartLine[]) => void, showHeld: (held: boolean) => void): (key: string | null) => void {
  return (key) => {
    if (key === CART_KEY || key === null) show(shownCart(status()));
    if (key === HELD_CART_KEY || key === null) showHeld(cartHeld());
  };
}

function heldCart(): HeldCart | null {
  try {
    const value = JSON.parse(localStorage.getItem(HELD_CART_KEY) ?? 'null') as Partial<HeldCart> | null;
    return value && typeof value.owner === 'string' ? { owner: value.owner, lines: parseCart(JSON.stringify(value.lines ?? [])), nonce: typeof value.nonce === 'string' ? value.nonce : null } : null;
  } catch {
    return null;
  }
}

/**
 * Nobody is signed in (the session expired, was revoked, or was refused at a reload): a customer's cart left in the
 * browser is put aside for them, so whoever uses the tab next sees a guest's empty cart and cannot order theirs; a
 * sign-out (here or in another tab) drops it. Its nonce goes with it: signed in again, the same cart is the same
 * checkout attempt (an order left in flight is found, not placed twice). A change of the stored cart (`lines`, the
 * cart as stored; answers the cart to store), made under its lock like any other: made beside another tab's change,
 * the put-aside missed that tab's line, which then stayed in the next user's cart.
 */
function putAsideOwnersCart(lines: CartLine[]): CartLine[] {
  const owner = localStorage.getItem(CART_OWNER_KEY);
  if (!owner) return lines;
  if (userSignedOut()) localStorage.removeItem(HELD_CART_KEY);
  else localStorage.setItem(HELD_CART_KEY, JSON.stringify({ owner, lines, nonce: localStorage.getItem(NONCE_KEY) } satisfies HeldCart));
  localStorage.removeItem(CART_OWNER_KEY);
  return [];
}

/**
 * `userId` signed in: the cart becomes theirs. A guest's is kept; another customer's (left there when their session
 * ended and this tab never saw it) is emptied; a cart put aside for this customer comes back, with the guest's lines
 * added to it. One put aside for another customer goes: nothing of theirs stays in this user's browser. A change of
 * the stored cart, under its lock (putAsideOwnersCart): made beside another tab's, one of the two was lost.
 */
function adoptCart(userId: string, lines: CartLine[]): CartLine[] {
  const owner = localStorage.getItem(CART_OWNER_KEY);
  const held = heldCart();
  localStorage.removeItem(HELD_CART_KEY);
  localStorage.setItem(CART_OWNER_KEY, userId);
  if (owner === userId) return lines;
  const guest = owner ? [] : lines;
  if (held?.owner !== userId) return guest;
  if (guest.length === 0 && held.nonce) localStorage.setItem(NONCE_KEY, held.nonce);
  else newCheckoutAttempt();
  return guest.reduce((cart, l) => add(cart, { id: l.productId, ...l }, l.quantity), held.lines);
}

/**
 * A random id for "this cart, until it is ordered", kept beside the cart (localStorage, shared by tabs): the
 * checkout's idempotency key is this id and the cart's content, so every tab computes the same key for the
 * same cart. A new one is drawn when a first item goes into an empty cart and when an attempt ended without
 * an order that holds the cart (refused, short, failed), never at checkout time.
 */
export function checkoutNonce(): string {
  let nonce = localStorage.getItem(NONCE_KEY);
  if (!nonce || nonce.length > 64) nonce = newCheckoutAttempt();
  return nonce;
}

export function newCheckoutAttempt(): string {
  const nonce = crypto.randomUUID();
  localStorage.setItem(NONCE_KEY, nonce);
  return nonce;
}

interface Cart {
  lines: CartLine[];
  /** A customer's cart is put aside here (their session ended): the pages say that signing in brings it back. */
  held: boolean;
  /** Answers how many of the product the cart had and has now (the stock, the caps and another tab's additions counted). */
  add(product: CartProduct, quantity: number): Promise<{ had: number; has: number }>;
  /** Answers the cart as stored once the change is made. */
  setQuantity(productId: string, quantity: number): Promise<CartLine[]>;
  /**
   * The cart becomes `lines`; given a function, what it makes of the cart as stored (another tab may have changed it).
   * Answers the cart as stored once the change is made.
   */
  replace(lines: CartLine[] | ((stored: CartLine[]) => CartLine[])): Promise<CartLine[]>;
  /**
   * Checkout's answers, written down at once like a press (a reload before their turn among the tabs loses none):
   * `order`'s units taken off the cart (once, however often), or lines lowered to `cap`. Answer the cart as stored
   * once made.
   */
  ordered(order: string, units: { productId: string; quantity: number }[]): Promise<CartLine[]>;
  cap(caps: { productId: string; quantity: number; stock?: number }[]): Promise<CartLine[]>;
  clear(): void;
}

const CartContext = createContext<Cart | null>(null);

/**
 * A press for a customer whose cart is not the one stored now (made, then their session ended or another user signed
 * in before its turn): it goes into their cart put aside, if that is here, and nowhere else.
 */
function madeElsewhere(edit: CartEdit, owner: string): void {
  const held = heldCart();
  if (held?.owner !== owner) return;
  // A new cart: its checkout key is drawn when it comes back (adoptCart), as for the nonce-less one.
  const nonce = 'add' in edit && held.lines.length === 0 ? null : held.nonce;
  localStorage.setItem(HELD_CART_KEY, JSON.stringify({ owner, lines: applyEdit(held.lines, edit), nonce } satisfies HeldCart));
}

export function CartProvider({ children }: { children: ReactNode }) {
  // The cart is the signed-in user's (putAsideOwnersCart, adoptCart). While a remembered session is checked, or
  // cannot be (unreachable), it stays as it is.
  const { user, status } = useAuth();
  const userId = user?.id;
  // Whose cart this page shows, for the presses made on it: a guest's once nobody is signed in (a customer's left
  // in storage is put aside in its turn), the signed-in user's, or while the session is checked the one stored.
  const shown = useRef({ userId, status });
  useLayoutEffect(() => {
    shown.current = { userId, status };
  }, [userId, status]);
  // A page loaded with no session to check is nobody's from its first render: a customer's cart is not drawn once
  // (it is put aside below, when the cart's lock comes).
  const [lines, setLines] = useState<CartLine[]>(() => shownCart(sessionToCheck() ? 'loading' : 'anonymous'));
  const [held, setHeld] = useState(cartHeld);
  // Every change of the lines is a read-modify-write of the stored cart, one tab at a time (storedCart in cart.ts):
  // made over the lines this tab shows, a change wrote over what another tab had added meanwhile. A press (Add to
  // cart, a quantity) is written down first, so a page unloaded before its turn loses none: the next page makes it.
  const [stored] = useState(() =>
    storedCart(
      localStorage,
      (navigator as { locks?: LockManager }).locks,
      (cart, edit) => {
        // A new cart: the same items ordered again later are a new order, not a replay of the last one.
        if ('add' in edit && cart.length === 0) newCheckoutAttempt();
        const next = applyEdit(cart, edit);
        // What went into the cart while the order was on its way stays, as a new attempt.
        if ('take' in edit && next.length > 0) newCheckoutAttempt();
        return next;
      },
      {
        whose: () => (shown.current.status === 'anonymous' ? null : (shown.current.userId ?? localStorage.getItem(CART_OWNER_KEY))),
        elsewhere: madeElsewhere,
        // A sign-out made: nothing of the customer's is put aside.
        signedOut: () => localStorage.removeItem(HELD_CART_KEY),
      },
    ),
  );
  const change = useCallback((how: (lines: CartLine[]) => CartLine[]) => stored.change(how).then((next) => (setLines(next), next)), [stored]);
  useEffect(() => stored.replay(setLines), [stored]);
  // Before the browser draws the render that says who is signed in (a layout effect): as an effect, the header showed
  // "Sign in" with the last customer's cart count for a frame after their session was refused at a reload.
  // Signed out as of the last render: the page showed none of a customer's cart (shownCart).
  const wasSignedOut = useRef(status === 'anonymous');
  useLayoutEffect(() => {
    const heldNow = () => setHeld(cartHeld());
    if (userId) {
      if (localStorage.getItem(CART_OWNER_KEY) !== userId || cartHeld()) void change((stored) => adoptCart(userId, stored)).then(heldNow);
      // Theirs already (another tab signed them in first, and brought it back): this page, signed out until now,
      // showed none of it, and kept showing none until the cart's next change. Read once, at this sign-in only.
      else if (wasSignedOut.current) setLines(shownCart(status));
    } else if (status === 'anonymous' && owned()) {
      setLines([]);
      void change(putAsideOwnersCart).then(heldNow);
    }
    wasSignedOut.current = status === 'anonymous';
    heldNow();
  }, [userId, status, change]);
  useEffect(() => {
    const follow = followStoredCart(() => shown.current.status, setLines, setHeld);
    const onStorage = (e: StorageEvent) => {
      stored.seen(e.key);
      follow(e.key);
    };
    addEventListener('storage', onStorage);
    return () => removeEventListener('storage', onStorage);
  }, [stored]);
  const value = useMemo<Cart>(
    () => ({
      lines,
      held,
      add: ({ id, name, priceCents, currency, imageUrl, stock }, quantity) => {
        const of = (cart: CartLine[]) => cart.find((l) => l.productId === id)?.quantity ?? 0;
        return stored.edit({ add: { id, name, priceCents, currency, imageUrl, stock }, quantity }).then(({ before, after }) => (setLines(after), { had: of(before), has: of(after) }));
      },
      setQuantity: (id, quantity) => stored.edit({ set: id, quantity }).then(({ after }) => (setLines(after), after)),
      replace: (next) => change(typeof next === 'function' ? next : () => next),
      ordered: (order, units) => stored.edit({ take: units, order }).then(({ after }) => (setLines(after), after)),
      cap: (caps) => stored.edit({ cap: caps }).then(({ after }) => (setLines(after), after)),
      // A sign-out: the cart is nobody's (a guest's next, theirs at sign-in), and nothing is put aside.
      clear: () => {
        // Shown at once; stored in its turn among the tabs' changes, written down first like a press (storedCart's
        // signOut): emptied at once outside the cart's lock as well, another tab's change under way wrote the customer's
        // lines back, and with the page unloaded before its turn (a link followed at once) they stayed in the guest's
        // cart. A page loaded before that turn shows no cart (a customer's, nobody signed in), and its first change makes it.
        setHeld(false);
        setLines([]);
        void stored.signOut(shown.current.userId ?? localStorage.getItem(CART_OWNER_KEY)).then((next) => (setLines(next), setHeld(cartHeld())));
      },
    }),
    [lines, held, change, stored],
  );
  return <CartContext.Provider value={value}>{children}</CartContext.Provider>;
}

export function useCart(): Cart {
  const c = useContext(CartContext);
  if (!c) throw new Error('useCart outside CartProvider');
  return c;
}
